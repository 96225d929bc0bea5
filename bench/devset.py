#!/usr/bin/env python3
"""Web-shell detection quality: recall on shells and false alarms on benign pages.

Extracts a password zip of samples (`webshells/` and `benign/` folders, the layout of
`../shared/data/webshell-devset/devset.zip` and of `bench/heldout/heldout.zip`) into a
temporary mounted-image tree under a neutral folder (`C:\\Samples\\...`, no web root, so
no context raises or lowers a score), runs `exsweep scan --full --no-logs` on it and
counts, per set, the files with a finding at or above a severity. Prints which checks
and rules found what, and with --list-misses the misses and false alarms by name (use
it on the sets that may be read: never on heldout.zip's `webshells/` and `benign/`).

usage: bench/devset.py [--zip Z] [--password P] [--exsweep BIN] [--min-severity S]
                       [--list-misses] [--signals] [--lost] [-- EXTRA EXSWEEP ARGS (e.g. --rules DIR)]

--lost also scans without the extra arguments and counts, per set, the files flagged
without them and not with them (with a pack added: the shells it would lose).

--signals measures the content heuristics (EXS-FILE-010): per set, how many files each
signal fires on, what rules alone flag, what rules and heuristics flag, and what each
signal is worth (the files flagged with it and without it: a removal study). It needs
`cargo build --release -p exsweep-engine --example signals`.
The samples are deleted with the temporary folder; nothing is written elsewhere.
"""
import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import zipfile

SEVERITIES = ["info", "low", "medium", "high", "critical"]
# The folders of a sample zip: shells (`dev2/` is the inspectable half of the held-out
# set, `dev3/` a development set of AI-rewritten variants) and benign pages
# (`benign-dev/` the inspectable counterpart of the held-out `benign/`; `benign-rest/`
# the rest of its classic ASP corpus, in a zip `bench/heldout/build.py --benign-rest`
# writes).
SETS = ("webshells", "dev2", "dev3", "benign", "benign-dev", "benign-rest")
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_ZIP = os.path.join(HERE, "..", "..", "shared", "data", "webshell-devset", "devset.zip")


def extract(zip_path, password, root):
    """Writes each member of the SETS folders below `root/Samples`, returning
    {set name: [member names]}."""
    sets = collections.defaultdict(list)
    with zipfile.ZipFile(zip_path) as z:
        for info in z.infolist():
            if info.is_dir():
                continue
            top = info.filename.split("/", 1)[0]
            if top not in SETS:
                continue
            target = os.path.join(root, "Samples", info.filename)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as out:
                out.write(z.read(info, pwd=password.encode()))
            sets[top].append(info.filename)
    return sets


def member_of(windows_path):
    """`C:\\Samples\\webshells\\x.aspx` -> `webshells/x.aspx`."""
    parts = windows_path.split("\\")
    try:
        i = [p.lower() for p in parts].index("samples")
    except ValueError:
        return None
    return "/".join(parts[i + 1 :])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zip", default=DEFAULT_ZIP)
    ap.add_argument("--password", default="infected")
    ap.add_argument("--exsweep", default=os.path.join(HERE, "..", "target", "release", "exsweep"))
    ap.add_argument("--min-severity", default="medium", choices=SEVERITIES)
    ap.add_argument("--list-misses", action="store_true")
    ap.add_argument("--signals", action="store_true")
    ap.add_argument("--lost", action="store_true")
    ap.add_argument("extra", nargs="*")
    args = ap.parse_args()
    floor = SEVERITIES.index(args.min_severity)

    with tempfile.TemporaryDirectory(prefix="exsweep-devset-") as tmp:
        root = os.path.join(tmp, "image")
        sets = extract(args.zip, args.password, root)
        out = scan(args, root, tmp, args.extra)
        # Files found without the extra arguments (the built-in rules alone), to count
        # what the extra arguments lose.
        alone = flagged_members(scan(args, root, tmp, []), floor) if args.lost else None
        best = {}  # member -> (severity index, finding label)
        content = collections.defaultdict(lambda: {"rule": 0})
        labels = collections.defaultdict(lambda: collections.defaultdict(set))
        with open(out) as f:
            for line in f:
                rec = json.loads(line)
                if rec.get("record") != "finding":
                    continue
                member = member_of(rec.get("evidence", {}).get("windows_path", ""))
                if member is None:
                    continue
                record_content(content[member], rec)
                sev = SEVERITIES.index(rec["severity"])
                label = rec["check_id"] + (":" + rec["rule"]["name"] if "rule" in rec else "")
                if sev >= floor:
                    labels[member.split("/", 1)[0]][label].add(member)
                if sev > best.get(member, (-1, ""))[0]:
                    best[member] = (sev, label)
        signals = None
        if args.signals:
            example = os.path.join(os.path.dirname(args.exsweep), "examples", "signals")
            signals = page_signals(example, root)

    for name in SETS:
        if name not in sets:
            continue
        members = sets.get(name, [])
        flagged = [m for m in members if best.get(m, (-1,))[0] >= floor]
        share = 100.0 * len(flagged) / max(1, len(members))
        print(f"{name}: {len(flagged)}/{len(members)} at {args.min_severity} or above ({share:.1f}%)")
        for label, found in sorted(labels[name].items(), key=lambda kv: -len(kv[1])):
            print(f"  {len(found):4}  {label}")
        benign = name.startswith("benign")
        shown = sorted(flagged) if benign else sorted(set(members) - set(flagged))
        if alone is not None:
            lost = len({m for m in alone if m.split("/", 1)[0] == name} - set(flagged))
            print(f"  flagged without {' '.join(args.extra)} and not with it: {lost}")
        if args.list_misses:
            for m in shown:
                sev, label = best.get(m, (-1, "-"))
                print(f"    {'flagged' if benign else 'missed'} {m} ({label})")

    if signals is not None:
        report_signals(sets, content, signals)


def scan(args, root, tmp, extra):
    """Runs exsweep over the extracted tree with `extra` arguments; returns its JSONL."""
    out = os.path.join(tmp, "out-extra.jsonl" if extra else "out.jsonl")
    cmd = [args.exsweep, "scan", "--layout", "image", "--full", "--no-logs", "--quiet",
           "--format", "jsonl", "-o", out, root] + extra
    run = subprocess.run(cmd, stderr=subprocess.PIPE, text=True)
    if run.returncode not in (0, 1):
        sys.exit(f"exsweep failed ({run.returncode}): {run.stderr}")
    return out


def flagged_members(out, floor):
    """The members with a finding at `floor` or above in a JSONL output."""
    found = set()
    with open(out) as f:
        for line in f:
            rec = json.loads(line)
            member = member_of(rec.get("evidence", {}).get("windows_path", ""))
            if rec.get("record") == "finding" and member and SEVERITIES.index(rec["severity"]) >= floor:
                found.add(member)
    return found


def record_content(seen, rec):
    """Keeps the strongest rule's points of a content finding (the primary detection is
    the first reason, the others are `also matched rule X (points)` reasons)."""
    reasons = rec.get("score_reasons", [])
    if rec["check_id"] == "EXS-FILE-009" and reasons:
        seen["rule"] = max(seen["rule"], reasons[0]["points"])
    for r in reasons[1:]:
        because = r["because"]
        if because.startswith("also matched rule "):
            seen["rule"] = max(seen["rule"], int(because.rsplit("(", 1)[1].rstrip(")")))


def page_signals(binary, root):
    """{member: {signal: weight}} from the `signals` example over the extracted tree."""
    run = subprocess.run([binary, os.path.join(root, "Samples")], capture_output=True, text=True, check=True)
    out = {}
    for line in run.stdout.splitlines():
        path, fired = line.split("\t")
        member = os.path.relpath(path, os.path.join(root, "Samples")).replace(os.sep, "/")
        out[member] = {f.split(":")[0]: int(f.split(":")[1]) for f in fired.split(",") if f}
    return out


def report_signals(sets, content, signals, threshold=50, medium=40):
    """Prints each signal's fires and worth per set: files flagged by rules alone, by
    rules and heuristics, and by both with the signal taken out."""
    names = sorted({s for fired in signals.values() for s in fired})

    def flagged(members, without=None, heuristics=True):
        n = 0
        for m in members:
            rule = content.get(m, {"rule": 0})["rule"]
            total = sum(w for s, w in signals.get(m, {}).items() if s != without)
            if rule >= medium or (heuristics and total >= threshold):
                n += 1
        return n

    print("\nheuristic signals (files flagged: rules alone / rules + heuristics / without the signal)")
    for name in SETS:
        members = sets.get(name, [])
        if not members:
            continue
        print(f"{name}: rules alone {flagged(members, heuristics=False)}, with heuristics {flagged(members)} of {len(members)}")
        for signal in names:
            fires = sum(1 for m in members if signal in signals.get(m, {}))
            print(f"  {signal:22} fires on {fires:4}; without it {flagged(members, without=signal)}")


if __name__ == "__main__":
    main()
