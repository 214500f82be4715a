"""The state of a simulated network and the kernel arguments of its config.

:func:`kernel_params` is the one place where a :class:`~spikedyn.config.NetworkConfig`
(and, for parts that draw from it, the network's seed) becomes kernel arguments: the
excitatory population's :class:`~spikedyn.core.neurons.LifParams`, the STDP decay tables,
each part's kernel record (:mod:`spikedyn.models`) and the weight format
(:mod:`spikedyn.core.quantise`). The dynamic state has one fixed layout per kind of part
(:class:`State`): the excitatory neurons, the competition's own population
(:class:`~spikedyn.models.competition.Population`), the plasticity's spike history
(:class:`~spikedyn.core.traces.Traces`), which the time loop (:mod:`spikedyn.simulation.loop`)
unpacks once before it starts. :func:`state_arrays` names every array of it, for saving.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numba
import numpy as np

from .. import models
from ..core.neurons import NEVER, LifParams, lif_params
from ..core.quantise import record as quantise_record
from ..core.traces import (DERIVED_TRACE_FIELDS, Traces, _new_traces, _traces_rest, synapse_history,
                           synapse_significance, trace_tables, transmit)
from ..models.competition import Population, competition_rest, competition_state
from ..models.stdp import _stdp_transmit


class KernelParams(NamedTuple):
    """Every scalar and table the kernels need, in kernel units; see :func:`kernel_params`.

    ``competition``, ``plasticity``, ``threshold`` and ``between`` are the kernel
    records of the model's parts; their types select the code Numba compiles.
    ``quantise`` is the weight format (:mod:`spikedyn.core.quantise`). ``known_sums``: whether
    the normalisation may reuse the column sums of its previous call for the columns nothing
    wrote to (see :func:`spikedyn.models.stdp._normalize_columns`): when the rule changes weights
    only on spikes (it does not scan them after a presentation) and they are stored as float64
    (a rounding after the normalisation would change them).
    """

    exc: LifParams
    trace_tables: tuple
    competition: Any
    plasticity: Any
    threshold: Any
    between: Any
    quantise: Any
    dt_ms: float
    present_steps: int
    rest_steps: int
    rate_hz_per_unit: float
    retry_rate_hz_per_unit: float
    min_spikes: int
    max_presentations: int
    normalise_mean_pixel: float
    max_gain: float
    known_sums: bool


def kernel_signature(config) -> str:
    """A short hash of the Numba types of ``config``'s kernel arguments (:func:`kernel_params`).

    Two configs with the same signature run the same compiled kernels (the model's parts,
    the weight storage; not the sizes or the parameter values), so one compilation, cached
    on disk, serves both: the executors' warm-ups compile once per signature."""
    import hashlib

    return hashlib.sha256(str(numba.typeof(kernel_params(config))).encode()).hexdigest()[:16]


def kernel_params(config, seed: int = 0, neurons: tuple[int, int] | None = None) -> KernelParams:
    """The one place where a :class:`NetworkConfig` (and, for parts that draw from it, the
    network's seed) becomes kernel arguments; ``neurons = (lo, hi)``: those of the block of
    neurons ``lo..hi-1`` of a network simulated in blocks (:mod:`spikedyn.simulation.blocks`)."""
    t, e = config.timing, config.excitatory
    model = models.get(config.model)
    records = model.kernel_records(config, seed, neurons)
    return KernelParams(
        # The excitatory population without its threshold dynamics (the threshold
        # part's record has those).
        exc=lif_params(
            dt_ms=t.dt_ms, tau_m_ms=e.tau_m_ms, v_rest_mv=e.v_rest_mv, v_reset_mv=e.v_reset_mv,
            v_thresh_mv=e.v_thresh_mv - e.theta_offset_mv, e_exc_mv=e.e_exc_mv, e_inh_mv=e.e_inh_mv,
            tau_ge_ms=e.tau_ge_ms, tau_gi_ms=e.tau_gi_ms, refractory_ms=e.refractory_ms, lockout_ms=e.lockout_ms,
        ),
        trace_tables=trace_tables(config),
        **records,
        quantise=quantise_record(config, seed, 0 if neurons is None else neurons[0]),
        dt_ms=t.dt_ms,
        present_steps=t.present_steps,
        rest_steps=t.rest_steps,
        rate_hz_per_unit=config.input.rate_hz_per_unit,
        retry_rate_hz_per_unit=config.input.retry_rate_hz_per_unit,
        min_spikes=config.input.min_spikes,
        max_presentations=config.input.max_presentations,
        normalise_mean_pixel=float(config.input.normalise_mean_pixel),
        max_gain=float(config.input.max_gain),
        known_sums=(config.precision.weight_bits == 64
                    and not model.parts["plasticity"].operation_profile(config)["scans_weights"]),
    )


#: The model whose learning parts stand in for every model's in inference (:func:`inference_params`).
INFERENCE_STAND_IN = "diehl-cook"


def inference_params(config, kp: KernelParams) -> KernelParams:
    """``kp`` (:func:`kernel_params` of ``config``) as inference runs it: learning off.

    Inference runs only the competition, the input's transmission and the weight storage; the
    threshold's dynamics, the step between presentations and the learning rule's pathways are
    never called (:func:`spikedyn.simulation.loop._present` and ``_run_steps`` run them only when
    learning). Their records are replaced here by those of :data:`INFERENCE_STAND_IN`'s parts, and
    so is the rule's when it transmits as Diehl & Cook (its ``transmit`` hook is
    :func:`spikedyn.models.stdp._stdp_transmit`): every model with the same competition,
    transmission and weight storage then runs one compiled inference kernel rather than one each
    (Numba compiles a kernel per combination of record types). The loop that runs is the same
    code on the same arrays, so the responses are the same, bit for bit (checked once for every
    registered model; the suite tests each model's responses against its naive twin and Brian2).
    A rule with a transmission of its own (the delays) keeps its record.
    """
    parts = models.get(INFERENCE_STAND_IN).parts
    plasticity = kp.plasticity
    if transmit.impls.get(type(plasticity)) is _stdp_transmit:
        plasticity = parts["plasticity"].record(config)
    return kp._replace(plasticity=plasticity, threshold=parts["threshold"].record(config),
                       between=parts["between"].record(config))


class Excitatory(NamedTuple):
    """State of the excitatory population: ``v, ge, gi`` (float64, (N,)) and ``last_spike``
    (int64, (N,), step of the last spike, for refractoriness). Thresholds are kept
    apart (``Network.theta``): they are learned, like the weights."""

    v: np.ndarray
    ge: np.ndarray
    gi: np.ndarray
    last_spike: np.ndarray


class State(NamedTuple):
    """Dynamic state of the network (everything but weights and thresholds), per
    population and per part: the excitatory neurons, the competition's population
    (:class:`~spikedyn.models.competition.Population`, empty without one), the plasticity's
    spike history (:class:`~spikedyn.core.traces.Traces`), and ``clock`` (int64,
    (1,)), the index of the next step."""

    exc: Excitatory
    competition: Population
    plasticity: Traces
    clock: np.ndarray


class Buffers(NamedTuple):
    """Scratch space of one simulation thread; contents are meaningless between calls.

    ``col_sum``, ``row_over``, ``col_next``, ``col_dirty``: the weight normalisation's (see
    :func:`spikedyn.models.stdp._normalize_columns`); within one batch of training, ``col_next``
    holds the column sums its last call left, valid when ``sums_known[0]``, for the columns not
    flagged in ``col_dirty``; ``normalised_at[0]``: the step of that call. Each batch starts
    with ``sums_known[0] = False`` (the weights may have been changed from Python in between).
    """

    step_ptr: np.ndarray
    pixels: np.ndarray
    scratch_steps: np.ndarray
    scratch_pixels: np.ndarray
    spikes: np.ndarray
    col_sum: np.ndarray
    row_over: np.ndarray  # set by the weight normalisation before each training presentation
    input_t0: np.ndarray  # (1,): the step at which the current presentation's input began
    col_next: np.ndarray
    col_dirty: np.ndarray
    normalised_at: np.ndarray
    sums_known: np.ndarray


class Recorder(NamedTuple):
    """What a recorded run keeps (length-0 arrays record nothing; see :func:`_recorder`).

    ``spike_step``, ``spike_neuron`` (int64, capacity C): every excitatory spike;
    ``n_spikes`` (int64, (1,)) counts them all (beyond C they are counted, not kept);
    ``attempt_ends`` (int64, (max_presentations,)): ``n_spikes`` at the end of each
    presentation of the current sample; ``v`` and ``threshold`` (float64, (S, N)):
    membrane potential after each step's update (before any reset, so a spike shows
    as a crossing) and the threshold ``v_thresh + theta`` in mV, for the first S steps
    recorded; ``n_steps`` (int64, (1,)) counts the steps recorded.
    """

    spike_step: np.ndarray
    spike_neuron: np.ndarray
    n_spikes: np.ndarray
    attempt_ends: np.ndarray
    v: np.ndarray
    threshold: np.ndarray
    n_steps: np.ndarray


@numba.njit(cache=True)
def _recorder(spike_capacity, max_presentations, step_capacity, n_neurons):
    return Recorder(np.empty(spike_capacity, np.int64), np.empty(spike_capacity, np.int64), np.zeros(1, np.int64),
                    np.zeros(max_presentations, np.int64), np.empty((step_capacity, n_neurons)),
                    np.empty((step_capacity, n_neurons)), np.zeros(1, np.int64))


@numba.njit(cache=True)
def _record_state(v, theta, v_thresh, out_v, out_threshold, row):
    """Copy ``v`` and ``v_thresh + theta`` into row ``row`` of the recordings."""
    for j in range(v.shape[0]):
        out_v[row, j] = v[j]
        out_threshold[row, j] = v_thresh + theta[j]


@numba.njit(cache=True)
def _new_state(kp, n_input, n_neurons):
    exc = Excitatory(np.empty(n_neurons), np.empty(n_neurons), np.empty(n_neurons), np.empty(n_neurons, np.int64))
    traces = _new_traces(kp.trace_tables, n_input, n_neurons, synapse_history(kp.plasticity, n_input, n_neurons),
                         synapse_significance(kp.plasticity, n_input, n_neurons))
    st = State(exc, competition_state(kp.competition, n_neurons), traces, np.zeros(1, np.int64))
    _rest_state(kp, st)
    return st


@numba.njit(cache=True)
def _rest_state(kp, st):
    """Put the network at rest, in place: resting potentials, no conductance, no spike history."""
    st.exc.v[:] = kp.exc.v_rest
    st.exc.ge[:] = 0.0
    st.exc.gi[:] = 0.0
    st.exc.last_spike[:] = NEVER
    competition_rest(kp.competition, st.competition)
    _traces_rest(st.plasticity)
    st.clock[0] = 0


@numba.njit(cache=True)
def _new_buffers(kp, n_input, n_neurons):
    capacity = n_input * kp.present_steps
    return Buffers(
        np.empty(kp.present_steps + 1, np.int64), np.empty(capacity, np.int32),
        np.empty(capacity, np.int32), np.empty(capacity, np.int32),
        np.empty(n_neurons, np.int32), np.empty(n_neurons), np.ones(n_input, np.bool_), np.zeros(1, np.int64),
        np.zeros(n_neurons), np.ones(n_neurons, np.bool_), np.zeros(1, np.int64), np.zeros(1, np.bool_),
    )



#: Arrays of the state that are derived from the config or scratch space, by part: rebuilt,
#: overwritten before they are read, never saved (what they hold between steps depends on how
#: the network was simulated, e.g. on how many threads).
NOT_SAVED = {"plasticity": DERIVED_TRACE_FIELDS, "competition": ("spikes",)}


def state_arrays(st: State) -> dict[str, np.ndarray]:
    """The state as flat named arrays (``"exc.v"``, ``"competition.v"``, ..., ``"clock"``), for saving."""
    out = {"clock": st.clock}
    for part in ("exc", "competition", "plasticity"):
        for name, array in getattr(st, part)._asdict().items():
            if name not in NOT_SAVED.get(part, ()):
                out[f"{part}.{name}"] = array
    return out


@numba.njit(cache=True)
def _sorted_list(items, count):
    """Sort the list ``items[:count[0]]`` and zero the rest of ``items``, in place."""
    n = count[0]
    items[:n].sort()
    items[n:] = 0


@numba.njit(cache=True)
def _canonical_lists(st):
    """Put the state's neuron lists in their canonical form, in place: the plasticity's recent
    neurons and the competition's active ones in ascending order, nothing after them.

    The kernels append to these lists in the order neurons become recent or active; that
    order changes no result (each neuron is updated on its own), but it depends on how the
    network was simulated (one thread, or blocks of neurons on several), and so would the
    saved state. Called after every batch of training (:class:`spikedyn.simulation.network.Network`).
    """
    _sorted_list(st.plasticity.recent, st.plasticity.n_recent)
    _sorted_list(st.competition.active, st.competition.n_active)

