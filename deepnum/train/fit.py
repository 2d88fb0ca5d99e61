"""``fit``: the training loop, with evaluation on a dev set, metrics, history and callbacks.

The loop is the explicit PyTorch loop, only wrapped so that the bookkeeping (metrics, logs,
callbacks, checkpoints) is not rewritten for every model. Per batch it is exactly::

    optimizer.zero_grad()
    output = model(x)
    loss = loss_fn(output, y)
    loss.backward()
    optimizer.step()

Mini-batch gradient descent over epochs with the data reshuffled each epoch by the loader
(000 §7.3, 003 §2.2); the dev set is evaluated after every epoch (000 §6.1).
"""

from __future__ import annotations

import numpy as np

from deepnum.autograd.grad_mode import no_grad
from deepnum.train.callbacks import CallbackList, History, ProgressBar
from deepnum.train.checkpoint import load_checkpoint
from deepnum.train.diagnose import check_prediction_collapse
from deepnum.train.metrics import get_metric, predicted_labels

__all__ = ["fit", "evaluate", "predict"]


class _Mean:
    """Running mean of a per-batch value weighted by batch size."""

    def __init__(self) -> None:
        self.total, self.count = 0.0, 0

    def update(self, value: float, n: int) -> None:
        self.total += value * n
        self.count += n

    def compute(self) -> float:
        return self.total / max(self.count, 1)


def _outputs_and_targets(batch):
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        raise TypeError(f"fit: each batch must be a pair (inputs, targets), got {type(batch).__name__}")
    return batch


def evaluate(model, loader, loss_fn=None, metrics=("accuracy",), check_collapse: bool = False) -> dict:
    """Average loss and metrics of ``model`` over ``loader`` in eval mode, without gradients.

    Returns:
        ``{"loss": ..., "accuracy": ..., ...}`` (``loss`` only when ``loss_fn`` is given).
    """
    was_training = model.training
    model.eval()
    meters = [get_metric(m) for m in metrics]
    for m in meters:
        m.reset()
    loss_mean = _Mean()
    pred_counts, target_counts = None, None
    with no_grad():
        for x, y in map(_outputs_and_targets, loader):
            output = model(x)
            if loss_fn is not None:
                loss_mean.update(float(loss_fn(output, y).item()), len(y))
            for m in meters:
                m.update(output, y)
            if check_collapse:
                pred_counts = _add_counts(pred_counts, predicted_labels(output))
                target_counts = _add_counts(target_counts, y.numpy() if hasattr(y, "numpy") else np.asarray(y))
    model.train(was_training)
    logs = {"loss": loss_mean.compute()} if loss_fn is not None else {}
    logs.update({m.name: m.compute() for m in meters})
    if check_collapse and pred_counts is not None:
        _check_counts(pred_counts, target_counts)
    return logs


def _add_counts(counts, labels) -> np.ndarray:
    new = np.bincount(np.asarray(labels).ravel().astype(np.int64))
    if counts is None:
        return new
    size = max(len(counts), len(new))
    return np.pad(counts, (0, size - len(counts))) + np.pad(new, (0, size - len(new)))


def _check_counts(pred_counts: np.ndarray, target_counts: np.ndarray) -> None:
    # expand counts to label arrays of the same proportions only in summary form
    check_prediction_collapse(np.repeat(np.arange(len(pred_counts)), pred_counts),
                              np.repeat(np.arange(len(target_counts)), target_counts))


def predict(model, loader_or_inputs, batch_size: int = 1024) -> np.ndarray:
    """Model outputs for a loader of ``(x, y)`` batches or for an input tensor, as one array."""
    from deepnum.tensor import Tensor

    was_training = model.training
    model.eval()
    outputs = []
    with no_grad():
        if isinstance(loader_or_inputs, (Tensor, np.ndarray)):
            x = loader_or_inputs if isinstance(loader_or_inputs, Tensor) else Tensor._make(loader_or_inputs, False, None, 0)
            for start in range(0, len(x), batch_size):
                outputs.append(model(x[start:start + batch_size]).numpy())
        else:
            for batch in loader_or_inputs:
                x = batch[0] if isinstance(batch, (tuple, list)) else batch
                outputs.append(model(x).numpy())
    model.train(was_training)
    return np.concatenate(outputs) if outputs else np.empty((0,))


def fit(model, optimizer, loss_fn, train_loader, epochs: int = 1, val_loader=None, metrics=("accuracy",),
        callbacks=(), transform=None, initial_epoch: int = 0, resume_from=None, verbose: int = 1,
        check_collapse: bool = True) -> History:
    """Train ``model`` for ``epochs`` epochs and return the ``History`` of per-epoch logs.

    Args:
        model: a ``deepnum.nn.Module``.
        optimizer: a ``deepnum.optim`` optimiser over the model's parameters.
        loss_fn: ``loss_fn(output, target)`` returning a scalar tensor (mean over the batch).
        train_loader: an iterable of ``(x, y)`` batches, e.g. ``deepnum.data.DataLoader``.
        epochs: the total number of epochs (a resumed run continues up to this number).
        val_loader: dev-set batches, evaluated after each epoch (logs prefixed ``val_``).
        metrics: names (``"accuracy"``, ``"top5"``, ``"mae"``, ``"rmse"``) or metric objects.
        callbacks: ``Callback`` objects (early stopping, checkpoints, loggers, ...).
        transform: augmentation applied to each training input batch (e.g. ``transforms.Compose``).
        initial_epoch: the epoch to start from (counted from 0).
        resume_from: a checkpoint written by ``ModelCheckpoint``: model, optimiser, callback
            states, random state and epoch are restored and training continues after it.
        verbose: 1 shows progress (``ProgressBar``), 0 is silent.
        check_collapse: warn when the dev predictions of the last epoch are (almost) all one
            class (003 §2.9).

    Returns:
        History: ``history.history["val_loss"]`` etc., one value per epoch.

    Examples:
        >>> # history = fit(model, optim.Adam(model.parameters()), nn.CrossEntropyLoss(),
        >>> #               train_loader, epochs=5, val_loader=dev_loader)
    """
    history = History()
    all_callbacks = [history, *callbacks]
    if verbose and not any(isinstance(c, ProgressBar) for c in callbacks):
        all_callbacks.append(ProgressBar())
    cbs = CallbackList(all_callbacks)
    steps = len(train_loader) if hasattr(train_loader, "__len__") else None
    cbs.set_context(model, optimizer, {"epochs": epochs, "steps": steps, "verbose": verbose,
                                       "train_loader": train_loader})
    if resume_from is not None:
        initial_epoch = load_checkpoint(resume_from, model, optimizer, cbs, train_loader)
    model.stop_training = False
    logs: dict = {}
    cbs.on_train_begin()
    try:
        for epoch in range(initial_epoch, epochs):
            cbs.on_epoch_begin(epoch)
            model.train()
            lr = float(optimizer.param_groups[0]["lr"])  # the rate used during this epoch
            loss_mean = _Mean()
            meters = [get_metric(m) for m in metrics]
            for m in meters:
                m.reset()
            for batch, (x, y) in enumerate(map(_outputs_and_targets, train_loader)):
                cbs.on_batch_begin(batch)
                if transform is not None:
                    x = transform(x)
                optimizer.zero_grad()
                output = model(x)
                loss = loss_fn(output, y)
                loss.backward()
                optimizer.step()
                value = float(loss.item())
                loss_mean.update(value, len(y))
                for m in meters:
                    m.update(output.detach(), y)
                cbs.on_batch_end(batch, {"loss": value})
            logs = {"loss": loss_mean.compute(), **{m.name: m.compute() for m in meters}}
            if val_loader is not None:
                # early epochs often predict one class; only the trained model's predictions tell
                collapse = check_collapse and epoch == epochs - 1 and any(m.name == "accuracy" for m in meters)
                dev = evaluate(model, val_loader, loss_fn, metrics, check_collapse=collapse)
                logs.update({f"val_{k}": v for k, v in dev.items()})
            logs["lr"] = lr
            cbs.on_epoch_end(epoch, logs)
            if model.stop_training:
                break
    finally:
        # also on Ctrl-C: close progress bars, remove hooks, restore best weights; the last
        # checkpoint on disk is the one of the last finished epoch
        cbs.on_train_end(logs)
    return history
