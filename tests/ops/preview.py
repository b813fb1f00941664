"""dcmprep preview and prep --preview: PNG structure, geometry and content.

usage: preview.py DCMPREP WORKDIR

The PNG is decoded here with zlib and struct only (every chunk CRC checked,
filters undone).  A synthetic phantom defined in world (RAS) millimetres is
written in RAS, LPS and PIR voxel order and on an oblique grid; then:
- picture size follows the physical extents (docs/preview.md layout rules);
- a marker on the patient's LEFT appears right of centre in the coronal and
  axial panels, a superior-anterior marker up and left in the sagittal panel
  (radiological convention), with the windowed value expected;
- the orientation letters are the font's glyphs at the documented places,
  the same for every input;
- RAS, LPS and PIR give identical pixels; 1 and 4 threads identical bytes;
- the automatic window equals numpy's 0.5/99.5 percentiles (int16, float32);
- a label (on another grid) tints exactly its pixels with the table colour;
- prep --preview: two rows, the top one equal to `preview` of the input;
- bad arguments: exit 2; unreadable input: exit 1, no file.
"""
import os
import struct
import subprocess
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testutil import Checks, fresh_dir, skip  # noqa: E402
import zlib

try:
    import numpy as np
    import nibabel as nib
    from nibabel.orientations import axcodes2ornt, io_orientation, ornt_transform
except ImportError as e:
    skip(f"{e} (install python3-nibabel)")

cli, work = sys.argv[1:3]
fresh_dir(work)
check = Checks()
MARGIN, SCALE = 20, 2
GLYPHS = {  # 5 x 7, bit 4 leftmost (the library's font)
    "A": [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
    "I": [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E],
    "L": [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F],
    "P": [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10],
    "R": [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
    "S": [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E],
}
# per panel: column world axis, row world axis, letters left/right/top/bottom
PLANES = [(1, 2, "APSI"), (0, 2, "RLSI"), (0, 1, "RLAP")]



def path(name):
    return os.path.join(work, name)


def read_png(p):
    data = open(p, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{p}: no PNG signature"
    pos, idat, ihdr, types = 8, b"", None, []
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        typ, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        (crc,) = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
        assert crc == zlib.crc32(typ + body), f"{p}: bad CRC in {typ}"
        types.append(typ)
        if typ == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif typ == b"IDAT":
            idat += body
        pos += 12 + n
    assert types[0] == b"IHDR" and types[-1] == b"IEND" and pos == len(data), f"{p}: chunk order"
    w, h, depth, ctype, comp, filt, interlace = ihdr
    assert depth == 8 and ctype in (0, 2) and comp == filt == interlace == 0, f"{p}: IHDR {ihdr}"
    ch = 3 if ctype == 2 else 1
    raw = zlib.decompress(idat)
    stride = w * ch
    assert len(raw) == (stride + 1) * h, f"{p}: IDAT size"
    out = np.zeros((h, stride), np.int32)
    prev = np.zeros(stride, np.int32)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = np.frombuffer(raw, np.uint8, stride, y * (stride + 1) + 1).astype(np.int32)
        row = np.zeros(stride, np.int32)
        for i in range(stride):
            a = row[i - ch] if i >= ch else 0
            b = prev[i]
            c = prev[i - ch] if i >= ch else 0
            if f == 0:
                pred = 0
            elif f == 1:
                pred = a
            elif f == 2:
                pred = b
            elif f == 3:
                pred = (a + b) // 2
            else:
                pp = a + b - c
                pa, pb, pc = abs(pp - a), abs(pp - b), abs(pp - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
            row[i] = (line[i] + pred) & 255
        out[y] = row
        prev = row
    return out.reshape(h, w, ch) if ch == 3 else out


def run(*args, want=0):
    r = subprocess.run([cli] + list(args), capture_output=True, text=True)
    check(r.returncode == want, f"{' '.join(args)}: exit {r.returncode} (want {want}): {r.stderr}")
    return r


# ---- the phantom, defined in world millimetres ----------------------------------
CENTRE = np.array([3.0, -7.0, 11.0])
LEFT_MARK = CENTRE + [-10, 0, 0]        # patient's left (x < centre)
SUP_MARK = CENTRE + [0, 12, 15]         # anterior and superior, on the sagittal plane
BODY, MARK = 37.0, 91.0


def world_value(xyz):
    d = xyz - CENTRE
    v = np.where(((d / [18, 24, 28]) ** 2).sum(-1) < 1, BODY, 0.0)
    for m in (LEFT_MARK, SUP_MARK):
        v = np.where((np.abs(xyz - m) <= 4).all(-1), MARK, v)
    return v


def world_label(xyz):
    lab = np.zeros(xyz.shape[:-1], np.int16)
    lab[(np.abs(xyz - LEFT_MARK) <= 4).all(-1)] = 1
    lab[(np.abs(xyz - SUP_MARK) <= 4).all(-1)] = 2
    return lab


def grid_affine(lin, shape):
    """Affine with linear part lin whose voxel (n - 1) / 2 lies at CENTRE."""
    A = np.eye(4)
    A[:3, :3] = lin
    A[:3, 3] = CENTRE - lin @ ((np.array(shape) - 1) / 2)
    return A


def sample(fn, A, shape):
    ijk = np.stack(np.meshgrid(*[np.arange(n) for n in shape], indexing="ij"), -1)
    return fn(ijk @ A[:3, :3].T + A[:3, 3])


SHAPE = (44, 40, 34)
A_RAS = grid_affine(np.diag([1.0, 1.5, 2.0]), SHAPE)
ras = nib.Nifti1Image(sample(world_value, A_RAS, SHAPE).astype(np.int16), A_RAS)
nib.save(ras, path("ras.nii"))
for code in ("LPS", "PIR"):
    img = ras.as_reoriented(ornt_transform(io_orientation(A_RAS), axcodes2ornt(tuple(code))))
    check("".join(nib.aff2axcodes(img.affine)) == code, f"phantom in {code}")
    nib.save(img, path(f"{code.lower()}.nii"))
# oblique: 20 degrees about x then 10 about z, values sampled from the world
ax, az = np.radians(20), np.radians(10)
Rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
Rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
OB_SHAPE = (50, 52, 40)
A_OB = grid_affine(Rz @ Rx @ np.diag([1.0, 1.2, 1.5]), OB_SHAPE)
nib.save(nib.Nifti1Image(sample(world_value, A_OB, OB_SHAPE).astype(np.int16), A_OB), path("obl.nii"))
# a label on another grid (LPS, 2 mm) than the image's
A_LAB = grid_affine(np.diag([-2.0, -2.0, 2.0]), (24, 30, 32))
nib.save(nib.Nifti1Image(sample(world_label, A_LAB, (24, 30, 32)), A_LAB), path("lab.nii"))


def layout(A, shape, pixel=None):
    ext = (np.abs(A[:3, :3]) * np.array(shape)).sum(1)
    p = pixel or np.linalg.norm(A[:3, :3], axis=0).min()
    p = max(p, ext.max() / 512)
    n = [max(1, int(np.floor(e / p + 0.5))) for e in ext]
    wh = [(n[c], n[r]) for c, r, _ in PLANES]
    hmax = max(h for _, h in wh)
    x, panels = 0, []
    for w, h in wh:
        panels.append((x + MARGIN, MARGIN + (hmax - h) // 2, w, h))
        x += w + 2 * MARGIN
    return p, panels, x, hmax + 2 * MARGIN


def display(v, c, w):
    return int(np.clip(np.floor(255 * (v - (c - w / 2)) / w + 0.5), 0, 255))


def pixel_of(panel, q, p, world):
    """Image (row, col) of a world point in panel q (radiological convention)."""
    x0, y0, w, h = panel
    ca, ra, _ = PLANES[q]
    col = (w - 1) / 2 - (world[ca] - CENTRE[ca]) / p
    row = (h - 1) / 2 - (world[ra] - CENTRE[ra]) / p
    return y0 + int(round(row)), x0 + int(round(col))


def check_letters(img, panels, what):
    gw, gh = 5 * SCALE, 7 * SCALE
    gray = img if img.ndim == 2 else img[..., 0]
    for q, (x, y, w, h) in enumerate(panels):
        cx, cy = x + w // 2 - gw // 2, y + h // 2 - gh // 2
        spots = [(x - MARGIN + (MARGIN - gw) // 2, cy), (x + w + (MARGIN - gw) // 2, cy),
                 (cx, y - MARGIN + (MARGIN - gh) // 2), (cx, y + h + (MARGIN - gh) // 2)]
        for letter, (lx, ly) in zip(PLANES[q][2], spots):
            want = np.kron(np.array([[(r >> (4 - i)) & 1 for i in range(5)] for r in GLYPHS[letter]]),
                           np.ones((SCALE, SCALE), int)) * 255
            got = gray[ly:ly + gh, lx:lx + gw]
            check(got.shape == want.shape and np.array_equal(got, want),
                  f"{what}: letter {letter} of panel {q} at ({lx},{ly})")


WIN = (51.3, 103.7)
win = f"{WIN[0]},{WIN[1]}"

# ---- size, markers, letters -----------------------------------------------------
pics = {}
for name, A, shape in (("ras", A_RAS, SHAPE), ("lps", None, None), ("pir", None, None),
                       ("obl", A_OB, OB_SHAPE)):
    run("preview", path(f"{name}.nii"), "-o", path(f"{name}.png"), "--window", win, "-q")
    img = read_png(path(f"{name}.png"))
    pics[name] = img
    if A is None:
        continue
    p, panels, W, H = layout(A, shape)
    check(img.shape == (H, W), f"{name}: picture {img.shape[::-1]}, want {W} x {H} from the extents")
    mark, body = display(MARK, *WIN), display(BODY, *WIN)
    for q, wpt in ((1, LEFT_MARK), (2, LEFT_MARK), (0, SUP_MARK)):
        r, c = pixel_of(panels[q], q, p, wpt)
        check(img[r, c] == mark, f"{name}: marker in panel {q} at ({c},{r}): {img[r, c]} != {mark}")
    # radiological: the left marker is right of centre in coronal and axial
    for q in (1, 2):
        x0, y0, w, h = panels[q]
        r, c = pixel_of(panels[q], q, p, LEFT_MARK)
        check(c > x0 + w / 2, f"{name}: patient's left not on the image right in panel {q}")
        mirror = x0 + w - 1 - (c - x0)
        check(img[r, mirror] == body, f"{name}: mirror of the left marker is body ({img[r, mirror]})")
    # sagittal: anterior left, superior top
    r, c = pixel_of(panels[0], 0, p, SUP_MARK)
    x0, y0, w, h = panels[0]
    check(c < x0 + w / 2 and r < y0 + h / 2, f"{name}: anterior-superior marker not up-left in sagittal")
    # the corner: outside the body (value 0) for RAS, outside the volume (black) when oblique
    want = display(0, *WIN) if name == "ras" else 0
    check(img[y0, x0] == want, f"{name}: corner of sagittal {img[y0, x0]} != {want}")
    check_letters(img, panels, name)
print(f"preview: sizes, markers and letters checked on RAS and oblique input ({pics['ras'].shape[::-1]})")

for name in ("lps", "pir"):
    check(np.array_equal(pics[name], pics["ras"]), f"{name}: pixels differ from the RAS input's")
# the automatic window is a property of the values, not of their order
for name in ("ras", "lps", "pir"):
    run("preview", path(f"{name}.nii"), "-o", path(f"{name}_auto.png"), "-q")
auto = [read_png(path(f"{n}_auto.png")) for n in ("ras", "lps", "pir")]
check(np.array_equal(auto[0], auto[1]) and np.array_equal(auto[0], auto[2]),
      "automatic window: RAS, LPS, PIR pictures differ")
check(auto[0].max() == 255 and auto[0].min() == 0, "automatic window spans 0..255")
print("preview: RAS, LPS and PIR voxel orders give identical pixels")

run("preview", path("obl.nii"), "-o", path("t1.png"), "--threads", "1", "-q")
run("preview", path("obl.nii"), "-o", path("t4.png"), "--threads", "4", "-q")
check(open(path("t1.png"), "rb").read() == open(path("t4.png"), "rb").read(), "1 vs 4 threads differ")

# the automatic window: numpy's percentiles (exact for integers, to 1/65536 of the range
# for floats), shown on an odd-sized RAS grid whose axial mid-plane is voxel slice 15
rng = np.random.default_rng(5)
for dt, tol in ((np.int16, 0), (np.float32, 1)):
    vol = rng.integers(-1000, 3000, (31, 31, 31)).astype(dt)
    if dt == np.float32:
        vol = vol * np.float32(0.37) + rng.normal(0, 1, vol.shape).astype(np.float32)
    A = np.eye(4)
    A[:3, 3] = [-15, -15, -15]
    nib.save(nib.Nifti1Image(vol, A), path("rnd.nii"))
    run("preview", path("rnd.nii"), "-o", path("rnd.png"), "-q")
    img = read_png(path("rnd.png"))
    lo, hi = np.percentile(vol.astype(np.float64), [0.5, 99.5])
    _, panels, _, _ = layout(A, vol.shape)
    x0, y0, w, h = panels[2]
    got = img[y0:y0 + h, x0:x0 + w].astype(int)
    want = np.array([[display(vol[30 - c, 30 - r, 15], (lo + hi) / 2, hi - lo) for c in range(w)]
                     for r in range(h)])
    err = np.abs(got - want).max()
    check(err <= tol, f"automatic window on {np.dtype(dt).name}: off by {err} display levels")
print("preview: automatic window equals numpy's 0.5/99.5 percentiles (int16 exact, float32 within 1 level)")

# ---- label overlay ------------------------------------------------------------------
run("preview", path("ras.nii"), "-o", path("lab.png"), "--window", win, "--label", path("lab.nii"), "-q")
lab = read_png(path("lab.png"))
p, panels, W, H = layout(A_RAS, SHAPE)
check(lab.shape == (H, W, 3), f"label overlay: RGB picture of {W} x {H}, got {lab.shape}")
gray = pics["ras"]
colours = {1: (255, 0, 0), 2: (0, 255, 0)}
for q, wpt, l in ((1, LEFT_MARK, 1), (2, LEFT_MARK, 1), (0, SUP_MARK, 2)):
    r, c = pixel_of(panels[q], q, p, wpt)
    g = int(gray[r, c])
    want = [int(np.floor(0.5 * g + 0.5 * k + 0.5)) for k in colours[l]]
    check(list(lab[r, c]) == want, f"label {l} in panel {q}: {list(lab[r, c])} != {want}")
tinted = (lab[..., 0] != lab[..., 1]) | (lab[..., 1] != lab[..., 2])
untinted = ~tinted
check(np.array_equal(lab[..., 0][untinted], gray[untinted]), "untinted pixels keep the gray value")
# tinted pixels sit on the markers (within a display pixel of their 8 mm cubes)
rows, cols = np.nonzero(tinted)
check(len(rows) > 0, "some pixels are tinted")
ok = True
for r, c in zip(rows, cols):
    q = next(i for i, (x0, y0, w, h) in enumerate(panels) if x0 <= c < x0 + w and y0 <= r < y0 + h)
    x0, y0, w, h = panels[q]
    ca, ra, _ = PLANES[q]
    pt = CENTRE.copy()
    pt[ca] += ((w - 1) / 2 - (c - x0)) * p
    pt[ra] += ((h - 1) / 2 - (r - y0)) * p
    near = min(np.abs(pt - m)[[ca, ra]].max() for m in (LEFT_MARK, SUP_MARK))
    ok &= near <= 4 + 2.0  # the label's 2 mm voxels, nearest sampling
check(ok, "tinted pixels lie on the labelled markers")
check_letters(lab, panels, "label overlay")
print(f"preview: label overlay tints {len(rows)} pixels with the table colours")

# ---- prep --preview: before/after rows ------------------------------------------------
run("prep", path("lps.nii"), "-o", path("prep.nii"), "--crop-or-pad", "30,30,30", "--spacing",
    "2,2,2", "--preview", path("prep.png"), "-q")
both = read_png(path("prep.png"))
single = auto[1]
h1, w1 = single.shape
check(both.shape[1] == w1 and np.array_equal(both[:h1, :w1], single),
      "prep --preview: the top row equals `preview` of the input")
out = nib.load(path("prep.nii"))
p_in = layout(A_RAS, SHAPE)[0]
_, panels2, W2, H2 = layout(out.affine, out.shape, pixel=p_in)
check(both.shape[0] == h1 + H2, f"prep --preview: height {both.shape[0]} != {h1} + {H2}")
check(not both[h1:, W2:].any(), "prep --preview: the narrower bottom row is left-aligned on black")
check_letters(both[h1:], panels2, "prep --preview bottom row")
run("prep", path("lps.nii"), "-o", path("prep2.nii"), "--preview", path("prep2.nii"), want=2)
print(f"prep --preview: two rows {both.shape[::-1]}, top = input preview")

# ---- errors -----------------------------------------------------------------------
run("preview", path("ras.nii"), "-o", path("bad.png"), "--window", "40,0", want=2)
run("preview", path("ras.nii"), "-o", path("bad.png"), "--alpha", "2", want=2)
run("preview", path("ras.nii"), want=2)
r = run("preview", path("missing.nii"), "-o", path("bad.png"), want=1)
check("missing.nii" in r.stderr, "missing input named in the message")
check(not os.path.exists(path("bad.png")), "no PNG after a failure")
check(not [f for f in os.listdir(work) if f.endswith(".tmp")], "no temporary files left")

check.done("all preview checks passed")
