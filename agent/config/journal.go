package config

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Journal bounds the journal file.
type Journal struct {
	// MaxBytes is the journal file's byte budget. When the live data
	// passes three quarters of it, the oldest finished events (those with
	// no report still to deliver) are pruned until it is back under half,
	// and the file is compacted so that the space returns to the file
	// system. 0 takes the default.
	MaxBytes ByteSize `yaml:"max_bytes"`
}

// DefaultJournalMaxBytes is journal.max_bytes' default: 256 MiB. A
// finished ordinary event (an alarm with a short text, two labels and a
// two-step result, with its ID and key indexes) takes 2.3 KiB of live data
// in the file, one carrying the most caller data allowed (8 KiB) 10.5 KiB
// (measured with agent/journal's budget test). Size pruning starts at
// 192 MiB: about 85,000 ordinary events, nine months at 300 alarms a day,
// well past the 30-day prune_age and close to prune_keep's 100,000; a
// flood of maximal events is pruned after about 18,000 of them.
const DefaultJournalMaxBytes = 256 << 20

// minJournalMaxBytes keeps a budget from being smaller than a handful of
// bbolt's growth steps.
const minJournalMaxBytes = 1 << 20

// JournalMaxBytes is the effective journal.max_bytes.
func (c *Config) JournalMaxBytes() int64 {
	if c.Journal.MaxBytes == 0 {
		return DefaultJournalMaxBytes
	}
	return int64(c.Journal.MaxBytes)
}

func (c *Config) validateJournal(p *Problems) {
	if c.Journal.MaxBytes != 0 && c.Journal.MaxBytes < minJournalMaxBytes {
		p.add("journal.max_bytes", "must be at least 1MiB")
	}
}

// ByteSize is a size in bytes written as 268435456, "256MiB", "64KiB" or
// "1GiB" in YAML.
type ByteSize int64

func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return fmt.Errorf("expected a size such as \"256MiB\"")
	}
	v, err := parseByteSize(s)
	if err != nil {
		return err
	}
	*b = ByteSize(v)
	return nil
}

func (b ByteSize) MarshalYAML() (any, error) { return strconv.FormatInt(int64(b), 10), nil }

func parseByteSize(s string) (int64, error) {
	num, shift := strings.TrimSpace(s), 0
	for _, u := range []struct {
		suffix string
		shift  int
	}{{"KiB", 10}, {"MiB", 20}, {"GiB", 30}} {
		if strings.HasSuffix(num, u.suffix) {
			num, shift = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.shift
			break
		}
	}
	v, err := strconv.ParseInt(num, 10, 64)
	if err != nil || v < 0 || v > (1<<40)>>shift {
		return 0, fmt.Errorf("%q is not a size (try \"256MiB\")", s)
	}
	return v << shift, nil
}
