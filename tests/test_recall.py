"""Tests for spikedyn.models.recall (the ``lateral-fast-recall`` model): learning is ``lateral-fast``'s
bit for bit, the average matches the naive reference and an analytic case, ``window_fraction`` 0 is
the last threshold, the network answers with the recalled thresholds, and the Brian2 twin agrees."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import bright_images
from naive import poisson_rasters, simulate_naive

from spikedyn import models
from spikedyn.config import NetworkConfig, TimingParams
from spikedyn.core.encoding import STREAM_TEST, STREAM_TRAIN
from spikedyn.errors import ConfigError
from spikedyn.models.recall import RecallParams, after_presentation_numpy, recall_thresholds
from spikedyn.simulation.network import Network

SHORT = TimingParams(present_ms=100.0, rest_ms=50.0)
IMAGES = bright_images(10, [150, 40, 220, 120, 200, 180, 160, 210])


def _config(fraction: float = 0.3, model: str = "lateral-fast-recall", **changes) -> NetworkConfig:
    config = NetworkConfig(model=model, n_neurons=12, timing=SHORT).replace(input__max_presentations=3)
    if model == "lateral-fast-recall":
        config = config.replace(recall=RecallParams(window_fraction=fraction))
    return config.replace(**changes) if changes else config


def _trained(config: NetworkConfig, images=IMAGES, seed: int = 16) -> Network:
    net = Network(config, seed=seed)
    net.train(images, progress=False)
    return net


def test_learning_is_lateral_fast_bit_for_bit() -> None:
    """The recall changes no weight, threshold or state of training; at window 0 it answers with the
    last thresholds, and the model reduces to ``lateral-fast`` there."""
    net = _trained(_config(0.3))
    plain = _trained(_config(model="lateral-fast"))
    assert np.array_equal(net.weights, plain.weights) and np.array_equal(net.theta, plain.theta)
    assert np.array_equal(net._state.exc.v, plain._state.exc.v)
    assert not np.array_equal(net.test_thresholds(), net.theta)  # it acts, at test time only
    last = _trained(_config(0.0))
    assert np.array_equal(last.test_thresholds(), last.theta)
    np.testing.assert_array_equal(last.respond(IMAGES, stream=STREAM_TEST, n_jobs=1, progress=False),
                                  plain.respond(IMAGES, stream=STREAM_TEST, n_jobs=1, progress=False))
    recall = models.get("lateral-fast-recall")
    assert recall.reduced(_config(0.0)) == "lateral-fast"
    assert recall.reduced(_config(0.3)) == "lateral-fast-recall"


def test_the_average_matches_naive() -> None:
    config = _config(0.3)
    net = Network(config, seed=16)
    naive = simulate_naive(config, net.weights, net.theta, poisson_rasters(config, IMAGES, seed=16,
                                                                           stream=STREAM_TRAIN),
                           True, n_samples=len(IMAGES))
    net.train(IMAGES, progress=False)
    assert np.array_equal(net.weights, naive.weights) and np.array_equal(net.theta, naive.theta)
    assert np.array_equal(net._state.plasticity.significance, naive.state.significance)


@pytest.mark.parametrize("fraction", [0.0, 0.25, 1.0])
def test_analytic_polynomial_decay_average(fraction: float) -> None:
    """Analytic: with one presentation per image (no retries), the recalled threshold is the
    polynomial-decay average of the thresholds after each presentation, computed from its closed
    form; window 1 is their plain mean, window 0 the last one. Before training: ``theta`` itself."""
    config = _config(fraction, input__max_presentations=1)
    net = Network(config, seed=16)
    assert np.array_equal(net.test_thresholds(), net.theta)
    history = []
    for image in IMAGES:
        net.train(image[None], progress=False)
        history.append(net.theta.copy())
    history = np.array(history)
    n = len(history)
    # weight of presentation i (1-based) in m_n: a_i * prod_{k>i} (1 - a_k), a_k = 1 / (1 + phi (k - 1))
    a = 1.0 / (1.0 + fraction * (np.arange(1, n + 1) - 1.0))
    weights = np.array([a[i] * np.prod(1.0 - a[i + 1:]) for i in range(n)])
    np.testing.assert_allclose(weights.sum(), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(net.test_thresholds(), weights @ history, rtol=0, atol=1e-9)
    if fraction == 1.0:
        np.testing.assert_allclose(net.test_thresholds(), history.mean(axis=0), rtol=0, atol=1e-9)
    if fraction == 0.0:
        assert np.array_equal(net.test_thresholds(), history[-1])
    assert np.array_equal(net._state.plasticity.significance[1], np.full(12, float(n)))


def test_the_network_answers_with_the_recalled_thresholds(tmp_path) -> None:
    """Responses, predictions and a saved-and-loaded copy use the recalled thresholds; the
    network's own thresholds are untouched."""
    net = _trained(_config(0.3))
    recalled = net.test_thresholds()
    plain = _trained(_config(model="lateral-fast"))
    plain.theta[...] = recalled
    np.testing.assert_array_equal(net.respond(IMAGES, stream=STREAM_TEST, n_jobs=1, progress=False),
                                  plain.respond(IMAGES, stream=STREAM_TEST, n_jobs=1, progress=False))
    assert not np.array_equal(net.theta, recalled)
    net.save(tmp_path / "net")
    loaded = Network.load(tmp_path / "net")
    assert np.array_equal(loaded.test_thresholds(), recalled)
    loaded.train(IMAGES[:2], progress=False)
    net.train(IMAGES[:2], progress=False)
    assert np.array_equal(loaded.test_thresholds(), net.test_thresholds())


def test_numpy_step_and_recall_are_the_kernels() -> None:
    config = _config(0.5)
    theta = np.array([20.0, 21.0, 22.5])
    average, count = np.zeros(3), np.zeros(3)
    assert np.array_equal(recall_thresholds(theta, average, count), theta)
    after_presentation_numpy(config, theta, average, count)  # a_1 = 1: the first threshold
    assert np.array_equal(average, theta) and np.array_equal(count, np.ones(3))
    after_presentation_numpy(config, theta + 3.0, average, count)  # a_2 = 1 / 1.5
    np.testing.assert_allclose(average, theta + 2.0, rtol=0, atol=1e-12)
    assert np.array_equal(recall_thresholds(theta, average, count), average)


def test_section_checks() -> None:
    with pytest.raises(ConfigError, match="window_fraction"):
        _config(1.5)
    with pytest.raises(ConfigError, match="window_fraction"):
        _config(-0.1)


def test_cost_counts_the_average() -> None:
    """Two threshold updates per neuron and presentation more than ``lateral-fast``, the same
    computation otherwise; 2 N entries of rule state."""
    net, plain = _trained(_config(0.3)), _trained(_config(model="lateral-fast"))
    ops, base = net.operations()["tally"], plain.operations()["tally"]
    assert ops == base
    per, per_base = net.operations()["per_sample"], plain.operations()["per_sample"]
    extra = 2 * 12 * ops["presentations"] / ops["samples"]
    for view in ("model", "executed", "dense"):
        assert per["threshold_updates"][view] == pytest.approx(per_base["threshold_updates"][view] + extra, abs=1e-9)
        assert per["weight_reads"][view] == per_base["weight_reads"][view]
    entries = models.get("lateral-fast-recall").plasticity.footprint_entries(net.config)
    assert entries["rule_state"] == 24


def test_brian2_twin_recalls_the_same_thresholds() -> None:
    """Trained by both, then answering with learning off: the twin keeps the same average and gives
    the same spikes."""
    pytest.importorskip("brian2")
    from spikedyn.reference.brian2 import Brian2Network

    config = _config(0.3)
    net = Network(config, seed=16)
    twin = Brian2Network(config, net.weights, net.theta, target="numpy", seed=16)
    net.train(IMAGES[:5], progress=False)
    twin.train(IMAGES[:5])
    recalled_v = twin._model.plasticity.brian2_test_thresholds(config, twin._theta_v, twin.rule_state)
    np.testing.assert_allclose(recalled_v * 1e3, net.test_thresholds(), rtol=0, atol=1e-9)
    assert not np.allclose(recalled_v * 1e3, net.theta, rtol=0, atol=1e-6)
    counts, _ = twin.respond(IMAGES[5:], stream=STREAM_TEST)
    np.testing.assert_array_equal(counts, net.respond(IMAGES[5:], stream=STREAM_TEST, n_jobs=1, progress=False))
