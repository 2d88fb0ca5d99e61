"""A training run as a folder: configuration, checkpoint, final model, history and plots.

``deepnum train`` and ``python -m deepnum.demo`` go through here. A run folder holds::

    config.json          what was trained on what, with which optimiser (enough to rebuild it)
    checkpoint.dnm       the full training state after the last finished epoch (for --resume)
    model.dnm            the final weights (``deepnum.save`` of the ``state_dict``)
    history.csv / .json  the per-epoch logs
    learning_curves.png  loss and metrics, train vs dev (and other plots when they apply)
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["RunConfig", "build_model", "build_optimizer", "build_schedule", "make_loaders", "check_writable",
           "save_json", "load_config", "SCHEDULES", "OPTIMIZERS"]

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")
SCHEDULES = ("none", "step", "exponential", "cosine", "inverse-time", "plateau")


def RunConfig(**kwargs) -> dict:
    """The defaults of a run, updated with ``kwargs`` (a plain dict, stored as config.json)."""
    config = {
        "model": "mlp", "dataset": "mnist", "hidden": [256, 256], "dropout": 0.0, "optimizer": "adam",
        "lr": 1e-3, "momentum": 0.0, "weight_decay": 0.0, "schedule": "none", "epochs": 5,
        "batch_size": 128, "seed": 0, "augment": False, "patience": None, "n": None,
    }
    config.update(kwargs)
    return config


def save_json(path, obj) -> None:
    from deepnum.train.callbacks.csv_logger import write_text_atomic

    write_text_atomic(path, json.dumps(obj, indent=1) + "\n")


def load_config(run_dir) -> dict:
    path = Path(run_dir) / "config.json"
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir} is not a run folder (no config.json in it)")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is corrupt ({err.msg} at line {err.lineno})") from None


def check_writable(folder) -> Path:
    """Create ``folder`` if needed and make sure a file can be written in it; one clear error if not."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".write-test-")
        os.close(fd)
        os.remove(probe)
    except OSError as err:
        raise PermissionError(f"cannot write to the output folder {folder} ({err.strerror or err})") from None
    return folder


def _load_model_file(spec: str):
    """``path.py`` or ``path.py:name``: the file defines ``model`` (a Module), or a function
    ``build_model(input_shape, num_classes)`` / ``name`` returning one."""
    path, _, name = spec.partition(":")
    if not Path(path).is_file():
        raise FileNotFoundError(f"model file {path} does not exist")
    module_spec = importlib.util.spec_from_file_location(Path(path).stem, path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)  # the user's own code, named on the command line
    for candidate in ([name] if name else ["build_model", "model"]):
        if hasattr(module, candidate):
            return getattr(module, candidate)
    raise AttributeError(f"model file {path} defines neither {' nor '.join(repr(c) for c in ([name] if name else ['build_model', 'model']))}")


def build_model(config: dict, info):
    """The model named by ``config["model"]`` (zoo name or Python file) for dataset ``info``."""
    from deepnum.models import zoo
    from deepnum.nn import Module

    name = config["model"]
    kwargs = {"input_shape": tuple(info.input_shape), "num_classes": info.num_classes,
              "dropout": config["dropout"], "hidden": tuple(config["hidden"])}
    if name.endswith(".py") or ".py:" in name:
        built = _load_model_file(name)
        return built if isinstance(built, Module) else built(input_shape=kwargs["input_shape"],
                                                             num_classes=kwargs["num_classes"])
    if name not in zoo:
        raise KeyError(f"unknown model {name!r}; known models: {', '.join(sorted(zoo))} (or a path to a .py file)")
    return zoo[name](**kwargs)


def build_optimizer(config: dict, model):
    from deepnum import optim

    name, lr, wd = config["optimizer"].lower(), config["lr"], config["weight_decay"]
    params = model.parameters()
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=config["momentum"], weight_decay=wd)
    if name in ("adam", "adamw"):
        return (optim.Adam if name == "adam" else optim.AdamW)(params, lr=lr, weight_decay=wd)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=lr, momentum=config["momentum"], weight_decay=wd)
    if name == "adagrad":
        return optim.Adagrad(params, lr=lr, weight_decay=wd)
    raise KeyError(f"unknown optimizer {name!r}; known optimizers: {', '.join(OPTIMIZERS)}")


def build_schedule(config: dict, optimizer):
    """A ``LearningRateScheduler`` callback for ``config["schedule"]``, or None.

    ``exponential`` is ``α0·0.95^epoch`` and ``inverse-time`` is ``α0/(1 + epoch)``, the decays
    of 000 §7.3; ``step`` divides by 10 every third of the run; ``cosine`` anneals to 0.
    """
    from deepnum.optim import lr_scheduler
    from deepnum.train.callbacks import LearningRateScheduler

    name, epochs = config["schedule"], config["epochs"]
    if name == "none":
        return None
    if name == "step":
        return LearningRateScheduler(lr_scheduler.StepLR(optimizer, step_size=max(epochs // 3, 1), gamma=0.1))
    if name == "exponential":
        return LearningRateScheduler(lr_scheduler.ExponentialLR(optimizer, gamma=0.95))
    if name == "cosine":
        return LearningRateScheduler(lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs))
    if name == "inverse-time":
        return LearningRateScheduler(lr_scheduler.LambdaLR(optimizer, lambda epoch: 1.0 / (1.0 + epoch)))
    if name == "plateau":
        plateau = getattr(lr_scheduler, "ReduceLROnPlateau", None)
        if plateau is None:
            raise KeyError("schedule 'plateau' needs deepnum.optim.lr_scheduler.ReduceLROnPlateau, "
                           "which this version lacks; use step, exponential, cosine or inverse-time")
        return LearningRateScheduler(plateau(optimizer, factor=0.1, patience=2))
    raise KeyError(f"unknown schedule {name!r}; known schedules: {', '.join(SCHEDULES)}")


def make_loaders(splits: dict, batch_size: int, task: str):
    """DataLoaders over the train / val / test arrays (training set shuffled)."""
    import deepnum
    from deepnum.data import DataLoader, TensorDataset

    def dataset(x, y):
        y = y.astype(np.float32).reshape(len(y), -1) if task == "regression" else y
        return TensorDataset(deepnum.from_numpy(np.ascontiguousarray(x)), deepnum.from_numpy(np.ascontiguousarray(y)))

    return {
        "train": DataLoader(dataset(*splits["train"]), batch_size=batch_size, shuffle=True),
        "val": DataLoader(dataset(*splits["val"]), batch_size=max(batch_size, 1000)),
        "test": DataLoader(dataset(*splits["test"]), batch_size=max(batch_size, 1000)),
    }


def image_shape(info) -> tuple | None:
    """``(H, W)`` for image datasets (flat MNIST rows are 28 × 28), else None."""
    side = math.isqrt(info.input_shape[-1]) if len(info.input_shape) == 1 else None
    if len(info.input_shape) == 3:
        return tuple(info.input_shape[1:])
    return (side, side) if side and side * side == info.input_shape[0] and side >= 8 else None
