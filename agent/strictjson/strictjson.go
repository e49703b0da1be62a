// Package strictjson decodes request bodies strictly: one JSON value, valid
// UTF-8, no unknown fields, no key twice in an object (exactly or differing
// only in case), keys matching field names exactly, nothing after it, and
// nothing nested deeper than MaxDepth or holding more than MaxValues values,
// refused before any decoding starts. Every door that takes JSON
// (the API, the Alertmanager receiver) decodes through it, so they refuse
// the same things. Errors wrap reactions.ErrInvalid.
package strictjson

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"unicode/utf8"

	"github.com/vipagent/vipagent/reactions"
)

// Decode decodes one JSON value into dst, refusing unknown fields,
// duplicate and case-variant keys, and trailing data. Errors name the path
// of the offending key.
func Decode(data []byte, dst any) error {
	if !utf8.Valid(data) {
		return reactions.Invalid("body is not valid UTF-8")
	}
	if err := objectInto(data, dst); err != nil {
		return err
	}
	if err := checkShape(data); err != nil {
		return err
	}
	if err := checkKeys(data, dst); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
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

// objectInto refuses a body that is not a JSON object when dst is a struct:
// encoding/json would take null as an empty object, and name Go types in
// its error for an array or a string.
func objectInto(data []byte, dst any) error {
	t := reflect.TypeOf(dst)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	if trimmed := bytes.TrimLeft(data, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' {
		return reactions.Invalid("body: must be a JSON object ({...})")
	}
	return nil
}
