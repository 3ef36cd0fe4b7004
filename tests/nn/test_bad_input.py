"""Bad input to gradstat.nn → a clear error naming the layer, the parameter, the expected and
the received shape or type. One row per case: (id, call, error class, fragments of the message)."""

from __future__ import annotations

import numpy as np
import pytest

from gradstat.nn import (
    GELU,
    LSTM,
    RNN,
    AvgPool2D,
    BatchNorm1D,
    BatchNorm2D,
    Conv1D,
    Conv2D,
    CrossEntropy,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    LayerNorm,
    LeakyReLU,
    MaxPool1D,
    MaxPool2D,
    ReLU,
    Sequential,
    Softmax,
)

LOGITS = np.zeros((2, 3))

CASES = [
    # --- sizes, strides and paddings that are not (positive) integers
    ("conv2d kernel 2.5", lambda: Conv2D(1, 2, 2.5), TypeError, ["Conv2D kernel_size", "2.5", "float"]),
    ("conv2d kernel 0", lambda: Conv2D(1, 2, 0), ValueError, ["Conv2D kernel_size must be >= 1", "0"]),
    ("conv2d kernel bool", lambda: Conv2D(1, 2, True), TypeError, ["Conv2D kernel_size", "True"]),
    ("conv2d stride 1.5", lambda: Conv2D(1, 2, 3, stride=1.5), TypeError, ["Conv2D stride", "1.5"]),
    ("conv2d stride pair 0", lambda: Conv2D(1, 2, 3, stride=(1, 0)), ValueError, ["Conv2D stride", ">= 1"]),
    ("conv2d padding -1", lambda: Conv2D(1, 2, 3, padding=-1), ValueError, ["Conv2D padding must be >= 0"]),
    (
        "conv2d padding 'same'",
        lambda: Conv2D(1, 2, 3, padding="same"),
        TypeError,
        ["Conv2D padding", "'same'"],
    ),
    ("conv2d kernel triple", lambda: Conv2D(1, 2, (1, 2, 3)), TypeError, ["Conv2D kernel_size", "pair"]),
    (
        "conv1d kernel pair",
        lambda: Conv1D(1, 2, (2, 2)),
        TypeError,
        ["Conv1D kernel_size must be an int", "(2, 2)"],
    ),
    (
        "conv1d stride 2.0",
        lambda: Conv1D(1, 2, 3, stride=2.0),
        TypeError,
        ["Conv1D stride must be an int", "2.0"],
    ),
    ("conv1d padding -2", lambda: Conv1D(1, 2, 3, padding=-2), ValueError, ["Conv1D padding must be >= 0"]),
    (
        "conv tiling",
        lambda: Conv2D(1, 2, 3, tiling="ceil"),
        ValueError,
        ["Conv2D tiling", "'strict', 'floor'"],
    ),
    ("maxpool2d kernel 2.5", lambda: MaxPool2D(2.5), TypeError, ["MaxPool2D kernel_size", "2.5"]),
    ("maxpool2d stride 0", lambda: MaxPool2D(2, stride=0), ValueError, ["MaxPool2D stride must be >= 1"]),
    ("avgpool2d kernel float", lambda: AvgPool2D((2, 2.0)), TypeError, ["AvgPool2D kernel_size", "2.0"]),
    ("maxpool1d kernel 0", lambda: MaxPool1D(0), ValueError, ["MaxPool1D kernel_size must be >= 1"]),
    ("maxpool1d kernel '2'", lambda: MaxPool1D("2"), TypeError, ["MaxPool1D kernel_size", "'2'", "str"]),
    # --- hyper-parameters of the normalisation layers and activations
    ("batchnorm features 0", lambda: BatchNorm1D(0), ValueError, ["BatchNorm1D num_features", "positive"]),
    ("batchnorm features 2.0", lambda: BatchNorm2D(2.0), ValueError, ["BatchNorm2D num_features", "2.0"]),
    ("batchnorm eps 0", lambda: BatchNorm1D(3, eps=0), ValueError, ["BatchNorm1D eps", "positive"]),
    (
        "batchnorm momentum 1.5",
        lambda: BatchNorm2D(3, momentum=1.5),
        ValueError,
        ["BatchNorm2D momentum", "[0, 1]"],
    ),
    (
        "batchnorm int dtype",
        lambda: BatchNorm1D(3, dtype="int32"),
        TypeError,
        ["BatchNorm1D dtype", "floating"],
    ),
    ("layernorm shape 0", lambda: LayerNorm(0), ValueError, ["LayerNorm normalized_shape", "0"]),
    (
        "layernorm shape None",
        lambda: LayerNorm((2, None)),
        ValueError,
        ["LayerNorm normalized_shape", "None"],
    ),
    ("layernorm eps -1", lambda: LayerNorm(3, eps=-1.0), ValueError, ["LayerNorm eps", "positive"]),
    ("gelu approximate", lambda: GELU("erf"), ValueError, ["GELU approximate", "'none', 'tanh'", "'erf'"]),
    ("leaky slope string", lambda: LeakyReLU("0.1"), TypeError, ["LeakyReLU negative_slope", "'0.1'"]),
    ("leaky slope nan", lambda: LeakyReLU(float("nan")), ValueError, ["LeakyReLU negative_slope", "finite"]),
    ("dropout rate string", lambda: Dropout("0.5"), TypeError, ["Dropout rate", "'0.5'", "str"]),
    ("dropout rate 1", lambda: Dropout(1.0), ValueError, ["Dropout rate", "[0, 1)", "1.0"]),
    ("conv channels 0", lambda: Conv2D(0, 2, 3), ValueError, ["Conv2D in_channels", "positive", "0"]),
    # --- Sequential's input_shape leaves out the batch axis
    (
        "input_shape (None, 3)",
        lambda: Sequential([Dense(3, 2)], input_shape=(None, 3)),
        ValueError,
        ["Sequential input_shape", "without the batch axis", "(None, 3)"],
    ),
    (
        "input_shape 3",
        lambda: Sequential([Dense(3, 2)], input_shape=3),
        ValueError,
        ["Sequential input_shape", "got 3"],
    ),
    (
        "input_shape (0,)",
        lambda: Sequential([Dense(3, 2)], input_shape=(0,)),
        ValueError,
        ["positive ints", "(0,)"],
    ),
    # --- labels for CrossEntropy
    (
        "float labels",
        lambda: CrossEntropy()(LOGITS, np.array([0.5, 1.0])),
        ValueError,
        ["CrossEntropy", "class labels as integers 0..2", "float64", "0.5"],
    ),
    (
        "string labels",
        lambda: CrossEntropy()(LOGITS, np.array(["cat", "dog"])),
        ValueError,
        ["CrossEntropy", "class labels as integers 0..2", "<U3", "LabelEncoder"],
    ),
    (
        "object labels",
        lambda: CrossEntropy()(LOGITS, np.array(["cat", 1], dtype=object)),
        ValueError,
        ["CrossEntropy", "dtype object"],
    ),
    (
        "string probabilities",
        lambda: CrossEntropy()(LOGITS, np.full((2, 3), "0.3")),
        ValueError,
        ["CrossEntropy: probability targets must be numbers", "<U3", "(2, 3)"],
    ),
    ("label out of range", lambda: CrossEntropy()(LOGITS, np.array([0, 3])), ValueError, ["label 3", "0..2"]),
    # --- the wrong input rank or shape for each layer: the layer, what it expects, what it got
    (
        "dense features",
        lambda: Dense(3, 2).forward(np.zeros((2, 4))),
        ValueError,
        ["Dense(3, 2)", "3 features", "(2, 4)"],
    ),
    (
        "dense strings",
        lambda: Dense(3, 2).forward(np.array([["a", "b", "c"]])),
        TypeError,
        ["Dense(3, 2) expects numbers", "<U1"],
    ),
    (
        "sequential strings",
        lambda: Sequential([Dense(3, 2)]).forward(np.array([["a", "b", "c"]])),
        TypeError,
        ["Sequential expects a numeric array", "<U1", "(1, 3)"],
    ),
    (
        "batchnorm strings",
        lambda: BatchNorm1D(3).forward(np.array([["a", "b", "c"]] * 2)),
        TypeError,
        ["BatchNorm1D expects numbers", "<U1"],
    ),
    (
        "layernorm objects",
        lambda: LayerNorm(2).forward(np.array([[None, 1]])),
        TypeError,
        ["LayerNorm expects numbers", "object"],
    ),
    ("dense scalar", lambda: Dense(3, 2).forward(np.float64(1.0)), ValueError, ["Dense(3, 2)", "()"]),
    (
        "conv2d rank",
        lambda: Conv2D(1, 2, 3).forward(np.zeros((2, 5, 5))),
        ValueError,
        ["Conv2D", "(batch, channels, height, width)", "channels=1", "(2, 5, 5)"],
    ),
    (
        "conv2d channels",
        lambda: Conv2D(3, 2, 3).forward(np.zeros((2, 1, 5, 5))),
        ValueError,
        ["Conv2D", "channels=3", "(2, 1, 5, 5)"],
    ),
    (
        "conv1d rank",
        lambda: Conv1D(1, 2, 3).forward(np.zeros((2, 1, 5, 5))),
        ValueError,
        ["Conv1D", "(batch, channels, length)", "(2, 1, 5, 5)"],
    ),
    (
        "maxpool2d rank",
        lambda: MaxPool2D(2).forward(np.zeros((4, 4))),
        ValueError,
        ["MaxPool2D", "(batch, channels, height, width)", "(4, 4)"],
    ),
    (
        "avgpool2d rank",
        lambda: AvgPool2D(2).forward(np.zeros((1, 4, 4))),
        ValueError,
        ["AvgPool2D", "(batch, channels, height, width)", "(1, 4, 4)"],
    ),
    (
        "maxpool1d rank",
        lambda: MaxPool1D(2).forward(np.zeros((4, 4))),
        ValueError,
        ["MaxPool1D", "(batch, channels, length)", "(4, 4)"],
    ),
    (
        "batchnorm1d rank",
        lambda: BatchNorm1D(3).forward(np.zeros((2, 3, 4, 4))),
        ValueError,
        ["BatchNorm1D(3)", "(N, C) or (N, C, L)", "C=3", "(2, 3, 4, 4)"],
    ),
    (
        "batchnorm1d channels",
        lambda: BatchNorm1D(3).forward(np.zeros((2, 4))),
        ValueError,
        ["BatchNorm1D(3)", "C=3", "(2, 4)"],
    ),
    (
        "batchnorm2d rank",
        lambda: BatchNorm2D(3).forward(np.zeros((2, 3, 4))),
        ValueError,
        ["BatchNorm2D(3)", "(N, C, H, W)", "(2, 3, 4)"],
    ),
    (
        "batchnorm one sample",
        lambda: BatchNorm1D(3).forward(np.zeros((1, 3))),
        ValueError,
        ["BatchNorm1D", "more than one value per channel", "(1, 3)"],
    ),
    (
        "layernorm shape",
        lambda: LayerNorm((4, 5)).forward(np.zeros((2, 5, 4))),
        ValueError,
        ["LayerNorm((4, 5))", "(..., 4, 5)", "(2, 5, 4)"],
    ),
    ("flatten rank", lambda: Flatten().forward(np.zeros(3)), ValueError, ["Flatten", "(batch, ...)", "(3,)"]),
    (
        "softmax scalar",
        lambda: Softmax().forward(np.float64(1.0)),
        ValueError,
        ["Softmax", "(..., classes)", "()"],
    ),
    ("rnn features", lambda: RNN(3, 2).forward(np.zeros((2, 4, 5))), ValueError, ["RNN", "3", "(2, 4, 5)"]),
    ("lstm rank", lambda: LSTM(3, 2).forward(np.zeros((2, 4))), ValueError, ["LSTM", "rank 3", "(2, 4)"]),
    (
        "embedding float ids",
        lambda: Embedding(5, 2).forward(np.array([0.5, 1.0])),
        TypeError,
        ["Embedding", "integer token ids", "float64"],
    ),
    (
        "sequential chain",
        lambda: Sequential([Dense(3, 4), ReLU(), Dense(5, 2)], input_shape=(3,)),
        ValueError,
        ["layer 2", "Dense(in_features=5", "(None, 4)"],
    ),
]


@pytest.mark.parametrize(("call", "error", "fragments"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_gives_a_clear_error(call, error, fragments):
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
