"""Neural networks: modules, layers, activations, losses and initialisers (torch.nn's names)."""

from gdlab.nn import functional, init, utils
from gdlab.nn.activation import (
    ELU,
    GELU,
    Hardtanh,
    LeakyReLU,
    LogSoftmax,
    PReLU,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from gdlab.nn.attention import MultiheadAttention
from gdlab.nn.container import Flatten, Identity, ModuleDict, ModuleList, Sequential, Unflatten
from gdlab.nn.conv import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    Conv1d,
    Conv2d,
    MaxPool1d,
    MaxPool2d,
)
from gdlab.nn.layers import Dropout, Embedding, Linear
from gdlab.nn.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from gdlab.nn.module import IncompatibleKeys, Module, StateDictError
from gdlab.nn.norm import BatchNorm1d, BatchNorm2d, LayerNorm
from gdlab.nn.padding import (
    CircularPad1d,
    CircularPad2d,
    CircularPad3d,
    ConstantPad1d,
    ConstantPad2d,
    ConstantPad3d,
    ReflectionPad1d,
    ReflectionPad2d,
    ReflectionPad3d,
    ReplicationPad1d,
    ReplicationPad2d,
    ReplicationPad3d,
    ZeroPad1d,
    ZeroPad2d,
    ZeroPad3d,
)
from gdlab.nn.parameter import Parameter
from gdlab.nn.recurrent import GRU, LSTM, RNN
from gdlab.nn.transformer import TransformerEncoder, TransformerEncoderLayer

__all__ = [
    "ELU", "GELU", "GRU", "LSTM", "RNN", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AvgPool1d",
    "AvgPool2d", "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "BatchNorm2d", "Conv1d",
    "Conv2d", "CrossEntropyLoss", "Dropout", "Embedding", "Flatten", "Hardtanh", "HuberLoss",
    "Identity", "IncompatibleKeys", "KLDivLoss", "L1Loss", "LayerNorm", "LeakyReLU", "Linear",
    "LogSoftmax", "MSELoss", "MaxPool1d", "MaxPool2d", "Module", "ModuleDict", "ModuleList",
    "NLLLoss", "PReLU", "Parameter", "ReLU", "ReLU6", "SiLU", "Sequential", "Sigmoid",
    "SmoothL1Loss", "Softmax", "Softplus", "StateDictError", "Tanh", "Unflatten", "functional",
    "init", "utils", "CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d",
    "ConstantPad2d", "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
    "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "ZeroPad1d", "ZeroPad2d",
    "ZeroPad3d", "MultiheadAttention", "TransformerEncoder", "TransformerEncoderLayer",
]  # fmt: skip
