"""The Examples in mcv's docstrings run, so the documentation cannot drift from the code."""

import doctest
import importlib

import pytest

MODULES = ["mcv", "mcv.checks.gradient", "mcv.checks.diagnoses", "mcv.checks.jacobian",
           "mcv.jacobians", "mcv.problem", "mcv.expr", "mcv.declare", "mcv.symbolic", "mcv.derive",
           "mcv.prove"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    failures, tried = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert failures == 0 and tried > 0
