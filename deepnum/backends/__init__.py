"""``deepnum.backends``: PyTorch's backend switches, answering as a CPU-only build does.

Programs set ``torch.backends.cudnn.deterministic = True`` / ``benchmark = False`` or ask
``torch.backends.mps.is_available()``; the flags are accepted and there is no GPU backend.
"""

from deepnum.backends import cuda, cudnn, mps  # noqa: F401

__all__ = ["cudnn", "mps", "cuda"]
