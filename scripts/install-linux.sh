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
# The accounts that run the hooks (RM's, for its failoverscript; LCA's for
# the alarm reactions) are named with --hook-user: they join GROUP (default
# vipagent, created when missing), which may read the config and the
# secret files (--secret FILE, installed beside the config in secrets/,
# mode 0640; name them in the config as file:PATH) and use the agent's
# local socket. The config then needs:
#   local: {socket: /run/vipagent/vipagent.sock, groups: [GROUP]}
#
# With --systemd it also writes /etc/systemd/system/vipagent.service, for
# hosts where LCA does not start the agent: the agent runs as USER (default
# vipagent, created when missing) with only CAP_NET_ADMIN and CAP_NET_RAW,
# writes only DATA_DIR (default /var/lib/vipagent, which must be the
# config's data_dir) and keeps its socket in /run/vipagent. Do not use both:
# on a Genesys host register the agent as a Third Party Server (GUIDE.md)
# instead. Without systemd running, the files are installed and the script
# says what is left to do.
#
# --destdir ROOT installs under ROOT (packaging, tests): paths inside the
# files stay as they will be on the host, and no account or group is
# created or changed.
#
# usage: install-linux.sh [--systemd] [--user USER] [--group GROUP]
#   [--hook-user ACCOUNT]... [--secret FILE]... [--data-dir DATA_DIR]
#   [--destdir ROOT] [-d DIR] [-n NAME] [-w WRAPPERS] [-c CONFIG_PATH] BINARY [CONFIG]
set -eu

usage() {
	echo "usage: $0 [--systemd] [--user USER] [--group GROUP] [--hook-user ACCOUNT]... [--secret FILE]... [--data-dir DATA_DIR] [--destdir ROOT] [-d DIR] [-n NAME] [-w WRAPPERS] [-c CONFIG_PATH] BINARY [CONFIG]" >&2
	exit 2
}
dir=/opt/vipagent
name=vipagent
wrappers=$(dirname "$0")
config_path=vipagent.yaml
systemd=no
user=vipagent
group=vipagent
data_dir=/var/lib/vipagent
root=
hook_users=
secrets=
nl='
'
while [ $# -gt 0 ]; do
	case $1 in
	--systemd) systemd=yes; shift ;;
	--user) [ $# -ge 2 ] || usage; user=$2; shift 2 ;;
	--group) [ $# -ge 2 ] || usage; group=$2; shift 2 ;;
	--hook-user) [ $# -ge 2 ] || usage; hook_users="$hook_users$2$nl"; shift 2 ;;
	--secret) [ $# -ge 2 ] || usage; secrets="$secrets$2$nl"; shift 2 ;;
	--data-dir) [ $# -ge 2 ] || usage; data_dir=$2; shift 2 ;;
	--destdir) [ $# -ge 2 ] || usage; root=${2%/}; shift 2 ;;
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
for a in "$user" "$group"; do
	case $a in
	'' | -* | *[!A-Za-z0-9._-]*) echo "$0: not an account or group name: '$a'" >&2; exit 2 ;;
	esac
done
case $data_dir in
/*) ;;
*) echo "$0: --data-dir must be an absolute path: $data_dir" >&2; exit 2 ;;
esac

# Accounts are set up only for a group that is asked for (--hook-user,
# --systemd), and never under --destdir.
accounts=no
if [ -n "$hook_users" ] || [ "$systemd" = yes ]; then
	accounts=yes
fi
if [ -n "$root" ]; then
	accounts=no
fi
# Refuse before installing anything: every hook account must exist.
if [ "$accounts" = yes ]; then
	printf '%s' "$hook_users" | while IFS= read -r u; do
		[ -n "$u" ] || continue
		if ! id "$u" >/dev/null 2>&1; then
			echo "$0: --hook-user $u: no such account (create RM's account first)" >&2
			exit 2
		fi
	done
fi
printf '%s' "$secrets" | while IFS= read -r s; do
	[ -n "$s" ] || continue
	if [ ! -f "$s" ]; then
		echo "$0: --secret $s: not a regular file" >&2
		exit 2
	fi
done

# A wrapper runs the binary beside it by name: refuse wrappers made for
# another name rather than install a failoverscript that cannot start.
for w in IPTakeOver.sh INIT_IPTakeOver.sh NLB.sh INIT.sh; do
	if ! grep -qF -e "/$name\"" -e "'$name'" "$wrappers/$w"; then
		echo "$0: $wrappers/$w does not run $name: generate the wrappers with genesys.executable: $name" >&2
		echo "(vipagent genesys --config CONFIG --out DIR) and pass -w DIR" >&2
		exit 2
	fi
done

if [ "$accounts" = yes ]; then
	if ! getent group "$group" >/dev/null; then
		groupadd --system "$group"
		echo "created group $group"
	fi
	if [ "$systemd" = yes ] && [ "$user" != root ] && ! id "$user" >/dev/null 2>&1; then
		useradd --system --gid "$group" --home-dir "$data_dir" --no-create-home --shell /usr/sbin/nologin "$user"
		echo "created account $user"
	fi
	printf '%s' "$hook_users" | while IFS= read -r u; do
		[ -n "$u" ] || continue
		usermod -a -G "$group" "$u"
		echo "added $u to group $group"
	done
fi

# readable_by_group FILE...: root-owned, readable by the hooks' group once
# it exists (under --destdir the group is the host's business).
readable_by_group() {
	if [ "$accounts" = yes ]; then
		chgrp "$group" "$@"
	fi
}

install -d -m 0755 "$root$dir"
install -m 0755 "$1" "$root$dir/$name"
for w in IPTakeOver.sh INIT_IPTakeOver.sh NLB.sh INIT.sh; do
	install -m 0755 "$wrappers/$w" "$root$dir/$w"
done
case $config_path in
/*) target=$config_path ;;
*) target=$dir/$config_path ;;
esac
conf_dir=$(dirname "$target")
install -d -m 0755 "$root$conf_dir"
if [ $# -ge 2 ] && [ ! -e "$root$target" ]; then
	# Mode 0640: the hooks' group reads it, nobody else.
	install -m 0640 "$2" "$root$target"
	readable_by_group "$root$target"
fi
if [ -n "$secrets" ]; then
	install -d -m 0750 "$root$conf_dir/secrets"
	readable_by_group "$root$conf_dir/secrets"
	printf '%s' "$secrets" | while IFS= read -r s; do
		[ -n "$s" ] || continue
		to="$root$conf_dir/secrets/$(basename "$s")"
		if [ -e "$to" ]; then
			echo "kept the existing $conf_dir/secrets/$(basename "$s")"
			continue
		fi
		install -m 0640 "$s" "$to"
		readable_by_group "$to"
		echo "installed secret file:$conf_dir/secrets/$(basename "$s")"
	done
fi

if [ "$systemd" = yes ]; then
	install -d -m 0750 "$root$data_dir"
	if [ "$accounts" = yes ]; then
		chown "$user:$group" "$root$data_dir"
	fi
	# systemd expands % specifiers everywhere, and in ExecStart also $
	# and "..." quoting.
	unit_path() { printf '%s' "$1" | sed -e 's/%/%%/g'; }
	unit_word() { printf '"%s"' "$(unit_path "$1" | sed -e 's/\$/$$/g' -e 's/\\/\\\\/g' -e 's/"/\\"/g')"; }
	unit_dir=$root/etc/systemd/system
	install -d -m 0755 "$unit_dir"
	cat >"$unit_dir/vipagent.service" <<UNIT
[Unit]
Description=vipagent: moves the Genesys RM virtual IP
After=network-online.target
Wants=network-online.target

[Service]
User=$user
Group=$group
WorkingDirectory=$(unit_path "$dir")
ExecStart=$(unit_word "$dir/$name") serve --config $(unit_word "$target")
ExecReload=/bin/kill -HUP \$MAINPID
Restart=always
RestartSec=2
# Only what moving an address and announcing it need.
AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW
CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
ReadWritePaths=$(unit_path "$data_dir")
# /run/vipagent, for local.socket: owned by $user:$group, mode 0750.
RuntimeDirectory=vipagent
RuntimeDirectoryMode=0750
UMask=0027

[Install]
WantedBy=multi-user.target
UNIT
	echo "wrote $unit_dir/vipagent.service (runs as $user, group $group, writes only $data_dir)"
	if [ -z "$root" ] && [ -d /run/systemd/system ]; then
		systemctl daemon-reload
		echo "start it with: systemctl enable --now vipagent"
	else
		echo "systemd is not running here (or --destdir was given): nothing was started."
		echo "On the host: systemctl daemon-reload && systemctl enable --now vipagent;"
		echo "without systemd, start '$dir/$name serve --config $target' as $user from your init system"
		echo "(with CAP_NET_ADMIN and CAP_NET_RAW), or register it with LCA (GUIDE.md)."
	fi
fi
if [ -n "$hook_users" ] && { [ ! -e "$root$target" ] || ! grep -q '^local:' "$root$target"; }; then
	echo "add to $target so that the hooks use the local socket without a token:"
	echo "  local: {socket: /run/vipagent/vipagent.sock, groups: [$group]}"
fi

if [ -n "$root" ]; then
	# The files are not where they will run: check the config as installed.
	exec "$root$dir/$name" config check --config "$root$target"
fi
exec "$dir/$name" config check --config "$target"
