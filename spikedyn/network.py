"""The network: Poisson inputs -> excitatory LIF layer with STDP and competition.

Two competition schemes (``config.model``):

``diehl-cook``
    An inhibitory layer: excitatory i excites inhibitory i one-to-one, inhibitory i
    inhibits every excitatory neuron except i (Diehl & Cook 2015).
``lateral``
    Direct lateral inhibition: an excitatory spike inhibits every other excitatory
    neuron in the same step; no inhibitory neurons (SpikeDyn, Putra & Shafique 2021).

Order of operations in one step, as in Brian2's default schedule
(groups -> thresholds -> synapses -> resets):

1. integrate every neuron (:mod:`spikedyn.neurons`) and find those above threshold;
2. input spikes of this step add their weights to ``ge`` and, when learning, apply
   the presynaptic STDP rule; then the postsynaptic rule for each excitatory spike
   (:mod:`spikedyn.plasticity`); then the inhibitory connections deliver;
3. reset the neurons that fired (and raise their thresholds when learning).

Training presents each example for ``present_ms`` and lets the network rest with no
input for ``rest_ms``, with state carried over from example to example, as in the
reference implementations. Weights are normalised before every presentation. When
the excitatory layer fires fewer than ``min_spikes`` times, the example is shown
again at a higher rate (Diehl & Cook).

Inference (learning off) presents each example to the network at rest (``v =
v_rest``, conductances 0, no neuron refractory), with thresholds frozen, so each
response depends only on the example and its seed: samples are independent, run in
parallel, and give the same result in any order or thread count.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import NamedTuple

import numba
import numpy as np
from tqdm.auto import tqdm

from .config import NetworkConfig
from .encoding import STREAM_TRAIN, _poisson_events, _presentation_seed
from .errors import ConfigError
from .neurons import (
    NEVER,
    LifParams,
    _lif_integrate,
    _lif_integrate_frozen,
    _lif_spikes,
    _lif_step_active,
    _reset,
    lif_params,
)
from .plasticity import (
    _decay_table,
    _depress_inputs,
    _normalize_columns,
    _potentiate_column,
    _trace,
    _traces_now,
)


class KernelParams(NamedTuple):
    """Every scalar and table the kernels need, in kernel units; see :func:`kernel_params`."""

    exc: LifParams
    inh: LifParams
    lateral: bool
    w_exc_inh: float
    w_inh_exc: float
    w_lateral: float
    nu_pre: float
    nu_post: float
    w_max: float
    weight_sum: float
    pre_table: np.ndarray
    post1_table: np.ndarray
    post2_table: np.ndarray
    dt_ms: float
    present_steps: int
    rest_steps: int
    rate_hz_per_unit: float
    retry_rate_hz_per_unit: float
    min_spikes: int
    max_presentations: int


def kernel_params(config: NetworkConfig) -> KernelParams:
    """The one place where a :class:`NetworkConfig` becomes kernel arguments."""
    t = config.timing
    e, i, s = config.excitatory, config.inhibitory, config.stdp
    dt = t.dt_ms
    return KernelParams(
        exc=lif_params(
            dt_ms=dt, tau_m_ms=e.tau_m_ms, v_rest_mv=e.v_rest_mv, v_reset_mv=e.v_reset_mv,
            v_thresh_mv=e.v_thresh_mv - e.theta_offset_mv, e_exc_mv=e.e_exc_mv, e_inh_mv=e.e_inh_mv,
            tau_ge_ms=e.tau_ge_ms, tau_gi_ms=e.tau_gi_ms, refractory_ms=e.refractory_ms,
            lockout_ms=e.lockout_ms, tau_theta_ms=e.tau_theta_ms, theta_plus_mv=e.theta_plus_mv,
        ),
        inh=lif_params(
            dt_ms=dt, tau_m_ms=i.tau_m_ms, v_rest_mv=i.v_rest_mv, v_reset_mv=i.v_reset_mv,
            v_thresh_mv=i.v_thresh_mv, e_exc_mv=i.e_exc_mv, e_inh_mv=i.e_inh_mv,
            tau_ge_ms=i.tau_ge_ms, refractory_ms=i.refractory_ms,
        ),
        lateral=config.model == "lateral",
        w_exc_inh=i.w_exc_inh,
        w_inh_exc=i.w_inh_exc,
        w_lateral=config.lateral.w_lateral,
        nu_pre=s.nu_pre,
        nu_post=s.nu_post,
        w_max=s.w_max,
        weight_sum=s.weight_sum,
        pre_table=_decay_table(s.tau_pre_ms / dt),
        post1_table=_decay_table(s.tau_post1_ms / dt),
        post2_table=_decay_table(s.tau_post2_ms / dt),
        dt_ms=dt,
        present_steps=t.present_steps,
        rest_steps=t.rest_steps,
        rate_hz_per_unit=config.input.rate_hz_per_unit,
        retry_rate_hz_per_unit=config.input.retry_rate_hz_per_unit,
        min_spikes=config.input.min_spikes,
        max_presentations=config.input.max_presentations,
    )


class State(NamedTuple):
    """Dynamic state of the network (everything but weights and thresholds).

    Excitatory ``v, ge, gi`` (float64, (N,)), ``last_spike`` (int64, (N,), step of the
    last spike, for refractoriness) and ``last_post`` (int64, (N,), step of the last
    spike seen by STDP); inhibitory ``vi, gei, gii, last_spike_i`` ((N,) for
    ``diehl-cook``, (0,) for ``lateral``) and the list of inhibitory neurons not at
    rest, ``active_i[:n_active_i[0]]`` with membership flags ``is_active_i``
    (see :func:`spikedyn.neurons._lif_step_active`); ``last_pre`` (int64,
    (n_input,)); the excitatory neurons whose STDP trace ``post1`` may be non-zero,
    ``recent_post[:n_recent_post[0]]`` with flags ``is_recent_post`` (every other
    neuron's ``post1`` is exactly 0); ``clock`` (int64, (1,)), the index of the next step.
    """

    v: np.ndarray
    ge: np.ndarray
    gi: np.ndarray
    last_spike: np.ndarray
    last_post: np.ndarray
    vi: np.ndarray
    gei: np.ndarray
    gii: np.ndarray
    last_spike_i: np.ndarray
    active_i: np.ndarray
    is_active_i: np.ndarray
    n_active_i: np.ndarray
    last_pre: np.ndarray
    recent_post: np.ndarray
    is_recent_post: np.ndarray
    n_recent_post: np.ndarray
    clock: np.ndarray


class Buffers(NamedTuple):
    """Scratch space of one simulation thread; contents are meaningless between calls."""

    step_ptr: np.ndarray
    pixels: np.ndarray
    scratch_steps: np.ndarray
    scratch_pixels: np.ndarray
    spikes_exc: np.ndarray
    spikes_inh: np.ndarray
    pre_now: np.ndarray
    post1_now: np.ndarray
    col_sum: np.ndarray
    row_over: np.ndarray  # set by the weight normalisation before each training presentation
    no_theta: np.ndarray


@numba.njit(cache=True)
def _new_state(kp, n_input, n_neurons):
    n_inh = 0 if kp.lateral else n_neurons
    st = State(
        np.empty(n_neurons), np.empty(n_neurons), np.empty(n_neurons),
        np.empty(n_neurons, np.int64), np.empty(n_neurons, np.int64),
        np.empty(n_inh), np.empty(n_inh), np.empty(n_inh), np.empty(n_inh, np.int64),
        np.zeros(n_inh, np.int32), np.zeros(n_inh, np.bool_), np.zeros(1, np.int64),
        np.empty(n_input, np.int64),
        np.zeros(n_neurons, np.int32), np.zeros(n_neurons, np.bool_), np.zeros(1, np.int64),
        np.zeros(1, np.int64),
    )
    _rest_state(kp, st)
    return st


@numba.njit(cache=True)
def _rest_state(kp, st):
    """Put the network at rest, in place: resting potentials, no conductance, no spike history."""
    st.v[:] = kp.exc.v_rest
    st.ge[:] = 0.0
    st.gi[:] = 0.0
    st.last_spike[:] = NEVER
    st.last_post[:] = NEVER
    st.vi[:] = kp.inh.v_rest
    st.gei[:] = 0.0
    st.gii[:] = 0.0
    st.last_spike_i[:] = NEVER
    st.is_active_i[:] = False  # at rest: a fixed point, see _lif_step_active
    st.n_active_i[0] = 0
    st.last_pre[:] = NEVER
    st.is_recent_post[:] = False
    st.n_recent_post[0] = 0
    st.clock[0] = 0


@numba.njit(cache=True)
def _new_buffers(kp, n_input, n_neurons):
    capacity = n_input * kp.present_steps
    return Buffers(
        np.empty(kp.present_steps + 1, np.int64), np.empty(capacity, np.int32),
        np.empty(capacity, np.int32), np.empty(capacity, np.int32),
        np.empty(n_neurons, np.int32), np.empty(n_neurons, np.int32),
        np.empty(n_input), np.empty(n_neurons), np.empty(n_neurons), np.ones(n_input, np.bool_), np.empty(0),
    )


@numba.njit(cache=True)
def _deliver_events(ge, w, pixels, lo, hi):
    """The input spikes ``pixels[lo:hi]`` of one step, in order: ``ge += w[i]`` (in place).

    Spikes go two at a time (an input fires at most once per step, so the rows
    differ): ``ge = (ge + w[i0]) + w[i1]`` is the same additions in the same order as
    one at a time, so the same bits, with one pass over ``ge`` per pair. Rows are
    indexed in ``w``, not sliced (a view costs atomic reference counting), and the
    loops are plain ``for`` loops (see :mod:`spikedyn.neurons`).
    """
    n = ge.shape[0]
    n_pairs = (hi - lo) // 2
    for q in range(n_pairs):
        i0 = pixels[lo + 2 * q]
        i1 = pixels[lo + 2 * q + 1]
        for j in range(n):
            ge[j] = (ge[j] + w[i0, j]) + w[i1, j]
    for e in range(lo + 2 * n_pairs, hi):  # the odd one out, if any
        i = pixels[e]
        for j in range(n):
            ge[j] += w[i, j]


@numba.njit(cache=True)
def _enlist(j, items, is_member, count):
    """Append neuron ``j`` to the list ``items[:count[0]]`` unless it is already a member (in place)."""
    if not is_member[j]:
        is_member[j] = True
        items[count[0]] = j
        count[0] += 1


@numba.njit(cache=True)
def _inhibit_others(gi, sources, n_sources, weight):
    """``gi[j] += weight`` for every target j except the source, per source spike (in place)."""
    for k in range(n_sources):
        src = sources[k]
        for j in range(gi.shape[0]):
            if j != src:
                gi[j] += weight


@numba.njit(cache=True)
def _recent_traces_now(table, last_post, t, recent, is_recent, n_recent, out):
    """``out[j] = post1 trace of neuron j at step t`` for the recent neurons
    ``recent[:n_recent[0]]`` (in place).

    Neurons whose trace has fallen to exactly 0 leave the recent list; their entry
    in ``out`` is set to 0 and, like every non-recent neuron's, stays 0. The result
    equals :func:`spikedyn.plasticity._traces_now` over all neurons, at the cost of
    the recent ones only.
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


@numba.njit(cache=True)
def _run_steps(kp, st, buf, w, theta, n_steps, with_input, learn, counts, rec_step, rec_neuron, n_rec):
    """Simulate ``n_steps`` steps from ``st.clock[0]``; update state, ``w`` and ``theta`` in place.

    With ``with_input``, step ``s`` delivers the input events
    ``buf.pixels[buf.step_ptr[s]:buf.step_ptr[s + 1]]`` and excitatory spikes are
    added to ``counts`` (int32, (N,)). With ``learn``, STDP and threshold adaptation
    are on. Excitatory spikes are also written to ``rec_step``/``rec_neuron`` (int64,
    capacity ``rec_step.shape[0]``) from position ``n_rec``; returns the new ``n_rec``
    (which may exceed the capacity: then the record is incomplete).
    """
    # Every array is taken out of its tuple once, here: reading ``st.v`` inside the
    # loop costs atomic reference-count updates each time, and so does passing a
    # tuple of arrays to a function (all reference counting together was ~10% of
    # the training time, measured with perf).
    exc, inh = kp.exc, kp.inh
    dc = not kp.lateral
    v, ge, gi, last_spike, last_post = st.v, st.ge, st.gi, st.last_spike, st.last_post
    vi, gei, gii, last_spike_i = st.vi, st.gei, st.gii, st.last_spike_i
    active_i, is_active_i, n_active_i = st.active_i, st.is_active_i, st.n_active_i
    last_pre, recent_post, is_recent_post, n_recent_post = st.last_pre, st.recent_post, st.is_recent_post, st.n_recent_post
    step_ptr, pixels, spikes_exc, spikes_inh = buf.step_ptr, buf.pixels, buf.spikes_exc, buf.spikes_inh
    pre_now, post1_now, row_over, no_theta = buf.pre_now, buf.post1_now, buf.row_over, buf.no_theta
    pre_table, post1_table, post2_table = kp.pre_table, kp.post1_table, kp.post2_table
    t0 = st.clock[0]
    post1_now[:] = 0.0  # only the recent neurons' entries are ever refreshed
    for s in range(n_steps):
        t = t0 + s
        # groups + thresholds
        # (_lif_step, written out: a call per step to its parts is cheaper, see neurons.py)
        if learn:
            n_e = _lif_integrate(exc, v, ge, gi, theta, last_spike, t)
        else:
            n_e = _lif_integrate_frozen(exc, v, ge, gi, theta, last_spike, t)
        if n_e > 0:
            n_e = _lif_spikes(exc, v, theta, last_spike, t, spikes_exc)
        n_i = 0
        if dc:
            n_i, n_active_i[0] = _lif_step_active(inh, vi, gei, gii, last_spike_i, t,
                                                  active_i, n_active_i[0], is_active_i, spikes_inh)
        # synapses: input -> excitatory, presynaptic pathway
        if with_input:
            lo = step_ptr[s]
            hi = step_ptr[s + 1]
            _deliver_events(ge, w, pixels, lo, hi)
            if hi > lo and learn:
                # The presynaptic rule after the delivery: each spike delivered its
                # weights as they were before its own update, as in the fused rule.
                _recent_traces_now(post1_table, last_post, t, recent_post, is_recent_post, n_recent_post, post1_now)
                for e in range(lo, hi):
                    last_pre[pixels[e]] = t
                _depress_inputs(w, pixels, lo, hi, post1_now, recent_post, n_recent_post[0], row_over,
                                kp.nu_pre, kp.w_max)
        # synapses: input -> excitatory, postsynaptic pathway
        if learn and n_e > 0:
            _traces_now(pre_table, last_pre, t, pre_now)
            for k in range(n_e):
                j = spikes_exc[k]
                post2 = _trace(post2_table, t - last_post[j])
                _potentiate_column(w, j, pre_now, kp.nu_post, post2, kp.w_max)
                last_post[j] = t
                _enlist(j, recent_post, is_recent_post, n_recent_post)
        # synapses: competition
        if dc:
            for k in range(n_e):
                j = spikes_exc[k]
                gei[j] += kp.w_exc_inh
                _enlist(j, active_i, is_active_i, n_active_i)
            _inhibit_others(gi, spikes_inh, n_i, kp.w_inh_exc)
        else:
            _inhibit_others(gi, spikes_exc, n_e, kp.w_lateral)
        # resets
        _reset(exc, v, theta, last_spike, t, learn, spikes_exc, n_e)
        if dc:
            _reset(inh, vi, no_theta, last_spike_i, t, False, spikes_inh, n_i)
        if with_input:
            for k in range(n_e):
                counts[spikes_exc[k]] += 1
        for k in range(n_e):
            if n_rec < rec_step.shape[0]:
                rec_step[n_rec] = t
                rec_neuron[n_rec] = spikes_exc[k]
            n_rec += 1
    st.clock[0] = t0 + n_steps
    return n_rec


@numba.njit(cache=True)
def _present(kp, st, buf, w, theta, image, seed, stream, index, learn, counts, rec_step, rec_neuron, n_rec):
    """Present one image until it drives ``min_spikes`` spikes (or attempts run out).

    Learning: weights are normalised before each presentation and a rest period with
    no input follows it. Inference: each presentation starts from the rest state.
    ``counts`` (int32, (N,)) receives the spike counts of the last presentation.
    Returns ``(number of presentations, n_rec)``.
    """
    attempt = 0
    while True:
        if learn:
            _normalize_columns(w, kp.weight_sum, buf.col_sum, kp.w_max, buf.row_over)
        else:
            _rest_state(kp, st)
        rate = kp.rate_hz_per_unit + attempt * kp.retry_rate_hz_per_unit
        sd = _presentation_seed(np.uint64(seed), np.uint64(stream), np.uint64(index), np.uint64(attempt))
        _poisson_events(image, rate, kp.dt_ms, kp.present_steps, sd,
                        buf.step_ptr, buf.pixels, buf.scratch_steps, buf.scratch_pixels)
        counts[:] = 0
        n_rec = _run_steps(kp, st, buf, w, theta, kp.present_steps, True, learn, counts, rec_step, rec_neuron, n_rec)
        if learn:
            n_rec = _run_steps(kp, st, buf, w, theta, kp.rest_steps, False, True, counts, rec_step, rec_neuron, n_rec)
        attempt += 1
        if counts.sum() >= kp.min_spikes or attempt >= kp.max_presentations:
            return attempt, n_rec


@numba.njit(cache=True)
def _train_batch(kp, st, buf, w, theta, images, seed, first_index, counts_out, attempts_out):
    """Train on ``images`` (uint8, (K, n_input)) in order; weights, thresholds and state in place.

    Sample k uses training-stream index ``first_index + k``. Writes each sample's
    final spike counts to ``counts_out`` (int32, (K, N)) and its number of
    presentations to ``attempts_out`` (int32, (K,)).
    """
    no_rec = np.empty(0, np.int64)
    for k in range(images.shape[0]):
        attempts_out[k], _ = _present(kp, st, buf, w, theta, images[k], seed, STREAM_TRAIN,
                                      first_index + k, True, counts_out[k], no_rec, no_rec, 0)


@numba.njit(cache=True, nogil=True)
def _infer_batch(kp, w, theta, images, seed, stream, first_index, counts_out):
    """Responses of the frozen network to ``images`` (uint8, (K, n_input)).

    Each sample starts from rest, so the result depends only on the sample and its
    stream index: batches can run on several threads at once (the GIL is released).
    Writes spike counts to ``counts_out`` (int32, (K, N)).
    """
    n_input, n_neurons = w.shape
    st = _new_state(kp, n_input, n_neurons)
    buf = _new_buffers(kp, n_input, n_neurons)
    no_rec = np.empty(0, np.int64)
    for k in range(images.shape[0]):
        _present(kp, st, buf, w, theta, images[k], seed, stream, first_index + k, False,
                 counts_out[k], no_rec, no_rec, 0)


@dataclass(frozen=True)
class TrainStats:
    """Summary of one call to :meth:`Network.train`."""

    train_samples: int
    presentations: int
    wall_seconds: float
    samples_per_second: float
    mean_spikes_per_sample: float


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


class Network:
    """A spikedyn network: weights, adaptive thresholds and dynamic state.

    Parameters
    ----------
    config : NetworkConfig
    seed : int
        Seeds the initial weights and every presentation's input spikes.

    Attributes
    ----------
    weights : float64 array, shape (n_input, n_neurons)
        Input->excitatory weights.
    theta : float64 array, shape (n_neurons,)
        Adaptive threshold increments in mV.
    samples_seen : int
        Training samples presented so far (the next training-stream index).
    """

    def __init__(self, config: NetworkConfig, *, seed: int = 0):
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**63:
            raise ConfigError(f"seed must be an integer in [0, 2**63), got {seed!r}")
        self.config = config
        self.seed = int(seed)
        self._kp = kernel_params(config)
        rng = np.random.default_rng(self.seed)
        s = config.stdp
        self.weights = rng.uniform(s.w_init_low, s.w_init_high, size=(config.n_input, config.n_neurons))
        self.theta = np.full(config.n_neurons, config.excitatory.theta_init_mv)
        self.samples_seen = 0
        self._state = _new_state(self._kp, config.n_input, config.n_neurons)
        self._buffers: Buffers | None = None

    # -- learning ---------------------------------------------------------------------
    def train(self, images, *, progress: bool = True, batch_size: int = 250, desc: str = "train") -> TrainStats:
        """Learn from ``images`` (uint8, (n, n_input) or (n, rows, cols)) in order, without labels."""
        images = _check_images(images, self.config.n_input)
        _check_batch_size(batch_size)
        n = images.shape[0]
        if self._buffers is None:
            self._buffers = _new_buffers(self._kp, self.config.n_input, self.config.n_neurons)
        counts = np.zeros((min(batch_size, max(n, 1)), self.config.n_neurons), np.int32)
        attempts = np.zeros(counts.shape[0], np.int32)
        presentations = 0
        spikes = 0
        start = time.perf_counter()
        with tqdm(total=n, desc=desc, unit="sample", disable=not progress, smoothing=0.1) as bar:
            for lo in range(0, n, batch_size):
                hi = min(lo + batch_size, n)
                _train_batch(self._kp, self._state, self._buffers, self.weights, self.theta,
                             images[lo:hi], np.uint64(self.seed), np.uint64(self.samples_seen),
                             counts, attempts)
                presentations += int(attempts[: hi - lo].sum())
                spikes += int(counts[: hi - lo].sum())
                self.samples_seen += hi - lo
                bar.update(hi - lo)
        wall = time.perf_counter() - start
        return TrainStats(
            train_samples=n,
            presentations=presentations,
            wall_seconds=wall,
            samples_per_second=n / wall if wall > 0 else float("inf"),
            mean_spikes_per_sample=spikes / n if n else 0.0,
        )

    # -- inference --------------------------------------------------------------------
    def respond(self, images, *, stream: int, first_index: int = 0, n_jobs: int | None = None,
                progress: bool = True, batch_size: int = 500, desc: str = "respond") -> np.ndarray:
        """Spike counts of the frozen network for each image (learning off).

        Batches of up to ``batch_size`` samples (fewer when that keeps all
        ``n_jobs`` threads busy) run on ``n_jobs`` threads (default: all cores); the
        result is the same for any ``n_jobs`` and ``batch_size``.

        Returns
        -------
        int32 array, shape (n, n_neurons)
        """
        images = _check_images(images, self.config.n_input)
        _check_batch_size(batch_size)
        n = images.shape[0]
        out = np.zeros((n, self.config.n_neurons), np.int32)
        n_jobs = default_jobs() if n_jobs is None else int(n_jobs)
        if n_jobs < 1:
            raise ConfigError(f"n_jobs must be >= 1, got {n_jobs}")
        batch_size = min(batch_size, max(1, -(-n // n_jobs)))  # at least one batch per thread

        def run(lo: int) -> int:
            hi = min(lo + batch_size, n)
            _infer_batch(self._kp, self.weights, self.theta, images[lo:hi], np.uint64(self.seed),
                         np.uint64(stream), np.uint64(first_index + lo), out[lo:hi])
            return hi - lo

        with tqdm(total=n, desc=desc, unit="sample", disable=not progress, smoothing=0.1) as bar:
            if n_jobs == 1:
                for lo in range(0, n, batch_size):
                    bar.update(run(lo))
            else:
                with ThreadPoolExecutor(max_workers=n_jobs) as pool:
                    for done in pool.map(run, range(0, n, batch_size)):
                        bar.update(done)
        return out


def default_jobs() -> int:
    """Threads for inference: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)
