"""Every prep step as a function, made from the library's step table.

    dcmprep.steps.spacing(image, (1, 1, 1), interp="cubic")
    dcmprep.steps.canonical(image)
    image2, label2 = dcmprep.steps.crop_foreground(image, label=label, margin=10)

A step named --crop-foreground is crop_foreground(image, value=None, *,
label=None, **settings): value as on the command line (str, number, or a
sequence joined with commas); settings are the table's settings with "_"
for "-" (interp, label_interp, fill, no_antialias=True, margin, mask,
window_out, seed, anisotropic=True).  Each returns a new volume, or
(image, label) when a label is given: exactly Pipeline([...])(image, label).
"""
from .pipeline import WORDS, Pipeline

__all__ = []


def _make(word, spec):
    arg, _, metavar, hlp = spec

    def step(image, value=None, *, label=None, **settings):
        p = Pipeline()
        for k, v in settings.items():
            name = k.replace("_", "-")
            if name not in WORDS or not WORDS[name][1]:
                raise TypeError(f"{word.replace('-', '_')}() got an unknown setting {k!r}")
            if WORDS[name][0] == 0:
                if v is not True:
                    raise TypeError(f"setting {k} is a flag: pass {k}=True")
                v = None
            p.add(name, v)
        if arg == 0 and value is not None:
            raise TypeError(f"--{word} takes no value")
        p.add(word, value)
        return p(image, label)

    step.__name__ = step.__qualname__ = word.replace("-", "_")
    value = f" {metavar}" if metavar else ""
    step.__doc__ = f"--{word}{value}: {hlp}\n\n(see dcmprep.steps for the arguments)"
    return step


for _word, _spec in WORDS.items():
    if not _spec[1]:
        globals()[_word.replace("-", "_")] = _make(_word, _spec)
        __all__.append(_word.replace("-", "_"))
