"""A real gantry-tilted CT prepped straight from DICOM (ct-philips-exam series
201: loaded, tilt resliced, reoriented to RAS, resampled to 1 mm) checked
against its source slices in world space with ../shared/tools/check_vs_dicom.py
(the independent truth): corr >= 0.995.

usage: prep_vs_dicom.py DCMPREP SHARED_DIR WORKDIR
"""
import os
import subprocess
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testutil import Checks, fresh_dir, need_shared  # noqa: E402

cli, shared, work = sys.argv[1:4]
exam = need_shared(shared, "ct-philips-exam")
fresh_dir(work)
check = Checks()
out = os.path.join(work, "philips201_ras_1mm.nii.gz")
r = subprocess.run([cli, "prep", exam, "--series", "201", "-o", out, "-q", "--reorient", "RAS",
                    "--spacing", "1,1,1"], capture_output=True, text=True)
check(r.returncode == 0, f"prep exit {r.returncode}: {r.stderr}")
r = subprocess.run([sys.executable, os.path.join(shared, "tools", "check_vs_dicom.py"),
                    os.path.join(exam, "S2010"), out, "--min-corr", "0.995"], capture_output=True, text=True)
check(r.returncode == 0, f"check_vs_dicom: {r.stdout} {r.stderr}")
print(f"philips 201 prepped to RAS 1 mm: {r.stdout.strip()}")
check.done()
