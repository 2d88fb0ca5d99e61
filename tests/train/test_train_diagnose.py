"""Bias / variance verdicts on 000 Table 1 and the collapsed-prediction warning (003 §2.9)."""

import numpy as np
import pytest

from deepnum.train.diagnose import CollapsedPredictionsWarning, check_prediction_collapse, diagnose_bias_variance

# 000 Table 1: training and development set errors of models M1..M4 and the diagnosis
TABLE_1 = [
    ("M1", 0.01, 0.11, "high variance"),
    ("M2", 0.15, 0.16, "high bias"),
    ("M3", 0.15, 0.30, "high bias, high variance"),
    ("M4", 0.005, 0.01, "low bias, low variance"),
]


@pytest.mark.parametrize("model,train,dev,verdict", TABLE_1)
def test_table_1_verdicts(model, train, dev, verdict):
    assert diagnose_bias_variance(train, dev).verdict == verdict


def test_bayes_error_changes_the_bias_verdict():
    # M2 on blurry images that humans also get 14 % wrong: the bias is no longer avoidable
    d = diagnose_bias_variance(0.15, 0.16, bayes_error=0.14)
    assert d.verdict == "low bias, low variance"
    assert d.avoidable_bias == pytest.approx(0.01)


def test_report_and_advice():
    d = diagnose_bias_variance(0.15, 0.30)
    text = str(d)
    assert "train error 15.00%, dev error 30.00%" in text
    assert "reduce bias" in text and "reduce variance" in text


def test_errors_must_be_fractions():
    with pytest.raises(ValueError, match=r"train_error must be a fraction in \[0, 1\], got 15"):
        diagnose_bias_variance(15, 16)


def test_collapse_warns_once_predictions_are_one_class():
    target = np.arange(100) % 10
    with pytest.warns(CollapsedPredictionsWarning, match="100% of the predictions are class 3"):
        assert check_prediction_collapse(np.full(100, 3), target)
    assert not check_prediction_collapse(target.copy(), target)
    # a test set that really is all one class is not a collapse
    assert not check_prediction_collapse(np.zeros(100, int), np.zeros(100, int))
