"""Training callbacks with Keras' hook names, one per file."""

from deepnum.train.callbacks.base import Callback, CallbackList
from deepnum.train.callbacks.csv_logger import CSVLogger
from deepnum.train.callbacks.early_stopping import EarlyStopping
from deepnum.train.callbacks.gradient_monitor import GradientMonitor, GradientWarning
from deepnum.train.callbacks.history import History
from deepnum.train.callbacks.json_logger import JSONLogger
from deepnum.train.callbacks.lr_scheduler import LearningRateScheduler
from deepnum.train.callbacks.model_checkpoint import ModelCheckpoint
from deepnum.train.callbacks.progress_bar import ProgressBar

__all__ = [
    "Callback", "CallbackList", "History", "EarlyStopping", "ModelCheckpoint", "ProgressBar",
    "CSVLogger", "JSONLogger", "LearningRateScheduler", "GradientMonitor", "GradientWarning",
]
