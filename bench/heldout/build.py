#!/usr/bin/env python3
"""Builds bench/heldout/heldout.zip, exsweep's own second web-shell set, from public
repositories (snapshots brought with the search tool's `fetch`, one git mirror each
below MIRRORS/<owner>+<name>/repo). See bench/heldout/README.md for what it holds.

Shells that are copies or near copies of a development-set shell (same text once
whitespace and case are dropped, or 70% of their 8-token shingles shared) are left
out, so the set measures what the rules were not written against. The rest are split
by SHA-256 into `webshells/` (held out: only aggregate figures are looked at) and
`dev2/` (may be read when a rule misses); the sources of DEV3_SOURCES go whole into
`dev3/`, a development set. Benign pages are sampled with a fixed seed: `benign/` is
held out like `webshells/`; `benign-dev/` (pages of the same corpora that `benign/` did
not take) may be read when a page is flagged.

usage: bench/heldout/build.py [MIRRORS] [DEVSET_ZIP]
       bench/heldout/build.py --benign-dev [MIRRORS]   (adds only `benign-dev/` to the zip)
       bench/heldout/build.py --benign-rest OUT.zip [MIRRORS]
           (writes to OUT.zip, under `benign-rest/`, every page of the classic ASP corpus
           that neither `benign/` nor `benign-dev/` took: a larger inspectable set, too
           large to commit, for measuring false alarms)
needs: git, Info-ZIP `zip` (ZipCrypto, password `infected`, as the development set)
"""
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ONLY_BENIGN_DEV = sys.argv[1:2] == ["--benign-dev"]
BENIGN_REST = sys.argv[2] if sys.argv[1:2] == ["--benign-rest"] else None
ARGS = sys.argv[3:] if BENIGN_REST else sys.argv[2:] if ONLY_BENIGN_DEV else sys.argv[1:]
MIRRORS = ARGS[0] if ARGS else "/work/.mirror"
DEVSET = ARGS[1] if len(ARGS) > 1 else os.path.join(
    HERE, "..", "..", "..", "shared", "data", "webshell-devset", "devset.zip")
TARGET = os.path.join(HERE, "heldout.zip")

WEB = r"\.(aspx|ashx|asmx|ascx|asax|svc|soap|asp|asa|cer|cdx|cs|jsp|jspx|php)$"
# (repository, commit, path pattern, kind): where the shells come from. The folders of
# Webshell-samples that copy a development-set source (tennc, ysrc, xl7dev, BlackArch)
# are not listed.
SHELL_SOURCES = [
    ("JiaHeng-DLUT/Webshell-samples", "84be4718b39aabf6755f5b2cb0e11f169a5c1122",
     r"^samples/webshell/(WebShell-master-3|WebShell-master-4|webshell-detect-bypass-master|webshellSample-master)/"),
    ("HzieeC/WebshellDetectDataset", "6e04368e9fccc6bb2dc8a52e565bf1fad8d44eae", r"^asp/black/"),
    ("L-codes/Neo-reGeorg", "7379c6db703c3d626d361c1d7be542963b46aeb6", r"^templates/tunnel\.(aspx|ashx)$"),
    ("StarsApt/webshell_bypass", "9caf5699bb0970239326a7444ec5634509bfd43e", r"\.aspx$"),
    ("zema1/suo5", "6904c18e276c2dc36250838d68135a5893c4f66b", r"^assets/dotnet/"),
    ("nccgroup/ABPTTS", "f759da380d907555d5a3bb93d065786108a55689", r"^template/abptts\.aspx$"),
    ("SECFORCE/Tunna", "cba006dceee44e63c11e52781fca473c4bb44de6", r"^webshells/conn\.aspx$"),
    ("A-D-Team/SharpMemshell", "69ab8cff53689e53076b534537d384b3169be0cb", r"\.(cs|aspx)$"),
    ("AntSwordProject/AwesomeScript", "39816efcb024c93891396e80c93b664437946c1a", r"^(asp|aspx)/"),
]
# Shells read while rules were written against them, all into `dev3/`: a development
# set, reported apart from the held-out figures. 0x7556/webshell holds Godzilla,
# WolfShell and China Chopper servers rewritten by an AI evasion tool (AI免杀).
DEV3_SOURCES = [
    ("0x7556/webshell", "d87f8a3921d43bfb3b5c6daa4275e3f6139d3d93", r"\.(asp|aspx|ashx)$"),
]
BENIGN_SOURCES = [
    # (repository, commit, path pattern, how many at most)
    ("n2cms/n2cms", "db0ec9d193040e64ccbec65604c4599da67a4271",
     r"\.(aspx|ashx|asmx|ascx|master|cshtml)$", 10_000),
    ("HzieeC/WebshellDetectDataset", "6e04368e9fccc6bb2dc8a52e565bf1fad8d44eae", r"^asp/white/", 400),
]
# Benign pages that may be read: the classic ASP corpus's pages `benign/` left (N2CMS
# went whole into `benign/`), drawn after it with their own seed so `benign/` is the same.
BENIGN_DEV_SOURCES = [
    ("HzieeC/WebshellDetectDataset", "6e04368e9fccc6bb2dc8a52e565bf1fad8d44eae", r"^asp/white/", 1000),
]
SERVER_EXTENSIONS = ("aspx", "ashx", "asmx", "ascx", "asax", "svc", "soap", "asp", "asa",
                     "cer", "cdx", "cs", "master", "cshtml")


def git(repo, *args):
    path = os.path.join(MIRRORS, repo.replace("/", "+"), "repo")
    return subprocess.run(["git", "-C", path, *args], check=True, capture_output=True).stdout


def files(repo, commit, pattern, shuffle=None):
    """The files of `repo` at `commit` whose path matches, with their bytes; a file the
    snapshot lists but does not hold (its largest) is passed over."""
    names = git(repo, "ls-tree", "-r", "-z", "--name-only", commit).decode("utf-8", "replace")
    names = sorted(n for n in names.split("\0") if n and re.search(pattern, n))
    if shuffle:
        shuffle.shuffle(names)
    for name in names:
        try:
            yield name, git(repo, "show", f"{commit}:{name}")
        except subprocess.CalledProcessError:
            continue


def extension(repo, name):
    """The extension a sample gets: its own, or the one the dataset's label file names
    (HzieeC stores `12411.asp.txt`)."""
    base = name.rsplit("/", 1)[-1].lower()
    if base.endswith(".txt"):
        base = base[:-4]
    ext = base.rsplit(".", 1)[-1] if "." in base else ""
    return ext if ext in SERVER_EXTENSIONS else None


def normal(data):
    return re.sub(rb"\s+", b"", data.lower())


def shingles(data):
    tokens = re.findall(rb"[a-z0-9_]+|[^\sa-z0-9_]", data.lower())
    return {b" ".join(tokens[i:i + 8]) for i in range(max(0, len(tokens) - 7))}


def similar(a, b):
    if not a or not b:
        return False
    return len(a & b) / min(len(a), len(b)) >= 0.7


def main():
    with zipfile.ZipFile(DEVSET) as z:
        dev = [z.read(i, pwd=b"infected") for i in z.infolist()
               if i.filename.startswith("webshells/") and not i.is_dir()]
    dev_normal = {hashlib.sha256(normal(d)).digest() for d in dev}
    dev_shingles = [shingles(d) for d in dev]

    index, taken_normal, taken_shingles = {}, set(), []
    out = tempfile.mkdtemp(prefix="heldout-")
    skipped = {"seen in the development set": 0, "duplicate": 0, "not a server page": 0}
    # The held-out sources first, so that adding a development source changes none of
    # their members.
    sources = [(s, None) for s in SHELL_SOURCES] + [(s, "dev3") for s in DEV3_SOURCES]
    for (repo, commit, pattern), fixed_folder in sources:
        for name, data in files(repo, commit, pattern):
            ext = extension(repo, name)
            if ext is None or not data.strip():
                skipped["not a server page"] += 1
                continue
            key = hashlib.sha256(normal(data)).digest()
            sh = shingles(data)
            if key in dev_normal or any(similar(sh, d) for d in dev_shingles):
                skipped["seen in the development set"] += 1
                continue
            if key in taken_normal or any(similar(sh, t) for t in taken_shingles):
                skipped["duplicate"] += 1
                continue
            taken_normal.add(key)
            taken_shingles.append(sh)
            sha = hashlib.sha256(data).hexdigest()
            folder = fixed_folder or ("webshells" if int(sha[0], 16) < 8 else "dev2")
            member = f"{folder}/{sha[:16]}.{ext}"
            index[member] = {"sha256": sha, "source": repo, "commit": commit, "path": name}
            os.makedirs(os.path.join(out, folder), exist_ok=True)
            with open(os.path.join(out, member), "wb") as f:
                f.write(data)
    benign = sample_benign(BENIGN_SOURCES, random.Random(20261202), "benign", out, index, set())
    sample_benign(BENIGN_DEV_SOURCES, random.Random(20261205), "benign-dev", out, index, benign)
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump(index, f, indent=1, sort_keys=True)
    if os.path.exists(TARGET):
        os.remove(TARGET)
    subprocess.run(["zip", "-q", "-r", "-X", "-P", "infected", TARGET, "."], cwd=out, check=True)
    report(index, skipped)


def sample_benign(sources, rng, folder, out, index, taken):
    """Writes up to each source's count of its pages (shuffled by `rng`, none whose
    SHA-256 is in `taken`) to `out/folder`, returning the SHA-256s written."""
    written = set()
    for repo, commit, pattern, most in sources:
        seen = set()
        for name, data in files(repo, commit, pattern, shuffle=rng):
            if not extension(repo, name) or not data.strip():
                continue
            sha = hashlib.sha256(data).hexdigest()
            if sha in seen or sha in taken:
                continue
            if len(seen) >= most:
                break
            seen.add(sha)
            member = f"{folder}/{sha[:16]}.{extension(repo, name)}"
            index[member] = {"sha256": sha, "source": repo, "commit": commit, "path": name}
            os.makedirs(os.path.join(out, folder), exist_ok=True)
            with open(os.path.join(out, member), "wb") as f:
                f.write(data)
        written |= seen
    return written


def add_benign_dev():
    """Adds `benign-dev/` to the zip as the full build writes it, leaving its other
    members as they are (the full build needs every source's snapshot)."""
    with zipfile.ZipFile(TARGET) as z:
        index = json.loads(z.read("index.json", pwd=b"infected"))
    if any(m.startswith("benign-dev/") for m in index):
        sys.exit("heldout.zip already holds benign-dev/")
    # `benign/` by content: the full build draws `benign-dev/` after it, from what it left.
    taken = {v["sha256"] for m, v in index.items() if m.startswith("benign/")}
    out = tempfile.mkdtemp(prefix="heldout-")
    sample_benign(BENIGN_DEV_SOURCES, random.Random(20261205), "benign-dev", out, index, taken)
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump(index, f, indent=1, sort_keys=True)
    subprocess.run(["zip", "-q", "-r", "-X", "-P", "infected", TARGET, "."], cwd=out, check=True)
    report(index, {})


def write_benign_rest(target):
    """Writes the classic ASP corpus's pages that `benign/` and `benign-dev/` did not
    take to `target`, a zip of its own (`benign-rest/`, same password)."""
    with zipfile.ZipFile(TARGET) as z:
        index = json.loads(z.read("index.json", pwd=b"infected"))
    taken = {v["sha256"] for m, v in index.items() if m.startswith(("benign/", "benign-dev/"))}
    rest = [(repo, commit, pattern, sys.maxsize) for repo, commit, pattern, _ in BENIGN_DEV_SOURCES]
    out = tempfile.mkdtemp(prefix="benign-rest-")
    rest_index = {}
    sample_benign(rest, random.Random(0), "benign-rest", out, rest_index, taken)
    target = os.path.abspath(target)
    if os.path.exists(target):
        os.remove(target)
    subprocess.run(["zip", "-q", "-r", "-X", "-P", "infected", target, "."], cwd=out, check=True)
    print(f"wrote {target}: {len(rest_index)} pages")


def report(index, skipped):
    counts = {}
    for member in index:
        counts[member.split("/")[0]] = counts.get(member.split("/")[0], 0) + 1
    print(f"wrote {TARGET}: {counts}; left out: {skipped}")


if __name__ == "__main__":
    if BENIGN_REST:
        write_benign_rest(BENIGN_REST)
    elif ONLY_BENIGN_DEV:
        add_benign_dev()
    else:
        main()
