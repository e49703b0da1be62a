package localchan

// accountOf has nothing to look up until the named pipe names its caller.
func accountOf(p Peer) (name string, groups []string) { return "", nil }
