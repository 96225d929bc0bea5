#!/usr/bin/env python3
"""Web-shell detection quality: recall on shells and false alarms on benign pages.

Extracts a password zip of samples (`webshells/` and `benign/` folders, the layout of
`../shared/data/webshell-devset/devset.zip` and of `bench/heldout/heldout.zip`) into a
temporary mounted-image tree under a neutral folder (`C:\\Samples\\...`, no web root, so
no context raises or lowers a score), runs `exsweep scan --full --no-logs` on it and
counts, per set, the files with a finding at or above a severity. Prints which checks
and rules found what, and the misses and false alarms by name, so a rule change can be
judged on the numbers.

usage: bench/devset.py [--zip Z] [--password P] [--exsweep BIN] [--min-severity S]
                       [--list-misses] [-- EXTRA EXSWEEP ARGS (e.g. --rules DIR)]
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
# set) and benign pages.
SETS = ("webshells", "dev2", "benign")
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_ZIP = os.path.join(HERE, "..", "..", "shared", "data", "webshell-devset", "devset.zip")


def extract(zip_path, password, root):
    """Writes each `webshells/`, `dev2/` and `benign/` member below `root/Samples`, returning
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
    ap.add_argument("extra", nargs="*")
    args = ap.parse_args()
    floor = SEVERITIES.index(args.min_severity)

    with tempfile.TemporaryDirectory(prefix="exsweep-devset-") as tmp:
        root = os.path.join(tmp, "image")
        sets = extract(args.zip, args.password, root)
        out = os.path.join(tmp, "out.jsonl")
        cmd = [args.exsweep, "scan", "--layout", "image", "--full", "--no-logs", "--quiet",
               "--format", "jsonl", "-o", out, root] + args.extra
        run = subprocess.run(cmd, stderr=subprocess.PIPE, text=True)
        if run.returncode not in (0, 1):
            sys.exit(f"exsweep failed ({run.returncode}): {run.stderr}")
        best = {}  # member -> (severity index, finding label)
        labels = collections.defaultdict(lambda: collections.defaultdict(set))
        with open(out) as f:
            for line in f:
                rec = json.loads(line)
                if rec.get("record") != "finding":
                    continue
                member = member_of(rec.get("evidence", {}).get("windows_path", ""))
                if member is None:
                    continue
                sev = SEVERITIES.index(rec["severity"])
                label = rec["check_id"] + (":" + rec["rule"]["name"] if "rule" in rec else "")
                if sev >= floor:
                    labels[member.split("/", 1)[0]][label].add(member)
                if sev > best.get(member, (-1, ""))[0]:
                    best[member] = (sev, label)

    for name in SETS:
        if name not in sets:
            continue
        members = sets.get(name, [])
        flagged = [m for m in members if best.get(m, (-1,))[0] >= floor]
        share = 100.0 * len(flagged) / max(1, len(members))
        print(f"{name}: {len(flagged)}/{len(members)} at {args.min_severity} or above ({share:.1f}%)")
        for label, found in sorted(labels[name].items(), key=lambda kv: -len(kv[1])):
            print(f"  {len(found):4}  {label}")
        shown = sorted(set(members) - set(flagged)) if name != "benign" else sorted(flagged)
        if args.list_misses or name == "benign":
            for m in shown:
                sev, label = best.get(m, (-1, "-"))
                print(f"    {'missed' if name != 'benign' else 'flagged'} {m} ({label})")


if __name__ == "__main__":
    main()
