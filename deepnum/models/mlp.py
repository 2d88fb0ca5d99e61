"""The multilayer perceptron: ``Flatten → [Linear → activation → Dropout] × L → Linear``.

A feed-forward net computing ``a^[l] = g(W^[l] a^[l-1] + b^[l])`` layer by layer (000 §5,
004 Def. 6.5), with the output layer left linear (logits for ``CrossEntropyLoss``, values for
``MSELoss``). It is an ``nn.Sequential``, so its ``state_dict`` keys are those of the same
``torch.nn.Sequential`` (``1.weight``, ``1.bias``, ``4.weight``, ...).
"""

from __future__ import annotations

import math

from deepnum import nn

__all__ = ["MLP", "mlp", "mlp_mnist"]

_ACTIVATIONS = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "gelu": "GELU",
                "elu": "ELU", "leaky_relu": "LeakyReLU", "selu": "SELU"}


class MLP(nn.Sequential):
    """Multilayer perceptron ``in_features → hidden[0] → ... → out_features``.

    Args:
        in_features: size of each (flattened) input example.
        hidden: widths of the hidden layers (default ``(256, 256)``).
        out_features: number of outputs (classes, or 1 for a scalar regression).
        activation: ``"relu"`` (default), ``"tanh"``, ``"sigmoid"``, ``"gelu"``, ``"elu"``,
            ``"leaky_relu"`` or ``"selu"``.
        dropout: drop probability ``p`` after each hidden activation (0 = no dropout layer).

    Shape:
        Input ``(N, *)`` with ``in_features`` values per example; output ``(N, out_features)``.

    Examples:
        >>> import deepnum
        >>> net = MLP(784, (256, 256), 10)
        >>> net(deepnum.zeros(32, 1, 28, 28)).shape
        deepnum.Size([32, 10])

    References:
        000 §5 (dense layers); 004 Def. 6.5 (multilayer perceptron).
    """

    def __init__(self, in_features: int, hidden=(256, 256), out_features: int = 10,
                 activation: str = "relu", dropout: float = 0.0) -> None:
        if activation not in _ACTIVATIONS:
            raise ValueError(f"MLP: unknown activation {activation!r}; known: {', '.join(_ACTIVATIONS)}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"MLP: dropout probability has to be in [0, 1), got {dropout}")
        layers = [nn.Flatten()]
        width = in_features
        for h in hidden:
            layers += [nn.Linear(width, h), getattr(nn, _ACTIVATIONS[activation])()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, out_features))
        super().__init__(*layers)
        self.in_features, self.hidden, self.out_features = in_features, tuple(hidden), out_features


def mlp(input_shape=(784,), num_classes: int = 10, hidden=(256, 256), activation: str = "relu",
        dropout: float = 0.0, **_) -> MLP:
    """Zoo constructor: an ``MLP`` for examples of shape ``input_shape``."""
    return MLP(math.prod(input_shape), tuple(hidden), num_classes, activation, dropout)


def mlp_mnist(input_shape=(784,), num_classes: int = 10, dropout: float = 0.0, **_) -> MLP:
    """Zoo constructor: the 784-256-256-10 ReLU MLP that reaches ~98 % on MNIST."""
    return MLP(math.prod(input_shape), (256, 256), num_classes, "relu", dropout)
