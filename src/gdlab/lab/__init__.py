"""The lab: loss surfaces, trajectories, fair tuning, pictures and the articles' experiments.

- ``functions``: the zoo of 2-D test functions (and two 1-D ones), gradients from the engine;
- ``trajectories``: run an optimizer on a function, record the path, save it as data;
- ``tuning``: the same learning-rate budget for every optimizer, best lr by a fixed rule;
- ``plots`` / ``animate``: contour plots with paths, loss curves, schedules, GIFs;
- ``experiments``: the articles' and textbooks' runs by name, with their published numbers;
- ``gallery``: the docs pictures, drawn by the lab (``python -m gdlab.lab.gallery docs/img``).

Plotting needs matplotlib (``pip install 'gdlab[plot]'``); it is imported only inside the
plotting functions, so ``import gdlab.lab`` works without it.
"""

from __future__ import annotations

from gdlab.lab.animate import animate_trajectories
from gdlab.lab.fileio import atomic_path, atomic_write_text, save_figure
from gdlab.lab.functions import (
    FUNCTIONS,
    FUNCTIONS_1D,
    Function1D,
    TestFunction,
    get_function,
    get_function_1d,
    noisy,
)
from gdlab.lab.plots import (
    Series,
    plot_function_1d,
    plot_grad_norms,
    plot_loss_curves,
    plot_schedules,
    plot_surface,
    plot_trajectories,
)
from gdlab.lab.trajectories import (
    OPTIMIZERS,
    OptimizerSpec,
    Trajectory,
    get_optimizer_spec,
    load_trajectories,
    make_optimizer,
    run_trajectory,
    save_trajectories,
)
from gdlab.lab.tuning import (
    LR_RANGE,
    Trial,
    TuningResult,
    compare_optimizers,
    jittered_starts,
    lr_candidates,
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
