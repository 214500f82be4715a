"""Figures: receptive fields and confusion matrices (matplotlib, Agg backend)."""

from __future__ import annotations

import math
import os

import numpy as np

from .errors import ConfigError
from .runs import atomic_path


def _figure_module():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def weight_grid(weights: np.ndarray, shape: tuple[int, int] = (28, 28)) -> np.ndarray:
    """Tile each neuron's incoming weights as an image.

    Parameters
    ----------
    weights : float array, shape (rows * cols, n_neurons)
    shape : (rows, cols)
        Image shape of one receptive field.

    Returns
    -------
    float64 array, shape (side * rows, side * cols)
        ``side = ceil(sqrt(n_neurons))``; unused tiles are NaN.
    """
    weights = np.asarray(weights, dtype=np.float64)
    rows, cols = shape
    if weights.ndim != 2 or weights.shape[0] != rows * cols:
        raise ConfigError(f"weights must have shape ({rows * cols}, n_neurons), got {weights.shape}")
    n = weights.shape[1]
    side = math.ceil(math.sqrt(n))
    grid = np.full((side * rows, side * cols), np.nan)
    for k in range(n):
        r, c = divmod(k, side)
        grid[r * rows:(r + 1) * rows, c * cols:(c + 1) * cols] = weights[:, k].reshape(rows, cols)
    return grid


def plot_weights(weights: np.ndarray, path: str | os.PathLike[str], *, title: str = "", w_max: float = 1.0) -> None:
    """Save the receptive fields of all neurons as a grid of 28x28 images (PNG)."""
    plt = _figure_module()
    grid = weight_grid(weights)
    side_px = grid.shape[0]
    fig, ax = plt.subplots(figsize=(min(16, 2 + side_px / 40), min(16, 2 + side_px / 40)))
    im = ax.imshow(grid, cmap="hot_r", vmin=0.0, vmax=float(np.nanmax(grid)) if np.isfinite(grid).any() else w_max,
                   interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title or f"input->excitatory weights, {weights.shape[1]} neurons")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="weight")
    _save(fig, path, plt)


def plot_confusion(confusion: np.ndarray, path: str | os.PathLike[str], *, title: str = "") -> None:
    """Save a row-normalised confusion matrix (true class x predicted class) as PNG."""
    plt = _figure_module()
    confusion = np.asarray(confusion)
    if confusion.ndim != 2 or confusion.shape[0] != confusion.shape[1]:
        raise ConfigError(f"confusion matrix must be square, got shape {confusion.shape}")
    rates = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1)
    n = confusion.shape[0]
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    im = ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    for i in range(n):
        for j in range(n):
            ax.text(j, i, f"{rates[i, j]:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if rates[i, j] > 0.5 else "black")
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    total = confusion.sum()
    acc = np.trace(confusion) / total if total else float("nan")
    ax.set_title(title or f"confusion matrix, accuracy {acc:.4f} (n={total})")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="fraction of true class")
    _save(fig, path, plt)


def _save(fig, path, plt) -> None:
    path = os.fspath(path)
    if not path.lower().endswith(".png"):
        plt.close(fig)
        raise ConfigError(f"output {path} must end in .png")
    try:
        fig.tight_layout()
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=120)
    finally:
        plt.close(fig)


def plot_scaling(results: list[dict], path: str | os.PathLike[str], *, title: str = "") -> None:
    """Save time per sample against the number of neurons, from ``spikedyn bench`` results.

    One line per (backend, model, mode, threads); log-log axes.
    """
    plt = _figure_module()
    lines: dict[tuple, list[tuple[int, float]]] = {}
    for r in results:
        if r.get("samples_per_second", 0) > 0:
            key = (r["backend"], r["model"], r["mode"], r.get("threads", 1))
            lines.setdefault(key, []).append((int(r["neurons"]), 1e3 / float(r["samples_per_second"])))
    if not lines:
        raise ConfigError("no benchmark results with a positive speed to plot")
    fig, ax = plt.subplots(figsize=(7.5, 5))
    for (backend, model, mode, threads), points in sorted(lines.items()):
        points.sort()
        ax.plot([n for n, _ in points], [ms for _, ms in points], marker="o",
                linestyle="-" if mode == "train" else "--",
                label=f"{backend} {model} {mode} ({threads} thread{'s' if threads != 1 else ''})")
    from matplotlib.ticker import FormatStrFormatter, NullFormatter

    ax.set_xscale("log")
    ax.set_yscale("log")
    sizes = sorted({n for points in lines.values() for n, _ in points})
    ax.set_xticks(sizes)
    ax.xaxis.set_major_formatter(FormatStrFormatter("%d"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
    ax.set_xlabel("excitatory neurons N")
    ax.set_ylabel("wall time per sample (ms)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_title(title or "time per sample (350 ms presentation + 150 ms rest in training)")
    _save(fig, path, plt)
