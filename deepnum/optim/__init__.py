"""Optimisers (``torch.optim``) and the notes' classical and second-order methods.

PyTorch's: ``Optimizer SGD Adam AdamW Adagrad RMSprop Adadelta LBFGS Adamax NAdam RAdam Rprop
ASGD`` with the same update trajectories; ``lr_scheduler`` and ``swa_utils`` as submodules.
deepnum's own (no PyTorch counterpart): ``MomentumEMA RobbinsMonro BlockCoordinateDescent
Newton ConjugateGradient`` and the ``EMA`` utility.
"""

from deepnum.optim.optimizer import Optimizer, required
from deepnum.optim.sgd import SGD
from deepnum.optim.adam import Adam, AdamW
from deepnum.optim.adagrad import Adagrad
from deepnum.optim.rmsprop import RMSprop
from deepnum.optim.adadelta import Adadelta
from deepnum.optim.adam_variants import Adamax, NAdam, RAdam
from deepnum.optim.rprop import ASGD, Rprop
from deepnum.optim.lbfgs import LBFGS
from deepnum.optim.classical import BlockCoordinateDescent, MomentumEMA, RobbinsMonro
from deepnum.optim.second_order import ConjugateGradient, Newton
from deepnum.optim.ema import EMA
from deepnum.optim import lr_scheduler, swa_utils

__all__ = [
    "Optimizer", "SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "Adadelta", "LBFGS",
    "Adamax", "NAdam", "RAdam", "Rprop", "ASGD",
    "MomentumEMA", "RobbinsMonro", "BlockCoordinateDescent", "Newton", "ConjugateGradient",
    "EMA", "lr_scheduler", "swa_utils",
]
