package reactions

import (
	"regexp"
	"strings"
	"unicode"
)

// Limits on alarm fields: generous for real alarms, small enough that a
// caller cannot make the journal carry megabytes per event.
const (
	// maxID is the idempotency key's bound, the one the journal enforces.
	maxID        = 200
	maxField     = 256
	maxText      = 4096
	maxLabels    = 64
	maxLabelName = 128
)

var labelNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

// Validate checks an alarm as it arrives from any door: at least a
// condition, or a log event ID with its application; bounded sizes; no
// control characters that could reach a log line or a program's argv.
func (a Alarm) Validate() error {
	if a.Condition == "" && (a.EventID == "" || a.Application == "") {
		return Invalid("an alarm needs condition, or event_id together with application")
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{
		{"id", a.ID, maxID}, {"condition", a.Condition, maxField}, {"event_id", a.EventID, maxField},
		{"application", a.Application, maxField}, {"host", a.Host, maxField}, {"severity", a.Severity, maxField},
	} {
		if len(f.v) > f.max {
			return Invalid("%s: longer than %d characters", f.name, f.max)
		}
		if hasControl(f.v, false) {
			return Invalid("%s: control characters (NUL, newlines, tabs...) are not allowed", f.name)
		}
	}
	if err := CheckText("text", a.Text); err != nil {
		return err
	}
	if len(a.Labels) > maxLabels {
		return Invalid("labels: more than %d", maxLabels)
	}
	for k, v := range a.Labels {
		if len(k) > maxLabelName || !labelNameRE.MatchString(k) {
			return Invalid("labels: %q is not a label name (letters, digits, _ . -)", truncate(k, 40))
		}
		if len(v) > maxField {
			return Invalid("labels.%s: longer than %d characters", k, maxField)
		}
		if hasControl(v, false) {
			return Invalid("labels.%s: control characters are not allowed", k)
		}
	}
	if len(a.CallbackURL) > 2048 {
		return Invalid("callback_url: too long")
	}
	return nil
}

// CheckText checks free text (an alarm's text, a manual action's reason,
// which becomes it) under the name the caller knows it by.
func CheckText(field, s string) error {
	if len(s) > maxText {
		return Invalid("%s: longer than %d characters", field, maxText)
	}
	if hasControl(s, true) {
		return Invalid("%s: control characters other than newline and tab are not allowed", field)
	}
	return nil
}

func hasControl(s string, allowNewline bool) bool {
	return strings.IndexFunc(s, func(r rune) bool {
		if allowNewline && (r == '\n' || r == '\t' || r == '\r') {
			return false
		}
		return unicode.IsControl(r) || r == unicode.ReplacementChar
	}) >= 0
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
