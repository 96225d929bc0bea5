#!/usr/bin/env bash
# Log-hunt benchmark: `exsweep scan` over generated HttpProxy + IIS + ECP + OAB logs
# against `rg -c 'ServerInfo~'` over the same files (ripgrep stands for the cost of just
# reading them), in the same run, same thread count. Prints wall time and peak memory.
#
# usage: bench/log-hunt.sh [MIB] [THREADS]      needs: rg (ripgrep), /usr/bin/time
set -euo pipefail
cd "$(dirname "$0")/.."
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
cat $(find "${logs[@]}" -type f | sed 's/ /\\ /g' | tr '\n' ' ' | xargs -0 echo) > /dev/null 2>&1 || find "${logs[@]}" -type f -exec cat {} + > /dev/null

measure() { # name, command...
  local name=$1; shift
  for run in 1 2 3; do
    /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" > "$work/$name.out" 2>/dev/null || true
    read -r secs kib < <(tail -n 1 "$work/time.txt")
    echo "  $name run $run: ${secs}s, peak RSS $((kib / 1024)) MiB"
  done
}
echo "threads: $threads"
measure exsweep ./target/release/exsweep scan --quiet --threads "$threads" --format jsonl "$tree"
measure ripgrep rg -c --threads "$threads" 'ServerInfo~' "${logs[@]}"
echo "exsweep: $(grep -c '"record":"finding"' "$work/exsweep.out") findings; ripgrep: $(paste -sd' ' "$work/ripgrep.out" | wc -w) files with hits"
