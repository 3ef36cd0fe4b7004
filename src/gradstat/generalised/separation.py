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

from gradstat.linear.lstsq import column_scale


@dataclass(frozen=True)
class Separation:
    """A separating direction: the columns it moves, and the rows it fits with probability 0 or 1."""

    complete: bool
    columns: list[str]
    rows: list[int]  # positions of the strictly separated rows

    @property
    def kind(self) -> str:
        return "complete" if self.complete else "quasi-complete"


class SeparationWarning(UserWarning):
    """The binomial MLE does not exist: some coefficients diverge (the message names them)."""


def find_separation(X: np.ndarray, y: np.ndarray, w: np.ndarray, names: list[str]) -> Separation | None:
    """The separating direction of the module docstring, or None when the MLE exists."""
    rows = np.flatnonzero(w > 0)
    Xs = X[rows] * column_scale(X[rows])  # columns scaled to max |x| in [1/2, 1): a well-posed box
    yr = y[rows]
    ones, zeros = yr >= 1.0, yr <= 0.0
    mixed = ~(ones | zeros)
    sign = np.where(ones, 1.0, -1.0)
    signed = Xs * sign[:, None]
    pure = ~mixed
    result = linprog(
        -signed[pure].sum(axis=0),
        A_ub=-signed[pure],
        b_ub=np.zeros(int(pure.sum())),
        A_eq=Xs[mixed] if mixed.any() else None,
        b_eq=np.zeros(int(mixed.sum())) if mixed.any() else None,
        bounds=(-1.0, 1.0),
        method="highs",
    )
    if result.status != 0:
        return None
    margin = signed @ result.x
    scale = float(np.abs(Xs).sum(axis=1).max())
    tol = 1e-9 * max(scale, 1.0)
    if -result.fun <= tol:
        return None
    separated = pure & (margin > tol)
    moved = [names[j] for j in np.flatnonzero(np.abs(result.x) > 1e-9)]
    return Separation(bool(separated.all()), moved, rows[separated].tolist())
