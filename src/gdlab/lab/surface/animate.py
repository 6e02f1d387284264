"""Animated GIFs of optimizer paths on a contour plot.

Frames are grabbed with ``matplotlib.animation.PillowWriter`` from an object-API Figure (no
pyplot), into a temporary file that is renamed onto the target (atomic). Sharp: 768 x 600
pixels (120 dpi) and one adaptive 256-colour palette shared by all frames; at most 60 frames at
5 fps by default.

Example:
    >>> runs = [run_trajectory("rosenbrock", o, steps=300, lr=lr) for o, lr in ...]
    >>> animate_trajectories("rosenbrock", runs, "docs/img/rosenbrock_paths.gif")
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from gdlab.lab.output.fileio import atomic_path
from gdlab.lab.output.plots import COLORS, _figure, path_view, plot_surface
from gdlab.lab.surface.functions import TestFunction, get_function
from gdlab.lab.surface.trajectories import Trajectory

__all__ = ["animate_trajectories", "frame_steps"]


#: Colours of the shared GIF palette: GIF's maximum, so the contour plot's colour map and the
#: anti-aliased lines keep their shades (64 banded the filled contours visibly).
PALETTE_COLORS = 256


def _small_gif_writer(base: type) -> type:
    """PillowWriter whose frames share one adaptive palette (median cut over the first and the
    last frame: the colour map and every path's colour) without dithering: line art stays
    crisp, and unchanged regions compress away between frames."""

    class SmallGifWriter(base):
        def finish(self) -> None:
            from PIL import Image

            frames = [f.convert("RGB") for f in self._frames]
            first, last = frames[0], frames[-1]
            both = Image.new("RGB", (first.width, first.height + last.height))
            both.paste(first, (0, 0))
            both.paste(last, (0, first.height))
            palette = both.quantize(PALETTE_COLORS, method=Image.Quantize.MEDIANCUT)
            frames = [f.quantize(palette=palette, dither=Image.Dither.NONE) for f in frames]
            frames[0].save(self.outfile, format="GIF", save_all=True,
                           append_images=frames[1:], duration=int(1000 / self.fps), loop=0,
                           optimize=True)  # fmt: skip

    return SmallGifWriter


def frame_steps(steps: int, frames: int) -> np.ndarray:
    """The step shown in each frame: all steps if few, else ``frames`` evenly spaced ones."""
    if frames < 2:
        raise ValueError(f"animate_trajectories: frames must be >= 2, got {frames}")
    return np.unique(np.linspace(0, steps, min(frames, steps + 1)).round().astype(int))


def animate_trajectories(
    function: TestFunction | str,
    trajectories: Sequence[Trajectory],
    path: str | os.PathLike,
    *,
    frames: int = 60,
    fps: int = 5,
    dpi: int = 120,
    title: str | None = None,
) -> Path:
    """Write an animated GIF of the paths growing step by step; return the path.

    Args:
        function: the function (or its name) the runs were made on.
        trajectories: the runs, drawn in the same colours as ``plot_trajectories``.
        path: the ``.gif`` to write (atomically).
        frames: maximum number of frames (steps are subsampled evenly).
        fps: frames per second.
        dpi: resolution (120: 768 x 600 pixels, sharp text and lines; 80 for a small file).

    Example:
        >>> runs = [run_trajectory("rosenbrock", o, steps=100, lr=1e-3) for o in ("sgd", "adam")]
        >>> animate_trajectories("rosenbrock", runs, "paths.gif")
    """
    try:
        from matplotlib.animation import PillowWriter
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("plotting requires matplotlib: pip install 'gdlab[plot]'") from None
    fn = get_function(function) if isinstance(function, str) else function
    fig = _figure((6.4, 5.0))
    ax = plot_surface(fn, fig.subplots(), view=path_view(fn.domain, trajectories))
    lines, heads = [], []
    for i, t in enumerate(trajectories):
        color = COLORS[i % len(COLORS)]
        (line,) = ax.plot([], [], "-o", color=color, lw=1.4, ms=2.5, label=t.label)
        (head,) = ax.plot([], [], "o", color=color, ms=8, mec="black", mew=0.8)
        lines.append(line)
        heads.append(head)
    ax.plot(*trajectories[0].points[0], "o", color="black", ms=9, mfc="white", mew=2,
            label="start")  # fmt: skip
    ax.legend(loc="best", fontsize=7, framealpha=0.85)
    steps = max(t.steps for t in trajectories)
    heading = ax.set_title("")
    writer = _small_gif_writer(PillowWriter)(fps=fps)
    with atomic_path(path) as tmp, writer.saving(fig, str(tmp), dpi):
        for k in frame_steps(steps, frames):
            for t, line, head in zip(trajectories, lines, heads, strict=True):
                pts = t.points[: k + 1]
                pts = pts[np.isfinite(pts).all(axis=1)]
                line.set_data(pts[:, 0], pts[:, 1])
                head.set_data(pts[-1:, 0], pts[-1:, 1])
            heading.set_text(f"{title or fn.name}: step {k}")
            writer.grab_frame()
    return Path(path)
