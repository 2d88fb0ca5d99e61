"""``deepnum.jit``: PyTorch programs that script or trace a model run eagerly instead.

``script`` and ``trace`` return what they are given (deepnum has no graph compiler; the
eager model computes the same function); ``ignore``/``unused``/``export`` are no-op
decorators. Saving a scripted program is not possible: ``save``/``load`` explain what to do.
"""

from __future__ import annotations

__all__ = [
    "script",
    "trace",
    "ignore",
    "unused",
    "export",
    "is_scripting",
    "is_tracing",
    "save",
    "load",
]


def script(obj, *args, **kwargs):
    """``torch.jit.script``: returns ``obj`` unchanged."""
    return obj


def trace(func, example_inputs=None, *args, **kwargs):
    """``torch.jit.trace``: returns ``func`` unchanged."""
    return func


def ignore(fn=None, **kwargs):
    return fn if fn is not None else (lambda f: f)


unused = export = ignore


def is_scripting() -> bool:
    return False


def is_tracing() -> bool:
    return False


def save(m, f, *args, **kwargs):
    raise NotImplementedError(
        "deepnum.jit.save: deepnum has no TorchScript; save the weights with "
        "deepnum.save(model.state_dict(), f) (or the whole module with deepnum.save(model, f))"
    )


def load(f, *args, **kwargs):
    raise NotImplementedError(
        "deepnum.jit.load: deepnum cannot read TorchScript archives; rebuild the model in Python and "
        "load its state_dict"
    )
