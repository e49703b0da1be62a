package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// decodeYAML decodes data onto c strictly, collecting every problem with its
// config path instead of stopping at the first: unknown and duplicate keys,
// values of the wrong type, bad durations, a second YAML document. Only a
// YAML syntax error, which leaves nothing to walk, stops it; that one is
// reported by line.
//
// yaml.v3's own strict decode stops at the first type error and reports
// lines, and it would let a duplicate key pass into a map: walking the node
// tree against Config's types gives `config check` every problem at once.
//
// walked is false when there was nothing to walk (empty, or a syntax error).
func decodeYAML(data []byte, c *Config) (p Problems, at map[string]position, walked bool) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return Problems{"config: empty"}, nil, false
		}
		return Problems{"config: " + strings.TrimPrefix(err.Error(), "yaml: ")}, nil, false
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		p.add("config", "a second YAML document (line %d): one file holds one configuration; remove the \"---\" and what follows, or merge it", extra.Line)
	} else if !errors.Is(err, io.EOF) {
		p.add("config", "after the first YAML document: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(doc.Content) == 0 {
		return append(p, "config: empty"), nil, false
	}
	w := walker{at: map[string]position{}}
	w.value(doc.Content[0], reflect.ValueOf(c).Elem(), "", 0)
	return append(p, w.probs...), w.at, true
}

type walker struct {
	probs Problems
	// at is where each config path is written: the key of a mapping
	// entry, the element of a list.
	at map[string]position
}

// mark records where path is written, the first time it is seen (a merge
// key's value comes after the mapping's own keys).
func (w *walker) mark(path string, n *yaml.Node) {
	if _, ok := w.at[path]; !ok {
		w.at[path] = position{n.Line, n.Column}
	}
}

// maxDepth bounds aliases that refer to each other.
const maxDepth = 64

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// value decodes n onto v, which is at path.
func (w *walker) value(n *yaml.Node, v reflect.Value, path string, depth int) {
	if depth > maxDepth {
		w.probs.add(pathOr(path), "nested too deeply (aliases referring to each other?)")
		return
	}
	if n.Kind == yaml.AliasNode {
		w.value(n.Alias, v, path, depth+1)
		return
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // "key:" with no value keeps the default
	}
	if v.CanAddr() && v.Addr().Type().Implements(unmarshalerType) {
		if err := n.Decode(v.Addr().Interface()); err != nil {
			w.probs.add(pathOr(path), "%s", yamlMessage(err))
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		w.structure(n, v, path, depth)
	case reflect.Map:
		w.mapping(n, v, path, depth)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			w.probs.add(pathOr(path), "expected a list, not %s", describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, el := range n.Content {
			w.mark(fmt.Sprintf("%s[%d]", path, i), el)
			w.value(el, s.Index(i), fmt.Sprintf("%s[%d]", path, i), depth+1)
		}
		v.Set(s)
	case reflect.Pointer:
		e := reflect.New(v.Type().Elem())
		w.value(n, e.Elem(), path, depth+1)
		v.Set(e)
	default:
		w.scalar(n, v, path)
	}
}

// structure decodes a mapping onto a struct, field by field.
func (w *walker) structure(n *yaml.Node, v reflect.Value, path string, depth int) {
	if n.Kind != yaml.MappingNode {
		w.probs.add(pathOr(path), "expected a mapping of keys, not %s", describe(n))
		return
	}
	fields := map[string]int{}
	var names []string
	for i := range v.NumField() {
		f := v.Type().Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = i
		names = append(names, name)
	}
	w.pairs(n, path, depth, func(key string, val *yaml.Node) {
		i, ok := fields[key]
		if !ok {
			if s := suggest(key, names); s != "" {
				w.probs.add(join(path, key), "unknown key; did you mean %s?", s)
				return
			}
			slices.Sort(names)
			w.probs.add(join(path, key), "unknown key (known: %s)", strings.Join(names, ", "))
			return
		}
		w.value(val, v.Field(i), join(path, key), depth+1)
	}, func(val *yaml.Node) { w.value(val, v, path, depth+1) })
}

// mapping decodes a mapping onto a map with string keys.
func (w *walker) mapping(n *yaml.Node, v reflect.Value, path string, depth int) {
	if n.Kind != yaml.MappingNode {
		w.probs.add(pathOr(path), "expected a mapping, not %s", describe(n))
		return
	}
	if v.Type().Key().Kind() != reflect.String {
		w.probs.add(pathOr(path), "unsupported map type")
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	w.pairs(n, path, depth, func(key string, val *yaml.Node) {
		el := reflect.New(v.Type().Elem()).Elem()
		if old := v.MapIndex(reflect.ValueOf(key).Convert(v.Type().Key())); old.IsValid() {
			el.Set(old)
		}
		w.value(val, el, join(path, key), depth+1)
		v.SetMapIndex(reflect.ValueOf(key).Convert(v.Type().Key()), el)
	}, func(val *yaml.Node) { w.value(val, v, path, depth+1) })
}

// pairs calls each for every key of a mapping, refusing keys that are not
// plain strings and keys given twice; merge keys ("<<: *defaults") go to
// merge first, so that the mapping's own keys win.
func (w *walker) pairs(n *yaml.Node, path string, depth int, each func(key string, val *yaml.Node), merge func(val *yaml.Node)) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Tag == "!!merge" {
			val := n.Content[i+1]
			if val.Kind == yaml.AliasNode {
				val = val.Alias
			}
			if val.Kind == yaml.SequenceNode {
				for _, m := range val.Content {
					merge(m)
				}
			} else {
				merge(val)
			}
		}
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Tag == "!!merge" {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			w.probs.add(pathOr(path), "a key must be a plain string, not %s (line %d)", describe(k), k.Line)
			continue
		}
		if line, dup := seen[k.Value]; dup {
			w.probs.add(join(path, k.Value), "given twice (lines %d and %d)", line, k.Line)
			continue
		}
		seen[k.Value] = k.Line
		w.mark(join(path, k.Value), k)
		each(k.Value, val)
	}
}

// scalar decodes a string, number or boolean.
func (w *walker) scalar(n *yaml.Node, v reflect.Value, path string) {
	want := map[reflect.Kind]string{reflect.String: "a string", reflect.Bool: "true or false"}[v.Kind()]
	if want == "" {
		want = "a number"
	}
	if v.Kind() == reflect.Interface {
		var x any
		if err := n.Decode(&x); err != nil {
			w.probs.add(pathOr(path), "%s", yamlMessage(err))
		} else if x != nil {
			v.Set(reflect.ValueOf(x))
		}
		return
	}
	if n.Kind != yaml.ScalarNode {
		w.probs.add(pathOr(path), "expected %s, not %s", want, describe(n))
		return
	}
	if err := n.Decode(v.Addr().Interface()); err != nil {
		w.probs.add(pathOr(path), "%q is not %s", n.Value, want)
	}
}

// describe names a node's kind for messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	return fmt.Sprintf("%q", n.Value)
}

// yamlMessage is an error of a custom decoder, without yaml's prefixes.
func yamlMessage(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		return strings.Join(te.Errors, "; ")
	}
	return strings.TrimPrefix(err.Error(), "yaml: ")
}

// join adds key to path; a key that is empty or has characters names do not
// have is quoted, so that every problem starts with a readable path.
func join(path, key string) string {
	if key == "" || strings.ContainsFunc(key, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-:/@", r))
	}) {
		key = strconv.Quote(key)
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func pathOr(path string) string {
	if path == "" {
		return "config"
	}
	return path
}
