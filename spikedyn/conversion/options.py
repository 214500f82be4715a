"""Checks of the conversion's options: each problem is a one-line ConfigError naming the fix."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..config import check_seed
from ..errors import ConfigError
from ..feedforward import INPUTS, check_positive_int, check_timesteps
from ..cost.tables import load_energy_table
from .normalise import PER, check_percentile
from .readout import check_readout

TASKS = ("mnist", "cartpole")


def check_task(task: str) -> str:
    if task not in TASKS:
        raise ConfigError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    return task


def check_hidden(hidden) -> tuple[int, ...]:
    """Hidden-layer sizes: a non-empty sequence of integers >= 1."""
    if isinstance(hidden, (int, np.integer)) and not isinstance(hidden, bool):
        hidden = (hidden,)
    try:
        sizes = tuple(hidden)
    except TypeError:
        sizes = ()
    if not sizes or any(isinstance(h, bool) or not isinstance(h, (int, np.integer)) or h < 1 for h in sizes):
        raise ConfigError(f"hidden must be one or more layer sizes >= 1 (e.g. 500 or 256,256), got {hidden!r}")
    return tuple(int(h) for h in sizes)


def check_sweep(sweep: Sequence[int] | None, timesteps: int) -> tuple[int, ...]:
    """Step counts of the accuracy-against-T curve: integers in [1, timesteps] (``timesteps`` added)."""
    out = set()
    for t in sweep or ():
        if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or not 1 <= t <= timesteps:
            raise ConfigError(f"sweep step counts must be integers in [1, timesteps={timesteps}], got {t!r}")
        out.add(int(t))
    return tuple(sorted(out | {timesteps}))


def check_common(*, timesteps, percentile, readout, seed, input, energy_table=None, normalisation="layer") -> dict:
    """The options every conversion shares, checked before anything is trained or written."""
    if input not in INPUTS:
        raise ConfigError(f"input must be one of {', '.join(INPUTS)}, got {input!r}")
    if normalisation not in PER:
        raise ConfigError(f"normalisation must be one of {', '.join(PER)}, got {normalisation!r}")
    return {"timesteps": check_timesteps(timesteps), "percentile": check_percentile(percentile),
            "readout": check_readout(readout), "seed": check_seed(seed), "input": input,
            "energy_table": _table(energy_table)}


def _table(energy_table) -> str | None:
    """The table's name or path as given (None: not checked), once it loads."""
    if energy_table is None:
        return None
    load_energy_table(energy_table)
    return str(energy_table)


__all__ = ["TASKS", "check_common", "check_hidden", "check_positive_int", "check_sweep", "check_task"]
