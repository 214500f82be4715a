"""Competition between the excitatory neurons: an inhibitory layer, or direct lateral inhibition.

Two parts, each a kernel record type with its implementation of the hooks below and
a Brian2 twin:

:class:`InhibitoryLayer` (``inhibitory-layer``, Diehl & Cook 2015)
    N inhibitory LIF neurons: excitatory i excites inhibitory i one-to-one
    (``ge_i += w_exc_inh``); inhibitory i inhibits every excitatory neuron except i
    (``gi += w_inh_exc``). Parameters: ``config.inhibitory`` (:class:`InhibitoryParams`).
:class:`DirectLateral` (``direct-lateral``, SpikeDyn, Putra & Shafique 2021)
    An excitatory spike of neuron i adds ``w_lateral`` to the inhibitory
    conductance of every other excitatory neuron in the same step; no inhibitory
    neurons. Parameters: ``config.lateral`` (:class:`LateralParams`).

Each part declares its parameter section (``sections``), which the config composes
(:mod:`spikedyn.config`). Hooks (called by the time loop, :func:`spikedyn.simulation.loop._run_steps`),
in two phases, so that a network simulated in blocks of neurons on several threads
(:mod:`spikedyn.simulation.blocks`) needs to exchange only one number per step:

``compete(rec, t, spikes, n_spikes, v, ge, gi_own, last_spike, active, is_active, n_active, own_spikes)``
    Once per step, after the excitatory neurons' update: advance the competition's own
    population (if any) by one step and deliver this step's excitatory spikes
    ``spikes[:n_spikes]`` to it. Returns the number of this step's *sources* of
    inhibition (the excitatory spikes, or the population's own spikes, written to
    ``own_spikes``), in ascending order of neuron.
``inhibit(rec, t, gi, spikes, n_spikes, n_sources, n_total, v, ge, gi_own, last_spike, active, is_active, n_active, own_spikes)``
    Later in the step: add the inhibition of the step to the excitatory conductances
    ``gi`` (in place) and reset the population's neurons that fired. Every source
    inhibits every excitatory neuron but its own partner (the neuron of the same
    index), each by the same strength, so neuron j receives ``n_total - [j is a
    source]`` equal additions, ``n_total`` the sources of the whole network (of every
    block) and ``n_sources`` those of this block; the sum is the same, bit for bit, in
    any order of the sources. The remaining arguments are the population's state
    (:class:`Population`, unpacked; zero-length for a competition without neurons).
``competition_state(rec, n_neurons)``
    A new :class:`Population` at rest.
``competition_rest(rec, pop)``
    Put the population at rest (in place).

Moving the inhibitory neurons' update from the start of the step (Brian2's
schedule) to this hook, and the inhibition of the excitatory neurons after the
step's plasticity and resets, changes no bit: each reads and writes only state that
nothing else in the step touches (the population's, and the excitatory ``gi``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numba
import numpy as np

from ..core.neurons import NEVER, LifParams, _enlist, _lif_step_active, _reset, lif_params
from ..core.parts import implements, kernel_hook


@dataclass(frozen=True)
class InhibitoryParams:
    """Inhibitory layer of the ``diehl-cook`` model [DC15] (section ``inhibitory``).

    Excitatory neuron i drives inhibitory neuron i (``ge += w_exc_inh``); inhibitory
    neuron i inhibits every excitatory neuron except i (``gi += w_inh_exc``).
    Sources as in :mod:`spikedyn.core.params`.
    """

    tau_m_ms: float = 10.0  # [DC15]
    v_rest_mv: float = -60.0  # [DC15]
    v_reset_mv: float = -45.0  # [DC15]
    v_thresh_mv: float = -40.0  # [DC15]
    refractory_ms: float = 2.0  # [DC15]
    e_exc_mv: float = 0.0  # [DC15]
    e_inh_mv: float = -85.0  # [DC15]
    tau_ge_ms: float = 1.0  # [DC15]
    w_exc_inh: float = 10.4  # [DC15]
    #: [DC15] uses 17.0 (with random 0-10 ms input delays). Selected on the validation
    #: split, never on the test set, by experiments/inhibition_sweep.py (results in
    #: experiments/results/inhibition_sweep/): the best validation accuracy averaged
    #: over 100 and 400 neurons, 3 seeds each, among 17, 25, 30, 40, 50, 60.
    #: See docs/model.md.
    w_inh_exc: float = 40.0

    POSITIVE = ("tau_m_ms", "tau_ge_ms")
    NON_NEGATIVE = ("refractory_ms", "w_exc_inh", "w_inh_exc")
    DURATIONS = ("refractory_ms",)


@dataclass(frozen=True)
class LateralParams:
    """Direct lateral inhibition of the ``lateral`` model [SD21] (section ``lateral``).

    An excitatory spike of neuron i adds ``w_lateral`` to the inhibitory conductance of
    every other excitatory neuron in the same time step. [SD21] does not publish the
    strength. Selected on the validation split, never on the test set, by
    experiments/inhibition_sweep.py (experiments/results/inhibition_sweep/): the best
    validation accuracy averaged over 100 and 400 neurons, 3 seeds each, among 17, 25,
    30, 40, 50, 60. See docs/model.md.
    """

    w_lateral: float = 40.0

    NON_NEGATIVE = ("w_lateral",)


class Population(NamedTuple):
    """State of a competition's own LIF population (length 0 when it has none).

    ``v, ge, gi`` (float64), ``last_spike`` (int64), the list of neurons not at rest
    ``active[:n_active[0]]`` with flags ``is_active`` (see
    :func:`spikedyn.core.neurons._lif_step_active`), and ``spikes`` (int32 scratch).
    """

    v: np.ndarray
    ge: np.ndarray
    gi: np.ndarray
    last_spike: np.ndarray
    active: np.ndarray
    is_active: np.ndarray
    n_active: np.ndarray
    spikes: np.ndarray


compete = kernel_hook(
    "compete", "rec, t, spikes, n_spikes, v, ge, gi_own, last_spike, active, is_active, n_active, own_spikes",
    "The first phase of the competition's step (see the module docstring); returns its sources of inhibition.")
inhibit = kernel_hook(
    "inhibit", "rec, t, gi, spikes, n_spikes, n_sources, n_total, v, ge, gi_own, last_spike, active, is_active, "
    "n_active, own_spikes",
    "The second phase of the competition's step: the inhibition of the excitatory neurons (module docstring).")
competition_state = kernel_hook("competition_state", "rec, n_neurons", "A new Population at rest.")
competition_rest = kernel_hook("competition_rest", "rec, pop", "Put the Population at rest, in place.")


@numba.njit(cache=True)
def _new_population(n, v_rest):
    pop = Population(np.empty(n), np.empty(n), np.empty(n), np.empty(n, np.int64),
                     np.zeros(n, np.int32), np.zeros(n, np.bool_), np.zeros(1, np.int64), np.zeros(n, np.int32))
    _population_rest(pop, v_rest)
    return pop


@numba.njit(cache=True)
def _population_rest(pop, v_rest):
    pop.v[:] = v_rest
    pop.ge[:] = 0.0
    pop.gi[:] = 0.0
    pop.last_spike[:] = NEVER
    pop.is_active[:] = False  # at rest: a fixed point, see _lif_step_active
    pop.n_active[0] = 0


@numba.njit(cache=True, inline="always")
def _inhibit_others(gi, sources, n_sources, n_total, weight):
    """``gi[j] += weight`` once per source of inhibition but j's own (in place).

    ``sources[:n_sources]`` (ascending) are this block's sources, ``n_total`` those of the
    whole network: neuron j receives ``n_total - [j in sources]`` additions of ``weight``,
    one after the other, which is what adding each source's inhibition to every target
    but its own gives, in any order of the sources.
    """
    n = gi.shape[0]
    for _ in range(n_total - 1):
        for j in range(n):
            gi[j] += weight
    # The last addition: everyone but the sources (no one without a source: n_sources <= n_total).
    # Plain loops, no branch around them (see "How the kernels are kept fast").
    end = n * min(n_total, 1)
    start = 0
    for k in range(n_sources):
        stop = sources[k]
        for j in range(start, stop):
            gi[j] += weight
        start = stop + 1
    for j in range(start, end):
        gi[j] += weight


@numba.njit(cache=True, inline="always")
def _excite_partners(ge, spikes, n_spikes, weight, active, is_active, n_active):
    """One-to-one excitation: ``ge[j] += weight`` for each spike of j; j joins the active list."""
    for k in range(n_spikes):
        j = spikes[k]
        ge[j] += weight
        _enlist(j, active, is_active, n_active)


@numba.njit(cache=True, inline="always")
def _sort_ascending(items, n):
    """Sort ``items[:n]`` in place (insertion sort: the lists here hold a few neurons)."""
    for a in range(1, n):
        x = items[a]
        b = a
        for _ in range(a):  # a for loop, not a while loop (see "How the kernels are kept fast")
            if items[b - 1] <= x:
                break
            items[b] = items[b - 1]
            b -= 1
        items[b] = x


# -- inhibitory layer -----------------------------------------------------------------------
class InhibitoryLayerRecord(NamedTuple):
    """Kernel record of :class:`InhibitoryLayer`."""

    lif: LifParams
    w_exc_inh: float
    w_inh_exc: float


@implements(compete, InhibitoryLayerRecord)
def _compete_inhibitory_layer(rec, t, spikes, n_spikes, v, ge, gi_own, last_spike, active, is_active, n_active,
                              own_spikes):
    n_own, n_active[0] = _lif_step_active(rec.lif, v, ge, gi_own, last_spike, t, active, n_active[0], is_active,
                                          own_spikes)
    _excite_partners(ge, spikes, n_spikes, rec.w_exc_inh, active, is_active, n_active)
    _sort_ascending(own_spikes, n_own)  # in the order of the active list
    return n_own


@implements(inhibit, InhibitoryLayerRecord)
def _inhibit_inhibitory_layer(rec, t, gi, spikes, n_spikes, n_sources, n_total, v, ge, gi_own, last_spike, active,
                              is_active, n_active, own_spikes):
    _inhibit_others(gi, own_spikes, n_sources, n_total, rec.w_inh_exc)
    _reset(rec.lif, v, last_spike, t, own_spikes, n_sources)


@implements(competition_state, InhibitoryLayerRecord)
def _inhibitory_layer_state(rec, n_neurons):
    return _new_population(n_neurons, rec.lif.v_rest)


@implements(competition_rest, InhibitoryLayerRecord)
def _inhibitory_layer_rest(rec, pop):
    _population_rest(pop, rec.lif.v_rest)


class InhibitoryLayer:
    """Part: an inhibitory layer of N LIF neurons (Diehl & Cook 2015); ``config.inhibitory``."""

    kind = "competition"
    name = "inhibitory-layer"
    sections = {"inhibitory": InhibitoryParams}
    #: The config field of the competition's strength (``NetworkConfig.replace`` form).
    strength_field = "inhibitory__w_inh_exc"

    def footprint_entries(self, config) -> dict[str, int]:
        """Entries the model stores (:mod:`spikedyn.cost.footprint`): excitatory i -> inhibitory i and
        inhibitory i -> excitatory j != i connections; ``v, ge`` of the N inhibitory neurons."""
        n = config.n_neurons
        return {"connections": n + n * (n - 1), "neurons": n, "neuron_state": 2 * n}

    def synapses_per_spike(self, config) -> dict[str, int]:
        """Targets of one spike (:mod:`spikedyn.cost.operations`): an excitatory spike reaches its
        inhibitory partner, an inhibitory spike every other excitatory neuron."""
        return {"excitatory": 1, "own": config.n_neurons - 1}

    def record(self, config) -> InhibitoryLayerRecord:
        i = config.inhibitory
        return InhibitoryLayerRecord(
            lif=lif_params(dt_ms=config.timing.dt_ms, tau_m_ms=i.tau_m_ms, v_rest_mv=i.v_rest_mv,
                           v_reset_mv=i.v_reset_mv, v_thresh_mv=i.v_thresh_mv, e_exc_mv=i.e_exc_mv,
                           e_inh_mv=i.e_inh_mv, tau_ge_ms=i.tau_ge_ms, refractory_ms=i.refractory_ms),
            w_exc_inh=float(i.w_exc_inh),
            w_inh_exc=float(i.w_inh_exc),
        )

    def population_size(self, config) -> int:
        return config.n_neurons

    # -- Brian2 twin ---------------------------------------------------------------------
    def brian2_namespace(self, config) -> dict[str, Any]:
        from brian2 import mV, ms

        i = config.inhibitory
        return {
            "v_rest_i": i.v_rest_mv * mV, "v_reset_i": i.v_reset_mv * mV, "v_thresh_i": i.v_thresh_mv * mV,
            "e_exc_i": i.e_exc_mv * mV, "e_inh_i": i.e_inh_mv * mV, "tau_m_i": i.tau_m_ms * ms,
            "tau_ge_i": i.tau_ge_ms * ms, "refractory_i": i.refractory_ms * ms,
            "w_exc_inh": i.w_exc_inh, "w_inh_exc": i.w_inh_exc,
        }

    #: The inhibitory neurons in Brian2: the excitatory equation without adaptive
    #: threshold; their ``gi`` is a constant 0 (nothing inhibits them; spikedyn
    #: integrates it with ``tau_gi = inf``). Clipped like the excitatory membrane.
    BRIAN2_EQUATIONS = """
dv/dt = ((v_rest_i - v) + ge * (e_exc_i - v) + gi * (e_inh_i - v)) / tau_m_i : volt (unless refractory)
dge/dt = -ge / tau_ge_i : 1
gi : 1 (constant)
"""

    def brian2_build(self, b2, exc, clock, ns: dict[str, Any], code_ns: dict[str, Any]):
        """Brian2 objects of the layer; returns ``(objects, population group)``."""
        inh = b2.NeuronGroup(exc.N, self.BRIAN2_EQUATIONS, threshold="v > v_thresh_i", reset="v = v_reset_i",
                             refractory=ns["refractory_i"], method="euler", clock=clock, namespace=code_ns,
                             name="inh*")
        inh.v = ns["v_rest_i"]
        inh.run_regularly("v = clip(v, e_inh_i, e_exc_i)", when="after_groups", name="inh_clip*")
        exc_inh = b2.Synapses(exc, inh, on_pre="ge_post += w_exc_inh", clock=clock, namespace=code_ns,
                              name="exc_inh*")
        exc_inh.connect(j="i")
        inh_exc = b2.Synapses(inh, exc, on_pre="gi_post += w_inh_exc", clock=clock, namespace=code_ns,
                              name="inh_exc*")
        inh_exc.connect(condition="i != j")
        return [inh, exc_inh, inh_exc], inh

    def brian2_rest_v(self, ns: dict[str, Any]) -> float:
        """Resting potential of the population in volts."""
        return float(ns["v_rest_i"])


# -- direct lateral inhibition -----------------------------------------------------------------
class DirectLateralRecord(NamedTuple):
    """Kernel record of :class:`DirectLateral`."""

    w_lateral: float


@implements(compete, DirectLateralRecord)
def _compete_direct_lateral(rec, t, spikes, n_spikes, v, ge, gi_own, last_spike, active, is_active, n_active,
                            own_spikes):
    return n_spikes  # the sources are the excitatory spikes


@implements(inhibit, DirectLateralRecord)
def _inhibit_direct_lateral(rec, t, gi, spikes, n_spikes, n_sources, n_total, v, ge, gi_own, last_spike, active,
                            is_active, n_active, own_spikes):
    _inhibit_others(gi, spikes, n_spikes, n_total, rec.w_lateral)


@implements(competition_state, DirectLateralRecord)
def _direct_lateral_state(rec, n_neurons):
    return _new_population(0, 0.0)


@implements(competition_rest, DirectLateralRecord)
def _direct_lateral_rest(rec, pop):
    pass


class DirectLateral:
    """Part: direct lateral inhibition between excitatory neurons (SpikeDyn); ``config.lateral``."""

    kind = "competition"
    name = "direct-lateral"
    sections = {"lateral": LateralParams}
    #: The config field of the competition's strength (``NetworkConfig.replace`` form).
    strength_field = "lateral__w_lateral"

    def footprint_entries(self, config) -> dict[str, int]:
        """Entries the model stores (:mod:`spikedyn.cost.footprint`): excitatory i -> j != i connections."""
        n = config.n_neurons
        return {"connections": n * (n - 1), "neurons": 0, "neuron_state": 0}

    def synapses_per_spike(self, config) -> dict[str, int]:
        """Targets of one spike: an excitatory spike inhibits every other excitatory neuron."""
        return {"excitatory": config.n_neurons - 1, "own": 0}

    def record(self, config) -> DirectLateralRecord:
        return DirectLateralRecord(w_lateral=float(config.lateral.w_lateral))

    def population_size(self, config) -> int:
        return 0

    def brian2_namespace(self, config) -> dict[str, Any]:
        return {"w_lateral": config.lateral.w_lateral}

    def brian2_build(self, b2, exc, clock, ns: dict[str, Any], code_ns: dict[str, Any]):
        lateral = b2.Synapses(exc, exc, on_pre="gi_post += w_lateral", clock=clock, namespace=code_ns,
                              name="lateral*")
        lateral.connect(condition="i != j")
        return [lateral], None

    def brian2_rest_v(self, ns: dict[str, Any]) -> float:
        return 0.0
