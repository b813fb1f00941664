"""dcmprep batch, pipeline files and resource limits.

usage: batch.py DCMPREP DCMPREP_SYNTH WORKDIR

- Pipeline files: prep --save-pipeline writes what the flags said; prep
  --pipeline FILE gives the same bytes as the flags; bad lines are refused
  with the file and line.
- batch over DICOM studies and NIfTI files: each output equals prep's on the
  same input; one bad study fails alone (exit 1, logged); a rerun skips
  everything (files untouched); a changed input or pipeline redoes exactly
  what changed.
- Kills: SIGKILL of the batch mid-run, then a rerun: every output complete and
  equal to an uninterrupted run, no temporary files.  SIGTERM/SIGINT: exit
  143/130, no temporary files left.
- Shards: the union of --shard 1/3, 2/3, 3/3 equals the single run.
- Manifests: CSV and JSON Lines with labels, folders in output names; names
  that would leave the output root fail their item and write nothing outside.
- Limits: --max-voxels and --max-memory refuse before allocating.
- Progress bar on a terminal (pty), none when not a terminal.
"""
import hashlib
import json
import os
import pty
import select
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testutil import Checks, fresh_dir  # noqa: E402

cli, synth, work = sys.argv[1:4]
fresh_dir(work)
check = Checks()


def run(*args, **kw):
    return subprocess.run([cli, *map(str, args)], capture_output=True, text=True, **kw)


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def tree(root):
    """{relative path: sha256} of every file under root (logs excluded)."""
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            rel = os.path.relpath(p, root)
            if not rel.startswith("batch-log"):
                out[rel] = sha(p)
    return out


def temps(root):
    return [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if f.endswith(".tmp")]


def log_items(path):
    rows = [json.loads(line) for line in open(path)]
    return [r for r in rows if r["event"] == "item"], [r for r in rows if r["event"] == "summary"]


W = lambda *p: os.path.join(work, *p)  # noqa: E731
os.makedirs(W("dicom"))

# ---- inputs: three synthetic DICOM studies, one junk "study", two NIfTI files
for name, extra in (("studyA", []), ("studyB", ["--orientation", "coronal"]), ("studyC", ["--tilt", "12"])):
    r = subprocess.run([synth, "-o", W("dicom", name), "--slices", "24", "--rows", "48", "--cols", "40", *extra],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
os.makedirs(W("dicom", "junk"))
with open(W("dicom", "junk", "x.dcm"), "w") as f:
    f.write("not DICOM")
r = run("convert", W("dicom", "studyA"), "-o", W("nii"), "-q")
assert r.returncode == 0, r.stderr
os.rename(W("nii", "1_synthetic_CT_body.nii.gz"), W("nii", "ct1.nii.gz"))
r = run("convert", W("dicom", "studyB"), "-o", W("nii"), "-q", "--no-sidecar")
os.rename(W("nii", "1_synthetic_CT_body.nii.gz"), W("nii", "ct2.nii.gz"))
inputs_hash = {p: sha(os.path.join(d, p)) for d in [W("dicom")] for p in
               [os.path.relpath(os.path.join(dd, f), d) for dd, _, fs in os.walk(d) for f in fs]}

# ---- pipeline files
flags = ["--canonical", "--spacing", "2,2.5,3", "--interp", "cubic", "--crop-foreground=-500",
         "--window", "abdomen", "--dtype", "f32"]
pipe = W("pipe.txt")
r = run("prep", *flags, "--save-pipeline", pipe)
check(r.returncode == 0 and os.path.exists(pipe), f"prep --save-pipeline alone: {r.returncode} {r.stderr}")
text = open(pipe).read()
check("--spacing 2,2.5,3\n" in text and "--crop-foreground -500\n" in text and "--interp cubic\n" in text,
      f"saved pipeline text: {text!r}")
r1 = run("prep", W("nii", "ct1.nii.gz"), "-o", W("p_flags.nii.gz"), *flags, "-q")
r2 = run("prep", W("nii", "ct1.nii.gz"), "-o", W("p_file.nii.gz"), "--pipeline", pipe, "-q")
check(r1.returncode == 0 and r2.returncode == 0, f"prep with flags / --pipeline: {r1.stderr} {r2.stderr}")
check(sha(W("p_flags.nii.gz")) == sha(W("p_file.nii.gz")), "prep --pipeline FILE gives the bytes the flags give")
with open(W("hand.txt"), "w") as f:
    f.write("# written by hand\n\ncanonical\n  spacing   2,2.5,3  \n--interp=cubic\ncrop-foreground -500\n"
            "window abdomen\ndtype f32\n")
r = run("prep", W("nii", "ct1.nii.gz"), "-o", W("p_hand.nii.gz"), "--pipeline", W("hand.txt"), "-q")
check(r.returncode == 0 and sha(W("p_hand.nii.gz")) == sha(W("p_flags.nii.gz")),
      f"hand-written pipeline (no dashes, '=', blanks, comments) runs the same: {r.stderr}")
for bad, want in (("--spacing\n", "line 1"), ("canonical\nfrobnicate 3\n", "line 2"),
                  ("\n\nwindow 40\n", "line 3"), ("canonical yes\n", "takes no value")):
    with open(W("bad.txt"), "w") as f:
        f.write(bad)
    r = run("prep", W("nii", "ct1.nii.gz"), "-o", W("bad.nii.gz"), "--pipeline", W("bad.txt"))
    check(r.returncode == 2 and "bad.txt" in r.stderr and want in r.stderr and not os.path.exists(W("bad.nii.gz")),
          f"bad pipeline {bad!r}: exit {r.returncode}, {r.stderr.strip()!r}")

# ---- batch over studies and NIfTI files
bpipe = W("bpipe.txt")
with open(bpipe, "w") as f:
    f.write("--canonical\n--spacing 2,2,2\n--window 40,400\n")
batch_inputs = [W("dicom", "studyA"), W("dicom", "junk"), W("dicom", "studyB"), W("dicom", "studyC"),
                W("nii", "ct1.nii.gz"), W("nii", "ct2.nii.gz")]
out = W("out")
r = run("batch", *batch_inputs, "-o", out, "--pipeline", bpipe)
check(r.returncode == 1, f"batch with one junk study exits 1 (got {r.returncode}: {r.stderr})")
check("junk" in r.stderr and "no volume series" in r.stderr, f"the junk study's failure is reported: {r.stderr}")
expect = {"studyA/1_synthetic_CT_body.nii.gz", "studyB/1_synthetic_CT_body.nii.gz",
          "studyC/1_synthetic_CT_body.nii.gz", "ct1.nii.gz", "ct2.nii.gz"}
got = {k for k in tree(out) if k.endswith(".nii.gz")}
check(got == expect, f"batch outputs {sorted(got)}")
items, summ = log_items(os.path.join(out, "batch-log.jsonl"))
st = {os.path.basename(i["input"]): i["status"] for i in items}
check(st == {"studyA": "written", "junk": "failed", "studyB": "written", "studyC": "written",
             "ct1.nii.gz": "written", "ct2.nii.gz": "written"}, f"log statuses {st}")
check(summ and summ[-1]["written"] == 5 and summ[-1]["failed"] == 1, f"log summary {summ}")
# each output equals prep's on the same input (same voxels and header)
for rel, src in (("studyB/1_synthetic_CT_body.nii.gz", W("dicom", "studyB")),
                 ("studyC/1_synthetic_CT_body.nii.gz", W("dicom", "studyC")), ("ct2.nii.gz", W("nii", "ct2.nii.gz"))):
    r = run("prep", src, "-o", W("ref.nii.gz"), "--pipeline", bpipe, "-q")
    check(r.returncode == 0 and sha(W("ref.nii.gz")) == sha(os.path.join(out, rel)),
          f"batch output {rel} equals prep's: {r.stderr}")
tilted = [i for i in items if i["input"].endswith("studyC")][0]
check(any("tilt" in w for w in tilted.get("warnings", [])), f"the tilted study's warning is logged: {tilted}")
side = json.load(open(os.path.join(out, "ct1.json")))
check(len(side.get("BatchHash", "")) == 28 and side.get("PrepSteps"), f"sidecar has BatchHash and PrepSteps")

# rerun: everything up to date, nothing touched
before = {k: os.stat(os.path.join(out, k)).st_mtime_ns for k in tree(out)}
r = run("batch", *batch_inputs, "-o", out, "--pipeline", bpipe)
items, summ = log_items(os.path.join(out, "batch-log.jsonl"))
check(r.returncode == 1 and summ[-1]["up_to_date"] == 5 and summ[-1]["written"] == 0,
      f"rerun: 5 up to date (got {summ[-1]})")
after = {k: os.stat(os.path.join(out, k)).st_mtime_ns for k in tree(out)}
check(before == after, "rerun leaves every output untouched")
# a changed input: only that item is redone
subprocess.run([synth, "-o", W("dicom", "studyB"), "--slices", "24", "--rows", "48", "--cols", "40",
                "--orientation", "coronal", "--center", "5,0,0"], capture_output=True, check=True)
r = run("batch", *batch_inputs, "-o", out, "--pipeline", bpipe)
items, summ = log_items(os.path.join(out, "batch-log.jsonl"))
redone = sorted(os.path.basename(i["input"]) for i in items[-6:] if i["status"] == "written")
check(redone == ["studyB"], f"after changing studyB only it is redone (got {redone})")
# a changed pipeline: everything redone
with open(bpipe, "a") as f:
    f.write("--dtype u8\n")
r = run("batch", *batch_inputs, "-o", out, "--pipeline", bpipe, "-j", "2")
items, summ = log_items(os.path.join(out, "batch-log.jsonl"))
check(summ[-1]["written"] == 5, f"after changing the pipeline all 5 are redone, 2 at a time (got {summ[-1]})")
check(not temps(out), f"no temporary files: {temps(out)}")

# --force redoes up-to-date items; --log chooses the log; --no-gz writes .nii
r = run("batch", W("nii", "ct1.nii.gz"), "-o", W("opts"), "--pipeline", bpipe, "--no-gz", "--log", W("opts.jsonl"))
check(r.returncode == 0 and sorted(tree(W("opts"))) == ["ct1.json", "ct1.nii"] and os.path.exists(W("opts.jsonl")),
      f"--no-gz and --log: {sorted(tree(W('opts')))} {r.stderr}")
t1 = os.stat(W("opts", "ct1.nii")).st_mtime_ns
time.sleep(0.02)
r = run("batch", W("nii", "ct1.nii.gz"), "-o", W("opts"), "--pipeline", bpipe, "--no-gz", "--log", W("opts.jsonl"),
        "--force")
items, summ = log_items(W("opts.jsonl"))
check(summ[-1]["written"] == 1 and os.stat(W("opts", "ct1.nii")).st_mtime_ns != t1, "--force redoes an up-to-date item")
# a sidecar far longer than 64 KiB (many steps recorded before the hash) is still recognised
long_pipe = W("long.txt")
with open(long_pipe, "w") as f:
    f.write("--clip -1000,3000\n" * 3000)
r = run("batch", W("nii", "ct1.nii.gz"), "-o", W("longside"), "--pipeline", long_pipe)
size = os.path.getsize(W("longside", "ct1.json"))
r = run("batch", W("nii", "ct1.nii.gz"), "-o", W("longside"), "--pipeline", long_pipe)
items, summ = log_items(W("longside", "batch-log.jsonl"))
check(size > 65536 and summ[-1]["up_to_date"] == 1, f"a {size}-byte sidecar is recognised as up to date: {summ[-1]}")

# ---- kills
good = [b for b in batch_inputs if not b.endswith("junk")]
ref = W("ref_run")
r = run("batch", *good, "-o", ref, "--pipeline", bpipe)
check(r.returncode == 0, f"clean run: {r.stderr}")
ref_tree = tree(ref)
for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT):
    k = W(f"killed_{sig.name}")
    # a slow pipeline so that the signal lands mid-item: cubic upsampling
    slow = W("slow.txt")
    with open(slow, "w") as f:
        f.write(open(bpipe).read().replace("--spacing 2,2,2", "--spacing 0.25,0.25,0.25\n--interp cubic"))
    p = subprocess.Popen([cli, "batch", *good, "-o", k, "--pipeline", slow, "--threads", "1"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t0 = time.time()
    logp = os.path.join(k, "batch-log.jsonl")
    while time.time() - t0 < 60:  # wait for the first item to finish
        if os.path.exists(logp) and '"status":"written"' in open(logp).read():
            break
        time.sleep(0.02)
    time.sleep(0.05)
    p.send_signal(sig)
    _, err = p.communicate(timeout=120)
    want = {signal.SIGKILL: -9, signal.SIGTERM: 143, signal.SIGINT: 130}[sig]
    check(p.returncode == want, f"{sig.name}: exit {p.returncode}, expected {want}: {err}")
    if sig != signal.SIGKILL:
        check(not temps(k), f"{sig.name}: no temporary files left: {temps(k)}")
        check('"state":"interrupted"' in open(logp).read(), f"{sig.name}: the log says interrupted")
    time.sleep(0.3)  # SIGKILL: the item's process is killed with the batch
    partial = {x for x in tree(k) if x.endswith(".nii.gz")}
    check(0 < len(partial) < len(good), f"{sig.name}: the run was cut short ({len(partial)} outputs)")
    if sig == signal.SIGKILL:
        # what a writer killed at the wrong moment leaves: the next run removes
        # its outputs' temporaries, and nothing else
        for stale in (".ct1.nii.gz.Ab3xZ9.tmp", ".ct1.json.q1w2e3.tmp",
                      "studyC/.1_synthetic_CT_body.nii.gz.zzzzzz.tmp"):
            os.makedirs(os.path.dirname(os.path.join(k, stale)), exist_ok=True)
            open(os.path.join(k, stale), "w").write("partial")
        open(os.path.join(k, ".notours.nii.gz.abcdef.tmp"), "w").write("keep")
    r = run("batch", *good, "-o", k, "--pipeline", slow)
    if sig == signal.SIGKILL:
        check(temps(k) == [os.path.join(k, ".notours.nii.gz.abcdef.tmp")],
              f"the rerun removed its own stale temporaries only: {temps(k)}")
        os.unlink(os.path.join(k, ".notours.nii.gz.abcdef.tmp"))
    r2 = run("batch", *good, "-o", W(f"slow_ref_{sig.name}"), "--pipeline", slow)
    check(r.returncode == 0 and tree(k) == tree(W(f"slow_ref_{sig.name}")),
          f"{sig.name}: the rerun completes to exactly the uninterrupted outputs: {r.stderr}")
    check(not temps(k), f"{sig.name}: no temporary files after the rerun")

# ---- shards
sh = W("sharded")
for kk in (1, 2, 3):
    r = run("batch", *good, "-o", sh, "--pipeline", bpipe, "--shard", f"{kk}/3")
    check(r.returncode == 0, f"shard {kk}/3: {r.stderr}")
check(tree(sh) == ref_tree, "the union of shards 1/3, 2/3, 3/3 equals the single run, byte for byte")
n = [len(log_items(os.path.join(sh, f"batch-log-{kk}-of-3.jsonl"))[0]) for kk in (1, 2, 3)]
check(sorted(n) == [1, 2, 2], f"shards split 5 items 2/2/1 (got {n})")
r = run("batch", *good, "-o", sh, "--shard", "4/3")
check(r.returncode == 2, "--shard 4/3 is a usage error")

# ---- manifests with labels
lab_src = W("nii", "lab.nii.gz")
r = run("prep", W("nii", "ct1.nii.gz"), "-o", W("nii", "tmpimg.nii.gz"), "--window", "0,2", "--window-out", "u8",
        "--no-sidecar", "-q")  # a 0/255 mask on ct1's grid
r = run("prep", W("nii", "tmpimg.nii.gz"), "-o", lab_src, "--clip", "0,1", "--no-sidecar", "-q")
check(r.returncode == 0, f"label made: {r.stderr}")
os.makedirs(W("m"), exist_ok=True)
with open(W("m", "list.csv"), "w") as f:
    f.write("input,output,label,series\n"
            "../nii/ct1.nii.gz,sub-01/ct,../nii/lab.nii.gz,\n"
            "\"../dicom/studyB\",sub-02/ct,,1\n"
            "../dicom/studyC,../escape,,\n"
            "../dicom/studyC,/abs/x,,\n"
            "../dicom/studyC,sub-03/.hidden,,\n")
mo = W("mout")
r = run("batch", "--manifest", W("m", "list.csv"), "-o", mo, "--pipeline", bpipe)
check(r.returncode == 1, f"manifest with 3 bad names exits 1: {r.returncode} {r.stderr}")
got = {k for k in tree(mo)}
check(got == {"sub-01/ct.nii.gz", "sub-01/ct.json", "sub-01/ct_label.nii.gz", "sub-01/ct_label.json",
              "sub-02/ct.nii.gz", "sub-02/ct.json"}, f"manifest outputs {sorted(got)}")
check(not os.path.exists(W("escape.nii.gz")) and not os.path.exists("/abs"), "nothing written outside the root")
# the plan as JSON Lines (what the Snakefile reads)
r = run("batch", "--manifest", W("m", "list.csv"), "-o", mo, "--dry-run", "--json")
plan = [json.loads(x) for x in r.stdout.splitlines()]
m_dir = W("m")
check(r.returncode == 0 and [p["item"] for p in plan] == [1, 2, 3, 4, 5] and
      plan[0] == {"item": 1, "input": os.path.join(m_dir, "../nii/ct1.nii.gz"), "label": os.path.join(m_dir, "../nii/lab.nii.gz"),
                  "output": "sub-01/ct.nii.gz", "label_output": "sub-01/ct_label.nii.gz"} and
      plan[1].get("series") == "1" and "error" in plan[2] and "label" not in plan[1],
      f"--dry-run --json: {r.stdout}")
r = run("batch", "--manifest", W("m", "list.csv"), "-o", mo, "--json")
check(r.returncode == 2, "--json without --dry-run is a usage error")
items, _ = log_items(os.path.join(mo, "batch-log.jsonl"))
check([i["status"] for i in items] == ["written", "written", "failed", "failed", "failed"],
      f"manifest statuses {[i['status'] for i in items]}")
r = run("prep", W("nii", "ct1.nii.gz"), "-o", W("lref.nii.gz"), "--label", lab_src, "--label-out", W("lref_l.nii.gz"),
        "--pipeline", bpipe, "-q")
check(sha(W("lref_l.nii.gz")) == sha(os.path.join(mo, "sub-01/ct_label.nii.gz")),
      "the manifest's label output equals prep --label's")
with open(W("m", "list.jsonl"), "w") as f:
    f.write(json.dumps({"input": "../nii/ct1.nii.gz", "output": "a/ct", "label": "../nii/lab.nii.gz",
                        "label_output": "a/seg"}) + "\n\n")
    f.write(json.dumps({"input": "../dicom/studyB", "series": 1, "output": "b/\u00e9"}) + "\n")
mj = W("mjout")
r = run("batch", "--manifest", W("m", "list.jsonl"), "-o", mj, "--pipeline", bpipe)
check(r.returncode == 1 and {k for k in tree(mj) if k.endswith("gz")} == {"a/ct.nii.gz", "a/seg.nii.gz"},
      f"JSON Lines manifest: {r.returncode} {sorted(tree(mj))}")
for bad, want in (("input,outptu\nx,y\n", "unknown column"), ("output\nx\n", "no 'input' column"),
                  ("input,output\na.nii,x\nb.nii,x\n", "earlier item writes"), ("input\n\"a\n", "not closed")):
    with open(W("m", "bad.csv"), "w") as f:
        f.write(bad)
    r = run("batch", "--manifest", W("m", "bad.csv"), "-o", W("mbad"))
    check(r.returncode == 1 and want in r.stderr and not [x for x in tree(W("mbad")) if "nii" in x],
          f"bad manifest {bad!r}: {r.returncode} {r.stderr.strip()}")
with open(W("m", "bad.jsonl"), "w") as f:
    f.write('{"input": "a.nii", "outptu": "x"}\n')
r = run("batch", "--manifest", W("m", "bad.jsonl"), "-o", W("mbad"))
check(r.returncode == 1 and "line 1" in r.stderr and "outptu" in r.stderr, f"bad JSONL: {r.stderr.strip()}")

# ---- limits
r = run("batch", W("nii", "ct1.nii.gz"), "-o", W("lim"), "--max-voxels", "1000", "--force")
items, _ = log_items(os.path.join(W("lim"), "batch-log.jsonl"))
check(r.returncode == 1 and "max-voxels" in items[-1].get("error", "") and not tree(W("lim")),
      f"--max-voxels 1000 refuses a 40x48x24 volume: {items[-1]}")
r = run("prep", W("nii", "ct1.nii.gz"), "-o", W("lim.nii.gz"), "--spacing", "0.1,0.1,0.1", "--max-memory", "64M")
check(r.returncode == 1 and "max-memory" in r.stderr and not os.path.exists(W("lim.nii.gz")),
      f"prep --max-memory 64M refuses a 0.1 mm resampling: {r.stderr.strip()}")
r = run("prep", W("nii", "ct1.nii.gz"), "-o", W("lim.nii.gz"), "--spacing", "1,1,1", "--max-memory", "64M")
check(r.returncode == 0, f"the same with 1 mm fits: {r.stderr.strip()}")
r = run("convert", W("dicom", "studyA"), "-o", W("limc"), "--max-voxels", "40x")
check(r.returncode == 2, "--max-voxels 40x is a usage error")
r = run("convert", W("dicom", "studyA"), "-o", W("limc"), "--max-voxels", "46079")
check(r.returncode == 1 and "max-voxels" in r.stderr and not [x for x in tree(W("limc")) if "nii" in x],
      f"convert --max-voxels one below 40x48x24: {r.stderr.strip()}")
r = run("convert", W("dicom", "studyA"), "-o", W("limc"), "--max-voxels", "46080", "-q")
check(r.returncode == 0, f"convert --max-voxels exactly 40x48x24 passes: {r.stderr.strip()}")

# ---- progress bar: drawn on a terminal only
pid, fd = pty.fork()
if pid == 0:
    os.execv(cli, [cli, "batch", *good, "-o", W("tty"), "--pipeline", bpipe])
buf = b""
while True:
    rr, _, _ = select.select([fd], [], [], 30)
    if not rr:
        break
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    buf += chunk
os.waitpid(pid, 0)
text = buf.decode(errors="replace")
check("ETA" in text and "5/5" in text and "\r" in text, f"progress bar on a terminal: {text[-300:]!r}")
r = run("batch", *good, "-o", W("notty"), "--pipeline", bpipe)
check("ETA" not in r.stderr and "\r" not in r.stderr, "no progress bar when not a terminal")
r = run("batch", *good, "-o", W("quiet"), "--pipeline", bpipe, "-q")
check(r.stderr == "", f"--quiet prints nothing: {r.stderr!r}")
r = run("batch", *good, "-o", W("dry"), "--dry-run", "--shard", "2/2")
check(r.returncode == 0 and len(r.stdout.splitlines()) == 2 and not tree(W("dry")), f"--dry-run lists: {r.stdout}")

# inputs never modified
now = {p: sha(os.path.join(W("dicom"), p)) for p in inputs_hash}
changed = [p for p in now if now[p] != inputs_hash[p] and not p.startswith("studyB")]
check(not changed, f"inputs unchanged: {changed}")
check.done("batch")
