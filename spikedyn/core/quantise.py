"""Weights stored at reduced precision: float32, or 16-, 8- and 4-bit fixed point.

The simulation keeps the weights in a float64 array, but with ``precision.weight_bits``
below 64 every value written to it is a value the narrower format can hold: each write
of the learning rules is rounded before the step ends, as a device storing ``B``-bit
weights would. The formats (``config.precision``, :class:`spikedyn.config.PrecisionParams`):

- **32**: IEEE float32, round to nearest even;
- **16, 8, 4**: unsigned fixed point on ``[0, w_max]`` with ``L = 2**B - 1`` steps of
  ``q = w_max / L``; a weight ``w`` becomes ``q * round(w / q)``, clipped to ``[0, L]``
  steps. ``rounding = "nearest"`` rounds half away from zero; ``"stochastic"`` rounds
  ``k = w / q`` up with probability ``k - floor(k)`` (so ``E[round(k)] = k``: an STDP
  step of a tenth of ``q`` is made one time in ten instead of never). The random
  number of weight ``(i, j)`` written at step ``t`` is a hash of the network's seed,
  ``t``, ``i``, ``j`` and the write site: reproducible, and the same for any thread count.

Where the rounding happens (``spikedyn.network``): after the presynaptic pathway of a
step, the rows of that step's input spikes (the synapses the depression may have
changed); after the postsynaptic pathway, the columns of the neurons that fired
(potentiation); after the normalisation before each presentation, and after the rule's
``after_presentation`` (decay, leak), every weight; and the initial weights. A value
already on the grid is left exactly as it is, so rounding a row that did not change
changes nothing. Rules with synaptic delays change synapses on arrival, not on input
spikes, and are not supported at reduced precision.

The time loop calls the kernel hooks ``round_rows``, ``round_columns`` and ``round_all``
with the format's record: a float64 network's record (:class:`Float64Record`) selects
implementations that do nothing, so its loop compiles to the code it had before weights
could be stored at lower precision (no run-time test per step).

The Brian2 twin has float64 weights only; validation runs at ``weight_bits = 64``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np

from ..errors import ConfigError
from .encoding import _GOLDEN, _mix64
from .parts import implements, kernel_hook

FLOAT64, FLOAT32, FIXED = 0, 1, 2
#: Write sites, salted into the random stream of stochastic rounding.
SITE_ROWS, SITE_COLUMNS, SITE_BEFORE, SITE_AFTER, SITE_INITIAL = 1, 2, 3, 4, 5
_ON_GRID = 1e-9  # |w / q - k| below this: w is the grid value k * q (float error only)


round_rows = kernel_hook("round_rows", "rec, w, rows, lo, hi, t, site",
                         "Round the rows ``rows[lo:hi]`` of ``w`` to the weight format (in place).")
round_columns = kernel_hook("round_columns", "rec, w, columns, n, t, site",
                            "Round the columns ``columns[:n]`` of ``w`` to the weight format (in place).")
round_all = kernel_hook("round_all", "rec, w, t, site", "Round every weight to the weight format (in place).")


class Float64Record(NamedTuple):
    """Kernel record of float64 weights: the rounding hooks compile to nothing, so the time loop
    of a float64 network is the same code as before weights could be stored at lower precision."""

    mode: int


class QuantiseRecord(NamedTuple):
    """Kernel record of the weight format: ``mode`` (FLOAT64, FLOAT32 or FIXED), ``levels`` L,
    ``step`` q and ``inv_step`` 1/q of the fixed-point grid, ``stochastic`` rounding, ``seed``,
    and ``first_column``: the neuron of the weights' column 0 (not 0 for a block of neurons of a
    network simulated in blocks: the random number of a write is the whole network's)."""

    mode: int
    levels: float
    step: float
    inv_step: float
    stochastic: bool
    seed: np.uint64
    first_column: int


def record(config, seed: int = 0, first_column: int = 0) -> QuantiseRecord | Float64Record:
    """The kernel record of ``config.precision`` (a :class:`~spikedyn.config.NetworkConfig`) for a
    network seeded with ``seed`` (whose weights' column 0 is neuron ``first_column``). (A rule that
    cannot run at reduced precision, such as one with synaptic delays, refuses it when its own
    record is built.)"""
    bits, w_max = config.precision.weight_bits, float(config.stdp.w_max)
    if bits == 64:
        return Float64Record(FLOAT64)
    levels = float(2 ** bits - 1) if bits <= 16 else 0.0
    mode = FLOAT32 if bits == 32 else FIXED
    step = w_max / levels if levels else 0.0
    return QuantiseRecord(mode, levels, step, 1.0 / step if step else 0.0,
                          config.precision.rounding == "stochastic", np.uint64(seed), int(first_column))


@numba.njit(cache=True, inline="always")
def _uniform(seed, t, i, j, site):
    """A uniform number in [0, 1) for the write of weight (i, j) at step t and site ``site``."""
    z = _mix64(seed ^ (np.uint64(t) * _GOLDEN + np.uint64(site)))
    z = _mix64(z ^ (np.uint64(i) * np.uint64(0x100000001B3) + np.uint64(j)))
    return (z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@numba.njit(cache=True, inline="always")
def _quantised(q, x, t, i, j, site):
    """``x`` in the format of ``q`` (see the module docstring)."""
    if q.mode == FLOAT32:
        return np.float64(np.float32(x))
    k = x * q.inv_step
    nearest = math.floor(k + 0.5)
    if abs(k - nearest) < _ON_GRID:
        k = nearest
    elif q.stochastic:
        below = math.floor(k)
        k = below + 1.0 if _uniform(q.seed, t, i, q.first_column + j, site) < k - below else below
    else:
        k = nearest
    return min(max(k, 0.0), q.levels) * q.step


@numba.njit(cache=True)
def _quantise_rows(q, w, rows, lo, hi, t, site):
    """Round the rows ``rows[lo:hi]`` of ``w`` (in place)."""
    for e in range(lo, hi):
        i = rows[e]
        for j in range(w.shape[1]):
            w[i, j] = _quantised(q, w[i, j], t, i, j, site)


@numba.njit(cache=True)
def _quantise_columns(q, w, columns, n, t, site):
    """Round the columns ``columns[:n]`` of ``w`` (in place)."""
    for k in range(n):
        j = columns[k]
        for i in range(w.shape[0]):
            w[i, j] = _quantised(q, w[i, j], t, i, j, site)


@numba.njit(cache=True)
def _quantise_all(q, w, t, site):
    """Round every weight (in place)."""
    for i in range(w.shape[0]):
        for j in range(w.shape[1]):
            w[i, j] = _quantised(q, w[i, j], t, i, j, site)


@implements(round_rows, Float64Record)
def _float64_rows(rec, w, rows, lo, hi, t, site):
    pass


@implements(round_columns, Float64Record)
def _float64_columns(rec, w, columns, n, t, site):
    pass


@implements(round_all, Float64Record)
def _float64_all(rec, w, t, site):
    pass


@implements(round_rows, QuantiseRecord)
def _rounded_rows(rec, w, rows, lo, hi, t, site):
    _quantise_rows(rec, w, rows, lo, hi, t, site)


@implements(round_columns, QuantiseRecord)
def _rounded_columns(rec, w, columns, n, t, site):
    _quantise_columns(rec, w, columns, n, t, site)


@implements(round_all, QuantiseRecord)
def _rounded_all(rec, w, t, site):
    _quantise_all(rec, w, t, site)


def quantise(w: np.ndarray, config, *, seed: int = 0, step: int = 0) -> np.ndarray:
    """A copy of ``w`` in the weight format of ``config.precision`` (stochastic rounding drawn
    as at step ``step`` of a network seeded with ``seed``, at the initial-weights site)."""
    w = np.array(w, dtype=np.float64, copy=True)
    if w.ndim != 2:
        raise ConfigError(f"weights must be a 2-D array, got shape {w.shape}")
    rec = record(config, seed)
    if rec.mode != FLOAT64:
        _quantise_all(rec, w, step, SITE_INITIAL)
    return w
