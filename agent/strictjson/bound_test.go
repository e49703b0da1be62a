package strictjson

import (
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/vipagent/vipagent/reactions"
)

// nested is a body whose "any" field holds depth levels of arrays.
func nested(depth int) string {
	return `{"any":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}`
}

// values is a body whose "any" field is an array of n numbers: with the
// outer object and the array, n+2 values.
func values(n int) string {
	return `{"any":[` + strings.TrimSuffix(strings.Repeat("1,", n), ",") + `]}`
}

func TestDecodeShape(t *testing.T) {
	for _, tt := range []struct {
		name, body string
		msg        string // "" means accepted
	}{
		{"deepest accepted", nested(MaxDepth - 1), ""},
		{"one level too deep", nested(MaxDepth), "nested deeper than 32 levels"},
		{"brackets in a string do not count", `{"any":"` + strings.Repeat("[{", 100) + `\"` + `"}`, ""},
		{"most values accepted", values(MaxValues - 2), ""},
		{"one value too many", values(MaxValues - 1), "more than 10000 JSON values"},
		{"commas in a string do not count", `{"any":"` + strings.Repeat(",", 2*MaxValues) + `"}`, ""},
		{"unclosed bomb", `{"condition":"X","labels":` + strings.Repeat("[", 65000), "nested deeper than 32 levels (at byte 57)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got target
			err := Decode([]byte(tt.body), &got)
			if tt.msg == "" {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				return
			}
			if !errors.Is(err, reactions.ErrInvalid) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Decode = %v, want ErrInvalid saying %q", err, tt.msg)
			}
		})
	}
}

// TestNestingBombCostsNothing: a 64 KiB body of '[' is refused with a
// handful of allocations and a few hundred bytes, where walking it would
// cost gigabytes.
func TestNestingBombCostsNothing(t *testing.T) {
	for _, bomb := range []string{
		`{"condition":"X","labels":` + strings.Repeat("[", 64<<10),
		`{"condition":"X","labels":` + strings.Repeat(`{"a":`, 64<<10/5),
		`{"any":[` + strings.Repeat("[],", 64<<10/3) + `1]}`,
	} {
		data := []byte(bomb)
		var dst target
		allocs := testing.AllocsPerRun(20, func() {
			if err := Decode(data, &dst); !errors.Is(err, reactions.ErrInvalid) {
				t.Fatalf("Decode = %v, want ErrInvalid", err)
			}
		})
		if allocs > 10 {
			t.Errorf("refusing %.20q… took %.0f allocations, want at most 10", bomb, allocs)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range 100 {
			_ = Decode(data, &dst)
		}
		runtime.ReadMemStats(&after)
		if per := (after.TotalAlloc - before.TotalAlloc) / 100; per > 1<<10 {
			t.Errorf("refusing %.20q… allocated %d bytes a body, want at most 1 KiB", bomb, per)
		}
	}
}

// TestDeepestBodyIsCheap: the most a body can hold (MaxDepth levels, each
// with many siblings, within 64 KiB) is decoded within a small fixed
// budget of memory, far below the process's ceiling.
func TestDeepestBodyIsCheap(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"any":`)
	for range MaxDepth - 1 {
		b.WriteString(`[` + strings.Repeat(`"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",`, 40))
	}
	b.WriteString("1" + strings.Repeat("]", MaxDepth-1) + `}`)
	data := []byte(b.String())
	if len(data) > 64<<10 {
		t.Fatalf("body is %d bytes; keep it within the default 64 KiB limit", len(data))
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var dst target
	if err := Decode(data, &dst); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 4<<20 {
		t.Errorf("decoding a %d-byte body allocated %d bytes, want at most 4 MiB", len(data), got)
	}
}

// FuzzDecodeShape: whatever the nesting or the length of arrays, Decode
// either accepts within the bounds or refuses with ErrInvalid, and never
// accepts a body beyond them.
func FuzzDecodeShape(f *testing.F) {
	f.Add(uint8(3), uint16(2), uint8(0))
	f.Add(uint8(MaxDepth), uint16(1), uint8(1))
	f.Add(uint8(1), uint16(MaxValues), uint8(2))
	f.Fuzz(func(t *testing.T, depth uint8, n uint16, shape uint8) {
		open, closer, elem := "[", "]", "1"
		if shape%3 == 1 {
			open, closer, elem = `{"k":`, "}", `"v"`
		}
		body := `{"any":` + strings.Repeat(open, int(depth))
		if shape%3 == 2 {
			body += "[" + strings.TrimSuffix(strings.Repeat(elem+",", int(n)), ",") + "]"
		} else {
			body += elem
		}
		body += strings.Repeat(closer, int(depth)) + "}"
		var dst target
		err := Decode([]byte(body), &dst)
		deep := int(depth)+1 > MaxDepth || (shape%3 == 2 && int(depth)+2 > MaxDepth)
		if err != nil && !errors.Is(err, reactions.ErrInvalid) {
			t.Fatalf("refusal is not ErrInvalid: %v", err)
		}
		if err == nil && (deep || (shape%3 == 2 && int(n)+int(depth)+2 > MaxValues)) {
			t.Fatalf("accepted a body beyond the bounds (depth %d, %d elements)", depth, n)
		}
	})
}
