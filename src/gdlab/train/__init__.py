"""Training: the ``fit`` loop, callbacks, history, checkpoints and metrics.

Example (see :func:`gdlab.train.fit` for a runnable one)::

    history = train.fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=1e-3),
                        DataLoader(TensorDataset(X, y), batch_size=20), epochs=10)
    history.steps["loss"], history.epochs["val_loss"]
"""

from gdlab.train import metrics
from gdlab.train.averaging import WeightAveraging
from gdlab.train.callbacks import (
    Callback,
    Checkpoint,
    EarlyStopping,
    GradientHealth,
    GradientWarning,
    LambdaCallback,
)
from gdlab.train.checkpoint import (
    CheckpointError,
    latest_checkpoint,
    load_checkpoint,
    load_checkpoint_config,
    save_checkpoint,
)
from gdlab.train.history import History
from gdlab.train.interrupt import GracefulStop
from gdlab.train.layer_stats import LayerStats
from gdlab.train.loggers import (
    CSVLogger,
    EpochProgress,
    JSONLinesLogger,
    ProgressBar,
    TensorBoardLogger,
)
from gdlab.train.trainer import DivergenceError, Trainer, fit

__all__ = [
    "CSVLogger",
    "Callback",
    "Checkpoint",
    "CheckpointError",
    "DivergenceError",
    "EarlyStopping",
    "EpochProgress",
    "GracefulStop",
    "GradientHealth",
    "GradientWarning",
    "History",
    "JSONLinesLogger",
    "LambdaCallback",
    "LayerStats",
    "ProgressBar",
    "TensorBoardLogger",
    "Trainer",
    "WeightAveraging",
    "fit",
    "latest_checkpoint",
    "load_checkpoint",
    "load_checkpoint_config",
    "metrics",
    "save_checkpoint",
]
