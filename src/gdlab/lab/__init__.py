"""The lab: loss surfaces, trajectories, fair tuning, pictures and the articles' experiments.

- ``surface/``: the 2-D test functions, optimizer paths on them, their tuning and animation;
- ``compare/``: optimizers and batch modes compared fairly on networks;
- ``articles/``: every ``gdlab reproduce`` experiment, in one registry;
- ``output/``: run directories, figures, HTML reports, terminal tables;
- ``search``: the one learning-rate search protocol (``compare`` and ``surface`` use it);
- ``optimizers``: the optimizers by short name (the lab's one import of the registry);
- ``config`` / ``train_config``: typed settings, TOML and ``--set`` overrides;
- ``tasks``: data splits, MLPs and loaders shared by ``compare``, ``train`` and ``lr-find``;
- ``training``, ``lr_finder``, ``schedule_plot``, ``gradcheck``: the other commands' work;
- ``gallery``: the docs pictures, drawn by the lab (``python -m gdlab.lab.gallery docs/img``).

Plotting needs matplotlib (``pip install 'gdlab[plot]'``); it is imported only inside the
plotting functions, so ``import gdlab.lab`` works without it.
"""

from __future__ import annotations

from gdlab.lab.optimizers import OPTIMIZERS, OptimizerSpec, get_optimizer_spec, make_optimizer
from gdlab.lab.output.fileio import atomic_path, atomic_write_text, save_figure
from gdlab.lab.output.plots import (
    Series,
    plot_function_1d,
    plot_grad_norms,
    plot_loss_curves,
    plot_schedules,
    plot_surface,
    plot_trajectories,
)
from gdlab.lab.search import LR_RANGE, lr_candidates
from gdlab.lab.surface.animate import animate_trajectories
from gdlab.lab.surface.functions import (
    FUNCTIONS,
    FUNCTIONS_1D,
    Function1D,
    TestFunction,
    get_function,
    get_function_1d,
    noisy,
)
from gdlab.lab.surface.trajectories import (
    Trajectory,
    load_trajectories,
    run_trajectory,
    save_trajectories,
)
from gdlab.lab.surface.tuning import (
    Trial,
    TuningResult,
    compare_optimizers,
    jittered_starts,
    tune_lr,
)

__all__ = [
    "FUNCTIONS", "FUNCTIONS_1D", "LR_RANGE", "OPTIMIZERS", "Function1D", "OptimizerSpec",
    "Series", "TestFunction", "Trajectory", "Trial", "TuningResult", "animate_trajectories",
    "atomic_path", "atomic_write_text", "compare_optimizers", "get_function", "get_function_1d",
    "get_optimizer_spec", "jittered_starts", "load_trajectories", "lr_candidates",
    "make_optimizer", "noisy", "plot_function_1d", "plot_grad_norms", "plot_loss_curves",
    "plot_schedules", "plot_surface", "plot_trajectories", "run_trajectory", "save_figure",
    "save_trajectories", "tune_lr",
]  # fmt: skip
