"""Plain terms written straight from the columns (plain_design) give formulaic's design to the bit,
and the fits statsmodels gives (coefficients at 1e-10)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

import gradstat
from gradstat.linear import design as design_module
from gradstat.linear.design import build_design
from gradstat.linear.results import CollinearityWarning

N = 400
RARE = [3, 150, 377]  # the rows of the rare level "d"


def frame(kind: str, *, nan_rows: tuple[int, ...] = ()) -> pd.DataFrame:
    """x1, x2 normal, g of levels a, b, c and a rare d (3 rows) as ``kind``, y depending on all."""
    rng = np.random.default_rng(7)
    labels = rng.choice(np.array(["a", "b", "c"], dtype=object), size=N)
    labels[RARE] = "d"
    x1, x2 = rng.standard_normal(N), rng.standard_normal(N)
    effect = pd.Series(labels).map({"a": 0.0, "b": 1.5, "c": -2.0, "d": 4.0}).to_numpy()
    y = 1.0 + 2.0 * x1 - 0.5 * x2 + effect + 0.3 * rng.standard_normal(N)
    g: object
    if kind == "text":
        g = pd.array(labels, dtype="str")
    elif kind == "categorical":  # declared levels out of sorted order, and one no row holds
        g = pd.Categorical(labels, categories=["c", "a", "e", "d", "b"])
    else:
        g = labels
    data = pd.DataFrame({"x1": x1, "x2": x2, "g": g, "y": y})
    if nan_rows:
        data.loc[list(nan_rows), "g"] = None
    return data


CASES = [
    ("text", "y ~ x1 + x2 + g", {}),
    ("text", "y ~ x1 + C(g) + x2", {}),
    ("text", "y ~ x1 + g - 1", {}),
    ("text", "y ~ C(g, Treatment(reference='c')) + x1", {}),
    ("text", "y ~ x1 + C(g)", {"missing": "drop", "nan_rows": (0, 5, 150)}),
    ("categorical", "y ~ x1 + x2 + g", {}),
    ("categorical", "y ~ x1 + C(g, Treatment(reference='b'))", {}),
    ("categorical", "y ~ x1 + C(g)", {"missing": "drop", "nan_rows": (2, 377)}),
]


def general_design(formula: str, data: pd.DataFrame, monkeypatch: pytest.MonkeyPatch, **kw: str):
    """build_design on formulaic's general path (the plain one switched off)."""
    with monkeypatch.context() as patch:
        patch.setattr(design_module, "plain_design", lambda *args: None)
        return build_design(formula, data, **kw)


@pytest.mark.parametrize(("kind", "formula", "options"), CASES)
def test_plain_design_is_formulaics(kind: str, formula: str, options: dict, monkeypatch) -> None:
    data = frame(kind, nan_rows=options.get("nan_rows", ()))
    missing = options.get("missing", "raise")
    taken = []
    real = design_module.plain_design

    def spy(*args):
        taken.append(result := real(*args))
        return result

    monkeypatch.setattr(design_module, "plain_design", spy)
    fast = build_design(formula, data, missing=missing)
    assert taken and taken[0] is not None, "the plain path was not taken"
    slow = general_design(formula, data, monkeypatch, missing=missing)
    assert fast.column_names == slow.column_names
    assert fast.terms == slow.terms
    assert fast.n_dropped == slow.n_dropped == len(options.get("nan_rows", ()))
    assert fast.row_labels.equals(slow.row_labels)
    assert fast.X.dtype == slow.X.dtype and fast.X.flags.f_contiguous == slow.X.flags.f_contiguous
    np.testing.assert_array_equal(fast.X, slow.X)
    np.testing.assert_array_equal(fast.y, slow.y)
    assert fast.spec.encoder_state == slow.spec.encoder_state
    # the rare level has its own column, with ones on exactly its rows
    rare = [j for j, name in enumerate(fast.column_names) if name.endswith("d]")]
    assert len(rare) == 1
    assert sorted(fast.row_labels[fast.X[:, rare[0]] == 1.0]) == sorted(
        set(RARE) - set(options.get("nan_rows", ()))
    )


@pytest.mark.parametrize(("kind", "formula", "options"), CASES)
def test_plain_design_fit_is_statsmodels(kind: str, formula: str, options: dict) -> None:
    data = frame(kind, nan_rows=options.get("nan_rows", ()))
    missing = options.get("missing", "raise")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CollinearityWarning)  # the declared level no row holds
        fit = gradstat.ols(formula, data, missing=missing)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels' rank-deficient warning for that level
        theirs = smf.ols(
            formula, data.astype({"g": object}) if kind == "text" else data, missing="drop"
        ).fit()
    kept = fit.coef.dropna()
    aliased = fit.coef.index[fit.coef.isna()]
    unobserved = [name for name in fit.coef.index if name.endswith("[T.e]")]  # its column is all zeros
    assert list(aliased) == unobserved and len(unobserved) == (kind == "categorical")
    theirs_kept = theirs.params[kept.index]
    np.testing.assert_allclose(kept.to_numpy(), theirs_kept.to_numpy(), rtol=1e-10, atol=1e-10)
    assert fit.nobs == int(theirs.nobs)


def test_unobserved_declared_level_is_a_zero_column() -> None:
    data = frame("categorical")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CollinearityWarning)
        design = build_design("y ~ x1 + C(g)", data)
    assert design.column_names == ["Intercept", "x1", "C(g)[T.a]", "C(g)[T.e]", "C(g)[T.d]", "C(g)[T.b]"]
    assert not design.X[:, 3].any()


def test_interactions_and_transforms_take_the_general_path(monkeypatch) -> None:
    data = frame("text")
    taken = []
    real = design_module.plain_design

    def spy(*args):
        taken.append(result := real(*args))
        return result

    monkeypatch.setattr(design_module, "plain_design", spy)
    for formula in (
        "y ~ x1:g",
        "y ~ x1 * g",
        "y ~ I(x1 ** 2) + g",
        "y ~ C(g, Sum) + x1",
        "y ~ np.log(x2 ** 2) + g",
    ):
        fast = build_design(formula, data)
        assert taken.pop() is None, formula
        slow = general_design(formula, data, monkeypatch)
        np.testing.assert_array_equal(fast.X, slow.X)


def test_levels_in_another_order_are_another_model(monkeypatch) -> None:
    """An unordered Categorical's dtype equals one of the same levels in any order; the design does not."""
    data = frame("categorical")
    for order in (["c", "a", "e", "d", "b"], ["a", "b", "c", "d", "e"], ["e", "d", "c", "b", "a"]):
        data["g"] = data["g"].cat.reorder_categories(order)
        fast = build_design("y ~ x1 + g", data)
        slow = general_design("y ~ x1 + g", data, monkeypatch)
        assert (
            fast.column_names == slow.column_names == ["Intercept", "x1", *(f"g[T.{v}]" for v in order[1:])]
        )
        np.testing.assert_array_equal(fast.X, slow.X)
