//go:build unix

package localchan

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
)

// privileged: root and the agent's own account.
func privileged(p Peer) bool { return p.UID == 0 || p.UID == uint32(os.Geteuid()) }

func describePeer(p Peer, names []string) string {
	if len(names) > 1 {
		return fmt.Sprintf("user %s (uid %d)", names[1], p.UID)
	}
	return fmt.Sprintf("uid %d", p.UID)
}

// accountOf is the peer's user, by number and by name, and its groups,
// likewise: the primary group the kernel reported and the supplementary
// ones of the group database.
func accountOf(p Peer) (names []string, groups []string) {
	names = []string{strconv.FormatUint(uint64(p.UID), 10)}
	groups = []string{strconv.FormatUint(uint64(p.GID), 10)}
	if g, err := user.LookupGroupId(groups[0]); err == nil {
		groups = append(groups, g.Name)
	}
	u, err := user.LookupId(strconv.FormatUint(uint64(p.UID), 10))
	if err != nil {
		return names, groups
	}
	ids, _ := u.GroupIds()
	for _, id := range ids {
		groups = append(groups, id)
		if g, err := user.LookupGroupId(id); err == nil {
			groups = append(groups, g.Name)
		}
	}
	return append(names, u.Username), groups
}
