#!/usr/bin/env bash
# customize.sh ROOT MAILPIT TLSDIR turns the minbase root filesystem at ROOT
# into the VM test's "Pi": an admin user with sudo (the owner, not root),
# Mailpit on loopback with STARTTLS and AUTH under a test CA written to
# TLSDIR (it refuses every recipient outside example.test with 550), the
# ping and push receiver hookrecv, fakentp before time-sync.target unless
# the kernel command line says cotd.nontp, and the oneshot unit that runs
# each boot's stage script from the 9p share and powers off. Nothing of
# cotd is installed here: the stages install it the way the README says.
set -euo pipefail
root=$1 mailpit=$2 tls=$3

echo pi >"$root/etc/hostname"
cat >"$root/etc/hosts" <<'EOF'
127.0.0.1 localhost
127.0.1.1 pi
# The "SMTP relay" of this Pi: Mailpit on loopback.
127.0.0.1 mail.test
EOF
ln -sf /usr/share/zoneinfo/UTC "$root/etc/localtime"
echo UTC >"$root/etc/timezone"

# The owner: an ordinary user with sudo, as on Raspberry Pi OS.
chroot "$root" useradd --create-home --shell /bin/bash --groups sudo admin
echo 'admin ALL=(ALL) NOPASSWD: ALL' >"$root/etc/sudoers.d/admin"
chmod 0440 "$root/etc/sudoers.d/admin"

# Timers and units that would only slow the boots down (or want a network).
for unit in apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer \
	e2scrub_all.timer e2scrub_reap.service fstrim.timer getty@tty1.service \
	systemd-networkd-wait-online.service; do
	ln -sf /dev/null "$root/etc/systemd/system/$unit"
done

# The test CA and mail.test's certificate (deploy/vm/mkcert, run by
# run.sh into $tls), so cotd verifies the chain as it would with a real
# relay (the owner passes the CA with COTD_SMTP_CA_FILE).
install -D -m 0755 "$mailpit" "$root/usr/local/bin/mailpit"
install -d -m 0755 "$root/etc/mailpit"
install -m 0644 "$tls/mail.pem" "$root/etc/mailpit/mail.pem"
install -m 0600 "$tls/mail.key" "$root/etc/mailpit/mail.key"
echo 'cotd@mail.test:relay-secret' >"$root/etc/mailpit/auth"
chmod 0600 "$root/etc/mailpit/auth"
cat >"$root/etc/systemd/system/mailpit.service" <<'EOF'
[Unit]
Description=Mailpit, the test's SMTP relay (loopback, STARTTLS, AUTH)
# Up before any cotd run, including the timer's first at boot.
Before=cotd.service timers.target

[Service]
ExecStart=/usr/local/bin/mailpit --smtp 127.0.0.1:587 --listen 127.0.0.1:8025 \
  --database /var/lib/mailpit/mailpit.db --disable-version-check \
  --smtp-tls-cert /etc/mailpit/mail.pem --smtp-tls-key /etc/mailpit/mail.key \
  --smtp-require-starttls --smtp-auth-file /etc/mailpit/auth \
  --smtp-allowed-recipients '@example\.test$'
StateDirectory=mailpit

[Install]
WantedBy=multi-user.target
EOF
ln -sf /etc/systemd/system/mailpit.service "$root/etc/systemd/system/multi-user.target.wants/mailpit.service"

# hookrecv (deploy/vm/hookrecv): the owner's outside monitors, a
# healthchecks.io-style ping URL and an ntfy topic on loopback, recording
# every request to /var/lib/hookrecv/requests.jsonl for the stages to read.
cat >"$root/etc/systemd/system/hookrecv.service" <<'EOF'
[Unit]
Description=The test's ping and push receiver (loopback HTTP, records requests)
Before=cotd.service timers.target

[Service]
ExecStart=/usr/local/sbin/hookrecv -listen 127.0.0.1:8090 -log /var/lib/hookrecv/requests.jsonl
StateDirectory=hookrecv

[Install]
WantedBy=multi-user.target
EOF
ln -sf /etc/systemd/system/hookrecv.service "$root/etc/systemd/system/multi-user.target.wants/hookrecv.service"

# fakentp: what timesyncd does after a good NTP answer, on every boot whose
# kernel command line does not say cotd.nontp. After time-set.target
# because setting the clock (timesyncd's clock file) marks it unsynchronised.
cat >"$root/etc/systemd/system/fakentp.service" <<'EOF'
[Unit]
Description=Simulated NTP sync (clears the kernel's STA_UNSYNC)
DefaultDependencies=no
ConditionKernelCommandLine=!cotd.nontp
After=time-set.target systemd-timesyncd.service
Before=time-sync.target sysinit.target
Wants=time-sync.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/fakentp

[Install]
WantedBy=sysinit.target
EOF
mkdir -p "$root/etc/systemd/system/sysinit.target.wants"
ln -sf /etc/systemd/system/fakentp.service "$root/etc/systemd/system/sysinit.target.wants/fakentp.service"

# The stage runner: mount the share, run this boot's stage, keep the
# journal, power off.
cat >"$root/usr/local/sbin/vm-stage" <<'EOF'
#!/bin/bash
mkdir -p /mnt/share
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 share /mnt/share
out=/mnt/share/out
rc=0
bash /mnt/share/stage.sh >"$out/stage.log" 2>&1 || rc=$?
echo "$rc" >"$out/rc"
journalctl -b --no-pager -o short-iso >"$out/journal.txt" 2>&1 || true
sync
umount /mnt/share || true
systemctl poweroff
EOF
chmod 0755 "$root/usr/local/sbin/vm-stage"
cat >"$root/etc/systemd/system/vm-stage.service" <<'EOF'
[Unit]
Description=VM test stage (runs /mnt/share/stage.sh, then powers off)
After=multi-user.target mailpit.service hookrecv.service

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/vm-stage
StandardOutput=journal+console
StandardError=journal+console
TimeoutStartSec=30min

[Install]
WantedBy=multi-user.target
EOF
ln -sf /etc/systemd/system/vm-stage.service "$root/etc/systemd/system/multi-user.target.wants/vm-stage.service"
echo "customize: guest ready (user admin, mailpit on mail.test:587, hookrecv on 127.0.0.1:8090, fakentp, vm-stage)"
