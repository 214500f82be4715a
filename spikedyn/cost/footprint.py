"""Memory footprint of a network: bytes of every array the model needs, at a given precision.

The footprint is what a device must store to run a model (NeuroBench's "footprint":
parameters and buffers; Yik et al., arXiv 2304.04640), counted from the config alone,
before anything is trained. It is broken down by component:

=====================  ==========================================================  ==============
component              entries                                                     bits each
=====================  ==========================================================  ==============
``weights``            input -> excitatory weights, ``n_input * N``                ``weight_bits``
``competition``        inhibitory layer: excitatory i -> inhibitory i (``N``) and   ``weight_bits``
                       inhibitory i -> excitatory j != i (``N (N - 1)``); direct
                       lateral inhibition: excitatory i -> j != i (``N (N - 1)``)
``neuron_state``       excitatory ``v, ge, gi`` (``3 N``); the inhibitory layer's   ``state_bits``
                       ``v, ge`` (``2 N``)
``thresholds``         adaptive threshold ``theta`` (``N``)                          ``state_bits``
``traces``             STDP traces: ``pre`` (``n_input``; per synapse, ``n_input     ``state_bits``
                       * N``, with delays), ``post1, post2`` (``2 N``)
``rule_state``         SpikeDyn: activity and rate factor (``2 N``); ASP:            ``state_bits``
                       significance (``n_input * N``)
``delays``             with synaptic delays: each synapse's delay (``n_input * N``)  8
``spike_buffers``      one bit per input and per neuron for the step's spikes       1
=====================  ==========================================================  ==============

The competition is counted per connection, as the papers count it (SpikeDyn's direct
lateral inhibition removes the N inhibitory neurons and one of the two N (N - 1)-sized
connection sets); spikedyn's kernels store the uniform strength once, so this is the
model's memory, not spikedyn's. Refractory counters and the simulator's scratch space
are not part of the model and are not counted. Each part says what it stores (``footprint_entries`` of the
competition and plasticity parts); this module prices the entries.
"""

from __future__ import annotations

from ..config import NetworkConfig
from ..core.params import WEIGHT_BITS
from ..errors import ConfigError


def _bits(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in WEIGHT_BITS:
        raise ConfigError(f"{name} must be one of {', '.join(map(str, WEIGHT_BITS))}, got {value!r}")
    return value


def _bytes(entries: int, bits: int) -> int:
    return -(-entries * bits // 8)  # whole bytes, rounded up


def footprint_bytes(config: NetworkConfig, *, weight_bits: int | None = None, state_bits: int = 32) -> dict[str, int]:
    """Bytes of each component of ``config``'s model (see the module docstring) and their ``total``;
    ``weight_bits`` defaults to the config's (``precision.weight_bits``)."""
    from .. import models

    if not isinstance(config, NetworkConfig):
        raise ConfigError(f"config must be a spikedyn.NetworkConfig, got {type(config).__name__}")
    wb = config.precision.weight_bits if weight_bits is None else _bits("weight_bits", weight_bits)
    sb = _bits("state_bits", state_bits)
    model = models.get(config.model)
    n, n_in = config.n_neurons, config.n_input
    comp = model.competition.footprint_entries(config)
    rule = model.plasticity.footprint_entries(config)
    out = {
        "weights": _bytes(n_in * n, wb),
        "competition": _bytes(comp["connections"], wb),
        "neuron_state": _bytes(3 * n + comp["neuron_state"], sb),
        "thresholds": _bytes(n, sb),
        "traces": _bytes(rule["pre_traces"] + 2 * n, sb),
        "delays": _bytes(rule["delays"], 8),  # 0-19 steps: one byte each
        "rule_state": _bytes(rule["rule_state"], sb),
        "spike_buffers": _bytes(n_in + n + comp["neurons"], 1),
    }
    out["total"] = sum(out.values())
    return out


def layered_footprint_bytes(sizes, *, kind: str, weight_bits: int = 32, state_bits: int = 32) -> dict[str, int]:
    """Bytes a device stores to run a layered network of ``sizes = (n_0, n_1, ..., n_L)``.

    ``weights`` (``sum n_{l-1} n_l``) and ``biases`` (``sum_{l>=1} n_l``) at ``weight_bits``; an SNN
    (``kind="snn"``) adds ``neuron_state``, one membrane per neuron at ``state_bits``, and
    ``spike_buffers``, one bit per input and neuron; an ANN (``kind="ann"``) adds ``activations``,
    every layer's activations (the input's included) at ``state_bits``.
    """
    if kind not in ("snn", "ann"):
        raise ConfigError(f"kind must be 'snn' or 'ann', got {kind!r}")
    wb, sb = _bits("weight_bits", weight_bits), _bits("state_bits", state_bits)
    n = [int(s) for s in sizes]
    out = {"weights": _bytes(sum(a * b for a, b in zip(n[:-1], n[1:])), wb), "biases": _bytes(sum(n[1:]), wb)}
    if kind == "snn":
        out["neuron_state"] = _bytes(sum(n[1:]), sb)
        out["spike_buffers"] = _bytes(sum(n), 1)
    else:
        out["activations"] = _bytes(sum(n), sb)
    out["total"] = sum(out.values())
    return out
