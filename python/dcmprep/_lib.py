"""The shared library libdcmprep through ctypes: finding it, prototypes, errors.

ctypes.CDLL releases the GIL around every foreign call, so other Python
threads run while the library works.  Only the library's functions are
called, never its struct layouts: volumes, scan results and pipelines are
opaque pointers read through accessor functions.
"""
import ctypes
import os

_HERE = os.path.dirname(os.path.abspath(__file__))


def _candidates():
    env = os.environ.get("DCMPREP_LIBRARY")
    if env:
        return [env]  # an explicit choice: no fallback hides a wrong path
    out = []
    marker = os.path.join(_HERE, "_libpath.txt")  # written by CMake (build tree, install)
    if os.path.exists(marker):
        with open(marker) as f:
            p = f.read().strip()
        if p:
            out.append(p if os.path.isabs(p) else os.path.normpath(os.path.join(_HERE, p)))
    out.append("libdcmprep.so.0")  # the dynamic loader's search path
    return out


def _load():
    errors = []
    for path in _candidates():
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            errors.append(f"{path}: {e}")
    raise ImportError("dcmprep: cannot load libdcmprep (set DCMPREP_LIBRARY to its path): "
                      + "; ".join(errors))


lib, library_path = _load()

c_void_p, c_char_p, c_int, c_int64 = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_int64
c_uint64, c_size_t, c_double = ctypes.c_uint64, ctypes.c_size_t, ctypes.c_double
P = ctypes.POINTER

_PROTOTYPES = {
    # name: (restype, argtypes)
    "dp_version": (c_char_p, []),
    "dp_status_name": (c_char_p, [c_int]),
    "dp_status_str": (c_char_p, [c_int]),
    "dp_last_error": (c_char_p, []),
    "dp_clear_error": (None, []),
    "dp_free": (None, [c_void_p]),
    "dp_default_threads": (c_int, []),
    "dp_volume_bytes_in_use": (c_int64, []),
    "dp_dtype_parse": (c_int, [c_char_p, P(c_int)]),
    "dp_dtype_name": (c_char_p, [c_int]),
    "dp_dtype_size": (c_size_t, [c_int]),
    "dp_volume_free": (None, [c_void_p]),
    "dp_volume_copy": (c_int, [c_void_p, P(c_void_p)]),
    "dp_volume_data": (c_void_p, [c_void_p]),
    "dp_volume_dims": (None, [c_void_p, P(c_int64)]),
    "dp_volume_dtype": (c_int, [c_void_p]),
    "dp_volume_affine": (None, [c_void_p, P(c_double)]),
    "dp_volume_nbytes": (c_size_t, [c_void_p]),
    "dp_volume_spacing": (None, [c_void_p, P(c_double)]),
    "dp_volume_axcodes": (c_int, [c_void_p, c_char_p]),
    "dp_volume_from_data": (c_int, [P(c_int64), c_int, P(c_double), c_void_p, P(c_int64),
                                    P(c_void_p)]),
    "dp_volume_meta_set_str": (c_int, [c_void_p, c_char_p, c_char_p]),
    "dp_volume_meta_set_num": (c_int, [c_void_p, c_char_p, c_double]),
    "dp_volume_meta_set_json": (c_int, [c_void_p, c_char_p, c_char_p]),
    "dp_volume_meta_remove": (None, [c_void_p, c_char_p]),
    "dp_sidecar_json": (c_int, [c_void_p, P(c_void_p), P(c_size_t)]),
    "dp_sidecar_write": (c_int, [c_void_p, c_char_p]),
    "dp_sidecar_path": (c_int, [c_char_p, c_char_p, c_size_t]),
    "dp_nifti_write": (c_int, [c_void_p, c_char_p, c_void_p]),
    "dp_load_input": (c_int, [c_char_p, c_char_p, c_int, P(c_void_p)]),
    "dp_input_name": (c_size_t, [c_char_p, c_char_p, c_size_t]),
    "dp_dicom_scan": (c_int, [P(c_char_p), c_int, c_void_p, P(c_void_p)]),
    "dp_dicom_set_free": (None, [c_void_p]),
    "dp_dicom_set_json": (c_int, [c_void_p, P(c_void_p), P(c_size_t)]),
    "dp_step_word": (c_char_p, [c_int, P(c_int), P(c_int), P(c_char_p), P(c_char_p)]),
    "dp_pipeline_new": (c_int, [P(c_void_p)]),
    "dp_pipeline_free": (None, [c_void_p]),
    "dp_pipeline_add": (c_int, [c_void_p, c_char_p, c_char_p]),
    "dp_pipeline_parse": (c_int, [c_void_p, c_char_p, c_char_p]),
    "dp_pipeline_load": (c_int, [c_void_p, c_char_p]),
    "dp_pipeline_text": (c_char_p, [c_void_p]),
    "dp_pipeline_save": (c_int, [c_void_p, c_char_p]),
    "dp_pipeline_apply": (c_int, [c_void_p, c_void_p, c_void_p, c_uint64, c_uint64, c_int,
                                  P(c_void_p), P(c_void_p)]),
    "dp_rng_hash_str": (c_uint64, [c_char_p]),
}

for _name, (_res, _args) in _PROTOTYPES.items():
    _f = getattr(lib, _name)
    _f.restype = _res
    _f.argtypes = _args


class Error(Exception):
    """A failure reported by the library.

    str(e) is the library's message (naming the file, tag or value at fault);
    e.status is the status name ("DP_EFORMAT") and e.code its number.
    Failures of the kinds Python has classes for are also instances of them:
    ValueError (DP_EINVAL, DP_ERANGE), MemoryError (DP_ENOMEM), OSError
    (DP_EIO), FileNotFoundError (DP_ENOTFOUND).
    """

    def __init__(self, message, status="DP_EINTERNAL", code=-11):
        super().__init__(message)
        self.status = status
        self.code = code


class InvalidArgument(Error, ValueError):
    pass


class OutOfMemory(Error, MemoryError):
    pass


class IOFailure(Error, OSError):
    pass


class NotFound(Error, FileNotFoundError):
    pass


_CLASSES = {"DP_EINVAL": InvalidArgument, "DP_ERANGE": InvalidArgument, "DP_ENOMEM": OutOfMemory,
            "DP_EIO": IOFailure, "DP_ENOTFOUND": NotFound}


def error(status):
    """The exception for a failed call's status (read right after the call:
    the message is kept per thread)."""
    msg = lib.dp_last_error().decode("utf-8", "replace")
    name = lib.dp_status_name(status).decode()
    if not msg:
        msg = lib.dp_status_str(status).decode()
    return _CLASSES.get(name, Error)(msg, name, status)


def check(status):
    if status != 0:
        raise error(status)


def fspath(p):
    """A path argument as bytes for C (str, bytes or os.PathLike)."""
    p = os.fspath(p)
    return p if isinstance(p, bytes) else os.fsencode(p)


def take_text(ptr):
    """Text the library allocated (char *), decoded, then freed with dp_free."""
    try:
        return ctypes.string_at(ptr.value).decode("utf-8")
    finally:
        lib.dp_free(ptr)


def dtype_code(name):
    code = c_int(0)
    check(lib.dp_dtype_parse(name.encode(), ctypes.byref(code)))
    return code.value
