"""Metrics against direct computations and torch / hand-made examples."""

import numpy as np
import pytest

import deepnum
from deepnum.train.metrics import (
    MAE, RMSE, Accuracy, ConfusionMatrix, TopKAccuracy, accuracy, confusion_matrix, get_metric, mae, rmse,
    top_k_accuracy,
)


def test_accuracy_from_logits_labels_and_tensors():
    logits = np.array([[2.0, 1.0, 0.0], [0.0, 1.0, 3.0], [1.0, 0.0, 0.5], [0.1, 0.2, 0.0]], np.float32)
    target = np.array([0, 2, 2, 1])
    assert accuracy(logits, target) == 0.75
    assert accuracy(np.array([0, 2, 0, 1]), target) == 0.75
    assert accuracy(deepnum.tensor(logits), deepnum.tensor(target)) == 0.75


def test_top_k_matches_torch_topk():
    torch = pytest.importorskip("torch")
    scores = np.random.default_rng(1).standard_normal((200, 10)).astype(np.float32)
    target = np.random.default_rng(2).integers(0, 10, 200)
    for k in (1, 3, 5):
        topk = torch.from_numpy(scores).topk(k, dim=1).indices.numpy()
        expected = (topk == target[:, None]).any(1).mean()
        assert top_k_accuracy(scores, target, k) == pytest.approx(expected)
    with pytest.raises(ValueError, match=r"top_k_accuracy: expected scores of shape \(N, C\) with 1 <= k <= C, got shape \(200, 10\) and k=11"):
        top_k_accuracy(scores, target, 11)


def test_confusion_matrix_counts():
    pred = np.array([0, 1, 1, 2, 2, 2])
    target = np.array([0, 1, 2, 2, 2, 0])
    m = confusion_matrix(pred, target, 3)
    np.testing.assert_array_equal(m, [[1, 0, 1], [0, 1, 0], [0, 1, 2]])
    assert m.sum() == 6 and np.trace(m) == 4


def test_mae_rmse():
    out = np.array([[1.0], [2.0], [4.0]])
    tgt = np.array([1.0, 3.0, 2.0])
    assert mae(out, tgt) == pytest.approx(1.0)
    assert rmse(out, tgt) == pytest.approx(np.sqrt(5 / 3))


def test_accumulators_equal_whole_dataset_values():
    rng = np.random.default_rng(0)
    scores, target = rng.standard_normal((103, 7)), rng.integers(0, 7, 103)
    values, preds = rng.standard_normal((103, 1)), rng.standard_normal(103)
    acc, top, cm, m_mae, m_rmse = Accuracy(), TopKAccuracy(3), ConfusionMatrix(7), MAE(), RMSE()
    for s in (slice(0, 50), slice(50, 100), slice(100, 103)):  # uneven batches
        acc.update(scores[s], target[s])
        top.update(scores[s], target[s])
        cm.update(scores[s], target[s])
        m_mae.update(values[s], preds[s])
        m_rmse.update(values[s], preds[s])
    assert acc.compute() == pytest.approx(accuracy(scores, target))
    assert top.compute() == pytest.approx(top_k_accuracy(scores, target, 3))
    np.testing.assert_array_equal(cm.compute(), confusion_matrix(scores, target, 7))
    assert m_mae.compute() == pytest.approx(mae(values, preds))
    assert m_rmse.compute() == pytest.approx(rmse(values, preds))


def test_get_metric_names():
    assert get_metric("top5").name == "top5" and get_metric("acc").name == "accuracy"
    with pytest.raises(ValueError, match="unknown metric 'f1'"):
        get_metric("f1")
