"""Regression diagnostics as R's ``plot(lm)``: four panels that show where the model fails."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import stats

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from gradstat.linear.results import OLSResults


def plot_diagnostics(fit: OLSResults) -> Figure:
    """Residuals vs fitted, normal Q-Q, scale-location and residuals vs leverage (Cook's distance)."""
    from matplotlib.figure import Figure

    fitted = fit.fitted_values.to_numpy()
    resid = fit.resid.to_numpy()
    std_resid = fit.standardized_resid.to_numpy()
    leverage = fit.leverage.to_numpy()
    fig = Figure(figsize=(10, 8), layout="constrained")
    ax = fig.subplots(2, 2)

    ax[0, 0].scatter(fitted, resid, s=12, alpha=0.7)
    ax[0, 0].axhline(0.0, color="grey", linestyle="--", linewidth=1)
    ax[0, 0].set(title="Residuals vs Fitted", xlabel="fitted values", ylabel="residuals")

    theoretical = stats.norm.ppf((np.arange(1, len(resid) + 1) - 0.5) / len(resid))
    ax[0, 1].scatter(theoretical, np.sort(std_resid), s=12, alpha=0.7)
    lims = [theoretical.min(), theoretical.max()]
    ax[0, 1].plot(lims, lims, color="grey", linestyle="--", linewidth=1)
    ax[0, 1].set(title="Normal Q-Q", xlabel="theoretical quantiles", ylabel="standardized residuals")

    ax[1, 0].scatter(fitted, np.sqrt(np.abs(std_resid)), s=12, alpha=0.7)
    ax[1, 0].set(title="Scale-Location", xlabel="fitted values", ylabel="√|standardized residuals|")

    ax[1, 1].scatter(leverage, std_resid, s=12, alpha=0.7)
    h = np.linspace(max(leverage.min(), 1e-3), min(leverage.max() * 1.1, 0.999), 100)
    for d in (0.5, 1.0):  # contours of Cook's distance: r² = D · rank · (1 − h) / h
        r = np.sqrt(d * fit.rank * (1.0 - h) / h)
        ax[1, 1].plot(h, r, color="red", linestyle=":", linewidth=1)
        ax[1, 1].plot(h, -r, color="red", linestyle=":", linewidth=1)
    ax[1, 1].set_ylim(std_resid.min() * 1.2 - 0.5, std_resid.max() * 1.2 + 0.5)
    ax[1, 1].set(
        title="Residuals vs Leverage (Cook's D 0.5, 1)", xlabel="leverage", ylabel="standardized residuals"
    )
    labels = [str(v) for v in fit.design.row_labels]
    for panel, x, y, size in (
        (ax[0, 0], fitted, resid, np.abs(resid)),
        (ax[0, 1], None, None, np.abs(std_resid)),
        (ax[1, 0], fitted, np.sqrt(np.abs(std_resid)), np.abs(std_resid)),
        (ax[1, 1], leverage, std_resid, fit.cooks_distance.to_numpy()),
    ):
        _label_extremes(panel, x, y, size, labels, std_resid, theoretical)
    fig.suptitle(fit.design.formula)
    return fig


def _label_extremes(
    ax: Any,
    x: np.ndarray | None,
    y: np.ndarray | None,
    size: np.ndarray,
    labels: list[str],
    std_resid: np.ndarray,
    theoretical: np.ndarray,
) -> None:
    """Name the three most extreme rows, as R's plot(lm) does."""
    for i in np.argsort(size)[-3:]:
        if x is None or y is None:  # Q-Q panel: the row's place among the sorted residuals
            rank = int(np.searchsorted(np.sort(std_resid), std_resid[i]))
            point = (theoretical[rank], std_resid[i])
        else:
            point = (x[i], y[i])
        ax.annotate(labels[i], point, fontsize=8, xytext=(3, 3), textcoords="offset points")
