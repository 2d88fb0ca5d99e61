"""``deepnum.nn.functional`` (imported as ``F``): the functional form of every layer and loss."""

from deepnum.nn.functional.activation import *  # noqa: F401,F403
from deepnum.nn.functional.linear import *  # noqa: F401,F403
from deepnum.nn.functional.dropout import *  # noqa: F401,F403
from deepnum.nn.functional.normalization import *  # noqa: F401,F403
from deepnum.nn.functional.embedding import *  # noqa: F401,F403
from deepnum.nn.functional.loss import *  # noqa: F401,F403
from deepnum.nn.functional.ctc import *  # noqa: F401,F403
from deepnum.nn.functional.conv import *  # noqa: F401,F403
from deepnum.nn.functional.pooling import *  # noqa: F401,F403
from deepnum.nn.functional.attention import *  # noqa: F401,F403
from deepnum.nn.functional.vision import *  # noqa: F401,F403
from deepnum.nn.functional.embedding_bag import *  # noqa: F401,F403
from deepnum.nn.functional.instancenorm import *  # noqa: F401,F403
from deepnum.nn.functional.margin_losses import *  # noqa: F401,F403
