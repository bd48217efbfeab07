#!/usr/bin/env bash
# Boot 2 (RTC 2026-12-07 07:14 UTC, NTP "synced"): the timer, not a manual
# start, delivers day D (its 07:15 tick, or the Persistent= catch-up at boot
# when the emulated boot took past 07:15); a second run sends nothing.
# shellcheck source=deploy/vm/guest/lib.sh
source /mnt/share/lib.sh

run date -u
run systemctl list-timers cotd.timer --no-pager
wait_runs 1 420
timer_fired
journal
expect_out 'sent 2 of 2 messages' "the timer's run mailed both recipients"
expect_out 'days 2026-12-07' "for day D"
equal "messages to cee@example.test" "$(mail_count to:cee@example.test)" 1
equal "messages to dee@example.test" "$(mail_count to:dee@example.test)" 1
match "subject for cee" "$(mail_subjects to:cee@example.test)" '^Cat of the Day: .*Mon 7 Dec 2026$'
# The dead man's switch heard the timer's run start and succeed.
show_hooks
hook_last /ping/cotd body
expect_out 'sent 2 of 2 messages; days 2026-12-07' "the success ping carries the run's summary"
check "the run pinged /start first" test "$(hook_count /ping/cotd/start)" -ge 1
equal "pushes (mail works)" "$(hook_count /ntfy/cotd)" 0

# A second run: the owner starts one by hand (the timer's next tick may be
# up to 15 minutes away, depending on how long this emulated boot took).
run systemctl start cotd.service
expect_status 0 "the second run succeeds"
journal
expect_out 'nothing due; next 2026-12-08 07:30 JST' "the second run sends nothing (next: Cee's 07:30 in Tokyo)"
equal "messages to cee@example.test after the second run" "$(mail_count to:cee@example.test)" 1
equal "messages to dee@example.test after the second run" "$(mail_count to:dee@example.test)" 1
owner 'sudo cotd-service status'
expect_status 0 "status is healthy"
expect_out 'last delivered.*2026-12-07' "status names day D as delivered"
show_mail
finish
