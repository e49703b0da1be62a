#!/bin/sh
# Copies the vipagent binary and its wrapper scripts into the install
# directory of an RM host (default /opt/vipagent; set genesys.install_dir to
# the same). The binary is installed as NAME (default vipagent; set
# genesys.executable to the same). The wrappers come from WRAPPERS: the
# directory `vipagent genesys --out` wrote them to, made for your config;
# the default, this script's directory, holds the ones generated for the
# defaults, which call "vipagent". The config goes to CONFIG_PATH (default
# vipagent.yaml; absolute, or relative to DIR; set genesys.config_file to
# the same, as the wrappers and applications read it there): an existing
# one is never overwritten; CONFIG, when given and none exists yet, is
# copied there.
#
# With --systemd it also writes /etc/systemd/system/vipagent.service, for
# hosts where LCA does not start the agent. Do not use both: on a Genesys
# host register the agent as a Third Party Server (GUIDE.md) instead.
#
# usage: install-linux.sh [--systemd] [-d DIR] [-n NAME] [-w WRAPPERS] [-c CONFIG_PATH] BINARY [CONFIG]
set -eu

usage() {
	echo "usage: $0 [--systemd] [-d DIR] [-n NAME] [-w WRAPPERS] [-c CONFIG_PATH] BINARY [CONFIG]" >&2
	exit 2
}
dir=/opt/vipagent
name=vipagent
wrappers=$(dirname "$0")
config_path=vipagent.yaml
systemd=no
while [ $# -gt 0 ]; do
	case $1 in
	--systemd) systemd=yes; shift ;;
	-d) [ $# -ge 2 ] || usage; dir=$2; shift 2 ;;
	-n) [ $# -ge 2 ] || usage; name=$2; shift 2 ;;
	-w) [ $# -ge 2 ] || usage; wrappers=$2; shift 2 ;;
	-c) [ $# -ge 2 ] || usage; config_path=$2; shift 2 ;;
	-*) usage ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || usage
case $name in
*/* | '') echo "$0: -n takes a file name, not a path: $name" >&2; exit 2 ;;
esac

# A wrapper runs the binary beside it by name: refuse wrappers made for
# another name rather than install a failoverscript that cannot start.
for w in IPTakeOver.sh INIT_IPTakeOver.sh NLB.sh INIT.sh; do
	if ! grep -qF -e "/$name\"" -e "'$name'" "$wrappers/$w"; then
		echo "$0: $wrappers/$w does not run $name: generate the wrappers with genesys.executable: $name" >&2
		echo "(vipagent genesys --config CONFIG --out DIR) and pass -w DIR" >&2
		exit 2
	fi
done

install -d -m 0755 "$dir"
install -m 0755 "$1" "$dir/$name"
for w in IPTakeOver.sh INIT_IPTakeOver.sh NLB.sh INIT.sh; do
	install -m 0755 "$wrappers/$w" "$dir/$w"
done
case $config_path in
/*) target=$config_path ;;
*) target=$dir/$config_path ;;
esac
if [ $# -ge 2 ] && [ ! -e "$target" ]; then
	install -d -m 0755 "$(dirname "$target")"
	install -m 0600 "$2" "$target"
fi

if [ "$systemd" = yes ]; then
	# systemd expands % specifiers everywhere, and in ExecStart also $
	# and "..." quoting.
	unit_path() { printf '%s' "$1" | sed -e 's/%/%%/g'; }
	unit_word() { printf '"%s"' "$(unit_path "$1" | sed -e 's/\$/$$/g' -e 's/\\/\\\\/g' -e 's/"/\\"/g')"; }
	cat >/etc/systemd/system/vipagent.service <<UNIT
[Unit]
Description=vipagent: moves the Genesys RM virtual IP
After=network-online.target
Wants=network-online.target

[Service]
WorkingDirectory=$(unit_path "$dir")
ExecStart=$(unit_word "$dir/$name") serve --config $(unit_word "$target")
Restart=always

[Install]
WantedBy=multi-user.target
UNIT
	systemctl daemon-reload
	echo "wrote /etc/systemd/system/vipagent.service; start it with: systemctl enable --now vipagent"
fi

exec "$dir/$name" config check --config "$target"
