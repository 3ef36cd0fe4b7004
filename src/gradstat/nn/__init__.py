"""gradstat.nn: neural networks on NumPy with every backward pass written by hand."""

from gradstat.nn.activations import ReLU, Sigmoid, Softmax, Tanh
from gradstat.nn.conv import Conv1D, Conv2D
from gradstat.nn.dense import Dense
from gradstat.nn.dropout import Dropout
from gradstat.nn.embedding import Embedding
from gradstat.nn.explain import Explanation, explain
from gradstat.nn.gradcheck import GradcheckResult, gradcheck
from gradstat.nn.init import he_normal, he_uniform, xavier_normal, xavier_uniform
from gradstat.nn.io import Checkpoint, load, load_checkpoint, save, save_checkpoint
from gradstat.nn.layer import Layer, layer_class
from gradstat.nn.losses import MSE, CrossEntropy, HalfSquaredError, Loss
from gradstat.nn.model import Sequential, TrainingDiverged
from gradstat.nn.optimisers import SGD, Adam, Optimiser
from gradstat.nn.perceptron import MulticlassPerceptron, Perceptron
from gradstat.nn.pool import AvgPool2D, MaxPool1D, MaxPool2D
from gradstat.nn.recurrent import LSTM, RNN, Stacked
from gradstat.nn.reshape import Flatten
from gradstat.nn.sklearn import MLPClassifier, MLPRegressor
from gradstat.nn.vanishing import gradient_by_lag, plot_gradient_by_lag

__all__ = [
    "LSTM",
    "MSE",
    "RNN",
    "SGD",
    "Adam",
    "AvgPool2D",
    "Checkpoint",
    "Conv1D",
    "Conv2D",
    "CrossEntropy",
    "Dense",
    "Dropout",
    "Embedding",
    "Explanation",
    "Flatten",
    "GradcheckResult",
    "HalfSquaredError",
    "Layer",
    "Loss",
    "MLPClassifier",
    "MLPRegressor",
    "MaxPool1D",
    "MaxPool2D",
    "MulticlassPerceptron",
    "Optimiser",
    "Perceptron",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Stacked",
    "Tanh",
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
    "save",
    "save_checkpoint",
    "xavier_normal",
    "xavier_uniform",
]
