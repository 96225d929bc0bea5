#!/usr/bin/env bash
# Log-hunt benchmark: `exsweep scan` over generated HttpProxy + IIS + ECP + OAB logs
# against `rg -c 'ServerInfo~'` over the same files (ripgrep stands for the cost of just
# reading them), in the same run, same thread count. Prints wall time and peak memory.
#
# With EXSWEEP_BEFORE=<binary> (an earlier build), that binary is timed in the same
# run too, for a before/after ratio.
#
# With SIGMAHQ=<dir> (a SigmaHQ checkout), exsweep also runs with its three rule
# folders (the webserver rules read IIS, HttpProxy and ECP lines), and EXSWEEP_BEFORE
# with them too (PEER_RUNS times, three unless set); the two runs' finding IDs are
# compared, so a faster line selection that lost a hit would show.
#
# usage: [SIGMAHQ=DIR] bench/log-hunt.sh [MIB] [THREADS]      needs: rg (ripgrep), jq, /usr/bin/time
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

if [ -n "${SIGMAHQ:-}" ]; then
  sigma=(--sigma "$SIGMAHQ/rules" --sigma "$SIGMAHQ/rules-emerging-threats" --sigma "$SIGMAHQ/rules-threat-hunting")
  ids() { jq -r 'select(.record=="finding") | .id' "$1" | sort; }
  echo "with SigmaHQ's rules:"
  measure exsweep-sigma ./target/release/exsweep scan --quiet --threads "$threads" --format jsonl "${sigma[@]}" "$tree"
  echo "  exsweep-sigma: $(ids "$work/exsweep-sigma.out" | wc -l) findings"
  if [ -n "${EXSWEEP_BEFORE:-}" ]; then
    RUNS=${PEER_RUNS:-3} measure before-sigma "$EXSWEEP_BEFORE" scan --quiet --threads "$threads" --format jsonl "${sigma[@]}" "$tree"
    if cmp -s <(ids "$work/exsweep-sigma.out") <(ids "$work/before-sigma.out"); then
      echo "  before-sigma: the same $(ids "$work/before-sigma.out" | wc -l) findings"
    else
      echo "  before-sigma: OTHER findings ($(ids "$work/before-sigma.out" | wc -l)): diff the two .out files"
    fi
  fi
fi
