#!/usr/bin/env bash
# Hostile pages: the content heuristics and context scoring read each call's
# arguments and each name's assignments; a page built to make that quadratic (hundreds
# of thousands of calls, on one line or nested, with as many names) must cost about
# what reading it costs. Times `exsweep scan --full` on each generated page against
# `rg -c` over the same page, in the same run. The last two shapes read VBScript as
# the engine does: constants spelled in character codes, literals and comments.
#
# usage: bench/hostile-pages.sh [CALLS]     needs: python3, /usr/bin/time, ripgrep
set -euo pipefail
cd "$(dirname "$0")/.."
calls=${1:-200000}
work=${BENCH_DIR:-/tmp/exsweep-bench}/hostile
cargo build --release --quiet
rm -rf "$work" && mkdir -p "$work"
for shape in lines one-line nested-createobject nested-write spelled-executes quotes-and-comments; do
  root="$work/$shape/C" && mkdir -p "$root/Samples"
  python3 - "$shape" "$calls" "$root/Samples/page.asp" <<'PY'
import sys
shape, calls, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
statements = []
for i in range(calls):
    statements += [f'v{i} = request("a")', f'set o{i} = server.createobject(v{i})',
                   f'f.createtextfile(w{i})', f'h.open "get", w{i}']
if shape == "lines":
    page = "<%\n" + "\n".join(statements) + "\n%>"
elif shape == "one-line":
    page = "<%" + ":".join(statements) + "%>"
elif shape == "nested-createobject":
    page = "<%" + "set o=server.createobject(" * calls + "%>" + '<%x=request("a")%>' * 1000
elif shape == "nested-write":
    page = "<%" + "f.createtextfile(" * calls + "%>" + '<%x=request("a")%>' * 1000
elif shape == "spelled-executes":
    # Every call's argument spelled in character codes, all on one line.
    spelled = "&".join(f"chr({97 + i % 26})" for i in range(120))
    page = "<%" + ":".join(f"execute({spelled})" for _ in range(calls // 10)) + "%>"
else:
    # Literals with quotes doubled, apostrophes inside and comments after them.
    page = "<%\n" + "\n".join(f'x{i} = "it\'s ""{i}""" \' execute it' for i in range(calls)) + "\n%>"
open(out, "w").write(page)
PY
  size=$(du -h "$root/Samples/page.asp" | cut -f1)
  /usr/bin/time -q -o "$work/time" -f "%e s, peak RSS %M KiB" ./target/release/exsweep scan --layout image \
    --full --no-logs --quiet --format jsonl -o "$work/$shape.jsonl" "$root" || true
  echo "$shape ($size): exsweep $(cat "$work/time")"
  /usr/bin/time -q -o "$work/time" -f "%e s" rg -c createobject "$root/Samples/page.asp" > /dev/null || true
  echo "$shape ($size): rg -c $(cat "$work/time")"
done
