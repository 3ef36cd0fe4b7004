"""The bias–variance decomposition, measured by simulation (notes DL4).

A simulation knows its truth y = f(x) + ε, ε ~ N(0, σ²).  Refitting on R
fresh training sets gives predictions f̂_r(x₀) at test points x₀ and

    Bias²(x₀) = (mean_r f̂_r(x₀) − f(x₀))²,   Var(x₀) = mean_r (f̂_r(x₀) − mean f̂(x₀))²,
    MSPE(x₀)  = Bias² + Var + σ²,

which must agree, within Monte-Carlo error, with the directly measured
mean_r (f̂_r(x₀) − y₀ᵣ)² against fresh responses y₀ᵣ = f(x₀) + σε.
With the true coefficients β also MSE(β̂) = E‖β̂ − β‖².
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
import pandas as pd

from gradstat.estimator import Estimator, RegressorMixin, clone
from gradstat.regularisation._validation import check_seed
from gradstat.regularisation.ridge import Ridge
from gradstat.validation import Array, check_X

Simulate = Callable[[np.random.Generator], tuple[Any, Any]]


@dataclass(frozen=True)
class BiasVariance:
    """The decomposition MSPE = Bias² + Var + σ², averaged over the test points; what
    :func:`bias_variance` returns.

    Parameters
    ----------
    bias2 : float
        Mean over test points of (E f̂(x₀) − f(x₀))².
    variance : float
        Mean over test points of Var f̂(x₀) (divisor R, the number of replications).
    noise : float
        σ².
    mspe : float
        bias2 + variance + noise.
    mspe_empirical : float
        Mean squared error against fresh noisy responses, measured directly.
    mspe_empirical_se : float
        Its standard error over replications (``mspe_empirical`` ± 2 SE should cover ``mspe``).
    mse_beta, mse_beta_se : float or None
        E‖β̂ − β‖² and its SE, when the true β was given.
    per_point : pandas.DataFrame
        Each test point's terms.
    n_rep : int
        Replications.
    """

    bias2: float
    variance: float
    noise: float
    mspe: float  # bias2 + variance + noise
    mspe_empirical: float
    mspe_empirical_se: float
    mse_beta: float | None
    mse_beta_se: float | None
    per_point: pd.DataFrame
    n_rep: int


def bias_variance(
    make_estimator: Callable[[], Any],
    simulate: Simulate,
    x0: Any,
    f0: Any,
    sigma: float,
    n_rep: int = 200,
    seed: int = 0,
    beta: Any = None,
) -> BiasVariance:
    """Measure the bias–variance decomposition of an estimator by simulation.

    Refits ``make_estimator()`` on ``n_rep`` data sets drawn by ``simulate(rng)`` and predicts at
    the test points: MSPE(x₀) = Bias² + Var + σ², with Bias² and Var averaged over the points.
    Variances use divisor R, so Bias² + Var is exactly the mean squared deviation from f(x₀).

    Parameters
    ----------
    make_estimator : callable
        No arguments; returns an unfitted estimator with ``fit`` and ``predict``.
    simulate : callable
        ``simulate(rng) -> (X, y)``, one training set drawn with the NumPy generator ``rng``.
    x0 : array-like, shape (m, p)
        Test points.
    f0 : array-like, shape (m,)
        True means f(x₀) at the test points.
    sigma : float
        Noise standard deviation σ ≥ 0.
    n_rep : int, default 200
        Replications (at least 2).
    seed : int, default 0
        Seed of the generator passed to ``simulate``.
    beta : array-like, optional
        The true coefficients, to report E‖β̂ − β‖² as well.

    Returns
    -------
    BiasVariance
        The averaged terms and the per-point table.

    Raises
    ------
    ValueError
        If ``f0`` and ``x0`` disagree in length, ``sigma`` is negative or ``n_rep`` < 2.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat import OLS, bias_variance
    >>> beta = np.array([1.0, -1.0])
    >>> def simulate(rng):
    ...     X = rng.normal(size=(30, 2))
    ...     return X, X @ beta + rng.normal(size=30)
    >>> x0 = np.array([[0.5, 0.5], [1.0, -1.0]])
    >>> result = bias_variance(OLS, simulate, x0, x0 @ beta, sigma=1.0, n_rep=100)
    >>> result.noise, bool(result.bias2 < 0.01)     # least squares is unbiased
    (1.0, True)
    """
    X0 = check_X(x0, name="x0")
    truth = np.asarray(f0, dtype=np.float64).ravel()
    if truth.shape[0] != X0.shape[0]:
        raise ValueError(f"f0 has {truth.shape[0]} values but x0 has {X0.shape[0]} rows")
    if not (np.isfinite(sigma) and sigma >= 0):
        raise ValueError(f"sigma must be a finite SD >= 0; got {sigma!r}")
    if isinstance(n_rep, bool) or not isinstance(n_rep, int) or n_rep < 2:
        raise ValueError(f"n_rep must be an integer >= 2; got {n_rep!r}")
    true_beta = None if beta is None else np.asarray(beta, dtype=np.float64).ravel()
    rng = np.random.default_rng(check_seed(seed))
    preds = np.empty((n_rep, X0.shape[0]))
    sq_err = np.empty((n_rep, X0.shape[0]))
    beta_err = np.empty(n_rep)
    for r in range(n_rep):
        X, y = simulate(rng)
        est = make_estimator().fit(X, y)
        preds[r] = est.predict(X0)
        y0 = truth + sigma * rng.standard_normal(truth.shape[0])
        sq_err[r] = (preds[r] - y0) ** 2
        if true_beta is not None:
            coef = np.ravel(est.coef_)
            if coef.shape != true_beta.shape:
                raise ValueError(
                    f"estimator coef_ has shape {coef.shape} but beta has {true_beta.shape}"
                )
            beta_err[r] = float(np.sum((coef - true_beta) ** 2))
    mean_pred = preds.mean(axis=0)
    bias2 = (mean_pred - truth) ** 2
    variance = preds.var(axis=0)
    noise = float(sigma) ** 2
    per_point = pd.DataFrame(
        {
            "f0": truth,
            "mean_prediction": mean_pred,
            "bias2": bias2,
            "variance": variance,
            "noise": noise,
            "mspe": bias2 + variance + noise,
            "mspe_empirical": sq_err.mean(axis=0),
            "mspe_empirical_se": sq_err.std(axis=0, ddof=1) / np.sqrt(n_rep),
        }
    )
    per_rep = sq_err.mean(axis=1)  # average over test points, one value per replication
    return BiasVariance(
        bias2=float(bias2.mean()),
        variance=float(variance.mean()),
        noise=noise,
        mspe=float(bias2.mean() + variance.mean() + noise),
        mspe_empirical=float(per_rep.mean()),
        mspe_empirical_se=float(per_rep.std(ddof=1) / np.sqrt(n_rep)),
        mse_beta=None if true_beta is None else float(beta_err.mean()),
        mse_beta_se=None if true_beta is None else float(beta_err.std(ddof=1) / np.sqrt(n_rep)),
        per_point=per_point,
        n_rep=n_rep,
    )


def bias_variance_curve(
    make_estimator: Callable[[Any], Any],
    values: Iterable[Any],
    simulate: Simulate,
    x0: Any,
    f0: Any,
    sigma: float,
    n_rep: int = 200,
    seed: int = 0,
    beta: Any = None,
    name: str = "alpha",
) -> pd.DataFrame:
    """:func:`bias_variance` at each value of a complexity parameter.

    Every value sees the same simulated data sets (common random numbers), so differences
    along the curve are not Monte-Carlo noise.

    Parameters
    ----------
    make_estimator : callable
        ``make_estimator(v)`` returns an unfitted estimator for complexity value ``v``.
    values : iterable
        The complexity values, e.g. ridge α's or numbers of predictors.
    simulate, x0, f0, sigma, n_rep, seed, beta
        As in :func:`bias_variance`.
    name : str, default "alpha"
        Name of the column holding the values.

    Returns
    -------
    pandas.DataFrame
        One row per value: the value, ``bias2``, ``variance``, ``noise``, ``mspe``,
        ``mspe_empirical`` and its SE (and ``mse_beta`` when ``beta`` is given).
    """
    values = list(values)
    if not values:
        raise ValueError(f"values is empty: give at least one {name} to simulate")
    rows = []
    for v in values:
        res = bias_variance(
            functools.partial(make_estimator, v), simulate, x0, f0, sigma, n_rep, seed, beta
        )
        row = {
            name: v,
            "bias2": res.bias2,
            "variance": res.variance,
            "noise": res.noise,
            "mspe": res.mspe,
            "mspe_empirical": res.mspe_empirical,
            "mspe_empirical_se": res.mspe_empirical_se,
        }
        if res.mse_beta is not None:
            row["mse_beta"] = res.mse_beta
        rows.append(row)
    return pd.DataFrame(rows)


class FirstColumns(RegressorMixin, Estimator):
    """Fit ``estimator`` on the first ``k`` predictors only (the notes' case ② uses three).

    ``coef_`` is padded with zeros to all predictors, so E‖β̂ − β‖² compares with the full β.

    Parameters
    ----------
    k : int, default 1
        Number of leading columns of X to use.
    estimator : estimator, optional
        The model fitted on them (cloned); least squares, ``Ridge(alpha=0.0)``, by default.
    """

    def __init__(self, k: int = 1, estimator: Any = None) -> None:
        self.k = k
        self.estimator = estimator

    def fit(self, X: Any, y: Any) -> Self:
        Xa = check_X(X)
        if not 1 <= self.k <= Xa.shape[1]:
            raise ValueError(f"k must be between 1 and {Xa.shape[1]}; got {self.k!r}")
        base = Ridge(alpha=0.0) if self.estimator is None else self.estimator
        self.estimator_ = clone(base).fit(Xa[:, : self.k], y)
        self.n_features_in_ = Xa.shape[1]
        self.coef_ = np.zeros(Xa.shape[1])
        self.coef_[: self.k] = self.estimator_.coef_
        self.intercept_ = self.estimator_.intercept_
        return self

    def predict(self, X: Any) -> Array:
        Xa = check_X(X)
        return np.asarray(self.estimator_.predict(Xa[:, : self.k]), dtype=np.float64)
