"""Every GLM statistic against statsmodels' GLM: four families, six links, prior weights, offsets.

statsmodels is run to the MLE by Newton's method (tol 1e-13), then one IRLS pass from there gives
its expected-information standard errors. R's prior weights are statsmodels' ``var_weights``.
Where R's conventions differ from statsmodels' (AIC/BIC and log-likelihood of the gaussian and
gamma families count the scale, with the scale R's aic uses, D / Σw), the oracle is statsmodels'
family log-likelihood evaluated at that scale.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

import gradstat
from gradstat.generalised import compare_glm

L = sm.families.links
FAMILIES = {
    "binomial": sm.families.Binomial,
    "poisson": sm.families.Poisson,
    "gaussian": sm.families.Gaussian,
    "gamma": sm.families.Gamma,
}
LINKS = {
    "logit": L.Logit,
    "probit": L.Probit,
    "cloglog": L.CLogLog,
    "log": L.Log,
    "identity": L.Identity,
    "inverse": L.InversePower,
}


def _data(seed: int = 7, n: int = 240) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": rng.uniform(-1, 1, n),
            "g": rng.choice(["a", "b", "c"], n),
            "w": rng.uniform(0.5, 2.0, n),
            "off": rng.uniform(-0.3, 0.3, n),
            "trials": rng.integers(1, 12, n).astype(float),
        }
    )
    shift = frame.g.map({"a": 0.0, "b": 0.3, "c": -0.2}).to_numpy()
    lin = 0.4 + 0.8 * frame.x1 - 0.5 * frame.x2 + shift
    frame["bern"] = (rng.uniform(size=n) < 1 / (1 + np.exp(-lin))).astype(float)
    frame["share"] = rng.binomial(frame.trials.astype(int), 1 / (1 + np.exp(-lin))) / frame.trials
    frame["count"] = rng.poisson(np.exp(0.5 + 0.4 * frame.x1 - 0.3 * frame.x2 + shift)).astype(float)
    frame["count_id"] = rng.poisson(3.0 + frame.x2 + shift).astype(float)
    frame["normal"] = 2.0 + 1.5 * frame.x1 - frame.x2 + shift + rng.normal(scale=0.7, size=n)
    frame["positive"] = np.exp(0.5 + 0.3 * frame.x1 + 0.2 * frame.x2 + shift + rng.normal(scale=0.2, size=n))
    shape = 4.0
    frame["gamma_inv"] = rng.gamma(shape, 1.0 / (1.2 + 0.3 * frame.x2 + shift) / shape)
    return frame


FRAME = _data()

# (response, family, link, weights column, offset column)
CASES = [
    ("bern", "binomial", "logit", None, "off"),
    ("bern", "binomial", "probit", None, None),
    ("share", "binomial", "cloglog", "trials", None),
    ("share", "binomial", "logit", "trials", "off"),
    ("count", "poisson", "log", "w", "off"),
    ("count_id", "poisson", "identity", None, None),
    ("normal", "gaussian", "identity", "w", None),
    ("positive", "gaussian", "log", None, "off"),
    ("gamma_inv", "gamma", "inverse", None, None),
    ("positive", "gamma", "log", "w", "off"),
    ("positive", "gamma", "identity", None, None),
]
IDS = [f"{f}-{lk}-{r}{'-w' if w else ''}{'-off' if o else ''}" for r, f, lk, w, o in CASES]


def _family(fit):
    """A fresh statsmodels family (its objects keep state from the model that used them)."""
    return FAMILIES[fit.family.name](link=LINKS[fit.link.name]())


def _fit_both(case):
    response, family, link, wcol, ocol = case
    formula = f"{response} ~ x1 + x2 + C(g)"
    fit = gradstat.glm(formula, FRAME, family=family, link=link, weights=wcol, offset=ocol)
    X = fit.design.X
    y = FRAME[response].to_numpy()
    kwargs = {}
    if wcol:
        kwargs["var_weights"] = FRAME[wcol].to_numpy()
    if ocol:
        kwargs["offset"] = FRAME[ocol].to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels' DomainWarning for non-canonical links
        model = sm.GLM(y, X, family=FAMILIES[family](link=LINKS[link]()), **kwargs)
        newton = model.fit(
            method="newton", tol=1e-13, maxiter=200, start_params=np.nan_to_num(fit.coef.to_numpy() * 0.9)
        )
        ref = model.fit(
            start_params=newton.params, tol=1e-13, maxiter=200, use_t=not fit.family.fixed_dispersion
        )
        ref_z = model.fit(start_params=newton.params, tol=1e-13, maxiter=200)
    return fit, model, newton, ref, ref_z


@pytest.fixture(scope="module", params=CASES, ids=IDS)
def pair(request):
    return _fit_both(request.param)


def test_estimates_and_wald_inference(pair):
    fit, _, newton, ref, ref_z = pair
    assert fit.converged
    np.testing.assert_allclose(fit.coef, newton.params, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fit.std_err, ref.bse, rtol=1e-8)
    np.testing.assert_allclose(fit.test_statistic, ref.tvalues, rtol=1e-8)
    np.testing.assert_allclose(fit.p_values, ref.pvalues, rtol=1e-7, atol=1e-300)
    # confint.default: normal quantiles for every family, as statsmodels without use_t
    np.testing.assert_allclose(fit.conf_int(0.9).to_numpy(), ref_z.conf_int(0.1), rtol=1e-8)
    np.testing.assert_allclose(fit.dispersion, ref.scale, rtol=1e-9)
    np.testing.assert_allclose(fit.cov.to_numpy(), ref.cov_params(), rtol=1e-7, atol=1e-14)


def test_deviance_and_degrees_of_freedom(pair):
    fit, _, _, ref, _ = pair
    np.testing.assert_allclose(fit.deviance, ref.deviance, rtol=1e-11)
    np.testing.assert_allclose(fit.null_deviance, ref.null_deviance, rtol=1e-10)
    np.testing.assert_allclose(fit.pearson_chi2, ref.pearson_chi2, rtol=1e-9)
    assert fit.df_resid == ref.df_resid
    assert fit.df_model == ref.df_model
    assert fit.df_null == ref.nobs - 1


def test_likelihood_and_information_criteria(pair):
    fit, model, _, ref, _ = pair
    if fit.family.name == "binomial" and np.any(model.var_weights != 1):
        # R's binomial likelihood with trials as weights counts successes out of trials,
        # binomial coefficient included: statsmodels' two-column (successes, failures) model
        trials = model.var_weights
        successes = np.round(model.endog * trials)
        counts = sm.GLM(
            np.c_[successes, trials - successes],
            fit.design.X,
            family=_family(fit),
            offset=getattr(model, "offset", None),
        )
        llf = counts.loglike(ref.params)
    elif fit.family.fixed_dispersion:
        llf = ref.llf
    else:
        # the scale R's aic uses: D / n (gaussian), D / Σw (gamma)
        scale = ref.deviance / (ref.nobs if fit.family.name == "gaussian" else model.var_weights.sum())
        if fit.family.name == "gamma" and np.any(model.var_weights != 1):
            # R weights the gamma log-density, Σ w log f(y; shape 1/φ, scale μφ); statsmodels'
            # var_weights change the shape instead, so the oracle is scipy's density
            w = model.var_weights
            llf = np.sum(w * stats.gamma.logpdf(model.endog, 1 / scale, scale=ref.mu * scale))
        else:
            llf = model.family.loglike(model.endog, ref.mu, var_weights=model.var_weights, scale=scale)
    df = fit.rank + (0 if fit.family.fixed_dispersion else 1)
    np.testing.assert_allclose(fit.llf, llf, rtol=1e-10)
    np.testing.assert_allclose(fit.aic, -2 * llf + 2 * df, rtol=1e-10)
    np.testing.assert_allclose(fit.bic, -2 * llf + np.log(ref.nobs) * df, rtol=1e-10)
    if fit.family.fixed_dispersion and np.all(model.var_weights == 1):
        np.testing.assert_allclose(fit.aic, ref.aic, rtol=1e-10)
        np.testing.assert_allclose(fit.bic, ref.bic_llf, rtol=1e-10)


def test_residuals_and_fitted_values(pair):
    fit, _, _, ref, _ = pair
    np.testing.assert_allclose(fit.fitted_values, ref.mu, rtol=1e-9)
    eta = ref.predict(which="linear")
    np.testing.assert_allclose(fit.linear_predictor, eta, rtol=1e-9, atol=1e-10 * np.abs(eta).max())
    scale = np.abs(fit.resid_response.to_numpy()).max()
    for name in ("response", "pearson", "deviance", "working"):
        mine = fit.residuals(name).to_numpy()
        theirs = getattr(ref, f"resid_{name}")
        np.testing.assert_allclose(mine, theirs, rtol=1e-7, atol=1e-8 * max(scale, np.abs(theirs).max()))
    np.testing.assert_allclose(np.sum(fit.resid_deviance**2), fit.deviance, rtol=1e-12)


def test_prediction_with_confidence_interval(pair):
    fit, _, _, _, ref_z = pair
    new = FRAME.iloc[:15]
    off = new["off"].to_numpy() if fit.has_offset else np.zeros(len(new))
    X0 = fit.design.X[:15]
    for which, kind in (("linear", "link"), ("mean", "response")):
        # normal quantiles for every family (R's predict(se.fit = TRUE) ± z), as statsmodels without use_t
        frame = ref_z.get_prediction(exog=X0, offset=off, which=which).summary_frame(alpha=0.05)
        frame.columns = ["fit", "se", "lower", "upper"]  # linear: predicted, se, ci_*; mean: mean, mean_*
        # statsmodels maps the link-scale ends without ordering them (a decreasing link swaps them)
        frame["lower"], frame["upper"] = (
            np.minimum(frame.lower, frame.upper),
            np.maximum(frame.lower, frame.upper),
        )
        mine = fit.predict(new, type=kind, interval="confidence", offset=off)
        for column in ("fit", "lower", "upper"):
            np.testing.assert_allclose(mine[column], frame[column], rtol=1e-8, atol=1e-12)
        if kind == "link":
            np.testing.assert_allclose(mine["se_link"], frame["se"], rtol=1e-8)


def test_sequential_analysis_of_deviance(pair):
    """Each row: the deviance drop of statsmodels' nested fits; Chisq (φ known) or F (φ estimated)."""
    fit, model, _, ref, _ = pair
    table = fit.anova()
    X = fit.design.X
    blocks = [[0], [1], [2], [3, 4]]  # Intercept, x1, x2, C(g)
    devs, ranks = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in range(1, len(blocks) + 1):
            cols = [c for block in blocks[:k] for c in block]
            sub = sm.GLM(
                model.endog,
                X[:, cols],
                family=_family(fit),
                offset=getattr(model, "offset", None),
                var_weights=model.var_weights,
            )
            devs.append(sub.fit(method="newton", tol=1e-13, maxiter=200).deviance if k > 0 else None)
            ranks.append(len(cols))
    assert list(table.index) == ["NULL", "x1", "x2", "C(g)"]
    np.testing.assert_allclose(table["resid_deviance"], devs, rtol=1e-9)
    drops = -np.diff(devs)
    df = np.diff(ranks)
    np.testing.assert_allclose(table["deviance"].to_numpy()[1:], drops, rtol=1e-7, atol=1e-9)
    if fit.family.fixed_dispersion:
        expected = stats.chi2.sf(drops, df)
    else:
        expected = stats.f.sf(drops / df / ref.scale, df, ref.df_resid)
    np.testing.assert_allclose(table["p_value"].to_numpy()[1:], expected, rtol=1e-6, atol=1e-300)


def test_likelihood_ratio_between_nested_fits():
    small = gradstat.glm("count ~ x1", FRAME, family="poisson", offset="off")
    big = gradstat.glm("count ~ x1 + x2 + C(g)", FRAME, family="poisson", offset="off")
    table = compare_glm(small, big)
    off = FRAME["off"].to_numpy()
    y = FRAME["count"].to_numpy()
    s = sm.GLM(y, small.design.X, family=sm.families.Poisson(), offset=off).fit(tol=1e-13)
    b = sm.GLM(y, big.design.X, family=sm.families.Poisson(), offset=off).fit(tol=1e-13)
    lr = 2 * (b.llf - s.llf)
    np.testing.assert_allclose(table["deviance"].iloc[1], lr, rtol=1e-9)
    np.testing.assert_allclose(table["p_value"].iloc[1], stats.chi2.sf(lr, 3), rtol=1e-8)
    assert gradstat.compare(small, big).equals(table)


def test_gaussian_identity_glm_is_weighted_least_squares():
    fit = gradstat.glm("normal ~ x1 + x2 + C(g)", FRAME, family="gaussian", weights="w")
    wls = sm.WLS(FRAME["normal"].to_numpy(), fit.design.X, weights=FRAME["w"].to_numpy()).fit()
    np.testing.assert_allclose(fit.coef, wls.params, rtol=1e-12)
    np.testing.assert_allclose(fit.std_err, wls.bse, rtol=1e-11)
    np.testing.assert_allclose(fit.p_values, wls.pvalues, rtol=1e-9)
    np.testing.assert_allclose(fit.llf, wls.llf, rtol=1e-12)
    np.testing.assert_allclose(fit.aic, wls.aic + 2, rtol=1e-12)  # R counts σ: one more parameter
