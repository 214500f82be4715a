"""Continual-learning metrics over an accuracy matrix.

Every function takes the accuracy matrix ``R``, a float array of shape (T, T) with

    ``R[i, j]`` = test accuracy (a fraction in [0, 1]) on task ``j`` after training task ``i``.

Entries above the diagonal (``j > i``, a task not learned yet) are undefined: they may
be NaN or anything else and are ignored. Every entry on or below the diagonal must be
a finite fraction.

====================================  ==========================================================
:func:`new_task_accuracy`             ``R[i, i]``, the newest task after each task
:func:`old_task_accuracy`             mean of ``R[i, j]`` over ``j < i`` (SpikeDyn's
                                      "previously learned tasks"), NaN for ``i = 0``
:func:`final_average_accuracy`        ACC (Lopez-Paz & Ranzato 2017, GEM)
:func:`backward_transfer`             BWT (GEM); negative means forgetting
:func:`forgetting`                    F (Chaudhry et al. 2018, RWalk); positive means forgetting
:func:`average_incremental_accuracy`  Rebuffi et al. 2017 (iCaRL)
:func:`summarize`                     all of the above as a JSON-safe dict
:func:`mean_sd`                       mean and sample SD over seeds
:func:`check_accuracy_matrix`         the validation every function applies
====================================  ==========================================================

Forward transfer (GEM's FWT) is not provided: it needs the accuracy on a task before
that task is trained, which class-incrementally (one class per task, as in SpikeDyn)
is undefined, because a class cannot be predicted before it is learned.

Relation to Avalanche (``ContinualAI/avalanche``, ``avalanche/evaluation/metrics``):
BWT is Avalanche's ``StreamBWT`` (the mean over the tasks trained before the last one
of the last accuracy minus the accuracy right after training the task), and the
accuracy matrix and ACC follow its conventions, except that Avalanche's stream
accuracy weights tasks by their number of test samples where ACC weights every task
equally. Avalanche's ``StreamForgetting`` is ``-BWT``: it measures the drop from
``R[j, j]``, not from the best earlier accuracy as Chaudhry's :func:`forgetting` does.
So ``forgetting(R) >= -backward_transfer(R)``, with equality when no task's accuracy
ever rises after the task is learned.

Examples
--------
>>> R = [[0.9, None, None], [0.6, 0.8, None], [0.5, 0.7, 0.9]]
>>> round(backward_transfer(R), 4)
-0.25
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ..errors import ConfigError

__all__ = [
    "average_incremental_accuracy",
    "backward_transfer",
    "check_accuracy_matrix",
    "final_average_accuracy",
    "forgetting",
    "mean_sd",
    "new_task_accuracy",
    "old_task_accuracy",
    "summarize",
]


def check_accuracy_matrix(R) -> np.ndarray:
    """Validate an accuracy matrix and return it as float64 with NaN above the diagonal.

    Parameters
    ----------
    R : array_like, shape (T, T), T >= 1
        ``R[i, j]`` = accuracy on task ``j`` after training task ``i``; entries with
        ``j > i`` are ignored (None is accepted there, e.g. the ``accuracy_matrix``
        of :func:`summarize`).

    Returns
    -------
    float64 array, shape (T, T)
        A copy of ``R`` whose entries above the diagonal are NaN.

    Raises
    ------
    ConfigError
        If ``R`` is not a non-empty square numeric matrix, or an entry on or below the
        diagonal is not finite or outside [0, 1].
    """
    try:
        R = np.array(R, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(
            "accuracy matrix must be a numeric (T, T) array; pass R[i, j] = accuracy on task j after task i"
        ) from None
    if R.ndim != 2 or R.shape[0] != R.shape[1] or R.shape[0] < 1:
        raise ConfigError(
            f"accuracy matrix must be square (T, T) with T >= 1, got shape {R.shape}; "
            "pass R[i, j] = accuracy on task j after training task i"
        )
    lower = np.tril(np.ones(R.shape, dtype=bool))
    bad = lower & ~np.isfinite(R)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ConfigError(
            f"accuracy matrix has a missing or non-finite entry R[{i}, {j}] = {R[i, j]} on or below the diagonal; "
            "every R[i, j] with j <= i must be measured"
        )
    bad = lower & ((R < 0) | (R > 1))
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ConfigError(
            f"accuracy matrix entry R[{i}, {j}] = {R[i, j]:g} is outside [0, 1]; pass fractions, not percentages"
        )
    R[~lower] = np.nan
    return R


def new_task_accuracy(R) -> np.ndarray:
    """Accuracy on the newest task after each task: ``a_i = R[i, i]``.

    SpikeDyn's "newly learned task" curve, in the notation of Lopez-Paz & Ranzato
    (2017), "Gradient Episodic Memory for Continual Learning" (GEM).

    Parameters
    ----------
    R : array_like, shape (T, T)
        Accuracy matrix (see the module docstring).

    Returns
    -------
    float64 array, shape (T,)
    """
    return np.diagonal(check_accuracy_matrix(R)).copy()


def old_task_accuracy(R) -> np.ndarray:
    """Mean accuracy on the previously learned tasks after each task.

    ``o_i = (1 / i) * sum_{j < i} R[i, j]`` for ``i >= 1``; ``o_0`` is NaN (there is no
    earlier task). SpikeDyn's "previously learned tasks" curve.

    Parameters
    ----------
    R : array_like, shape (T, T)
        Accuracy matrix (see the module docstring).

    Returns
    -------
    float64 array, shape (T,)
        NaN at index 0.
    """
    R = check_accuracy_matrix(R)
    out = np.full(R.shape[0], np.nan)
    for i in range(1, R.shape[0]):
        out[i] = R[i, :i].mean()
    return out


def final_average_accuracy(R) -> float:
    """Final average accuracy ``ACC = (1 / T) * sum_j R[T-1, j]``.

    Lopez-Paz & Ranzato (2017), "Gradient Episodic Memory for Continual Learning"
    (GEM): the mean over all tasks of the accuracy after the last task, every
    task weighted equally.

    Parameters
    ----------
    R : array_like, shape (T, T)
        Accuracy matrix (see the module docstring).

    Returns
    -------
    float
    """
    R = check_accuracy_matrix(R)
    return float(R[-1].mean())


def backward_transfer(R) -> float | None:
    """Backward transfer ``BWT = (1 / (T-1)) * sum_{j < T-1} (R[T-1, j] - R[j, j])``.

    Lopez-Paz & Ranzato (2017), "Gradient Episodic Memory for Continual Learning"
    (GEM): how much learning later tasks changed the accuracy on each earlier
    task, from right after it was learned to the end. Negative values mean forgetting.

    Parameters
    ----------
    R : array_like, shape (T, T)
        Accuracy matrix (see the module docstring).

    Returns
    -------
    float or None
        None when T == 1 (no earlier task).
    """
    R = check_accuracy_matrix(R)
    T = R.shape[0]
    if T == 1:
        return None
    return float(np.mean(R[-1, :-1] - np.diagonal(R)[:-1]))


def forgetting(R) -> float | None:
    """Average forgetting ``F = (1 / (T-1)) * sum_{j < T-1} f_j``, with
    ``f_j = max_{l in [j, T-2]} R[l, j] - R[T-1, j]``.

    Chaudhry, Dokania, Ajanthan & Torr (2018), "Riemannian Walk for Incremental
    Learning" (RWalk): for each earlier task, the drop from its best accuracy
    before the last task to its accuracy at the end. Positive values mean forgetting;
    ``F >= -BWT``, with equality when no task's accuracy rises after it is learned.
    (Chaudhry's maximum runs over all ``l < T-1``; the entries with ``l < j`` are
    undefined here, and class-incrementally they are 0 and cannot be the maximum.)

    Parameters
    ----------
    R : array_like, shape (T, T)
        Accuracy matrix (see the module docstring).

    Returns
    -------
    float or None
        None when T == 1 (no earlier task).
    """
    R = check_accuracy_matrix(R)
    T = R.shape[0]
    if T == 1:
        return None
    drops = [R[j:T - 1, j].max() - R[T - 1, j] for j in range(T - 1)]
    return float(np.mean(drops))


def average_incremental_accuracy(R) -> float:
    """Average incremental accuracy ``(1 / T) * sum_i (1 / (i+1)) * sum_{j <= i} R[i, j]``.

    Rebuffi, Kolesnikov, Sperl & Lampert (2017), "iCaRL: Incremental Classifier and
    Representation Learning": the mean over the training stages of the average
    accuracy over the tasks learned so far.

    Parameters
    ----------
    R : array_like, shape (T, T)
        Accuracy matrix (see the module docstring).

    Returns
    -------
    float
    """
    R = check_accuracy_matrix(R)
    return float(np.mean([R[i, :i + 1].mean() for i in range(R.shape[0])]))


def _json_float(x) -> float | None:
    """A plain Python float, or None for NaN (and for None)."""
    if x is None or not math.isfinite(x):
        return None
    return float(x)


def summarize(R) -> dict:
    """All metrics of ``R`` as a JSON-safe dict.

    Parameters
    ----------
    R : array_like, shape (T, T)
        Accuracy matrix (see the module docstring).

    Returns
    -------
    dict
        ``accuracy_matrix`` (list of T lists, None above the diagonal),
        ``new_task_accuracy`` (list), ``old_task_accuracy`` (list, None first),
        ``final_average_accuracy``, ``bwt``, ``forgetting`` (None when T == 1) and
        ``average_incremental_accuracy``. Every number is a plain Python float;
        there is no NaN or infinity, so ``json.dumps(..., allow_nan=False)`` works,
        and ``accuracy_matrix`` is accepted back by every function here.
    """
    R = check_accuracy_matrix(R)
    return {
        "accuracy_matrix": [[_json_float(x) for x in row] for row in R],
        "new_task_accuracy": [_json_float(x) for x in new_task_accuracy(R)],
        "old_task_accuracy": [_json_float(x) for x in old_task_accuracy(R)],
        "final_average_accuracy": final_average_accuracy(R),
        "bwt": backward_transfer(R),
        "forgetting": forgetting(R),
        "average_incremental_accuracy": average_incremental_accuracy(R),
    }


def mean_sd(values: Iterable[float | None]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1) of the values that are not None.

    For aggregating one metric over seeds, e.g. ``mean_sd(s["bwt"] for s in summaries)``.

    Parameters
    ----------
    values : iterable of float or None
        None entries (undefined metrics) are skipped.

    Returns
    -------
    (float, float)
        The mean and the sample standard deviation; the SD is 0.0 for a single value.

    Raises
    ------
    ConfigError
        If no value is left, or a value is NaN or infinite.
    """
    try:
        kept = [float(v) for v in values if v is not None]
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"mean_sd needs numbers or None, got a value it cannot read ({exc})") from None
    if not kept:
        raise ConfigError("mean_sd got no values (all None); pass at least one defined value, e.g. one per seed")
    if not all(math.isfinite(v) for v in kept):
        raise ConfigError(f"mean_sd got a non-finite value in {kept}; pass None for an undefined metric, not NaN")
    sd = float(np.std(kept, ddof=1)) if len(kept) > 1 else 0.0
    return float(np.mean(kept)), sd
