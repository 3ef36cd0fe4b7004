"""Linear hypotheses about the coefficients: ``fit.f_test("hp = 0, wt = 2 * hp")`` and ``t_test``.

A hypothesis is a list of linear equations in the coefficient names, written as text, or a matrix
``L`` with right-hand side ``q`` (H0: Lβ = q).  The text is parsed with :mod:`ast` into ``L`` and
``q`` — nothing is evaluated — and refused with a clear error when an equation is not linear.

* Wald F-test of the whole set (J equations): F = (Lβ̂ − q)'(L cov(β̂) L')⁻¹(Lβ̂ − q) / J,
  F(J, df_resid) under H0 (with the classical covariance, the F of the restricted fit).
* t-test of each equation: t = (Lᵢβ̂ − qᵢ) / √(L cov(β̂) L')ᵢᵢ, t(df_resid) under H0.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

Hypothesis = str | tuple[Any, Any] | Any


@dataclass(frozen=True)
class LinearHypothesis:
    """H0: L β = q, one row of ``L`` per equation; ``labels`` the equations as written."""

    L: np.ndarray
    q: np.ndarray
    labels: list[str]


def _split_top_level(text: str) -> list[str]:
    """Split on commas outside brackets (so ``C(g, Sum)[S.a]`` stays whole)."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


class _Linear(ast.NodeVisitor):
    """An expression's linear form: ({coefficient index: factor}, constant)."""

    def __init__(self, placeholders: dict[str, int], equation: str) -> None:
        self.placeholders = placeholders
        self.equation = equation

    def fail(self, why: str) -> ValueError:
        return ValueError(f"hypothesis {self.equation!r}: {why}")

    def form(self, node: ast.AST) -> tuple[dict[int, float], float]:
        if isinstance(node, ast.Expression):
            return self.form(node.body)
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, int | float)
            and not isinstance(node.value, bool)
        ):
            return {}, float(node.value)
        if isinstance(node, ast.Name):
            if node.id not in self.placeholders:
                raise self.fail(f"{node.id!r} is not a coefficient name")
            return {self.placeholders[node.id]: 1.0}, 0.0
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            terms, const = self.form(node.operand)
            sign = -1.0 if isinstance(node.op, ast.USub) else 1.0
            return {k: sign * v for k, v in terms.items()}, sign * const
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
            a, ca = self.form(node.left)
            b, cb = self.form(node.right)
            sign = 1.0 if isinstance(node.op, ast.Add) else -1.0
            out = dict(a)
            for k, v in b.items():
                out[k] = out.get(k, 0.0) + sign * v
            return out, ca + sign * cb
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult | ast.Div):
            a, ca = self.form(node.left)
            b, cb = self.form(node.right)
            if isinstance(node.op, ast.Div):
                if b:
                    raise self.fail("division by a coefficient is not linear")
                if cb == 0:
                    raise self.fail("division by zero")
                return {k: v / cb for k, v in a.items()}, ca / cb
            if a and b:
                raise self.fail("a product of two coefficients is not linear")
            if b:
                a, ca, b, cb = b, cb, a, ca
            return {k: v * cb for k, v in a.items()}, ca * cb
        raise self.fail(
            f"only numbers, coefficient names, +, -, * and / are allowed, not a {type(node).__name__}"
        )


def parse_hypothesis(text: str, names: list[str]) -> LinearHypothesis:
    """``"hp = 0, wt = 2 * hp"`` → L, q over the coefficients ``names`` (no ``=`` means ``= 0``)."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"hypothesis must be a non-empty string such as 'x1 = 0, x2 = 2 * x1'; got {text!r}")
    # coefficient names such as C(cyl)[T.6] are not Python identifiers: swap them for placeholders,
    # longest first so that a name inside another is not replaced first
    placeholders: dict[str, int] = {}
    order = sorted(range(len(names)), key=lambda j: -len(names[j]))
    rows, rhs, labels = [], [], []
    for equation in _split_top_level(text):
        sides = re.split(r"(?<![<>=!])=(?!=)", equation)
        if len(sides) > 2:
            raise ValueError(f"hypothesis {equation!r} has more than one '='")
        left, right = (sides[0], sides[1]) if len(sides) == 2 else (sides[0], "0")
        expression = f"({left}) - ({right})"
        for j in order:
            token = f"_b{j}_"
            pattern = r"(?<![\w.\[\]])" + re.escape(names[j]) + r"(?![\w\[(])"
            expression, count = re.subn(pattern, token, expression)
            if count:
                placeholders[token] = j
        try:
            tree = ast.parse(expression.strip(), mode="eval")
        except SyntaxError as exc:
            raise ValueError(
                f"cannot parse hypothesis {equation!r}: use coefficient names {names}, numbers, +, -, *, /"
            ) from exc
        terms, const = _Linear(placeholders, equation.strip()).form(tree)
        row = np.zeros(len(names))
        for j, v in terms.items():
            row[j] += v
        if not row.any():
            raise ValueError(f"hypothesis {equation.strip()!r} involves no coefficient")
        rows.append(row)
        rhs.append(-const)
        labels.append(equation.strip())
    return LinearHypothesis(np.array(rows), np.array(rhs), labels)


def as_hypothesis(hypothesis: Hypothesis, names: list[str], q: Any = None) -> LinearHypothesis:
    """Text, or a matrix ``L`` (J, k) with ``q`` (J,) (default 0)."""
    if isinstance(hypothesis, str):
        if q is not None:
            raise ValueError("q is given by the text of the hypothesis; pass q only with a matrix L")
        return parse_hypothesis(hypothesis, names)
    L = np.atleast_2d(np.asarray(hypothesis, dtype=np.float64))
    if L.ndim != 2 or L.shape[1] != len(names):
        raise ValueError(
            f"L must have shape (J, {len(names)}), a column per coefficient {names}; got {L.shape}"
        )
    rhs = np.zeros(L.shape[0]) if q is None else np.asarray(q, dtype=np.float64).reshape(-1)
    if rhs.shape != (L.shape[0],):
        raise ValueError(f"q must have {L.shape[0]} values (one per row of L); got shape {rhs.shape}")
    labels = [
        " + ".join(f"{v:g}*{n}" for v, n in zip(row, names, strict=True) if v) + f" = {c:g}"
        for row, c in zip(L, rhs, strict=True)
    ]
    return LinearHypothesis(L, rhs, labels)


@dataclass(frozen=True)
class FTestResult:
    """The Wald F-test of H0: Lβ = q (all equations at once)."""

    statistic: float
    df_num: int
    df_denom: int
    p_value: float
    hypotheses: list[str]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "F": [self.statistic],
                "df_num": [self.df_num],
                "df_denom": [self.df_denom],
                "p_value": [self.p_value],
            },
            index=["; ".join(self.hypotheses)],
        )

    def __repr__(self) -> str:
        return (
            f"<F test of {'; '.join(self.hypotheses)}: F = {self.statistic:.6g} on {self.df_num} and "
            f"{self.df_denom} DF, p = {self.p_value:.4g}>"
        )


@dataclass(frozen=True)
class TTestResult:
    """One t-test per equation: the estimate Lᵢβ̂, its standard error, t, p and the interval."""

    table: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def __repr__(self) -> str:
        return self.table.to_string(float_format=lambda v: f"{v:.6g}")


def _estimate(
    h: LinearHypothesis, coef: np.ndarray, cov: np.ndarray, names: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    used = np.flatnonzero((h.L != 0).any(axis=0))
    bad = [names[j] for j in used if not np.isfinite(coef[j])]
    if bad:
        raise ValueError(f"the hypothesis involves aliased coefficient(s) {bad}, which are not estimable")
    L = h.L[:, used]
    return L @ coef[used], L @ cov[np.ix_(used, used)] @ L.T


def f_test(
    h: LinearHypothesis, coef: np.ndarray, cov: np.ndarray, names: list[str], df_resid: int
) -> FTestResult:
    estimate, v = _estimate(h, coef, cov, names)
    if np.linalg.matrix_rank(v) < v.shape[0]:
        raise ValueError(f"the equations {h.labels} are linearly dependent; drop the redundant ones")
    d = estimate - h.q
    f = float(d @ np.linalg.solve(v, d)) / len(d)
    return FTestResult(f, len(d), df_resid, float(stats.f.sf(f, len(d), df_resid)), h.labels)


def t_test(
    h: LinearHypothesis, coef: np.ndarray, cov: np.ndarray, names: list[str], df_resid: int, level: float
) -> TTestResult:
    estimate, v = _estimate(h, coef, cov, names)
    se = np.sqrt(np.diag(v))
    t = (estimate - h.q) / se
    quantile = float(stats.t.ppf(0.5 + level / 2.0, df_resid))
    table = pd.DataFrame(
        {
            "estimate": estimate,
            "std_err": se,
            "t": t,
            "p_value": 2.0 * stats.t.sf(np.abs(t), df_resid),
            "lower": estimate - quantile * se,
            "upper": estimate + quantile * se,
        },
        index=pd.Index(h.labels, name="hypothesis"),
    )
    return TTestResult(table)
