"""Plots: coefficient paths, the cross-validation curve, the bias–variance curve."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # matplotlib is imported when a plot is drawn, not with gradstat
    from matplotlib.axes import Axes


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.5))
    return fig.add_subplot()


def plot_coef_path(
    alphas: Any, coefs: Any, feature_names: Sequence[str] | None = None, ax: Axes | None = None
) -> Axes:
    """Coefficient paths: β̂_j(α) against log α, with the number of non-zero coefficients on a top axis.

    Parameters
    ----------
    alphas : array-like, shape (n_alphas,)
        The penalties.
    coefs : array-like, shape (n_features, n_alphas)
        The coefficients, as :func:`lasso_path` returns them.
    feature_names : sequence of str, optional
        Labels for the legend.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.axes.Axes
    """
    a = np.asarray(alphas, dtype=np.float64)
    c = np.asarray(coefs, dtype=np.float64)
    ax = _axes(ax)
    for j in range(c.shape[0]):
        label = feature_names[j] if feature_names is not None else None
        ax.plot(a, c[j], lw=1.2, label=label)
    ax.set_xscale("log")
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.set_xlabel("α (log scale)")
    ax.set_ylabel("coefficient")
    ax.invert_xaxis()  # strongest penalty on the left, as the path is traced
    nonzero = (c != 0).sum(axis=0)
    top = ax.twiny()
    top.set_xscale("log")
    top.set_xlim(ax.get_xlim())
    ticks = a[np.linspace(0, a.size - 1, min(6, a.size)).astype(int)]
    top.set_xticks(ticks)
    top.set_xticklabels([str(int(nonzero[np.argmin(np.abs(a - t))])) for t in ticks])
    top.set_xlabel("non-zero coefficients")
    if feature_names is not None:
        ax.legend(fontsize=7, ncol=2, loc="best")
    return ax


def plot_cv_curve(model: Any, ax: Axes | None = None) -> Axes:
    """Mean cross-validation error ± 1 SE against log α, marking the minimum and the 1-SE choice.

    Parameters
    ----------
    model : LassoCV, ElasticNetCV or RidgeCV
        A fitted cross-validated model.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.axes.Axes
    """
    alphas = np.asarray(model.alphas_, dtype=np.float64)
    if alphas.ndim == 2:  # several l1_ratio: show the chosen one
        alphas = alphas[list(np.atleast_1d(model.l1_ratio)).index(model.l1_ratio_)]
    ax = _axes(ax)
    ax.errorbar(alphas, model.cv_mean_, yerr=model.cv_se_, fmt="o-", ms=3, lw=1,
                capsize=2, color="C3", ecolor="0.6", label="CV mean squared error ± 1 SE")
    ax.axvline(model.alpha_min_, ls="--", color="C0", label=f"minimum: α = {model.alpha_min_:.3g}")
    ax.axvline(model.alpha_1se_, ls=":", color="C2", label=f"1-SE: α = {model.alpha_1se_:.3g}")
    ax.set_xscale("log")
    ax.set_xlabel("α (log scale)")
    ax.set_ylabel("cross-validated MSE")
    ax.legend(fontsize=8)
    return ax


def plot_bias_variance(
    curve: pd.DataFrame, name: str | None = None, log_x: bool | None = None, ax: Axes | None = None
) -> Axes:
    """Bias², variance and MSPE against the complexity parameter of :func:`bias_variance_curve`.

    The empirical MSPE is drawn with ± 2 SE bars: it should cover the sum.

    Parameters
    ----------
    curve : pandas.DataFrame
        What :func:`bias_variance_curve` returns.
    name : str, optional
        The column holding the complexity values; guessed from ``curve`` by default.
    log_x : bool, optional
        Log scale for the x axis; by default when the values span more than a factor of 100.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.axes.Axes
    """
    name = name if name is not None else str(curve.columns[0])
    x = curve[name].to_numpy(dtype=np.float64)
    ax = _axes(ax)
    ax.plot(x, curve["bias2"], "o-", label="bias²")
    ax.plot(x, curve["variance"], "s-", label="variance")
    ax.plot(x, curve["mspe"], "^-", label="MSPE = bias² + variance + σ²")
    ax.errorbar(x, curve["mspe_empirical"], yerr=2 * curve["mspe_empirical_se"], fmt="none",
                ecolor="k", capsize=3, label="measured MSPE ± 2 SE")
    ax.axhline(float(curve["noise"].iloc[0]), color="0.6", ls=":", label="σ² (irreducible)")
    if log_x if log_x is not None else bool((x > 0).all() and x.max() / x.min() > 50):
        ax.set_xscale("log")
    ax.set_xlabel(name)
    ax.set_ylabel("squared error")
    ax.legend(fontsize=8)
    return ax
