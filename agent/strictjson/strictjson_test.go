package strictjson

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vipagent/vipagent/reactions"
)

type inner struct {
	Name string `json:"name"`
}

type embedded struct {
	ID string `json:"id"`
}

type target struct {
	embedded
	Condition string            `json:"condition"`
	Labels    map[string]string `json:"labels"`
	Items     []inner           `json:"items"`
	Any       any               `json:"any"`
}

func TestDecode(t *testing.T) {
	for _, tt := range []struct {
		name, body string
		want       target
		msg        string // "" means accepted
	}{
		{"plain", `{"id":"k","condition":"A","labels":{"a":"1","A":"2"},"items":[{"name":"x"}]}`,
			target{embedded: embedded{ID: "k"}, Condition: "A", Labels: map[string]string{"a": "1", "A": "2"}, Items: []inner{{Name: "x"}}}, ""},
		{"duplicate key", `{"condition":"A","condition":"B"}`, target{}, "condition: duplicate key"},
		{"case-variant duplicate", `{"condition":"A","CONDITION":"B"}`, target{}, `CONDITION: duplicate key ("condition" and "CONDITION" differ only in case)`},
		{"case-variant field", `{"Condition":"A"}`, target{}, `Condition: unknown field (keys are case-sensitive: did you mean "condition"?)`},
		{"case-variant embedded field", `{"ID":"A"}`, target{}, `ID: unknown field (keys are case-sensitive: did you mean "id"?)`},
		{"duplicate label", `{"labels":{"a":"1","a":"2"}}`, target{}, "labels.a: duplicate key"},
		{"duplicate in a list", `{"items":[{"name":"x"},{"name":"x","name":"y"}]}`, target{}, "items[1].name: duplicate key"},
		{"duplicate under any", `{"any":{"k":{"x":1,"X":2}}}`, target{}, `any.k.X: duplicate key`},
		{"unknown field", `{"colour":"red"}`, target{}, `unknown field "colour"`},
		{"malformed", `{"condition":`, target{}, "malformed JSON"},
		{"malformed after a duplicate-free prefix", `{"a":1,,}`, target{}, "malformed JSON"},
		{"trailing", `{"condition":"A"} {}`, target{}, "more than one value"},
		{"bad utf-8", "\xff", target{}, "UTF-8"},
		{"null", "null", target{}, "body: must be a JSON object"},
		{"array", " [] ", target{}, "body: must be a JSON object"},
		{"string", `"condition"`, target{}, "body: must be a JSON object"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got target
			err := Decode([]byte(tt.body), &got)
			if tt.msg == "" {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(target{})); diff != "" {
					t.Errorf("decoded (-want +got):\n%s", diff)
				}
				return
			}
			if !errors.Is(err, reactions.ErrInvalid) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Decode = %v, want ErrInvalid saying %q", err, tt.msg)
			}
		})
	}
}
