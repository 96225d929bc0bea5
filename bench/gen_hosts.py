#!/usr/bin/env python3
"""Writes N hosts' saved scans for the overview benchmark, from one scan's JSONL.

Every third host is clean (its summary alone, verdict NO_INDICATORS_FOUND); the
others are copies of the scan given, with their own host name and scan ID, the
attacker IP 5.2.69.14 replaced by one shared by each group of ten hosts, and the
first shell's SHA-256 made unique per host, so the overview's maps grow as they would.

usage: gen_hosts.py SCAN.jsonl OUT_DIR N
"""
import json
import os
import sys

scan, out_dir, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
lines = open(scan, encoding="utf-8").read().splitlines()
os.makedirs(out_dir, exist_ok=True)
shell_sha = next(
    json.loads(l)["evidence"]["sha256"]
    for l in lines
    if '"record":"finding"' in l and '"sha256"' in l and '"class":"compromise"' in l
)
for i in range(count):
    host, scan_id = f"EXCH{i:04d}", f"bench-{i:04d}"
    with open(os.path.join(out_dir, f"{host}.jsonl"), "w", encoding="utf-8") as out:
        for line in lines:
            record = json.loads(line)
            if i % 3 == 0 and record["record"] != "summary":
                continue
            record["host"], record["scan_id"] = host, scan_id
            text = json.dumps(record, separators=(",", ":"), ensure_ascii=False)
            if i % 3 == 0:
                record["verdict"] = "NO_INDICATORS_FOUND"
                for counts in (record["findings_by_severity"], record["verdict_basis"]["findings_by_class"]):
                    for key in counts:
                        counts[key] = 0
                record["verdict_basis"].pop("driven_by", None)
                record["verdict_basis"]["still_open"] = []
                text = json.dumps(record, separators=(",", ":"), ensure_ascii=False)
            else:
                text = text.replace("5.2.69.14", f"5.2.{i // 10 // 250}.{i // 10 % 250 + 1}")
                text = text.replace(shell_sha, f"{i:064x}")
            out.write(text + "\n")
