"""Random input delays (``*-delays`` models): the kernel against the dense naive simulation and Brian2."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import images_ending_faint
from naive import poisson_rasters, simulate_naive

from spikedyn.config import InputParams, NetworkConfig, TimingParams
from spikedyn.core.encoding import STREAM_TEST, STREAM_TRAIN
from spikedyn.errors import ConfigError
from spikedyn.models.delays import delay_steps, delay_tables
from spikedyn.reference import validate as validation
from spikedyn.simulation.network import Network

MODELS = ("lateral-delays", "diehl-cook-delays")


def images(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.zeros((n, 784), np.uint8)
    for k in range(n):
        idx = rng.choice(784, 150, replace=False)
        out[k, idx] = rng.integers(128, 256, 150)
    return out


def test_delays_are_the_originals_distribution_and_leave_the_weights_alone() -> None:
    config = NetworkConfig(model="lateral-delays", n_neurons=400)
    d = delay_steps(config, seed=3)
    assert d.shape == (784, 400) and d.min() == 0 and d.max() == 19  # [0, 10 ms) in 0.5 ms steps, truncated
    counts = np.bincount(d.ravel(), minlength=20)
    assert np.all(np.abs(counts / d.size - 1 / 20) < 0.005)  # uniform over the 20 values
    np.testing.assert_array_equal(d, delay_steps(config, seed=3))
    assert not np.array_equal(d, delay_steps(config, seed=4))
    same_seed = Network(NetworkConfig(model="lateral", n_neurons=400), seed=3)
    np.testing.assert_array_equal(Network(config, seed=3).weights, same_seed.weights)


def test_delay_tables_group_each_inputs_neurons_by_delay() -> None:
    d = np.array([[2, 0, 2, 1], [0, 0, 1, 1]])
    order, ptr = delay_tables(d, 3)
    assert order.tolist() == [[1, 3, 0, 2], [0, 1, 2, 3]]
    assert ptr.tolist() == [[0, 1, 2, 4], [0, 2, 4, 4]]


@pytest.mark.parametrize("model", MODELS)
def test_training_and_inference_match_the_naive_simulation(model: str) -> None:
    config = NetworkConfig(model=model, n_neurons=12, input=InputParams(max_presentations=3))
    x = images(1, 4)
    net = Network(config, seed=4)
    w0, theta0 = net.weights.copy(), net.theta.copy()
    d = delay_steps(config, 4)
    naive = simulate_naive(config, w0, theta0, poisson_rasters(config, x, seed=4, stream=STREAM_TRAIN), True,
                           n_samples=4, delays=d)
    net.train(x, progress=False)
    assert naive.potentiations > 0 and naive.depressions > 0 and naive.exc_spikes > 4
    np.testing.assert_array_equal(net.weights, naive.weights)
    np.testing.assert_array_equal(net.theta, naive.theta)
    # The per-synapse spike history the kernel keeps is the naive one.
    np.testing.assert_array_equal(net._state.plasticity.last_arrival, naive.state.last_arrival)
    counts = net.respond(x, stream=STREAM_TEST, progress=False)
    naive_inference = simulate_naive(config, net.weights, net.theta,
                                     poisson_rasters(config, x, seed=4, stream=STREAM_TEST), False, n_samples=4,
                                     delays=d)
    np.testing.assert_array_equal(counts, naive_inference.counts)
    assert counts.sum() > 0


def test_delays_change_the_dynamics() -> None:
    x = images(2, 3)
    plain = Network(NetworkConfig(model="lateral", n_neurons=12), seed=5).partial_fit(x)
    delayed = Network(NetworkConfig(model="lateral-delays", n_neurons=12), seed=5).partial_fit(x)
    assert not np.array_equal(plain.weights, delayed.weights)


def test_rest_shorter_than_the_longest_delay_is_refused() -> None:
    config = NetworkConfig(model="lateral-delays", timing=TimingParams(rest_ms=5.0))
    with pytest.raises(ConfigError, match="timing.rest_ms=5.0 is shorter than delays.max_delay_ms=10.0"):
        Network(config)


def test_a_saved_delayed_network_continues_identically(tmp_path) -> None:
    config = NetworkConfig(model="diehl-cook-delays", n_neurons=10)
    x = images(3, 4)
    a = Network(config, seed=6).partial_fit(x[:2])
    b = Network.load(a.save(tmp_path / "run"))
    np.testing.assert_array_equal(a.partial_fit(x[2:]).weights, b.partial_fit(x[2:]).weights)


@pytest.mark.brian2
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("learn", [False, True])
@pytest.mark.parametrize("model", MODELS)
def test_brian2_agrees_spike_for_spike(model: str, learn: bool) -> None:
    s = validation.validate(NetworkConfig(model=model, n_neurons=20), images_ending_faint(n=3), learn=learn,
                            target="numpy", progress=False)
    assert s["spikes_spikedyn"] > 0
    assert s["spike_agreement"] == 1.0, s["first_disagreement"]
    assert s["presentations_agree"]
    if learn:
        assert s["max_weight_abs_diff"] < 1e-12 and s["max_theta_abs_diff"] < 1e-9
