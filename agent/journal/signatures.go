package journal

import (
	"encoding/binary"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The anti-replay memory: every signed request's signature, kept until its
// timestamp leaves the allowed clock skew. It lives in the journal so that
// a restart does not forget it (a captured request replayed after a restart
// is refused too). Its buckets are created by the first write, so journals
// written before them need no migration.
var (
	bucketSigs       = []byte("signatures")       // signature -> expiry (Unix ns, big endian)
	bucketSigsExpiry = []byte("signature_expiry") // expiry (Unix ns, big endian) + signature -> nothing
)

// RememberSignature records sig as used until until, in one durable commit,
// and reports whether it was new: false means the same signature was
// already used and has not expired, so the request is a replay. Signatures
// expired by now are pruned in the same transaction, oldest first, so the
// memory holds only what the skew window can still accept.
func (j *Journal) RememberSignature(sig string, until time.Time) (fresh bool, err error) {
	now := j.now()
	err = j.group(func(tx *bolt.Tx) error {
		fresh = false
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
	return fresh, err
}

// pruneSignatures deletes every signature that expired before now.
func pruneSignatures(sigs, byExpiry *bolt.Bucket, now time.Time) error {
	limit := expiryKey(now)
	c := byExpiry.Cursor()
	for k, _ := c.First(); k != nil && len(k) >= 8 && string(k[:8]) < string(limit); k, _ = c.First() {
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
	err := j.db.View(func(tx *bolt.Tx) error {
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
