#!/usr/bin/env bash
# File-sweep benchmark: `exsweep scan --full` against `yr scan` (YARA-X CLI) on the same
# generated tree, the same rules (exsweep's built-in rules/ folder) and the same number of
# threads, in the same run. Prints wall time and peak memory of each.
#
# usage: bench/file-sweep.sh [FILES] [MIB] [THREADS]
# needs: python3, /usr/bin/time, `yr` (cargo install yara-x-cli --locked); ripgrep if present.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
files=${1:-50000}
mib=${2:-1100}
threads=${3:-2}
work=${BENCH_DIR:-/tmp/exsweep-bench}
file_tree "$files" "$mib"
echo "threads: $threads"
measure exsweep ./target/release/exsweep scan --full --quiet --threads "$threads" --format jsonl "$tree"
measure yr yr scan --recursive --threads "$threads" --disable-console-logs rules/ "$tree"
if command -v rg >/dev/null; then
  measure ripgrep rg -c --threads "$threads" -uuu 'eval\(Request' "$tree"
fi
compare exsweep "./target/release/exsweep scan --full --quiet --threads $threads --format jsonl $tree" \
  yr "yr scan --recursive --threads $threads --disable-console-logs rules/ $tree"
echo "matches: exsweep $(grep -c EXS-FILE-009 "$work/exsweep.out" || true) rule findings, yr $(wc -l < "$work/yr.out") lines"
