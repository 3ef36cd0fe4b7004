"""What every fitted model's results share: the coefficient table, Wald intervals and tests,
the log-likelihood criteria and the layout of the printed summary.

A subclass provides ``df_resid``, ``nobs`` and, for the information criteria, ``llf`` and
``df_llf``; it says whether its Wald tests use Student's t (``uses_t``: the dispersion is
estimated) or the normal distribution.
Conventions are R's: ``AIC = −2 llf + 2 df_llf`` and ``BIC = −2 llf + log(n) df_llf`` with
``df_llf`` the number of estimated parameters including the dispersion where it is estimated
(R's ``attr(logLik(fit), "df")``).
"""

from __future__ import annotations

import html
import math
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from gradstat.linear.summary import format_p_value, significance_stars


class ResultsBase:
    """Shared machinery of OLS and GLM results (see the module docstring)."""

    df_resid: Any
    nobs: int
    uses_t: bool = True

    def wald_p_values(self, statistic: pd.Series) -> pd.Series:
        """Two-sided p = 2 P(T > |t|), T ~ t(df_resid) when ``uses_t``, else N(0, 1)."""
        s = np.abs(statistic.to_numpy(dtype=np.float64))
        p = 2.0 * (stats.t.sf(s, self.df_resid) if self.uses_t else stats.norm.sf(s))
        return pd.Series(p, index=statistic.index, name="p_values")

    @staticmethod
    def wald_interval(coef: pd.Series, std_err: pd.Series, quantile: float) -> pd.DataFrame:
        """β̂ᵢ ± q · se(β̂ᵢ), columns ``lower`` and ``upper``."""
        return pd.DataFrame({"lower": coef - quantile * std_err, "upper": coef + quantile * std_err})

    @staticmethod
    def normal_quantile(level: float) -> float:
        """z(1 − α/2) for a two-sided interval of coverage ``level``."""
        if not 0.0 < level < 1.0:
            raise ValueError(f"level must be in (0, 1), got {level}")
        return float(stats.norm.ppf(0.5 + level / 2.0))

    @property
    def df_llf(self) -> int:
        """Number of estimated parameters the log-likelihood counts (R's ``attr(logLik, "df")``)."""
        raise NotImplementedError(f"{type(self).__name__} does not define df_llf")

    @property
    def llf(self) -> float:
        """The maximised log-likelihood ℓ(β̂)."""
        raise NotImplementedError(f"{type(self).__name__} does not define llf")

    @cached_property
    def aic(self) -> float:
        """AIC = −2 ℓ(β̂) + 2 df_llf (R's ``AIC``)."""
        return -2.0 * self.llf + 2.0 * self.df_llf

    @cached_property
    def bic(self) -> float:
        """BIC = −2 ℓ(β̂) + log(n) df_llf (R's ``BIC``)."""
        return -2.0 * self.llf + math.log(self.nobs) * self.df_llf


class ResultsSummary:
    """Summary layout shared by fits: header lines, the coefficient table with R's stars, footer lines.

    Subclasses fill ``header()`` and ``footer()``; ``coefficients`` is the table as a DataFrame
    whose ``p_value`` column drives the stars. ``str()`` is the text report; notebooks get HTML.
    """

    def __init__(self, coefficients: pd.DataFrame, level: float) -> None:
        self.coefficients = coefficients
        self.level = level

    def header(self) -> list[str]:
        return []

    def body(self) -> list[str]:
        """Lines between the header and the coefficient table."""
        return []

    def footer(self) -> list[str]:
        return []

    def coef_table(self) -> str:
        table = self.coefficients.copy()
        table[""] = [significance_stars(p) for p in table["p_value"]]
        return table.to_string(
            float_format=lambda v: f"{v:.6g}", formatters={"p_value": format_p_value}, na_rep="NaN"
        )

    def __str__(self) -> str:
        return "\n".join(
            [
                *self.header(),
                "",
                *self.body(),
                f"Coefficients ({self.level:.0%} confidence interval):",
                self.coef_table(),
                "---",
                "Signif. codes: 0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1",
                "",
                *self.footer(),
            ]
        )

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        head = "<br>".join(html.escape(line) for line in self.header())
        foot = "<br>".join(html.escape(line) for line in self.footer())
        table = self.coefficients.to_html(float_format=lambda v: f"{v:.6g}")
        return f"<div><p>{head}</p>{table}<p>{foot}</p></div>"
