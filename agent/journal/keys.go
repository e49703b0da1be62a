package journal

import (
	"bytes"

	bolt "go.etcd.io/bbolt"

	"github.com/vipagent/vipagent/reactions"
)

// indexKey is where ev's idempotency key is indexed: the key itself for
// alarms (as journals have always stored them), and the key behind its
// scope (reactions.Event.KeyScope) for the other doors. CheckKey refuses
// control characters in keys, so a caller cannot write a key that looks
// scoped.
func indexKey(ev *reactions.Event) []byte {
	scope := ev.KeyScope()
	if scope == "" {
		return []byte(ev.Key)
	}
	return []byte("\x00" + scope + "\x00" + ev.Key)
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
// scope, or nil. A journal written before scopes indexed every key bare: a
// bare entry counts only when the event it names is in ev's scope.
func keyed(tx *bolt.Tx, ev *reactions.Event) (*reactions.Event, error) {
	if ev.Key == "" {
		return nil, nil
	}
	keys := tx.Bucket(bucketKeys)
	for _, k := range [][]byte{indexKey(ev), []byte(ev.Key)} {
		id := keys.Get(k)
		if id == nil {
			continue
		}
		prev, err := getEvent(tx, string(id))
		if err != nil || prev.KeyScope() == ev.KeyScope() {
			return prev, err
		}
	}
	return nil, nil
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
