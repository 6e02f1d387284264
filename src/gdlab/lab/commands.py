"""One function per ``gdlab`` subcommand: do the work, write the run directory, return a result.

``cli.py`` only parses arguments; ``main(args)`` runs the command, prints its result and turns
failures into exit codes. Each command returns a dict that is printed as text (its ``"text"``)
or as one JSON document (everything else). Progress messages go to stderr, and only when
stderr is a terminal and ``--quiet`` is off.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gdlab.lab.rundir import RunDir, default_out_dir

__all__ = [
    "dataset_names", "experiment_names", "function_names", "main",
    "optimizer_names", "run", "schedule_names",
]  # fmt: skip


def _seed(args: argparse.Namespace) -> int:
    return 0 if getattr(args, "seed", None) is None else int(args.seed)


def open_run_dir(
    args: argparse.Namespace, command: str, default: Any = None, setup: tuple[str, ...] = ()
) -> RunDir:
    """The run directory of this command (``--out`` or a new timestamped one).

    ``setup`` names files written before any result (train's ``config.toml``): a new directory
    holding nothing else is removed when the command fails (see ``_leftover_run_dir``).
    """
    path = Path(args.out or default or default_out_dir(command))
    args.run_dir_is_new = not path.exists()  # only a directory made here is removed on failure
    args.run_dir_setup = setup
    run_dir = RunDir(path)
    args.run_dir = run_dir.path  # for the "interrupted; partial results in ..." message
    return run_dir


def progress_printer(args: argparse.Namespace, total: int | None = None) -> Callable | None:
    """A progress callback drawing on stderr (tqdm when installed), or None when not a TTY."""
    if args.quiet or args.format == "json" or not sys.stderr.isatty():
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is an optional extra
        return lambda msg: print(msg, file=sys.stderr)
    bar = tqdm(total=total, file=sys.stderr, unit="run", leave=False)

    def update(msg: str) -> None:
        bar.set_description(msg[:60], refresh=False)
        bar.update(1)

    return update


def _result(command: str, run_dir: RunDir | None, text: str, **data: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"command": command}
    if run_dir is not None:
        out["run_dir"] = str(run_dir.path)
        out["files"] = sorted(p.name for p in run_dir.files())
    return out | data | {"text": text}


# --------------------------------------------------------------------------- choices
def optimizer_names() -> list[str]:
    """The optimizers the commands accept (L-BFGS is for ``surface`` paths only)."""
    from gdlab.optim import OPTIMIZERS

    return [n for n in OPTIMIZERS if n != "lbfgs"]


def dataset_names() -> list[str]:
    from gdlab.lab.tasks import dataset_names as names

    return names()


def function_names() -> list[str]:
    from gdlab.lab.functions import FUNCTIONS

    return list(FUNCTIONS)


# --------------------------------------------------------------------------- compare
def cmd_compare(args: argparse.Namespace) -> dict[str, Any]:
    from gdlab.lab.compare import compare
    from gdlab.lab.compare_report import write_compare

    if not args.optimizers and not args.batch_modes:
        raise ValueError("compare: nothing to compare: give --optimizers and/or --batch-modes")
    run_dir = open_run_dir(args, "compare")
    pairs = {(o, "mbgd") for o in args.optimizers} | {
        (args.batch_optimizer, m) for m in args.batch_modes
    }
    n_variants = len(pairs)  # an optimizer at a batch mode is trained once, however labelled
    per_variant = args.seeds + (0 if args.lr else args.trials)
    progress = progress_printer(args, len(args.dataset) * n_variants * per_variant)
    result = compare(
        args.dataset,
        optimizers=args.optimizers,
        batch_modes=args.batch_modes,
        batch_optimizer=args.batch_optimizer,
        hidden=args.hidden,
        activation=args.activation,
        batch_size=args.batch_size,
        epochs=args.epochs,
        trials=args.trials,
        tune_epochs=args.tune_epochs,
        seeds=args.seeds,
        lr=args.lr,
        target=args.target,
        val_fraction=args.val_fraction,
        seed=_seed(args),
        progress=progress,
    )
    out = write_compare(result, run_dir, command=" ".join(["gdlab", *getattr(args, "argv", [])]))
    if result.interrupted:
        raise KeyboardInterrupt
    text = _compare_text(out["table"], several=len(args.dataset) > 1)
    if out["lr_at_edge"]:
        text += f"\n\nbest lr at the edge of the range tried: {', '.join(out['lr_at_edge'])}"
    text += f"\n\nreport: {out['report']}"
    return _result(
        "compare",
        run_dir,
        text,
        report=out["report"],
        results=out["table"],
        lr_at_edge=out["lr_at_edge"],
    )


def _compare_text(table: list[dict[str, Any]], several: bool) -> str:
    """The results table for the terminal: short headers, no columns repeated."""
    from gdlab.lab.compare_report import format_table, short_table

    return format_table(short_table(table, several, drop=("optimizer", "batch")))


# --------------------------------------------------------------------------- surface
def cmd_surface(args: argparse.Namespace) -> dict[str, Any]:
    from gdlab.lab.surface import run_surface

    run_dir = open_run_dir(args, "surface")
    out = run_surface(
        args.function,
        args.optimizers,
        run_dir,
        steps=args.steps,
        tune=args.tune,
        starts=args.starts,
        lr=args.lr,
        seed=_seed(args),
        gif=not args.no_gif,
    )
    from gdlab.lab.compare_report import format_table

    text = format_table(out["table"]) + f"\n\nreport: {out['report']}"
    return _result("surface", run_dir, text, report=out["report"], results=out["table"])


# --------------------------------------------------------------------------- lr-find
def cmd_lr_find(args: argparse.Namespace) -> dict[str, Any]:
    from gdlab.lab.lr_finder import run_lr_find

    run_dir = open_run_dir(args, "lr-find")
    out = run_lr_find(
        run_dir,
        dataset=args.dataset,
        hidden=args.hidden,
        activation=args.activation,
        batch_size=args.batch_size,
        optimizer=args.optimizer,
        start_lr=args.start_lr,
        end_lr=args.end_lr,
        num_iter=args.num_iter,
        seed=_seed(args),
    )
    text = (
        f"suggested lr: {out['lr_steepest']:.3g} (steepest descent), "
        f"{out['lr_min_div10']:.3g} (min / 10); {out['iterations']} iterations, "
        f"{out['stop_reason']}\n\nreport: {out['report']}"
        if out["lr_steepest"] is not None
        else f"no suggestion ({out['stop_reason']})\n\nreport: {out['report']}"
    )
    return _result("lr-find", run_dir, text, **out)


# --------------------------------------------------------------------------- schedule
def schedule_names() -> list[str]:
    """The step -> lr schedule functions of ``gdlab.optim.schedules`` that take numbers only
    (``join`` combines other schedules, which a command line cannot give)."""
    from gdlab.optim import schedules

    names = getattr(schedules, "__all__", [])
    return [
        n
        for n in names
        if callable(getattr(schedules, n, None)) and not n[0].isupper() and n != "join"
    ]


def _call_schedule(
    name: str, lr: float, params: dict[str, Any], steps: int
) -> Callable[[int], float]:
    """``schedules.<name>`` with ``lr`` as its first rate argument and ``steps`` as its length
    (``t_max``/``total_steps``) unless ``params`` sets them."""
    from gdlab.lab.training import schedule_length_defaults
    from gdlab.optim import schedules

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
    try:
        sig.bind(**kwargs)
    except TypeError as exc:
        raise ValueError(f"schedule {name}{sig}: {exc} (give it with --param key=value)") from None
    return fn(**kwargs)


def cmd_schedule(args: argparse.Namespace) -> dict[str, Any]:
    from gdlab.lab.config import parse_override
    from gdlab.lab.plots import plot_schedules
    from gdlab.lab.report import Report

    params = {}
    for item in args.param:
        path, value = parse_override(item)
        params[".".join(path)] = value
    from gdlab.optim import schedules

    fns, used = {}, set()
    for name in args.names:
        accepted = inspect.signature(getattr(schedules, name)).parameters
        own = {k: v for k, v in params.items() if k in accepted}
        used |= own.keys()
        fns[name] = _call_schedule(name, args.lr, own, args.steps)
    if unused := sorted(params.keys() - used):
        raise ValueError(f"schedule: no schedule among {args.names} takes --param {unused[0]}")
    run_dir = open_run_dir(args, "schedule")
    rows = [{"step": t} | {f"lr_{n}": float(f(t)) for n, f in fns.items()}
            for t in range(args.steps + 1)]  # fmt: skip
    run_dir.write_metrics(rows, stem="schedule")
    fig = plot_schedules(fns, steps=args.steps, log=args.log)
    run_dir.save_figure(fig, "schedule")
    settings = {"names": args.names, "lr": args.lr, "steps": args.steps, "params": params}
    run_dir.write_config(settings)
    rep = Report("Learning-rate schedules", subtitle=", ".join(args.names), settings=settings)
    rep.add_figure(fig, caption="learning rate against step")
    every = max(1, args.steps // 10)
    rep.add_table(rows[::every], caption=f"every {every} steps")
    first = {n: rows[0][f"lr_{n}"] for n in fns}
    last = {n: rows[-1][f"lr_{n}"] for n in fns}
    run_dir.write_json("summary.json", {"first_lr": first, "final_lr": last, "settings": settings})
    report = rep.save(run_dir)
    lines = [f"{n}: lr(0) = {first[n]:.4g}, lr({args.steps}) = {last[n]:.4g}" for n in fns]
    text = "\n".join(lines) + f"\n\nreport: {report}"
    return _result("schedule", run_dir, text, report=str(report), final_lr=last)


# --------------------------------------------------------------------------- reproduce
def experiment_names() -> list[str]:
    """The names ``gdlab reproduce`` accepts: the textbook runs, then the articles' own."""
    from gdlab.lab.articles import ARTICLE_EXPERIMENTS
    from gdlab.lab.experiments import EXPERIMENTS

    return [*EXPERIMENTS, *(n for n in ARTICLE_EXPERIMENTS if n not in EXPERIMENTS)]


def cmd_reproduce(args: argparse.Namespace) -> dict[str, Any]:
    from gdlab.lab.articles import reproduce

    run_dir = open_run_dir(args, f"reproduce-{args.name.replace('_', '-')}")
    out = reproduce(args.name, run_dir, seed=_seed(args))
    return _result("reproduce", run_dir, out.pop("text"), **out)


# --------------------------------------------------------------------------- train, gradcheck
def cmd_train(args: argparse.Namespace) -> dict[str, Any]:
    from gdlab.lab.training import run_train

    def open_train_dir(args: argparse.Namespace, command: str, default: Any = None) -> RunDir:
        return open_run_dir(args, command, default, setup=("config.toml",))

    return run_train(args, open_train_dir, _result)


def cmd_gradcheck(args: argparse.Namespace) -> dict[str, Any]:
    from gdlab.lab.training import run_gradcheck

    out = run_gradcheck(
        args.model, args.activation, args.loss, args.config, args.batch, seed=_seed(args)
    )
    return _result("gradcheck", None, out.pop("text"), **out)


def cmd_datasets(args: argparse.Namespace) -> dict[str, Any]:
    from gdlab import datasets

    avail = datasets.available()
    width = max(map(len, avail), default=0)
    text = "\n".join(f"{name.ljust(width)}  {desc}" for name, desc in avail.items())
    return _result(
        "datasets", None, text, datasets=[{"name": n, "description": d} for n, d in avail.items()]
    )


# --------------------------------------------------------------------------- bench
def cmd_bench(args: argparse.Namespace) -> dict[str, Any]:
    from gdlab.lab.bench import run_bench

    return {"command": "bench", "exit_code": run_bench(args.bench_args)}


COMMANDS: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "compare": cmd_compare, "surface": cmd_surface, "train": cmd_train, "lr-find": cmd_lr_find,
    "schedule": cmd_schedule, "reproduce": cmd_reproduce, "datasets": cmd_datasets,
    "gradcheck": cmd_gradcheck, "bench": cmd_bench,
}  # fmt: skip


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run the parsed command; return its result dict (``"text"`` for the terminal)."""
    return COMMANDS[args.command](args)


# --------------------------------------------------------------------------- output, exit codes
def _emit(result: dict[str, Any], args: argparse.Namespace) -> None:
    if args.format == "json":
        from gdlab.lab.rundir import to_jsonable

        data = {k: v for k, v in result.items() if k not in ("text", "exit_code")}
        sys.stdout.write(json.dumps(to_jsonable(data), indent=2, sort_keys=True) + "\n")
    elif args.quiet:
        if result.get("report"):
            print(result["report"])
    else:
        print(result.get("text", ""))


def _fail(args: argparse.Namespace, exc: BaseException, code: int) -> int:
    if getattr(args, "traceback", False):
        import traceback

        traceback.print_exception(exc)
    extra = {"matplotlib": "plot", "sklearn": "data", "tqdm": "progress", "tomli": "lab"}
    name = getattr(exc, "name", None)
    if isinstance(exc, ModuleNotFoundError) and name in extra:
        exc = ModuleNotFoundError(f"{exc}; install it with: pip install gdlab[{extra[name]}]")
    print(f"gdlab {args.command}: error: {exc}", file=sys.stderr)
    return code


def _leftover_run_dir(args: argparse.Namespace) -> Path | None:
    """The run directory if the failed command left results in it. One the command made that
    holds no result (empty, or only its ``setup`` files) is removed: nothing left behind."""
    where = getattr(args, "run_dir", None)
    if where is None or not getattr(args, "run_dir_is_new", False):
        return None  # a user's own directory is never removed
    try:
        entries = list(where.iterdir())
        if entries and all(
            p.name in getattr(args, "run_dir_setup", ()) and p.is_file() for p in entries
        ):
            for p in entries:
                p.unlink()
        where.rmdir()  # only succeeds when empty
    except OSError:
        return where
    return None


def main(args: argparse.Namespace) -> int:
    """Run the parsed command, print its result; return the exit code (1 failure, 2 config
    error, 130 interrupted)."""
    from gdlab.lab.config import ConfigError

    try:
        result = run(args)
    except KeyboardInterrupt:
        where = _leftover_run_dir(args)
        tail = f"; partial results in {where}" if where else ""
        print(f"gdlab {args.command}: interrupted{tail}", file=sys.stderr)
        return 130
    except ConfigError as exc:
        _leftover_run_dir(args)
        return _fail(args, exc, 2)
    except Exception as exc:  # noqa: BLE001 - the CLI turns every failure into exit code 1
        _leftover_run_dir(args)
        return _fail(args, exc, 1)
    _emit(result, args)
    return int(result.get("exit_code", 0))
