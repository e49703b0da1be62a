package httpapi

import (
	"fmt"
	"net/http"

	"github.com/vipagent/vipagent/agent/alertmanager"
	"github.com/vipagent/vipagent/reactions"
)

// handleAlertmanager is Alertmanager's webhook receiver. It answers once
// every alert is journaled, without waiting for execution: 200 with the
// events, 400 for a payload that will never be accepted (Alertmanager does
// not retry it), 503 when the journal could not store the events
// (Alertmanager retries; alerts already stored are then duplicates and run
// once).
func (s *server) handleAlertmanager(w http.ResponseWriter, r *http.Request) {
	deadline, err := deadlineOf(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	data, err := ReadJSON(w, r, s.Config.Limits.MaxBodyBytes)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	msg, err := alertmanager.Decode(data)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	alarms, ignored, err := alertmanager.OptionsFrom(s.Config).Alarms(msg)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if msg.TruncatedAlerts > 0 {
		s.log.Warn().Uint64("truncated", msg.TruncatedAlerts).Str("group_key", msg.GroupKey).
			Msg("Alertmanager left alerts out of this notification (webhook_config max_alerts); they are not seen here")
	}
	resp := alertmanager.Response{Events: []alertmanager.EventRef{}, Ignored: ignored, Truncated: msg.TruncatedAlerts}
	for _, p := range alarms {
		ev, dup, err := s.Engine.Submit(&reactions.Event{Key: p.Alarm.ID, Source: reactions.SourceAlertmanager, Sender: CallerOf(r).ID, Alarm: p.Alarm, Deadline: deadline})
		if err != nil {
			s.writeError(w, r, fmt.Errorf("journal alert %s: %w", p.Fingerprint, err))
			return
		}
		resp.Events = append(resp.Events, alertmanager.EventRef{Fingerprint: p.Fingerprint, EventID: ev.ID, Duplicate: dup, Status: ev.Status})
	}
	ids := make([]string, len(resp.Events))
	for i, e := range resp.Events {
		ids[i] = e.EventID
	}
	announce(w, deadline, ids...)
	s.log.Info().Str("receiver", msg.Receiver).Str("group_key", msg.GroupKey).Int("events", len(resp.Events)).
		Int("ignored", ignored).Msg("alertmanager notification journaled")
	writeJSON(w, http.StatusOK, resp)
}
