"""The Examples in the docstrings run, and print what they say they print."""

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import gradstat

# the command line is a program, not a library: its modules run on import (__main__)
SKIP = ("gradstat.cli",)


def library_modules() -> list[str]:
    names = ["gradstat"]
    for info in pkgutil.walk_packages(gradstat.__path__, "gradstat."):
        if not info.name.startswith(SKIP):
            names.append(info.name)
    return names


def _examples(module_name: str) -> list[doctest.DocTest]:
    module = importlib.import_module(module_name)
    tests = doctest.DocTestFinder(exclude_empty=True).find(module, module_name)
    return [t for t in tests if t.examples]


MODULES_WITH_EXAMPLES = [m for m in library_modules() if _examples(m)]


def test_the_converted_packages_have_examples():
    converted = ("gradstat.linear", "gradstat.regularisation", "gradstat.datasets", "gradstat.generalised")
    nn_converted = (
        "gradstat.nn.layers",
        "gradstat.nn.losses",
        "gradstat.nn.optim",
        "gradstat.nn.training",
        "gradstat.nn.io",
        "gradstat.nn.inspection",
        "gradstat.nn.estimators",
    )
    for package in converted + nn_converted:
        assert any(m.startswith(package) for m in MODULES_WITH_EXAMPLES), package


@pytest.mark.parametrize("module_name", MODULES_WITH_EXAMPLES)
def test_docstring_examples(module_name):
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    with np.printoptions(legacy=False):
        for test in _examples(module_name):
            runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {module_name}"
