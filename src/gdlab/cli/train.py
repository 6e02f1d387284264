"""``gdlab train``: train from a TOML config (``lab.train_config``) with ``--set`` overrides."""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gdlab.cli.command import Command
from gdlab.cli.session import Session
from gdlab.lab.config import ConfigError, Threads, option, seed_option
from gdlab.lab.output.rundir import check_owner
from gdlab.lab.train_config import (
    TRAIN_DEFAULTS,
    TrainConfig,
    check_resume,
    commented_defaults,
    resolve_train_config,
)
from gdlab.lab.training import config_for_resume, run_train
from gdlab.train.checkpoint import latest_checkpoint, load_checkpoint_config

__all__ = ["COMMAND", "TrainArgs"]


@dataclass
class TrainArgs(Threads):
    """Where ``gdlab train`` takes its ``TrainConfig`` from: a TOML file, overrides, a run to
    resume, and a seed that replaces the config's."""

    config: str | None = option(None, "config", nargs="?",
                                help="TOML file (default: built-in defaults)")  # fmt: skip
    overrides: list[str] = option(
        [], "--set", factory=True, action="append", metavar="KEY=VALUE",
        help="override a setting, e.g. --set optimizer.lr=0.05 (repeatable)",
    )  # fmt: skip
    resume: str | None = option(None, "--resume", metavar="PATH",
                                help="checkpoint (or run directory) to resume")  # fmt: skip
    seed: int | None = seed_option(None, "random seed (default: the config's)")
    overwrite: bool = option(False, "--overwrite", action="store_true",
                             help="replace the run already in --out (its checkpoints are "
                             "deleted) instead of refusing")  # fmt: skip
    tensorboard: str | None = option(
        None, "--tensorboard", metavar="DIR",
        help="also log to TensorBoard: DIR/<run directory name> (needs gdlab[tensorboard])",
    )  # fmt: skip
    print_config: bool = option(False, "--print-config", action="store_true",
                                help="print the default config, every key commented, "
                                "and exit")  # fmt: skip

    def config_path(self) -> Path | str | None:
        """The TOML file: the one given, else the config of the run being resumed."""
        return self.config or (self.resume and config_for_resume(self.resume)) or None

    def resolve(self) -> TrainConfig:
        """Defaults < TOML file < ``--set`` overrides < ``--seed``."""
        config = resolve_train_config(self.config_path(), self.overrides)
        if self.seed is not None:
            config.seed = self.seed
        return config


def _saved_config(resume: str) -> dict[str, Any] | None:
    """The settings of the run being resumed: its newest checkpoint's, else its config.toml."""
    path = Path(resume)
    ckpt = path if (path / "manifest.json").is_file() else latest_checkpoint(path)
    saved = load_checkpoint_config(ckpt) if ckpt is not None else None
    if saved is None and (toml := config_for_resume(resume)) is not None:
        saved = resolve_train_config(toml).to_dict()
    return saved


def _check_fresh(out: Path, overwrite: bool) -> None:
    """Refuse to mix two runs in one directory: a run there needs --resume or --overwrite."""
    ckpts = out / "checkpoints"
    held = [p.name for p in (out / "config.toml", ckpts) if p.exists()]
    if not held:
        return
    if not overwrite:
        raise ConfigError(
            f"{out} already holds a run ({', '.join(held)}); pass --resume {out} to continue "
            "it, --overwrite to replace it, or another --out"
        )
    if ckpts.is_symlink():
        raise ConfigError(f"--overwrite: {ckpts} is a symbolic link; refusing to delete there")
    if ckpts.is_dir():
        shutil.rmtree(ckpts)


def run(args: TrainArgs, session: Session) -> dict[str, Any]:
    if args.print_config:
        return session.result(commented_defaults(), config=TRAIN_DEFAULTS, product=True)
    config = args.resolve()
    path = args.config_path()
    default = None
    if args.resume and path and Path(path).parent.exists() and not args.config:
        default = Path(path).parent  # continue in the resumed run's directory
    # every check before the first file is written: a refused run changes nothing on disk
    if args.resume:
        saved = _saved_config(args.resume)
        if saved is not None:
            check_resume(saved, config)
    elif session.output.out:
        check_owner(session.output.out, session.command)  # another command's run: refused
        _check_fresh(Path(session.output.out), args.overwrite)
    run_dir = session.open_run_dir(default=default, setup=("config.toml",))
    board = args.tensorboard and Path(args.tensorboard).resolve() / run_dir.path.resolve().name
    out = run_train(
        config,
        run_dir,
        resume=args.resume,
        progress=session.wants_bar(),
        lines=session.wants_lines(),
        tensorboard=board or None,
        command=session.command_line,
    )
    final = out["final"]
    text = "  ".join(
        f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in final.items()
    )
    if out["diverged"]:
        text = f"diverged: {out['diverged']}\n" + text
        if session.output.quiet or session.output.format == "json":  # the reason is never lost
            print(f"gdlab train: diverged: {out['diverged']}", file=sys.stderr)
    return session.reported(text, **out) | ({"exit_code": 1} if out["diverged"] else {})


COMMAND = Command(
    "train",
    help="train from a TOML config",
    description="Train a model from a TOML config (gdlab train --print-config > run.toml "
    "writes every key with its default and a comment) with --set overrides; --resume "
    "continues from a checkpoint directory. One line per epoch on stderr; the metrics "
    "files in --out are rewritten every epoch.",
    config=TrainArgs,
    run=run,
)
