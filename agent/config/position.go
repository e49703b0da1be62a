package config

import (
	"fmt"
	"github.com/vipagent/vipagent/agent/typo"
	"regexp"
	"strconv"
	"strings"
)

// source is where a configuration came from: its file and where each
// config path is written in it, so that a problem can name file:line:column.
type source struct {
	file string
	at   map[string]position
}

type position struct{ line, column int }

// Locate prefixes each problem with FILE:LINE:COLUMN where its config path
// is written in the file the config was loaded from (FILE alone for a
// problem whose path is not written there, such as a missing key), so that
// an editor can jump to it. Problems already located are left alone, so
// that a command may add its own checks' problems and locate them all.
func (c *Config) Locate(p Problems) Problems {
	if c == nil || c.src == nil || c.src.file == "" {
		return p
	}
	out := make(Problems, len(p))
	for i, prob := range p {
		out[i] = c.src.locate(prob, c.Reactions)
	}
	return out
}

func (s *source) locate(prob string, reactions []Reaction) string {
	if strings.HasPrefix(prob, s.file+":") {
		return prob
	}
	path, _, _ := strings.Cut(prob, ": ")
	if pos, ok := s.find(canonicalPath(path, reactions)); ok {
		return fmt.Sprintf("%s:%d:%d: %s", s.file, pos.line, pos.column, prob)
	}
	return s.file + ": " + prob
}

// find is the position of path, or of the nearest enclosing path written
// in the file.
func (s *source) find(path string) (position, bool) {
	for path != "" {
		if pos, ok := s.at[path]; ok {
			return pos, true
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return position{}, false
		}
		path = path[:i]
	}
	return position{}, false
}

// canonicalPath turns Validate's reactions.NAME back into reactions[i],
// the path decoding recorded.
func canonicalPath(path string, reactions []Reaction) string {
	rest, ok := strings.CutPrefix(path, "reactions.")
	if !ok {
		return path
	}
	for i, r := range reactions {
		if r.Name == "" {
			continue
		}
		if after, ok := strings.CutPrefix(rest, r.Name); ok && (after == "" || after[0] == '.' || after[0] == '[') {
			return "reactions[" + strconv.Itoa(i) + "]" + after
		}
	}
	return path
}

// yamlLine finds the line number in a YAML error message.
var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)

// locateSyntax turns a YAML syntax error into FILE:LINE: message.
func locateSyntax(file, msg string) string {
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		return file + ":" + m[1] + ": " + msg[len(m[0]):]
	}
	return file + ": " + strings.TrimPrefix(msg, "yaml: ")
}

// suggest is the known name closest to key when it is close enough to be
// a typo (at most a third of its letters, and at least one, wrong), or "".
func suggest(key string, known []string) string {
	return typo.Nearest(strings.ToLower(key), known, max(1, len(key)/3))
}
