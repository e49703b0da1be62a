package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"

	"github.com/vipagent/vipagent/reactions"
)

// errSyntax stops the key walk at malformed JSON; the real decode then
// reports it with its own message.
var errSyntax = errors.New("syntax")

// checkKeys walks the tokens of data, before anything is decoded, and
// refuses an object that has a key twice (exactly, or differing only in case
// unless the object is a map), and a key that matches a field of dst only
// case-insensitively.
// encoding/json would let the last duplicate win and fold case, so a filter
// in front of the agent could see a different request from the one the
// agent runs.
func checkKeys(data []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var p path
	err := walk(dec, &p, reflect.TypeOf(dst))
	if errors.Is(err, errSyntax) {
		return nil
	}
	return err
}

// path is where the walk is: the keys and indexes from the top. Its text
// is built only for an error, so walking costs nothing per level.
type path struct{ segs []segment }

type segment struct {
	key   string
	index int
	isIdx bool
}

func (p *path) push(s segment) { p.segs = append(p.segs, s) }
func (p *path) pop()           { p.segs = p.segs[:len(p.segs)-1] }

func (p *path) String() string {
	var b strings.Builder
	for i, s := range p.segs {
		switch {
		case s.isIdx:
			b.WriteString("[" + strconv.Itoa(s.index) + "]")
		case i > 0:
			b.WriteString("." + s.key)
		default:
			b.WriteString(s.key)
		}
	}
	return b.String()
}

// walk reads one value; t is the Go type it decodes into, nil when unknown.
func walk(dec *json.Decoder, p *path, t reflect.Type) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	tok, err := dec.Token()
	if err != nil {
		return errSyntax
	}
	switch tok {
	case json.Delim('{'):
		if err := walkObject(dec, p, t); err != nil {
			return err
		}
	case json.Delim('['):
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i := 0; dec.More(); i++ {
			p.push(segment{index: i, isIdx: true})
			if err := walk(dec, p, elem); err != nil {
				return err
			}
			p.pop()
		}
	default:
		return nil
	}
	if _, err := dec.Token(); err != nil {
		return errSyntax
	}
	return nil
}

func walkObject(dec *json.Decoder, p *path, t reflect.Type) error {
	var fields map[string]reflect.Type
	var elem reflect.Type
	if t != nil {
		switch t.Kind() {
		case reflect.Struct:
			fields = map[string]reflect.Type{}
			fieldsOf(t, fields)
		case reflect.Map:
			elem = t.Elem()
		}
	}
	seen := map[string]string{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return errSyntax
		}
		key, _ := tok.(string)
		p.push(segment{key: key})
		// Keys differing only in case are the same key where they become
		// struct fields (encoding/json folds case there); map keys are kept
		// as they are, so there only exact repeats are duplicates.
		fold := key
		if elem == nil {
			fold = foldKey(key)
		}
		if prev, dup := seen[fold]; dup {
			if prev == key {
				return reactions.Invalid("%s: duplicate key", p)
			}
			return reactions.Invalid("%s: duplicate key (%q and %q differ only in case)", p, prev, key)
		}
		seen[fold] = key
		next := elem
		if fields != nil {
			ft, exact := fields[key]
			if !exact {
				for name := range fields {
					if foldKey(name) == foldKey(key) {
						return reactions.Invalid("%s: unknown field (keys are case-sensitive: did you mean %q?)", p, name)
					}
				}
			}
			next = ft
		}
		if err := walk(dec, p, next); err != nil {
			return err
		}
		p.pop()
	}
	return nil
}

// fieldsOf collects the JSON names of t's fields, embedded structs' included.
func fieldsOf(t reflect.Type, into map[string]reflect.Type) {
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				fieldsOf(ft, into)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, ok := into[name]; !ok {
			into[name] = f.Type
		}
	}
}

// foldKey is the case-folded key, as encoding/json matches field names
// (the Kelvin sign and the long s fold to k and s).
func foldKey(k string) string { return strings.ToLower(strings.ToUpper(k)) }
