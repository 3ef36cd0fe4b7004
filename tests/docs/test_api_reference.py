"""Every public name has a reference entry, and its docstring has numpydoc sections.

A name is public when it is in the ``__all__`` of a package listed below. Its reference entry is
an ``autoclass``/``autofunction``/``autoexception``/``automodule`` directive in an ``eval-rst``
block of ``docs/api/*.md`` (of the same object under any of its import paths). Its docstring
needs a ``Parameters`` section (a function without parameters needs ``Returns`` instead, a class
whose constructor takes none needs ``Examples``).
"""

import importlib
import inspect
import re
from pathlib import Path

import pytest

API_PAGES = Path(__file__).resolve().parents[2] / "docs" / "api"
DIRECTIVE = re.compile(r"^\.\. auto(class|function|exception|module|data)::\s+(\S+)", re.M)
# autodoc writes reStructuredText: in a MyST fence (```{autoclass}) MyST would read it as Markdown
MYST_AUTODOC_FENCE = re.compile(r"^```\{auto\w+\}", re.M)

# packages whose docstrings are in numpydoc form: every public name defined there is checked
CHECKED = [
    "gradstat",
    "gradstat.linear",
    "gradstat.regularisation",
    "gradstat.datasets",
    "gradstat.generalised",
    "gradstat.nn",
]
# the modules whose docstrings are converted: a checked name is enforced when it is defined in one
CONVERTED = (
    "gradstat.linear",
    "gradstat.regularisation",
    "gradstat.datasets",
    "gradstat.validation",
    "gradstat.generalised",
    "gradstat.nn.layers",
    "gradstat.nn.losses",
    "gradstat.nn.optim",
    "gradstat.nn.training",
    "gradstat.nn.io",
    "gradstat.nn.inspection",
    "gradstat.nn.estimators",
)
# pending conversion (other work is changing these APIs): entries are required, sections not yet.
# Move a package to CHECKED and CONVERTED once its docstrings have Parameters sections.
PENDING: list[str] = []


def _resolve(kind: str, dotted: str) -> object:
    """The object Sphinx documents: a module, or an attribute of the module before the last dot."""
    if kind == "module":
        return importlib.import_module(dotted)
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def documented_objects() -> dict[int, str]:
    """id(object) → the directive target naming it, for every entry in docs/api."""
    found = {}
    for page in sorted(API_PAGES.glob("*.md")):
        for kind, target in DIRECTIVE.findall(page.read_text(encoding="utf-8")):
            found[id(_resolve(kind, target))] = target
    return found


def public_names(packages: list[str]) -> list[tuple[str, str]]:
    return [(pkg, name) for pkg in packages for name in importlib.import_module(pkg).__all__]


@pytest.mark.parametrize(("package", "name"), public_names(CHECKED + PENDING))
def test_every_public_name_has_a_reference_entry(package, name):
    obj = getattr(importlib.import_module(package), name)
    assert id(obj) in documented_objects(), f"{package}.{name} has no entry in docs/api/*.md"


def _needs_parameters(obj: object) -> bool:
    if inspect.ismodule(obj):
        return False
    try:
        signature = inspect.signature(obj)  # a class: its constructor's
    except (TypeError, ValueError):
        return True
    return any(p.name not in ("self", "cls") for p in signature.parameters.values())


def _has_section(doc: str, title: str) -> bool:
    return re.search(rf"^{title}\n-{{{len(title)}}}$", doc, re.M) is not None


def _converted(package: str, name: str) -> bool:
    """Defined in a converted package (the top-level package re-exports pending ones too)."""
    obj = getattr(importlib.import_module(package), name)
    module = obj.__name__ if inspect.ismodule(obj) else obj.__module__
    return module.startswith(CONVERTED)


@pytest.mark.parametrize(("package", "name"), [c for c in public_names(CHECKED) if _converted(*c)])
def test_docstring_has_numpydoc_sections(package, name):
    obj = getattr(importlib.import_module(package), name)
    doc = inspect.getdoc(obj) or ""
    assert doc, f"{package}.{name} has no docstring"
    if inspect.ismodule(obj):
        return
    if _needs_parameters(obj):
        assert _has_section(doc, "Parameters"), f"{package}.{name}: no Parameters section"
    elif inspect.isclass(obj):  # nothing to list: show how it is used
        assert _has_section(doc, "Examples"), f"{package}.{name}: no parameters and no Examples section"
    else:
        assert _has_section(doc, "Returns"), f"{package}.{name}: no parameters and no Returns section"


def test_the_converted_packages_are_checked():
    checked = {name for package, name in public_names(CHECKED) if _converted(package, name)}
    assert {"ols", "OLSResults", "Ridge", "LassoCV", "bias_variance", "load", "read_idx"} <= checked
    assert {"glm", "GLM", "GLMResults", "LogisticRegression", "compare_glm", "SeparationWarning"} <= checked
    assert {"LSTM", "Sequential", "Layer", "ReLU", "CrossEntropy", "AdamW", "StepLR", "he_normal"} <= checked
    assert {"Trainer", "EarlyStopping", "save", "load_checkpoint", "explain", "MLPClassifier"} <= checked


def test_reference_entries_name_real_objects():
    # a typo in a directive would break the docs build; catch it here with the name
    for page in sorted(API_PAGES.glob("*.md")):
        for kind, target in DIRECTIVE.findall(page.read_text(encoding="utf-8")):
            _resolve(kind, target)


def test_reference_entries_are_rendered_as_restructuredtext():
    for page in sorted(API_PAGES.glob("*.md")):
        fences = MYST_AUTODOC_FENCE.findall(page.read_text(encoding="utf-8"))
        assert not fences, f"{page.name}: wrap autodoc directives in ```{{eval-rst}} blocks, not {fences[0]}"
