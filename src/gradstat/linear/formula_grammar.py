"""The safe formula grammar: what a formula may ask to evaluate, checked before anything runs.

formulaic evaluates every Python piece of a formula (``I(...)``, ``np.log(x)``, ``{...}``)
with ``eval``, so ``y ~ I(x.to_csv('out.csv') or x)`` would write a file. In safe mode each
such piece is parsed with :mod:`ast` (never evaluated) and must use only

* column names and numbers (strings only as factor levels inside ``C(...)``),
* arithmetic ``+ - * / // % **``, unary ``- +`` and comparisons,
* the transforms ``I``, ``C`` (contrasts ``Treatment``, ``Sum``, ``Helmert``, ``Diff``,
  ``Poly`` and ``contr.<name>``), ``poly``, ``center``, ``scale``, ``standardize``,
  ``log``/``log2``/``log10``/``exp``/``exp2``/``exp10`` and ``np.<math function>``.

The formula operators themselves (``~ + - * / : ** ^ | %in%`` and parentheses) are
handled by formulaic's parser and never run Python; bare and `back-quoted` column names are
looked up, not evaluated. The ``.`` shorthand (all other columns) is not supported.
Anything else (attribute access, other calls, subscripts, lambdas, comprehensions,
``and``/``or``, names starting with ``_``) raises :class:`UnsafeFormulaError` naming the
offending piece.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from formulaic import Formula
from formulaic.errors import FormulaicError

NUMPY_FUNCTIONS = frozenset(
    {"log", "log1p", "log2", "log10", "exp", "expm1", "exp2", "sqrt", "square", "abs", "sin", "cos", "tanh"}
)
TRANSFORMS = frozenset(
    {"I", "poly", "center", "scale", "standardize", "log", "log2", "log10", "exp", "exp2", "exp10", "sqrt"}
)
CONTRASTS = frozenset({"Treatment", "Sum", "Helmert", "Diff", "Poly"})
CONTR_NAMES = frozenset({"treatment", "sum", "helmert", "diff", "poly"})

_BACKTICKS = re.compile(r"`[^`]*`")
_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow)
_UNARY = (ast.USub, ast.UAdd)
_COMPARE = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE)


class UnsafeFormulaError(ValueError):
    """A formula asks to evaluate something outside the safe grammar."""


def check_formula_grammar(formula: str) -> None:
    """Refuse ``formula`` unless every piece formulaic would evaluate is in the safe grammar."""
    for expr in _python_factors(parse_formula(formula)):
        _Checker(formula, expr).check()


def parse_formula(formula: str) -> Formula:
    """formulaic's parse of ``formula`` (which evaluates nothing); errors name the formula."""
    if not isinstance(formula, str):
        raise TypeError(f"formula must be a string such as 'y ~ x1 + x2', got {type(formula).__name__}")
    try:
        return Formula(formula)
    except FormulaicError as exc:
        if "`.` operator" in str(exc):
            raise ValueError(
                f"formula {formula!r}: the '.' shorthand for all other columns is not supported; "
                "name the columns (y ~ x1 + x2 + ...)"
            ) from None
        raise ValueError(f"cannot parse formula {formula!r}: {exc}") from exc


def explicit_factors(formula: str) -> set[str]:
    """Columns the formula wraps in ``C(...)``: the user asked for them to be categorical."""
    try:
        parsed = Formula(formula)
    except FormulaicError:
        return set()
    found: set[str] = set()
    for expr in _python_factors(parsed):
        try:
            tree = ast.parse(expr.strip(), mode="eval")
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "C"
                and node.args
                and isinstance(node.args[0], ast.Name)
            ):
                found.add(node.args[0].id)
    return found


def _python_factors(node: Any) -> list[str]:
    """The expressions of the factors formulaic evaluates as Python, in formula order."""
    if hasattr(node, "factors"):
        return [str(f.expr) for f in node.factors if getattr(f.eval_method, "value", None) == "python"]
    if isinstance(node, str | bytes):
        return []
    try:
        children = list(iter(node))
    except TypeError:
        return []
    return [expr for child in children for expr in _python_factors(child)]


class _Checker:
    def __init__(self, formula: str, expr: str) -> None:
        self.formula = formula
        self.expr = expr

    def refuse(self, node: ast.AST | None, why: str) -> UnsafeFormulaError:
        piece = ast.unparse(node) if node is not None else self.expr
        return UnsafeFormulaError(
            f"formula {self.formula!r}: {why} {piece!r} (in {self.expr!r}) is not allowed; a formula may "
            "use column names, numbers, arithmetic and the transforms I, C, poly, center, scale, "
            "standardize, log, exp, sqrt and np.<math function>"
        )

    def check(self) -> None:
        try:
            # a `quoted column name` is a lookup (formulaic maps it to an identifier), not code
            tree = ast.parse(_BACKTICKS.sub("quoted_column", self.expr.strip()), mode="eval")
        except SyntaxError as exc:
            raise UnsafeFormulaError(
                f"formula {self.formula!r}: cannot parse {self.expr!r}: {exc.msg}"
            ) from exc
        self.value(tree.body)

    def value(self, node: ast.AST) -> None:
        """An expression that yields data: names, numbers, arithmetic, allowed calls."""
        if isinstance(node, ast.Name):
            if node.id.startswith("_"):
                raise self.refuse(node, "the name")
        elif isinstance(node, ast.Constant):
            if not isinstance(node.value, int | float) or isinstance(node.value, bool):
                raise self.refuse(node, "the constant")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, _ARITHMETIC):
            self.value(node.left)
            self.value(node.right)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, _UNARY):
            self.value(node.operand)
        elif isinstance(node, ast.Compare) and all(isinstance(op, _COMPARE) for op in node.ops):
            for part in (node.left, *node.comparators):
                self.value(part)
        elif isinstance(node, ast.Call):
            self.call(node)
        elif isinstance(node, ast.Attribute):
            raise self.refuse(node, "attribute access")
        elif isinstance(node, ast.Subscript):
            raise self.refuse(node, "the subscript")
        else:  # name the innermost offence first (x.to_csv in `x.to_csv() or x`)
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self.value(child)
            raise self.refuse(node, f"the {type(node).__name__} expression")

    def call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id == "C":
            self.factor_call(node)
            return
        allowed = (isinstance(func, ast.Name) and func.id in TRANSFORMS) or (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id in ("np", "numpy")
            and func.attr in NUMPY_FUNCTIONS
        )
        if not allowed:
            raise self.refuse(func, "the call to")
        for arg in node.args:
            self.value(arg)
        for kw in node.keywords:
            if kw.arg is None:
                raise self.refuse(kw.value, "the ** argument")
            self.literal(kw.value)

    def factor_call(self, node: ast.Call) -> None:
        """``C(column[, contrast][, levels=[...]])``."""
        if not node.args:
            raise self.refuse(node, "C() without a column:")
        self.value(node.args[0])
        for extra in [*node.args[1:], *(kw.value for kw in node.keywords if kw.arg is not None)]:
            self.contrast(extra)
        if any(kw.arg is None for kw in node.keywords):
            raise self.refuse(node, "the ** argument in")

    def contrast(self, node: ast.AST) -> None:
        """A contrast (``Treatment``, ``Sum('b')``, ``contr.treatment``) or a literal (levels)."""
        target = node.func if isinstance(node, ast.Call) else node
        is_contrast = (isinstance(target, ast.Name) and target.id in CONTRASTS) or (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id == "contr"
            and target.attr in CONTR_NAMES
        )
        if not is_contrast:
            self.literal(node)
            return
        if isinstance(node, ast.Call):
            for arg in [*node.args, *(kw.value for kw in node.keywords)]:
                self.literal(arg)

    def literal(self, node: ast.AST) -> None:
        """Numbers, strings, booleans, None, and lists/tuples of them."""
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float | str | bool | type(None)):
            return
        if isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant):
            self.literal(node.operand)
            return
        if isinstance(node, ast.List | ast.Tuple):
            for elt in node.elts:
                self.literal(elt)
            return
        raise self.refuse(node, "the argument")
