"""Tests for spikedyn.continual.metrics (continual-learning metrics) and its plots in spikedyn.plotting."""

from __future__ import annotations

import json
import math

import matplotlib

matplotlib.use("Agg")  # the tests choose the backend; spikedyn.plotting never does

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from helpers import images  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from spikedyn.continual.metrics import (  # noqa: E402
    average_incremental_accuracy,
    backward_transfer,
    check_accuracy_matrix,
    final_average_accuracy,
    forgetting,
    mean_sd,
    new_task_accuracy,
    old_task_accuracy,
    summarize,
)
from spikedyn.errors import ConfigError  # noqa: E402
from spikedyn.plotting import (  # noqa: E402
    plot_accuracy_matrix,
    plot_receptive_fields_per_task,
    plot_task_accuracy,
)

NAN = np.nan

# Worked on paper:
#   new  = diag = [0.9, 0.8, 0.9]
#   old  = [-, 0.6, (0.5 + 0.7) / 2 = 0.6]
#   ACC  = (0.5 + 0.7 + 0.9) / 3 = 0.7
#   BWT  = ((0.5 - 0.9) + (0.7 - 0.8)) / 2 = -0.25
#   F    = ((max(0.9, 0.6) - 0.5) + (0.8 - 0.7)) / 2 = 0.25
#   AIA  = (0.9 + (0.6 + 0.8) / 2 + (0.5 + 0.7 + 0.9) / 3) / 3 = 2.3 / 3
R3 = np.array([[0.9, NAN, NAN],
               [0.6, 0.8, NAN],
               [0.5, 0.7, 0.9]])

# Task 0 improves after task 1 is learned, so forgetting (from the best earlier
# accuracy) exceeds -BWT (from the accuracy right after learning):
#   BWT = ((0.6 - 0.5) + (0.4 - 0.8)) / 2 = -0.15
#   F   = ((max(0.5, 0.9) - 0.6) + (0.8 - 0.4)) / 2 = 0.35
R_RISE = np.array([[0.5, NAN, NAN],
                   [0.9, 0.8, NAN],
                   [0.6, 0.4, 0.7]])


pytestmark = pytest.mark.usefixtures("close_figures")


# --- metrics ---------------------------------------------------------------------------


def test_hand_computed_3x3() -> None:
    np.testing.assert_allclose(new_task_accuracy(R3), [0.9, 0.8, 0.9])
    old = old_task_accuracy(R3)
    assert math.isnan(old[0])
    np.testing.assert_allclose(old[1:], [0.6, 0.6])
    assert final_average_accuracy(R3) == pytest.approx(0.7)
    assert backward_transfer(R3) == pytest.approx(-0.25)
    assert forgetting(R3) == pytest.approx(0.25)
    assert average_incremental_accuracy(R3) == pytest.approx(2.3 / 3)


def test_forgetting_measures_from_the_best_earlier_accuracy() -> None:
    assert backward_transfer(R_RISE) == pytest.approx(-0.15)
    assert forgetting(R_RISE) == pytest.approx(0.35)
    assert forgetting(R_RISE) > -backward_transfer(R_RISE)


def test_signs_when_an_old_task_improves() -> None:
    R = [[0.5, NAN], [0.7, 0.9]]
    assert backward_transfer(R) == pytest.approx(0.2)  # positive: later learning helped task 0
    assert forgetting(R) == pytest.approx(-0.2)  # negative forgetting
    assert old_task_accuracy(R)[1] == pytest.approx(0.7)


def test_one_task() -> None:
    R = [[0.8]]
    np.testing.assert_allclose(new_task_accuracy(R), [0.8])
    assert np.isnan(old_task_accuracy(R)).all() and old_task_accuracy(R).shape == (1,)
    assert final_average_accuracy(R) == pytest.approx(0.8)
    assert average_incremental_accuracy(R) == pytest.approx(0.8)
    assert backward_transfer(R) is None
    assert forgetting(R) is None
    summary = summarize(R)
    assert summary["bwt"] is None and summary["forgetting"] is None
    assert summary["old_task_accuracy"] == [None]
    assert summary["accuracy_matrix"] == [[0.8]]


def test_no_forgetting_when_every_column_is_constant() -> None:
    c = np.array([0.9, 0.7, 0.8, 0.6])
    R = np.where(np.tril(np.ones((4, 4), bool)), c[None, :], NAN)  # R[i, j] = c[j] for j <= i
    assert backward_transfer(R) == pytest.approx(0.0, abs=1e-12)
    assert forgetting(R) == pytest.approx(0.0, abs=1e-12)
    assert final_average_accuracy(R) == pytest.approx(c.mean())
    np.testing.assert_allclose(new_task_accuracy(R), c)
    np.testing.assert_allclose(old_task_accuracy(R)[1:], [0.9, 0.8, 0.8])


def test_entries_above_the_diagonal_are_ignored() -> None:
    filled = np.where(np.isnan(R3), 7.0, R3)  # out of range, but undefined there
    assert summarize(filled) == summarize(R3)
    assert np.isnan(check_accuracy_matrix(filled)[0, 1])


def test_summarize_is_json_safe_and_round_trips() -> None:
    summary = summarize(R3)
    assert set(summary) == {
        "accuracy_matrix", "new_task_accuracy", "old_task_accuracy", "final_average_accuracy",
        "bwt", "forgetting", "average_incremental_accuracy",
    }
    text = json.dumps(summary, allow_nan=False)
    assert json.loads(text) == summary
    assert summary["accuracy_matrix"] == [[0.9, None, None], [0.6, 0.8, None], [0.5, 0.7, 0.9]]
    assert summary["old_task_accuracy"][0] is None
    assert summary["bwt"] == pytest.approx(-0.25) and summary["forgetting"] == pytest.approx(0.25)
    for key in ("final_average_accuracy", "bwt", "forgetting", "average_incremental_accuracy"):
        assert type(summary[key]) is float
    assert all(type(x) is float for x in summary["new_task_accuracy"])
    # the JSON matrix (None above the diagonal) is accepted back
    assert summarize(json.loads(text)["accuracy_matrix"]) == summary


def test_mean_sd() -> None:
    mean, sd = mean_sd([0.2, None, 0.4])
    assert mean == pytest.approx(0.3) and sd == pytest.approx(math.sqrt(0.02))  # ddof=1
    assert mean_sd([0.5]) == (0.5, 0.0)
    assert mean_sd(s["bwt"] for s in (summarize(R3), summarize(R_RISE))) == (
        pytest.approx(-0.2), pytest.approx(math.sqrt(0.005)))
    with pytest.raises(ConfigError, match="no values"):
        mean_sd([None, None])
    with pytest.raises(ConfigError, match="non-finite"):
        mean_sd([0.1, float("nan")])


@pytest.mark.parametrize("bad, match", [
    (np.zeros((2, 3)), r"must be square \(T, T\) with T >= 1, got shape \(2, 3\)"),
    (np.zeros(3), r"must be square .* got shape \(3,\)"),
    (np.zeros((0, 0)), r"must be square .* got shape \(0, 0\)"),
    ([[0.5, NAN], [0.5, 1.5]], r"R\[1, 1\] = 1.5 is outside \[0, 1\]; pass fractions"),
    ([[90.0]], r"R\[0, 0\] = 90 is outside \[0, 1\]"),
    ([[0.5, NAN, NAN], [0.5, 0.5, NAN], [NAN, 0.5, 0.5]], r"non-finite entry R\[2, 0\] = nan"),
    ([[0.5, NAN], [None, 0.5]], r"non-finite entry R\[1, 0\]"),
    ([["a"]], "must be a numeric"),
])
def test_bad_matrices_are_rejected_with_one_line(bad, match) -> None:
    for metric in (new_task_accuracy, backward_transfer, forgetting, summarize):
        with pytest.raises(ConfigError, match=match) as info:
            metric(bad)
        assert "\n" not in str(info.value)


# --- plots -------------------------------------------------------------------------------


def test_plot_accuracy_matrix_content() -> None:
    fig, ax = plt.subplots()
    assert plot_accuracy_matrix(R3, ax, task_names=["a", "b", "c"]) is ax
    (im,) = images(ax)
    data = im.get_array()
    assert np.ma.getmaskarray(data).tolist() == [[False, True, True], [False, False, True], [False, False, False]]
    assert im.get_clim() == (0.0, 1.0)
    assert [t.get_text() for t in ax.texts] == ["0.90", "0.60", "0.80", "0.50", "0.70", "0.90"]
    assert ax.get_xlabel() == "evaluated on task" and ax.get_ylabel() == "after training task"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c"]
    assert ax.get_title() == "accuracy matrix, final average accuracy 0.7000, BWT -0.2500"
    assert len(fig.axes) == 2  # the axes and the colour bar


def test_plot_accuracy_matrix_defaults_and_validation() -> None:
    ax = plot_accuracy_matrix([[0.8]], title="t")
    assert ax.get_title() == "t" and len(ax.texts) == 1
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0"]
    assert "BWT" not in plot_accuracy_matrix([[0.8]]).get_title()
    with pytest.raises(ConfigError, match="task_names has 2 names for 3 tasks"):
        plot_accuracy_matrix(R3, task_names=["a", "b"])
    with pytest.raises(ConfigError, match="outside"):
        plot_accuracy_matrix([[1.5]])


def _curves(rng, n_seeds: int, n_tasks: int) -> dict[str, np.ndarray]:
    new = rng.uniform(0.6, 1.0, (n_seeds, n_tasks))
    old = rng.uniform(0.0, 0.5, (n_seeds, n_tasks))
    old[:, 0] = NAN
    return {"new": new, "old": old}


def test_plot_task_accuracy_content() -> None:
    rng = np.random.default_rng(0)
    curves = {"lateral": _curves(rng, 3, 4), "spikedyn": _curves(rng, 3, 4)}
    fig, ax = plt.subplots()
    assert plot_task_accuracy(curves, ax, title="t") is ax
    assert len(ax.lines) == 4
    solid = [ln for ln in ax.lines if ln.get_linestyle() == "-"]
    dashed = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert len(solid) == 2 and len(dashed) == 2
    for s, d, c in zip(solid, dashed, curves.values()):
        assert s.get_color() == d.get_color()
        np.testing.assert_array_equal(s.get_xdata(), [0, 1, 2, 3])
        np.testing.assert_allclose(s.get_ydata(), c["new"].mean(axis=0))
        np.testing.assert_array_equal(d.get_xdata(), [1, 2, 3])  # no previous task at task 0
        np.testing.assert_allclose(d.get_ydata(), c["old"][:, 1:].mean(axis=0))
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 4 and all(b.get_alpha() == 0.2 for b in bands)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "lateral newest", "lateral previous", "spikedyn newest", "spikedyn previous"]
    assert ax.get_ylim() == (0.0, 1.0)
    assert ax.get_xlabel() == "after task" and ax.get_ylabel() == "test accuracy"
    assert ax.get_title() == "t"


def test_plot_task_accuracy_one_seed_draws_no_band() -> None:
    rng = np.random.default_rng(1)
    ax = plot_task_accuracy({"m": _curves(rng, 1, 3)}, task_names=["0/1", "2/3", "4/5"])
    assert len(ax.lines) == 2 and len(ax.collections) == 0
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0/1", "2/3", "4/5"]


@pytest.mark.parametrize("curves, match", [
    ({}, "non-empty mapping"),
    ({"m": {"new": np.ones((2, 3))}}, r"curves\['m'\] must be a dict with keys \"new\" and \"old\""),
    ({"m": {"new": np.full((2, 3), 1.5), "old": np.zeros((2, 3))}}, r"curves\['m'\]\['new'\] must hold finite"),
    ({"m": {"new": np.ones((2, 3)), "old": np.full((2, 3), NAN)}}, r"\['old'\] must hold finite .* after the first"),
    ({"m": {"new": np.ones((2, 3)), "old": np.zeros((1, 3))}}, r"\"old\" of shape \(1, 3\)"),
    ({"a": {"new": np.ones((2, 3)), "old": np.zeros((2, 3))},
      "b": {"new": np.ones((2, 4)), "old": np.zeros((2, 4))}}, r"curves\['b'\]\['new'\] has 4 tasks"),
])
def test_plot_task_accuracy_validation(curves, match) -> None:
    with pytest.raises(ConfigError, match=match):
        plot_task_accuracy(curves)


def test_plot_receptive_fields_per_task_one_row() -> None:
    rng = np.random.default_rng(2)
    weights = [rng.random((784, 20)) for _ in range(3)]
    fig = Figure()
    assert plot_receptive_fields_per_task(weights, fig, task_names=["0", "1", "2"], max_neurons=9) is fig
    panels = [ax for ax in fig.axes if images(ax)]
    assert len(panels) == 3 and len(fig.axes) == 4  # three panels and one colour bar
    assert [ax.get_title() for ax in panels] == ["after task 0", "after task 1", "after task 2"]
    assert all(ax.get_subplotspec().get_geometry()[:2] == (1, 3) for ax in panels)
    (im,) = images(panels[1])
    assert im.get_array().shape == (3 * 28 + 2, 3 * 28 + 2)  # the first 9 of 20 neurons, a pixel between tiles
    np.testing.assert_array_equal(im.get_array()[:28, :28], weights[1][:, 0].reshape(28, 28))
    assert np.ma.getmaskarray(im.get_array())[28].all()  # the gap, masked (drawn as the background)
    top = max(w[:, :9].max() for w in weights)
    assert all(images(ax)[0].get_clim() == (0.0, pytest.approx(top)) for ax in panels)  # one scale


def test_plot_receptive_fields_per_task_grid_of_five_columns() -> None:
    weights = [np.full((784, 4), 0.1 * (t + 1)) for t in range(7)]
    fig = plot_receptive_fields_per_task(weights)
    panels = [ax for ax in fig.axes if images(ax)]
    assert len(panels) == 7 and len(fig.axes) == 8  # unused grid cells are removed
    assert all(ax.get_subplotspec().get_geometry()[:2] == (2, 5) for ax in panels)
    assert panels[-1].get_title() == "after task 6"
    assert fig in map(plt.figure, plt.get_fignums())


@pytest.mark.parametrize("weights, kwargs, match", [
    ([], {}, "weights_per_task is empty"),
    ([np.ones((784, 2)), np.ones((100, 2))], {}, r"weights_per_task\[1\] must have shape \(784, n_neurons\)"),
    (np.ones((784, 2)), {}, "got a single array"),
    ([np.ones((784, 2))], {"max_neurons": 0}, "max_neurons must be a positive integer"),
    ([np.ones((784, 2))], {"task_names": ["a", "b"]}, "task_names has 2 names for 1 tasks"),
])
def test_plot_receptive_fields_per_task_validation(weights, kwargs, match) -> None:
    with pytest.raises(ConfigError, match=match):
        plot_receptive_fields_per_task(weights, **kwargs)
