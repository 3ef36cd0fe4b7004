"""Plots draw what they claim; the demo and the benchmark's smoke mode run."""

import pathlib

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from gradstat.cli.demos.regularisation import run_demo
from gradstat.regularisation import (
    LassoCV,
    lasso_path,
    plot_bias_variance,
    plot_coef_path,
    plot_cv_curve,
)

ROOT = pathlib.Path(__file__).resolve().parents[2]


def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 5))
    return X, X[:, 0] * 2 - X[:, 1] + rng.standard_normal(40)


def test_coef_path_plot_has_a_line_per_feature_and_nonzero_counts_on_top():
    X, y = data()
    alphas, coefs = lasso_path(X, y, n_alphas=20)
    ax = plot_coef_path(alphas, coefs, feature_names=list("abcde"), ax=Figure().add_subplot())
    assert len(ax.get_lines()) == 5 + 1  # five paths and the zero line
    assert ax.get_xscale() == "log"
    top = next(a for a in ax.figure.axes if a is not ax)
    labels = [t.get_text() for t in top.get_xticklabels()]
    assert labels[0] == "0" and labels[-1] == str((coefs[:, -1] != 0).sum())


def test_cv_plot_marks_both_choices():
    X, y = data()
    model = LassoCV(cv=4, n_alphas=15).fit(X, y)
    ax = plot_cv_curve(model, ax=Figure().add_subplot())
    vlines = [line.get_xdata()[0] for line in ax.get_lines() if len(set(line.get_xdata())) == 1]
    assert model.alpha_min_ in vlines and model.alpha_1se_ in vlines


def test_bias_variance_plot_draws_the_three_curves():
    curve = pd.DataFrame({"k": [1, 2, 3], "bias2": [3.0, 1.0, 0.1], "variance": [0.1, 0.5, 1.0],
                          "noise": 1.0, "mspe": [4.1, 2.5, 2.1], "mspe_empirical": [4.0, 2.6, 2.0],
                          "mspe_empirical_se": 0.05})
    ax = plot_bias_variance(curve, ax=Figure().add_subplot())
    np.testing.assert_array_equal(ax.get_lines()[1].get_ydata(), curve["variance"])
    assert ax.get_xlabel() == "k" and ax.get_xscale() == "linear"


def test_demo_writes_its_plots(tmp_path, capsys):
    run_demo(tmp_path)
    for name in ("lasso_path_mtcars.png", "lasso_cv_mtcars.png", "bias_variance.png"):
        assert (tmp_path / name).stat().st_size > 10_000
    out = capsys.readouterr().out
    assert "order of entry: ['wt'" in out and "alpha_1se" in out
