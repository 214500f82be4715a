"""Figures of continual learning: the accuracy matrix, accuracy per task, receptive fields after each task."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..continual.metrics import backward_transfer, check_accuracy_matrix, final_average_accuracy
from ..errors import ConfigError
from .common import _new_axes, _task_labels
from .network import describe_neurons, weight_grid

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
                       task_names: Sequence[str] | None = None, title: str | None = None,
                       reference: Mapping[str, Any] | None = None, chance: Sequence[float] | float | None = None):
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
    reference : mapping of str to float or array (seeds,), optional
        Per model, its i.i.d. reference (the same images, all tasks shuffled together: the
        average accuracy over every task), drawn as a dotted horizontal line in the model's
        colour at the mean over seeds; it compares with the last task's accuracies.
    chance : float or sequence of float (T,), optional
        Chance accuracy after each task (e.g. 1 / classes seen so far), drawn as a grey
        dash-dotted line.

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
        ref = None if reference is None else reference.get(model)
        if ref is not None:
            level = float(np.mean(np.asarray(ref, dtype=float)))
            ax.axhline(level, color=colour, linestyle=":", linewidth=1.5,
                       label=f"{model} i.i.d. reference ({level:.3f})")
    if chance is not None:
        levels = np.broadcast_to(np.asarray(chance, dtype=float), (n_tasks,))
        ax.plot(x, levels, color="0.45", linestyle="-.", linewidth=1.0, label="chance (newest task)")
    ax.set_xticks(x, names)
    ax.set_ylim(0, 1)
    ax.set_xlabel("after task")
    ax.set_ylabel("test accuracy")
    ax.grid(True, alpha=0.3)
    if len(checked) > 1:  # beside the axes, where it hides no curve
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    else:
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
    grids = [weight_grid(w[:, :max_neurons], gap=1) for w in weights]
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
        ax.set_facecolor("0.75")  # the gaps between tiles
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"after task {name}")
    fig.colorbar(im, ax=list(axes), fraction=0.046, pad=0.04, label="weight")
    shown = min(max_neurons, weights[0].shape[1])
    fig.suptitle(f"receptive fields after each task: {describe_neurons(range(shown), weights[0].shape[1])}")
    return fig


