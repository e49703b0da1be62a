package config

import (
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Key is one configuration key as the reference shows it: its path (maps
// as <name>, lists as []), its YAML type, its default and what it does.
type Key struct {
	Path    string
	Type    string
	Default string
	Doc     string
}

// Reference lists every key the configuration takes, walked from the Config
// type itself, with the default from Defaults and the text from keyDocs, so
// `vipagent help config` cannot miss a key or describe one that is gone (a
// test checks keyDocs against the walk).
func Reference() []Key {
	var keys []Key
	walkKeys(reflect.TypeFor[Config](), reflect.ValueOf(Defaults()), "", &keys)
	for i := range keys {
		keys[i].Doc = keyDocs[keys[i].Path]
	}
	return keys
}

var (
	durationType   = reflect.TypeFor[Duration]()
	secretType     = reflect.TypeFor[Secret]()
	stringListType = reflect.TypeFor[StringList]()
)

// walkKeys appends the keys of struct type t; def is its default value
// (invalid inside maps and lists, where there is none).
func walkKeys(t reflect.Type, def reflect.Value, prefix string, keys *[]Key) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		path := prefix + name
		var fv reflect.Value
		if def.IsValid() {
			fv = def.Field(i)
		}
		walkField(f.Type, fv, path, keys)
	}
}

func walkField(ft reflect.Type, fv reflect.Value, path string, keys *[]Key) {
	if ft.Kind() == reflect.Pointer {
		ft = ft.Elem()
		if fv.IsValid() {
			if fv.IsNil() {
				fv = reflect.Value{}
			} else {
				fv = fv.Elem()
			}
		}
	}
	switch {
	case ft == durationType || ft == secretType || ft == stringListType:
		*keys = append(*keys, Key{Path: path, Type: typeName(ft), Default: defaultText(fv)})
	case ft.Kind() == reflect.Struct:
		walkKeys(ft, fv, path+".", keys)
	case ft.Kind() == reflect.Map && ft.Elem().Kind() == reflect.Struct:
		walkKeys(ft.Elem(), reflect.Value{}, path+".<name>.", keys)
	case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
		walkKeys(ft.Elem(), reflect.Value{}, path+"[].", keys)
	default:
		*keys = append(*keys, Key{Path: path, Type: typeName(ft), Default: defaultText(fv)})
	}
}

func typeName(t reflect.Type) string {
	switch t {
	case durationType:
		return "duration"
	case secretType:
		return "secret"
	case stringListType:
		return "string or list"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int64:
		return "int"
	case reflect.String:
		return "string"
	case reflect.Slice:
		return "list of " + typeName(t.Elem())
	case reflect.Map:
		if t.Elem().Kind() == reflect.Interface {
			return "map"
		}
		return "map of " + typeName(t.Elem())
	}
	return t.Kind().String()
}

// defaultText is a default as a person would write it in the file; empty
// for zero values and for keys that have no default of their own.
func defaultText(v reflect.Value) string {
	if !v.IsValid() || v.IsZero() {
		return ""
	}
	switch x := v.Interface().(type) {
	case Duration:
		return shortDuration(time.Duration(x))
	case Secret:
		return ""
	case StringList:
		return strings.Join(x, ", ")
	}
	return fmt.Sprint(v.Interface())
}

// WriteReference writes the reference as a table, key by key.
func WriteReference(w io.Writer) error {
	keys := Reference()
	width := 0
	for _, k := range keys {
		width = max(width, len(k.Path))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-*s  %-15s  %-18s  %s\n", width, "KEY", "TYPE", "DEFAULT", "WHAT")
	for _, k := range keys {
		def := k.Default
		if def == "" {
			def = "-"
		}
		fmt.Fprintf(&b, "%-*s  %-15s  %-18s  %s\n", width, k.Path, k.Type, def, k.Doc)
	}
	_, err := w.Write([]byte(b.String()))
	return err
}

// undocumentedKeys and staleKeyDocs are what the reference test checks:
// every key walked has a text, and every text names a key.
func undocumentedKeys() (missing, stale []string) {
	walked := map[string]bool{}
	for _, k := range Reference() {
		walked[k.Path] = true
		if k.Doc == "" {
			missing = append(missing, k.Path)
		}
	}
	for p := range keyDocs {
		if !walked[p] {
			stale = append(stale, p)
		}
	}
	slices.Sort(stale)
	return missing, stale
}

// shortDuration writes 5m for 5m0s and 720h for 720h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
