"""The examples in the op docstrings run and print what they claim."""

import doctest
import importlib

import pytest

import deepnum

MODULES = ["pointwise", "reduce", "minmax", "logexp", "linalg", "einsum", "shape", "join", "index",
           "gather_scatter", "index_put", "pad", "elementwise", "special", "logic", "matrix",
           "arrange", "sorting"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"deepnum.ops.{name}")
    result = doctest.testmod(module, extraglobs={"deepnum": deepnum}, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
