"""``Callback``: hooks into ``fit`` with Keras' names, and ``CallbackList`` that calls them in order.

Hooks (all optional): ``on_train_begin(logs)``, ``on_epoch_begin(epoch, logs)``,
``on_batch_begin(batch, logs)``, ``on_batch_end(batch, logs)``, ``on_epoch_end(epoch, logs)``,
``on_train_end(logs)``. Epochs and batches count from 0; ``logs`` is a dict of floats such as
``{"loss": 0.31, "accuracy": 0.91, "val_loss": 0.35, "val_accuracy": 0.90, "lr": 0.001}``.
Before training, ``fit`` gives every callback ``self.model``, ``self.optimizer`` and
``self.params`` (epochs, steps per epoch, verbosity). A callback stops training by setting
``self.model.stop_training = True``; the loop ends after the current epoch.

A callback whose state matters for resuming (the best value so far, a scheduler, ...) returns it
from ``state_dict()`` and takes it back in ``load_state_dict()``; ``ModelCheckpoint`` saves these
states with the model so that a resumed run continues exactly where it stopped.
"""

from __future__ import annotations

__all__ = ["Callback", "CallbackList"]


class Callback:
    """Base class of training callbacks; every hook does nothing by default."""

    #: callbacks that record the training state (checkpoints) run after all others
    run_last = False

    def __init__(self) -> None:
        self.model = None
        self.optimizer = None
        self.params: dict = {}
        self.callbacks: CallbackList | None = None

    def set_context(self, model, optimizer, params: dict, callbacks: CallbackList) -> None:
        self.model, self.optimizer, self.params, self.callbacks = model, optimizer, params, callbacks

    def on_train_begin(self, logs=None) -> None: ...

    def on_train_end(self, logs=None) -> None: ...

    def on_epoch_begin(self, epoch: int, logs=None) -> None: ...

    def on_epoch_end(self, epoch: int, logs=None) -> None: ...

    def on_batch_begin(self, batch: int, logs=None) -> None: ...

    def on_batch_end(self, batch: int, logs=None) -> None: ...

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None: ...


class CallbackList:
    """Calls each hook on every callback, in the order given (``run_last`` ones at the end)."""

    def __init__(self, callbacks=()) -> None:
        callbacks = list(callbacks)
        self.callbacks = [c for c in callbacks if not c.run_last] + [c for c in callbacks if c.run_last]

    def set_context(self, model, optimizer, params: dict) -> None:
        for c in self.callbacks:
            c.set_context(model, optimizer, params, self)

    def find(self, kind: type):
        """The first callback that is an instance of ``kind``, or None."""
        return next((c for c in self.callbacks if isinstance(c, kind)), None)

    def state_dict(self) -> dict:
        """States of the callbacks that have one, keyed by position and class name."""
        states = {}
        for i, c in enumerate(self.callbacks):
            state = c.state_dict()
            if state:
                states[f"{i}:{type(c).__name__}"] = state
        return states

    def load_state_dict(self, states: dict) -> None:
        for i, c in enumerate(self.callbacks):
            key = f"{i}:{type(c).__name__}"
            if key in states:
                c.load_state_dict(states[key])

    def on_train_begin(self, logs=None) -> None:
        for c in self.callbacks:
            c.on_train_begin(logs)

    def on_train_end(self, logs=None) -> None:
        for c in self.callbacks:
            c.on_train_end(logs)

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        for c in self.callbacks:
            c.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        for c in self.callbacks:
            c.on_epoch_end(epoch, logs)

    def on_batch_begin(self, batch: int, logs=None) -> None:
        for c in self.callbacks:
            c.on_batch_begin(batch, logs)

    def on_batch_end(self, batch: int, logs=None) -> None:
        for c in self.callbacks:
            c.on_batch_end(batch, logs)
