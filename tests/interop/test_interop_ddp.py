"""TorchOptimizer under DistributedDataParallel: 2 gloo processes stay in sync and equal one.

DDP all-reduces (averages) the gradients during ``backward``, before ``step``; each rank then
applies the same gdlab update, so both replicas equal a single process on the whole batch.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
dist = pytest.importorskip("torch.distributed")

from gdlab.interop.torch import TorchOptimizer  # noqa: E402

WORLD = 2
STEPS = 4
# (gdlab optimizer, hyper-parameters); Momentum is gdlab-only (the articles' form)
CONFIGS = [("Adam", dict(lr=0.05)), ("Momentum", dict(lr=0.1, momentum=0.9))]

pytestmark = pytest.mark.skipif(
    not (dist.is_available() and dist.is_gloo_available()),
    reason="torch.distributed with the gloo backend is not available",
)


def make_model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 1)
    ).double()


def data() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return torch.randn(8, 3, generator=g, dtype=torch.float64), torch.randn(
        8, 1, generator=g, dtype=torch.float64
    )


def train(model, x, y, name, hparams) -> np.ndarray:
    opt = TorchOptimizer(model.parameters(), name, **hparams)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(STEPS):
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        opt.step()
        sched.step()
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()]).numpy().copy()


def _worker(rank: int, init_file: str, out_dir: str) -> None:
    from torch.nn.parallel import DistributedDataParallel

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=WORLD)
    try:
        x, y = data()
        xs, ys = x.chunk(WORLD)[rank], y.chunk(WORLD)[rank]  # each rank: half the batch
        for name, hparams in CONFIGS:
            model = DistributedDataParallel(make_model())
            np.save(f"{out_dir}/{name}-{rank}.npy", train(model, xs, ys, name, hparams))
        dist.barrier()  # both ranks leave together
        open(f"{out_dir}/done-{rank}", "w").close()
    finally:
        dist.destroy_process_group()


def test_ddp_two_ranks_in_sync_and_equal_to_one_process(tmp_path):
    import torch.multiprocessing as mp

    try:
        mp.spawn(_worker, args=(str(tmp_path / "init"), str(tmp_path)), nprocs=WORLD, join=True)
    except mp.ProcessExitedException:
        # gloo's teardown at process exit now and then aborts a rank ("terminate called without
        # an active exception") after all the work is done; only a crash before the final
        # barrier is a failure of what this test checks
        if not all((tmp_path / f"done-{r}").exists() for r in range(WORLD)):
            raise
    x, y = data()
    for name, hparams in CONFIGS:
        ranks = [np.load(tmp_path / f"{name}-{r}.npy") for r in range(WORLD)]
        np.testing.assert_array_equal(ranks[0], ranks[1])
        single = train(make_model(), x, y, name, hparams)  # the whole batch in one process
        np.testing.assert_allclose(ranks[0], single, rtol=1e-12, atol=1e-14)
        assert not np.allclose(single, train(make_model(), x, y, name, dict(hparams, lr=0.0)))
