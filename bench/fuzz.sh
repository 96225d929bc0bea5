#!/usr/bin/env bash
# Fuzzing: runs every target in fuzz/ for MINUTES each (cargo-fuzz on the stable
# toolchain, `--sanitizer none`: libFuzzer's coverage guidance without ASan, which
# needs nightly), from a seed corpus made of exsweep's own fixtures: the demo server's
# hives, IIS configuration and logs, the log fixture, and the real EVTX samples when
# ../shared holds them. Prints, per target, how long it ran, how many inputs and
# whether it crashed; a crash leaves its input in fuzz/artifacts/<target>/, to be made
# a test.
#
# usage: bench/fuzz.sh [MINUTES] [TARGET...]     needs: cargo install cargo-fuzz --locked
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-5}
shift || true
command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz not found: cargo install cargo-fuzz --locked" >&2; exit 2; }
work=${BENCH_DIR:-/tmp/exsweep-bench}/fuzz-seeds
mkdir -p "$work"

cargo build --release --quiet
# The demo server (kept) and a small log fixture.
if [ ! -d "$work/demo" ]; then
  # The demo exits 1 (it finds what it planted): its message says where the tree is.
  kept=$( (./target/release/exsweep demo --keep -q 2>&1 >/dev/null || true) |
    sed -n 's/.*evidence kept at \(.*\); scan.*/\1/p')
  mv "$kept/EXCH01" "$work/demo"
  rm -rf "$kept"
fi
[ -d "$work/logs" ] || ./target/release/exsweep fixture "$work/logs" --log-mib 1 >/dev/null 2>&1

corpus=fuzz/corpus
seed() { # seed TARGET FILE...: the first 64 KiB of each file
  mkdir -p "$corpus/$1"
  local target=$1; shift
  for f in "$@"; do
    [ -f "$f" ] && head -c 65536 "$f" > "$corpus/$target/$(basename "$f" | tr -c 'A-Za-z0-9._-' _)"
  done
  return 0
}
logs="$work/logs/Program Files/Microsoft/Exchange Server/V15/Logging"
mapfile -t iis < <(find "$work/logs/inetpub/logs" -type f | head -3)
mapfile -t proxy < <(find "$logs/HttpProxy" -type f | head -3)
mapfile -t ecp < <(find "$logs/ECP" -type f | head -2)
mapfile -t oab < <(find "$logs/OABGeneratorLog" -type f | head -1)
texts=("${iis[@]}" "${proxy[@]}" "${ecp[@]}" "${oab[@]}")
seed w3c "${iis[@]}"
seed csv "${proxy[@]}" "${ecp[@]}"
seed log_checks "${texts[@]}"
seed line_selector "${texts[@]}"
seed recognise "${texts[@]}"
seed hive "$work/demo/Windows/System32/config/SOFTWARE" "$work/demo/Windows/System32/config/SYSTEM"
seed webmap "$work/demo/Windows/System32/inetsrv/config/applicationHost.config"
seed ioc_feed data/iocs/exsweep-builtin.txt data/iocs/mstic-exchange-march2021.csv
if [ -d ../shared/data/evtx ]; then
  seed evtx ../shared/data/evtx/*.evtx
  cp ../shared/data/iocs/*.yaml "$corpus/ioc_feed/" 2>/dev/null || true
fi
mkdir -p "$corpus/stix" "$corpus/uploads_json" "$corpus/velociraptor_names" "$corpus/archive" "$corpus/evtx"
printf '%s' '{"type":"bundle","id":"bundle--1","objects":[{"type":"indicator","pattern":"[file:hashes.'"'"'SHA-256'"'"' = '"'"'097549cf7d0f76f0d99edf8b2d91c60977fd6a96e4b8c3c94b0b1733dc026d3e'"'"'] OR [file:name = '"'"'shell.aspx'"'"']","pattern_type":"stix"}]}' > "$corpus/stix/bundle.json"
printf '%s\n' '{"vfs_path":"C:\\inetpub\\x.aspx","_Components":["uploads","auto","C%3A","inetpub","x.aspx"],"mtime":"2021-03-03T02:53:00Z","atime":1614744306}' > "$corpus/uploads_json/row.json"
printf '%s' 'uploads/auto/C%3A/Program%20Files/Microsoft/Exchange%20Server/V15/FrontEnd/HttpProxy/owa/auth/x.aspx' > "$corpus/velociraptor_names/path"
printf '%s' 'uploads/ntfs/%5C%5C.%5CC%3A/inetpub/wwwroot/aspnet_client/a%2Fb.aspx' > "$corpus/velociraptor_names/ntfs"
# Archives: a zip of IIS logs and a gzipped log, made from the fixtures.
first_iis=${iis[0]}
python3 - "$corpus/archive/iis.zip" "$first_iis" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("W3SVC1/u_ex210303.log", open(sys.argv[2], "rb").read()[:65536])
PY
head -c 65536 "$first_iis" | gzip -c > "$corpus/archive/u_ex.log.gz"

targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cd fuzz && cargo fuzz list)
(cd fuzz && cargo fuzz build --sanitizer none)
echo "fuzzing ${#targets[@]} target(s), ${minutes} min each, on $(nproc) cores"
for t in "${targets[@]}"; do
  mkdir -p "$corpus/$t"
  log="$work/$t.log"
  start=$(date +%s)
  set +e
  # Overflow checks are on (they find our arithmetic bugs), except for hives: nt-hive
  # 0.3 overflows on a cell smaller than its header, which production builds (no
  # overflow checks) read as an error, and exsweep's reader contains any panic
  # anyway (crates/evidence/src/registry.rs, tested with the input that found it).
  mode=()
  [ "$t" != hive ] || mode=(-O)
  (cd fuzz && cargo fuzz run --sanitizer none "${mode[@]}" "$t" "corpus/$t" -- \
      -max_total_time=$((minutes * 60)) -max_len=65536 -rss_limit_mb=4096 -timeout=20 > "$log" 2>&1)
  status=$?
  set -e
  secs=$(( $(date +%s) - start ))
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  [ "$runs" != "?" ] || runs=$(grep -Eo '^#[0-9]+' "$log" | tail -1 | tr -d '#')
  if [ $status -eq 0 ]; then verdict="no crash"; else verdict="CRASH (exit $status): see $log and fuzz/artifacts/$t/"; fi
  printf '%-20s %5ss  %10s inputs  corpus %5s  %s\n' "$t" "$secs" "${runs:-?}" "$(ls "$corpus/$t" | wc -l)" "$verdict"
done
