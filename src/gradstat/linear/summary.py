"""The printed summary of a fit, laid out as R's ``summary(lm)``; notebooks get HTML."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from gradstat.linear.results import LinearResults


def significance_stars(p: float) -> str:
    """R's codes: *** p < 0.001, ** < 0.01, * < 0.05, . < 0.1."""
    if not np.isfinite(p):
        return ""
    for cut, mark in ((0.001, "***"), (0.01, "**"), (0.05, "*"), (0.1, ".")):
        if p < cut:
            return mark
    return ""


class Summary:
    """``str(summary)`` is the text report; ``summary.coefficients`` the table as a DataFrame."""

    def __init__(self, fit: LinearResults, level: float = 0.95) -> None:
        self.fit = fit
        self.level = level
        self.coefficients = fit.coefficients(level)

    def _header(self) -> list[str]:
        fit = self.fit
        lines = [f"OLS regression: {fit.design.formula}"]
        dropped = f", {fit.n_dropped} row(s) with missing values dropped" if fit.n_dropped else ""
        lines.append(f"n = {fit.nobs} observations{dropped}; covariance: {fit.cov_type}")
        return lines

    def _residual_quantiles(self) -> str:
        from gradstat.linear.results import OLSResults

        if not isinstance(self.fit, OLSResults):
            return "(not kept by an out-of-core fit: refit in memory for the residuals)"
        q = np.quantile(self.fit.resid.to_numpy(), [0, 0.25, 0.5, 0.75, 1])
        table = pd.DataFrame([q], columns=["Min", "1Q", "Median", "3Q", "Max"])
        return table.to_string(index=False, float_format=lambda v: f"{v:.4g}")

    def _coef_table(self) -> str:
        table = self.coefficients.copy()
        table[""] = [significance_stars(p) for p in table["p_value"]]
        return table.to_string(
            float_format=lambda v: f"{v:.6g}",
            formatters={"p_value": format_p_value},
            na_rep="NaN",
        )

    def _footer(self) -> list[str]:
        fit = self.fit
        lines = []
        if fit.aliased:
            lines.append(
                f"Coefficients not defined because of singularities (aliased): {', '.join(fit.aliased)}"
            )
        lines.append(
            f"Residual standard error: {fit.sigma:.6g} on {fit.df_resid} degrees of freedom"
        )
        lines.append(f"R-squared: {fit.r_squared:.6g}, adjusted R-squared: {fit.adj_r_squared:.6g}")
        sol = fit.solution
        lines.append(
            f"Condition number (unit-norm columns): {sol.condition_number:.3g}; estimated correct digits: "
            f"{sol.correct_digits:.1f}" + (" (refined in double-double)" if sol.refined else "")
        )
        if fit.df_model:
            lines.append(
                f"F-statistic: {fit.f_statistic:.6g} on {fit.df_model} and {fit.df_resid} DF, "
                f"p-value: {format_p_value(fit.f_p_value)}"
            )
        return lines

    def __str__(self) -> str:
        parts = [
            *self._header(),
            "",
            "Residuals:",
            self._residual_quantiles(),
            "",
            f"Coefficients ({self.level:.0%} confidence interval):",
            self._coef_table(),
            "---",
            "Signif. codes: 0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1",
            "",
            *self._footer(),
        ]
        return "\n".join(parts)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        head = "<br>".join(html.escape(line) for line in self._header())
        foot = "<br>".join(html.escape(line) for line in self._footer())
        table = self.coefficients.to_html(float_format=lambda v: f"{v:.6g}")
        return f"<div><p>{head}</p>{table}<p>{foot}</p></div>"


def format_p_value(p: float) -> str:
    """A p-value as R prints it: three significant digits, ``< 2e-16`` below that."""
    if not np.isfinite(p):
        return "NaN"
    return "< 2e-16" if p < 2e-16 else f"{p:.3g}"
