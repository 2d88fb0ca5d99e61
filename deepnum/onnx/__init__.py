"""``deepnum.onnx``: importable so PyTorch programs load; exporting is not supported."""

from __future__ import annotations


def export(model, args, f=None, *pos, **kwargs):
    """Not supported: raises with what to do instead."""
    raise NotImplementedError(
        "deepnum.onnx.export: exporting to ONNX is not supported by deepnum; save the weights "
        "with deepnum.save(model.state_dict(), path) and load them into the same architecture "
        "in PyTorch (the state_dict keys and shapes are PyTorch's)"
    )


def is_in_onnx_export() -> bool:
    return False
