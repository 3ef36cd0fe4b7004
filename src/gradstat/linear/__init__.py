"""The linear model (notes, DL2): least squares, inference, ANOVA, nested-model tests."""

from gradstat.linear.anova import compare
from gradstat.linear.ols import OLS, CollinearityWarning, ols
from gradstat.linear.results import OLSResults

__all__ = ["OLS", "CollinearityWarning", "OLSResults", "compare", "ols"]
