"""``deepnum.train``: a ``fit`` loop over the explicit PyTorch loop, metrics, callbacks,
checkpoints, diagnostics and plots.

    >>> from deepnum.train import fit, EarlyStopping, ModelCheckpoint
"""

from deepnum.train import diagnose, metrics, plots  # noqa: F401
from deepnum.train.callbacks import (  # noqa: F401
    Callback, CallbackList, CSVLogger, EarlyStopping, GradientMonitor, GradientWarning, History,
    JSONLogger, LearningRateScheduler, ModelCheckpoint, ProgressBar,
)
from deepnum.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint  # noqa: F401
from deepnum.train.diagnose import (  # noqa: F401
    CollapsedPredictionsWarning, Diagnosis, check_prediction_collapse, diagnose_bias_variance,
)
from deepnum.train.fit import evaluate, fit, predict  # noqa: F401
from deepnum.train.metrics import accuracy, confusion_matrix, mae, rmse, top_k_accuracy  # noqa: F401

__all__ = [
    "fit", "evaluate", "predict", "Callback", "CallbackList", "History", "EarlyStopping",
    "ModelCheckpoint", "ProgressBar", "CSVLogger", "JSONLogger", "LearningRateScheduler",
    "GradientMonitor", "GradientWarning", "save_checkpoint", "load_checkpoint", "CheckpointError",
    "diagnose_bias_variance", "Diagnosis", "check_prediction_collapse", "CollapsedPredictionsWarning",
    "accuracy", "top_k_accuracy", "confusion_matrix", "mae", "rmse",
]
