package config

import (
	"errors"
	"testing"

	"github.com/vipagent/vipagent/reactions"
)

// FuzzParse loads arbitrary YAML: no panic, no hang, and every rejection
// is ErrInvalid with a message.
func FuzzParse(f *testing.F) {
	f.Add([]byte(validYAML))
	f.Add(DefaultYAML())
	f.Add([]byte("node: [\n"))
	f.Add([]byte("vips: {a: {address: 192.0.2.1/33}}"))
	f.Add([]byte("reactions: [{name: x, match: {condition: '*'}, steps: [{enable: v, disable: v}]}]"))
	f.Add([]byte("a: &a [*a, *a]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err == nil {
			err = c.Validate(func(string) string { return "" })
		}
		if err != nil && !errors.Is(err, reactions.ErrInvalid) {
			t.Fatalf("rejection is not ErrInvalid: %v", err)
		}
	})
}
