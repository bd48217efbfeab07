#!/usr/bin/env bash
# pi-setup.sh installs cotd (Cat of the Day) on a Raspberry Pi, or any Linux
# machine run by systemd, as a hardened service woken by a timer.
#
# The owner copies two files to the Pi and runs this script:
#
#   scp cotd pi-setup.sh pi:
#   ssh pi sudo ./pi-setup.sh
#
# Nothing else travels with it, so this script is the single source of the
# systemd units, the config template and the helper it installs.
#
# Layout on the Pi (and why):
#   /usr/local/bin/cotd            the binary, root:root 0755, replaced atomically
#   /usr/local/sbin/cotd-service   runs `cotd ARGS` as the service would (same user,
#                                  env, credential and sandbox), for `check` and `send-test`
#   /etc/systemd/system/cotd.{service,timer}
#   /etc/cotd/cotd.env             settings, root:root 0644; holds no secret
#   /etc/cotd/recipients.txt       who gets the cat, OWNER:cotd 0640 like quotes.txt: the
#                                  owner edits it without sudo, the service reads it
#   /etc/cotd/smtp-password        root:root 0600; handed to the service with
#                                  LoadCredential=, so the service user cannot read the file itself
#   /var/lib/cotd                  state (cotd.db, outbox), the service's StateDirectory,
#                                  cotd:cotd 0750; systemd owns and repairs it
#   /srv/cotd/photos, quotes.txt   the owner's content, OWNER:cotd, directories 2750
#                                  (setgid: files copied in get group cotd), files 0640
#
# Why a static `cotd` system user and not DynamicUser=: the owner's photos
# must be readable by the service through a group that exists while the service
# is stopped, so files copied in with scp get a stable group (cotd) from the
# setgid directory. The photos live outside /var/lib/cotd because systemd
# chowns a StateDirectory to the service user, which would take the photos
# away from the owner. /srv is outside ProtectHome= and readable under
# ProtectSystem=strict, so the service needs no extra paths.
#
# With apt-get, it also installs Debian's libheif-examples: cotd runs its
# heif-convert (from /usr/bin, which the sandbox lets it execute) to decode
# HEIC and AVIF photos, the iPhone's default. Without it cotd still runs and
# names the package for each HEIC photo it skips.
set -euo pipefail

readonly prog=pi-setup.sh

readonly bin_path=/usr/local/bin/cotd
readonly helper_path=/usr/local/sbin/cotd-service
readonly unit_dir=/etc/systemd/system
readonly wants_dir=/etc/systemd/system/timers.target.wants
readonly conf_dir=/etc/cotd
readonly env_path=/etc/cotd/cotd.env
readonly password_path=/etc/cotd/smtp-password
readonly state_dir=/var/lib/cotd
readonly data_dir=/srv/cotd
readonly photos_dir=/srv/cotd/photos
readonly quotes_path=/srv/cotd/quotes.txt
readonly recipients_path=/etc/cotd/recipients.txt
readonly service_user=cotd
readonly timer_spec='*:0/15'

root=""           # staging root; empty means the live system
binary=""         # the cotd binary to install
owner=""          # the user who owns the photos and quotes
action=install    # install, uninstall or purge
check_binary=yes  # run `cotd version` before installing
recipients=()     # --recipient answers: lines of a new recipients file

usage() {
	cat <<EOF
Usage: sudo ./$prog [flags]

Installs cotd on this machine: the binary, a service user, the systemd
service and timer (enabled), a config template and a photo folder. Run it
again to upgrade: it replaces the binary and units and never touches your
config, password, photos, quotes or database.

Example (from your computer, with the arm64 build of cotd):
  scp cotd $prog pi:
  ssh -t pi sudo ./$prog

Flags:
  --binary PATH         the cotd binary to install (default: ./cotd beside this script)
  --owner USER          who owns $photos_dir, $quotes_path and $recipients_path
                        (default: the user who ran sudo, \$SUDO_USER, else root)
  --recipient LINE      a line of a new $recipients_path (repeat it), e.g.
                        'Zoe Lima <zoe@example.com> tz=Asia/Tokyo at=07:30';
                        an existing file is kept
  --uninstall           stop and remove the timer, service, helper and binary;
                        keep config, photos, quotes and database
  --purge               --uninstall, then also remove $conf_dir, $state_dir,
                        $data_dir and the cotd user (no questions asked)
  --root DIR            install into DIR instead of / (SD-card images, tests): no
                        systemctl, useradd or chown; prints what it would have run
  --skip-binary-check   do not run \`cotd version\` first (for a --root image built
                        on a machine of another architecture)
  -h, --help            show this help
EOF
}

# add_recipient keeps one --recipient answer; a line break or another
# control character would make it two lines, or forge one.
add_recipient() {
	[[ $1 != *[[:cntrl:]]* ]] || fail "--recipient $(printf '%q' "$1") contains a control character" "give one recipient per --recipient, on one line"
	[[ $1 == *@* ]] || fail "--recipient '$1' has no address" "write it like 'Zoe Lima <zoe@example.com> tz=Asia/Tokyo at=07:30'"
	recipients+=("$1")
}

say() { printf '%s: %s\n' "$prog" "$*"; }

# fail prints an error and hints (what to do) and exits 2, the usage/config code.
fail() {
	printf '%s: error: %s\n' "$prog" "$1" >&2
	shift
	local hint
	for hint in "$@"; do
		printf '%s: hint: %s\n' "$prog" "$hint" >&2
	done
	exit 2
}

# act runs a command that changes the live system; under --root it only
# records the command, because the staging root is not a running system.
act() {
	if [[ -n $root ]]; then
		say "would run:$(printf ' %q' "$@")"
		return 0
	fi
	"$@"
}

parse_args() {
	while (($# > 0)); do
		case $1 in
		--binary) (($# >= 2)) || fail "--binary needs a path"; binary=$2; shift ;;
		--binary=*) binary=${1#*=} ;;
		--owner) (($# >= 2)) || fail "--owner needs a user name"; owner=$2; shift ;;
		--owner=*) owner=${1#*=} ;;
		--recipient) (($# >= 2)) || fail "--recipient needs a line such as 'Zoe <zoe@example.com> tz=Asia/Tokyo'"; add_recipient "$2"; shift ;;
		--recipient=*) add_recipient "${1#*=}" ;;
		--root) (($# >= 2)) || fail "--root needs a directory"; root=$2; shift ;;
		--root=*) root=${1#*=} ;;
		--uninstall) action=uninstall ;;
		--purge) action=purge ;;
		--skip-binary-check) check_binary=no ;;
		-h | --help) usage; exit 0 ;;
		*) fail "unknown argument $1" "run ./$prog --help" ;;
		esac
		shift
	done
	if [[ -n $root ]]; then
		[[ -d $root ]] || fail "--root $root is not a directory" "create it first: mkdir -p $root"
		root=$(cd "$root" && pwd)
		[[ $root != / ]] || root=""
	fi
}

# elf_arch names the architecture an ELF file is built for, or prints nothing.
elf_arch() {
	local magic machine
	magic=$(od -An -tx1 -N4 -- "$1" 2>/dev/null | tr -d ' \n') || return 0
	[[ $magic == 7f454c46 ]] || return 0
	machine=$(od -An -tu2 -j18 -N2 -- "$1" 2>/dev/null | tr -d ' \n') || return 0
	case $machine in
	3) echo i386 ;;
	40) echo arm ;;
	62) echo x86-64 ;;
	183) echo arm64 ;;
	243) echo riscv64 ;;
	*) echo "ELF machine $machine" ;;
	esac
}

find_binary() {
	if [[ -z $binary ]]; then
		binary="$(cd "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)/cotd"
		[[ -e $binary ]] || fail "no cotd binary next to $prog (looked for $binary)" \
			"put the cotd binary next to $prog: scp cotd $prog pi:" \
			"or name it: sudo ./$prog --binary /path/to/cotd"
	fi
	[[ -f $binary ]] || fail "$binary does not exist or is not a file" "pass the cotd binary with --binary PATH"
	[[ $check_binary == yes ]] || return 0
	local out arch
	if ! out=$("$binary" version 2>&1); then
		arch=$(elf_arch "$binary")
		fail "$binary does not run on this machine ($(uname -m)): \`cotd version\` failed${arch:+; it is built for $arch}: ${out:-no output}" \
			"build it for a 64-bit Raspberry Pi OS with: CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -trimpath -ldflags='-s -w' -o cotd ." \
			"for an SD-card image built elsewhere, add --skip-binary-check"
	fi
	say "installing ${out%%$'\n'*}"
}

pick_owner() {
	if [[ -z $owner ]]; then
		owner=${SUDO_USER:-root}
	fi
	if [[ -z $root ]] && ! id -u -- "$owner" >/dev/null 2>&1; then
		fail "the owner $owner does not exist on this machine" "name an existing user with --owner USER"
	fi
}

# write_file installs stdin as PATH with MODE atomically (temp file, then
# rename), so a crash or a running cotd never sees half a file.
write_file() {
	local path=$1 mode=$2 tmp
	mkdir -p -- "$(dirname -- "$path")"
	tmp=$(mktemp -- "$(dirname -- "$path")/.$(basename -- "$path").XXXXXX")
	if ! { cat >"$tmp" && chmod "$mode" -- "$tmp" && mv -f -- "$tmp" "$path"; }; then
		rm -f -- "$tmp"
		fail "could not write $path"
	fi
}

# write_new writes stdin to PATH only when PATH does not exist yet, so the
# owner's files are never overwritten; it sets wrote=yes when it wrote.
wrote=no
write_new() {
	local path=$1 mode=$2
	wrote=no
	if [[ -e $root$path || -L $root$path ]]; then
		say "kept $path"
		return 0
	fi
	write_file "$root$path" "$mode"
	wrote=yes
	say "created $path"
}

# service_settings prints the [Service] lines shared by cotd.service and the
# cotd-service helper: who cotd runs as, what it sees, and the sandbox.
service_settings() {
	cat <<EOF
User=$service_user
Group=$service_user
EnvironmentFile=$env_path
# cotd reads it as \$CREDENTIALS_DIRECTORY/smtp-password; the file itself stays root's.
LoadCredential=smtp-password:$password_path
StateDirectory=cotd
StateDirectoryMode=0750
WorkingDirectory=$state_dir
UMask=0077
# How long a run waits for NTP before it goes on with the clock it has (the
# settings file may change it; 0 does not wait).
Environment=COTD_CLOCK_SYNC_WAIT=3m
# The sandbox: read-only OS, no homes, no devices, no privileges. The photo
# folder under /srv stays readable; only the state directory is writable.
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
PrivateUsers=yes
PrivateMounts=yes
PrivateIPC=yes
NoNewPrivileges=yes
CapabilityBoundingSet=
AmbientCapabilities=
# SMTP, DNS, pings and notifications need IPv4 and IPv6, nothing else.
RestrictAddressFamilies=AF_INET AF_INET6
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
# No ProtectClock=: its seccomp filter also denies the read-only adjtimex(2)
# that tells cotd whether NTP has set the clock. cotd still cannot change
# the clock: it has no CAP_SYS_TIME and PrivateDevices= hides /dev/rtc.
ProtectHostname=yes
ProtectProc=invisible
ProcSubset=pid
RemoveIPC=yes
KeyringMode=private
DevicePolicy=closed
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @resources
# Reading the kernel's clock state (adjtimex with no modes): "is NTP done?".
SystemCallFilter=adjtimex
# A denied call fails with EPERM instead of killing cotd: the Go runtime tries
# to raise its open-file limit at start and carries on when it cannot.
SystemCallErrorNumber=EPERM
EOF
}

service_unit() {
	cat <<EOF
# Installed by pi-setup.sh; rerunning it replaces this file.
# Local changes belong in a drop-in: sudo systemctl edit cotd.service
[Unit]
Description=Cat of the Day: mail the cat and quote of every day that is due
# No real-time clock on a Pi: after time-set.target the clock is at least the
# last shutdown's (systemd-timesyncd's clock file), and cotd itself waits up to
# COTD_CLOCK_SYNC_WAIT for NTP, then says so in the journal and goes on. Not
# systemd-time-wait-sync.service: it waits for NTP without any bound, so a Pi
# with NTP blocked would never run cotd again, and silently.
Wants=network-online.target
After=network-online.target time-set.target

[Service]
Type=oneshot
ExecStart=$bin_path run
# A hung run must not block the next timer tick forever, but a run must never
# be killed while a server takes the 10 minutes RFC 5321 allows to answer a
# message's final dot: 3 min for NTP, 12 min to start sending, 10 for that
# answer, 2 for the alert and the pings (cotd's deploy tests check the sum).
TimeoutStartSec=30min
EOF
	service_settings
}

timer_unit() {
	cat <<EOF
# Installed by pi-setup.sh; rerunning it replaces this file.
# cotd records which days it delivered and decides itself what is due, so the
# timer only needs to wake it often: a failed morning is retried within 15
# minutes, and after downtime the missed days go out within minutes of boot.
[Unit]
Description=Wake cotd every 15 minutes to send what is due

[Timer]
OnCalendar=$timer_spec
OnBootSec=2min
Persistent=true
AccuracySec=1min

[Install]
WantedBy=timers.target
EOF
}

# helper_script prints cotd-service: it starts `cotd ARGS` as a transient
# unit with the settings of cotd.service, so `check` and `send-test` see
# exactly what the timer's runs see (env file, credential, user, sandbox).
helper_script() {
	local line
	cat <<EOF
#!/bin/sh
# Installed by pi-setup.sh: runs \`cotd ARGS\` the way cotd.service runs it,
# with its user, environment file, SMTP password credential and sandbox.
#   sudo cotd-service check
#   sudo cotd-service send-test --to you@example.com
if [ "\$(id -u)" -ne 0 ]; then
	echo "cotd-service: error: run it with sudo: sudo cotd-service \$*" >&2
	exit 2
fi
exec systemd-run --quiet --wait --pipe --collect --service-type=exec \\
EOF
	while IFS= read -r line; do
		case $line in '' | '#'*) continue ;; esac
		printf "\t--property='%s' \\\\\n" "$line"
	done < <(service_settings)
	printf '\t-- %s "$@"\n' "$bin_path"
}

env_template() {
	local zone=$1 tz_line
	if [[ -n $zone ]]; then
		tz_line="COTD_TZ=$zone"
	else
		tz_line="#COTD_TZ=Europe/Berlin"
	fi
	cat <<EOF
# cotd settings, read by cotd.service (systemd EnvironmentFile syntax:
# KEY=value, one per line, # starts a comment; quote values with spaces).
# After editing: sudo cotd-service check
# Every setting is also a cotd flag; see: cotd help

# Who gets the cat: one recipient a line in $recipients_path, each with
# their own time zone, send time and pause if they like (that file says how).
# Or a comma-separated COTD_TO for a one-off list; not both.
COTD_RECIPIENTS=$recipients_path
#COTD_TO="Cee <c@example.com>, d@example.com"
#COTD_FROM="Cat of the Day <cotd@example.com>"

# The SMTP server. Without COTD_SMTP_HOST cotd writes .eml files to COTD_OUTBOX
# instead of sending. The password goes in $password_path, not here.
#COTD_SMTP_HOST=smtp.example.com
COTD_SMTP_PORT=587
#COTD_SMTP_USER=cotd@example.com
# starttls (port 587), tls (implicit TLS, port 465) or none (loopback only)
COTD_SMTP_TLS=starttls
#COTD_SMTP_CA_FILE=/etc/cotd/ca.pem

# When: the morning send time, in this zone (an IANA name).
COTD_AT=07:00
$tz_line
# How long a run waits for NTP to set the clock (a Pi has no clock of its own)
# before it goes on with the clock it has and says so in the journal.
#COTD_CLOCK_SYNC_WAIT=3m

# After downtime: digest (one mail with every missed day), each, or skip.
COTD_CATCH_UP=digest
#COTD_CATCH_UP_MAX_DAYS=7

# Monitoring: the owner's address for alerts, a healthchecks.io-style ping URL,
# an ntfy-style push URL.
#COTD_ALERT_TO=you@example.com
#COTD_PING_URL=https://hc-ping.com/your-uuid
#COTD_NOTIFY_URL=https://ntfy.sh/your-topic
#COTD_CERT_WARN_DAYS=21
# Other certificates to watch: host:port endpoints, or PEM files the cotd user
# may read (root-only files such as k3s's are not readable by the service).
#COTD_WATCH_CERTS=example.com:443
# A Prometheus textfile for node_exporter. The service may write only below
# $state_dir; to write into node_exporter's folder instead, let group cotd
# write there and add it with: sudo systemctl edit cotd.service
#   [Service]
#   ReadWritePaths=/var/lib/prometheus/node-exporter
#COTD_METRICS_FILE=$state_dir/cotd.prom

# Where things are. Copy photos in with: scp *.jpg PI:$photos_dir/
COTD_PHOTOS=$photos_dir
COTD_QUOTES=$quotes_path
COTD_DB=$state_dir/cotd.db
COTD_OUTBOX=$state_dir/outbox
# Daily snapshots of the database (the last 7), for 'cotd restore' after the
# SD card died; default $state_dir/backups. Better on another disk, such as the
# photos' USB stick: let the service write there with
# sudo systemctl edit cotd.service
#   [Service]
#   ReadWritePaths=/media/cats/cotd-backups
#COTD_BACKUP_DIR=/media/cats/cotd-backups
EOF
}

# recipients_template prints a new recipients file: the installer's
# answers (--recipient), under the comments that say how to write more.
recipients_template() {
	local line
	cat <<EOF
# Who gets the cat of the day: one recipient a line, then any of
#   tz=ZONE             their time zone, an IANA name (default: COTD_TZ in $env_path)
#   at=HH:MM            their morning send time (default: COTD_AT in $env_path)
#   paused-until=DATE   nothing until that day, then that day's cat (no backlog)
# Lines starting with # and blank lines are ignored; cotd reads the file again
# at every run. Check it with: sudo cotd-service check
# Example:
#   Zoe Lima <zoe@example.com>  tz=Asia/Tokyo  at=07:30  paused-until=2027-01-05
EOF
	for line in "${recipients[@]}"; do
		printf '%s\n' "$line"
	done
}

quotes_template() {
	cat <<'EOF'
# One quote per line, optionally followed by " — Author" or " -- Author".
# Lines starting with # and blank lines are ignored. cotd picks up edits on
# its next run. Replace these with your own.
In ancient times cats were worshipped as gods; they have not forgotten this. — Terry Pratchett
What greater gift than the love of a cat? — Charles Dickens
I have studied many philosophers and many cats. The wisdom of cats is infinitely superior. — Hippolyte Taine
A cat has absolute emotional honesty. — Ernest Hemingway
The smallest feline is a masterpiece. — Leonardo da Vinci
Dogs come when they're called; cats take a message and get back to you later. — Mary Bly
EOF
}

# machine_zone prints the IANA zone of the (staging) machine, or nothing.
machine_zone() {
	local localtime="$root/etc/localtime" zone=""
	if [[ -L $localtime ]]; then
		zone=$(readlink -- "$localtime")
		if [[ $zone == */zoneinfo/* ]]; then
			zone=${zone#*/zoneinfo/}
		else
			zone=""
		fi
	fi
	if [[ -z $zone && -r $root/etc/timezone ]]; then
		read -r zone <"$root/etc/timezone" || true
	fi
	[[ $zone =~ ^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$ ]] && printf '%s\n' "$zone"
	return 0
}

# make_dir creates an owner's directory only when it is missing; an existing
# one keeps its owner and mode.
make_dir() {
	local path=$1 mode=$2 user=$3 group=$4
	if [[ -d $root$path ]]; then
		say "kept $path"
		return 0
	fi
	mkdir -p -- "$root$path"
	chmod "$mode" -- "$root$path"
	act chown "$user:$group" "$path"
	say "created $path"
}

ensure_user() {
	local group=(--user-group)
	if [[ -z $root ]]; then
		getent passwd "$service_user" >/dev/null && return 0
		# A group left behind by an earlier user of that name is reused.
		! getent group "$service_user" >/dev/null || group=(--gid "$service_user")
	fi
	act useradd --system "${group[@]}" --no-create-home --home-dir "$state_dir" \
		--shell /usr/sbin/nologin --comment "Cat of the Day" "$service_user"
}

# join_group adds the owner to group cotd: the photo folder is theirs and
# group cotd's, and only a member may chgrp a file to cotd (a photo copied
# in some other way than into the setgid folder), so without it their own
# chgrp/chmod g+s would fail and a new photo could stay unreadable to cotd.
join_group() {
	[[ $owner != root ]] || return 0
	if [[ -z $root ]] && id -nG -- "$owner" | tr ' ' '\n' | grep -qx -- "$service_user"; then
		return 0
	fi
	act usermod --append --groups "$service_user" "$owner"
	say "added $owner to group $service_user (it applies from $owner's next login)"
}

# install_heif_helper installs heif-convert for HEIC and AVIF photos. A
# failure (no network, no apt-get) is only a warning: every other photo
# works without it.
install_heif_helper() {
	if [[ -z $root ]] && command -v heif-convert >/dev/null 2>&1; then
		return 0
	fi
	if ! command -v apt-get >/dev/null 2>&1; then
		say "warning: no apt-get here; install heif-convert (libheif) to have HEIC photos mailed"
		return 0
	fi
	local install=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends libheif-examples)
	# A fresh image may have no package lists yet: update once and retry.
	if act "${install[@]}" || { act apt-get update -q && act "${install[@]}"; }; then
		[[ -n $root ]] || say "installed heif-convert (libheif-examples) for HEIC and AVIF photos"
	else
		say "warning: could not install libheif-examples; HEIC photos are skipped until: sudo apt-get install libheif-examples"
	fi
}

install_all() {
	ensure_user
	join_group
	install_heif_helper

	write_file "$root$bin_path" 0755 <"$binary"
	say "installed $bin_path"

	mkdir -p -- "$root$conf_dir"
	chmod 0755 -- "$root$conf_dir"
	write_new "$env_path" 0644 <<<"$(env_template "$(machine_zone)")"
	write_new "$password_path" 0600 </dev/null
	write_new "$recipients_path" 0640 < <(recipients_template)
	if [[ $wrote == yes ]]; then
		act chown "$owner:$service_user" "$recipients_path"
	elif ((${#recipients[@]} > 0)); then
		say "kept $recipients_path as it is: the --recipient answers are not in it; edit it with: nano $recipients_path"
	fi

	# systemd creates and owns it too (StateDirectory=); made here so that the
	# tree is complete before the first run.
	make_dir "$state_dir" 0750 "$service_user" "$service_user"
	make_dir "$data_dir" 2750 "$owner" "$service_user"
	make_dir "$photos_dir" 2750 "$owner" "$service_user"
	write_new "$quotes_path" 0640 <<<"$(quotes_template)"
	if [[ $wrote == yes ]]; then
		act chown "$owner:$service_user" "$quotes_path"
	fi

	service_unit | write_file "$root$unit_dir/cotd.service" 0644
	timer_unit | write_file "$root$unit_dir/cotd.timer" 0644
	helper_script | write_file "$root$helper_path" 0755
	say "installed $unit_dir/cotd.service, $unit_dir/cotd.timer and $helper_path"

	if [[ -n $root ]]; then
		# What `systemctl enable cotd.timer` makes, without a running systemd.
		mkdir -p -- "$root$wants_dir"
		ln -sfn -- "$unit_dir/cotd.timer" "$root$wants_dir/cotd.timer"
		say "enabled cotd.timer ($wants_dir/cotd.timer)"
	fi
	act systemctl daemon-reload
	act systemctl enable --now cotd.timer

	local host
	host=$(hostname 2>/dev/null || echo pi)
	cat <<EOF

cotd is installed; its timer wakes it every 15 minutes and it mails what is due.
Until the recipients are set, each run refuses with "no recipients" and mails nothing.

Next, in this order:
  1. Copy cat photos in from your computer (the folder's group cotd lets it read them):
       scp *.jpg $owner@$host:$photos_dir/
     and make the quotes yours: $quotes_path
  2. Set the recipients (one a line), then the sender and the SMTP server:
       nano $recipients_path
       sudo nano $env_path
  3. Put the SMTP password in its file (one line):
       sudo nano $password_path
  4. Check everything, then send yourself a test:
       sudo cotd-service check
       sudo cotd-service send-test --to you@example.com
  5. Watch it work:
       systemctl list-timers cotd.timer
       journalctl -u cotd.service -n 20
EOF
}

remove_path() {
	if [[ -e $root$1 || -L $root$1 ]]; then
		rm -rf -- "$root$1"
		say "removed $1"
	fi
}

uninstall_all() {
	if [[ -n $root ]] || systemctl cat cotd.timer >/dev/null 2>&1; then
		# The timer first, so it cannot start the service while it goes away.
		act systemctl disable --now cotd.timer || true
		act systemctl stop cotd.service || true
	fi
	remove_path "$wants_dir/cotd.timer"
	remove_path "$unit_dir/cotd.timer"
	remove_path "$unit_dir/cotd.service"
	remove_path "$helper_path"
	remove_path "$bin_path"
	act systemctl daemon-reload
	act systemctl reset-failed cotd.service cotd.timer 2>/dev/null || true

	if [[ $action == purge ]]; then
		remove_path "$conf_dir"
		remove_path "$unit_dir/cotd.service.d"
		remove_path "$unit_dir/cotd.timer.d"
		remove_path "$state_dir"
		remove_path "$data_dir"
		if [[ -n $root ]] || getent passwd "$service_user" >/dev/null; then
			act userdel "$service_user"
		fi
		# userdel keeps the group when it cannot tell it was the user's own.
		if [[ -z $root ]] && getent group "$service_user" >/dev/null; then
			groupdel "$service_user"
		fi
		say "purged cotd: units, binary, config, state, photos and quotes are gone"
	else
		say "uninstalled cotd; kept $conf_dir, $state_dir and $data_dir (remove them with --purge)"
	fi
}

main() {
	parse_args "$@"
	if [[ -z $root && $(id -u) -ne 0 ]]; then
		fail "$prog must run as root to install a service" "run: sudo ./$prog $*"
	fi
	case $action in
	install)
		find_binary
		pick_owner
		install_all
		;;
	uninstall | purge) uninstall_all ;;
	esac
}

main "$@"
