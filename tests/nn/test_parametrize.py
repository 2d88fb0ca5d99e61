"""``nn.utils.parametrize`` and ``nn.utils.parametrizations`` against PyTorch's.

Every test builds the same module in deepnum and in PyTorch (same weights), registers the same
parametrization on both and compares values, gradients, ``state_dict`` keys and errors.
"""

import copy
import io

import numpy as np
import pytest
import torch
import torch.nn.utils.parametrizations as TPZ
import torch.nn.utils.parametrize as TP

import deepnum
import deepnum.nn as dnn
import deepnum.nn.utils.parametrizations as PZ
import deepnum.nn.utils.parametrize as P
from tests.helpers import assert_close


# ----------------------------------------------------------------------------- helpers
def _numpy_state(module):
    return {k: np.array(v.detach().numpy(), copy=True) for k, v in module.state_dict().items()}


def _copy_into_torch(ours, theirs):
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in _numpy_state(ours).items()})


def _pair(make, dtype=np.float32):
    """The same module in deepnum and PyTorch, with identical parameters."""
    ours, theirs = make(dnn), make(torch.nn)
    if dtype == np.float64:
        ours, theirs = ours.double(), theirs.double()
    _copy_into_torch(ours, theirs)
    return ours, theirs


def _inputs(shape, seed=0, dtype=np.float32):
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return deepnum.tensor(x), torch.from_numpy(x)


def _backward_random(out, tout, seed=1):
    """Backpropagate the same random upstream gradient through both outputs."""
    w = np.random.default_rng(seed).standard_normal(tuple(out.shape)).astype(out.dtype)
    (out * deepnum.tensor(w)).sum().backward()
    (tout * torch.from_numpy(w)).sum().backward()


def _assert_same_parameters_and_grads(ours, theirs):
    ours_params, theirs_params = dict(ours.named_parameters()), dict(theirs.named_parameters())
    assert list(ours_params) == list(theirs_params)
    for name, p in ours_params.items():
        assert_close(p, theirs_params[name], msg=name)
        assert p.grad is not None, name
        assert_close(p.grad, theirs_params[name].grad, msg=f"gradient of {name}")


def _assert_same_state_dict(ours, theirs, **tol):
    ours_state, theirs_state = ours.state_dict(), theirs.state_dict()
    assert list(ours_state) == list(theirs_state)
    for key, value in ours_state.items():
        assert_close(value, theirs_state[key], msg=key, **tol)


def _make_symmetric(nn):
    class Symmetric(nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).T

        def right_inverse(self, A):
            return A.triu()

    return Symmetric()


def _make_mix(nn, lib):
    """A parametrization with a learnable parameter of its own: X ↦ X M, M invertible."""

    class Mix(nn.Module):
        def __init__(self):
            super().__init__()
            self.mix = nn.Parameter(lib.eye(4) + 0.5 * lib.ones(4, 4).triu(1))

        def forward(self, X):
            return X @ self.mix

        def right_inverse(self, X):
            return X @ lib.linalg.inv(self.mix)

    return Mix()


def _make_rank_one(nn):
    """A parametrization of two tensors: (x, y) ↦ x yᵀ."""

    class RankOne(nn.Module):
        def forward(self, x, y):
            return x.unsqueeze(-1) @ y.unsqueeze(-2)

        def right_inverse(self, A):  # exact for rank-one A with A[0, 0] ≠ 0
            return A[:, 0], A[0, :] / A[0, 0]

    return RankOne()


def _make_no_inverse(nn):
    class Double(nn.Module):
        def forward(self, X):
            return 2 * X

    return Double()


def _symmetric_pair(size=4, dtype=np.float32):
    ours, theirs = _pair(lambda nn: nn.Linear(size, size), dtype)
    P.register_parametrization(ours, "weight", _make_symmetric(dnn))
    TP.register_parametrization(theirs, "weight", _make_symmetric(torch.nn))
    return ours, theirs


# ------------------------------------------------------------------- register_parametrization
def test_custom_parametrization_forward_gradients_and_state_dict():
    ours, theirs = _symmetric_pair()
    assert type(ours).__name__ == type(theirs).__name__ == "ParametrizedLinear"
    assert isinstance(ours, dnn.Linear)
    assert P.type_before_parametrizations(ours) is dnn.Linear
    assert P.type_before_parametrizations(dnn.Linear(2, 2)) is dnn.Linear
    assert P.is_parametrized(ours) and P.is_parametrized(ours, "weight")
    assert not P.is_parametrized(ours, "bias") and not P.is_parametrized(dnn.Linear(2, 2))
    assert isinstance(ours.parametrizations, dnn.ModuleDict)
    assert isinstance(ours.parametrizations.weight, P.ParametrizationList)
    assert repr(ours) == repr(theirs)
    w = ours.weight.detach().numpy()
    np.testing.assert_array_equal(w, w.T)
    _assert_same_state_dict(ours, theirs)

    x, tx = _inputs((3, 4))
    out, tout = ours(x), theirs(tx)
    assert_close(out, tout)
    _backward_random(out, tout)
    _assert_same_parameters_and_grads(ours, theirs)
    assert [n for n, _ in ours.named_parameters()] == ["bias", "parametrizations.weight.original"]


def test_registration_keeps_the_parameter_object_for_the_optimiser():
    ours = dnn.Linear(3, 3)
    weight = ours.weight
    P.register_parametrization(ours, "weight", _make_symmetric(dnn))
    assert ours.parametrizations.weight.original is weight
    opt = deepnum.optim.SGD(ours.parameters(), lr=0.1)
    before = ours.weight.detach().numpy().copy()
    ours(deepnum.ones(2, 3)).sum().backward()
    opt.step()
    after = ours.weight.detach().numpy()
    assert not np.allclose(before, after)
    np.testing.assert_array_equal(after, after.T)


def test_optimiser_steps_match_torch():
    ours, theirs = _symmetric_pair()
    opt = deepnum.optim.SGD(ours.parameters(), lr=0.1, momentum=0.9)
    topt = torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9)
    x, tx = _inputs((5, 4))
    for _ in range(3):
        ours(x).pow(2).sum().backward()
        theirs(tx).pow(2).sum().backward()
        opt.step(), topt.step()
        opt.zero_grad(), topt.zero_grad()
    assert_close(ours.weight, theirs.weight)


def test_load_state_dict_round_trip():
    ours, theirs = _symmetric_pair()
    fresh_theirs = TP.register_parametrization(
        torch.nn.Linear(4, 4), "weight", _make_symmetric(torch.nn)
    )
    _copy_into_torch(ours, fresh_theirs)
    assert_close(fresh_theirs.weight, ours.weight)

    fresh_ours = P.register_parametrization(dnn.Linear(4, 4), "weight", _make_symmetric(dnn))
    result = fresh_ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert_close(fresh_ours.weight, theirs.weight)
    assert_close(
        fresh_ours.parametrizations.weight.original, theirs.parametrizations.weight.original
    )

    plain = dnn.Linear(4, 4)
    with pytest.raises(RuntimeError, match="Unexpected key"):
        plain.load_state_dict(_numpy_state(ours))


def test_assignment_goes_through_right_inverse():
    ours, theirs = _symmetric_pair()
    original = ours.parametrizations.weight.original
    a = np.random.default_rng(3).standard_normal((4, 4)).astype(np.float32)
    a = a + a.T
    ours.weight = deepnum.tensor(a)
    theirs.weight = torch.from_numpy(a)
    assert ours.parametrizations.weight.original is original
    assert_close(ours.weight, a)
    _assert_same_state_dict(ours, theirs)


def test_stacked_parametrizations():
    ours, theirs = _symmetric_pair()
    P.register_parametrization(ours, "weight", _make_mix(dnn, deepnum))
    TP.register_parametrization(theirs, "weight", _make_mix(torch.nn, torch))
    assert len(ours.parametrizations.weight) == 2
    assert repr(ours) == repr(theirs)
    _assert_same_state_dict(ours, theirs)
    assert "parametrizations.weight.1.mix" in ours.state_dict()

    x, tx = _inputs((3, 4))
    out, tout = ours(x), theirs(tx)
    assert_close(out, tout)
    _backward_random(out, tout)
    _assert_same_parameters_and_grads(ours, theirs)

    # weight = Symmetric(original) M: any S M with S symmetric can be assigned, the
    # right_inverses applied last parametrization first
    s = np.arange(16, dtype=np.float32).reshape(4, 4)
    a = (s + s.T) @ ours.parametrizations.weight[1].mix.detach().numpy()
    ours.weight, theirs.weight = deepnum.tensor(a), torch.from_numpy(a)
    assert_close(ours.weight, a)
    _assert_same_state_dict(ours, theirs)


def test_right_inverse_returning_several_tensors():
    ours, theirs = _pair(lambda nn: nn.Linear(3, 4))
    x = np.random.default_rng(5).standard_normal(4).astype(np.float32)
    y = np.random.default_rng(6).standard_normal(3).astype(np.float32)
    rank_one = np.outer(x, y)
    with deepnum.no_grad():
        ours.weight.array[...] = rank_one
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(rank_one))
    P.register_parametrization(ours, "weight", _make_rank_one(dnn))
    TP.register_parametrization(theirs, "weight", _make_rank_one(torch.nn))
    assert list(ours.state_dict()) == [
        "bias", "parametrizations.weight.original0", "parametrizations.weight.original1",
    ]
    _assert_same_state_dict(ours, theirs)
    assert_close(ours.weight, rank_one)
    assert isinstance(ours.parametrizations.weight.original0, dnn.Parameter)

    xs, txs = _inputs((2, 3))
    out, tout = ours(xs), theirs(txs)
    _backward_random(out, tout)
    _assert_same_parameters_and_grads(ours, theirs)

    new = np.outer(np.arange(1.0, 5.0), np.arange(2.0, 5.0)).astype(np.float32)
    ours.weight, theirs.weight = deepnum.tensor(new), torch.from_numpy(new)
    assert_close(ours.weight, new)
    _assert_same_state_dict(ours, theirs)


def test_parametrizing_a_buffer():
    def make(nn, lib):
        class WithBuffer(nn.Module):
            def __init__(self):
                super().__init__()
                self.register_buffer("table", lib.tensor([[1.0, 2.0], [3.0, 4.0]]))

            def forward(self, x):
                return x @ self.table

        return WithBuffer()

    ours, theirs = make(dnn, deepnum), make(torch.nn, torch)
    P.register_parametrization(ours, "table", _make_symmetric(dnn))
    TP.register_parametrization(theirs, "table", _make_symmetric(torch.nn))
    assert list(ours.parameters()) == []
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    _assert_same_state_dict(ours, theirs)
    assert_close(ours.table, theirs.table)
    P.remove_parametrizations(ours, "table")
    TP.remove_parametrizations(theirs, "table")
    assert [n for n, _ in ours.named_buffers()] == ["table"]
    _assert_same_state_dict(ours, theirs)


def test_training_mode_follows_the_module():
    module = dnn.Linear(3, 3).eval()
    P.register_parametrization(module, "weight", _make_symmetric(dnn))
    assert not module.parametrizations.weight[0].training
    module.train()
    assert module.parametrizations.weight[0].training


# --------------------------------------------------------------- remove_parametrizations
@pytest.mark.parametrize("leave_parametrized", [True, False])
def test_remove_parametrizations(leave_parametrized):
    ours, theirs = _symmetric_pair()
    original = ours.parametrizations.weight.original
    P.remove_parametrizations(ours, "weight", leave_parametrized=leave_parametrized)
    TP.remove_parametrizations(theirs, "weight", leave_parametrized=leave_parametrized)
    assert type(ours) is dnn.Linear and type(theirs) is torch.nn.Linear
    assert not hasattr(ours, "parametrizations")
    assert ours.weight is original  # same object: an optimiser holding it keeps working
    assert isinstance(ours.weight, dnn.Parameter)
    _assert_same_state_dict(ours, theirs)
    w = ours.weight.detach().numpy()
    assert np.array_equal(w, w.T) == leave_parametrized
    x, tx = _inputs((2, 4))
    assert_close(ours(x), theirs(tx))


def test_remove_one_of_two_parametrized_tensors_keeps_the_class():
    ours = dnn.Linear(3, 3)
    P.register_parametrization(ours, "weight", _make_symmetric(dnn))
    P.register_parametrization(ours, "bias", _make_no_inverse(dnn))
    cls = type(ours)
    P.remove_parametrizations(ours, "weight")
    assert type(ours) is cls and P.is_parametrized(ours, "bias")
    assert not P.is_parametrized(ours, "weight")
    P.remove_parametrizations(ours, "bias")
    assert type(ours) is dnn.Linear
    assert not hasattr(dnn.Linear, "weight") and not hasattr(dnn.Linear, "bias")


def test_remove_several_originals():
    ours, theirs = _pair(lambda nn: nn.Linear(3, 4))
    PZ.weight_norm(ours)
    TPZ.weight_norm(theirs)
    with pytest.raises(ValueError, match="Cannot leave unparametrized"):
        P.remove_parametrizations(ours, "weight", leave_parametrized=False)
    P.remove_parametrizations(ours, "weight")
    TP.remove_parametrizations(theirs, "weight")
    assert isinstance(ours.weight, dnn.Parameter) and ours.weight.requires_grad
    _assert_same_state_dict(ours, theirs)


# -------------------------------------------------------------------------------- cached
def test_cached_computes_each_tensor_once():
    calls = []

    class Counting(dnn.Module):
        def forward(self, X):
            calls.append(1)
            return X * 2

    module = P.register_parametrization(dnn.Linear(3, 3), "weight", Counting())
    calls.clear()
    assert module.weight is not module.weight
    assert len(calls) == 2
    calls.clear()
    with P.cached():
        first = module.weight
        with P.cached():
            assert module.weight is first
        assert module.weight is first  # the inner block does not empty the cache
        out = module(deepnum.ones(2, 3)) + module(deepnum.ones(2, 3))
    assert len(calls) == 1
    assert module.weight is not first  # the cache was emptied on leaving
    out.sum().backward()
    # two calls × two rows of ones × dW/d(original) = 2
    assert_close(module.parametrizations.weight.original.grad, 8 * np.ones((3, 3)))


def test_cached_matches_torch():
    ours, theirs = _symmetric_pair()
    x, tx = _inputs((2, 4))
    with P.cached():
        out = ours(x) * ours(x)
    with TP.cached():
        tout = theirs(tx) * theirs(tx)
    assert_close(out, tout)
    _backward_random(out, tout)
    _assert_same_parameters_and_grads(ours, theirs)


# ---------------------------------------------------------------------- copies and saving
def test_deepcopy_is_independent():
    module = P.register_parametrization(dnn.Linear(3, 3), "weight", _make_symmetric(dnn))
    clone = copy.deepcopy(module)
    assert type(clone).__name__ == "ParametrizedLinear"
    assert_close(clone.weight, module.weight)
    assert clone.parametrizations.weight.original is not module.parametrizations.weight.original
    P.remove_parametrizations(clone, "weight", leave_parametrized=False)
    assert type(clone) is dnn.Linear
    assert P.is_parametrized(module, "weight")
    w = module.weight.detach().numpy()
    np.testing.assert_array_equal(w, w.T)


def test_whole_module_save_is_refused_but_state_dict_works():
    module = P.register_parametrization(dnn.Linear(3, 3), "weight", _make_symmetric(dnn))
    with pytest.raises(TypeError, match="cannot save"):
        deepnum.save(module, io.BytesIO())
    buf = io.BytesIO()
    deepnum.save(module.state_dict(), buf)
    buf.seek(0)
    fresh = P.register_parametrization(dnn.Linear(3, 3), "weight", _make_symmetric(dnn))
    fresh.load_state_dict(deepnum.load(buf))
    assert_close(fresh.weight, module.weight)


def test_double_converts_the_originals():
    module = PZ.weight_norm(dnn.Linear(3, 2)).double()
    assert module.weight.dtype == np.float64
    assert module(deepnum.ones(1, 3, dtype=deepnum.float64)).dtype == np.float64


def test_transfer_parametrizations_and_params():
    ours, theirs = _symmetric_pair()
    ours_to, theirs_to = _pair(lambda nn: nn.Linear(4, 4))
    P.transfer_parametrizations_and_params(ours, ours_to)
    TP.transfer_parametrizations_and_params(theirs, theirs_to)
    assert type(ours_to).__name__ == "ParametrizedLinear"
    assert ours_to.parametrizations.weight.original is ours.parametrizations.weight.original
    assert_close(ours_to.weight, ours.weight)
    _assert_same_state_dict(ours_to, theirs_to)


# ------------------------------------------------------------------------------ errors
LIBRARIES = {"deepnum": (dnn, P, PZ, deepnum), "torch": (torch.nn, TP, TPZ, torch)}


def _both_raise(exception, match, action):
    """``action(nn, parametrize, parametrizations, lib)`` raises the same exception type in
    deepnum and in PyTorch, both messages matching ``match``."""
    for libraries in LIBRARIES.values():
        with pytest.raises(exception, match=match):
            action(*libraries)


def _make_changing(nn, change):
    class Changing(nn.Module):
        def forward(self, X):
            return change(X)

    return Changing()


def _assign_weight(module, value):
    module.weight = value


def test_error_shape_change_needs_unsafe():
    def sub(X):
        return X[:2]

    _both_raise(
        ValueError, "may not change the shape of the tensor, unless `unsafe`",
        lambda nn, P, PZ, lib: P.register_parametrization(
            nn.Linear(3, 3), "weight", _make_changing(nn, sub)
        ),
    )
    module = P.register_parametrization(
        dnn.Linear(3, 3), "weight", _make_changing(dnn, sub), unsafe=True
    )
    assert module.weight.shape == (2, 3)
    assert module.parametrizations.weight.unsafe


def test_error_dtype_change_needs_unsafe():
    _both_raise(
        ValueError, "may not change the dtype of the tensor",
        lambda nn, P, PZ, lib: P.register_parametrization(
            nn.Linear(3, 3), "weight", _make_changing(nn, lambda X: X.double())
        ),
    )


def test_error_stacked_parametrization_changing_shape():
    def register_twice(nn, P, PZ, lib):
        module = P.register_parametrization(nn.Linear(3, 3), "weight", _make_symmetric(nn))
        try:
            P.register_parametrization(module, "weight", _make_changing(nn, lambda X: X.T[:1]))
        finally:
            assert len(module.parametrizations.weight) == 1

    _both_raise(ValueError, r"parametrization\(module.weight\).shape", register_twice)


def test_error_unknown_tensor_and_missing_parametrization():
    _both_raise(
        ValueError,
        "does not have a parameter, a buffer, or a parametrized element with name 'nope'",
        lambda nn, P, PZ, lib: P.register_parametrization(
            nn.Linear(3, 3), "nope", _make_symmetric(nn)
        ),
    )
    _both_raise(
        ValueError, "does not have a parametrization on weight",
        lambda nn, P, PZ, lib: P.remove_parametrizations(nn.Linear(3, 3), "weight"),
    )


def test_error_assignment_without_right_inverse():
    def registered(nn, P):
        return P.register_parametrization(nn.Linear(2, 2), "weight", _make_no_inverse(nn))

    _both_raise(
        RuntimeError, "parametrization Double does not implement right_inverse",
        lambda nn, P, PZ, lib: _assign_weight(registered(nn, P), lib.zeros(2, 2)),
    )
    _both_raise(
        KeyError, "attribute 'weight' already exists",
        lambda nn, P, PZ, lib: _assign_weight(registered(nn, P), nn.Parameter(lib.zeros(2, 2))),
    )


def test_error_assignment_of_another_dtype():
    ours, theirs = _symmetric_pair(3)
    modules = {dnn: ours, torch.nn: theirs}
    _both_raise(
        ValueError, "The tensor returned by `right_inverse` has dtype",
        lambda nn, P, PZ, lib: _assign_weight(modules[nn], lib.zeros(3, 3, dtype=lib.float64)),
    )


def test_error_remove_dtype_changing_parametrization():
    module = P.register_parametrization(
        dnn.Linear(2, 2), "weight", _make_changing(dnn, lambda X: X.double()), unsafe=True
    )
    with pytest.raises(RuntimeError, match="may not change the dtype"):
        P.remove_parametrizations(module, "weight")
    P.remove_parametrizations(module, "weight", leave_parametrized=False)
    assert module.weight.dtype == np.float32


def test_error_parametrizations_functions():
    _both_raise(
        ValueError, "Expected a matrix or batch of matrices. Got a tensor of 1 dimensions.",
        lambda nn, P, PZ, lib: PZ.orthogonal(nn.Linear(2, 2), "bias"),
    )
    _both_raise(
        ValueError, 'orthogonal_map has to be one of "matrix_exp", "cayley", "householder"',
        lambda nn, P, PZ, lib: PZ.orthogonal(nn.Linear(2, 2), orthogonal_map="qr"),
    )
    _both_raise(
        ValueError, "has no parameter or buffer with name 'w'",
        lambda nn, P, PZ, lib: PZ.spectral_norm(nn.Linear(2, 2), "w"),
    )
    _both_raise(
        ValueError, "Expected n_power_iterations to be positive",
        lambda nn, P, PZ, lib: PZ.spectral_norm(nn.Linear(2, 2), n_power_iterations=0),
    )
    _both_raise(
        IndexError, "Dimension out of range",
        lambda nn, P, PZ, lib: PZ.spectral_norm(nn.Linear(2, 2), dim=2),
    )
    _both_raise(
        IndexError, "Dimension out of range",
        lambda nn, P, PZ, lib: PZ.weight_norm(nn.Linear(2, 2), dim=-3),
    )
    _both_raise(
        NotImplementedError, "use_trivialization=False",
        lambda nn, P, PZ, lib: _assign_weight(
            PZ.orthogonal(nn.Linear(3, 3), use_trivialization=False), lib.eye(3)
        ),
    )
    _both_raise(
        ValueError, "Expected a matrix or batch of matrices of shape",
        lambda nn, P, PZ, lib: _assign_weight(PZ.orthogonal(nn.Linear(3, 3)), lib.eye(4)),
    )


# -------------------------------------------------------------------------- weight_norm
@pytest.mark.parametrize(
    "make, shape, dim",
    [
        (lambda nn: nn.Linear(5, 3), (4, 5), 0),
        (lambda nn: nn.Linear(5, 3), (4, 5), 1),
        (lambda nn: nn.Linear(5, 3), (4, 5), None),
        (lambda nn: nn.Linear(5, 3), (4, 5), -1),
        (lambda nn: nn.Conv2d(2, 3, 3), (2, 2, 6, 6), 0),
        (lambda nn: nn.Conv1d(2, 4, 3), (2, 2, 7), -2),
    ],
)
def test_weight_norm_against_torch(make, shape, dim):
    ours, theirs = _pair(make)
    PZ.weight_norm(ours, dim=dim)
    TPZ.weight_norm(theirs, dim=dim)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict())[-2:] == [
        "parametrizations.weight.original0", "parametrizations.weight.original1",
    ]
    _assert_same_state_dict(ours, theirs)
    x, tx = _inputs(shape)
    out, tout = ours(x), theirs(tx)
    assert_close(out, tout)
    _backward_random(out, tout)
    _assert_same_parameters_and_grads(ours, theirs)


def test_weight_norm_of_the_whole_tensor():
    module = PZ.weight_norm(dnn.Linear(3, 2), dim=None)
    g, v = module.parametrizations.weight.original0, module.parametrizations.weight.original1
    assert g.shape == () and v.shape == (2, 3)
    assert_close(g, np.linalg.norm(v.detach().numpy()))


# ------------------------------------------------------------------------ spectral_norm
@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda nn: nn.Linear(6, 4), (3, 6)),
        (lambda nn: nn.Conv2d(2, 3, 3), (2, 2, 5, 5)),
        (lambda nn: nn.ConvTranspose2d(3, 2, 3), (2, 3, 4, 4)),
    ],
)
def test_spectral_norm_against_torch(make, shape):
    ours, theirs = _pair(make)
    PZ.spectral_norm(ours, n_power_iterations=2)
    TPZ.spectral_norm(theirs, n_power_iterations=2)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert list(ours.state_dict())[-2:] == [
        "parametrizations.weight.0._u", "parametrizations.weight.0._v",
    ]
    ours.load_state_dict(_numpy_state(theirs))  # the random start vectors of torch's RNG

    opt = deepnum.optim.SGD(ours.parameters(), lr=0.05)
    topt = torch.optim.SGD(theirs.parameters(), lr=0.05)
    x, tx = _inputs(shape)
    for _ in range(3):  # training: every access advances u and v
        out, tout = ours(x), theirs(tx)
        assert_close(out, tout)
        _backward_random(out, tout)
        _assert_same_parameters_and_grads(ours, theirs)
        opt.step(), topt.step()
        opt.zero_grad(), topt.zero_grad()
    _assert_same_state_dict(ours, theirs)

    ours.eval(), theirs.eval()
    u = ours.parametrizations.weight[0]._u.numpy().copy()
    assert_close(ours(x), theirs(tx))
    np.testing.assert_array_equal(ours.parametrizations.weight[0]._u.numpy(), u)
    _assert_same_state_dict(ours, theirs)


def test_spectral_norm_normalises_the_largest_singular_value():
    module = PZ.spectral_norm(dnn.Linear(7, 5))
    sigma = np.linalg.svd(module.weight.detach().numpy(), compute_uv=False)[0]
    assert abs(sigma - 1) < 1e-3
    assert module.parametrizations.weight[0].dim == 0
    assert PZ.spectral_norm(dnn.ConvTranspose1d(2, 3, 3)).parametrizations.weight[0].dim == 1


def test_spectral_norm_of_a_vector_is_its_normalisation():
    ours, theirs = _pair(lambda nn: nn.Linear(3, 4))
    PZ.spectral_norm(ours, "bias")
    TPZ.spectral_norm(theirs, "bias")
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert_close(ours.bias, theirs.bias)
    assert_close(np.linalg.norm(ours.bias.detach().numpy()), 1.0)


# --------------------------------------------------------------------------- orthogonal
def _orthogonality_error(weight):
    q = weight.detach().numpy().astype(np.float64)
    if q.shape[-2] < q.shape[-1]:
        q = np.swapaxes(q, -1, -2)
    return np.abs(np.swapaxes(q, -1, -2) @ q - np.eye(q.shape[-1])).max()


@pytest.mark.parametrize("out_features, in_features", [(4, 4), (5, 3), (3, 5)])
@pytest.mark.parametrize("orthogonal_map", [None, "matrix_exp", "cayley", "householder"])
@pytest.mark.parametrize("use_trivialization", [True, False])
def test_orthogonal_against_torch(out_features, in_features, orthogonal_map, use_trivialization):
    ours, theirs = _pair(lambda nn: nn.Linear(in_features, out_features))
    PZ.orthogonal(ours, orthogonal_map=orthogonal_map, use_trivialization=use_trivialization)
    TPZ.orthogonal(theirs, orthogonal_map=orthogonal_map, use_trivialization=use_trivialization)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    maps = [m.parametrizations.weight[0].orthogonal_map.name for m in (ours, theirs)]
    assert maps[0] == maps[1]
    assert _orthogonality_error(ours.weight) < 1e-5
    random_completion = use_trivialization and out_features != in_features
    if not random_completion:
        _assert_same_state_dict(ours, theirs)
    ours.load_state_dict(_numpy_state(theirs))  # the random columns of torch's completion
    assert_close(ours.weight, theirs.weight)

    opt = deepnum.optim.SGD(ours.parameters(), lr=0.1)
    topt = torch.optim.SGD(theirs.parameters(), lr=0.1)
    x, tx = _inputs((2, in_features))
    for _ in range(2):
        out, tout = ours(x), theirs(tx)
        _backward_random(out, tout)
        _assert_same_parameters_and_grads(ours, theirs)
        opt.step(), topt.step()
        opt.zero_grad(), topt.zero_grad()
        assert _orthogonality_error(ours.weight) < 1e-5
        assert_close(ours.weight, theirs.weight)

    # any unconstrained original, not only those reached from -I by gradient steps
    state = _numpy_state(theirs)
    original = "parametrizations.weight.original"
    shape = state[original].shape
    state[original] = np.random.default_rng(2).uniform(-2, 2, shape).astype(np.float32)
    ours.load_state_dict(state)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    assert_close(ours.weight, theirs.weight)


def test_orthogonal_keeps_an_orthogonal_weight_and_orthogonalises_others():
    q = np.linalg.qr(np.random.default_rng(0).standard_normal((4, 4)))[0].astype(np.float32)
    ours = dnn.Linear(4, 4)
    with deepnum.no_grad():
        ours.weight.array[...] = q
    PZ.orthogonal(ours)
    assert_close(ours.weight, q)
    ours.weight = deepnum.tensor(q.T)
    assert_close(ours.weight, q.T)
    not_orthogonal = 2 * q
    ours.weight = deepnum.tensor(not_orthogonal)
    assert _orthogonality_error(ours.weight) < 1e-5


def test_orthogonal_batch_of_matrices_with_adam():
    class Batch(dnn.Module):
        def __init__(self):
            super().__init__()
            self.weight = dnn.Parameter(deepnum.randn(3, 5, 2))

    module = PZ.orthogonal(Batch(), orthogonal_map="cayley")
    opt = deepnum.optim.Adam(module.parameters(), lr=0.05)
    target = deepnum.randn(3, 5, 2)
    for _ in range(3):
        loss = (module.weight - target).pow(2).sum()
        loss.backward()
        opt.step()
        opt.zero_grad()
    assert _orthogonality_error(module.weight) < 1e-5


# --------------------------------------------------------------------------- gradchecks
def _call_with_originals(module, name, originals, *inputs):
    """``module(*inputs)`` with the original tensors of ``module.<name>`` replaced by
    ``originals`` (gradcheck passes float64 copies of its inputs)."""
    stored = module.parametrizations[name]._parameters
    saved = dict(stored)
    try:
        stored.update(zip(saved, originals))
        return module(*inputs)
    finally:
        stored.update(saved)


@pytest.mark.parametrize("dim", [0, 1, None])
def test_gradcheck_weight_norm(dim):
    module = PZ.weight_norm(dnn.Linear(3, 4).double(), dim=dim)
    weight_norm = module.parametrizations.weight
    g = weight_norm.original0.detach().clone().requires_grad_()
    v = weight_norm.original1.detach().clone().requires_grad_()
    x = deepnum.randn(2, 3, dtype=deepnum.float64, requires_grad=True)
    assert deepnum.autograd.gradcheck(
        lambda g, v, x: _call_with_originals(module, "weight", (g, v), x), (g, v, x)
    )


def test_gradcheck_stacked_custom_parametrizations():
    module = P.register_parametrization(dnn.Linear(3, 3).double(), "weight", _make_symmetric(dnn))
    P.register_parametrization(module, "weight", _make_changing(dnn, lambda X: X.tanh() @ X))
    original = deepnum.randn(3, 3, dtype=deepnum.float64, requires_grad=True)
    x = deepnum.randn(2, 3, dtype=deepnum.float64, requires_grad=True)
    assert deepnum.autograd.gradcheck(
        lambda w, x: _call_with_originals(module, "weight", (w,), x), (original, x)
    )


@pytest.mark.parametrize("orthogonal_map", ["matrix_exp", "cayley"])
@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 4)])
def test_gradcheck_orthogonal(orthogonal_map, shape):
    module = PZ.orthogonal(dnn.Linear(shape[1], shape[0]).double(), orthogonal_map=orthogonal_map)
    # scaled so that the matrix exponential needs squarings
    original = (3 * deepnum.randn(*shape, dtype=deepnum.float64)).requires_grad_()
    x = deepnum.randn(2, shape[1], dtype=deepnum.float64)
    assert deepnum.autograd.gradcheck(
        lambda w: _call_with_originals(module, "weight", (w,), x), (original,)
    )


@pytest.mark.parametrize("scale", [0.1, 3.0, 40.0])
def test_matrix_exp_against_torch(scale):
    a = scale * np.random.default_rng(0).standard_normal((2, 4, 4))
    ours = deepnum.tensor(a, requires_grad=True)
    theirs = torch.tensor(a, requires_grad=True)
    out, tout = deepnum.linalg.matrix_exp(ours), torch.linalg.matrix_exp(theirs)
    assert_close(out, tout, rtol=1e-10, atol=1e-12 * float(tout.detach().abs().max()))
    _backward_random(out, tout)
    assert_close(ours.grad, theirs.grad, rtol=1e-9, atol=1e-12 * float(theirs.grad.abs().max()))
