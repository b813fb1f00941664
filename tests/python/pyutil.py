"""Shared pieces of the Python module's tests.

The environment (tests/python/CMakeLists.txt) gives PYTHONPATH (the source
package), DCMPREP_LIBRARY (the built library), DP_CLI (the command line),
DP_SAMPLE (the synthetic CT series) and, in sanitizer builds, LD_PRELOAD of
the AddressSanitizer runtime with leak detection off for the interpreter
(DP_SANITIZED=1; DP_CLI_ASAN_OPTIONS holds the options for other programs).
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testutil import Checks, fresh_dir, skip  # noqa: E402,F401

try:
    import numpy as np  # noqa: F401
except ImportError as e:
    skip(f"{e} (install the Debian python3-numpy package)")

import dcmprep  # noqa: E402,F401

SANITIZED = os.environ.get("DP_SANITIZED") == "1"
CLI = os.environ.get("DP_CLI", "")
SAMPLE = os.environ.get("DP_SAMPLE", "")


def program_env():
    """The environment for programs other than Python (the CLI): the test
    suite's sanitizer options (leaks detected), no preload."""
    env = dict(os.environ)
    if SANITIZED:
        env.pop("LD_PRELOAD", None)
        env["ASAN_OPTIONS"] = os.environ.get("DP_CLI_ASAN_OPTIONS", "")
    return env


def cli(*args, want=0, check=None):
    r = subprocess.run([CLI] + [str(a) for a in args], capture_output=True, text=True, env=program_env())
    if check is not None:
        check(r.returncode == want, f"dcmprep {' '.join(map(str, args))}: exit {r.returncode}: {r.stderr}")
    return r


def read(path):
    with open(path, "rb") as f:
        return f.read()


def need_sample():
    if not SAMPLE or not os.path.isdir(SAMPLE):
        skip(f"the synthetic CT series ({SAMPLE or 'DP_SAMPLE unset'}) is absent (DCMPREP_BUILD_TOOLS=OFF?)")
    return SAMPLE
