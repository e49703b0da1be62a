package cli

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// safe makes s fit to print on an operator's terminal: control characters
// (C0, C1, DEL), format characters (bidi overrides and marks, zero-width
// characters) and line/paragraph separators are written as \uXXXX, and invalid
// UTF-8 as \xNN. Backslashes stay as they are: Windows paths must read as
// paths.
// Everything a printer shows that came from outside (an alarm, a journal, an
// agent's answer, a config) goes through it.
func safe(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unsafeRune(r):
			b.Write(appendEscape(nil, r))
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func needsEscape(s string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n <= 1) || unsafeRune(r) {
			return true
		}
		i += n
	}
	return false
}

// unsafeRune reports a rune a terminal may act on or that hides or reorders
// text: categories Cc, Cf, Zl and Zp, and private-use characters, which a
// terminal may render as anything.
func unsafeRune(r rune) bool {
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp, unicode.Co)
}

// termWriter escapes, in everything written through it, the runes safe
// escapes except newline and tab, which the printers write themselves. It
// is the backstop under every printer, the error line main prints and the
// logs serve writes to stderr; JSON stays valid (a \uXXXX escape inside a
// string decodes to the same rune; outside strings JSON has none). A rune
// split between two writes is held back until it is whole.
type termWriter struct {
	mu    sync.Mutex
	w     io.Writer
	carry []byte
}

// PrintError prints the error a command ended with, as main does: escaped
// like everything else the command prints.
func PrintError(w io.Writer, err error) {
	t := &termWriter{w: w}
	fmt.Fprintln(t, "vipagent:", err)
	t.flush()
}

func (t *termWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	buf := append(t.carry, p...)
	t.carry = nil
	// Hold back an incomplete rune at the end (at most 3 bytes).
	end := len(buf)
	for k := 1; k <= 3 && k <= len(buf); k++ {
		if utf8.RuneStart(buf[len(buf)-k]) {
			if !utf8.FullRune(buf[len(buf)-k:]) {
				end = len(buf) - k
			}
			break
		}
	}
	out := escapeTerm(buf[:end])
	t.carry = append([]byte(nil), buf[end:]...)
	if _, err := t.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

func escapeTerm(b []byte) []byte {
	clean := true
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if (r == utf8.RuneError && n <= 1) || (r != '\n' && r != '\t' && unsafeRune(r)) {
			clean = false
			break
		}
		i += n
	}
	if clean {
		return b
	}
	var out []byte
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			out = fmt.Appendf(out, `\x%02x`, b[i])
		case r != '\n' && r != '\t' && unsafeRune(r):
			out = appendEscape(out, r)
		default:
			out = append(out, b[i:i+n]...)
		}
		i += n
	}
	return out
}

// appendEscape writes r as \uXXXX, with a UTF-16 surrogate pair above
// U+FFFF, the form both Go and JSON read.
func appendEscape(out []byte, r rune) []byte {
	if r > 0xffff {
		r1, r2 := utf16.EncodeRune(r)
		return fmt.Appendf(out, `\u%04x\u%04x`, r1, r2)
	}
	return fmt.Appendf(out, `\u%04x`, r)
}

// flush writes a held-back incomplete rune, escaped: the output ends here.
func (t *termWriter) flush() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.carry) > 0 {
		t.w.Write(escapeTerm(t.carry))
		t.carry = nil
	}
}

// Fd is the descriptor underneath, for the logger's terminal check;
// ^uintptr(0), which is no terminal, when there is none.
func (t *termWriter) Fd() uintptr {
	if f, ok := t.w.(interface{ Fd() uintptr }); ok {
		return f.Fd()
	}
	return ^uintptr(0)
}
