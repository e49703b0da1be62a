package journal

import (
	"bytes"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/vipagent/vipagent/reactions"
)

// indexKey is where ev's idempotency key is indexed: the key itself for
// alarms without a sender (as journals have always stored them), and the
// key behind its scope (reactions.Event.KeyScope: door and sender)
// otherwise. CheckKey refuses control characters in keys, so a caller
// cannot write a key that looks scoped.
func indexKey(ev *reactions.Event) []byte { return scopedKey(ev.KeyScope(), ev.Key) }

func scopedKey(scope, key string) []byte {
	if scope == "" {
		return []byte(key)
	}
	return []byte("\x00" + scope + "\x00" + key)
}

// deleteKey removes ev's key from the index, also where a journal written
// before scopes indexed it bare (only when it still names ev: the bare key
// may be an alarm's now).
func deleteKey(keys *bolt.Bucket, ev *reactions.Event) error {
	if ev.Key == "" {
		return nil
	}
	if err := keys.Delete(indexKey(ev)); err != nil {
		return err
	}
	if bare := []byte(ev.Key); string(keys.Get(bare)) == ev.ID {
		return keys.Delete(bare)
	}
	return nil
}

// keyed is the event already stored under ev's idempotency key in ev's
// scope, or nil. Entries from journals written before senders were
// recorded (the door's scope alone) and before scopes (the bare key, for
// every door) are looked at too: an event without a sender belongs to
// every sender of its door, so a repeat after an upgrade is still answered
// from the journal.
func keyed(tx *bolt.Tx, ev *reactions.Event) (*reactions.Event, error) {
	if ev.Key == "" {
		return nil, nil
	}
	keys := tx.Bucket(bucketKeys)
	door := ev.DoorScope()
	for _, k := range [][]byte{indexKey(ev), scopedKey(door, ev.Key), []byte(ev.Key)} {
		id := keys.Get(k)
		if id == nil {
			continue
		}
		prev, err := getEvent(tx, string(id))
		if err != nil {
			return nil, err
		}
		if prev.DoorScope() == door && (prev.Sender == ev.Sender || prev.Sender == "") {
			return prev, nil
		}
	}
	return nil, nil
}

// keyConflict is the error for a key sent again with another request.
func keyConflict(ev, prev *reactions.Event) error {
	return fmt.Errorf("%w: id %q already names event %s (condition %q), a different request; a repeat must carry the same alarm, and a new alarm a new id",
		reactions.ErrConflict, ev.Key, prev.ID, prev.Alarm.Condition)
}

// putKey indexes ev under its key. A bare entry that a journal written
// before scopes left for another scope's event (an alarm taking the key of
// an old VIP action) is first moved behind that event's scope, so that a
// repeat of the older event is still answered from the journal.
func putKey(tx *bolt.Tx, ev *reactions.Event) error {
	keys := tx.Bucket(bucketKeys)
	k := indexKey(ev)
	if id := keys.Get(k); id != nil && ev.KeyScope() == "" {
		prev, err := getEvent(tx, string(id))
		if err != nil {
			return err
		}
		if prev.KeyScope() != "" {
			if err := keys.Put(indexKey(prev), bytes.Clone(id)); err != nil {
				return err
			}
		}
	}
	return keys.Put(k, []byte(ev.ID))
}
