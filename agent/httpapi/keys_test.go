package httpapi_test

import (
	"strings"
	"testing"

	"github.com/vipagent/vipagent/reactions"
)

const twoTriggersYAML = `
auth:
  tokens:
    - {name: scs, role: trigger, token: "trigger-token-0123456789"}
    - {name: other, role: trigger, token: "other-trigger-token-0123"}
    - {name: oncall, role: admin, token: "env:ADMIN_TOKEN"}
`

// An idempotency key cannot be pre-claimed: the same credential sending
// the key again with another alarm gets 409 naming the first event, and
// the same key from another credential is that credential's own and runs.
func TestIdempotencyKeysBelongToTheirSender(t *testing.T) {
	a := newAPI(t, twoTriggersYAML, adminEnv)
	a.tok = "other-trigger-token-0123"
	code, _, body := a.postJSON("/v1/alarms", map[string]any{"id": "scs-4711", "condition": "HARMLESS"})
	if code != 422 {
		t.Fatalf("HARMLESS: %d %s, want 422 (no reaction matches)", code, body)
	}
	harmless := decode[reactions.Result](t, body)

	code, _, body = a.postJSON("/v1/alarms", map[string]any{"id": "scs-4711", "condition": "RM1_Stopped"})
	if code != 409 || !strings.Contains(string(body), harmless.EventID) {
		t.Errorf("RM1_Stopped with the key just used for HARMLESS, same credential: %d %s; want 409 naming %s", code, body, harmless.EventID)
	}
	if code, _, body = a.postJSON("/v1/alarms", map[string]any{"id": "scs-4711", "condition": "HARMLESS"}); code != 422 || !decode[reactions.Result](t, body).Duplicate {
		t.Errorf("HARMLESS repeated: %d %s; want the first answered as a duplicate", code, body)
	}

	a.tok = "trigger-token-0123456789"
	code, _, body = a.postJSON("/v1/alarms", map[string]any{"id": "scs-4711", "condition": "RM1_Stopped"})
	stopped := decode[reactions.Result](t, body)
	if code != 200 || stopped.Duplicate || stopped.EventID == harmless.EventID || stopped.Reaction != "rm1-stopped" || len(stopped.Steps) != 1 {
		t.Fatalf("RM1_Stopped from another credential: %d %s; want it run", code, body)
	}
	code, _, body = a.postJSON("/v1/alarms", map[string]any{"id": "scs-4711", "condition": "RM1_Stopped"})
	if res := decode[reactions.Result](t, body); code != 200 || !res.Duplicate || res.EventID != stopped.EventID {
		t.Errorf("RM1_Stopped repeated by its sender: %d %s; want a duplicate of %s", code, body, stopped.EventID)
	}

	senders := map[string]string{}
	for _, ev := range a.events() {
		senders[ev.ID] = ev.Sender
	}
	if len(senders) != 2 || senders[harmless.EventID] != "token:other" || senders[stopped.EventID] != "token:scs" {
		t.Errorf("journaled events and senders: %v; want two, from token:other and token:scs", senders)
	}
}
