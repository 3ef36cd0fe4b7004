"""``fit.explain("f_statistic")``: a statistic's formula, the numbers that make it, and its value.

    F = (SSR / df_model) / (SSE / df_resid) = (965.27 / 4) / (160.778 / 27) = 40.525

Numbers are printed to six significant digits (integers as they are); ``to_frame()`` gives every
ingredient at full precision with what it is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

if TYPE_CHECKING:
    from gradstat.linear.results import LinearResults


def number(value: float) -> str:
    """Six significant digits; integers without a decimal point."""
    if isinstance(value, int | np.integer):
        return str(int(value))
    return f"{float(value):.6g}"


@dataclass(frozen=True)
class Ingredient:
    symbol: str
    value: float
    meaning: str


@dataclass(frozen=True)
class Explanation:
    """One statistic: ``symbolic`` formula, the same with numbers (``substituted``), and the value."""

    statistic: str
    term: str | None
    symbolic: str
    substituted: str
    value: str
    ingredients: tuple[Ingredient, ...]

    def __str__(self) -> str:
        return f"{self.symbolic} = {self.substituted} = {self.value}"

    def __repr__(self) -> str:
        return str(self)

    def to_frame(self) -> pd.DataFrame:
        """The ingredients (symbol, value, meaning), one row each."""
        return pd.DataFrame(
            {"value": [i.value for i in self.ingredients], "meaning": [i.meaning for i in self.ingredients]},
            index=pd.Index([i.symbol for i in self.ingredients], name="symbol"),
        )


@dataclass(frozen=True)
class Explanations:
    """A per-term statistic explained for several terms (one line each)."""

    items: tuple[Explanation, ...]

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.items)

    def __repr__(self) -> str:
        return str(self)

    def to_frame(self) -> pd.DataFrame:
        frames = {e.term: e.to_frame() for e in self.items}
        return pd.concat(frames, names=["term"])


def _ing(symbol: str, value: float, meaning: str) -> Ingredient:
    return Ingredient(symbol, value, meaning)


def _overall(fit: LinearResults, statistic: str) -> Explanation:
    n, sse, ssr, sst = fit.nobs, fit.sse, fit.ssr, fit.sst
    dfm, dfr = fit.df_model, fit.df_resid
    weighted = " (weighted)" if fit.weights is not None else ""
    SSE = _ing("SSE", sse, f"residual sum of squares Σ(y − ŷ)²{weighted}")
    SSR = _ing("SSR", ssr, f"regression sum of squares Σ(ŷ − ȳ)²{weighted}")
    SST = _ing("SST", sst, f"total sum of squares Σ(y − ȳ)²{weighted}")
    DFR = _ing("df_resid", dfr, "residual degrees of freedom n − rank")
    DFM = _ing("df_model", dfm, "model degrees of freedom (slopes)")
    N = _ing("n", n, "observations")
    if statistic == "f_statistic":
        if fit.cov_type != "nonrobust":
            raise ValueError(
                f"with cov_type={fit.cov_type!r} the F statistic is a Wald test with the HC covariance; "
                "explain() covers the classical F (fit with cov_type='nonrobust')"
            )
        return Explanation(
            statistic,
            None,
            "F = (SSR / df_model) / (SSE / df_resid)",
            f"({number(ssr)} / {dfm}) / ({number(sse)} / {dfr})",
            number(fit.f_statistic),
            (SSR, DFM, SSE, DFR, _ing("F", fit.f_statistic, "F statistic")),
        )
    if statistic == "f_p_value":
        return Explanation(
            statistic,
            None,
            "p = P(F(df_model, df_resid) > F)",
            f"P(F({dfm}, {dfr}) > {number(fit.f_statistic)})",
            number(fit.f_p_value),
            (DFM, DFR, _ing("F", fit.f_statistic, "F statistic"), _ing("p", fit.f_p_value, "p-value")),
        )
    if statistic == "r_squared":
        return Explanation(
            statistic,
            None,
            "R² = SSR / SST",
            f"{number(ssr)} / {number(sst)}",
            number(fit.r_squared),
            (SSR, SST, _ing("R²", fit.r_squared, "share of SST explained")),
        )
    if statistic == "adj_r_squared":
        df_total = n - 1 if fit.has_intercept else n
        symbol = "n − 1" if fit.has_intercept else "n"
        return Explanation(
            statistic,
            None,
            f"R̄² = 1 − (1 − R²)({symbol}) / df_resid",
            f"1 − (1 − {number(fit.r_squared)}) × {df_total} / {dfr}",
            number(fit.adj_r_squared),
            (_ing("R²", fit.r_squared, "SSR / SST"), N, DFR, _ing("R̄²", fit.adj_r_squared, "adjusted R²")),
        )
    if statistic in ("sigma", "sigma2"):
        value = math.sqrt(fit.sigma2) if statistic == "sigma" else fit.sigma2
        symbolic = "σ̂ = √(SSE / df_resid)" if statistic == "sigma" else "σ̂² = SSE / df_resid"
        shown = f"√({number(sse)} / {dfr})" if statistic == "sigma" else f"{number(sse)} / {dfr}"
        return Explanation(
            statistic,
            None,
            symbolic,
            shown,
            number(value),
            (
                SSE,
                DFR,
                _ing(
                    symbolic[:3].strip(),
                    value,
                    "residual standard error" + ("" if statistic == "sigma" else " squared"),
                ),
            ),
        )
    if statistic in ("aic", "bic", "llf"):
        llf, k = fit.llf, fit.df_llf
        LLF = _ing("ℓ", llf, "log-likelihood at β̂ and σ̂²_ML = SSE / n")
        K = _ing("rank + 1", k, "parameters: coefficients and σ² (R's convention)")
        if statistic == "llf":
            return Explanation(
                statistic,
                None,
                "ℓ = −(n/2)(log 2π + 1 − log n + log SSE)" + (" + ½ Σ log wᵢ" if weighted else ""),
                f"-({n}/2) × (log 2π + 1 - log {n} + log {number(sse)})"
                + (" + ½ Σ log wᵢ" if weighted else ""),
                number(llf),
                (N, SSE, LLF),
            )
        if statistic == "aic":
            return Explanation(
                statistic,
                None,
                "AIC = −2ℓ + 2(rank + 1)",
                f"-2 × ({number(llf)}) + 2 × {k}",
                number(fit.aic),
                (LLF, K, _ing("AIC", fit.aic, "Akaike information criterion")),
            )
        return Explanation(
            statistic,
            None,
            "BIC = −2ℓ + log(n)(rank + 1)",
            f"-2 × ({number(llf)}) + log({n}) × {k}",
            number(fit.bic),
            (LLF, N, K, _ing("BIC", fit.bic, "Bayesian information criterion")),
        )
    raise KeyError(statistic)


def _per_term(fit: LinearResults, statistic: str, term: str, level: float) -> Explanation:
    j = list(fit.coef.index).index(term)
    b = float(fit.coef[term])
    se = float(fit.std_err[term])
    t = float(fit.t_values[term])
    dfr = fit.df_resid
    B = _ing(f"β̂[{term}]", b, "estimated coefficient")
    SE = _ing(f"se[{term}]", se, "its standard error")
    if statistic == "std_err":
        if fit.cov_type == "nonrobust":
            sigma = math.sqrt(fit.sigma2)
            c = float(fit.cov.to_numpy()[j, j]) / fit.sigma2
            return Explanation(
                statistic,
                term,
                f"se(β̂[{term}]) = σ̂ √[(X'X)⁻¹][{term}, {term}]",
                f"{number(sigma)} × √{number(c)}",
                number(se),
                (
                    _ing("σ̂", sigma, "residual standard error √(SSE / df_resid)"),
                    _ing(f"(X'X)⁻¹[{term}, {term}]", c, "diagonal of the unscaled covariance"),
                    SE,
                ),
            )
        v = float(fit.cov.to_numpy()[j, j])
        return Explanation(
            statistic,
            term,
            f"se(β̂[{term}]) = √cov_{fit.cov_type}[{term}, {term}]",
            f"√{number(v)}",
            number(se),
            (_ing(f"cov[{term}, {term}]", v, f"{fit.cov_type} sandwich covariance, diagonal"), SE),
        )
    if statistic == "t_values":
        return Explanation(
            statistic,
            term,
            f"t = β̂[{term}] / se(β̂[{term}])",
            f"{number(b)} / {number(se)}",
            number(t),
            (B, SE, _ing("t", t, "t statistic of H0: β = 0")),
        )
    if statistic == "p_values":
        p = float(fit.p_values[term])
        return Explanation(
            statistic,
            term,
            "p = 2 P(T(df_resid) > |t|)",
            f"2 × P(T({dfr}) > {number(abs(t))})",
            number(p),
            (
                _ing("t", t, "t statistic"),
                _ing("df_resid", dfr, "residual degrees of freedom"),
                _ing("p", p, "two-sided p-value"),
            ),
        )
    if statistic == "conf_int":
        q = float(stats.t.ppf(0.5 + level / 2.0, dfr))
        lower, upper = (float(v) for v in fit.conf_int(level).to_numpy()[j])
        return Explanation(
            statistic,
            term,
            f"β̂[{term}] ± t({1 - (1 - level) / 2:g}; df_resid) se(β̂[{term}])",
            f"{number(b)} ± {number(q)} × {number(se)}",
            f"[{number(lower)}, {number(upper)}]",
            (
                B,
                SE,
                _ing(f"t({1 - (1 - level) / 2:g}; {dfr})", q, "t quantile"),
                _ing("lower", lower, f"{level:.0%} interval"),
                _ing("upper", upper, f"{level:.0%} interval"),
            ),
        )
    raise KeyError(statistic)


OVERALL = ("f_statistic", "f_p_value", "r_squared", "adj_r_squared", "sigma", "sigma2", "llf", "aic", "bic")
PER_TERM = ("std_err", "t_values", "p_values", "conf_int")


def explain(
    fit: LinearResults, statistic: str, term: str | None = None, level: float = 0.95
) -> Explanation | Explanations:
    """The formula of ``statistic`` with its numbers; per-term statistics for ``term`` (or every term)."""
    if statistic in OVERALL:
        if term is not None:
            raise ValueError(f"{statistic!r} is a statistic of the whole fit; it takes no term")
        return _overall(fit, statistic)
    if statistic not in PER_TERM:
        raise ValueError(f"cannot explain {statistic!r}; choose one of {', '.join(OVERALL + PER_TERM)}")
    names = list(fit.coef.index)
    if term is None:
        kept = [n for n in names if np.isfinite(fit.coef[n])]
        return Explanations(tuple(_per_term(fit, statistic, n, level) for n in kept))
    if term not in names:
        raise ValueError(f"term {term!r} is not a coefficient; the coefficients are {names}")
    if not np.isfinite(fit.coef[term]):
        raise ValueError(f"{term!r} is aliased (not estimable): there is nothing to explain")
    return _per_term(fit, statistic, term, level)
