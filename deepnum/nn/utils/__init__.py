"""Utilities for modules: gradient clipping, parameter vectors, padded/packed sequences."""
from deepnum.nn.utils import rnn  # noqa: F401
