"""Tests for spikedyn.plotting: figures drawn into given axes, returned, and saved as PNG."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # the tests choose the backend; spikedyn.plotting never does

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from helpers import PNG_SIGNATURE, images  # noqa: E402

from spikedyn.errors import ConfigError  # noqa: E402
from spikedyn.plotting import (  # noqa: E402
    plot_confusion,
    plot_raster,
    plot_scaling,
    plot_voltages,
    plot_weights,
    save_figure,
    weight_grid,
)
from spikedyn.plotting.network import describe_neurons, untrained_neurons  # noqa: E402

pytestmark = pytest.mark.usefixtures("close_figures")


def test_import_and_plotting_select_no_backend() -> None:
    """Importing spikedyn.plotting and drawing into a figure leave the backend alone."""
    code = (
        "import matplotlib; matplotlib.use('svg'); "
        "from matplotlib.figure import Figure; import numpy as np; "
        "import spikedyn.plotting as p; ax = Figure().subplots(); "
        "p.plot_weights(np.ones((784, 2)), ax); p.plot_confusion(np.eye(3, dtype=int), Figure().subplots()); "
        "print(matplotlib.get_backend())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "svg"


def test_weight_grid_places_each_neuron() -> None:
    weights = np.arange(4 * 5, dtype=float).reshape(4, 5)  # 2x2 fields, 5 neurons -> 3 columns, 2 rows
    grid = weight_grid(weights, (2, 2))
    assert grid.shape == (4, 6)
    np.testing.assert_array_equal(grid[2:4, 2:4], weights[:, 4].reshape(2, 2))  # neuron 4: row 1, col 1
    assert np.isnan(grid[2:4, 4:]).all()  # tile 5 unused


def test_weight_grid_leaves_gaps_between_tiles() -> None:
    weights = np.arange(4 * 5, dtype=float).reshape(4, 5)
    grid = weight_grid(weights, (2, 2), gap=1)
    assert grid.shape == (2 * 2 + 1, 3 * 2 + 2)
    np.testing.assert_array_equal(grid[3:5, 3:5], weights[:, 4].reshape(2, 2))  # neuron 4: row 1, col 1
    assert np.isnan(grid[2, :]).all() and np.isnan(grid[:, 2]).all()  # the gaps


def test_plot_weights_draws_into_the_given_axes() -> None:
    fig, (ax, other) = plt.subplots(1, 2)
    rng = np.random.default_rng(0)
    weights = rng.random((784, 10))
    assert plot_weights(weights, ax, title="w") is ax
    (im,) = images(ax)
    assert im.get_array().shape == (3 * 30 - 2, 4 * 30 - 2)  # 28-pixel tiles, 2-pixel gaps, rows as needed
    assert im.get_clim() == (0.0, pytest.approx(weights.max()))
    assert ax.get_title() == "w: all 10 neurons"
    assert images(other) == []
    assert len(fig.axes) == 3  # the two axes and the colour bar


def test_plot_weights_without_axes_makes_a_figure_with_the_default_title() -> None:
    ax = plot_weights(np.ones((9, 3)), shape=(3, 3))
    assert ax.figure in map(plt.figure, plt.get_fignums())
    assert ax.get_title() == "input->excitatory weights: all 3 neurons"
    assert images(ax)[0].get_array().shape == (2 * 5 - 2, 2 * 5 - 2)


def test_plot_weights_names_the_neurons_it_shows_their_classes_and_the_untrained() -> None:
    rng = np.random.default_rng(1)
    initial = rng.random((784, 6))
    weights = initial.copy()
    weights[:, :3] = rng.random((784, 3))  # neurons 0-2 learned something else; 3-5 only rescaled
    weights[:, 4] *= 0.5
    untrained = untrained_neurons(weights, initial)
    assert untrained.tolist() == [False, False, False, True, True, True]
    assignments = np.array([7, 1, -1, 3, 3, 0])
    fig, ax = plt.subplots()
    plot_weights(weights, ax, neurons=[1, 2, 4], assignments=assignments, untrained=untrained)
    assert ax.get_title() == "input->excitatory weights: 3 of 6 neurons (1-2, 4)"
    assert [t.get_text() for t in ax.texts] == ["1", "-", "3"]  # each tile's class, "-" for none
    assert len(ax.patches) == 1  # neuron 4, untrained, hatched
    assert "untrained" in ax.get_xlabel()
    with pytest.raises(ConfigError, match="neurons must be indices in 0-5"):
        plot_weights(weights, neurons=[6])
    with pytest.raises(ConfigError, match="one entry per neuron"):
        plot_weights(weights, assignments=np.zeros(5, int))


def test_describe_neurons() -> None:
    assert describe_neurons(range(400), 400) == "all 400 neurons"
    assert describe_neurons(range(100), 400) == "neurons 0-99 of 400"
    assert describe_neurons([3, 5, 6, 7], 400) == "4 of 400 neurons (3, 5-7)"


def test_plot_confusion_content() -> None:
    confusion = np.array([[8, 2, 0], [0, 5, 5], [0, 0, 0]])
    fig, ax = plt.subplots()
    assert plot_confusion(confusion, ax) is ax
    (im,) = images(ax)
    np.testing.assert_allclose(im.get_array(), [[0.8, 0.2, 0], [0, 0.5, 0.5], [0, 0, 0]])
    assert [t.get_text() for t in ax.texts][:3] == ["0.80", "0.20", "0.00"] and len(ax.texts) == 9
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert "accuracy 0.6500 (n=20)" in ax.get_title()
    ax2 = plot_confusion(confusion, plt.subplots()[1], annotate=False, title="t")
    assert len(ax2.texts) == 0 and ax2.get_title() == "t"


@pytest.mark.parametrize("bad", [np.zeros((2, 3)), np.zeros(4), np.zeros((0, 0)), -np.eye(2)])
def test_plot_confusion_rejects_bad_matrices(bad) -> None:
    with pytest.raises(ConfigError, match="confusion matrix"):
        plot_confusion(bad)


def test_plot_raster_content() -> None:
    fig, ax = plt.subplots()
    steps = np.array([0, 4, 10, 10])
    neurons = np.array([2, 0, 1, 5])
    assert plot_raster(steps, neurons, ax, dt_ms=0.5, n_neurons=8) is ax
    (line,) = ax.lines
    np.testing.assert_array_equal(line.get_xdata(), [0.0, 2.0, 5.0, 5.0])
    np.testing.assert_array_equal(line.get_ydata(), neurons)
    assert line.get_linestyle() == "None"
    assert ax.get_xlabel() == "time (ms)" and ax.get_ylabel() == "neuron"
    assert ax.get_ylim() == (-0.5, 7.5)
    assert ax.get_title() == "4 spikes"


def test_plot_raster_of_no_spikes() -> None:
    ax = plot_raster(np.array([], np.int64), np.array([], np.int64), dt_ms=1.0)
    assert len(ax.lines) == 1 and ax.lines[0].get_xdata().size == 0


@pytest.mark.parametrize("steps, neurons, dt_ms, match", [
    ([0, 1], [0], 0.5, "one entry per spike"),
    ([0.5], [0], 0.5, "steps must be a 1-D integer array"),
    ([[0]], [[0]], 0.5, "steps must be a 1-D integer array"),
    ([0], [-1], 0.5, "neurons must be non-negative"),
    ([0], [0], 0.0, "dt_ms must be a positive number"),
    ([0], [0], float("nan"), "dt_ms must be a positive number"),
])
def test_plot_raster_validation(steps, neurons, dt_ms, match) -> None:
    with pytest.raises(ConfigError, match=match):
        plot_raster(np.array(steps), np.array(neurons), dt_ms=dt_ms)


def test_plot_voltages_with_thresholds() -> None:
    fig, ax = plt.subplots()
    v = np.column_stack([np.linspace(-65, -50, 20), np.full(20, -60.0)])
    theta = np.full((20, 2), -52.0)
    assert plot_voltages(v, ax, dt_ms=0.5, threshold_mv=theta, neurons=[7, 3]) is ax
    assert len(ax.lines) == 4
    solid = [ln for ln in ax.lines if ln.get_linestyle() == "-"]
    dashed = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert len(solid) == 2 and len(dashed) == 2
    np.testing.assert_array_equal(solid[0].get_xdata(), np.arange(20) * 0.5)
    np.testing.assert_array_equal(solid[1].get_ydata(), v[:, 1])
    assert solid[0].get_color() == dashed[0].get_color()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["neuron 7", "neuron 3"]
    assert ax.get_xlabel() == "time (ms)" and ax.get_ylabel() == "membrane potential (mV)"


def test_plot_voltages_constant_threshold_and_one_neuron() -> None:
    ax = plot_voltages(np.full(5, -65.0), dt_ms=1.0, threshold_mv=-52.0)
    assert len(ax.lines) == 2
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), np.full(5, -52.0))


@pytest.mark.parametrize("kwargs, match", [
    ({"v_mv": np.zeros((5, 2)), "threshold_mv": np.zeros(3)}, "threshold_mv must have shape"),
    ({"v_mv": np.zeros((5, 2)), "threshold_mv": np.zeros((4, 2))}, "threshold_mv must have shape"),
    ({"v_mv": np.zeros((5, 2)), "neurons": [1]}, "one index per column"),
    ({"v_mv": np.zeros((0, 2))}, "v_mv must have shape"),
    ({"v_mv": np.full((3, 1), np.nan)}, "NaN"),
])
def test_plot_voltages_validation(kwargs, match) -> None:
    with pytest.raises(ConfigError, match=match):
        plot_voltages(dt_ms=0.5, **kwargs)


RESULTS = [
    {"backend": "numba", "model": "diehl-cook", "mode": "train", "neurons": 100, "samples_per_second": 2000.0},
    {"backend": "numba", "model": "diehl-cook", "mode": "train", "neurons": 400, "samples_per_second": 1000.0},
    {"backend": "numba", "model": "diehl-cook", "mode": "infer", "neurons": 100, "samples_per_second": 8000.0,
     "threads": 2},
    {"backend": "brian2-numpy", "model": "diehl-cook", "mode": "train", "neurons": 100, "samples_per_second": 0},
]


def test_plot_scaling_content() -> None:
    fig, ax = plt.subplots()
    assert plot_scaling(RESULTS, ax) is ax
    assert len(ax.lines) == 2  # the failed brian2 result is skipped
    train = next(ln for ln in ax.lines if ln.get_linestyle() == "-")
    np.testing.assert_array_equal(train.get_xdata(), [100, 400])
    np.testing.assert_allclose(train.get_ydata(), [0.5, 1.0])  # ms per sample
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    with pytest.raises(ConfigError, match="positive speed"):
        plot_scaling(RESULTS[3:])


def test_save_figure_writes_a_png_with_normal_permissions_and_closes(tmp_path: Path) -> None:
    ax = plot_confusion(np.eye(3, dtype=int))
    number = ax.figure.number
    old = os.umask(0o022)
    try:
        path = save_figure(ax.figure, tmp_path / "sub" / "c.png")
    finally:
        os.umask(old)
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert number not in plt.get_fignums()
    assert [p.name for p in path.parent.iterdir()] == ["c.png"]


def test_save_figure_of_a_figure_made_without_pyplot(tmp_path: Path) -> None:
    from matplotlib.figure import Figure

    ax = plot_raster(np.array([1, 2]), np.array([0, 1]), Figure().subplots(), dt_ms=0.5)
    assert save_figure(ax.figure, tmp_path / "r.png").read_bytes()[:8] == PNG_SIGNATURE


@pytest.mark.parametrize("name", ["c.jpg", "c", "c.png.txt"])
def test_save_figure_needs_png_and_writes_nothing_otherwise(tmp_path: Path, name: str) -> None:
    ax = plot_confusion(np.eye(2, dtype=int))
    with pytest.raises(ConfigError, match=r"must end in \.png"):
        save_figure(ax.figure, tmp_path / name)
    assert list(tmp_path.iterdir()) == []
    assert ax.figure.number not in plt.get_fignums()  # closed even on error


def test_save_figure_into_a_directory_path_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "d.png").mkdir()
    with pytest.raises(ConfigError, match="is a directory"):
        save_figure(plot_confusion(np.eye(2, dtype=int)).figure, tmp_path / "d.png")
    assert [p.name for p in tmp_path.iterdir()] == ["d.png"]
    assert list((tmp_path / "d.png").iterdir()) == []


# -- figures for a talk (issue 24) --------------------------------------------------------------------
def test_task_accuracy_draws_the_iid_reference_and_chance() -> None:
    from spikedyn.plotting import plot_task_accuracy

    new = np.array([[1.0, 0.8, 0.7], [0.9, 0.7, 0.6]])
    old = np.array([[np.nan, 0.9, 0.8], [np.nan, 0.8, 0.7]])
    fig, ax = plt.subplots()
    plot_task_accuracy({"m": {"new": new, "old": old}}, ax, reference={"m": [0.6, 0.7]}, chance=[1, 1 / 2, 1 / 3],
                       title="m: ACC 0.700, BWT -0.100")
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert lines["m i.i.d. reference (0.650)"].get_ydata()[0] == pytest.approx(0.65)
    np.testing.assert_allclose(lines["chance (newest task)"].get_ydata(), [1, 1 / 2, 1 / 3])
    assert "ACC" in ax.get_title() and "BWT" in ax.get_title()


def _candidates():
    def cand(cid, model, bits, acc, sd, mem, pruned=False):
        return {"id": cid, "model": model, "weight_bits": bits, "pruned": pruned, "accuracy": None if pruned else acc,
                "accuracy_sd": None if pruned else sd, "memory_kb": None if pruned else mem,
                "estimate": {"memory_kb": mem}}
    return [cand("a-1", "a", 32, 0.6, 0.02, 100), cand("a-2", "a", 8, 0.7, 0.01, 300),
            cand("b-1", "b", 32, 0.5, 0.03, 400), cand("b-2", "b", 32, None, None, 5000, pruned=True)]


def test_search_front_colours_by_family_labels_the_front_and_keeps_pruned_off_the_accuracy_axis() -> None:
    from matplotlib.colors import to_hex

    from spikedyn.plotting import plot_pareto

    fig, ax = plt.subplots()
    plot_pareto(_candidates(), "memory_kb", ax, budget=1000, selected="a-2")
    labels = [t.get_text() for t in ax.texts]
    assert "a-1" in labels and "a-2" in labels  # the front, labelled
    assert "b-1" not in labels and any("not on the front:\nb-1 0.500" in t for t in labels)  # the rest, listed
    assert ax.get_xlabel() == "memory footprint (KB), log scale"
    assert ax.get_ylabel() == "validation accuracy (mean ± sd over seeds)"
    pruned = [line for line in ax.get_lines() if line.get_label().startswith("pruned")]
    assert len(pruned) == 1 and pruned[0].get_transform() != ax.transData  # x: estimated cost, y: the axes' edge
    legend = {text.get_text() for text in ax.get_legend().get_texts()}
    assert {"a, 32-bit weights", "a, 8-bit weights", "b, 32-bit weights", "selected", "budget 1,000"} <= legend
    colours = {line.get_label(): to_hex(line.get_color()) for line in ax.get_lines() if "weights" in line.get_label()}
    assert colours["a, 32-bit weights"] == colours["a, 8-bit weights"] != colours["b, 32-bit weights"]
    fig.canvas.draw()
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert ticks and all("^" not in t and "$" not in t for t in ticks)  # plain numbers, no 10^x
    assert len(ax.containers) == 3  # an error bar (sd over seeds) per evaluated candidate


def test_energy_is_drawn_as_ratios_on_a_linear_axis() -> None:
    from spikedyn.plotting.costs import plot_energy_ratio

    energy = {("asp", 200): {"values": [100.0, 102.0], "estimate": 90.0},
              ("spikedyn", 200): {"values": [40.0, 41.0], "estimate": 45.0}}
    fig, ax = plt.subplots()
    plot_energy_ratio(energy, ax, baseline="asp", paper={200: 0.49}, paper_model="spikedyn")
    assert ax.get_yscale() == "linear" and ax.get_ylim()[0] == 0
    heights = sorted(p.get_height() for p in ax.patches)
    assert heights == pytest.approx([40.5 / 101.0, 1.0])
    assert "40" in [t.get_text() for t in ax.texts] and "101" in [t.get_text() for t in ax.texts]
    with pytest.raises(ConfigError, match="baseline 'lif'"):
        plot_energy_ratio(energy, baseline="lif")


def test_accuracy_by_size() -> None:
    from spikedyn.plotting.network import plot_accuracy_by_size

    fig, ax = plt.subplots()
    plot_accuracy_by_size({"lateral": {100: [0.8, 0.82], 400: [0.9]}}, ax)
    (bars,) = ax.containers
    np.testing.assert_allclose(np.asarray(bars.lines[0].get_ydata(), float), [0.81, 0.9])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["100", "400"]
