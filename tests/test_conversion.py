"""ANN -> SNN conversion: the percentile normalisation by hand, the readouts, the converted network
against its ANN, the MNIST and CartPole runs at small sizes, and bad inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from helpers import one_line
from spikedyn.conversion import convert, layer_scales, normalise, readout, run_mnist
from spikedyn.conversion import mlp
from spikedyn.errors import ConfigError
from spikedyn.feedforward import LayeredSNN, simulate

pytest.importorskip("jax")


def test_layer_scales_and_normalisation_by_hand():
    a1 = np.array([[0.0, 1.0], [2.0, 3.0]])   # percentile 50 of {0, 1, 2, 3} = 1.5
    a2 = np.array([[-4.0], [0.0]])            # percentile 50 of {-4, 0} = -2 -> falls back to max |a| = 4
    scales = layer_scales([a1, a2], percentile=50)
    np.testing.assert_allclose(scales, [1.5, 4.0])
    w1, b1 = np.array([[1.0, 2.0]]), np.array([0.3, 0.6])
    w2, b2 = np.array([[1.0], [-1.0]]), np.array([0.8])
    (n1, c1), (n2, c2) = normalise([(w1, b1), (w2, b2)], scales, input_scale=0.5)
    np.testing.assert_allclose(n1, w1 * 0.5 / 1.5)
    np.testing.assert_allclose(c1, b1 / 1.5)
    np.testing.assert_allclose(n2, w2 * 1.5 / 4.0)
    np.testing.assert_allclose(c2, b2 / 4.0)
    assert layer_scales([np.zeros((3, 2))], 99.9)[0] == 1.0  # a dead layer keeps its weights


def test_normalised_relu_network_computes_scaled_activations():
    rng = np.random.default_rng(0)
    params = mlp.init_params((5, 7, 3), seed=0)
    x = rng.uniform(0, 1, (40, 5))
    acts = mlp.activations(params, x)
    scales = layer_scales(acts, 99.0)
    scaled = mlp.activations(normalise(params, scales), x)
    for a, s, b in zip(acts, scales, scaled):
        np.testing.assert_allclose(b, a / s, atol=1e-12)


def test_readouts():
    counts = np.array([[3, 3, 1], [0, 0, 0]])
    membrane = np.array([[0.2, 0.7, 0.9], [-0.5, -0.1, -0.3]])
    np.testing.assert_array_equal(readout.decide(counts, membrane, "spikes"), [0, 0])  # ties: lowest index
    np.testing.assert_array_equal(readout.decide(counts, membrane, "spikes+membrane"), [1, 1])
    with pytest.raises(ConfigError) as err:
        readout.decide(counts, membrane, "rate")
    assert "readout must be one of" in one_line(err)


def test_converted_snn_follows_its_ann_as_t_grows():
    rng = np.random.default_rng(1)
    params = [(rng.normal(0, 0.5, (6, 20)), rng.normal(0, 0.1, 20)), (rng.normal(0, 0.5, (20, 4)), np.zeros(4))]
    x = rng.uniform(0, 1, (200, 6))
    snn, scales = convert(params, mlp.activations(params, x[:100]), percentile=99.9)
    sim = simulate(snn, x[100:], timesteps=400, record_at=[10])
    ann = mlp.predict(params, x[100:]).argmax(1)
    agree = [np.mean(readout.decide(sim.counts[:, r], sim.membrane[:, r], "spikes+membrane") == ann) for r in (0, 1)]
    assert agree[1] >= 0.95 and agree[1] >= agree[0]
    # the robust readout integrates the output current: (count + v - v0) * lambda_L / T ~ the ANN's output
    q = (sim.counts[:, 1] + sim.membrane[:, 1] - snn.v_init) * scales[-1] / 400
    # (up to the quantisation, and the saturation of the few test activations above lambda_l)
    error = np.abs(q - mlp.predict(params, x[100:]))
    assert np.median(error) < 0.01 and np.quantile(error, 0.9) < 0.05


def _small_mnist(digits_dir, **kw):
    out = run_mnist(hidden=(16,), timesteps=20, epochs=1, n_train=30, n_test=20, n_norm=30, data_dir=digits_dir, **kw)
    out.pop("wall_s")
    return out


def test_run_mnist_small_keys_and_determinism(digits_dir):
    a = _small_mnist(digits_dir, seed=3)
    for key in ("ann_accuracy", "snn_accuracy", "decision_agreement", "timesteps", "readout", "source_hash"):
        assert key in a
    assert a["cost"]["infer_energy_uj"] > 0 and a["cost"]["ann_infer_energy_uj"] > 0
    assert set(a["by_timesteps"]) == {"5", "10", "20"}
    assert json.dumps(a) == json.dumps(_small_mnist(digits_dir, seed=3))
    p = _small_mnist(digits_dir, seed=3, input="poisson")
    ops = p["cost"]["operations"]["inference"]
    assert ops["macs"]["model"] == 0 and ops["synaptic_events_input"]["model"] > 0
    assert a["cost"]["operations"]["inference"]["macs"]["model"] == 784 * 16


def test_run_cartpole_small():
    pytest.importorskip("gymnasium")
    from spikedyn.conversion import run_cartpole

    out = run_cartpole(hidden=(8,), timesteps=5, episodes=1, max_steps=600, norm_episodes=1, seed=1)
    for key in ("ann_return", "snn_return", "decision_agreement", "timesteps", "readout", "cost", "source_hash"):
        assert key in out
    assert 0.0 <= out["decision_agreement"] <= 1.0 and out["cost"]["infer_energy_uj"] > 0


def test_neuron_wise_scales_by_hand():
    a1 = np.array([[0.0, 4.0], [2.0, 8.0]])  # per neuron, percentile 100: 2 and 8
    a2 = np.array([[1.0, -3.0], [0.5, 2.0]])  # output: one scale, percentile 100 of all = 2
    scales = layer_scales([a1, a2], percentile=100, per="neuron")
    np.testing.assert_allclose(scales[0], [2.0, 8.0])
    assert scales[1] == 2.0
    w1, b1 = np.array([[1.0, 1.0]]), np.array([1.0, 1.0])
    w2, b2 = np.ones((2, 2)), np.zeros(2)
    (n1, c1), (n2, _) = normalise([(w1, b1), (w2, b2)], scales)
    np.testing.assert_allclose(n1, [[1 / 2, 1 / 8]])
    np.testing.assert_allclose(c1, [1 / 2, 1 / 8])
    np.testing.assert_allclose(n2, [[2 / 2, 2 / 2], [8 / 2, 8 / 2]])


def test_configs_check_themselves():
    from spikedyn.conversion import ConvertedMLPConfig
    from spikedyn.surrogate import SurrogateMLPConfig

    assert ConvertedMLPConfig().sizes() == (784, 500, 10)
    assert SurrogateMLPConfig(layers=3, width=8).sizes(4, 2) == (4, 8, 8, 8, 2)
    for bad in ({"timesteps": 0}, {"percentile": -1}, {"hidden": (3, 0)}, {"v_init": 1.0}, {"normalisation": "x"}):
        with pytest.raises(ConfigError) as err:
            ConvertedMLPConfig(**bad)
        one_line(err)
    for bad in ({"layers": 0}, {"scale": -1.0}, {"beta": 0.0}, {"batch_norm": "yes"}, {"width": 0}):
        with pytest.raises(ConfigError) as err:
            SurrogateMLPConfig(**bad)
        one_line(err)


def test_qcfs_activation_is_what_an_if_neuron_counts():
    """QCFS (Bu et al. 2022): lambda * clip(floor(h L / lambda + 1/2) / L, 0, 1) is the count of an IF neuron of
    threshold lambda started at half of it, after L steps of constant input h (times lambda / L)."""
    h = np.array([-0.3, 0.0, 0.01, 0.5, 1.234, 1.91, 2.0, 3.5])  # no value at a rounding tie
    lam, levels = 2.0, 50
    a = mlp.act(h, (None, None, lam), levels)
    net = LayeredSNN((np.eye(len(h)),), (np.zeros(len(h)),), (1.0,), (True,), threshold=1.0, v_init=0.5)
    sim = simulate(net, (h / lam)[None], timesteps=levels)
    np.testing.assert_allclose(a, sim.counts[0, -1] * lam / levels, atol=1e-12)
    with pytest.raises(ValueError):
        mlp.act(h, (None, None, lam), None)


def test_a_one_hidden_layer_qcfs_network_converts_exactly():
    """With one QCFS hidden layer, constant-current input, v_init 1/2 and the spikes+membrane readout,
    the SNN's readout after L steps is exactly L Q / lambda_out: every decision agrees."""
    rng = np.random.default_rng(3)
    levels = 20
    params = [tuple(np.asarray(a, np.float64) for a in layer)
              for layer in mlp.init_params((4, 32, 2), seed=1, clip=1.5)]
    x = rng.normal(0, 1, (300, 4))
    snn, scales = convert(params, mlp.activations(params, x[:100], levels), percentile=99.9)
    assert scales[0] == 1.5
    sim = simulate(snn, x, timesteps=levels)
    q = mlp.predict(params, x, levels=levels)
    readout = sim.counts[:, -1] + sim.membrane[:, -1] - snn.v_init
    np.testing.assert_allclose(readout * scales[-1] / levels, q, atol=1e-9)
    assert np.array_equal(readout.argmax(1), q.argmax(1))
