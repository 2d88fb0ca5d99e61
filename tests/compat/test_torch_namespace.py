"""PyTorch names beyond the tensor itself: print options, data splits, jit, the legacy
``Tensor(sizes)`` constructor, ``autograd.grad`` options, amp, ``testing`` and tensor extras."""

import numpy as np
import pytest
import torch

import deepnum
import deepnum.nn as dnn
from tests.helpers import assert_close, check_against_torch, random_inputs


@pytest.mark.parametrize(
    "options",
    [
        dict(precision=2),
        dict(sci_mode=True),
        dict(precision=6, sci_mode=False),
        dict(threshold=5, edgeitems=1),
        dict(profile="short"),
        dict(linewidth=30),
    ],
)
def test_set_printoptions_prints_like_torch(options):
    values = [
        np.array([[1.23456789, -2.5], [1e-3, 100.25]], np.float32),
        np.arange(40, dtype=np.float32).reshape(8, 5) + 0.5,
    ]
    try:
        deepnum.set_printoptions(**options)
        torch.set_printoptions(**options)
        for v in values:
            assert repr(deepnum.tensor(v)) == repr(torch.tensor(v))
    finally:
        deepnum.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")
    assert repr(deepnum.tensor(values[0])) == repr(torch.tensor(values[0]))
    with pytest.raises(ValueError, match="profile must be one of"):
        deepnum.set_printoptions(profile="long")


@pytest.mark.parametrize(
    "n, lengths",
    [(10, [0.3, 0.3, 0.4]), (11, [0.3, 0.3, 0.4]), (13, [0.1, 0.2, 0.7]), (9, [6, 3])],
)
def test_random_split_sizes_and_dataloader_batches_like_torch(n, lengths):
    from deepnum.utils.data import DataLoader, TensorDataset, random_split

    ours = [
        len(s)
        for s in random_split(
            TensorDataset(deepnum.ones(n)), lengths, generator=deepnum.Generator().manual_seed(0)
        )
    ]
    theirs = [
        len(s)
        for s in torch.utils.data.random_split(
            torch.utils.data.TensorDataset(torch.ones(n)), lengths
        )
    ]
    assert ours == theirs
    x = np.arange(n)
    for drop_last in (False, True):
        a = [
            b.tolist()
            for (b,) in DataLoader(
                TensorDataset(deepnum.tensor(x)), batch_size=4, drop_last=drop_last
            )
        ]
        b = [
            b.tolist()
            for (b,) in torch.utils.data.DataLoader(
                torch.utils.data.TensorDataset(torch.tensor(x)), batch_size=4, drop_last=drop_last
            )
        ]
        assert a == b
    shuffled = [
        v
        for (b,) in DataLoader(TensorDataset(deepnum.tensor(x)), batch_size=4, shuffle=True)
        for v in b.tolist()
    ]
    assert sorted(shuffled) == list(range(n))


def test_jit_runs_eagerly():
    model = dnn.Linear(2, 2)
    assert (
        deepnum.jit.script(model) is model
        and deepnum.jit.trace(model, deepnum.ones(1, 2)) is model
    )
    assert not deepnum.jit.is_scripting()
    with pytest.raises(NotImplementedError, match=r"no TorchScript.*state_dict"):
        deepnum.jit.save(model, "m.pt")


def test_legacy_tensor_constructor_with_sizes():
    assert deepnum.Tensor(2, 3).shape == tuple(torch.Tensor(2, 3).shape)
    assert deepnum.Tensor(5).shape == (5,) and deepnum.Tensor(5).dtype == deepnum.float32
    assert deepnum.Tensor(deepnum.Size([2, 1])).shape == (2, 1)
    assert deepnum.Tensor([1, 2]).tolist() == [1.0, 2.0] and deepnum.Tensor().shape == (0,)
    w = dnn.Parameter(deepnum.Tensor(4, 3))
    dnn.init.kaiming_uniform_(w, a=5**0.5)  # the custom-layer tutorial idiom
    assert w.shape == (4, 3) and w.requires_grad and w.abs().max().item() > 0


def test_wgan_gradient_penalty_idiom():
    x = deepnum.tensor(
        np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32), requires_grad=True
    )
    tx = torch.tensor(x.detach().numpy(), requires_grad=True)
    for lib, inp in ((deepnum, x), (torch, tx)):
        out = (inp**3).sum(1)
        grads = lib.autograd.grad(
            outputs=out,
            inputs=inp,
            grad_outputs=lib.ones(out.size()),
            create_graph=True,
            retain_graph=True,
            only_inputs=True,
        )[0]
        ((grads.norm(2, dim=1) - 1) ** 2).mean().backward()
    assert_close(x.grad, tx.grad)


def test_amp_idioms_run_with_amp_off():
    model = dnn.Linear(3, 1)
    opt = deepnum.optim.SGD(model.parameters(), lr=0.1)
    before = model.weight.detach().clone()
    scaler = deepnum.cuda.amp.GradScaler(enabled=True)
    assert not scaler.is_enabled() and not deepnum.amp.GradScaler("cuda").is_enabled()
    with deepnum.autocast(device_type="cpu", dtype=deepnum.float16):
        loss = model(deepnum.ones(2, 3)).sum()
    assert loss.dtype == deepnum.float32  # no casting: computed in the tensors' own dtype
    scaler.scale(loss).backward()
    scaler.unscale_(opt)
    scaler.step(opt)
    scaler.update()
    assert not deepnum.equal(model.weight, before)
    with deepnum.cuda.amp.autocast(enabled=False):
        pass
    deepnum.cuda.empty_cache()
    with pytest.raises(RuntimeError, match="no CUDA device"):
        deepnum.cuda.get_device_name(0)


def test_testing_assert_close_like_torch():
    a = deepnum.tensor([1.0, 2.0, 3.0])
    deepnum.testing.assert_close(a, a + 1e-6)
    deepnum.testing.assert_close({"w": [a, 3]}, {"w": [a.clone(), 3]})
    deepnum.testing.assert_close(
        deepnum.tensor([float("nan")]), deepnum.tensor([float("nan")]), equal_nan=True
    )
    with pytest.raises(AssertionError, match=r"(?s)Mismatched elements: 1 / 3.*index \(1,\)"):
        deepnum.testing.assert_close(a, deepnum.tensor([1.0, 2.1, 3.0]))
    with pytest.raises(AssertionError, match="dtype"):
        deepnum.testing.assert_close(a, a.double())
    with pytest.raises(AssertionError):
        torch.testing.assert_close(
            torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 2.1, 3.0])
        )  # the same verdict
    deepnum.testing.assert_close(a, deepnum.tensor([1.0, 2.1, 3.0]), rtol=0.1, atol=0.0)


def test_masked_scatter_index_copy_apply_data_ptr():
    mask = np.array([[True, False, True], [False, True, True]])
    check_against_torch(
        lambda x, s: x.masked_scatter(deepnum.tensor(mask), s),
        lambda x, s: x.masked_scatter(torch.tensor(mask), s),
        random_inputs((2, 3), (7,)),
    )
    check_against_torch(
        lambda x, s: deepnum.masked_scatter(x, deepnum.tensor(mask[0]), s),
        lambda x, s: torch.masked_scatter(x, torch.tensor(mask[0]), s),
        random_inputs((2, 3), (2, 3)),
    )
    a, t = deepnum.zeros(2, 3), torch.zeros(2, 3)
    a.masked_scatter_(deepnum.tensor(mask), deepnum.arange(1.0, 8.0))
    t.masked_scatter_(torch.tensor(mask), torch.arange(1.0, 8.0))
    assert a.tolist() == t.tolist()
    a, t = deepnum.zeros(4, 2), torch.zeros(4, 2)
    a.index_copy_(0, deepnum.tensor([3, 1]), deepnum.ones(2, 2))
    t.index_copy_(0, torch.tensor([3, 1]), torch.ones(2, 2))
    assert a.tolist() == t.tolist()
    x = deepnum.arange(6.0).reshape(2, 3)
    assert (
        x.t().apply_(lambda v: v * 10).tolist()
        == torch.arange(6.0).reshape(2, 3).t().apply_(lambda v: v * 10).tolist()
    )
    assert x.tolist() == [[0.0, 10.0, 20.0], [30.0, 40.0, 50.0]]  # through the transposed view
    assert x.data_ptr() == x.data.data_ptr() and x[1].data_ptr() != x.data_ptr()
    assert x.share_memory_() is x
    with pytest.raises(RuntimeError, match="the mask selects 3 elements but source has only 2"):
        deepnum.zeros(3).masked_scatter(deepnum.ones(3) > 0, deepnum.ones(2))
