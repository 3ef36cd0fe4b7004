"""gradstat: from least squares to LSTMs with every number explained."""

from gradstat import datasets
from gradstat.generalised import GLM, GLMResults, LogisticRegression, compare, glm
from gradstat.linear import OLS, CollinearityWarning, OLSResults, ols
from gradstat.regularisation import (
    ElasticNet,
    ElasticNetCV,
    Lasso,
    LassoCV,
    Ridge,
    RidgeCV,
    bias_variance,
    bias_variance_curve,
    enet_path,
    lasso_path,
    ridge_path,
)

__all__ = [
    "GLM",
    "OLS",
    "CollinearityWarning",
    "ElasticNet",
    "ElasticNetCV",
    "GLMResults",
    "Lasso",
    "LassoCV",
    "LogisticRegression",
    "OLSResults",
    "Ridge",
    "RidgeCV",
    "bias_variance",
    "bias_variance_curve",
    "compare",
    "datasets",
    "enet_path",
    "glm",
    "lasso_path",
    "ols",
    "ridge_path",
]
__version__ = "0.1.0"
