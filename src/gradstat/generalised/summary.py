"""The printed summary of a GLM, laid out as R's ``summary(glm)``; notebooks get HTML."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gradstat.linear.base import ResultsSummary

if TYPE_CHECKING:
    from gradstat.generalised.results import GLMResults


class GLMSummary(ResultsSummary):
    """``str(summary)`` is the text report; ``summary.coefficients`` the table as a DataFrame."""

    def __init__(self, fit: GLMResults, level: float = 0.95) -> None:
        super().__init__(fit.coefficients(level), level)
        self.fit = fit

    def header(self) -> list[str]:
        fit = self.fit
        lines = [f"GLM: {fit.design.formula}, family {fit.family.name}, link {fit.link.name}"]
        dropped = f", {fit.n_dropped} row(s) with missing values dropped" if fit.n_dropped else ""
        lines.append(f"n = {fit.nobs} observations{dropped}")
        return lines

    def footer(self) -> list[str]:
        fit = self.fit
        lines = []
        if fit.aliased:
            lines.append(
                f"Coefficients not defined because of singularities (aliased): {', '.join(fit.aliased)}"
            )
        if fit.family.fixed_dispersion:
            lines.append(f"(Dispersion parameter for {fit.family.name} family taken to be 1)")
        else:
            lines.append(
                f"(Dispersion parameter for {fit.family.name} family taken to be {fit.dispersion:.6g})"
            )
        lines.append("")
        lines.append(f"    Null deviance: {fit.null_deviance:.6g}  on {fit.df_null} degrees of freedom")
        lines.append(f"Residual deviance: {fit.deviance:.6g}  on {fit.df_resid} degrees of freedom")
        lines.append(f"AIC: {fit.aic:.6g}")
        lines.append("")
        status = "" if fit.converged else " (did not converge)"
        lines.append(f"Number of Fisher Scoring iterations: {fit.n_iter}{status}")
        lines.append("Confidence intervals are Wald intervals (R's confint.default), not profile likelihood.")
        return lines
