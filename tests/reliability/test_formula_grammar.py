"""The safe formula grammar refuses, before anything is evaluated, every piece that could run code.

Each hostile formula targets a file in a temporary folder: after the refusal the file must not
exist. The control case shows the hazard is real (with ``safe=False`` formulaic evaluates the
same formula and writes the file), so the file check can fail.
"""

import numpy as np
import pandas as pd
import pytest

import gradstat
from gradstat.cli import main
from gradstat.linear.formula_grammar import UnsafeFormulaError, check_formula_grammar

FRAME = pd.DataFrame(
    {
        "y": [1.0, 3.0, 2.0, 5.0, 4.0, 6.0, 8.0, 7.0],
        "x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
        "g": list("abab" * 2),
    }
)

HOSTILE = [
    ("y ~ I(x.to_csv({path!r}) or x)", "the call to 'x.to_csv'"),
    ("y ~ {{open({path!r}, 'w')}}", "the call to 'open'"),
    ("y ~ I(__import__('os').system('touch ' + {path!r}))", "the call to"),
    ("y ~ x + I(np.savetxt({path!r}, x))", "the call to 'np.savetxt'"),
    ("y ~ C(g, levels=open({path!r}, 'w'))", 'the argument "open('),
    ("y ~ C(g, Treatment(open({path!r}, 'w')))", 'the argument "open('),
    ("y ~ I([open({path!r}, 'w') for _ in x])", "the call to 'open'"),
    ("y ~ I((lambda: open({path!r}, 'w'))())", 'the call to "lambda: open('),
    ("y ~ I(x.__class__.__init__.__globals__)", "attribute access"),
    ("y ~ I(x[open({path!r}, 'w')])", "the subscript"),
    ("y ~ poly(x, 2, raw=open({path!r}, 'w'))", 'the argument "open('),
    ("y ~ I(x if open({path!r}, 'w') else x)", "the call to 'open'"),
    ("y ~ np.log(x, out=open({path!r}, 'w'))", 'the argument "open('),
    ("y ~ I(_x)", "the name '_x'"),
]


@pytest.mark.parametrize(("template", "fragment"), HOSTILE)
def test_hostile_formula_is_refused_before_anything_runs(tmp_path, template, fragment):
    target = tmp_path / "written.txt"
    formula = template.format(path=str(target))
    with pytest.raises(UnsafeFormulaError, match="is not allowed") as caught:
        gradstat.ols(formula, FRAME)
    assert fragment in str(caught.value)
    assert not target.exists()


def test_the_hazard_is_real_without_the_grammar(tmp_path):
    target = tmp_path / "written.csv"
    gradstat.ols(f"y ~ I(x.to_csv({str(target)!r}) or x)", FRAME, safe=False)
    assert target.exists()


def test_command_line_always_checks(tmp_path, capsys):
    target = tmp_path / "out.csv"
    data = tmp_path / "data.csv"
    FRAME.to_csv(data, index=False)
    code = main(["ols", str(data), f"y ~ I(x.to_csv({str(target)!r}) or x)"])
    assert code == 2
    assert "the call to 'x.to_csv'" in capsys.readouterr().err
    assert not target.exists()
    assert main(["ols", str(data), "y ~ x", "--compare", f"y ~ {{open({str(target)!r}, 'w')}}"]) == 2
    assert not target.exists()


# every formula the test suite, demos and docs fit (templates filled in), plus the transforms
# the grammar promises
LEGITIMATE = [
    "breaks ~ C(wool) + C(tension) + C(wool):C(tension)",
    "breaks ~ C(wool) * C(tension)",
    "len ~ C(supp) + dose",
    "mpg ~ 0 + wt + hp",
    "mpg ~ C(gear) + C(am) + wt + qsec",
    "mpg ~ np.log(hp)",
    "prestige ~ C(type) + education + np.log(income) + women",
    "y ~ 0 + poly(x, 2, raw=True)",
    "y ~ poly(x, 2, raw=True):C(g)",
    "y ~ poly(x, 4)",
    "y ~ x + I(x**2) + I(x**3) + I(x**4) + I(x**5) + I(x**6) + I(x**7)",
    "y ~ x - 1",
    "y ~ (x + z) ** 2",
    "y ~ (x + z) ^ 2",
    "y ~ x / g",
    "y ~ x + z | g",
    "y ~ C(g, Treatment('b')) + C(h, Sum) + C(k, contr.treatment('c')) + C(m, levels=['b', 'a'])",
    "y ~ I(x * z - 2.5) + I(-x) + I(x / (z + 1)) + I(x // 2) + I(x % 3) + I(x > 0)",
    "y ~ center(x) + scale(z) + standardize(w)",
    "y ~ log(x) + exp(z) + sqrt(w) + log10(x) + log2(x) + exp2(z) + exp10(z)",
    "y ~ np.log1p(x) + np.exp(z) + np.sqrt(w) + np.abs(v) + np.square(u)",
    "y ~ {x + 1}",
    "y ~ `a b` + x + I(`a b` * 2)",
    "np.log(y) ~ x",
]


@pytest.mark.parametrize("formula", LEGITIMATE)
def test_legitimate_formula_is_accepted(formula):
    check_formula_grammar(formula)


def test_legitimate_transforms_fit_the_same_numbers_as_unchecked():
    formula = "y ~ I(x**2) + np.log(x) + C(g, Treatment('b'))"
    checked = gradstat.ols(formula, FRAME)
    unchecked = gradstat.ols(formula, FRAME, safe=False)
    assert list(checked.coef.index) == list(unchecked.coef.index)
    np.testing.assert_array_equal(checked.coef.to_numpy(), unchecked.coef.to_numpy())


def test_unparseable_pieces_are_named():
    with pytest.raises(ValueError, match="cannot parse formula"):
        check_formula_grammar("y ~ x +")
    with pytest.raises(TypeError, match="formula must be a string"):
        check_formula_grammar(3)  # type: ignore[arg-type]
