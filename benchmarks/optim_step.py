"""One step of each optimizer beyond torch.optim on 10M float32 parameters, beside its reference.

Each row is a registry optimizer (``gdlab.optim.OPTIMIZERS``) and the torch (CPU)
implementation its tests compare against (for LAMB, whose step-exact reference is optax's,
kozistr's ``pytorch_optimizer.Lamb``), stepped on the same 1000 x 10000 float32 matrix (a
matrix, so LARS and LAMB take their layer-wise path). The two are timed interleaved in one
process (``benchmarks.harness.compare``) and the median is reported; ``ratio < 1``: gdlab is
faster. The new optimizers run their reference rules (NumPy formulas computed into work
arrays kept in their state), no fast kernel. A reference that is not installed is listed as not run.

Run: ``python benchmarks/optim_step.py [--threads 1] [--smoke]``; in the suite it is
``python -m benchmarks --only optim_step``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import compare, print_rows, row  # noqa: E402
from gdlab.nn import Parameter  # noqa: E402
from gdlab.optim import OPTIMIZERS  # noqa: E402

SHAPE, SMOKE_SHAPE = (1000, 10_000), (100, 2_000)
# registry name -> (reference module, class, kwargs), each a torch optimizer on CPU
REFERENCES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "lion": ("lion_pytorch", "Lion", {}),
    "adabelief": ("adabelief_pytorch", "AdaBelief", {"print_change_log": False}),
    "yogi": ("pytorch_optimizer", "Yogi", {"weight_decouple": False}),
    "adan": ("pytorch_optimizer", "Adan", {}),
    "lamb": ("pytorch_optimizer", "Lamb", {}),
    "lars": ("pytorch_optimizer", "LARS", {}),
    "novograd": ("pytorch_optimizer", "NovoGrad", {}),
    "madgrad": ("madgrad", "MADGRAD", {}),
    "adabound": ("adabound", "AdaBound", {}),
    "amsbound": ("adabound", "AdaBound", {"amsbound": True}),
    "adopt": ("pytorch_optimizer", "ADOPT", {}),
    "ademamix": ("pytorch_optimizer", "AdEMAMix", {"weight_decouple": True}),
    "sgd_schedule_free": ("schedulefree", "SGDScheduleFree", {}),
    "adamw_schedule_free": ("schedulefree", "AdamWScheduleFree", {}),
    "radam_schedule_free": ("schedulefree", "RAdamScheduleFree", {}),
    "prodigy": ("prodigyopt", "Prodigy", {}),
    "dadapt_sgd": ("dadaptation", "DAdaptSGD", {}),
    "dadapt_adam": ("dadaptation", "DAdaptAdam", {}),
    "sophia": ("sophia_opt", "SophiaG", {}),
}
# Not timed here: Shampoo and SOAP precondition a 1000 x 10000 matrix with 10000 x 10000
# factors (their cost is the eigendecompositions, not the step), the wrappers (Lookahead, SAM)
# run another optimizer's step, and the second-order ones need a closure with a graph.


def _reference(name: str) -> Callable[..., Any] | None:
    module, cls, _ = REFERENCES[name]
    try:
        return getattr(importlib.import_module(module), cls)
    except ImportError:
        return None


def _candidates(name: str, shape: tuple[int, int]) -> dict[str, Callable[[], object]]:
    import torch

    spec = OPTIMIZERS[name]
    rng = np.random.default_rng(0)
    data = rng.standard_normal(shape, dtype=np.float32)
    grad = rng.standard_normal(shape, dtype=np.float32)
    p = Parameter(data.copy())
    p.grad = grad.copy()
    out: dict[str, Callable[[], object]] = {
        "gdlab": spec.cls([p], lr=spec.lr, **spec.defaults).step
    }
    ref_cls = _reference(name)
    if ref_cls is not None:
        t = torch.from_numpy(data.copy()).requires_grad_()
        t.grad = torch.from_numpy(grad.copy())
        ref = ref_cls([t], lr=spec.lr, **REFERENCES[name][2])
        if callable(getattr(ref, "train", None)):
            ref.train()  # the schedulefree package steps in train mode only
        out["reference"] = ref.step
    return out


def run(threads: int = 1, smoke: bool = False) -> list[dict]:
    """One row per optimizer with a reference: gdlab's step time vs the reference's."""
    shape = SMOKE_SHAPE if smoke else SHAPE
    repeats, min_time = (3, 0.01) if smoke else (5, 0.2)
    rows = []
    for name in (n for n in OPTIMIZERS if n in REFERENCES):
        module, cls, _ = REFERENCES[name]
        stats = compare(_candidates(name, shape), repeats=repeats, min_time=min_time)
        missing = "" if "reference" in stats else "reference not installed"
        case = f"optim_step {name} {shape[0]}x{shape[1]} float32"
        rows.append(row(case, stats["gdlab"], f"{module}.{cls}", stats.get("reference"), missing))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1", help="comma-separated thread counts")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    args = parser.parse_args(argv)
    print_rows(run, (int(t) for t in args.threads.split(",")), args.smoke)
    return 0


if __name__ == "__main__":
    sys.exit(main())
