#!/bin/sh
# Copies the vipagent binary and its wrapper scripts into the install
# directory of an RM host (default /opt/vipagent; set genesys.install_dir to
# the same). An existing vipagent.yaml is never overwritten; CONFIG, when
# given and none exists yet, is copied as vipagent.yaml, the name the
# wrappers pass to vipagent.
#
# With --systemd it also writes /etc/systemd/system/vipagent.service, for
# hosts where LCA does not start the agent. Do not use both: on a Genesys
# host register the agent as a Third Party Server (GUIDE.md) instead.
#
# usage: install-linux.sh [--systemd] [-d DIR] BINARY [CONFIG]
set -eu

dir=/opt/vipagent
systemd=no
while [ $# -gt 0 ]; do
	case $1 in
	--systemd) systemd=yes; shift ;;
	-d) dir=$2; shift 2 ;;
	-*) echo "usage: $0 [--systemd] [-d DIR] BINARY [CONFIG]" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || { echo "usage: $0 [--systemd] [-d DIR] BINARY [CONFIG]" >&2; exit 2; }
here=$(dirname "$0")

install -d -m 0755 "$dir"
install -m 0755 "$1" "$dir/vipagent"
for w in IPTakeOver.sh INIT_IPTakeOver.sh NLB.sh INIT.sh; do
	install -m 0755 "$here/$w" "$dir/$w"
done
if [ $# -ge 2 ] && [ ! -e "$dir/vipagent.yaml" ]; then
	install -m 0600 "$2" "$dir/vipagent.yaml"
fi

if [ "$systemd" = yes ]; then
	cat >/etc/systemd/system/vipagent.service <<UNIT
[Unit]
Description=vipagent: moves the Genesys RM virtual IP
After=network-online.target
Wants=network-online.target

[Service]
WorkingDirectory=$dir
ExecStart=$dir/vipagent serve --config $dir/vipagent.yaml
Restart=always

[Install]
WantedBy=multi-user.target
UNIT
	systemctl daemon-reload
	echo "wrote /etc/systemd/system/vipagent.service; start it with: systemctl enable --now vipagent"
fi

exec "$dir/vipagent" config check --config "$dir/vipagent.yaml"
