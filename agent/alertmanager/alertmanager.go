// Package alertmanager decodes Prometheus Alertmanager's webhook
// notifications (payload version 4) and turns every alert into an alarm
// for the reaction rules.
//
// Strictness: the payload is decoded with the fields Alertmanager
// documents for version 4 and nothing else; an unknown field is a 400
// naming the field. Alertmanager does not retry a 4xx, so a future
// Alertmanager that adds a field without bumping the version makes its
// notifications fail loudly (its notifications_failed_total counter and
// log, our log) instead of being half-understood; the same strictness
// catches other senders' payloads (Grafana's webhook has orgId, values...)
// that would otherwise be misread as alerts.
//
// Idempotency: Alertmanager repeats a group's notification every
// repeat_interval and retries failed ones, so each alert's event carries the
// key am:<fingerprint>:<status>:<startsAt unix>; a repeat is answered from
// the journal and executes nothing. The same alert firing again later has a
// new startsAt and is a new event.
package alertmanager

import (
	"fmt"
	"time"

	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/agent/strictjson"
	"github.com/vipagent/vipagent/reactions"
)

// Version is the only webhook payload version understood.
const Version = "4"

// Alert statuses.
const (
	StatusFiring   = "firing"
	StatusResolved = "resolved"
)

// StatusLabel is the label added to every alarm with the alert's status,
// so that rules can tell firing from resolved alerts.
const StatusLabel = "alertmanager_status"

// Message is a webhook notification (Alertmanager's notify/webhook Message).
type Message struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   uint64            `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []Alert           `json:"alerts"`
}

// Alert is one alert of a notification.
type Alert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// maxAlerts bounds the alerts of one notification; Alertmanager's
// webhook_config max_alerts truncates larger groups on its side.
const maxAlerts = 1000

// Decode parses and checks a notification: exactly one JSON object with
// only the documented fields, version 4, known statuses, a fingerprint
// and a start time on every alert. Errors wrap reactions.ErrInvalid.
func Decode(data []byte) (*Message, error) {
	var m Message
	if err := strictjson.Decode(data, &m); err != nil {
		return nil, err
	}
	if m.Version != Version {
		return nil, reactions.Invalid("version: %q is not supported (Alertmanager webhook payload version %s is)", m.Version, Version)
	}
	if m.Status != StatusFiring && m.Status != StatusResolved {
		return nil, reactions.Invalid("status: %q is neither firing nor resolved", m.Status)
	}
	if len(m.Alerts) == 0 {
		return nil, reactions.Invalid("alerts: empty")
	}
	if len(m.Alerts) > maxAlerts {
		return nil, reactions.Invalid("alerts: more than %d in one notification (set max_alerts in the webhook_config)", maxAlerts)
	}
	for i, a := range m.Alerts {
		path := fmt.Sprintf("alerts[%d]", i)
		if a.Status != StatusFiring && a.Status != StatusResolved {
			return nil, reactions.Invalid("%s.status: %q is neither firing nor resolved", path, a.Status)
		}
		if a.Fingerprint == "" {
			return nil, reactions.Invalid("%s.fingerprint: required (sent by Alertmanager 0.20 and later)", path)
		}
		if a.StartsAt.IsZero() {
			return nil, reactions.Invalid("%s.startsAt: required", path)
		}
	}
	return &m, nil
}

// Options say how alerts become alarms.
type Options struct {
	// ConditionLabel names the label holding the alarm's condition; when
	// an alert lacks it, alertname is used.
	ConditionLabel string
	// Resolved is "ignore" (resolved alerts are acknowledged and dropped)
	// or "match" (they go to the rules with alertmanager_status=resolved).
	Resolved string
}

// OptionsFrom takes the receiver's options from the configuration.
func OptionsFrom(c *config.Config) Options {
	return Options{ConditionLabel: c.Alertmanager.ConditionLabel, Resolved: c.Alertmanager.Resolved}
}

// Alarm turns one alert into an alarm; the alarm is not validated yet.
func (o Options) Alarm(a Alert) reactions.Alarm {
	labels := make(map[string]string, len(a.Labels)+1)
	for k, v := range a.Labels {
		labels[k] = v
	}
	labels[StatusLabel] = a.Status
	cond := a.Labels[o.conditionLabel()]
	if cond == "" {
		cond = a.Labels["alertname"]
	}
	// An explicit host label is meant for this; instance (host:port of the
	// scrape target) is the usual fallback.
	host := a.Labels["host"]
	if host == "" {
		host = a.Labels["instance"]
	}
	text := a.Annotations["summary"]
	if text == "" {
		text = a.Annotations["description"]
	}
	return reactions.Alarm{
		ID:        Key(a),
		Condition: cond,
		Host:      host,
		Severity:  a.Labels["severity"],
		Text:      text,
		Time:      a.StartsAt.UTC(),
		Labels:    labels,
	}
}

func (o Options) conditionLabel() string {
	if o.ConditionLabel == "" {
		return "condition"
	}
	return o.ConditionLabel
}

// Key is an alert's idempotency key: the same alert (fingerprint) in the
// same status since the same start is one event, however often it is sent.
func Key(a Alert) string {
	return fmt.Sprintf("am:%s:%s:%d", a.Fingerprint, a.Status, a.StartsAt.Unix())
}

// Pending is an alert turned into an alarm, checked and ready to journal.
type Pending struct {
	Fingerprint string
	Alarm       reactions.Alarm
}

// Alarms turns a notification into alarms. Every alarm is checked before
// any is returned, so that a payload is taken whole or not at all; resolved
// alerts are dropped (and counted) unless Resolved is "match".
func (o Options) Alarms(msg *Message) (alarms []Pending, ignored int, err error) {
	for i, a := range msg.Alerts {
		if a.Status == StatusResolved && o.Resolved != "match" {
			ignored++
			continue
		}
		al := o.Alarm(a)
		if err := al.Validate(); err != nil {
			return nil, 0, fmt.Errorf("alerts[%d] (fingerprint %s): %w", i, a.Fingerprint, err)
		}
		alarms = append(alarms, Pending{a.Fingerprint, al})
	}
	return alarms, ignored, nil
}

// EventRef is what the response says of one journaled alert.
type EventRef struct {
	Fingerprint string           `json:"fingerprint"`
	EventID     string           `json:"event_id"`
	Duplicate   bool             `json:"duplicate"`
	Status      reactions.Status `json:"status"`
}

// Response is the body of a 200 answer.
type Response struct {
	Events []EventRef `json:"events"`
	// Ignored counts resolved alerts dropped under resolved: ignore.
	Ignored int `json:"ignored"`
	// Truncated repeats the alerts Alertmanager left out of the payload.
	Truncated uint64 `json:"truncated,omitempty"`
}
