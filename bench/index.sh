#!/usr/bin/env bash
# The first-morning benchmarks of issue 13, for the shipped binary (built
# as pi-setup.sh says, CGO_ENABLED=0 -trimpath -ldflags='-s -w'), in one
# run, printed as the Markdown tables of BENCHMARKS.md:
#
#   1. the first index of 200 distinct 7-12 MP phone JPEGs with 1, 2 and all
#      cores, against a vipsthumbnail loop and `parallel -j N vipsthumbnail`
#      over the same files;
#   2. the time to the first mail on a fresh 2,000-photo folder (a day due,
#      default budgets), natively and under qemu-aarch64-static;
#   3. the first index and the unchanged rescan of 10,000 small files;
#   4. one 12 MP baseline JPEG, progressive JPEG and PNG: `cotd render`
#      against vipsthumbnail, on one core;
#   5. (issue 22 §3) `cotd render` against vipsthumbnail per input class, on
#      one core, CPU time from rusage (bench/cputime), interleaved: the 12 MP
#      baseline, progressive and PNG of 4, JPEGs with a long side of 2000,
#      2600 and 3199 px, and an iPhone photo with its Display P3 profile
#      (vips exporting sRGB, as cotd converts); INSNS=1 adds instruction
#      counts from valgrind's cachegrind, which the machine's load does not
#      change;
#   6. (issue 22 §4) a warm run, nothing new, at 2,000, 5,000 and 10,000
#      small photos: CPU time of `cotd run` with nothing due and of the next
#      morning's run (one mail); BASELINE=commit measures that commit's
#      binary beside this one, interleaved;
#
# with the peak RSS of the whole process (GNU time's %M: the largest
# process of the command, i.e. cotd itself, or the largest vipsthumbnail).
#
# Usage (from the repository root): bench/index.sh
#   REPS=5 (renders)   KEEP=dir (reuse generated photos there)
#   ONLY="classes warm" runs only sections 5 and/or 6 (they need only vips)
#
# Photos: lossless jpegtran crops of seven real 8-12 MP phone photos (see
# below), every one a different picture with a phone photo's detail.
# (internal/photogen's 12 MP gradients decode in about half the CPU of a
# real photo, which would flatter cotd; it makes the 10,000 small files.)
# They are made here, never committed.
set -euo pipefail

cd "$(dirname "$0")/.."
PHOTOS=${PHOTOS:-../shared/realworld-photos}
REPS=${REPS:-5}
N200=${N200:-200} N2000=${N2000:-2000} N10K=${N10K:-10000} # smaller for a dry run of the script
src="$PHOTOS/jpg_tests_42_IndexError.jpg"
ONLY=${ONLY:-}
tools=(vips vipsheader vipsthumbnail parallel jpegtran qemu-aarch64-static convert)
[ -z "$ONLY" ] || tools=(vips vipsheader vipsthumbnail)
for t in "${tools[@]}"; do
	command -v "$t" >/dev/null || { echo "index.sh: error: $t is missing (apt-get install libvips-tools parallel libjpeg-turbo-progs qemu-user-static imagemagick)" >&2; exit 2; }
done
[ -f "$src" ] || { echo "index.sh: error: no $src; set PHOTOS=dir" >&2; exit 2; }

work=${KEEP:-$(mktemp -d)}
[ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
mkdir -p "$work"
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$work/cotd" .
[ -n "$ONLY" ] || CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -trimpath -ldflags='-s -w' -o "$work/cotd-arm64" .
go build -o "$work/mkphotos" ./bench/mkphotos
go build -o "$work/cputime" ./bench/cputime

# 5. Per input class, `cotd render` against vipsthumbnail on one core.
classes() {
	local c=$work/classes r p f
	mkdir -p "$c"
	cp "$src" "$c/base12.jpg"
	vips copy "$src" "$c/prog12.jpg[Q=92,interlace]"
	vips copy "$src" "$c/png12.png"
	for side in 2000 2600 3199; do vips thumbnail "$src" "$c/jpeg$side.jpg[Q=92]" "$side"; done
	vips copy "$PHOTOS/heic_mobile_iphone_13_pro_max.HEIC" "$c/p3-iphone.jpg[Q=92,subsample-mode=on]" # keeps its Display P3 profile
	: >"$c/results"
	for ((r = 1; r <= REPS; r++)); do
		for p in base12.jpg prog12.jpg png12.png jpeg2000.jpg jpeg2600.jpg jpeg3199.jpg p3-iphone.jpg; do
			f=()
			case $p in p3-*) f=(-e srgb) ;; esac # vips converts to sRGB too
			echo "$p cotd $(taskset -c 0 "$work/cputime" "$work/cotd" render "$c/$p" "$c/out-cotd.jpg" 2>/dev/null)" >>"$c/results"
			echo "$p vips $(taskset -c 0 "$work/cputime" vipsthumbnail "$c/$p" -s 1280 "${f[@]}" -o "$c/out-vips.jpg[Q=85,strip]" 2>/dev/null)" >>"$c/results"
		done
	done
	if [ -n "${INSNS:-}" ] && command -v valgrind >/dev/null; then
		for p in base12.jpg prog12.jpg png12.png jpeg2000.jpg jpeg2600.jpg jpeg3199.jpg p3-iphone.jpg; do
			f=()
			case $p in p3-*) f=(-e srgb) ;; esac
			echo "$p cotd-insns $(valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null "$work/cotd" render "$c/$p" "$c/out-cotd.jpg" 2>&1 | sed -n 's/.*I *refs: *//p' | tr -d ,)" >>"$c/results"
			echo "$p vips-insns $(VIPS_CONCURRENCY=1 valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null vipsthumbnail "$c/$p" -s 1280 "${f[@]}" -o "$c/out-vips.jpg[Q=85,strip]" 2>&1 | sed -n 's/.*I *refs: *//p' | tr -d ,)" >>"$c/results"
		done
	fi
	echo "| input class, one core (median of $REPS, interleaved) | size | cotd CPU ms | vips CPU ms | cotd / vips CPU | cotd / vips instructions |"
	echo "|---|---|---:|---:|---:|---:|"
	for p in base12.jpg prog12.jpg png12.png jpeg2000.jpg jpeg2600.jpg jpeg3199.jpg p3-iphone.jpg; do
		awk -v p="$p" -v size="$(vipsheader -f width "$c/$p")x$(vipsheader -f height "$c/$p")" '
		function median(arr, n,    i, j, tmp) {
			for (i = 2; i <= n; i++) { tmp = arr[i]; for (j = i - 1; j >= 1 && arr[j] > tmp; j--) arr[j+1] = arr[j]; arr[j+1] = tmp }
			return (n % 2) ? arr[(n+1)/2] : (arr[n/2] + arr[n/2+1]) / 2
		}
		$1 == p && $2 == "cotd" { a[++na] = $3 } $1 == p && $2 == "vips" { b[++nb] = $3 }
		$1 == p && $2 == "cotd-insns" { ia = $3 } $1 == p && $2 == "vips-insns" { ib = $3 }
		END { ma = median(a, na); mb = median(b, nb); printf "| %s | %s | %.0f | %.0f | %.2f× | %s |\n", p, size, ma, mb, ma / mb, (ia && ib) ? sprintf("%.2f×", ia / ib) : "" }' "$c/results"
	done
	echo
}

# 6. A warm run with nothing new, at three library sizes.
warm() {
	local n r bin
	local -a bins=(cotd)
	if [ -n "${BASELINE:-}" ]; then
		git worktree add -q --detach "$work/baseline-src" "$BASELINE"
		(cd "$work/baseline-src" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$work/cotd-baseline" .)
		git worktree remove --force "$work/baseline-src"
		bins+=(cotd-baseline)
	fi
	: >"$work/warm"
	for n in 2000 5000 10000; do
		[ -f "$work/w$n/.done" ] || { rm -rf "$work/w$n" && "$work/mkphotos" "$work/w$n" "$n" 96x64 >/dev/null && touch "$work/w$n/.done"; }
		for bin in "${bins[@]}"; do
			rm -rf "$work/ws-$bin-$n" && mkdir -p "$work/ws-$bin-$n"
			env COTD_TZ=UTC COTD_NOW=2026-03-02T07:30:00Z "$work/$bin" run --photos "$work/w$n" --db "$work/ws-$bin-$n/cotd.db" --outbox "$work/ws-$bin-$n/outbox" --index-budget 0 >/dev/null 2>&1
			# the first warm run of a new build migrates an older database: not counted
			env COTD_TZ=UTC COTD_NOW=2026-03-02T08:00:00Z "$work/$bin" run --photos "$work/w$n" --db "$work/ws-$bin-$n/cotd.db" --outbox "$work/ws-$bin-$n/outbox" >/dev/null 2>&1
		done
		for ((r = 1; r <= REPS; r++)); do
			for bin in "${bins[@]}"; do
				echo "$n $bin idle $(env COTD_TZ=UTC COTD_NOW=2026-03-02T09:00:00Z "$work/cputime" "$work/$bin" run --photos "$work/w$n" --db "$work/ws-$bin-$n/cotd.db" --outbox "$work/ws-$bin-$n/outbox" 2>/dev/null)" >>"$work/warm"
				rm -rf "$work/wm" && cp -a "$work/ws-$bin-$n" "$work/wm"
				echo "$n $bin morning $(env COTD_TZ=UTC COTD_NOW=2026-03-03T07:30:00Z "$work/cputime" "$work/$bin" run --photos "$work/w$n" --db "$work/wm/cotd.db" --outbox "$work/wm/outbox" 2>/dev/null)" >>"$work/warm"
			done
		done
	done
	echo "| warm run, nothing new (median CPU ms of $REPS, interleaved) | build | 2,000 photos | 5,000 | 10,000 | peak RSS MiB at 10,000 |"
	echo "|---|---|---:|---:|---:|---:|"
	awk '
	function median(arr, n,    i, j, tmp) {
		for (i = 2; i <= n; i++) { tmp = arr[i]; for (j = i - 1; j >= 1 && arr[j] > tmp; j--) arr[j+1] = arr[j]; arr[j+1] = tmp }
		return (n % 2) ? arr[(n+1)/2] : (arr[n/2] + arr[n/2+1]) / 2
	}
	{ k = $1 " " $2 " " $3; v[k, ++c[k]] = $4; if ($5 > rss[$2 " " $3]) rss[$2 " " $3] = $5; if (!(($2 " " $3) in seen)) { seen[$2 " " $3] = 1; order[++no] = $2 " " $3 } }
	END {
		for (o = 1; o <= no; o++) {
			split(order[o], bk, " "); line = "| " (bk[2] == "idle" ? "nothing due (`cotd run`, 09:00)" : "the next morning, one mail (`cotd run`, 07:30)") " | " bk[1]
			for (i = 1; i <= 3; i++) { n = (i == 1) ? 2000 : (i == 2) ? 5000 : 10000; k = n " " order[o]; for (j = 1; j <= c[k]; j++) a[j] = v[k, j]; line = line sprintf(" | %.1f", median(a, c[k])) }
			print line sprintf(" | %.0f |", rss[order[o]] / 1024)
		}
	}' "$work/warm"
	echo
}

if [ -n "$ONLY" ]; then
	echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(go version | cut -d' ' -f3-4), $(vipsthumbnail --vips-version 2>/dev/null | head -1), commit $(git rev-parse --short HEAD)"
	echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	[[ " $ONLY " != *" classes "* ]] || classes
	[[ " $ONLY " != *" warm "* ]] || warm
	exit 0
fi

# The photos: N2000 distinct crops of seven real 8-12 MP phone photos from
# ../shared/realworld-photos (five JPEGs; two HEICs made JPEG once by vips at
# Q=92 with 4:2:0 chroma, as a phone's "most compatible" export does). Photo
# i is source i%7 under one of jpegtran's eight lossless transforms (half of
# them turn the picture, so the roll mixes landscape and portrait), cropped
# 96 px smaller than its source at an offset on the 16-px MCU grid that no
# other photo of that source and transform has (so up to 7 x 8 x 36 = 2,016
# photos): every file is a different picture, and a different hash, with a
# phone photo's detail, so each costs what a phone photo costs to decode.
# jpegtran makes one in about 0.2 s. The 200 are the first 200 of the 2,000
# (hard links).
if [ ! -f "$work/p2000/.done" ]; then
	mkdir -p "$work/p2000" "$work/src"
	for f in jpg_tests_42_IndexError.jpg jpg_mobile_jolla.jpg jpg_hdr_iphone_hdr_NO.jpg \
		jpg_hdr_iphone_hdr_YES.jpg jpg_mobile_HMD_Nokia_8.3_5G.jpg; do
		cp "$PHOTOS/$f" "$work/src/$f"
	done
	for f in heic_mobile_iphone_13_pro_max.HEIC heic_IMG_5195.HEIC; do
		vips copy "$PHOTOS/$f" "$work/src/${f%.*}.jpg[Q=92,subsample-mode=on]"
	done
	mapfile -t srcs < <(ls "$work"/src/*.jpg)
	ns=${#srcs[@]}
	ws=() hs=()
	for s in "${srcs[@]}"; do ws+=("$(vipsheader -f width "$s")") hs+=("$(vipsheader -f height "$s")"); done
	transforms=(none "-flip horizontal" "-flip vertical" "-rotate 90" "-rotate 180" "-rotate 270" -transpose -transverse)
	: >"$work/crops"
	for ((i = 0; i < N2000; i++)); do
		s=${srcs[i % ns]}
		t=$(((i / ns) % 8))
		k=$((i / (ns * 8))) # the offset: up to 6x6 positions, 96 px of margin
		ox=$((k % 6 * 16)) oy=$((k / 6))
		oy=$((oy * 16))
		cw=$((ws[i % ns] - 96)) ch=$((hs[i % ns] - 96))
		# the four transforms that turn the picture make a portrait crop
		if [ "$t" = 3 ] || [ "$t" = 5 ] || [ "$t" = 6 ] || [ "$t" = 7 ]; then read -r cw ch <<<"$ch $cw"; fi
		printf '%s\t%s\t%dx%d+%d+%d\t%05d\n' "$s" "${transforms[t]}" "$cw" "$ch" "$ox" "$oy" "$i" >>"$work/crops"
	done
	[ "$N2000" -le $((ns * 8 * 36)) ] || { echo "index.sh: error: at most $((ns * 8 * 36)) distinct crops" >&2; exit 2; }
	# shellcheck disable=SC2016 # {2} is parallel's, unquoted on purpose: "-flip horizontal" is two words
	parallel -j "$(nproc)" --colsep '\t' 'jpegtran -copy none $(test "{2}" = none || echo {2}) -crop {3} -outfile '"$work"'/p2000/IMG_{4}.jpg {1}' <"$work/crops"
	touch "$work/p2000/.done"
fi
if [ ! -f "$work/p200/.done" ]; then
	mkdir -p "$work/p200"
	for ((i = 0; i < N200; i++)); do ln -f "$work/p2000/IMG_$(printf %05d $i).jpg" "$work/p200/"; done
	touch "$work/p200/.done"
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
classes
warm
awk -v list="$list" -v n200="$N200" -v n2000="$N2000" -v n10k="$N10K" '
function median(arr, n,    i, j, tmp) {
	for (i = 2; i <= n; i++) { tmp = arr[i]; for (j = i - 1; j >= 1 && arr[j] > tmp; j--) arr[j+1] = arr[j]; arr[j+1] = tmp }
	return (n % 2) ? arr[(n+1)/2] : (arr[n/2] + arr[n/2+1]) / 2
}
FNR == NR { count[$1] = $2; next }
{ n[$1]++; w[$1, n[$1]] = $2; c[$1, n[$1]] = $3; if ($4 > rss[$1]) rss[$1] = $4; if (!($1 in seen)) { seen[$1] = 1; order[++k] = $1 } }
END {
	for (i = 1; i <= k; i++) { key = order[i]; for (j = 1; j <= n[key]; j++) { a[j] = w[key, j]; b[j] = c[key, j] }; mw[key] = median(a, n[key]); mc[key] = median(b, n[key]) }
	printf "| first index of %d distinct 7-12 MP phone JPEGs | cores | wall s | photos/s | CPU s | peak RSS MiB | wall vs 1 core |\n", n200
	print "|---|---:|---:|---:|---:|---:|---:|"
	nc = split(list, cs, " ")
	for (i = 1; i <= nc; i++) {
		cc = cs[i]
		printf "| `cotd run` (%d workers) | %d | %.1f | %.1f | %.1f | %.0f | %.2f× |\n", cc, cc, mw["index200-cotd-" cc], n200 / mw["index200-cotd-" cc], mc["index200-cotd-" cc], rss["index200-cotd-" cc] / 1024, mw["index200-cotd-1"] / mw["index200-cotd-" cc]
		if (cc == 1) printf "| `vipsthumbnail` loop | 1 | %.1f | %.1f | %.1f | %.0f | |\n", mw["index200-vipsloop-1"], n200 / mw["index200-vipsloop-1"], mc["index200-vipsloop-1"], rss["index200-vipsloop-1"] / 1024
		printf "| `parallel -j %d vipsthumbnail` | %d | %.1f | %.1f | %.1f | %.0f | %.2f× |\n", cc, cc, mw["index200-vipsparallel-" cc], n200 / mw["index200-vipsparallel-" cc], mc["index200-vipsparallel-" cc], rss["index200-vipsparallel-" cc] / 1024, mw["index200-vipsparallel-1"] / mw["index200-vipsparallel-" cc]
	}
	printf "\ncotd / vips CPU for the same %d: %.2f× (1 core, against the loop)\n\n", n200, mc["index200-cotd-1"] / mc["index200-vipsloop-1"]
	printf "| first run on a fresh folder of %d distinct 7-12 MP phone JPEGs, a day due | wall s to the first mail | photos indexed by then | photos/s | CPU s | peak RSS MiB |\n", n2000
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
