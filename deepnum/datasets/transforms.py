"""Data augmentation on whole batches: random shifts, crops, flips, small rotations, Gaussian
noise, and ``Compose`` to chain them (000 §6.3: augmentation reduces variance without new
hyperparameters of the model).

Every transform takes a batch of images whose last two dimensions are ``(H, W)`` —
``(N, H, W)`` or ``(N, C, H, W)`` — as a deepnum tensor or NumPy array and returns the same
kind; one random draw per example, all examples transformed at once by NumPy indexing (no
Python loop over the batch). Randomness comes from deepnum's generator (or the ``generator``
passed), so ``deepnum.manual_seed`` fixes the augmentation. Outputs keep the input dtype.

Examples:
    >>> import deepnum
    >>> augment = Compose([RandomShift(2), RandomRotation(10), GaussianNoise(0.05)])
    >>> augment(deepnum.zeros(8, 1, 28, 28)).shape
    deepnum.Size([8, 1, 28, 28])
"""

from __future__ import annotations

import numpy as np

from deepnum.ops.creation import _rng
from deepnum.tensor import Tensor

__all__ = [
    "Compose",
    "RandomShift",
    "RandomCrop",
    "RandomHorizontalFlip",
    "RandomVerticalFlip",
    "RandomRotation",
    "GaussianNoise",
    "Normalize",
    "Reshape",
]


def _unwrap(x) -> tuple[np.ndarray, bool]:
    if isinstance(x, Tensor):
        return x.array, True
    return np.asarray(x), False


def _wrap(array: np.ndarray, as_tensor: bool):
    return Tensor._make(array, False, None, 0) if as_tensor else array


def _check_images(name: str, x: np.ndarray) -> None:
    if x.ndim < 3:
        raise ValueError(f"{name}: expected a batch of images (N, H, W) or (N, C, H, W), got shape {x.shape}")


def _gather(x: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``out[n, ..., i, j] = x[n, ..., rows[n, i], cols[n, j]]`` for every example at once."""
    n = x.shape[0]
    flat = x.reshape(n, -1, *x.shape[-2:])
    out = flat[np.arange(n)[:, None, None, None], np.arange(flat.shape[1])[None, :, None, None],
               rows[:, None, :, None], cols[:, None, None, :]]
    return out.reshape(*x.shape[:-2], rows.shape[1], cols.shape[1])


class Compose:
    """Apply transforms one after the other: ``Compose([f, g])(x) = g(f(x))``."""

    def __init__(self, transforms) -> None:
        self.transforms = list(transforms)

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{inner}\n])"


class RandomCrop:
    """Crop a random ``size`` window from each image after zero-padding ``padding`` pixels.

    Args:
        size: output ``(h, w)`` (an int means square).
        padding: pixels of ``fill`` added on every side before cropping (default 0).
        fill: padding value (default 0).
    """

    def __init__(self, size, padding: int = 0, fill: float = 0.0, generator=None) -> None:
        self.size = (size, size) if isinstance(size, int) else tuple(size)
        self.padding, self.fill, self.generator = int(padding), fill, generator

    def __call__(self, x):
        x, is_tensor = _unwrap(x)
        _check_images(type(self).__name__, x)
        p = self.padding
        if p:
            pad = [(0, 0)] * (x.ndim - 2) + [(p, p), (p, p)]
            x = np.pad(x, pad, constant_values=np.asarray(self.fill, dtype=x.dtype))
        h, w = self.size
        H, W = x.shape[-2:]
        if h > H or w > W:
            raise ValueError(f"{type(self).__name__}: crop {self.size} is larger than the padded image {(H, W)}")
        rng = _rng(self.generator)
        top = rng.integers(0, H - h + 1, size=x.shape[0])
        left = rng.integers(0, W - w + 1, size=x.shape[0])
        return _wrap(_gather(x, top[:, None] + np.arange(h), left[:, None] + np.arange(w)), is_tensor)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


class RandomShift(RandomCrop):
    """Translate each image by a random integer offset in ``[-max_shift, max_shift]`` pixels
    along each axis, filling the uncovered border with ``fill`` (same output shape)."""

    def __init__(self, max_shift: int = 2, fill: float = 0.0, generator=None) -> None:
        super().__init__(size=(0, 0), padding=max_shift, fill=fill, generator=generator)
        self.max_shift = int(max_shift)

    def __call__(self, x):
        arr, _ = _unwrap(x)
        _check_images(type(self).__name__, arr)
        self.size = arr.shape[-2:]
        return super().__call__(x)

    def __repr__(self) -> str:
        return f"RandomShift(max_shift={self.max_shift})"


class _RandomFlip:
    axis = -1

    def __init__(self, p: float = 0.5, generator=None) -> None:
        self.p, self.generator = p, generator

    def __call__(self, x):
        x, is_tensor = _unwrap(x)
        _check_images(type(self).__name__, x)
        flip = _rng(self.generator).random(x.shape[0]) < self.p
        flip = flip.reshape(-1, *([1] * (x.ndim - 1)))
        return _wrap(np.where(flip, np.flip(x, axis=self.axis), x), is_tensor)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class RandomHorizontalFlip(_RandomFlip):
    """Mirror each image left-right with probability ``p`` (default 0.5)."""

    axis = -1


class RandomVerticalFlip(_RandomFlip):
    """Mirror each image top-bottom with probability ``p`` (default 0.5)."""

    axis = -2


class RandomRotation:
    """Rotate each image about its centre by an angle drawn from ``U[-degrees, degrees]``
    (or ``U[low, high]`` for a pair), with bilinear interpolation and ``fill`` outside.

    A positive angle turns the content counter-clockwise as displayed (rows pointing down), as
    in torchvision: ``RandomRotation((90, 90))`` equals ``np.rot90`` on the last two axes.
    """

    def __init__(self, degrees=10.0, fill: float = 0.0, generator=None) -> None:
        low, high = (-float(degrees), float(degrees)) if np.isscalar(degrees) else map(float, degrees)
        self.degrees, self.fill, self.generator = (low, high), fill, generator

    def __call__(self, x):
        x, is_tensor = _unwrap(x)
        _check_images(type(self).__name__, x)
        n, (H, W) = x.shape[0], x.shape[-2:]
        theta = np.deg2rad(_rng(self.generator).uniform(*self.degrees, size=n))
        cos, sin = np.cos(theta)[:, None, None], np.sin(theta)[:, None, None]
        i, j = np.meshgrid(np.arange(H) - (H - 1) / 2, np.arange(W) - (W - 1) / 2, indexing="ij")
        # inverse map: where each output pixel comes from (rows i point down, so the signs differ)
        src_i = cos * i + sin * j + (H - 1) / 2
        src_j = -sin * i + cos * j + (W - 1) / 2
        i0, j0 = np.floor(src_i).astype(np.intp), np.floor(src_j).astype(np.intp)
        di, dj = (src_i - i0).astype(x.dtype), (src_j - j0).astype(x.dtype)
        flat = x.reshape(n, -1, H, W)
        padded = np.pad(flat, [(0, 0), (0, 0), (1, 1), (1, 1)], constant_values=np.asarray(self.fill, dtype=x.dtype))
        # clip into the 1-pixel fill border so far-away sources read `fill`
        r0, c0 = np.clip(i0 + 1, 0, H + 1), np.clip(j0 + 1, 0, W + 1)
        r1, c1 = np.clip(i0 + 2, 0, H + 1), np.clip(j0 + 2, 0, W + 1)
        nb = np.arange(n)[:, None, None, None]
        ch = np.arange(flat.shape[1])[None, :, None, None]

        def at(r, c):
            return padded[nb, ch, r[:, None], c[:, None]]

        di, dj = di[:, None], dj[:, None]
        out = (at(r0, c0) * (1 - di) * (1 - dj) + at(r0, c1) * (1 - di) * dj
               + at(r1, c0) * di * (1 - dj) + at(r1, c1) * di * dj)
        return _wrap(out.reshape(x.shape).astype(x.dtype, copy=False), is_tensor)

    def __repr__(self) -> str:
        return f"RandomRotation(degrees={self.degrees})"


class GaussianNoise:
    """Add independent ``N(mean, std²)`` noise to every value (same dtype as the input)."""

    def __init__(self, std: float = 0.1, mean: float = 0.0, generator=None) -> None:
        self.std, self.mean, self.generator = std, mean, generator

    def __call__(self, x):
        x, is_tensor = _unwrap(x)
        noise = _rng(self.generator).standard_normal(x.shape, dtype=np.float32 if x.dtype == np.float32 else np.float64)
        return _wrap((x + (self.mean + self.std * noise).astype(x.dtype, copy=False)), is_tensor)

    def __repr__(self) -> str:
        return f"GaussianNoise(std={self.std}, mean={self.mean})"


class Normalize:
    """Standardise: ``(x - mean) / std`` with scalars or per-channel values (broadcast over
    ``(N, C, H, W)``); fit ``mean`` and ``std`` on the training set only (003 §2.2)."""

    def __init__(self, mean, std) -> None:
        self.mean, self.std = mean, std

    def __call__(self, x):
        x, is_tensor = _unwrap(x)
        mean = np.asarray(self.mean, dtype=x.dtype)
        std = np.asarray(self.std, dtype=x.dtype)
        if mean.ndim == 1 and x.ndim == 4:
            mean, std = mean[:, None, None], std[:, None, None]
        return _wrap((x - mean) / std, is_tensor)

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean}, std={self.std})"


class Reshape:
    """Give each example the shape ``shape`` (e.g. flat MNIST rows ``(784,)`` ↔ ``(1, 28, 28)``)."""

    def __init__(self, *shape) -> None:
        self.shape = tuple(shape[0]) if len(shape) == 1 and not isinstance(shape[0], int) else shape

    def __call__(self, x):
        x, is_tensor = _unwrap(x)
        return _wrap(x.reshape(x.shape[0], *self.shape), is_tensor)

    def __repr__(self) -> str:
        return f"Reshape{self.shape}"
