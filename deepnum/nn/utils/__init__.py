"""Utilities for modules: gradient clipping, parameter vectors, padded/packed sequences,
parametrizations."""

from deepnum.nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_, get_total_norm  # noqa: F401
from deepnum.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters  # noqa: F401
from deepnum.nn.utils import rnn  # noqa: F401
from deepnum.nn.utils.weight_norm import remove_spectral_norm, remove_weight_norm, spectral_norm, weight_norm  # noqa: F401
from deepnum.nn.utils import parametrize, parametrizations  # noqa: F401
