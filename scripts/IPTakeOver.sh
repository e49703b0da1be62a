#!/bin/sh
# Linux twin of IPTakeOver.bat: set RM's [cluster] failoverscript to this
# file. RM calls it with "enable|disable MEMBERID"; vipagent does the work
# with vipagent.yaml from this directory and exits 0 or 1.
exec "$(dirname "$0")/vipagent" failover --config "$(dirname "$0")/vipagent.yaml" "$@"
