"""``nn.EmbeddingBag`` / ``F.embedding_bag`` against PyTorch: outputs, weight and per-sample-weight gradients."""

import numpy as np
import pytest
import torch

import deepnum
import deepnum.nn as dnn
import deepnum.nn.functional as F
from tests.helpers import assert_close, check_against_torch, random_inputs

TF = torch.nn.functional
IDX_1D = np.array([1, 4, 4, 0, 7, 2, 2, 9, 3, 5])


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("case", ["2d", "offsets", "empty_bag", "last_offset", "padding"])
def test_embedding_bag_against_torch(mode, case):
    kwargs = dict(mode=mode)
    if case == "2d":
        idx, off = np.array([[1, 4, 4, 0], [7, 2, 2, 9], [3, 5, 6, 1]]), None
    elif case == "offsets":
        idx, off = IDX_1D, np.array([0, 3, 4, 8])
    elif case == "empty_bag":
        idx, off = IDX_1D, np.array([0, 3, 3, 9])
    elif case == "last_offset":
        idx, off = IDX_1D, np.array([0, 3, 6, 10])
        kwargs["include_last_offset"] = True
    else:
        idx, off = IDX_1D, np.array([0, 2, 5])
        kwargs["padding_idx"] = 4
    dn_off = None if off is None else deepnum.tensor(off)
    t_off = None if off is None else torch.tensor(off)
    check_against_torch(
        lambda w: F.embedding_bag(deepnum.tensor(idx), w, dn_off, **kwargs),
        lambda w: TF.embedding_bag(torch.tensor(idx), w, t_off, **kwargs),
        random_inputs((10, 3)),
    )


def test_per_sample_weights_sum():
    w, psw = random_inputs((10, 4), (10,))
    off = np.array([0, 4, 7])
    check_against_torch(
        lambda a, b: F.embedding_bag(
            deepnum.tensor(IDX_1D), a, deepnum.tensor(off), mode="sum", per_sample_weights=b
        ),
        lambda a, b: TF.embedding_bag(
            torch.tensor(IDX_1D), a, torch.tensor(off), mode="sum", per_sample_weights=b
        ),
        [w, psw],
    )


def test_module_matches_torch_with_copied_weight_and_trains():
    ours = dnn.EmbeddingBag(10, 4, mode="mean")
    theirs = torch.nn.EmbeddingBag(10, 4, mode="mean")
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert tuple(ours.weight.shape) == tuple(theirs.weight.shape)
    theirs.weight.data = torch.from_numpy(ours.weight.detach().numpy().copy())
    text, offsets = [1, 3, 3, 8, 2, 0], [0, 2]
    assert_close(
        ours(deepnum.tensor(text), deepnum.tensor(offsets)),
        theirs(torch.tensor(text), torch.tensor(offsets)),
    )
    assert "mode='mean'" in repr(ours)
    pad = dnn.EmbeddingBag(5, 2, mode="sum", padding_idx=0)
    assert pad.weight[0].tolist() == [0.0, 0.0]


def test_bad_input_messages():
    w = deepnum.ones(5, 2)
    with pytest.raises(ValueError, match="offsets has to be None if input is 2D"):
        F.embedding_bag(deepnum.tensor([[0, 1]]), w, deepnum.tensor([0]))
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        F.embedding_bag(deepnum.tensor([0, 1]), w)
    with pytest.raises(
        NotImplementedError, match="only mode='sum' supports them, got mode='mean'"
    ):
        F.embedding_bag(
            deepnum.tensor([0, 1]), w, deepnum.tensor([0]), per_sample_weights=deepnum.ones(2)
        )
    with pytest.raises(
        IndexError, match=r"EmbeddingBag\(num_embeddings=5\): index 7 is out of range"
    ):
        dnn.EmbeddingBag(5, 2)(deepnum.tensor([[1, 7]]))
