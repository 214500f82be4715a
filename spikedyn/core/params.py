"""The parameter sections every model has, and what makes a parameter section.

A *section* is a frozen dataclass of scalar fields (``int``, ``float``, ``bool`` or
``str``), each with a default written once and its source. :class:`~spikedyn.config.NetworkConfig`
composes the base sections defined here (:data:`BASE_SECTIONS`: the excitatory neurons,
STDP, the input encoding, the timing, the weight precision) with the sections that the
registered model parts declare (a part's class attribute ``sections = {"asp": AspParams}``,
:mod:`spikedyn.models`): every section, base or declared, gets the same ``--set
section.field=value``, TOML/JSON round trip and checks.

A section says how its fields are checked, by field name, in class attributes (not
fields): ``POSITIVE`` (> 0), ``NON_NEGATIVE`` (>= 0), ``FRACTIONS`` (in [0, 1]) and
``DURATIONS`` (a whole number of at most :data:`MAX_STEPS` time steps). Every field
``tau_*_ms`` is a time constant: it may be ``math.inf`` ("no decay") and the time step
must be below it; a section with reversal potentials (``e_inh_mv``, ``e_exc_mv``) must
have them in order, with its ``v_rest_mv`` and ``v_reset_mv`` between them. A rule
between fields that these do not cover is the section's method ``check(config)``, which
raises :class:`~spikedyn.errors.ConfigError`.

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
import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError, show

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

#: The range declarations a section may make (class attributes), in the order they are checked.
RANGES = ("POSITIVE", "NON_NEGATIVE", "FRACTIONS")


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

    POSITIVE = ("tau_m_ms", "tau_ge_ms", "tau_gi_ms", "tau_theta_ms")
    NON_NEGATIVE = ("refractory_ms", "lockout_ms", "theta_plus_mv")
    DURATIONS = ("refractory_ms", "lockout_ms")

    def fires_at_rest(self, theta):
        """Which neurons fire with no input at all: those whose threshold lies below the resting
        potential, ``v_rest > v_thresh + theta - theta_offset`` (bool array, the shape of ``theta``).

        With [DC15]'s values that is ``theta < 7 mV``. theta starts at 20 mV and decays with
        ``tau_theta`` (10^4 s, about 20,000 presentations), so a neuron that stops winning for several
        time constants gets there. With learning off its threshold stays there: it fires whenever it
        is neither refractory nor inhibited, whatever the image (docs/results.md, "Paper scale").
        """
        return self.v_rest_mv > self.v_thresh_mv + np.asarray(theta, dtype=np.float64) - self.theta_offset_mv


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

    POSITIVE = ("tau_pre_ms", "tau_post1_ms", "tau_post2_ms", "w_max", "weight_sum")
    NON_NEGATIVE = ("nu_pre", "nu_post")


#: Weight widths a network can store its weights at (64: the float64 reference).
WEIGHT_BITS = (4, 8, 16, 32, 64)
ROUNDINGS = ("nearest", "stochastic")


@dataclass(frozen=True)
class PrecisionParams:
    """How the input->excitatory weights are stored (:mod:`spikedyn.core.quantise`).

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

    **Ink normalisation** (``normalise_mean_pixel`` = ``m``; 0, [DC15]'s input, turns it off): each
    image's base rate is scaled by a gain that brings its mean pixel ``mean(p)`` to ``m``,
    bounded by ``max_gain`` = ``G`` either way, so pixel ``p`` fires at::

        g = clip(m / mean(p), 1 / G, G)        (g = 1 when m = 0 or the image is blank)
        rate(p) = p * (g * rate_hz_per_unit + attempt * retry_rate_hz_per_unit)

    Every image then drives the layer with about the same number of input spikes, whatever its
    ink. Rationale (``docs/model.md``, "Ink normalisation"): the input's drive sets how many
    spikes a winner fires, and with them the threshold's homeostasis and every count a rule
    keeps (a class of a dataset with twice MNIST's ink, Fashion-MNIST, fires 5-10 times the
    spikes per image). Competitive learning normalises each pattern by its number of active
    lines for the same reason (Rumelhart & Zipser 1985); [DC15]'s encoder leaves the total to
    the data.
    The retry's increment is not scaled: it is [DC15]'s rescue of images that drive too few
    spikes, at any gain.

    **Centre-surround filter** (``centre_surround``; off, [DC15]'s input, by default): before it is
    encoded, each image (square, ``n_input = k * k``) is replaced by the rectified response of
    ON-centre cells, a difference of two Gaussians of widths ``s_c = centre_sigma_px`` and
    ``s_s = surround_sigma_px`` scaled by ``c = centre_surround_gain``::

        p'(x, y) = clip(round(c * max((G_sc * p - G_ss * p)(x, y), 0)), 0, 255)

    (``G_s``: a normalised Gaussian truncated at ``ceil(4 s)`` pixels, zero outside the image; the
    filter is separable, :func:`spikedyn.core.encoding.centre_surround`). A uniform region gives 0,
    an edge or a stroke narrower than the surround a response: a class of broad, filled shapes
    (Fashion-MNIST's clothes, 45 % of the pixels above 25) reaches the layer as outlines, about as sparse as
    MNIST's strokes, whose drive it keeps. Rationale (``docs/model.md``, "Centre-surround filter"):
    the drive a learned neuron has over an unlearned one shrinks with the input's lit fraction, and
    with it what keeps a class on the neurons that learned it. Source: the retina's ON-centre
    ganglion cells (Kuffler 1953; the difference of Gaussians of Rodieck 1965, Enroth-Cugell &
    Robson 1966), the input stage of STDP networks for object recognition (Masquelier & Thorpe 2007;
    Kheradpisheh et al. 2018, whose MNIST widths 1 and 2 px are the defaults). The gain 3 brings the
    median MNIST training image's strongest response to 255.
    """

    rate_hz_per_unit: float = 0.25  # [DC15]: intensity 2 * pixel / 8
    retry_rate_hz_per_unit: float = 0.125  # [DC15]: intensity += 1 -> + pixel / 8
    min_spikes: int = 5  # [DC15]
    max_presentations: int = 20
    normalise_mean_pixel: float = 0.0  # off: [DC15]
    max_gain: float = 4.0
    centre_surround: bool = False  # off: [DC15]
    centre_sigma_px: float = 1.0  # Kheradpisheh et al. 2018 (MNIST)
    surround_sigma_px: float = 2.0  # Kheradpisheh et al. 2018 (MNIST)
    centre_surround_gain: float = 3.0

    POSITIVE = ("rate_hz_per_unit", "centre_sigma_px", "surround_sigma_px", "centre_surround_gain")
    NON_NEGATIVE = ("retry_rate_hz_per_unit", "min_spikes", "normalise_mean_pixel")


@dataclass(frozen=True)
class TimingParams:
    """Integration step and presentation schedule [DC15]."""

    dt_ms: float = 0.5  # [DC15]
    present_ms: float = 350.0  # [DC15]
    rest_ms: float = 150.0  # [DC15]

    POSITIVE = ("dt_ms", "present_ms")
    NON_NEGATIVE = ("rest_ms",)
    DURATIONS = ("present_ms", "rest_ms")

    @property
    def present_steps(self) -> int:
        return whole_steps(self.present_ms, self.dt_ms, "present_ms")

    @property
    def rest_steps(self) -> int:
        return whole_steps(self.rest_ms, self.dt_ms, "rest_ms")


#: The sections of every model, by name.
BASE_SECTIONS = {
    "excitatory": ExcitatoryParams,
    "stdp": StdpParams,
    "input": InputParams,
    "timing": TimingParams,
    "precision": PrecisionParams,
}
#: The top-level fields of a config (everything else is in a section).
TOP_FIELDS = ("model", "n_neurons", "n_input")


def whole_steps(duration_ms: float, dt_ms: float, name: str) -> int:
    """``duration_ms`` in steps of ``dt_ms``; a ConfigError naming ``name`` unless it is a whole number of them."""
    steps = round(duration_ms / dt_ms)
    if abs(steps * dt_ms - duration_ms) > 1e-9 * max(1.0, duration_ms):
        raise ConfigError(
            f"{name}={duration_ms} is not a whole number of dt_ms={dt_ms} steps; allowed: multiples of "
            f"dt_ms, e.g. {math.floor(duration_ms / dt_ms) * dt_ms:g} or {math.ceil(duration_ms / dt_ms) * dt_ms:g}"
        )
    return steps


def check_seed(value: Any, name: str = "seed", *, bits: int = 63) -> int:
    """Return ``value`` as an int if it is a valid seed: an integer in ``[0, 2**bits)``.

    The one seed check of spikedyn (the CLI's ``--seed``, :class:`~spikedyn.Network`,
    :func:`~spikedyn.core.encoding.presentation_seed`).

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
            f"{name} must be an integer in [0, 2**{bits}), got {show(value)} ({type(value).__name__})"
        )
    if not 0 <= int(value) < 2**bits:
        raise ConfigError(f"{name} must be in [0, 2**{bits}), got {int(value)}")
    return int(value)


# -- the fields of a section --------------------------------------------------------------------
SCALAR_KINDS = ("int", "float", "bool", "str")


def kind(f: dataclasses.Field) -> str:
    """``"int"``, ``"float"``, ``"bool"`` or ``"str"``: the annotated type of a scalar field."""
    return f.type if isinstance(f.type, str) else f.type.__name__


def check_value(name: str, value: Any, f: dataclasses.Field) -> None:
    """Raise ConfigError if ``value`` does not have the type of the field ``f`` (named ``name``).

    Integer fields take ``int`` (or a NumPy integer) within int64, not ``bool``; float
    fields take any real number but ``bool``, finite, except that a time constant
    (``tau_*``) may be ``math.inf`` for "no decay"; bool fields take ``bool`` (or NumPy's);
    str fields a ``str``.
    """
    k = kind(f)
    got = f"got {show(value)} ({type(value).__name__}); e.g. {f.default!r} (the default)"
    if k == "int":
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ConfigError(f"{name} must be an integer, {got}")
        if not -(2**63) <= value < 2**63:
            raise ConfigError(f"{name} must be an integer in [-2**63, 2**63), {got}")
    elif k == "float":
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ConfigError(f"{name} must be a number, {got}")
        try:
            finite = math.isfinite(value)
        except OverflowError:  # an int too large for a float
            finite = False
        # A time constant of +inf means "no decay"; every other number must be finite.
        if not (finite or (value == math.inf and name.rpartition(".")[2].startswith("tau_"))):
            raise ConfigError(f"{name} must be a finite number, {got}")
    elif k == "bool":
        if not isinstance(value, (bool, np_bool())):
            raise ConfigError(f"{name} must be true or false, {got}")
    elif not isinstance(value, str):
        raise ConfigError(f"{name} must be a string, {got}")


def np_bool() -> type:
    """NumPy's bool scalar type (imported lazily: this module does not need NumPy otherwise)."""
    import numpy as np

    return np.bool_


def check_section_class(name: str, cls: type) -> None:
    """Raise ValueError unless ``cls`` can be the section ``name``: a frozen dataclass of scalar
    fields with defaults, whose range declarations name its fields (checked when a part
    declaring it is registered)."""
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen):
        raise ValueError(f"section {name!r} must be a frozen dataclass, got {cls!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for f in fields.values():
        if kind(f) not in SCALAR_KINDS or f.default is dataclasses.MISSING:
            raise ValueError(f"section {name!r}: field {f.name!r} must be an int, float, bool or str with a default")
    for declaration in (*RANGES, "DURATIONS"):
        unknown = [n for n in getattr(cls, declaration, ()) if n not in fields]
        if unknown:
            raise ValueError(f"section {name!r}: {declaration} names {unknown[0]!r}, which is not one of its fields")
