"""``gdlab reproduce``: the articles' and textbooks' experiments, in one registry.

- ``registry``: ``Experiment``, ``EXPERIMENTS``, ``reproduce`` (computed vs published numbers)
  and ``write_experiment`` (what ``gdlab reproduce NAME`` writes);
- ``textbooks``: d2l.ai, Deep Learning from Scratch and Goh, with their published numbers;
- ``training``: the articles' training runs (002: batch modes; 003: Adam on six samples).

Importing this package registers every experiment; ``PUBLISHED`` is the part of the registry
with published numbers.
"""

from __future__ import annotations

from gdlab.lab.articles import (  # noqa: F401 - importing them registers their experiments
    activations,
    batch_cost,
    edge_of_stability,
    lr_decay,
    momentum_escape,
    overfitting,
    textbooks,
    training,
    vanishing_gradients,
)
from gdlab.lab.articles.registry import (
    EXPERIMENTS,
    Experiment,
    ExperimentResult,
    get_experiment,
    register_experiment,
    reproduce,
    write_experiment,
)

__all__ = [
    "EXPERIMENTS",
    "PUBLISHED",
    "Experiment",
    "ExperimentResult",
    "get_experiment",
    "register_experiment",
    "reproduce",
    "write_experiment",
]

#: The experiments with published numbers (``reproduce(name)`` returns their comparison).
PUBLISHED: dict[str, Experiment] = {n: e for n, e in EXPERIMENTS.items() if e.run is not None}
