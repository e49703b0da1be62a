//go:build unix

package localchan

import (
	"os/user"
	"strconv"
)

// accountOf is the peer's user name and its groups, by name and by number:
// the primary group the kernel reported and the supplementary ones of the
// group database.
func accountOf(p Peer) (name string, groups []string) {
	groups = []string{strconv.FormatUint(uint64(p.GID), 10)}
	if g, err := user.LookupGroupId(groups[0]); err == nil {
		groups = append(groups, g.Name)
	}
	u, err := user.LookupId(strconv.FormatUint(uint64(p.UID), 10))
	if err != nil {
		return "", groups
	}
	ids, _ := u.GroupIds()
	for _, id := range ids {
		groups = append(groups, id)
		if g, err := user.LookupGroupId(id); err == nil {
			groups = append(groups, g.Name)
		}
	}
	return u.Username, groups
}
