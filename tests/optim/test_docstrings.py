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
    "gdlab.optim.adabound",
    "gdlab.optim.adadelta",
    "gdlab.optim.adafactor",
    "gdlab.optim.adagrad",
    "gdlab.optim.adahessian",
    "gdlab.optim.adam",
    "gdlab.optim.adamax",
    "gdlab.optim.adamw",
    "gdlab.optim.adamw_schedule_free",
    "gdlab.optim.adan",
    "gdlab.optim.ademamix",
    "gdlab.optim.adopt",
    "gdlab.optim.asgd",
    "gdlab.optim.chain",
    "gdlab.optim.dadapt_adam",
    "gdlab.optim.dadapt_sgd",
    "gdlab.optim.from_rule",
    "gdlab.optim.heavy_ball",
    "gdlab.optim.lamb",
    "gdlab.optim.lars",
    "gdlab.optim.lookahead",
    "gdlab.optim.prodigy",
    "gdlab.optim.radam_schedule_free",
    "gdlab.optim.sam",
    "gdlab.optim.sgd_schedule_free",
    "gdlab.optim.lbfgs",
    "gdlab.optim.lion",
    "gdlab.optim.madgrad",
    "gdlab.optim.muon",
    "gdlab.optim.nadam",
    "gdlab.optim.newton",
    "gdlab.optim.novograd",
    "gdlab.optim.sophia_h",
    "gdlab.optim.optimizer",
    "gdlab.optim.radam",
    "gdlab.optim.rmsprop",
    "gdlab.optim.rprop",
    "gdlab.optim.schedules",
    "gdlab.optim.sgd",
    "gdlab.optim.shampoo",
    "gdlab.optim.soap",
    "gdlab.optim.sophia",
    "gdlab.optim.sophia_h",
    "gdlab.optim.swa_utils.averaging",
    "gdlab.optim.swa_utils.swalr",
    "gdlab.optim.yogi",
    "gdlab.nn.utils.clip_grad",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed"
