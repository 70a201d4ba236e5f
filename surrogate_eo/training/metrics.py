"""Classification metrics from a confusion matrix (numpy; no torch, no scikit-learn).

All metrics are fractions in [0, 1] (Cohen's kappa in [-1, 1]) and agree with
scikit-learn's ``accuracy_score``, ``cohen_kappa_score``,
``f1_score(average="macro", zero_division=0)`` and ``balanced_accuracy_score``
(the tests check this). Evaluation accumulates one confusion matrix over all
batches and calls :func:`metrics_from_confusion` once.

>>> import numpy as np
>>> m = classification_metrics(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 2]), num_classes=3)
>>> round(m["acc"], 4), round(m["aa"], 4)
(0.75, 0.8333)
"""
from __future__ import annotations

import numpy as np

from ..errors import TrainingError

#: Names returned by :func:`metrics_from_confusion`, in record order.
METRIC_NAMES = ("acc", "kappa", "f1", "aa")


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Confusion matrix ``C[i, j]`` = number of samples of true class ``i`` predicted as ``j``.

    Parameters
    ----------
    y_true, y_pred : array of int, shape (n,)
        Labels in ``[0, num_classes)``.
    num_classes : int
        Number of classes K.

    Returns
    -------
    ndarray of int64, shape (K, K)
    """
    t = np.asarray(y_true, dtype=np.int64).ravel()
    p = np.asarray(y_pred, dtype=np.int64).ravel()
    if t.shape != p.shape:
        raise TrainingError(f"confusion_matrix: y_true has {t.size} labels but y_pred has {p.size}")
    k = int(num_classes)
    if t.size and (min(t.min(), p.min()) < 0 or max(t.max(), p.max()) >= k):
        raise TrainingError(f"confusion_matrix: labels must lie in [0, {k}), got "
                            f"[{min(t.min(), p.min())}, {max(t.max(), p.max())}]")
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k)


def metrics_from_confusion(cm: np.ndarray) -> dict[str, float]:
    """Overall accuracy, Cohen's kappa, macro-F1 and average per-class accuracy of ``cm``.

    Parameters
    ----------
    cm : array of int, shape (K, K)
        Rows are true classes, columns predictions.

    Returns
    -------
    dict
        ``acc`` (overall accuracy), ``kappa`` (Cohen's kappa; 0 when chance agreement is 1),
        ``f1`` (macro-F1 over the classes present in truth or prediction, a class with no
        true positive scoring 0), ``aa`` (mean recall over the classes present in truth).
        All NaN when ``cm`` is empty.
    """
    cm = np.asarray(cm, dtype=np.float64)
    n = cm.sum()
    if n == 0:
        return {k: float("nan") for k in METRIC_NAMES}
    tp = np.diag(cm)
    true_n = cm.sum(axis=1)
    pred_n = cm.sum(axis=0)
    acc = tp.sum() / n
    pe = float((true_n * pred_n).sum()) / (n * n)
    kappa = 0.0 if pe >= 1.0 else (acc - pe) / (1.0 - pe)
    present = (true_n + pred_n) > 0
    denom = true_n + pred_n
    f1 = np.divide(2.0 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
    has_true = true_n > 0
    recall = np.divide(tp, true_n, out=np.zeros_like(tp), where=has_true)
    return {
        "acc": float(acc),
        "kappa": float(kappa),
        "f1": float(f1[present].mean()),
        "aa": float(recall[has_true].mean()),
    }


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> dict[str, float]:
    """:func:`metrics_from_confusion` of the labels' confusion matrix."""
    return metrics_from_confusion(confusion_matrix(y_true, y_pred, num_classes))
