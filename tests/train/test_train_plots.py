"""Plots are written as valid PNG files (Agg), atomically, and say clearly when matplotlib is missing."""

import numpy as np
import pytest

from deepnum.train import plots

pytestmark = pytest.mark.skipif(not plots.available(), reason="matplotlib is not installed")
PNG = b"\x89PNG\r\n\x1a\n"


def _is_png(path):
    return path.read_bytes()[:8] == PNG


def test_history_plot(tmp_path):
    history = {"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.7, 0.6], "accuracy": [0.5, 0.8, 0.9],
               "val_accuracy": [0.4, 0.7, 0.8], "lr": [0.1, 0.1, 0.01]}
    path = plots.plot_history(history, tmp_path / "curves.png", title="run")
    assert _is_png(path)
    assert [p.name for p in tmp_path.iterdir()] == ["curves.png"]  # no temporary file left


def test_grad_norm_plot(tmp_path):
    assert _is_png(plots.plot_grad_norms({"fc1": [1.0, 0.5, 0.2], "fc2": [0.1, 0.05, 0.01]}, tmp_path / "g.png"))


def test_misclassified_grid(tmp_path):
    images = np.random.default_rng(0).random((20, 784)).astype(np.float32)
    target = np.arange(20) % 10
    output = np.eye(10)[(target + (np.arange(20) % 3 == 0)) % 10]
    assert _is_png(plots.plot_misclassified(images, output, target, tmp_path / "wrong.png"))
    assert _is_png(plots.plot_misclassified(images, np.eye(10)[target], target, tmp_path / "none.png"))


def test_decision_boundary(tmp_path):
    from deepnum.models import zoo

    model = zoo["mlp"](input_shape=(2,), num_classes=2, hidden=(8,))
    from deepnum.datasets import two_moons

    X, y = two_moons(50)
    assert _is_png(plots.plot_decision_boundary(model, X, y, tmp_path / "b.png", resolution=40))
    assert model.training  # mode restored
    with pytest.raises(ValueError, match=r"expected 2-D inputs of shape \(N, 2\), got \(5, 3\)"):
        plots.plot_decision_boundary(model, np.zeros((5, 3)), np.zeros(5), tmp_path / "x.png")


def test_missing_matplotlib_is_one_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(plots, "available", lambda: False)
    with pytest.raises(ModuleNotFoundError, match=r"plots need matplotlib: pip install 'deepnum\[plot\]'"):
        plots.plot_history({"loss": [1.0]}, tmp_path / "c.png")
