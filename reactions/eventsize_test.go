package reactions

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// Each field within its own bound, together over MaxCallerBytes: refused,
// and the error names the cap.
func TestCallerDataPerEventIsCapped(t *testing.T) {
	labels := map[string]string{}
	for i := range 40 {
		labels[fmt.Sprintf("l%02d", i)] = strings.Repeat("v", 250)
	}
	big := &Event{Alarm: Alarm{Condition: "c", Text: strings.Repeat("t", 4000), Labels: labels}}
	err := big.Check()
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), fmt.Sprint(MaxCallerBytes)) {
		t.Errorf("%d bytes of caller data: %v; want refused naming the cap %d", big.callerBytes(), err, MaxCallerBytes)
	}
	ok := &Event{Alarm: Alarm{Condition: "c", Text: strings.Repeat("t", 4000), Labels: map[string]string{"site": "par"}},
		GenesysArgs: map[string]string{"host": "lca", "port": "4999"}}
	if err := ok.Check(); err != nil {
		t.Errorf("an alarm with a long text: %v", err)
	}
}
