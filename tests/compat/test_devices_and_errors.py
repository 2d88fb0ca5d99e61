"""Devices (CPU only), saving/loading as PyTorch programs do, and the errors for what cannot work."""

import io

import numpy as np
import pytest
import torch

import deepnum
import deepnum.nn as dnn
from deepnum.distributions import Bernoulli, Categorical, MultivariateNormal, Normal, Uniform


def test_cpu_device_idioms():
    device = deepnum.device("cuda" if deepnum.cuda.is_available() else "cpu")
    assert device == deepnum.device("cpu") and device.type == "cpu" and str(device) == "cpu"
    x = deepnum.ones(2, 3)
    assert x.device == deepnum.device("cpu") and x.device == "cpu" and not x.is_cuda
    assert x.to(device) is x and x.cpu() is x
    assert x.to(device, deepnum.float64).dtype == deepnum.float64
    assert x.to(device=device, dtype=deepnum.float64).dtype == deepnum.float64
    assert x.to("cpu", non_blocking=True) is x
    model = dnn.Linear(3, 2)
    assert model.to(device) is model and model.cpu() is model
    assert next(model.parameters()).device == device
    assert deepnum.zeros(2, device=device).device.type == "cpu"
    assert not deepnum.cuda.is_available() and deepnum.cuda.device_count() == 0
    assert not deepnum.accelerator.is_available()
    assert {deepnum.device("cpu"): 1}[deepnum.device("cpu")] == 1


@pytest.mark.parametrize(
    "make",
    [
        lambda: deepnum.device("cuda"),
        lambda: deepnum.device("cuda:0"),
        lambda: deepnum.ones(2).to("cuda"),
        lambda: deepnum.ones(2).to(device="cuda:1"),
        lambda: dnn.Linear(2, 2).to("cuda"),
        lambda: dnn.Linear(2, 2).cuda(),
        lambda: deepnum.load(io.BytesIO(b""), map_location="cuda"),
        lambda: deepnum.zeros(2, 3, device="cuda"),
        lambda: deepnum.randn(2, device="cuda:0"),
        lambda: deepnum.tensor([1.0], device="cuda"),
        lambda: deepnum.full((2,), 1.0, device="cuda"),
    ],
)
def test_asking_for_cuda_explains_the_fix(make):
    with pytest.raises(RuntimeError, match=r"cuda.*CPU only.*(device\('cpu'\)|cpu)"):
        make()


def test_module_cuda_names_the_module_and_the_idiom():
    with pytest.raises(
        RuntimeError,
        match=r"Sequential\.cuda\(\): deepnum runs on the CPU only.*model\.to\(device\)",
    ):
        dnn.Sequential(dnn.Linear(2, 2)).cuda()


def test_tensor_cuda_names_the_tensor_and_the_idiom():
    with pytest.raises(
        RuntimeError,
        match=r"Tensor\.cuda\(\).*shape \(2, 3\).*cuda\.is_available\(\).*x\.to\(device\)",
    ):
        deepnum.ones(2, 3).cuda()


def test_onnx_export_is_refused_clearly():
    with pytest.raises(NotImplementedError, match=r"ONNX is not supported.*state_dict"):
        deepnum.onnx.export(dnn.Linear(2, 2), deepnum.ones(1, 2), "model.onnx")


def test_state_dict_roundtrip_through_file_object_and_path(tmp_path):
    model = dnn.Sequential(dnn.Linear(4, 3), dnn.ReLU(), dnn.Linear(3, 2))
    buf = io.BytesIO()
    deepnum.save(model.state_dict(), buf)
    buf.seek(0)
    fresh = dnn.Sequential(dnn.Linear(4, 3), dnn.ReLU(), dnn.Linear(3, 2))
    result = fresh.load_state_dict(
        deepnum.load(buf, map_location=deepnum.device("cpu"), weights_only=True)
    )
    assert list(result.missing_keys) == [] and list(result.unexpected_keys) == []
    x = deepnum.randn(5, 4)
    assert deepnum.equal(model(x), fresh(x))
    path = tmp_path / "model.pt"
    deepnum.save(
        {"epoch": 3, "model": model.state_dict(), "loss": 0.25, "mean": np.arange(3.0)}, path
    )
    ckpt = deepnum.load(str(path), map_location="cpu")
    assert ckpt["epoch"] == 3 and ckpt["loss"] == 0.25 and isinstance(ckpt["mean"], np.ndarray)
    assert list(ckpt["model"]) == list(
        torch.nn.Sequential(
            torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2)
        ).state_dict()
    )


class _Net(dnn.Module):
    def __init__(self):
        super().__init__()
        self.fc = dnn.Linear(3, 2)

    def forward(self, x):
        return self.fc(x)


def test_whole_module_save_load_needs_the_class_allowed():
    net = _Net()
    buf = io.BytesIO()
    deepnum.save(net, buf)
    buf.seek(0)
    with pytest.raises(
        deepnum.serialization.UnpicklingError, match=r"_Net.*not allowed.*safe_globals\(\[_Net\]\)"
    ):
        deepnum.load(buf)
    buf.seek(0)
    with deepnum.serialization.safe_globals([_Net]):
        back = deepnum.load(buf)
    x = deepnum.randn(4, 3)
    assert type(back) is _Net and deepnum.equal(back(x), net(x))
    buf = io.BytesIO()
    deepnum.save(
        dnn.Sequential(dnn.Linear(2, 2), dnn.Tanh()), buf
    )  # deepnum's own classes load freely
    buf.seek(0)
    assert isinstance(deepnum.load(buf), dnn.Sequential)


@pytest.mark.parametrize(
    "make, match",
    [
        (
            lambda: Normal(deepnum.zeros(2), -deepnum.ones(2)),
            r"(?s)scale.*Normal.*tensor\(\[-1\., -1\.\]\).*positive",
        ),
        (
            lambda: Categorical(probs=deepnum.tensor([0.5, -0.1])),
            r"(?s)probs.*Categorical.*-0\.1.*non-negative",
        ),
        (
            lambda: Bernoulli(probs=deepnum.tensor(1.5)),
            r"(?s)probs.*Bernoulli.*1\.5.*\[0, 1\].*logits",
        ),
        (lambda: Uniform(1.0, 0.0), r"Uniform.*low < high"),
        (
            lambda: MultivariateNormal(deepnum.zeros(2), -deepnum.eye(2)),
            r"(?s)covariance_matrix.*positive definite",
        ),
        (
            lambda: Categorical(probs=deepnum.ones(2), logits=deepnum.ones(2)),
            r"either `probs` or `logits`",
        ),
    ],
)
def test_invalid_distribution_parameters(make, match):
    with pytest.raises(ValueError, match=match):
        make()
