package httpapi_test

import (
	"errors"
	"testing"

	wire "github.com/vipagent/vipagent/agent/api"
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
