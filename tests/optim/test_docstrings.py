"""The ``>>>`` examples in the optimizers', schedulers' and clipping docstrings run and hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "gdlab.optim._lr_base",
    "gdlab.optim._lr_composite",
    "gdlab.optim._lr_cyclic",
    "gdlab.optim._lr_decay",
    "gdlab.optim._work",
    "gdlab.optim.adafactor",
    "gdlab.optim.adagrad",
    "gdlab.optim.adam",
    "gdlab.optim.adam_variants",
    "gdlab.optim.asgd_rprop",
    "gdlab.optim.lbfgs",
    "gdlab.optim.muon",
    "gdlab.optim.optimizer",
    "gdlab.optim.schedules",
    "gdlab.optim.sgd",
    "gdlab.nn.utils.clip_grad",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed"
