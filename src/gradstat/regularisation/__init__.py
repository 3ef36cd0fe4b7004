"""Regularisation (notes DL4): ridge, lasso, elastic net, their paths and CV,
and the bias–variance decomposition measured by simulation."""

from gradstat.regularisation.bias_variance import (
    BiasVariance,
    FirstColumns,
    bias_variance,
    bias_variance_curve,
)
from gradstat.regularisation.cv import ElasticNetCV, LassoCV, RidgeCV
from gradstat.regularisation.lasso import ElasticNet, Lasso, enet_path, lasso_path
from gradstat.regularisation.plots import plot_bias_variance, plot_coef_path, plot_cv_curve
from gradstat.regularisation.ridge import Ridge, RidgePath, ridge_path
from gradstat.validation import ConvergenceWarning

__all__ = [
    "BiasVariance",
    "ConvergenceWarning",
    "ElasticNet",
    "ElasticNetCV",
    "FirstColumns",
    "Lasso",
    "LassoCV",
    "Ridge",
    "RidgeCV",
    "RidgePath",
    "bias_variance",
    "bias_variance_curve",
    "enet_path",
    "lasso_path",
    "plot_bias_variance",
    "plot_coef_path",
    "plot_cv_curve",
    "ridge_path",
]
