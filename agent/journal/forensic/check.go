package forensic

import (
	"encoding/json"
	"time"

	"github.com/vipagent/vipagent/agent/journal"
	"github.com/vipagent/vipagent/reactions"
)

// CheckReport is what Check found in a journal file. The counts are of
// what could be read; in a damaged file that may be less than it held.
type CheckReport struct {
	Path     string `json:"path"`
	Bytes    int64  `json:"bytes"`
	PageSize int    `json:"page_size,omitempty"`
	// Pages is the number of pages in use, by the meta page in use.
	Pages uint64 `json:"pages,omitempty"`
	TxID  uint64 `json:"txid,omitempty"`

	Events         int `json:"events"`
	Unfinished     int `json:"unfinished"`
	Results        int `json:"results"`
	Reports        int `json:"reports"`
	PendingReports int `json:"pending_reports"`
	Keys           int `json:"keys"`
	LastActions    int `json:"last_actions"`

	// Problems lists the damage, with the page and offset where known.
	Problems []journal.Problem `json:"problems,omitempty"`
	// MoreProblems counts problems beyond those listed.
	MoreProblems int `json:"more_problems,omitempty"`
}

// Clean reports whether no damage was found.
func (r CheckReport) Clean() bool { return len(r.Problems) == 0 }

// Check verifies the journal at path without modifying it: it opens the
// file read-only, under bbolt's shared lock, reads every page of the tree
// and every record, then runs bbolt's consistency check. Outcomes, which
// `vipagent journal check` maps to its exit code:
//   - nil error: the journal is clean;
//   - an error matching journal.ErrDamaged (a *journal.DamageError): the
//     journal is damaged, and the report lists what and where;
//   - any other error: the file could not be read (missing, permissions,
//     a directory, or journal.ErrLocked while an agent holds it).
func Check(path string) (CheckReport, error) {
	rep := CheckReport{Path: path}
	in, err := inspect(path, time.Second, func(bucket string, _ uint64, _, v []byte) { rep.count(bucket, v) })
	if err != nil {
		return rep, err
	}
	rep.Bytes, rep.PageSize = in.pf.size, in.pf.pageSize
	if in.meta != nil {
		rep.Pages, rep.TxID = in.meta.hwm, in.meta.txid
	}
	rep.Problems, rep.MoreProblems = in.problems, in.more
	return rep, in.damage(path)
}

func (r *CheckReport) count(bucket string, v []byte) {
	switch bucket {
	case journal.BucketEvents:
		var ev struct {
			Status reactions.Status `json:"status"`
			Result json.RawMessage  `json:"result"`
		}
		if json.Unmarshal(v, &ev) != nil {
			return
		}
		r.Events++
		if !ev.Status.Final() {
			r.Unfinished++
		}
		if len(ev.Result) > 0 && string(ev.Result) != "null" {
			r.Results++
		}
	case journal.BucketOutbox:
		var rep struct {
			State string `json:"state"`
		}
		if json.Unmarshal(v, &rep) != nil {
			return
		}
		r.Reports++
		if rep.State == journal.ReportPending {
			r.PendingReports++
		}
	case journal.BucketKeys:
		r.Keys++
	case journal.BucketVIPs:
		r.LastActions++
	}
}
