#!/usr/bin/env bash
# Log-hunt benchmark: `exsweep scan` over generated HttpProxy + IIS + ECP + OAB logs
# against `rg -c 'ServerInfo~'` over the same files (ripgrep stands for the cost of just
# reading them), in the same run, same thread count. Prints wall time and peak memory.
#
# With EXSWEEP_BEFORE=<binary> (an earlier build), that binary is timed in the same
# run too, for a before/after ratio.
#
# usage: bench/log-hunt.sh [MIB] [THREADS]      needs: rg (ripgrep), /usr/bin/time
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
mib=${1:-2048}
threads=${2:-2}
work=${BENCH_DIR:-/tmp/exsweep-bench}
tree="$work/logs-$mib"

command -v rg >/dev/null || { echo "rg not found: apt-get install ripgrep" >&2; exit 2; }
cargo build --release --quiet
if [ ! -d "$tree" ]; then
  mkdir -p "$work"
  ./target/release/exsweep fixture "$tree" --log-mib "$mib"
fi
logs=("$tree/Program Files/Microsoft/Exchange Server/V15/Logging" "$tree/inetpub/logs")
echo "logs: $(find "${logs[@]}" -type f | wc -l) files, $(du -sch --apparent-size "${logs[@]}" | tail -1 | cut -f1)"
# Warm the page cache so both tools read from memory, not from disk.
find "${logs[@]}" -type f -exec cat {} + > /dev/null

echo "threads: $threads"
measure exsweep ./target/release/exsweep scan --quiet --threads "$threads" --format jsonl "$tree"
measure ripgrep rg -c --threads "$threads" 'ServerInfo~' "${logs[@]}"
printf -v logs_quoted '%q ' "${logs[@]}"
before=()
if [ -n "${EXSWEEP_BEFORE:-}" ]; then
  before=(before "$EXSWEEP_BEFORE scan --quiet --threads $threads --format jsonl $tree")
fi
compare exsweep "./target/release/exsweep scan --quiet --threads $threads --format jsonl $tree" \
  ripgrep "rg -c --threads $threads ServerInfo~ $logs_quoted" "${before[@]}"
echo "exsweep: $(grep -c '"record":"finding"' "$work/exsweep.out") findings; ripgrep: $(paste -sd' ' "$work/ripgrep.out" | wc -w) files with hits"
