"""Complete and quasi-complete separation in binomial GLMs, found by a linear programme.

The maximum-likelihood estimate exists unless some direction b ≠ 0 has x'b ≥ 0 on every row
with yᵢ = 1, x'b ≤ 0 on every row with yᵢ = 0, x'b = 0 on rows with 0 < yᵢ < 1, and x'b ≠ 0
somewhere (Albert and Anderson 1984). Along such a b the likelihood rises for ever: the
coefficients in b diverge. Konis's linear programme finds it: maximise Σ sᵢ xᵢ'b over the box
|b_j| ≤ 1 under those constraints (sᵢ = +1 for yᵢ = 1, −1 for yᵢ = 0); a positive optimum is a
separating direction. Separation is *complete* when every row is strictly separated
(sᵢ xᵢ'b > 0), *quasi-complete* otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

from gradstat.linear.kernels import column_scale


@dataclass(frozen=True)
class Separation:
    """A separating direction: the columns it moves, and the rows it fits with probability 0 or 1."""

    complete: bool
    columns: list[str]
    rows: list[int]  # positions of the strictly separated rows

    @property
    def kind(self) -> str:
        return "complete" if self.complete else "quasi-complete"


_BOX = 1e6


class SeparationWarning(UserWarning):
    """The binomial MLE does not exist: some coefficients diverge (the message names them).

    Issued by :func:`glm` when a binomial fit is completely or quasi-completely separated: a
    direction b ≠ 0 has x'b ≥ 0 on every row with y = 1 and x'b ≤ 0 on every row with y = 0
    (Albert and Anderson 1984), found by a linear programme. Along b the likelihood rises
    for ever, so those coefficients, their standard errors and their tests are meaningless.
    R's ``glm`` warns only "fitted probabilities numerically 0 or 1 occurred"; this names the
    terms and the rows.

    Parameters
    ----------
    message : str
        Names the formula, the kind of separation, the terms and the separated rows.

    See Also
    --------
    LogisticRegression : an L2 penalty gives finite coefficients on separated data.

    Examples
    --------
    >>> import warnings
    >>> import pandas as pd
    >>> import gradstat
    >>> from gradstat.generalised import SeparationWarning
    >>> data = pd.DataFrame({"x": [1.0, 2, 3, 4, 5, 6], "y": [0, 0, 0, 1, 1, 1]})
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     fit = gradstat.glm("y ~ x", data, family="binomial")
    >>> [w.category is SeparationWarning for w in caught]
    [True]
    >>> str(caught[0].message)[:60]
    "'y ~ x': complete separation — a combination of ['Intercept'"
    """


def find_separation(X: np.ndarray, y: np.ndarray, w: np.ndarray, names: list[str]) -> Separation | None:
    """The separating direction of the module docstring, or None when the MLE exists.

    The programme finds the largest set of rows a single direction separates: maximise Σ uᵢ
    with 0 ≤ uᵢ ≤ min(1, sᵢ xᵢ'b), sᵢ xᵢ'b ≥ 0, xᵢ'b = 0 on the mixed rows and |b_j| ≤ 10⁶ on
    columns scaled to max |x| in [1/2, 1); a row with uᵢ = 1 is strictly separated.
    """
    rows = np.flatnonzero(w > 0)
    Xs = X[rows] * column_scale(X[rows])
    yr = y[rows]
    ones, zeros = yr >= 1.0, yr <= 0.0
    pure = ones | zeros
    signed = Xs[pure] * np.where(ones[pure], 1.0, -1.0)[:, None]
    m, k = signed.shape
    if m == 0:
        return None
    # variables (b, u): minimise −Σu; u − s x'b ≤ 0; −s x'b ≤ 0; mixed rows x'b = 0
    c = np.r_[np.zeros(k), -np.ones(m)]
    a_ub = np.block([[-signed, np.eye(m)], [-signed, np.zeros((m, m))]])
    mixed = Xs[~pure]
    a_eq = np.hstack([mixed, np.zeros((mixed.shape[0], m))]) if mixed.shape[0] else None
    result = linprog(
        c,
        A_ub=a_ub,
        b_ub=np.zeros(2 * m),
        A_eq=a_eq,
        b_eq=np.zeros(mixed.shape[0]) if mixed.shape[0] else None,
        bounds=[(-_BOX, _BOX)] * k + [(0.0, 1.0)] * m,
        method="highs",
    )
    if result.status != 0:
        return None
    u = result.x[k:]
    separated = u > 0.5
    if not separated.any():
        return None
    b = result.x[:k]
    moved = [names[j] for j in np.flatnonzero(np.abs(b) > 1e-9 * np.abs(b).max())]
    complete = bool(separated.all()) and mixed.shape[0] == 0
    return Separation(complete, moved, rows[np.flatnonzero(pure)[separated]].tolist())
