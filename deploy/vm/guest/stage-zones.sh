#!/usr/bin/env bash
# Boot 3 (RTC 2026-12-07 22:44 UTC, NTP "synced"): each recipient's own
# morning. Cee's line in /etc/cotd/recipients.txt says tz=Asia/Tokyo
# at=07:30, which is 22:30 UTC: the timer's catch-up at boot (its 22:30
# tick was missed) mails her Tuesday 8 December while it is still Monday
# evening in UTC, and dee (the default zone, UTC) gets nothing before her
# 07:00.
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
show_mail
finish
