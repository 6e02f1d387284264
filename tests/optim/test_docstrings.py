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
    "gdlab.optim._fast.threads",
    "gdlab.optim.adabelief",
    "gdlab.optim.adadelta",
    "gdlab.optim.adafactor",
    "gdlab.optim.adagrad",
    "gdlab.optim.adahessian",
    "gdlab.optim.adam",
    "gdlab.optim.adamax",
    "gdlab.optim.adamw",
    "gdlab.optim.asgd",
    "gdlab.optim.lbfgs",
    "gdlab.optim.lion",
    "gdlab.optim.heavy_ball",
    "gdlab.optim.muon",
    "gdlab.optim.nadam",
    "gdlab.optim.newton",
    "gdlab.optim.optimizer",
    "gdlab.optim.radam",
    "gdlab.optim.rmsprop",
    "gdlab.optim.rprop",
    "gdlab.optim.schedules",
    "gdlab.optim.sgd",
    "gdlab.optim.sophia",
    "gdlab.nn.utils.clip_grad",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed"
