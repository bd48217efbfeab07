#!/usr/bin/env bash
# Boot 2 (RTC 2026-12-07 07:14 UTC, NTP "synced"): the timer, not a manual
# start, delivers day D at its 07:15 tick; its next run (OnBootSec=2min)
# sends nothing.
# shellcheck source=deploy/vm/guest/lib.sh
source /mnt/share/lib.sh

run date -u
run systemctl list-timers cotd.timer --no-pager
wait_runs 1 300
timer_fired
journal
expect_out 'sent 2 of 2 messages' "the timer's run mailed both recipients"
expect_out 'days 2026-12-07' "for day D"
equal "messages to cee@example.test" "$(mail_count to:cee@example.test)" 1
equal "messages to dee@example.test" "$(mail_count to:dee@example.test)" 1
equal "subject for cee" "$(mail_subjects to:cee@example.test)" "Cat of the Day: Mon 7 Dec 2026"

wait_runs 2 300
journal
expect_out 'nothing due; next 2026-12-08 07:00 UTC' "the second run sends nothing"
equal "messages to cee@example.test after the second run" "$(mail_count to:cee@example.test)" 1
equal "messages to dee@example.test after the second run" "$(mail_count to:dee@example.test)" 1
owner 'sudo cotd-service status'
expect_status 0 "status is healthy"
expect_out 'last delivered.*2026-12-07' "status names day D as delivered"
show_mail
finish
