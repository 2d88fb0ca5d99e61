"""Anomaly detection: the forward or backward op that produced nan/inf, named with the user's
line that created it, as ``torch.autograd.detect_anomaly``."""

import numpy as np
import pytest
import torch

import deepnum
from deepnum.autograd import Function


# ------------------------------------------------------------------------- anomaly
def test_detect_anomaly_names_forward_op_and_user_line():
    x = deepnum.tensor([-1.0, 2.0], requires_grad=True)
    with deepnum.autograd.detect_anomaly():
        log_nan = r"Function 'Log' produced nan.*test_anomaly\.py:\d+"
        with pytest.raises(RuntimeError, match=log_nan):
            x.log()
        y = deepnum.tensor([0.0], requires_grad=True)
        with pytest.raises(RuntimeError, match=r"'Div' produced nan.*test_anomaly\.py"):
            y / y


def test_detect_anomaly_names_backward_op():
    x = deepnum.tensor([0.0, 4.0], requires_grad=True)
    with deepnum.autograd.detect_anomaly():
        y = x.sqrt().sum()  # forward is finite; d sqrt(x)/dx at 0 is inf
        with pytest.raises(RuntimeError, match=r"'SqrtBackward' returned inf.*test_anomaly\.py"):
            y.backward()


def test_without_anomaly_mode_nan_passes_silently_as_in_torch():
    x, tx = deepnum.tensor([0.0], requires_grad=True), torch.tensor([0.0], requires_grad=True)
    x.sqrt().sum().backward()
    tx.sqrt().sum().backward()
    assert np.isinf(x.grad.array).all() and torch.isinf(tx.grad).all()
    assert not deepnum.autograd.is_anomaly_enabled()


class Failing(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 1.0

    @staticmethod
    def backward(ctx, grad):
        raise ValueError("broken backward")


def test_anomaly_mode_notes_where_a_failing_backward_op_was_created():
    x = deepnum.tensor([1.0], requires_grad=True)
    with deepnum.autograd.detect_anomaly():
        y = Failing.apply(x).sum()
        with pytest.raises(ValueError, match="broken backward") as info:
            y.backward()
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert "FailingBackward" in notes and "test_anomaly.py" in notes


def test_detect_anomaly_check_nan_false_and_decorator():
    x = deepnum.tensor([-1.0], requires_grad=True)
    with deepnum.autograd.detect_anomaly(check_nan=False):
        assert deepnum.autograd.is_anomaly_enabled()
        assert np.isnan(x.log().detach().numpy()).all()

    @deepnum.autograd.detect_anomaly()
    def bad(t):
        return t.log()

    with pytest.raises(RuntimeError, match="'Log' produced nan"):
        bad(x)
    assert not deepnum.autograd.is_anomaly_enabled()
    assert deepnum.autograd.is_anomaly_check_nan_enabled()


def test_set_detect_anomaly_as_context_and_call():
    with deepnum.autograd.set_detect_anomaly(True):
        assert deepnum.autograd.is_anomaly_enabled()
    assert not deepnum.autograd.is_anomaly_enabled()
