"""Shared pieces of the script tests: skipping, the work folder, checks.

A script test exits 0 (passed), 1 (a check failed) or 77 (skipped, after a
line "SKIP: reason" saying why; CTest reports it as skipped, never passed).
"""
import hashlib
import os
import shutil
import sys


def skip(reason):
    print(f"SKIP: {reason}")
    sys.exit(77)


def need_modules(*names):
    """Imports the named modules (for their side effect of failing early) or skips."""
    for n in names:
        try:
            __import__(n)
        except ImportError as e:
            skip(f"{e} (install the Debian python3-{n.split('.')[0]} package)")


def need_shared(shared, *parts):
    """The path shared/data/dicom/<parts...>, or a skip when it is absent."""
    path = os.path.join(shared or "", "data", "dicom", *parts)
    if not shared or not os.path.exists(path):
        skip(f"{path} not found (shared data absent)")
    return path


def fresh_dir(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def tree(root, skip="batch-log", mtimes=False):
    """Relative path -> sha256 (with mtimes: (sha256, mtime_ns)) of every file
    under root, but those whose relative path starts with skip (batch logs)."""
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            rel = os.path.relpath(p, root)
            if skip and rel.startswith(skip):
                continue
            with open(p, "rb") as fh:
                digest = hashlib.sha256(fh.read()).hexdigest()
            out[rel] = (digest, os.stat(p).st_mtime_ns) if mtimes else digest
    return out


class Checks:
    """check(cond, what) records and prints failures; done() exits."""

    def __init__(self):
        self.failures = []

    def __call__(self, cond, what):
        if not cond:
            self.failures.append(what)
            print("FAIL:", what)
        return cond

    def done(self, summary="", extra_fail=False):
        print(f"{summary}{', ' if summary else ''}{len(self.failures)} failed")
        sys.exit(1 if self.failures or extra_fail else 0)
