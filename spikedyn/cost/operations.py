"""Operation counts: what a model does per sample, counted by the kernels or predicted.

Two views of the same work (definitions in ``docs/cost.md``):

*model operations*
    what the algorithm requires, whatever simulates it: every input spike is
    delivered to all N synapses of its row, every neuron is updated every step, the
    depression visits every synapse of a spiking input, a trace decays whether or
    not anyone reads it. A chip running the model does these; the energy model
    prices them.
*executed operations*
    what spikedyn's event-driven kernels actually do where they differ: the
    depression visits only the neurons whose trace is non-zero, an inhibitory
    neuron at rest is not updated, traces are evaluated only when read.

The kernels keep a few primitive counters (:data:`COUNTERS`), each taken once per step
or presentation at the call site from a quantity the time loop already has, never
inside a synapse loop (``spikedyn.simulation.loop._run_steps``); passing None instead of the
counter array turns them off, and the kernels are then compiled without them. The
rule's weight updates (done and skipped, per kind) are counted by the rules themselves
(:data:`spikedyn.core.traces.UPDATE_KINDS`). :func:`derive` turns
these primitives into the operations that the energy model prices, per sample; the
analytical model (:mod:`spikedyn.cost.estimate`) predicts the same primitives from the config
and the data's statistics, so both go through the same formulas.

NeuroBench terms (Yik et al., arXiv 2304.04640): ``synaptic_events_input`` is
spikedyn's count of synaptic operations as accumulates (ACs), counting every synapse of
a spiking input (a zero weight included: NeuroBench's *effective* ACs leave those out,
see ``zero_weight_fraction`` in :func:`sparsity`); ``dense_synaptic_ops`` are its dense
operations (every input times every weight, every step); activation sparsity is
:func:`sparsity`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..core.traces import UPDATE_KINDS
from ..errors import ConfigError

#: The kernels' primitive counters, in the order of their counter array.
COUNTERS = (
    "steps",                       # simulated steps (presentation and, when learning, rest)
    "input_spikes",                # input spikes delivered
    "excitatory_spikes",
    "competition_spikes",          # spikes of the competition's own population (inhibitory layer)
    "competition_neuron_updates",  # its neurons actually updated (those not at rest)
    "depression_visits",           # synapses the event-driven depression visited, while learning
    "presentations",
    "samples",
)
(C_STEPS, C_INPUT_SPIKES, C_EXC_SPIKES, C_COMPETITION_SPIKES, C_COMPETITION_UPDATES, C_DEPRESSION_VISITS,
 C_PRESENTATIONS, C_SAMPLES) = range(len(COUNTERS))

#: A tally: the counters followed by the rule's weight updates (:data:`UPDATE_KINDS`).
TALLY = COUNTERS + UPDATE_KINDS

#: The operations :func:`derive` returns and an energy table prices (``[costs]`` of its file).
OPERATIONS = (
    "synaptic_events_input",
    "synaptic_events_competition",
    "neuron_updates_excitatory",
    "neuron_updates_competition",
    "spikes",
    "threshold_updates",
    "trace_updates",
    "trace_reads",
    "weight_updates_potentiation",
    "weight_updates_depression",
    "weight_updates_skipped",
    "weight_updates_decay",
    "significance_updates",
    "normalisation_entries",
    "weight_reads",
    "weight_writes",
)
PHASES = ("train", "inference")


def new_counters(enabled: bool = True) -> np.ndarray | None:
    """A zeroed counter array for the kernels; None when ``enabled`` is false (nothing is counted, and
    the kernels are compiled without the counting code)."""
    return np.zeros(len(COUNTERS), np.int64) if enabled else None


def tally_dict(counters: np.ndarray | None, updates: np.ndarray | None = None) -> dict[str, int]:
    """The counters (and the rule's weight updates) as a ``{name: count}`` tally."""
    if counters is None:
        raise ConfigError("operation counting is off for this network; create it with count_operations=True")
    counters = np.asarray(counters)
    updates = np.zeros(len(UPDATE_KINDS), np.int64) if updates is None else np.asarray(updates)
    return {name: int(v) for name, v in zip(TALLY, np.concatenate([counters, updates]))}


def _phase(phase: str) -> bool:
    if phase not in PHASES:
        raise ConfigError(f"phase must be one of {', '.join(PHASES)}, got {phase!r}")
    return phase == "train"


def derive(config, tally: Mapping[str, float], phase: str) -> dict[str, dict[str, float]]:
    """Operations per sample, ``{operation: {"model": x, "executed": y}}``, from a tally.

    ``tally`` holds totals over ``tally["samples"]`` samples of one ``phase``
    (``"train"`` or ``"inference"``): kernel counters (:func:`tally_dict`) or the
    analytical model's predictions (:func:`spikedyn.cost.estimate.predict_tally`). Every formula
    is in ``docs/cost.md``; in short (N neurons, n inputs, per sample)::

        synaptic_events_input       = input_spikes * N
        synaptic_events_competition = exc_spikes * fan_out_exc + competition_spikes * fan_out_own
        neuron_updates_excitatory   = steps * N
        neuron_updates_competition  = steps * N_pop       (executed: neurons not at rest)
        threshold_updates           = steps * N + exc_spikes           (learning only)
        trace_updates               = input_spikes + 2 exc_spikes      (executed: one per spike)
        trace_reads                 = input_spikes * N + exc_spikes * (n + 1)
                                      (executed: depression_visits + exc_spikes * (n + 1))
        weight_reads                = synaptic_events_input + synaptic_events_competition
                                      + weight updates done (a skipped update is decided from the
                                      traces alone, before the weight is read)
                                      + 2 n N per normalisation + n N per scan after a presentation
                                      (executed: no competition weights, which spikedyn stores once,
                                      and every update computed)
        weight_writes               = weight updates done + n N per normalisation
                                      (executed: every update computed, every weight scanned)
    """
    from .. import models

    learn = _phase(phase)
    samples = float(tally.get("samples", 0))
    if samples <= 0:
        raise ConfigError("no samples were counted; train or evaluate at least one sample first")
    t = {k: float(tally.get(k, 0)) / samples for k in TALLY}
    model = models.get(config.model)
    n, n_in = config.n_neurons, config.n_input
    fan = model.competition.synapses_per_spike(config)
    pop = model.competition.population_size(config)
    profile = model.plasticity.operation_profile(config)

    steps, x_in, x_exc, x_comp = t["steps"], t["input_spikes"], t["excitatory_spikes"], t["competition_spikes"]
    syn_in = x_in * n
    syn_comp = x_exc * fan["excitatory"] + x_comp * fan["own"]
    ops = {
        "synaptic_events_input": (syn_in, syn_in),
        "synaptic_events_competition": (syn_comp, syn_comp),
        "neuron_updates_excitatory": (steps * n,) * 2,
        "neuron_updates_competition": (steps * pop, t["competition_neuron_updates"]),
        "spikes": (x_exc + x_comp,) * 2,
    }
    zero = (0.0, 0.0)
    if not learn:
        for name in OPERATIONS[5:]:
            ops[name] = zero
        ops["weight_reads"] = (syn_in + syn_comp, syn_in)
        return {k: {"model": ops[k][0], "executed": ops[k][1]} for k in OPERATIONS}

    pot_done, pot_skip = t["potentiation_done"], t["potentiation_skipped"]
    dep_done, dep_skip = t["depression_done"], t["depression_skipped"]
    depression = profile["depression"]
    if depression == "event-driven":
        dep_model, dep_exec = x_in * n, t["depression_visits"]
    elif depression == "delayed":
        dep_model = dep_exec = dep_done + dep_skip
    else:
        dep_model = dep_exec = 0.0
    pres = t["presentations"]
    norm = pres * n_in * n  # the normalisation reads each weight twice (sum, rescale) and writes it once
    scans = pres * n_in * n if profile["scans_weights"] else 0.0
    pot_reads = pot_done + pot_skip
    ops.update({
        "threshold_updates": (steps * n + x_exc,) * 2,
        "trace_updates": (x_in + 2 * x_exc, x_in + x_exc),
        "trace_reads": (dep_model + x_exc * (n_in + 1), dep_exec + x_exc * (n_in + 1)),
        "weight_updates_potentiation": (pot_done, pot_reads),
        "weight_updates_depression": (dep_done, dep_exec),
        "weight_updates_skipped": (pot_skip + dep_skip, 0.0),
        "weight_updates_decay": (t["decay"], scans if profile["scans_weights"] else t["decay"]),
        "significance_updates": (x_exc * profile["significance_per_spike"],) * 2,
        "normalisation_entries": (norm, norm),
        "weight_reads": (syn_in + syn_comp + pot_done + dep_done + 2 * norm + scans,
                         syn_in + pot_reads + dep_exec + 2 * norm + scans),
        "weight_writes": (pot_done + dep_done + t["decay"] + norm,
                          pot_reads + dep_exec + (scans if profile["scans_weights"] else t["decay"]) + norm),
    })
    return {k: {"model": ops[k][0], "executed": ops[k][1]} for k in OPERATIONS}


def sparsity(config, tally: Mapping[str, float], weights: np.ndarray | None = None) -> dict[str, Any]:
    """NeuroBench's activity measures for a tally: activation sparsity of the excitatory
    layer (``1 - spikes / (neurons * steps)``), of the input, dense synaptic operations per
    sample, and (given ``weights``) the fraction of zero weights."""
    samples = max(float(tally.get("samples", 0)), 1.0)
    steps = float(tally.get("steps", 0))
    input_steps = float(tally.get("presentations", 0)) * config.timing.present_steps
    out = {
        "activation_sparsity": 1.0 - float(tally.get("excitatory_spikes", 0)) / max(steps * config.n_neurons, 1.0),
        "input_sparsity": 1.0 - float(tally.get("input_spikes", 0)) / max(input_steps * config.n_input, 1.0),
        "dense_synaptic_ops": input_steps * config.n_input * config.n_neurons / samples,
    }
    if weights is not None:
        out["zero_weight_fraction"] = float(np.mean(np.asarray(weights) == 0.0))
    return out
