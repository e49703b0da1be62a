package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/vipagent/vipagent/agent/api"
	"github.com/vipagent/vipagent/agent/report"
	"github.com/vipagent/vipagent/reactions"
)

// hostileRunes are every rune a terminal may act on or that hides or
// reorders text: all of Cc, Cf, Zl, Zp.
func hostileRunes() []rune {
	var rs []rune
	for _, t := range []*unicode.RangeTable{unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp} {
		for _, r16 := range t.R16 {
			for r := rune(r16.Lo); r <= rune(r16.Hi); r += rune(r16.Stride) {
				rs = append(rs, r)
			}
		}
		for _, r32 := range t.R32 {
			for r := rune(r32.Lo); r <= rune(r32.Hi); r += rune(r32.Stride) {
				rs = append(rs, r)
			}
		}
	}
	return rs
}

// fill sets every string reachable from v (fields, slice elements, map
// values and keys, through pointers) to s, giving slices and maps one
// element and pointers a value, so that a printer prints every field.
func fill(v reflect.Value, s string) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Pointer:
		if v.Type().Elem() == reflect.TypeFor[bool]() || v.Type().Elem().Kind() == reflect.Struct && v.Type().Elem().PkgPath() == "time" {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			return
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		fill(v.Elem(), s)
	case reflect.Struct:
		if v.Type().PkgPath() == "time" {
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), s)
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return
		}
		sl := reflect.MakeSlice(v.Type(), 1, 1)
		fill(sl.Index(0), s)
		v.Set(sl)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, s)
		fill(e, s)
		m.SetMapIndex(k, e)
		v.Set(m)
	}
}

func filled[T any](s string) T {
	var v T
	fill(reflect.ValueOf(&v).Elem(), s)
	return v
}

// Every printer, fed strings made of every hostile rune, writes none of
// them (only the newlines and tabs it writes itself) and not one line more
// than with harmless strings: nothing from outside can move the cursor,
// reorder text or forge a line.
func TestPrintersAreTerminalSafe(t *testing.T) {
	printers := map[string]func(w io.Writer, s string){
		"result": func(w io.Writer, s string) {
			r := filled[reactions.Result](s)
			r.Status = reactions.StatusFailed
			PrintResult(w, &r)
		},
		"event":       func(w io.Writer, s string) { e := filled[reactions.Event](s); printEvent(w, &e) },
		"event list":  func(w io.Writer, s string) { printEventList(w, filled[[]reactions.Event](s)) },
		"report list": func(w io.Writer, s string) { printReportList(w, filled[[]report.View](s)) },
		"vip status":  func(w io.Writer, s string) { printVIPs(w, filled[[]api.VIPView](s)) },
		"pair":        func(w io.Writer, s string) { printPair(w, filled[api.PairView](s)) },
		"plan":        func(w io.Writer, s string) { printPlan(w, PlanView{Matched: true, Plan: filled[reactions.Plan](s)}) },
		"error line": func(w io.Writer, s string) {
			body, _ := json.Marshal(map[string]string{"error": s})
			PrintError(w, apiError(500, body))
		},
	}
	rs := hostileRunes()
	if len(rs) < 200 {
		t.Fatalf("only %d hostile runes: the generator is broken", len(rs))
	}
	var hostile []string
	for i := 0; i < len(rs); i += 16 {
		hostile = append(hostile, "a"+string(rs[i:min(i+16, len(rs))])+"b")
	}
	hostile = append(hostile, "a\xff\xfe\xe2\x80b", "\u202eevil\u2028\u200f\r\x1b[2J")
	for name, print := range printers {
		t.Run(name, func(t *testing.T) {
			var harmless bytes.Buffer
			print(&harmless, "ab")
			for _, s := range hostile {
				var out bytes.Buffer
				tw := &termWriter{w: &out}
				print(tw, s)
				tw.flush()
				got := out.String()
				if !utf8.ValidString(got) {
					t.Errorf("%q: output is not valid UTF-8: %q", s, got)
				}
				for _, r := range got {
					if r != '\n' && r != '\t' && unsafeRune(r) {
						t.Errorf("%q: output holds %U:\n%q", s, r, got)
						break
					}
				}
				if n, want := strings.Count(got, "\n"), strings.Count(harmless.String(), "\n"); n != want {
					t.Errorf("%q: %d lines, %d with harmless strings:\n%s", s, n, want, got)
				}
			}
		})
	}
}

// The escaping keeps JSON valid and meaning the same, and a rune split
// between writes is escaped whole.
func TestTermWriterKeepsJSON(t *testing.T) {
	var out bytes.Buffer
	tw := &termWriter{w: &out}
	in := []byte("{\"a\":\"x\u202ey\U000e0001\"}\n")
	for i := range in {
		tw.Write(in[i : i+1])
	}
	tw.flush()
	if want := `{"a":"x\u202ey\udb40\udc01"}` + "\n"; out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}
