package httpapi_test

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	wire "github.com/vipagent/vipagent/agent/api"
	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/agent/strictjson"
	"github.com/vipagent/vipagent/reactions"
)

// FuzzDecodeAlarm feeds arbitrary bodies to the alarm decoder and
// validation: no panic, and every rejection is a clear ErrInvalid.
func FuzzDecodeAlarm(f *testing.F) {
	for _, s := range []string{
		`{"condition":"RM1_Stopped"}`,
		`{"id":"k","condition":"RM1_Stopped","event_id":"00-04504","application":"RM_1","host":"rm1","severity":"critical","text":"t","time":"2026-11-25T10:00:00Z","labels":{"a":"b"}}`,
		`{"event_id":"00-04504","application":"RM_1","genesys_args":{"host":"h"}}`,
		`{"condition":"a\u0000"}`, `{"labels":{"":""}}`, `[]`, `null`, `{"condition":1}`, `{} {}`, "\xff",
		`{"condition":"x","callback_url":"http://[::1]:x/"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req wire.AlarmRequest
		err := strictjson.Decode(body, &req)
		if err == nil {
			err = req.Alarm.Validate()
		}
		if err != nil && !errors.Is(err, reactions.ErrInvalid) {
			t.Fatalf("rejection is not ErrInvalid: %v", err)
		}
		if err != nil && err.Error() == "" {
			t.Fatal("empty error message")
		}
	})
}

// FuzzDoorsShape sends bodies of any nesting depth and any array length
// to both JSON doors, /v1/alarms and /v1/alertmanager, through the real
// handler: never a 5xx, a refusal is a 4xx, anything deeper than
// strictjson.MaxDepth is refused as such, and nothing refused is journaled.
func FuzzDoorsShape(f *testing.F) {
	f.Add(uint8(3), uint16(2), uint8(0), false)
	f.Add(uint8(200), uint16(1), uint8(1), true)
	f.Add(uint8(0), uint16(20000), uint8(2), false)
	f.Add(uint8(0), uint16(12000), uint8(2), true)
	a := newAPIAt(f, f.TempDir(), "", nil)
	a.m.Config.Limits.MaxBodyBytes = 256 << 10
	f.Fuzz(func(t *testing.T, depth uint8, n uint16, shape uint8, alertmanager bool) {
		open, closer, elem := "[", "]", `"v"`
		if shape%3 == 1 {
			open, closer, elem = `{"k":`, "}", `"v"`
		}
		inner := strings.Repeat(open, int(depth)) + elem + strings.Repeat(closer, int(depth))
		path, body := "/v1/alarms", ""
		if alertmanager {
			path = "/v1/alertmanager"
			alerts := inner
			if shape%3 == 2 {
				alerts = strings.TrimSuffix(strings.Repeat(`{"status":"firing","labels":{"alertname":"Nobody"}},`, int(n)), ",")
			}
			body = `{"version":"4","status":"firing","receiver":"r","alerts":[` + alerts + `]}`
		} else {
			labels := `{"a":` + inner + `}`
			if shape%3 == 2 {
				labels = `{"a":"b"},"any":[` + strings.TrimSuffix(strings.Repeat(`1,`, int(n)), ",") + `]`
			}
			body = `{"condition":"Nobody","labels":` + labels + `}`
		}
		before := countEvents(t, a)
		req := httptest.NewRequest("POST", path+"?wait=0s", strings.NewReader(body))
		if alertmanager {
			req = httptest.NewRequest("POST", path, strings.NewReader(body))
		}
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		a.m.Handler.ServeHTTP(rec, req)
		code := rec.Code
		if code >= 500 {
			t.Fatalf("%s answered %d: %s", path, code, rec.Body)
		}
		refused := code >= 400
		if shape%3 != 2 && int(depth)+2 > strictjson.MaxDepth && !strings.Contains(rec.Body.String(), "nested deeper than") {
			t.Fatalf("%s, %d levels: %d %s, want refused as too deep", path, depth, code, rec.Body)
		}
		if refused && countEvents(t, a) != before {
			t.Fatalf("%s refused with %d but journaled an event", path, code)
		}
	})
}

func countEvents(t *testing.T, a *api) int {
	evs, err := a.m.Journal.List(journal.Filter{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}
