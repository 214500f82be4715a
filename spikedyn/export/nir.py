"""A trained network as its frozen inference graph in NIR (Neuromorphic Intermediate Representation).

NIR (``nir`` package; Pedersen et al., Nat. Commun. 15:8122, 2024) describes a network as
a graph of continuous-time primitives. It has current-based neurons (``CubaLIF``),
``Linear`` weights, ``Delay`` and recurrent edges, but no conductance synapses, adaptive
thresholds, refractory periods or plasticity. :func:`build_graph` therefore writes the
*frozen* network (learning off, thresholds folded in, as in spikedyn's inference) and
approximates what NIR cannot express; ``docs/export.md`` derives every approximation.

Conventions of the written graph
--------------------------------
Times in seconds, potentials in mV. A spike is a Dirac delta of unit area, so a spike
reaching a ``CubaLIF`` through weight ``W`` raises its synaptic current by
``W * w_in / tau_syn`` (``w_in = 1`` here). With ``I = g / tau_syn`` the current is
spikedyn's conductance divided by its time constant, and ``r = D * tau_syn`` makes
``r I = D g``: the conductance synapse ``g (E - v)`` with its driving force ``E - v``
frozen at ``D`` mV.

Layout (``N`` excitatory neurons; node names are fixed)::

    input (784) --w_input--> excitatory (CubaLIF, N) --> output (N)
    every model:     excitatory <--w_lateral-- excitatory          (lateral, spikedyn, ...)
    inhibitory layer: excitatory --w_exc_inh--> inhibitory (CubaLIF, N)
                      inhibitory --w_inh_exc--> excitatory         (diehl-cook, asp, ...)
    delays: input --delay_KK--> w_input_KK --> excitatory, one branch per delay of KK steps

The excitatory population's synaptic current has one time constant, ``tau_ge``: the
inhibition, whose conductance decays with ``tau_gi`` in spikedyn, enters the same
current with its weight multiplied by ``tau_gi / tau_ge`` (same charge per spike).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import models
from .._version import __version__
from ..config import NetworkConfig
from ..errors import ConfigError

#: Version of the layout and metadata written here (a reader checks it).
GRAPH_FORMAT = "spikedyn-nir"
GRAPH_FORMAT_VERSION = 1
#: Node names.
INPUT, OUTPUT, EXCITATORY, INHIBITORY = "input", "output", "excitatory", "inhibitory"
W_INPUT, W_LATERAL, W_EXC_INH, W_INH_EXC, W_INH_SELF = "w_input", "w_lateral", "w_exc_inh", "w_inh_exc", "w_inh_self"


@dataclass(frozen=True)
class Approximation:
    """The free parameters of what NIR cannot express exactly (derived in ``docs/export.md``).

    ``exc_scale`` (alpha) multiplies the derived excitatory driving force ``D_e`` of the
    excitatory neurons and ``inh_scale`` (beta) the derived inhibitory one ``D_i``;
    ``reset_offset`` (kappa) lowers each excitatory neuron's reset by ``kappa (v_th - v_reset)``
    in place of its refractory period. ``Approximation()`` (1, 1, 0) is the derivation alone.
    """

    exc_scale: float = 1.0
    inh_scale: float = 1.0
    reset_offset: float = 0.0

    def __post_init__(self) -> None:
        for name, low, high in (("exc_scale", 0.0, None), ("inh_scale", 0.0, None), ("reset_offset", None, 10.0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
                    or not math.isfinite(value) or (low is not None and value <= low) \
                    or (high is not None and not 0 <= value < high):
                allowed = "a positive finite number" if high is None else f"a number in [0, {high:g})"
                raise ConfigError(f"{name} must be {allowed}, got {value!r}")


#: What ``export_run`` uses: selected on training images 50,000-51,999 (never the test set) by
#: experiments/nir_export.py, the smallest spike-count error against spikedyn averaged over
#: diehl-cook, lateral and spikedyn networks of 400 neurons (experiments/results/nir/,
#: docs/export.md). The derivation alone is ``Approximation()``.
DEFAULT_APPROXIMATION = Approximation(exc_scale=1.0, inh_scale=1.1, reset_offset=0.3)


def log_mean(a, b):
    """Logarithmic mean ``(a - b) / ln(a / b)`` of positive ``a`` and ``b`` (``a`` where ``a == b``), elementwise."""
    a, b = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    out = a.copy()
    differ = np.abs(a - b) > 1e-12 * np.maximum(a, b)
    out[differ] = (a[differ] - b[differ]) / np.log(a[differ] / b[differ])
    return out


def excitatory_drive_mv(e_exc_mv: float, v_from_mv: float, v_threshold_mv) -> np.ndarray:
    """The constant driving force that preserves the time to threshold of an excitatory synapse.

    Ignoring the leak, the conductance membrane ``tau dv/dt = g (E - v)`` needs
    ``integral g dt = tau ln((E - v_from) / (E - v_th))`` to climb from ``v_from`` to
    ``v_th``; the current membrane ``tau dv/dt = g D`` needs ``tau (v_th - v_from) / D``.
    They agree for ``D`` = the logarithmic mean of ``E - v_from`` and ``E - v_th``.
    A threshold at or above ``E`` is never reached by the conductance neuron: its drive
    is 0 (the exported neuron never fires either).

    Returns float64 array, shape of ``v_threshold_mv`` (mV).
    """
    v_th = np.asarray(v_threshold_mv, dtype=np.float64)
    gap_from = e_exc_mv - v_from_mv
    if gap_from <= 0:
        raise ConfigError(f"the reversal potential {e_exc_mv} mV must lie above the reset/rest potential "
                          f"{v_from_mv} mV for an excitatory synapse")
    reachable = v_th < e_exc_mv
    out = np.zeros_like(v_th)
    out[reachable] = log_mean(gap_from, e_exc_mv - v_th[reachable])
    return out


def inhibitory_drive_mv(v_ref_mv, e_inh_mv: float, weight: float, tau_g_ms: float, tau_m_ms: float) -> np.ndarray:
    """The constant driving force that preserves one inhibitory spike's effect at ``v_ref``.

    A conductance jump ``w`` decaying with ``tau_g`` moves the (leak-free) conductance
    membrane from ``v_ref`` by ``(E_inh - v_ref)(1 - exp(-x))``, ``x = w tau_g / tau_m``;
    the current membrane moves by ``-D x``. They agree for
    ``D = (v_ref - E_inh)(1 - exp(-x)) / x``: the saturation of the conductance is kept
    for a single spike (several spikes in a row still add up linearly).

    Returns float64 array, shape of ``v_ref_mv`` (mV).
    """
    v_ref = np.asarray(v_ref_mv, dtype=np.float64)
    x = weight * tau_g_ms / tau_m_ms
    factor = -math.expm1(-x) / x if x > 0 else 1.0
    return np.maximum(v_ref - e_inh_mv, 0.0) * factor


def folded_thresholds_mv(config: NetworkConfig, theta_mv: np.ndarray) -> np.ndarray:
    """Per-neuron threshold of the frozen network: ``v_thresh + theta - theta_offset`` (mV)."""
    e = config.excitatory
    return e.v_thresh_mv + np.asarray(theta_mv, dtype=np.float64) - e.theta_offset_mv


def _competition_kind(config: NetworkConfig) -> str:
    name = models.get(config.model).competition.name
    if name not in ("inhibitory-layer", "direct-lateral"):
        raise ConfigError(f"model {config.model!r} has competition {name!r}, which the NIR export does not know; "
                          "add it to spikedyn/export/nir.py")
    return name


def _delays(config: NetworkConfig, seed: int) -> np.ndarray | None:
    """Each synapse's delay in steps (int64, (n_input, N)), or None for a model without delays."""
    plasticity = models.get(config.model).plasticity
    if not hasattr(plasticity, "brian2_delays_s"):
        return None
    from ..models.delays import delay_steps

    return delay_steps(config, seed)


def build_graph(config: NetworkConfig, weights: np.ndarray, theta_mv: np.ndarray, *, seed: int,
                assignments: np.ndarray | None = None, approximation: Approximation = Approximation(),
                provenance: dict[str, Any] | None = None):
    """The frozen inference graph of a network, as a ``nir.NIRGraph``.

    Parameters
    ----------
    config : NetworkConfig
        Any registered model.
    weights : float64 array, shape (n_input, N)
        Learned input->excitatory weights (written exactly, transposed to NIR's (out, in)).
    theta_mv : float64 array, shape (N,)
        Learned adaptive thresholds (folded into each neuron's ``v_threshold``).
    seed : int
        The network's seed: it fixes the synaptic delays of the ``*-delays`` models and
        the input spikes of spikedyn's inference (recorded in the metadata).
    assignments : int64 array, shape (N,), optional
        Class of each neuron (-1: unassigned), stored in the metadata for the readout.
    approximation : Approximation
        The free scales (``docs/export.md``).
    provenance : dict, optional
        Flat extra metadata (strings and numbers), e.g. where the labels came from.

    Returns
    -------
    nir.NIRGraph
    """
    import nir

    n_in, n = config.n_input, config.n_neurons
    weights = np.asarray(weights, dtype=np.float64)
    theta_mv = np.asarray(theta_mv, dtype=np.float64)
    if weights.shape != (n_in, n) or theta_mv.shape != (n,):
        raise ConfigError(f"weights {weights.shape} and theta {theta_mv.shape} do not match the config's "
                          f"({n_in}, {n}) and ({n},)")
    e, t = config.excitatory, config.timing
    competition = _competition_kind(config)
    ms = 1e-3  # seconds per ms

    # -- the excitatory population ----------------------------------------------------------
    v_th = folded_thresholds_mv(config, theta_mv)
    drive_e = approximation.exc_scale * excitatory_drive_mv(e.e_exc_mv, e.v_reset_mv, v_th)
    if competition == "direct-lateral":
        w_inh = config.lateral.w_lateral
    else:
        w_inh = config.inhibitory.w_inh_exc
    # A competitor's inhibition matters when it is about to fire: taken at its threshold.
    drive_i = approximation.inh_scale * inhibitory_drive_mv(
        np.minimum(v_th, e.e_exc_mv), e.e_inh_mv, w_inh, e.tau_gi_ms, e.tau_m_ms)
    excitatory = nir.CubaLIF(
        tau_syn=np.full(n, e.tau_ge_ms * ms), tau_mem=np.full(n, e.tau_m_ms * ms),
        r=drive_e * (e.tau_ge_ms * ms), v_leak=np.full(n, float(e.v_rest_mv)),
        v_threshold=v_th, v_reset=e.v_reset_mv - approximation.reset_offset * np.maximum(v_th - e.v_reset_mv, 0.0),
        w_in=np.ones(n),
        metadata={"refractory_s": e.refractory_ms * ms, "lockout_s": e.lockout_ms * ms,
                  "note": "no refractory period in NIR: see docs/export.md"})
    # Inhibition enters the same current (tau_ge) with the charge of a tau_gi decay, and is
    # scaled per target so that r_j * W_ji gives the target's inhibitory drive D_i,j.
    with np.errstate(divide="ignore", invalid="ignore"):
        inh_per_spike = np.where(drive_e > 0, -w_inh * (e.tau_gi_ms / e.tau_ge_ms) * drive_i / drive_e, 0.0)

    nodes: dict[str, Any] = {INPUT: nir.Input(input_type={"input": np.array([n_in])})}
    edges: list[tuple[str, str]] = []
    delays = _delays(config, seed)
    if delays is None:
        nodes[W_INPUT] = nir.Linear(weight=np.ascontiguousarray(weights.T))
        edges += [(INPUT, W_INPUT), (W_INPUT, EXCITATORY)]
    else:
        for k in np.unique(delays):  # one branch per delay value: sum over branches = weights
            masked = np.where(delays == k, weights, 0.0).T
            linear = f"{W_INPUT}_{int(k):02d}"
            nodes[linear] = nir.Linear(weight=np.ascontiguousarray(masked))
            if k == 0:
                edges += [(INPUT, linear)]
            else:
                delay = f"delay_{int(k):02d}"
                nodes[delay] = nir.Delay(delay=np.full(n_in, int(k) * t.dt_ms * ms))
                edges += [(INPUT, delay), (delay, linear)]
            edges += [(linear, EXCITATORY)]
    nodes[EXCITATORY] = excitatory

    off_diagonal = ~np.eye(n, dtype=bool)
    if competition == "direct-lateral":
        # row j (target) holds the inhibition j receives from every other neuron
        nodes[W_LATERAL] = nir.Linear(weight=np.where(off_diagonal, inh_per_spike[:, None], 0.0))
        edges += [(EXCITATORY, W_LATERAL), (W_LATERAL, EXCITATORY)]
        drive_inh_pop = None
    else:
        i = config.inhibitory
        drive_inh_pop = excitatory_drive_mv(i.e_exc_mv, i.v_rest_mv, np.full(n, float(i.v_thresh_mv)))
        nodes[W_EXC_INH] = nir.Linear(weight=np.eye(n) * i.w_exc_inh)
        nodes[INHIBITORY] = nir.CubaLIF(
            tau_syn=np.full(n, i.tau_ge_ms * ms), tau_mem=np.full(n, i.tau_m_ms * ms),
            r=drive_inh_pop * (i.tau_ge_ms * ms), v_leak=np.full(n, float(i.v_rest_mv)),
            v_threshold=np.full(n, float(i.v_thresh_mv)), v_reset=np.full(n, float(i.v_reset_mv)),
            w_in=np.ones(n),
            metadata={"refractory_s": i.refractory_ms * ms, "lockout_s": 0.0,
                      "note": "no refractory period in NIR: see docs/export.md"})
        # The relay's refractory period, which NIR lacks, as a self-connection: an inhibitory
        # spike (one step after its partner's, both in spikedyn and here) removes what is left
        # of the partner's input, (1 - dt/tau_ge) of it, so that it fires once per partner spike.
        nodes[W_INH_SELF] = nir.Linear(weight=np.eye(n) * (-i.w_exc_inh * (1.0 - t.dt_ms / i.tau_ge_ms)))
        nodes[W_INH_EXC] = nir.Linear(weight=np.where(off_diagonal, inh_per_spike[:, None], 0.0))
        edges += [(EXCITATORY, W_EXC_INH), (W_EXC_INH, INHIBITORY), (INHIBITORY, W_INH_SELF),
                  (W_INH_SELF, INHIBITORY), (INHIBITORY, W_INH_EXC), (W_INH_EXC, EXCITATORY)]
    nodes[OUTPUT] = nir.Output(output_type={"output": np.array([n])})
    edges += [(EXCITATORY, OUTPUT)]

    metadata = _metadata(config, seed, assignments, approximation, drive_e, drive_i, drive_inh_pop,
                         provenance or {})
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata)


def _metadata(config: NetworkConfig, seed: int, assignments, approximation: Approximation, drive_e, drive_i,
              drive_inh_pop, provenance: dict[str, Any]) -> dict[str, Any]:
    """The graph's metadata: flat (``nir.read`` reads one level), strings, numbers and arrays."""
    t, inp, e = config.timing, config.input, config.excitatory
    meta: dict[str, Any] = {
        "format": GRAPH_FORMAT,
        "format_version": GRAPH_FORMAT_VERSION,
        "spikedyn_version": __version__,
        "model": config.model,
        "n_neurons": config.n_neurons,
        "seed": int(seed),
        "config_json": config.to_json(),
        "units": "time s, potential mV; r in mV*s (r*I in mV); weights dimensionless",
        "spike_convention": ("a spike is a Dirac delta of unit area: through weight W it raises a CubaLIF's I "
                             "by W*w_in/tau_syn"),
        "dt_s": t.dt_ms * 1e-3,
        "present_s": t.present_ms * 1e-3,
        "input": (f"input i is a Poisson spike train of rate pixel_i * {inp.rate_hz_per_unit:g} Hz (pixel 0-255; "
                  f"times the image's gain, see input_normalisation) for present_s; spikedyn draws it as a Bernoulli "
                  f"process on the dt_s grid"),
        "input_rate_hz_per_unit": float(inp.rate_hz_per_unit),
        "input_retry_rate_hz_per_unit": float(inp.retry_rate_hz_per_unit),
        "input_min_spikes": int(inp.min_spikes),
        "input_max_presentations": int(inp.max_presentations),
        "input_normalise_mean_pixel": float(inp.normalise_mean_pixel),
        "input_max_gain": float(inp.max_gain),
        "input_normalisation": ("with input_normalise_mean_pixel m > 0, an image's base rate is multiplied by "
                                "g = clip(m / mean pixel, 1 / input_max_gain, input_max_gain) (1 for a blank "
                                "image); retries add pixel * input_retry_rate_hz_per_unit Hz unscaled"),
        "input_centre_surround": int(bool(inp.centre_surround)),
        "input_centre_sigma_px": float(inp.centre_sigma_px),
        "input_surround_sigma_px": float(inp.surround_sigma_px),
        "input_centre_surround_gain": float(inp.centre_surround_gain),
        "input_filter": ("with input_centre_surround 1, each square image is replaced, before its rates are "
                         "taken, by clip(round(gain * max(G_c * image - G_s * image, 0)), 0, 255): Gaussians of "
                         "input_centre_sigma_px and input_surround_sigma_px truncated at ceil(4 sigma) pixels, "
                         "zero outside the image, gain input_centre_surround_gain "
                         "(spikedyn.core.encoding.centre_surround)"),
        "input_protocol": ("when the output population fires fewer than input_min_spikes spikes, the image is "
                           "shown again from rest with the rate raised by pixel * input_retry_rate_hz_per_unit "
                           "Hz, at most input_max_presentations times; the last presentation's counts are the "
                           "response"),
        "readout": ("class = argmax over classes c of the mean spike count of the output neurons with "
                    "assignments == c (0 for a class without neurons; ties: highest class)"),
        "exc_scale": float(approximation.exc_scale),
        "inh_scale": float(approximation.inh_scale),
        "reset_offset": float(approximation.reset_offset),
        "exc_drive_mv": np.asarray(drive_e, dtype=np.float64),
        "inh_drive_mv": np.asarray(drive_i, dtype=np.float64),
        "approximations": ("conductance synapses as current synapses with driving forces frozen at exc_drive_mv "
                           "and inh_drive_mv; one synaptic time constant (tau_ge) with the inhibition's charge "
                           "kept; no refractory period or lock-out: the excitatory reset lowered by "
                           "reset_offset * (v_threshold - v_reset), the inhibitory relay's by a self-connection; "
                           "no clipping of v to [E_inh, E_exc]; see spikedyn docs/export.md"),
        "refractory_s_excitatory": e.refractory_ms * 1e-3,
        "lockout_s_excitatory": e.lockout_ms * 1e-3,
    }
    if drive_inh_pop is not None:
        meta["inhibitory_drive_mv"] = np.asarray(drive_inh_pop, dtype=np.float64)
        meta["refractory_s_inhibitory"] = config.inhibitory.refractory_ms * 1e-3
    if assignments is not None:
        meta["assignments"] = np.asarray(assignments, dtype=np.int64)
        meta["n_classes"] = int(max(10, int(np.max(assignments)) + 1))
    for key, value in provenance.items():
        if key in meta:
            raise ValueError(f"provenance key {key!r} clashes with the graph's metadata")
        meta[key] = value
    return meta


def graph_config(graph) -> NetworkConfig:
    """The spikedyn config recorded in a graph written by :func:`build_graph`."""
    check_format(graph)
    return NetworkConfig.from_saved(json.loads(_text(graph.metadata["config_json"])), source="graph metadata")


def check_format(graph) -> None:
    """Raise a ConfigError unless ``graph`` carries this module's format in its metadata."""
    meta = getattr(graph, "metadata", None) or {}
    if _text(meta.get("format")) != GRAPH_FORMAT:
        raise ConfigError("the graph was not written by spikedyn's NIR export (no 'format': "
                          f"'{GRAPH_FORMAT}' in its metadata); pass the spikedyn settings explicitly")
    version = int(meta.get("format_version", -1))
    if version != GRAPH_FORMAT_VERSION:
        raise ConfigError(f"the graph has spikedyn-nir format {version}, this spikedyn reads "
                          f"{GRAPH_FORMAT_VERSION}; export it again with this version")


def _text(value) -> str | None:
    """A metadata string as written (``nir.read`` may return bytes)."""
    if isinstance(value, bytes):
        return value.decode("utf8")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _text(value[()])
    return value
