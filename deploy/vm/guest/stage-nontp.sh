#!/usr/bin/env bash
# Boot 5 (RTC 2026-12-11 07:14 UTC, kernel command line cotd.nontp: no NTP
# sync at all, as on a Pi whose NTP is blocked): the timer still runs cotd
# (its Persistent= catch-up at boot: the 07:00 tick of this day was missed),
# which waits the bounded 20 s the owner set, says so in the journal and
# goes on. Then an upgrade that keeps every edit, uninstall, purge.
# shellcheck source=deploy/vm/guest/lib.sh
source /mnt/share/lib.sh

run date -u
run timedatectl show -p NTPSynchronized
expect_out 'NTPSynchronized=no' "no NTP sync in this boot"
owner 'sudo cotd-service check'
expect_out '^warn +time sync: not synchronised.*waits up to 20s' "check says the clock is not synchronised"
owner 'sudo cotd-service status'
expect_out 'the clock is not synchronised' "status says the clock is not synchronised"

wait_runs 1 420
timer_fired
journal
expect_out 'the clock is not synchronised after waiting 20s' "the bounded wait's journal line"
expect_out 'sent 2 of 2 messages.*days 2026-12-11' "it went on and delivered day D+4"
# A later tick may have started another run (it waits too); measure the
# last one once it is over.
wait_idle 300
run systemctl show cotd.service -p ExecMainStartTimestampMonotonic -p ExecMainExitTimestampMonotonic -p ExecMainStatus
start=$(sed -n 's/^ExecMainStartTimestampMonotonic=//p' <<<"$out")
end=$(sed -n 's/^ExecMainExitTimestampMonotonic=//p' <<<"$out")
took=$(((end - start) / 1000000))
check "the run waited the 20 s bound, and not much longer (took ${took}s)" test "$took" -ge 20 -a "$took" -lt 300
expect_out 'ExecMainStatus=0'
run systemctl list-timers cotd.timer --no-pager
expect_no_out '^- ' "the timer has a next tick (no start job stuck behind NTP)"
for who in cee dee; do
	equal "messages to $who@example.test" "$(mail_count "to:$who@example.test")" "$(if [[ $who == cee ]]; then echo 4; else echo 3; fi)"
	equal "no subject twice for $who" "$(mail_subjects "to:$who@example.test" | sort | uniq -d | wc -l)" 0
done
# The same date is the same cat for everyone, whatever their zone.
match "Cee's Friday" "$(mail_subjects to:cee@example.test | tail -n 1)" 'Fri 11 Dec 2026$'
equal "Cee's and dee's Friday: one cat" "$(mail_subjects to:cee@example.test | tail -n 1)" "$(mail_subjects to:dee@example.test | tail -n 1)"
show_mail

# --- Upgrade: the owner's edits survive. ---
owner "echo 'Time spent with cats is never wasted. — Sigmund Freud' >>/srv/cotd/quotes.txt"
# What "sudo systemctl edit cotd.service" writes, without an editor.
owner "sudo mkdir -p /etc/systemd/system/cotd.service.d && printf '[Service]\nEnvironment=COTD_CATCH_UP_MAX_DAYS=5\n' | sudo tee /etc/systemd/system/cotd.service.d/override.conf && sudo systemctl daemon-reload"
expect_status 0 "a drop-in, as systemctl edit makes it"
kept=(/etc/cotd/cotd.env /etc/cotd/recipients.txt /etc/cotd/smtp-password /etc/cotd/ca.pem /srv/cotd/quotes.txt
	/etc/systemd/system/cotd.service.d/override.conf /srv/cotd/photos/*)
before=$(sha256sum "${kept[@]}" 2>&1; stat -c '%n %U:%G %a' "${kept[@]}" /srv/cotd /srv/cotd/photos)
run install -o admin -g admin -m 0755 "$share/v2/cotd" "$share/v2/pi-setup.sh" /home/admin/
owner 'sudo ./pi-setup.sh'
expect_status 0 "the upgrade ran"
expect_out 'installing cotd vm-2' "it installs the new version"
expect_out 'kept /etc/cotd/cotd.env'
expect_out 'kept /etc/cotd/smtp-password'
expect_out 'kept /etc/cotd/recipients.txt'
after=$(sha256sum "${kept[@]}" 2>&1; stat -c '%n %U:%G %a' "${kept[@]}" /srv/cotd /srv/cotd/photos)
equal "settings, password, CA, quotes, drop-in, photos and their modes unchanged" "$(diff <(echo "$before") <(echo "$after") | wc -l)" 0
run cotd version
expect_out '^cotd vm-2 ' "the new binary is installed"
run systemctl is-enabled cotd.timer
expect_out '^enabled$' "the timer stays enabled"
run systemctl show cotd.service -p DropInPaths -p Environment
expect_out 'override.conf' "the drop-in still applies"
expect_out 'COTD_CATCH_UP_MAX_DAYS=5'
owner 'sudo cotd-service status'
expect_out 'last delivered.*2026-12-11' "the database kept its history"

# --- Uninstall: units and binary go, data stays. ---
owner 'sudo ./pi-setup.sh --uninstall'
expect_status 0 "uninstall ran"
for gone in /usr/local/bin/cotd /usr/local/sbin/cotd-service /etc/systemd/system/cotd.service \
	/etc/systemd/system/cotd.timer /etc/systemd/system/timers.target.wants/cotd.timer; do
	check "uninstall removed $gone" test ! -e "$gone"
done
run systemctl list-timers --all --no-pager
expect_no_out 'cotd' "no cotd timer left"
for kept_path in /etc/cotd/cotd.env /etc/cotd/smtp-password /var/lib/cotd/cotd.db /srv/cotd/quotes.txt /srv/cotd/photos/cat-12.jpg; do
	check "uninstall kept $kept_path" test -e "$kept_path"
done

# --- Purge: everything goes. ---
owner 'sudo ./pi-setup.sh --purge'
expect_status 0 "purge ran"
for gone in /etc/cotd /var/lib/cotd /srv/cotd /etc/systemd/system/cotd.service.d; do
	check "purge removed $gone" test ! -e "$gone"
done
check "purge removed the user cotd" bash -c '! getent passwd cotd'
check "purge removed the group cotd" bash -c '! getent group cotd'
owner 'id -nG'
expect_no_out 'cotd' "the owner is no longer in group cotd"
finish
