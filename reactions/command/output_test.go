package command

import (
	"testing"
	"unicode/utf16"
)

func utf16le(s string, bom bool) []byte {
	var b []byte
	if bom {
		b = append(b, 0xff, 0xfe)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

func TestProgramText(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, ""},
		{"ascii", []byte("Ok.\r\n"), "Ok.\r\n"},
		{"utf-8", []byte("L'élément est introuvable.\r\n"), "L'élément est introuvable.\r\n"},
		{"utf-16le with BOM", utf16le("Élément introuvable.\r\n", true), "Élément introuvable.\r\n"},
		{"utf-16le without BOM", utf16le("Host 1 converged with the following host(s)\r\n", false), "Host 1 converged with the following host(s)\r\n"},
		{"cyrillic utf-16le", utf16le("Объект уже существует.\r\n", true), "Объект уже существует.\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := programText(tt.in); got != tt.want {
				t.Errorf("programText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestIsUTF16LE(t *testing.T) {
	for _, b := range [][]byte{[]byte("ab"), []byte("odd"), []byte("d\x82j\x85 vu"), {0xff}} {
		if isUTF16LE(b) {
			t.Errorf("isUTF16LE(%q) = true", b)
		}
	}
}
