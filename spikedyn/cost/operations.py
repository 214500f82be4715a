"""Operation counts: what a model does per sample, counted by the kernels or predicted.

Three views of the same work (definitions in ``docs/cost.md``):

*model operations*
    what the algorithm requires, whatever simulates it: every input spike is
    delivered to all N synapses of its row, every neuron is updated every step, a
    trace decays whether or not anyone reads it, and every weight update the rule
    makes is a weight read, modified and written. A chip running the model does
    these; the energy model prices them.
*executed operations*
    what spikedyn's event-driven kernels actually do where they differ: an
    inhibitory neuron at rest is not updated, traces are evaluated only when read,
    competition weights are not read (spikedyn stores them once).
*dense operations*
    what a clock-driven simulator does (a GPU stepping the model as matrices): every
    synapse and every neuron, the competition's included, every time step.

In every view a weight update is a weight read, modified and written; an update whose
increment is exactly zero is none, whichever model computes it (the kernels do not
touch it either), and an update a rule skips is priced as the arithmetic that decided
it, never as a memory access: the same computation costs the same energy, whatever the
model is called.

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
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.traces import UPDATE_KINDS
from ..errors import ConfigError

if TYPE_CHECKING:  # for the annotations only
    from ..config import NetworkConfig

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
    # the layered networks' own operations (:func:`derive_layered`, :func:`derive_ann`), and macs also the
    # STDP networks' input filter (:func:`input_filter_macs`); a table's [costs] may leave them out
    "neuron_updates_if",
    "neuron_updates_lif",
    "macs",
    "train_macs",
)
#: Operations of the layered networks (``macs`` also of an STDP network's centre-surround filter): an energy
#: table written before they existed may lack them, and is then refused only when asked to price a non-zero count.
OPTIONAL_OPERATIONS = ("neuron_updates_if", "neuron_updates_lif", "macs", "train_macs")
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


#: The views an operation count can be priced in (``docs/cost.md``).
VIEWS = ("model", "executed", "dense")


def derive(config: NetworkConfig, tally: Mapping[str, float], phase: str) -> dict[str, dict[str, float]]:
    """Operations per sample, ``{operation: {"model": x, "executed": y, "dense": z}}``, from a tally.

    ``tally`` holds totals over ``tally["samples"]`` samples of one ``phase``
    (``"train"`` or ``"inference"``): kernel counters (:func:`tally_dict`) or the
    analytical model's predictions (:func:`spikedyn.cost.activity.predict_tally`). Every formula
    is in ``docs/cost.md``. The accounting depends on what is computed, never on which
    model computes it: a weight update is a weight read, modified and written; an update
    whose increment is exactly zero (a trace that is exactly 0) is no update in any view;
    an update a rule decides not to make (SpikeDyn's spurious ones) is *skipped*: its
    increment is computed and compared, the weight is neither read nor written.
    In short (N neurons, n inputs, per sample; ``done``/``skipped`` are the rule's counts)::

        synaptic_events_input       = input_spikes * N   (learning: twice, for a rule whose neurons also
                                      accumulate a drive, ``drive_accumulates``: metaplastic.novelty)
        synaptic_events_competition = exc_spikes * fan_out_exc + competition_spikes * fan_out_own
        neuron_updates_excitatory   = steps * N
        neuron_updates_competition  = steps * N_pop       (executed: neurons not at rest)
        threshold_updates           = steps * N + exc_spikes           (learning only)
                                      + a N per presentation for a rule that updates a per-neuron
                                      state after each presentation (``neuron_state_updates`` = a:
                                      stdp-recall 2, stdp-spikedyn and stdp-metaplastic 1-5);
                                      + steps * N for a rule that compares the drives every step
                                      inference: steps * N for a rule whose neurons answer with an
                                      input gain (``inference_gains``: metaplastic.recall_gain,
                                      metaplastic.recall_committed_only)
        trace_updates               = input_spikes + 2 exc_spikes      (executed: one per spike)
        trace_reads                 = input_spikes * N + exc_spikes * (n + 1)
                                      (executed: depression_visits + exc_spikes * (n + 1))
        weight_updates_*            = the updates done, per kind; weight_updates_skipped the skipped ones
        weight_reads                = synaptic_events_input + synaptic_events_competition
                                      + weight updates done + 2 n N per normalisation
                                      + n N per scan after a presentation (decay, leak) and per
                                      average over the neurons (``averages_weights``: metaplastic.decorrelate)
                                      + input_spikes * N for the drive (learning, ``drive_accumulates``)
                                      (executed: no competition weights, which spikedyn stores once)
        weight_writes               = weight updates done + decayed weights + n N per normalisation
        macs                        = the centre-surround filter's, per sample (:func:`input_filter_macs`;
                                      0 without it), in every view

    The *dense* view is a clock-driven simulator's (a GPU running the model as matrices):
    every synapse and every neuron, the competition's included, is touched every step of
    the sample (``steps`` = presentation and, while learning, rest steps)::

        synaptic_events_input       = steps * n * N          (one multiply-accumulate a synapse a step)
        synaptic_events_competition = steps * (N * fan_out_exc + N_pop * fan_out_own)
        neuron_updates_*            = steps * N, steps * N_pop
        trace_updates               = steps * (n + 2 N)      (+ steps * n * N for per-synapse traces)
        trace_reads                 = learning: steps * n * N per pathway
        weight_updates_potentiation = steps * n * N; weight_updates_depression = steps * n * N (if the rule
                                      depresses); significance_updates = steps * n * N (if the rule keeps one)
        weight_reads, weight_writes = the above, plus normalisation and scans as in the model view
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
    dense_syn = steps * n_in * n
    dense_comp = steps * (n * fan["excitatory"] + pop * fan["own"])
    # a drive accumulated beside the delivery while learning: a second synaptic event (and weight read) per
    # delivered weight, and the drives compared every step; dense: a second matrix product every step
    accumulates = learn and bool(profile["drive_accumulates"])
    drive, dense_drive, compare = (syn_in, dense_syn, steps * n) if accumulates else (0.0, 0.0, 0.0)
    ops = {
        "synaptic_events_input": (syn_in + drive, syn_in + drive, dense_syn + dense_drive),
        "synaptic_events_competition": (syn_comp, syn_comp, dense_comp),
        "neuron_updates_excitatory": (steps * n,) * 3,
        "neuron_updates_competition": (steps * pop, t["competition_neuron_updates"], steps * pop),
        "spikes": (x_exc + x_comp,) * 3,
    }
    zero = (0.0, 0.0, 0.0)
    for name in OPTIONAL_OPERATIONS:
        ops[name] = zero
    ops["macs"] = (input_filter_macs(config),) * 3  # once per sample, in every view and phase
    if not learn:
        for name in OPERATIONS[5:]:
            if name in OPTIONAL_OPERATIONS:
                continue
            ops[name] = zero
        ops["weight_reads"] = (syn_in + syn_comp, syn_in, dense_syn + dense_comp)
        if profile["inference_gains"]:  # each neuron's input times its gain, every step
            ops["threshold_updates"] = (steps * n,) * 3
        return {k: dict(zip(VIEWS, ops[k])) for k in OPERATIONS}

    pot_done, pot_skip = t["potentiation_done"], t["potentiation_skipped"]
    dep_done, dep_skip = t["depression_done"], t["depression_skipped"]
    depresses = profile["depression"] != "none"
    dep_reads = x_in * n if depresses else 0.0
    dep_exec = t["depression_visits"] if profile["depression"] == "event-driven" else dep_done + dep_skip
    pres = t["presentations"]
    norm = pres * n_in * n  # the normalisation reads each weight twice (sum, rescale) and writes it once
    scans = pres * n_in * n * (int(profile["scans_weights"]) + int(profile["averages_weights"]))
    decay = t["decay"]
    done = pot_done + dep_done
    # dense: every synapse's STDP terms every step; per-synapse traces and significance every step
    pathways = 2.0 if depresses else 1.0
    dense_learn = steps * n_in * n * pathways
    dense_traces = steps * (n_in + 2 * n) + (steps * n_in * n if profile["per_synapse_traces"] else 0.0)
    dense_sig = steps * n_in * n if profile["significance_per_spike"] else 0.0
    ops.update({
        "threshold_updates": (steps * n + x_exc + pres * n * profile["neuron_state_updates"] + compare,) * 3,
        "trace_updates": (x_in + 2 * x_exc, x_in + x_exc, dense_traces),
        "trace_reads": (dep_reads + x_exc * (n_in + 1), dep_exec + x_exc * (n_in + 1), dense_learn),
        "weight_updates_potentiation": (pot_done, pot_done, steps * n_in * n),
        "weight_updates_depression": (dep_done, dep_done, steps * n_in * n if depresses else 0.0),
        "weight_updates_skipped": (pot_skip + dep_skip, pot_skip + dep_skip, 0.0),
        "weight_updates_decay": (decay, decay, decay),
        "significance_updates": (x_exc * profile["significance_per_spike"],) * 2 + (dense_sig,),
        "normalisation_entries": (norm, norm, norm),
        "weight_reads": (syn_in + drive + syn_comp + done + 2 * norm + scans,
                         syn_in + drive + done + 2 * norm + scans,
                         dense_syn + dense_drive + dense_comp + dense_learn + 2 * norm + scans),
        "weight_writes": (done + decay + norm, done + decay + norm, dense_learn + decay + norm),
    })
    return {k: dict(zip(VIEWS, ops[k])) for k in OPERATIONS}


def input_filter_macs(config) -> float:
    """Multiply-accumulates per sample of the input's centre-surround filter (``input.centre_surround``;
    0 when it is off): :func:`spikedyn.core.encoding.centre_surround_macs`. The filter runs once per
    image, whatever the number of presentations; its taps (a few dozen constants) are not weights."""
    from ..core.encoding import centre_surround_macs

    i = config.input
    if not i.centre_surround:
        return 0.0
    return float(centre_surround_macs(config.n_input, i.centre_sigma_px, i.surround_sigma_px))


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


# -- layered networks: converted and surrogate-trained SNNs, and ANNs ----------------------------
#: The layered SNN kernel's counters per sample (:mod:`spikedyn.feedforward.kernels`), in the order of
#: its counter array.
LAYERED_COUNTERS = (
    "steps",            # simulated steps
    "input_spikes",     # Poisson input spikes (0 with constant-current input)
    "spikes",           # spikes of the network's own neurons (hidden and output layers)
    "synaptic_events",  # accumulates: a spike (input or neuron) times its fan-out
    "neuron_updates",   # neurons x steps (every layer, the output included)
    "input_macs",       # multiply-accumulates of the constant input current, once per sample
)
NEURONS = ("if", "lif")


def _layered(values: Mapping[str, tuple[float, float, float]]) -> dict[str, dict[str, float]]:
    """Every operation of :data:`OPERATIONS` in every view, those not in ``values`` 0."""
    zero = (0.0, 0.0, 0.0)
    return {op: dict(zip(VIEWS, (float(x) for x in values.get(op, zero)))) for op in OPERATIONS}


def _sizes(sizes) -> list[int]:
    out = [int(s) for s in sizes]
    if len(out) < 2 or any(s < 1 for s in out):
        raise ConfigError(f"layer sizes must be at least two positive integers (input, ..., output), got {sizes!r}")
    return out


def derive_layered(sizes, tally: Mapping[str, float], *, neuron: str, poisson: bool = False
                   ) -> dict[str, dict[str, float]]:
    """Operations per sample of a layered SNN of ``sizes = (n_0, n_1, ..., n_L)`` from its kernel's
    tally (means per sample of :data:`LAYERED_COUNTERS`), ``{operation: {view: count}}``.

    The kernel is event-driven and does what the model requires, so the model and executed
    views are the same; the dense view is a clock-driven simulator's, every synapse every step::

        synaptic_events_input = synaptic_events         (an input or neuron spike times its fan-out: v += w)
                                dense: T sum_{l>=2} n_{l-1} n_l  (+ T n_0 n_1 with Poisson input)
        neuron_updates_<neuron> = T sum_l n_l            (every neuron every step, the output included)
        spikes                = spikes of the network's neurons
        macs                  = n_0 n_1 with constant-current input (W_1^T x once per sample)
                                dense: T n_0 n_1 (the input current computed every step)
        weight_reads          = synaptic_events_input + macs
    """
    if neuron not in NEURONS:
        raise ConfigError(f"neuron must be one of {', '.join(NEURONS)}, got {neuron!r}")
    n = _sizes(sizes)
    t = {k: float(tally.get(k, 0.0)) for k in LAYERED_COUNTERS}
    steps = t["steps"]
    hidden_synapses = float(sum(a * b for a, b in zip(n[1:-1], n[2:])))
    first = float(n[0] * n[1])
    events, macs = t["synaptic_events"], t["input_macs"]
    dense_events = steps * hidden_synapses + (steps * first if poisson else 0.0)
    dense_macs = 0.0 if poisson else steps * first
    return _layered({
        "synaptic_events_input": (events, events, dense_events),
        f"neuron_updates_{neuron}": (t["neuron_updates"],) * 3,
        "spikes": (t["spikes"],) * 3,
        "macs": (macs, macs, dense_macs),
        "weight_reads": (events + macs, events + macs, dense_events + dense_macs),
    })


def predict_layered_tally(sizes, timesteps: int, spike_rates, *, poisson: bool = False, input_spikes: float = 0.0,
                          spiking_output: bool = True) -> dict[str, float]:
    """The kernel's tally per sample of a layered SNN predicted before it is trained (what a search
    prunes with): ``spike_rates[l]`` is layer ``l + 1``'s spikes per neuron and step (measured on a
    similar network, or an assumed bound), ``input_spikes`` the Poisson input's spikes per sample.
    The formulas are those the kernel counts, so measured rates reproduce its counts::

        spikes          = T sum_l r_l n_l                       (spiking layers)
        synaptic_events = input_spikes n_1 + T sum_{l<L} r_l n_l n_{l+1}
        neuron_updates  = T sum_l n_l;      input_macs = n_0 n_1 (constant-current input)
    """
    n = _sizes(sizes)
    if len(spike_rates) != len(n) - 1:
        raise ConfigError(f"need one spike rate per layer ({len(n) - 1}), got {len(spike_rates)}")
    rates = [float(r) if (l < len(n) - 2 or spiking_output) else 0.0 for l, r in enumerate(spike_rates)]
    t = float(timesteps)
    return {"samples": 1.0, "steps": t, "input_spikes": float(input_spikes) if poisson else 0.0,
            "spikes": sum(t * r * m for r, m in zip(rates, n[1:])),
            "synaptic_events": (float(input_spikes) * n[1] if poisson else 0.0)
            + sum(t * r * m * m2 for r, m, m2 in zip(rates[:-1], n[1:-1], n[2:])),
            "neuron_updates": t * sum(n[1:]), "input_macs": 0.0 if poisson else float(n[0] * n[1])}


def ann_macs(sizes) -> int:
    """Multiply-accumulates of one dense ANN inference, ``sum_l (n_{l-1} + 1) n_l`` (a bias is a weight
    on a constant input; ReLU comparisons are not counted)."""
    n = _sizes(sizes)
    return int(sum((a + 1) * b for a, b in zip(n[:-1], n[1:])))


def derive_ann(sizes) -> dict[str, dict[str, float]]:
    """Operations of one dense ANN inference: every MAC with its weight read, in every view (an ANN
    is dense: its dense view is its MACs)."""
    m = float(ann_macs(sizes))
    return _layered({"macs": (m,) * 3, "weight_reads": (m,) * 3})


def training_macs(sizes, timesteps: int = 1) -> int:
    """Multiply-accumulates of one training sample of a layered network trained by backpropagation
    (through time, over ``timesteps`` steps; 1 for an ANN), as dense matrix products execute them:
    forward ``F = n_0 n_1 + T sum_{l=2..L} n_{l-1} n_l + n_L n_out`` (the first layer's input is
    constant: one product), backward a weight gradient for every product and an input gradient for
    all but the first, ``3 F - n_0 n_1``. Element-wise work, normalisation and the optimiser are
    not counted."""
    n = _sizes(sizes)
    if len(n) < 3:
        f = n[0] * n[1]
    else:
        f = n[0] * n[1] + int(timesteps) * sum(a * b for a, b in zip(n[1:-2], n[2:-1])) + n[-2] * n[-1]
    return int(3 * f - n[0] * n[1])


def derive_training(train_macs: float) -> dict[str, dict[str, float]]:
    """Operations of one training sample of a network trained by dense matrix products (BPTT): the
    MACs executed (:func:`spikedyn.surrogate.training_macs`), each with a weight read, in every view."""
    m = float(train_macs)
    if not m >= 0:
        raise ConfigError(f"train_macs must be a number >= 0, got {train_macs!r}")
    return _layered({"train_macs": (m,) * 3, "weight_reads": (m,) * 3})
