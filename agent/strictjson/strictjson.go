// Package strictjson decodes request bodies strictly: one JSON value, valid
// UTF-8, no unknown fields, nothing after it. Every door that takes JSON
// (the API, the Alertmanager receiver) decodes through it, so they refuse
// the same things. Errors wrap reactions.ErrInvalid.
package strictjson

import (
	"encoding/json"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/vipagent/vipagent/reactions"
)

// Decode decodes one JSON value into dst, refusing unknown fields and
// trailing data.
func Decode(data []byte, dst any) error {
	if !utf8.Valid(data) {
		return reactions.Invalid("body is not valid UTF-8")
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return reactions.Invalid("malformed JSON: %v", err)
	}
	if dec.More() {
		return reactions.Invalid("malformed JSON: more than one value in the body")
	}
	if _, err := dec.Token(); err != io.EOF {
		return reactions.Invalid("malformed JSON: trailing data after the object")
	}
	return nil
}
