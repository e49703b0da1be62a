// Package sign is vipagent's request signature: HMAC-SHA256 over a Unix
// timestamp, the request's method, its path and query, and its body. The
// API checks it on signed webhooks and the report outbox puts it on every
// report and callback it sends, so both sides share one definition without
// the reporter depending on the API.
//
// Binding the method and the request target into the signature is what
// keeps a signature made for one request (a report to a receiver, an alarm
// to /v1/alarms) from authorising another (a replay of an old event).
package sign

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Headers that carry the signature.
const (
	HeaderTimestamp = "X-Vipagent-Timestamp"
	HeaderSignature = "X-Vipagent-Signature"
)

// prefix starts every signature header value.
const prefix = "sha256="

// Payload is the text that is signed:
// "<timestamp>.<METHOD>.<path>[?<raw query>].<body>".
func Payload(ts, method, target string, body []byte) []byte {
	p := make([]byte, 0, len(ts)+len(method)+len(target)+len(body)+3)
	p = append(p, ts...)
	p = append(p, '.')
	p = append(p, method...)
	p = append(p, '.')
	p = append(p, target...)
	p = append(p, '.')
	return append(p, body...)
}

// Sign returns the signature header value for a request at ts (Unix
// seconds): "sha256=" + hex(HMAC-SHA256(secret, Payload(...))). target is
// the request's path and raw query as sent (see Target).
func Sign(secret []byte, ts, method, target string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(Payload(ts, method, target, body))
	return prefix + hex.EncodeToString(m.Sum(nil))
}

// Target is the part of u a signature covers: its path, escaped as sent,
// and "?" and the raw query when there is one ("/" for an empty path).
func Target(u *url.URL) string { return u.RequestURI() }

// Errors of Verify; each is wrapped with the details.
var (
	ErrMalformed = errors.New("malformed signature headers")
	ErrStale     = errors.New("stale or future timestamp")
	ErrMismatch  = errors.New("bad signature")
)

// Verify checks a signed request's headers: ts must be Unix seconds within
// skew of now, and sig the signature of this method, target and body. It
// returns the time the timestamp names. The comparison is constant-time.
func Verify(secret []byte, ts, sig, method, target string, body []byte, now time.Time, skew time.Duration) (time.Time, error) {
	at, got, err := parseHeaders(ts, sig, now, skew)
	if err != nil {
		return time.Time{}, err
	}
	m := hmac.New(sha256.New, secret)
	m.Write(Payload(ts, method, target, body))
	if !hmac.Equal(got, m.Sum(nil)) {
		return time.Time{}, fmt.Errorf("%w: not the HMAC-SHA256 of %q with the shared secret", ErrMismatch, string(Payload(ts, method, target, nil))+"<body>")
	}
	return at, nil
}

// CheckHeaders checks what can be checked of a signed request before its
// body is read: the timestamp's format and window, and the signature's
// format. A server calls it first, so that a request that can never verify
// costs it no body read.
func CheckHeaders(ts, sig string, now time.Time, skew time.Duration) error {
	_, _, err := parseHeaders(ts, sig, now, skew)
	return err
}

func parseHeaders(ts, sig string, now time.Time, skew time.Duration) (time.Time, []byte, error) {
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || ts != strconv.FormatInt(sec, 10) {
		return time.Time{}, nil, fmt.Errorf("%w: %s must be Unix seconds", ErrMalformed, HeaderTimestamp)
	}
	hexSig, ok := strings.CutPrefix(sig, prefix)
	if !ok {
		return time.Time{}, nil, fmt.Errorf("%w: %s must be %s<hex>", ErrMalformed, HeaderSignature, prefix)
	}
	got, err := hex.DecodeString(hexSig)
	// Lowercase only: one request has one signature, so the anti-replay
	// memory cannot be walked around by changing the case of its digits.
	if err != nil || len(got) != sha256.Size || hexSig != hex.EncodeToString(got) {
		return time.Time{}, nil, fmt.Errorf("%w: %s must be %s and %d lowercase hex digits", ErrMalformed, HeaderSignature, prefix, 2*sha256.Size)
	}
	at := time.Unix(sec, 0)
	if age := now.Sub(at); age > skew || age < -skew {
		return time.Time{}, nil, fmt.Errorf("%w (allowed skew %s)", ErrStale, skew)
	}
	return at, got, nil
}
