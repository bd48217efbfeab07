#!/usr/bin/env bash
# Boot 3 (RTC 2026-12-07 22:44 UTC, NTP "synced"): each recipient's own
# morning. Cee's line in /etc/cotd/recipients.txt says tz=Asia/Tokyo
# at=07:30, which is 22:30 UTC: the timer's catch-up at boot (its 22:30
# tick was missed) mails her Tuesday 8 December while it is still Monday
# evening in UTC, and dee (the default zone, UTC) gets nothing before her
# 07:00. Then the machine asks for care: a pending reboot and then a
# nearly full disk under the database are named by check, the next alert
# mail and the ping, while the runs still succeed.
# shellcheck source=deploy/vm/guest/lib.sh
source /mnt/share/lib.sh

run date -u
wait_runs 1 420
timer_fired
journal
expect_out 'sent 1 of 1 message; days 2026-12-08' "one message: Cee's Tuesday"
equal "messages to cee@example.test" "$(mail_count to:cee@example.test)" 2
match "Cee's newest subject" "$(mail_subjects to:cee@example.test | tail -n 1)" '^Cat of the Day: .*Tue 8 Dec 2026$'
created=$(mail_created to:cee@example.test | tail -n 1)
check "it came after 07:30 in Tokyo (22:30 UTC), before 07:00 UTC ($created)" \
	test "$created" \> 2026-12-07T22:30 -a "$created" \< 2026-12-08T07:00
equal "messages to dee@example.test (UTC: nothing before 07:00)" "$(mail_count to:dee@example.test)" 1

owner 'sudo cotd-service status'
expect_status 0 "status is healthy"
expect_out 'cee@example.test: next 2026-12-09 07:30 Asia/Tokyo \(2026-12-08 22:30 UTC\), last got 2026-12-08' "status: Cee's next send in her zone and UTC"
expect_out 'dee@example.test: next 2026-12-08 07:00 UTC.*last got 2026-12-07' "status: dee's next send"
owner 'sudo cotd-service check'
expect_out '^ok +recipient: Cee <cee@example.test>: next 2026-12-09 07:30 Asia/Tokyo, 2026-12-08 22:30 UTC' "check: Cee's next send"
expect_out '^ok +recipient: dee@example.test: next 2026-12-08 07:00 UTC' "check: dee's next send"

run systemctl start cotd.service
expect_status 0 "a second run succeeds"
last_run
expect_out 'nothing due; next 2026-12-08 07:00 UTC' "the second run sends nothing"
equal "messages to cee@example.test after the second run" "$(mail_count to:cee@example.test)" 2

# --- The machine asks for care: a reboot pending. ---
# What Debian's upgrades (apt's kernel hook, unattended-upgrades) leave.
# From here on the stage starts each run itself (the timer is stopped
# until the next boot), so which run meets a change is never a race with
# the 22:45 tick.
run systemctl stop cotd.timer
wait_idle 300
run bash -c "echo '*** System restart required ***' >/run/reboot-required && printf '%s\n' linux-image-6.1.0-99-amd64 libc6 >/run/reboot-required.pkgs"
owner 'sudo cotd-service check'
expect_out 'a reboot is pending since .*linux-image-6\.1\.0-99-amd64' "check names the pending reboot and its packages"
expect_out 'sudo reboot' "with the fix"
wait_idle 300
hooks_mark
run systemctl start cotd.service
expect_status 0 "a run with a reboot pending succeeds"
run mail_text to:owner@example.test
expect_out 'a reboot is pending since .*linux-image-6\.1\.0-99-amd64' "the next alert mail names it"
hook_last /ping/cotd body
expect_out 'reboot is pending' "so does the ping's body"
run rm /run/reboot-required /run/reboot-required.pkgs

# --- The machine asks for care: the database's disk fills up. ---
# /var/lib/cotd moves onto a small disk of its own (640 MiB, a loop-mounted
# ext4 image), which then fills up: the warning comes while runs still
# succeed, before one fails for want of space.
wait_idle 300
run modprobe loop
run truncate -s 640M /var/tmp/cotd-disk.img
run mkfs.ext4 -q -m 0 -L cotd-state /var/tmp/cotd-disk.img
run mkdir -p /mnt/cotd-disk
run mount -o loop /var/tmp/cotd-disk.img /mnt/cotd-disk
expect_status 0 "the small disk is mounted"
run cp -a /var/lib/cotd/. /mnt/cotd-disk/
run umount /mnt/cotd-disk
run mount -o loop /var/tmp/cotd-disk.img /var/lib/cotd
run chown cotd:cotd /var/lib/cotd
run chmod 0750 /var/lib/cotd
run df -h /var/lib/cotd
owner 'sudo cotd-service check'
expect_no_out 'filesystem of the database' "no warning with 600 MiB free"
run fallocate -l 580M /var/lib/cotd/filler
run df -h /var/lib/cotd
owner 'sudo cotd-service check'
expect_out 'the filesystem of the database[^;]*\(/var/lib/cotd\) has [0-9.]+ [KM]iB free' "check warns that the database's disk is nearly full"
hooks_mark
run systemctl start cotd.service
expect_status 0 "the run still succeeds"
run mail_text to:owner@example.test
expect_out 'filesystem of the database[^;]*\(/var/lib/cotd\) has [0-9.]+ [KM]iB free' "the next alert mail warns too"
hook_last /ping/cotd body
expect_out 'filesystem of the database' "so does the ping's body"
owner 'sudo cotd-service status'
expect_out 'filesystem of the database' "and status"
# Back onto the root filesystem, with what the runs on the small disk did.
run rm /var/lib/cotd/filler
run umount /var/lib/cotd
run mount -o loop /var/tmp/cotd-disk.img /mnt/cotd-disk
run cp -a /mnt/cotd-disk/. /var/lib/cotd/
run rm -rf /var/lib/cotd/lost+found
run umount /mnt/cotd-disk
run rm /var/tmp/cotd-disk.img
run systemctl start cotd.timer
run ls -l /var/lib/cotd
check "the database is back on the root filesystem" test "$(stat -f -c %i /var/lib/cotd)" = "$(stat -f -c %i /)"
show_mail
finish
