"""Entry points: ``glm(formula, data, family=...)`` and the scikit-learn regressor ``GLM``.

Binomial responses come in R's three forms:

* 0/1 (or False/True): ``glm("y ~ x", data, family="binomial")``;
* proportions with the number of trials as prior weights: ``glm("p ~ x", data, family="binomial",
  weights="n")``;
* two count columns, successes and failures, spelt as in R: ``glm("cbind(s, f) ~ x", data,
  family="binomial")`` (the response is then s / (s + f) with prior weights s + f).
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from typing import Any, Self

import numpy as np
import pandas as pd
from formulaic import model_matrix
from formulaic.errors import FormulaicError

from gradstat.estimator import Estimator, RegressorMixin
from gradstat.generalised.families import Family, resolve
from gradstat.generalised.irls import IRLSFit, irls
from gradstat.generalised.results import GLMResults
from gradstat.generalised.separation import SeparationWarning, find_separation
from gradstat.linear.design import Design, Missing, as_frame, build_design
from gradstat.linear.formula_grammar import check_formula_grammar
from gradstat.linear.results import warn_aliased
from gradstat.validation import ConvergenceWarning, check_flag, check_y

_CBIND = re.compile(r"^\s*cbind\s*\((?P<args>.*)\)\s*$", re.DOTALL)


def _split_cbind(formula: str) -> tuple[str, str, str] | None:
    """``cbind(s, f) ~ rhs`` -> (s, f, rhs); None for any other left-hand side."""
    if "~" not in formula:
        return None
    lhs, rhs = formula.split("~", 1)
    match = _CBIND.match(lhs)
    if match is None:
        return None
    args, depth, parts, current = match.group("args"), 0, [], ""
    for ch in args:
        depth += ch in "([{"
        depth -= ch in ")]}"
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    if len(parts) != 2 or not all(p.strip() for p in parts):
        raise ValueError(f"formula {formula!r}: cbind() takes two columns, cbind(successes, failures)")
    return parts[0].strip(), parts[1].strip(), rhs


def _per_row(value: Any, frame: pd.DataFrame, name: str) -> np.ndarray | None:
    """``weights`` / ``offset`` as a column name or one value per row of the data."""
    if value is None:
        return None
    if isinstance(value, str):
        if value not in frame.columns:
            raise ValueError(f"{name}={value!r} is not a column of the data; columns: {list(frame.columns)}")
        value = frame[value]
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric, one value per row of the data") from exc
    if arr.ndim == 0:
        arr = np.full(len(frame), float(arr))
    if arr.shape != (len(frame),):
        raise ValueError(
            f"{name} must have one value per row of the data ({len(frame)}), got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains {int((~np.isfinite(arr)).sum())} NaN/inf value(s)")
    return arr


def _evaluate(expression: str, frame: pd.DataFrame, formula: str) -> np.ndarray:
    try:
        lhs = model_matrix(f"{expression} ~ 1", frame, na_action="ignore").lhs
    except (FormulaicError, Exception) as exc:  # formulaic raises many types for a bad expression
        raise ValueError(f"formula {formula!r}: cannot evaluate {expression!r}: {exc}") from exc
    return np.asarray(lhs, dtype=np.float64)[:, 0]


def glm(
    formula: str,
    data: Any,
    family: str = "gaussian",
    link: str | None = None,
    weights: Any = None,
    offset: Any = None,
    *,
    missing: Missing = "raise",
    tol: float = 1e-10,
    max_iter: int = 100,
    safe: bool = True,
) -> GLMResults:
    """Fit a generalised linear model by iteratively reweighted least squares (R's ``glm``).

    The model is g(μᵢ) = ηᵢ = xᵢ'β + offsetᵢ with Var(yᵢ) = φ V(μᵢ) / wᵢ. β̂ maximises the
    likelihood; each IRLS step is the weighted least-squares fit of the working response
    zᵢ = ηᵢ − offsetᵢ + (yᵢ − μᵢ) / (dμ/dη)ᵢ with working weights Wᵢ = wᵢ (dμ/dη)ᵢ² / V(μᵢ),
    solved by QR (no inverse of X'WX is formed), until the deviance settles. The same fit as R's
    ``glm(formula, family, data, weights, offset)`` and statsmodels' ``smf.glm``.

    Parameters
    ----------
    formula : str
        R-style formula, e.g. ``"am ~ wt + C(cyl)"``, as in :func:`gradstat.ols`. A binomial
        response may be 0/1 (or False/True), a proportion with the number of trials as
        ``weights``, or two count columns ``cbind(successes, failures) ~ …`` (the response is
        then s / (s + f) with prior weights s + f).
    data : pandas.DataFrame or dict of columns
        The rows.
    family : {"gaussian", "binomial", "poisson", "gamma"}, default "gaussian"
        The distribution of the response, with variance function V(μ) = 1, μ(1 − μ), μ, μ².
    link : str, optional
        g; defaults to the canonical link (identity, logit, log, inverse). Also available:
        binomial probit, cloglog, log; poisson identity; gaussian log, inverse; gamma log,
        identity.
    weights : str or array-like, optional
        R's prior weights wᵢ ≥ 0 (the number of trials for a binomial proportion): a column
        name or one value per row. Rows of weight 0 are left out of n.
    offset : str or array-like, optional
        A term with coefficient 1 on the link scale (e.g. log exposure for a poisson rate): a
        column name or one value per row.
    missing : {"raise", "drop"}, default "raise"
        ``"raise"``: NaN in a used column is an error naming it; ``"drop"``: fit the complete
        rows (the summary says how many were dropped).
    tol : float, default 1e-10
        Convergence tolerance on the relative change in deviance abs(D − D_old) / (abs(D) + 0.1)
        (R's rule), in (0, 1).
    max_iter : int, default 100
        Largest number of IRLS iterations.
    safe : bool, default True
        Check the formula against the safe grammar before anything is evaluated, as
        :func:`gradstat.ols`; ``False`` is for trusted formulas only.

    Returns
    -------
    GLMResults
        The fit with every statistic as an attribute.

    Raises
    ------
    ValueError
        For an unknown family or link (or a link the family does not offer), ``tol`` outside
        (0, 1) or ``max_iter`` < 1, an unknown column, missing values with
        ``missing="raise"``, negative or all-zero weights, a ``cbind`` response outside the
        binomial family or with negative counts, and a response the family cannot take
        (binomial outside [0, 1], poisson negative, gamma not positive).
    TypeError
        When ``data`` cannot be made into a DataFrame.

    Warns
    -----
    ConvergenceWarning
        When IRLS stops at ``max_iter`` without converging (the estimates are not the MLE).
    SeparationWarning
        When a binomial fit is separated: the MLE does not exist and the message names the
        terms that diverge and the rows fitted with probability 0 or 1.
    CollinearityWarning
        When columns are linear combinations of earlier ones (their coefficients are NaN).
    UserWarning
        When a binomial response times its weights is not a whole number of successes.

    See Also
    --------
    GLM : the same fit as a scikit-learn regressor.
    LogisticRegression : penalised logistic regression as a scikit-learn classifier.
    anova_glm, compare : analysis of deviance, sequential and between nested fits.

    Examples
    --------
    >>> import gradstat
    >>> from gradstat import datasets
    >>> fit = gradstat.glm("am ~ wt", datasets.load("mtcars"), family="binomial")
    >>> fit.coef.round(4)
    Intercept    12.0404
    wt           -4.0240
    Name: coef, dtype: float64
    >>> round(fit.deviance, 4), fit.df_resid, round(fit.aic, 4)
    (19.1761, 30, 23.1761)
    """
    if check_flag(safe, "safe"):
        parts = _split_cbind(formula)
        for piece in [formula] if parts is None else [f"{parts[0]} ~ {parts[2]}", f"{parts[1]} ~ 1"]:
            check_formula_grammar(piece)
    fam, lnk = resolve(family, link)
    if not (isinstance(max_iter, int) and max_iter >= 1):
        raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}")
    if not (isinstance(tol, float | int) and 0 < tol < 1):
        raise ValueError(f"tol must be in (0, 1), got {tol!r}")
    frame = as_frame(data)
    w_all = _per_row(weights, frame, "weights")
    off_all = _per_row(offset, frame, "offset")
    if w_all is not None and np.any(w_all < 0):
        raise ValueError(f"weights must be ≥ 0; {int((w_all < 0).sum())} are negative")
    cbind = _split_cbind(formula)
    fit_formula = formula
    failures_all = None
    if cbind is not None:
        if fam.name != "binomial":
            raise ValueError(
                f"formula {formula!r}: cbind(successes, failures) is a binomial response, not {fam.name}"
            )
        successes, failures, rhs = cbind
        fit_formula = f"{successes} ~ {rhs}"
        failures_all = _evaluate(failures, frame, formula)
        bad = ~np.isfinite(failures_all)
        if bad.any():
            if missing == "raise":
                raise ValueError(
                    f"missing values (NaN) in {int(bad.sum())} row(s) of {failures!r}; "
                    "pass missing='drop' to fit on the complete rows"
                )
            keep = ~bad
            frame, failures_all = frame.loc[keep], failures_all[keep]
            w_all = None if w_all is None else w_all[keep]
            off_all = None if off_all is None else off_all[keep]
    original_index = frame.index
    design = build_design(fit_formula, frame.reset_index(drop=True), missing=missing)
    positions = np.asarray(design.row_labels, dtype=np.int64)
    design = dataclasses.replace(design, row_labels=original_index[positions], formula=formula)
    n = design.X.shape[0]
    w = np.ones(n) if w_all is None else w_all[positions]
    off = np.zeros(n) if off_all is None else off_all[positions]
    y = design.y
    trials = np.ones(n)
    if failures_all is not None:
        fails = failures_all[positions]
        if np.any(y < 0) or np.any(fails < 0):
            raise ValueError(f"formula {formula!r}: successes and failures must be counts (≥ 0)")
        trials = y + fails
        y = np.divide(y, trials, out=np.zeros(n), where=trials > 0)
        w = w * trials
    if (w > 0).sum() == 0:
        raise ValueError(f"every weight is zero: no rows with positive weight to fit {formula!r}")
    why = fam.check_y(y[w > 0])
    if why is not None:
        raise ValueError(f"response {design.response!r}: {why}")
    if fam.name == "binomial":
        counts = w * y
        if np.any(np.abs(counts - np.round(counts)) > 1e-7):
            warnings.warn(
                f"{formula!r}: non-integer number of successes (weights × response) in a binomial GLM; "
                "pass the number of trials as weights for proportions",
                UserWarning,
                stacklevel=2,
            )
    fit = irls(design.X, y, w, off, fam, lnk, tol=float(tol), max_iter=max_iter)
    warn_aliased(design, fit.solution.aliased, stacklevel=2)
    _check_separation(design, y, w, fit, fam)
    if not fit.converged:
        warnings.warn(
            f"{formula!r}: IRLS did not converge in {max_iter} iterations; the last relative change in "
            f"deviance was {fit.deviance_change:.3g} (tol {tol:g}); the estimates are not the MLE",
            ConvergenceWarning,
            stacklevel=2,
        )
    return GLMResults(
        design,
        fam,
        lnk,
        y,
        w,
        trials,
        off,
        fit,
        has_offset=off_all is not None,
        tol=float(tol),
        max_iter=max_iter,
    )


def _check_separation(design: Design, y: np.ndarray, w: np.ndarray, fit: IRLSFit, family: Family) -> None:
    """Binomial fits at the boundary (or not converged) are checked for separation, which is named."""
    if family.name != "binomial" or (fit.converged and not family.at_boundary(fit.mu[w > 0])):
        return
    kept = ~fit.solution.aliased
    names = [n for n, k in zip(design.column_names, kept, strict=True) if k]
    sep = find_separation(design.X[:, kept], y, w, names)
    if sep is None:
        return
    labels = [str(design.row_labels[i]) for i in sep.rows[:10]]
    more = f" and {len(sep.rows) - 10} more" if len(sep.rows) > 10 else ""
    warnings.warn(
        f"{design.formula!r}: {sep.kind} separation — a combination of {sep.columns} predicts the response "
        f"perfectly on {len(sep.rows)} observation(s) (rows {', '.join(labels)}{more}), which are fitted "
        "with probability 0 or 1. The maximum-likelihood estimate does not exist: those coefficients "
        "diverge, and their standard errors and tests are meaningless. Remove or merge the separating "
        "term(s), or use a penalised fit (gradstat.LogisticRegression).",
        SeparationWarning,
        stacklevel=3,
    )


class GLM(RegressorMixin, Estimator):
    """A GLM as a scikit-learn regressor: ``predict`` gives the fitted mean μ = g⁻¹(b + Xβ).

    ``fit`` is :func:`glm` on the columns of X (the same IRLS, the same numbers), and the
    fit's inference is kept as ``results_``; scikit-learn's nearest peers are
    ``PoissonRegressor``, ``GammaRegressor`` and ``TweedieRegressor`` with ``alpha=0``.

    Parameters
    ----------
    family : {"gaussian", "binomial", "poisson", "gamma"}, default "gaussian"
        The distribution of the response (see :func:`glm`).
    link : str, optional
        g; defaults to the family's canonical link.
    fit_intercept : bool, default True
        Fit an intercept b.
    max_iter : int, default 100
        Largest number of IRLS iterations.

    Attributes
    ----------
    coef_ : numpy.ndarray
        β̂, one per column of X (0 for an aliased column).
    intercept_ : float
        b̂ (0.0 without an intercept).
    results_ : GLMResults
        The fit with its inference; the columns of X are named ``x0, x1, …`` in order and the
        intercept ``Intercept``.
    n_iter_ : int
        IRLS iterations used.
    n_features_in_ : int
        Number of columns of X.
    feature_names_in_ : numpy.ndarray
        The column names, when X was a DataFrame.

    See Also
    --------
    glm : the formula interface.
    LogisticRegression : binary and multinomial logistic regression with an L2 penalty.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat import GLM
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 2))
    >>> y = rng.poisson(np.exp(0.5 + 0.3 * X[:, 0] - 0.2 * X[:, 1]))
    >>> model = GLM(family="poisson").fit(X, y)
    >>> round(model.intercept_, 4), model.coef_.round(4).tolist()
    (0.6256, [0.2611, -0.1428])
    >>> model.predict(X[:2]).round(4).tolist()      # μ = exp(b + xβ)
    [1.9686, 2.1768]
    >>> model.results_.std_err.round(4).tolist()
    [0.1054, 0.1109, 0.1021]
    """

    def __init__(
        self,
        family: str = "gaussian",
        link: str | None = None,
        fit_intercept: bool = True,
        max_iter: int = 100,
    ) -> None:
        self.family = family
        self.link = link
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Self:
        """Fit the GLM by IRLS.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The predictors.
        y : array-like of shape (n_samples,)
            The response, in the family's range.
        sample_weight : array-like of shape (n_samples,), optional
            Prior weights wᵢ ≥ 0 (the number of trials for a binomial proportion).

        Returns
        -------
        GLM
            self, fitted.

        Raises
        ------
        ValueError
            For X or y with NaN, infinite or mismatched rows, a response outside the family's
            range, an unknown family or link, or negative weights.
        """
        Xa, ya = self._validate_fit(X, y)
        frame = pd.DataFrame(Xa, columns=[f"x{j}" for j in range(Xa.shape[1])])
        frame["y"] = ya
        rhs = " + ".join(frame.columns[:-1])
        formula = f"y ~ {rhs}" if self.fit_intercept else f"y ~ {rhs} - 1"
        weights = None if sample_weight is None else check_y(sample_weight, Xa.shape[0])
        self.results_ = glm(
            formula, frame, family=self.family, link=self.link, weights=weights, max_iter=self.max_iter
        )
        coef = np.nan_to_num(self.results_.fit.coef, nan=0.0)
        self.intercept_ = float(coef[0]) if self.fit_intercept else 0.0
        self.coef_ = coef[1:] if self.fit_intercept else coef
        self.n_iter_ = self.results_.n_iter
        return self

    def predict(self, X: Any) -> np.ndarray:
        """The fitted mean μ = g⁻¹(b̂ + Xβ̂).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows with the columns seen in ``fit``.

        Returns
        -------
        numpy.ndarray of shape (n_samples,)
            μ on the response scale.
        """
        Xa = self._validate_predict(X, "coef_")
        return np.asarray(self.results_.link.inverse(Xa @ self.coef_ + self.intercept_))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.positive_only = self.family in ("poisson", "gamma")
        return tags
