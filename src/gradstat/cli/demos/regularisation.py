"""Demo: a lasso path and its cross-validation on mtcars, and the bias–variance curves."""

from __future__ import annotations

import pathlib

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from gradstat.datasets import load
from gradstat.regularisation.bias_variance import FirstColumns, bias_variance_curve
from gradstat.regularisation.cv import LassoCV
from gradstat.regularisation.lasso import Lasso, lasso_path
from gradstat.regularisation.plots import plot_bias_variance, plot_coef_path, plot_cv_curve
from gradstat.regularisation.ridge import Ridge


def _save(fig: Figure, path: pathlib.Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"  saved {path}")


def run_demo(out_dir: pathlib.Path) -> None:
    """Print and plot the regularisation story; PNGs go to ``out_dir``."""
    matplotlib.use("Agg")  # files only: switched when the demo runs, never on import
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    # --- lasso on mtcars: mpg on the other ten columns, standardised ---------
    cars = load("mtcars")
    X = cars.drop(columns=["model", "mpg"])
    y = cars["mpg"]
    names = list(X.columns)
    alphas, coefs = lasso_path(X, y, fit_intercept=True, standardize=True, tol=1e-8)
    order = np.argmax(coefs != 0, axis=1)
    entered = [names[j] for j in np.argsort(np.where(coefs.any(axis=1), order, alphas.size))]
    print("Lasso path for mpg ~ . on mtcars (standardised predictors)")
    print(f"  alpha from {alphas[0]:.3g} down to {alphas[-1]:.3g}; order of entry: {entered}")
    fig = Figure(figsize=(8, 5))
    plot_coef_path(alphas, coefs, feature_names=names, ax=fig.add_subplot())
    _save(fig, out_dir / "lasso_path_mtcars.png")

    cv = LassoCV(cv=8, standardize=True, tol=1e-8).fit(X, y)
    chosen = Lasso(alpha=cv.alpha_1se_, standardize=True, tol=1e-8).fit(X, y)
    print(f"  8-fold CV: alpha_min = {cv.alpha_min_:.3g}, alpha_1se = {cv.alpha_1se_:.3g}")
    table = pd.DataFrame({"min": cv.coef_, "1se": chosen.coef_}, index=names).round(3)
    print(table[(table != 0).any(axis=1)].to_string())
    fig = Figure(figsize=(7, 4.5))
    plot_cv_curve(cv, ax=fig.add_subplot())
    _save(fig, out_dir / "lasso_cv_mtcars.png")

    # --- bias–variance, measured: the notes' many-versus-three predictors ---
    rng0 = np.random.default_rng(2026)
    n, p, sigma = 60, 30, 3.0
    beta = np.concatenate([[3.0, 2.0, 1.5], 0.35 * rng0.standard_normal(p - 3)])
    X_train = rng0.standard_normal((n, p))  # a fixed design; y is redrawn
    x0 = rng0.standard_normal((50, p))
    f0 = x0 @ beta

    def simulate(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return X_train, X_train @ beta + sigma * rng.standard_normal(n)

    by_k = bias_variance_curve(
        lambda k: FirstColumns(k), [1, 2, 3, 5, 10, 15, 20, 25, 30], simulate, x0, f0, sigma,
        n_rep=150, beta=beta, name="predictors",
    )
    by_alpha = bias_variance_curve(
        lambda a: Ridge(alpha=a), np.logspace(-1, 3, 9), simulate, x0, f0, sigma,
        n_rep=150, beta=beta, name="alpha",
    )
    cols = ["bias2", "variance", "mspe", "mspe_empirical", "mspe_empirical_se"]
    print("\nBias–variance by number of predictors (OLS on the first k), sigma² =", sigma**2)
    print(by_k[["predictors", *cols]].round(3).to_string(index=False))
    print("\nRidge on all 30 predictors: a little bias buys a large cut in variance")
    print(by_alpha[["alpha", *cols]].round(3).to_string(index=False))
    fig = Figure(figsize=(11, 4.5))
    plot_bias_variance(by_k, ax=fig.add_subplot(1, 2, 1))
    plot_bias_variance(by_alpha, ax=fig.add_subplot(1, 2, 2))
    _save(fig, out_dir / "bias_variance.png")
