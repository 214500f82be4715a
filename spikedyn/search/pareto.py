"""Pareto fronts: the candidates that no other candidate beats on every objective.

A point ``a`` *dominates* ``b`` when it is at least as good on every objective and
strictly better on at least one (Deb, *Multi-Objective Optimization using Evolutionary
Algorithms*, 2001, def. 2.5). The front is the set of points nothing dominates; two
identical points do not dominate each other, so both stay on it.

Objectives are given with their sense, ``"max"`` (accuracy) or ``"min"`` (memory,
energy). :func:`pareto_front` compares every pair at once with NumPy, in blocks: about
a second for 10,000 points.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import ConfigError

SENSES = ("max", "min")


def _minimised(values, senses: Sequence[str]) -> np.ndarray:
    """The objectives as a float array to minimise (maximised ones negated), checked."""
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 2:
        raise ConfigError(f"objective values must be a 2-D array (points x objectives), got shape {v.shape}")
    if len(senses) != v.shape[1]:
        raise ConfigError(f"{v.shape[1]} objectives but {len(senses)} senses; give one of {SENSES} per objective")
    bad = [s for s in senses if s not in SENSES]
    if bad:
        raise ConfigError(f"objective sense must be one of {', '.join(SENSES)}, got {bad[0]!r}")
    if not np.all(np.isfinite(v)):
        raise ConfigError("objective values must be finite; leave out candidates that have none")
    sign = np.array([-1.0 if s == "max" else 1.0 for s in senses])
    return v * sign


def dominates(a, b, senses: Sequence[str]) -> bool:
    """Whether point ``a`` dominates point ``b``."""
    m = _minimised([a, b], senses)
    return bool(np.all(m[0] <= m[1]) and np.any(m[0] < m[1]))


def pareto_front(values, senses: Sequence[str], *, block: int = 1024) -> np.ndarray:
    """Boolean mask (n,): True for the points of ``values`` (n, k) that no other point dominates."""
    m = _minimised(values, senses)
    n = m.shape[0]
    dominated = np.zeros(n, dtype=bool)
    for lo in range(0, n, block):
        b = m[lo:lo + block]  # (B, k): is some point of m better than each of these?
        no_worse = np.all(m[None, :, :] <= b[:, None, :], axis=2)  # (B, n)
        better = np.any(m[None, :, :] < b[:, None, :], axis=2)
        dominated[lo:lo + block] = np.any(no_worse & better, axis=1)
    return ~dominated
