#!/usr/bin/env bash
# Regenerates the README's screenshots (docs/mail-*.png) from the real CLI:
# builds cotd, runs `cotd preview` for a day from Ana Lima with a captioned
# cat (the built-in sample, named mochi-on-the-radiator.jpg) and the
# built-in quotes, and photographs the .html it writes in headless Chromium
# (playwright-core, as in the browser tests) at 375 px light and dark and
# at 1024 px.
#
# Needs: go, node, Debian's chromium, and `npm ci --prefix mail/testdata/browser`.
# Usage: bash docs/screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

go build -o "$tmp/cotd" .
mkdir "$tmp/photos"
cp assets/cat.jpg "$tmp/photos/mochi-on-the-radiator.jpg"
env -i PATH="$PATH" HOME="$tmp" COTD_TZ=Europe/Berlin COTD_NOW=2026-12-01T07:05:00+01:00 \
  "$tmp/cotd" preview --date 2026-12-01 --db "$tmp/cotd.db" --photos "$tmp/photos" \
  --from 'Ana Lima <ana@example.test>' --to 'Cee <c@example.test>' --out "$tmp/preview" >"$tmp/out.txt"
page=$(grep '\.html$' "$tmp/out.txt" | head -1)

cat >"$tmp/config.json" <<JSON
{"chromium": "$(command -v chromium)", "outDir": "$tmp",
 "pages": [{"name": "mail", "file": "$page"}],
 "viewports": [{"name": "phone", "width": 375, "height": 667, "mobile": true, "scale": 2},
               {"name": "desktop", "width": 1024, "height": 768}],
 "schemes": ["light", "dark"]}
JSON
(cd mail/testdata/browser && HOME="$tmp" node check.mjs "$tmp/config.json" >"$tmp/facts.json")
cp "$tmp/mail-phone-light.png" docs/mail-phone.png
cp "$tmp/mail-phone-dark.png" docs/mail-phone-dark.png
cp "$tmp/mail-desktop-light.png" docs/mail-desktop.png
echo "wrote docs/mail-phone.png docs/mail-phone-dark.png docs/mail-desktop.png from $page"
