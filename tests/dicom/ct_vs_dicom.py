"""Real gantry-tilted CT against the independent world-space truth: ct-ge-tilt
(18.5 degrees and variable spacing) and both CT volumes of ct-philips-exam,
converted with the default (tilt resliced) and with --tilt keep, must reach
corr >= 0.995 in ../shared/tools/check_vs_dicom.py; with --tilt keep the
Philips volumes need no resampling, so the median |dHU| must be 0.  The
exam's scan must give 2 volumes, a localizer and secondary captures.

usage: ct_vs_dicom.py DCMPREP SHARED_DIR WORKDIR
"""
import json
import os
import subprocess
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testutil import Checks, fresh_dir, need_shared  # noqa: E402

cli, shared, work = sys.argv[1:4]
need_shared(shared, "ct-ge-tilt")
need_shared(shared, "ct-philips-exam")
fresh_dir(work)
check = Checks()


def run(args):
    return subprocess.run(args, capture_output=True, text=True)


def convert(name, src, extra=()):
    out = os.path.join(work, "out_" + name)
    r = run([cli, "convert", src, "-o", out, "-q"] + list(extra))
    check(r.returncode == 0, f"{name}: convert exit {r.returncode}: {r.stderr}")
    return None, out, r


check_py = os.path.join(shared, "tools", "check_vs_dicom.py")
d = os.path.join(shared, "data", "dicom")
sets = [("ct-ge-tilt", d + "/ct-ge-tilt", "2.nii.gz"),
        ("philips-201", d + "/ct-philips-exam", "201_STEREOTAXIS.nii.gz"),
        ("philips-301", d + "/ct-philips-exam", "301_STEREOTAXIS.nii.gz")]
sub = {"philips-201": "S2010", "philips-301": "S3010"}
for mode in ([], ["--tilt", "keep"]):
    for name, src, out_name in sets:
        tag = name + ("_keep" if mode else "")
        _, out, _ = convert(tag, src, mode)
        nii = os.path.join(out, out_name)
        truth_dir = os.path.join(src, sub[name]) if name in sub else src
        r = run([sys.executable, check_py, truth_dir, nii, "--min-corr", "0.995"])
        print(f"{tag}: {r.stdout.strip().splitlines()[-1] if r.stdout.strip() else r.stderr[-200:]}")
        check(r.returncode == 0, f"{tag}: check_vs_dicom failed")
        if mode and name.startswith("philips"):
            # kept tilt, even spacing: nothing resampled, so the values are the stored ones
            med = float(r.stdout.split("median_absdiff=")[1].split()[0])
            check(med == 0, f"{tag}: median |dHU| {med} (no resampling was needed)")
scan = json.loads(run([cli, "scan", d + "/ct-philips-exam", "--json"]).stdout)
kinds = [s["kind"] for s in scan["series"]]
check(kinds.count("volume") == 2 and "localizer" in kinds and "secondary" in kinds,
      f"philips exam kinds {kinds}")
check.done()
