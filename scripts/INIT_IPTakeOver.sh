#!/bin/sh
# Linux twin of INIT_IPTakeOver.bat: run by hand on both RM hosts before the
# first start of the pair; removes the VIP from this host.
exec "$(dirname "$0")/vipagent" failover --config "$(dirname "$0")/vipagent.yaml" disable "$@"
