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

from dataclasses import dataclass

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
    return _highest_class(class_scores(counts, assignments, n_classes))


def _highest_class(scores: np.ndarray) -> np.ndarray:
    """The class of each row's highest score, ties to the highest class (the authors' ``argsort``)."""
    # argmax takes the first maximum; over the reversed classes that is the highest one.
    return (scores.shape[1] - 1 - np.argmax(scores[:, ::-1], axis=1)).astype(np.int64)


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


# -- readouts other than the paper's ------------------------------------------------------
#: The readouts :func:`fit_readout` knows; the first is the paper's (:func:`predict`), and
#: every result that reports another one reports it beside the paper's.
READOUTS = ("mean", "proportion", "profile", "logistic")
PAPER_READOUT = READOUTS[0]
#: Inverse L2 strength of the ``logistic`` readout (scikit-learn's default ``C``, which
#: BindsNET's ``logreg_fit`` uses); fixed, never tuned on a test set.
LOGISTIC_C = 1.0
#: scikit-learn's defaults for ``LogisticRegression`` (``max_iter``, ``tol``).
_LOGISTIC_MAX_ITER = 100
_LOGISTIC_TOL = 1e-4


@dataclass(frozen=True)
class Readout:
    """A readout fitted on a labelled pass: each class's score is linear in the spike counts,
    ``scores = counts @ weights + bias``, and the prediction is the class of the highest score
    (ties: the highest class, as in :func:`predict`).

    Attributes
    ----------
    kind : str
        One of :data:`READOUTS`.
    assignments : int64 array, shape (n_neurons,)
        :func:`assign_labels` of the labelled pass (every readout keeps them).
    weights : float64 array, shape (n_neurons, n_classes)
    bias : float64 array, shape (n_classes,)
    """

    kind: str
    assignments: np.ndarray
    weights: np.ndarray
    bias: np.ndarray

    def scores(self, counts) -> np.ndarray:
        counts = _check_counts(counts)
        if counts.shape[1] != self.weights.shape[0]:
            raise ConfigError(f"spike counts of {counts.shape[1]} neurons for a readout of {self.weights.shape[0]}")
        if self.kind == PAPER_READOUT:
            return class_scores(counts, self.assignments, self.weights.shape[1])
        return np.asarray(counts, np.float64) @ self.weights + self.bias

    def predict(self, counts) -> np.ndarray:
        """Predicted class of each row of ``counts``: int64 array, shape (n_samples,)."""
        return _highest_class(self.scores(counts))


def class_proportions(counts, labels, n_classes: int = 10) -> np.ndarray:
    """Share of each neuron's mean response that each class draws, float64 (n_neurons, n_classes).

    ``p[n, c] = r[c, n] / sum_k r[k, n]`` with ``r`` from :func:`class_responses`; a
    neuron that never fired has all zeros (BindsNET's ``assign_labels``, which sets its
    NaNs to 0).
    """
    r = class_responses(counts, labels, n_classes)
    total = r.sum(axis=0)
    return np.divide(r, total, out=np.zeros_like(r), where=total > 0).T.copy()


def fit_readout(kind: str, counts, labels, n_classes: int = 10) -> Readout:
    """Fit readout ``kind`` on a labelled pass's spike counts (learning off).

    Readouts (``r[c, n]``: neuron ``n``'s mean count on class ``c``, ``p[n, c]``:
    :func:`class_proportions`, ``a[n]``: :func:`assign_labels`, ``N_c``: neurons with
    ``a[n] = c``, ``x[n]``: a test sample's counts):

    ``mean``
        The paper's (Diehl & Cook 2015; :func:`predict`): ``s_c = sum_{a[n]=c} x[n] / N_c``.
    ``proportion``
        BindsNET's ``proportion_weighting`` (``bindsnet/evaluation/evaluation.py``):
        ``s_c = sum_{a[n]=c} p[n, c] x[n] / N_c`` -- the paper's score with each neuron
        weighted by how selective it is for its class.
    ``profile``
        Every neuron votes for every class in proportion to its response profile,
        ``s_c = sum_n p[n, c] x[n]``: a spike of neuron ``n`` counts as evidence
        ``p[n, c]`` for class ``c`` (Bayes' rule with equal class priors, if a neuron's
        spikes were the only evidence). Unlike ``mean`` it neither dilutes a class that
        owns many neurons nor lets a class with few strongly driven neurons win, and a
        neuron that answers two classes counts for both.
    ``logistic``
        Multinomial logistic regression on the counts, trained on the labelled pass
        (BindsNET's ``logreg_fit``, scikit-learn's ``LogisticRegression()``): minimises
        ``sum_i CE(softmax(x_i W + b), y_i) + ||W||^2 / (2 C)`` with ``C =``
        :data:`LOGISTIC_C` by L-BFGS from zero, stopped as scikit-learn's defaults stop it
        (100 iterations, projected gradient 1e-4 of the mean loss); no tuning. A readout
        trained with labels; the network itself still learns without them.

    Parameters
    ----------
    kind : str
        One of :data:`READOUTS`.
    counts : int array, shape (n_samples, n_neurons)
    labels : int array, shape (n_samples,)
    n_classes : int, default 10
    """
    if kind not in READOUTS:
        raise ConfigError(f"unknown readout {kind!r}; choose one of {', '.join(READOUTS)}")
    labels = np.asarray(labels)
    counts = _check_counts(counts, labels.shape[0])
    assignments = assign_labels(counts, labels, n_classes)
    n_neurons = counts.shape[1]
    bias = np.zeros(n_classes)
    if kind == "mean":
        weights = _per_class_mean(assignments, n_classes, 1.0)
    elif kind == "proportion":
        p = class_proportions(counts, labels, n_classes)
        weights = _per_class_mean(assignments, n_classes, p[np.arange(n_neurons), assignments])
    elif kind == "profile":
        weights = class_proportions(counts, labels, n_classes)
    else:
        weights, bias = _fit_logistic(np.asarray(counts, np.float64), labels.astype(np.int64), n_classes)
    return Readout(kind, assignments, weights, bias)


def _per_class_mean(assignments: np.ndarray, n_classes: int, gain) -> np.ndarray:
    """Weights (n_neurons, n_classes) of a mean over each class's named neurons: neuron ``n``
    named ``c`` weighs ``gain[n] / N_c`` (``gain`` a scalar or one value per neuron) on class
    ``c``, 0 elsewhere; an unnamed neuron (-1) weighs nothing."""
    weights = np.zeros((assignments.shape[0], n_classes))
    members = np.flatnonzero(assignments >= 0)
    a = assignments[members]
    sizes = np.bincount(a, minlength=n_classes)
    weights[members, a] = np.broadcast_to(gain, assignments.shape)[members] / sizes[a]
    return weights


def fit_readouts(counts, labels, n_classes: int = 10, kinds=READOUTS) -> dict[str, Readout]:
    """Every readout in ``kinds`` fitted on the same labelled pass (see :func:`fit_readout`)."""
    return {kind: fit_readout(kind, counts, labels, n_classes) for kind in kinds}


def _fit_logistic(x: np.ndarray, y: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """L2-regularised multinomial logistic regression (see :func:`fit_readout`), deterministic.

    scikit-learn's ``LogisticRegression()`` (which BindsNET's ``logreg_fit`` uses): the mean
    cross-entropy plus ``||W||^2 / (2 C n)`` (the same minimiser as the sum form), L-BFGS from
    zero with its ``max_iter`` (100) and ``tol`` (1e-4 on the projected gradient).
    """
    from scipy.optimize import minimize

    n, d = x.shape
    present = np.flatnonzero(np.bincount(y, minlength=n_classes) > 0)  # a class never seen is never predicted
    k = present.size
    onehot = (y[:, None] == present[None, :]).astype(np.float64)
    lam = 1.0 / (LOGISTIC_C * n)

    def loss(theta):
        w = theta[:d * k].reshape(d, k)
        z = x @ w + theta[d * k:]
        top = z.max(axis=1, keepdims=True)
        e = np.exp(z - top)
        total = e.sum(axis=1, keepdims=True)
        lse = np.log(total) + top
        value = float(np.sum(lse[:, 0] - np.sum(onehot * z, axis=1)) / n + 0.5 * lam * np.sum(w * w))
        diff = (e / total - onehot) / n
        return value, np.concatenate([(x.T @ diff + lam * w).ravel(), diff.sum(axis=0)])

    res = minimize(loss, np.zeros(d * k + k), jac=True, method="L-BFGS-B",
                   options={"maxiter": _LOGISTIC_MAX_ITER, "gtol": _LOGISTIC_TOL, "maxls": 50,
                            "ftol": 64 * np.finfo(float).eps})
    w = np.zeros((d, n_classes))
    b = np.full(n_classes, -np.inf)
    w[:, present] = res.x[:d * k].reshape(d, k)
    b[present] = res.x[d * k:]
    return w, b
