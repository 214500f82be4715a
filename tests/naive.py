"""Slow, obviously correct NumPy references for the spikedyn kernels.

Everything here is written from the documented equations (the docstrings of
:mod:`spikedyn.core.neurons`, :mod:`spikedyn.core.traces`, :mod:`spikedyn.models` and
:mod:`spikedyn.simulation.loop`), not from the kernels: dense arrays, one step at a
time, every trace stored explicitly.
Only two things are taken from the package on purpose:

- :func:`spikedyn.core.encoding.poisson_raster` (through ``SpikeRaster.dense``), the input
  spikes, which the encoding tests check on their own;
- :func:`spikedyn.core.traces.decay_table`, so that a trace ``exp(-k dt / tau)`` is
  the very same float64 number here and in the kernels (``math.exp`` of
  ``-k / (tau/dt)``; see ``tests/test_plasticity.py``).

Arithmetic is written in the same expression order as the documented equations, so
results can be compared bit for bit (``np.array_equal``). Two places where the order
matters and a "natural" NumPy expression would differ by an ulp:

- column sums for the weight normalisation are accumulated row by row (``np.sum``
  may use pairwise summation);
- ``nu_post * pre * post2`` is evaluated left to right, as written in the rule.
"""

from __future__ import annotations

import math

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from spikedyn.config import NetworkConfig
from spikedyn.core.encoding import poisson_raster, presentation_seed
from spikedyn.core.neurons import LifParams
from spikedyn.core.numerics import FLUSH_BELOW
from spikedyn.core.traces import decay_table

#: Step of the last spike of a neuron that never fired (any large negative number works).
NEVER = -(2**40)


# ----------------------------------------------------------------------------------------
# Neurons
# ----------------------------------------------------------------------------------------
def flush(g):
    """Values below FLUSH_BELOW become exactly 0.0."""
    g = np.asarray(g, dtype=np.float64)
    return np.where(g >= FLUSH_BELOW, g, 0.0)


def lif_step_naive(params: LifParams, v, ge, gi, theta, last_spike, t, adapt_theta):
    """One forward-Euler step of a LIF population, from start-of-step values.

    ::

        v'     = v + dt/tau_m * ((v_rest - v) + ge (e_exc - v) + gi (e_inh - v))  if t - last_spike >= refractory
        v'     = min(max(v', e_inh), e_exc)
        ge'    = ge - dt/tau_ge * ge     (0 below FLUSH_BELOW)
        gi'    = gi - dt/tau_gi * gi     (0 below FLUSH_BELOW)
        theta' = theta - dt/tau_theta * theta                                     if adapt_theta
        fires  : v' > v_thresh + theta'  and  t - last_spike >= max(refractory, lockout)

    Returns ``(spikes, (v', ge', gi', theta'))``; new arrays, no reset applied.
    ``theta`` of length 0 means no adaptive threshold (taken as 0).
    """
    p = params
    v = np.array(v, dtype=np.float64)
    ge = np.array(ge, dtype=np.float64)
    gi = np.array(gi, dtype=np.float64)
    theta = np.array(theta, dtype=np.float64)
    since = int(t) - np.asarray(last_spike, dtype=np.int64)

    dv = p.dt_over_tau_m * ((p.v_rest - v) + ge * (p.e_exc - v) + gi * (p.e_inh - v))
    v_new = np.where(since >= p.refractory_steps, v + dv, v)
    v_new = np.minimum(np.maximum(v_new, p.e_inh), p.e_exc)
    ge_new = flush(ge - p.dt_over_tau_ge * ge)
    gi_new = flush(gi - p.dt_over_tau_gi * gi)
    if theta.size and adapt_theta:
        theta_new = theta - p.dt_over_tau_theta * theta
    else:
        theta_new = theta.copy()
    threshold = p.v_thresh + theta_new if theta.size else p.v_thresh
    gate = max(p.refractory_steps, p.lockout_steps)
    fired = (v_new > threshold) & (since >= gate)
    return np.flatnonzero(fired).astype(np.int32), (v_new, ge_new, gi_new, theta_new)


def _tau_theta_ms(config: NetworkConfig) -> float:
    """The thresholds' time constant: SpikeDyn's adaptive threshold has its own (spikedyn_stdp docstring)."""
    from spikedyn import models

    threshold = models.get(config.model).threshold.name
    if threshold == "spikedyn-threshold" and config.spikedyn.adaptive_threshold:
        return config.spikedyn.tau_theta_ms
    if threshold == "metaplastic-threshold":  # spikedyn.models.metaplastic: no decay unless decay_threshold
        return config.metaplastic.tau_theta_ms if config.metaplastic.decay_threshold else math.inf
    return config.excitatory.tau_theta_ms


def lif_params_naive(config: NetworkConfig) -> tuple[LifParams, LifParams]:
    """Kernel parameters of the excitatory and inhibitory populations, from the config."""
    dt = config.timing.dt_ms
    e, i = config.excitatory, config.inhibitory
    exc = LifParams(
        v_rest=e.v_rest_mv,
        v_reset=e.v_reset_mv,
        v_thresh=e.v_thresh_mv - e.theta_offset_mv,
        e_exc=e.e_exc_mv,
        e_inh=e.e_inh_mv,
        dt_over_tau_m=dt / e.tau_m_ms,
        dt_over_tau_ge=dt / e.tau_ge_ms,
        dt_over_tau_gi=dt / e.tau_gi_ms,
        dt_over_tau_theta=dt / _tau_theta_ms(config),
        theta_plus=e.theta_plus_mv,
        refractory_steps=round(e.refractory_ms / dt),
        lockout_steps=round(e.lockout_ms / dt),
    )
    inh = LifParams(
        v_rest=i.v_rest_mv,
        v_reset=i.v_reset_mv,
        v_thresh=i.v_thresh_mv,
        e_exc=i.e_exc_mv,
        e_inh=i.e_inh_mv,
        dt_over_tau_m=dt / i.tau_m_ms,
        dt_over_tau_ge=dt / i.tau_ge_ms,
        dt_over_tau_gi=0.0,  # no inhibitory input to inhibitory neurons: gi stays 0
        dt_over_tau_theta=0.0,
        theta_plus=0.0,
        refractory_steps=round(i.refractory_ms / dt),
        lockout_steps=0,
    )
    return exc, inh


# ----------------------------------------------------------------------------------------
# Plasticity
# ----------------------------------------------------------------------------------------
def trace_naive(table: np.ndarray, since):
    """``exp(-since dt / tau)`` read from ``table`` (0.0 past its end); ``since`` >= 0."""
    since = np.asarray(since, dtype=np.int64)
    out = np.zeros(since.shape)
    inside = since < table.shape[0]
    out[inside] = table[since[inside]]
    return out if out.ndim else float(out)


def clip_naive(x, w_max):
    return np.minimum(np.maximum(x, 0.0), w_max)


def stdp_pre_naive(w, i, post1, nu_pre, w_max):
    """Presynaptic spike of input i: ``w[i, j] = clip(w[i, j] - nu_pre * post1[j], 0, w_max)``."""
    w = np.array(w, dtype=np.float64)
    for j in range(w.shape[1]):
        w[i, j] = min(max(w[i, j] - nu_pre * post1[j], 0.0), w_max)
    return w


def stdp_post_naive(w, j, pre, post2, nu_post, w_max):
    """Postsynaptic spike of neuron j: ``w[i, j] = clip(w[i, j] + nu_post * pre[i] * post2, 0, w_max)``."""
    w = np.array(w, dtype=np.float64)
    for i in range(w.shape[0]):
        w[i, j] = min(max(w[i, j] + nu_post * pre[i] * post2, 0.0), w_max)
    return w


def normalize_naive(w, target):
    """Scale each column to sum to ``target``; an all-zero column is left alone.

    The sums are accumulated row by row (ascending input index), the order the
    documented loop uses, so the scale factors are bit-identical.
    """
    w = np.array(w, dtype=np.float64)
    n_in, n_out = w.shape
    factors = np.ones(n_out)
    for j in range(n_out):
        s = 0.0
        for i in range(n_in):
            s += w[i, j]
        if s > 0.0:
            factors[j] = target / s
    for i in range(n_in):
        for j in range(n_out):
            w[i, j] = w[i, j] * factors[j]
    return w


def _normalize_fast(w, target):
    """:func:`normalize_naive`, vectorised per row (same operations, same order)."""
    s = np.zeros(w.shape[1])
    for i in range(w.shape[0]):
        s = s + w[i]
    factors = np.ones(w.shape[1])
    positive = s > 0.0
    factors[positive] = target / s[positive]
    return w * factors


# ----------------------------------------------------------------------------------------
# Whole network: the naive twin of every registered part, composed as the registry says
# ----------------------------------------------------------------------------------------
@dataclass
class NaiveState:
    """Dynamic state; traces are stored explicitly next to the last spike steps.

    ``vi, gei, gii, last_spike_i`` are the competition's own population (length 0
    for a competition without neurons).
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
    last_pre: np.ndarray
    clock: int
    pre: np.ndarray = field(default=None)  # input traces, as last read
    post1: np.ndarray = field(default=None)
    post2: np.ndarray = field(default=None)
    # with delays: the step each synapse last received a spike, and the synapses
    # (i, j) due at each future step, in the order their spikes were sent
    last_arrival: np.ndarray = field(default=None)
    pending: dict = field(default_factory=dict)
    # learned by the adaptive rules: training spikes and learning-rate factor per neuron,
    # significance per synapse ((0, 0) for rules without one)
    activity: np.ndarray = field(default=None)
    rate: np.ndarray = field(default=None)
    significance: np.ndarray = field(default=None)

    @classmethod
    def at_rest(cls, config: NetworkConfig) -> "NaiveState":
        n, n_in = config.n_neurons, config.n_input
        competition = naive_parts(config)["competition"]
        n_own, v_rest_own = competition.population(config)
        return cls(
            v=np.full(n, config.excitatory.v_rest_mv), ge=np.zeros(n), gi=np.zeros(n),
            last_spike=np.full(n, NEVER, np.int64), last_post=np.full(n, NEVER, np.int64),
            vi=np.full(n_own, v_rest_own), gei=np.zeros(n_own), gii=np.zeros(n_own),
            last_spike_i=np.full(n_own, NEVER, np.int64), last_pre=np.full(n_in, NEVER, np.int64),
            clock=0, pre=np.zeros(n_in), post1=np.zeros(n), post2=np.zeros(n),
            last_arrival=np.full((n_in, n), NEVER, np.int64), pending={},
            activity=np.zeros(n), rate=np.ones(n),
            significance=np.zeros(naive_parts(config)["plasticity"].significance_shape(config)),
        )


#: How kernel state (``spikedyn.simulation.state.state_arrays``) names the fields of NaiveState.
KERNEL_STATE_NAMES = {
    "v": "exc.v", "ge": "exc.ge", "gi": "exc.gi", "last_spike": "exc.last_spike",
    "vi": "competition.v", "gei": "competition.ge", "gii": "competition.gi",
    "last_spike_i": "competition.last_spike",
    "last_pre": "plasticity.last_pre", "last_post": "plasticity.last_post",
    "activity": "plasticity.activity", "rate": "plasticity.rate", "significance": "plasticity.significance",
}


@dataclass
class NaiveResult:
    weights: np.ndarray
    theta: np.ndarray
    counts: np.ndarray  # (n_samples, N), spikes of each sample's last presentation
    attempts: np.ndarray  # (n_samples,), presentations per sample
    state: NaiveState
    exc_spikes: int = 0  # all excitatory spikes, rest periods and retries included
    inh_spikes: int = 0
    input_spikes: int = 0
    potentiations: int = 0  # postsynaptic STDP updates with post2 > 0
    depressions: int = 0  # presynaptic STDP updates with some post1 > 0
    clipped: int = 0  # weight updates that hit 0 or w_max
    # presynaptic updates that clipped a weight above w_max (left there by the
    # normalisation) of a neuron whose post1 trace is 0: the kernel's dense path
    clipped_without_post1: int = 0


def ink_gain_naive(config: NetworkConfig, image) -> float:
    """The ink normalisation's gain, from its definition: the target mean pixel over the image's,
    clipped to [1 / max_gain, max_gain]; 1 when off or for a blank image."""
    m, top = config.input.normalise_mean_pixel, config.input.max_gain
    mean = np.asarray(image, np.float64).mean()
    return 1.0 if m == 0 or mean == 0 else float(np.clip(m / mean, 1 / top, top))


def poisson_rasters(config: NetworkConfig, images, *, seed: int, stream: int, first_index: int = 0
                    ) -> Callable[[int, int], np.ndarray]:
    """``rasters(k, attempt)``: dense input raster (present_steps, n_input) of sample k.

    Rate ``g * rate_hz_per_unit + attempt * retry_rate_hz_per_unit`` (``g``: :func:`ink_gain_naive`) and
    seed ``presentation_seed(seed, stream, first_index + k, attempt)``, as documented.
    """
    images = np.asarray(images).reshape(len(images), -1)
    inp, timing = config.input, config.timing

    def rasters(k: int, attempt: int) -> np.ndarray:
        rate = ink_gain_naive(config, images[k]) * inp.rate_hz_per_unit + attempt * inp.retry_rate_hz_per_unit
        sd = presentation_seed(seed, stream, first_index + k, attempt)
        raster = poisson_raster(images[k], rate, dt_ms=timing.dt_ms, n_steps=timing.present_steps, seed=sd)
        return raster.dense(config.n_input)

    return rasters


# -- competition --------------------------------------------------------------------------
class NaiveInhibitoryLayer:
    """``inhibitory-layer``: inhibitory i <- excitatory i (one-to-one), inhibitory i -| every excitatory j != i.

    Its neurons are integrated at the start of the step, with the excitatory ones
    (Brian2's schedule), and deliver in the synapse phase.
    """

    def population(self, config):
        return config.n_neurons, config.inhibitory.v_rest_mv

    def integrate(self, sim, t):
        st = sim.st
        spikes, (st.vi, st.gei, st.gii, _) = lif_step_naive(
            sim.inh, st.vi, st.gei, st.gii, np.zeros(0), st.last_spike_i, t, False)
        return spikes

    def deliver(self, sim, exc_sp, own_sp):
        st, c, n = sim.st, sim.c, sim.c.n_neurons
        for j in exc_sp:
            st.gei[j] = st.gei[j] + c.inhibitory.w_exc_inh
        for k in own_sp:
            others = np.arange(n) != k
            st.gi[others] = st.gi[others] + c.inhibitory.w_inh_exc

    def reset(self, sim, t, own_sp):
        sim.st.vi[own_sp] = sim.inh.v_reset
        sim.st.last_spike_i[own_sp] = t


class NaiveDirectLateral:
    """``direct-lateral``: an excitatory spike of k adds ``w_lateral`` to every other neuron's ``gi``."""

    def population(self, config):
        return 0, 0.0

    def integrate(self, sim, t):
        return np.zeros(0, np.int32)

    def deliver(self, sim, exc_sp, own_sp):
        st, n = sim.st, sim.c.n_neurons
        for k in exc_sp:
            others = np.arange(n) != k
            st.gi[others] = st.gi[others] + sim.c.lateral.w_lateral

    def reset(self, sim, t, own_sp):
        pass


# -- plasticity ---------------------------------------------------------------------------
class NaiveStdp:
    """``stdp``: presynaptic ``w -= nu_pre * post1``, postsynaptic ``w += nu_post * pre * post2``, clipped."""

    def significance_shape(self, config):
        return (0, 0)

    def after_presentation(self, sim, counts):
        """Nothing happens after a presentation."""

    def on_pre(self, sim, t, inputs, learn):
        """Input spikes of step t, ascending; each delivers its weights from before its own update."""
        st, w, s = sim.st, sim.w, sim.c.stdp
        if not learn:
            for i in inputs:
                st.ge = st.ge + w[i]
            return
        if inputs.size:
            st.post1 = trace_naive(sim.post1_table, t - st.last_post)
            if np.any(st.post1 > 0):
                sim.depressions += inputs.size
        for i in inputs:
            st.ge = st.ge + w[i]
            st.last_pre[i] = t
            x = w[i] - s.nu_pre * st.post1
            sim.clipped += np.sum((x < 0.0) | (x > s.w_max))
            sim.clipped_without_post1 += np.sum((x > s.w_max) & (st.post1 == 0.0))
            w[i] = clip_naive(x, s.w_max)

    def on_post(self, sim, t, exc_sp):
        st, w, s = sim.st, sim.w, sim.c.stdp
        if not exc_sp.size:
            return
        st.pre = trace_naive(sim.pre_table, t - st.last_pre)
        st.post2 = trace_naive(sim.post2_table, t - st.last_post)  # before this step's spikes
        for j in exc_sp:
            x = w[:, j] + s.nu_post * st.pre * st.post2[j]
            sim.clipped += np.sum((x < 0.0) | (x > s.w_max))
            w[:, j] = clip_naive(x, s.w_max)
            sim.potentiations += st.post2[j] > 0
            st.last_post[j] = t


class NaivePotentiationOnly(NaiveStdp):
    """``stdp-potentiation-only``: the postsynaptic rule of ``stdp``; input spikes only deliver."""

    def on_pre(self, sim, t, inputs, learn):
        for i in inputs:
            sim.st.ge = sim.st.ge + sim.w[i]
            if learn:
                sim.st.last_pre[i] = t


class NaiveDelayedStdp(NaiveStdp):
    """``stdp-delayed``: a spike of input i at step s reaches neuron j at ``s + d[i, j]``, and only then
    ``ge_j += w_ij; pre_ij = 1; w_ij = clip(w_ij - nu_pre * post1_j)``; potentiation reads the
    per-synapse ``pre_ij``. Arrivals of a step are handled in the order their spikes were sent
    (by step, input, neuron). ``sim.delays`` are the delays in steps (``spikedyn.models.delays.delay_steps``)."""

    def on_pre(self, sim, t, inputs, learn):
        st, w, s, d = sim.st, sim.w, sim.c.stdp, sim.delays
        for i in inputs:
            for j in range(w.shape[1]):
                st.pending.setdefault(t + int(d[i, j]), []).append((i, j))
        arrivals = st.pending.pop(t, [])
        post1 = trace_naive(sim.post1_table, t - st.last_post)
        if learn and arrivals and np.any(post1 > 0):
            sim.depressions += len(arrivals)
        for i, j in arrivals:
            st.ge[j] = st.ge[j] + w[i, j]
            if learn:
                st.last_arrival[i, j] = t
                x = w[i, j] - s.nu_pre * post1[j]
                sim.clipped += (x < 0.0) or (x > s.w_max)
                w[i, j] = min(max(x, 0.0), s.w_max)

    def on_post(self, sim, t, exc_sp):
        st, w, s = sim.st, sim.w, sim.c.stdp
        if not exc_sp.size:
            return
        post2 = trace_naive(sim.post2_table, t - st.last_post)  # before this step's spikes
        for j in exc_sp:
            pre = trace_naive(sim.pre_table, t - st.last_arrival[:, j])
            x = w[:, j] + s.nu_post * pre * post2[j]
            sim.clipped += np.sum((x < 0.0) | (x > s.w_max))
            w[:, j] = clip_naive(x, s.w_max)
            sim.potentiations += post2[j] > 0
            st.last_post[j] = t


class NaiveSpikeDynStdp(NaiveStdp):
    """``stdp-spikedyn`` (spikedyn.models.spikedyn's docstring): STDP scaled by the neuron's factor
    ``g_j = 1 / (1 + a_j / A)``, updates whose trace factor (``post1_j``; ``pre_i * post2_j``) is below
    ``eps`` skipped; after each presentation
    ``a += counts``, ``g`` updated, theta rises held back by consolidation, small weights decayed."""

    def _eps(self, c):
        return c.spikedyn.min_update if c.spikedyn.skip_spurious else 0.0

    def on_pre(self, sim, t, inputs, learn):
        st, w, s = sim.st, sim.w, sim.c.stdp
        if not learn:
            return super().on_pre(sim, t, inputs, learn)
        eps = self._eps(sim.c)
        post1 = trace_naive(sim.post1_table, t - st.last_post)
        for i in inputs:
            st.ge = st.ge + w[i]
            st.last_pre[i] = t
            dw = s.nu_pre * st.rate * post1
            w[i] = clip_naive(w[i] - np.where(post1 >= eps, dw, 0.0), s.w_max)
            sim.depressions += 1

    def on_post(self, sim, t, exc_sp):
        st, w, s = sim.st, sim.w, sim.c.stdp
        if not exc_sp.size:
            return
        eps = self._eps(sim.c)
        pre = trace_naive(sim.pre_table, t - st.last_pre)
        post2 = trace_naive(sim.post2_table, t - st.last_post)
        for j in exc_sp:
            dw = (s.nu_post * st.rate[j]) * pre * post2[j]
            w[:, j] = clip_naive(w[:, j] + np.where(pre * post2[j] >= eps, dw, 0.0), s.w_max)
            sim.potentiations += post2[j] > 0
            st.last_post[j] = t

    def after_presentation(self, sim, counts):
        st, p, c = sim.st, sim.c.spikedyn, sim.c
        st.activity = st.activity + counts
        if p.adaptive_rate:
            st.rate = 1.0 / (1.0 + st.activity / p.rate_half_spikes)
        if p.adaptive_threshold:
            step = -p.theta_hold * c.excitatory.theta_plus_mv
            sim.theta = sim.theta + step * (st.activity / (st.activity + p.rate_half_spikes)) * counts
        if p.weight_decay:
            below = p.decay_below * c.stdp.weight_sum / c.n_input
            sim.w = np.where(sim.w < below, sim.w - p.decay_rate * sim.w, sim.w)


class NaiveAsp(NaiveStdp):
    """``stdp-asp`` (spikedyn.models.asp's docstring): at each spike of j, after its potentiation,
    ``s[:, j] += beta * (pre - s[:, j])``; after each presentation ``w -= leak * (1 - s) * (w - target)``,
    target 0 or the mean weight (``asp.leak_target``); without a leak nothing more than ``stdp``."""

    def significance_shape(self, config):
        return (config.n_input, config.n_neurons)

    def on_post(self, sim, t, exc_sp):
        super().on_post(sim, t, exc_sp)
        st, beta = sim.st, sim.c.asp.beta
        if sim.c.asp.leak_rate == 0:
            return
        for j in exc_sp:
            st.significance[:, j] = st.significance[:, j] + beta * (st.pre - st.significance[:, j])

    def after_presentation(self, sim, counts):
        c = sim.c
        if c.asp.leak_rate == 0:
            return
        target = 0.0 if c.asp.leak_target == "zero" else c.stdp.weight_sum / c.n_input
        sim.w = sim.w - c.asp.leak_rate * (1.0 - sim.st.significance) * (sim.w - target)


class NaiveMetaplasticStdp(NaiveStdp):
    """``stdp-metaplastic`` (spikedyn.models.metaplastic's docstring): STDP scaled by
    ``g_j`` (1 while ``a_j < A``, else ``g_c``); while learning, input spikes deliver
    ``w_ij * (1 + drop_j) * (1 + delta if the input is novel and j plastic)``, the novelty
    tested before each step on the drives ``D`` of the presentation so far; after each
    presentation the decorrelation, the hold, the activity, ``g``, the fatigue and the threshold at
    commitment. State rows: f, drop, D, threshold at commitment."""

    def significance_shape(self, config):
        p = config.metaplastic
        rows = 5 if p.capacity_budget else 4 if p.recall_at_commit else 3 if p.fatigue or p.novelty else 0
        return (rows, config.n_neurons) if rows else (0, 0)

    @staticmethod
    def commit_at(p):
        """The count at which a neuron commits: A, or A + E with the capacity budget (whose budget
        A + E f_j is a head start E (1 - f_j) on the count)."""
        return p.commit_spikes + (p.budget_extra_spikes if p.capacity_budget else 0.0)

    def before_input(self, sim):
        """A training presentation begins: no input spikes delivered yet, drives at 0."""
        self.delivered = 0
        if sim.st.significance.size:
            sim.st.significance[2] = 0.0

    def on_pre(self, sim, t, inputs, learn):
        st, w, s, c = sim.st, sim.w, sim.c.stdp, sim.c
        p = c.metaplastic
        if not learn:
            return super().on_pre(sim, t, inputs, learn)
        modulated = p.fatigue or p.novelty
        gain = None
        if modulated and inputs.size:
            plastic = st.activity < self.commit_at(p)
            novel = False
            if p.novelty and self.delivered >= p.novelty_after_spikes:
                drives = st.significance[2][~plastic]
                best = max(0.0, drives.max()) if drives.size else 0.0
                novel = best < float(p.vigilance * s.weight_sum / c.n_input) * self.delivered
            gain = 1.0 + st.significance[1]
            if novel:
                gain = np.where(plastic, gain * (1.0 + float(p.novelty_boost)), gain)
        post1 = trace_naive(sim.post1_table, t - st.last_post)
        for i in inputs:
            st.ge = st.ge + (w[i] * gain if gain is not None else w[i])
            if p.novelty:
                st.significance[2] = st.significance[2] + w[i]
            st.last_pre[i] = t
            w[i] = clip_naive(w[i] - s.nu_pre * st.rate * post1, s.w_max)
            sim.depressions += 1
        self.delivered += inputs.size

    def on_post(self, sim, t, exc_sp):
        st, w, s = sim.st, sim.w, sim.c.stdp
        if not exc_sp.size:
            return
        pre = trace_naive(sim.pre_table, t - st.last_pre)
        post2 = trace_naive(sim.post2_table, t - st.last_post)
        for j in exc_sp:
            w[:, j] = clip_naive(w[:, j] + (s.nu_post * st.rate[j]) * pre * post2[j], s.w_max)
            sim.potentiations += post2[j] > 0
            st.last_post[j] = t

    def after_presentation(self, sim, counts):
        st, c = sim.st, sim.c
        p = c.metaplastic
        commit = self.commit_at(p)
        committed = st.activity >= commit
        if p.decorrelate:  # plastic neurons that fired move away from the co-active committed ones' mean
            fired = counts > 0
            with_them, plastic = np.flatnonzero(fired & committed), np.flatnonzero(fired & ~committed)
            if with_them.size and plastic.size:
                mean = sum(sim.w[:, j] * counts[j] for j in with_them) / counts[with_them].sum()
                for j in plastic:
                    sim.w[:, j] = np.maximum(sim.w[:, j] - p.decorrelation_rate * mean, 0.0)
        if p.hold_threshold:
            sim.theta = np.where(committed, sim.theta - (p.theta_hold * c.excitatory.theta_plus_mv) * counts,
                                 sim.theta)
        st.activity = st.activity + counts
        if p.capacity_budget:  # neurons that reach the start get A + E clip((F - R0) / (R1 - R0), 0, 1)
            budget = st.significance[4]  # F: the neurons not started before them
            f = np.clip((np.sum(budget == 0.0) - p.budget_reserve_neurons)
                        / (p.budget_full_neurons - p.budget_reserve_neurons), 0.0, 1.0)
            starts = (budget == 0.0) & (st.activity >= min(p.budget_start_spikes, p.commit_spikes))
            head = p.budget_extra_spikes * (1.0 - f)
            st.significance[4] = np.where(starts, commit - head, budget)
            st.activity = np.where(starts, st.activity + head, st.activity)
        if p.recall_at_commit:
            now = ~committed & (st.activity >= commit)
            st.significance[3] = np.where(now, sim.theta, st.significance[3])
        if p.consolidate:
            st.rate = np.where(st.activity < commit, 1.0, p.consolidated_rate)
        if p.fatigue:
            keep = math.exp(-(c.timing.present_ms + c.timing.rest_ms) / p.tau_fatigue_ms)
            f = st.significance[0] * keep
            f = np.where(committed, f + p.fatigue_per_spike * counts, f)
            st.significance[0] = f
            st.significance[1] = 1.0 / (1.0 + f) - 1.0


class NaiveRecallStdp(NaiveStdp):
    """``stdp-recall`` (spikedyn.models.recall's docstring): Diehl & Cook's STDP; after the n-th training
    presentation ``m = (1 - a) m + a theta`` with ``a = 1 / (1 + phi (n - 1))``. State rows: m, n."""

    def significance_shape(self, config):
        return (2, config.n_neurons)

    def after_presentation(self, sim, counts):
        sig, phi = sim.st.significance, sim.c.recall.window_fraction
        sig[1] = sig[1] + 1.0
        a = 1.0 / (1.0 + phi * (sig[1] - 1.0))
        sig[0] = (1.0 - a) * sig[0] + a * sim.theta


# -- threshold ----------------------------------------------------------------------------
class NaiveHomeostatic:
    """``homeostatic``: theta decays with tau_theta (in the neuron step) and rises by theta_plus per spike."""

    def adapts(self):
        return True

    def on_spikes(self, sim, exc_sp):
        sim.theta[exc_sp] = sim.theta[exc_sp] + sim.exc.theta_plus


# -- between presentations ----------------------------------------------------------------
class NaiveNormalise:
    """``normalise``: each neuron's incoming weights rescaled to sum to ``weight_sum``."""

    def before_presentation(self, sim):
        sim.w = _normalize_fast(sim.w, sim.c.stdp.weight_sum)


#: The naive twin of every registered part, by part name. A part without one fails
#: ``tests/test_models.py``.
NAIVE_PARTS = {
    "inhibitory-layer": NaiveInhibitoryLayer,
    "direct-lateral": NaiveDirectLateral,
    "stdp": NaiveStdp,
    "stdp-potentiation-only": NaivePotentiationOnly,
    "stdp-delayed": NaiveDelayedStdp,
    "stdp-spikedyn": NaiveSpikeDynStdp,
    "stdp-asp": NaiveAsp,
    "stdp-metaplastic": NaiveMetaplasticStdp,
    "stdp-recall": NaiveRecallStdp,
    "homeostatic": NaiveHomeostatic,
    "spikedyn-threshold": NaiveHomeostatic,  # the same rule; its time constant comes through lif_params_naive
    "metaplastic-threshold": NaiveHomeostatic,  # likewise
    "normalise": NaiveNormalise,
}


def naive_parts(config: NetworkConfig) -> dict:
    """The naive twins of ``config.model``'s parts, by kind."""
    from spikedyn import models

    return {kind: NAIVE_PARTS[part.name]() for kind, part in models.get(config.model).parts.items()}


class _Sim:
    """Dense, step-by-step simulation of the whole network (see :func:`simulate_naive`)."""

    def __init__(self, config: NetworkConfig, weights, theta, state: NaiveState | None, delays=None, seed=0):
        self.c = config
        self.seed = seed
        self.delays = delays
        self.exc, self.inh = lif_params_naive(config)
        self.parts = naive_parts(config)
        s, dt = config.stdp, config.timing.dt_ms
        self.pre_table = decay_table(s.tau_pre_ms, dt)
        self.post1_table = decay_table(s.tau_post1_ms, dt)
        self.post2_table = decay_table(s.tau_post2_ms, dt)
        self.w = np.array(weights, dtype=np.float64)
        self.theta = np.array(theta, dtype=np.float64)
        self.st = state if state is not None else NaiveState.at_rest(config)
        self.exc_spikes = self.inh_spikes = self.input_spikes = 0
        self.potentiations = self.depressions = self.clipped = self.clipped_without_post1 = 0

    def step(self, t: int, inputs: np.ndarray, learn: bool) -> np.ndarray:
        """Simulate step ``t`` with the input pixels ``inputs`` (ascending); return exc spikes."""
        st, parts = self.st, self.parts
        competition, plasticity, threshold = parts["competition"], parts["plasticity"], parts["threshold"]
        # 1. groups and thresholds
        exc_sp, (st.v, st.ge, st.gi, self.theta) = lif_step_naive(
            self.exc, st.v, st.ge, st.gi, self.theta, st.last_spike, t, learn and threshold.adapts())
        own_sp = competition.integrate(self, t)
        # 2a. input -> excitatory, presynaptic pathway (ascending pixel order): transmission, and
        # plasticity when learning
        plasticity.on_pre(self, t, inputs, learn)
        self.input_spikes += inputs.size
        if learn:
            self.quantise(t, "rows", rows=inputs)
        # 2b. input -> excitatory, postsynaptic pathway
        if learn:
            plasticity.on_post(self, t, exc_sp)
            if exc_sp.size:
                self.quantise(t, "columns", columns=exc_sp)
        # 2c. competition
        competition.deliver(self, exc_sp, own_sp)
        # 3. resets
        st.v[exc_sp] = self.exc.v_reset
        st.last_spike[exc_sp] = t
        if learn:
            threshold.on_spikes(self, exc_sp)
        competition.reset(self, t, own_sp)
        self.exc_spikes += exc_sp.size
        self.inh_spikes += own_sp.size
        return exc_sp

    def quantise(self, t: int, site: str, **which) -> None:
        """Store the weights (those of ``rows``/``columns``, or all) at the config's precision."""
        self.w = quantise_naive(self.w, self.c, seed=self.seed, t=t, site=site, **which)


def simulate_naive(config: NetworkConfig, weights, theta, rasters: Callable[[int, int], np.ndarray],
                   learn: bool, *, n_samples: int, state: NaiveState | None = None,
                   reset_between_samples: bool = False, delays=None, seed: int = 0) -> NaiveResult:
    """Simulate ``n_samples`` presentations of the network, densely, step by step.

    Parameters
    ----------
    config : NetworkConfig
    weights : float64 (n_input, n_neurons); theta : float64 (n_neurons,)
        Initial values (copied).
    rasters : callable ``(k, attempt) -> bool (present_steps, n_input)``
        Input spikes of sample k's presentation number ``attempt``; see
        :func:`poisson_rasters`.
    learn : bool
        True reproduces ``Network.train``: before each presentation the weight columns
        are normalised to ``weight_sum``; ``present_steps`` with input are followed by
        ``rest_steps`` without; STDP and the adaptive threshold are on; state carries
        over from presentation to presentation (starting from ``state`` or rest).
        False reproduces ``Network.respond``: every presentation starts at rest (step
        0), thresholds are frozen, there is no STDP and no rest period.
        In both, a sample whose presentation drives fewer than ``min_spikes``
        excitatory spikes is shown again (next ``attempt``, higher rate), up to
        ``max_presentations`` times.
    reset_between_samples : bool
        Put the network at rest before every training sample (NOT what the network
        does; used to show that the carried-over state matters).
    seed : int
        The network's seed (stochastic rounding of weights at reduced precision).
    """
    c = config
    sim = _Sim(c, weights, theta, state, delays, seed)
    n = c.n_neurons
    counts = np.zeros((n_samples, n), np.int32)
    attempts = np.zeros(n_samples, np.int32)
    for k in range(n_samples):
        if reset_between_samples:
            sim.st = NaiveState.at_rest(c)
        attempt = 0
        while True:
            if learn:
                sim.parts["between"].before_presentation(sim)
                sim.quantise(sim.st.clock, "before")
            else:
                sim.st = NaiveState.at_rest(c)
            if learn and hasattr(sim.parts["plasticity"], "before_input"):
                sim.parts["plasticity"].before_input(sim)
            raster = np.asarray(rasters(k, attempt), dtype=bool)
            assert raster.shape == (c.timing.present_steps, c.n_input)
            counts[k] = 0
            t0 = sim.st.clock
            for s in range(c.timing.present_steps):
                fired = sim.step(t0 + s, np.flatnonzero(raster[s]), learn)
                counts[k, fired] += 1
            sim.st.clock = t0 + c.timing.present_steps
            if learn:
                t0 = sim.st.clock
                no_input = np.zeros(0, np.int64)
                for s in range(c.timing.rest_steps):
                    sim.step(t0 + s, no_input, True)
                sim.st.clock = t0 + c.timing.rest_steps
                sim.parts["plasticity"].after_presentation(sim, counts[k])
                sim.quantise(sim.st.clock, "after")
            attempt += 1
            if counts[k].sum() >= c.input.min_spikes or attempt >= c.input.max_presentations:
                break
        attempts[k] = attempt
    return NaiveResult(
        weights=sim.w, theta=sim.theta, counts=counts, attempts=attempts, state=sim.st,
        exc_spikes=sim.exc_spikes, inh_spikes=sim.inh_spikes, input_spikes=sim.input_spikes,
        potentiations=int(sim.potentiations), depressions=int(sim.depressions), clipped=int(sim.clipped),
        clipped_without_post1=int(sim.clipped_without_post1),
    )


# ----------------------------------------------------------------------------------------
# Weights at reduced precision (spikedyn.core.quantise's docstring)
# ----------------------------------------------------------------------------------------
_M64 = 2**64 - 1
SITES = {"rows": 1, "columns": 2, "before": 3, "after": 4, "initial": 5}


def _splitmix_naive(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


def uniform_naive(seed: int, t: int, i: int, j: int, site: int) -> float:
    """The documented random number of the write of weight (i, j) at step t, site ``site``."""
    z = _splitmix_naive(seed ^ ((t * 0x9E3779B97F4A7C15 + site) & _M64))
    z = _splitmix_naive(z ^ ((i * 0x100000001B3 + j) & _M64))
    return (z >> 11) / 2.0**53


def quantise_naive(w, config: NetworkConfig, *, seed: int, t: int, site: str, rows=None, columns=None):
    """``w`` (a copy) with the entries of ``rows`` (or ``columns``, or all) in the weight format of
    ``config.precision``, element by element."""
    import math

    w = np.array(w, dtype=np.float64, copy=True)
    bits = config.precision.weight_bits
    if bits == 64:
        return w
    mask = np.zeros(w.shape, bool)
    if rows is not None:
        mask[np.asarray(rows, int), :] = True
    elif columns is not None:
        mask[:, np.asarray(columns, int)] = True
    else:
        mask[:] = True
    levels = float(2**bits - 1)
    step = config.stdp.w_max / levels
    for i, j in zip(*np.nonzero(mask)):
        x = w[i, j]
        if bits == 32:
            w[i, j] = float(np.float32(x))
            continue
        k = x * (1.0 / step)
        nearest = math.floor(k + 0.5)
        if abs(k - nearest) < 1e-9:
            k = nearest
        elif config.precision.rounding == "stochastic":
            below = math.floor(k)
            k = below + 1.0 if uniform_naive(seed, t, int(i), int(j), SITES[site]) < k - below else below
        else:
            k = nearest
        w[i, j] = min(max(k, 0.0), levels) * step
    return w


# ----------------------------------------------------------------------------------------
# Readout
# ----------------------------------------------------------------------------------------
def assign_labels_naive(counts, labels, n_classes=10):
    """Loop version of the Diehl & Cook label assignment (-1: never fired; ties: lowest class)."""
    counts = np.asarray(counts, dtype=np.float64)
    n_samples, n_neurons = counts.shape
    out = np.full(n_neurons, -1, np.int64)
    for j in range(n_neurons):
        best_class, best = -1, 0.0
        for c in range(n_classes):
            members = [k for k in range(n_samples) if labels[k] == c]
            mean = sum(counts[k, j] for k in members) / len(members) if members else 0.0
            if mean > best:
                best_class, best = c, mean
        out[j] = best_class
    return out


def predict_naive(counts, assignments, n_classes=10):
    """Loop version of the prediction: class with the highest mean response of its neurons."""
    counts = np.asarray(counts, dtype=np.float64)
    out = np.zeros(counts.shape[0], np.int64)
    for k in range(counts.shape[0]):
        best_class, best = 0, -1.0
        for c in range(n_classes):
            members = [j for j in range(counts.shape[1]) if assignments[j] == c]
            score = sum(counts[k, j] for j in members) / len(members) if members else 0.0
            if score > best:
                best_class, best = c, score
        out[k] = best_class
    return out
