"""Image tensors in PyTorch's layouts turned into 8-bit (height, width, channels) pixels.

The rules are those of ``torch.utils.tensorboard``:

* ``dataformats`` names the axes: ``CHW``, ``HWC``, ``HW``, ``NCHW``, ``NHWC``, ... in any order;
* one channel, or no channel axis at all, becomes three equal RGB channels;
* a batch (``N`` axis) is laid out as a grid of at most 8 columns, left to right then top to
  bottom, with black where the last row is short (every image must have 1 or 3 channels);
* ``uint8`` values are kept; any other dtype is taken to be in [0, 1] and multiplied by 255;
  the result is clipped to [0, 255] and truncated to an integer (NaN becomes 0).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["to_hwc", "make_grid", "to_uint8"]

_AXES_BY_RANK = {2: "HW", 3: "HWC", 4: "NCHW"}


def _axis_order(dataformats: str, ndim: int) -> tuple[str, list[int]]:
    """The canonical layout for ``dataformats`` and the transpose order that reaches it."""
    layout = dataformats.upper()
    if len(set(layout)) != len(layout):
        raise ValueError(f"dataformats {dataformats!r} names an axis twice")
    if len(layout) != ndim:
        raise ValueError(
            f"dataformats {dataformats!r} has {len(layout)} axes but the image tensor has {ndim}"
        )
    canonical = _AXES_BY_RANK.get(ndim)
    if canonical is None or set(layout) != set(canonical):
        raise ValueError(
            f"dataformats {dataformats!r} is not a layout of N, C, H, W "
            "such as CHW, HWC, HW or NCHW"
        )
    return canonical, [layout.index(axis) for axis in canonical]


def make_grid(images: np.ndarray, ncols: int = 8) -> np.ndarray:
    """A (3, H * rows, W * cols) grid of a (N, C, H, W) batch with C = 1 or 3 (1 is repeated).

    Examples:
        >>> make_grid(np.ones((10, 1, 2, 2))).shape
        (3, 4, 16)
    """
    if images.shape[1] == 1:
        images = np.repeat(images, 3, axis=1)
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"a batch of images needs 1 or 3 channels, got shape {images.shape}")
    count, channels, height, width = images.shape
    ncols = min(count, ncols)
    nrows = math.ceil(count / ncols)
    grid = np.zeros((channels, height * nrows, width * ncols), dtype=images.dtype)
    for index, image in enumerate(images):
        row, col = divmod(index, ncols)
        grid[:, row * height:(row + 1) * height, col * width:(col + 1) * width] = image
    return grid


def to_hwc(array: np.ndarray, dataformats: str) -> np.ndarray:
    """``array`` laid out as ``dataformats`` says, as (H, W, C); one channel becomes three.

    Examples:
        >>> to_hwc(np.zeros((1, 4, 5)), "CHW").shape
        (4, 5, 3)
        >>> to_hwc(np.zeros((4, 5)), "HW").shape
        (4, 5, 3)
    """
    canonical, order = _axis_order(dataformats, array.ndim)
    array = array.transpose(order)
    if canonical == "NCHW":
        return make_grid(array).transpose(1, 2, 0)
    if canonical == "HW":
        return np.stack([array, array, array], axis=2)
    if array.shape[2] == 1:
        return np.repeat(array, 3, axis=2)
    return array


def to_uint8(array: np.ndarray) -> np.ndarray:
    """8-bit pixel values: ``uint8`` kept, anything else scaled from [0, 1] by 255, clipped.

    Examples:
        >>> to_uint8(np.array([0.0, 0.5, 1.0, 2.0, -1.0]))
        array([  0, 127, 255, 255,   0], dtype=uint8)
    """
    scale = 1 if array.dtype == np.uint8 else 255
    scaled = array.astype(np.float32) * scale
    scaled[np.isnan(scaled)] = 0
    return scaled.clip(0, 255).astype(np.uint8)
