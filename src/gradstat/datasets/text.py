"""Bundled public-domain text for sequence models (see data/SOURCES.md)."""

from __future__ import annotations

import gzip
from importlib import resources

TEXTS = {"shakespeare": "shakespeare.txt.gz"}


def load_text(name: str = "shakespeare") -> str:
    """A bundled text corpus as one string.

    Parameters
    ----------
    name : str, default "shakespeare"
        The corpus. ``"shakespeare"``: the ten tragedies and Roman plays (≈1.2 M characters,
        65 distinct), speeches as ``Speaker:`` followed by the lines, stage directions dropped.

    Returns
    -------
    str
        The whole corpus, ASCII.

    Raises
    ------
    ValueError
        If ``name`` is not a bundled corpus.

    Examples
    --------
    >>> from gradstat.datasets import load_text
    >>> text = load_text("shakespeare")
    >>> len(set(text))
    65
    """
    if name not in TEXTS:
        raise ValueError(f"unknown text {name!r}; available: {sorted(TEXTS)}")
    data = resources.files("gradstat.datasets").joinpath("data", TEXTS[name]).read_bytes()
    return gzip.decompress(data).decode("ascii")
