"""Training plots with matplotlib's Agg renderer: learning curves, gradient norms, a grid of
misclassified examples and 2-D decision boundaries (003 §2.9: "track the loss ... plot it").

matplotlib is optional (``pip install deepnum[plot]``): ``available()`` says whether it is
installed, and every plot function raises one clear ``ModuleNotFoundError`` otherwise. Figures
are built with ``matplotlib.figure.Figure`` (no pyplot, no global state, no display needed) and
written atomically: to a temporary file first, then renamed, so a plot file is never half written.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from deepnum.tensor import Tensor
from deepnum.train.atomic import replaced_atomically

__all__ = ["available", "plot_history", "plot_grad_norms", "plot_misclassified", "plot_decision_boundary"]


def available() -> bool:
    """Whether matplotlib is installed."""
    return importlib.util.find_spec("matplotlib") is not None


def _figure(*args, **kwargs):
    if not available():
        raise ModuleNotFoundError("plots need matplotlib: pip install 'deepnum[plot]'")
    from matplotlib.figure import Figure

    return Figure(*args, **kwargs)


def _save(fig, path) -> Path:
    path = Path(path)
    with replaced_atomically(path, suffix=path.suffix) as tmp:
        fig.savefig(tmp, dpi=100, bbox_inches="tight")
    return path


def _np(x) -> np.ndarray:
    return x.array if isinstance(x, Tensor) else np.asarray(x)


def plot_history(history, path, title: str | None = None) -> Path:
    """Learning curves: loss (left) and every other metric (right), train vs dev, per epoch.

    Args:
        history: a ``History`` or a dict ``{"loss": [...], "val_loss": [...], "accuracy": [...]}``.
        path: the PNG file to write.
    """
    logs = getattr(history, "history", history)
    names = [k for k in logs if not k.startswith("val_") and k not in ("lr", "epoch_time") and logs[k]]
    metrics = [k for k in names if k != "loss"]
    fig = _figure(figsize=(11 if metrics else 5.5, 4))
    axes = fig.subplots(1, 2 if metrics else 1, squeeze=False)[0]
    for ax, keys in zip(axes, (["loss"], metrics)):
        for key in keys:
            for prefix, style in (("", "-o"), ("val_", "--s")):
                values = logs.get(prefix + key)
                if values:
                    epochs = np.arange(1, len(values) + 1)
                    ax.plot(epochs, values, style, ms=3, label=("dev " if prefix else "train ") + key)
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss" if keys == ["loss"] else "metric")
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def plot_grad_norms(grad_norms: dict, path, title: str = "gradient norm per layer") -> Path:
    """Per-layer gradient L2 norms over training (log scale), e.g. ``GradientMonitor.history``;
    flat lines near zero mean vanishing gradients, steep rises exploding ones (004 Def. 6.11-6.12)."""
    fig = _figure(figsize=(6.5, 4))
    ax = fig.subplots()
    for name, values in grad_norms.items():
        ax.plot(np.arange(1, len(values) + 1), values, label=name)
    ax.set_yscale("log")
    ax.set_xlabel("record (every few batches)")
    ax.set_ylabel("||grad||_2")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize="small")
    return _save(fig, path)


def plot_misclassified(images, output, target, path, max_images: int = 25, image_shape=(28, 28)) -> Path:
    """A grid of the first ``max_images`` misclassified examples, titled "true → predicted"."""
    from deepnum.train.metrics import predicted_labels

    images, target = _np(images), _np(target)
    pred = predicted_labels(output)
    wrong = np.flatnonzero(pred != target)[:max_images]
    cols = int(np.ceil(np.sqrt(max(len(wrong), 1))))
    rows = int(np.ceil(max(len(wrong), 1) / cols))
    fig = _figure(figsize=(1.6 * cols, 1.8 * rows))
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes:
        ax.axis("off")
    for ax, i in zip(axes, wrong):
        ax.imshow(images[i].reshape(image_shape), cmap="gray_r")
        ax.set_title(f"{target[i]} → {pred[i]}", fontsize=9)
    if len(wrong) == 0:
        axes[0].text(0.5, 0.5, "no errors", ha="center", va="center")
    return _save(fig, path)


def plot_decision_boundary(model, X, y, path, resolution: int = 200, margin: float = 0.5) -> Path:
    """Colour the plane by the class ``model`` predicts, with the data points on top.

    Args:
        model: maps ``(N, 2)`` float32 inputs to class scores ``(N, C)``.
        X, y: the 2-D inputs ``(N, 2)`` and their labels ``(N,)``.
    """
    from deepnum.autograd.grad_mode import no_grad

    X, y = _np(X), _np(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary: expected 2-D inputs of shape (N, 2), got {X.shape}")
    lo, hi = X.min(0) - margin, X.max(0) + margin
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    with no_grad():
        scores = _np(model(Tensor._make(grid, False, None, 0)))
    if was_training:
        model.train()
    zone = scores.argmax(1) if scores.ndim == 2 and scores.shape[1] > 1 else (scores.ravel() > 0).astype(int)
    fig = _figure(figsize=(5, 4.5))
    ax = fig.subplots()
    ax.contourf(gx, gy, zone.reshape(gx.shape), alpha=0.3, cmap="coolwarm", levels=np.arange(zone.max() + 2) - 0.5)
    ax.scatter(X[:, 0], X[:, 1], c=y, s=12, cmap="coolwarm", edgecolors="k", linewidths=0.3)
    ax.set_title("decision boundary")
    return _save(fig, path)
