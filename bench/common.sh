# Shared by the benchmark scripts: `measure NAME COMMAND...` runs a command three times
# and prints its wall time and peak memory, keeping its output in $work/NAME.out.
measure() {
  local name=$1; shift
  for run in 1 2 3; do
    /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" > "$work/$name.out" 2>/dev/null || true
    read -r secs kib < <(tail -n 1 "$work/time.txt")
    echo "  $name run $run: ${secs}s, peak RSS $((kib / 1024)) MiB"
  done
}
