"""Metrics agree with scikit-learn on random, imbalanced and degenerate label sets."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, balanced_accuracy_score, cohen_kappa_score, f1_score

from surrogate_eo.errors import TrainingError
from surrogate_eo.training.metrics import classification_metrics, confusion_matrix, metrics_from_confusion


def _sklearn(t: np.ndarray, p: np.ndarray) -> dict[str, float]:
    return {"acc": accuracy_score(t, p), "kappa": cohen_kappa_score(t, p),
            "f1": f1_score(t, p, average="macro", zero_division=0),
            "aa": balanced_accuracy_score(t, p)}


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
@pytest.mark.parametrize("seed", range(6))
def test_matches_sklearn_on_random_labels(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 400))
    t = rng.choice(17, size=n, p=rng.dirichlet(np.ones(17) * 0.5))  # imbalanced, some classes absent
    p = np.where(rng.random(n) < 0.6, t, rng.integers(0, 17, n))
    ours, ref = classification_metrics(t, p, 17), _sklearn(t, p)
    for k in ref:
        assert ours[k] == pytest.approx(ref[k], abs=1e-12), k


def test_predicted_class_absent_from_truth_counts_in_f1_not_aa() -> None:
    t, p = np.array([0, 0, 1, 1]), np.array([0, 2, 1, 1])
    ours = classification_metrics(t, p, 17)
    with pytest.warns(UserWarning, match="y_pred contains classes"):
        ref = _sklearn(t, p)
    assert ours["f1"] == pytest.approx(ref["f1"])      # class 2 contributes F1 = 0
    assert ours["aa"] == pytest.approx(ref["aa"]) == pytest.approx(0.75)


def test_known_values_and_perfect_prediction() -> None:
    m = classification_metrics(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 2]), 3)
    assert m["acc"] == 0.75
    assert m["aa"] == pytest.approx((0.5 + 1 + 1) / 3)
    assert m["f1"] == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)
    y = np.arange(17)
    assert classification_metrics(y, y, 17) == {"acc": 1.0, "kappa": 1.0, "f1": 1.0, "aa": 1.0}


def test_single_class_everywhere_gives_zero_kappa_and_empty_gives_nan() -> None:
    y = np.zeros(5, dtype=int)
    assert classification_metrics(y, y, 17)["kappa"] == 0.0
    empty = metrics_from_confusion(np.zeros((17, 17), dtype=int))
    assert all(np.isnan(v) for v in empty.values())


def test_confusion_accumulates_over_batches() -> None:
    rng = np.random.default_rng(1)
    t, p = rng.integers(0, 17, 300), rng.integers(0, 17, 300)
    cm = confusion_matrix(t[:100], p[:100], 17) + confusion_matrix(t[100:], p[100:], 17)
    assert np.array_equal(cm, confusion_matrix(t, p, 17))
    assert cm.sum() == 300 and cm[t[0], p[0]] >= 1


def test_bad_labels_raise() -> None:
    with pytest.raises(TrainingError, match=r"\[0, 17\)"):
        confusion_matrix(np.array([0, 17]), np.array([0, 1]), 17)
    with pytest.raises(TrainingError, match="3 labels but y_pred has 2"):
        confusion_matrix(np.array([0, 1, 2]), np.array([0, 1]), 17)
