"""Module: registration, names and state_dict keys identical to PyTorch's, strict and non-strict
loading, buffers, modes, apply, zero_grad, dtype conversion and repr."""

from collections import OrderedDict

import numpy as np
import pytest
import torch

import deepnum
import deepnum.nn as nn
from tests.helpers import assert_close


def make_net(lib):
    """The same nested model in deepnum (lib=deepnum.nn) or PyTorch (lib=torch.nn)."""

    class Block(lib.Module):
        def __init__(self):
            super().__init__()
            self.fc = lib.Linear(4, 4)
            self.norm = lib.BatchNorm1d(4)
            self.act = lib.ReLU()

        def forward(self, x):
            return self.act(self.norm(self.fc(x)))

    class Net(lib.Module):
        def __init__(self):
            super().__init__()
            self.embed = lib.Embedding(10, 4, padding_idx=0)
            self.blocks = lib.ModuleList([Block(), Block()])
            self.heads = lib.ModuleDict({"cls": lib.Linear(4, 3), "reg": lib.Sequential(lib.Linear(4, 2), lib.Tanh())})
            self.scale = lib.Parameter(lib.init.ones_(torch.empty(1)) if lib is torch.nn else np.ones(1, np.float32))
            self.ln = lib.LayerNorm(4)

        def forward(self, idx):
            h = self.embed(idx).mean(1)
            for b in self.blocks:
                h = b(h)
            h = self.ln(h) * self.scale
            return self.heads["cls"](h), self.heads["reg"](h)

    return Net()


def test_named_parameters_buffers_and_state_dict_keys_equal_torch():
    ours, theirs = make_net(nn), make_net(torch.nn)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    shapes = {k: tuple(v.shape) for k, v in ours.state_dict().items()}
    assert shapes == {k: tuple(v.shape) for k, v in theirs.state_dict().items()}


def test_repr_equals_torch():
    assert repr(make_net(nn)).replace("deepnum", "torch") == repr(make_net(torch.nn))


def test_loaded_model_computes_what_torch_computes():
    ours, theirs = make_net(nn), make_net(torch.nn)
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()})
    idx = np.random.default_rng(0).integers(0, 10, (6, 5))
    for mode in (True, False):
        ours.train(mode)
        theirs.train(mode)
        for a, b in zip(ours(deepnum.tensor(idx)), theirs(torch.from_numpy(idx))):
            assert_close(a, b)


def test_registration_order_is_assignment_order():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.b = nn.Parameter(np.zeros(1, np.float32))
            self.register_buffer("stat", deepnum.zeros(2))
            self.a = nn.Linear(1, 1)
            self.c = nn.Parameter(np.zeros(2, np.float32))
            self.register_parameter("none", None)

    m = M()
    assert [n for n, _ in m.named_parameters()] == ["b", "c", "a.weight", "a.bias"]
    assert list(m.state_dict()) == ["b", "c", "stat", "a.weight", "a.bias"]
    m.b = None  # a registered parameter may be unset, never replaced by a plain tensor
    assert "b" not in dict(m.named_parameters())
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'c'"):
        m.c = deepnum.zeros(2)


def test_shared_parameters_listed_once_like_torch():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    tlin = torch.nn.Linear(2, 2)
    tseq = torch.nn.Sequential(tlin, torch.nn.ReLU(), tlin)
    assert [n for n, _ in seq.named_parameters()] == [n for n, _ in tseq.named_parameters()]
    assert list(seq.state_dict()) == list(tseq.state_dict())


def test_strict_load_lists_missing_unexpected_and_size_mismatch():
    net = make_net(nn)
    state = net.state_dict()
    del state["ln.weight"]
    state["extra.weight"] = deepnum.zeros(1)
    with pytest.raises(RuntimeError) as err:
        net.load_state_dict(state)
    msg = str(err.value)
    assert 'Missing key(s) in state_dict: "ln.weight"' in msg
    assert 'Unexpected key(s) in state_dict: "extra.weight"' in msg
    assert msg.index("Missing") < msg.index("Unexpected")  # PyTorch's order
    assert msg.startswith("Error(s) in loading state_dict for Net:")
    state = make_net(nn).state_dict()
    state["heads.cls.weight"] = deepnum.zeros(5, 4)
    before = net.state_dict()["embed.weight"].numpy().copy()
    with pytest.raises(RuntimeError, match=r"size mismatch for heads.cls.weight: copying a param with shape \(5, 4\) from checkpoint, the shape in current model is \(3, 4\)"):
        net.load_state_dict(state)
    assert (net.state_dict()["embed.weight"].numpy() == before).all()  # nothing half-loaded


def test_non_strict_load_reports_keys_and_loads_the_rest():
    src, dst = make_net(nn), make_net(nn)
    state = src.state_dict()
    del state["ln.bias"]
    state["junk"] = np.zeros(3, np.float32)  # NumPy values are accepted too
    result = dst.load_state_dict(state, strict=False)
    assert result.missing_keys == ["ln.bias"] and result.unexpected_keys == ["junk"]
    assert_close(dst.embed.weight, src.embed.weight)
    assert repr(dst.load_state_dict(src.state_dict())) == "<All keys matched successfully>"


def test_load_keeps_parameter_identity_and_copies_values():
    net = nn.Linear(2, 2)
    w = net.weight
    net.load_state_dict({"weight": np.ones((2, 2), np.float64), "bias": deepnum.zeros(2)})
    assert net.weight is w and net.weight.dtype == deepnum.float32
    assert (net.weight.detach().numpy() == 1).all()


def test_persistent_and_non_persistent_buffers():
    m = nn.Module()
    m.register_buffer("kept", deepnum.ones(2))
    m.register_buffer("scratch", deepnum.zeros(2), persistent=False)
    m.marked = nn.Buffer(deepnum.ones(1), persistent=False)
    assert [n for n, _ in m.named_buffers()] == ["kept", "scratch", "marked"]
    assert list(m.state_dict()) == ["kept"]
    t = torch.nn.Module()
    t.register_buffer("kept", torch.ones(2))
    t.register_buffer("scratch", torch.zeros(2), persistent=False)
    assert list(t.state_dict()) == ["kept"]
    with pytest.raises(KeyError, match="contain"):
        m.register_buffer("a.b", deepnum.ones(1))


def test_train_eval_propagate_and_dropout_follows():
    net = nn.Sequential(nn.Linear(3, 3), nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(3)))
    net.eval()
    assert not any(m.training for m in net.modules())
    x = deepnum.randn(4, 3)
    assert_close(net(x), net(x))  # deterministic in evaluation
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError, match="boolean"):
        net.train("yes")


def test_apply_visits_children_first_like_torch():
    seen, t_seen = [], []
    make_net(nn).apply(lambda m: seen.append(type(m).__name__))
    make_net(torch.nn).apply(lambda m: t_seen.append(type(m).__name__))
    assert seen == t_seen

    def init_linear(m):
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.weight)

    net = make_net(nn).apply(init_linear)
    assert all((m.weight.detach().numpy() == 0).all() for m in net.modules() if isinstance(m, nn.Linear))


def test_zero_grad_and_requires_grad():
    net = nn.Linear(3, 2)
    net(deepnum.randn(4, 3)).sum().backward()
    held = net.weight.grad
    net.zero_grad(set_to_none=False)
    assert net.weight.grad is held and (held.numpy() == 0).all()  # zeroed in place
    net.zero_grad()
    assert net.weight.grad is None and net.bias.grad is None
    net.requires_grad_(False)
    assert not net.weight.requires_grad
    assert not net(deepnum.randn(1, 3)).requires_grad


def test_to_float64_converts_floats_only():
    net = make_net(nn).to(deepnum.float64)
    for name, t in net.state_dict().items():
        expected = deepnum.int64 if name.endswith("num_batches_tracked") else deepnum.float64
        assert t.dtype == expected, name
    out, _ = net(deepnum.tensor([[1, 2, 3], [4, 5, 6]]))
    assert out.dtype == deepnum.float64
    assert net.float().ln.weight.dtype == deepnum.float32
    assert net.to("cpu") is net
    with pytest.raises(TypeError, match="floating point"):
        net.to(deepnum.int64)


def test_module_without_forward_and_bad_attribute_errors():
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(deepnum.ones(1))
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'wieght'"):
        nn.Linear(1, 1).wieght


def test_get_submodule_and_parameter():
    net = make_net(nn)
    assert net.get_submodule("blocks.1.fc") is net.blocks[1].fc
    assert net.get_parameter("heads.reg.0.bias") is net.heads["reg"][0].bias


def test_sequential_ordered_dict_names_match_torch():
    ours = nn.Sequential(OrderedDict([("conv", nn.Linear(2, 3)), ("act", nn.ReLU())]))
    theirs = torch.nn.Sequential(OrderedDict([("conv", torch.nn.Linear(2, 3)), ("act", torch.nn.ReLU())]))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
