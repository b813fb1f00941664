"""Keeps docs/design.md true to the code.

usage: layout.py SOURCE_DIR

- "Where is step X": every step of the step table (lib/pipeline/step_table.c,
  settings excluded) has exactly one row, and no row
  names a step the table lacks; each row's runner and operation files exist
  and define the function named; its test and bench files exist.
- Layering: lib/core includes nothing else of lib/; lib/io and lib/ops only
  core; lib/dicom and lib/labels core, io and each other; lib/pipeline core,
  io and ops.  lib/dicom never includes ops/ internals.
- C++ only in lib/dicom/dcmtk/, each .cc with its header.
"""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testutil import Checks  # noqa: E402

src = sys.argv[1]
check = Checks()

# the step table's rows, from its source: {{"name", ...}, KIND, parse, run}
table = open(os.path.join(src, "lib", "pipeline", "step_table.c")).read()
steps = [name for name, kind in re.findall(r'\{\{"([a-z-]+)",.*?\},\s*(DP_STEP_[A-Z_]+|DP__SETTING),', table, re.S)
         if kind != "DP__SETTING"]
check(len(steps) >= 20, f"the step table lists {len(steps)} steps")

design = open(os.path.join(src, "docs", "design.md")).read()
sec = design.split("## Where is step X", 1)
rows = {}
if check(len(sec) == 2, "docs/design.md has a section 'Where is step X'"):
    for line in sec[1].split("\n## ", 1)[0].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 5 or cells[0] in ("step", "") or set(cells[0]) <= set("-"):
            continue
        check(cells[0] not in rows, f"step {cells[0]} has one row")
        rows[cells[0]] = cells

for s in steps:
    check(s in rows, f"step {s} of the table has a row in docs/design.md")
for s in rows:
    check(s in steps, f"docs/design.md's row {s} is a step of the table")


def defines(path, func):
    text = open(path).read()
    return re.search(r"^[a-z_][^;{}]*\b" + re.escape(func) + r"\s*\(", text, re.M) is not None


for s, (name, runner, op, test, bench) in rows.items():
    for where, base in ((runner, "lib/pipeline"), (op, "lib")):
        m = re.fullmatch(r"([\w/.]+): (\w+)", where)
        if not check(m, f"{s}: '{where}' is FILE: FUNCTION"):
            continue
        path = os.path.join(src, base, m.group(1))
        if check(os.path.isfile(path), f"{s}: {path} exists"):
            check(defines(path, m.group(2)), f"{s}: {m.group(2)} is defined in {path}")
    check(os.path.isfile(os.path.join(src, test)), f"{s}: test {test} exists")
    check(os.path.isfile(os.path.join(src, bench)), f"{s}: bench {bench} exists")

# ---- layering --------------------------------------------------------------------
allowed = {"core": set(), "io": {"core"}, "ops": {"core"}, "dicom": {"core", "io", "labels"},
           "labels": {"core", "io", "dicom"}, "pipeline": {"core", "io", "ops"}}
inc = re.compile(r'^\s*#\s*include\s+"(\w+)/', re.M)
for area, ok in allowed.items():
    d = os.path.join(src, "lib", area)
    for root, _, files in os.walk(d):
        for f in files:
            if not f.endswith((".c", ".h", ".cc")):
                continue
            p = os.path.join(root, f)
            for dep in inc.findall(open(p).read()):
                if dep in ("dcmprep", area):
                    continue
                check(dep in ok, f"{os.path.relpath(p, src)} includes {dep}/ (lib/{area} may use {sorted(ok)})")
for root, _, files in os.walk(os.path.join(src, "lib")):
    for f in files:
        p = os.path.join(root, f)
        rel = os.path.relpath(p, src)
        if f.endswith(".cc"):
            check(rel.startswith("lib/dicom/dcmtk/"), f"C++ only in lib/dicom/dcmtk/: {rel}")
            # rtstruct_read.cc and seg_read.cc are declared in label_read.h
            check(os.path.isfile(p[:-3] + ".h") or f in ("rtstruct_read.cc", "seg_read.cc"),
                  f"{rel} has its C header")
check.done(f"layout: {len(steps)} steps, {len(rows)} rows")
