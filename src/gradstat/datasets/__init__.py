"""Bundled real data sets (offline); sources and licences in ``data/SOURCES.md``."""

from __future__ import annotations

from importlib import resources

import pandas as pd

from gradstat.datasets.images import ImageData, load_digits_images, load_idx, read_idx
from gradstat.datasets.text import load_text

_TABLES = {
    "mtcars": "mtcars.csv",
    "toothgrowth": "toothgrowth.csv",
    "prestige": "prestige.csv",
    "warpbreaks": "warpbreaks.csv",
}

# Factor levels in R's order, so the baseline (first level) matches R.
_FACTORS: dict[str, dict[str, list[str]]] = {
    "toothgrowth": {"supp": ["OJ", "VC"]},
    "prestige": {"type": ["bc", "prof", "wc"]},
    "warpbreaks": {"wool": ["A", "B"], "tension": ["L", "M", "H"]},
}


def names() -> list[str]:
    """The names of the bundled tables.

    Returns
    -------
    list of str
        Every name :func:`load` accepts, sorted.

    Examples
    --------
    >>> from gradstat import datasets
    >>> datasets.names()
    ['mtcars', 'prestige', 'toothgrowth', 'warpbreaks']
    """
    return sorted(_TABLES)


def load(name: str) -> pd.DataFrame:
    """Load a bundled table as a DataFrame.

    Factors arrive as categoricals with R's level order, so the baseline of their dummy coding
    (the first level) is the one R uses.

    Parameters
    ----------
    name : str
        One of :func:`names` (case does not matter): ``"mtcars"``, ``"prestige"``,
        ``"toothgrowth"`` or ``"warpbreaks"``.

    Returns
    -------
    pandas.DataFrame
        One row per observation, the columns as in R's data set of the same name.

    Raises
    ------
    TypeError
        If ``name`` is not a string.
    ValueError
        If ``name`` is not a bundled table (the message lists the available ones).

    Examples
    --------
    >>> from gradstat import datasets
    >>> cars = datasets.load("mtcars")
    >>> cars.shape
    (32, 12)
    >>> list(datasets.load("warpbreaks")["tension"].cat.categories)
    ['L', 'M', 'H']
    """
    if not isinstance(name, str):
        raise TypeError(f"data set name must be a string such as 'mtcars', got {type(name).__name__}")
    key = name.lower()
    if key not in _TABLES:
        raise ValueError(f"unknown data set {name!r}; available: {', '.join(names())}")
    with resources.files(__package__).joinpath("data", _TABLES[key]).open("r") as fh:
        frame = pd.read_csv(fh)
    for column, levels in _FACTORS.get(key, {}).items():
        frame[column] = pd.Categorical(frame[column], categories=levels)
    return frame


__all__ = ["ImageData", "load", "load_digits_images", "load_idx", "load_text", "names", "read_idx"]
