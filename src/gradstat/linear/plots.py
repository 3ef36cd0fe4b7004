"""Regression diagnostics as R's ``plot(lm)``: four panels that show where the model fails."""

from __future__ import annotations

from typing import TYPE_CHECKING

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
    fig.suptitle(fit.design.formula)
    return fig
