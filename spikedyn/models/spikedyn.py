"""SpikeDyn's learning rule for continual learning: STDP with four mechanisms, each switchable.

SpikeDyn (Putra & Shafique, DAC 2021) names four mechanisms for unsupervised
continual learning but publishes no formula. These are spikedyn's designs, written
so that each can be switched off alone (``config.spikedyn``, :class:`SpikeDynParams`,
the section both parts of this module declare); ``docs/continual.md`` has the rationale
and the measured effect of each (ablation, validation split).

With every switch off the rule is Diehl & Cook's STDP (:mod:`spikedyn.models.stdp`)
bit for bit. Notation: ``pre_i``, ``post1_j``, ``post2_j`` the traces, ``a_j`` the
training spikes of neuron j so far, ``g_j`` its learning-rate factor.

1. **Adaptive learning rates** (``adaptive_rate``, ``rate_half_spikes`` = ``A``)::

       g_j = 1 / (1 + a_j / A)
       presynaptic spike of i:   dw_ij = -nu_pre  * g_j * post1_j
       postsynaptic spike of j:  dw_ij = +nu_post * g_j * pre_i * post2_j

   A neuron that has fired much has learned a pattern; its weights then change
   ever more slowly (a neuron that has fired A spikes learns at half rate), so a
   later task cannot overwrite it easily, while fresh neurons learn at full rate.
   ``a_j`` and ``g_j`` are updated after every training presentation, from the
   presentation's spikes (so ``g`` is constant within a presentation).

2. **Adaptive threshold** (``adaptive_threshold``, ``theta_hold`` = ``k``,
   ``tau_theta_ms``): a consolidated neuron's threshold holds. Each spike of a
   presentation (not of the rest after it, which rise in full) raises ``theta_j`` by
   ``theta_plus * (1 - k * c_j)`` instead of ``theta_plus``, where
   ``c_j = a_j / (a_j + A)`` (= 1 - g_j) is the neuron's consolidation (the kernel
   adds ``theta_plus`` at the spike, as Diehl & Cook, and subtracts
   ``k * theta_plus * c_j * n_j`` after the presentation, ``n_j`` the neuron's spikes
   in it, with ``c_j`` from the activity including them), and thresholds decay with
   ``config.spikedyn.tau_theta_ms`` (default 10^9 ms: 2 % over the default protocol) instead of
   ``excitatory.tau_theta_ms`` (the :class:`SpikeDynThreshold` part).
   Diehl & Cook's homeostasis makes every winner yield to the others: over a task
   of one class it hands that class's samples to neuron after neuron until most of
   the network has learned it (measured: 150-270 of 400 neurons per task), and
   the next task does the same to them. A neuron whose threshold stops rising once
   it has learned keeps winning the inputs it is tuned to, so a task recruits few
   neurons and leaves the others for the next tasks; a threshold that does not
   decay keeps the neurons of old tasks from becoming ever more excitable while
   they are idle and answering for the new task's inputs.

3. **Weight decay** (``weight_decay``, ``decay_rate`` = ``lambda``, ``decay_below`` =
   ``b``): after each training presentation ``w_ij -= lambda * w_ij`` for every
   ``w_ij < b * weight_sum / n_input`` (below ``b`` times the mean weight). Weak
   weights are the remains of patterns a neuron no longer responds to; they leak
   away, and the normalisation gives their share to the strong ones.

4. **Reduction of spurious updates** (``skip_spurious``, ``min_update`` = ``eps``): an
   STDP update whose size, relative to the neuron's full step at its current rate
   (``nu_pre * g_j``, ``nu_post * g_j``), is below ``eps`` is not made::

       depression of w_ij at a spike of input i:    made only if post1_j        >= eps
       potentiation of w_ij at a spike of neuron j: made only if pre_i * post2_j >= eps

   The trace factor is the pair's temporal correlation: ``post1_j < eps`` means that
   neuron j last fired more than ``tau_post1 * ln(1 / eps)`` before input i (92 ms for
   eps = 0.01), too long ago for the pair to say that one caused the other; such an
   update carries no causal information. The threshold is relative, so it does not
   depend on how consolidated the neuron is: with an absolute threshold on ``dw``
   (spikedyn <= 0.1) a neuron whose adaptive rate had fallen far enough could never be
   depressed again, even right after it fired, which froze exactly the neurons that
   had learned. A skipped update is decided from the traces alone: the kernels neither
   read nor write its weight (counted as skipped, ``Traces.updates``), and the cost
   model prices it as the arithmetic that decided it. ``eps`` is selected on the
   validation split (``docs/continual.md``).

Brian2 twin: ``g`` is a variable of the excitatory neurons set before each
presentation; the pathways are ``w = clip(w - dw * int(post1 >= eps), 0, w_max)`` with
``dw = nu_pre * g_post * post1`` (and the same for potentiation with ``pre * post2``),
and the steps after
a presentation (1-3) run from Python on the same arrays (:meth:`SpikeDynStdp.brian2_after_presentation`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numba
import numpy as np

from ..core.neurons import _enlist
from ..core.parts import implements
from ..core.numerics import FLUSH_BELOW
from ..core.traces import (_active_traces_now, _mark, _recent_traces_now, _trace, after_presentation, on_post,
                           on_pre, synapse_history, synapse_significance, transmit)
from .stdp import DiehlCookStdp, _deliver_events, _no_significance, _stdp_synapse_history, _stdp_transmit
from .threshold import (Homeostatic, _homeostatic_integrate, _homeostatic_on_spikes, threshold_integrate,
                        threshold_on_spikes)


@dataclass(frozen=True)
class SpikeDynParams:
    """SpikeDyn's continual-learning mechanisms (the ``spikedyn`` model) [SD21] (section ``spikedyn``).

    [SD21] names the mechanisms but publishes no formula; these are spikedyn's, each
    with its own switch (``docs/continual.md`` gives the equations, the rationale and
    the ablation; the module docstring the kernels):

    - ``adaptive_rate``: neuron j's potentiation and depression factors are scaled
      by ``1 / (1 + a_j / rate_half_spikes)``, ``a_j`` its training spikes so far;
    - ``adaptive_threshold``: a consolidated neuron's threshold holds: each spike of a
      presentation (not of the rest after it) raises ``theta_j`` by ``theta_plus * (1 - theta_hold * c_j)`` instead of
      ``theta_plus``, ``c_j = a_j / (a_j + rate_half_spikes)`` its consolidation, and
      thresholds decay with ``tau_theta_ms`` instead of ``excitatory.tau_theta_ms``;
    - ``weight_decay``: after each training presentation every weight below
      ``decay_below`` times the mean weight (``weight_sum / n_input``) loses the
      fraction ``decay_rate`` of itself;
    - ``skip_spurious``: STDP updates whose trace factor (``post1_j`` for a depression,
      ``pre_i * post2_j`` for a potentiation: their size relative to the neuron's full
      step) is below ``min_update`` are not made.

    Sources as in :mod:`spikedyn.core.params`.
    """

    # Defaults selected on the validation split (experiments/results/continual_selection/,
    # docs/continual.md): the best final average accuracy at 400 neurons, 2 seeds, among
    # rate_half_spikes 20, 50, 100 with weight decay off and on.
    adaptive_rate: bool = True
    rate_half_spikes: float = 100.0
    adaptive_threshold: bool = True
    theta_hold: float = 1.0
    tau_theta_ms: float = 1e9  # 2 % decay over the 40,000 training images of the default protocol
    weight_decay: bool = True
    decay_rate: float = 0.01
    decay_below: float = 0.5
    skip_spurious: bool = True
    min_update: float = 1e-5

    POSITIVE = ("tau_theta_ms", "rate_half_spikes")
    NON_NEGATIVE = ("decay_below", "min_update")
    FRACTIONS = ("decay_rate", "theta_hold")


class SpikeDynRecord(NamedTuple):
    """Kernel record of :class:`SpikeDynStdp` (``min_update`` is 0.0 when ``skip_spurious`` is off)."""

    nu_pre: float
    nu_post: float
    w_max: float
    min_update: float
    adaptive_rate: bool
    rate_half_spikes: float
    adaptive_threshold: bool
    theta_step: float  # -theta_hold * theta_plus (mV): the rise a fully consolidated neuron gives back
    weight_decay: bool
    decay_rate: float
    decay_below_w: float


@numba.njit(cache=True, inline="always")
def _depress_inputs_scaled(w, inputs, lo, hi, post1, rate, recent, n_recent, row_over, nu_pre, w_max, eps,
                           updates):
    """Presynaptic rule with per-neuron factors ``rate`` and skipping, for the input spikes
    ``inputs[lo:hi]`` (in place).

    As :func:`spikedyn.models.stdp._depress_inputs`, only the recent neurons' synapses can
    change unless ``row_over[i]``. A recent neuron's update is made when its trace factor
    ``post1[j]`` reaches ``eps`` and skipped otherwise (neither read nor written: counted in
    ``updates[3]``); a row that may hold a weight above ``w_max`` is visited whole, a
    skipped update then only clipping its weight. Counts the updates made in ``updates[2]``.
    """
    n_out = w.shape[1]
    done = 0
    skipped = 0
    for e in range(lo, hi):
        i = inputs[e]
        if row_over[i]:
            for j in range(n_out):
                if post1[j] >= eps:
                    w[i, j] = min(max(w[i, j] - nu_pre * rate[j] * post1[j], 0.0), w_max)
                else:
                    w[i, j] = min(max(w[i, j], 0.0), w_max)
            done += n_out
        elif nu_pre != 0.0:
            for k in range(n_recent):
                j = recent[k]
                if post1[j] >= eps:
                    w[i, j] = min(max(w[i, j] - nu_pre * rate[j] * post1[j], 0.0), w_max)
                    done += 1
                else:
                    skipped += 1
    updates[2] += done
    updates[3] += skipped


@numba.njit(cache=True, inline="always")
def _potentiate_scaled(w, spikes, n_spikes, pre, active, n_active, post2_table, last_post, t, nu_post, rate, w_max,
                       eps, recent, is_recent, n_recent, row_over, updates):
    """Postsynaptic rule with per-neuron factors and skipping, for each spike of step ``t`` (in place),
    on the rows ``active[:n_active]`` (:func:`spikedyn.core.traces._active_traces_now`; every other
    row's increment is exactly 0).

    The update of ``w[i, j]`` is made when its trace factor ``pre[i] * post2`` is non-zero and
    reaches ``eps``; a non-zero factor below ``eps`` is skipped (neither read nor written:
    counted in ``updates[1]``), except that a row that may hold a weight above ``w_max`` is
    clipped. Counts the updates made in ``updates[0]``.
    """
    done = 0
    skipped = 0
    for k in range(n_spikes):
        j = spikes[k]
        post2 = _trace(post2_table, t - last_post[j])
        a = nu_post * rate[j]
        for q in range(n_active):
            i = active[q]
            f = pre[i] * post2
            if f != 0.0 and f >= eps and a != 0.0:
                w[i, j] = min(max(w[i, j] + a * pre[i] * post2, 0.0), w_max)
                done += 1
            elif row_over[i]:
                w[i, j] = min(max(w[i, j], 0.0), w_max)
                done += 1
            elif f != 0.0 and a != 0.0:
                skipped += 1
        last_post[j] = t
        _enlist(j, recent, is_recent, n_recent)
    updates[0] += done
    updates[1] += skipped


@implements(on_pre, SpikeDynRecord)
def _spikedyn_on_pre(rec, t, learn, w, ge, pixels, lo, hi, step_ptr, input_t0, row_over, last_pre, last_post,
                     recent, is_recent, n_recent, pre_now, post1_now, pre_table, post1_table, post2_table,
                     last_arrival, activity, rate, significance, updates, pre_active):
    _deliver_events(ge, w, pixels, lo, hi)
    learn_hi = hi if learn else lo
    _recent_traces_now(post1_table, last_post, t, recent, is_recent, n_recent, post1_now)
    _mark(last_pre, pixels, lo, learn_hi, t)
    _depress_inputs_scaled(w, pixels, lo, learn_hi, post1_now, rate, recent, n_recent[0], row_over, rec.nu_pre,
                           rec.w_max, rec.min_update, updates)


implements(transmit, SpikeDynRecord)(_stdp_transmit)  # learning off: Diehl & Cook's transmission


@implements(on_post, SpikeDynRecord)
def _spikedyn_on_post(rec, t, w, spikes, n_spikes, row_over, last_pre, last_post, recent, is_recent, n_recent, pre_now,
                      post1_now, pre_table, post1_table, post2_table, last_arrival, activity, rate, significance,
                      updates, pre_active):
    n_active = _active_traces_now(pre_table, last_pre, t, pre_now, row_over, pre_active)
    _potentiate_scaled(w, spikes, n_spikes, pre_now, pre_active, n_active, post2_table, last_post, t, rec.nu_post,
                       rate, rec.w_max, rec.min_update, recent, is_recent, n_recent, row_over, updates)


@implements(after_presentation, SpikeDynRecord)
def _spikedyn_after_presentation(rec, w, theta, counts, activity, rate, significance, updates, sync):
    n_in, n_out = w.shape
    for j in range(n_out):
        activity[j] += counts[j]
    if rec.adaptive_rate:
        for j in range(n_out):
            rate[j] = 1.0 / (1.0 + activity[j] / rec.rate_half_spikes)
    if rec.adaptive_threshold:
        for j in range(n_out):
            consolidation = activity[j] / (activity[j] + rec.rate_half_spikes)
            theta[j] = theta[j] + rec.theta_step * consolidation * counts[j]
    if rec.weight_decay:
        below, lam = rec.decay_below_w, rec.decay_rate
        n_decayed = 0
        for i in range(n_in):
            for j in range(n_out):
                x = w[i, j]
                small = x < below
                n_decayed += small
                w[i, j] = x - lam * x if small else x
        updates[4] += n_decayed


implements(synapse_history, SpikeDynRecord)(_stdp_synapse_history)  # no per-synapse state
implements(synapse_significance, SpikeDynRecord)(_no_significance)


def theta_step_of(config) -> float:
    """``-theta_hold * theta_plus`` in mV: what a fully consolidated neuron's spike gives back of its
    threshold rise."""
    return -config.spikedyn.theta_hold * config.excitatory.theta_plus_mv


def after_presentation_numpy(config, w: np.ndarray, theta: np.ndarray, counts: np.ndarray,
                             activity: np.ndarray, rate: np.ndarray, theta_unit: float = 1.0) -> None:
    """The step after a training presentation, with NumPy, in place (the Brian2 twin's);
    the same arithmetic, element by element, as the kernel (so the same bits in mV;
    ``theta_unit`` = 1e-3 for thresholds in volts)."""
    p = config.spikedyn
    theta_step = theta_step_of(config) * theta_unit
    activity += counts
    if p.adaptive_rate:
        rate[:] = 1.0 / (1.0 + activity / p.rate_half_spikes)
    if p.adaptive_threshold:
        consolidation = activity / (activity + p.rate_half_spikes)
        theta += theta_step * consolidation * counts
    if p.weight_decay:
        small = w < p.decay_below * config.stdp.weight_sum / config.n_input
        w[small] = w[small] - p.decay_rate * w[small]


class SpikeDynThresholdRecord(NamedTuple):
    """Kernel record of :class:`SpikeDynThreshold` (its own type, the homeostatic kernels)."""

    dt_over_tau_theta: float
    theta_plus: float


implements(threshold_integrate, SpikeDynThresholdRecord)(_homeostatic_integrate)
implements(threshold_on_spikes, SpikeDynThresholdRecord)(_homeostatic_on_spikes)


class SpikeDynThreshold(Homeostatic):
    """Part: the homeostatic threshold with SpikeDyn's time constant (``spikedyn-threshold``).

    With ``config.spikedyn.adaptive_threshold`` the thresholds decay with
    ``config.spikedyn.tau_theta_ms`` (their holding for consolidated neurons is done by
    the rule after each presentation, :class:`SpikeDynStdp`); without it, this is
    :class:`~spikedyn.models.threshold.Homeostatic` exactly.
    """

    name = "spikedyn-threshold"
    sections = {"spikedyn": SpikeDynParams}

    def reduces_to(self, config) -> str:
        """``homeostatic`` without SpikeDyn's adaptive threshold (:meth:`spikedyn.models.Model.reduced`)."""
        return self.name if config.spikedyn.adaptive_threshold else Homeostatic.name

    RECORD = SpikeDynThresholdRecord

    def tau_theta_ms(self, config) -> float:
        """``spikedyn.tau_theta_ms`` with SpikeDyn's adaptive threshold, else Diehl & Cook's."""
        p = config.spikedyn
        return p.tau_theta_ms if p.adaptive_threshold else config.excitatory.tau_theta_ms


class SpikeDynStdp(DiehlCookStdp):
    """Part: SpikeDyn's continual-learning STDP (``stdp-spikedyn``); ``config.stdp``, ``config.spikedyn``."""

    name = "stdp-spikedyn"
    sections = {"spikedyn": SpikeDynParams}

    def footprint_entries(self, config) -> dict[str, int]:
        """Each neuron's activity (read by the adaptive rate and threshold) and rate (the adaptive rate)."""
        p = config.spikedyn
        entries = (p.adaptive_rate or p.adaptive_threshold) + p.adaptive_rate
        return {**super().footprint_entries(config), "rule_state": entries * config.n_neurons}

    def operation_profile(self, config) -> dict[str, Any]:
        """Diehl & Cook's work; after each training presentation the weight scan of the decay (if on)
        and, per neuron, the spike count and, with them on, the rate factor and the threshold's step."""
        p = config.spikedyn
        return {**super().operation_profile(config), "scans_weights": bool(p.weight_decay),
                "neuron_state_updates": 1 + int(p.adaptive_rate) + int(p.adaptive_threshold)}

    def reduces_to(self, config) -> str:
        """``stdp`` when no mechanism acts (:meth:`spikedyn.models.Model.reduced`); a skipping
        threshold at or below the kernels' zero (:data:`~spikedyn.core.numerics.FLUSH_BELOW`)
        skips only updates whose traces are exactly zero, which are no updates anyway."""
        p = config.spikedyn
        skips = p.skip_spurious and p.min_update > FLUSH_BELOW
        return self.name if (p.adaptive_rate or p.weight_decay or skips) else DiehlCookStdp.name

    def record(self, config) -> SpikeDynRecord:
        s, p = config.stdp, config.spikedyn
        return SpikeDynRecord(
            nu_pre=float(s.nu_pre), nu_post=float(s.nu_post), w_max=float(s.w_max),
            min_update=float(p.min_update) if p.skip_spurious else 0.0,
            adaptive_rate=bool(p.adaptive_rate), rate_half_spikes=float(p.rate_half_spikes),
            adaptive_threshold=bool(p.adaptive_threshold), theta_step=float(theta_step_of(config)),
            weight_decay=bool(p.weight_decay), decay_rate=float(p.decay_rate),
            decay_below_w=float(p.decay_below * s.weight_sum / config.n_input),
        )

    # -- Brian2 twin ---------------------------------------------------------------------------
    #: Variables of the excitatory neurons that the rule sets before each presentation.
    BRIAN2_NEURON_VARIABLES = ("g",)
    BRIAN2_ON_PRE = """
ge_post += w
pre = 1.
dw = nu_pre * g_post * post1
w = clip(w - dw * int(post1 >= min_update), 0, w_max)
"""
    BRIAN2_ON_POST = """
post2before = post2
dw = nu_post * g_post * pre * post2before
w = clip(w + dw * int(pre * post2before >= min_update), 0, w_max)
post1 = 1.
post2 = 1.
"""

    def brian2_namespace(self, config) -> dict[str, Any]:
        ns = super().brian2_namespace(config)
        ns["min_update"] = self.record(config).min_update
        return ns

    def brian2_after_presentation(self, config, w, theta_v, counts, rule_state) -> None:
        """After each training presentation (``theta_v`` in volts); ``rule_state`` holds
        ``activity`` and ``rate`` (= the neurons' ``g``)."""
        after_presentation_numpy(config, w, theta_v, counts, rule_state["activity"], rule_state["g"], theta_unit=1e-3)
