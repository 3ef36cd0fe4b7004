"""Generalised linear models (IRLS on the QR least-squares solver) and logistic regression."""

from gradstat.generalised.anova import anova_glm, compare, compare_glm
from gradstat.generalised.logistic import LogisticRegression
from gradstat.generalised.model import GLM, glm
from gradstat.generalised.results import GLMResults
from gradstat.generalised.separation import SeparationWarning

__all__ = [
    "GLM",
    "GLMResults",
    "LogisticRegression",
    "SeparationWarning",
    "anova_glm",
    "compare",
    "compare_glm",
    "glm",
]
