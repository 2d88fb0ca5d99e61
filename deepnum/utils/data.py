"""``deepnum.utils.data``: the same objects as ``deepnum.data``, under PyTorch's path."""

from deepnum.data import *  # noqa: F401,F403
from deepnum.data import __all__  # noqa: F401
