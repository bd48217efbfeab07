#!/usr/bin/env bash
# Compares cotd's photo rendering with vipsthumbnail and ImageMagick on the
# same photos, interleaved in one run and pinned to one core, and prints a
# Markdown table: median wall and CPU ms, peak RSS, output bytes, ratio to
# vips, and quality (luma PSNR/SSIM against imaging's full-resolution Lanczos).
#
# Usage (from the repository root):
#   bench/compare.sh                      # 7 repetitions, core 1
#   REPS=15 CORE=0 bench/compare.sh
#   COTD_BIN=./cotd bench/compare.sh      # time `cotd render PHOTO OUT.jpg` instead of bench/render
#
# Needs the photos in ../shared/realworld-photos (or PHOTOS=dir), and installs
# libvips-tools, imagemagick, time and libimage-exiftool-perl with apt-get when
# they are missing.
set -euo pipefail

cd "$(dirname "$0")/.."
PHOTOS=${PHOTOS:-../shared/realworld-photos}
REPS=${REPS:-7}
CORE=${CORE:-1}

need=()
command -v vipsthumbnail >/dev/null || need+=(libvips-tools)
command -v convert >/dev/null || need+=(imagemagick)
[ -x /usr/bin/time ] || need+=(time)
command -v exiftool >/dev/null || need+=(libimage-exiftool-perl)
command -v taskset >/dev/null || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
	sudo=()
	[ "$(id -u)" -eq 0 ] || sudo=(sudo)
	"${sudo[@]}" apt-get update -qq
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
if [ ! -d "$PHOTOS" ]; then
	echo "compare.sh: error: no photos at $PHOTOS; set PHOTOS=dir" >&2
	exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/render" ./bench/render
go build -o "$work/quality" ./bench/quality

# The four phone photos of issue 7, plus the 12 MP one turned by EXIF
# Orientation=6 (counted in the geometric mean), plus a 48 MP upscale of it
# (reported for memory, not in the mean).
names=(jpg_mobile_HMD_Nokia_8.3_5G jpg_mobile_jolla jpg_hdr_iphone_hdr_YES jpg_tests_42_IndexError)
for n in "${names[@]}"; do cp "$PHOTOS/$n.jpg" "$work/$n.jpg"; done
cp "$PHOTOS/jpg_tests_42_IndexError.jpg" "$work/rotated6_12MP.jpg"
chmod u+w "$work"/*.jpg
exiftool -q -overwrite_original -Orientation=6 -n "$work/rotated6_12MP.jpg"
convert "$PHOTOS/jpg_tests_42_IndexError.jpg" -resize 200% -quality 92 "$work/big_48MP.jpg"
photos=("${names[@]}" rotated6_12MP big_48MP)

# tool_cmd TOOL PHOTO OUT sets cmd to the command line that renders PHOTO.
tool_cmd() {
	case $1 in
	cotd)
		if [ -n "${COTD_BIN:-}" ]; then
			cmd=("$COTD_BIN" render "$work/$2.jpg" "$3")
		else
			cmd=("$work/render" "$work/$2.jpg" "$3")
		fi
		;;
	vips) cmd=(vipsthumbnail "$work/$2.jpg" -s 1280 -o "$3[Q=85,strip]") ;;
	magick) cmd=(convert "$work/$2.jpg" -auto-orient -resize 1280x1280 -strip -quality 85 "$3") ;;
	esac
}

tools=(cotd vips magick)
: >"$work/times"
for ((rep = 1; rep <= REPS; rep++)); do
	for p in "${photos[@]}"; do
		for t in "${tools[@]}"; do
			out="$work/out-$t-$p.jpg"
			tool_cmd "$t" "$p" "$out"
			# wall s, user s, sys s, max RSS KiB
			if ! /usr/bin/time -o "$work/m" -f '%e %U %S %M' taskset -c "$CORE" "${cmd[@]}" >/dev/null 2>"$work/err"; then
				echo "compare.sh: error: $t failed on $p: $(cat "$work/err")" >&2
				exit 1
			fi
			echo "$p $t $(cat "$work/m") $(stat -c %s "$out")" >>"$work/times"
		done
	done
done

for p in "${photos[@]}"; do
	for t in "${tools[@]}"; do
		read -r psnr ssim < <("$work/quality" "$work/$p.jpg" "$work/out-$t-$p.jpg" | awk '{print $2, $3}')
		echo "$p $t $psnr $ssim"
	done
done >"$work/quality.txt"

echo "| photo | tool | median wall ms | median CPU ms | peak RSS MiB | output bytes | wall / vips | PSNR dB | SSIM |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
awk -v reps="$REPS" '
function median(arr, n,    i, j, tmp) {
	for (i = 2; i <= n; i++) { tmp = arr[i]; for (j = i - 1; j >= 1 && arr[j] > tmp; j--) arr[j+1] = arr[j]; arr[j+1] = tmp }
	return (n % 2) ? arr[(n+1)/2] : (arr[n/2] + arr[n/2+1]) / 2
}
FNR == NR { q[$1 " " $2] = $3 " | " $4; next }
{
	k = $1 " " $2; n[k]++
	wall[k, n[k]] = $3 * 1000; cpu[k, n[k]] = ($4 + $5) * 1000
	if ($6 > rss[k]) rss[k] = $6
	bytes[k] = $7
	if (!(k in seen)) { seen[k] = 1; order[++cnt] = k }
}
END {
	for (i = 1; i <= cnt; i++) {
		k = order[i]
		for (j = 1; j <= n[k]; j++) { w[j] = wall[k, j]; c[j] = cpu[k, j] }
		mw[k] = median(w, n[k]); mc[k] = median(c, n[k])
	}
	for (i = 1; i <= cnt; i++) {
		k = order[i]; split(k, pt, " ")
		ratio = mw[k] / mw[pt[1] " vips"]
		printf "| %s | %s | %.0f | %.0f | %.1f | %d | %.2f | %s |\n", pt[1], pt[2], mw[k], mc[k], rss[k] / 1024, bytes[k], ratio, q[k]
		if (pt[1] != "big_48MP") { lw[pt[2]] += log(ratio); lc[pt[2]] += log(mc[k] / mc[pt[1] " vips"]); np[pt[2]]++ }
	}
	printf "\nGeometric mean over the four photos and the rotated copy (%d repetitions, interleaved):\n", reps
	for (t in np) if (t != "vips") printf "- %s / vips: wall %.2f×, CPU %.2f×\n", t, exp(lw[t] / np[t]), exp(lc[t] / np[t])
}' "$work/quality.txt" "$work/times"

# ---------------------------------------------------------------------------
# The morning run, indexing at scale and the send rate, in the same run.
#
# Warm morning: the folder (the photos above) is indexed and rendered by a
# first run; then each repetition is a new day at 07:30 in outbox mode for
# ten recipients, timed with /usr/bin/time on the same core, interleaved
# with vipsthumbnail on the 12 MP photo.
go build -o "$work/cotd" .
mkdir -p "$work/state/photos"
for p in "${names[@]}" rotated6_12MP; do cp "$work/$p.jpg" "$work/state/photos/"; done
to="r0@example.test"
for i in 1 2 3 4 5 6 7 8 9; do to="$to, r$i@example.test"; done
morning() { # morning DAY: one cotd run on that day, in the state folder
	(cd "$work/state" && COTD_TZ=UTC COTD_TO="$to" COTD_PHOTOS=photos COTD_NOW="$1T07:30:00Z" \
		/usr/bin/time -o "$work/m" -f '%e %U %S %M' taskset -c "$CORE" "$work/cotd" run 2>"$work/run.log")
}
morning 2026-01-01 # the first run indexes and renders; not timed below
grep -q 'wrote 10 of 10 messages' "$work/run.log"
: >"$work/morning"
for ((rep = 1; rep <= REPS; rep++)); do
	morning "2026-01-$(printf %02d $((rep + 1)))"
	grep -q 'wrote 10 of 10 messages' "$work/run.log" || { cat "$work/run.log" >&2; exit 1; }
	echo "cotd-morning $(cat "$work/m")" >>"$work/morning"
	/usr/bin/time -o "$work/m" -f '%e %U %S %M' taskset -c "$CORE" \
		vipsthumbnail "$work/rotated6_12MP.jpg" -s 1280 -o "$work/vips-morning.jpg[Q=85,strip]"
	echo "vips-12MP $(cat "$work/m")" >>"$work/morning"
done

# Indexing 10,000 photos (first index and an unchanged rescan) and the send
# rate to a real Mailpit, from the Go benchmarks, on the same core.
go test -c -o "$work/job.test" ./job
go test -c -o "$work/mail.test" ./mail
(cd job && taskset -c "$CORE" "$work/job.test" -test.run '^$' -test.bench 'Index10k' -test.benchtime 1x) >"$work/index.txt"
sendrate=""
if command -v mailpit >/dev/null || [ -x "$(go env GOPATH)/bin/mailpit" ]; then
	(cd mail && taskset -c "$CORE" "$work/mail.test" -test.run '^$' -test.bench 'SendMailpit' -test.benchtime 1x) >"$work/send.txt"
	sendrate=yes
fi

echo
echo "| measurement (one core) | median | peak RSS MiB | compared with |"
echo "|---|---:|---:|---|"
awk '
function median(arr, n,    i, j, tmp) {
	for (i = 2; i <= n; i++) { tmp = arr[i]; for (j = i - 1; j >= 1 && arr[j] > tmp; j--) arr[j+1] = arr[j]; arr[j+1] = tmp }
	return (n % 2) ? arr[(n+1)/2] : (arr[n/2] + arr[n/2+1]) / 2
}
{ n[$1]++; w[$1, n[$1]] = $2 * 1000; if ($5 > rss[$1]) rss[$1] = $5 }
END {
	for (k in n) { for (j = 1; j <= n[k]; j++) a[j] = w[k, j]; m[k] = median(a, n[k]) }
	printf "| warm morning run, 10 recipients, outbox (`cotd run`) | %.0f ms | %.1f | vipsthumbnail of the 12 MP photo: %.0f ms (%.2f×) |\n", m["cotd-morning"], rss["cotd-morning"] / 1024, m["vips-12MP"], m["cotd-morning"] / m["vips-12MP"]
}' "$work/morning"
awk '/BenchmarkIndex10k/ { for (i = 1; i <= NF; i++) { if ($(i+1) == "photos/s-first") f = $i; if ($(i+1) == "ms-rescan") r = $i }
	printf "| first index of 10,000 small photos (read, hash, render, cache) | %s photos/s | | |\n| rescan of the same 10,000, nothing changed (stat only) | %s ms | | well under a second |\n", f, r }' "$work/index.txt"
if [ -n "$sendrate" ]; then
	awk '/BenchmarkSendMailpit/ { split($1, a, "="); sub(/-[0-9]+$/, "", a[2]); for (i = 1; i <= NF; i++) if ($(i+1) == "msgs/s") r = $i
		printf "| send to Mailpit, %s recipients, one STARTTLS+AUTH connection | %s msgs/s | | |\n", a[2], r }' "$work/send.txt"
fi
