"""gradstat.nn: neural networks on NumPy with every backward pass written by hand."""

from gradstat.nn.estimators.mlp import MLPClassifier, MLPRegressor
from gradstat.nn.estimators.perceptron import MulticlassPerceptron, Perceptron
from gradstat.nn.inspection.explain import Explanation, explain
from gradstat.nn.inspection.gradcheck import GradcheckResult, gradcheck
from gradstat.nn.inspection.vanishing import gradient_by_lag, plot_gradient_by_lag
from gradstat.nn.io import (
    Checkpoint,
    ModelFileError,
    load,
    load_checkpoint,
    read_state_dict,
    resume_checkpoint,
    save,
    save_checkpoint,
)
from gradstat.nn.layers.activations import GELU, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from gradstat.nn.layers.base import Container, Layer, layer_class
from gradstat.nn.layers.batchnorm import BatchNorm1D, BatchNorm2D
from gradstat.nn.layers.conv import Conv1D, Conv2D
from gradstat.nn.layers.dense import Dense
from gradstat.nn.layers.dropout import Dropout
from gradstat.nn.layers.embedding import Embedding
from gradstat.nn.layers.init import he_normal, he_uniform, xavier_normal, xavier_uniform
from gradstat.nn.layers.layernorm import LayerNorm
from gradstat.nn.layers.pool import AvgPool2D, MaxPool1D, MaxPool2D
from gradstat.nn.layers.recurrent import LSTM, RNN, Stacked
from gradstat.nn.layers.reshape import Flatten
from gradstat.nn.layers.sequential import Sequential
from gradstat.nn.losses import MSE, CrossEntropy, HalfSquaredError, Loss
from gradstat.nn.optim.optimisers import SGD, Adam, AdamW, Optimiser
from gradstat.nn.optim.schedules import CosineAnnealingLR, ExponentialLR, ReduceLROnPlateau, Schedule, StepLR
from gradstat.nn.training.callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    JSONLogger,
    LearningRateScheduler,
    ModelCheckpoint,
    restore_callbacks,
)
from gradstat.nn.training.trainer import Trainer, TrainingDiverged

__all__ = [
    "GELU",
    "LSTM",
    "MSE",
    "RNN",
    "SGD",
    "Adam",
    "AdamW",
    "AvgPool2D",
    "BatchNorm1D",
    "BatchNorm2D",
    "CSVLogger",
    "Callback",
    "Checkpoint",
    "Container",
    "Conv1D",
    "Conv2D",
    "CosineAnnealingLR",
    "CrossEntropy",
    "Dense",
    "Dropout",
    "EarlyStopping",
    "Embedding",
    "Explanation",
    "ExponentialLR",
    "Flatten",
    "GradcheckResult",
    "HalfSquaredError",
    "JSONLogger",
    "Layer",
    "LayerNorm",
    "LeakyReLU",
    "LearningRateScheduler",
    "Loss",
    "MLPClassifier",
    "MLPRegressor",
    "MaxPool1D",
    "MaxPool2D",
    "ModelCheckpoint",
    "ModelFileError",
    "MulticlassPerceptron",
    "Optimiser",
    "Perceptron",
    "ReLU",
    "ReduceLROnPlateau",
    "Schedule",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Stacked",
    "StepLR",
    "Tanh",
    "Trainer",
    "TrainingDiverged",
    "explain",
    "gradcheck",
    "gradient_by_lag",
    "he_normal",
    "he_uniform",
    "layer_class",
    "load",
    "load_checkpoint",
    "plot_gradient_by_lag",
    "read_state_dict",
    "restore_callbacks",
    "resume_checkpoint",
    "save",
    "save_checkpoint",
    "xavier_normal",
    "xavier_uniform",
]
