"""The Python API of Network: fit / partial_fit / assign / predict / score / respond(record=) / save / load."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest

import spikedyn
from spikedyn.config import NetworkConfig
from spikedyn.core.readout import READOUTS, assign_labels, fit_readout, predict
from spikedyn.errors import ConfigError
from spikedyn.simulation.network import MAX_VOLTAGE_SAMPLES, Network, Response

CONFIG = NetworkConfig(model="lateral", n_neurons=12)


def bars(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Easy synthetic digits: class c is a bright bar at a class-specific place, plus noise."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, n)
    images = np.zeros((n, 28, 28), np.uint8)
    for k, c in enumerate(labels):
        images[k, 4:24, 3 + 6 * c:8 + 6 * c] = 230
        noise = rng.random((28, 28)) < 0.02
        images[k][noise] = 150
    return images.reshape(n, 784), labels.astype(np.int64)


X, Y = bars(60)


def test_public_names_are_exported_lazily() -> None:
    assert spikedyn.Network is Network and spikedyn.NetworkConfig is NetworkConfig
    assert "lateral" in spikedyn.models.names()
    assert callable(spikedyn.load_mnist) and callable(spikedyn.plotting.plot_weights)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        spikedyn.nope  # noqa: B018


def test_fit_starts_afresh_and_partial_fit_continues() -> None:
    a = Network(CONFIG, seed=1).fit(X[:30])
    b = Network(CONFIG, seed=1).fit(X[:10]).fit(X[:30])  # a second fit forgets the first
    np.testing.assert_array_equal(a.weights, b.weights)
    c = Network(CONFIG, seed=1).partial_fit(X[:10]).partial_fit(X[10:30])
    np.testing.assert_array_equal(a.weights, c.weights)
    np.testing.assert_array_equal(a.theta, c.theta)
    assert a.samples_seen == c.samples_seen == 30
    assert [s.train_samples for s in c.train_stats_] == [10, 20]
    two_epochs = Network(CONFIG, seed=1).fit(X[:30], epochs=2)
    assert two_epochs.samples_seen == 60 and not np.array_equal(two_epochs.weights, a.weights)


def test_assign_predict_score_are_the_readout_of_respond() -> None:
    net = Network(CONFIG, seed=2).fit(X[:40]).assign(X[40:], Y[40:])
    counts = net.respond(X[40:], stream=spikedyn.core.encoding.STREAM_ASSIGN, progress=False)
    np.testing.assert_array_equal(net.assignments_, assign_labels(counts, Y[40:]))
    expected = predict(net.respond(X[:40], progress=False), net.assignments_)
    np.testing.assert_array_equal(net.predict(X[:40]), expected)
    assert net.score(X[:40], Y[:40]) == np.mean(expected == Y[:40])
    assert net.score(X[:40], Y[:40]) > 0.5  # four easy classes: well above chance (0.25)
    net.partial_fit(X[:1])
    assert net.assignments_ is None  # learning makes the old labels stale


def test_every_readout_answers_from_the_last_labelled_pass(tmp_path) -> None:
    net = Network(CONFIG, seed=2).fit(X[:40]).assign(X[40:], Y[40:])
    assign_counts = net.respond(X[40:], stream=spikedyn.core.encoding.STREAM_ASSIGN, progress=False)
    test_counts = net.respond(X[:40], progress=False)
    for kind in READOUTS:
        expected = fit_readout(kind, assign_counts, Y[40:]).predict(test_counts)
        np.testing.assert_array_equal(net.predict(X[:40], readout=kind), expected)
        assert net.score(X[:40], Y[:40], readout=kind) == np.mean(expected == Y[:40])
    with pytest.raises(ConfigError, match="unknown readout 'votes'"):
        net.predict(X[:2], readout="votes")
    net.save(tmp_path / "run")
    loaded = Network.load(tmp_path / "run")
    np.testing.assert_array_equal(loaded.predict(X[:40]), net.predict(X[:40]))  # the paper's: stored classes
    with pytest.raises(ConfigError, match=r"does not hold .* call assign\(images, labels\) first"):
        loaded.predict(X[:2], readout="profile")
    net.partial_fit(X[:1])
    with pytest.raises(ConfigError, match=r"call assign\(images, labels\) first"):
        net.predict(X[:2], readout="logistic")


def test_predict_before_assign_and_bad_labels_are_clear_errors() -> None:
    net = Network(CONFIG, seed=0)
    with pytest.raises(ConfigError, match=r"call assign\(images, labels\) first"):
        net.predict(X[:2])
    with pytest.raises(ConfigError, match="labels must be 3 integers"):
        net.assign(X[:3], np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ConfigError, match="labels must be 3 integers"):
        net.score(X[:3], Y[:2])


@pytest.mark.parametrize("kwargs, match", [
    ({"stream": -1}, r"stream must be in \[0, 2\*\*63\), got -1"),
    ({"stream": 1.5}, r"stream must be an integer in \[0, 2\*\*63\), got 1.5"),
    ({"first_index": 2**63}, r"first_index must be in \[0, 2\*\*63\), got 9223372036854775808"),
    ({"n_jobs": 0}, "n_jobs must be a positive integer"),
    ({"record": "everything"}, "record must be one of"),
    ({"batch_size": 0}, "batch_size must be a positive integer"),
])
def test_respond_rejects_bad_arguments(kwargs, match) -> None:
    with pytest.raises(ConfigError, match=match):
        Network(CONFIG, seed=0).respond(X[:2], progress=False, **kwargs)


@pytest.mark.parametrize("bad, match", [
    ({"config": {"model": "lateral"}}, "config must be a spikedyn.NetworkConfig"),
    ({"config": CONFIG, "seed": -1}, "seed"),
    ({"config": CONFIG, "seed": 1.5}, "seed"),
])
def test_network_rejects_bad_arguments(bad, match) -> None:
    config = bad.pop("config")
    with pytest.raises(ConfigError, match=match):
        Network(config, **bad)


def test_recorded_spikes_rebuild_the_counts() -> None:
    net = Network(CONFIG, seed=3).fit(X[:20])
    counts = net.respond(X[20:30], progress=False)
    response = net.respond(X[20:30], record="spikes", progress=False)
    assert isinstance(response, Response) and response.v_mv is None
    np.testing.assert_array_equal(response.counts, counts)
    r = response.spikes
    last = (r.presentation == r.presentations[r.sample] - 1) & (r.step < CONFIG.timing.present_steps)
    rebuilt = np.zeros_like(counts)
    np.add.at(rebuilt, (r.sample[last], r.neuron[last]), 1)
    np.testing.assert_array_equal(rebuilt, counts)
    assert r.sample.size >= counts.sum() > 0


def test_recorded_voltages_cross_the_threshold_exactly_at_the_spikes() -> None:
    net = Network(CONFIG, seed=3).fit(X[:20])
    response = net.respond(X[20:23], record="voltages", progress=False)
    steps = CONFIG.timing.present_steps
    for k in range(3):
        v, threshold = response.v_mv[k], response.threshold_mv[k]
        n_presentations = int(response.spikes.presentations[k])
        assert v.shape == threshold.shape == (n_presentations, steps, CONFIG.n_neurons)
        above = v > threshold
        mine = response.spikes.sample == k
        fired = np.zeros_like(above)
        fired[response.spikes.presentation[mine], response.spikes.step[mine], response.spikes.neuron[mine]] = True
        # Every spike is a crossing; a crossing without a spike is a neuron still refractory/locked out.
        assert np.all(above[fired])
        assert fired.sum() > 0
        # At rest at the first step; the membrane stays within its reversal potentials.
        assert np.all(v >= CONFIG.excitatory.e_inh_mv) and np.all(v <= CONFIG.excitatory.e_exc_mv)
        # Frozen thresholds: v_thresh - offset + theta at every step.
        expected = CONFIG.excitatory.v_thresh_mv - CONFIG.excitatory.theta_offset_mv + net.theta
        np.testing.assert_allclose(threshold, np.broadcast_to(expected, threshold.shape), rtol=0, atol=1e-12)


def test_voltage_recording_is_limited() -> None:
    images = np.repeat(X[:1], MAX_VOLTAGE_SAMPLES + 1, axis=0)
    with pytest.raises(ConfigError, match="at most 50 samples"):
        Network(CONFIG, seed=0).respond(images, record="voltages", progress=False)


def test_save_and_load_keep_everything_and_normal_permissions(tmp_path: Path) -> None:
    net = Network(CONFIG, seed=5).fit(X[:20]).assign(X[20:40], Y[20:40])
    path = net.save(tmp_path / "run")
    loaded = Network.load(path)
    np.testing.assert_array_equal(loaded.weights, net.weights)
    np.testing.assert_array_equal(loaded.assignments_, net.assignments_)
    np.testing.assert_array_equal(loaded.predict(X[40:]), net.predict(X[40:]))
    # Learning goes on exactly where it stopped.
    np.testing.assert_array_equal(loaded.partial_fit(X[40:]).weights, net.partial_fit(X[40:]).weights)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o777 & ~umask
    for f in path.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o666 & ~umask, f.name


def test_save_refuses_to_overwrite_unless_asked(tmp_path: Path) -> None:
    first = Network(CONFIG, seed=5)
    first.save(tmp_path / "run")
    second = Network(CONFIG, seed=6).fit(X[:5])
    with pytest.raises(ConfigError, match="already exists"):
        second.save(tmp_path / "run")
    np.testing.assert_array_equal(Network.load(tmp_path / "run").weights, first.weights)
    second.save(tmp_path / "run", overwrite=True)
    np.testing.assert_array_equal(Network.load(tmp_path / "run").weights, second.weights)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # nothing left beside it
