package hostcmd

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestExpand(t *testing.T) {
	values := map[string]string{"vip": "192.0.2.10", "interface": "Ethernet 2", "gw": `\Device\NPF_{85FE}`}
	tests := []struct {
		name    string
		tmpl    []string
		want    []string
		wantErr bool
	}{
		{name: "plain", tmpl: []string{"-S", "${vip}"}, want: []string{"-S", "192.0.2.10"}},
		{name: "inside a word", tmpl: []string{"name=${interface}"}, want: []string{"name=Ethernet 2"}},
		{name: "braces stay literal", tmpl: []string{`\Device\NPF_{85FEBE1C}`}, want: []string{`\Device\NPF_{85FEBE1C}`}},
		{name: "value with braces", tmpl: []string{"${gw}"}, want: []string{`\Device\NPF_{85FE}`}},
		{name: "dollar escape", tmpl: []string{"$${vip}", "C$$", `C$\x`}, want: []string{"${vip}", "C$", `C$\x`}},
		{name: "unknown", tmpl: []string{"${nope}"}, wantErr: true},
		{name: "unclosed", tmpl: []string{"${vip"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The program comes first and is never a placeholder (see
			// TestExpandRefusesPlaceholderProgram).
			tmpl := append([]string{"/bin/prog"}, tt.tmpl...)
			var want []string
			if tt.want != nil {
				want = append([]string{"/bin/prog"}, tt.want...)
			}
			got, err := Expand(tmpl, values)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Expand(%q) error = %v, want error %v", tt.tmpl, err, tt.wantErr)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Expand(%q) (-want +got):\n%s", tt.tmpl, diff)
			}
		})
	}
}

func TestExpandRefusesPlaceholderProgram(t *testing.T) {
	values := map[string]string{"vip": "192.0.2.10", "gw": `C:\tools`}
	for _, tmpl := range [][]string{{"${gw}", "-S"}, {`${gw}\arping.exe`}, {"/usr/bin/${vip}"}} {
		if got, err := Expand(tmpl, values); err == nil {
			t.Errorf("Expand(%q) = %q, want an error: the program cannot be a placeholder", tmpl, got)
		}
	}
	if _, err := Expand([]string{"/bin/$${literal}"}, values); err != nil {
		t.Errorf("a literal $ in the program: %v", err)
	}
}

func TestExpandRefusesLineBreaks(t *testing.T) {
	if _, err := Expand([]string{"${x}"}, map[string]string{"x": "a\nb"}); err == nil {
		t.Fatal("Expand accepted a value with a line break")
	}
}

func TestPoll(t *testing.T) {
	n := 0
	err := Poll(context.Background(), time.Millisecond, func() (bool, error) { n++; return n == 3, nil })
	if err != nil || n != 3 {
		t.Fatalf("Poll = %v after %d checks, want nil after 3", err, n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err = Poll(ctx, time.Millisecond, func() (bool, error) { return false, nil })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Poll = %v, want DeadlineExceeded", err)
	}
}

func TestBoundObserve(t *testing.T) {
	ctx, cancel := BoundObserve(context.Background())
	defer cancel()
	if _, ok := ctx.Deadline(); !ok {
		t.Fatal("BoundObserve left a context without deadline")
	}
	parent, pcancel := context.WithTimeout(context.Background(), time.Hour)
	defer pcancel()
	got, cancel2 := BoundObserve(parent)
	defer cancel2()
	if got != parent {
		t.Fatal("BoundObserve replaced a context that had a deadline")
	}
}
