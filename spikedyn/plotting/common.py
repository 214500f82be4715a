"""What every figure shares: new axes, saving a PNG atomically, checked arguments."""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from ..io.files import atomic_write

def _new_axes(ax, figsize: tuple[float, float]):
    """``ax`` itself, or the axes of a new pyplot figure of ``figsize`` inches if ``ax`` is None."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _check_dt(dt_ms: float) -> float:
    if isinstance(dt_ms, bool) or not isinstance(dt_ms, (int, float, np.floating, np.integer)) \
            or not math.isfinite(dt_ms) or dt_ms <= 0:
        raise ConfigError(f"dt_ms must be a positive number of milliseconds, got {dt_ms!r}")
    return float(dt_ms)


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


