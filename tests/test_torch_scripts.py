"""Three ordinary PyTorch scripts, ported by changing their imports only (issue 12).

Each script below is torch code, kept as text. It runs once as it is, under torch, and once
with its import block swapped for gdlab's (``import gdlab as torch``...): nothing else in
the text changes. The tests check that both versions train (the loss falls below a stated
value) and that they agree where seeds allow: the gdlab model starts from the torch model's
initial weights (copied through ``load_state_dict``), the batches come in the same order, and
the losses after every step are equal to float32 round-off.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

TORCH_IMPORTS = """\
import torch
import torch.nn.functional as F
from torch import nn, optim
from torch.utils.data import DataLoader, TensorDataset, random_split
"""
GDLAB_IMPORTS = """\
import gdlab as torch
import gdlab.nn.functional as F
from gdlab import nn, optim
from gdlab.utils.data import DataLoader, TensorDataset, random_split
"""

# ----------------------------------------------------------------------------------- MLP
MLP_SCRIPT = """
import numpy as np
IMPORTS

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def make_data(n=512, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 10)).astype(np.float32)
    w = rng.standard_normal((10, 1)).astype(np.float32)
    y = X @ w + 0.5 * np.sin(3 * X[:, :1]) + 0.1 * rng.standard_normal((n, 1))
    return TensorDataset(torch.from_numpy(X), torch.tensor(y, dtype=torch.float32))


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1)
        )

    def forward(self, x):
        return self.net(x)


def make_optimizer(model):
    optimizer = optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=4, gamma=0.5)
    return optimizer, scheduler


def train(model, loader, optimizer, scheduler, epochs):
    model.to(device)
    loss_fn = nn.MSELoss()
    losses = []
    for epoch in range(epochs):
        model.train()
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        scheduler.step()
    return losses


@torch.no_grad()
def evaluate(model, loader):
    model.eval()
    total, count = 0.0, 0
    for xb, yb in loader:
        total += F.mse_loss(model(xb), yb, reduction="sum").item()
        count += len(xb)
    return total / count


def main(path):
    torch.manual_seed(0)
    train_set, val_set = random_split(make_data(), [448, 64])
    loader = DataLoader(train_set, batch_size=32, shuffle=True)
    val_loader = DataLoader(val_set, batch_size=64)
    model = MLP().to(device)
    optimizer, scheduler = make_optimizer(model)
    losses = train(model, loader, optimizer, scheduler, epochs=8)
    torch.save(
        {
            "epoch": 8,
            "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(),
            "scheduler_state_dict": scheduler.state_dict(),
            "loss": losses[-1],
        },
        path,
    )
    checkpoint = torch.load(path, map_location=device, weights_only=True)
    restored = MLP()
    restored.load_state_dict(checkpoint["model_state_dict"])
    optimizer2, scheduler2 = make_optimizer(restored)
    optimizer2.load_state_dict(checkpoint["optimizer_state_dict"])
    scheduler2.load_state_dict(checkpoint["scheduler_state_dict"])
    same = evaluate(restored, val_loader) == evaluate(model, val_loader)
    more = train(restored, loader, optimizer2, scheduler2, epochs=2)
    return {
        "first_loss": losses[0],
        "val_loss": evaluate(restored, val_loader),
        "restored_equal": same,
        "lr_after": optimizer2.param_groups[0]["lr"],
        "resumed_loss": more[-1],
    }
"""

# ----------------------------------------------------------------------------------- CNN
CNN_SCRIPT = '''
import numpy as np
IMPORTS


def make_data(n=384, seed=0):
    """8x8 images of a horizontal bar (class 0), a vertical bar (1) or a diagonal (2)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    images = 0.3 * rng.standard_normal((n, 1, 8, 8))
    for i, (label, k) in enumerate(zip(labels, rng.integers(1, 7, n))):
        if label == 0:
            images[i, 0, k, 1:7] += 1.0
        elif label == 1:
            images[i, 0, 1:7, k] += 1.0
        else:
            images[i, 0, np.arange(8), np.arange(8)] += 1.0
    return TensorDataset(
        torch.tensor(images, dtype=torch.float32), torch.tensor(labels, dtype=torch.long)
    )


class SmallCNN(nn.Module):
    def __init__(self, num_classes=3):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(16 * 2 * 2, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


def train(model, loader, epochs):
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for epoch in range(epochs):
        model.train()
        for images, labels in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses


def accuracy(model, loader):
    model.eval()
    correct = 0
    with torch.inference_mode():
        for images, labels in loader:
            correct += (model(images).argmax(dim=1) == labels).sum().item()
    return correct / len(loader.dataset)


def main(path):
    torch.manual_seed(0)
    data = make_data()
    model = SmallCNN()
    losses = train(model, DataLoader(data, batch_size=32, shuffle=True), epochs=6)
    torch.save(model.state_dict(), path)
    model.load_state_dict(torch.load(path))
    test = make_data(n=192, seed=1)
    return {
        "first_loss": losses[0],
        "last_epoch_loss": sum(losses[-12:]) / 12,
        "test_accuracy": accuracy(model, DataLoader(test, batch_size=64)),
    }
'''

# ------------------------------------------------------------------------------ sequences
SEQUENCE_SCRIPT = '''
import numpy as np
IMPORTS


def make_data(n=256, length=20, seed=0):
    """Noisy sine waves of random phase and frequency; the target is the next value."""
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0, 2 * np.pi, (n, 1))
    freq = rng.uniform(0.2, 0.6, (n, 1))
    t = np.arange(length + 1)
    waves = np.sin(freq * t + phase) + 0.05 * rng.standard_normal((n, length + 1))
    x = torch.tensor(waves[:, :length, None], dtype=torch.float32)
    y = torch.tensor(waves[:, length:], dtype=torch.float32)
    return TensorDataset(x, y)


class Forecaster(nn.Module):
    def __init__(self, hidden=24, cell="lstm"):
        super().__init__()
        rnn = nn.LSTM if cell == "lstm" else nn.GRU
        self.rnn = rnn(input_size=1, hidden_size=hidden, num_layers=1, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1, :])


def train(model, loader, epochs):
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = nn.MSELoss()
    losses = []
    for epoch in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
            optimizer.step()
            losses.append(loss.item())
    return losses


def main(path, cell="lstm"):
    torch.manual_seed(0)
    model = Forecaster(cell=cell)
    losses = train(model, DataLoader(make_data(), batch_size=32, shuffle=True), epochs=8)
    with torch.no_grad():
        x, y = make_data(n=128, seed=1).tensors
        test_mse = F.mse_loss(model(x), y).item()
    return {"first_loss": losses[0], "last_epoch_loss": sum(losses[-8:]) / 8, "test_mse": test_mse}
'''

SCRIPTS = {"mlp": MLP_SCRIPT, "cnn": CNN_SCRIPT, "sequence": SEQUENCE_SCRIPT}


def run_script(text: str, library: str) -> dict:
    """The script's namespace after running its text with torch's or gdlab's imports."""
    imports = {"torch": TORCH_IMPORTS, "gdlab": GDLAB_IMPORTS}[library]
    namespace: dict = {"__name__": f"ported_{library}"}
    exec(compile(text.replace("IMPORTS\n", imports), f"<{library} script>", "exec"), namespace)
    return namespace


def test_the_scripts_differ_only_in_their_imports():
    for text in SCRIPTS.values():
        ported = text.replace("IMPORTS\n", GDLAB_IMPORTS)
        original = text.replace("IMPORTS\n", TORCH_IMPORTS)
        changed = [
            (a, b)
            for a, b in zip(original.splitlines(), ported.splitlines(), strict=True)
            if a != b
        ]
        assert changed and all(a.startswith(("import", "from")) for a, _ in changed)


# What each script reaches under both libraries (one seeded run; torch's numbers differ by
# its own random initialisation and shuffle, so the thresholds hold for both).
TRAINS = [
    ("mlp", {}, lambda r: r["val_loss"] < 0.1 * r["first_loss"] and r["val_loss"] < 0.4),
    ("cnn", {}, lambda r: r["test_accuracy"] >= 0.95 and r["last_epoch_loss"] < 0.2),
    ("sequence", {}, lambda r: r["test_mse"] < 0.05 and r["last_epoch_loss"] < 0.05),
    ("sequence", {"cell": "gru"}, lambda r: r["test_mse"] < 0.05),
]


@pytest.mark.parametrize("library", ["torch", "gdlab"])
@pytest.mark.parametrize("name, kwargs, trained", TRAINS, ids=["mlp", "cnn", "lstm", "gru"])
def test_each_script_trains_under_torch_and_under_gdlab(name, kwargs, trained, library, tmp_path):
    namespace = run_script(SCRIPTS[name], library)
    result = namespace["main"](str(tmp_path / "checkpoint.tar"), **kwargs)
    assert trained(result), result
    if name == "mlp":
        assert result["restored_equal"] and result["lr_after"] == pytest.approx(0.02 * 0.5**2)
        assert result["resumed_loss"] < 0.4


def _copied_models(name: str, make: str, **kwargs):
    """The torch model and a gdlab model holding a copy of its initial weights."""
    t_ns, g_ns = run_script(SCRIPTS[name], "torch"), run_script(SCRIPTS[name], "gdlab")
    torch.manual_seed(0)
    t_model = t_ns[make](**kwargs)
    g_model = g_ns[make](**kwargs)
    g_model.load_state_dict({k: v.detach().numpy() for k, v in t_model.state_dict().items()})
    return t_ns, g_ns, t_model, g_model


def _loader(ns: dict, **data_kwargs):
    return ns["DataLoader"](ns["make_data"](**data_kwargs), batch_size=32, shuffle=False)


AGREE = [  # (script, model class, model kwargs, epochs, rtol of the per-step losses)
    ("mlp", "MLP", {}, 3, 2e-5),
    ("cnn", "SmallCNN", {}, 2, 2e-4),
    ("sequence", "Forecaster", {}, 2, 2e-4),
    ("sequence", "Forecaster", {"cell": "gru"}, 2, 2e-4),
]


@pytest.mark.parametrize(
    "name, make, kwargs, epochs, rtol", AGREE, ids=["mlp", "cnn", "lstm", "gru"]
)
def test_same_initial_weights_give_the_same_losses(name, make, kwargs, epochs, rtol):
    t_ns, g_ns, t_model, g_model = _copied_models(name, make, **kwargs)
    if name == "mlp":
        t_opt, t_sched = t_ns["make_optimizer"](t_model)
        g_opt, g_sched = g_ns["make_optimizer"](g_model)
        t_losses = t_ns["train"](t_model, _loader(t_ns), t_opt, t_sched, epochs)
        g_losses = g_ns["train"](g_model, _loader(g_ns), g_opt, g_sched, epochs)
    else:
        t_losses = t_ns["train"](t_model, _loader(t_ns), epochs)
        g_losses = g_ns["train"](g_model, _loader(g_ns), epochs)
    assert len(g_losses) == len(t_losses) > 10
    np.testing.assert_allclose(g_losses, t_losses, rtol=rtol)
    for key, value in t_model.state_dict().items():
        np.testing.assert_allclose(
            np.asarray(g_model.state_dict()[key]), value.numpy(), rtol=50 * rtol, atol=1e-5
        )
