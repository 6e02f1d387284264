"""Pictures a person reads (issue 12): smoothed gradient norms over the raw values, a sharp
GIF of the surface paths embedded in its report."""

from __future__ import annotations

import base64
import math
import re

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from gdlab.lab.output.plots import plot_grad_norms, smooth_ema  # noqa: E402
from gdlab.lab.output.report import Report  # noqa: E402
from gdlab.lab.surface.animate import PALETTE_COLORS, animate_trajectories  # noqa: E402
from gdlab.lab.surface.trajectories import run_trajectory  # noqa: E402

NAN = math.nan


def _ema(values, w, log):
    """The closed form: s_k = (1 − w)·Σ_{j≤k} w^{k−j}·y_j / (1 − w^k) over the finite y."""
    out, kept = [], []
    for v in values:
        if not math.isfinite(v) or (log and v <= 0):
            out.append(NAN)
            continue
        kept.append(math.log(v) if log else v)
        k = len(kept)
        s = (1 - w) * sum(w ** (k - 1 - j) * y for j, y in enumerate(kept)) / (1 - w**k)
        out.append(math.exp(s) if log else s)
    return out


@pytest.mark.parametrize(
    "values, weight, log",
    [([2.0, 2.0, 2.0], 0.9, True),  # a constant stays itself (debiased from the first step)
     ([1.0, 100.0, 1.0, 100.0], 0.5, True),
     ([1.0, 100.0, 1.0, 100.0], 0.5, False),
     ([3.0, NAN, 0.0, 5.0, math.inf, 1.0], 0.8, True),  # skipped, not averaged in
     ([3.0, -1.0, 5.0], 0.6, False),
     ([0.1, 0.2, 0.3], 0.0, True)],  # weight 0: the raw values
)  # fmt: skip
def test_smooth_ema_is_tensorboards_debiased_average(values, weight, log):
    np.testing.assert_allclose(smooth_ema(values, weight, log), _ema(values, weight, log),
                               rtol=1e-12, equal_nan=True)  # fmt: skip


@pytest.mark.parametrize("weight", [-0.1, 1.0, 2.0])
def test_smooth_ema_bad_weight(weight):
    with pytest.raises(ValueError, match=re.escape(f"weight must be in [0, 1), got {weight}")):
        smooth_ema([1.0], weight)


def test_grad_norms_draw_raw_values_faint_behind_the_smoothed_curve():
    rng = np.random.default_rng(0)
    raw = np.exp(rng.normal(size=200)) * 1e-3
    fig = plot_grad_norms({"0.weight": raw, "2.weight": raw * 100})
    faint, smooth = fig.axes[0].get_lines()[:2], fig.axes[0].get_lines()[2:]
    assert [ln.get_alpha() for ln in faint] == [0.25, 0.25]
    assert [ln.get_label() for ln in smooth] == ["0.weight", "2.weight"]
    assert [ln.get_color() for ln in faint] == [ln.get_color() for ln in smooth]
    np.testing.assert_allclose(smooth[0].get_ydata(), smooth_ema(raw, 0.9))
    # the smoothed curve varies far less than the raw one (the noise is gone)
    assert np.std(np.log(smooth[0].get_ydata()[20:])) < 0.4 * np.std(np.log(raw))


def test_surface_gif_is_sharp_and_embeds_in_a_report(tmp_path):
    from PIL import Image

    runs = [run_trajectory("rosenbrock", o, steps=30, lr=lr) for o, lr in
            (("sgd", 1e-3), ("adam", 0.05))]  # fmt: skip
    out = animate_trajectories("rosenbrock", runs, tmp_path / "p.gif", frames=6)
    with Image.open(out) as im:
        assert im.size == (768, 600) and im.n_frames == 6  # 6.4 x 5 in at 120 dpi
        colors = len(im.getpalette()) // 3
        assert 64 < colors <= PALETTE_COLORS == 256
        used = len(im.convert("RGB").getcolors(maxcolors=1 << 16))
        assert used > 64  # the adaptive palette is used, not a banded 64-colour one
    rep = Report("t")
    rep.add_animation(out, caption="paths")
    page = rep.render()
    data = re.search(r'src="data:image/gif;base64,([^"]+)"', page).group(1)
    assert base64.b64decode(data) == out.read_bytes()
