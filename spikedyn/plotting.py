"""Figures: receptive fields, confusion matrices, spike rasters, voltage traces, scaling.

Every ``plot_*`` function draws into the matplotlib ``Axes`` it is given and returns
it; without one it creates a new figure (through :mod:`matplotlib.pyplot`, so that a
notebook shows it) and returns that figure's axes, so ``ax.figure`` is always the
figure drawn on. No function selects a matplotlib backend: in a notebook the
figures appear inline, and :func:`save_figure` writes a PNG with any backend (the
``spikedyn plot`` commands select the file-only ``Agg`` backend themselves).

Examples
--------
>>> import matplotlib.pyplot as plt
>>> fig, (left, right) = plt.subplots(1, 2)                     # doctest: +SKIP
>>> plot_weights(network.weights, left)                         # doctest: +SKIP
>>> plot_confusion(confusion, right)                            # doctest: +SKIP
>>> save_figure(fig, "figure.png")                              # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .config import atomic_write
from .errors import ConfigError

__all__ = [
    "plot_confusion",
    "plot_raster",
    "plot_scaling",
    "plot_voltages",
    "plot_weights",
    "save_figure",
    "weight_grid",
]


def _new_axes(ax, figsize: tuple[float, float]):
    """``ax`` itself, or the axes of a new pyplot figure of ``figsize`` inches if ``ax`` is None."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def weight_grid(weights: np.ndarray, shape: tuple[int, int] = (28, 28)) -> np.ndarray:
    """Tile each neuron's incoming weights as an image.

    Parameters
    ----------
    weights : float array, shape (rows * cols, n_neurons)
        Input->excitatory weights, one column per neuron.
    shape : (rows, cols), default (28, 28)
        Image shape of one receptive field.

    Returns
    -------
    float64 array, shape (side * rows, side * cols)
        ``side = ceil(sqrt(n_neurons))``; neuron ``k`` is the tile in row
        ``k // side``, column ``k % side``; unused tiles are NaN.

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
    n = weights.shape[1]
    side = math.ceil(math.sqrt(n))
    grid = np.full((side * rows, side * cols), np.nan)
    for k in range(n):
        r, c = divmod(k, side)
        grid[r * rows:(r + 1) * rows, c * cols:(c + 1) * cols] = weights[:, k].reshape(rows, cols)
    return grid


def plot_weights(weights: np.ndarray, ax=None, *, shape: tuple[int, int] = (28, 28), title: str | None = None):
    """Draw the receptive fields of all neurons as a grid of images.

    Parameters
    ----------
    weights : float array, shape (rows * cols, n_neurons)
        Input->excitatory weights (``Network.weights``).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure if omitted.
    shape : (rows, cols), default (28, 28)
        Image shape of one receptive field.
    title : str, optional
        Default: ``"input->excitatory weights, N neurons"``.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax`` (or the new axes), holding one image (see :func:`weight_grid`) from 0
        to the largest weight, with a colour bar.
    """
    grid = weight_grid(weights, shape)
    ax = _new_axes(ax, (min(16.0, 2 + grid.shape[0] / 40),) * 2)
    top = float(np.nanmax(grid))
    im = ax.imshow(grid, cmap="hot_r", vmin=0.0, vmax=top if top > 0 else 1.0, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title if title is not None else f"input->excitatory weights, {np.shape(weights)[1]} neurons")
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="weight")
    return ax


def plot_confusion(confusion: np.ndarray, ax=None, *, title: str | None = None, annotate: bool = True):
    """Draw a row-normalised confusion matrix (true class x predicted class).

    Parameters
    ----------
    confusion : int array, shape (n_classes, n_classes)
        Counts of (true class, predicted class), as from
        :func:`spikedyn.readout.confusion_matrix`.
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


def _check_dt(dt_ms: float) -> float:
    if isinstance(dt_ms, bool) or not isinstance(dt_ms, (int, float, np.floating, np.integer)) \
            or not math.isfinite(dt_ms) or dt_ms <= 0:
        raise ConfigError(f"dt_ms must be a positive number of milliseconds, got {dt_ms!r}")
    return float(dt_ms)


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


def plot_scaling(results: list[dict[str, Any]], ax=None, *, title: str | None = None):
    """Draw wall time per sample against the number of neurons, from ``spikedyn bench`` results.

    Parameters
    ----------
    results : list of dict
        The ``"results"`` of a bench summary; each with ``backend``, ``model``,
        ``mode``, ``neurons``, ``samples_per_second`` and optionally ``threads``.
        Entries without a positive speed are skipped.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure if omitted. (Passing a file name here, as
        ``spikedyn bench --plot`` still does, saves the figure there; deprecated,
        use ``save_figure(plot_scaling(results).figure, path)``.)
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes
        ``ax`` (or the new axes), log-log, one line per (backend, model, mode,
        threads), solid for training and dashed for inference.

    Raises
    ------
    ConfigError
        If no result has a positive speed.
    """
    if isinstance(ax, (str, os.PathLike)):  # old signature plot_scaling(results, path)
        path = ax
        save_figure(plot_scaling(results, title=title).figure, path)
        return None
    lines: dict[tuple, list[tuple[int, float]]] = {}
    for r in results:
        if r.get("samples_per_second", 0) > 0:
            key = (r["backend"], r["model"], r["mode"], r.get("threads", 1))
            lines.setdefault(key, []).append((int(r["neurons"]), 1e3 / float(r["samples_per_second"])))
    if not lines:
        raise ConfigError("no benchmark results with a positive speed to plot")
    from matplotlib.ticker import FormatStrFormatter, NullFormatter

    ax = _new_axes(ax, (7.5, 5.0))
    for (backend, model, mode, threads), points in sorted(lines.items()):
        points.sort()
        ax.plot([n for n, _ in points], [ms for _, ms in points], marker="o",
                linestyle="-" if mode == "train" else "--",
                label=f"{backend} {model} {mode} ({threads} thread{'s' if threads != 1 else ''})")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(sorted({n for points in lines.values() for n, _ in points}))
    ax.xaxis.set_major_formatter(FormatStrFormatter("%d"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
    ax.set_xlabel("excitatory neurons N")
    ax.set_ylabel("wall time per sample (ms)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_title(title if title is not None else "time per sample (350 ms presentation + 150 ms rest in training)")
    return ax


def save_figure(fig, path: str | os.PathLike[str], *, dpi: int = 120) -> Path:
    """Write a figure as PNG, atomically, and close it.

    The file appears complete or not at all, with the usual permissions (``0o666``
    minus the umask); missing parent directories are created. The figure is closed
    (released by pyplot) whether or not the write succeeds.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        E.g. ``ax.figure`` of an axes returned by a ``plot_*`` function.
    path : str or os.PathLike
        Must end in ``.png``.
    dpi : int, default 120

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ConfigError
        If ``path`` does not end in ``.png`` or cannot be written; nothing is written.
    """
    path = Path(path)
    try:
        if path.suffix.lower() != ".png":
            raise ConfigError(f"output {path} must end in .png")
        return atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=dpi))
    finally:
        if "matplotlib.pyplot" in sys.modules:  # a figure made without pyplot needs no closing
            sys.modules["matplotlib.pyplot"].close(fig)
