"""RML-LAMA: a rephrased, multilingual LAMA benchmark, and a toolkit that localizes the neurons holding facts."""
from __future__ import annotations

from ._version import __version__  # noqa: F401


def load(lang: str, split=None):
    """Load one language config (or "all") of the release shipped inside the package, as a `datasets` object.

    `split=None` gives a DatasetDict with "validation" and "test"; a split name gives that Dataset.
    """
    from .dataset.release import load as _load  # `import rml_lama` stays free of pandas and pyarrow

    return _load(lang, split=split)
