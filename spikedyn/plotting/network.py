"""Figures of one network: receptive fields, confusion matrix, spike raster, membrane potentials."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from ..errors import ConfigError
from .common import _check_dt, _new_axes

def weight_grid(weights: np.ndarray, shape: tuple[int, int] = (28, 28), *, gap: int = 0,
                columns: int | None = None) -> np.ndarray:
    """Tile each neuron's incoming weights as an image.

    Parameters
    ----------
    weights : float array, shape (rows * cols, n_neurons)
        Input->excitatory weights, one column per neuron.
    shape : (rows, cols), default (28, 28)
        Image shape of one receptive field.
    gap : int, default 0
        Pixels of NaN (drawn as the background) between two tiles.
    columns : int, optional
        Tiles per row; default ``side = ceil(sqrt(n_neurons))``.

    Returns
    -------
    float64 array, shape (n_rows * (rows + gap) - gap, columns * (cols + gap) - gap)
        Neuron ``k`` is the tile in row ``k // columns``, column ``k % columns``; unused
        tiles and the gaps are NaN.

    Raises
    ------
    ConfigError
        If ``weights`` does not have ``rows * cols`` rows or no column.
    """
    weights = np.asarray(weights, dtype=np.float64)
    rows, cols = shape
    if weights.ndim != 2 or weights.shape[0] != rows * cols or weights.shape[1] < 1:
        raise ConfigError(
            f"weights must have shape ({rows * cols}, n_neurons) with n_neurons >= 1 for {rows}x{cols} "
            f"receptive fields, got {weights.shape}; pass shape=(rows, cols) for other inputs"
        )
    if isinstance(gap, bool) or not isinstance(gap, (int, np.integer)) or gap < 0:
        raise ConfigError(f"gap must be a number of pixels >= 0, got {gap!r}")
    n = weights.shape[1]
    side = columns if columns is not None else math.ceil(math.sqrt(n))
    n_rows = math.ceil(n / side)
    grid = np.full((n_rows * (rows + gap) - gap, side * (cols + gap) - gap), np.nan)
    for k in range(n):
        r, c = divmod(k, side)
        top, left = r * (rows + gap), c * (cols + gap)
        grid[top:top + rows, left:left + cols] = weights[:, k].reshape(rows, cols)
    return grid


def untrained_neurons(weights: np.ndarray, initial_weights: np.ndarray, *, min_correlation: float = 0.9
                      ) -> np.ndarray:
    """Which neurons have not learned: their weights are still their random start.

    A neuron that never fired is never potentiated; weight normalisation and a uniform leak
    only rescale its weights, which leaves their correlation with the initial ones at 1.
    A neuron counts as untrained when the Pearson correlation of its weights with its
    initial weights is at least ``min_correlation``.

    Parameters
    ----------
    weights, initial_weights : float arrays, shape (n_input, n_neurons)
        The weights now, and those the network started from
        (``Network(config, seed=seed).weights``).

    Returns
    -------
    bool array, shape (n_neurons,)
    """
    w = np.asarray(weights, np.float64)
    w0 = np.asarray(initial_weights, np.float64)
    if w.shape != w0.shape or w.ndim != 2:
        raise ConfigError(f"weights {w.shape} and initial_weights {w0.shape} must be the same (n_input, n_neurons)")
    a, b = w - w.mean(axis=0), w0 - w0.mean(axis=0)
    norm = np.sqrt((a * a).sum(axis=0) * (b * b).sum(axis=0))
    corr = np.divide((a * b).sum(axis=0), norm, out=np.zeros(w.shape[1]), where=norm > 0)
    return corr >= min_correlation


def describe_neurons(shown: Sequence[int], n_neurons: int) -> str:
    """``"all 400 neurons"``, ``"neurons 0-99 of 400"`` or ``"12 of 400 neurons (3, 5, 9-18)"``."""
    shown = [int(k) for k in shown]
    if shown == list(range(n_neurons)):
        return f"all {n_neurons} neurons"
    runs, start = [], None
    for k, nxt in zip(shown, shown[1:] + [None]):
        start = k if start is None else start
        if nxt != k + 1:
            runs.append(str(start) if start == k else f"{start}-{k}")
            start = None
    if len(runs) == 1:
        return f"neurons {runs[0]} of {n_neurons}"
    text = ", ".join(runs)
    return f"{len(shown)} of {n_neurons} neurons ({text if len(text) <= 40 else text[:37] + '...'})"


def plot_weights(weights: np.ndarray, ax=None, *, shape: tuple[int, int] = (28, 28), title: str | None = None,
                 neurons: Sequence[int] | None = None, assignments: np.ndarray | None = None,
                 untrained: np.ndarray | None = None, gap: int = 2):
    """Draw the receptive fields of the neurons as a grid of images, one tile per neuron.

    Parameters
    ----------
    weights : float array, shape (rows * cols, n_neurons)
        Input->excitatory weights (``Network.weights``).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure if omitted.
    shape : (rows, cols), default (28, 28)
        Image shape of one receptive field.
    title : str, optional
        Default ``"input->excitatory weights"``; which neurons are shown is appended
        (:func:`describe_neurons`: ``": all 400 neurons"``, ``": neurons 0-99 of 400"``).
    neurons : sequence of int, optional
        The neurons to draw, in this order (default all); the title says which.
    assignments : int array, shape (n_neurons,), optional
        Each neuron's assigned class (``Network.assignments_``; -1: none); written on its
        tile, ``-`` for none.
    untrained : bool array, shape (n_neurons,), optional
        Neurons that have not learned (:func:`untrained_neurons`): their tiles are hatched.
    gap : int, default 2
        Pixels between tiles.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax`` (or the new axes), holding one image (see :func:`weight_grid`) from 0
        to the largest weight, with a colour bar; with ``assignments``, one text per tile.
    """
    weights = np.asarray(weights, dtype=np.float64)
    n_all = weights.shape[1] if weights.ndim == 2 else 0
    shown = list(range(n_all)) if neurons is None else [int(k) for k in neurons]
    if not shown or min(shown) < 0 or max(shown) >= max(n_all, 1):
        raise ConfigError(f"neurons must be indices in 0-{n_all - 1}, got {list(neurons or [])[:5]}...")
    for name, values in (("assignments", assignments), ("untrained", untrained)):
        if values is not None and np.shape(values) != (n_all,):
            raise ConfigError(f"{name} must have one entry per neuron ({n_all}), got shape {np.shape(values)}")
    grid = weight_grid(weights[:, shown] if weights.ndim == 2 else weights, shape, gap=gap)
    rows, cols = shape
    side = math.ceil(math.sqrt(len(shown)))
    ax = _new_axes(ax, (min(16.0, max(7.0, 2.5 + side * 0.55)),) * 2)
    top = float(np.nanmax(grid))
    im = ax.imshow(grid, cmap="hot_r", vmin=0.0, vmax=top if top > 0 else 1.0, interpolation="nearest")
    ax.set_facecolor("0.75")  # the gaps
    ax.set_xticks([])
    ax.set_yticks([])
    which = describe_neurons(shown, n_all)
    title = f"{'input->excitatory weights' if title is None else title}: {which}"
    ax.set_title(title)
    fontsize = max(4.0, min(9.0, 60.0 / side))
    for position, k in enumerate(shown):
        r, c = divmod(position, side)
        x0, y0 = c * (cols + gap) - 0.5, r * (rows + gap) - 0.5
        if untrained is not None and untrained[k]:
            from matplotlib.patches import Rectangle

            ax.add_patch(Rectangle((x0, y0), cols, rows, facecolor="0.6", alpha=0.55, edgecolor="0.3",
                                   hatch="////", linewidth=0.5))
        if assignments is not None:
            label = "-" if assignments[k] < 0 else str(int(assignments[k]))
            ax.text(x0 + 1, y0 + 1, label, fontsize=fontsize, va="top", ha="left", color="C0", fontweight="bold",
                    bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.85})
    notes = []
    if assignments is not None:
        notes.append("blue: the neuron's assigned class (- none)")
    if untrained is not None:
        notes.append(f"hatched: untrained, weights still their random start ({int(np.sum(untrained[shown]))} shown)")
    if notes:
        ax.set_xlabel("\n".join(notes), fontsize=8)
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="weight")
    return ax


def plot_confusion(confusion: np.ndarray, ax=None, *, title: str | None = None, annotate: bool = True):
    """Draw a row-normalised confusion matrix (true class x predicted class).

    Parameters
    ----------
    confusion : int array, shape (n_classes, n_classes)
        Counts of (true class, predicted class), as from
        :func:`spikedyn.core.readout.confusion_matrix`.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure if omitted.
    title : str, optional
        Default: the accuracy and the number of samples.
    annotate : bool, default True
        Write each cell's fraction in it.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax`` (or the new axes); cell (i, j) shows the fraction of class i
        predicted as j.

    Raises
    ------
    ConfigError
        If ``confusion`` is not a non-empty square matrix of non-negative counts.
    """
    confusion = np.asarray(confusion)
    if confusion.ndim != 2 or confusion.shape[0] != confusion.shape[1] or confusion.size == 0:
        raise ConfigError(f"confusion matrix must be square and non-empty, got shape {confusion.shape}")
    if not np.issubdtype(confusion.dtype, np.number) or np.any(confusion < 0):
        raise ConfigError("confusion matrix must hold non-negative counts")
    rates = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1)
    n = confusion.shape[0]
    ax = _new_axes(ax, (6.5, 5.5))
    im = ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    if annotate:
        for i in range(n):
            for j in range(n):
                ax.text(j, i, f"{rates[i, j]:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if rates[i, j] > 0.5 else "black")
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    total = confusion.sum()
    accuracy = np.trace(confusion) / total if total else float("nan")
    ax.set_title(title if title is not None else f"confusion matrix, accuracy {accuracy:.4f} (n={total})")
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="fraction of true class")
    return ax


def plot_raster(steps, neurons, ax=None, *, dt_ms: float, n_neurons: int | None = None,
                title: str | None = None, markersize: float = 2.0):
    """Draw a spike raster: one dot per spike, time in ms against neuron index.

    Parameters
    ----------
    steps : int array, shape (n_spikes,)
        Time step of each spike (as recorded by the network, or ``SpikeRaster.steps()``).
    neurons : int array, shape (n_spikes,)
        Index of the neuron (or input pixel) of each spike.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure if omitted.
    dt_ms : float
        Length of a step; spike ``k`` is drawn at ``steps[k] * dt_ms`` ms.
    n_neurons : int, optional
        Show neurons ``0 .. n_neurons - 1`` on the y axis (default: up to the largest index).
    title : str, optional
        Default: the number of spikes.
    markersize : float, default 2.0

    Returns
    -------
    matplotlib.axes.Axes
        ``ax`` (or the new axes), holding one line of markers without connecting lines.

    Raises
    ------
    ConfigError
        If ``steps`` and ``neurons`` are not 1-D integer arrays of equal length with
        non-negative values, or ``dt_ms`` is not positive.
    """
    dt_ms = _check_dt(dt_ms)
    steps, neurons = np.asarray(steps), np.asarray(neurons)
    for name, values in (("steps", steps), ("neurons", neurons)):
        if values.ndim != 1 or not (values.size == 0 or np.issubdtype(values.dtype, np.integer)):
            raise ConfigError(f"{name} must be a 1-D integer array, got dtype {values.dtype}, shape {values.shape}")
        if values.size and values.min() < 0:
            raise ConfigError(f"{name} must be non-negative, got {values.min()}")
    if steps.shape != neurons.shape:
        raise ConfigError(f"steps {steps.shape} and neurons {neurons.shape} must have one entry per spike")
    ax = _new_axes(ax, (8.0, 4.0))
    ax.plot(steps * dt_ms, neurons, linestyle="none", marker="|" if markersize >= 4 else ".",
            markersize=markersize, color="black")
    top = n_neurons if n_neurons is not None else (int(neurons.max()) + 1 if neurons.size else 1)
    ax.set_ylim(-0.5, top - 0.5)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("neuron")
    ax.set_title(title if title is not None else f"{steps.size} spikes")
    return ax


def plot_voltages(v_mv, ax=None, *, dt_ms: float, threshold_mv=None, neurons: Sequence[int] | None = None,
                  title: str | None = None):
    """Draw membrane potentials against time, optionally with each neuron's threshold.

    Parameters
    ----------
    v_mv : float array, shape (n_steps, k) or (n_steps,)
        Membrane potential of ``k`` recorded neurons at each step, in mV.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure if omitted.
    dt_ms : float
        Length of a step; row ``s`` is drawn at ``s * dt_ms`` ms.
    threshold_mv : float array, shape (n_steps, k) or (k,), or a float, optional
        Firing threshold of each neuron (``v_thresh - theta_offset + theta``), over
        time or constant; drawn dashed in the colour of its neuron.
    neurons : sequence of int, optional
        Index of each recorded neuron, for the legend (default ``0 .. k - 1``).
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes
        ``ax`` (or the new axes), holding ``k`` solid lines (and ``k`` dashed ones
        with ``threshold_mv``).

    Raises
    ------
    ConfigError
        If the shapes disagree, a value is not finite, or ``dt_ms`` is not positive.
    """
    dt_ms = _check_dt(dt_ms)
    v = np.asarray(v_mv, dtype=np.float64)
    if v.ndim == 1:
        v = v[:, None]
    if v.ndim != 2 or v.shape[0] == 0 or v.shape[1] == 0:
        raise ConfigError(f"v_mv must have shape (n_steps, k) with n_steps, k >= 1, got {np.shape(v_mv)}")
    n_steps, k = v.shape
    if not np.all(np.isfinite(v)):
        raise ConfigError("v_mv holds NaN or infinite values; record finite membrane potentials")
    labels = list(range(k)) if neurons is None else list(neurons)
    if len(labels) != k:
        raise ConfigError(f"neurons names {len(labels)} neurons but v_mv has {k} columns; give one index per column")
    threshold = None
    if threshold_mv is not None:
        threshold = np.asarray(threshold_mv, dtype=np.float64)
        if threshold.ndim <= 1 and threshold.size in (1, k):
            threshold = np.broadcast_to(threshold.reshape(1, -1), (n_steps, k))
        if threshold.shape != (n_steps, k):
            raise ConfigError(
                f"threshold_mv must have shape ({n_steps}, {k}), ({k},) or be a number, got {np.shape(threshold_mv)}"
            )
    ax = _new_axes(ax, (8.0, 4.0))
    t_ms = np.arange(n_steps) * dt_ms
    for j in range(k):
        (line,) = ax.plot(t_ms, v[:, j], label=f"neuron {labels[j]}")
        if threshold is not None:
            ax.plot(t_ms, threshold[:, j], linestyle="--", linewidth=0.8, color=line.get_color())
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("membrane potential (mV)")
    if title is not None:
        ax.set_title(title)
    if k <= 10:
        ax.legend(fontsize=7)
    return ax




def plot_accuracy_by_size(series: Mapping[str, Mapping[int, Sequence[float]]], ax=None, *, title: str | None = None,
                          ylabel: str = "test accuracy"):
    """Accuracy against the number of neurons, one line per model, mean ± SD over seeds as error bars.

    Parameters
    ----------
    series : mapping of str to mapping of int to sequence of float
        Model (or variant) -> neurons -> the accuracy of each seed.
    ax : matplotlib.axes.Axes, optional
    title : str, optional
    ylabel : str

    Returns
    -------
    matplotlib.axes.Axes
        A log-scaled neurons axis ticked at the sizes, accuracy from 0 to 1.
    """
    from matplotlib.ticker import FixedLocator, NullLocator

    if not series or not all(series.values()):
        raise ConfigError("series must map each model to {neurons: [accuracy per seed]}, with at least one size")
    ax = _new_axes(ax, (7.0, 4.5))
    sizes = sorted({n for points in series.values() for n in points})
    for name, points in series.items():
        ns = sorted(points)
        means = [float(np.mean(points[n])) for n in ns]
        sds = [float(np.std(points[n], ddof=1)) if len(points[n]) > 1 else 0.0 for n in ns]
        ax.errorbar(ns, means, yerr=sds, marker="o", capsize=3, label=name)
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(FixedLocator(sizes))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([str(n) for n in sizes])
    ax.set_xlabel("excitatory neurons")
    ax.set_ylabel(f"{ylabel} (mean ± sd over seeds)")
    ax.set_ylim(0, 1)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    if title is not None:
        ax.set_title(title)
    return ax
