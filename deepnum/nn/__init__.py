"""``deepnum.nn``: modules, parameters, layers and losses with PyTorch's names."""

from deepnum.nn.parameter import Buffer, Parameter  # noqa: F401
from deepnum.nn.modules import *  # noqa: F401,F403
from deepnum.nn.modules import Module  # noqa: F401
from deepnum.nn import functional, init, utils  # noqa: F401
from deepnum.nn import penalties  # noqa: F401
