#!/usr/bin/env bash
# The first-morning benchmarks of issue 13, for the shipped binary (built
# as pi-setup.sh says, CGO_ENABLED=0 -trimpath -ldflags='-s -w'), in one
# run, printed as the Markdown tables of BENCHMARKS.md:
#
#   1. the first index of 200 distinct ~11 MP JPEGs with 1, 2 and all
#      cores, against a vipsthumbnail loop and `parallel -j N vipsthumbnail`
#      over the same files;
#   2. the time to the first mail on a fresh 2,000-photo folder (a day due,
#      default budgets), natively and under qemu-aarch64-static;
#   3. the first index and the unchanged rescan of 10,000 small files;
#   4. one 12 MP baseline JPEG, progressive JPEG and PNG: `cotd render`
#      against vipsthumbnail, on one core;
#
# with the peak RSS of the whole process (GNU time's %M: the largest
# process of the command, i.e. cotd itself, or the largest vipsthumbnail).
#
# Usage (from the repository root): bench/index.sh
#   REPS=5 (renders)   KEEP=dir (reuse generated photos there)
#
# Photos: lossless jpegtran crops (4 sizes of about 11 MP, 4 flips, offsets
# on the MCU grid) of the 12 MP phone photo jpg_tests_42_IndexError.jpg
# from ../shared/realworld-photos: every one a different picture with a
# phone photo's detail, so each costs what a phone photo costs to decode.
# (internal/photogen's 12 MP gradients decode in about half the CPU of a
# real photo, which would flatter cotd; it makes the 10,000 small files.)
# They are made here, never committed.
set -euo pipefail

cd "$(dirname "$0")/.."
PHOTOS=${PHOTOS:-../shared/realworld-photos}
REPS=${REPS:-5}
N200=${N200:-200} N2000=${N2000:-2000} N10K=${N10K:-10000} # smaller for a dry run of the script
src="$PHOTOS/jpg_tests_42_IndexError.jpg"
for t in vipsthumbnail parallel jpegtran qemu-aarch64-static convert; do
	command -v "$t" >/dev/null || { echo "index.sh: error: $t is missing (apt-get install libvips-tools parallel libjpeg-turbo-progs qemu-user-static imagemagick)" >&2; exit 2; }
done
[ -f "$src" ] || { echo "index.sh: error: no $src; set PHOTOS=dir" >&2; exit 2; }

work=${KEEP:-$(mktemp -d)}
[ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
mkdir -p "$work"
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$work/cotd" .
CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -trimpath -ldflags='-s -w' -o "$work/cotd-arm64" .
go build -o "$work/mkphotos" ./bench/mkphotos

# The index set: N200 distinct real-size photos (lossless crops). The
# 2,000-photo folder is those, each also in byte-distinct copies (a JPEG
# comment segment "cotd bench copy N" after SOI): every file has its own
# hash, so cotd reads and renders each one, at the cost of a phone photo.
# (2,000 distinct crops take jpegtran about 40 minutes on this machine.)
if [ ! -f "$work/p200/.done" ]; then
	mkdir -p "$work/p200"
	: >"$work/crops"
	n=0
	for size in 3840x2880 3904x2928 3968x2976 3776x2832; do
		w=${size%x*} h=${size#*x}
		for tr in none "-flip horizontal" "-flip vertical" "-rotate 180"; do
			for ((x = 0; x + w <= 4032; x += 48)); do
				for ((y = 0; y + h <= 3024; y += 48)); do
					[ $n -lt "$N200" ] || break 4
					echo "$n $size+$x+$y $tr" >>"$work/crops"
					n=$((n + 1))
				done
			done
		done
	done
	# shellcheck disable=SC2016
	parallel -j 2 --colsep ' ' 'jpegtran -copy none -crop {2} $(test "{3}" = none || echo "{3} {4}") -outfile '"$work"'/p200/IMG_$(printf %05d {1}).jpg '"$src" <"$work/crops"
	touch "$work/p200/.done"
fi
if [ ! -f "$work/p2000/.done" ]; then
	mkdir -p "$work/p2000"
	i=0
	while [ $i -lt "$N2000" ]; do
		for f in "$work"/p200/IMG_*.jpg; do
			[ $i -lt "$N2000" ] || break
			c=$(printf 'cotd bench copy %05d' $i)
			len=$(printf '%02x' $((${#c} + 2)))
			# shellcheck disable=SC2059 # the length byte is built into the format
			{ printf "\xff\xd8\xff\xfe\x00\x$len"; printf '%s' "$c"; tail -c +3 "$f"; } >"$work/p2000/IMG_$(printf %05d $i).jpg"
			i=$((i + 1))
		done
	done
	touch "$work/p2000/.done"
fi
dups=$(sha256sum "$work"/p2000/*.jpg | awk '{print $1}' | sort | uniq -d | wc -l)
[ "$dups" -eq 0 ] || { echo "index.sh: error: $dups duplicate photos" >&2; exit 1; }
if [ ! -d "$work/p10k" ]; then "$work/mkphotos" "$work/p10k" "$N10K" 320x240; fi

# timed LABEL CMD...: one measurement line "LABEL wall_s cpu_s maxrss_kib".
timed() {
	local label=$1
	shift
	/usr/bin/time -o "$work/m" -f '%e %U %S %M' "$@" >"$work/out.log" 2>&1 || { cat "$work/out.log" >&2; exit 1; }
	read -r wall user sys rss <"$work/m"
	echo "$label $wall $(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }') $rss" >>"$work/results"
}
: >"$work/results"
echo "none 0" >"$work/counts"
all=$(nproc)
cores() { # cores N: the taskset CPU list of the first N cores
	seq -s, 0 $(($1 - 1))
}
run_env=(env COTD_TZ=UTC COTD_NOW=2026-03-02T07:30:00Z)

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $all cores, $(go version | cut -d' ' -f3-4), $(vipsthumbnail --vips-version 2>/dev/null | head -1)" >"$work/machine"
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$work/machine"

# 1. First index of the 200, interleaved with the vips loops.
list="1 2"
[ "$all" -le 2 ] || list="$list $all"
for c in $list; do
	rm -rf "$work/s" && mkdir -p "$work/s"
	timed "index200-cotd-$c" taskset -c "$(cores "$c")" "${run_env[@]}" "$work/cotd" run --photos "$work/p200" --db "$work/s/cotd.db" --outbox "$work/s/outbox" --index-budget 0
	grep -q 'wrote 1 of 1 message' "$work/out.log"
	rm -rf "$work/v" && mkdir -p "$work/v"
	if [ "$c" = 1 ]; then
		# shellcheck disable=SC2016 # $1 and $2 are the inner shell's
		timed "index200-vipsloop-1" taskset -c 0 sh -c 'for f in "$1"/*.jpg; do vipsthumbnail "$f" -s 1280 -o "$2/%s.jpg[Q=85,strip]"; done' sh "$work/p200" "$work/v"
		rm -rf "$work/v" && mkdir -p "$work/v"
	fi
	timed "index200-vipsparallel-$c" taskset -c "$(cores "$c")" parallel -j "$c" vipsthumbnail {} -s 1280 -o "$work/v/%s.jpg[Q=85,strip]" ::: "$work"/p200/*.jpg
done

# 2. Time to the first mail on the 2,000 (a day is due: the 1-minute budget).
rm -rf "$work/s" && mkdir -p "$work/s"
timed "firstmail2000-amd64" "${run_env[@]}" "$work/cotd" run --photos "$work/p2000" --db "$work/s/cotd.db" --outbox "$work/s/outbox"
grep -q 'wrote 1 of 1 message' "$work/out.log"
indexed=$(grep -o "indexed [0-9]* of $N2000" "$work/out.log" | awk '{print $2}' || true)
echo "firstmail2000-amd64-indexed ${indexed:-$N2000}" >>"$work/counts"
rm -rf "$work/s" && mkdir -p "$work/s"
timed "firstmail2000-arm64-qemu" "${run_env[@]}" qemu-aarch64-static "$work/cotd-arm64" run --photos "$work/p2000" --db "$work/s/cotd.db" --outbox "$work/s/outbox"
grep -q 'wrote 1 of 1 message' "$work/out.log"
indexed=$(grep -o "indexed [0-9]* of $N2000" "$work/out.log" | awk '{print $2}' || true)
echo "firstmail2000-arm64-qemu-indexed ${indexed:-$N2000}" >>"$work/counts"

# 3. 10,000 small files: first index, then the next morning's rescan.
rm -rf "$work/s" && mkdir -p "$work/s"
timed "index10k-first" "${run_env[@]}" "$work/cotd" run --photos "$work/p10k" --db "$work/s/cotd.db" --outbox "$work/s/outbox" --index-budget 0
timed "index10k-rescan" env COTD_TZ=UTC COTD_NOW=2026-03-03T07:30:00Z "$work/cotd" run --photos "$work/p10k" --db "$work/s/cotd.db" --outbox "$work/s/outbox"
grep -q 'wrote 1 of 1 message' "$work/out.log"

# 4. One photo of each kind, one core, REPS times, interleaved.
cp "$src" "$work/base12.jpg"
convert "$src" -interlace JPEG -quality 92 "$work/prog12.jpg"
convert "$src" "$work/png12.png"
for ((r = 1; r <= REPS; r++)); do
	for p in base12.jpg prog12.jpg png12.png; do
		timed "render-$p-cotd" taskset -c 0 "$work/cotd" render "$work/$p" "$work/r-cotd.jpg"
		timed "render-$p-vips" taskset -c 0 vipsthumbnail "$work/$p" -s 1280 -o "$work/r-vips.jpg[Q=85,strip]"
	done
done

cat "$work/machine"
echo
awk -v list="$list" -v n200="$N200" -v n2000="$N2000" -v n10k="$N10K" '
function median(arr, n,    i, j, tmp) {
	for (i = 2; i <= n; i++) { tmp = arr[i]; for (j = i - 1; j >= 1 && arr[j] > tmp; j--) arr[j+1] = arr[j]; arr[j+1] = tmp }
	return (n % 2) ? arr[(n+1)/2] : (arr[n/2] + arr[n/2+1]) / 2
}
FNR == NR { count[$1] = $2; next }
{ n[$1]++; w[$1, n[$1]] = $2; c[$1, n[$1]] = $3; if ($4 > rss[$1]) rss[$1] = $4; if (!($1 in seen)) { seen[$1] = 1; order[++k] = $1 } }
END {
	for (i = 1; i <= k; i++) { key = order[i]; for (j = 1; j <= n[key]; j++) { a[j] = w[key, j]; b[j] = c[key, j] }; mw[key] = median(a, n[key]); mc[key] = median(b, n[key]) }
	printf "| first index of %d distinct ~11 MP JPEGs | cores | wall s | photos/s | CPU s | peak RSS MiB | wall vs 1 core |\n", n200
	print "|---|---:|---:|---:|---:|---:|---:|"
	nc = split(list, cs, " ")
	for (i = 1; i <= nc; i++) {
		cc = cs[i]
		printf "| `cotd run` (%d workers) | %d | %.1f | %.1f | %.1f | %.0f | %.2f× |\n", cc, cc, mw["index200-cotd-" cc], n200 / mw["index200-cotd-" cc], mc["index200-cotd-" cc], rss["index200-cotd-" cc] / 1024, mw["index200-cotd-1"] / mw["index200-cotd-" cc]
		if (cc == 1) printf "| `vipsthumbnail` loop | 1 | %.1f | %.1f | %.1f | %.0f | |\n", mw["index200-vipsloop-1"], n200 / mw["index200-vipsloop-1"], mc["index200-vipsloop-1"], rss["index200-vipsloop-1"] / 1024
		printf "| `parallel -j %d vipsthumbnail` | %d | %.1f | %.1f | %.1f | %.0f | %.2f× |\n", cc, cc, mw["index200-vipsparallel-" cc], n200 / mw["index200-vipsparallel-" cc], mc["index200-vipsparallel-" cc], rss["index200-vipsparallel-" cc] / 1024, mw["index200-vipsparallel-1"] / mw["index200-vipsparallel-" cc]
	}
	printf "\ncotd / vips CPU for the same %d: %.2f× (1 core, against the loop)\n\n", n200, mc["index200-cotd-1"] / mc["index200-vipsloop-1"]
	printf "| first run on a fresh folder of %d distinct ~11 MP JPEGs, a day due | wall s to the first mail | photos indexed by then | photos/s | CPU s | peak RSS MiB |\n", n2000
	print "|---|---:|---:|---:|---:|---:|"
	na = count["firstmail2000-amd64-indexed"]; nq = count["firstmail2000-arm64-qemu-indexed"]
	all = cs[nc]
	printf "| amd64, native, %d cores | %.1f | %d | %.1f | %.1f | %.0f |\n", all, mw["firstmail2000-amd64"], na, na / mw["firstmail2000-amd64"], mc["firstmail2000-amd64"], rss["firstmail2000-amd64"] / 1024
	printf "| arm64 binary under `qemu-aarch64-static`, %d cores | %.1f | %d | %.1f | %.1f | %.0f |\n", all, mw["firstmail2000-arm64-qemu"], nq, nq / mw["firstmail2000-arm64-qemu"], mc["firstmail2000-arm64-qemu"], rss["firstmail2000-arm64-qemu"] / 1024
	printf "\nqemu-aarch64 / amd64: time to the first mail %.2f×, indexing rate %.2f× slower\n\n", mw["firstmail2000-arm64-qemu"] / mw["firstmail2000-amd64"], (na / mw["firstmail2000-amd64"]) / (nq / mw["firstmail2000-arm64-qemu"])
	printf "| %d small files (320×240) | wall s | CPU s | peak RSS MiB |\n", n10k
	print "|---|---:|---:|---:|"
	printf "| first index (`cotd run --index-budget 0`) | %.1f | %.1f | %.0f |\n", mw["index10k-first"], mc["index10k-first"], rss["index10k-first"] / 1024
	printf "| the next morning: rescan, nothing changed, and the mail | %.2f | %.2f | %.0f |\n\n", mw["index10k-rescan"], mc["index10k-rescan"], rss["index10k-rescan"] / 1024
	print "| one 12 MP photo, one core (median of " n["render-base12.jpg-cotd"] ") | tool | wall ms | CPU ms | peak RSS MiB | CPU vs vips |"
	print "|---|---|---:|---:|---:|---:|"
	split("base12.jpg prog12.jpg png12.png", ps, " ")
	for (i = 1; i <= 3; i++) for (t = 1; t <= 2; t++) {
		tool = (t == 1) ? "cotd" : "vips"; key = "render-" ps[i] "-" tool
		printf "| %s | %s | %.0f | %.0f | %.0f | %.2f× |\n", ps[i], (t == 1) ? "`cotd render`" : "`vipsthumbnail`", mw[key] * 1000, mc[key] * 1000, rss[key] / 1024, mc[key] / mc["render-" ps[i] "-vips"]
	}
}' "$work/counts" "$work/results"
