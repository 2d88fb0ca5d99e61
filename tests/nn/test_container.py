"""Sequential, ModuleList, ModuleDict, ParameterList/Dict and Residual, compared with PyTorch."""

from collections import OrderedDict

import numpy as np
import pytest
import torch

import deepnum
import deepnum.nn as nn
from tests.helpers import assert_close, random_inputs
from tests.nn._harness import compare_with_torch, run_layer_test


def mlp(lib):
    return lib.Sequential(lib.Linear(4, 8), lib.ReLU(), lib.Linear(8, 8), lib.Tanh(), lib.Linear(8, 2))


def test_sequential_forward_gradients_and_keys_match_torch():
    (x,) = random_inputs((5, 4))
    compare_with_torch(mlp(nn), mlp(torch.nn), x)
    assert repr(mlp(nn)) == repr(mlp(torch.nn))


def test_sequential_indexing_slicing_len_iteration():
    net = mlp(nn)
    assert len(net) == 5
    assert isinstance(net[0], nn.Linear) and net[-1] is net[4]
    sub = net[1:3]
    assert isinstance(sub, nn.Sequential) and len(sub) == 2 and sub[0] is net[1]
    assert list(sub.state_dict()) == list(mlp(torch.nn)[1:3].state_dict()) == ["2.weight", "2.bias"]
    assert [type(m).__name__ for m in net] == ["Linear", "ReLU", "Linear", "Tanh", "Linear"]
    with pytest.raises(IndexError, match="out of range"):
        net[5]


def test_sequential_append_insert_extend_delete_setitem():
    net = nn.Sequential(nn.Linear(2, 3))
    tnet = torch.nn.Sequential(torch.nn.Linear(2, 3))
    for n, lib in ((net, nn), (tnet, torch.nn)):
        n.append(lib.ReLU())
        n.extend([lib.Linear(3, 3), lib.Sigmoid()])
        n.insert(1, lib.Tanh())
        del n[2]
        n[0] = lib.Linear(2, 3)
    assert repr(net) == repr(tnet)
    assert list(net.state_dict()) == list(tnet.state_dict())
    combined = net + nn.Sequential(nn.ReLU())
    assert len(combined) == len(net) + 1


def test_sequential_ordered_dict_form():
    net = nn.Sequential(OrderedDict([("fc1", nn.Linear(3, 4)), ("act", nn.ReLU()), ("fc2", nn.Linear(4, 1))]))
    assert [n for n, _ in net.named_parameters()] == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert net.fc1 is net[0]
    assert net(deepnum.randn(2, 3)).shape == (2, 1)


def test_module_list_operations_match_torch():
    ours = nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])
    theirs = torch.nn.ModuleList([torch.nn.Linear(2, 2), torch.nn.ReLU()])
    for ml, lib in ((ours, nn), (theirs, torch.nn)):
        ml.append(lib.Linear(2, 3))
        ml.extend([lib.Tanh(), lib.Linear(3, 1)])
        ml.insert(0, lib.Sigmoid())
        ml += [lib.ReLU()]
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert len(ours) == 7 and isinstance(ours[1], nn.Linear) and ours[-1] is ours[6]
    sliced = ours[1:3]
    assert isinstance(sliced, nn.ModuleList) and len(sliced) == 2
    del ours[0]
    assert [n for n, _ in ours.named_children()][:2] == ["0", "1"] and isinstance(ours[0], nn.Linear)
    with pytest.raises(NotImplementedError, match="container"):
        ours(deepnum.ones(1))


def test_module_list_repr_compresses_repeats_like_torch():
    ours = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.ReLU()])
    theirs = torch.nn.ModuleList([torch.nn.Linear(2, 2) for _ in range(3)] + [torch.nn.ReLU()])
    assert repr(ours) == repr(theirs)
    assert repr(nn.ModuleList()) == repr(torch.nn.ModuleList())


def test_module_dict_matches_torch():
    ours = nn.ModuleDict({"a": nn.Linear(2, 3), "b": nn.ReLU()})
    theirs = torch.nn.ModuleDict({"a": torch.nn.Linear(2, 3), "b": torch.nn.ReLU()})
    ours["c"] = nn.Linear(3, 1)
    theirs["c"] = torch.nn.Linear(3, 1)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert list(ours.keys()) == ["a", "b", "c"] and "a" in ours and len(ours) == 3
    assert [k for k in ours] == ["a", "b", "c"]
    ours.pop("b")
    assert list(ours) == ["a", "c"]
    ours.update([("d", nn.Tanh())])
    assert list(ours.keys()) == ["a", "c", "d"]


def test_parameter_list_and_dict():
    pl = nn.ParameterList([np.ones(2, np.float32), nn.Parameter(np.zeros(3, np.float32))])
    tpl = torch.nn.ParameterList([torch.ones(2), torch.nn.Parameter(torch.zeros(3))])
    assert [n for n, _ in pl.named_parameters()] == [n for n, _ in tpl.named_parameters()]
    assert all(isinstance(p, nn.Parameter) for p in pl) and len(pl) == 2
    pd = nn.ParameterDict({"w": np.ones(2, np.float32)})
    assert list(pd.state_dict()) == ["w"] and isinstance(pd["w"], nn.Parameter)


@pytest.mark.parametrize("lib", ["deepnum", "torch"])
def test_dict_containers_share_the_mapping_interface(lib):
    """ModuleDict and ParameterDict: update, pop, del, clear and the views, as PyTorch's."""
    ours = lib == "deepnum"
    NN = nn if ours else torch.nn

    def param(v):
        return NN.Parameter(deepnum.tensor([v]) if ours else torch.tensor([v]))

    pd = NN.ParameterDict({"a": param(1.0)})
    pd.update([("b", param(2.0)), ("c", param(3.0))])
    assert list(pd) == list(pd.keys()) == ["a", "b", "c"] and "b" in pd and len(pd) == 3
    assert float(pd.pop("b").detach()[0]) == 2.0 and list(pd.state_dict()) == ["a", "c"]
    del pd["a"]
    assert [k for k, _ in pd.items()] == ["c"] and float(next(iter(pd.values())).detach()[0]) == 3.0
    pd.clear()
    assert len(pd) == 0 and list(pd.parameters()) == []
    md = NN.ModuleDict({"f": NN.ReLU()})
    md.update({"g": NN.Tanh()})
    del md["f"]
    assert list(md.keys()) == ["g"] and isinstance(md.pop("g"), NN.Tanh) and len(md) == 0


def test_residual_computes_x_plus_f_x_and_its_gradient():
    """002: a skip connection adds the block's input to its output; dy/dx = I + df/dx."""
    inner = nn.Sequential(nn.Linear(4, 4), nn.Tanh())
    block = nn.Residual(inner)
    (x,) = random_inputs((3, 4))
    y = block(x)
    assert_close(y, x.detach().numpy() + inner(x).detach().numpy())
    y.sum().backward()
    w = inner[0].weight.detach().numpy()
    z = x.detach().numpy() @ w.T + inner[0].bias.detach().numpy()
    expected = 1 + (1 - np.tanh(z) ** 2) @ w  # the identity path contributes the 1
    assert_close(x.grad, expected)
    assert list(block.state_dict()) == ["module.0.weight", "module.0.bias"]
    with pytest.raises(RuntimeError, match=r"Residual: the wrapped Linear maps shape \(3, 4\) to \(3, 2\) but the shortcut gives \(3, 4\)"):
        nn.Residual(nn.Linear(4, 2))(x)
    assert repr(block).startswith("Residual(\n  (module): Sequential(")


def test_residual_with_projection_shortcut():
    branch, proj = nn.Linear(4, 2), nn.Linear(4, 2, bias=False)
    block = nn.Residual(branch, shortcut=proj)
    (x,) = random_inputs((3, 4))
    y = block(x)
    xs = x.detach().numpy()
    assert_close(y, xs @ proj.weight.detach().numpy().T + branch(x).detach().numpy())
    assert list(block.state_dict()) == ["module.weight", "module.bias", "shortcut.weight"]
    y.sum().backward()
    assert_close(x.grad, np.tile(branch.weight.detach().numpy().sum(0) + proj.weight.detach().numpy().sum(0), (3, 1)))


def test_residual_keeps_gradients_alive_in_a_deep_stack():
    deepnum.manual_seed(0)
    plain = nn.Sequential(*[nn.Sequential(nn.Linear(8, 8), nn.Sigmoid()) for _ in range(20)])
    skip = nn.Sequential(*[nn.Residual(nn.Sequential(nn.Linear(8, 8), nn.Sigmoid())) for _ in range(20)])
    grads = []
    for net in (plain, skip):
        x = deepnum.randn(4, 8, requires_grad=True)
        net(x).sum().backward()
        grads.append(float(np.abs(x.grad.numpy()).mean()))
    assert grads[1] > 1e3 * grads[0]  # sigmoid chains vanish (004 Def. 6.11); the skips do not


def test_layer_harness_on_containers():
    run_layer_test(mlp(nn), (6, 4), (6, 2), 4 * 8 + 8 + 8 * 8 + 8 + 8 * 2 + 2)
    run_layer_test(nn.Residual(nn.Linear(3, 3)), (5, 3), (5, 3), 12)
