package forensic

import (
	"bytes"
	"encoding/binary"

	"github.com/vipagent/vipagent/agent/journal"
)

// Salvage of the anti-replay memory. Losing it would let a request captured
// before the damage be replayed after the recovery, within the skew window:
// so every signature found is copied (expired ones are pruned later), and
// when the memory may be incomplete (a damaged meta page, root page or
// signature page, or records found only by scanning) a floor is set at the
// salvage time, before which no signature is accepted.

// addSignature takes a record of the signature buckets.
func (s *salvager) addSignature(bucket string, k, v []byte) {
	switch {
	case bucket == journal.BucketSignatures && len(v) == 8:
		s.sigs[string(k)] = v
	case bucket == journal.BucketSignatureFloor && journal.CheckRecord(bucket, k, v) == nil:
		s.floor = max(s.floor, binary.BigEndian.Uint64(v))
	}
}

// isSignature tells a signature record found by scanning: the header's
// value as sent ("sha256=" and hex) and an 8-byte expiry.
func isSignature(k, v []byte) bool {
	return len(v) == 8 && bytes.HasPrefix(k, []byte("sha256="))
}

// signatureProblem tells whether a problem may hide part of the memory:
// damage outside any bucket's pages, or in the signatures' own.
func signatureProblem(p journal.Problem) bool {
	switch p.Bucket {
	case "", journal.BucketSignatures, journal.BucketSignatureExpiry, journal.BucketSignatureFloor:
		return true
	}
	return false
}
