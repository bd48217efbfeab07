#!/usr/bin/env bash
# Boot 3 (RTC 2026-12-10 07:14 UTC, three days later, NTP "synced"): the
# timer's catch-up at boot (Persistent=true) mails each recipient exactly
# one digest of the three missed days; a second run sends nothing twice.
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

# The owner shortens the NTP wait for the next boot, which has no NTP.
owner "echo COTD_CLOCK_SYNC_WAIT=20s | sudo tee -a /etc/cotd/cotd.env"
show_mail
finish
