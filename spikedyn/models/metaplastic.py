"""Consolidating STDP: neurons learn at full rate until they commit, then keep what they learned.

The continual-learning rule of the ``metaplastic`` model (section ``metaplastic``, :class:`MetaplasticParams`);
``docs/continual.md`` has the diagnosis that led to it, the exploration and the ablation. Each mechanism is a
switch; with all of them off the model is ``lateral`` bit for bit (tested). Notation: ``a_j`` neuron j's training
spikes so far (of presentations, as SpikeDyn's rule counts them), ``A`` = ``commit_spikes``; neuron j is
*committed* once ``a_j >= A`` and *plastic* before.

1. **Commitment switch** (``consolidate``, ``commit_spikes`` = ``A``, ``consolidated_rate`` = ``g_c``)::

       g_j = 1 while a_j < A,  g_j = g_c once a_j >= A       (default g_c = 0: frozen)
       presynaptic spike of i:   dw_ij = -nu_pre  * g_j * post1_j
       postsynaptic spike of j:  dw_ij = +nu_post * g_j * pre_i * post2_j

   ``g_j`` is updated after every training presentation. A frozen neuron's synapses are not visited (its increments
   are exactly zero: no update, :mod:`spikedyn.cost.operations`). Sources: metaplasticity (Abraham & Bear 1996),
   consolidation switches (Fusi, Drew & Abbott 2005; Benna & Fusi 2016); Controlled Forgetting (Allred & Roy 2020)
   lowers the plasticity of committed neurons so that only uncommitted ones adapt.

2. **Threshold hold** (``hold_threshold``, ``theta_hold`` = ``h``): a spike of a neuron committed before the
   presentation raises its threshold by ``(1 - h) * theta_plus`` instead of ``theta_plus`` (the kernel adds
   ``theta_plus`` at the spike, as Diehl & Cook, and subtracts ``h * theta_plus * n_j`` after the presentation,
   ``n_j`` the neuron's spikes in it). Plastic neurons keep Diehl & Cook's homeostasis, which spreads a class over
   several neurons; a committed neuron keeps the threshold it was named at, which is the excitability it answers
   with at test time (thresholds are frozen in inference). Thresholds decay with ``tau_theta_ms`` if
   ``decay_threshold`` (the :class:`MetaplasticThreshold` part); by default they do not.

3. **Training-time fatigue** (``fatigue``, ``fatigue_per_spike`` = ``phi``, ``tau_fatigue_ms`` = ``tau_f``): a
   committed neuron that keeps winning training inputs tires, and its input is attenuated *while learning only*::

       after each presentation (period T = present_ms + rest_ms):
           f_j <- f_j * exp(-T / tau_f) + phi * n_j     (n_j counted only if j was committed)
       during training presentations:  ge_j += w_ij / (1 + f_j)   per input spike of i
       during inference:               ge_j += w_ij               (fatigue plays no part)

   Rationale (``docs/continual.md``): a committed neuron must yield the inputs of a new, similar class to plastic
   neurons, but yielding through the threshold (``h < 1``) leaves it less excitable at test time; fatigue makes it
   yield while learning only. Sources: short-term depression of input efficacy (Tsodyks & Markram 1997; Abbott et
   al. 1997); the recruitment it serves is Controlled Forgetting's (Allred & Roy 2020).

4. **Novelty-gated recruitment** (``novelty``, ``vigilance`` = ``rho``, ``novelty_boost`` = ``delta``,
   ``novelty_after_spikes`` = ``S_min``): while a training input is presented, each neuron's drive ``D_j = sum of
   w_ij over the presentation's input spikes so far`` (``S`` of them) measures how well its weights match the input
   (``E[D_j] = rate * T * (x . w_j)``). The input is *novel* while no committed neuron matches it ``rho`` times
   better than a neuron with uniform weights::

       novel(t) = S >= S_min  and  max_{j committed} D_j < rho * S * weight_sum / n_input
       during training steps where novel:  ge_j += w_ij * (1 + delta)  for plastic j
       (committed neurons and inference unchanged)

   so an input the committed neurons represent poorly is learned by an uncommitted neuron
   instead of being absorbed by the nearest committed one, and test-time excitability is
   untouched. ``D`` restarts with each presentation; the test costs one addition per delivered
   weight (a second pass over them) and a maximum over the neurons per step, both priced. Sources:
   Controlled Forgetting's novelty ("dopaminergic") signal that drives uncommitted neurons when an
   input is poorly represented (Allred & Roy 2020; there a neuron driven by the input and inhibited
   by the excitatory layer; here a match of input and weights), ART's vigilance (Carpenter & Grossberg 1987).

5. **Recall at the commitment threshold** (``recall_at_commit``): when learning is off, a
   committed neuron answers with the threshold it had when it committed, ``theta_j(c_j)``
   (``c_j``: the end of the presentation in which ``a_j`` reached ``A``), not with its current
   one; a plastic neuron with its current one::

       theta_test_j = theta_j(c_j)  if a_j >= A,   theta_j  otherwise

   Training is unchanged. Rationale (``docs/continual.md``): the hold's remainder ``(1 - h) *
   theta_plus`` per spike makes a committed neuron yield the inputs of later, similar classes while
   they are learned, but a neuron that answered many later images would carry that rise to test
   time, and the last class's neurons, which nothing made yield, then take the older classes'
   images (a validation run lost 4s and 7s to 9 that way). Recalling each committed neuron at the
   excitability it was named at keeps the yielding a training-time matter. It stores one threshold
   per neuron. Sources: a consolidated trace apart from the labile state learning uses (Benna &
   Fusi 2016; synaptic tagging and capture, Frey & Morris 1997), applied to the excitability.

6. **Decorrelation from co-active committed neurons** (``decorrelate``, ``decorrelation_rate``
   = ``eta``): after each training presentation, every plastic neuron that fired moves away from
   the committed neurons that fired with it (``C``: committed before the presentation and
   ``n_k > 0``; ``P``: plastic before it and ``n_j > 0``)::

       m_i  = sum_{k in C} n_k w_ik / sum_{k in C} n_k
       w_ij <- max(w_ij - eta * m_i, 0)      for j in P       (nothing when C or P is empty)

   The next presentation's normalisation restores each column's sum, so the step moves a plastic
   neuron's weight from the pixels the co-active committed neurons already hold to the pixels
   that set its input apart. Rationale (``docs/continual.md``): a later class's neurons matched an
   older class's images better than that class's own neurons (345 of 983 validation fours read as
   9), so a new class's neurons need to be selective against the older classes whose neurons its
   images also drive. Sources: anti-Hebbian decorrelation of co-active units (Foldiak 1990, Biol.
   Cybern. 64:165), made one-sided as Controlled Forgetting divides the labour (Allred & Roy 2020):
   only plastic neurons move, committed ones keep what they learned. Off by default (no gain on the
   validation split); it reads every neuron's spike count, so it trains on one thread. Cost: the
   ``len(P) * n_input`` weights written as decay updates, the mean's reads as every weight's (a bound).

7. **Recall gain: committed neurons matched by direction** (``recall_gain``,
   ``recall_gain_exponent`` = ``gamma``): when learning is off, each committed neuron's input is
   multiplied by a gain that brings its weight vector's L2 norm towards the committed neurons'
   median ``L``; a plastic neuron answers as it is::

       g_j = (L / ||w_j||_2) ** gamma   if a_j >= A (and ||w_j|| > 0),   g_j = 1 otherwise
       L   = median of ||w_k||_2 over the committed neurons k
       during inference:  ge_j += g_j * w_ij   per input spike of i      (training unchanged)

   With ``gamma = 1`` every committed column has the same L2 norm, and a neuron's drive
   ``g_j w_j . x = L ||x|| cos(w_j, x)`` ranks the neurons by the angle between their weights and
   the input alone. Rationale (``docs/continual.md``, "Recall by direction"): Diehl & Cook's
   normalisation fixes each column's *sum* (L1), so a neuron whose weights are concentrated on a
   few pixels (a 1's stroke) has a larger L2 norm and answers any input containing them more
   strongly than a broader neuron that matches it better; learning keeps the L1 normalisation, only
   the comparison at recall is made by direction. Plastic neurons keep gain 1 (raising their
   near-uniform columns makes unlearned neurons answer everything; mechanism 9 silences them).
   Sources: Oja's rule (Oja 1982, J. Math. Biol. 15:267), the cosine match of competitive Hebbian
   networks (Krotov & Hopfield 2019, PNAS 116:7723; SoftHebb, Moraitis et al. 2022), synaptic
   scaling as a per-neuron gain (Turrigiano et al. 1998, Nature 391:892). Cost: one gain per
   neuron (stored), and per inference step one multiplication of each neuron's input (priced as a
   threshold update; the kernels scale a copy of the weights once per call).

8. **Capacity budget: classes spread wider while the network has neurons to spare**
   (``capacity_budget``, ``budget_extra_spikes`` = ``E``, ``budget_reserve_neurons`` = ``R0``,
   ``budget_full_neurons`` = ``R1``, ``budget_start_spikes`` = ``s``, ``recall_referenced``): a
   neuron *starts* after the presentation in which its training spikes reach ``min(s, A)``; it then gets its
   own commitment budget from the number ``F`` of the network's neurons that had not started before
   that presentation, and keeps it::

       A_j = A + E f_j,     f_j = clip((F - R0) / (R1 - R0), 0, 1)
       neuron j commits once its training spikes reach A_j       (instead of A)

   so with ``R0`` or fewer free neurons every budget is ``A`` (the run without the budget, bit for
   bit), and with ``R1`` or more it is ``A + E``. It is kept as a head start on the count: the
   kernels compare ``a_j`` with ``A + E`` everywhere, and a starting neuron's ``a_j`` gains
   ``E (1 - f_j)``. With ``recall_referenced`` (and ``recall_at_commit``) a committed neuron answers
   at test time with its threshold at commitment less ``theta_plus (A_j - A)``, the rise its spikes
   beyond the common budget gave it (thresholds do not decay by default, and each spike of a
   plastic neuron adds ``theta_plus``), so that neurons of different budgets compete at test time as
   neurons of the common budget would.

   Rationale (``docs/continual.md``, "The commitment budget" and "The capacity budget, registered"):
   a larger budget spreads each class over more neurons (a plastic neuron's threshold rises with its
   spikes, so more fresh neurons win before it commits), which a large network can afford and a
   small one cannot (at 200 neurons a uniform 250 leaves no free neuron for the last classes: ACC
   0.746 against 0.877); counting the free neurons lets one rule serve both. The referenced recall
   removes the spread of thresholds the different budgets commit with (31-36 mV measured; without
   it ACC 0.840 against 0.885, 400 neurons). The free count is summed over the blocks of neurons at
   a meeting of the threads, so training stays bit-identical for any number of threads. Sources:
   recruitment of uncommitted neurons while capacity remains (Controlled Forgetting, Allred & Roy
   2020; ART, Carpenter & Grossberg 1987); the sliding threshold for consolidation (Abraham & Bear
   1996). Cost: one budget per neuron (stored), read after each training presentation and written
   at its start (one neuron-state update per neuron).

9. **Recall by committed neurons only** (``recall_committed_only``): when learning is off, a plastic
   neuron does not answer; once any neuron has committed::

       g_j = 0   if a_j < A_j (plastic),    during inference:  ge_j += g_j * w_ij   (training unchanged)

   (with the recall gain, a committed neuron's ``g_j`` is its gain of mechanism 7, else 1; before any
   neuron commits every neuron answers as it is). Rationale (``docs/continual.md``, "A neuron still
   learning when training stops"): a neuron in the middle of its budget has half-learned weights
   and a lower threshold than a committed one, and can answer every image at test time: the two
   1600-neuron runs that collapsed were each one such neuron, named 9, taking the fours, sevens and
   eights (ACC 0.65 and 0.78; 0.89 and 0.88 with the plastic neurons silent). What the network
   recalls is what it has consolidated. Sources: the consolidated trace as the one recalled (Benna &
   Fusi 2016; Frey & Morris 1997); ART's committed and uncommitted categories (Carpenter & Grossberg
   1987). Cost: mechanism 7's gain (the kernel still delivers every weight: no saving is credited).

Dropped from the first version (``docs/continual.md``): a threshold reset at commitment, a permanent
suppression of committed neurons' input while learning, a downward drift of plastic neurons' thresholds.

Per-neuron state of mechanisms 3-5 and 8 (``Traces.significance``, float64, (5, N) with the capacity
budget, (4, N) with the recall, (3, N) without either when fatigue or novelty is on, else (0, 0)):
row 0 the fatigue ``f``, row 1 ``1 / (1 + f) - 1`` (0 at rest: the state starts at zero), row 2 the
drive ``D`` of the current presentation, row 3 the threshold at commitment (mV; 0 while plastic),
row 4 the budget ``A_j`` (0 until the neuron starts).

Brian2 twin: ``g`` and ``fatigue_gain`` are variables of the excitatory neurons set before each
presentation; the pathways are ``ge_post += w * fatigue_gain_post``, ``w = clip(w - nu_pre
* g_post * post1, 0, w_max)`` and ``w = clip(w + nu_post * g_post * pre * post2before, 0,
w_max)``; the step after a presentation runs from Python on the same arrays
(:func:`after_presentation_numpy`), and so does the choice of the recall thresholds
(:func:`recall_thresholds`). The novelty gate acts within a presentation on a maximum
over the population, which Brian2's code generation has no form for: the twin refuses it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import numba
import numpy as np

from ..core.barrier import _sum_over_threads
from ..core.neurons import _enlist
from ..core.parts import implements
from ..core.traces import (_active_traces_now, _mark, _recent_traces_now, _trace, after_presentation, on_post,
                           on_pre, synapse_history, synapse_significance, transmit)
from ..errors import ConfigError
from .stdp import DiehlCookStdp, _deliver_events, _potentiate_rows, _stdp_synapse_history, _stdp_transmit
from .threshold import (Homeostatic, _homeostatic_integrate, _homeostatic_on_spikes, threshold_integrate,
                        threshold_on_spikes)


@dataclass(frozen=True)
class MetaplasticParams:
    """Consolidating STDP, the ``metaplastic`` model (section ``metaplastic``; the module docstring
    has the equations, ``docs/continual.md`` the selection and the ablation).

    - ``consolidate``: neuron j learns at full rate while its training spikes
      ``a_j < commit_spikes``, then at ``consolidated_rate`` times the rate (0: frozen);
    - ``hold_threshold``: a committed neuron's spikes raise its threshold by only
      ``1 - theta_hold`` of ``theta_plus``;
    - ``decay_threshold``: thresholds decay with ``tau_theta_ms`` (instead of
      ``excitatory.tau_theta_ms``); off: they do not decay;
    - ``fatigue``: while learning, a committed neuron's input is divided by ``1 + f_j``, its
      fatigue, which rises by ``fatigue_per_spike`` per spike and decays with ``tau_fatigue_ms``;
    - ``novelty``: while learning, when no committed neuron's weights match the input
      ``vigilance`` times better than uniform weights (after ``novelty_after_spikes`` input
      spikes of the presentation), plastic neurons' input is multiplied by ``1 + novelty_boost``;
    - ``recall_at_commit``: with learning off, a committed neuron answers with the threshold it
      had when it committed;
    - ``decorrelate``: after each training presentation, plastic neurons that fired lose
      ``decorrelation_rate`` times the spike-weighted mean weights of the committed neurons that
      fired with them (clipped at 0);
    - ``recall_gain``: with learning off, a committed neuron's input is multiplied by
      ``(L / ||w_j||_2) ** recall_gain_exponent``, ``L`` the committed neurons' median L2 norm;
    - ``capacity_budget``: a neuron that reaches ``budget_start_spikes`` training spikes commits after
      ``commit_spikes + budget_extra_spikes * f`` of them, ``f`` growing from 0 with
      ``budget_reserve_neurons`` free neurons in the network to 1 with ``budget_full_neurons``;
      ``recall_referenced``: a committed neuron then answers with its threshold at commitment less
      ``theta_plus`` per spike of its budget beyond ``commit_spikes``;
    - ``recall_committed_only``: with learning off, only committed neurons answer (a plastic neuron's
      input gain is 0), once any neuron has committed.

    Defaults chosen on the validation split (``docs/continual.md``): at 400 neurons, 2 seeds,
    ``commit_spikes`` 200 among 50, 100, 200, 400, the threshold not decaying, ``theta_hold`` 0.97
    among 0.95, 0.97, 0.99, 1 with 128 Hz input; ``recall_gain_exponent`` 1 among 0 (off), 0.5, 1,
    1.5, 2. Fatigue, the novelty gate and the decorrelation are off: none added accuracy there.
    ``recall_at_commit`` is on, designed after the diagnosis of runs that collapsed in the last task.
    ``capacity_budget`` (``budget_extra_spikes`` 200 among 0, 100, 200, 300 at 1600 neurons; the
    reserve and full sizes are anchors, not a selection) and ``recall_committed_only`` are off here
    (the model as it was) and on in ``spikedyn continual``'s default
    (:data:`spikedyn.continual.DEFAULT_CONTINUAL_SET`).
    """

    consolidate: bool = True
    commit_spikes: float = 200.0
    consolidated_rate: float = 0.0
    hold_threshold: bool = True
    theta_hold: float = 0.97
    decay_threshold: bool = False
    tau_theta_ms: float = 1e7  # [DC15]'s, used with decay_threshold
    fatigue: bool = False
    fatigue_per_spike: float = 0.005
    tau_fatigue_ms: float = 5e4
    novelty: bool = False
    vigilance: float = 2.0
    novelty_boost: float = 0.5
    novelty_after_spikes: int = 50
    recall_at_commit: bool = True
    decorrelate: bool = False
    decorrelation_rate: float = 0.01
    recall_gain: bool = True
    recall_gain_exponent: float = 1.0
    capacity_budget: bool = False
    budget_extra_spikes: float = 200.0
    budget_reserve_neurons: float = 400.0
    budget_full_neurons: float = 1600.0
    budget_start_spikes: float = 10.0
    recall_referenced: bool = True
    recall_committed_only: bool = False

    #: Fields added since the section's first version, with the value that reproduces files written
    #: before (:meth:`spikedyn.config.NetworkConfig.from_saved`): 0.4.0's networks had no recall,
    #: 0.8.0's no recall gain.
    ADDED = {"recall_at_commit": False, "recall_gain": False, "capacity_budget": False,
             "recall_committed_only": False}
    POSITIVE = ("commit_spikes", "tau_theta_ms", "tau_fatigue_ms", "budget_full_neurons")
    NON_NEGATIVE = ("fatigue_per_spike", "vigilance", "novelty_boost", "novelty_after_spikes", "decorrelation_rate",
                    "recall_gain_exponent", "budget_extra_spikes", "budget_start_spikes", "budget_reserve_neurons")
    FRACTIONS = ("consolidated_rate", "theta_hold")

    def check(self, config):
        if self.novelty and self.novelty_after_spikes < 1:
            raise ConfigError(f"metaplastic.novelty_after_spikes={self.novelty_after_spikes!r} must be >= 1 with "
                              "metaplastic.novelty on (the match is a ratio to the input spikes so far)")
        if self.capacity_budget and not self.consolidate:
            raise ConfigError("metaplastic.capacity_budget sets when a neuron commits: turn metaplastic.consolidate "
                              "on, or the budget off")
        if self.budget_reserve_neurons >= self.budget_full_neurons:
            raise ConfigError(f"metaplastic.budget_reserve_neurons={self.budget_reserve_neurons!r} must be below "
                              f"metaplastic.budget_full_neurons={self.budget_full_neurons!r} (the budget grows from "
                              "the one to the other)")
        if self.capacity_budget and self.recall_referenced and not self.recall_at_commit:
            raise ConfigError("metaplastic.recall_referenced corrects the threshold recalled at commitment: turn "
                              "metaplastic.recall_at_commit on, or metaplastic.recall_referenced off")


class MetaplasticRecord(NamedTuple):
    """Kernel record of :class:`MetaplasticStdp`."""

    nu_pre: float
    nu_post: float
    w_max: float
    consolidate: bool
    commit_spikes: float
    consolidated_rate: float
    hold_threshold: bool
    theta_release: float  # theta_hold * theta_plus (mV): what a committed neuron's spike gives back
    fatigue: bool
    fatigue_per_spike: float
    fatigue_keep: float  # exp(-(present_ms + rest_ms) / tau_fatigue_ms)
    novelty: bool
    vigilance_w: float  # vigilance * weight_sum / n_input: a matching neuron's drive per input spike
    novelty_gain: float  # 1 + novelty_boost
    novelty_after_spikes: int
    recall_at_commit: bool
    decorrelate: bool
    decorrelation_rate: float
    capacity_budget: bool
    budget_extra_spikes: float  # E
    budget_reserve_neurons: float  # R0
    budget_full_neurons: float  # R1
    budget_start_spikes: float


@numba.njit(cache=True, inline="always")
def _depress_plastic(w, inputs, lo, hi, post1, rate, recent, n_recent, row_over, nu_pre, w_max):
    """Presynaptic rule scaled by each neuron's factor ``rate``, for the input spikes ``inputs[lo:hi]``
    (in place): ``w[i, j] = clip(w[i, j] - nu_pre * rate[j] * post1[j], 0, w_max)``. As
    :func:`spikedyn.models.stdp._depress_inputs`, only the recent neurons' synapses can change
    (unless ``row_over[i]``: the whole row, clipped), and of those only the plastic ones
    (``rate[j] > 0``) are visited. Returns the updates made."""
    n_out = w.shape[1]
    done = 0
    for e in range(lo, hi):
        i = inputs[e]
        if row_over[i]:
            for j in range(n_out):
                w[i, j] = min(max(w[i, j] - nu_pre * rate[j] * post1[j], 0.0), w_max)
            done += n_out
        elif nu_pre != 0.0:
            for k in range(n_recent):
                j = recent[k]
                if rate[j] > 0.0:
                    w[i, j] = min(max(w[i, j] - nu_pre * rate[j] * post1[j], 0.0), w_max)
                    done += 1
    return done


@numba.njit(cache=True, inline="always")
def _deliver_modulated(rec, t, ge, w, pixels, lo, hi, input_t0, activity, state):
    """The input spikes ``pixels[lo:hi]`` of a training step, in order, with the fatigue and novelty
    gains (in place): ``ge[j] += w[i, j] * gain_j`` and, with novelty on, ``D_j += w[i, j]``.

    ``state`` is the rule's per-neuron state (module docstring; indexed, never sliced: a row view
    would cost reference counting every step); ``D`` restarts at the first step of each presentation
    (``t == input_t0[0]``); ``lo`` input spikes of the presentation were delivered before this step.
    ``gain_j = (1 + drop_j) * (1 + delta if novel and j plastic)``. Every loop's extent is selected
    rather than branched around (see "How the kernels are kept fast" in ``docs/model.md``).
    """
    n = ge.shape[0]
    first = t == input_t0[0]  # read before any branch: an array read inside one costs reference counting
    for j in range(n if (rec.fatigue or rec.novelty) and first else 0):  # state is (3, N) only then
        state[2, j] = 0.0
    best = 0.0
    for j in range(n if rec.novelty and hi > lo and lo >= rec.novelty_after_spikes else 0):
        if activity[j] >= rec.commit_spikes and state[2, j] > best:
            best = state[2, j]
    novel = rec.novelty and hi > lo and lo >= rec.novelty_after_spikes and best < rec.vigilance_w * lo
    boost = rec.novelty_gain if novel else 1.0
    for e in range(lo, hi):
        i = pixels[e]
        for j in range(n):
            gain = 1.0 + state[1, j]
            if activity[j] < rec.commit_spikes:
                gain = gain * boost
            ge[j] += w[i, j] * gain
    for e in range(lo, hi if rec.novelty else lo):
        i = pixels[e]
        for j in range(n):
            state[2, j] += w[i, j]


@implements(on_pre, MetaplasticRecord)
def _metaplastic_on_pre(rec, t, learn, w, ge, pixels, lo, hi, step_ptr, input_t0, row_over, last_pre, last_post,
                        recent, is_recent, n_recent, pre_now, post1_now, pre_table, post1_table, post2_table,
                        last_arrival, activity, rate, significance, updates, pre_active):
    # Training with fatigue or novelty: the modulated delivery; otherwise Diehl & Cook's (a select of
    # the spikes each delivers, not a branch around the loops).
    modulated = learn and (rec.fatigue or rec.novelty)
    _deliver_events(ge, w, pixels, lo, lo if modulated else hi)
    _deliver_modulated(rec, t, ge, w, pixels, lo, hi if modulated else lo, input_t0, activity, significance)
    learn_hi = hi if learn else lo
    _recent_traces_now(post1_table, last_post, t, recent, is_recent, n_recent, post1_now)
    _mark(last_pre, pixels, lo, learn_hi, t)
    updates[2] += _depress_plastic(w, pixels, lo, learn_hi, post1_now, rate, recent, n_recent[0], row_over,
                                   rec.nu_pre, rec.w_max)


implements(transmit, MetaplasticRecord)(_stdp_transmit)  # inference: Diehl & Cook's transmission, no gains


@implements(on_post, MetaplasticRecord)
def _metaplastic_on_post(rec, t, w, spikes, n_spikes, row_over, last_pre, last_post, recent, is_recent, n_recent,
                         pre_now, post1_now, pre_table, post1_table, post2_table, last_arrival, activity, rate,
                         significance, updates, pre_active):
    n_active = _active_traces_now(pre_table, last_pre, t, pre_now, row_over, pre_active)
    done = 0
    for k in range(n_spikes):
        j = spikes[k]
        post2 = _trace(post2_table, t - last_post[j])
        # A frozen neuron (rate 0) has a zero factor: only rows above w_max are clipped.
        done += _potentiate_rows(w, j, pre_now, pre_active, n_active, rec.nu_post * rate[j], post2, rec.w_max,
                                 row_over)
        last_post[j] = t
        _enlist(j, recent, is_recent, n_recent)
    updates[0] += done


@numba.njit(cache=True)
def _decorrelate(w, counts, activity, commit_spikes, eta):
    """The decorrelation step (in place; module docstring, mechanism 6): every plastic neuron that
    fired in the presentation moves away from the spike-weighted mean weight vector of the committed
    neurons that fired with it, ``w_ij = max(w_ij - eta * m_i, 0)``, ``m_i = sum_k n_k w_ik / sum_k n_k``
    over the co-active committed k (summed in index order). Returns the weights written (0 when either
    group is empty)."""
    n_in, n_out = w.shape
    committed = np.empty(n_out, np.int64)
    plastic = np.empty(n_out, np.int64)
    n_c = 0
    n_p = 0
    total = 0.0
    for j in range(n_out):
        if counts[j] > 0:
            if activity[j] >= commit_spikes:
                committed[n_c] = j
                n_c += 1
                total += counts[j]
            else:
                plastic[n_p] = j
                n_p += 1
    if n_c == 0 or n_p == 0:
        return 0
    for i in range(n_in):
        m = 0.0
        for k in range(n_c):
            j = committed[k]
            m += w[i, j] * counts[j]
        step = eta * (m / total)
        for k in range(n_p):
            j = plastic[k]
            w[i, j] = max(w[i, j] - step, 0.0)
    return n_in * n_p


@numba.njit(cache=True)
def _budget_share(reserve, full, free):
    """``f = clip((F - R0) / (R1 - R0), 0, 1)`` while ``F`` = ``free`` neurons have not started (mechanism 8)."""
    return min(1.0, max(0.0, (free - reserve) / (full - reserve)))


@numba.njit(cache=True)
def _head_start(extra, reserve, full, free):
    """The head start ``E (1 - f)`` of a neuron that starts while ``free`` neurons have not started."""
    return extra * (1.0 - _budget_share(reserve, full, free))


@implements(after_presentation, MetaplasticRecord)
def _metaplastic_after_presentation(rec, w, theta, counts, activity, rate, significance, updates, sync):
    if rec.decorrelate:  # before the spike counts join the activity: committed = committed before
        updates[4] += _decorrelate(w, counts, activity, rec.commit_spikes, rec.decorrelation_rate)
    head = 0.0  # the head start of a neuron that starts in this presentation: E (1 - f)
    if rec.capacity_budget:  # f from the neurons free before this presentation's starts, in the whole network
        free = 0
        for j in range(w.shape[1]):
            if significance[4, j] == 0.0:
                free += 1
        if sync is not None:
            free = _sum_over_threads(sync, free)
        head = _head_start(rec.budget_extra_spikes, rec.budget_reserve_neurons, rec.budget_full_neurons, free)
    for j in range(w.shape[1]):
        committed_before = activity[j] >= rec.commit_spikes
        if rec.hold_threshold and committed_before:
            theta[j] = theta[j] - rec.theta_release * counts[j]
        activity[j] += counts[j]
        if rec.capacity_budget and significance[4, j] == 0.0 and activity[j] >= rec.budget_start_spikes:
            significance[4, j] = rec.commit_spikes - head  # its budget, A + E f
            activity[j] += head
        if rec.recall_at_commit and not committed_before and activity[j] >= rec.commit_spikes:
            significance[3, j] = theta[j]
        if rec.consolidate:
            rate[j] = 1.0 if activity[j] < rec.commit_spikes else rec.consolidated_rate
        if rec.fatigue:
            f = significance[0, j] * rec.fatigue_keep
            if committed_before:
                f = f + rec.fatigue_per_spike * counts[j]
            significance[0, j] = f
            significance[1, j] = 1.0 / (1.0 + f) - 1.0


implements(synapse_history, MetaplasticRecord)(_stdp_synapse_history)


@implements(synapse_significance, MetaplasticRecord)
def _metaplastic_state(rec, n_input, n_neurons):
    # 0.4.0's layout (3 rows with fatigue or novelty) unless the recall adds its row (and the budget its own)
    rows = 5 if rec.capacity_budget else 4 if rec.recall_at_commit else 3 if rec.fatigue or rec.novelty else 0
    return np.empty((rows, n_neurons) if rows else (0, 0), np.float64)


def commit_count(p) -> float:
    """The count ``a_j`` at which a neuron commits (``p``: the ``metaplastic`` section): ``commit_spikes``,
    or with the capacity budget ``commit_spikes + budget_extra_spikes`` (mechanism 8: a neuron's budget
    ``A + E f_j`` is its head start ``E (1 - f_j)`` on this count)."""
    return p.commit_spikes + (p.budget_extra_spikes if p.capacity_budget else 0.0)


def budget_start_of(p) -> float:
    """The training spikes at which a neuron starts (mechanism 8): ``budget_start_spikes``, or
    ``commit_spikes`` if that is fewer (a neuron gets its budget no later than it could commit)."""
    return min(p.budget_start_spikes, p.commit_spikes)


def budget_share(p, free: int) -> float:
    """The capacity budget's share ``f`` while ``free`` neurons have not started (:func:`_budget_share`)."""
    return float(_budget_share(float(p.budget_reserve_neurons), float(p.budget_full_neurons), int(free)))


def budget_head_start(p, free: int) -> float:
    """The head start of a neuron that starts while ``free`` neurons have not started (:func:`_head_start`)."""
    return float(_head_start(float(p.budget_extra_spikes), float(p.budget_reserve_neurons),
                             float(p.budget_full_neurons), int(free)))


def fatigue_keep_of(config) -> float:
    """``exp(-(present_ms + rest_ms) / tau_fatigue_ms)``: the fatigue kept from one presentation to the next."""
    p, t = config.metaplastic, config.timing
    return math.exp(-(t.present_ms + t.rest_ms) / p.tau_fatigue_ms)


def after_presentation_numpy(config, theta: np.ndarray, counts: np.ndarray, activity: np.ndarray, rate: np.ndarray,
                             fatigue: np.ndarray | None = None, fatigue_gain: np.ndarray | None = None,
                             theta_unit: float = 1.0, theta_commit: np.ndarray | None = None,
                             w: np.ndarray | None = None, budget: np.ndarray | None = None) -> None:
    """The step after a training presentation with NumPy, in place (the Brian2 twin's): the kernel's
    arithmetic element by element (``theta_unit`` = 1e-3 for volts). ``fatigue`` (f) and
    ``fatigue_gain`` (``1 / (1 + f)``) are updated when the fatigue is on, ``theta_commit`` (the
    threshold at commitment, in ``theta``'s unit) with ``recall_at_commit``, the weights ``w``
    ((n_input, N)) with ``decorrelate``, ``budget`` (each neuron's budget ``A + E f_j``, 0 until it
    starts) with ``capacity_budget``."""
    p = config.metaplastic
    commit = commit_count(p)
    committed_before = activity >= commit
    if p.decorrelate and w is not None:
        decorrelate_numpy(w, counts, committed_before, p.decorrelation_rate)
    if p.hold_threshold:
        release = p.theta_hold * config.excitatory.theta_plus_mv * theta_unit
        theta[committed_before] = theta[committed_before] - release * counts[committed_before]
    activity += counts
    if p.capacity_budget and budget is not None:
        waiting = budget == 0.0  # not started before this presentation
        head = budget_head_start(p, int(np.count_nonzero(waiting)))
        starts = waiting & (activity >= budget_start_of(p))
        budget[starts] = commit - head
        activity[starts] = activity[starts] + head
    if p.recall_at_commit and theta_commit is not None:
        now = ~committed_before & (activity >= commit)
        theta_commit[now] = theta[now]
    if p.consolidate:
        rate[:] = np.where(activity < commit, 1.0, p.consolidated_rate)
    if p.fatigue and fatigue is not None:
        f = fatigue * fatigue_keep_of(config)
        f = np.where(committed_before, f + p.fatigue_per_spike * counts, f)
        fatigue[:] = f
        if fatigue_gain is not None:
            fatigue_gain[:] = 1.0 + (1.0 / (1.0 + f) - 1.0)


def decorrelate_numpy(w: np.ndarray, counts: np.ndarray, committed: np.ndarray, eta: float) -> int:
    """:func:`_decorrelate` with NumPy, in place, the same arithmetic in the same order (``committed``:
    the neurons committed before the presentation). Returns the weights written."""
    fired = counts > 0
    c, p = np.flatnonzero(fired & committed), np.flatnonzero(fired & ~committed)
    if c.size == 0 or p.size == 0:
        return 0
    m = np.zeros(w.shape[0])
    for j in c:
        m = m + w[:, j] * counts[j]
    step = eta * (m / float(counts[c].sum()))
    w[:, p] = np.maximum(w[:, p] - step[:, None], 0.0)
    return w.shape[0] * p.size


def recall_gains(config, w: np.ndarray, activity: np.ndarray) -> np.ndarray:
    """Each neuron's input gain when learning is off (mechanisms 7 and 9 of the module docstring), shape
    (N,): with ``recall_gain``, ``(L / ||w_j||_2) ** recall_gain_exponent`` for a committed neuron
    (``activity >= commit_spikes``) with a non-zero column, ``L`` the median L2 norm of the committed
    neurons' columns; with ``recall_committed_only``, 0 for every plastic neuron; 1 for every other
    neuron. Before any neuron commits every gain is 1."""
    p = config.metaplastic
    gain = np.ones(w.shape[1])
    if not _answers_with_gains(p):
        return gain
    committed = activity >= commit_count(p)
    if not committed.any():
        return gain
    if p.recall_gain:
        norms = np.sqrt(np.einsum("ij,ij->j", w, w))
        scaled = committed & (norms > 0.0)
        if scaled.any():
            gain[scaled] = (np.median(norms[scaled]) / norms[scaled]) ** p.recall_gain_exponent
    if p.recall_committed_only:
        gain[~committed] = 0.0
    return gain


def _answers_with_gains(p: MetaplasticParams) -> bool:
    """Whether the network answers with a gain of each neuron's input (mechanisms 7 and 9)."""
    return bool(p.recall_gain or p.recall_committed_only)


def recall_weights(config, w: np.ndarray, activity: np.ndarray) -> np.ndarray:
    """The weights a network answers with when learning is off: ``w`` times each column's
    :func:`recall_gains` (a new array), or ``w`` itself without ``recall_gain`` and
    ``recall_committed_only``."""
    if not _answers_with_gains(config.metaplastic):
        return w
    return w * recall_gains(config, w, activity)


def recall_thresholds(config, theta: np.ndarray, activity: np.ndarray, theta_commit: np.ndarray,
                      budget: np.ndarray | None = None, theta_unit: float = 1.0) -> np.ndarray:
    """The thresholds a network answers with when learning is off: with ``recall_at_commit``, each
    committed neuron's (``activity >= commit_spikes``, :func:`commit_count`) threshold at commitment
    ``theta_commit``, every other neuron's ``theta``; without, ``theta`` itself (the same array). With
    the capacity budget and ``recall_referenced``, a committed neuron's recalled threshold less
    ``theta_plus (budget_j - A)``, the rise its spikes beyond the common budget ``A`` gave it
    (mechanism 8; ``budget``: each neuron's budget, ``theta_unit`` = 1e-3 for volts)."""
    p = config.metaplastic
    if not p.recall_at_commit:
        return theta
    recalled = theta_commit
    if p.capacity_budget and p.recall_referenced and budget is not None:
        beyond = np.where(budget > 0.0, budget - p.commit_spikes, 0.0)
        recalled = theta_commit - config.excitatory.theta_plus_mv * theta_unit * beyond
    return np.where(activity >= commit_count(p), recalled, theta)


class MetaplasticThresholdRecord(NamedTuple):
    """Kernel record of :class:`MetaplasticThreshold` (its own type, the homeostatic kernels)."""

    dt_over_tau_theta: float
    theta_plus: float


implements(threshold_integrate, MetaplasticThresholdRecord)(_homeostatic_integrate)
implements(threshold_on_spikes, MetaplasticThresholdRecord)(_homeostatic_on_spikes)


class MetaplasticThreshold(Homeostatic):
    """Part: the homeostatic threshold decaying with ``config.metaplastic.tau_theta_ms``, or not at
    all (``metaplastic-threshold``; the hold of committed neurons is the rule's,
    :class:`MetaplasticStdp`)."""

    name = "metaplastic-threshold"
    sections = {"metaplastic": MetaplasticParams}

    RECORD = MetaplasticThresholdRecord

    def tau_theta_ms(self, config) -> float:
        """The thresholds' time constant: ``metaplastic.tau_theta_ms``, or inf without ``decay_threshold``."""
        p = config.metaplastic
        return p.tau_theta_ms if p.decay_threshold else math.inf

    def reduces_to(self, config) -> str:
        """``homeostatic`` when the thresholds decay with Diehl & Cook's time constant."""
        same = self.tau_theta_ms(config) == config.excitatory.tau_theta_ms
        return Homeostatic.name if same else self.name


class MetaplasticStdp(DiehlCookStdp):
    """Part: consolidating STDP (``stdp-metaplastic``); ``config.stdp``, ``config.metaplastic``."""

    name = "stdp-metaplastic"
    sections = {"metaplastic": MetaplasticParams}

    def footprint_entries(self, config) -> dict[str, int]:
        """Each neuron's training spikes (for the commitment, the hold or the recalls), its factor ``g``
        (with the commitment), with fatigue or novelty its fatigue and drive, with the recall its
        threshold at commitment, with the recall gain or the recall by committed neurons only its gain, and
        with the capacity budget its budget."""
        p = config.metaplastic
        gains = _answers_with_gains(p)
        per_neuron = ((p.consolidate or p.hold_threshold or p.recall_at_commit or gains) + p.consolidate
                      + 2 * (p.fatigue or p.novelty) + p.recall_at_commit + gains + p.capacity_budget)
        return {**super().footprint_entries(config), "rule_state": per_neuron * config.n_neurons}

    def operation_profile(self, config) -> dict[str, Any]:
        """Diehl & Cook's work and, per neuron after each training presentation
        (:func:`_metaplastic_after_presentation`), the spike count, the factor ``g`` (with the
        commitment), the threshold's hold (counted for every neuron, as the model view counts), the
        fatigue and its gain (with the fatigue) and the budget (with the capacity budget: each neuron's is
        read for the count of free neurons and, at its start, written); with the recall gain or the recall
        by committed neurons only, one multiplication of each
        neuron's input by its gain per inference step (priced as a threshold update: a per-neuron
        entry read and applied; the kernel scales the weights once per call instead, which is
        cheaper, so this is the dearer of the two ways). ``drive_accumulates``: the novelty gate's drive (a
        second read and addition of each delivered weight while learning, a maximum per step);
        ``averages_weights``: the decorrelation's mean, priced as a read of every weight per presentation."""
        p = config.metaplastic
        return {**super().operation_profile(config),
                "neuron_state_updates": (1 + int(p.consolidate) + int(p.hold_threshold) + 2 * int(p.fatigue)
                                         + int(p.capacity_budget)),
                "inference_gains": _answers_with_gains(p), "drive_accumulates": bool(p.novelty),
                "averages_weights": bool(p.decorrelate)}

    def single_thread_reason(self, config) -> str | None:
        """Why training cannot be split into blocks of neurons (:func:`spikedyn.simulation.network.training_threads`):
        the novelty gate takes a maximum over the whole population at every step, the decorrelation a
        mean over it after each presentation."""
        if config.metaplastic.novelty:
            return ("metaplastic.novelty compares every committed neuron's drive at each step, which one block of "
                    "neurons cannot see")
        if config.metaplastic.decorrelate:
            return ("metaplastic.decorrelate moves plastic neurons away from the committed neurons that fired with "
                    "them, which one block of neurons cannot see")
        return None

    def reduces_to(self, config) -> str:
        """``stdp`` when no mechanism acts on the weights' learning (:meth:`spikedyn.models.Model.reduced`)."""
        p = config.metaplastic
        acts = (p.consolidate or p.hold_threshold or p.fatigue or p.novelty or p.recall_at_commit or p.decorrelate
                or p.recall_gain or p.capacity_budget or p.recall_committed_only)
        return self.name if acts else DiehlCookStdp.name

    def record(self, config) -> MetaplasticRecord:
        s, p = config.stdp, config.metaplastic
        return MetaplasticRecord(
            nu_pre=float(s.nu_pre), nu_post=float(s.nu_post), w_max=float(s.w_max),
            consolidate=bool(p.consolidate), commit_spikes=float(commit_count(p)),
            consolidated_rate=float(p.consolidated_rate), hold_threshold=bool(p.hold_threshold),
            theta_release=float(p.theta_hold * config.excitatory.theta_plus_mv),
            fatigue=bool(p.fatigue), fatigue_per_spike=float(p.fatigue_per_spike),
            fatigue_keep=float(fatigue_keep_of(config)), novelty=bool(p.novelty),
            vigilance_w=float(p.vigilance * s.weight_sum / config.n_input), novelty_gain=1.0 + float(p.novelty_boost),
            novelty_after_spikes=int(p.novelty_after_spikes), recall_at_commit=bool(p.recall_at_commit),
            decorrelate=bool(p.decorrelate), decorrelation_rate=float(p.decorrelation_rate),
            capacity_budget=bool(p.capacity_budget), budget_extra_spikes=float(p.budget_extra_spikes),
            budget_reserve_neurons=float(p.budget_reserve_neurons), budget_full_neurons=float(p.budget_full_neurons),
            budget_start_spikes=float(budget_start_of(p)))

    def test_thresholds(self, config, theta: np.ndarray, traces) -> np.ndarray:
        """The thresholds of inference (:func:`recall_thresholds`) from the network's rule state."""
        p = config.metaplastic
        if not p.recall_at_commit:
            return theta
        budget = traces.significance[4] if p.capacity_budget else None
        return recall_thresholds(config, theta, traces.activity, traces.significance[3], budget)

    def test_weights(self, config, w: np.ndarray, traces) -> np.ndarray:
        """The weights of inference (:func:`recall_weights`) from the network's rule state."""
        return recall_weights(config, w, traces.activity)

    # -- Brian2 twin ---------------------------------------------------------------------------
    BRIAN2_NEURON_VARIABLES = ("g", "fatigue_gain")
    BRIAN2_ON_PRE = """
ge_post += w * fatigue_gain_post
pre = 1.
w = clip(w - nu_pre * g_post * post1, 0, w_max)
"""
    BRIAN2_ON_POST = """
post2before = post2
w = clip(w + nu_post * g_post * pre * post2before, 0, w_max)
post1 = 1.
post2 = 1.
"""

    def brian2_rule_state(self, config) -> dict[str, np.ndarray]:
        """The per-neuron state the twin carries: ``activity``, ``g``, ``fatigue`` and ``fatigue_gain``
        (called when the twin is built: it refuses the novelty gate there, before any simulation)."""
        if config.metaplastic.novelty:
            raise ConfigError("the Brian2 twin of metaplastic has no novelty gate (it acts on a maximum over the "
                              "population within a presentation); validate with metaplastic.novelty=false")
        n = config.n_neurons
        return {"activity": np.zeros(n), "g": np.ones(n), "fatigue": np.zeros(n), "fatigue_gain": np.ones(n),
                "theta_commit": np.zeros(n), "budget": np.zeros(n)}

    def brian2_after_presentation(self, config, w, theta_v, counts, rule_state) -> None:
        """After each training presentation (``theta_v`` in volts)."""
        after_presentation_numpy(config, theta_v, counts, rule_state["activity"], rule_state["g"],
                                 rule_state["fatigue"], rule_state["fatigue_gain"], theta_unit=1e-3,
                                 theta_commit=rule_state["theta_commit"], w=w, budget=rule_state["budget"])

    def brian2_test_thresholds(self, config, theta_v, rule_state) -> np.ndarray:
        """The twin's thresholds of inference (volts), as :meth:`test_thresholds`."""
        return recall_thresholds(config, theta_v, rule_state["activity"], rule_state["theta_commit"],
                                 rule_state["budget"], theta_unit=1e-3)

    def brian2_test_weights(self, config, w, rule_state) -> np.ndarray:
        """The twin's weights of inference, as :meth:`test_weights`."""
        return recall_weights(config, w, rule_state["activity"])
