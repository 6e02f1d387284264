"""``gdlab train`` and ``gdlab compare`` train a model other than an MLP (issue 11, item 11):
a CNN (Conv2d on the 8x8 digits, Conv1d on MNIST-1D) and a GRU/LSTM reading MNIST-1D as a
sequence, chosen in the config or on the command line; the loss falls and the config
round-trips."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

import gdlab
from gdlab import cli, nn
from gdlab.lab.compare import protocol as cmp
from gdlab.lab.models import SequenceClassifier
from gdlab.lab.tasks import build_model, load_task
from gdlab.lab.train_config import resolve_train_config

pytest.importorskip("matplotlib")
pytest.importorskip("sklearn")


@pytest.mark.parametrize(
    "kind, dataset, layer",
    [("cnn", "digits", nn.Conv2d), ("cnn", "mnist1d", nn.Conv1d), ("gru", "mnist1d", nn.GRU),
     ("lstm", "mnist1d", nn.LSTM), ("mlp", "digits", nn.Linear)],
)  # fmt: skip
def test_the_model_fits_the_data(kind, dataset, layer):
    task = load_task(dataset, seed=0)
    model = build_model(kind, task, [8], seed=0)
    assert any(isinstance(m, layer) for m in model.modules())
    with gdlab.no_grad():
        assert model(gdlab.tensor(task.x_train[:5])).shape == (5, task.n_outputs)
    again = build_model(kind, task, [8], seed=0)  # the seed fixes the weights
    for a, b in zip(model.parameters(), again.parameters(), strict=True):
        np.testing.assert_array_equal(a.data, b.data)


def test_sequence_classifier_reads_the_last_state():
    """GRU: the head sees h_T, the output at the last step (checked against torch.nn.GRU)."""
    torch = pytest.importorskip("torch")
    model = SequenceClassifier("gru", 4, 3, np.random.default_rng(0))
    x = np.random.default_rng(1).normal(size=(2, 6)).astype(np.float32)
    gru = torch.nn.GRU(1, 4, batch_first=True)
    with torch.no_grad():
        for name, p in gru.named_parameters():
            p.copy_(torch.from_numpy(np.asarray(getattr(model.rnn, name).data)))
    out, _ = gru(torch.from_numpy(x).reshape(2, 6, 1))
    w, b = np.asarray(model.head.weight.data), np.asarray(model.head.bias.data)
    want = out[:, -1].detach().numpy() @ w.T + b
    with gdlab.no_grad():
        np.testing.assert_allclose(model(gdlab.tensor(x)).numpy(), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "kind, dataset, batch_size",
    [("cnn", "digits", 64), ("gru", "mnist1d", 0), ("lstm", "mnist1d", 0)],
)  # fmt: skip
def test_train_takes_the_model_from_the_config(kind, dataset, batch_size, tmp_path, capsys):
    toml = tmp_path / "run.toml"
    toml.write_text(f'[data]\nname = "{dataset}"\nbatch_size = {batch_size}\n\n'
                    f'[model]\nkind = "{kind}"\nhidden = [8]\n\n'
                    '[optimizer]\nname = "adam"\nlr = 0.01\n\n[train]\nepochs = 3\n')  # fmt: skip
    out = tmp_path / "run"
    assert cli.main(["train", str(toml), "--out", str(out), "--format", "json"]) == 0
    json.loads(capsys.readouterr().out)
    with open(out / "metrics.csv", newline="") as f:
        losses = [float(row["loss"]) for row in csv.DictReader(f)]
    assert losses[-1] < losses[0], losses  # the loss falls
    saved = resolve_train_config(out / "config.toml")
    assert saved == resolve_train_config(toml) and saved.model.kind == kind


def test_compare_takes_the_model_on_the_command_line(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["compare", "--dataset", "digits", "--model", "cnn", "--hidden", "8",
            "--optimizers", "adam", "--batch-modes", "--epochs", "2", "--trials", "1",
            "--seeds", "1", "--lr", "0.01", "--out", str(out), "--format", "json"]  # fmt: skip
    assert cli.main(argv) == 0
    (row,) = json.loads(capsys.readouterr().out)["results"]
    assert row["val_acc"] > 0.8
    config = cli.parse(cli.build_parser(), ["compare", "--config", str(out / "config.toml")])
    assert config.config.model == "cnn"
    assert "A CNN (two convolutions of 8 channels" in (out / "report.html").read_text()


def test_compare_gru_loss_falls():
    res = cmp.compare("mnist1d", model="gru", hidden=[8], optimizers=["adam"], batch_modes=[],
                      epochs=2, seeds=1, lr=0.01, batch_size=256)  # fmt: skip
    (run,) = res.runs
    assert run.epochs["train_loss"][-1] < run.epochs["train_loss"][0]


def test_a_network_for_regression_must_be_an_mlp():
    with pytest.raises(ValueError, match="a cnn is a classifier; diabetes is regression"):
        build_model("cnn", load_task("diabetes"), [8])
