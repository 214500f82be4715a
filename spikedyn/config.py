"""Model configuration: every parameter of a spikedyn network, each default written once.

A :class:`NetworkConfig` is a frozen dataclass made of smaller frozen records, one per
part of the model. Variants are made with :meth:`NetworkConfig.replace`, which takes
nested fields scikit-learn style (``config.replace(stdp__nu_post=0.02)``). The CLI, the
experiments and the Brian2 reference all read these defaults; nothing else writes them.

Configs are written and read as TOML or JSON (:meth:`NetworkConfig.save`,
:func:`load_config`); a file may hold only some sections and fields, the rest keep
their defaults. Every value is checked for its type and range when a config is built,
and every problem raises a one-line :class:`~spikedyn.errors.ConfigError` that names
the field and the fix.

Units are in the names: ``_ms`` milliseconds, ``_mv`` millivolts, ``_hz`` hertz.
Conductances are dimensionless (in units of the leak conductance), as in the
reference implementations.

Sources
-------
[DC15]  Diehl & Cook (2015), Front. Comput. Neurosci. 9:99, and the authors' code
        ``peter-u-diehl/stdp-mnist`` (Brian 1).
[B2EX]  Brian 2 example ``examples/frompapers/Diehl_Cook_2015.py``.
[SD21]  Putra & Shafique (2021), SpikeDyn, DAC; arXiv 2103.00424.
"""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .errors import ConfigError

#: Smallest spike probability per step of an input at intensity 1. The Poisson
#: encoder draws waiting times of up to ``37 / p`` steps, which must stay far inside
#: int64; at this probability a pixel fires about once in 10**15 steps anyway.
MIN_SPIKE_PROBABILITY = 1e-15

#: Most synapses (``n_input * n_neurons``) a config may have: 2 GiB of float64 weights.
MAX_SYNAPSES = 2**28
#: Most steps of ``timing.dt_ms`` any duration of a config may last (a presentation, the
#: rest, a refractory period, a delay): 10**7 steps are 83 minutes of model time at 0.5 ms.
MAX_STEPS = 10**7
#: Most steps of ``timing.dt_ms`` an STDP time constant may last. The kernels tabulate a
#: trace step by step until it falls below ``FLUSH_BELOW`` (1e-100), about 230 time
#: constants: 10**4 steps make a table of 2.3 million entries (18 MB).
MAX_TRACE_STEPS = 10**4


@dataclass(frozen=True)
class ExcitatoryParams:
    """Conductance-based LIF excitatory neurons with an adaptive threshold [DC15].

    ``tau_m dv/dt = (v_rest - v) + ge (e_exc - v) + gi (e_inh - v)`` (not integrated
    while refractory); ``dge/dt = -ge/tau_ge``; ``dgi/dt = -gi/tau_gi``;
    ``dtheta/dt = -theta/tau_theta`` during learning.

    A neuron fires when ``v > v_thresh + theta - theta_offset``, it is not refractory
    and at least ``lockout_ms`` have passed since its last spike; then ``v = v_reset``
    and, during learning, ``theta += theta_plus``.
    """

    tau_m_ms: float = 100.0  # [DC15]
    v_rest_mv: float = -65.0  # [DC15]
    v_reset_mv: float = -65.0  # [DC15]
    v_thresh_mv: float = -52.0  # [DC15]
    refractory_ms: float = 5.0  # [DC15]
    e_exc_mv: float = 0.0  # [DC15]
    e_inh_mv: float = -100.0  # [DC15]
    tau_ge_ms: float = 1.0  # [DC15]
    tau_gi_ms: float = 2.0  # [DC15]
    theta_plus_mv: float = 0.05  # [DC15]
    tau_theta_ms: float = 1e7  # [DC15]
    #: [DC15] code starts theta at 20 mV and subtracts a 20 mV offset in the threshold,
    #: so the initial threshold is v_thresh; the 20 mV then decays with tau_theta.
    theta_init_mv: float = 20.0
    theta_offset_mv: float = 20.0
    #: [DC15] gates the threshold with a timer that must exceed the refractory period
    #: after a reset; in the Brian 1 code it does so within one step, so the lock-out
    #: equals the refractory period. [B2EX] makes it grow 10x slower (50 ms).
    lockout_ms: float = 5.0


@dataclass(frozen=True)
class InhibitoryParams:
    """Inhibitory layer of the ``diehl-cook`` model [DC15].

    Excitatory neuron i drives inhibitory neuron i (``ge += w_exc_inh``); inhibitory
    neuron i inhibits every excitatory neuron except i (``gi += w_inh_exc``).
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


@dataclass(frozen=True)
class LateralParams:
    """Direct lateral inhibition of the ``lateral`` model [SD21].

    An excitatory spike of neuron i adds ``w_lateral`` to the inhibitory conductance of
    every other excitatory neuron in the same time step. [SD21] does not publish the
    strength. Selected on the validation split, never on the test set, by
    experiments/inhibition_sweep.py (experiments/results/inhibition_sweep/): the best
    validation accuracy averaged over 100 and 400 neurons, 3 seeds each, among 17, 25,
    30, 40, 50, 60. See docs/model.md.
    """

    w_lateral: float = 40.0


@dataclass(frozen=True)
class StdpParams:
    """Trace-based STDP on the input->excitatory synapses [DC15].

    Traces are set to 1 on their neuron's spike and decay exponentially.
    Presynaptic spike: ``w -= nu_pre * post1``. Postsynaptic spike:
    ``w += nu_post * pre * post2`` (post2 read before its own update).
    Weights are clipped to ``[0, w_max]``.
    """

    tau_pre_ms: float = 20.0  # [DC15]
    tau_post1_ms: float = 20.0  # [DC15]
    tau_post2_ms: float = 40.0  # [DC15]
    nu_pre: float = 0.0001  # [DC15]
    nu_post: float = 0.01  # [DC15]
    w_max: float = 1.0  # [DC15]
    w_init_low: float = 0.003  # [DC15]: (U[0,1) + 0.01) * 0.3
    w_init_high: float = 0.303  # [DC15]
    #: Before every training example each neuron's incoming weights are rescaled to
    #: sum to this [DC15] (about 0.1 per input synapse).
    weight_sum: float = 78.0


@dataclass(frozen=True)
class DelayParams:
    """Random input->excitatory transmission delays of the ``*-delays`` models [DC15].

    [DC15]'s code gives every input->excitatory synapse its own delay, drawn once,
    uniform in [0, max_delay_ms) (``delay['ee_input'] = (0*b.ms, 10*b.ms)``), which
    Brian 1 truncates to whole steps: with dt = 0.5 ms, 0-19 steps, each with
    probability 1/20. spikedyn draws the same distribution (from the network's seed,
    on a stream of its own, so the initial weights do not change) and the Brian2
    twin is given exactly those delays. A spike is transmitted, and the synapse's
    presynaptic STDP rule applied, when it arrives (Brian2's semantics).
    """

    max_delay_ms: float = 10.0  # [DC15]


@dataclass(frozen=True)
class SpikeDynParams:
    """SpikeDyn's continual-learning mechanisms (the ``spikedyn`` model) [SD21].

    [SD21] names the mechanisms but publishes no formula; these are spikedyn's, each
    with its own switch (``docs/continual.md`` gives the equations, the rationale and
    the ablation; :mod:`spikedyn.spikedyn_stdp` the kernels):

    - ``adaptive_rate``: neuron j's potentiation and depression factors are scaled
      by ``1 / (1 + a_j / rate_half_spikes)``, ``a_j`` its training spikes so far;
    - ``adaptive_threshold``: a consolidated neuron's threshold holds: each spike of a
      presentation (not of the rest after it) raises ``theta_j`` by ``theta_plus * (1 - theta_hold * c_j)`` instead of
      ``theta_plus``, ``c_j = a_j / (a_j + rate_half_spikes)`` its consolidation, and
      thresholds decay with ``tau_theta_ms`` instead of ``excitatory.tau_theta_ms``;
    - ``weight_decay``: after each training presentation every weight below
      ``decay_below`` times the mean weight (``weight_sum / n_input``) loses the
      fraction ``decay_rate`` of itself;
    - ``skip_spurious``: STDP updates smaller than ``min_update`` are not made.
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


@dataclass(frozen=True)
class AspParams:
    """ASP, adaptive synaptic plasticity (Panda et al. 2018), as the ``asp`` model implements it.

    Each synapse keeps a significance ``s_ij`` in [0, 1], the running mean of the
    presynaptic trace at the postsynaptic neuron's spikes (its pre/post temporal
    correlation): at each spike of j, ``s_ij += beta * (pre_i - s_ij)``. After each
    training presentation every weight leaks, the less the more significant it is:
    ``w_ij -= leak_rate * (1 - s_ij) * w_ij``. See :mod:`spikedyn.asp`.
    """

    beta: float = 0.1
    #: Selected on the validation split among 0.001, 0.003, 0.01, 0.03 (best final average
    #: accuracy, 400 neurons, 2 seeds; experiments/results/continual_selection_asp/).
    leak_rate: float = 0.001


#: Weight widths a network can store its weights at (64: the float64 reference).
WEIGHT_BITS = (4, 8, 16, 32, 64)
ROUNDINGS = ("nearest", "stochastic")


@dataclass(frozen=True)
class PrecisionParams:
    """How the input->excitatory weights are stored (:mod:`spikedyn.quantise`).

    ``weight_bits`` 64 is float64, the reference every result so far used; 32 is
    float32 (round to nearest); 16, 8 and 4 are unsigned fixed point on
    ``[0, stdp.w_max]`` with ``2**bits - 1`` steps, rounded to the nearest step or, with
    ``rounding = "stochastic"``, up with probability equal to the remainder (from
    spikedyn's counter-based random streams: reproducible, and unbiased, so small
    STDP steps survive on average where rounding to nearest erases them).
    """

    weight_bits: int = 64
    rounding: str = "nearest"


@dataclass(frozen=True)
class InputParams:
    """Poisson rate coding of pixel intensities [DC15].

    Pixel ``p`` (0-255) fires at ``p * rate_hz_per_unit`` Hz (63.75 Hz for 255). When
    the excitatory layer fires fewer than ``min_spikes`` spikes in a presentation, the
    rate is raised by ``p * retry_rate_hz_per_unit`` and the example is shown again,
    at most ``max_presentations`` times in all (the original loops forever, which a
    blank image would make endless).
    """

    rate_hz_per_unit: float = 0.25  # [DC15]: intensity 2 * pixel / 8
    retry_rate_hz_per_unit: float = 0.125  # [DC15]: intensity += 1 -> + pixel / 8
    min_spikes: int = 5  # [DC15]
    max_presentations: int = 20


@dataclass(frozen=True)
class TimingParams:
    """Integration step and presentation schedule [DC15]."""

    dt_ms: float = 0.5  # [DC15]
    present_ms: float = 350.0  # [DC15]
    rest_ms: float = 150.0  # [DC15]

    @property
    def present_steps(self) -> int:
        return _whole_steps(self.present_ms, self.dt_ms, "present_ms")

    @property
    def rest_steps(self) -> int:
        return _whole_steps(self.rest_ms, self.dt_ms, "rest_ms")


def _whole_steps(duration_ms: float, dt_ms: float, name: str) -> int:
    steps = round(duration_ms / dt_ms)
    if abs(steps * dt_ms - duration_ms) > 1e-9 * max(1.0, duration_ms):
        raise ConfigError(
            f"{name}={duration_ms} is not a whole number of dt_ms={dt_ms} steps; allowed: multiples of "
            f"dt_ms, e.g. {math.floor(duration_ms / dt_ms) * dt_ms:g} or {math.ceil(duration_ms / dt_ms) * dt_ms:g}"
        )
    return steps


@dataclass(frozen=True)
class NetworkConfig:
    """Everything that defines a spikedyn network.

    Parameters
    ----------
    model : {"diehl-cook", "lateral"}
        ``diehl-cook``: an inhibitory layer of ``n_neurons`` provides the
        winner-take-all competition [DC15]. ``lateral``: excitatory spikes inhibit the
        other excitatory neurons directly, no inhibitory neurons [SD21].
    n_neurons : int
        Number of excitatory neurons.
    n_input : int
        Number of Poisson inputs (pixels).
    """

    model: str = "diehl-cook"
    n_neurons: int = 100
    n_input: int = 784
    excitatory: ExcitatoryParams = field(default_factory=ExcitatoryParams)
    inhibitory: InhibitoryParams = field(default_factory=InhibitoryParams)
    lateral: LateralParams = field(default_factory=LateralParams)
    stdp: StdpParams = field(default_factory=StdpParams)
    input: InputParams = field(default_factory=InputParams)
    timing: TimingParams = field(default_factory=TimingParams)
    delays: DelayParams = field(default_factory=DelayParams)
    spikedyn: SpikeDynParams = field(default_factory=SpikeDynParams)
    asp: AspParams = field(default_factory=AspParams)
    precision: PrecisionParams = field(default_factory=PrecisionParams)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Check the type and range of every field, and the rules between fields.

        Integer fields take ``int`` (or a NumPy integer) within int64, not ``bool``;
        float fields take any real number but ``bool``, finite, except that a time
        constant (``tau_*``) may be ``math.inf`` for "no decay"; ``model`` takes a ``str``.

        Ranges that involve several fields: ``timing.dt_ms`` below every time constant
        of every section (forward Euler); the STDP time constants at most
        :data:`MAX_TRACE_STEPS` steps (their traces are tabulated), hence finite;
        ``stdp.weight_sum <= n_input * stdp.w_max`` (the normalisation's target must
        be reachable by weights clipped to ``[0, w_max]``); ``stdp.w_max``,
        ``w_init_high`` and ``nu_post`` either 0 or at least ``FLUSH_BELOW`` (1e-100),
        the kernels' zero; ``e_inh_mv < e_exc_mv`` with ``v_rest_mv`` and
        ``v_reset_mv`` between them, for both populations; an input spike probability
        per step of at least :data:`MIN_SPIKE_PROBABILITY` at the base rate and below
        1 at the last retry; every duration a whole number of at most
        :data:`MAX_STEPS` steps; ``n_input * n_neurons <= MAX_SYNAPSES``. Checks that
        depend on the model's parts (a delayed rule's rest period, its weight
        precision) are made when its kernels are built.

        Raises
        ------
        ConfigError
            Naming the first field of the wrong type (``stdp.nu_post must be a number,
            got 'abc' (str)``) or out of range, and what is expected.
        """
        _check_types(self)
        from . import models  # the registry imports the parts, which import this module

        models.get(self.model)  # a ConfigError naming the registered models otherwise
        for name in ("n_neurons", "n_input"):
            value = getattr(self, name)
            if value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        if self.n_input * self.n_neurons > MAX_SYNAPSES:
            raise ConfigError(
                f"n_input={self.n_input} and n_neurons={self.n_neurons} make {self.n_input * self.n_neurons} "
                f"synapses; allowed: n_input * n_neurons <= {MAX_SYNAPSES} (2**28, 2 GiB of float64 weights); "
                f"use fewer neurons"
            )
        positive = {
            "timing.dt_ms": self.timing.dt_ms,
            "timing.present_ms": self.timing.present_ms,
            "delays.max_delay_ms": self.delays.max_delay_ms,
            "excitatory.tau_m_ms": self.excitatory.tau_m_ms,
            "excitatory.tau_ge_ms": self.excitatory.tau_ge_ms,
            "excitatory.tau_gi_ms": self.excitatory.tau_gi_ms,
            "excitatory.tau_theta_ms": self.excitatory.tau_theta_ms,
            "spikedyn.tau_theta_ms": self.spikedyn.tau_theta_ms,
            "inhibitory.tau_m_ms": self.inhibitory.tau_m_ms,
            "inhibitory.tau_ge_ms": self.inhibitory.tau_ge_ms,
            "stdp.tau_pre_ms": self.stdp.tau_pre_ms,
            "stdp.tau_post1_ms": self.stdp.tau_post1_ms,
            "stdp.tau_post2_ms": self.stdp.tau_post2_ms,
            "stdp.w_max": self.stdp.w_max,
            "stdp.weight_sum": self.stdp.weight_sum,
            "input.rate_hz_per_unit": self.input.rate_hz_per_unit,
        }
        for name, value in positive.items():
            if not value > 0:
                raise ConfigError(f"{name} must be > 0, got {value!r}")
        non_negative = {
            "timing.rest_ms": self.timing.rest_ms,
            "excitatory.refractory_ms": self.excitatory.refractory_ms,
            "excitatory.lockout_ms": self.excitatory.lockout_ms,
            "excitatory.theta_plus_mv": self.excitatory.theta_plus_mv,
            "inhibitory.refractory_ms": self.inhibitory.refractory_ms,
            "inhibitory.w_exc_inh": self.inhibitory.w_exc_inh,
            "inhibitory.w_inh_exc": self.inhibitory.w_inh_exc,
            "lateral.w_lateral": self.lateral.w_lateral,
            "stdp.nu_pre": self.stdp.nu_pre,
            "stdp.nu_post": self.stdp.nu_post,
            "input.retry_rate_hz_per_unit": self.input.retry_rate_hz_per_unit,
            "input.min_spikes": self.input.min_spikes,
        }
        for name, value in non_negative.items():
            if not value >= 0:
                raise ConfigError(f"{name} must be >= 0, got {value!r}")
        fractions = {
            "spikedyn.decay_rate": self.spikedyn.decay_rate,
            "spikedyn.theta_hold": self.spikedyn.theta_hold,
            "asp.beta": self.asp.beta,
            "asp.leak_rate": self.asp.leak_rate,
        }
        for name, value in fractions.items():
            if not 0 <= value <= 1:
                raise ConfigError(f"{name} must be a fraction in [0, 1], got {value!r}")
        for name, value in (("spikedyn.rate_half_spikes", self.spikedyn.rate_half_spikes),):
            if not value > 0:
                raise ConfigError(f"{name} must be > 0, got {value!r}")
        for name, value in (("spikedyn.decay_below", self.spikedyn.decay_below),
                            ("spikedyn.min_update", self.spikedyn.min_update)):
            if not value >= 0:
                raise ConfigError(f"{name} must be >= 0, got {value!r}")
        if self.precision.weight_bits not in WEIGHT_BITS:
            raise ConfigError(f"precision.weight_bits must be one of {', '.join(map(str, WEIGHT_BITS))}, "
                              f"got {self.precision.weight_bits!r}")
        if self.precision.rounding not in ROUNDINGS:
            raise ConfigError(f"precision.rounding must be one of {', '.join(ROUNDINGS)}, "
                              f"got {self.precision.rounding!r}")
        if self.input.max_presentations < 1:
            raise ConfigError(
                f"input.max_presentations must be >= 1, got {self.input.max_presentations}"
            )
        if not 0 <= self.stdp.w_init_low <= self.stdp.w_init_high <= self.stdp.w_max:
            raise ConfigError(
                "stdp weights need 0 <= w_init_low <= w_init_high <= w_max, got "
                f"{self.stdp.w_init_low}, {self.stdp.w_init_high}, {self.stdp.w_max}"
            )
        self._check_weight_sum()
        self._check_time_constants()
        self._check_potentials()
        self._check_input_rates()
        self._check_durations()

    def _check_weight_sum(self) -> None:
        """The normalisation's target must be reachable by weights clipped to ``[0, w_max]``, and no
        weight scale may lie below the kernels' zero (the normalisation would divide by it)."""
        from ._numerics import FLUSH_BELOW  # imported here: importing this module stays light (cli_options)

        s = self.stdp
        for name in ("w_max", "w_init_high", "nu_post"):
            value = getattr(s, name)
            if 0 < value < FLUSH_BELOW:
                raise ConfigError(
                    f"stdp.{name}={value!r} is below {FLUSH_BELOW:g}, which the kernels treat as zero (weights "
                    f"that small would make the normalisation scale them by more than 1e300); allowed: "
                    f"stdp.{name} = 0 or >= {FLUSH_BELOW:g}"
                )
        reachable = self.n_input * s.w_max
        if s.weight_sum > reachable:
            raise ConfigError(
                f"stdp.weight_sum={s.weight_sum!r} cannot be reached by {self.n_input} input weights of at most "
                f"stdp.w_max={s.w_max!r}; allowed: 0 < stdp.weight_sum <= n_input * stdp.w_max = {reachable!r}; "
                f"lower stdp.weight_sum or raise stdp.w_max"
            )

    def _check_time_constants(self) -> None:
        """``dt`` below every time constant (forward Euler and the decay tables need it), and
        STDP time constants short enough to tabulate their traces."""
        dt = self.timing.dt_ms
        taus = sorted(
            ((getattr(getattr(self, section), name), f"{section}.{name}")
             for section, fields in _SECTION_FIELDS.items()
             for name in fields if name.startswith("tau_") and name.endswith("_ms")),
            key=lambda item: item[0],
        )
        tau, name = taus[0]
        if not dt < tau:
            raise ConfigError(
                f"timing.dt_ms={dt!r} must be smaller than every time constant; {name}={tau!r} is not; "
                f"lower timing.dt_ms (allowed: 0 < timing.dt_ms < {tau!r}, the smallest time constant)"
            )
        for name in ("tau_pre_ms", "tau_post1_ms", "tau_post2_ms"):
            tau = getattr(self.stdp, name)
            if not tau <= MAX_TRACE_STEPS * dt:
                raise ConfigError(
                    f"stdp.{name}={tau!r} is too long: an STDP trace is tabulated step by step until it "
                    f"vanishes; allowed: timing.dt_ms < stdp.{name} <= {MAX_TRACE_STEPS} * timing.dt_ms = "
                    f"{MAX_TRACE_STEPS * dt!r} ms; lower it (or raise timing.dt_ms)"
                )

    def _check_potentials(self) -> None:
        """Reversal potentials in order, and rest and reset inside them (the membrane is clipped there)."""
        for section in ("excitatory", "inhibitory"):
            p = getattr(self, section)
            if not p.e_inh_mv < p.e_exc_mv:
                raise ConfigError(
                    f"{section}.e_inh_mv={p.e_inh_mv!r} must be below {section}.e_exc_mv={p.e_exc_mv!r} "
                    f"(allowed: {section}.e_inh_mv < {p.e_exc_mv!r}); swap or fix them"
                )
            for name in ("v_rest_mv", "v_reset_mv"):
                v = getattr(p, name)
                if not p.e_inh_mv <= v <= p.e_exc_mv:
                    raise ConfigError(
                        f"{section}.{name}={v!r} must lie between the reversal potentials, the membrane never "
                        f"leaves them; allowed: {section}.e_inh_mv <= {section}.{name} <= {section}.e_exc_mv, "
                        f"i.e. [{p.e_inh_mv!r}, {p.e_exc_mv!r}] mV"
                    )

    def _check_input_rates(self) -> None:
        """Input spike probabilities per step: not vanishing at the base rate, below 1 at the last retry."""
        i, dt = self.input, self.timing.dt_ms
        lowest = i.rate_hz_per_unit * dt * 1e-3
        if lowest < MIN_SPIKE_PROBABILITY:
            raise ConfigError(
                f"input.rate_hz_per_unit={i.rate_hz_per_unit!r} gives a spike probability per step of "
                f"{lowest:.3g} at intensity 1, below {MIN_SPIKE_PROBABILITY:g}; allowed: input.rate_hz_per_unit "
                f">= {MIN_SPIKE_PROBABILITY / (dt * 1e-3):.3g} at timing.dt_ms={dt!r}; use a larger rate"
            )
        # The highest Poisson probability per step (pixel 255 at the last retry) must stay below 1.
        top_rate_hz = 255 * (i.rate_hz_per_unit + (i.max_presentations - 1) * i.retry_rate_hz_per_unit)
        if top_rate_hz * dt * 1e-3 >= 1.0:
            raise ConfigError(
                f"input.rate_hz_per_unit={i.rate_hz_per_unit!r}, input.retry_rate_hz_per_unit="
                f"{i.retry_rate_hz_per_unit!r} and input.max_presentations={i.max_presentations} saturate the "
                f"input: pixel 255 reaches {top_rate_hz:.6g} Hz, which would exceed one spike per timing.dt_ms={dt!r} "
                f"step; allowed: "
                f"255 * (rate_hz_per_unit + (max_presentations - 1) * retry_rate_hz_per_unit) < 1000 / dt_ms = "
                f"{1000 / dt:.6g} Hz; lower the rates or input.max_presentations"
            )

    def _check_durations(self) -> None:
        """Every duration a whole number of steps, and at most :data:`MAX_STEPS` of them."""
        dt = self.timing.dt_ms
        for name, value in (
            ("timing.present_ms", self.timing.present_ms),
            ("timing.rest_ms", self.timing.rest_ms),
            ("excitatory.refractory_ms", self.excitatory.refractory_ms),
            ("excitatory.lockout_ms", self.excitatory.lockout_ms),
            ("inhibitory.refractory_ms", self.inhibitory.refractory_ms),
            ("delays.max_delay_ms", self.delays.max_delay_ms),
        ):
            if value / dt > MAX_STEPS:
                raise ConfigError(
                    f"{name}={value!r} is {value / dt:.3g} steps of timing.dt_ms={dt!r}; allowed: "
                    f"0 <= {name} <= {MAX_STEPS} * timing.dt_ms = {MAX_STEPS * dt!r} ms; shorten it"
                )
            _whole_steps(value, dt, name)


    # -- variants ------------------------------------------------------------------------
    def replace(self, **overrides: Any) -> "NetworkConfig":
        """Return a copy with any fields replaced, nested ones as ``section__field``.

        Parameters
        ----------
        **overrides
            ``model``, ``n_neurons`` or ``n_input``; ``section__field`` for a field of
            a section (``stdp__nu_post=0.02``, ``timing__present_ms=250.0``); or a
            section name with a whole record (``stdp=StdpParams(...)``) or a mapping of
            some of its fields (``stdp={"nu_post": 0.02}``).

        Returns
        -------
        NetworkConfig
            The new config, validated.

        Raises
        ------
        ConfigError
            If a section or field is unknown (the message lists the valid names), or a
            value has the wrong type or is out of range.

        Examples
        --------
        >>> NetworkConfig().replace(n_neurons=400, stdp__nu_post=0.02).stdp.nu_post
        0.02
        """
        top: dict[str, Any] = {}
        nested: dict[str, dict[str, Any]] = {}
        for key, value in overrides.items():
            section, sep, name = key.partition("__")
            if sep:
                _field(section, name)
                nested.setdefault(section, {})[name] = value
            elif key in _SECTIONS and isinstance(value, Mapping):
                for name, item in value.items():
                    _field(key, str(name))
                    nested.setdefault(key, {})[str(name)] = item
            else:
                if key not in _SECTIONS:
                    _field(None, key)
                top[key] = value
        for section, changes in nested.items():
            base = top.get(section, getattr(self, section))
            _check_record(section, base)
            top[section] = dataclasses.replace(base, **changes)
        return dataclasses.replace(self, **top)

    def with_overrides(self, **changes: Any) -> "NetworkConfig":
        """Return a copy with fields replaced; the same as :meth:`replace`."""
        return self.replace(**changes)

    # -- serialisation -----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The config as nested plain Python values (JSON and TOML serialisable).

        Returns
        -------
        dict
            ``{"model": ..., "n_neurons": ..., "n_input": ..., "excitatory": {...}, ...}``;
            float fields are ``float`` and integer fields ``int``, also when they were
            given as NumPy scalars; an infinite time constant is the string ``"inf"``
            (JSON has no infinity), which :meth:`from_dict` reads back.
        """
        out: dict[str, Any] = {name: _plain(getattr(self, name), f) for name, f in _fields(None).items()}
        for section in _SECTIONS:
            record = getattr(self, section)
            out[section] = {name: _plain(getattr(record, name), f) for name, f in _fields(section).items()}
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "config") -> "NetworkConfig":
        """Build a config from (part of) :meth:`to_dict` output; missing fields keep their defaults.

        Parameters
        ----------
        data : mapping
            Top-level fields and sections (mappings of field name to value).
        source : str, default "config"
            What ``data`` came from (a file name), to start error messages with.

        Raises
        ------
        ConfigError
            ``"<source>: ..."`` naming an unknown section or field (with the valid
            names), a section that is not a mapping, or a value of the wrong type or
            out of range.
        """
        try:
            if not isinstance(data, Mapping):
                raise ConfigError(f"must hold a table/object of fields, got {type(data).__name__}")
            overrides: dict[str, Any] = {}
            for key, value in data.items():
                if key in _SECTIONS:
                    if not isinstance(value, Mapping):
                        raise ConfigError(
                            f"{key} must be a table/object of its fields (e.g. [{key}] in TOML), "
                            f"got {_show(value)}"
                        )
                    for name, item in value.items():
                        overrides[f"{key}__{name}"] = _from_plain(item, _field(key, name))
                else:
                    if isinstance(value, Mapping) and key not in _TOP_FIELDS:
                        _field(_show(key) if not isinstance(key, str) else key, "")  # an unknown section
                    overrides[key] = _from_plain(value, _field(None, key))
            return cls().replace(**overrides)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None

    def to_json(self) -> str:
        """The config as indented JSON text (all fields)."""
        return json.dumps(self.to_dict(), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str, *, source: str = "JSON config") -> "NetworkConfig":
        """Parse JSON text (a full or partial config) into a config.

        Parameters
        ----------
        text : str
            A JSON object as written by :meth:`to_json`, or a part of it.
        source : str, default "JSON config"
            What the text came from, to start error messages with.

        Raises
        ------
        ConfigError
            On invalid JSON (with line and column) or an invalid config.
        """
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{source}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}; fix the syntax"
            ) from None
        except (ValueError, RecursionError) as exc:  # an integer of more than 4,300 digits, deep nesting
            raise ConfigError(f"{source}: invalid JSON ({_one_line(exc)}); fix the value") from None
        return cls.from_dict(data, source=source)

    def to_toml(self) -> str:
        """The config as TOML text: top-level fields, then one table per section."""
        data = self.to_dict()
        lines = [f"{name} = {_toml_value(_from_plain(data[name], f))}" for name, f in _fields(None).items()]
        for section in _SECTIONS:
            lines += ["", f"[{section}]"]
            lines += [f"{name} = {_toml_value(_from_plain(data[section][name], f))}"
                      for name, f in _fields(section).items()]
        return "\n".join(lines) + "\n"

    @classmethod
    def from_toml(cls, text: str, *, source: str = "TOML config") -> "NetworkConfig":
        """Parse TOML text (a full or partial config) into a config.

        Parameters
        ----------
        text : str
            TOML as written by :meth:`to_toml`, or a part of it.
        source : str, default "TOML config"
            What the text came from, to start error messages with.

        Raises
        ------
        ConfigError
            On invalid TOML (with line and column) or an invalid config.
        """
        toml = _toml_reader()
        try:
            data = toml.loads(text)
        except toml.TOMLDecodeError as exc:
            raise ConfigError(f"{source}: invalid TOML: {_one_line(exc)}; fix the syntax") from None
        except (ValueError, RecursionError) as exc:  # an integer of more than 4,300 digits, deep nesting
            raise ConfigError(f"{source}: invalid TOML ({_one_line(exc)}); fix the value") from None
        return cls.from_dict(data, source=source)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "NetworkConfig":
        """Read a ``.toml`` or ``.json`` config file; see :func:`load_config`."""
        return load_config(path)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the config to ``path`` as TOML (``.toml``) or JSON (``.json``), atomically.

        The file appears complete or not at all, with the usual permissions
        (``0o666`` minus the umask). Missing parent directories are created.

        Returns
        -------
        pathlib.Path
            ``path``.

        Raises
        ------
        ConfigError
            If the suffix is neither ``.toml`` nor ``.json``, or the file cannot be written.
        """
        path = Path(path)
        text = self.to_toml() if _format_of(path) == "toml" else self.to_json()
        return atomic_write(path, lambda f: f.write(text.encode("utf-8")))


_SECTIONS = {
    "excitatory": ExcitatoryParams,
    "inhibitory": InhibitoryParams,
    "lateral": LateralParams,
    "stdp": StdpParams,
    "input": InputParams,
    "timing": TimingParams,
    "delays": DelayParams,
    "spikedyn": SpikeDynParams,
    "asp": AspParams,
    "precision": PrecisionParams,
}

_TOP_FIELDS = {f.name: f for f in dataclasses.fields(NetworkConfig) if f.name not in _SECTIONS}
_SECTION_FIELDS = {
    section: {f.name: f for f in dataclasses.fields(cls)} for section, cls in _SECTIONS.items()
}


def _fields(section: str | None) -> dict[str, dataclasses.Field]:
    """The scalar fields of ``section`` (None: the top level), by name."""
    return _TOP_FIELDS if section is None else _SECTION_FIELDS[section]


def _field(section: str | None, name: str) -> dataclasses.Field:
    """The field ``section.name`` (``name`` at the top level if ``section`` is None).

    Raises
    ------
    ConfigError
        Naming the unknown section or field and listing the valid names.
    """
    if section is not None and section not in _SECTIONS:
        raise ConfigError(
            f"unknown config section {section!r}; sections are {', '.join(_SECTIONS)} "
            f"(top-level fields: {', '.join(_TOP_FIELDS)})"
        )
    fields = _fields(section)
    if name in fields:
        return fields[name]
    if section is None and name in _SECTIONS:
        example = next(iter(_SECTION_FIELDS[name]))
        raise ConfigError(f"{name} is a section; set one of its fields, e.g. {name}.{example}")
    where = f"section {section!r}" if section is not None else "the top level"
    dotted = f"{section}.{name}" if section is not None else name
    hint = f"sections: {', '.join(_SECTIONS)}; " if section is None else ""
    raise ConfigError(f"unknown config field {dotted!r}; {hint}fields of {where}: {', '.join(fields)}")


def _kind(f: dataclasses.Field) -> str:
    """``"int"``, ``"float"``, ``"bool"`` or ``"str"``: the annotated type of a scalar field."""
    return f.type if isinstance(f.type, str) else f.type.__name__


def _show(value: Any, limit: int = 60) -> str:
    """A short one-line repr of ``value`` for an error message."""
    try:
        text = repr(value)
    except (ValueError, RecursionError):  # an int of more than 4,300 digits, a deeply nested list
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def _check_value(name: str, value: Any, f: dataclasses.Field) -> None:
    """Raise ConfigError if ``value`` does not have the type of the field ``f``."""
    kind = _kind(f)
    got = f"got {_show(value)} ({type(value).__name__}); e.g. {f.default!r} (the default)"
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ConfigError(f"{name} must be an integer, {got}")
        if not -(2**63) <= value < 2**63:
            raise ConfigError(f"{name} must be an integer in [-2**63, 2**63), {got}")
    elif kind == "float":
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ConfigError(f"{name} must be a number, {got}")
        try:
            finite = math.isfinite(value)
        except OverflowError:  # an int too large for a float
            finite = False
        # A time constant of +inf means "no decay"; every other number must be finite.
        if not (finite or (value == math.inf and name.rpartition(".")[2].startswith("tau_"))):
            raise ConfigError(f"{name} must be a finite number, {got}")
    elif kind == "bool":
        if not isinstance(value, (bool, np_bool())):
            raise ConfigError(f"{name} must be true or false, {got}")
    elif not isinstance(value, str):
        raise ConfigError(f"{name} must be a string, {got}")


def _name(key: Any) -> str:
    """A key of a user's file for an error message: as it is if it is a short printable name, else its repr."""
    ok = isinstance(key, str) and key.isprintable() and key and not any(c.isspace() for c in key) and len(key) <= 60
    return key if ok else _show(key)


def _one_line(exc: BaseException, limit: int = 200) -> str:
    """``exc``'s message on one line, at most ``limit`` characters."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def np_bool() -> type:
    """NumPy's bool scalar type (imported lazily: this module does not need NumPy otherwise)."""
    import numpy as np

    return np.bool_


def _check_record(section: str, record: Any) -> None:
    """Raise ConfigError unless ``record`` is an instance of the section's record type."""
    cls = _SECTIONS[section]
    if not isinstance(record, cls):
        raise ConfigError(
            f"{section} must be a {cls.__name__}, got {_show(record)} ({type(record).__name__}); "
            f"use config.replace({section}__<field>=value) or {cls.__name__}(...)"
        )


def _check_types(config: NetworkConfig) -> None:
    """Raise ConfigError naming the first field of ``config`` whose value has the wrong type."""
    for name, f in _TOP_FIELDS.items():
        _check_value(name, getattr(config, name), f)
    for section in _SECTIONS:
        record = getattr(config, section)
        _check_record(section, record)
        for name, f in _SECTION_FIELDS[section].items():
            _check_value(f"{section}.{name}", getattr(record, name), f)


#: How :meth:`NetworkConfig.to_dict` writes an infinite time constant: JSON has no infinity.
INFINITY = "inf"


def _plain(value: Any, f: dataclasses.Field) -> Any:
    """``value`` as the plain Python type of field ``f`` (NumPy scalars become int/float; an
    infinite time constant becomes the string :data:`INFINITY`, which JSON can hold)."""
    plain = {"int": int, "float": float, "bool": bool}.get(_kind(f), str)(value)
    return INFINITY if _kind(f) == "float" and plain == math.inf else plain


def _from_plain(value: Any, f: dataclasses.Field) -> Any:
    """The inverse of :func:`_plain` for the one value it changes (``"inf"`` in a float field)."""
    return math.inf if _kind(f) == "float" and isinstance(value, str) and value == INFINITY else value


def _toml_value(value: Any) -> str:
    """A TOML literal for a bool, an int, a finite float or a str."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        # A JSON string is a TOML basic string once DEL, which TOML forbids raw, is escaped.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    return repr(value)  # a float's repr has a "." or an exponent, or is inf, a TOML float too


def read_text_file(path: Path, what: str, suffix: str, not_utf8: str) -> str:
    """The UTF-8 text of the ``suffix`` file ``path``, holding ``what`` (``"energy table"``);
    every problem is a one-line ConfigError naming the file: ``not_utf8`` ends the message
    of a file that is not UTF-8 (e.g. ``"is not UTF-8 text; save it as UTF-8 TOML"``)."""
    try:
        return path.read_text(encoding="utf-8")
    except IsADirectoryError:
        raise ConfigError(f"cannot read {what} {path}: it is a directory; give a {suffix} file") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror or exc}; check the path and its "
                          "permissions") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{what} {path} {not_utf8}") from None
    except ValueError as exc:  # a NUL character in the path
        raise ConfigError(f"cannot read {what} {path}: {exc}") from None


def _toml_reader():
    """The TOML parser: :mod:`tomllib` (Python >= 3.11), else the ``tomli`` package."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            raise ConfigError(
                "reading TOML needs Python >= 3.11 or the tomli package; "
                "run 'pip install tomli' or use a .json config"
            ) from None
    return tomllib


# -- files ---------------------------------------------------------------------------------
CONFIG_SUFFIXES = {".toml": "toml", ".json": "json"}


def _format_of(path: Path) -> str:
    """``"toml"`` or ``"json"`` from the suffix of ``path``."""
    fmt = CONFIG_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise ConfigError(f"config file {path} must end in .toml or .json, got {path.suffix or 'no suffix'!r}")
    return fmt


def load_config(path: str | os.PathLike[str]) -> NetworkConfig:
    """Read a config file, TOML (``.toml``) or JSON (``.json``) by its suffix.

    The file may hold only some sections and fields; the others keep their defaults.

    Parameters
    ----------
    path : str or os.PathLike
        The file, as written by :meth:`NetworkConfig.save` or by hand.

    Returns
    -------
    NetworkConfig

    Raises
    ------
    ConfigError
        One line starting with the file name: the suffix is unknown, the file is
        missing or unreadable, its syntax is invalid (with line and column), or a key
        is unknown or a value has the wrong type or range (naming the field).
    """
    path = Path(path)
    fmt = _format_of(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist; check the path") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text; save it as UTF-8 {fmt.upper()}") from None
    except OSError as exc:
        raise ConfigError(
            f"cannot read config file {path} ({exc.strerror or exc}); check the path and its permissions"
        ) from None
    parse = NetworkConfig.from_toml if fmt == "toml" else NetworkConfig.from_json
    return parse(text, source=str(path))


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], Any]) -> Path:
    """Write a file atomically and durably: :func:`spikedyn.files.atomic_write` (imported
    lazily: this module needs neither NumPy nor the writers otherwise)."""
    from .files import atomic_write as write_atomically

    return write_atomically(path, write)


# -- command-line values -------------------------------------------------------------------
def parse_set(text: str) -> tuple[str, Any]:
    """Parse ``section.field=value`` (or ``field=value`` at the top level) for :meth:`NetworkConfig.replace`.

    Parameters
    ----------
    text : str
        E.g. ``"stdp.nu_post=0.02"``, ``"timing.present_ms=250"``, ``"n_neurons=400"``
        or ``"model=lateral"``.

    Returns
    -------
    key : str
        ``"stdp__nu_post"`` (``"n_neurons"`` at the top level).
    value : int, float or str
        ``value`` converted to the field's type; floats accept ``1e-4`` and ``inf``.
        The range is checked when the config is built.

    Raises
    ------
    ConfigError
        If the form is wrong, the section or field is unknown (listing the valid
        names), or the value does not convert to the field's type.

    Examples
    --------
    >>> parse_set("stdp.nu_post=0.02")
    ('stdp__nu_post', 0.02)
    """
    key, sep, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    if not sep or not key:
        raise ConfigError(
            f"{text!r} is not of the form section.field=value (e.g. stdp.nu_post=0.02) "
            f"or field=value (e.g. n_neurons=400)"
        )
    section, dot, name = key.rpartition(".")
    f = _field(section if dot else None, name)
    kind = _kind(f)
    try:
        value: Any = {"int": int, "float": float, "bool": _parse_bool}.get(kind, str)(raw)
    except ValueError:
        what = {"int": "an integer", "float": "a number", "bool": "true or false"}[kind]
        raise ConfigError(
            f"{key} must be {what}, got {raw!r}; write e.g. {key}={f.default!r}"
        ) from None
    return (f"{section}__{name}" if dot else name), value


def _parse_bool(text: str) -> bool:
    """``true``/``false`` (any case, or 1/0) as a bool; ValueError otherwise."""
    value = {"true": True, "1": True, "false": False, "0": False}.get(text.lower())
    if value is None:
        raise ValueError(text)
    return value


def check_seed(value: Any, name: str = "seed", *, bits: int = 63) -> int:
    """Return ``value`` as an int if it is a valid seed: an integer in ``[0, 2**bits)``.

    The one seed check of spikedyn (the CLI's ``--seed``, :class:`~spikedyn.network.Network`,
    :func:`~spikedyn.encoding.presentation_seed`).

    Parameters
    ----------
    value : int or numpy integer
    name : str, default "seed"
        The argument's name, for the error message.
    bits : int, default 63
        Upper bound ``2**bits`` (exclusive); 64 for the seed of one raster.

    Raises
    ------
    ConfigError
        If ``value`` is not an integer (bools are not) or lies outside ``[0, 2**bits)``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ConfigError(
            f"{name} must be an integer in [0, 2**{bits}), got {_show(value)} ({type(value).__name__})"
        )
    if not 0 <= int(value) < 2**bits:
        raise ConfigError(f"{name} must be in [0, 2**{bits}), got {int(value)}")
    return int(value)
