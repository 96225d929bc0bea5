#!/usr/bin/env bash
# Third-party pack benchmark: `exsweep scan --full --rules PACK` (rule loading included,
# from exsweep's compiled-rule cache after a first run) against `yr scan -C` with the same
# rules precompiled by `yr compile`, on the generated tree of file-sweep.sh, the same
# thread count, in the same run. Also times a cold compile and a cached load of the pack.
#
# usage: bench/rule-pack.sh PACK [FILES] [MIB] [THREADS]   (PACK: e.g. signature-base/yara)
# PE=1: the tree's binaries start with `MZ`, so the pack's rules for executables alone
# are scanned on them too (exsweep scans those rules only on such files).
# needs: python3, /usr/bin/time, `yr` (cargo install yara-x-cli --locked), hyperfine.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
pack=${1:?usage: bench/rule-pack.sh PACK [FILES] [MIB] [THREADS]}
files=${2:-50000}
mib=${3:-1100}
threads=${4:-2}
work=${BENCH_DIR:-/tmp/exsweep-bench}
file_tree "$files" "$mib" ${PE:+--pe}
echo "pack: $(find "$pack" -name '*.yar*' | wc -l) rule files"

# exsweep's cache in a folder of its own: the first load compiles, the next ones read it.
export EXSWEEP_CACHE_DIR="$work/rule-cache"
rm -rf "$EXSWEEP_CACHE_DIR"
/usr/bin/time -f "  exsweep compile (cold): %es" ./target/release/exsweep rules check "$pack" > /dev/null || true
/usr/bin/time -f "  exsweep load (cached): %es" ./target/release/exsweep rules check "$pack" | tail -1 || true
externals=(-d 'filename=""' -d 'filepath=""' -d 'extension=""' -d 'filetype=""' -d 'owner=""' -d 'md5=""')
/usr/bin/time -o "$work/time.txt" -f "  yr compile: %es" yr compile --ignore-invalid-rules --path-as-namespace "${externals[@]}" "$pack" -o "$work/pack.yarc" > /dev/null 2>&1 || true
cat "$work/time.txt"
echo "threads: $threads"
compare exsweep "./target/release/exsweep scan --full --quiet --threads $threads --format jsonl --rules $pack $tree" \
  yr-precompiled "yr scan -C --recursive --threads $threads --disable-console-logs $work/pack.yarc $tree"
