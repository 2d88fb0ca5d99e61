"""Every ``Examples:`` block in deepnum's docstrings runs and prints what it shows."""

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import deepnum

MODULES = sorted(
    name for _, name, _ in pkgutil.walk_packages(deepnum.__path__, "deepnum.")
    if not name.endswith("__main__")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    globs = {**vars(module), "deepnum": deepnum, "np": np}
    for test in finder.find(module, name, globs=globs):
        deepnum.manual_seed(0)
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
