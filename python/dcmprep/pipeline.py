"""Pipelines (the prep steps, from the same words as the command line) and
on-the-fly augmentation keyed by a counter-based generator."""
import ctypes
import re

from . import _lib
from ._lib import lib, check
from .volume import Volume


def _words():
    """The step table: {name: (arg, is_setting, metavar, help)}, in order."""
    out = {}
    i = 0
    while True:
        arg, setting = ctypes.c_int(), ctypes.c_int()
        metavar, hlp = ctypes.c_char_p(), ctypes.c_char_p()
        name = lib.dp_step_word(i, ctypes.byref(arg), ctypes.byref(setting), ctypes.byref(metavar),
                                ctypes.byref(hlp))
        if name is None:
            return out
        out[name.decode()] = (arg.value, bool(setting.value),
                              metavar.value.decode() if metavar.value else None, hlp.value.decode())
        i += 1


WORDS = _words()


def value_text(value):
    """A Python value as the text of a word's value: (1, 1, 1) -> "1,1,1"."""
    if isinstance(value, (list, tuple)):
        return ",".join(value_text(v) for v in value)
    if isinstance(value, bool):
        raise TypeError("dcmprep: a boolean is not a value (flags take no value)")
    return str(value)


def _parse_argv(words):
    """Command-line words ["--spacing", "1,1,1", "--canonical", "--fill=edge"]
    as (name, value) pairs, following the table: a word that needs a value
    takes the next item unless written NAME=VALUE; an optional value only with
    "="."""
    pairs, items, i = [], list(words), 0
    while i < len(items):
        w = items[i]
        if not isinstance(w, str) or not w.startswith("--"):
            raise _lib.InvalidArgument(f"expected a step or setting such as --spacing, not {w!r}",
                                       "DP_EINVAL", -1)
        name, eq, val = w[2:].partition("=")
        spec = WORDS.get(name)
        if spec is None:
            raise _lib.InvalidArgument(f"unknown step or setting '{name}'", "DP_EINVAL", -1)
        if not eq and spec[0] == 1:
            if i + 1 >= len(items):
                raise _lib.InvalidArgument(f"--{name} needs a value", "DP_EINVAL", -1)
            i += 1
            val = value_text(items[i])
        pairs.append((name, val if eq or spec[0] == 1 else None))
        i += 1
    return pairs


def hash_name(name):
    """The random key of a name (FNV-1a, dp_rng_hash_str); None hashes as ""."""
    return lib.dp_rng_hash_str((name or "").encode())


class Pipeline:
    """An ordered list of prep steps and settings, as in a pipeline file.

        p = dcmprep.Pipeline(["--canonical", "--spacing", "1,1,1", "--interp", "cubic"])
        p = dcmprep.Pipeline.from_file("ct.txt")
        image2, label2 = p(image, label)

    Calling it runs the steps on copies of the inputs (which are never
    modified) and gives what `dcmprep prep` gives for the same input and
    words, byte for byte; random steps draw as prep's: variant 0, keyed by
    the image's name (or key=; see Augment for per-sample variants).  threads: worker threads of the
    C work (0: the library default, DCMPREP_THREADS or all cores).  One
    pipeline may be called from several threads at once; add() is not to be
    called while it runs.
    """

    def __init__(self, words=(), threads=0):
        out = ctypes.c_void_p()
        check(lib.dp_pipeline_new(ctypes.byref(out)))
        self._p = out.value
        self.threads = int(threads)
        for name, val in _parse_argv(words):
            self.add(name, val)

    @classmethod
    def from_file(cls, path, threads=0):
        """A pipeline file: one word per line ("--spacing 1,1,1"), # comments."""
        p = cls(threads=threads)
        check(lib.dp_pipeline_load(p._p, _lib.fspath(path)))
        return p

    @classmethod
    def from_text(cls, text, origin="pipeline", threads=0):
        """The pipeline file format, from a string."""
        p = cls(threads=threads)
        check(lib.dp_pipeline_parse(p._p, text.encode(), origin.encode()))
        return p

    def add(self, name, value=None):
        """Appends one word (name with or without "--"; value: str, number or
        sequence; None for flags).  Returns self."""
        name = name[2:] if name.startswith("--") else name
        val = None if value is None else value_text(value)
        check(lib.dp_pipeline_add(self._ptr(), name.encode(), None if val is None else val.encode()))
        return self

    @property
    def text(self):
        """The canonical pipeline file text (parsing it gives this pipeline)."""
        return lib.dp_pipeline_text(self._ptr()).decode()

    @property
    def seed(self):
        """The seed of the random steps (the last --seed, default 0)."""
        found = re.findall(r"^--seed (\S+)$", self.text, re.M)
        return int(found[-1]) if found else 0

    def save(self, path):
        """Writes the canonical text to path (atomically)."""
        check(lib.dp_pipeline_save(self._ptr(), _lib.fspath(path)))

    def _ptr(self):
        if not self._p:
            raise ValueError("the pipeline is closed")
        return self._p

    def run(self, image, label=None, name_hash=0, variant=0):
        """The steps with an explicit random key: name_hash (dp_rng_hash_str
        of the name) and variant."""
        if not isinstance(image, Volume) or (label is not None and not isinstance(label, Volume)):
            raise TypeError("dcmprep: image and label must be dcmprep.Volume objects")
        hi, hl = image._h, label._h if label is not None else None  # alive during the call
        oi, ol = ctypes.c_void_p(), ctypes.c_void_p()
        check(lib.dp_pipeline_apply(self._ptr(), image._ptr(), label._ptr() if label is not None else None,
                                    name_hash, variant, self.threads, ctypes.byref(oi),
                                    ctypes.byref(ol) if label is not None else None))
        del hi, hl
        img = Volume._own(oi, image.name)
        return (img, Volume._own(ol, label.name)) if label is not None else img

    def __call__(self, image, label=None, key=None):
        return self.run(image, label, name_hash=hash_name(key if key is not None else getattr(image, "name", None)),
                        variant=0)

    def __reduce__(self):
        # pickled as its text (multiprocessing, spawned DataLoader workers)
        return (_from_text, (self.text, self.threads))

    _free = lib.dp_pipeline_free  # kept on the class: usable during interpreter shutdown

    def close(self):
        p, self._p = getattr(self, "_p", None), None
        if p:
            self._free(p)

    __del__ = close

    def __repr__(self):
        lines = [ln for ln in self.text.splitlines() if not ln.startswith("#")] if self._p else []
        return f"<dcmprep.Pipeline {' '.join(lines) if self._p else 'closed'}>"


def _from_text(text, threads):
    return Pipeline.from_text(text, threads=threads)


class Augment:
    """Random augmentation: variant `index` of a sample, drawn from a
    counter-based generator, so the result depends only on (seed, key,
    index) and never on the worker, process or thread computing it.

        aug = dcmprep.Augment(seed=7, steps=["--rand-flip=x", "--rand-rotate", "0,0,15@0.5",
                                             "--rand-zoom", "0.9,1.1"])
        img_k, lab_k = aug(image, label, index=k)

    steps: command-line words, pipeline file text lines, or a Pipeline.
    The key is the sample's name: key= when given, else image.name (for a
    loaded volume, the file or folder name without .nii/.nii.gz, the name
    `dcmprep augment` uses), else "".  aug(image, index=k) equals variant k of
    `dcmprep augment IMAGE --seed S STEPS` byte for byte.  The sidecar gets
    "Augment": {seed, variant, name, name_hash} as augment writes it
    (without "variants", a count Python does not have).
    """

    def __init__(self, steps=(), seed=None, threads=0):
        self.pipeline = steps if isinstance(steps, Pipeline) else Pipeline(steps, threads=threads)
        if isinstance(steps, Pipeline) and threads:
            self.pipeline.threads = int(threads)
        if seed is not None:
            self.pipeline.add("seed", int(seed))
        self.seed = self.pipeline.seed

    def __call__(self, image, label=None, index=0, key=None):
        if index < 0:
            raise ValueError(f"dcmprep: index {index} is negative")
        name = key if key is not None else (image.name or "")
        h = hash_name(name)
        out = self.pipeline.run(image, label, name_hash=h, variant=int(index))
        rec = {"seed": self.seed, "variant": int(index), "name": name, "name_hash": f"{h:016x}"}
        for v in out if label is not None else (out,):
            v.set_meta("Augment", rec)
        return out

    def __repr__(self):
        return f"<dcmprep.Augment seed={self.seed} {self.pipeline!r}>"
