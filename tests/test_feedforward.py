"""The layered SNN kernel (spikedyn.feedforward) against a naive NumPy simulation and analytic
cases; its operation counters; the pricing of its operations; the source hash."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import numpy as np
import pytest

from helpers import one_line
from spikedyn import cost
from spikedyn.cost.operations import OPERATIONS, OPTIONAL_OPERATIONS, predict_layered_tally
from spikedyn.cost.tables import builtin_tables, load_energy_table, parse_table
from spikedyn.errors import ConfigError
from spikedyn.feedforward import COUNTERS, LayeredSNN, simulate

M64 = (1 << 64) - 1


def _mix(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def naive_uniform(seed: int, sample: int, step: int, unit: int) -> float:
    """The kernel's counter-based draw, in plain Python integers."""
    z = (seed * 0x9E3779B97F4A7C15) & M64
    for word in (sample, step, unit):
        z = _mix(((z ^ word) + 0x9E3779B97F4A7C15) & M64)
    return (z >> 11) / 2.0 ** 53


def naive_simulate(net: LayeredSNN, x: np.ndarray, steps: int, poisson: bool = False, rate: float = 1.0,
                   seed: int = 0):
    """Dense, step by step, one sample at a time: output counts and membrane, layer spikes, counters."""
    counts, membranes, layers, ops = [], [], [], []
    for s, xs in enumerate(x):
        v = [np.full(w.shape[1], net.v_init) for w in net.weights]
        c = np.zeros(len(net.weights[-1][0]), np.int64)
        spikes = np.zeros(len(net.weights) + 1, np.int64)
        events = 0
        for t in range(steps):
            if poisson:
                inp = np.array([naive_uniform(seed, s, t, i) < xi * rate if xi * rate > 0 else False
                                for i, xi in enumerate(xs)], float)
                spikes[0] += int(inp.sum())
                events += int(inp.sum()) * net.weights[0].shape[1]
            else:
                inp = xs
            for l, (w, b) in enumerate(zip(net.weights, net.biases)):
                v[l] = net.betas[l] * v[l] + inp @ w + b
                fired = (v[l] >= net.threshold) if net.spiking[l] else np.zeros_like(v[l], bool)
                v[l] = v[l] - net.threshold * fired
                spikes[l + 1] += fired.sum()
                if l + 1 < len(net.weights):
                    events += int(fired.sum()) * net.weights[l + 1].shape[1]
                inp = fired.astype(float)
            c += inp.astype(np.int64)
        counts.append(c)
        membranes.append(v[-1])
        layers.append(spikes)
        n_neurons = sum(w.shape[1] for w in net.weights)
        ops.append([steps, spikes[0], spikes[1:].sum(), events, steps * n_neurons,
                    0 if poisson else x.shape[1] * net.weights[0].shape[1]])
    return np.array(counts), np.array(membranes), np.array(layers), np.array(ops)


def random_net(rng, sizes=(6, 5, 4, 3), beta=1.0, output_spiking=True, v_init=0.0) -> LayeredSNN:
    ws = [rng.normal(0.3, 0.6, (a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    bs = [rng.normal(0.0, 0.1, b) for b in sizes[1:]]
    n = len(ws)
    return LayeredSNN(ws, bs, (beta,) * n, (True,) * (n - 1) + (output_spiking,), threshold=1.0, v_init=v_init)


@pytest.mark.parametrize("beta,output_spiking,v_init", [(1.0, True, 0.0), (0.9, False, 0.0), (1.0, True, 0.5)])
def test_kernel_matches_naive_constant_input(beta, output_spiking, v_init):
    rng = np.random.default_rng(1)
    net = random_net(rng, beta=beta, output_spiking=output_spiking, v_init=v_init)
    x = rng.uniform(-0.5, 1.0, (7, 6))
    sim = simulate(net, x, timesteps=30)
    counts, membrane, layers, ops = naive_simulate(net, x, 30)
    np.testing.assert_array_equal(sim.counts[:, -1], counts)
    np.testing.assert_allclose(sim.membrane[:, -1], membrane, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(sim.layer_spikes, layers)
    np.testing.assert_array_equal(sim.ops[:, -1], ops)


def test_kernel_matches_naive_poisson_input():
    rng = np.random.default_rng(2)
    net = random_net(rng)
    x = rng.uniform(0.0, 1.0, (4, 6)) * (rng.random((4, 6)) < 0.7)
    sim = simulate(net, x, timesteps=25, input="poisson", rate=0.8, seed=11)
    counts, membrane, layers, ops = naive_simulate(net, x, 25, poisson=True, rate=0.8, seed=11)
    np.testing.assert_array_equal(sim.counts[:, -1], counts)
    np.testing.assert_allclose(sim.membrane[:, -1], membrane, atol=1e-9)
    np.testing.assert_array_equal(sim.layer_spikes, layers)
    np.testing.assert_array_equal(sim.ops[:, -1], ops)


@pytest.mark.parametrize("current", [0.25, 0.375, 0.5, 0.75, 0.0625])
@pytest.mark.parametrize("v_init", [0.0, 0.5])
def test_if_neuron_analytic(current, v_init):
    """An IF neuron (threshold 1, reset by subtraction) with constant input I fires floor(T I + v0) times
    in T steps and keeps T I + v0 - count in its membrane (dyadic I: exact in floating point)."""
    net = LayeredSNN((np.eye(1),), (np.zeros(1),), (1.0,), (True,), v_init=v_init)
    sim = simulate(net, np.array([[current]]), timesteps=64, record_at=[1, 7, 16, 33])
    for r, t in enumerate(sim.record_at):
        assert sim.counts[0, r, 0] == math.floor(t * current + v_init)
        assert sim.membrane[0, r, 0] == pytest.approx(t * current + v_init - sim.counts[0, r, 0], abs=1e-12)


def test_lif_integrator_analytic():
    """A non-spiking leaky layer with constant input I holds I (1 - beta^T) / (1 - beta) after T steps."""
    beta, current = 0.9, 0.3
    net = LayeredSNN((np.eye(1),), (np.zeros(1),), (beta,), (False,))
    sim = simulate(net, np.array([[current]]), timesteps=10, record_at=[3])
    for r, t in enumerate(sim.record_at):
        assert sim.membrane[0, r, 0] == pytest.approx(current * (1 - beta ** t) / (1 - beta), rel=1e-12)
        assert sim.counts[0, r, 0] == 0


def test_recording_is_a_prefix_of_the_run_and_threads_do_not_matter():
    rng = np.random.default_rng(3)
    net = random_net(rng, sizes=(6, 8, 3))
    x = rng.uniform(0, 1, (70, 6))  # 70 samples: the parallel path
    long = simulate(net, x, timesteps=20, record_at=[10], input="poisson", seed=5)
    short = simulate(net, x[:5], timesteps=10, input="poisson", seed=5)  # the serial path
    np.testing.assert_array_equal(long.counts[:5, 0], short.counts[:, -1])
    np.testing.assert_array_equal(long.ops[:5, 0], short.ops[:, -1])
    offset = simulate(net, x[5:9], timesteps=20, input="poisson", seed=5, sample_offset=5)
    np.testing.assert_array_equal(long.counts[5:9, -1], offset.counts[:, -1])


def test_same_seed_same_result_other_seed_other_draws():
    rng = np.random.default_rng(4)
    net = random_net(rng)
    x = rng.uniform(0, 1, (5, 6))
    a = simulate(net, x, timesteps=30, input="poisson", seed=1)
    b = simulate(net, x, timesteps=30, input="poisson", seed=1)
    c = simulate(net, x, timesteps=30, input="poisson", seed=2)
    np.testing.assert_array_equal(a.layer_spikes, b.layer_spikes)
    assert not np.array_equal(a.layer_spikes, c.layer_spikes)


@pytest.mark.parametrize("kwargs,words", [
    ({"timesteps": 0}, "timesteps must be an integer >= 1"),
    ({"timesteps": 5, "input": "rate"}, "input must be one of"),
    ({"timesteps": 5, "record_at": [9]}, "record_at"),
    ({"timesteps": 5, "input": "poisson", "rate": 1.5}, "rate must be in (0, 1]"),
])
def test_bad_simulation_arguments(kwargs, words):
    net = LayeredSNN((np.eye(2),), (np.zeros(2),), (1.0,), (True,))
    with pytest.raises(ConfigError) as err:
        simulate(net, np.zeros((1, 2)), **kwargs)
    assert words in one_line(err)


def _model(ops, view="model"):
    return {op: v[view] for op, v in ops.items() if v[view]}


def test_tally_and_operations_in_three_views():
    net = LayeredSNN((np.full((2, 3), 0.5), np.full((3, 2), 0.25)), (np.zeros(3), np.zeros(2)), (1.0, 1.0),
                     (True, True))
    sim = simulate(net, np.array([[1.0, 1.0], [0.0, 1.0]]), timesteps=4)
    t = sim.tally()
    assert t["samples"] == 2 and t["steps"] == 4 and t["neuron_updates"] == 4 * 5 and t["input_macs"] == 6
    # sample 0: hidden current 1 per step -> 3 spikes per step -> 12 hidden spikes, 12 * 2 events
    # sample 1: hidden current 0.5 -> 2 steps of 3 spikes -> 6 spikes, 6 * 2 events
    assert t["synaptic_events"] == (24 + 12) / 2
    ops = cost.derive_layered((2, 3, 2), t, neuron="if")
    assert set(ops) == set(OPERATIONS)
    assert _model(ops) == _model(ops, "executed") == {
        "synaptic_events_input": 18.0, "neuron_updates_if": 20.0, "spikes": t["spikes"], "macs": 6.0,
        "weight_reads": 24.0}
    # dense: every synapse every step: 4 steps x 3 x 2 hidden synapses, the input current 4 x 2 x 3 MACs
    assert _model(ops, "dense") == {"synaptic_events_input": 24.0, "neuron_updates_if": 20.0, "spikes": t["spikes"],
                                    "macs": 24.0, "weight_reads": 48.0}
    poisson = cost.derive_layered((2, 3, 2), {**t, "input_macs": 0.0}, neuron="lif", poisson=True)
    assert poisson["synaptic_events_input"]["dense"] == 4 * (6 + 6) and poisson["macs"]["dense"] == 0.0
    assert poisson["neuron_updates_lif"]["model"] == 20.0 and poisson["neuron_updates_if"]["model"] == 0.0


def test_ann_and_training_operations():
    assert cost.operations.ann_macs((784, 500, 10)) == 785 * 500 + 501 * 10
    ann = cost.derive_ann((2, 3, 2))
    assert {op: v for op, v in ann.items() if v["model"]} == {
        "macs": {"model": 17.0, "executed": 17.0, "dense": 17.0},
        "weight_reads": {"model": 17.0, "executed": 17.0, "dense": 17.0}}
    # sizes 784-256-256-10, T = 10: forward 784*256 + 10*256*256 + 256*10; backward twice that less 784*256
    f = 784 * 256 + 10 * 256 * 256 + 256 * 10
    assert cost.training_macs((784, 256, 256, 10), 10) == 3 * f - 784 * 256
    assert cost.training_macs((784, 500, 10), 1) == 3 * (784 * 500 + 500 * 10) - 784 * 500
    assert cost.derive_training(7.0)["train_macs"]["dense"] == 7.0


def test_energy_by_hand_on_45nm_loihi_and_truenorth():
    sizes = (2, 3, 2)
    fp = cost.layered_footprint_bytes(sizes, kind="snn")
    assert fp == {"weights": (6 + 6) * 4, "biases": 5 * 4, "neuron_state": 5 * 4, "spike_buffers": 1, "total": 89}
    assert cost.layered_footprint_bytes(sizes, kind="ann", weight_bits=8)["total"] == 12 + 5 + 7 * 4
    tally = {"samples": 1, "steps": 4, "spikes": 4.0, "synaptic_events": 10.0, "neuron_updates": 20.0,
             "input_macs": 6.0}
    ops = cost.derive_layered(sizes, tally, neuron="if")
    e = cost.price_layered(sizes, {"inference": ops}, table="horowitz-45nm")
    read = 10.0 * 32 / 64  # 8 KB SRAM, 64-bit read scaled to 32 bits
    expected_pj = 10 * 0.9 + 20 * 2 * 0.9 + 6 * (3.7 + 0.9) + 16 * read
    assert e["infer_energy_uj"] == pytest.approx(expected_pj * 1e-6)
    dense_pj = 24 * 0.9 + 20 * 2 * 0.9 + 24 * (3.7 + 0.9) + 48 * read  # 4 steps x 6 synapses, 4 x 6 MACs
    assert e["energy_uj_by_view"]["dense"]["infer"] == pytest.approx(dense_pj * 1e-6)
    loihi = cost.price_layered(sizes, {"inference": ops}, table="loihi")
    assert loihi["infer_energy_uj"] == pytest.approx((10 * 23.6 + 20 * 52 + 4 * 1.7 + 6 * 23.6) * 1e-6)
    tn = cost.price_layered(sizes, {"inference": ops}, table="truenorth")
    assert tn["infer_energy_uj"] is None and tn["infer_unsupported"] == ["macs"]


def test_every_shipped_table_prices_the_new_operations():
    for name in builtin_tables():
        table = load_energy_table(name)
        for op in OPTIONAL_OPERATIONS:
            assert table.prices(op), (name, op)
            table.unit_energy_pj(op, footprint_bytes=10_000, weight_bits=32)


def test_a_table_without_the_new_rows_prices_stdp_and_refuses_layered_in_one_line():
    text = (Path(cost.tables.TABLE_DIR) / "loihi.toml").read_text()
    data = tomllib.loads(text)
    for op in OPTIONAL_OPERATIONS:
        del data["costs"][op]
    old = parse_table(data)
    from spikedyn.config import NetworkConfig

    est = cost.estimate(NetworkConfig(model="diehl-cook", n_neurons=100), table=old)
    assert est["infer_energy_uj"] == pytest.approx(cost.estimate(NetworkConfig(model="diehl-cook", n_neurons=100),
                                                                 table="loihi")["infer_energy_uj"])
    ops = cost.derive_layered((2, 3, 2), {"steps": 4, "neuron_updates": 20.0}, neuron="if")
    with pytest.raises(ConfigError) as err:
        cost.price_layered((2, 3, 2), {"inference": ops}, table=old)
    assert "costs.neuron_updates_if" in one_line(err)


def test_layered_cost_record():
    ops = cost.derive_layered((4, 8, 2), {"steps": 5, "synaptic_events": 100.0, "neuron_updates": 50.0,
                                          "spikes": 10.0}, neuron="if", poisson=True)
    out = cost.layered_cost((4, 8, 2), ops, train=cost.derive_training(cost.training_macs((4, 8, 2))))
    assert out["infer_energy_uj"] > 0 and out["ann_infer_energy_uj"] > 0 and out["train_energy_uj"] > 0
    assert set(out["by_table"]) == set(builtin_tables())
    assert out["by_table"]["truenorth"]["ann_infer_energy_uj"] is None
    assert out["by_table"]["truenorth"]["infer_energy_uj"] > 0  # Poisson input: binary events only
    assert out["by_table"]["loihi"]["train_energy_uj"] is None
    assert set(out["energy_uj_by_view"]) == {"model", "executed", "dense"}


def test_counters_are_named_once():
    assert len(set(COUNTERS)) == len(COUNTERS) == 6


def test_predicted_operations_reproduce_the_counts_at_the_measured_rates():
    rng = np.random.default_rng(6)
    net = random_net(rng, sizes=(6, 9, 7, 3))
    x = rng.uniform(0, 1, (20, 6))
    for coding in ("constant", "poisson"):
        sim = simulate(net, x, timesteps=15, input=coding, seed=2)
        t = sim.tally()
        rates = sim.layer_spikes[:, 1:].mean(axis=0) / 15 / np.array([9, 7, 3])
        predicted = predict_layered_tally((6, 9, 7, 3), 15, rates, poisson=coding == "poisson",
                                          input_spikes=t["input_spikes"])
        for key in COUNTERS:
            assert predicted[key] == pytest.approx(t[key], rel=1e-12), key
