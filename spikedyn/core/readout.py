"""Label readout of an unsupervised network (Diehl & Cook 2015).

After learning, a labelled pass with learning off assigns each excitatory neuron the
class to which it responded most on average. A new example is classified as the
class whose assigned neurons respond most on average.

Both follow the authors' code (``peter-u-diehl/stdp-mnist``, commit d527ca3,
``Diehl&Cook_MNIST_evaluation.py``; the same functions are in
``Diehl&Cook_spiking_MNIST.py``, lines 169-190):

- ``get_new_assignments`` (evaluation script, lines 68-81) starts every neuron at
  -1, "not assigned", and visits the classes 0..9 in order, replacing the
  assignment only when ``rate[i] > maximum_rate[i]`` with ``maximum_rate`` starting
  at 0. So a neuron that never fired stays unassigned (-1), and on a tie between
  classes the **lowest** class keeps the neuron. :func:`assign_labels` does the same.
  (The training script's copy, line 179, starts at 0 instead of -1; it serves only
  the running accuracy printed during training.)
- ``get_recognized_number_ranking`` (lines 59-66) scores each class by the mean
  count of its assigned neurons (0 for a class without neurons) and returns
  ``np.argsort(summed_rates)[::-1]``; the prediction is its first entry (line 126,
  ``test_results[0, :]``). NumPy's default argsort keeps tied entries of a
  10-element array in index order, and the reversal puts the **highest** tied class
  first. So on a tie the highest class wins; a sample to which no assigned neuron
  responds (all scores 0) is predicted as the last class, 9. :func:`predict` does
  the same.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError

UNASSIGNED = -1


def _check_counts(counts, n_rows: int | None = None) -> np.ndarray:
    counts = np.asarray(counts)
    if counts.ndim != 2:
        raise ConfigError(f"spike counts must be 2-D (n_samples, n_neurons), got shape {counts.shape}")
    if n_rows is not None and counts.shape[0] != n_rows:
        raise ConfigError(f"{counts.shape[0]} rows of spike counts for {n_rows} labels; pass one row per label")
    return counts


def class_responses(counts, labels, n_classes: int = 10) -> np.ndarray:
    """Mean spike count of every neuron for each class.

    Parameters
    ----------
    counts : int array, shape (n_samples, n_neurons)
    labels : int array, shape (n_samples,), values in [0, n_classes)

    Returns
    -------
    float64 array, shape (n_classes, n_neurons)
        Row c is the mean response to class c (0 for a class with no sample).
    """
    labels = np.asarray(labels)
    counts = _check_counts(counts, labels.shape[0])
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ConfigError(f"labels must lie in [0, {n_classes}), got {labels.min()}..{labels.max()}")
    sums = np.zeros((n_classes, counts.shape[1]))
    np.add.at(sums, labels, counts)
    n_per_class = np.bincount(labels, minlength=n_classes)
    return sums / np.maximum(n_per_class, 1)[:, None]


def assign_labels(counts, labels, n_classes: int = 10) -> np.ndarray:
    """Class of each neuron: the class of its highest mean response (ties: the lowest class).

    Parameters
    ----------
    counts : int array, shape (n_samples, n_neurons)
        Spike counts of the labelled pass.
    labels : int array, shape (n_samples,), values in [0, n_classes)
    n_classes : int, default 10

    Returns
    -------
    int64 array, shape (n_neurons,)
        Assigned class, or ``UNASSIGNED`` (-1) for a neuron that never fired.
    """
    responses = class_responses(counts, labels, n_classes)
    assignments = np.argmax(responses, axis=0).astype(np.int64)
    assignments[responses.max(axis=0) <= 0] = UNASSIGNED
    return assignments


def class_scores(counts, assignments, n_classes: int = 10) -> np.ndarray:
    """Mean response of each class's assigned neurons, per sample: float64 (n_samples, n_classes)."""
    counts = _check_counts(counts)
    assignments = np.asarray(assignments)
    if assignments.shape != (counts.shape[1],):
        raise ConfigError(
            f"assignments must have one entry per neuron ({counts.shape[1]}), got shape {assignments.shape}"
        )
    scores = np.zeros((counts.shape[0], n_classes))
    for c in range(n_classes):
        members = assignments == c
        if members.any():
            scores[:, c] = counts[:, members].mean(axis=1)
    return scores


def predict(counts, assignments, n_classes: int = 10) -> np.ndarray:
    """Predicted class of each sample: the class with the highest score of :func:`class_scores`.

    Ties go to the highest class index, as in the authors' code (see the module
    docstring); a sample with all scores 0 is predicted as class ``n_classes - 1``.

    Parameters
    ----------
    counts : int array, shape (n_samples, n_neurons)
    assignments : int array, shape (n_neurons,)
        From :func:`assign_labels`; -1 for unassigned neurons.
    n_classes : int, default 10

    Returns
    -------
    int64 array, shape (n_samples,)
    """
    scores = class_scores(counts, assignments, n_classes)
    # argmax takes the first maximum; over the reversed classes that is the highest one.
    return (n_classes - 1 - np.argmax(scores[:, ::-1], axis=1)).astype(np.int64)


def confusion_matrix(labels, predictions, n_classes: int = 10) -> np.ndarray:
    """Counts of (true class, predicted class): int64 array, shape (n_classes, n_classes)."""
    labels = np.asarray(labels, dtype=np.int64)
    predictions = np.asarray(predictions, dtype=np.int64)
    if labels.shape != predictions.shape:
        raise ConfigError(f"labels {labels.shape} and predictions {predictions.shape} differ in shape")
    for name, values in (("labels", labels), ("predictions", predictions)):
        if values.size and (values.min() < 0 or values.max() >= n_classes):
            raise ConfigError(f"{name} must lie in [0, {n_classes}), got {values.min()}..{values.max()}")
    out = np.zeros((n_classes, n_classes), np.int64)
    np.add.at(out, (labels, predictions), 1)
    return out


def accuracy(labels, predictions) -> float:
    """Fraction of correct predictions."""
    labels = np.asarray(labels)
    predictions = np.asarray(predictions)
    if labels.shape != predictions.shape or labels.size == 0:
        raise ConfigError(f"need equal, non-empty label and prediction arrays, got {labels.shape}, {predictions.shape}")
    return float(np.mean(labels == predictions))
