"""fit and its callbacks: learning, early stopping with restored weights, bit-identical resume,
Ctrl-C safety, loggers, schedules, gradient monitor, progress output."""

import csv
import io
import json

import numpy as np
import pytest

import deepnum
from deepnum import nn, optim
from deepnum.data import DataLoader, TensorDataset
from deepnum.datasets import load_dataset
from deepnum.models import zoo
from deepnum.train import (
    Callback, CheckpointError, CSVLogger, EarlyStopping, GradientMonitor, GradientWarning, JSONLogger,
    LearningRateScheduler, ModelCheckpoint, ProgressBar, evaluate, fit, load_checkpoint,
)


def loaders(name="moons", n=400, batch_size=32):
    splits = load_dataset(name, n=n, seed=0)
    train = DataLoader(TensorDataset(*map(deepnum.tensor, splits["train"])), batch_size=batch_size, shuffle=True)
    dev = DataLoader(TensorDataset(*map(deepnum.tensor, splits["val"])), batch_size=256)
    return train, dev


def make_run(dropout=0.2, lr=1e-2):
    model = zoo["mlp"](input_shape=(2,), num_classes=2, hidden=(32, 32), dropout=dropout)
    opt = optim.Adam(model.parameters(), lr=lr)
    return model, opt


def weights(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def test_fit_learns_and_reports_dev_metrics():
    train, dev = loaders()
    model, opt = make_run()
    history = fit(model, opt, nn.CrossEntropyLoss(), train, epochs=15, val_loader=dev, verbose=0)
    h = history.history
    assert set(h) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"} and len(h["loss"]) == 15
    assert h["loss"][-1] < 0.5 * h["loss"][0]
    assert h["val_accuracy"][-1] > 0.95
    # the logged dev numbers are those of evaluate() on the final weights
    again = evaluate(model, dev, nn.CrossEntropyLoss(), ["accuracy"])
    assert again["accuracy"] == h["val_accuracy"][-1]
    assert again["loss"] == pytest.approx(h["val_loss"][-1], rel=1e-6)


class ScriptedLoss(Callback):
    """Replace val_loss by a fixed sequence and keep a copy of the weights of every epoch."""

    def __init__(self, values):
        super().__init__()
        self.values, self.snapshots = values, []

    def on_epoch_end(self, epoch, logs=None):
        logs["val_loss"] = self.values[epoch]
        self.snapshots.append(weights(self.model))


def test_early_stopping_stops_after_patience_and_restores_best_weights():
    train, dev = loaders()
    model, opt = make_run()
    script = ScriptedLoss([3.0, 1.0, 1.5, 0.9995, 2.0, 2.5, 0.1, 0.1])
    stopper = EarlyStopping(monitor="val_loss", patience=3, min_delta=0.01, restore_best_weights=True)
    history = fit(model, opt, nn.CrossEntropyLoss(), train, epochs=8, val_loader=dev,
                  callbacks=[script, stopper], verbose=0)
    # epoch 3 (0.9995) does not beat 1.0 by min_delta; patience 3 runs out at epoch 4
    assert len(history.epoch) == 5 and stopper.stopped_epoch == 4 and stopper.best_epoch == 1
    for key, value in weights(model).items():
        np.testing.assert_array_equal(value, script.snapshots[1][key])
    assert not np.array_equal(script.snapshots[4]["1.weight"], script.snapshots[1]["1.weight"])


def test_early_stopping_needs_its_monitor():
    train, _ = loaders()
    model, opt = make_run()
    with pytest.raises(KeyError, match="monitored quantity 'val_loss' is not in the logs"):
        fit(model, opt, nn.CrossEntropyLoss(), train, epochs=1, callbacks=[EarlyStopping()], verbose=0)


def run(tmp_path, epochs, resume=False, interrupt_at=None, seed=0):
    """A run with dropout, shuffling, Adam and a step schedule: every source of state."""
    deepnum.manual_seed(seed)
    train, dev = loaders(batch_size=16)
    model, opt = make_run()
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    callbacks = [LearningRateScheduler(sched), EarlyStopping(patience=50),
                 ModelCheckpoint(tmp_path / "ck.dnm"), CSVLogger(tmp_path / "h.csv")]
    if interrupt_at is not None:
        callbacks.append(Interrupt(*interrupt_at))
    history = fit(model, opt, nn.CrossEntropyLoss(), train, epochs=epochs, val_loader=dev, callbacks=callbacks,
                  resume_from=tmp_path / "ck.dnm" if resume else None, verbose=0)
    return model, opt, history


class Interrupt(Callback):
    def __init__(self, epoch, batch):
        super().__init__()
        self.at = (epoch, batch)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise KeyboardInterrupt


def test_resume_is_bit_identical_to_an_uninterrupted_run(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    full_model, full_opt, full_history = run(tmp_path / "a", epochs=5)
    run(tmp_path / "b", epochs=3)
    # a fresh process would start from other weights and another random state
    resumed_model, resumed_opt, resumed_history = run(tmp_path / "b", epochs=5, resume=True, seed=123)
    for key, value in weights(full_model).items():
        np.testing.assert_array_equal(weights(resumed_model)[key], value)
    assert resumed_history.history == full_history.history
    assert resumed_history.epoch == [0, 1, 2, 3, 4]
    assert resumed_opt.param_groups[0]["lr"] == full_opt.param_groups[0]["lr"] == 1e-2 * 0.5**2
    with open(tmp_path / "b" / "h.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3, 4, 5]


def test_ctrl_c_leaves_the_last_checkpoint_resumable(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    full_model, _, _ = run(tmp_path / "a", epochs=4)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "b", epochs=4, interrupt_at=(2, 5))
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["ck.dnm", "h.csv"]  # no temp files
    model, _ = make_run()
    assert load_checkpoint(tmp_path / "b" / "ck.dnm", model) == 2  # epochs 0 and 1 were finished
    resumed_model, _, _ = run(tmp_path / "b", epochs=4, resume=True)
    for key, value in weights(full_model).items():
        np.testing.assert_array_equal(weights(resumed_model)[key], value)


def test_checkpoint_of_another_model_is_refused_and_nothing_loaded(tmp_path):
    model, opt = make_run()
    fit(model, opt, nn.CrossEntropyLoss(), loaders()[0], epochs=1, callbacks=[ModelCheckpoint(tmp_path / "ck.dnm")],
        verbose=0)
    other = zoo["mlp"](input_shape=(2,), num_classes=2, hidden=(16,))
    before = weights(other)
    with pytest.raises(CheckpointError, match="was saved from a different model"):
        load_checkpoint(tmp_path / "ck.dnm", other)
    for k, v in weights(other).items():
        np.testing.assert_array_equal(v, before[k])
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nothing.dnm", model)
    (tmp_path / "bad.dnm").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="cannot be read"):
        load_checkpoint(tmp_path / "bad.dnm", model)


def test_best_only_checkpoint_and_json_log(tmp_path):
    train, dev = loaders()
    model, opt = make_run()
    script = ScriptedLoss([1.0, 2.0, 0.5, 3.0])
    best = ModelCheckpoint(tmp_path / "best-{epoch}.dnm", save_best_only=True)
    history = fit(model, opt, nn.CrossEntropyLoss(), train, epochs=4, val_loader=dev,
                  callbacks=[script, best, JSONLogger(tmp_path / "h.json")], verbose=0)
    assert sorted(p.name for p in tmp_path.glob("best-*")) == ["best-1.dnm", "best-3.dnm"]
    logged = json.loads((tmp_path / "h.json").read_text())
    assert logged["epoch"] == [1, 2, 3, 4] and logged["history"] == history.history


def test_function_schedule_sets_lr_each_epoch():
    train, _ = loaders()
    model, opt = make_run(lr=0.1)
    # 000 §7.3: alpha = alpha0 / (1 + d * epoch)
    history = fit(model, opt, nn.CrossEntropyLoss(), train, epochs=3, verbose=0,
                  callbacks=[LearningRateScheduler(lambda epoch, lr: 0.1 / (1 + 1.0 * epoch))])
    assert history.history["lr"] == pytest.approx([0.1, 0.05, 0.1 / 3])


def test_gradient_monitor_records_norms_dead_units_and_warns_on_explosion():
    train, _ = loaders()
    model, opt = make_run(dropout=0.0)
    monitor = GradientMonitor(every=5)
    fit(model, opt, nn.CrossEntropyLoss(), train, epochs=1, callbacks=[monitor], verbose=0)
    assert list(monitor.history) == ["1", "3", "5"] and len(monitor.history["1"]) == -(-len(train) // 5)
    assert set(monitor.dead_fraction) == {"2", "4"}
    assert all(0 < n < 100 for norms in monitor.history.values() for n in norms)
    assert "layer gradient norms" in monitor.summary()
    model, opt = make_run(dropout=0.0)
    with pytest.warns(GradientWarning, match=r"gradient norm of layer '[135]' is .* exploding gradients"):
        fit(model, opt, nn.CrossEntropyLoss(), train, epochs=1, callbacks=[GradientMonitor(explode_threshold=1e-6)],
            verbose=0)
    with pytest.warns(GradientWarning, match="vanishing gradients"):
        fit(model, opt, nn.CrossEntropyLoss(), train, epochs=1, callbacks=[GradientMonitor(vanish_threshold=1e6)],
            verbose=0)


def test_saturated_sigmoid_units_are_counted():
    train, _ = loaders()
    model = zoo["mlp"](input_shape=(2,), num_classes=2, hidden=(16,), activation="sigmoid")
    with deepnum.no_grad():
        model[1].weight.mul_(1000.0)  # drive the sigmoid far into its flat tails
    monitor = GradientMonitor(every=1, warn=False)
    fit(model, optim.SGD(model.parameters(), lr=0.0), nn.CrossEntropyLoss(), train, epochs=1, callbacks=[monitor],
        verbose=0)
    assert np.mean(monitor.saturated_fraction["2"]) > 0.9


def test_progress_is_one_line_per_epoch_when_not_a_terminal():
    train, dev = loaders()
    model, opt = make_run()
    out = io.StringIO()
    fit(model, opt, nn.CrossEntropyLoss(), train, epochs=2, val_loader=dev, callbacks=[ProgressBar(stream=out)])
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and lines[0].startswith("Epoch 1/2: loss ") and "val_accuracy" in lines[1]


def test_augmentation_transform_is_applied_to_training_batches_only():
    seen = []
    train, dev = loaders()
    model, opt = make_run()

    def transform(x):
        seen.append(x.shape)
        return x + 0.0

    fit(model, opt, nn.CrossEntropyLoss(), train, epochs=1, val_loader=dev, transform=transform, verbose=0)
    assert len(seen) == len(train)


def test_collapsed_predictions_warn_during_fit():
    train, dev = loaders()
    model, opt = make_run(lr=0.0)
    with deepnum.no_grad():
        model[7].bias.copy_(deepnum.tensor([100.0, 0.0]))  # every example predicted as class 0
    with pytest.warns(UserWarning, match="collapsed to one class"):
        fit(model, opt, nn.CrossEntropyLoss(), train, epochs=2, val_loader=dev, verbose=0)


def test_progress_bar_with_tqdm_and_without(monkeypatch):
    pytest.importorskip("tqdm")
    import importlib.util

    train, _ = loaders()
    model, opt = make_run()
    out = io.StringIO()
    fit(model, opt, nn.CrossEntropyLoss(), train, epochs=1, callbacks=[ProgressBar(stream=out, bar=True)])
    assert "Epoch 1/1" in out.getvalue() and f"{len(train)}/{len(train)}" in out.getvalue()
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tqdm" else real(name, *a))
    out = io.StringIO()
    fit(model, opt, nn.CrossEntropyLoss(), train, epochs=1, callbacks=[ProgressBar(stream=out, bar=True)])
    assert out.getvalue().startswith("Epoch 1/1: loss ")
