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
    weights = np.arange(4 * 5, dtype=float).reshape(4, 5)  # 2x2 fields, 5 neurons -> 3x3 tiles
    grid = weight_grid(weights, (2, 2))
    assert grid.shape == (6, 6)
    np.testing.assert_array_equal(grid[2:4, 2:4], weights[:, 4].reshape(2, 2))  # neuron 4: row 1, col 1
    assert np.isnan(grid[4:, :]).all() and np.isnan(grid[2:4, 4:]).all()  # tiles 5..8 unused


def test_plot_weights_draws_into_the_given_axes() -> None:
    fig, (ax, other) = plt.subplots(1, 2)
    rng = np.random.default_rng(0)
    weights = rng.random((784, 10))
    assert plot_weights(weights, ax, title="w") is ax
    (im,) = images(ax)
    assert im.get_array().shape == (4 * 28, 4 * 28)
    assert im.get_clim() == (0.0, pytest.approx(weights.max()))
    assert ax.get_title() == "w"
    assert images(other) == []
    assert len(fig.axes) == 3  # the two axes and the colour bar


def test_plot_weights_without_axes_makes_a_figure_with_the_default_title() -> None:
    ax = plot_weights(np.ones((9, 3)), shape=(3, 3))
    assert ax.figure in map(plt.figure, plt.get_fignums())
    assert ax.get_title() == "input->excitatory weights, 3 neurons"
    assert images(ax)[0].get_array().shape == (6, 6)


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
