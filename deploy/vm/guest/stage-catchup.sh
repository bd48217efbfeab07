#!/usr/bin/env bash
# Boot 3 (RTC 2026-12-10 07:14 UTC, three days later, NTP "synced"): the
# timer's catch-up at boot (Persistent=true) mails each recipient exactly
# one digest of the three missed days; a second run sends nothing twice.
# Then a failed run (relay down, then a recipient refused) is heard on
# every channel: the /fail ping, a push, the alert mail.
# shellcheck source=deploy/vm/guest/lib.sh
source /mnt/share/lib.sh

run date -u
wait_runs 1 420
timer_fired
journal
expect_out 'sent 2 of 2 messages' "one message per recipient"
expect_out 'days 2026-12-(08,2026-12-09,2026-12-10|10,2026-12-09,2026-12-08);' "the three missed days, in one run"
run systemctl start cotd.service
expect_status 0 "a second run succeeds"
journal
expect_out 'nothing due; next 2026-12-11 07:00 UTC' "the second run sends nothing"
for who in cee dee; do
	equal "messages to $who@example.test (day D, then the digest)" "$(mail_count "to:$who@example.test")" 2
	subjects=$(mail_subjects "to:$who@example.test")
	match "subjects to $who, oldest first: day D, then the digest" "$(tr '\n' '|' <<<"$subjects")" '^Cat of the Day: [^|]*Mon 7 Dec 2026\|Cat of the Day: [^|]*8–10 Dec 2026 \(3 cats[,)][^|]*\|$'
	equal "no subject twice for $who" "$(sort <<<"$subjects" | uniq -d | wc -l)" 0
done

# --- A failed run is heard on every channel that still works. ---
# The owner adds a recipient the relay refuses (Mailpit takes only
# example.test) while the relay itself is down: the run fails (exit 1) and
# the dead man's switch gets /fail and the phone a push; the alert mail
# cannot go (the same server is down) and the journal says so.
env_before=$(cat /etc/cotd/cotd.env)
owner "sudo sed -i 's/^COTD_TO=.*/COTD_TO=\"Cee <cee@example.test>, dee@example.test, Bo <bo@nowhere.test>\"/' /etc/cotd/cotd.env && grep ^COTD_TO= /etc/cotd/cotd.env"
expect_out 'bo@nowhere.test' "the owner added a recipient"
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
journal
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
	equal "messages to $who@example.test (no resend in the failed runs)" "$(mail_count "to:$who@example.test")" 2
done

# The owner takes the address out again: the next run succeeds, pings
# success and the alert mail says the problem is resolved.
owner "sudo sed -i 's/, Bo <bo@nowhere.test>//' /etc/cotd/cotd.env"
equal "the settings as before the new recipient" "$(diff <(echo "$env_before") /etc/cotd/cotd.env | wc -l)" 0
hooks_mark
run systemctl start cotd.service
expect_status 0 "the next run succeeds"
show_hooks
hook_last /ping/cotd body
expect_out '^cotd on pi: ok' "the success ping"
equal "/fail pings" "$(hook_count /ping/cotd/fail)" 0
run mail_subjects to:owner@example.test
match "the newest alert mail" "$(tail -n 1 <<<"$out")" '^cotd on pi: resolved'

# The owner shortens the NTP wait for the next boot, which has no NTP.
owner "echo COTD_CLOCK_SYNC_WAIT=20s | sudo tee -a /etc/cotd/cotd.env"
show_mail
finish
