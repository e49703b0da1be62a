package journal

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/vipagent/vipagent/reactions"
)

// Contents are the records of a journal, as a salvage of a damaged file
// found them, for Restore to write into a new file. Records are as
// journaled, so that what a newer agent wrote survives a salvage by an
// older one; the indexes are not among them: Restore rebuilds them.
type Contents struct {
	// Events are reactions.Event JSON by sequence number; Reports are
	// Report JSON by outbox sequence number. Each must decode and carry
	// its ID.
	Events, Reports map[uint64][]byte
	// EventSequence and ReportSequence are the numbers the old file had
	// given last; numbering goes on after them, or after the highest
	// record if that is higher.
	EventSequence, ReportSequence uint64
	// LastActions are LastAction JSON, and Intents reactions.VIPIntent
	// JSON, by VIP name.
	LastActions, Intents map[string][]byte
	// Signatures is the anti-replay memory: signature -> expiry (Unix ns).
	Signatures map[string]uint64
	// SignatureFloor, if not 0, is the time (Unix ns) before which no
	// signed request is accepted (see RememberSignature).
	SignatureFloor uint64
}

// Restore writes c as a new journal file at path, which must not exist
// (os.ErrExist), rebuilding the indexes (event IDs, idempotency keys,
// report IDs) from the records, so that the new journal is consistent. The
// file is written beside path and renamed into place once complete; on an
// error nothing is left at path.
func Restore(path string, c *Contents) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	tmp := path + ".salvage-tmp"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	db, err := openBolt(tmp, time.Second)
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	err = db.Update(c.fill)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		if _, serr := os.Lstat(path); serr == nil {
			err = os.ErrExist
		}
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	syncDir(filepath.Dir(path))
	return nil
}

// fill writes the records and rebuilds the indexes.
func (c *Contents) fill(tx *bolt.Tx) error {
	if err := createBuckets(tx); err != nil {
		return err
	}
	events, ids, keys := tx.Bucket(bucketEvents), tx.Bucket(bucketIDs), tx.Bucket(bucketKeys)
	seq := c.EventSequence
	for _, k := range slices.Sorted(maps.Keys(c.Events)) {
		var ev reactions.Event
		if err := json.Unmarshal(c.Events[k], &ev); err != nil || ev.ID == "" {
			return fmt.Errorf("event %d: not an event (%v)", k, err)
		}
		seq = max(seq, k)
		if err := events.Put(u64(k), c.Events[k]); err != nil {
			return err
		}
		if err := ids.Put([]byte(ev.ID), u64(k)); err != nil {
			return err
		}
		if ev.Key != "" {
			if err := keys.Put(indexKey(&ev), []byte(ev.ID)); err != nil {
				return err
			}
		}
	}
	if err := events.SetSequence(seq); err != nil {
		return err
	}
	outbox, rids := tx.Bucket(bucketOutbox), tx.Bucket(bucketRIDs)
	seq = c.ReportSequence
	for _, k := range slices.Sorted(maps.Keys(c.Reports)) {
		var r Report
		if err := json.Unmarshal(c.Reports[k], &r); err != nil || r.ID == "" {
			return fmt.Errorf("report %d: not a report (%v)", k, err)
		}
		seq = max(seq, k)
		if err := outbox.Put(u64(k), c.Reports[k]); err != nil {
			return err
		}
		if err := rids.Put([]byte(r.ID), u64(k)); err != nil {
			return err
		}
	}
	if err := outbox.SetSequence(seq); err != nil {
		return err
	}
	for name, v := range c.LastActions {
		if err := tx.Bucket(bucketVIPs).Put([]byte(name), v); err != nil {
			return err
		}
	}
	for name, v := range c.Intents {
		if err := tx.Bucket(bucketIntent).Put([]byte(name), v); err != nil {
			return err
		}
	}
	return c.fillSignatures(tx)
}

// fillSignatures writes the anti-replay memory, its expiry index and the
// floor.
func (c *Contents) fillSignatures(tx *bolt.Tx) error {
	sigs, byExpiry := tx.Bucket(bucketSigs), tx.Bucket(bucketSigsExpiry)
	for sig, exp := range c.Signatures {
		v := binary.BigEndian.AppendUint64(nil, exp)
		if err := sigs.Put([]byte(sig), v); err != nil {
			return err
		}
		if err := byExpiry.Put(append(binary.BigEndian.AppendUint64(nil, exp), sig...), nil); err != nil {
			return err
		}
	}
	if c.SignatureFloor == 0 {
		return nil
	}
	return tx.Bucket(bucketSigFloor).Put(keyFloor, binary.BigEndian.AppendUint64(nil, c.SignatureFloor))
}

// syncDir makes a rename durable; it is best effort (not possible on
// every system).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
