"""The spike history of trace-based plasticity: decay tables, the rule state, and the rules' hooks.

Every STDP trace is set to 1 on its neuron's spike and decays with its time constant,
so its value at step ``t`` is a function of the last spike alone::

    trace(t) = exp(-(t - t_last) / tau_steps),  tau_steps = tau / dt   (0 if the neuron never fired)

The kernels therefore store the step of each neuron's last spike instead of the
traces, and evaluate a trace only when a rule reads it (nothing is decayed step by
step). ``exp(-k / tau_steps)`` is tabulated for every k until it falls below
:data:`spikedyn.core.numerics.FLUSH_BELOW`; past the table a trace is exactly 0.0.

:class:`Traces` is the one state layout of every plasticity rule (the time loop unpacks
it once, before it starts; see :mod:`spikedyn.core.parts`), and the kernel hooks below
are how the time loop calls a rule (implementations: :mod:`spikedyn.models`, e.g.
:mod:`spikedyn.models.stdp`). Hook signatures (state of the rule: :class:`Traces`,
unpacked)::

    on_pre(rec, t, learn, w, ge, pixels, lo, hi, step_ptr, input_t0, row_over, <Traces>)
    transmit(rec, t, w, ge, pixels, lo, hi, step_ptr, input_t0)
    on_post(rec, t, w, spikes, n_spikes, <Traces>)
    after_presentation(rec, w, theta, counts, activity, rate, significance, updates, sync)
    synapse_history(rec, n_input, n_neurons)
    synapse_significance(rec, n_input, n_neurons)
    before_presentation(rec, w, col_sum, row_over, col_next, col_dirty, known)

``on_pre`` is the input synapses' presynaptic pathway, called every step: it
transmits the step's input spikes ``pixels[lo:hi]`` to ``ge`` (as Brian2's
``on_pre = 'ge_post += w; ...'`` does) and, if ``learn``, applies the rule. The
presentation's whole input is ``pixels`` grouped by ``step_ptr``, which began at step
``input_t0[0]`` (a rule with delays reads earlier steps there). During inference the
time loop calls ``transmit`` instead, the transmission alone: a call per step with a
third of the arguments (measured: about 10 % of inference time at 100 neurons). ``spikes[:n_spikes]``
are the step's excitatory spikes; ``row_over`` is set by the weight normalisation (see
:func:`spikedyn.models.stdp._normalize_columns`). ``before_presentation`` is the hook of
the ``between`` parts.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np

from ..errors import ConfigError
from .neurons import NEVER
from .numerics import FLUSH_BELOW
from .parts import kernel_hook


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


@numba.njit(cache=True, inline="always")
def _trace(table, since):
    """Trace ``since`` steps after the last spike: ``exp(-since / tau_steps)``, flushed to 0.0."""
    if since < table.shape[0]:
        return table[since]
    return 0.0


@numba.njit(cache=True, inline="always")
def _traces_now(table, last, t, out):
    """Write every trace at step ``t`` into ``out`` (float64, like ``last``)."""
    for k in range(last.shape[0]):
        out[k] = _trace(table, t - last[k])




@numba.njit(cache=True, inline="always")
def _active_traces_now(table, last, t, out, row_over, active):
    """Write every trace at step ``t`` into ``out`` (as :func:`_traces_now`) and the indices whose
    trace is non-zero, or whose row may hold a weight above ``w_max`` (``row_over``), into
    ``active`` (int32, ascending); returns how many.

    A potentiation ``w[i, j] + nu_post * pre[i] * post2`` changes a weight only in those rows:
    elsewhere its increment is exactly 0 and ``clip(w, 0, w_max)`` is ``w`` itself, so a rule
    that visits only them does the same arithmetic on every weight it changes, and no work on
    the others (:mod:`spikedyn.cost.operations` counts what is done).
    """
    n = 0
    for k in range(last.shape[0]):
        x = _trace(table, t - last[k])
        out[k] = x
        if x != 0.0 or row_over[k]:
            active[n] = k
            n += 1
    return n


@numba.njit(cache=True, inline="always")
def _recent_traces_now(table, last_post, t, recent, is_recent, n_recent, out):
    """``out[j] = post1 trace of neuron j at step t`` for the recent neurons
    ``recent[:n_recent[0]]`` (in place).

    Neurons whose trace has fallen to exactly 0 leave the recent list; their entry
    in ``out`` is set to 0 and, like every non-recent neuron's, stays 0. The result
    equals :func:`_traces_now` over all neurons, at the cost of the recent ones only.
    """
    kept = 0
    for k in range(n_recent[0]):
        j = recent[k]
        value = _trace(table, t - last_post[j])
        out[j] = value
        if value == 0.0:
            is_recent[j] = False
        else:
            recent[kept] = j
            kept += 1
    n_recent[0] = kept


@numba.njit(cache=True, inline="always")
def _mark(last, items, lo, hi, t):
    """``last[items[e]] = t`` for e in [lo, hi) (in place): the step of each item's last spike."""
    for e in range(lo, hi):
        last[items[e]] = t




class Traces(NamedTuple):
    """State of a trace-based rule: when each input and neuron last fired, and which neurons'
    ``post1`` trace may be non-zero.

    ``last_pre`` (int64, (n_input,)), ``last_post`` (int64, (N,)); the recent list
    ``recent[:n_recent[0]]`` with flags ``is_recent`` (every other neuron's ``post1``
    is exactly 0); ``pre_now`` (float64, (n_input,)) and ``post1_now`` (float64, (N,))
    hold traces evaluated at the current step (``post1_now`` is 0 outside the recent
    list); ``pre_table``, ``post1_table``, ``post2_table`` are the traces' decay tables
    (:func:`trace_tables`, computed once per network from the time constants and
    shared by every state of that network; not saved); ``last_arrival`` (int64,
    (n_input, N), or (0, 0) for a rule without delays): the step at which each
    synapse last received a spike (see :mod:`spikedyn.models.delays`).

    Learned per-neuron and per-synapse quantities of rules that adapt (the
    continual-learning rules, :mod:`spikedyn.models.spikedyn` and :mod:`spikedyn.models.asp`;
    unused by the others): ``activity`` (float64, (N,)), the neuron's training
    spikes as the rule counts them; ``rate`` (float64, (N,)), its learning-rate
    factor (1.0 unless the rule adapts it); ``significance`` (float64, (n_input, N),
    or (0, 0) for a rule without one). ``updates`` (int64, (5,)) counts the rule's
    weight updates: potentiations done and skipped, depressions done and skipped,
    and decay (leak) updates; see :data:`UPDATE_KINDS`. ``pre_active`` (int32,
    (n_input,)) is scratch space: the inputs whose trace is non-zero at the current step
    (:func:`_active_traces_now`; not saved).

    The tables live here rather than in the rule's kernel record because the time
    loop unpacks this state once, before it starts: an array read from a record
    inside the loop would cost atomic reference counting at every step.
    """

    last_pre: np.ndarray
    last_post: np.ndarray
    recent: np.ndarray
    is_recent: np.ndarray
    n_recent: np.ndarray
    pre_now: np.ndarray
    post1_now: np.ndarray
    pre_table: np.ndarray
    post1_table: np.ndarray
    post2_table: np.ndarray
    last_arrival: np.ndarray
    activity: np.ndarray
    rate: np.ndarray
    significance: np.ndarray
    updates: np.ndarray
    pre_active: np.ndarray


#: What ``Traces.updates`` counts, in order.
UPDATE_KINDS = ("potentiation_done", "potentiation_skipped", "depression_done", "depression_skipped", "decay")

#: Fields of :class:`Traces` derived from the config, or scratch space (rebuilt, never saved): the
#: traces evaluated at the current step are refreshed before they are read.
DERIVED_TRACE_FIELDS = ("pre_table", "post1_table", "post2_table", "pre_active", "pre_now", "post1_now")


@numba.njit(cache=True)
def _new_traces(tables, n_input, n_neurons, last_arrival, significance):
    """Traces at rest; ``tables`` = the (pre, post1, post2) decay tables (shared, not copied);
    ``last_arrival`` and ``significance`` from the rule's :func:`synapse_history` and
    :func:`synapse_significance` hooks. Nothing learned yet: activity 0, rate 1, no updates."""
    tr = Traces(np.empty(n_input, np.int64), np.empty(n_neurons, np.int64), np.zeros(n_neurons, np.int32),
                np.zeros(n_neurons, np.bool_), np.zeros(1, np.int64), np.zeros(n_input), np.zeros(n_neurons),
                tables[0], tables[1], tables[2], last_arrival, np.zeros(n_neurons), np.ones(n_neurons),
                significance, np.zeros(len(UPDATE_KINDS), np.int64), np.zeros(n_input, np.int32))
    tr.significance[:, :] = 0.0
    _traces_rest(tr)
    return tr


@numba.njit(cache=True)
def _traces_rest(tr):
    """No spike history (in place)."""
    tr.last_pre[:] = NEVER
    tr.last_post[:] = NEVER
    tr.is_recent[:] = False
    tr.n_recent[0] = 0
    tr.post1_now[:] = 0.0
    tr.last_arrival[:, :] = NEVER


_TRACES = ("last_pre, last_post, recent, is_recent, n_recent, pre_now, post1_now, pre_table, post1_table, "
           "post2_table, last_arrival, activity, rate, significance, updates, pre_active")
on_pre = kernel_hook("on_pre", "rec, t, learn, w, ge, pixels, lo, hi, step_ptr, input_t0, row_over, " + _TRACES,
                     "The input synapses' presynaptic pathway in step t: transmission to ge and, if learn, "
                     "plasticity.")
transmit = kernel_hook("transmit", "rec, t, w, ge, pixels, lo, hi, step_ptr, input_t0",
                       "The input synapses' transmission alone in step t (learning off): the fast path of "
                       "on_pre for inference, with fewer arguments per call.")
synapse_history = kernel_hook("synapse_history", "rec, n_input, n_neurons",
                              "The rule's per-synapse spike history (int64, (n_input, N)), or a (0, 0) array.")
synapse_significance = kernel_hook(
    "synapse_significance", "rec, n_input, n_neurons",
    "The rule's per-synapse significance (float64, (n_input, N)), or a (0, 0) array.")
on_post = kernel_hook("on_post", "rec, t, w, spikes, n_spikes, row_over, " + _TRACES,
                      "Plasticity on the excitatory spikes spikes[:n_spikes] of step t.")
after_presentation = kernel_hook(
    "after_presentation", "rec, w, theta, counts, activity, rate, significance, updates, sync",
    "The rule's step after each training presentation (and its rest): counts (int32, (N,)) are the "
    "presentation's spikes; sync is None on one thread, else this block's Sync (a rule that reads the "
    "whole population sums over the blocks with core.barrier._sum_over_threads; every block calls it).")
before_presentation = kernel_hook(
    "before_presentation", "rec, w, col_sum, row_over, col_next, col_dirty, known",
    "What happens to the weights before a training presentation; col_next, col_dirty and known: the column "
    "sums the previous call left and the columns written to since (see stdp._normalize_columns).")



def trace_tables(config) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (pre, post1, post2) decay tables of :class:`Traces`, computed once per network."""
    s, dt = config.stdp, config.timing.dt_ms
    return (_decay_table(s.tau_pre_ms / dt), _decay_table(s.tau_post1_ms / dt), _decay_table(s.tau_post2_ms / dt))




def decay_table(tau_ms: float, dt_ms: float) -> np.ndarray:
    """``exp(-k / tau_steps)``, ``tau_steps = tau_ms / dt_ms``, for k = 0, 1, ... while >= ``FLUSH_BELOW``.

    This is the kernels' exact formula (it equals ``exp(-k * dt_ms / tau_ms)`` up to
    rounding of the division).
    """
    ok = all(not isinstance(x, bool) and isinstance(x, (int, float, np.integer, np.floating)) and math.isfinite(x)
             and x > 0 for x in (tau_ms, dt_ms))
    if not ok:
        raise ConfigError(f"decay_table needs finite tau_ms > 0 and dt_ms > 0, got {tau_ms!r}, {dt_ms!r}")
    return _decay_table(float(tau_ms) / float(dt_ms))


