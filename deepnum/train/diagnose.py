"""Diagnosis of a trained model: bias and variance from train and dev error (000 §6.2, Table 1),
and the "everything is one class" failure of 003 §2.9.

Bias is judged from the training error above the Bayes (irreducible) error, variance from the
gap between dev and training error:

    avoidable bias = train_error − bayes_error,    variance = dev_error − train_error,

each "high" when it exceeds ``tolerance``. With the Bayes error 0 (labels known without error,
the assumption of Table 1) and ``tolerance = 0.02`` this reproduces the four verdicts of
000 Table 1:

    >>> for train, dev in [(0.01, 0.11), (0.15, 0.16), (0.15, 0.30), (0.005, 0.01)]:
    ...     print(diagnose_bias_variance(train, dev).verdict)
    high variance
    high bias
    high bias, high variance
    low bias, low variance

References:
    000 §6.2 and Table 1; 003 §2.9 (predictions all of one class).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from deepnum.train.metrics import predicted_labels

__all__ = ["Diagnosis", "diagnose_bias_variance", "check_prediction_collapse", "CollapsedPredictionsWarning"]

_REMEDIES = {
    "bias": "reduce bias: a bigger network, train longer, another optimiser or architecture",
    "variance": "reduce variance: more training data, regularisation (weight decay, dropout, "
    "augmentation, early stopping), another architecture",
}


@dataclass(frozen=True)
class Diagnosis:
    """The outcome of ``diagnose_bias_variance``; ``str()`` gives a one-paragraph report."""

    train_error: float
    dev_error: float
    bayes_error: float
    avoidable_bias: float
    variance: float
    high_bias: bool
    high_variance: bool

    @property
    def verdict(self) -> str:
        bias = "high bias" if self.high_bias else "low bias"
        variance = "high variance" if self.high_variance else "low variance"
        if self.high_bias and self.high_variance:
            return f"{bias}, {variance}"
        if self.high_bias:
            return bias
        if self.high_variance:
            return variance
        return f"{bias}, {variance}"

    @property
    def advice(self) -> list[str]:
        return [_REMEDIES[k] for k, high in (("bias", self.high_bias), ("variance", self.high_variance)) if high]

    def __str__(self) -> str:
        lines = [
            f"train error {self.train_error:.2%}, dev error {self.dev_error:.2%}, "
            f"Bayes error {self.bayes_error:.2%}: {self.verdict}",
            f"  avoidable bias {self.avoidable_bias:.2%}, variance (dev - train) {self.variance:.2%}",
        ]
        return "\n".join(lines + [f"  -> {a}" for a in self.advice])


def diagnose_bias_variance(train_error: float, dev_error: float, bayes_error: float = 0.0,
                           tolerance: float = 0.02) -> Diagnosis:
    """Verdict on bias and variance from error rates given as fractions (0.01 = 1 %).

    Args:
        train_error: error on the training set.
        dev_error: error on the development set.
        bayes_error: the best achievable error (e.g. human error on blurry images); default 0.
        tolerance: how far above its reference an error may be and still count as "low"
            (default 0.02, i.e. two percentage points).
    """
    for name, value in (("train_error", train_error), ("dev_error", dev_error), ("bayes_error", bayes_error)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"diagnose_bias_variance: {name} must be a fraction in [0, 1], got {value}")
    bias = train_error - bayes_error
    variance = dev_error - train_error
    return Diagnosis(train_error, dev_error, bayes_error, bias, variance, bias > tolerance, variance > tolerance)


class CollapsedPredictionsWarning(UserWarning):
    """The model predicts (almost) one class for every example."""


def check_prediction_collapse(output, target=None, threshold: float = 0.95, warn: bool = True) -> bool:
    """True (and a warning) when one class takes more than ``threshold`` of the predictions
    although the targets are not that lopsided (003 §2.9: "all cases are assigned to the same
    class" points to a bad initialisation or learning rate)."""
    pred = predicted_labels(output).ravel()
    if pred.size == 0:
        return False
    counts = np.bincount(pred)
    top = int(counts.argmax())
    share = counts[top] / pred.size
    if target is not None:
        target_share = np.bincount(np.asarray(target).ravel().astype(np.int64)).max() / pred.size
        if target_share >= threshold:
            return False
    collapsed = share > threshold
    if collapsed and warn:
        warnings.warn(
            f"{share:.0%} of the predictions are class {top}: the model may have collapsed to one class "
            "(check the initialisation and the learning rate; 003 §2.9)",
            CollapsedPredictionsWarning,
            stacklevel=2,
        )
    return collapsed
