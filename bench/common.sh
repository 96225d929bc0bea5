# Shared by the benchmark scripts: `measure NAME COMMAND...` runs a command $RUNS times
# (three unless set) and prints its wall time and peak memory, keeping its output in
# $work/NAME.out and the fastest run's seconds in $best_secs.
measure() {
  local name=$1; shift
  best_secs=
  for run in $(seq 1 "${RUNS:-3}"); do
    /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" > "$work/$name.out" 2>/dev/null || true
    read -r secs kib < <(tail -n 1 "$work/time.txt")
    echo "  $name run $run: ${secs}s, peak RSS $((kib / 1024)) MiB"
    if [ -z "$best_secs" ] || awk "BEGIN{exit !($secs < $best_secs)}"; then best_secs=$secs; fi
  done
}

# `compare NAME1 'COMMAND1' NAME2 'COMMAND2' ...`: with hyperfine installed, times the
# commands alternately (one warm-up, ten runs each) and prints their means and ratios;
# non-zero exits (exsweep's "findings" code 1) are expected, not failures.
compare() {
  command -v hyperfine >/dev/null || { echo "(hyperfine not found: apt-get install hyperfine for mean ± σ)"; return; }
  local args=()
  while [ $# -ge 2 ]; do args+=(-n "$1" "$2"); shift 2; done
  hyperfine -N -i -w 1 -r "${RUNS:-10}" "${args[@]}" 2>/dev/null |
    grep -E "^Benchmark|Time \(mean|±.*times faster|^  [a-z]"
}

# `file_tree FILES MIB [--pe]`: checks that yr is there, builds exsweep, generates the
# sweep tree of FILES files and about MIB MiB under $work (once; with --pe its binaries
# start with `MZ`), warms the page cache so both tools read from memory, and sets $tree.
file_tree() {
  command -v yr >/dev/null || { echo "yr not found: cargo install yara-x-cli --locked" >&2; exit 2; }
  cargo build --release --quiet
  tree="$work/tree-$1-$2${3:+-pe}"
  if [ ! -d "$tree" ]; then
    mkdir -p "$work"
    python3 bench/gen_tree.py "$tree" "$1" "$2" ${3:+--pe}
  fi
  echo "tree: $(find "$tree" -type f | wc -l) files, $(du -sh --apparent-size "$tree" | cut -f1)"
  find "$tree" -type f -exec cat {} + > /dev/null
}
