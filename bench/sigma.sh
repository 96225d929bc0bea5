#!/usr/bin/env bash
# Sigma benchmark: `exsweep scan --sigma` over an EVTX corpus against Hayabusa (and
# Chainsaw, where built) with the same SigmaHQ rules and thread count, in the same run.
# The corpus is Yamato-Security's hayabusa-sample-evtx (the files its snapshot holds),
# hard-linked COPIES times into one folder (about 100 MB a copy), read as loose logs;
# exsweep also runs once over ten times the copies (hard links: no more disk), to show
# its memory stays flat.
#
# Hayabusa filters rules by the Channel its own conversion adds, so it runs
# hayabusa-rules' conversion of SigmaHQ (`sigma/`, with its `config/`): given raw
# SigmaHQ rules it enables two of them.
#
# Chainsaw runs SigmaHQ's three folders as they are, through its own
# `mappings/sigma-event-logs-all.yml`. A peer that takes minutes a run can be run fewer
# times with PEER_RUNS (exsweep still runs three times).
#
# usage: SAMPLES=DIR SIGMAHQ=DIR [HAYABUSA=bin HAYABUSA_RULES=DIR] [CHAINSAW=bin CHAINSAW_SRC=DIR] [PEER_RUNS=N] bench/sigma.sh [COPIES]
#   SAMPLES         a checkout of hayabusa-sample-evtx
#   SIGMAHQ         a SigmaHQ checkout (rules/, rules-emerging-threats/, rules-threat-hunting/)
#   HAYABUSA        hayabusa v3.10.0 built from source (cargo build --release; its git
#                   dependency hayabusa-evtx given as a path)
#   HAYABUSA_RULES  a hayabusa-rules checkout
#   CHAINSAW        chainsaw built from source (v2.16.4 builds with its git patches of
#                   libesedb and notatin dropped, mft given as a path)
#   CHAINSAW_SRC    the chainsaw checkout it was built from (for its mappings/)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
copies=${1:-20}
work=${BENCH_DIR:-/tmp/exsweep-bench}
threads=${THREADS:-$(nproc)}
: "${SAMPLES:?set SAMPLES to a hayabusa-sample-evtx checkout}" "${SIGMAHQ:?set SIGMAHQ}"
mkdir -p "$work"

corpus() { # corpus NAME COPIES
  local dir="$work/$1"
  if [ ! -d "$dir" ]; then
    for i in $(seq 1 "$2"); do
      mkdir -p "$dir/copy-$i"
      find "$SAMPLES" -name '*.evtx' -size +0 -print0 | while IFS= read -r -d '' f; do
        ln "$f" "$dir/copy-$i/$(echo "${f#"$SAMPLES"/}" | tr '/ ' '__')" 2>/dev/null || cp "$f" "$dir/copy-$i/"
      done
    done
  fi
  echo "$dir"
}
cargo build --release --quiet
big=$(corpus "evtx-$copies" "$copies")
huge=$(corpus "evtx-$((copies * 10))" "$((copies * 10))")
# du counts a hard-linked file once; the tools read every copy, so sum the sizes.
echo "corpus: $(find "$big" -name '*.evtx' | wc -l) files, $(find "$big" -name '*.evtx' -printf '%s\n' | awk '{s+=$1} END{printf "%.2f GB", s/1e9}'); threads: $threads"
find "$big" -type f -exec cat {} + > /dev/null
rules=(--sigma "$SIGMAHQ/rules" --sigma "$SIGMAHQ/rules-emerging-threats" --sigma "$SIGMAHQ/rules-threat-hunting")

measure exsweep ./target/release/exsweep scan -q --threads "$threads" --layout loose "${rules[@]}" --format jsonl -o "$work/exsweep-sigma.jsonl" "$big"
records=$(jq -s 'map(select(.record=="summary"))[0].coverage.logs | map(.lines) | add' "$work/exsweep-sigma.jsonl")
kept=$(grep -c '"check_id":"EXS-SIGMA-001"' "$work/exsweep-sigma.jsonl" || true)
# A rule's hits past its cap are counted in a summary warning, not kept as findings;
# the peers' counts are every detection, so add those back.
left_out=$(jq -r 'select(.record=="summary") | .coverage.warnings[]? | tostring' "$work/exsweep-sigma.jsonl" |
  sed -nE 's/^EXS-SIGMA-001 rule .* ([0-9]+) left out$/\1/p' | awk '{s+=$1} END{print s+0}')
echo "  exsweep: $records records, $(awk "BEGIN{printf \"%.0f\", $records / $best_secs}") records/s, $((kept + left_out)) Sigma hits ($kept kept as findings)"

if [ -n "${HAYABUSA:-}" ]; then
  : "${HAYABUSA_RULES:?set HAYABUSA_RULES to a hayabusa-rules checkout}"
  RUNS=${PEER_RUNS:-3} measure hayabusa "$HAYABUSA" csv-timeline -d "$big" -r "$HAYABUSA_RULES/sigma" -c "$HAYABUSA_RULES/config" -o "$work/hayabusa.csv" -C -w -q -t "$threads"
  echo "  hayabusa: $(($(wc -l < "$work/hayabusa.csv") - 1)) detections, $(awk "BEGIN{printf \"%.0f\", $records / $best_secs}") records/s"
fi
if [ -n "${CHAINSAW:-}" ]; then
  : "${CHAINSAW_SRC:?set CHAINSAW_SRC to the chainsaw checkout}"
  RUNS=${PEER_RUNS:-3} measure chainsaw "$CHAINSAW" --num-threads "$threads" hunt "$big" "${rules[@]/--sigma/-s}" --mapping "$CHAINSAW_SRC/mappings/sigma-event-logs-all.yml" --jsonl -o "$work/chainsaw.jsonl" -q
  echo "  chainsaw: $(wc -l < "$work/chainsaw.jsonl") detections, $(awk "BEGIN{printf \"%.0f\", $records / $best_secs}") records/s"
fi
echo "memory at ten times the corpus ($(find "$huge" -name '*.evtx' | wc -l) files), one run:"
/usr/bin/time -f "%e %M" -o "$work/time.txt" ./target/release/exsweep scan -q --threads "$threads" --layout loose "${rules[@]}" --format jsonl -o "$work/exsweep-sigma-10x.jsonl" "$huge" > /dev/null 2>&1 || true
read -r secs kib < <(tail -n 1 "$work/time.txt")
echo "  exsweep-10x: ${secs}s, peak RSS $((kib / 1024)) MiB, $(grep -c '"record":"finding"' "$work/exsweep-sigma-10x.jsonl") findings kept"
