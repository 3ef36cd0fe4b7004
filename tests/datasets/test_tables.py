"""Bundled tables load offline with their factors in R's level order."""

import pytest

from gradstat import datasets


def test_tables_have_known_shapes_and_levels():
    assert datasets.load("mtcars").shape == (32, 12)
    tooth = datasets.load("ToothGrowth")
    assert tooth.shape == (60, 3) and list(tooth["supp"].cat.categories) == ["OJ", "VC"]
    prestige = datasets.load("prestige")
    assert prestige.shape == (102, 7) and int(prestige["type"].isna().sum()) == 4
    assert list(datasets.load("warpbreaks")["tension"].cat.categories) == ["L", "M", "H"]


def test_unknown_name_lists_what_exists():
    with pytest.raises(ValueError, match=r"available: .*mtcars"):
        datasets.load("iris")
