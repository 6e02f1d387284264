"""``gdlab datasets``: list the data sets gdlab can load; ``--download NAME`` fetches one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gdlab import datasets
from gdlab.cli.command import Command
from gdlab.cli.session import Session
from gdlab.datasets.vision import CIFAR10, IDX_SETS
from gdlab.lab.config import option

__all__ = ["COMMAND", "DatasetsConfig", "published_files"]


def published_files(name: str) -> dict[str, str]:
    """The files a downloadable data set is made of, each with its published SHA-256."""
    if name == "cifar10":
        return {CIFAR10["filename"]: CIFAR10["sha256"]}
    return dict(IDX_SETS[name]["sha256"])


#: The data sets that are downloaded (the others are bundled or generated).
DOWNLOADABLE = (*IDX_SETS, "cifar10")


@dataclass
class DatasetsConfig:
    """``--download NAME...`` into ``--data-dir`` (else ``$GDLAB_DATA`` or ~/.cache/gdlab)."""

    download: list[str] = option(
        [], "--download", factory=True, nargs="+", choices=DOWNLOADABLE, metavar="NAME",
        help="download these data sets, SHA-256 verified (one of: {choices})",
    )  # fmt: skip
    data_dir: str | None = option(None, "--data-dir", metavar="DIR",
                                  help="cache directory (default: $GDLAB_DATA or "
                                  "~/.cache/gdlab)")  # fmt: skip


def _listing() -> tuple[str, list[dict[str, str]]]:
    avail = datasets.available()
    width = max(map(len, avail), default=0)
    text = "\n".join(f"{name.ljust(width)}  {desc}" for name, desc in avail.items())
    return text, [{"name": n, "description": d} for n, d in avail.items()]


def _download(name: str, data_dir: str | None) -> dict[str, Any]:
    """Fetch ``name`` (files already in the cache are verified, not fetched again) and load it
    once, so a file that downloads but does not parse is found now, not in a later run."""
    bunch = datasets.load(name, download=True, data_dir=data_dir)
    folder = datasets.cache_dir(data_dir) / name
    return {
        "name": name,
        "folder": str(folder),
        "files": [{"file": f, "sha256": sha} for f, sha in published_files(name).items()],
        "train": len(bunch.X_train),
        "test": 0 if bunch.X_test is None else len(bunch.X_test),
    }


def run(config: DatasetsConfig, session: Session) -> dict[str, Any]:
    if not config.download:
        text, rows = _listing()
        return session.result(text, datasets=rows)
    done = [_download(name, config.data_dir) for name in config.download]
    text = "\n".join(
        f"{d['name']}: {len(d['files'])} files in {d['folder']}, SHA-256 verified "
        f"({d['train']} training / {d['test']} test samples)"
        for d in done
    )
    return session.result(text, downloaded=done)


COMMAND = Command(
    "datasets",
    help="list the data sets, or download one",
    description="List the data sets gdlab can load; --download NAME fetches a downloadable one "
    "(MNIST, Fashion-MNIST, KMNIST, CIFAR-10) into the cache, checking every file against "
    "its published SHA-256.",
    config=DatasetsConfig,
    run=run,
    writes=False,
)
