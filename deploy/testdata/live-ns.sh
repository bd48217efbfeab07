#!/usr/bin/env bash
# live-ns.sh runs pi-setup.sh without --root, as on a real Pi, inside a
# private mount namespace (unshare -m) in which /etc, /usr/local, /srv and
# /var/lib are scratch copies kept in SCRATCH and systemctl only records its
# arguments: useradd, chown and the files land in SCRATCH, never on the host.
#
# usage: unshare -m --propagation private live-ns.sh SCRATCH OWNER SCRIPT [ARGS...]
set -euo pipefail
scratch=$1 owner=$2 script=$3
shift 3

first=no
if [[ ! -d $scratch/etc ]]; then
	first=yes
	cp -a /etc "$scratch/etc"
	mkdir -p "$scratch/usr-local" "$scratch/srv" "$scratch/var-lib" "$scratch/bin"
	cat >"$scratch/bin/systemctl" <<'SH'
#!/bin/sh
echo "systemctl $*" >>"$COTD_SYSTEMCTL_LOG"
SH
	chmod 0755 "$scratch/bin/systemctl"
fi
mount --bind "$scratch/etc" /etc
mount --bind "$scratch/usr-local" /usr/local
mount --bind "$scratch/srv" /srv
mount --bind "$scratch/var-lib" /var/lib
if [[ $first == yes ]]; then
	useradd --no-create-home --shell /usr/sbin/nologin "$owner"
fi
export COTD_SYSTEMCTL_LOG=$scratch/systemctl.log PATH=$scratch/bin:$PATH SUDO_USER=$owner
exec "$script" "$@"
