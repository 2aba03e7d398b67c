"""Backprop from Scratch: a small, readable numpy engine.

``import course_lib as cl`` gives the whole public surface::

    cl.Dense, cl.Dropout, cl.BatchNorm, cl.Sigmoid, cl.Tanh, cl.ReLU, cl.LeakyReLU,
    cl.Identity, cl.Softmax, cl.Sequential, cl.MLP, cl.MSE, cl.BinaryCrossEntropy,
    cl.SoftmaxCrossEntropy, cl.SGD, cl.RMSProp, cl.Adam, cl.History,
    cl.Conv2D, cl.MaxPool2D, cl.Flatten, cl.RNN, cl.LSTM, cl.LastStep,
    cl.train_step, cl.numerical_gradient, cl.relative_error, cl.gradient_check,
    cl.datasets, cl.autodiff.Value, cl.autodiff.Tensor

Only numpy is imported here; ``cl.autodiff``, ``cl.plotting`` and ``cl.widgets``
(matplotlib, ipywidgets), ``cl.grading`` and the layers of chapters 8-12
(``cl.BatchNorm``, ``cl.Conv2D``, ``cl.RNN``, ...) load on first use, tqdm and
scikit-learn inside the functions that need them.
"""

from __future__ import annotations

import importlib

from . import (
    activations,
    datasets,
    errors,
    gradcheck,
    layers,
    losses,
    models,
    optimizers,
    training,
)
from .activations import (
    ACTIVATIONS,
    Identity,
    LeakyReLU,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
    get_activation,
    identity,
    identity_prime,
    leaky_relu,
    leaky_relu_prime,
    log_softmax,
    logsumexp,
    relu,
    relu_prime,
    sigmoid,
    sigmoid_prime,
    softmax,
    softplus,
    tanh,
    tanh_prime,
)
from .errors import DivergenceError, ShapeError
from .gradcheck import gradient_check, numerical_gradient, relative_error
from .layers import Dense, Dropout, Layer, init_weights
from .losses import MSE, BinaryCrossEntropy, Loss, SoftmaxCrossEntropy, get_loss
from .models import MLP, Sequential
from .optimizers import SGD, Adam, Optimizer, RMSProp, get_optimizer
from .training import History, evaluate, fit, train_step

__version__ = "0.1.0"

__all__ = [
    # submodules
    "activations",
    "batchnorm",
    "conv",
    "datasets",
    "errors",
    "gradcheck",
    "layers",
    "losses",
    "models",
    "optimizers",
    "pooling",
    "rnn",
    "training",
    # submodules loaded on first use (matplotlib, ipywidgets, the autograder,
    # the convolution loops of chapter 10, the autodiff engine of chapter 9)
    "autodiff",
    "conv_reference",
    "grading",
    "plotting",
    "widgets",
    # layers
    "BatchNorm",
    "Dense",
    "Dropout",
    "Layer",
    "init_weights",
    # convolutional networks
    "Conv2D",
    "Flatten",
    "MaxPool2D",
    # recurrent networks
    "LSTM",
    "LastStep",
    "RNN",
    # activation layers
    "ACTIVATIONS",
    "Identity",
    "LeakyReLU",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "get_activation",
    # activation functions and their derivatives
    "identity",
    "identity_prime",
    "leaky_relu",
    "leaky_relu_prime",
    "log_softmax",
    "logsumexp",
    "relu",
    "relu_prime",
    "sigmoid",
    "sigmoid_prime",
    "softmax",
    "softplus",
    "tanh",
    "tanh_prime",
    # models
    "MLP",
    "Sequential",
    # losses
    "MSE",
    "BinaryCrossEntropy",
    "Loss",
    "SoftmaxCrossEntropy",
    "get_loss",
    # optimizers
    "SGD",
    "Adam",
    "Optimizer",
    "RMSProp",
    "get_optimizer",
    # training
    "History",
    "evaluate",
    "fit",
    "train_step",
    # gradient checking
    "gradient_check",
    "numerical_gradient",
    "relative_error",
    # errors
    "DivergenceError",
    "ShapeError",
]

_LAZY = ("plotting", "widgets", "grading", "cli", "conv_reference", "autodiff",
         "batchnorm", "conv", "pooling", "rnn")
#: the layers of chapters 8-12 load on first use, like the modules above
_LAZY_NAMES = {"BatchNorm": "batchnorm", "Conv2D": "conv", "Flatten": "pooling",
               "MaxPool2D": "pooling", "RNN": "rnn", "LSTM": "rnn",
               "LastStep": "rnn"}


def __getattr__(name):
    if name in _LAZY:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    if name in _LAZY_NAMES:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY_NAMES[name]}"),
                        name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY) | set(_LAZY_NAMES))
