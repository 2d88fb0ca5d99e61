"""Training checkpoints: the whole state of a run in one file, written atomically, so that a
resumed run continues bit for bit like one that was never interrupted.

A checkpoint holds the model's ``state_dict``, the optimiser's ``state_dict`` (moments, step
counts, learning rates), deepnum's random-number-generator state (dropout masks and shuffling
continue the same sequence), the number of the last finished epoch, and the states of the
callbacks (history, early-stopping counters, learning-rate scheduler). It is written with
``deepnum.save`` (no pickle) to a temporary file in the same folder and renamed over the old
one only when complete: a crash or Ctrl-C while saving leaves the previous checkpoint intact.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deepnum.train.atomic import replaced_atomically

FORMAT = "deepnum-checkpoint-v1"

__all__ = ["save_checkpoint", "load_checkpoint", "atomic_save", "CheckpointError"]


class CheckpointError(ValueError):
    """A checkpoint does not exist, is corrupt, or does not fit the model or optimiser."""


def atomic_save(obj, path) -> Path:
    """``deepnum.save(obj, path)`` through a temporary file and an atomic rename."""
    import deepnum

    path = Path(path)
    with replaced_atomically(path) as tmp:
        deepnum.save(obj, tmp)
    return path


def _generator_of(loader):
    gen = getattr(loader, "generator", None)
    return gen if gen is not None and hasattr(gen, "get_state") else None


def save_checkpoint(path, model, optimizer=None, epoch: int = -1, callbacks=None, train_loader=None) -> Path:
    """Write the training state after ``epoch`` (counted from 0) to ``path``, atomically."""
    import deepnum

    state = {
        "format": FORMAT,
        "epoch": int(epoch),
        "model_class": type(model).__name__,
        "model": model.state_dict(),
        "rng_state": deepnum.get_rng_state(),
    }
    if optimizer is not None:
        state["optimizer"] = optimizer.state_dict()
    if callbacks is not None:
        state["callbacks"] = callbacks.state_dict()
    gen = _generator_of(train_loader)
    if gen is not None:
        state["loader_rng_state"] = gen.get_state()
    return atomic_save(state, path)


def _shape(value) -> tuple:
    return tuple(getattr(value, "shape", np.shape(value)))


def check_fits(state_dict, model, path) -> None:
    """Raise ``CheckpointError`` (loading nothing) unless the keys and shapes match ``model``."""
    own = model.state_dict()
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    if missing or unexpected:
        raise CheckpointError(
            f"checkpoint {path} was saved from a different model ({type(model).__name__} lacks "
            f"{unexpected[:3] or 'nothing'}, the checkpoint lacks {missing[:3] or 'nothing'})"
        )
    wrong = [(k, _shape(state_dict[k]), tuple(v.shape)) for k, v in own.items() if _shape(state_dict[k]) != tuple(v.shape)]
    if wrong:
        k, theirs, ours = wrong[0]
        raise CheckpointError(f"checkpoint {path} was saved from a different model: {k} has shape {theirs} there, {ours} here")


def read_checkpoint(path) -> dict:
    """Load a checkpoint file's content, with one clear error if it is missing or corrupt."""
    import deepnum

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        state = deepnum.load(path)
    except Exception as err:  # deepnum.load names the problem; say which file it is
        raise CheckpointError(f"checkpoint {path} cannot be read: {err}") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint {path} is not a deepnum training checkpoint")
    return state


def load_checkpoint(path, model, optimizer=None, callbacks=None, train_loader=None, restore_rng: bool = True) -> int:
    """Restore a run saved by ``save_checkpoint``; returns the epoch to continue from.

    Everything is validated before anything is loaded, so a checkpoint of another model leaves
    ``model`` untouched.
    """
    import deepnum

    state = read_checkpoint(path)
    check_fits(state["model"], model, path)
    if optimizer is not None and "optimizer" in state:
        saved_groups = state["optimizer"]["param_groups"]
        if [len(g["params"]) for g in saved_groups] != [len(g["params"]) for g in optimizer.param_groups]:
            raise CheckpointError(f"checkpoint {path} was saved with a different optimiser set-up")
    model.load_state_dict(state["model"])
    if optimizer is not None and "optimizer" in state:
        optimizer.load_state_dict(state["optimizer"])
    if callbacks is not None and "callbacks" in state:
        callbacks.load_state_dict(state["callbacks"])
    if restore_rng:
        deepnum.set_rng_state(state["rng_state"])
        gen = _generator_of(train_loader)
        if gen is not None and "loader_rng_state" in state:
            gen.set_state(state["loader_rng_state"])
    return int(state["epoch"]) + 1
