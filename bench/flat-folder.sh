#!/usr/bin/env bash
# Flat-folder benchmark: one Windows\Temp of FILES small files, swept with 1 thread and
# with THREADS threads, beside `rg -c` over the same folder with the same threads: a
# folder's files must be read on every core, not by the one task that listed it.
#
# usage: bench/flat-folder.sh [FILES] [THREADS]      needs: python3, hyperfine, rg
set -euo pipefail
cd "$(dirname "$0")/.."
files=${1:-100000}
threads=${2:-2}
work=${BENCH_DIR:-/tmp/exsweep-bench}
tree="$work/flat-$files"

command -v hyperfine >/dev/null || { echo "hyperfine not found: apt-get install hyperfine" >&2; exit 2; }
command -v rg >/dev/null || { echo "rg not found: apt-get install ripgrep" >&2; exit 2; }
cargo build --release --quiet
if [ ! -d "$tree" ]; then
  mkdir -p "$tree/Windows/Temp"
  python3 - "$tree/Windows/Temp" "$files" <<'PY'
import sys
folder, count = sys.argv[1], int(sys.argv[2])
for i in range(count):
    with open(f"{folder}/tmp{i:06d}.txt", "w") as f:
        f.write(("log line %d of a temp file with some text to scan\n" % i) * 40)
PY
fi
echo "folder: $(find "$tree" -type f | wc -l) files, $(du -sh --apparent-size "$tree" | cut -f1)"
find "$tree" -type f -exec cat {} + > /dev/null
hyperfine -N -i -w 1 -r "${RUNS:-5}" \
  -n "exsweep -j 1" "./target/release/exsweep scan -q --no-logs -j 1 --format jsonl $tree" \
  -n "exsweep -j $threads" "./target/release/exsweep scan -q --no-logs -j $threads --format jsonl $tree" \
  -n "rg -j $threads" "rg -c -uuu --threads $threads MDMP $tree" 2>/dev/null |
  grep -E "^Benchmark|Time \(mean|±.*times faster|^  [a-z]"
