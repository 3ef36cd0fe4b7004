"""Demo of the linear model on bundled real data (mtcars, Prestige)."""

from __future__ import annotations

from pathlib import Path

from gradstat import datasets
from gradstat.linear import compare, ols


def run_demo(out_dir: Path) -> None:
    """mpg ~ wt + hp + C(cyl): summary, ANOVA, by-term tests, nested F-test, diagnostics plot."""
    cars = datasets.load("mtcars").set_index("model")  # row names label the diagnostics plot
    full = ols("mpg ~ wt + hp + C(cyl)", cars)
    reduced = ols("mpg ~ wt", cars)
    print(full.summary())
    print("\nANOVA table (omnibus F-test):")
    print(full.anova().to_string(float_format=lambda v: f"{v:.6g}", na_rep=""))
    print("\nSequential F-tests by term (C(cyl) tested as a whole on k-1 = 2 df):")
    print(full.anova(by_term=True).to_string(float_format=lambda v: f"{v:.6g}", na_rep=""))
    print("\nDoes adding hp and C(cyl) improve on mpg ~ wt? Nested-model F-test:")
    print(compare(reduced, full).to_string(float_format=lambda v: f"{v:.6g}", na_rep=""))
    prestige = ols("prestige ~ education + income + C(type)", datasets.load("prestige"), missing="drop")
    print(f"\nPrestige with missing='drop': {prestige.n_dropped} rows without 'type' dropped")
    print(
        prestige.predict(datasets.load("prestige").dropna().head(3), interval="prediction").to_string(
            float_format=lambda v: f"{v:.4g}"
        )
    )
    path = out_dir / "ols_diagnostics.png"
    full.plot_diagnostics().savefig(path, dpi=90)
    print(f"\nDiagnostics plot (R's plot(lm)) saved to {path}")
