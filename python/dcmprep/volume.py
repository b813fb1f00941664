"""Volumes: voxel data in C memory, seen from numpy without copying.

Ownership: a Volume holds one reference to a _Handle, which owns the C
volume and frees it (dp_volume_free) when the last reference goes.  Every
array view holds a reference to the handle too, so a view stays valid after
its Volume is closed or garbage-collected; Volume.close() only drops the
Volume's own reference, after which using the Volume raises ValueError.
Views are read-only (the C buffer may be a read-only mapping of a file, and
volumes are never modified in place): np.array(v.array) gives a writable copy.
"""
import ctypes
import json
import os

import numpy as np

from . import _lib
from ._lib import lib, check

_DP_TO_NP = {}
_NP_TO_DP = {}
for _short, _np in (("u8", np.uint8), ("i16", np.int16), ("u16", np.uint16), ("i32", np.int32),
                    ("f32", np.float32), ("f64", np.float64)):
    _code = _lib.dtype_code(_short)
    _DP_TO_NP[_code] = np.dtype(_np)
    _NP_TO_DP[np.dtype(_np)] = _code

# lossless conversions for numpy types the library does not store
_WIDEN = {np.dtype(np.bool_): np.uint8, np.dtype(np.int8): np.int16,
          np.dtype(np.float16): np.float32}

_SIDECAR_ONLY = ("ConversionSoftware", "ConversionSoftwareVersion")


class _Handle:
    """Owns one C volume; frees it when garbage-collected."""

    __slots__ = ("ptr", "__weakref__")
    _free = lib.dp_volume_free  # kept on the class: usable during interpreter shutdown

    def __init__(self, ptr):
        self.ptr = ptr

    def __del__(self):
        p, self.ptr = self.ptr, None
        if p:
            self._free(p)


def name_of(path):
    """The name that keys a volume's random draws: the file or folder name
    without folders, trailing slashes and .nii/.nii.gz (dp_input_name, as
    dcmprep prep and augment)."""
    p = _lib.fspath(path)
    n = lib.dp_input_name(p, None, 0)
    buf = ctypes.create_string_buffer(n + 1)
    lib.dp_input_name(p, buf, n + 1)
    return os.fsdecode(buf.value)


class Volume:
    """An image or label volume: voxels (i, j, k[, t]), a RAS+ affine, metadata.

    Made by dcmprep.load, Volume.from_numpy, or a step or pipeline (which
    return new volumes and never modify their inputs).
    """

    def __init__(self, handle, name=None):
        if not isinstance(handle, _Handle):
            raise TypeError("use dcmprep.load() or Volume.from_numpy() to make a volume")
        self._h = handle
        self._array = None
        self.name = name  # keys Augment's draws (see dcmprep.Augment)

    @classmethod
    def _own(cls, ptr, name=None):
        return cls(_Handle(ptr.value if isinstance(ptr, ctypes.c_void_p) else ptr), name)

    def _ptr(self):
        h = self._h
        if h is None or not h.ptr:
            raise ValueError("the volume is closed")
        return h.ptr

    # ---- construction -------------------------------------------------------

    @classmethod
    def from_numpy(cls, array, affine=None, meta=None, name=None):
        """A new volume holding a copy of array, indexed (i, j, k) or (i, j, k, t)
        as nibabel's (1-D and 2-D arrays get unit axes).  affine: the 4x4
        voxel -> RAS+ mm matrix (None: identity).  dtypes u8, i16, u16, i32,
        f32, f64 are kept; bool, int8 and float16 are widened losslessly; other
        integers become int32 when every value fits; anything else is refused.
        meta: a dict of sidecar entries (e.g. another volume's .meta)."""
        arr = np.asarray(array)
        if arr.ndim == 0 or arr.ndim > 4:
            raise ValueError(f"dcmprep: need 1 to 4 dimensions, not {arr.ndim}")
        arr = _storable(arr)
        dims = list(arr.shape) + [1] * (4 - arr.ndim)
        strides = list(arr.strides) + [0] * (4 - arr.ndim)
        if arr.size == 0:
            raise ValueError(f"dcmprep: empty array of shape {arr.shape}")
        aff = np.eye(4) if affine is None else np.array(affine, dtype=np.float64)
        if aff.shape != (4, 4):
            raise ValueError(f"dcmprep: the affine must be 4x4, not {aff.shape}")
        aff = np.ascontiguousarray(aff)
        out = ctypes.c_void_p()
        check(lib.dp_volume_from_data((ctypes.c_int64 * 4)(*dims), _NP_TO_DP[arr.dtype],
                                      aff.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
                                      ctypes.c_void_p(arr.ctypes.data), (ctypes.c_int64 * 4)(*strides),
                                      ctypes.byref(out)))
        v = cls._own(out, name)
        if meta:
            for k, val in meta.items():
                if k not in _SIDECAR_ONLY:
                    v.set_meta(k, val)
        return v

    def copy(self):
        """A deep copy (data and metadata)."""
        out = ctypes.c_void_p()
        check(lib.dp_volume_copy(self._ptr(), ctypes.byref(out)))
        return Volume._own(out, self.name)

    # ---- geometry and data --------------------------------------------------

    def _dims(self):
        d = (ctypes.c_int64 * 4)()
        lib.dp_volume_dims(self._ptr(), d)
        return tuple(d)

    @property
    def shape(self):
        """(i, j, k), or (i, j, k, t) when there is more than one volume along t."""
        d = self._dims()
        return d if d[3] > 1 else d[:3]

    @property
    def dtype(self):
        return _DP_TO_NP[lib.dp_volume_dtype(self._ptr())]

    @property
    def affine(self):
        """4x4 float64 array mapping voxel (i, j, k, 1) to RAS+ mm (a copy)."""
        m = (ctypes.c_double * 16)()
        lib.dp_volume_affine(self._ptr(), m)
        return np.array(m, dtype=np.float64).reshape(4, 4)

    @property
    def spacing(self):
        """Voxel size in mm along i, j, k (column norms of the affine)."""
        s = (ctypes.c_double * 3)()
        lib.dp_volume_spacing(self._ptr(), s)
        return tuple(s)

    @property
    def axcodes(self):
        """Orientation code ("RAS", "LPS", ...), as nibabel's aff2axcodes."""
        code = ctypes.create_string_buffer(4)
        check(lib.dp_volume_axcodes(self._ptr(), code))
        return code.value.decode()

    @property
    def array(self):
        """Read-only numpy view of the voxels, indexed [i, j, k] (or [i, j, k, t]):
        nibabel's axis order (Fortran-ordered memory).  No copy; the view
        keeps the C memory alive."""
        if self._array is None:
            self._ptr()
            self._array = _view(self._h, self._dims(), self.dtype)
        return self._array

    @property
    def array_zyx(self):
        """The same voxels indexed [k, j, i] ([t, k, j, i]): SimpleITK's
        GetArrayViewFromImage order, C-contiguous.  No copy."""
        return self.array.T

    @property
    def nbytes(self):
        return int(lib.dp_volume_nbytes(self._ptr()))

    # ---- metadata ------------------------------------------------------------

    @property
    def meta(self):
        """The sidecar as a dict (a new dict each time; what save() writes)."""
        text = ctypes.c_void_p()
        check(lib.dp_sidecar_json(self._ptr(), ctypes.byref(text), None))
        return json.loads(_lib.take_text(text))

    def set_meta(self, key, value):
        """Sets a sidecar entry: str and numbers as such, anything else as JSON.
        Not to be called while another thread uses this volume."""
        k = key.encode()
        if isinstance(value, np.ndarray):
            value = value.tolist()
        elif isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, str):
            check(lib.dp_volume_meta_set_str(self._ptr(), k, value.encode()))
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and \
                (isinstance(value, float) or abs(value) < 2 ** 53):
            check(lib.dp_volume_meta_set_num(self._ptr(), k, float(value)))
        else:
            check(lib.dp_volume_meta_set_json(self._ptr(), k, json.dumps(value).encode()))

    def del_meta(self, key):
        lib.dp_volume_meta_remove(self._ptr(), key.encode())

    # ---- output ---------------------------------------------------------------

    def save(self, path, sidecar=True):
        """Writes NIfTI (.nii, or .nii.gz compressed) atomically, and with
        sidecar=True its JSON sidecar next to it (NAME.json), exactly as the
        dcmprep command line writes them.  If the sidecar fails the NIfTI is
        removed: never one without the other."""
        p = _lib.fspath(path)
        check(lib.dp_nifti_write(self._ptr(), p, None))
        if sidecar:
            side = ctypes.create_string_buffer(len(p) + 16)
            s = lib.dp_sidecar_path(p, side, len(side))
            if s == 0:
                s = lib.dp_sidecar_write(self._ptr(), side.value)
            if s != 0:
                e = _lib.error(s)
                try:
                    os.unlink(p)
                except OSError:
                    pass
                raise e

    # ---- lifetime ---------------------------------------------------------------

    def close(self):
        """Drops this Volume's hold on the C memory (freed once no view uses it)."""
        self._h = None
        self._array = None

    @property
    def closed(self):
        return self._h is None

    def __enter__(self):
        return self

    def __reduce__(self):
        # pickled as its data (multiprocessing, DataLoader workers with spawn)
        return (_rebuild, (np.array(self.array), self.affine, self.meta, self.name))

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        if self._h is None:
            return "<dcmprep.Volume closed>"
        sp = ", ".join(f"{s:.4g}" for s in self.spacing)
        return (f"<dcmprep.Volume {'x'.join(map(str, self.shape))} {self.dtype} {self.axcodes} "
                f"({sp}) mm{' ' + repr(self.name) if self.name else ''}>")


def _rebuild(array, affine, meta, name):
    return Volume.from_numpy(array, affine, meta=meta, name=name)


def _view(handle, dims, dtype):
    n = int(np.prod(dims)) * dtype.itemsize
    buf = (ctypes.c_char * n).from_address(lib.dp_volume_data(handle.ptr))
    buf._owner = handle  # the buffer, and so every view of it, keeps the volume
    arr = np.frombuffer(memoryview(buf).toreadonly(), dtype=dtype)
    shape = dims if dims[3] > 1 else dims[:3]
    return arr.reshape(shape, order="F")


def _storable(arr):
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    if arr.dtype in _NP_TO_DP:
        return arr
    if arr.dtype in _WIDEN:
        return arr.astype(_WIDEN[arr.dtype])
    if arr.dtype.kind in "iu":
        lo, hi = (int(arr.min()), int(arr.max())) if arr.size else (0, 0)
        if -2 ** 31 <= lo and hi < 2 ** 31:
            return arr.astype(np.int32)
        raise ValueError(f"dcmprep: {arr.dtype} values in [{lo}, {hi}] do not fit int32")
    raise TypeError(f"dcmprep: cannot store {arr.dtype} voxels (use u8, i16, u16, i32, f32 or f64)")
