"""Learning rules: trace-based STDP and weight normalisation (Diehl & Cook 2015).

Every STDP trace is set to 1 on its neuron's spike and decays with its time constant,
so its value at step ``t`` is a function of the last spike alone::

    trace(t) = exp(-(t - t_last) / tau_steps),  tau_steps = tau / dt   (0 if the neuron never fired)

The kernels therefore store the step of each neuron's last spike instead of the
traces, and evaluate a trace only when a rule reads it (nothing is decayed step by
step). ``exp(-k / tau_steps)`` is tabulated for every k until it falls below
:data:`spikedyn._numerics.FLUSH_BELOW`; past the table a trace is exactly 0.0.

Rules on the input->excitatory weights ``w`` (shape ``(n_input, n_neurons)``), in the
order Brian2 runs them within a step (presynaptic pathway first):

- presynaptic spike of input i: ``w[i, :] = clip(w[i, :] - nu_pre * post1, 0, w_max)``;
- postsynaptic spike of neuron j: ``w[:, j] = clip(w[:, j] + nu_post * pre * post2, 0, w_max)``
  where ``post2`` is read before neuron j's own traces are set to 1.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ._numerics import FLUSH_BELOW
from .errors import ConfigError


@numba.njit(cache=True)
def _decay_table(tau_steps):
    """``exp(-k / tau_steps)`` for k = 0, 1, ... while it is >= FLUSH_BELOW."""
    n = 1
    while math.exp(-n / tau_steps) >= FLUSH_BELOW:
        n += 1
    out = np.empty(n, np.float64)
    for k in range(n):
        out[k] = math.exp(-k / tau_steps)
    return out


@numba.njit(cache=True)
def _trace(table, since):
    """Trace ``since`` steps after the last spike: ``exp(-since / tau_steps)``, flushed to 0.0."""
    if since < table.shape[0]:
        return table[since]
    return 0.0


@numba.njit(cache=True)
def _traces_now(table, last, t, out):
    """Write every trace at step ``t`` into ``out`` (float64, like ``last``)."""
    for k in range(last.shape[0]):
        out[k] = _trace(table, t - last[k])


@numba.njit(cache=True, inline="always")
def _depressed(w, post1, nu_pre, w_max):
    """The presynaptic rule for one synapse: ``clip(w - nu_pre * post1, 0, w_max)``."""
    return min(max(w - nu_pre * post1, 0.0), w_max)


@numba.njit(cache=True)
def _depress_row(w_row, post1, nu_pre, w_max):
    """Presynaptic rule for one input: ``w_row = clip(w_row - nu_pre * post1, 0, w_max)``, in place."""
    for j in range(w_row.shape[0]):
        w_row[j] = _depressed(w_row[j], post1[j], nu_pre, w_max)


@numba.njit(cache=True)
def _depress_inputs(w, inputs, lo, hi, post1, recent, n_recent, row_over, nu_pre, w_max):
    """Presynaptic rule for the spikes of inputs ``inputs[lo:hi]``, in place: as
    :func:`_depress_row` on each of their rows, touching only the synapses it can change.

    ``post1`` must be 0.0 for every neuron outside ``recent[:n_recent]``. For such a
    neuron the rule is ``clip(w - 0.0, 0, w_max)``, which is ``w`` itself unless the
    weight lies above ``w_max``, so only the recent neurons' synapses are updated,
    unless ``row_over[i]`` says row ``i`` may hold a weight above ``w_max`` (see
    :func:`_normalize_columns`): then the whole row is.
    """
    n_out = w.shape[1]
    for e in range(lo, hi):
        i = inputs[e]
        if row_over[i]:
            for j in range(n_out):
                w[i, j] = _depressed(w[i, j], post1[j], nu_pre, w_max)
        else:
            for k in range(n_recent):
                j = recent[k]
                w[i, j] = _depressed(w[i, j], post1[j], nu_pre, w_max)


@numba.njit(cache=True)
def _potentiate_column(w, j, pre, nu_post, post2, w_max):
    """Postsynaptic rule for neuron j, in place:
    ``w[:, j] = clip(w[:, j] + nu_post * pre * post2, 0, w_max)``.

    ``post2`` is neuron j's slow trace read before the spike's own update.
    """
    for i in range(w.shape[0]):
        x = w[i, j] + nu_post * pre[i] * post2
        w[i, j] = min(max(x, 0.0), w_max)


@numba.njit(cache=True)
def _normalize_columns(w, target, col_sum, w_max, row_over):
    """Rescale each column of ``w`` (in place) so it sums to ``target``.

    ``col_sum`` (float64, shape (n_neurons,)) is scratch space. A column summing to
    zero is left as it is (there is nothing to rescale). Sets ``row_over[i]``
    (bool, shape (n_input,)) to whether row ``i`` now holds a weight above
    ``w_max``. Rescaling is the only operation that can lift a weight above
    ``w_max`` (both STDP rules clip), so the flags stay valid, as upper bounds,
    until the next call.
    """
    n_in, n_out = w.shape
    for j in range(n_out):
        col_sum[j] = 0.0
    for i in range(n_in):
        for j in range(n_out):
            col_sum[j] += w[i, j]
    for j in range(n_out):
        col_sum[j] = target / col_sum[j] if col_sum[j] > 0.0 else 1.0
    for i in range(n_in):
        n_over = 0
        for j in range(n_out):
            x = w[i, j] * col_sum[j]
            w[i, j] = x
            n_over += x > w_max
        row_over[i] = n_over > 0


def decay_table(tau_ms: float, dt_ms: float) -> np.ndarray:
    """``exp(-k / tau_steps)``, ``tau_steps = tau_ms / dt_ms``, for k = 0, 1, ... while >= ``FLUSH_BELOW``.

    This is the kernels' exact formula (it equals ``exp(-k * dt_ms / tau_ms)`` up to
    rounding of the division).
    """
    if not (tau_ms > 0 and dt_ms > 0):
        raise ConfigError(f"decay_table needs tau_ms > 0 and dt_ms > 0, got {tau_ms}, {dt_ms}")
    return _decay_table(tau_ms / dt_ms)


def normalize_weights(w: np.ndarray, target: float) -> np.ndarray:
    """Return a copy of ``w`` whose columns each sum to ``target``.

    Parameters
    ----------
    w : float64 array, shape (n_input, n_neurons)
    target : float
        Desired sum of each neuron's incoming weights (78 in Diehl & Cook).
    """
    w = np.array(w, dtype=np.float64, copy=True, order="C")
    if w.ndim != 2:
        raise ValueError(f"w must be 2-D (n_input, n_neurons), got shape {w.shape}")
    if not target > 0:
        raise ValueError(f"target must be > 0, got {target}")
    _normalize_columns(w, float(target), np.empty(w.shape[1]), np.inf, np.empty(w.shape[0], np.bool_))
    return w


def stdp_pre(w: np.ndarray, i: int, post1: np.ndarray, nu_pre: float, w_max: float) -> np.ndarray:
    """Return a copy of ``w`` after a presynaptic spike of input ``i``.

    Parameters
    ----------
    w : float64 array, shape (n_input, n_neurons)
    post1 : float64 array, shape (n_neurons,)
        Postsynaptic traces at the time of the spike.
    """
    w = np.array(w, dtype=np.float64, copy=True, order="C")
    post1 = np.asarray(post1, dtype=np.float64)
    if post1.shape != (w.shape[1],):
        raise ValueError(f"post1 must have shape ({w.shape[1]},), got {post1.shape}")
    _depress_row(w[i], post1, float(nu_pre), float(w_max))
    return w


def stdp_post(w: np.ndarray, j: int, pre: np.ndarray, post2: float, nu_post: float, w_max: float) -> np.ndarray:
    """Return a copy of ``w`` after a postsynaptic spike of neuron ``j``.

    Parameters
    ----------
    w : float64 array, shape (n_input, n_neurons)
    pre : float64 array, shape (n_input,)
        Presynaptic traces at the time of the spike.
    post2 : float
        Neuron j's slow trace just before the spike.
    """
    w = np.array(w, dtype=np.float64, copy=True, order="C")
    pre = np.asarray(pre, dtype=np.float64)
    if pre.shape != (w.shape[0],):
        raise ValueError(f"pre must have shape ({w.shape[0]},), got {pre.shape}")
    _potentiate_column(w, int(j), pre, float(nu_post), float(post2), float(w_max))
    return w
