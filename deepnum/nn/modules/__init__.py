"""Layer families, one file each; every file lists its public classes in ``__all__``."""

from deepnum.nn.modules.module import Module  # noqa: F401
from deepnum.nn.modules.container import *  # noqa: F401,F403
from deepnum.nn.modules.linear import *  # noqa: F401,F403
from deepnum.nn.modules.activation import *  # noqa: F401,F403
from deepnum.nn.modules.dropout import *  # noqa: F401,F403
from deepnum.nn.modules.normalization import *  # noqa: F401,F403
from deepnum.nn.modules.sparse import *  # noqa: F401,F403
from deepnum.nn.modules.loss import *  # noqa: F401,F403
from deepnum.nn.modules.conv import *  # noqa: F401,F403
from deepnum.nn.modules.pooling import *  # noqa: F401,F403
from deepnum.nn.modules.locally_connected import *  # noqa: F401,F403
from deepnum.nn.modules.rnn import *  # noqa: F401,F403
from deepnum.nn.modules.rnn_variants import *  # noqa: F401,F403
from deepnum.nn.modules.attention import *  # noqa: F401,F403
from deepnum.nn.modules.transformer import *  # noqa: F401,F403
from deepnum.nn.modules.seq2seq_attention import *  # noqa: F401,F403
from deepnum.nn.modules.positional import *  # noqa: F401,F403
from deepnum.nn.modules.attention_forms import *  # noqa: F401,F403
from deepnum.nn.modules.memory import *  # noqa: F401,F403
from deepnum.nn.modules.vision import *  # noqa: F401,F403
from deepnum.nn.modules.embedding_bag import *  # noqa: F401,F403
from deepnum.nn.modules.instancenorm import *  # noqa: F401,F403
from deepnum.nn.modules.padding import *  # noqa: F401,F403
from deepnum.nn.modules.margin_losses import *  # noqa: F401,F403
