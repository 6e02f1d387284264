"""``gdlab schedule``: plot ``optim.schedules``' step -> lr functions by name.

``--param key=value`` sets a schedule's arguments (to every named schedule that takes it);
``t_max`` and ``total_steps`` default to ``--steps``, so the schedule ends at the last step.

Files: ``schedule.csv``/``.jsonl`` (lr per step), ``schedule.png``/``.svg``, ``config.toml``,
``summary.json``, ``report.html``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gdlab.lab.config import (
    ConfigError,
    check_arguments,
    did_you_mean,
    option,
    parse_override,
    positive_float,
    positive_int,
    seed_option,
)
from gdlab.lab.output.plots import plot_schedules
from gdlab.lab.output.report import Report
from gdlab.lab.output.rundir import RunDir
from gdlab.lab.training import schedule_length_defaults
from gdlab.optim import schedules

__all__ = ["ScheduleConfig", "call_schedule", "run_schedule", "schedule_names"]


def schedule_names() -> list[str]:
    """The step -> lr schedule functions of ``gdlab.optim.schedules`` that take numbers only
    (``join`` combines other schedules, which a command line cannot give)."""
    names = getattr(schedules, "__all__", [])
    return [
        n
        for n in names
        if callable(getattr(schedules, n, None)) and not n[0].isupper() and n != "join"
    ]


@dataclass
class ScheduleConfig:
    """Which schedules to draw, from which lr, over how many steps."""

    names: list[str] = option(["constant"], "names", factory=True, nargs="+",
                              choices=schedule_names, metavar="NAME",
                              help="one of: {choices}")  # fmt: skip
    lr: float = option(0.1, "--lr", type=positive_float, help="initial lr (default 0.1)")
    steps: int = option(100, "--steps", type=positive_int)
    params: list[str] = option(
        [], "--param", factory=True, action="append", metavar="KEY=VALUE",
        help="schedule argument, e.g. --param gamma=0.5 or --param t_max=50 (repeatable)",
    )  # fmt: skip
    log: bool = option(False, "--log", action="store_true", help="log-scale lr axis")
    seed: int = seed_option()

    def parsed_params(self) -> dict[str, Any]:
        """``--param`` items as ``{key: value}`` (values parsed as TOML literals)."""
        params = {}
        for item in self.params:
            path, value = parse_override(item)
            params[".".join(path)] = value
        return params


def call_schedule(
    name: str, lr: float, params: dict[str, Any], steps: int, flag: str = "--param"
) -> Callable[[int], float]:
    """``schedules.<name>`` with ``lr`` as its first rate argument and ``steps`` as its length
    (``t_max``/``total_steps``) unless ``params`` sets them."""
    fn = getattr(schedules, name)
    sig = inspect.signature(fn)
    kwargs = dict(params)
    first = next(iter(sig.parameters), None)
    for key in ("lr", "init_value", "value", "peak_value", "max_lr", "base_lr"):
        if key in sig.parameters and key not in kwargs:
            kwargs[key] = lr
            break
    else:
        if first and first not in kwargs and sig.parameters[first].default is inspect._empty:
            kwargs[first] = lr
    kwargs = schedule_length_defaults(name, fn, steps) | kwargs
    check_arguments(fn, kwargs, f"schedule {name}: {flag}", sep=" ")
    return fn(**kwargs)


def build_schedules(config: ScheduleConfig) -> dict[str, Callable[[int], float]]:
    """name -> step -> lr for every named schedule; a ``--param`` no schedule takes is an error."""
    params = config.parsed_params()
    fns, used = {}, set()
    for name in config.names:
        accepted = inspect.signature(getattr(schedules, name)).parameters
        own = {k: v for k, v in params.items() if k in accepted}
        used |= own.keys()
        fns[name] = call_schedule(name, config.lr, own, config.steps)
    if unused := sorted(params.keys() - used):
        valid = sorted(
            {k for n in config.names for k in inspect.signature(getattr(schedules, n)).parameters}
        )
        raise ConfigError(
            f"schedule: no schedule among {config.names} takes --param {unused[0]}"
            f"{did_you_mean(unused[0], valid)}"
        )
    return fns


def run_schedule(config: ScheduleConfig, open_run_dir: Callable[[], RunDir]) -> dict[str, Any]:
    """Draw and save the schedules into ``open_run_dir()`` (made once the schedules are valid,
    so a bad ``--param`` leaves no directory); returns the first and final lrs and the report."""
    fns = build_schedules(config)
    run_dir = open_run_dir()
    steps = config.steps
    rows = [{"step": t} | {f"lr_{n}": float(f(t)) for n, f in fns.items()}
            for t in range(steps + 1)]  # fmt: skip
    run_dir.write_metrics(rows, stem="schedule")
    fig = plot_schedules(fns, steps=steps, log=config.log)
    run_dir.save_figure(fig, "schedule")
    settings = {"names": config.names, "lr": config.lr, "steps": steps,
                "params": config.parsed_params()}  # fmt: skip
    run_dir.write_config(settings)
    rep = Report("Learning-rate schedules", subtitle=", ".join(config.names), settings=settings)
    rep.add_figure(fig, caption="learning rate against step")
    every = max(1, steps // 10)
    rep.add_table(rows[::every], caption=f"every {every} steps")
    first = {n: rows[0][f"lr_{n}"] for n in fns}
    last = {n: rows[-1][f"lr_{n}"] for n in fns}
    run_dir.write_json("summary.json", {"first_lr": first, "final_lr": last, "settings": settings})
    report = rep.save(run_dir)
    return {"first_lr": first, "final_lr": last, "report": str(report)}
