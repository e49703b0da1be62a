package strictjson

import "github.com/vipagent/vipagent/reactions"

// Bounds on the shape of a body, checked in one pass over its bytes before
// any decoder sees it: a 64 KiB body of '[' is 65,536 levels deep, and the
// decoders' cost grows with depth, so a body is refused on its shape alone.
const (
	// MaxDepth is the deepest nesting of objects and arrays accepted.
	MaxDepth = 32
	// MaxValues is the most JSON values (objects, arrays, and the members
	// and elements in them) one body may hold.
	MaxValues = 10000
)

// checkShape refuses data nested deeper than MaxDepth or holding more than
// MaxValues values. It allocates nothing but its error, and is not a
// validator: malformed JSON it lets through is refused by the decode.
func checkShape(data []byte) error {
	depth, values := 0, 1
	inString, escaped := false, false
	for i, c := range data {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			depth++
			if depth > MaxDepth {
				return reactions.Invalid("body: nested deeper than %d levels (at byte %d)", MaxDepth, i)
			}
			values++
		case ']', '}':
			depth--
		case ',':
			values++
		}
		if values > MaxValues {
			return reactions.Invalid("body: more than %d JSON values (at byte %d)", MaxValues, i)
		}
	}
	return nil
}
