"""Random input->excitatory transmission delays, with STDP applied when a spike arrives.

Diehl & Cook's original code gives every input->excitatory synapse its own delay,
uniform in [0, 10 ms) and fixed for good (``config.delays``, :class:`DelayParams`,
the section this module's part declares); the common re-implementations, and spikedyn's
``diehl-cook`` and ``lateral``, drop them. The ``*-delays`` models put them back with
the plasticity part :class:`DelayedStdp` (``stdp-delayed``), which follows Brian2's
semantics for a delayed ``on_pre`` pathway: a spike of input i at step s reaches
neuron j at step ``s + d_ij``, and only then

    ge_j += w_ij;   pre_ij = 1;   w_ij = clip(w_ij - nu_pre * post1_j, 0, w_max)

(the pre trace is now per synapse); a postsynaptic spike of j potentiates
``w_ij += nu_post * pre_ij * post2_j`` with ``pre_ij = exp(-(t - last arrival)/tau_pre)``.
Arrivals within a step are processed in Brian2's spike-queue order: by the step of
the spike, then by input, then by neuron, so that every ``ge_j`` receives the same
additions in the same order.

Kernel: for each synapse the delays are stored as, per input i, its neurons sorted
by delay (``order[i]``) and the offsets ``ptr[i, k]`` of delay k, so that the
arrivals of a step cost one pass over the arriving synapses. A spike still in flight
when a training presentation ends arrives during the rest period; the rest period
must therefore be at least as long as the longest delay (checked), and weights must
be float64 (a synapse changes on arrival, not where :mod:`spikedyn.core.quantise`
rounds; checked).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numba
import numpy as np

from ..core.neurons import _enlist
from ..core.params import whole_steps
from ..core.parts import implements
from ..core.traces import _recent_traces_now, _trace, on_post, on_pre, synapse_history, transmit
from ..errors import ConfigError
from .stdp import DiehlCookStdp, without_adaptation


@dataclass(frozen=True)
class DelayParams:
    """Random input->excitatory transmission delays of the ``*-delays`` models [DC15] (section ``delays``).

    [DC15]'s code gives every input->excitatory synapse its own delay, drawn once,
    uniform in [0, max_delay_ms) (``delay['ee_input'] = (0*b.ms, 10*b.ms)``), which
    Brian 1 truncates to whole steps: with dt = 0.5 ms, 0-19 steps, each with
    probability 1/20. spikedyn draws the same distribution (from the network's seed,
    on a stream of its own, so the initial weights do not change) and the Brian2
    twin is given exactly those delays. A spike is transmitted, and the synapse's
    presynaptic STDP rule applied, when it arrives (Brian2's semantics).
    Sources as in :mod:`spikedyn.core.params`.
    """

    max_delay_ms: float = 10.0  # [DC15]

    POSITIVE = ("max_delay_ms",)
    DURATIONS = ("max_delay_ms",)


def delay_steps(config, seed: int) -> np.ndarray:
    """The delay of every synapse in steps (int64, (n_input, N)), uniform in 0..D-1, D = max_delay_ms/dt.

    Drawn from ``numpy.random.default_rng([seed, 1])``: a stream of its own, so the
    network's initial weights (stream ``seed``) are those of the same model without delays.
    """
    d = whole_steps(config.delays.max_delay_ms, config.timing.dt_ms, "delays.max_delay_ms")
    rng = np.random.default_rng([int(seed), 1])
    return rng.integers(0, d, size=(config.n_input, config.n_neurons)).astype(np.int64)


def delay_tables(delays: np.ndarray, n_delays: int) -> tuple[np.ndarray, np.ndarray]:
    """Per input, its neurons sorted by delay (``order``, int64 (n_input, N)) and the offsets
    ``ptr`` (int64 (n_input, n_delays + 1)): the neurons of delay k are ``order[i, ptr[i, k]:ptr[i, k + 1]]``,
    in ascending index."""
    order = np.argsort(delays, axis=1, kind="stable").astype(np.int64)
    counts = np.stack([np.count_nonzero(delays == k, axis=1) for k in range(n_delays)], axis=1)
    ptr = np.zeros((delays.shape[0], n_delays + 1), np.int64)
    np.cumsum(counts, axis=1, out=ptr[:, 1:])
    return order, ptr


@numba.njit(cache=True, inline="always")
def _arrive(t, t_input0, n_delays, order, ptr, step_ptr, pixels, learn, w, ge, post1, last_arrival, nu_pre,
            w_max, row_over):
    """Process every synapse whose spike arrives at step ``t`` (in place; see the module docstring).

    Returns the depressions made: arrivals whose neuron's ``post1`` trace is non-zero (with
    ``nu_pre > 0``), or whose row may hold a weight above ``w_max`` (``row_over``); at every
    other arrival the rule's increment is exactly 0 and the weight is left as it is."""
    n_steps = step_ptr.shape[0] - 1
    done = 0
    for k in range(n_delays - 1, -1, -1):  # earlier spikes first: Brian2's queue order
        s = t - k - t_input0
        if s < 0 or s >= n_steps:
            continue
        for e in range(step_ptr[s], step_ptr[s + 1]):
            i = pixels[e]
            for q in range(ptr[i, k], ptr[i, k + 1]):
                j = order[i, q]
                ge[j] += w[i, j]
                if learn:
                    last_arrival[i, j] = t
                    if (post1[j] != 0.0 and nu_pre != 0.0) or row_over[i]:
                        w[i, j] = min(max(w[i, j] - nu_pre * post1[j], 0.0), w_max)
                        done += 1
    return done


@numba.njit(cache=True, inline="always")
def _potentiate_arrived(w, spikes, n_spikes, pre_table, post2_table, last_arrival, last_post, t, nu_post, w_max,
                        recent, is_recent, n_recent, row_over):
    """Postsynaptic rule with per-synapse pre traces, for each spike of step ``t`` (in place).

    Returns the updates made: synapses whose increment is non-zero, or whose row may hold a
    weight above ``w_max``; every other weight is left as it is (its update is exactly 0)."""
    done = 0
    for k in range(n_spikes):
        j = spikes[k]
        post2 = _trace(post2_table, t - last_post[j])
        for i in range(w.shape[0]):
            dw = nu_post * _trace(pre_table, t - last_arrival[i, j]) * post2
            if dw != 0.0 or row_over[i]:
                w[i, j] = min(max(w[i, j] + dw, 0.0), w_max)
                done += 1
        last_post[j] = t
        _enlist(j, recent, is_recent, n_recent)
    return done


@without_adaptation
class DelayedStdpRecord(NamedTuple):
    """Kernel record of :class:`DelayedStdp`: the rates and the network's delay tables."""

    nu_pre: float
    nu_post: float
    w_max: float
    n_delays: int
    order: np.ndarray
    ptr: np.ndarray


@implements(on_pre, DelayedStdpRecord)
def _delayed_on_pre(rec, t, learn, w, ge, pixels, lo, hi, step_ptr, input_t0, row_over, last_pre, last_post, recent,
                    is_recent, n_recent, pre_now, post1_now, pre_table, post1_table, post2_table, last_arrival,
                    activity, rate, significance, updates, pre_active):
    _recent_traces_now(post1_table, last_post, t, recent, is_recent, n_recent, post1_now)
    updates[2] += _arrive(t, input_t0[0], rec.n_delays, rec.order, rec.ptr, step_ptr, pixels, learn, w, ge,
                          post1_now, last_arrival, rec.nu_pre, rec.w_max, row_over)


@implements(transmit, DelayedStdpRecord)
def _delayed_transmit(rec, t, w, ge, pixels, lo, hi, step_ptr, input_t0):
    n_steps = step_ptr.shape[0] - 1
    for k in range(rec.n_delays - 1, -1, -1):  # as _arrive, learning off
        s = t - k - input_t0[0]
        if s < 0 or s >= n_steps:
            continue
        for e in range(step_ptr[s], step_ptr[s + 1]):
            i = pixels[e]
            for q in range(rec.ptr[i, k], rec.ptr[i, k + 1]):
                j = rec.order[i, q]
                ge[j] += w[i, j]


@implements(on_post, DelayedStdpRecord)
def _delayed_on_post(rec, t, w, spikes, n_spikes, row_over, last_pre, last_post, recent, is_recent, n_recent, pre_now,
                     post1_now, pre_table, post1_table, post2_table, last_arrival, activity, rate, significance,
                     updates, pre_active):
    updates[0] += _potentiate_arrived(w, spikes, n_spikes, pre_table, post2_table, last_arrival, last_post, t,
                                      rec.nu_post, rec.w_max, recent, is_recent, n_recent, row_over)


@implements(synapse_history, DelayedStdpRecord)
def _delayed_synapse_history(rec, n_input, n_neurons):
    return np.empty((n_input, n_neurons), np.int64)


class DelayedStdp(DiehlCookStdp):
    """Part: Diehl & Cook's STDP on synapses with random transmission delays; ``config.stdp``, ``config.delays``."""

    name = "stdp-delayed"
    sections = {"delays": DelayParams}

    def footprint_entries(self, config) -> dict[str, int]:
        """The pre trace is per synapse, and each synapse has its delay."""
        synapses = config.n_input * config.n_neurons
        return {**super().footprint_entries(config), "pre_traces": synapses, "delays": synapses}

    def operation_profile(self, config) -> dict[str, Any]:
        profile = super().operation_profile(config)
        return {**profile, "depression": "delayed" if profile["depression"] != "none" else "none",
                "per_synapse_traces": True}
    needs_seed = True

    def record(self, config, seed: int = 0) -> DelayedStdpRecord:
        if config.timing.rest_ms < config.delays.max_delay_ms:
            raise ConfigError(
                f"timing.rest_ms={config.timing.rest_ms} is shorter than delays.max_delay_ms="
                f"{config.delays.max_delay_ms}: spikes in flight at the end of a presentation would be lost; "
                "lengthen the rest or shorten the delays")
        bits = config.precision.weight_bits
        if bits != 64:
            raise ConfigError(f"model {config.model!r} has synaptic delays, which change weights on arrival: "
                              f"precision.weight_bits={bits} is not supported for it; use 64 or a model without delays")
        n_delays = whole_steps(config.delays.max_delay_ms, config.timing.dt_ms, "delays.max_delay_ms")
        order, ptr = delay_tables(delay_steps(config, seed), n_delays)
        s = config.stdp
        return DelayedStdpRecord(nu_pre=float(s.nu_pre), nu_post=float(s.nu_post), w_max=float(s.w_max),
                                 n_delays=n_delays, order=order, ptr=ptr)

    def block_record(self, record: DelayedStdpRecord, config, seed: int, lo: int, hi: int) -> DelayedStdpRecord:
        """The record of the neurons ``lo..hi-1`` (:meth:`spikedyn.models.Model.kernel_records`): the
        delay tables of their synapses, neurons numbered from ``lo``. Each input's arrivals at a
        neuron keep their order (by delay, then input), so every ``ge`` receives the same
        additions in the same order as in the whole network."""
        order, ptr = delay_tables(delay_steps(config, seed)[:, lo:hi], record.n_delays)
        return record._replace(order=order, ptr=ptr)

    # -- Brian2 twin ---------------------------------------------------------------------------
    def brian2_synapses(self) -> dict[str, Any]:
        return {**super().brian2_synapses(), "delays": True}

    def brian2_delays_s(self, config, seed: int) -> np.ndarray:
        """Each synapse's delay in seconds, in Brian2's synapse order (i * N + j): exactly d_ij * dt."""
        return (delay_steps(config, seed) * (config.timing.dt_ms * 1e-3)).reshape(-1)
