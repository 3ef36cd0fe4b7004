"""Iteratively reweighted least squares: the maximum-likelihood fit of a GLM (R's ``glm.fit``).

From η = g(μ), each step solves the weighted least-squares problem

    z = η − offset + (y − μ) / (dμ/dη),    W = w (dμ/dη)² / V(μ),    β ← argmin Σ W (z − x'β)²

with the project's QR solver on the rows scaled by √W (:func:`gradstat.linear.lstsq.least_squares`;
no inverse of X'WX is ever formed). It is Fisher scoring, and Newton's method for a canonical
link. A step that gives a non-finite deviance or μ / η outside the family's range is halved
(R's rule). Convergence: the relative change in deviance |D − D_old| / (|D| + 0.1) < ``tol``
and the largest coefficient change max |Δβ| below 1e-11 max |β| or no smaller than the step
before (rounding level reached). R stops on the deviance alone, which leaves ~√tol relative
error in β for a non-canonical link. Fitted means at the edge of the family's range
(probabilities within 1e-10 of 0 or 1, counts' means below 1e-10: separation) stop IRLS on the
deviance alone, as R does, before the working weights underflow.

At convergence one more solve with the weights at β̂ gives (X'WX)⁻¹ at the estimate itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gradstat.generalised.families import Family, Link
from gradstat.linear.lstsq import LeastSquaresFit, least_squares

_MAX_HALVINGS = 30
COEF_TOL = 1e-11  # converged only when max |Δβ| <= COEF_TOL max |β| as well (or steps stop shrinking)


@dataclass(frozen=True)
class IRLSFit:
    """The fitted GLM: β̂ (NaN where aliased), η, μ, the IRLS weights and the final WLS solution."""

    coef: np.ndarray
    eta: np.ndarray
    mu: np.ndarray
    weights: np.ndarray  # working weights W at β̂
    deviance: float
    n_iter: int
    converged: bool
    deviance_change: float  # relative change in deviance at the last step
    solution: LeastSquaresFit  # WLS of z on X with weights W at β̂: cov_unscaled = (X'WX)⁻¹


def deviance(family: Family, y: np.ndarray, mu: np.ndarray, w: np.ndarray) -> float:
    """D = Σ wᵢ d(yᵢ, μᵢ)."""
    return float(np.sum(w * family.unit_deviance(y, mu)))


def _wls(
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    offset: np.ndarray,
    eta: np.ndarray,
    mu: np.ndarray,
    family: Family,
    link: Link,
) -> tuple[LeastSquaresFit, np.ndarray]:
    mu_eta = link.mu_eta(eta)
    z = eta - offset + (y - mu) / mu_eta  # working response
    W = w * mu_eta**2 / family.variance(mu)  # working weights
    W = np.where(w > 0, W, 0.0)
    root = np.sqrt(W)
    return least_squares(X * root[:, None], np.where(w > 0, z, 0.0) * root), W


def irls(
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    offset: np.ndarray,
    family: Family,
    link: Link,
    *,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> IRLSFit:
    """Fit by IRLS from R's starting values (see the module docstring).

    Overflow inside a step is not an error: the step's deviance is then not finite and the step is
    halved (R's rule).
    """
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _irls(X, y, w, offset, family, link, tol, max_iter)


def _irls(
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    offset: np.ndarray,
    family: Family,
    link: Link,
    tol: float,
    max_iter: int,
) -> IRLSFit:
    mu = family.start(y, w)
    eta = link.link(mu)
    dev_old = deviance(family, y, mu, w)
    beta_old: np.ndarray | None = None
    change = math.inf
    previous_step = math.inf
    converged = False
    iterations = 0
    for _ in range(max_iter):
        iterations += 1
        sol, _ = _wls(X, y, w, offset, eta, mu, family, link)
        beta = np.nan_to_num(sol.coef, nan=0.0)
        for _ in range(_MAX_HALVINGS + 1):
            eta_new = X @ beta + offset
            mu_new = link.inverse(eta_new)
            dev = deviance(family, y, mu_new, w) if family.valid_mu(mu_new) else math.nan
            if link.valid_eta(eta_new) and math.isfinite(dev):
                break
            if beta_old is None:
                raise FloatingPointError(
                    f"IRLS for the {family.name} family with the {link.name} link found no valid "
                    "first step (fitted means outside the family's range); the link may not suit "
                    "this response"
                )
            beta = (beta + beta_old) / 2.0  # step halving
        else:
            raise FloatingPointError(
                f"IRLS for the {family.name} family with the {link.name} link cannot keep the fitted "
                f"means in range after {_MAX_HALVINGS} step halvings"
            )
        change = abs(dev - dev_old) / (abs(dev) + 0.1)
        step = math.inf if beta_old is None else float(np.max(np.abs(beta - beta_old), initial=0.0))
        size = float(np.max(np.abs(beta), initial=0.0))
        eta, mu, dev_old, beta_old = eta_new, mu_new, dev, beta
        if change < tol and (step <= COEF_TOL * size or step >= previous_step or family.at_boundary(mu)):
            converged = True  # steps at the rounding level stop shrinking; or R's stop at the boundary
            break
        previous_step = step
    final, W = _wls(X, y, w, offset, eta, mu, family, link)
    coef = np.where(final.aliased, np.nan, beta_old if beta_old is not None else 0.0)
    return IRLSFit(coef, eta, mu, W, dev_old, iterations, converged, change, final)
