"""Exponential families and link functions for generalised linear models (R's ``family`` objects).

A GLM says ``g(E[y]) = η = X β + offset`` and ``var(y) = φ V(μ) / w`` with prior weights ``w``.
Each family supplies the variance function ``V``, the unit deviance ``d(y, μ)`` (so that
``D = Σ w d(y, μ)``), R's starting values and R's ``aic`` (−2 log-likelihood, with its
conventions); each link supplies ``g``, ``g⁻¹`` and ``dμ/dη``.

Links (``η = g(μ)``): ``logit`` log(μ/(1 − μ)), ``probit`` Φ⁻¹(μ), ``cloglog`` log(−log(1 − μ)),
``log``, ``identity``, ``inverse`` 1/μ. Canonical defaults: binomial → logit, poisson → log,
gaussian → identity, gamma → inverse (as R).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special, stats

Array = np.ndarray
_TINY = float(np.finfo(np.float64).eps)  # R's .Machine$double.eps clamp in the binomial links
_MAX_EXP = 709.0  # e^709 is the largest power of e below the float64 maximum
BOUNDARY = 1e-10  # fitted probabilities (means) this close to the edge signal separation


@dataclass(frozen=True)
class Link:
    """η = g(μ): ``link`` g, ``inverse`` g⁻¹ and ``mu_eta`` = dμ/dη, as R's ``make.link``."""

    name: str
    link: Callable[[Array], Array]
    inverse: Callable[[Array], Array]
    mu_eta: Callable[[Array], Array]
    valid_eta: Callable[[Array], bool] = lambda eta: True

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (link_named, (self.name,))  # the functions are module-level lambdas: pickle by name


def _logit_inverse(eta: Array) -> Array:
    thresh = -np.log(_TINY)  # R: μ kept in [ε, 1 − ε]
    return special.expit(np.clip(eta, -thresh, thresh))


def _logit_mu_eta(eta: Array) -> Array:
    e = np.exp(-np.abs(eta))  # dμ/dη = e^η / (1 + e^η)², written for either sign of η
    return np.maximum(e / (1.0 + e) ** 2, _TINY)


def _probit_inverse(eta: Array) -> Array:
    thresh = -stats.norm.ppf(_TINY)
    return stats.norm.cdf(np.clip(eta, -thresh, thresh))


def _exp(eta: Array) -> Array:
    """e^η kept in [ε, largest float] (R's log link clamps at ε)."""
    return np.maximum(np.exp(np.minimum(eta, _MAX_EXP)), _TINY)


def _cloglog_inverse(eta: Array) -> Array:
    return np.clip(-np.expm1(-np.exp(eta)), _TINY, 1.0 - _TINY)  # μ = 1 − exp(−e^η)


def _cloglog_mu_eta(eta: Array) -> Array:
    e = np.exp(np.minimum(eta, _MAX_EXP))
    return np.maximum(e * np.exp(-e), _TINY)  # dμ/dη = e^η exp(−e^η)


LINKS: dict[str, Link] = {
    "logit": Link("logit", special.logit, _logit_inverse, _logit_mu_eta),
    "probit": Link(
        "probit",
        stats.norm.ppf,
        _probit_inverse,
        lambda eta: np.maximum(stats.norm.pdf(eta), _TINY),
    ),
    "cloglog": Link("cloglog", lambda mu: np.log(-np.log1p(-mu)), _cloglog_inverse, _cloglog_mu_eta),
    "log": Link("log", np.log, _exp, _exp),
    "identity": Link("identity", lambda mu: mu, lambda eta: eta, np.ones_like),
    "inverse": Link(
        "inverse",
        lambda mu: 1.0 / mu,
        lambda eta: 1.0 / eta,
        lambda eta: -1.0 / eta**2,
        lambda eta: bool(np.all(np.isfinite(eta)) and np.all(eta != 0)),
    ),
}


def _ylogy(y: Array, mu: Array) -> Array:
    """y log(y/μ), 0 where y = 0 (R's ``y_log_y``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0) / mu), 0.0)


@dataclass(frozen=True)
class Family:
    """R's family object: variance V(μ), unit deviance d(y, μ), starting μ, aic and the valid links.

    ``fixed_dispersion``: φ = 1 (binomial, poisson) and Wald tests are z-tests; otherwise φ is
    estimated by Pearson's χ² / df_resid and tests use t (R's ``summary.glm``).
    """

    name: str
    variance: Callable[[Array], Array]
    unit_deviance: Callable[[Array, Array], Array]
    start: Callable[[Array, Array], Array]  # (y, w) -> μ₀ (R's ``initialize``)
    aic: Callable[[Array, Array, Array, Array, float], float]  # (y, m, μ, w, D) -> R's family$aic
    canonical: str
    links: tuple[str, ...]
    fixed_dispersion: bool
    valid_mu: Callable[[Array], bool]
    check_y: Callable[[Array], str | None]  # None when y is in the family's support, else why not

    def at_boundary(self, mu: Array) -> bool:
        """Some μ within 1e-10 of the edge of the family's range (0 or 1 for binomial, 0 for poisson)."""
        if self.name == "binomial":
            return bool(np.any((mu < BOUNDARY) | (mu > 1.0 - BOUNDARY)))
        if self.name == "poisson":
            return bool(np.any(mu < BOUNDARY))
        return False

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (family_named, (self.name,))

    @property
    def extra_parameters(self) -> int:
        """1 when the log-likelihood has a scale parameter counted by R's AIC (gaussian, gamma)."""
        return 0 if self.fixed_dispersion else 1


def _binomial_deviance(y: Array, mu: Array) -> Array:
    return 2.0 * (_ylogy(y, mu) + _ylogy(1.0 - y, 1.0 - mu))  # 2[y log(y/μ) + (1−y) log((1−y)/(1−μ))]


def _binomial_aic(y: Array, m: Array, mu: Array, w: Array, dev: float) -> float:
    """R: −2 Σ (w/m) log dbinom(round(m y), round(m), μ), m the trials (or w for proportions)."""
    trials = m if np.any(m > 1) else w
    k = np.round(trials * y)
    size = np.round(trials)
    factor = np.where(trials > 0, w / np.where(trials > 0, trials, 1.0), 0.0)
    return float(-2.0 * np.sum(factor * stats.binom.logpmf(k, size, mu)))


def _poisson_aic(y: Array, m: Array, mu: Array, w: Array, dev: float) -> float:
    """R: −2 Σ w log dpois(y, μ)."""
    return float(-2.0 * np.sum(w * (special.xlogy(y, mu) - mu - special.gammaln(y + 1.0))))


def _gaussian_aic(y: Array, m: Array, mu: Array, w: Array, dev: float) -> float:
    """R: n (log(2π D/n) + 1) + 2 − Σ log w over the rows with w > 0."""
    pos = w > 0
    n = int(pos.sum())
    return float(n * (np.log(2.0 * np.pi * dev / n) + 1.0) + 2.0 - np.sum(np.log(w[pos])))


def _gamma_aic(y: Array, m: Array, mu: Array, w: Array, dev: float) -> float:
    """R: −2 Σ w log dgamma(y; shape 1/φ̃, scale μ φ̃) + 2 with φ̃ = D / Σ w."""
    disp = dev / np.sum(w)
    logpdf = stats.gamma.logpdf(y, 1.0 / disp, scale=mu * disp)
    return float(-2.0 * np.sum(w * logpdf) + 2.0)


def _binomial_start(y: Array, w: Array) -> Array:
    return (w * y + 0.5) / (w + 1.0)  # R: (weights * y + 0.5)/(weights + 1)


def _in_unit_interval(y: Array) -> str | None:
    return None if np.all((y >= 0) & (y <= 1)) else "binomial responses must be 0/1 or proportions in [0, 1]"


def _non_negative(y: Array) -> str | None:
    return None if np.all(y >= 0) else "poisson responses must be counts (≥ 0)"


def _positive(y: Array) -> str | None:
    return None if np.all(y > 0) else "gamma responses must be positive"


FAMILIES: dict[str, Family] = {
    "binomial": Family(
        "binomial",
        lambda mu: mu * (1.0 - mu),
        _binomial_deviance,
        _binomial_start,
        _binomial_aic,
        "logit",
        ("logit", "probit", "cloglog", "log"),
        True,
        lambda mu: bool(np.all((mu > 0) & (mu < 1))),
        _in_unit_interval,
    ),
    "poisson": Family(
        "poisson",
        lambda mu: mu,
        lambda y, mu: 2.0 * (_ylogy(y, mu) - (y - mu)),  # 2[y log(y/μ) − (y − μ)]
        lambda y, w: y + 0.1,
        _poisson_aic,
        "log",
        ("log", "identity"),
        True,
        lambda mu: bool(np.all(np.isfinite(mu)) and np.all(mu > 0)),
        _non_negative,
    ),
    "gaussian": Family(
        "gaussian",
        np.ones_like,
        lambda y, mu: (y - mu) ** 2,  # (y − μ)²
        lambda y, w: y.astype(np.float64, copy=True),
        _gaussian_aic,
        "identity",
        ("identity", "log", "inverse"),
        False,
        lambda mu: True,
        lambda y: None,
    ),
    "gamma": Family(
        "gamma",
        lambda mu: mu**2,
        lambda y, mu: -2.0 * (np.log(y / mu) - (y - mu) / mu),  # −2[log(y/μ) − (y − μ)/μ]
        lambda y, w: y.astype(np.float64, copy=True),
        _gamma_aic,
        "inverse",
        ("inverse", "log", "identity"),
        False,
        lambda mu: bool(np.all(np.isfinite(mu)) and np.all(mu > 0)),
        _positive,
    ),
}


def resolve(family: str, link: str | None) -> tuple[Family, Link]:
    """The family and link named, with a clear error for an unknown or unsupported pair."""
    if not isinstance(family, str) or family.lower() not in FAMILIES:
        raise ValueError(f"family must be one of {sorted(FAMILIES)}, got {family!r}")
    fam = FAMILIES[family.lower()]
    name = fam.canonical if link is None else link
    if name not in fam.links:
        raise ValueError(
            f"link {name!r} is not available for the {fam.name} family; choose one of {fam.links}"
        )
    return fam, LINKS[name]


def link_named(name: str) -> Link:
    return LINKS[name]


def family_named(name: str) -> Family:
    return FAMILIES[name]
