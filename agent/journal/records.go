package journal

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/vipagent/vipagent/reactions"
)

// IsBucket reports whether name is one of the journal file's buckets.
func IsBucket(name []byte) bool {
	return slices.ContainsFunc(allBuckets, func(b []byte) bool { return bytes.Equal(b, name) })
}

// CheckRecord verifies one record of the journal file's buckets, as a
// reader of the file itself finds it: the shape of its key and that its
// value decodes, as far as the store relies on it (what a start reads must
// decode, or the start would fail on it). Unknown buckets are damage too.
func CheckRecord(bucket string, k, v []byte) error {
	switch bucket {
	case BucketEvents, BucketOutbox:
		if len(k) != 8 {
			return fmt.Errorf("key %s is not a sequence number", QuoteKey(k))
		}
		if !json.Valid(v) {
			return fmt.Errorf("record %d is not valid JSON", binary.BigEndian.Uint64(k))
		}
		if err := decodesForStart(bucket, v); err != nil {
			return fmt.Errorf("record %d: %w", binary.BigEndian.Uint64(k), err)
		}
	case BucketVIPs, BucketIntents:
		if !json.Valid(v) {
			return fmt.Errorf("record %s is not valid JSON", QuoteKey(k))
		}
	case BucketIDs, BucketReports:
		if len(v) != 8 {
			return fmt.Errorf("value of %s is not a sequence number", QuoteKey(k))
		}
	case BucketKeys:
		if len(v) == 0 {
			return fmt.Errorf("key %s names no event", QuoteKey(k))
		}
	case BucketSignatures:
		if len(v) != 8 {
			return fmt.Errorf("signature %s has no expiry", QuoteKey(k))
		}
	case BucketSignatureFloor:
		if !bytes.Equal(k, keyFloor) || len(v) != 8 {
			return fmt.Errorf("floor %s is not a time", QuoteKey(k))
		}
	case BucketSignatureExpiry:
		if len(k) < 8 {
			return fmt.Errorf("expiry key %s is too short", QuoteKey(k))
		}
	default:
		return errors.New("not a journal bucket")
	}
	return nil
}

// decodesForStart decodes the records Unfinished and PendingReports return,
// chosen by the same byte checks they make.
func decodesForStart(bucket string, v []byte) error {
	if bucket == BucketEvents && (bytes.Contains(v, []byte(`"status":"accepted"`)) || bytes.Contains(v, []byte(`"status":"running"`))) {
		var ev reactions.Event
		return json.Unmarshal(v, &ev)
	}
	if bucket == BucketOutbox && bytes.Contains(v, []byte(`"state":"`+ReportPending+`"`)) {
		var r Report
		return json.Unmarshal(v, &r)
	}
	return nil
}

// QuoteKey shows a key of the file as text when it is printable, quoted
// otherwise.
func QuoteKey(k []byte) string {
	if utf8.Valid(k) && !bytes.ContainsFunc(k, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return string(k)
	}
	return strconv.Quote(string(k))
}
