"""The checks of a :class:`~spikedyn.config.NetworkConfig`: every field's type and range, and the rules between fields.

The checks are generic over the sections (:mod:`spikedyn.config.sections`): a section
declares the ranges of its fields and any rule of its own (:mod:`spikedyn.core.params`
says how), so a section that a model part declares is checked like the base ones.
"""

from __future__ import annotations

import dataclasses
import math

from ..core.numerics import FLUSH_BELOW
from ..core.params import (MAX_STEPS, MAX_SYNAPSES, MAX_TRACE_STEPS, MIN_SPIKE_PROBABILITY, ROUNDINGS, WEIGHT_BITS,
                           check_value, whole_steps)
from ..errors import ConfigError, show
from .sections import section_classes, section_fields

#: What a range declaration of a section requires, and how its message says it.
_RANGES = (
    ("POSITIVE", lambda v: v > 0, "must be > 0"),
    ("NON_NEGATIVE", lambda v: v >= 0, "must be >= 0"),
    ("FRACTIONS", lambda v: 0 <= v <= 1, "must be a fraction in [0, 1]"),
)


def validate(config) -> None:
    """Check ``config``; see :meth:`spikedyn.config.NetworkConfig.validate`."""
    from .. import models

    sections = section_classes()
    check_types(config, sections)
    models.get(config.model)  # a ConfigError naming the registered models otherwise
    for name in ("n_neurons", "n_input"):
        value = getattr(config, name)
        if value < 1:
            raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    if config.n_input * config.n_neurons > MAX_SYNAPSES:
        raise ConfigError(
            f"n_input={config.n_input} and n_neurons={config.n_neurons} make {config.n_input * config.n_neurons} "
            f"synapses; allowed: n_input * n_neurons <= {MAX_SYNAPSES} (2**28, 2 GiB of float64 weights); "
            f"use fewer neurons"
        )
    for declaration, ok, requirement in _RANGES:
        for section, cls in sections.items():
            record = getattr(config, section)
            for name in getattr(cls, declaration, ()):
                value = getattr(record, name)
                if not ok(value):
                    raise ConfigError(f"{section}.{name} {requirement}, got {value!r}")
    if config.precision.weight_bits not in WEIGHT_BITS:
        raise ConfigError(f"precision.weight_bits must be one of {', '.join(map(str, WEIGHT_BITS))}, "
                          f"got {config.precision.weight_bits!r}")
    if config.precision.rounding not in ROUNDINGS:
        raise ConfigError(f"precision.rounding must be one of {', '.join(ROUNDINGS)}, "
                          f"got {config.precision.rounding!r}")
    if config.input.max_presentations < 1:
        raise ConfigError(
            f"input.max_presentations must be >= 1, got {config.input.max_presentations}"
        )
    s = config.stdp
    if not 0 <= s.w_init_low <= s.w_init_high <= s.w_max:
        raise ConfigError(
            "stdp weights need 0 <= w_init_low <= w_init_high <= w_max, got "
            f"{s.w_init_low}, {s.w_init_high}, {s.w_max}"
        )
    _check_weight_sum(config)
    _check_time_constants(config, sections)
    _check_potentials(config, sections)
    _check_input_rates(config)
    _check_centre_surround(config)
    _check_durations(config, sections)
    for section in sections:
        rule = getattr(getattr(config, section), "check", None)
        if rule is not None:
            rule(config)


def check_types(config, sections: dict[str, type]) -> None:
    """Raise ConfigError naming the first field of ``config`` whose value has the wrong type."""
    for f in dataclasses.fields(config):
        if f.name not in sections and f.name != "part_sections":
            check_value(f.name, getattr(config, f.name), f)
    for section, cls in sections.items():
        record = getattr(config, section)
        check_record(section, cls, record)
        for name, f in section_fields(cls).items():
            check_value(f"{section}.{name}", getattr(record, name), f)


def check_record(section: str, cls: type, record) -> None:
    """Raise ConfigError unless ``record`` is an instance of the section's class ``cls``."""
    if not isinstance(record, cls):
        raise ConfigError(
            f"{section} must be a {cls.__name__}, got {show(record)} ({type(record).__name__}); "
            f"use config.replace({section}__<field>=value) or {cls.__name__}(...)"
        )


def _check_weight_sum(config) -> None:
    """The normalisation's target must be reachable by weights clipped to ``[0, w_max]``, and no
    weight scale may lie below the kernels' zero (the normalisation would divide by it)."""
    s = config.stdp
    for name in ("w_max", "w_init_high", "nu_post"):
        value = getattr(s, name)
        if 0 < value < FLUSH_BELOW:
            raise ConfigError(
                f"stdp.{name}={value!r} is below {FLUSH_BELOW:g}, which the kernels treat as zero (weights "
                f"that small would make the normalisation scale them by more than 1e300); allowed: "
                f"stdp.{name} = 0 or >= {FLUSH_BELOW:g}"
            )
    reachable = config.n_input * s.w_max
    if s.weight_sum > reachable:
        raise ConfigError(
            f"stdp.weight_sum={s.weight_sum!r} cannot be reached by {config.n_input} input weights of at most "
            f"stdp.w_max={s.w_max!r}; allowed: 0 < stdp.weight_sum <= n_input * stdp.w_max = {reachable!r}; "
            f"lower stdp.weight_sum or raise stdp.w_max"
        )


def _check_time_constants(config, sections: dict[str, type]) -> None:
    """``dt`` below every time constant of every section (forward Euler and the decay tables need
    it), and STDP time constants short enough to tabulate their traces."""
    dt = config.timing.dt_ms
    taus = sorted(
        ((getattr(getattr(config, section), name), f"{section}.{name}")
         for section, cls in sections.items()
         for name in section_fields(cls) if name.startswith("tau_") and name.endswith("_ms")),
        key=lambda item: item[0],
    )
    tau, name = taus[0]
    if not dt < tau:
        raise ConfigError(
            f"timing.dt_ms={dt!r} must be smaller than every time constant; {name}={tau!r} is not; "
            f"lower timing.dt_ms (allowed: 0 < timing.dt_ms < {tau!r}, the smallest time constant)"
        )
    for name in ("tau_pre_ms", "tau_post1_ms", "tau_post2_ms"):
        tau = getattr(config.stdp, name)
        if not tau <= MAX_TRACE_STEPS * dt:
            raise ConfigError(
                f"stdp.{name}={tau!r} is too long: an STDP trace is tabulated step by step until it "
                f"vanishes; allowed: timing.dt_ms < stdp.{name} <= {MAX_TRACE_STEPS} * timing.dt_ms = "
                f"{MAX_TRACE_STEPS * dt!r} ms; lower it (or raise timing.dt_ms)"
            )


def _check_potentials(config, sections: dict[str, type]) -> None:
    """In every section with reversal potentials (``e_inh_mv``, ``e_exc_mv``: a population of
    conductance-based neurons), the reversal potentials in order, and rest and reset inside
    them (the membrane is clipped there)."""
    for section, cls in sections.items():
        fields = section_fields(cls)
        if "e_inh_mv" not in fields or "e_exc_mv" not in fields:
            continue
        p = getattr(config, section)
        if not p.e_inh_mv < p.e_exc_mv:
            raise ConfigError(
                f"{section}.e_inh_mv={p.e_inh_mv!r} must be below {section}.e_exc_mv={p.e_exc_mv!r} "
                f"(allowed: {section}.e_inh_mv < {p.e_exc_mv!r}); swap or fix them"
            )
        for name in ("v_rest_mv", "v_reset_mv"):
            if name not in fields:
                continue
            v = getattr(p, name)
            if not p.e_inh_mv <= v <= p.e_exc_mv:
                raise ConfigError(
                    f"{section}.{name}={v!r} must lie between the reversal potentials, the membrane never "
                    f"leaves them; allowed: {section}.e_inh_mv <= {section}.{name} <= {section}.e_exc_mv, "
                    f"i.e. [{p.e_inh_mv!r}, {p.e_exc_mv!r}] mV"
                )


def _check_input_rates(config) -> None:
    """Input spike probabilities per step: not vanishing at the base rate, below 1 at the last retry; with ink
    normalisation on, at its lowest and highest gain (``1 / input.max_gain``, ``input.max_gain``)."""
    i, dt = config.input, config.timing.dt_ms
    if not i.max_gain >= 1.0:
        raise ConfigError(f"input.max_gain={i.max_gain!r} bounds the ink normalisation's gain to "
                          f"[1 / max_gain, max_gain]; allowed: input.max_gain >= 1")
    gain = i.max_gain if i.normalise_mean_pixel > 0 else 1.0
    scaled = gain != 1.0  # the messages name input.max_gain only where it bounds the rates
    lowest = i.rate_hz_per_unit / gain * dt * 1e-3
    if lowest < MIN_SPIKE_PROBABILITY:
        raise ConfigError(
            f"input.rate_hz_per_unit={i.rate_hz_per_unit!r}"
            f"{f' at the lowest gain 1 / input.max_gain={1 / i.max_gain:.6g}' if scaled else ''} gives a spike "
            f"probability per step of {lowest:.3g} at intensity 1, below {MIN_SPIKE_PROBABILITY:g}; allowed: "
            f"input.rate_hz_per_unit{' / input.max_gain' if scaled else ''} "
            f">= {MIN_SPIKE_PROBABILITY / (dt * 1e-3):.3g} at timing.dt_ms={dt!r}; use a larger rate"
            f"{' or a smaller input.max_gain' if scaled else ''}"
        )
    # The highest Poisson probability per step (pixel 255 at the highest gain and the last retry) must stay below 1.
    top_rate_hz = 255 * (gain * i.rate_hz_per_unit + (i.max_presentations - 1) * i.retry_rate_hz_per_unit)
    if top_rate_hz * dt * 1e-3 >= 1.0:
        raise ConfigError(
            f"input.rate_hz_per_unit={i.rate_hz_per_unit!r}, input.retry_rate_hz_per_unit="
            f"{i.retry_rate_hz_per_unit!r} and input.max_presentations={i.max_presentations}"
            f"{f' with input.max_gain={i.max_gain!r}' if scaled else ''} saturate the "
            f"input: pixel 255 reaches {top_rate_hz:.6g} Hz, which would exceed one spike per timing.dt_ms={dt!r} "
            f"step; allowed: "
            f"255 * ({'input.max_gain * ' if scaled else ''}rate_hz_per_unit + (max_presentations - 1) * "
            f"retry_rate_hz_per_unit) < 1000 / dt_ms = "
            f"{1000 / dt:.6g} Hz; lower the rates{', input.max_gain' if scaled else ''} or input.max_presentations"
        )


def _check_centre_surround(config) -> None:
    """The centre-surround filter: a surround wider than the centre, and square images to filter."""
    i = config.input
    if not i.centre_surround:
        return
    if not i.surround_sigma_px > i.centre_sigma_px:
        raise ConfigError(f"input.surround_sigma_px={i.surround_sigma_px!r} must exceed input.centre_sigma_px="
                          f"{i.centre_sigma_px!r}: an ON-centre cell's surround is the wider Gaussian; widen it")
    side = math.isqrt(config.n_input)
    if side * side != config.n_input:
        raise ConfigError(f"input.centre_surround filters square images, but n_input={config.n_input} is not a "
                          "square number; set input.centre_surround=false or use square images")


def _check_durations(config, sections: dict[str, type]) -> None:
    """Every duration a section declares (``DURATIONS``) a whole number of steps, and at most
    :data:`~spikedyn.core.params.MAX_STEPS` of them."""
    dt = config.timing.dt_ms
    for section, cls in sections.items():
        for field_name in getattr(cls, "DURATIONS", ()):
            name, value = f"{section}.{field_name}", getattr(getattr(config, section), field_name)
            if value / dt > MAX_STEPS:
                raise ConfigError(
                    f"{name}={value!r} is {value / dt:.3g} steps of timing.dt_ms={dt!r}; allowed: "
                    f"0 <= {name} <= {MAX_STEPS} * timing.dt_ms = {MAX_STEPS * dt!r} ms; shorten it"
                )
            whole_steps(value, dt, name)
