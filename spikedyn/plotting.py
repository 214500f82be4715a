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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .continual.metrics import backward_transfer, check_accuracy_matrix, final_average_accuracy
from .errors import ConfigError
from .io.files import atomic_write

__all__ = [
    "plot_accuracy_matrix",
    "plot_confusion",
    "plot_raster",
    "plot_receptive_fields_per_task",
    "plot_scaling",
    "plot_task_accuracy",
    "plot_voltages",
    "plot_weights",
    "save_figure",
    "weight_grid",
    "plot_pareto",
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


def _task_labels(task_names: Sequence[str] | None, n_tasks: int) -> list[str]:
    """``task_names`` as strings, or "0".."T-1"; one per task."""
    if task_names is None:
        return [str(t) for t in range(n_tasks)]
    if isinstance(task_names, str):
        raise ConfigError(f"task_names must be a sequence of names, got the string {task_names!r}; pass a list")
    names = [str(name) for name in task_names]
    if len(names) != n_tasks:
        raise ConfigError(f"task_names has {len(names)} names for {n_tasks} tasks; pass one name per task")
    return names


def plot_accuracy_matrix(R, ax=None, *, task_names: Sequence[str] | None = None, title: str | None = None):
    """Draw a continual-learning accuracy matrix: accuracy on each task after each task.

    Parameters
    ----------
    R : float array, shape (T, T)
        ``R[i, j]`` = test accuracy on task ``j`` after training task ``i``; entries
        above the diagonal are ignored (see :mod:`spikedyn.continual.metrics`).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure if omitted.
    task_names : sequence of str, optional
        Tick labels, one per task; default ``"0"`` .. ``"T-1"``.
    title : str, optional
        Default: the final average accuracy and, for T > 1, the backward transfer.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax`` (or the new axes), holding one image of the lower triangle (the upper
        triangle blank) on a 0..1 colour scale with a colour bar, and each cell's
        value written in it with 2 decimals. Row i is "after training task i",
        column j "evaluated on task j".

    Raises
    ------
    ConfigError
        If ``R`` is not a valid accuracy matrix (see
        :func:`spikedyn.continual.metrics.check_accuracy_matrix`) or ``task_names`` does not
        have one name per task.
    """
    R = check_accuracy_matrix(R)
    n = R.shape[0]
    names = _task_labels(task_names, n)
    ax = _new_axes(ax, (min(12.0, 3.5 + 0.5 * n),) * 2)
    im = ax.imshow(np.ma.masked_invalid(R), cmap="Blues", vmin=0, vmax=1)
    for i in range(n):
        for j in range(i + 1):
            ax.text(j, i, f"{R[i, j]:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if R[i, j] > 0.5 else "black")
    ax.set_xticks(range(n), names)
    ax.set_yticks(range(n), names)
    ax.set_xlabel("evaluated on task")
    ax.set_ylabel("after training task")
    if title is None:
        bwt = backward_transfer(R)
        title = f"accuracy matrix, final average accuracy {final_average_accuracy(R):.4f}" + (
            f", BWT {bwt:+.4f}" if bwt is not None else "")
    ax.set_title(title)
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="test accuracy")
    return ax


def _check_curve(model: str, which: str, values, n_tasks: int | None) -> np.ndarray:
    """One (seeds, T) accuracy array of :func:`plot_task_accuracy`, validated; 1-D is one seed."""
    try:
        values = np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(f"curves[{model!r}][{which!r}] must be a numeric (seeds, tasks) array") from None
    if values.ndim == 1:
        values = values[None, :]
    if values.ndim != 2 or values.size == 0:
        raise ConfigError(
            f"curves[{model!r}][{which!r}] must have shape (seeds, tasks) with at least one of each, "
            f"got {values.shape}"
        )
    if n_tasks is not None and values.shape[1] != n_tasks:
        raise ConfigError(
            f"curves[{model!r}][{which!r}] has {values.shape[1]} tasks, the other curves {n_tasks}; "
            "pass the same tasks for every model"
        )
    defined = values[:, 1:] if which == "old" else values  # "old" is undefined after the first task
    if not np.isfinite(defined).all() or np.any((defined < 0) | (defined > 1)):
        raise ConfigError(
            f"curves[{model!r}][{which!r}] must hold finite accuracies in [0, 1]"
            + (" after the first task" if which == "old" else "")
            + "; pass fractions, not percentages"
        )
    return values


def plot_task_accuracy(curves: Mapping[str, Mapping[str, Any]], ax=None, *,
                       task_names: Sequence[str] | None = None, title: str | None = None):
    """Draw the newest-task and previous-tasks accuracy after each task, per model.

    Parameters
    ----------
    curves : mapping of str to dict
        Model name -> ``{"new": array (seeds, T), "old": array (seeds, T)}``: per
        seed, the accuracy on the newest task and the mean accuracy on the previous
        tasks after each task (:func:`spikedyn.continual.metrics.new_task_accuracy` and
        :func:`~spikedyn.continual.metrics.old_task_accuracy`). Column 0 of ``"old"`` (NaN,
        no previous task) is ignored; a 1-D array is one seed. All models need the
        same T.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure if omitted.
    task_names : sequence of str, optional
        x tick labels, one per task; default ``"0"`` .. ``"T-1"``.
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes
        ``ax`` (or the new axes). Per model, the mean over seeds of the newest-task
        accuracy (solid line, legend ``"<model> newest"``) and, for T > 1, of the
        previous-tasks accuracy from task 1 on (dashed, same colour, ``"<model>
        previous"``), each with a mean ± sample SD band (alpha 0.2) when there is
        more than one seed; y from 0 to 1.

    Raises
    ------
    ConfigError
        If ``curves`` is empty, a model lacks ``"new"`` or ``"old"``, an array is not
        (seeds, T) accuracies in [0, 1], the models differ in T or seeds between
        ``"new"`` and ``"old"``, or ``task_names`` has not one name per task.
    """
    if not isinstance(curves, Mapping) or not curves:
        raise ConfigError('curves must be a non-empty mapping of model name -> {"new": ..., "old": ...}')
    checked: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    n_tasks = None
    for model, curve in curves.items():
        if not isinstance(curve, Mapping) or "new" not in curve or "old" not in curve:
            raise ConfigError(f'curves[{model!r}] must be a dict with keys "new" and "old", each (seeds, tasks)')
        new = _check_curve(model, "new", curve["new"], n_tasks)
        n_tasks = new.shape[1]
        old = _check_curve(model, "old", curve["old"], n_tasks)
        if old.shape != new.shape:
            raise ConfigError(
                f'curves[{model!r}] has "new" of shape {new.shape} but "old" of shape {old.shape}; '
                "pass one row per seed in both"
            )
        checked[str(model)] = (new, old)
    names = _task_labels(task_names, n_tasks)
    ax = _new_axes(ax, (7.5, 5.0))
    x = np.arange(n_tasks)
    for model, (new, old) in checked.items():
        (line,) = ax.plot(x, new.mean(axis=0), marker="o", linestyle="-", label=f"{model} newest")
        colour = line.get_color()
        series = [(x, new)]
        if n_tasks > 1:
            ax.plot(x[1:], old[:, 1:].mean(axis=0), marker="s", linestyle="--", color=colour,
                    label=f"{model} previous")
            series.append((x[1:], old[:, 1:]))
        if new.shape[0] > 1:
            for xs, values in series:
                mean, sd = values.mean(axis=0), values.std(axis=0, ddof=1)
                ax.fill_between(xs, mean - sd, mean + sd, color=colour, alpha=0.2, linewidth=0)
    ax.set_xticks(x, names)
    ax.set_ylim(0, 1)
    ax.set_xlabel("task")
    ax.set_ylabel("test accuracy")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    if title is not None:
        ax.set_title(title)
    return ax


def receptive_fields_figsize(n_tasks: int) -> tuple[float, float]:
    """The size (inches) :func:`plot_receptive_fields_per_task` gives a new figure of ``n_tasks`` panels."""
    n_cols = min(n_tasks, 5)
    return 1.0 + 3.0 * n_cols, 0.6 + 3.2 * math.ceil(n_tasks / n_cols)


def plot_receptive_fields_per_task(weights_per_task: Sequence[np.ndarray], fig=None, *,
                                   task_names: Sequence[str] | None = None, max_neurons: int = 100):
    """Draw the receptive fields after each task, one panel per task.

    Parameters
    ----------
    weights_per_task : sequence of float arrays, shape (784, N)
        Input->excitatory weights saved after each task (``Network.weights``).
    fig : matplotlib.figure.Figure, optional
        Where to draw (panels are added with ``fig.subplots``); a new pyplot
        figure if omitted.
    task_names : sequence of str, optional
        Panel titles are ``"after task <name>"``; default names ``"0"`` .. ``"T-1"``.
    max_neurons : int, default 100
        Show the first ``min(N, max_neurons)`` neurons of each task (see
        :func:`weight_grid`).

    Returns
    -------
    matplotlib.figure.Figure
        ``fig`` (or the new figure), with one image panel per task, in one row for
        up to 5 tasks and in rows of 5 otherwise, on a common colour scale from 0 to
        the largest weight shown, and one colour bar.

    Raises
    ------
    ConfigError
        If ``weights_per_task`` is empty, a weight array is not (784, N) with N >= 1,
        ``max_neurons`` is not a positive integer, or ``task_names`` has not one
        name per task.
    """
    if isinstance(max_neurons, bool) or not isinstance(max_neurons, (int, np.integer)) or max_neurons < 1:
        raise ConfigError(f"max_neurons must be a positive integer, got {max_neurons!r}")
    if isinstance(weights_per_task, np.ndarray) and weights_per_task.ndim == 2:
        raise ConfigError("weights_per_task must be a list of (784, N) arrays, one per task, got a single array")
    weights = [np.asarray(w, dtype=np.float64) for w in weights_per_task]
    if not weights:
        raise ConfigError("weights_per_task is empty; pass one (784, N) weight array per task")
    for t, w in enumerate(weights):
        if w.ndim != 2 or w.shape[0] != 784 or w.shape[1] < 1:
            raise ConfigError(
                f"weights_per_task[{t}] must have shape (784, n_neurons) with n_neurons >= 1, got {w.shape}"
            )
    names = _task_labels(task_names, len(weights))
    grids = [weight_grid(w[:, :max_neurons]) for w in weights]
    top = max(float(np.nanmax(g)) for g in grids)
    n_cols = min(len(grids), 5)
    n_rows = math.ceil(len(grids) / n_cols)
    if fig is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=receptive_fields_figsize(len(grids)), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False).ravel()
    for ax in axes[len(grids):]:
        ax.remove()
    axes = axes[:len(grids)]
    for ax, grid, name in zip(axes, grids, names):
        im = ax.imshow(grid, cmap="hot_r", vmin=0.0, vmax=top if top > 0 else 1.0, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"after task {name}")
    fig.colorbar(im, ax=list(axes), fraction=0.046, pad=0.04, label="weight")
    return fig


def plot_pareto(candidates: Sequence[Mapping[str, Any]], cost_key: str, ax=None, *, budget: float | None = None,
                selected: str | None = None, title: str | None = None):
    """Accuracy against one cost of the candidates of a search (:mod:`spikedyn.search`).

    Log cost axis; the evaluated candidates that another beats on both axes in grey,
    the front of this projection as a step line, the selected candidate ringed, each
    point labelled; pruned candidates at their *estimated* cost as crosses (they were
    never trained, so they sit at the bottom, accuracy unknown); the budget as a
    vertical line. Returns the Axes.
    """
    from .search.pareto import pareto_front

    ax = _new_axes(ax, (7, 4.8))
    done = [c for c in candidates if not c["pruned"] and c.get("accuracy") is not None
            and c.get(cost_key) is not None]
    pruned = [c for c in candidates if c["pruned"]]
    if done:
        xs = np.array([c[cost_key] for c in done], float)
        ys = np.array([c["accuracy"] for c in done], float)
        front = pareto_front(np.column_stack([ys, xs]), ["max", "min"])
        ax.scatter(xs[~front], ys[~front], color="0.65", zorder=2, label="dominated (this projection)")
        ax.scatter(xs[front], ys[front], color="C0", zorder=3, label="Pareto front (this projection)")
        order = np.argsort(xs[front])
        fx, fy = xs[front][order], ys[front][order]
        ax.step(np.concatenate([fx, [fx[-1] * 1.5]]), np.concatenate([fy, [fy[-1]]]), where="post", color="C0",
                alpha=0.7)
        for c, x, y in zip(done, xs, ys):
            ax.annotate(c["id"], (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
            if c["id"] == selected:
                ax.scatter([x], [y], s=220, facecolors="none", edgecolors="C3", linewidths=2, zorder=4,
                           label="selected")
    bottom = min([c["accuracy"] for c in done], default=0.0)
    for c in pruned:
        x = c["estimate"].get(cost_key)
        if x is not None:
            ax.scatter([x], [bottom], marker="x", color="C1", zorder=2,
                       label="pruned (estimate)" if c is pruned[0] else None)
            ax.annotate(c["id"], (x, bottom), fontsize=6, rotation=30, xytext=(2, -10), textcoords="offset points",
                        color="C1")
    if budget is not None:
        ax.axvline(budget, color="C3", linestyle="--", label=f"budget {budget:g}")
    ax.set_xscale("log")
    ax.set_xlabel(cost_key.replace("_", " ").replace(" kb", " (KB)").replace(" uj", " (uJ per sample)"))
    ax.set_ylabel("validation accuracy")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="best")
    if title:
        ax.set_title(title)
    return ax
