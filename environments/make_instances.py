#!/usr/bin/env python3
"""Generates environments/<name>/instances.jsonl from <name>/repo and <name>/bugs.json.

Dev-time script (not needed at run time). For each bug it writes the SWE-smith-style bug diff
(`patch`, applied on the branch named after the instance in the image), and finds FAIL_TO_PASS /
PASS_TO_PASS by running the pytest suite of the clean and the buggy tree in the base image
(`srl-swe/base:1`, no network). Ids follow SWE-smith: <owner>__<repo>.<commit8>.<bugtype>__<hash8>,
where commit8 is a content hash of the clean repo.

Usage: python3 environments/make_instances.py [name ...]
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
BASE_IMAGE = os.environ.get("SRL_SWE_BASE_IMAGE", "srl-swe/base:1")
IMAGE_VERSION = "1"
LINE = re.compile(r"^(\S.*?::.*?)\s+(PASSED|FAILED|SKIPPED|ERROR|XFAIL)(?:\s|$)")


def repo_hash(repo):
    h = hashlib.sha256()
    for root, dirs, files in os.walk(repo):
        dirs[:] = sorted(d for d in dirs if d not in ("__pycache__", ".pytest_cache"))
        for f in sorted(files):
            path = os.path.join(root, f)
            h.update(os.path.relpath(path, repo).encode() + b"\0")
            with open(path, "rb") as fh:
                h.update(fh.read() + b"\0")
    return h.hexdigest()


def run_tests(tree):
    out = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", "-v", f"{tree}:/testbed", "-w", "/testbed",
         "-e", "PYTHONDONTWRITEBYTECODE=1", BASE_IMAGE,
         "python3", "-m", "pytest", "--disable-warnings", "--color=no", "--tb=no", "--verbose", "-p", "no:cacheprovider"],
        capture_output=True, text=True,
    )
    statuses = {}
    for line in out.stdout.splitlines():
        m = LINE.match(line)
        if m:
            statuses[m.group(1)] = m.group(2)
    return statuses


def make_diff(repo, rel, old, new):
    with tempfile.TemporaryDirectory() as tmp:
        a = os.path.join(tmp, "a")
        shutil.copytree(repo, a)
        subprocess.run(["git", "init", "-q", a], check=True)
        subprocess.run(["git", "-C", a, "add", "-A"], check=True)
        subprocess.run(["git", "-C", a, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qm", "x"], check=True)
        path = os.path.join(a, rel)
        text = open(path).read()
        if text.count(old) != 1:
            raise SystemExit(f"{rel}: bug 'old' text must occur exactly once (found {text.count(old)})")
        with open(path, "w") as fh:
            fh.write(text.replace(old, new))
        diff = subprocess.run(["git", "-C", a, "diff"], capture_output=True, text=True, check=True).stdout
        buggy = os.path.join(tmp, "buggy")
        shutil.copytree(a, buggy, ignore=shutil.ignore_patterns(".git"))
        return diff, run_tests(buggy)


def main(names):
    for name in names:
        env = os.path.join(HERE, name)
        repo = os.path.join(env, "repo")
        bugs = json.load(open(os.path.join(env, "bugs.json")))
        commit8 = repo_hash(repo)[:8]
        clean = run_tests(repo)
        if not clean or any(s != "PASSED" for s in clean.values()):
            raise SystemExit(f"{name}: the clean suite must pass: {clean}")
        rows = []
        for bug in bugs:
            diff, buggy = make_diff(repo, bug["file"], bug["old"], bug["new"])
            hash8 = hashlib.sha256(diff.encode()).hexdigest()[:8]
            iid = f"srl-swe__{name}.{commit8}.{bug['bugtype']}__{hash8}"
            f2p = sorted(t for t in clean if buggy.get(t) != "PASSED")
            p2p = sorted(t for t in clean if buggy.get(t) == "PASSED")
            if not f2p:
                raise SystemExit(f"{iid}: the bug breaks no test")
            rows.append({
                "instance_id": iid,
                "repo": f"srl-swe/{name}",
                "base_commit": iid,
                "image_name": f"srl-swe/env-{name}:{IMAGE_VERSION}",
                "problem_statement": bug["problem_statement"],
                "patch": diff,
                "patch_is_bug": True,
                "FAIL_TO_PASS": f2p,
                "PASS_TO_PASS": p2p,
                "test_cmd": None,
                "log_parser": "pytest",
            })
            print(f"{iid}: {len(f2p)} F2P, {len(p2p)} P2P", file=sys.stderr)
        with open(os.path.join(env, "instances.jsonl"), "w") as fh:
            for row in rows:
                fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:] or sorted(d for d in os.listdir(HERE) if os.path.isfile(os.path.join(HERE, d, "bugs.json"))))
