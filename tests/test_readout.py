"""Tests for spikedyn.core.readout on hand-made spike counts, against naive loops and against
a transcription of the authors' readout (peter-u-diehl/stdp-mnist)."""

from __future__ import annotations

import numpy as np
import pytest
from naive import assign_labels_naive

from spikedyn.errors import ConfigError
from spikedyn.core.readout import (
    LOGISTIC_C,
    PAPER_READOUT,
    READOUTS,
    UNASSIGNED,
    accuracy,
    assign_labels,
    class_proportions,
    class_responses,
    class_scores,
    confusion_matrix,
    fit_readout,
    fit_readouts,
    predict,
)

# 6 samples of 3 classes (n_classes=3), 5 neurons.
LABELS = np.array([0, 0, 1, 1, 2, 2])
COUNTS = np.array([
    # n0 n1 n2 n3 n4
    [4, 0, 1, 0, 2],
    [2, 0, 1, 0, 2],
    [0, 5, 1, 0, 1],
    [1, 3, 1, 0, 3],
    [0, 1, 4, 0, 2],
    [0, 0, 2, 0, 0],
])


def test_class_responses_by_hand() -> None:
    r = class_responses(COUNTS, LABELS, n_classes=3)
    assert r.dtype == np.float64 and r.shape == (3, 5)
    np.testing.assert_array_equal(r, [
        [3.0, 0.0, 1.0, 0.0, 2.0],
        [0.5, 4.0, 1.0, 0.0, 2.0],
        [0.0, 0.5, 3.0, 0.0, 1.0],
    ])


def test_class_without_samples_has_zero_response() -> None:
    r = class_responses(COUNTS, LABELS, n_classes=5)
    assert r.shape == (5, 5)
    assert np.all(r[3:] == 0.0)


def test_assign_labels_by_hand() -> None:
    a = assign_labels(COUNTS, LABELS, n_classes=3)
    assert a.dtype == np.int64
    # n0 -> class 0; n1 -> 1; n2 -> 2; n3 never fired -> -1;
    # n4: tie between class 0 and class 1 (mean 2.0 each) -> lowest class, 0.
    np.testing.assert_array_equal(a, [0, 1, 2, UNASSIGNED, 0])
    assert UNASSIGNED == -1


def test_assign_labels_all_ties_go_to_lowest_class() -> None:
    counts = np.array([[1, 7], [1, 7], [1, 7]])
    np.testing.assert_array_equal(assign_labels(counts, [2, 1, 0], n_classes=3), [0, 0])


def test_class_scores_and_predict_by_hand() -> None:
    assignments = np.array([0, 1, 2, UNASSIGNED, 0])
    test_counts = np.array([
        [6, 1, 0, 9, 0],  # class 0 neurons: mean(6, 0) = 3; class 1: 1; class 2: 0 -> 0
        [0, 2, 2, 0, 0],  # tie 2 vs 2 between classes 1 and 2 -> 2 (highest, as the authors)
        [0, 0, 0, 50, 0],  # only the unassigned neuron fires: all scores 0 -> class 3 (highest)
        [1, 0, 3, 0, 1],  # 1, 0, 3 -> 2
    ])
    scores = class_scores(test_counts, assignments, n_classes=4)
    np.testing.assert_array_equal(scores, [
        [3.0, 1.0, 0.0, 0.0],
        [0.0, 2.0, 2.0, 0.0],
        [0.0, 0.0, 0.0, 0.0],
        [1.0, 0.0, 3.0, 0.0],
    ])  # class 3 has no neuron: scores 0
    np.testing.assert_array_equal(predict(test_counts, assignments, n_classes=4), [0, 2, 3, 2])
    assert predict(test_counts, assignments, n_classes=4).dtype == np.int64


def test_a_class_without_neurons_is_never_predicted_over_a_firing_class() -> None:
    assignments = np.array([1, 1])
    counts = np.array([[0, 1], [3, 3]])
    np.testing.assert_array_equal(predict(counts, assignments, n_classes=3), [1, 1])


def test_confusion_and_accuracy_by_hand() -> None:
    labels = np.array([0, 0, 1, 2, 2, 2])
    predictions = np.array([0, 1, 1, 2, 0, 2])
    cm = confusion_matrix(labels, predictions, n_classes=3)
    assert cm.dtype == np.int64
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    assert cm.sum() == labels.size
    assert accuracy(labels, predictions) == 4 / 6
    assert accuracy(labels, labels) == 1.0
    assert np.trace(cm) / cm.sum() == accuracy(labels, predictions)


def authors_assignments(result_monitor, input_numbers, n_e):
    """``get_new_assignments`` of Diehl&Cook_MNIST_evaluation.py (lines 68-81), in Python 3."""
    assignments = np.ones(n_e) * -1  # initialize them as not assigned
    input_nums = np.asarray(input_numbers)
    maximum_rate = [0] * n_e
    rate = None
    for j in range(10):
        num_inputs = len(np.where(input_nums == j)[0])
        if num_inputs > 0:
            rate = np.sum(result_monitor[input_nums == j], axis=0) / num_inputs
        if rate is None:  # the original raises NameError when class 0 has no sample
            continue
        for i in range(n_e):
            if rate[i] > maximum_rate[i]:
                maximum_rate[i] = rate[i]
                assignments[i] = j
    return assignments


def authors_prediction(assignments, spike_rates):
    """``get_recognized_number_ranking(...)[0]`` of Diehl&Cook_MNIST_evaluation.py (lines 59-66, 126).

    ``kind="stable"`` makes explicit what the default sort did for these 10-element
    arrays in the authors' NumPy (insertion sort: tied classes stay in index order).
    """
    summed_rates = [0] * 10
    num_assignments = [0] * 10
    for i in range(10):
        num_assignments[i] = len(np.where(assignments == i)[0])
        if num_assignments[i] > 0:
            summed_rates[i] = np.sum(spike_rates[assignments == i]) / num_assignments[i]
    return np.argsort(summed_rates, kind="stable")[::-1][0]


def test_ties_follow_the_authors_code() -> None:
    """Assignment ties keep the lowest class, prediction ties take the highest, as the authors."""
    # Neuron 0 responds equally to classes 3 and 7; neuron 1 only to class 5.
    counts = np.array([[2, 0], [2, 0], [0, 4]])
    labels = np.array([3, 7, 5])
    assignments = assign_labels(counts, labels)
    np.testing.assert_array_equal(assignments, [3, 5])
    np.testing.assert_array_equal(assignments, authors_assignments(counts, labels, 2))
    test_counts = np.array([[1, 1], [0, 0], [3, 1]])  # tie 3 vs 5; silence; class 3 wins
    expected = [authors_prediction(assignments, row) for row in test_counts]
    assert expected == [5, 9, 3]
    np.testing.assert_array_equal(predict(test_counts, assignments), expected)


@pytest.mark.parametrize("seed", range(5))
def test_readout_matches_naive_loops_and_the_authors_code(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_samples, n_neurons = 60, 25
    labels = rng.integers(0, 10, n_samples)
    # Sparse small counts make ties and silent neurons common.
    counts = rng.poisson(0.4, (n_samples, n_neurons)) * (rng.random((n_samples, n_neurons)) < 0.5)
    counts[:, :3] = 0  # silent neurons
    assignments = assign_labels(counts, labels)
    np.testing.assert_array_equal(assignments, assign_labels_naive(counts, labels))
    assert np.sum(assignments == UNASSIGNED) >= 3
    test_counts = rng.poisson(0.5, (40, n_neurons))
    predictions = predict(test_counts, assignments)
    np.testing.assert_array_equal(assignments, authors_assignments(counts, labels, n_neurons))
    np.testing.assert_array_equal(predictions, [authors_prediction(assignments, row) for row in test_counts])
    test_labels = rng.integers(0, 10, 40)
    cm = confusion_matrix(test_labels, predictions)
    naive_cm = np.zeros((10, 10), np.int64)
    for y, p in zip(test_labels, predictions):
        naive_cm[y, p] += 1
    np.testing.assert_array_equal(cm, naive_cm)
    assert accuracy(test_labels, predictions) == sum(int(a == b) for a, b in zip(test_labels, predictions)) / 40


def test_perfectly_selective_neurons_classify_perfectly() -> None:
    labels = np.repeat(np.arange(10), 3)
    counts = np.zeros((30, 20), np.int64)
    for k, y in enumerate(labels):
        counts[k, 2 * y] = 5  # neurons 2y and 2y+1 respond to class y
        counts[k, 2 * y + 1] = 3
    assignments = assign_labels(counts, labels)
    np.testing.assert_array_equal(assignments, np.repeat(np.arange(10), 2))
    predictions = predict(counts, assignments)
    assert accuracy(labels, predictions) == 1.0
    np.testing.assert_array_equal(confusion_matrix(labels, predictions), 3 * np.eye(10, dtype=np.int64))


def test_readout_validation() -> None:
    with pytest.raises(ConfigError, match="2-D"):
        class_responses(np.zeros(5), np.zeros(5, int))
    with pytest.raises(ConfigError, match="rows"):
        class_responses(np.zeros((4, 2)), np.zeros(5, int))
    with pytest.raises(ConfigError, match="labels must lie"):
        class_responses(np.zeros((2, 2)), np.array([0, 10]))
    with pytest.raises(ConfigError, match="labels must lie"):
        class_responses(np.zeros((2, 2)), np.array([0, -1]))
    with pytest.raises(ConfigError, match="assignments"):
        class_scores(np.zeros((2, 3)), np.zeros(2, int))
    with pytest.raises(ConfigError, match="shape"):
        confusion_matrix([0, 1], [0])
    with pytest.raises(ConfigError, match=r"non-empty label and prediction arrays, got \(0,\), \(0,\)"):
        accuracy([], [])
    with pytest.raises(ConfigError, match=r"need equal, non-empty .* got \(2,\), \(1,\)"):
        accuracy([0, 1], [0])


# -- readouts other than the paper's ------------------------------------------------------
def _naive_proportions(counts, labels, n_classes):
    """p[n, c] by loops: mean count of neuron n on class c over its summed mean counts."""
    counts = np.asarray(counts, float)
    p = np.zeros((counts.shape[1], n_classes))
    for n in range(counts.shape[1]):
        means = [counts[labels == c, n].mean() if np.any(labels == c) else 0.0 for c in range(n_classes)]
        total = sum(means)
        for c in range(n_classes):
            p[n, c] = means[c] / total if total > 0 else 0.0
    return p


def _naive_scores(kind, counts, labels, test_counts, n_classes):
    """Each readout's class scores by loops over samples, neurons and classes (fit_readout's docstring)."""
    p = _naive_proportions(counts, labels, n_classes)
    a = assign_labels_naive(counts, labels)
    size = [int(np.sum(a == c)) for c in range(n_classes)]
    scores = np.zeros((len(test_counts), n_classes))
    for i, x in enumerate(test_counts):
        for c in range(n_classes):
            for n in range(len(x)):
                if kind == "profile":
                    scores[i, c] += p[n, c] * x[n]
                elif a[n] == c:
                    scores[i, c] += (p[n, c] if kind == "proportion" else 1.0) * x[n] / size[c]
    return scores


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("kind", ["mean", "proportion", "profile"])
def test_counting_readouts_match_naive_loops(kind: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, 80)
    counts = rng.poisson(0.6, (80, 30))
    counts[:, :2] = 0
    test_counts = rng.poisson(0.6, (50, 30))
    readout = fit_readout(kind, counts, labels)
    naive = _naive_scores(kind, counts, labels, test_counts, 10)
    np.testing.assert_allclose(readout.scores(test_counts), naive, rtol=1e-12, atol=1e-12)
    # the prediction: the highest score, ties to the highest class (the paper's convention)
    expected = [max(c for c in range(10) if row[c] == row.max()) for row in readout.scores(test_counts)]
    np.testing.assert_array_equal(readout.predict(test_counts), expected)
    np.testing.assert_array_equal(readout.assignments, assign_labels(counts, labels))


def test_mean_readout_is_the_papers_readout() -> None:
    rng = np.random.default_rng(7)
    labels = rng.integers(0, 10, 60)
    counts = rng.poisson(0.4, (60, 25)) * (rng.random((60, 25)) < 0.5)
    test_counts = rng.poisson(0.5, (40, 25))
    readout = fit_readout("mean", counts, labels)
    np.testing.assert_array_equal(readout.predict(test_counts), predict(test_counts, assign_labels(counts, labels)))
    np.testing.assert_allclose(np.asarray(test_counts, float) @ readout.weights,
                               class_scores(test_counts, readout.assignments), rtol=1e-12)


def test_proportions_by_hand() -> None:
    p = class_proportions(COUNTS, LABELS, 3)
    # neuron 0: class means 3, 0.5, 0 -> 6/7, 1/7, 0; neuron 3 never fired -> zeros
    np.testing.assert_allclose(p[0], [3 / 3.5, 0.5 / 3.5, 0.0])
    np.testing.assert_array_equal(p[3], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(p.sum(axis=1), [1, 1, 1, 0, 1])
    np.testing.assert_allclose(p, _naive_proportions(COUNTS, LABELS, 3))


def test_profile_readout_counts_a_neuron_for_every_class_it_answers() -> None:
    # Class 0 owns 3 weakly firing neurons, class 1 one strong neuron that also answers class 0.
    labels = np.array([0, 0, 1, 1])
    counts = np.array([[2, 2, 2, 3], [2, 2, 2, 3], [0, 0, 0, 9], [0, 0, 0, 9]])
    sample = np.array([[2, 2, 2, 3]])  # a typical class-0 answer
    # the paper's readout compares class means: class 1's lone neuron (3) beats class 0's (2)
    assert fit_readout("mean", counts, labels).predict(sample)[0] == 1
    # the profile counts neuron 3's spikes as 1/4 evidence for class 0: 6 + 0.75 against 2.25
    profile = fit_readout("profile", counts, labels)
    np.testing.assert_allclose(profile.scores(sample), [[6.75, 2.25] + [0.0] * 8])
    assert profile.predict(sample)[0] == 0


def test_logistic_readout_learns_a_separable_pass_and_never_predicts_an_unseen_class() -> None:
    rng = np.random.default_rng(3)
    labels = np.repeat([1, 4, 6], 40)  # classes 0, 2, 3, 5, 7, 8, 9 never seen
    centres = rng.poisson(3.0, (10, 20))
    counts = rng.poisson(centres[labels])
    readout = fit_readout("logistic", counts, labels)
    assert accuracy(labels, readout.predict(counts)) == 1.0
    assert set(readout.predict(rng.poisson(2.0, (200, 20)))) <= {1, 4, 6}
    again = fit_readout("logistic", counts, labels)  # deterministic
    np.testing.assert_array_equal(again.weights, readout.weights)
    # at the optimum the gradient of the regularised cross-entropy vanishes
    z = counts @ readout.weights[:, [1, 4, 6]] + readout.bias[[1, 4, 6]]
    prob = np.exp(z - z.max(axis=1, keepdims=True))
    prob /= prob.sum(axis=1, keepdims=True)
    onehot = (labels[:, None] == np.array([1, 4, 6])).astype(float)
    grad = counts.T @ (prob - onehot) + readout.weights[:, [1, 4, 6]] / LOGISTIC_C
    assert np.abs(grad).max() < 1e-3 * np.abs(counts.T @ onehot).max()


def test_fit_readouts_fits_every_readout_and_refuses_an_unknown_one() -> None:
    readouts = fit_readouts(COUNTS, LABELS, 3)
    assert list(readouts) == list(READOUTS) and READOUTS[0] == PAPER_READOUT == "mean"
    for r in readouts.values():
        assert r.weights.shape == (5, 3) and r.predict(COUNTS).shape == (6,)
    with pytest.raises(ConfigError, match="unknown readout 'votes'; choose one of mean, proportion, profile, logistic"):
        fit_readout("votes", COUNTS, LABELS, 3)
    with pytest.raises(ConfigError, match="spike counts of 4 neurons for a readout of 5"):
        readouts["profile"].predict(np.zeros((2, 4)))
