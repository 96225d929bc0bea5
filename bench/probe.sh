#!/usr/bin/env bash
# Probe benchmark: `exsweep probe` (passive, default concurrency) over N loopback
# targets against `xargs -P 64 curl` making the same passive request (GET
# /owa/auth/logon.aspx, the X-OWA-Version header read) in the same run. The targets
# are distinct addresses 127.1.x.y on one port, all answered by the testkit's
# loopback Exchange server (hyper, as in the tests), which runs on the same cores.
# Prints wall time, targets per second and peak memory, and exsweep's peak memory at
# a tenth of N to show it stays flat.
#
# usage: bench/probe.sh [TARGETS]      needs: curl, /usr/bin/time
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
targets=${1:-10000}
port=${PROBE_PORT:-18080}
work=${BENCH_DIR:-/tmp/exsweep-bench}
mkdir -p "$work"

cargo build --release --quiet
cargo build --release --quiet -p exsweep-testkit --features exchange-server --example exchange-server
./target/release/examples/exchange-server "0.0.0.0:$port" 2>/dev/null &
server=$!
trap 'kill $server' EXIT
sleep 0.5

# One target a line, 250 addresses per /24 so no address ends in .0 or .255.
target_list() {
  python3 -c "import sys
for i in range(int(sys.argv[1])):
    print(f'http://127.1.{i // 250}.{i % 250 + 1}:$port')" "$1"
}
target_list "$targets" > "$work/targets-$targets.txt"
target_list "$((targets / 10))" > "$work/targets-$((targets / 10)).txt"
ua="exsweep-bench-curl"

rate() { awk "BEGIN{printf \"%.0f targets/s\", $1 / $best_secs}"; }
echo "targets: $targets on 127.1.x.y:$port"
measure exsweep ./target/release/exsweep probe -q --format csv -i "$work/targets-$targets.txt"
echo "  exsweep: $(rate "$targets"), $(grep -c ',15.2.792.3,' "$work/exsweep.out") builds read"
measure curl sh -c "sed 's|\$|/owa/auth/logon.aspx|' '$work/targets-$targets.txt' |
  xargs -P 64 -n 1 curl -s -o /dev/null -A $ua --max-time 10 -w '%{url} %header{x-owa-version}\n'"
echo "  curl: $(rate "$targets"), $(grep -c ' 15.2.792.3$' "$work/curl.out") builds read"
echo "memory at a tenth of the targets ($((targets / 10))):"
measure exsweep-tenth ./target/release/exsweep probe -q --format csv -i "$work/targets-$((targets / 10)).txt"
