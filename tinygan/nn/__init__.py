"""Neural-network layers and the functional API (``tinygan.nn.functional``), as ``torch.nn``.

``module.py`` holds Module, Parameter and the containers; the layers live in one file per
family (linear, conv, norm, activation, misc); ``init.py`` holds the initialisations.
"""
from . import functional, init, utils
from .activation import LeakyReLU, ReLU, Sigmoid, Softplus, Tanh
from .conv import Conv2d, ConvTranspose2d
from .linear import Identity, Linear, Maxout
from .misc import Dropout, Embedding, Flatten, GaussianNoise, ReflectionPad2d, Unflatten, Upsample
from .module import Module, ModuleList, Parameter, Sequential
from .norm import SPADE, AdaIN, BatchNorm1d, BatchNorm2d, InstanceNorm2d, LayerNorm

__all__ = [
    "SPADE", "AdaIN", "BatchNorm1d", "BatchNorm2d", "Conv2d", "ConvTranspose2d", "Dropout", "Embedding", "Flatten",
    "GaussianNoise", "Identity", "InstanceNorm2d", "LayerNorm", "LeakyReLU", "Linear", "Maxout", "Module",
    "ModuleList", "Parameter", "ReLU", "ReflectionPad2d", "Sequential", "Sigmoid", "Softplus", "Tanh", "Unflatten",
    "Upsample", "functional", "init", "utils",
]
