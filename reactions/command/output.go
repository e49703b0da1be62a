package command

import (
	"unicode/utf16"
	"unicode/utf8"
)

// programText turns what a program wrote into UTF-8 for the journal, the
// reports and error messages. They are JSON, where bytes that are not UTF-8
// become U+FFFD: a French netsh's "L'élément est introuvable." would reach
// the person reading the result as "L'��l��ment". UTF-8 (and ASCII) stays as
// it is; UTF-16LE, which some Windows programs write into a pipe, is
// decoded; anything else is text in the console's code page, which only
// Windows knows how to read (decodeConsole: the OEM code page there, as is
// on Unix, where programs run with LC_ALL=C).
func programText(b []byte) string {
	if isUTF16LE(b) {
		if len(b) >= 2 && b[0] == 0xff && b[1] == 0xfe {
			b = b[2:]
		}
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
		}
		return string(utf16.Decode(u))
	}
	if utf8.Valid(b) {
		return string(b)
	}
	return decodeConsole(b)
}

// isUTF16LE reports whether b looks like UTF-16LE: it starts with the byte
// order mark, or has an even length and most of its odd bytes are zero (the
// high bytes of Latin text), which text in a single-byte or multi-byte
// code page, holding no NUL at all, never has.
func isUTF16LE(b []byte) bool {
	if len(b) < 2 || len(b)%2 != 0 {
		return false
	}
	if b[0] == 0xff && b[1] == 0xfe {
		return true
	}
	zeros := 0
	for i := 1; i < len(b); i += 2 {
		if b[i] == 0 {
			zeros++
		}
	}
	return zeros*2 > len(b)/2
}
