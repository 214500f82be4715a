"""The same computation costs the same energy, whatever the model is called (issue 19).

A model whose extra mechanisms are off computes what its base model computes: its weights
are bit-identical, and its counted and estimated energy agree with the base's within 1 %
in every view and on every energy table. The kernels do no work on an update whose
increment is exactly zero, and a skipped update is neither read nor written.
"""

from __future__ import annotations

import numpy as np
import pytest

import spikedyn
from spikedyn import cost, models
from spikedyn.cost.operations import VIEWS, derive
from spikedyn.cost.tables import builtin_tables

pytestmark = pytest.mark.mnist

#: model -> (its overrides with every extra mechanism off, the base model, the base's overrides)
SAME_COMPUTATION = {
    "spikedyn": ({"spikedyn__adaptive_rate": False, "spikedyn__adaptive_threshold": False,
                  "spikedyn__weight_decay": False, "spikedyn__skip_spurious": True, "spikedyn__min_update": 1e-100},
                 "lateral", {}),
    "asp": ({"asp__leak_rate": 0.0}, "diehl-cook", {}),
    "lateral-no-depression": ({}, "lateral", {"stdp__nu_pre": 0.0}),
    "metaplastic": ({"metaplastic__consolidate": False, "metaplastic__hold_threshold": False,
                     "metaplastic__decay_threshold": True, "metaplastic__tau_theta_ms": 1e7,
                     "metaplastic__recall_at_commit": False, "metaplastic__recall_gain": False}, "lateral", {}),
}


@pytest.fixture
def images(mnist_dir):
    x, _ = spikedyn.load_mnist("train", n=200, data_dir=mnist_dir)
    return x


def _trained(model: str, overrides: dict, images) -> spikedyn.Network:
    net = spikedyn.Network(spikedyn.NetworkConfig(model=model, n_neurons=40).replace(**overrides), seed=4)
    net.train(images[:150], progress=False)
    net.respond(images[150:], progress=False, n_jobs=1)
    return net


@pytest.mark.parametrize("model", sorted(SAME_COMPUTATION))
def test_identical_computation_costs_the_same_energy(model, images) -> None:
    off, base, base_overrides = SAME_COMPUTATION[model]
    a = _trained(model, off, images)
    b = _trained(base, base_overrides, images)
    assert np.array_equal(a.weights, b.weights) and np.array_equal(a.theta, b.theta)
    for table in builtin_tables():
        counted_a, counted_b = cost.counted(a, table), cost.counted(b, table)
        estimate_a = cost.estimate(a.config, table=table)
        estimate_b = cost.estimate(b.config, table=table)
        assert counted_a["memory_kb"] == counted_b["memory_kb"]
        for view in VIEWS:
            for phase in ("train", "infer"):
                for x, y in ((counted_a, counted_b), (estimate_a, estimate_b)):
                    ea, eb = x["energy_uj_by_view"][view][phase], y["energy_uj_by_view"][view][phase]
                    assert (ea is None) == (eb is None)
                    if ea is not None:
                        assert ea == pytest.approx(eb, rel=0.01), (table, view, phase)


@pytest.mark.filterwarnings("ignore")
def test_a_model_with_its_mechanisms_off_is_estimated_as_its_base() -> None:
    config = spikedyn.NetworkConfig(model="spikedyn", n_neurons=100)
    spk = models.get("spikedyn")
    assert spk.reduced(config) == "spikedyn"
    off = config.replace(spikedyn__adaptive_rate=False, spikedyn__adaptive_threshold=False,
                         spikedyn__weight_decay=False, spikedyn__skip_spurious=False)
    assert spk.reduced(off) == "lateral"
    assert spk.reduced(off.replace(spikedyn__adaptive_threshold=True)) == "spikedyn"
    asp = spikedyn.NetworkConfig(model="asp", n_neurons=100)
    assert models.get("asp").reduced(asp) == "diehl-cook"  # no leak by default
    assert models.get("asp").reduced(asp.replace(asp__leak_rate=0.001)) == "asp"
    assert cost.estimate(off)["activity"] == cost.estimate(off.replace(model="lateral"))["activity"]


def test_zero_updates_are_not_updates(images) -> None:
    """Diehl & Cook's rule reads and writes only weights whose increment is non-zero: the counted
    potentiations are the inputs with a non-zero trace at each spike, fewer than every input."""
    net = _trained("diehl-cook", {}, images)
    tally = net.operations("train")["tally"]
    assert 0 < tally["potentiation_done"] < tally["excitatory_spikes"] * net.config.n_input
    assert 0 < tally["depression_done"] <= tally["depression_visits"] < tally["input_spikes"] * net.config.n_neurons
    assert tally["potentiation_skipped"] == tally["depression_skipped"] == 0


def test_skipped_updates_are_priced_as_arithmetic_only(images) -> None:
    """SpikeDyn's skipped updates cost no weight access in the model or the executed view."""
    net = _trained("spikedyn", {"spikedyn__min_update": 0.5}, images)
    tally = net.operations("train")["tally"]
    assert tally["potentiation_skipped"] > 0 and tally["depression_skipped"] > 0
    ops = derive(net.config, tally, "train")
    done = (tally["potentiation_done"] + tally["depression_done"]) / tally["samples"]
    skipped = (tally["potentiation_skipped"] + tally["depression_skipped"]) / tally["samples"]
    for view in ("model", "executed"):
        assert ops["weight_updates_skipped"][view] == pytest.approx(skipped)
        assert ops["weight_updates_potentiation"][view] + ops["weight_updates_depression"][view] == pytest.approx(done)
        assert ops["weight_writes"][view] == pytest.approx(done + ops["weight_updates_decay"][view]
                                                           + ops["normalisation_entries"][view])


def test_dense_view_touches_every_synapse_and_neuron_every_step() -> None:
    config = spikedyn.NetworkConfig().replace(model="diehl-cook", n_neurons=10, n_input=20, stdp__weight_sum=2.0)
    tally = {"samples": 2, "steps": 2000, "input_spikes": 30, "excitatory_spikes": 8, "competition_spikes": 4,
             "competition_neuron_updates": 50, "presentations": 2, "depression_visits": 12,
             "potentiation_done": 40, "depression_done": 12}
    ops = derive(config, tally, "train")
    steps, n, n_in = 1000.0, 10, 20
    assert ops["synaptic_events_input"]["dense"] == steps * n_in * n
    assert ops["synaptic_events_competition"]["dense"] == steps * (n * 1 + n * (n - 1))
    assert ops["neuron_updates_competition"]["dense"] == steps * n
    assert ops["weight_updates_potentiation"]["dense"] == ops["weight_updates_depression"]["dense"] == steps * n_in * n
    assert ops["trace_updates"]["dense"] == steps * (n_in + 2 * n)
    infer = derive(config, tally, "inference")
    assert infer["weight_reads"]["dense"] == steps * n_in * n + steps * (n + n * (n - 1))


def test_the_novelty_drive_and_the_decorrelation_mean_are_priced() -> None:
    """The novelty gate's drive is a second synaptic event and weight read per delivered weight while learning,
    and a comparison per neuron and step; the decorrelation's mean reads up to every weight per presentation.
    Inference, where neither acts, costs the same."""
    base = spikedyn.NetworkConfig().replace(model="metaplastic", n_neurons=10, n_input=20, stdp__weight_sum=2.0)
    tally = {"samples": 2, "steps": 2000, "input_spikes": 30, "excitatory_spikes": 8, "presentations": 2,
             "depression_visits": 12, "potentiation_done": 40, "depression_done": 12, "decay": 6}
    steps, n, n_in, presentations, delivered = 1000.0, 10, 20, 1.0, 15.0 * 10
    plain = derive(base, tally, "train")
    gate = derive(base.replace(metaplastic__novelty=True), tally, "train")
    mean = derive(base.replace(metaplastic__decorrelate=True), tally, "train")

    def extra(ops, name, view):
        return ops[name][view] - plain[name][view]

    for view in ("model", "executed"):
        assert extra(gate, "synaptic_events_input", view) == extra(gate, "weight_reads", view) == delivered
        assert extra(gate, "threshold_updates", view) == steps * n
    assert extra(gate, "synaptic_events_input", "dense") == extra(gate, "weight_reads", "dense") == steps * n_in * n
    for view in VIEWS:
        assert extra(mean, "weight_reads", view) == presentations * n_in * n
        assert all(extra(mean, name, view) == 0 for name in plain if name != "weight_reads")
    for config in (base.replace(metaplastic__novelty=True), base.replace(metaplastic__decorrelate=True)):
        assert derive(config, tally, "inference") == derive(base, tally, "inference")
