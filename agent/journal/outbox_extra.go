package journal

import (
	"bytes"
	"encoding/json"

	bolt "go.etcd.io/bbolt"
)

// PendingReports returns the reports still to deliver, in the order they
// were produced. Delivered and rejected reports stay in the outbox until
// pruned; a cheap byte check skips decoding them, so a drain costs little
// however many reports were delivered before.
func (j *Journal) PendingReports() ([]Report, error) {
	var out []Report
	needle := []byte(`"state":"` + ReportPending + `"`)
	err := j.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketOutbox).ForEach(func(_, v []byte) error {
			if !bytes.Contains(v, needle) {
				return nil
			}
			var r Report
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			if r.State == ReportPending {
				out = append(out, r)
			}
			return nil
		})
	})
	return out, err
}

// LatestReports returns up to limit reports (all when limit <= 0), newest
// first, only those in state when it is set.
func (j *Journal) LatestReports(state string, limit int) ([]Report, error) {
	var out []Report
	err := j.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketOutbox).Cursor()
		for k, v := c.Last(); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Prev() {
			var r Report
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			if state != "" && r.State != state {
				continue
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}
