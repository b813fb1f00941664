"""Independent references for the label tests, written from the rules of
include/dcmprep/labels.h with pydicom and numpy (no dcmprep code):

- rtstruct_masks: RTSTRUCT contours filled per slice by the even-odd rule at
  voxel centres (the crossing test evaluated per voxel, as PNPOLY does,
  rather than by scanlines), planes matched to slices by position;
- seg_masks: SEG frames placed by their own positions, nearest neighbour;
- analytic_masks: the synthetic shapes of dcmprep-synth's truth file;
- dice.
"""
import numpy as np
import pydicom

PLANAR_TOL = 0.25
PLANE_EPS = 0.01
LPS_TO_RAS = np.array([-1.0, -1.0, 1.0])


def voxel_coords(points_ras, affine):
    inv = np.linalg.inv(affine)
    h = np.c_[points_ras, np.ones(len(points_ras))]
    return (inv @ h.T).T[:, :3]


def even_odd(polygons, nx, ny):
    """Voxels (i, j) of an nx x ny slice inside the polygons together: an
    odd number of edges with (y0 > j) != (y1 > j) and
    i < (x1 - x0) * (j - y0) / (y1 - y0) + x0."""
    ii = np.arange(nx, dtype=np.float64)[:, None]
    jj = np.arange(ny, dtype=np.float64)[None, :]
    inside = np.zeros((nx, ny), dtype=bool)
    for poly in polygons:
        n = len(poly)
        for q in range(n):
            x0, y0 = poly[q]
            x1, y1 = poly[(q + 1) % n]
            if y0 == y1:
                continue
            cross = (y0 > jj) != (y1 > jj)
            with np.errstate(divide="ignore", invalid="ignore"):
                x = (x1 - x0) * (jj - y0) / (y1 - y0) + x0
            inside ^= cross & (ii < x)
    return inside


def rtstruct_masks(path, affine, shape, tolerance=0.5):
    """{ROI name: bool mask of shape} for every ROI of the RTSTRUCT."""
    ds = pydicom.dcmread(path)
    names = {int(r.ROINumber): str(r.ROIName) for r in ds.StructureSetROISequence}
    out = {}
    for rc in ds.ROIContourSequence:
        name = names[int(rc.ReferencedROINumber)]
        mask = np.zeros(shape, dtype=bool)
        planes = []
        for c in getattr(rc, "ContourSequence", []):
            if c.ContourGeometricType != "CLOSED_PLANAR":
                continue
            pts = np.array([float(v) for v in c.ContourData]).reshape(-1, 3) * LPS_TO_RAS
            if len(pts) < 3:
                continue
            v = voxel_coords(pts, affine)
            k0, k1 = v[:, 2].min(), v[:, 2].max()
            if k1 - k0 > PLANAR_TOL:
                continue
            planes.append(((k0 + k1) / 2, v[:, :2]))
        planes.sort(key=lambda p: p[0])
        groups = []
        for kc, xy in planes:
            if groups and kc - groups[-1][0][0] <= PLANE_EPS:
                groups[-1].append((kc, xy))
            else:
                groups.append([(kc, xy)])
        for g in groups:
            kc = sum(p[0] for p in g) / len(g)
            s = int(np.floor(kc + 0.5))
            if s < 0 or s >= shape[2] or abs(kc - s) > tolerance:
                continue
            mask[:, :, s] |= even_odd([p[1] for p in g], shape[0], shape[1])
        out[name] = mask
    return out


def seg_masks(path, affine, shape, pixels=None, threshold=0.5):
    """{segment label: bool mask}: each voxel centre takes the nearest pixel
    of the segment's frame whose plane is within half the SEG's slice
    spacing.  pixels: the decoded frames (frames, rows, cols), else
    pydicom's pixel_array."""
    ds = pydicom.dcmread(path)
    px = np.asarray(ds.pixel_array if pixels is None else pixels)
    if px.ndim == 2:
        px = px[None]
    shared = ds.SharedFunctionalGroupsSequence[0]
    frac = ds.SegmentationType == "FRACTIONAL"
    maxv = int(ds.MaximumFractionalValue) if frac else 1
    frames = []
    for f, pf in enumerate(ds.PerFrameFunctionalGroupsSequence):
        def grp(name):
            return getattr(pf, name, None) or getattr(shared, name)
        iop = np.array([float(x) for x in grp("PlaneOrientationSequence")[0].ImageOrientationPatient])
        ps = [float(x) for x in grp("PixelMeasuresSequence")[0].PixelSpacing]
        ipp = np.array([float(x) for x in pf.PlanePositionSequence[0].ImagePositionPatient])
        seg = int(grp("SegmentIdentificationSequence")[0].ReferencedSegmentNumber)
        r, c = iop[:3] * LPS_TO_RAS, iop[3:] * LPS_TO_RAS
        r, c = r / np.linalg.norm(r), c / np.linalg.norm(c)
        n = np.cross(r, c)
        n /= np.linalg.norm(n)
        frames.append(dict(seg=seg, o=ipp * LPS_TO_RAS, r=r, c=c, n=n, ps=ps, f=f))
    pm = shared.PixelMeasuresSequence[0]
    spacing = float(getattr(pm, "SpacingBetweenSlices", 0) or 0)
    if not spacing > 0:
        w = np.sort([fr["o"] @ frames[0]["n"] for fr in frames])
        d = np.diff(w)
        d = d[d > 1e-3]
        spacing = d.min() if len(d) else float(getattr(pm, "SliceThickness", 0) or 0) or \
            float(np.linalg.norm(affine[:3, 2]))
    half = spacing / 2
    ii, jj, kk = np.meshgrid(*[np.arange(s) for s in shape], indexing="ij")
    p = (affine @ np.stack([ii.ravel(), jj.ravel(), kk.ravel(), np.ones(ii.size)]))[:3].T
    out = {}
    for sg in ds.SegmentSequence:
        num = int(sg.SegmentNumber)
        mine = [fr for fr in frames if fr["seg"] == num]
        m = np.zeros(len(p), dtype=bool)
        if mine:
            n = mine[0]["n"]
            w = p @ n
            pw = np.array(sorted({round(fr["o"] @ n, 6) for fr in mine}))
            # nearest plane, the higher one when halfway
            idx = np.searchsorted(pw, w, side="right")
            lo = np.clip(idx - 1, 0, len(pw) - 1)
            hi = np.clip(idx, 0, len(pw) - 1)
            pick = np.where(np.abs(pw[hi] - w) <= np.abs(pw[lo] - w), hi, lo)
            ok = np.abs(pw[pick] - w) <= half * (1 + 1e-9)
            for fr in mine:
                sel = ok & (np.abs(pw[pick] - fr["o"] @ n) <= 1e-3)
                d = p[sel] - fr["o"]
                col = np.floor(d @ fr["r"] / fr["ps"][1] + 0.5).astype(np.int64)
                row = np.floor(d @ fr["c"] / fr["ps"][0] + 0.5).astype(np.int64)
                good = (col >= 0) & (row >= 0) & (col < px.shape[2]) & (row < px.shape[1])
                val = np.zeros(len(col), dtype=np.float64)
                val[good] = px[fr["f"], row[good], col[good]]
                hit = val / maxv >= threshold if frac else val != 0
                where = np.flatnonzero(sel)
                m[where] |= hit
        out[str(sg.SegmentLabel)] = m.reshape(shape)
    return out


def analytic_masks(truth, affine, shape):
    """{shape name: bool mask} of the voxel centres inside each shape."""
    ii, jj, kk = np.meshgrid(*[np.arange(s) for s in shape], indexing="ij")
    ras = affine @ np.stack([ii.ravel(), jj.ravel(), kk.ravel(), np.ones(ii.size)])
    lps = ras[:3] * LPS_TO_RAS[:, None]
    d = lps - np.array(truth["shape_center"])[:, None]
    u, v, w = (np.array(truth[k]) @ d for k in ("shape_u", "shape_v", "shape_w"))
    out = {}
    for s in truth["shapes"]:
        p = s["params"]
        a, b, c = u - p[0], v - p[1], w - p[2]
        if s["kind"] == "sphere":
            m = a * a + b * b + c * c < p[3] ** 2
        elif s["kind"] == "torus":
            m = (np.sqrt(a * a + b * b) - p[3]) ** 2 + c * c < p[4] ** 2
        else:
            q = np.maximum(np.abs(a), np.abs(b))
            m = (np.abs(c) < p[6]) & (((q < p[3]) & ~(q < p[4])) | (a * a + b * b < p[5] ** 2))
        out[s["name"]] = m.reshape(shape)
    return out


def dice(a, b):
    s = a.sum() + b.sum()
    return 1.0 if s == 0 else 2.0 * np.logical_and(a, b).sum() / s
