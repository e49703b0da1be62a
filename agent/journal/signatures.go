package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The anti-replay memory: every signed request's signature, kept until its
// timestamp leaves the allowed clock skew. It lives in the journal so that
// a restart does not forget it (a captured request replayed after a restart
// is refused too). Its buckets are created by the first write, so journals
// written before them need no migration.
const (
	// BucketSignatures maps a signature to its expiry (Unix ns, big endian).
	BucketSignatures = "signatures"
	// BucketSignatureExpiry indexes them by expiry: expiry + signature -> nothing.
	BucketSignatureExpiry = "signature_expiry"
	// BucketSignatureFloor holds, under one key, the time (Unix ns, big
	// endian) of a salvage that could not read the whole memory: a
	// signature made before it may have been used and forgotten, so none
	// is accepted.
	BucketSignatureFloor = "signature_floor"
)

var (
	bucketSigs       = []byte(BucketSignatures)
	bucketSigsExpiry = []byte(BucketSignatureExpiry)
	bucketSigFloor   = []byte(BucketSignatureFloor)
	keyFloor         = []byte("before")
)

// ErrSignedBeforeRecovery is RememberSignature's answer for a request
// signed before a recovery that may have lost the anti-replay memory: it
// cannot be told from a replay. The sender must sign it again.
var ErrSignedBeforeRecovery = errors.New("signed before the journal was recovered, when it may have been used already")

// RememberSignature records sig, on a request signed at at, as used until
// until, in one durable commit, and reports whether it was new: false means
// the same signature was already used and has not expired, so the request
// is a replay. A request signed before a recovery that lost part of the
// memory is refused with ErrSignedBeforeRecovery. Signatures expired by now
// are pruned in the same transaction, oldest first, so the memory holds
// only what the skew window can still accept.
func (j *Journal) RememberSignature(sig string, at, until time.Time) (fresh bool, err error) {
	now := j.now()
	var floor time.Time
	err = j.group(func(tx *bolt.Tx) error {
		fresh = false
		if floor = signatureFloor(tx); !at.After(floor) {
			return nil
		}
		sigs, err := tx.CreateBucketIfNotExists(bucketSigs)
		if err != nil {
			return err
		}
		byExpiry, err := tx.CreateBucketIfNotExists(bucketSigsExpiry)
		if err != nil {
			return err
		}
		if err := pruneSignatures(sigs, byExpiry, now); err != nil {
			return err
		}
		key := []byte(sig)
		if sigs.Get(key) != nil {
			return nil
		}
		exp := expiryKey(until)
		if err := sigs.Put(key, exp); err != nil {
			return err
		}
		fresh = true
		return byExpiry.Put(append(exp, key...), nil)
	})
	if err == nil && !at.After(floor) {
		return false, fmt.Errorf("%w (at %s)", ErrSignedBeforeRecovery, floor.UTC().Format(time.RFC3339))
	}
	return fresh, err
}

// signatureFloor is the time before which no signature is accepted; the
// zero time when no recovery set one.
func signatureFloor(tx *bolt.Tx) time.Time {
	if b := tx.Bucket(bucketSigFloor); b != nil {
		if v := b.Get(keyFloor); len(v) == 8 {
			return time.Unix(0, int64(binary.BigEndian.Uint64(v)))
		}
	}
	return time.Time{}
}

// pruneSignatures deletes every signature that expired before now.
func pruneSignatures(sigs, byExpiry *bolt.Bucket, now time.Time) error {
	limit := expiryKey(now)
	c := byExpiry.Cursor()
	for k, _ := c.First(); len(k) >= 8 && string(k[:8]) < string(limit); k, _ = c.First() {
		if err := sigs.Delete(k[8:]); err != nil {
			return err
		}
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// PruneSignatures forgets the signatures that have expired; the scheduled
// prune calls it, so that the memory shrinks when no signed requests come.
func (j *Journal) PruneSignatures() error {
	now := j.now()
	return j.group(func(tx *bolt.Tx) error {
		sigs, byExpiry := tx.Bucket(bucketSigs), tx.Bucket(bucketSigsExpiry)
		if sigs == nil || byExpiry == nil {
			return nil
		}
		return pruneSignatures(sigs, byExpiry, now)
	})
}

// SignatureCount is how many signatures the anti-replay memory holds.
func (j *Journal) SignatureCount() (int, error) {
	n := 0
	err := j.view(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketSigs); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	})
	return n, err
}

func expiryKey(t time.Time) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), uint64(max(t.UnixNano(), 0)))
}
