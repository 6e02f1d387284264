"""Data loading for gradient descent: data sets, the DataLoader, splits, scaling, validation.

``DataLoader(dataset, batch_size=None)`` is batch GD, ``batch_size=1`` stochastic GD,
``batch_size=b`` mini-batch GD; torch's samplers choose another order. Helpers split data
with a seed, scale features with statistics fitted on the training set only, one-hot encode
labels, and validate inputs with scikit-learn's messages.
"""

from __future__ import annotations

from gdlab.data.dataset import Dataset, NonFiniteDataWarning, TensorDataset
from gdlab.data.loader import DataLoader, default_collate
from gdlab.data.preprocessing import MinMaxScaler, NotFittedError, StandardScaler, one_hot
from gdlab.data.samplers import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from gdlab.data.split import train_test_split, train_val_test_split
from gdlab.data.subsets import ConcatDataset, Subset, random_split
from gdlab.data.validation import check_array, check_consistent_length, check_X_y

__all__ = [
    "BatchSampler",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "MinMaxScaler",
    "NonFiniteDataWarning",
    "NotFittedError",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "StandardScaler",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "check_X_y",
    "check_array",
    "check_consistent_length",
    "default_collate",
    "one_hot",
    "random_split",
    "train_test_split",
    "train_val_test_split",
]
