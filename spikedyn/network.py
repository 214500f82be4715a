"""The network: Poisson inputs -> excitatory LIF layer, with the parts of its model.

A model (:mod:`spikedyn.models`) is a composition of parts: the competition between
excitatory neurons (:mod:`spikedyn.competition`), the plasticity of the
input->excitatory weights and what happens to them between presentations
(:mod:`spikedyn.plasticity`), and the adaptive threshold (:mod:`spikedyn.threshold`).
This module has the one time loop, :func:`_run_steps`, that runs any of them: it
calls each part's kernel hooks with the part's kernel record, and Numba compiles
one specialised loop per composition (:mod:`spikedyn.parts`).

Order of operations in one step, as in Brian2's default schedule
(groups -> thresholds -> synapses -> resets):

1. integrate the excitatory neurons (:mod:`spikedyn.neurons`; while learning, with
   the threshold rule) and find those above threshold;
2. input spikes of this step add their weights to ``ge`` and, when learning, the
   plasticity's ``on_pre`` runs; then its ``on_post`` for the excitatory spikes;
   then the competition: its own population (if any) is advanced, receives the
   excitatory spikes and inhibits the excitatory neurons (``compete``);
3. reset the excitatory neurons that fired (and, when learning, the threshold
   rule's reaction to the spikes).

With weights stored below float64 (``config.precision``, :mod:`spikedyn.quantise`),
the rows of the step's input spikes are rounded after the presynaptic pathway and the
columns of the neurons that fired after the postsynaptic one. The operation counters
(:mod:`spikedyn.operations`) are kept in local variables of the loop and stored once
per call.

Training presents each example for ``present_ms`` and lets the network rest with no
input for ``rest_ms``, with state carried over from example to example, as in the
reference implementations. Before every presentation the ``between`` part runs
(Diehl & Cook: weight normalisation). When the excitatory layer fires fewer than
``min_spikes`` times, the example is shown again at a higher rate (Diehl & Cook):
:func:`_present` is the one implementation of this present-and-retry protocol.

Inference (learning off) presents each example to the network at rest (``v =
v_rest``, conductances 0, no neuron refractory), with thresholds frozen, so each
response depends only on the example and its seed: samples are independent, run in
parallel, and give the same result in any order or thread count.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

import numba
import numpy as np
from tqdm.auto import tqdm

from . import interrupt, models
from .interrupt import Interrupted
from .competition import Population, compete, competition_rest, competition_state
from .config import NetworkConfig, check_seed
from .encoding import STREAM_ASSIGN, STREAM_TEST, STREAM_TRAIN, _poisson_events, _presentation_seed
from .errors import ConfigError, NumericalError
from .operations import (
    C_COMPETITION_SPIKES,
    C_COMPETITION_UPDATES,
    C_DEPRESSION_VISITS,
    C_EXC_SPIKES,
    C_INPUT_SPIKES,
    C_PRESENTATIONS,
    C_SAMPLES,
    C_STEPS,
    PHASES,
    derive,
    new_counters,
    tally_dict,
)
from .neurons import NEVER, LifParams, _lif_integrate_frozen, _lif_spikes, _reset, lif_params
from .plasticity import (
    DERIVED_TRACE_FIELDS,
    Traces,
    _new_traces,
    _traces_rest,
    after_presentation,
    before_presentation,
    on_post,
    on_pre,
    synapse_history,
    synapse_significance,
    transmit,
    trace_tables,
)
from .quantise import (
    FLOAT64,
    SITE_AFTER,
    SITE_BEFORE,
    SITE_COLUMNS,
    SITE_INITIAL,
    SITE_ROWS,
    _quantise_all,
    round_all,
    round_columns,
    round_rows,
)
from .quantise import record as quantise_record
from .threshold import threshold_integrate, threshold_on_spikes


class KernelParams(NamedTuple):
    """Every scalar and table the kernels need, in kernel units; see :func:`kernel_params`.

    ``competition``, ``plasticity``, ``threshold`` and ``between`` are the kernel
    records of the model's parts; their types select the code Numba compiles.
    ``quantise`` is the weight format (:mod:`spikedyn.quantise`).
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


def kernel_params(config: NetworkConfig, seed: int = 0) -> KernelParams:
    """The one place where a :class:`NetworkConfig` (and, for parts that draw from it, the
    network's seed) becomes kernel arguments."""
    t, e = config.timing, config.excitatory
    records = models.get(config.model).kernel_records(config, seed)
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
        quantise=quantise_record(config, seed),
        dt_ms=t.dt_ms,
        present_steps=t.present_steps,
        rest_steps=t.rest_steps,
        rate_hz_per_unit=config.input.rate_hz_per_unit,
        retry_rate_hz_per_unit=config.input.retry_rate_hz_per_unit,
        min_spikes=config.input.min_spikes,
        max_presentations=config.input.max_presentations,
    )


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
    (:class:`~spikedyn.competition.Population`, empty without one), the plasticity's
    spike history (:class:`~spikedyn.plasticity.Traces`), and ``clock`` (int64,
    (1,)), the index of the next step."""

    exc: Excitatory
    competition: Population
    plasticity: Traces
    clock: np.ndarray


class Buffers(NamedTuple):
    """Scratch space of one simulation thread; contents are meaningless between calls."""

    step_ptr: np.ndarray
    pixels: np.ndarray
    scratch_steps: np.ndarray
    scratch_pixels: np.ndarray
    spikes: np.ndarray
    col_sum: np.ndarray
    row_over: np.ndarray  # set by the weight normalisation before each training presentation
    input_t0: np.ndarray  # (1,): the step at which the current presentation's input began


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
    )


@numba.njit(cache=True)
def _run_steps(kp, st, buf, w, theta, n_steps, with_input, learn, counts, rec, ops):
    """Simulate ``n_steps`` steps from ``st.clock[0]``; update state, ``w`` and ``theta`` in place.

    With ``with_input``, step ``s`` delivers the input events
    ``buf.pixels[buf.step_ptr[s]:buf.step_ptr[s + 1]]`` and excitatory spikes are
    added to ``counts`` (int32, (N,)). With ``learn``, plasticity and threshold
    adaptation are on. ``rec`` (:class:`Recorder`) receives the spikes (and, if it
    has room for them, the membrane potentials and thresholds). ``ops`` (int64,
    (len(COUNTERS),)) receives the operation counters of :mod:`spikedyn.operations`,
    taken once per step from quantities the loop already has, in local variables
    stored once at the end; ``ops=None`` counts nothing, and Numba then compiles a
    loop without the counting code (each ``if ops is not None`` is pruned at compile
    time): counting off is free. (With a zero-length array and a run-time test
    instead, training was 10-20 % slower with the counters off, measured.)
    """
    # Every array is taken out of its tuple once, here, and the hooks get plain
    # arrays: reading ``st.exc.v`` inside the loop, or passing a tuple of arrays to a
    # function, costs atomic reference-count updates each time (all reference
    # counting together was ~10% of the training time, measured with perf).
    exc, comp, plast, thr, qz = kp.exc, kp.competition, kp.plasticity, kp.threshold, kp.quantise
    v, ge, gi, last_spike = st.exc
    cv, cge, cgi, clast, cactive, cis_active, cn_active, cspikes = st.competition
    (last_pre, last_post, recent, is_recent, n_recent, pre_now, post1_now, pre_tab, post1_tab, post2_tab,
     last_arrival, activity, rate, significance, updates) = st.plasticity
    step_ptr, pixels, spikes, row_over, input_t0 = buf.step_ptr, buf.pixels, buf.spikes, buf.row_over, buf.input_t0
    rec_step, rec_neuron, rec_n, rec_v, rec_threshold, rec_n_steps = (
        rec.spike_step, rec.spike_neuron, rec.n_spikes, rec.v, rec.threshold, rec.n_steps)
    n_rec = rec_n[0]
    spike_capacity = rec_step.shape[0]
    step_capacity = rec_v.shape[0]
    t0 = st.clock[0]
    if with_input:
        input_t0[0] = t0
    post1_now[:] = 0.0  # only the recent neurons' entries are ever refreshed
    n_input_spikes = n_exc_spikes = n_comp_spikes = n_comp_updates = n_visits = 0
    any_row_over = False  # row_over changes only between presentations
    if ops is not None and learn:
        for i in range(row_over.shape[0]):
            if row_over[i]:
                any_row_over = True
                break
    for s in range(n_steps):
        t = t0 + s
        # groups + thresholds
        if learn:
            n_e = threshold_integrate(thr, exc, v, ge, gi, theta, last_spike, t)
        else:
            n_e = _lif_integrate_frozen(exc, v, ge, gi, theta, last_spike, t)
        if n_e > 0:
            n_e = _lif_spikes(exc, v, theta, last_spike, t, spikes)
        if step_capacity > 0 and rec_n_steps[0] < step_capacity:
            _record_state(v, theta, exc.v_thresh, rec_v, rec_threshold, rec_n_steps[0])
            rec_n_steps[0] += 1
        # synapses: input -> excitatory, presynaptic pathway (transmission, and plasticity when learning)
        lo = step_ptr[s] if with_input else 0
        hi = step_ptr[s + 1] if with_input else 0
        if learn:
            on_pre(plast, t, True, w, ge, pixels, lo, hi, step_ptr, input_t0, row_over, last_pre, last_post, recent,
                   is_recent, n_recent, pre_now, post1_now, pre_tab, post1_tab, post2_tab, last_arrival, activity,
                   rate, significance, updates)
            round_rows(qz, w, pixels, lo, hi, t, SITE_ROWS)
        else:
            transmit(plast, t, w, ge, pixels, lo, hi, step_ptr, input_t0)
        # synapses: input -> excitatory, postsynaptic pathway
        if learn and n_e > 0:
            on_post(plast, t, w, spikes, n_e, last_pre, last_post, recent, is_recent, n_recent, pre_now, post1_now,
                    pre_tab, post1_tab, post2_tab, last_arrival, activity, rate, significance, updates)
            round_columns(qz, w, spikes, n_e, t, SITE_COLUMNS)
        if ops is not None:
            n_input_spikes += hi - lo
            n_exc_spikes += n_e
            n_comp_updates += cn_active[0]
            if learn:
                if any_row_over:  # rare: the normalisation left a weight above w_max
                    n_visits += _depression_visits(pixels, lo, hi, row_over, n_recent[0], w.shape[1])
                else:
                    n_visits += (hi - lo) * n_recent[0]
        # synapses: competition (and its own population)
        n_own = compete(comp, t, gi, spikes, n_e, cv, cge, cgi, clast, cactive, cis_active, cn_active, cspikes)
        if ops is not None:
            n_comp_spikes += n_own
        # resets
        _reset(exc, v, last_spike, t, spikes, n_e)
        if learn:
            threshold_on_spikes(thr, theta, spikes, n_e)
        if with_input:
            for k in range(n_e):
                counts[spikes[k]] += 1
        for k in range(n_e):
            if n_rec < spike_capacity:
                rec_step[n_rec] = t
                rec_neuron[n_rec] = spikes[k]
            n_rec += 1
    rec_n[0] = n_rec
    st.clock[0] = t0 + n_steps
    if ops is not None:
        ops[C_STEPS] += n_steps
        ops[C_INPUT_SPIKES] += n_input_spikes
        ops[C_EXC_SPIKES] += n_exc_spikes
        ops[C_COMPETITION_SPIKES] += n_comp_spikes
        ops[C_COMPETITION_UPDATES] += n_comp_updates
        ops[C_DEPRESSION_VISITS] += n_visits


@numba.njit(cache=True)
def _depression_visits(pixels, lo, hi, row_over, n_recent, n_neurons):
    """Synapses the event-driven depression visits for the input spikes ``pixels[lo:hi]``: the
    recent neurons' (``n_recent``), or the whole row where the normalisation left a weight
    above ``w_max`` (see :func:`spikedyn.plasticity._depress_inputs`). One read per spike."""
    visits = 0
    for e in range(lo, hi):
        visits += n_neurons if row_over[pixels[e]] else n_recent
    return visits


@numba.njit(cache=True)
def _present(kp, st, buf, w, theta, image, seed, stream, index, learn, counts, rec, ops):
    """Present one image until it drives ``min_spikes`` spikes (or attempts run out).

    The present-and-retry protocol of Diehl & Cook, written once for spikedyn.
    Learning: the ``between`` part (normalisation) runs before each presentation, a
    rest period with no input follows it, and then the plasticity's
    ``after_presentation`` step (rules that adapt between presentations). Inference: each presentation starts from
    the rest state. ``counts`` (int32, (N,)) receives the spike counts of the last
    presentation; ``rec.attempt_ends[a]`` the number of spikes recorded when
    presentation ``a`` ended; ``ops`` the operation counters (see :func:`_run_steps`).
    Returns the number of presentations.
    """
    attempt = 0
    while True:
        if learn:
            before_presentation(kp.between, w, buf.col_sum, buf.row_over)
            round_all(kp.quantise, w, st.clock[0], SITE_BEFORE)
        else:
            _rest_state(kp, st)
        rate = kp.rate_hz_per_unit + attempt * kp.retry_rate_hz_per_unit
        sd = _presentation_seed(np.uint64(seed), np.uint64(stream), np.uint64(index), np.uint64(attempt))
        _poisson_events(image, rate, kp.dt_ms, kp.present_steps, sd,
                        buf.step_ptr, buf.pixels, buf.scratch_steps, buf.scratch_pixels)
        counts[:] = 0
        _run_steps(kp, st, buf, w, theta, kp.present_steps, True, learn, counts, rec, ops)
        if learn:
            _run_steps(kp, st, buf, w, theta, kp.rest_steps, False, True, counts, rec, ops)
            tr = st.plasticity
            after_presentation(kp.plasticity, w, theta, counts, tr.activity, tr.rate, tr.significance, tr.updates)
            round_all(kp.quantise, w, st.clock[0], SITE_AFTER)
        if attempt < rec.attempt_ends.shape[0]:
            rec.attempt_ends[attempt] = rec.n_spikes[0]
        attempt += 1
        if ops is not None:
            ops[C_PRESENTATIONS] += 1
        if counts.sum() >= kp.min_spikes or attempt >= kp.max_presentations:
            return attempt


@numba.njit(cache=True)
def _first_nonfinite(a):
    """Index of the first non-finite entry of ``a``, or -1."""
    for i in range(a.shape[0]):
        if not np.isfinite(a[i]):
            return i
    return -1


@numba.njit(cache=True)
def _state_finite(exc, theta):
    """Whether the excitatory neurons' state and thresholds are finite (checked once per sample)."""
    return (_first_nonfinite(exc.v) < 0 and _first_nonfinite(exc.ge) < 0 and _first_nonfinite(exc.gi) < 0
            and _first_nonfinite(theta) < 0)


@numba.njit(cache=True)
def _present_batch(kp, st, buf, w, theta, images, seed, stream, first_index, learn, counts_out, attempts_out, ops,
                   stop, bad):
    """Present ``images`` (uint8, (K, n_input)) one after the other through :func:`_present`:
    sample k uses index ``first_index + k`` of ``stream``; its spike counts go to
    ``counts_out[k]`` and its number of presentations to ``attempts_out[k]``.

    Before each sample reads ``stop[0]`` (:data:`spikedyn.interrupt.STOP`) and returns if
    it is set; after each sample checks that the neurons' state and thresholds are
    finite, and if not sets ``bad[0] = k`` and returns. Returns the samples done.
    """
    no_rec = _recorder(0, 0, 0, 0)
    done = 0
    for k in range(images.shape[0]):
        if stop[0]:
            break
        attempts_out[k] = _present(kp, st, buf, w, theta, images[k], seed, stream, first_index + k, learn,
                                   counts_out[k], no_rec, ops)
        done = k + 1
        if not _state_finite(st.exc, theta):
            bad[0] = k
            break
    if ops is not None:
        ops[C_SAMPLES] += done
    return done


@numba.njit(cache=True, nogil=True)
def _train_batch(kp, st, buf, w, theta, images, seed, first_index, counts_out, attempts_out, ops, stop, bad):
    """Train on ``images`` (uint8, (K, n_input)) in order; weights, thresholds and state in place.

    Sample k uses training-stream index ``first_index + k``. Writes each sample's
    final spike counts to ``counts_out`` (int32, (K, N)) and its number of
    presentations to ``attempts_out`` (int32, (K,)); adds to the operation counters ``ops``.
    Stops early on ``stop`` or a non-finite state (:func:`_present_batch`); returns the
    samples done.
    """
    return _present_batch(kp, st, buf, w, theta, images, seed, STREAM_TRAIN, first_index, True, counts_out,
                          attempts_out, ops, stop, bad)


@numba.njit(cache=True, nogil=True)
def _infer_batch(kp, w, theta, images, seed, stream, first_index, counts_out, ops, stop, bad):
    """Responses of the frozen network to ``images`` (uint8, (K, n_input)).

    Each sample starts from rest, so the result depends only on the sample and its
    stream index: batches can run on several threads at once (the GIL is released).
    Writes spike counts to ``counts_out`` (int32, (K, N)); adds to the operation
    counters ``ops`` (one array per thread). Stops early on ``stop`` or a non-finite
    state (:func:`_present_batch`); returns the samples done.
    """
    n_input, n_neurons = w.shape
    return _present_batch(kp, _new_state(kp, n_input, n_neurons), _new_buffers(kp, n_input, n_neurons), w, theta,
                          images, seed, stream, first_index, False, counts_out,
                          np.empty(images.shape[0], np.int32), ops, stop, bad)


def state_arrays(st: State) -> dict[str, np.ndarray]:
    """The state as flat named arrays (``"exc.v"``, ``"competition.v"``, ..., ``"clock"``), for saving."""
    out = {"clock": st.clock}
    for part in ("exc", "competition", "plasticity"):
        for name, array in getattr(st, part)._asdict().items():
            if not (part == "plasticity" and name in DERIVED_TRACE_FIELDS):
                out[f"{part}.{name}"] = array
    return out


@dataclass(frozen=True)
class TrainStats:
    """Summary of one call to :meth:`Network.train`."""

    train_samples: int
    presentations: int
    wall_seconds: float
    samples_per_second: float
    mean_spikes_per_sample: float
    #: Excitatory spikes of the samples' last presentations, in total.
    spikes: int = 0


def _check_images(images, n_input: int) -> np.ndarray:
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise ConfigError(f"images must be uint8 (0-255), got dtype {images.dtype}")
    if images.ndim == 3:
        images = images.reshape(images.shape[0], -1)
    if images.ndim != 2 or images.shape[1] != n_input:
        raise ConfigError(
            f"images must have shape (n, {n_input}) or (n, rows, cols) with rows*cols={n_input}, "
            f"got {images.shape}"
        )
    return np.ascontiguousarray(images)


def _check_batch_size(batch_size: int) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ConfigError(f"batch_size must be a positive integer, got {batch_size!r}")


class SpikeRecord(NamedTuple):
    """Every excitatory spike of a recorded run.

    Attributes
    ----------
    sample, presentation, step, neuron : int64 arrays, shape (n_spikes,)
        Sample position in the call, presentation attempt (0 = first), step within
        the presentation (during training, steps ``present_steps`` and above are the
        rest period) and excitatory neuron; sorted in this lexicographic order.
    presentations : int32 array, shape (n_samples,)
        Presentations each sample needed.
    """

    sample: np.ndarray
    presentation: np.ndarray
    step: np.ndarray
    neuron: np.ndarray
    presentations: np.ndarray


def make_spike_record(sample, presentation, step, neuron, presentations) -> SpikeRecord:
    """A :class:`SpikeRecord` from unsorted columns (sorted lexicographically)."""
    cols = [np.asarray(c, dtype=np.int64).reshape(-1) for c in (sample, presentation, step, neuron)]
    order = np.lexsort(cols[::-1])
    return SpikeRecord(*(c[order] for c in cols), np.asarray(presentations, dtype=np.int32))


@dataclass(frozen=True)
class Response:
    """What :meth:`Network.respond` returns with ``record=``.

    Attributes
    ----------
    counts : int32 array, shape (n_samples, n_neurons)
        Spike counts of each sample's last presentation.
    spikes : SpikeRecord
        Every excitatory spike.
    dt_ms : float
        Time step; ``step * dt_ms`` is the time within the presentation.
    v_mv, threshold_mv : list of float64 arrays, or None
        With ``record="voltages"``: per sample, arrays of shape
        (presentations, steps per presentation, n_neurons): the membrane potential
        after each step's update (before a spike's reset, so a spike shows as a
        crossing) and the threshold ``v_thresh + theta`` (mV).
    """

    counts: np.ndarray
    spikes: SpikeRecord
    dt_ms: float
    v_mv: list | None = None
    threshold_mv: list | None = None


#: At most this many samples can be recorded with ``record="voltages"``.
MAX_VOLTAGE_SAMPLES = 50
RECORD_CHOICES = (None, "spikes", "voltages")


def warm_up(config: NetworkConfig, *, learn: bool, seed: int = 0, record: bool = False) -> float:
    """Compile (or load from Numba's cache) the kernels ``config`` needs; returns the seconds taken.

    Runs one blank image through a throwaway network, so that later timings measure
    simulation only. ``learn`` selects the training kernels, else the inference ones;
    ``record`` the recording path (``respond(record=...)`` and its training twin).
    """
    start = time.perf_counter()
    scratch = Network(config, seed=seed)
    blank = np.zeros((1, config.n_input), np.uint8)
    if record:
        scratch._run_recorded(blank, learn=learn, stream=STREAM_TRAIN if learn else STREAM_TEST, first_index=0)
    elif learn:
        scratch.train(blank, progress=False)
    else:
        scratch.respond(blank, progress=False, n_jobs=1)
    return time.perf_counter() - start


def _check_labels(labels, n: int) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer):
        raise ConfigError(f"labels must be {n} integers (one per image), got {labels.dtype} {labels.shape}")
    return labels.astype(np.int64)


class Network:
    """A spikedyn network: weights, adaptive thresholds and dynamic state.

    Follows scikit-learn's conventions where they fit: :meth:`fit` learns from
    scratch and :meth:`partial_fit` goes on learning, both without labels;
    :meth:`assign` names the neurons from a labelled pass (learning off);
    :meth:`predict` and :meth:`score` classify. Every method that simulates is
    deterministic given the network's seed.

    Parameters
    ----------
    config : NetworkConfig
        The model and every parameter (``config.model`` names a registered model,
        see :mod:`spikedyn.models`).
    seed : int
        Seeds the initial weights and every presentation's input spikes
        (``0 <= seed < 2**63``).

    Attributes
    ----------
    weights : float64 array, shape (n_input, n_neurons)
        Input->excitatory weights.
    theta : float64 array, shape (n_neurons,)
        Adaptive threshold increments in mV.
    samples_seen : int
        Training samples presented so far (the next training-stream index).
    assignments_ : int64 array, shape (n_neurons,), or None
        Class of each neuron after :meth:`assign` (-1: never fired).
    train_stats_ : list of TrainStats
        One entry per call to :meth:`train` (or :meth:`fit`/:meth:`partial_fit`).
    count_operations : bool
        Whether the kernels count operations (:meth:`operations`; the counters cost
        little, see ``docs/cost.md``, and nothing when off).

    Examples
    --------
    >>> import spikedyn
    >>> x, y = spikedyn.load_mnist("train", n=2000)          # doctest: +SKIP
    >>> net = spikedyn.Network(spikedyn.NetworkConfig(n_neurons=100), seed=0)
    >>> net.fit(x[:1500]).assign(x[1500:], y[1500:])          # doctest: +SKIP
    """

    def __init__(self, config: NetworkConfig, *, seed: int = 0, count_operations: bool = True):
        if not isinstance(config, NetworkConfig):
            raise ConfigError(f"config must be a spikedyn.NetworkConfig, got {type(config).__name__}")
        if not isinstance(count_operations, bool):
            raise ConfigError(f"count_operations must be True or False, got {count_operations!r}")
        self.config = config
        self.seed = check_seed(seed)
        self.count_operations = count_operations
        self._kp = kernel_params(config, self.seed)
        self._init_learned_state()

    def _init_learned_state(self) -> None:
        config = self.config
        rng = np.random.default_rng(self.seed)
        s = config.stdp
        self.weights = rng.uniform(s.w_init_low, s.w_init_high, size=(config.n_input, config.n_neurons))
        if self._kp.quantise.mode != FLOAT64:
            _quantise_all(self._kp.quantise, self.weights, 0, SITE_INITIAL)
        self.theta = np.full(config.n_neurons, config.excitatory.theta_init_mv)
        self.samples_seen = 0
        self._state = _new_state(self._kp, config.n_input, config.n_neurons)
        self._buffers: Buffers | None = None
        self.assignments_: np.ndarray | None = None
        self.train_stats_: list[TrainStats] = []
        self.reset_operations()

    def reset_operations(self) -> None:
        """Zero the operation counters of both phases (:meth:`operations`)."""
        self._counters = {phase: new_counters(self.count_operations) for phase in PHASES}
        # the rule counts its weight updates for ever; those since now are the difference
        self._updates_at_reset = self._state.plasticity.updates.copy()

    def __repr__(self) -> str:
        return (f"Network(model={self.config.model!r}, n_neurons={self.config.n_neurons}, seed={self.seed}, "
                f"samples_seen={self.samples_seen})")

    # -- learning ---------------------------------------------------------------------
    def train(self, images, *, progress: bool = True, batch_size: int = 250, desc: str = "train",
              on_batch: Callable[[TrainStats], None] | None = None) -> TrainStats:
        """Learn from ``images`` (uint8, (n, n_input) or (n, rows, cols)) in order, without labels.

        Parameters
        ----------
        on_batch : callable, optional
            Called with the :class:`TrainStats` of this call so far after every batch
            of up to ``batch_size`` samples, when the network is consistent (e.g. to
            write a checkpoint, :mod:`spikedyn.checkpoint`).

        Returns
        -------
        TrainStats
            Samples, presentations, wall time and spikes of this call (also appended
            to :attr:`train_stats_`).

        Raises
        ------
        spikedyn.errors.NumericalError
            If a neuron's state, a threshold or a weight becomes non-finite (checked
            after every sample, weights after every batch); names the sample, the
            neuron and the step.
        spikedyn.interrupt.Interrupted
            On SIGINT/SIGTERM inside :func:`spikedyn.interrupt.stoppable`, after the
            current sample: the samples done are learned and counted, the rest not.
        """
        images = _check_images(images, self.config.n_input)
        _check_batch_size(batch_size)
        n = images.shape[0]
        if self._buffers is None:
            self._buffers = _new_buffers(self._kp, self.config.n_input, self.config.n_neurons)
        counts = np.zeros((min(batch_size, max(n, 1)), self.config.n_neurons), np.int32)
        attempts = np.zeros(counts.shape[0], np.int32)
        bad = np.full(1, -1, np.int64)
        done = presentations = spikes = 0
        start = time.perf_counter()

        def stats() -> TrainStats:
            wall = time.perf_counter() - start
            return TrainStats(train_samples=done, presentations=presentations, wall_seconds=wall,
                              samples_per_second=done / wall if wall > 0 else 0.0,
                              mean_spikes_per_sample=spikes / done if done else 0.0, spikes=spikes)

        with tqdm(total=n, desc=desc, unit="sample", disable=not progress, smoothing=0.1) as bar, \
                ThreadPoolExecutor(max_workers=1) as runner:
            while done < n:
                batch = images[done:min(done + batch_size, n)]
                before = self._snapshot()
                future = runner.submit(_train_batch, self._kp, self._state, self._buffers, self.weights, self.theta,
                                       batch, np.uint64(self.seed), np.uint64(self.samples_seen), counts, attempts,
                                       self._counters["train"], interrupt.STOP, bad)
                (k,), keyboard = _finish_all([future])
                presentations += int(attempts[:k].sum())
                spikes += int(counts[:k].sum())
                self.samples_seen += k
                done += k
                bar.update(k)
                if bad[0] >= 0 or not np.all(np.isfinite(self.weights)):
                    self._raise_nonfinite(before, batch)
                if keyboard:
                    raise KeyboardInterrupt
                if on_batch is not None:
                    on_batch(stats())
                if k < batch.shape[0]:  # stopped on request
                    self.train_stats_.append(stats())
                    interrupt.check()
        result = stats()
        self.train_stats_.append(result)
        return result

    # -- numerical guard ---------------------------------------------------------------
    def _snapshot(self) -> dict[str, Any]:
        """Copies of what training changes, to replay a batch that went non-finite."""
        return {"weights": self.weights.copy(), "theta": self.theta.copy(), "samples_seen": self.samples_seen,
                "state": {k: v.copy() for k, v in state_arrays(self._state).items()}}

    def _raise_nonfinite(self, before: dict[str, Any], batch: np.ndarray) -> None:
        """Replay ``batch`` from ``before``, one recorded sample at a time, and raise a
        NumericalError naming the first sample, neuron and step with a non-finite value."""
        self.weights[...] = before["weights"]
        self.theta[...] = before["theta"]
        self.samples_seen = before["samples_seen"]
        for name, array in state_arrays(self._state).items():
            array[...] = before["state"][name]
        for k in range(batch.shape[0]):
            index = self.samples_seen
            rec = self._run_recorded(batch[k:k + 1], learn=True, stream=STREAM_TRAIN, first_index=index,
                                     voltages=True)
            where = f"training sample {index} (training-stream index)"
            _raise_if_nonfinite_trace(rec, self.config, where)
            for name, array in (("weight", self.weights), ("threshold", self.theta)):
                if not np.all(np.isfinite(array)):
                    pos = np.argwhere(~np.isfinite(array))[0]
                    what = (f"the weight from input {pos[0]} to excitatory neuron {pos[1]}" if name == "weight"
                            else f"the threshold of excitatory neuron {pos[0]}")
                    raise NumericalError(f"{what} became {array[tuple(pos)]} during {where}: {_DIVERGED}")
            _raise_if_nonfinite_state(self._state.exc, where)
        raise NumericalError(f"a non-finite value appeared in a batch of {batch.shape[0]} training samples from "
                             f"index {before['samples_seen']} but not on replay: {_DIVERGED}")

    def partial_fit(self, images, *, progress: bool = False) -> "Network":
        """Go on learning from ``images`` in order (no labels); returns ``self``.

        Any earlier label assignment no longer describes the network and is dropped.
        """
        self.train(images, progress=progress)
        self.assignments_ = None
        return self

    def fit(self, images, *, epochs: int = 1, progress: bool = False) -> "Network":
        """Learn from scratch: re-initialise from the seed, then ``epochs`` passes over ``images``.

        Returns ``self``.
        """
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
            raise ConfigError(f"epochs must be a positive integer, got {epochs!r}")
        images = _check_images(images, self.config.n_input)
        self._init_learned_state()
        for epoch in range(int(epochs)):
            self.train(images, progress=progress, desc=f"epoch {epoch + 1}/{epochs}")
        return self

    def update_counts(self) -> dict[str, int]:
        """Weight updates of the learning rule so far, by kind (see ``spikedyn.plasticity.UPDATE_KINDS``)."""
        from .plasticity import UPDATE_KINDS

        return dict(zip(UPDATE_KINDS, (int(x) for x in self._state.plasticity.updates)))

    def operations(self, phase: str = "train") -> dict[str, Any]:
        """Counted operations of ``phase`` (``"train"`` or ``"inference"``) since the network was made
        (or :meth:`reset_operations`): ``{"tally": totals of the kernel counters and weight updates,
        "per_sample": {operation: {"model": x, "executed": y}}}`` (None before the first sample);
        see :mod:`spikedyn.operations`."""
        if phase not in PHASES:
            raise ConfigError(f"phase must be one of {', '.join(PHASES)}, got {phase!r}")
        updates = self._state.plasticity.updates - self._updates_at_reset if phase == "train" else None
        tally = tally_dict(self._counters[phase], updates)
        return {"tally": tally, "per_sample": derive(self.config, tally, phase) if tally["samples"] else None}

    # -- inference --------------------------------------------------------------------
    def respond(self, images, *, stream: int = STREAM_TEST, first_index: int = 0, n_jobs: int | None = None,
                progress: bool = True, batch_size: int = 500, desc: str = "respond", record: str | None = None):
        """Responses of the frozen network to each image (learning off, each from rest).

        Parameters
        ----------
        images : uint8 array, shape (n, n_input) or (n, rows, cols)
        stream : int
            Stream of input randomness (``spikedyn.encoding.STREAM_*``; default
            ``STREAM_TEST``); sample k uses index ``first_index + k`` in it.
        n_jobs : int, optional
            Threads (default: all cores). Batches of up to ``batch_size`` samples
            (fewer when that keeps all threads busy); the result is the same for
            any ``n_jobs`` and ``batch_size``.
        record : {None, "spikes", "voltages"}
            None: spike counts only (fast, parallel). ``"spikes"``: also every spike;
            ``"voltages"``: also membrane potentials and thresholds at every step
            (at most :data:`MAX_VOLTAGE_SAMPLES` samples). Recording runs on one thread.

        Returns
        -------
        int32 array, shape (n, n_neurons), or Response
            The spike counts of each sample's last presentation; with ``record``, a
            :class:`Response` holding them and the recordings.
        """
        images = _check_images(images, self.config.n_input)
        _check_batch_size(batch_size)
        stream = _check_index("stream", stream)
        first_index = _check_index("first_index", first_index)
        if record not in RECORD_CHOICES:
            raise ConfigError(f"record must be one of None, 'spikes', 'voltages', got {record!r}")
        if record is not None:
            return self._run_recorded(images, learn=False, stream=stream, first_index=first_index,
                                      voltages=record == "voltages", progress=progress, desc=desc)
        n = images.shape[0]
        out = np.zeros((n, self.config.n_neurons), np.int32)
        n_jobs = default_jobs() if n_jobs is None else n_jobs
        if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs < 1:
            raise ConfigError(f"n_jobs must be a positive integer, got {n_jobs!r}")
        n_jobs = int(n_jobs)
        batch_size = min(batch_size, max(1, -(-n // n_jobs)))  # at least one batch per thread
        bad: list[int] = []
        lock = threading.Lock()

        def run(lo: int) -> int:
            hi = min(lo + batch_size, n)
            ops = new_counters(self.count_operations)  # one per batch: threads never share one
            flag = np.full(1, -1, np.int64)
            k = _infer_batch(self._kp, self.weights, self.theta, images[lo:hi], np.uint64(self.seed),
                             np.uint64(stream), np.uint64(first_index + lo), out[lo:hi], ops, interrupt.STOP, flag)
            with lock:
                if ops is not None:
                    self._counters["inference"] += ops
                if flag[0] >= 0:
                    bad.append(lo + int(flag[0]))
            return k

        # Even one thread runs off the main thread, which then waits and can take a signal.
        with tqdm(total=n, desc=desc, unit="sample", disable=not progress, smoothing=0.1) as bar, \
                ThreadPoolExecutor(max_workers=n_jobs) as pool:
            starts = range(0, n, batch_size)
            done, keyboard = _finish_all([pool.submit(run, lo) for lo in starts], bar.update)
        if keyboard:
            raise KeyboardInterrupt
        interrupt.check()
        short = [lo for lo, k in zip(starts, done) if k < min(lo + batch_size, n) - lo]
        if short and not bad:  # stopped by a request that was withdrawn meanwhile: never return partial counts
            raise Interrupted()
        if bad:
            k = min(bad)
            rec = self._run_recorded(images[k:k + 1], learn=False, stream=stream, first_index=first_index + k,
                                     voltages=True)
            where = f"sample {k} of this call (stream {stream}, index {first_index + k}), learning off"
            _raise_if_nonfinite_trace(rec, self.config, where)
            raise NumericalError(f"a neuron's conductance became non-finite during {where}: {_DIVERGED}")
        return out

    def _run_recorded(self, images, *, learn: bool, stream: int, first_index: int, voltages: bool = False,
                      progress: bool = False, desc: str = "record") -> Response:
        """Run ``images`` sample by sample through :func:`_present` with recording on.

        ``learn=True`` is :meth:`train` (training stream, indices from
        :attr:`samples_seen`, state, weights and thresholds updated in place);
        ``learn=False`` is :meth:`respond` (each presentation from rest, nothing
        changed). Same kernels, same results, plus the recordings.
        """
        kp, c = self._kp, self.config
        n, n_in = c.n_neurons, c.n_input
        if voltages and images.shape[0] > MAX_VOLTAGE_SAMPLES:
            raise ConfigError(f"record='voltages' keeps every step of every neuron: at most {MAX_VOLTAGE_SAMPLES} "
                              f"samples, got {images.shape[0]}; record fewer, or use record='spikes'")
        if learn:
            st = self._state
            if self._buffers is None:
                self._buffers = _new_buffers(kp, n_in, n)
            buf = self._buffers
            stream, first_index = STREAM_TRAIN, self.samples_seen
        else:
            st = _new_state(kp, n_in, n)
            buf = _new_buffers(kp, n_in, n)
        period = kp.present_steps + (kp.rest_steps if learn else 0)
        gate = max(1, kp.exc.refractory_steps, kp.exc.lockout_steps)
        capacity = kp.max_presentations * n * (-(-period // gate))  # no neuron fires more often
        rec = _recorder(capacity, kp.max_presentations, kp.max_presentations * period if voltages else 0, n)
        counts = np.zeros((images.shape[0], n), np.int32)
        presentations = np.zeros(images.shape[0], np.int32)
        cols: list[list[np.ndarray]] = [[], [], [], []]
        v_mv: list[np.ndarray] = []
        threshold_mv: list[np.ndarray] = []
        ops = self._counters["train" if learn else "inference"]
        for k in tqdm(range(images.shape[0]), desc=desc, unit="sample", disable=not progress):
            rec.n_spikes[0] = 0
            rec.n_steps[0] = 0
            t0 = int(st.clock[0])
            attempts = _present(kp, st, buf, self.weights, self.theta, images[k], np.uint64(self.seed),
                                np.uint64(stream), np.uint64(first_index + k), learn, counts[k], rec, ops)
            n_rec = int(rec.n_spikes[0])
            if n_rec > capacity:  # cannot happen: no neuron fires faster than its gate allows
                raise RuntimeError(f"spike record overflow ({n_rec} > {capacity})")
            steps = rec.spike_step[:n_rec].copy()
            if learn:  # one clock across presentations
                attempt, steps = (steps - t0) // period, (steps - t0) % period
            else:  # the clock restarts at every presentation
                attempt = np.searchsorted(rec.attempt_ends[:attempts], np.arange(n_rec), side="right")
            presentations[k] = attempts
            for col, values in zip(cols, (np.full(n_rec, k), attempt, steps, rec.spike_neuron[:n_rec])):
                col.append(np.array(values, np.int64))  # a copy: the recorder is reused
            if voltages:
                v_mv.append(rec.v[:attempts * period].reshape(attempts, period, n).copy())
                threshold_mv.append(rec.threshold[:attempts * period].reshape(attempts, period, n).copy())
        if ops is not None:
            ops[C_SAMPLES] += images.shape[0]
        if learn:
            self.samples_seen = first_index + images.shape[0]
        spikes = make_spike_record(*(np.concatenate(c) if c else np.zeros(0, np.int64) for c in cols), presentations)
        return Response(counts=counts, spikes=spikes, dt_ms=c.timing.dt_ms,
                        v_mv=v_mv if voltages else None, threshold_mv=threshold_mv if voltages else None)

    # -- labels ------------------------------------------------------------------------
    def assign(self, images, labels, *, n_classes: int = 10, n_jobs: int | None = None,
               progress: bool = False) -> "Network":
        """Name each neuron by the class it responds to most (learning off); returns ``self``.

        The labelled pass uses the input stream ``STREAM_ASSIGN``. Sets
        :attr:`assignments_` (see :func:`spikedyn.readout.assign_labels`).
        """
        from .readout import assign_labels

        images = _check_images(images, self.config.n_input)
        labels = _check_labels(labels, images.shape[0])
        counts = self.respond(images, stream=STREAM_ASSIGN, n_jobs=n_jobs, progress=progress, desc="assign")
        self.assignments_ = assign_labels(counts, labels, n_classes)
        return self

    def _require_assignments(self) -> np.ndarray:
        if self.assignments_ is None:
            raise ConfigError("the network's neurons have no labels yet; call assign(images, labels) first")
        return self.assignments_

    def predict(self, images, *, n_jobs: int | None = None, progress: bool = False) -> np.ndarray:
        """Predicted class of each image (test stream): int64 array, shape (n,)."""
        from .readout import predict

        assignments = self._require_assignments()
        counts = self.respond(images, stream=STREAM_TEST, n_jobs=n_jobs, progress=progress, desc="predict")
        return predict(counts, assignments, max(10, int(assignments.max()) + 1))

    def score(self, images, labels, *, n_jobs: int | None = None, progress: bool = False) -> float:
        """Accuracy of :meth:`predict` on labelled images."""
        from .readout import accuracy

        images = _check_images(images, self.config.n_input)
        labels = _check_labels(labels, images.shape[0])
        return accuracy(labels, self.predict(images, n_jobs=n_jobs, progress=progress))

    # -- disk --------------------------------------------------------------------------
    def save(self, path, *, overwrite: bool = False):
        """Write the network to the run directory ``path``, atomically (see :mod:`spikedyn.runs`).

        With ``overwrite=False`` an existing non-empty directory is an error.
        Returns the path.
        """
        from .runs import save_run

        return save_run(path, self, overwrite=overwrite)

    @classmethod
    def load(cls, path) -> "Network":
        """The network saved in the run directory ``path``, exactly as it was."""
        from .runs import load_run

        return load_run(path)[0]


_DIVERGED = ("the simulation diverged; check the weights and the config (a smaller timing.dt_ms or "
             "learning rate), and report it if they are within the documented ranges")


def _finish_all(futures, on_done=None) -> tuple[list[int], bool]:
    """The samples each kernel running in ``futures`` did, and whether Ctrl-C arrived while
    waiting (outside :func:`spikedyn.interrupt.stoppable`, or a second one inside it).

    On Ctrl-C every kernel is asked to stop after its current sample and all are waited
    for (another Ctrl-C only repeats the request), so that the caller can keep its
    bookkeeping consistent before raising KeyboardInterrupt; the request is withdrawn
    once every kernel has returned. ``on_done(k)`` is called as each finishes.
    """
    done: list[int] = []
    keyboard = False
    for future in futures:
        while True:
            try:
                k = future.result()
                break
            except KeyboardInterrupt:
                keyboard = True
                interrupt.request()
        done.append(k)
        if on_done is not None:
            on_done(k)
    if keyboard:
        interrupt.clear()
    return done, keyboard


def _raise_if_nonfinite_trace(rec: "Response", config: NetworkConfig, where: str) -> None:
    """A NumericalError at the first non-finite membrane potential or threshold recorded in ``rec``."""
    for name, traces in (("membrane potential", rec.v_mv), ("threshold", rec.threshold_mv)):
        trace = traces[0]
        if not np.all(np.isfinite(trace)):
            p, step, j = np.argwhere(~np.isfinite(trace))[0]
            raise NumericalError(
                f"the {name} of excitatory neuron {j} became {trace[p, step, j]} at step {step} "
                f"({step * config.timing.dt_ms:g} ms) of presentation {p + 1} of {where}: {_DIVERGED}")


def _raise_if_nonfinite_state(exc: Excitatory, where: str) -> None:
    for name, array in (("excitatory conductance", exc.ge), ("inhibitory conductance", exc.gi)):
        if not np.all(np.isfinite(array)):
            j = int(np.argwhere(~np.isfinite(array))[0][0])
            raise NumericalError(f"the {name} of excitatory neuron {j} became {array[j]} during {where}: {_DIVERGED}")


def _check_index(name: str, value) -> int:
    """A stream or stream index: the same range as a seed (``config.check_seed``)."""
    return check_seed(value, name)


def default_jobs() -> int:
    """Threads for inference: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)
