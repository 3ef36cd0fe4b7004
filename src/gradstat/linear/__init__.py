"""The linear model (notes, DL2): least squares, inference, ANOVA, nested-model tests."""

from gradstat.linear.anova import compare
from gradstat.linear.ols import OLS, ols
from gradstat.linear.results import CollinearityWarning, OLSResults, OutOfCoreOLSResults, PerfectFitWarning

__all__ = [
    "OLS",
    "CollinearityWarning",
    "OLSResults",
    "OutOfCoreOLSResults",
    "PerfectFitWarning",
    "compare",
    "ols",
]
