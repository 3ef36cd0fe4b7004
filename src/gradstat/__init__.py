"""gradstat: from least squares to LSTMs with every number explained."""

from gradstat.linear import OLS, CollinearityWarning, OLSResults, compare, ols

__all__ = ["OLS", "CollinearityWarning", "OLSResults", "compare", "ols"]
__version__ = "0.1.0"
