"""Gradient transformations (Optax's, with per-parameter state) and their composition.

Each is a pure ``(init, update)`` pair on arrays with named state, one concept per file;
:func:`gdlab.optim.chain` turns a sequence of them into an ordinary torch-shaped optimizer::

    from gdlab.optim import chain
    from gdlab.optim.transforms import add_decayed_weights, scale_by_adam, scale_by_lr

    opt = chain(scale_by_adam(), add_decayed_weights(1e-2), scale_by_lr(1e-3))(params)  # AdamW

The updates follow Optax's sign: they are *added* to the parameters, and
:func:`scale_by_lr` multiplies by −lr (the param group's lr, so schedulers work). An update
is an :class:`Update`: work arrays changed in place (a step allocates nothing) and scalar
factors kept apart until it is applied, so the AdamW chain above is ``AdamW`` bit for bit.
"""

from gdlab.optim.transforms.accumulation import MultiSteps, MultiStepsState
from gdlab.optim.transforms.adam import ScaleByAdamState, ScaleByAmsgradState, scale_by_adam
from gdlab.optim.transforms.base import (
    EmptyState,
    GradientTransformation,
    Update,
    compose,
    materialize,
    rescale,
    stateless,
)
from gdlab.optim.transforms.centralize import centralize, centralize_array
from gdlab.optim.transforms.clipping import clip, clip_by_global_norm
from gdlab.optim.transforms.finite import ApplyIfFiniteState, apply_if_finite
from gdlab.optim.transforms.masked import masked
from gdlab.optim.transforms.momentum import TraceState, trace
from gdlab.optim.transforms.rms import (
    ScaleByRmsState,
    ScaleByStddevState,
    scale_by_rms,
    scale_by_stddev,
)
from gdlab.optim.transforms.scale import ScaleByScheduleState, scale, scale_by_lr, scale_by_schedule
from gdlab.optim.transforms.weight_decay import add_decayed_weights

__all__ = [
    "ApplyIfFiniteState", "EmptyState", "GradientTransformation", "MultiSteps", "MultiStepsState",
    "ScaleByAdamState", "ScaleByAmsgradState", "ScaleByRmsState", "ScaleByScheduleState",
    "ScaleByStddevState", "TraceState", "Update", "add_decayed_weights", "apply_if_finite",
    "centralize", "centralize_array", "clip", "clip_by_global_norm", "compose", "masked",
    "materialize", "rescale", "scale", "scale_by_adam", "scale_by_lr", "scale_by_rms",
    "scale_by_schedule", "scale_by_stddev", "stateless", "trace",
]  # fmt: skip
