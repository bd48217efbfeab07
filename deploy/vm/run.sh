#!/usr/bin/env bash
# deploy/vm/run.sh: the VM test. It proves pi-setup.sh and cotd's units on a
# real systemd: a Debian 12 guest under qemu (TCG, no KVM needed), installed
# the way the README tells a new owner to, then booted again with the
# virtual RTC moved forward to see the timer deliver, each recipient in
# their own zone (a recipients file), catch up after three days off, a
# failed run heard by the alert mail, the ping URL and the push URL, live
# without NTP, upgrade, uninstall and purge.
#
#   sudo bash deploy/vm/run.sh          # needs root (mmdebstrap, mke2fs -d)
#
# The guest has no network (-nic none). Mailpit runs inside it on loopback
# with STARTTLS and AUTH; hookrecv (deploy/vm/hookrecv) records the pings
# and pushes; fakentp (deploy/vm/fakentp) simulates a finished NTP sync on
# the boots that should have one. Every boot runs one stage script
# (deploy/vm/guest/stage-*.sh) from a 9p share through a oneshot unit and
# powers off; the script prints each command, its output and an
# "ok:"/"FAIL:" line per assertion, and the host fails on any FAIL or a
# non-zero stage exit.
#
# The arm64 guest (qemu-system-aarch64 -M virt, the Pi's architecture) is
# the same test with COTD_VM_ARCH=arm64. It is not run in CI: its root
# filesystem is built under qemu-user emulation (15-30 minutes) and every
# boot is slower. It needs qemu-system-arm and qemu-user-static with
# binfmt_misc (mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc;
# update-binfmts --enable qemu-aarch64) and cross-builds Mailpit for arm64.
#
# Environment (all optional):
#   COTD_VM_ARCH=ARCH      amd64 (default, what CI runs) or arm64
#   COTD_VM_WORK=DIR       keep the work tree there (default: a temp dir, removed)
#   COTD_VM_ROOTFS=TAR     reuse a root filesystem tarball from an earlier run
#                          (built by this script as DIR/rootfs.tar); CI builds afresh
#   COTD_VM_FROM=BOOT      with COTD_VM_WORK: start again at that boot (install, timer,
#                          zones, catchup, nontp) on the disk an earlier run left after the
#                          boot before it (each passing boot's disk is kept there)
#   COTD_VM_BOOT_TIMEOUT=S seconds one boot may take (default 900)
#   COTD_VM_START_TIMEOUT=S seconds until its stage must have started, else the
#                          boot is tried once more (default 480)
set -euo pipefail
# All of it in one block: bash parses a block whole before it runs it, so
# editing this file cannot change a run that is under way.
{
here=$(cd "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
boot_timeout=${COTD_VM_BOOT_TIMEOUT:-900}
start_timeout=${COTD_VM_START_TIMEOUT:-480}
started=$SECONDS

step() { printf '\n== vm: %s (at %ds)\n' "$*" "$((SECONDS - started))"; }
die() { printf 'vm: FAIL: %s\n' "$*" >&2; exit 1; }

arch=${COTD_VM_ARCH:-amd64}
case $arch in
amd64)
	qemu=qemu-system-x86_64 qemu_pkg=qemu-system-x86 console=ttyS0
	machine=(-cpu max)
	;;
arm64)
	qemu=qemu-system-aarch64 qemu_pkg="qemu-system-arm qemu-user-static" console=ttyAMA0
	machine=(-M virt -cpu cortex-a72)
	;;
*) die "COTD_VM_ARCH=$arch: use amd64 or arm64" ;;
esac

[[ $(id -u) -eq 0 ]] || die "run it as root: mmdebstrap and mke2fs -d need it"
for tool in mmdebstrap "$qemu" mke2fs file go; do
	command -v "$tool" >/dev/null || die "$tool is missing (apt-get install mmdebstrap $qemu_pkg e2fsprogs file)"
done
gobin=$(go env GOPATH)/bin
if [[ $arch == amd64 ]]; then
	mailpit=$(command -v mailpit || true)
	[[ -n $mailpit ]] || mailpit=$gobin/mailpit
	[[ -x $mailpit ]] || die "mailpit is missing: go install github.com/axllent/mailpit@v1.27.11"
else
	# Mailpit is static Go too; cross-built it lands in GOPATH/bin/linux_arm64.
	mailpit=$gobin/linux_arm64/mailpit
	[[ -x $mailpit ]] || (set -x; GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go install github.com/axllent/mailpit@v1.27.11)
fi

if [[ -n ${COTD_VM_WORK:-} ]]; then
	work=$COTD_VM_WORK
	mkdir -p "$work"
else
	work=$(mktemp -d /tmp/cotd-vm.XXXXXX)
	trap 'rm -rf "$work"' EXIT
fi

# The guest's packages: systemd as PID 1, timesyncd (the NTP client a Pi
# runs), udev and dbus (systemd-run --wait needs the bus), sudo (the owner
# is not root), the Debian kernel, curl and jq to read Mailpit's API.
packages=systemd,systemd-sysv,systemd-timesyncd,udev,dbus,sudo,linux-image-$arch,initramfs-tools,ca-certificates,curl,jq,kmod

build() {
	(cd "$repo" && CGO_ENABLED=0 GOOS=linux GOARCH=$arch GOFLAGS=-buildvcs=false go build -trimpath -ldflags="-s -w $2" -o "$1" "${3:-.}")
}
image=$work/disk.raw
from=${COTD_VM_FROM:-}
if [[ -z $from ]]; then
	step "root filesystem (mmdebstrap --variant=minbase, the mirror apt uses)"
	rootfs_tar=${COTD_VM_ROOTFS:-}
	if [[ -z $rootfs_tar ]]; then
		rootfs_tar=$work/rootfs.tar
		# The mirror this machine's apt uses, so CI needs no other network.
		mirrors=()
		for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list; do
			[[ -s $f ]] && grep -q 'debian' "$f" && mirrors+=("$f")
		done
		((${#mirrors[@]} > 0)) || die "no Debian mirror in /etc/apt/sources.list*"
		(set -x; mmdebstrap --quiet --arch="$arch" --variant=minbase --include="$packages" bookworm "$rootfs_tar" "${mirrors[@]}")
	fi
	ls -l "$rootfs_tar"

	step "guest customisation"
	root=$work/root
	rm -rf "$root"
	mkdir "$root"
	tar -C "$root" -xf "$rootfs_tar"
	(cd "$repo" && go run ./deploy/vm/mkcert -dir "$work/tls")
	bash "$here/guest/customize.sh" "$root" "$mailpit" "$work/tls"
	build "$root/usr/local/sbin/fakentp" "" ./deploy/vm/fakentp
	build "$root/usr/local/sbin/hookrecv" "" ./deploy/vm/hookrecv

	step "disk image (mke2fs -d, raw ext4)"
	image=$work/disk.raw
	rm -f "$image"
	mke2fs -q -t ext4 -L cotd-vm -d "$root" "$image" 3G
	kernels=("$root"/boot/vmlinuz-*) initrds=("$root"/boot/initrd.img-*)
	kernel=${kernels[0]} initrd=${initrds[0]}
	cp "$kernel" "$work/vmlinuz"
	cp "$initrd" "$work/initrd.img"
	rm -rf "$root"
	ls -l "$image" "$work/vmlinuz" "$work/initrd.img"

else
	# Start again at boot $from on the disk as the boot before it left it.
	before=$(sed -n "/^boot $from /{x;p;q};h" "$here/run.sh" | awk '{print $2}')
	[[ -n $before && -f $work/disk-after-$before.raw ]] || die "COTD_VM_FROM=$from needs $work/disk-after-$before.raw from an earlier run with COTD_VM_WORK=$work"
	step "disk image: the one boot $before left (COTD_VM_FROM=$from)"
	cp --sparse=always "$work/disk-after-$before.raw" "$image"
fi

step "binaries: cotd (two versions, for the upgrade)"
share=$work/share
rm -rf "$share"
mkdir -p "$share/v1" "$share/v2"
build "$share/v1/cotd" "-X main.version=vm-1 -X main.commit=vm"
build "$share/v2/cotd" "-X main.version=vm-2 -X main.commit=vm"
cp "$repo/pi-setup.sh" "$share/v1/"
cp "$repo/pi-setup.sh" "$share/v2/"
cp "$work/tls/ca.pem" "$share/ca.pem"
cp "$here/guest/lib.sh" "$share/lib.sh"
(cd "$repo" && go run ./deploy/vm/mkphotos "$share/photos" 12)
file "$share/v1/cotd" "$mailpit"

# run_qemu NAME RTC [KERNEL-ARGS...] boots the guest once and waits for it
# to power off (at most boot_timeout seconds). It returns 125 when the stage
# had not started after start_timeout seconds (and kills the guest then).
run_qemu() {
	local name=$1 rtc=$2 deadline=$((SECONDS + start_timeout)) pid
	shift 2
	timeout "$boot_timeout" "$qemu" \
		-accel tcg,thread=multi "${machine[@]}" -smp 2 -m 1024 \
		-nic none -no-reboot -display none -serial "file:$work/console-$name.log" \
		-rtc "base=$rtc,clock=host" \
		-kernel "$work/vmlinuz" -initrd "$work/initrd.img" \
		-append "root=/dev/vda rw console=$console quiet systemd.show_status=0 $*" \
		-drive "file=$image,format=raw,if=virtio" \
		-virtfs "local,path=$share,mount_tag=share,security_model=none" &
	pid=$!
	while [[ ! -e $share/out/stage.log ]] && kill -0 "$pid" 2>/dev/null; do
		if ((SECONDS >= deadline)); then
			kill "$pid" 2>/dev/null || true
			wait "$pid" || true
			return 125
		fi
		sleep 5
	done
	wait "$pid"
}

# boot NAME RTC [KERNEL-ARGS...] runs guest/stage-NAME.sh in one boot that
# starts with the guest's RTC at RTC (UTC), and fails unless it passed.
boot() {
	local name=$1 rtc=$2 t0=$SECONDS
	shift 2
	if [[ $skip == yes && $name != "$from" ]]; then
		return 0
	fi
	skip=no
	step "boot $name ($arch): RTC $rtc ${*:+(kernel: $*)}"
	cp "$here/guest/stage-$name.sh" "$share/stage.sh"
	# Rarely, an emulated boot hangs before it gets anywhere (both vCPUs in
	# soft lockup from the first minute on, seen once in about ten boots):
	# a boot whose stage has not started within $start_timeout s is killed and
	# run once more, from the disk as it was before.
	cp --sparse=always "$image" "$work/disk-before.raw"
	local rc attempt
	for attempt in 1 2; do
		rm -rf "$share/out"
		mkdir -p "$share/out"
		rc=0
		run_qemu "$name" "$rtc" "$@" || rc=$?
		((rc == 125 && attempt == 1)) || break
		echo "vm: boot $name: the stage did not start within ${start_timeout}s; the console said:"
		tail -n 5 "$work/console-$name.log" | sed 's/^/  console| /'
		echo "vm: boot $name: booting again from the disk as it was before"
		cp --sparse=always "$work/disk-before.raw" "$image"
	done
	rm -rf "$work/out-$name"
	cp -r "$share/out" "$work/out-$name"
	if [[ -s $share/out/stage.log ]]; then
		sed 's/^/  | /' "$share/out/stage.log"
	else
		echo "vm: no stage log; the console said:"
		tail -n 60 "$work/console-$name.log" | sed 's/^/  console| /'
	fi
	local stage_rc
	stage_rc=$(cat "$share/out/rc" 2>/dev/null || echo none)
	printf 'vm: boot %s took %ds (qemu exit %d, stage exit %s)\n' "$name" "$((SECONDS - t0))" "$rc" "$stage_rc"
	((rc != 125)) || die "boot $name: the stage did not start within ${start_timeout}s, twice"
	((rc == 0)) || die "boot $name: qemu did not power off within ${boot_timeout}s (exit $rc)"
	[[ $stage_rc == 0 ]] || die "boot $name: the stage failed (exit $stage_rc); journal: $work/out-$name/journal.txt"
	if grep -q '^FAIL:' "$share/out/stage.log"; then
		die "boot $name: an assertion failed"
	fi
	grep -c '^ok:' "$share/out/stage.log" | sed 's/^/vm: assertions passed: /'
	if [[ -n ${COTD_VM_WORK:-} ]]; then
		cp --sparse=always "$image" "$work/disk-after-$name.raw"
	fi
}

# The days: 2026-12-07 is day D, due at 07:00 UTC for dee and at 07:30
# Tokyo time (22:30 UTC the evening before) for Cee. Boot 1 starts just
# before 07:00 so that the timer's first run (OnBootSec=2min) finds today
# due on the template settings; every later boot starts its RTC a minute
# before a 15-minute timer tick, so that it is short; boot 3 comes after
# Cee's Tokyo morning of the 8th and before dee's.
skip=${from:+yes}
boot install 2026-12-07T06:58:30
boot timer 2026-12-07T07:14:00
boot zones 2026-12-07T22:44:00
boot catchup 2026-12-10T07:14:00
boot nontp 2026-12-11T07:14:00 cotd.nontp

step "all boots passed"
printf 'vm: total %ds\n' "$((SECONDS - started))"
exit 0
}
