#!/usr/bin/env bash
# Boot 4 (RTC 2026-12-10 07:14 UTC, three days later, NTP "synced"): the
# timer's catch-up at boot (Persistent=true) mails each recipient exactly
# one digest of the days they missed in their own zone (dee, UTC: 8-10
# December; Cee, Tokyo, who had the 8th the evening before: 9-10); a
# second run sends nothing twice. Then a failed run (relay down, then a
# recipient refused) is heard on every channel: the /fail ping, a push,
# the alert mail. Then the database is deleted: runs refuse (exit 3, heard
# too) until the owner restores the newest snapshot, and nobody gets a day
# twice.
# shellcheck source=deploy/vm/guest/lib.sh
source /mnt/share/lib.sh

run date -u
wait_runs 1 420
timer_fired
journal
expect_out 'sent 2 of 2 messages' "one message per recipient"
run systemctl start cotd.service
expect_status 0 "a second run succeeds"
last_run
expect_out 'nothing due; next 2026-12-11 07:30 JST' "the second run sends nothing (next: Cee's 07:30 in Tokyo)"
equal "messages to dee@example.test (day D, then the digest)" "$(mail_count to:dee@example.test)" 2
subjects=$(mail_subjects to:dee@example.test)
match "subjects to dee, oldest first: day D, then 8-10 December" "$(tr '\n' '|' <<<"$subjects")" '^Cat of the Day: [^|]*Mon 7 Dec 2026\|Cat of the Day: [^|]*8–10 Dec 2026 \(3 cats[,)][^|]*\|$'
equal "messages to cee@example.test (day D, the 8th, then the digest)" "$(mail_count to:cee@example.test)" 3
subjects=$(mail_subjects to:cee@example.test)
match "subjects to Cee, oldest first: day D, the 8th, then 9-10 December" "$(tr '\n' '|' <<<"$subjects")" '^Cat of the Day: [^|]*Mon 7 Dec 2026\|Cat of the Day: [^|]*Tue 8 Dec 2026\|Cat of the Day: [^|]*9–10 Dec 2026 \(2 cats[,)][^|]*\|$'
for who in cee dee; do
	equal "no subject twice for $who" "$(mail_subjects "to:$who@example.test" | sort | uniq -d | wc -l)" 0
done

# --- A failed run is heard on every channel that still works. ---
# The owner adds a recipient the relay refuses (Mailpit takes only
# example.test) while the relay itself is down: the run fails (exit 1) and
# the dead man's switch gets /fail and the phone a push; the alert mail
# cannot go (the same server is down) and the journal says so.
# From here on the stage starts each run itself: the timer is stopped
# (it starts again at the next boot), so its 07:15 tick cannot try the new
# address between the edit and the relay going down (it did once: the 550
# it got held Bo back until tomorrow, and the relay-down run never dialled).
run systemctl stop cotd.timer
wait_idle 300
list_before=$(cat /etc/cotd/recipients.txt)
owner "echo 'Bo <bo@nowhere.test>' >>/etc/cotd/recipients.txt"
expect_status 0 "the owner added a recipient"
wait_idle 300
run systemctl stop mailpit.service
hooks_mark
run systemctl start cotd.service
expect_status 1 "the run with the relay down fails"
run systemctl show cotd.service -p ExecMainStatus
expect_out '^ExecMainStatus=1$' "it exits 1 (something due not delivered)"
show_hooks
hook_last /ping/cotd/fail body
expect_out 'FAILED \(exit 1\)' "the /fail ping says the run failed"
expect_out 'connection refused' "and why"
hook_last /ntfy/cotd title
expect_out '^cotd on pi: cotd cannot send mail' "a push says mail is broken"
hook_last /ntfy/cotd priority
expect_out '^5$' "at ntfy's urgent priority"
last_run
expect_out 'alert mail failed' "the journal says the alert mail could not go"

# The relay is back but refuses the new address (550): the run fails
# again, and now the alert mail reaches the owner and names the address.
run systemctl start mailpit.service
hooks_mark
run systemctl start cotd.service
expect_status 1 "the run with a refused recipient fails"
show_hooks
hook_last /ping/cotd/fail body
expect_out 'FAILED \(exit 1\)' "the /fail ping says the run failed"
expect_out 'bo@nowhere.test' "and names the refused recipient"
run mail_subjects to:owner@example.test
match "the alert mail's subject" "$(tail -n 1 <<<"$out")" '^cotd on pi: .*did not get the cat mail'
run mail_text to:owner@example.test
expect_out 'bo@nowhere.test' "the alert names the refused recipient"
for who in cee dee; do
	equal "messages to $who@example.test (no resend in the failed runs)" "$(mail_count "to:$who@example.test")" "$(if [[ $who == cee ]]; then echo 3; else echo 2; fi)"
done

# The owner takes the address out again: the next run succeeds, pings
# success and the alert mail says the problem is resolved.
owner "grep -v '^Bo ' /etc/cotd/recipients.txt >~/recipients.txt && cat ~/recipients.txt >/etc/cotd/recipients.txt"
equal "the recipients as before Bo" "$(diff <(echo "$list_before") /etc/cotd/recipients.txt | wc -l)" 0
hooks_mark
run systemctl start cotd.service
expect_status 0 "the next run succeeds"
show_hooks
hook_last /ping/cotd body
expect_out '^cotd on pi: ok' "the success ping"
equal "/fail pings" "$(hook_count /ping/cotd/fail)" 0
run mail_subjects to:owner@example.test
match "the newest alert mail" "$(tail -n 1 <<<"$out")" '^cotd on pi: resolved'

# --- The database is lost (the SD card's sorrow); a snapshot puts it back. ---
# Every run that changed the state left a snapshot in the backup folder
# (default: backups/ beside the database); the newest has all of today.
wait_idle 300
run ls -l /var/lib/cotd/backups
newest=$(find /var/lib/cotd/backups -name 'cotd-*.db' | sort | tail -n 1)
match "the newest snapshot is today's" "$newest" '/var/lib/cotd/backups/cotd-2026-12-10\.db$'
run rm /var/lib/cotd/cotd.db
owner 'sudo cotd-service status'
expect_status 1 "status is unhealthy"
expect_out "restore $newest" "status names the newest snapshot and the command that restores it"
# A run refuses to start afresh (exit 3) and is heard: the /3 ping and the
# alert mail, each with the command.
hooks_mark
run systemctl start cotd.service
expect_status 1 "the run without its database fails"
run systemctl show cotd.service -p ExecMainStatus
expect_out '^ExecMainStatus=3$' "it refuses to act on the state (exit 3)"
hook_last /ping/cotd/3 body
expect_out 'FAILED \(exit 3\)' "the dead man's switch hears the refusal"
run mail_text to:owner@example.test
expect_out "restore $newest" "the alert mail names the snapshot and the command"
check "no database was made afresh" test ! -e /var/lib/cotd/cotd.db
wait_idle 300
owner "sudo cotd-service restore $newest"
expect_status 0 "restore put the snapshot back"
expect_out 'last delivered: +2026-12-10' "it says what the snapshot holds"
expect_out 'recipients: +(.*, )?cee@example.test, dee@example.test' "and the recipients it knows"
run systemctl start cotd.service
expect_status 0 "the next run succeeds"
last_run
expect_out 'nothing due; next 2026-12-11 07:30 JST' "and sends nothing again"
for who in cee dee; do
	equal "messages to $who@example.test after the restore (none twice)" "$(mail_count "to:$who@example.test")" "$(if [[ $who == cee ]]; then echo 3; else echo 2; fi)"
done

# The owner shortens the NTP wait for the next boot, which has no NTP.
owner "echo COTD_CLOCK_SYNC_WAIT=20s | sudo tee -a /etc/cotd/cotd.env"
show_mail
finish
