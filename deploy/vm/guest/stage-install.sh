#!/usr/bin/env bash
# Boot 1 (RTC 2026-12-07 06:58:30 UTC, NTP "synced" by fakentp): install cotd
# exactly as the README's Pi section says, as the owner "admin" with sudo,
# in the README's order; see that the timer does not act on the template
# settings; configure (with an alert address, a ping URL and a push URL);
# check; send-test.
# shellcheck source=deploy/vm/guest/lib.sh
source /mnt/share/lib.sh

run date -u
run timedatectl show -p NTPSynchronized
expect_out 'NTPSynchronized=yes' "fakentp marked the clock synchronised"

# "scp cotd pi-setup.sh pi:"
run install -o admin -g admin -m 0755 "$share/v1/cotd" "$share/v1/pi-setup.sh" /home/admin/

# "ssh pi sudo ./pi-setup.sh"
owner 'sudo ./pi-setup.sh'
expect_status 0 "pi-setup.sh installed cotd"
expect_out 'added admin to group cotd' "the installer says it added the owner to group cotd"
owner 'id -nG'
expect_out '(^| )cotd( |$)' "the owner is in group cotd (a new login sees it)"
run systemctl is-enabled cotd.timer
expect_out '^enabled$'

# The timer's first runs (its 07:00 tick and OnBootSec=2min, once or
# twice as the boot was fast or slow) come when today is due, and still on
# the template settings: they must refuse, not write today's mail for the
# demo address (which would mark today delivered). Both triggers are past
# before the settings change, so no run of this boot mails early.
wait_runs 1 240
wait_boot_trigger 240
journal
expect_out 'still the template' "the journal says why it did nothing"
expect_no_out 'level=INFO msg="(sent|wrote)' "no run on the template settings sent or wrote anything"
timer_fired
run systemctl show cotd.service -p ExecMainStatus -p Result
expect_out 'ExecMainStatus=2' "the refusal exits 2 (configuration)"
run find /var/lib/cotd -name '*.eml'
equal "outbox messages written on template settings" "$(find /var/lib/cotd -name '*.eml' | wc -l)" 0

# "scp ~/Pictures/cats/*.jpg pi:/srv/cotd/photos/" (the README's step 1)
owner "cp $share/photos/*.jpg /srv/cotd/photos/ && ls -l /srv/cotd/photos | head -n 4"
expect_status 0
expect_out ' admin cotd ' "copied photos get group cotd from the setgid folder"
# A photo moved in (mv keeps its group, admin) is not readable by cotd
# until its owner gives it to group cotd, which only a member may do.
owner "cp $share/photos/cat-01.jpg ~/moved.jpg && mv ~/moved.jpg /srv/cotd/photos/ && chgrp cotd /srv/cotd/photos/moved.jpg && ls -l /srv/cotd/photos/moved.jpg && rm /srv/cotd/photos/moved.jpg"
expect_status 0 "the owner's chgrp cotd on a moved-in photo works"

# "nano /etc/cotd/recipients.txt" (the owner's file, no sudo), then
# "sudo nano /etc/cotd/cotd.env": sender, SMTP server.
# Cee lives in Tokyo and wants her cat at 07:30 there (22:30 UTC); dee
# gets it at the default 07:00 in the Pi's zone (UTC).
owner "printf '%s\\n' 'Cee <cee@example.test>  tz=Asia/Tokyo  at=07:30' 'dee@example.test' >>/etc/cotd/recipients.txt && ls -l /etc/cotd/recipients.txt"
expect_status 0 "the owner edits the recipients file without sudo"
expect_out '^-rw-r----- 1 admin cotd ' "recipients.txt is the owner's, readable by group cotd"
run install -m 0644 "$share/ca.pem" /etc/cotd/ca.pem
owner "sudo tee -a /etc/cotd/cotd.env >/dev/null <<'EOF'
COTD_FROM=\"Cat of the Day <cotd@mail.test>\"
COTD_SMTP_HOST=mail.test
COTD_SMTP_USER=cotd@mail.test
COTD_SMTP_CA_FILE=/etc/cotd/ca.pem
EOF"
expect_status 0
# README's Monitoring: the owner's alert address, a dead man's switch and a
# push topic (hookrecv on loopback stands in for healthchecks.io and ntfy).
owner "sudo tee -a /etc/cotd/cotd.env >/dev/null <<'EOF'
COTD_ALERT_TO=owner@example.test
COTD_PING_URL=http://127.0.0.1:8090/ping/cotd
COTD_NOTIFY_URL=http://127.0.0.1:8090/ntfy/cotd
EOF"
expect_status 0

# The password is still empty: the hint names the file the owner edits.
owner 'sudo cotd-service check'
expect_status 1 "check fails on the empty password"
expect_out 'fix: .*/etc/cotd/smtp-password' "the fix names /etc/cotd/smtp-password"
expect_no_out 'fix: .*/run/credentials' "not systemd's read-only copy"

# "sudo nano /etc/cotd/smtp-password"
owner "echo relay-secret | sudo tee /etc/cotd/smtp-password >/dev/null"
owner 'sudo cotd-service check'
expect_status 0 "cotd-service check passes"
expect_out '^ok +time sync: synchronised \(NTP\)' "check reports the clock synchronised"
expect_out '^ok +smtp: .*accepted' "check logged in to the relay"
expect_out '^ok +recipient: Cee <cee@example.test>: next 2026-12-0[78] 07:30 Asia/Tokyo' "check reads Cee's line with her zone"
expect_out '^ok +monitoring: alert mail to <owner@example.test>, pings to http://127.0.0.1:8090/.*, push notifications to http://127.0.0.1:8090/' "check names all three channels"

owner 'sudo cotd-service send-test --to admin@example.test'
expect_status 0 "send-test sent"
equal "test messages in Mailpit for admin@example.test" "$(mail_count to:admin@example.test)" 1
equal "mail to the recipients before the timer's next tick" "$(mail_count to:cee@example.test)" 0

run systemctl list-timers cotd.timer --no-pager
expect_no_out 'n/a +n/a +n/a' "the timer has a next tick"
show_mail
finish
