package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/rs/zerolog"

	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/agent/sign"
	"github.com/vipagent/vipagent/agent/version"
	"github.com/vipagent/vipagent/reactions"
	"github.com/vipagent/vipagent/reactions/retry"
)

// HeaderReportID carries the report's stable ID.
const HeaderReportID = "X-Vipagent-Report-Id"

// Delivery defaults.
const (
	// BackoffBase is the delay after the first failed attempt; it doubles
	// with every further failure up to BackoffCap.
	BackoffBase = time.Second
	BackoffCap  = 5 * time.Minute
	// DefaultTimeout bounds one POST when the target sets no timeout.
	DefaultTimeout = 10 * time.Second
	// DefaultInterval is how often Run looks at the outbox when nothing
	// wakes it; finished events and due retries wake it sooner.
	DefaultInterval = 5 * time.Second
	// DefaultMaxAge applies when schedules.report_max_age is not set.
	DefaultMaxAge = 7 * 24 * time.Hour
)

const (
	// maxParallel bounds how many targets are posted to at once.
	maxParallel = 8
	// excerptBytes of a refusing receiver's answer are kept for people.
	excerptBytes = 512
	// drainBytes of an answer are read so the connection can be reused;
	// a longer answer closes it instead.
	drainBytes = 64 << 10
)

// Outbox delivers the journal's pending reports.
type Outbox struct {
	j        *journal.Journal
	cfg      *config.Config
	policy   func(*reactions.Event) []journal.Report
	log      zerolog.Logger
	client   *http.Client
	now      func() time.Time
	rand     func() float64
	interval time.Duration
	maxAge   time.Duration

	// drainMu keeps drains from overlapping, so a report is never posted
	// twice at once.
	drainMu sync.Mutex
	wake    chan struct{}
	// onDelivery is told the result of every delivery attempt (metrics).
	onDelivery atomic.Pointer[func(result string)]
}

// OnDelivery registers f to be told the result of every attempt:
// delivered, retry, rejected or expired.
func (o *Outbox) OnDelivery(f func(result string)) { o.onDelivery.Store(&f) }

// Option tunes New.
type Option func(*Outbox)

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(o *Outbox) { o.now = now } }

// WithRand replaces the jitter source; f returns values in [0, 1).
func WithRand(f func() float64) Option { return func(o *Outbox) { o.rand = f } }

// WithInterval sets how often Run drains when nothing wakes it.
func WithInterval(d time.Duration) Option { return func(o *Outbox) { o.interval = d } }

// New returns an outbox that delivers j's reports to cfg's targets.
func New(j *journal.Journal, cfg *config.Config, logger zerolog.Logger, opts ...Option) *Outbox {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 4
	o := &Outbox{
		j:      j,
		cfg:    cfg,
		policy: Policy(cfg),
		log:    logger.With().Str("component", "report").Logger(),
		client: &http.Client{
			Transport: tr,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
		now:      time.Now,
		rand:     rand.Float64,
		interval: DefaultInterval,
		maxAge:   cfg.Schedules.ReportMaxAge.D(),
		wake:     make(chan struct{}, 1),
	}
	if o.maxAge <= 0 {
		o.maxAge = DefaultMaxAge
	}
	for _, opt := range opts {
		opt(o)
	}
	return o
}

// Close lets go of idle connections to the targets.
func (o *Outbox) Close() { o.client.CloseIdleConnections() }

// Finish commits an event's result together with the reports it produces
// (one transaction), then wakes Run: the reports are deliverable the
// moment the commit returns. After a restart, delivery starts from the
// journal's pending reports. The engine finishes events through it.
func (o *Outbox) Finish(ev *reactions.Event) error {
	rs := o.policy(ev)
	if err := o.j.FinishWithReports(ev, rs); err != nil {
		return err
	}
	if len(rs) > 0 {
		o.notify()
	}
	return nil
}

// notify wakes Run without blocking.
func (o *Outbox) notify() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// Run drains the outbox until ctx ends: at once, whenever reports are
// committed or retried, when the earliest retry is due, and at least every
// interval.
func (o *Outbox) Run(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-o.wake:
		case <-timer.C:
		}
		o.drainMu.Lock()
		_, next, err := o.drain(ctx)
		o.drainMu.Unlock()
		if err != nil && ctx.Err() == nil {
			o.log.Error().Err(err).Msg("drain the report outbox")
		}
		wait := o.interval
		if !next.IsZero() {
			wait = min(wait, max(next.Sub(o.now()), 0))
		}
		timer.Reset(wait)
	}
}

// Drain delivers every due pending report, in order per target: a report
// a target has not taken yet holds back that target's later reports (so
// it sees results in the order they were produced), while other targets
// go on. It returns how many reports were delivered.
func (o *Outbox) Drain(ctx context.Context) (delivered int, err error) {
	o.drainMu.Lock()
	defer o.drainMu.Unlock()
	n, _, err := o.drain(ctx)
	return n, err
}

// drain is Drain; next is when the earliest report held back is due (zero
// when none is).
func (o *Outbox) drain(ctx context.Context) (delivered int, next time.Time, err error) {
	pending, err := o.j.Reports(journal.ReportFilter{State: journal.ReportPending})
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("read pending reports: %w", err)
	}
	var order []string
	queues := map[string][]journal.Report{}
	for _, r := range pending {
		k := queueKey(r)
		if _, ok := queues[k]; !ok {
			order = append(order, k)
		}
		queues[k] = append(queues[k], r)
	}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs []error
		sem  = make(chan struct{}, maxParallel)
	)
	for _, k := range order {
		wg.Add(1)
		sem <- struct{}{}
		go func(q []journal.Report) {
			defer func() { <-sem; wg.Done() }()
			n, due, err := o.deliverQueue(ctx, q)
			mu.Lock()
			defer mu.Unlock()
			delivered += n
			if err != nil {
				errs = append(errs, err)
			}
			if !due.IsZero() && (next.IsZero() || due.Before(next)) {
				next = due
			}
		}(queues[k])
	}
	wg.Wait()
	return delivered, next, errors.Join(errs...)
}

// queueKey names the queue a report waits in: its target, or for
// callbacks the callback URL (each caller's own receiver).
func queueKey(r journal.Report) string {
	if r.Target == CallbackTarget {
		return CallbackTarget + "\x00" + r.URL
	}
	return r.Target
}

// deliverQueue walks one target's reports in order until one is not due
// or stays pending.
func (o *Outbox) deliverQueue(ctx context.Context, q []journal.Report) (delivered int, next time.Time, err error) {
	for _, r := range q {
		now := o.now()
		switch {
		case now.Sub(r.Created) > o.maxAge:
			o.expire(&r, now)
		case r.NextAttempt.After(now):
			return delivered, r.NextAttempt, nil
		default:
			if !o.attempt(ctx, &r) {
				// Stopping is not the target's fault: the attempt is not
				// recorded and the report goes out at the next start.
				return delivered, time.Time{}, ctx.Err()
			}
		}
		if err := o.j.SaveReport(r); err != nil {
			return delivered, time.Time{}, fmt.Errorf("save report %s: %w", r.ID, err)
		}
		if f := o.onDelivery.Load(); f != nil {
			result := r.State
			if result == journal.ReportPending {
				result = "retry"
			}
			(*f)(result)
		}
		switch r.State {
		case journal.ReportDelivered:
			delivered++
		case journal.ReportPending:
			return delivered, r.NextAttempt, nil
		}
	}
	return delivered, time.Time{}, nil
}

func (o *Outbox) expire(r *journal.Report, now time.Time) {
	r.State = journal.ReportExpired
	r.DoneAt = now
	msg := fmt.Sprintf("gave up after %d attempt(s): older than report_max_age %s", r.Attempts, o.maxAge)
	if r.LastError != "" {
		msg += "; last error: " + r.LastError
	}
	r.LastError = msg
	o.log.Error().Str("report_id", r.ID).Str("target", r.Target).Int("attempts", r.Attempts).
		Str("error", msg).Msg("report expired undelivered")
}

// target is where and how a report goes.
type target struct {
	url     string
	headers map[string]string
	secret  string
	timeout time.Duration
}

// targetOf resolves a report's target from the current configuration, so
// a changed URL, header or secret applies to reports still pending.
// Callbacks go to the URL the alarm gave, signed with auth.callback_secret
// when it is set: never with a key this agent accepts, or a receiver could
// sign requests to the agent with it.
func (o *Outbox) targetOf(r journal.Report) (target, bool) {
	if r.Target == CallbackTarget {
		return target{url: r.URL, secret: o.cfg.Auth.CallbackSecret.Value(), timeout: DefaultTimeout}, true
	}
	for _, t := range o.cfg.Reports {
		if t.Name == r.Target {
			tt := target{url: t.URL, headers: t.Headers, secret: t.Secret.Value(), timeout: t.Timeout.D()}
			if tt.timeout <= 0 {
				tt.timeout = DefaultTimeout
			}
			return tt, true
		}
	}
	return target{}, false
}

// attempt posts r once and records the outcome in r. It records nothing,
// and returns false, when ctx ended before an answer came.
func (o *Outbox) attempt(ctx context.Context, r *journal.Report) bool {
	now := o.now()
	log := o.log.With().Str("report_id", r.ID).Str("target", r.Target).Logger()
	t, ok := o.targetOf(*r)
	if !ok {
		r.State, r.DoneAt = journal.ReportRejected, now
		r.LastError = fmt.Sprintf("report target %q is no longer configured (add it back, then retry the report)", r.Target)
		log.Error().Str("error", r.LastError).Msg("report not sent")
		return true
	}
	r.URL = t.url
	safeURL := RedactURL(t.url)
	status, excerpt, retryAfter, err := o.post(ctx, t, r, now)
	if err != nil && ctx.Err() != nil {
		return false
	}
	r.Attempts++
	r.LastStatus = status
	switch {
	case err == nil && status >= 200 && status < 300:
		r.State, r.DoneAt, r.LastError = journal.ReportDelivered, o.now(), ""
		log.Info().Int("status", status).Int("attempts", r.Attempts).Msg("report delivered")
		return true
	case err == nil && status != http.StatusTooManyRequests && status < 500:
		r.State, r.DoneAt = journal.ReportRejected, o.now()
		r.LastError = fmt.Sprintf("rejected by %s with HTTP %d", safeURL, status)
		if status >= 300 && status < 400 {
			r.LastError += " (redirects are not followed: configure the final URL)"
		}
		if excerpt != "" {
			r.LastError += ": " + excerpt
		}
		log.Error().Int("status", status).Str("error", r.LastError).Msg("report rejected; not retried")
		return true
	case err != nil:
		r.LastError = err.Error()
	default:
		r.LastError = fmt.Sprintf("HTTP %d from %s", status, safeURL)
		if excerpt != "" {
			r.LastError += ": " + excerpt
		}
	}
	delay := Backoff(r.Attempts, o.rand())
	if retryAfter > delay {
		delay = min(retryAfter, BackoffCap)
	}
	r.NextAttempt = o.now().Add(delay)
	log.Warn().Int("status", status).Int("attempts", r.Attempts).Str("error", r.LastError).
		Time("next_attempt", r.NextAttempt).Msg("report not delivered; will retry")
	return true
}

// post sends one report. It returns the answer's status, an excerpt of
// its body when it is not a success, and how long the receiver asked us
// to wait (Retry-After); err is a transport failure, with URLs redacted.
func (o *Outbox) post(ctx context.Context, t target, r *journal.Report, now time.Time) (status int, excerpt string, retryAfter time.Duration, err error) {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(r.Body))
	if err != nil {
		return 0, "", 0, fmt.Errorf("post to %s: %w", RedactURL(t.url), redactErr(err))
	}
	// Configured headers first, so they cannot replace the ones that
	// identify and sign the report.
	for k, v := range t.headers {
		req.Header.Set(k, v)
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", version.UserAgent())
	req.Header.Set(HeaderReportID, r.ID)
	req.Header.Set(sign.HeaderTimestamp, ts)
	if t.secret != "" {
		// Over the receiver's method and path too, so that the signature
		// is good for this request only.
		req.Header.Set(sign.HeaderSignature, sign.Sign([]byte(t.secret), ts, req.Method, sign.Target(req.URL), r.Body))
	} else {
		req.Header.Del(sign.HeaderSignature)
	}
	resp, err := o.client.Do(req)
	if err != nil {
		return 0, "", 0, fmt.Errorf("post to %s: %w", RedactURL(t.url), redactErr(err))
	}
	defer func() {
		// Read what is left so the connection can be reused, then close.
		io.Copy(io.Discard, io.LimitReader(resp.Body, drainBytes))
		resp.Body.Close()
	}()
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		head, _ := io.ReadAll(io.LimitReader(resp.Body, excerptBytes))
		excerpt = Excerpt(head)
	}
	return resp.StatusCode, excerpt, parseRetryAfter(resp.Header.Get("Retry-After"), o.now()), nil
}

// Backoff is the delay before the next attempt after attempts failures:
// BackoffBase doubled per earlier failure, capped at BackoffCap, then
// jittered ("equal jitter") to between half and all of it, so receivers
// coming back are not hit by every agent at once. r is in [0, 1).
func Backoff(attempts int, r float64) time.Duration {
	return retry.Backoff{Base: BackoffBase, Cap: BackoffCap, Jitter: true}.Delay(attempts, r)
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// Excerpt makes a receiver's answer fit for a log line: valid UTF-8, no
// control characters, at most 200 characters.
func Excerpt(b []byte) string {
	s := strings.ToValidUTF8(string(b), "?")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "..."
	}
	return s
}

// RedactURL hides what may be a credential in a URL: the user info and
// the query.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	if u.User != nil {
		u.User = url.User("redacted")
	}
	if u.RawQuery != "" {
		u.RawQuery = "redacted"
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}

// redactErr drops the URL net/http puts in its errors; callers name the
// redacted URL themselves.
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Retry makes a pending, rejected or expired report due now. It restarts
// the report's age, so report_max_age counts from the retry.
func (o *Outbox) Retry(id string) (journal.Report, error) {
	r, err := o.j.GetReport(id)
	if err != nil {
		return journal.Report{}, err
	}
	if r.State == journal.ReportDelivered {
		return r, fmt.Errorf("%w: report %s was delivered already", reactions.ErrConflict, id)
	}
	now := o.now()
	r.State, r.NextAttempt, r.Created, r.DoneAt = journal.ReportPending, now, now, time.Time{}
	if err := o.j.SaveReport(r); err != nil {
		return journal.Report{}, fmt.Errorf("retry report %s: %w", id, err)
	}
	o.log.Info().Str("report_id", id).Str("target", r.Target).Msg("report set to be sent again")
	o.notify()
	return r, nil
}

// View is what the API and the CLI show of a report: everything but the
// body, and the URL redacted.
type View struct {
	ID        string    `json:"id"`
	Target    string    `json:"target"`
	URL       string    `json:"url"`
	EventID   string    `json:"event_id"`
	State     string    `json:"state"`
	Created   time.Time `json:"created"`
	BodyBytes int       `json:"body_bytes"`
	Attempts  int       `json:"attempts"`
	// NextAttempt is set for pending reports.
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	LastStatus  int       `json:"last_status,omitempty"`
	LastError   string    `json:"last_error,omitempty"`
	DoneAt      time.Time `json:"done_at,omitzero"`
}

// ViewOf returns r's view.
func ViewOf(r journal.Report) View {
	v := View{
		ID: r.ID, Target: r.Target, URL: RedactURL(r.URL), EventID: r.EventID, State: r.State,
		Created: r.Created, BodyBytes: len(r.Body), Attempts: r.Attempts, LastStatus: r.LastStatus,
		LastError: r.LastError, DoneAt: r.DoneAt,
	}
	if r.State == journal.ReportPending {
		v.NextAttempt = r.NextAttempt
	}
	return v
}

// States are the report states a listing may filter on.
var States = []string{journal.ReportPending, journal.ReportDelivered, journal.ReportRejected, journal.ReportExpired}

// Page returns one page of reports, newest first: up to limit, only
// those in state when it is set, from where an earlier page's next
// stopped; next is "" when the listing is complete.
func (o *Outbox) Page(state string, limit int, cursor string) (views []View, next string, err error) {
	if state != "" && !validState(state) {
		return nil, "", reactions.Invalid("state: must be one of %s", strings.Join(States, ", "))
	}
	rs, next, err := o.j.ReportPage(state, limit, cursor)
	if err != nil {
		return nil, "", fmt.Errorf("list reports: %w", err)
	}
	views = make([]View, 0, len(rs))
	for _, r := range rs {
		views = append(views, ViewOf(r))
	}
	return views, next, nil
}

func validState(s string) bool {
	for _, st := range States {
		if s == st {
			return true
		}
	}
	return false
}
