"""Metrics: accuracy, top-k accuracy, confusion matrix, MAE and RMSE.

Each metric exists twice: as a function of ``(output, target)`` for one-off use, and as a small
accumulator class (``update(output, target)`` per batch, ``compute()`` at the end) so that
``fit`` and ``evaluate`` can average over a whole dataset batch by batch without keeping every
prediction. Outputs of a classifier are logits or probabilities of shape ``(N, C)`` (class =
arg max) or already-predicted labels of shape ``(N,)``; targets are class indices ``(N,)``.
Inputs may be deepnum tensors or NumPy arrays.

Examples:
    >>> import numpy as np
    >>> logits = np.array([[2.0, 1.0, 0.0], [0.0, 1.0, 3.0], [1.0, 0.0, 0.5]])
    >>> accuracy(logits, [0, 2, 2])
    0.6666666666666666
    >>> top_k_accuracy(logits, [0, 2, 2], k=2)
    1.0
"""

from __future__ import annotations

import numpy as np

from deepnum.tensor import Tensor

__all__ = [
    "accuracy", "top_k_accuracy", "confusion_matrix", "mae", "rmse",
    "Metric", "Accuracy", "TopKAccuracy", "MAE", "RMSE", "ConfusionMatrix", "get_metric",
]


def _np(x) -> np.ndarray:
    return x.array if isinstance(x, Tensor) else np.asarray(x)


def predicted_labels(output) -> np.ndarray:
    """Class labels from logits/probabilities ``(N, C)`` (arg max) or labels ``(N,)``."""
    out = _np(output)
    return out.argmax(axis=-1) if out.ndim >= 2 else out.astype(np.int64, copy=False)


def accuracy(output, target) -> float:
    """Fraction of examples whose predicted class equals the target: ``mean(ŷ_i = y_i)``."""
    return float(np.mean(predicted_labels(output) == _np(target)))


def top_k_accuracy(output, target, k: int = 5) -> float:
    """Fraction of examples whose target is among the ``k`` highest scores of ``output (N, C)``."""
    out, tgt = _np(output), _np(target)
    if out.ndim != 2 or not 1 <= k <= out.shape[1]:
        raise ValueError(f"top_k_accuracy: expected scores of shape (N, C) with 1 <= k <= C, got shape {out.shape} and k={k}")
    top = np.argpartition(-out, k - 1, axis=1)[:, :k]
    return float(np.mean((top == tgt[:, None]).any(axis=1)))


def confusion_matrix(output, target, num_classes: int | None = None) -> np.ndarray:
    """Counts ``M[i, j]`` = number of examples of true class ``i`` predicted as class ``j``."""
    pred, tgt = predicted_labels(output), _np(target).astype(np.int64)
    if num_classes is None:
        num_classes = int(max(pred.max(initial=0), tgt.max(initial=0))) + 1
    return np.bincount(tgt * num_classes + pred, minlength=num_classes**2).reshape(num_classes, num_classes)


def mae(output, target) -> float:
    """Mean absolute error ``(1/n) Σ |ŷ_i − y_i|``."""
    return float(np.mean(np.abs(_np(output) - _np(target).reshape(_np(output).shape))))


def rmse(output, target) -> float:
    """Root mean squared error ``sqrt((1/n) Σ (ŷ_i − y_i)²)``."""
    return float(np.sqrt(np.mean(np.square(_np(output) - _np(target).reshape(_np(output).shape)))))


class Metric:
    """Accumulate a per-example average over batches; subclasses give ``per_example``."""

    name = "metric"

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.total, self.count = 0.0, 0

    def per_example(self, output: np.ndarray, target: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def update(self, output, target) -> None:
        values = self.per_example(_np(output), _np(target))
        self.total += float(values.sum(dtype=np.float64))
        self.count += values.size

    def compute(self) -> float:
        return self.total / max(self.count, 1)


class Accuracy(Metric):
    name = "accuracy"

    def per_example(self, output, target):
        return predicted_labels(output) == target


class TopKAccuracy(Metric):
    def __init__(self, k: int = 5) -> None:
        self.k, self.name = k, f"top{k}"
        super().__init__()

    def per_example(self, output, target):
        top = np.argpartition(-output, self.k - 1, axis=1)[:, : self.k]
        return (top == target[:, None]).any(axis=1)


class MAE(Metric):
    name = "mae"

    def per_example(self, output, target):
        return np.abs(output - target.reshape(output.shape))


class RMSE(Metric):
    """Accumulates squared errors; the square root is taken once, over the whole dataset."""

    name = "rmse"

    def per_example(self, output, target):
        return np.square(output - target.reshape(output.shape))

    def compute(self) -> float:
        return float(np.sqrt(super().compute()))


class ConfusionMatrix:
    """Accumulated confusion matrix (rows: true class, columns: predicted class)."""

    name = "confusion_matrix"

    def __init__(self, num_classes: int) -> None:
        self.num_classes = num_classes
        self.reset()

    def reset(self) -> None:
        self.matrix = np.zeros((self.num_classes, self.num_classes), dtype=np.int64)

    def update(self, output, target) -> None:
        self.matrix += confusion_matrix(output, target, self.num_classes)

    def compute(self) -> np.ndarray:
        return self.matrix


def get_metric(name_or_metric) -> Metric:
    """A fresh metric from a name (``"accuracy"``, ``"top5"``, ``"mae"``, ``"rmse"``) or instance."""
    if isinstance(name_or_metric, (Metric, ConfusionMatrix)):
        return name_or_metric
    name = str(name_or_metric).lower()
    if name in ("accuracy", "acc"):
        return Accuracy()
    if name.startswith("top") and name[3:].isdigit():
        return TopKAccuracy(int(name[3:]))
    if name == "mae":
        return MAE()
    if name == "rmse":
        return RMSE()
    raise ValueError(f"unknown metric {name_or_metric!r}; known: accuracy, topK (e.g. top5), mae, rmse")
