"""The ``gdlab`` command: argument parsing only; running, output and exit codes are in
``gdlab.lab.commands``.

Subcommands: ``compare``, ``surface``, ``train``, ``lr-find``, ``schedule``, ``reproduce``,
``datasets``, ``gradcheck``, ``bench`` (the benchmark suite, from a source checkout). Every
command that computes something writes a run directory (``--out``, default
``./gdlab-runs/<command>-<timestamp>``) with the resolved config, metrics CSV/JSON-lines, a
summary JSON, figures and ``report.html``.

Exit codes: 0 success, 1 failure (the message names the cause, e.g. an unwritable path),
2 usage error (argparse: unknown option, invalid choice, bad value), 130 interrupted (Ctrl-C;
the results finished so far are written, no file is left half-written).

``--format json`` prints exactly one JSON document on stdout and nothing else; progress bars
go to stderr, and only when stderr is a terminal.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["build_parser", "main"]

BATCH_MODES = ("bgd", "sgd", "mbgd")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "elu", "gelu", "silu", "leaky_relu")


# --------------------------------------------------------------------------- argument types
def _number(kind: type, text: str) -> Any:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {kind.__name__}, got {text!r}") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be finite, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """A float > 0 (learning rates, targets)."""
    value = _number(float, text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def fraction(text: str) -> float:
    """A float in (0, 1)."""
    value = _number(float, text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (exclusive), got {text!r}")
    return value


def positive_int(text: str) -> int:
    """An int >= 1 (epochs, steps, trials, seeds)."""
    value = _number(int, text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def nonneg_int(text: str) -> int:
    """An int >= 0 (seeds, a tuning budget of 0 = no tuning)."""
    value = _number(int, text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text!r}")
    return value


def _names(kind: str, fallback: Sequence[str] = ()) -> list[str]:
    """Valid names for ``choices`` (``gdlab.lab.commands.<kind>_names()``); the fallback keeps
    ``--help`` working while a part is missing (the command itself then fails with the import
    error)."""
    try:
        from gdlab.lab import commands

        return list(getattr(commands, f"{kind}_names")())
    except Exception:  # noqa: BLE001 - any failure here must not break the parser
        return list(fallback)


# --------------------------------------------------------------------------- parser
def _common(parser: argparse.ArgumentParser, writes: bool = True) -> None:
    g = parser.add_argument_group("common options")
    if writes:
        g.add_argument(
            "--out",
            metavar="DIR",
            help="run directory (default: ./gdlab-runs/<command>-<timestamp>)",
        )
    g.add_argument("--seed", type=nonneg_int, help="random seed (default: 0; train: the config's)")
    g.add_argument("--quiet", "-q", action="store_true", help="no progress bars or tables")
    g.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text (default) or one JSON document on stdout",
    )
    g.add_argument("--traceback", action="store_true", help="show the traceback on failure")


def _model_args(p: argparse.ArgumentParser, datasets: list[str], many: bool = False) -> None:
    """--dataset (one, or with ``many`` several), --hidden, --activation, --batch-size."""
    names = ", ".join(datasets)
    p.add_argument(
        "--dataset",
        choices=datasets,
        nargs="+" if many else None,
        default=["digits"] if many else "digits",
        metavar="NAME",
        help=f"data set(s); several give performance profiles (one of: {names})"
        if many
        else f"data set (default: digits; one of: {names})",
    )
    p.add_argument(
        "--hidden",
        type=positive_int,
        nargs="*",
        default=[32],
        metavar="N",
        help="hidden layer widths of the MLP (default: 32)",
    )
    p.add_argument("--activation", choices=ACTIVATIONS, default="relu")
    p.add_argument("--batch-size", type=positive_int, default=32, help="mini-batch size")


def _add_compare(sub: Any, optimizers: list[str], datasets: list[str]) -> None:
    p = sub.add_parser(
        "compare",
        help="compare optimizers and batch modes, each tuned with the same budget",
        description="Train one model on one or more data sets with several optimizers and/or "
        "batch modes (bgd = full batch, sgd = one sample, mbgd = mini-batch), each tuned with "
        "the same budget of learning-rate trials on a validation split, then repeated over "
        "seeds. With no arguments: digits, an MLP 64-32-10, sgd/momentum/nesterov/adagrad/"
        "rmsprop/adam, and bgd vs sgd vs mbgd.",
    )
    _model_args(p, datasets, many=True)
    p.add_argument(
        "--optimizers",
        choices=optimizers,
        nargs="*",
        metavar="NAME",
        default=["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"],
        help=f"optimizers at mini-batch size (one of: {', '.join(optimizers)}; no value: none)",
    )
    p.add_argument(
        "--batch-modes",
        choices=BATCH_MODES,
        nargs="*",
        default=list(BATCH_MODES),
        metavar="MODE",
        help="batch modes run with --batch-optimizer (bgd, sgd, mbgd; no value: none)",
    )
    p.add_argument("--batch-optimizer", choices=optimizers, default="sgd", metavar="NAME")
    p.add_argument("--epochs", type=positive_int, default=15, help="epochs per final run")
    p.add_argument(
        "--trials",
        type=positive_int,
        default=5,
        help="learning rates tried per optimizer (the same budget for all)",
    )
    p.add_argument("--tune-epochs", type=positive_int, default=3, help="epochs per trial")
    p.add_argument("--seeds", type=positive_int, default=3, help="final runs per optimizer")
    p.add_argument("--lr", type=positive_float, help="use this lr for all (no tuning)")
    p.add_argument(
        "--target",
        type=fraction,
        default=0.95,
        help="validation accuracy target for steps/time to target (default 0.95)",
    )
    p.add_argument("--val-fraction", type=fraction, default=0.2)
    _common(p)


def _add_surface(sub: Any, optimizers: list[str], functions: list[str]) -> None:
    p = sub.add_parser(
        "surface",
        help="optimizer paths on a 2-D test function",
        description="Run optimizers on a 2-D function from the same start, each "
        "at its best lr from the same tuning budget; draw the paths on one "
        "contour plot, animate them, save them as CSV.",
    )
    p.add_argument(
        "--function",
        choices=functions,
        default="rosenbrock",
        metavar="NAME",
        help=f"one of: {', '.join(functions)}",
    )
    p.add_argument(
        "--optimizers",
        choices=optimizers,
        nargs="+",
        metavar="NAME",
        default=["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"],
    )
    p.add_argument("--steps", type=positive_int, default=200)
    p.add_argument(
        "--tune",
        type=nonneg_int,
        default=8,
        metavar="BUDGET",
        help="learning rates tried per optimizer (0: each optimizer's default lr)",
    )
    p.add_argument(
        "--starts",
        type=positive_int,
        default=1,
        help="starting points (the function's start plus jittered ones)",
    )
    p.add_argument("--lr", type=positive_float, help="use this lr for all (no tuning)")
    p.add_argument("--no-gif", action="store_true", help="skip the animation")
    _common(p)


def _add_train(sub: Any) -> None:
    p = sub.add_parser(
        "train",
        help="train from a TOML config",
        description="Train a model from a TOML config (see gdlab.lab.config for "
        "the keys and defaults) with --set overrides; --resume continues from a "
        "checkpoint directory.",
    )
    p.add_argument("config", nargs="?", help="TOML file (default: built-in defaults)")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a setting, e.g. --set optimizer.lr=0.05 (repeatable)",
    )
    p.add_argument("--resume", metavar="PATH", help="checkpoint (or run directory) to resume")
    _common(p)


def _add_lr_find(sub: Any, optimizers: list[str], datasets: list[str]) -> None:
    p = sub.add_parser(
        "lr-find",
        help="learning-rate range test (Smith / fastai)",
        description="Sweep the learning rate exponentially, plot the smoothed "
        "loss and suggest an lr (steepest descent and min/10).",
    )
    _model_args(p, datasets)
    p.add_argument(
        "--optimizer",
        choices=optimizers,
        default="sgd",
        metavar="NAME",
        help=f"one of: {', '.join(optimizers)}",
    )
    p.add_argument("--start-lr", type=positive_float, default=1e-7)
    p.add_argument("--end-lr", type=positive_float, default=10.0)
    p.add_argument("--num-iter", type=positive_int, default=100)
    _common(p)


def _add_schedule(sub: Any, schedules: list[str]) -> None:
    p = sub.add_parser(
        "schedule",
        help="plot a learning-rate schedule",
        description="Plot optim.schedules' step -> lr functions by name; "
        "--param key=value sets the schedule's arguments (t_max and total_steps default "
        "to --steps).",
    )
    p.add_argument(
        "names",
        nargs="+",
        choices=schedules,
        metavar="NAME",
        help=f"one of: {', '.join(schedules)}",
    )
    p.add_argument("--lr", type=positive_float, default=0.1, help="initial lr (default 0.1)")
    p.add_argument("--steps", type=positive_int, default=100)
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="schedule argument, e.g. --param decay_rate=0.5 (repeatable)",
    )
    p.add_argument("--log", action="store_true", help="log-scale lr axis")
    _common(p)


def _add_reproduce(sub: Any, experiments: list[str]) -> None:
    p = sub.add_parser(
        "reproduce",
        help="re-run an article's or textbook's experiment",
        description="Re-run a published experiment by name and compare with "
        "the published numbers where they are exact.",
    )
    p.add_argument(
        "name", choices=experiments, metavar="NAME", help=f"one of: {', '.join(experiments)}"
    )
    _common(p)


def _add_gradcheck(sub: Any) -> None:
    p = sub.add_parser(
        "gradcheck",
        help="check a model's backprop against finite differences",
        description="Build an MLP (from --model or a config) in float64 and "
        "compare every parameter's gradient with central differences on a "
        "tiny random batch.",
    )
    p.add_argument(
        "--model",
        default="3-4-1",
        metavar="SIZES",
        help="layer sizes, e.g. 3-4-1 (the articles' net; default)",
    )
    p.add_argument("--activation", choices=ACTIVATIONS, default="sigmoid")
    p.add_argument("--loss", choices=("mse", "cross_entropy"), default="mse")
    p.add_argument("--config", metavar="TOML", help="take [model] from a train config instead")
    p.add_argument("--batch", type=positive_int, default=4, help="samples in the batch")
    _common(p, writes=False)


def _add_datasets(sub: Any) -> None:
    p = sub.add_parser(
        "datasets", help="list the data sets", description="List the data sets gdlab can load."
    )
    _common(p, writes=False)


def _add_bench(sub: Any) -> None:
    p = sub.add_parser(
        "bench",
        help="run the benchmark suite (source checkout only)",
        description="Run `python -m benchmarks` in the source checkout (found from the current "
        "directory upwards, or beside an editable install); every argument after `bench` is "
        "passed on, e.g. `gdlab bench --smoke --only digits`. `gdlab bench -- --help` shows "
        "the suite's own options.",
        usage="gdlab bench [-h] [ARG ...]",
    )
    p.set_defaults(format="text", quiet=True, traceback=False, bench_args=[])


def build_parser() -> argparse.ArgumentParser:
    """The ``gdlab`` argument parser with every subcommand."""
    import gdlab

    optimizers = _names("optimizer", ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"])
    datasets = _names("dataset", ["digits"])
    parser = argparse.ArgumentParser(
        prog="gdlab",
        description="A gradient-descent laboratory: compare optimizers fairly, see them move, "
        "reproduce the articles.",
    )
    parser.add_argument("--version", action="version", version=f"gdlab {gdlab.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_compare(sub, optimizers, datasets)
    _add_surface(sub, optimizers, _names("function", ["rosenbrock"]))
    _add_train(sub)
    _add_lr_find(sub, optimizers, datasets)
    _add_schedule(sub, _names("schedule", ["constant"]))
    _add_reproduce(sub, _names("experiment"))
    _add_datasets(sub)
    _add_gradcheck(sub)
    _add_bench(sub)
    from gdlab.playground.command import add_parser as add_playground

    add_playground(sub)
    return parser


def _check_together(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Constraints between arguments, reported as usage errors (exit code 2)."""
    if args.command == "lr-find" and not args.start_lr < args.end_lr:
        parser.error(
            f"lr-find: --start-lr ({args.start_lr:g}) must be smaller than --end-lr "
            f"({args.end_lr:g})"
        )


# --------------------------------------------------------------------------- parsing
def parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """Parse ``argv``; ``bench`` keeps every argument after it, in order, for the suite."""
    args, extra = parser.parse_known_args(argv)
    if args.command == "bench":
        rest = argv[argv.index("bench") + 1 :]
        args.bench_args = rest[1:] if rest[:1] == ["--"] else rest
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.argv = argv  # shown in reports
    _check_together(parser, args)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``gdlab`` with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parse(parser, argv)
    except SystemExit as exc:  # --help / --version (0) or a usage error (2)
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    if args.command == "playground":  # a server, not a computation with a run directory
        from gdlab.playground.command import run as run_playground

        return run_playground(args)
    from gdlab.lab import commands

    return commands.main(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
