// Package sign is vipagent's request signature: HMAC-SHA256 over a Unix
// timestamp and the body. The API checks it on signed webhooks and the
// report outbox puts it on every report it sends, so both sides share one
// definition without the reporter depending on the API.
package sign

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// Headers that carry the signature.
const (
	HeaderTimestamp = "X-Vipagent-Timestamp"
	HeaderSignature = "X-Vipagent-Signature"
)

// Sign returns the signature header value for body at ts (Unix seconds):
// "sha256=" + hex(HMAC-SHA256(secret, ts + "." + body)).
func Sign(secret []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}
