#!/usr/bin/env bash
# lib.sh: what every stage script of the VM test uses (sourced, inside the
# guest). Each command is printed with a "$ " prefix, then its output and
# its exit code; each assertion prints one "ok: ..." or "FAIL: ..." line.
# The host fails the boot on any FAIL line or a non-zero stage exit.
set -uo pipefail
export SYSTEMD_PAGER='' SYSTEMD_COLORS=0 LC_ALL=C.UTF-8
export share=/mnt/share
failures=0
out=""  # the output of the last run/owner command
status=0

ok() { printf 'ok: %s\n' "$*"; }
fail() {
	printf 'FAIL: %s\n' "$*"
	failures=$((failures + 1))
}

# run CMD...: run as root, print it and its output; $out and $status hold them.
run() {
	printf '\n# %s\n' "$*"
	out=$("$@" 2>&1)
	status=$?
	[[ -z $out ]] || printf '%s\n' "$out"
	printf '[exit %d]\n' "$status"
}

# owner 'SHELL COMMAND': run it as the owner "admin" in a fresh login shell
# (as over ssh: a new login sees new groups), printed with a prompt.
owner() {
	printf '\nadmin@pi:~$ %s\n' "$1"
	out=$(su --login admin --command "$1" 2>&1)
	status=$?
	[[ -z $out ]] || printf '%s\n' "$out"
	printf '[exit %d]\n' "$status"
}

expect_status() {
	if [[ $status == "$1" ]]; then ok "exit $1${2:+: $2}"; else fail "exit $status, want $1${2:+: $2}"; fi
}
# expect_out REGEX [what]: the last command's output matches REGEX (grep -E).
expect_out() {
	if grep -Eq -- "$1" <<<"$out"; then ok "output has /$1/${2:+: $2}"; else fail "output lacks /$1/${2:+: $2}"; fi
}
expect_no_out() {
	if grep -Eq -- "$1" <<<"$out"; then fail "output has /$1/${2:+: $2}"; else ok "output lacks /$1/${2:+: $2}"; fi
}
# check WHAT CMD...: the assertion that CMD succeeds.
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else fail "$what"; fi
}
equal() {
	if [[ $2 == "$3" ]]; then ok "$1: $2"; else fail "$1: got '$2', want '$3'"; fi
}

# match WHAT STRING REGEX: STRING matches the extended REGEX.
match() {
	if grep -Eq -- "$3" <<<"$2"; then ok "$1: '$2' =~ /$3/"; else fail "$1: '$2' does not match /$3/"; fi
}

# mail_count QUERY: how many messages Mailpit holds that match its search
# QUERY (e.g. to:cee@example.test).
mail_count() {
	curl -fsS -G --data-urlencode "query=$1" http://127.0.0.1:8025/api/v1/search | jq -r .messages_count
}
# mail_subjects QUERY: their subjects, oldest first, one a line.
mail_subjects() {
	curl -fsS -G --data-urlencode "query=$1" --data-urlencode limit=1000 http://127.0.0.1:8025/api/v1/search |
		jq -r '.messages | reverse | .[].Subject'
}
# mail_created QUERY: when Mailpit received them (the guest's clock, UTC),
# oldest first, one a line.
mail_created() {
	curl -fsS -G --data-urlencode "query=$1" --data-urlencode limit=1000 http://127.0.0.1:8025/api/v1/search |
		jq -r '.messages | reverse | .[].Created'
}
show_mail() {
	printf '\n# mailpit: every message (date, to, subject)\n'
	curl -fsS 'http://127.0.0.1:8025/api/v1/messages?limit=1000' |
		jq -r '.messages | reverse | .[] | "\(.Created)  \([.To[].Address] | join(","))  \(.Subject)"'
}

# mail_text QUERY: the plain-text body of the newest message matching QUERY.
mail_text() {
	local id
	id=$(curl -fsS -G --data-urlencode "query=$1" --data-urlencode limit=1 http://127.0.0.1:8025/api/v1/search | jq -r '.messages[0].ID // empty')
	[[ -n $id ]] && curl -fsS "http://127.0.0.1:8025/api/v1/message/$id" | jq -r .Text
}

# The owner's outside monitors: hookrecv (deploy/vm/hookrecv) records each
# ping (COTD_PING_URL=http://127.0.0.1:8090/ping/cotd) and push
# (COTD_NOTIFY_URL=http://127.0.0.1:8090/ntfy/cotd) as one JSON line.
hooks=/var/lib/hookrecv/requests.jsonl
hook_mark=0
# hooks_mark: the hook_* functions below see only requests from now on.
hooks_mark() { hook_mark=$(wc -l <"$hooks" 2>/dev/null || echo 0); }
# hooks_since: the requests since hooks_mark, one JSON object a line.
hooks_since() { tail -n +"$((hook_mark + 1))" "$hooks" 2>/dev/null; }
# hook_count PATH: how many requests to PATH came since hooks_mark.
hook_count() { hooks_since | jq -s --arg p "$1" '[.[] | select(.path == $p)] | length'; }
# hook_last PATH FIELD: FIELD (body, title, ...) of the last request to PATH
# since hooks_mark, into $out.
hook_last() {
	out=$(hooks_since | jq -rs --arg p "$1" --arg f "$2" '[.[] | select(.path == $p)] | last | .[$f] // empty')
	printf '\n# hookrecv: %s of the last request to %s since the mark\n%s\n' "$2" "$1" "$out"
}
show_hooks() {
	printf '\n# hookrecv: requests since the mark (time, path, title, body)\n'
	hooks_since | jq -r '"\(.time)  \(.method) \(.path)  \(.title // "")  \(.body | gsub("\n"; " | ") | .[0:200])"'
}

# runs_finished: how many cotd.service runs ended in this boot (either way).
runs_finished() {
	journalctl -b -u cotd.service -o cat --no-pager 2>/dev/null |
		grep -cE '^(Finished|Failed to start) cotd\.service' || true
}
# wait_runs N SECONDS: wait until N cotd.service runs have ended in this
# boot (they are started by the timer, never by the stage), or fail.
wait_runs() {
	local want=$1 deadline=$((SECONDS + $2)) n
	printf '\n# waiting up to %ss for run %s of cotd.service (started by cotd.timer) to end\n' "$2" "$want"
	while n=$(runs_finished); ((n < want)); do
		if ((SECONDS >= deadline)); then
			fail "only $n cotd.service runs ended within $2 s, want $want"
			return 1
		fi
		sleep 2
	done
	ok "cotd.service run $want ended (at $(date -u +%H:%M:%S) guest time)"
}
# wait_idle SECONDS: wait until no cotd.service run is under way (a timer
# tick may start one while the stage looks), or fail.
wait_idle() {
	local deadline=$((SECONDS + $1))
	while [[ $(systemctl is-active cotd.service) =~ ^(activating|active|deactivating)$ ]]; do
		if ((SECONDS >= deadline)); then
			fail "cotd.service still running after $1 s"
			return 1
		fi
		sleep 2
	done
	ok "no cotd.service run under way"
}
# wait_boot_trigger SECONDS: wait until cotd.timer's OnBootSec= has fired
# (systemd then shows no monotonic elapse: "infinity", or 0 when it fired
# together with the calendar tick) and its run, if any, ended. The
# 07:00 tick and OnBootSec=2min fire once or twice, in either order, as
# the guest's boot was fast or slow; a stage that changes the settings
# next must not have a run of the old ones start behind it.
wait_boot_trigger() {
	local deadline=$((SECONDS + $1)) next
	printf '\n# waiting up to %ss for the OnBootSec= trigger of cotd.timer\n' "$1"
	while next=$(systemctl show cotd.timer -p NextElapseUSecMonotonic --value); [[ -n $next && $next != infinity && $next != 0 ]]; do
		if ((SECONDS >= deadline)); then
			fail "cotd.timer's OnBootSec= has not fired within $1 s (next: $next)"
			return 1
		fi
		sleep 2
	done
	ok "cotd.timer's OnBootSec= has fired"
	wait_idle "$1"
}
# timer_fired: cotd.timer has triggered in this boot (the stages never
# start cotd.service themselves).
timer_fired() {
	run systemctl show cotd.timer -p LastTriggerUSec -p NextElapseUSecRealtime
	expect_out '^LastTriggerUSec=[A-Z][a-z]{2} ' "cotd.timer triggered the runs"
}
# journal: this boot's lines from cotd.service and cotd.timer, into $out.
journal() {
	run journalctl -b -u cotd.service -u cotd.timer -o short-iso --no-pager
}

# last_run: the journal of the last cotd.service run only, into $out.
last_run() {
	printf '\n# journalctl -b -u cotd.service (the last run only)\n'
	out=$(journalctl -b -u cotd.service -o short-iso --no-pager |
		awk '/systemd\[1\]: Starting cotd\.service/ { buf = "" } { buf = buf $0 "\n" } END { printf "%s", buf }')
	printf '%s\n' "$out"
}

finish() {
	printf '\n%d assertion(s) failed\n' "$failures"
	((failures == 0))
}
