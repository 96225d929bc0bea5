#!/usr/bin/env bash
# Overview benchmark: `exsweep report DIR --html` over N hosts' saved scans (made by
# bench/gen_hosts.py from the demo's JSONL: two thirds compromised copies, one third
# clean) against jq reading the same files for their summaries alone
# (`jq -c 'select(.record=="summary") | [.host, .verdict]'`), the least a script-based
# overview reads, in the same run. Then exsweep at a tenth of N, to show its memory
# stays flat as the hosts grow.
#
# usage: bench/overview.sh [HOSTS]      needs: jq, python3, /usr/bin/time
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
hosts=${1:-1000}
work=${BENCH_DIR:-/tmp/exsweep-bench}
mkdir -p "$work"

cargo build --release --quiet
./target/release/exsweep demo -q --format jsonl -o "$work/demo.jsonl" --html "$work/demo.html"
for n in "$hosts" "$((hosts / 10))"; do
  rm -rf "$work/hosts-$n"
  python3 bench/gen_hosts.py "$work/demo.jsonl" "$work/hosts-$n" "$n"
done
echo "hosts: $hosts, $(cat "$work/hosts-$hosts"/*.jsonl | wc -l) records, $(du -sh --apparent-size "$work/hosts-$hosts" | cut -f1)"
cat "$work/hosts-$hosts"/*.jsonl > /dev/null
measure exsweep ./target/release/exsweep report -q "$work/hosts-$hosts" --html "$work/overview.html"
echo "  exsweep: $(grep -m1 '^OVERVIEW' "$work/exsweep.out"); HTML $(du -h "$work/overview.html" | cut -f1)"
measure jq sh -c "cat '$work/hosts-$hosts'/*.jsonl | jq -c 'select(.record==\"summary\") | [.host, .verdict]'"
echo "  jq: $(wc -l < "$work/jq.out") summaries"
echo "memory at a tenth of the hosts ($((hosts / 10))):"
measure exsweep-tenth ./target/release/exsweep report -q "$work/hosts-$((hosts / 10))" --html "$work/overview-tenth.html"
