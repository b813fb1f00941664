"""dcmprep convert reruns like a build tool, and output folders by existence.

usage: convert_rerun.py DCMPREP SYNTH WORKDIR

- The same series into the same folder again: nothing is written, no file is
  touched (inode, mtime and bytes unchanged), the output is reported up to
  date; --overwrite rewrites it (a new file, the same bytes).
- Another series with the same name gets NAME_2, and the first is left
  alone; a rerun of both is a no-op.  Names do not depend on the order of
  the inputs on the command line.
- The same series with another setting, or changed files: its output is
  replaced in place (no NAME_2), and the old setting gives back the first
  bytes.  A series once split in parts and now one volume leaves no parts.
- A file dcmprep did not write (no sidecar, or a sidecar of another tool)
  is never replaced, except with --overwrite.  An output of an earlier
  version (sidecar without ConvertHash) of the same series is replaced.
- Without sidecars, nothing records what made a file: a rerun writes NAME_2.
- An existing folder is a folder whatever its name ends with (DICOM and
  NIfTI input), and so is a name ending in '/'.
- NIfTI input: an up-to-date output is left alone; a changed setting
  rewrites it.
- A series with an RT Structure Set: the rerun leaves image and label
  alone; a changed RTSTRUCT, another label option, or a deleted label file
  makes the series out of date, and it is converted again in place.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testutil import Checks, fresh_dir  # noqa: E402

cli, synth, work = sys.argv[1:4]
fresh_dir(work)
check = Checks()


def run(*args):
    return subprocess.run([cli] + list(args), capture_output=True, text=True)


def make(name, *args):
    d = os.path.join(work, name)
    r = subprocess.run([synth, "-o", d, "--rows", "20", "--cols", "24", "--slices", "8"] + list(args),
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return d


def state(folder):
    """name -> (inode, mtime_ns, sha256) of every file."""
    out = {}
    for f in sorted(os.listdir(folder)):
        p = os.path.join(folder, f)
        st = os.stat(p)
        out[f] = (st.st_ino, st.st_mtime_ns, hashlib.sha256(open(p, "rb").read()).hexdigest())
    return out


def digests(folder):
    return {k: v[2] for k, v in state(folder).items()}


NAME = "2_synthetic_CT_body"
a = make("a", "--series-number", "2")
b = make("b", "--series-number", "2", "--series-uid", "1.2.826.0.1.3680043.2.1143.77", "--slices", "9")

# --- the same series again: a no-op -------------------------------------------
out = os.path.join(work, "out")
r = run("convert", a, "-o", out)
check(r.returncode == 0 and sorted(os.listdir(out)) == [NAME + ".json", NAME + ".nii.gz"],
      f"first run: {sorted(os.listdir(out))} {r.stderr}")
first = state(out)
r = run("convert", a, "-o", out)
check(r.returncode == 0, f"rerun exit {r.returncode}: {r.stderr}")
check(state(out) == first, f"rerun touched nothing (no {NAME}_2): {sorted(os.listdir(out))}")
check("up to date" in r.stdout, f"rerun reports up to date: {r.stdout!r}")
r = run("convert", a, "-o", out, "--overwrite", "-q")
now = state(out)
check(r.returncode == 0 and sorted(now) == sorted(first), f"--overwrite: same files {sorted(now)}")
check(now[NAME + ".nii.gz"][0] != first[NAME + ".nii.gz"][0], "--overwrite wrote a new file")
check(digests(out) == {k: v[2] for k, v in first.items()}, "--overwrite: the same bytes")

# --- another series with the same name ----------------------------------------
before = digests(out)
r = run("convert", b, "-o", out, "-q")
check(r.returncode == 0 and NAME + "_2.nii.gz" in os.listdir(out), f"second series: {sorted(os.listdir(out))}")
check(all(digests(out)[k] == v for k, v in before.items()), "the first series' files are left alone")
both = state(out)
r = run("convert", a, b, "-o", out)
check(r.returncode == 0 and state(out) == both and r.stdout.count("up to date") == 2,
      f"rerun of both: nothing touched ({r.stdout!r})")
o1, o2 = os.path.join(work, "ab"), os.path.join(work, "ba")
run("convert", a, b, "-o", o1, "-q")
run("convert", b, a, "-o", o2, "-q")
check(digests(o1) == digests(o2) and len(digests(o1)) == 4, "names do not depend on the order of the inputs")
r = run("convert", a, b, "-o", o1, "-q")
check(len(os.listdir(o1)) == 4, f"fresh pair rerun: {sorted(os.listdir(o1))}")

# --- same series, another setting or changed files: replaced in place --------------
TUID = ["--series-uid", "1.2.826.0.1.3680043.2.1143.78", "--study-uid", "1.2.826.0.1.3680043.2.1143.79"]
t = make("tilt", "--tilt", "12", "--phantom", "ramp", "--series-number", "5", *TUID)
tout = os.path.join(work, "tout")
run("convert", t, "-o", tout, "-q", "--name", "t")
resliced = digests(tout)
r = run("convert", t, "-o", tout, "-q", "--name", "t", "--tilt", "keep")
check(r.returncode == 0 and sorted(os.listdir(tout)) == ["t.json", "t.nii.gz"], f"--tilt keep: {os.listdir(tout)}")
check(digests(tout) != resliced, "--tilt keep replaced the resliced output")
run("convert", t, "-o", tout, "-q", "--name", "t")
check(digests(tout) == resliced, "back to reslice: the first bytes again")
shutil.rmtree(t)
make("tilt", "--tilt", "12", "--phantom", "body", "--series-number", "5", *TUID)  # same series, other pixels
r = run("convert", t, "-o", tout, "-q", "--name", "t")
check(sorted(os.listdir(tout)) == ["t.json", "t.nii.gz"] and digests(tout) != resliced,
      f"changed files: replaced in place ({sorted(os.listdir(tout))})")

u = make("uneven", "--uneven", "2,2,2,3,3,3", "--slices", "10")
uout = os.path.join(work, "uout")
run("convert", u, "-o", uout, "-q", "--uneven", "split", "--name", "u")
check(sorted(os.listdir(uout)) == ["u_part1.json", "u_part1.nii.gz", "u_part2.json", "u_part2.nii.gz"],
      f"split: {sorted(os.listdir(uout))}")
parts = state(uout)
r = run("convert", u, "-o", uout, "--uneven", "split", "--name", "u")
check(state(uout) == parts and r.stdout.count("up to date") == 2, f"split rerun: a no-op ({r.stdout!r})")
run("convert", u, "-o", uout, "-q", "--name", "u")
check(sorted(os.listdir(uout)) == ["u.json", "u.nii.gz"], f"split, then resampled: no parts left: {os.listdir(uout)}")

# --- files dcmprep did not write ------------------------------------------------
fout = fresh_dir(os.path.join(work, "foreign"))
with open(os.path.join(fout, NAME + ".nii.gz"), "wb") as f:
    f.write(b"someone else's file")
with open(os.path.join(fout, NAME + "_2.nii.gz"), "wb") as f:
    f.write(b"another")
with open(os.path.join(fout, NAME + "_2.json"), "w") as f:
    json.dump({"ConversionSoftware": "dcm2niix", "SeriesInstanceUID": "x"}, f)
r = run("convert", a, "-o", fout, "-q")
check(open(os.path.join(fout, NAME + ".nii.gz"), "rb").read() == b"someone else's file" and
      open(os.path.join(fout, NAME + "_2.nii.gz"), "rb").read() == b"another" and
      os.path.exists(os.path.join(fout, NAME + "_3.nii.gz")), f"foreign files kept: {sorted(os.listdir(fout))}")
r = run("convert", a, "-o", fout, "-q")
check(not os.path.exists(os.path.join(fout, NAME + "_4.nii.gz")), "rerun finds its output at _3")
r = run("convert", a, "-o", fout, "-q", "--overwrite")
check(digests(fout)[NAME + ".nii.gz"] == digests(out)[NAME + ".nii.gz"], "--overwrite replaces the foreign file")

# an earlier version's output of the same series: no ConvertHash in its sidecar
oout = os.path.join(work, "older")
run("convert", a, "-o", oout, "-q")
side = os.path.join(oout, NAME + ".json")
meta = json.load(open(side))
del meta["ConvertHash"]
json.dump(meta, open(side, "w"), indent=2)
r = run("convert", a, "-o", oout, "-q")
check(sorted(os.listdir(oout)) == [NAME + ".json", NAME + ".nii.gz"] and "ConvertHash" in json.load(open(side)),
      f"an older output of the same series is replaced: {sorted(os.listdir(oout))}")

# without sidecars nothing says what made a file
nout = os.path.join(work, "nosidecar")
run("convert", a, "-o", nout, "-q", "--no-sidecar")
run("convert", a, "-o", nout, "-q", "--no-sidecar")
check(sorted(os.listdir(nout)) == [NAME + ".nii.gz", NAME + "_2.nii.gz"], f"--no-sidecar rerun: {os.listdir(nout)}")

# --- output folders by existence -----------------------------------------------
dout = os.path.join(work, "looks_like.nii.gz")
os.makedirs(dout)
r = run("convert", a, "-o", dout, "-q")
check(r.returncode == 0 and NAME + ".nii.gz" in os.listdir(dout), f"DICOM into folder 'looks_like.nii.gz': {r.stderr}")
nii = os.path.join(out, NAME + ".nii.gz")
r = run("convert", nii, "-o", dout, "-q")
check(r.returncode == 0 and digests(dout)[NAME + ".nii.gz"] is not None, f"NIfTI into that folder: {r.stderr}")
r = run("convert", a, "-o", os.path.join(work, "new.nii.gz") + "/", "-q")
check(r.returncode == 0 and os.path.isdir(os.path.join(work, "new.nii.gz")), f"DICOM into 'new.nii.gz/': {r.stderr}")
r = run("convert", nii, "-o", os.path.join(work, "new2.nii") + "/", "-q")
check(r.returncode == 0 and os.path.isfile(os.path.join(work, "new2.nii", NAME + ".nii.gz")),
      f"NIfTI into 'new2.nii/': {r.stderr}")
r = run("convert", a, "-o", os.path.join(work, "file.nii.gz"))
check(r.returncode == 2 and not os.path.exists(os.path.join(work, "file.nii.gz")),
      f"DICOM to a .nii.gz name that is no folder: usage error ({r.returncode})")

# --- NIfTI input reruns -------------------------------------------------------
nfile = os.path.join(work, "re.nii")
run("convert", nii, "-o", nfile, "-q")
st = os.stat(nfile)
r = run("convert", nii, "-o", nfile)
st2 = os.stat(nfile)
check(r.returncode == 0 and (st.st_ino, st.st_mtime_ns) == (st2.st_ino, st2.st_mtime_ns) and "up to date" in r.stderr,
      f"NIfTI rerun: left alone ({r.stderr.strip()})")
run("convert", nii, "-o", nfile, "-q", "--nifti2")
check(open(nfile, "rb").read(4) == (540).to_bytes(4, "little"), "NIfTI: a changed setting rewrites the output")
st = os.stat(nfile)
run("convert", nii, "-o", nfile, "-q", "--nifti2", "--overwrite")
check(os.stat(nfile).st_ino != st.st_ino, "NIfTI --overwrite rewrites an up-to-date output")
# --- a series with an RT Structure Set ------------------------------------------
lab = os.path.join(work, "lab")
r = subprocess.run([synth, "-o", lab, "--rows", "20", "--cols", "24", "--slices", "8", "--series-number", "7",
                    "--rtstruct", os.path.join(lab, "rs.dcm")], capture_output=True, text=True)
check(r.returncode == 0, f"synthetic series with RTSTRUCT: {r.stderr}")
lout = os.path.join(work, "lout")
r = run("convert", lab, "-o", lout, "-q", "--name", "s")
labelled = state(lout)
check(r.returncode == 0 and "s_label.nii.gz" in labelled and "s.nii.gz" in labelled,
      f"labelled series converted: {sorted(labelled)} {r.stderr}")
r = run("convert", lab, "-o", lout, "--name", "s")
check(state(lout) == labelled and "up to date" in r.stdout, f"labelled rerun: nothing touched ({r.stdout!r})")
r = run("convert", lab, "-o", lout, "-q", "--name", "s", "--labels", "onehot")
now = state(lout)
check(sorted(now) == sorted(labelled) and now["s_label.nii.gz"][2] != labelled["s_label.nii.gz"][2],
      f"another label option: converted again in place ({sorted(now)})")
run("convert", lab, "-o", lout, "-q", "--name", "s")
check(digests(lout) == {k: v[2] for k, v in labelled.items()}, "back to the default layout: the first bytes")
os.remove(os.path.join(lout, "s_label.nii.gz"))
os.remove(os.path.join(lout, "s_label.json"))
r = run("convert", lab, "-o", lout, "-q", "--name", "s")
check(digests(lout) == {k: v[2] for k, v in labelled.items()}, f"a deleted label is written again: {sorted(os.listdir(lout))}")
rs = os.path.join(lab, "rs.dcm")
data = bytearray(open(rs, "rb").read())
at = data.find(b"sphere")
if check(at > 0, "the RTSTRUCT names its sphere"):
    data[at:at + 6] = b"spherE"  # the same geometry, another ROI name: new bytes
    open(rs, "wb").write(bytes(data))
    r = run("convert", lab, "-o", lout, "--name", "s")
    check(r.returncode == 0 and "up to date" not in r.stdout and sorted(os.listdir(lout)) == sorted(labelled),
          f"a changed RTSTRUCT: converted again in place ({r.stdout!r}, {sorted(os.listdir(lout))})")
    check("spherE" in open(os.path.join(lout, "s_label.json")).read(), "the new ROI name is in the label map")
check.done("convert reruns")
