"""Tests for spikedyn.models.metaplastic (the ``metaplastic`` model): each mechanism against the
naive reference (``tests/naive.py``; the whole-network case is ``metaplastic`` in
``tests/test_network.py``), the reductions to ``lateral``, and analytic cases of the fatigue
and the novelty gate."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from helpers import bright_images
from naive import poisson_rasters, simulate_naive

from spikedyn import models
from spikedyn.config import InputParams, NetworkConfig, TimingParams
from spikedyn.core.encoding import STREAM_TEST, STREAM_TRAIN
from spikedyn.errors import ConfigError
from spikedyn.models.metaplastic import (MetaplasticParams, _decorrelate, after_presentation_numpy, budget_head_start,
                                        budget_share, commit_count, decorrelate_numpy, fatigue_keep_of, recall_gains,
                                        recall_thresholds)
from spikedyn.simulation.network import Network

SHORT = TimingParams(present_ms=100.0, rest_ms=50.0)
IMAGES = bright_images(10, [150, 40, 220, 120, 200, 180, 160, 210])
#: Every mechanism strong enough to act within a few samples.
ALL_ON = MetaplasticParams(commit_spikes=3.0, theta_hold=0.8, decay_threshold=True, tau_theta_ms=2e3,
                           fatigue=True, fatigue_per_spike=1.0, tau_fatigue_ms=1e3, novelty=True, vigilance=1.3,
                           novelty_boost=0.7, novelty_after_spikes=20)
OFF = MetaplasticParams(consolidate=False, hold_threshold=False, decay_threshold=True, tau_theta_ms=1e7,
                        recall_at_commit=False, recall_gain=False)


def _config(p: MetaplasticParams, model: str = "metaplastic") -> NetworkConfig:
    return NetworkConfig(model=model, n_neurons=12, input=InputParams(max_presentations=3), timing=SHORT,
                         metaplastic=p)


def _trained(p: MetaplasticParams, seed: int = 16) -> Network:
    net = Network(_config(p), seed=seed)
    net.train(IMAGES, progress=False)
    return net


def _trained_like_naive(config: NetworkConfig, images: np.ndarray) -> Network:
    """A network trained on ``images`` (seed 16), asserted equal to the naive reference's bit for bit
    (weights, thresholds, conductances, potentials, spike counts, rule state)."""
    net = Network(config, seed=16)
    naive = simulate_naive(config, net.weights, net.theta,
                           poisson_rasters(config, images, seed=16, stream=STREAM_TRAIN), True,
                           n_samples=len(images))
    net.train(images, progress=False)
    assert np.array_equal(net.weights, naive.weights) and np.array_equal(net.theta, naive.theta)
    assert np.array_equal(net._state.exc.ge, naive.state.ge) and np.array_equal(net._state.exc.v, naive.state.v)
    assert np.array_equal(net._state.plasticity.activity, naive.state.activity)
    assert np.array_equal(net._state.plasticity.significance, naive.state.significance)
    return net


def test_every_switch_off_is_lateral_bit_for_bit() -> None:
    """No commitment, no hold, Diehl & Cook's threshold decay: the model is ``lateral``."""
    net = _trained(OFF)
    lateral = Network(NetworkConfig(model="lateral", n_neurons=12, input=InputParams(max_presentations=3),
                                    timing=SHORT), seed=16)
    lateral.train(IMAGES, progress=False)
    assert np.array_equal(net.weights, lateral.weights) and np.array_equal(net.theta, lateral.theta)
    assert models.get("metaplastic").reduced(_config(OFF)) == "lateral"
    assert models.get("metaplastic").reduced(_config(MetaplasticParams())) == "metaplastic"
    assert models.get("metaplastic").reduced(_config(dataclasses.replace(OFF, decorrelate=True))) == "metaplastic"


@pytest.mark.parametrize("switch", ["consolidate", "hold_threshold", "fatigue", "novelty", "recall_at_commit",
                                    "decorrelate"])
def test_each_mechanism_matches_naive_alone(switch: str) -> None:
    p = dataclasses.replace(OFF, **{switch: True}, commit_spikes=3.0, theta_hold=0.8, fatigue_per_spike=1.0,
                            tau_fatigue_ms=1e3, vigilance=1.3, novelty_boost=0.7, novelty_after_spikes=20,
                            decorrelation_rate=0.3)
    net = _trained_like_naive(_config(p), IMAGES)
    # ... and it acts: the run differs from the one without it (the recall: at test time only)
    plain = _trained(OFF)
    if switch == "recall_at_commit":
        assert np.array_equal(net.weights, plain.weights) and np.array_equal(net.theta, plain.theta)
        assert not np.array_equal(net.test_thresholds(), plain.test_thresholds())
    else:
        assert not (np.array_equal(net.weights, plain.weights)
                    and np.array_equal(net._state.exc.v, plain._state.exc.v))


def test_frozen_neurons_keep_their_weights() -> None:
    """Once committed (``a_j >= commit_spikes``) with ``consolidated_rate`` 0, a neuron's incoming
    weights change only by the normalisation (its column keeps its direction)."""
    p = dataclasses.replace(OFF, consolidate=True, commit_spikes=3.0)
    net = Network(_config(p), seed=16)
    net.train(IMAGES[:4], progress=False)
    frozen = net._state.plasticity.activity >= 3.0
    assert frozen.any() and not frozen.all()
    w = net.weights.copy()
    net.train(IMAGES[4:], progress=False)
    unit = lambda a: a / a.sum(axis=0)  # noqa: E731
    np.testing.assert_allclose(unit(net.weights)[:, frozen], unit(w)[:, frozen], rtol=1e-12, atol=0)
    assert not np.allclose(unit(net.weights)[:, ~frozen], unit(w)[:, ~frozen])


def test_fatigue_decays_exactly_and_rises_only_for_committed_neurons() -> None:
    """Analytic: ``f <- f * exp(-T / tau_f) + phi * n_j`` for neurons committed before the
    presentation; ``1 / (1 + f)`` is the training-time gain."""
    config = _config(dataclasses.replace(OFF, fatigue=True, commit_spikes=10.0, fatigue_per_spike=0.5,
                                         tau_fatigue_ms=300.0))
    keep = fatigue_keep_of(config)
    assert keep == pytest.approx(math.exp(-150.0 / 300.0), rel=1e-15)
    theta, activity, rate = np.zeros(3), np.array([12.0, 9.0, 0.0]), np.ones(3)
    f, gain = np.array([1.0, 1.0, 0.0]), np.ones(3)
    after_presentation_numpy(config, theta, np.array([2, 4, 0]), activity, rate, f, gain)
    np.testing.assert_allclose(f, [keep + 1.0, keep, 0.0], rtol=1e-15)
    np.testing.assert_allclose(gain, 1.0 / (1.0 + f), rtol=1e-15)
    np.testing.assert_array_equal(activity, [14.0, 13.0, 0.0])  # neuron 1 committed during it: no fatigue yet


def test_decorrelation_moves_coactive_plastic_neurons_away_from_committed_ones() -> None:
    """Analytic: committed neurons 0 (2 spikes) and 1 (silent), plastic neurons 2 (1 spike) and 3
    (silent): only neuron 2 changes, by ``eta`` times neuron 0's column (the spike-weighted mean of
    the co-active committed neurons), clipped at 0; kernel and NumPy twin agree bit for bit."""
    w = np.array([[0.5, 0.9, 0.4, 0.3], [0.1, 0.2, 0.05, 0.3], [0.0, 0.7, 0.6, 0.3]])
    counts, activity = np.array([2, 0, 1, 0], np.int32), np.array([9.0, 12.0, 4.0, 1.0])
    expected = w.copy()
    expected[:, 2] = [0.4 - 0.2 * 0.5, 0.05 - 0.2 * 0.1, 0.6]
    out, twin = w.copy(), w.copy()
    assert _decorrelate(out, counts, activity, 5.0, 0.2) == 3
    assert decorrelate_numpy(twin, counts, activity >= 5.0, 0.2) == 3
    np.testing.assert_allclose(out, expected, rtol=1e-15)
    np.testing.assert_array_equal(out, twin)
    # a weight the step would push below 0 stops at 0; no co-active committed neuron: nothing moves
    out = w.copy()
    _decorrelate(out, counts, activity, 5.0, 1.0)
    assert out[1, 2] == 0.0
    silent = w.copy()
    assert _decorrelate(silent, np.array([0, 0, 3, 1], np.int32), activity, 5.0, 0.2) == 0
    np.testing.assert_array_equal(silent, w)


def test_decorrelation_trains_on_one_thread_only() -> None:
    from spikedyn.simulation.network import training_threads

    config = _config(dataclasses.replace(OFF, decorrelate=True))
    assert "decorrelate" in models.get("metaplastic").plasticity.single_thread_reason(config)
    assert training_threads(config, 1) == 1
    with pytest.raises(ConfigError, match="metaplastic.decorrelate .* n_jobs=1"):
        training_threads(config, 4)


def test_fatigue_and_novelty_leave_inference_alone() -> None:
    """Test-time excitability is the thresholds' alone: the same weights and test thresholds give the
    same responses whatever the training-time state."""
    net = _trained(ALL_ON)
    assert np.any(net._state.plasticity.significance[0] > 0)
    plain = Network(_config(OFF), seed=16)
    plain.weights[...], plain.theta[...] = net.weights, net.test_thresholds()  # (the recall's, ALL_ON has it)
    np.testing.assert_array_equal(net.respond(IMAGES, stream=STREAM_TEST, n_jobs=1, progress=False),
                                  plain.respond(IMAGES, stream=STREAM_TEST, n_jobs=1, progress=False))


def test_recall_answers_with_each_neurons_threshold_at_commitment() -> None:
    """Analytic: a committed neuron's test threshold is its threshold after the presentation in which
    its training spikes reached ``commit_spikes``; a plastic neuron's is its threshold now. Training
    is the same with and without the recall, and the responses are those of a network whose
    thresholds are the recalled ones."""
    p = dataclasses.replace(OFF, consolidate=True, hold_threshold=True, theta_hold=0.5, commit_spikes=3.0,
                            recall_at_commit=True)
    config = _config(p).replace(input__max_presentations=1)  # one presentation per image: no retries
    net = Network(config, seed=16)
    at_commit = np.full(12, np.nan)
    for image in IMAGES:
        before = net._state.plasticity.activity.copy()
        net.train(image[None], progress=False)
        now = (before < 3.0) & (net._state.plasticity.activity >= 3.0)
        at_commit[now] = net.theta[now]
    committed = net._state.plasticity.activity >= 3.0
    assert committed.any() and (~committed).any()
    recalled = net.test_thresholds()
    assert np.array_equal(recalled[committed], at_commit[committed])
    assert np.array_equal(recalled[~committed], net.theta[~committed])
    assert np.all(recalled[committed] <= net.theta[committed]) and np.any(recalled < net.theta)  # the hold's rest
    without = Network(config.replace(metaplastic__recall_at_commit=False), seed=16)
    without.train(IMAGES, progress=False)
    assert np.array_equal(without.weights, net.weights) and np.array_equal(without.theta, net.theta)
    without.theta[...] = recalled
    np.testing.assert_array_equal(net.respond(IMAGES, stream=STREAM_TEST, n_jobs=1, progress=False),
                                  without.respond(IMAGES, stream=STREAM_TEST, n_jobs=1, progress=False))
    assert not np.array_equal(net.theta, recalled)  # the network's own thresholds are untouched


def test_recall_gain_brings_committed_columns_to_their_median_l2_norm() -> None:
    """Analytic: committed neurons 0-2 with column norms 1, 2 and 4 (median 2) get gains (2 / norm)
    ** gamma; the plastic neuron 3 and the committed all-zero column 4 keep 1; exponent 0, the switch
    off or no committed neuron: every gain is 1."""
    w = np.zeros((4, 5))
    w[0, 0], w[:, 1], w[0, 2], w[:, 3] = 1.0, 1.0, 4.0, 7.0
    activity = np.array([5.0, 6.0, 9.0, 1.0, 8.0])
    config = _config(dataclasses.replace(OFF, consolidate=True, commit_spikes=5.0, recall_gain=True,
                                         recall_gain_exponent=1.0))
    np.testing.assert_allclose(recall_gains(config, w, activity), [2.0, 1.0, 0.5, 1.0, 1.0], rtol=1e-15)
    half = config.replace(metaplastic__recall_gain_exponent=0.5)
    np.testing.assert_allclose(recall_gains(half, w, activity), [2 ** 0.5, 1.0, 0.5 ** 0.5, 1.0, 1.0], rtol=1e-15)
    assert np.all(recall_gains(config.replace(metaplastic__recall_gain_exponent=0.0), w, activity) == 1.0)
    assert np.all(recall_gains(config.replace(metaplastic__recall_gain=False), w, activity) == 1.0)
    assert np.all(recall_gains(config, w, np.zeros(5)) == 1.0)


def test_recall_gain_acts_at_inference_only() -> None:
    """Training is the same with and without the gain; the responses are those of a network whose
    weights are the gained ones (:meth:`Network.test_weights`); the network's own weights stay."""
    p = dataclasses.replace(OFF, consolidate=True, commit_spikes=3.0, recall_gain=True, recall_gain_exponent=1.0)
    net = _trained(p)
    without = _trained(dataclasses.replace(p, recall_gain=False))
    assert np.array_equal(net.weights, without.weights) and np.array_equal(net.theta, without.theta)
    gained = net.test_weights()
    assert not np.array_equal(gained, net.weights)
    without.weights[...] = gained
    np.testing.assert_array_equal(net.respond(IMAGES, stream=STREAM_TEST, n_jobs=1, progress=False),
                                  without.respond(IMAGES, stream=STREAM_TEST, n_jobs=1, progress=False))
    recorded = net.respond(IMAGES[:2], stream=STREAM_TEST, progress=False, record="spikes")
    np.testing.assert_array_equal(recorded.counts, without.respond(IMAGES[:2], stream=STREAM_TEST, n_jobs=1,
                                                                   progress=False))
    assert models.get("metaplastic").reduced(_config(dataclasses.replace(OFF, recall_gain=True))) == "metaplastic"


def test_recall_by_committed_neurons_only_silences_plastic_neurons_analytic() -> None:
    """Analytic (mechanism 9): committed neurons 0, 1, 2 and 4 keep their gains (1 without the recall
    gain, the gains of the case above with it), the plastic neuron 3 gets 0; before any neuron commits
    every gain is 1."""
    w = np.zeros((4, 5))
    w[0, 0], w[:, 1], w[0, 2], w[:, 3] = 1.0, 1.0, 4.0, 7.0
    activity = np.array([5.0, 6.0, 9.0, 1.0, 8.0])
    only = _config(dataclasses.replace(OFF, consolidate=True, commit_spikes=5.0, recall_committed_only=True))
    np.testing.assert_array_equal(recall_gains(only, w, activity), [1.0, 1.0, 1.0, 0.0, 1.0])
    both = only.replace(metaplastic__recall_gain=True)
    np.testing.assert_allclose(recall_gains(both, w, activity), [2.0, 1.0, 0.5, 0.0, 1.0], rtol=1e-15)
    assert np.all(recall_gains(only, w, np.zeros(5)) == 1.0)
    assert np.all(recall_gains(only.replace(metaplastic__recall_committed_only=False), w, activity) == 1.0)


def test_recall_by_committed_neurons_only_acts_at_inference_only() -> None:
    """Training is the same with and without the switch; with it a plastic neuron never fires when
    learning is off, and the responses are those of the network whose plastic columns are zero."""
    p = dataclasses.replace(OFF, consolidate=True, commit_spikes=3.0, recall_at_commit=True)
    net = _trained(dataclasses.replace(p, recall_committed_only=True))
    without = _trained(p)
    assert np.array_equal(net.weights, without.weights) and np.array_equal(net.theta, without.theta)
    plastic = net._state.plasticity.activity < 3.0
    assert plastic.any() and (~plastic).any()
    counts = net.respond(IMAGES, stream=STREAM_TEST, n_jobs=1, progress=False)
    assert counts[:, plastic].sum() == 0 and counts.sum() > 0
    assert without.respond(IMAGES, stream=STREAM_TEST, n_jobs=1, progress=False)[:, plastic].sum() > 0
    without.weights[:, plastic] = 0.0
    np.testing.assert_array_equal(counts, without.respond(IMAGES, stream=STREAM_TEST, n_jobs=1, progress=False))
    assert models.get("metaplastic").reduced(_config(dataclasses.replace(OFF, recall_committed_only=True))) \
        == "metaplastic"


def test_brian2_twin_recalls_the_same_thresholds() -> None:
    """Trained by both, then answering with learning off: the twin recalls the same thresholds at
    commitment and the same weights (committed neurons gained, plastic ones silent), and gives the
    same spikes."""
    pytest.importorskip("brian2")
    from spikedyn.reference.brian2 import Brian2Network

    p = dataclasses.replace(OFF, consolidate=True, hold_threshold=True, theta_hold=0.5, commit_spikes=3.0,
                            recall_at_commit=True, recall_gain=True, recall_committed_only=True)
    config = _config(p)
    net = Network(config, seed=16)
    twin = Brian2Network(config, net.weights, net.theta, target="numpy", seed=16)
    net.train(IMAGES[:5], progress=False)
    twin.train(IMAGES[:5])
    assert (net._state.plasticity.activity >= 3.0).any() and (net._state.plasticity.activity < 3.0).any()
    recalled_v = twin._model.plasticity.brian2_test_thresholds(config, twin._theta_v, twin.rule_state)
    np.testing.assert_allclose(recalled_v * 1e3, net.test_thresholds(), rtol=0, atol=1e-9)
    gained = twin._model.plasticity.brian2_test_weights(config, twin.weights, twin.rule_state)
    np.testing.assert_allclose(gained, net.test_weights(), rtol=1e-12, atol=0)
    counts, _ = twin.respond(IMAGES[5:], stream=STREAM_TEST)
    np.testing.assert_array_equal(counts, net.respond(IMAGES[5:], stream=STREAM_TEST, n_jobs=1, progress=False))


#: The capacity budget acting on 12 neurons within BUDGET_IMAGES: a neuron starts after 3 spikes and
#: commits after 10 + 40 f of them, f = clip((free - 2) / 10, 0, 1).
BUDGET = dataclasses.replace(OFF, consolidate=True, hold_threshold=True, theta_hold=0.5, commit_spikes=10.0,
                             recall_at_commit=True, capacity_budget=True, budget_extra_spikes=40.0,
                             budget_reserve_neurons=2.0, budget_full_neurons=12.0,
                             budget_start_spikes=3.0)
BUDGET_IMAGES = np.concatenate([IMAGES] * 3)


def _trained_budget(p: MetaplasticParams, images=BUDGET_IMAGES, **config) -> Network:
    net = Network(_config(p).replace(**config), seed=16)
    net.train(images, progress=False)
    return net


def test_capacity_budget_matches_naive() -> None:
    net = _trained_like_naive(_config(BUDGET), BUDGET_IMAGES)
    # it acts: some neurons started with less than the whole extra, and the run differs from A + E
    budget = net._state.plasticity.significance[4]
    started = budget > 0.0
    assert started.any() and np.all(budget[started] >= 10.0) and np.all(budget[started] <= 50.0)
    assert np.any(budget[started] < 50.0)
    uniform = _trained_budget(dataclasses.replace(BUDGET, capacity_budget=False, commit_spikes=50.0))
    assert not np.array_equal(net.weights, uniform.weights)


def test_capacity_budget_at_its_special_cases() -> None:
    """Analytic: no extra (E = 0), or a reserve as large as the network (f = 0 for every neuron), is the
    run without the budget, bit for bit, at the same A (test thresholds included: the referenced recall
    subtracts nothing); with R0 = 0 and R1 = 1 every neuron that starts finds f = 1 (it is itself
    free), so every budget is A + E and the
    run is the one at commit_spikes = A + E without the budget (weights, thresholds, counts; at test
    time the same thresholds without the referenced recall, and with it theta_plus E less for every
    committed neuron)."""
    none = _trained_budget(dataclasses.replace(BUDGET, budget_extra_spikes=0.0))
    plain = _trained_budget(dataclasses.replace(BUDGET, capacity_budget=False))
    assert np.array_equal(none.weights, plain.weights) and np.array_equal(none.theta, plain.theta)
    assert np.array_equal(none.test_thresholds(), plain.test_thresholds())
    reserved = _trained_budget(dataclasses.replace(BUDGET, budget_reserve_neurons=12.0, budget_full_neurons=20.0))
    assert np.array_equal(reserved.weights, plain.weights) and np.array_equal(reserved.theta, plain.theta)
    assert np.array_equal(reserved.test_thresholds(), plain.test_thresholds())
    # ... also when the start is set above the commitment count: a neuron starts no later than it commits
    late = _trained_budget(dataclasses.replace(BUDGET, budget_reserve_neurons=12.0, budget_full_neurons=20.0,
                                               budget_start_spikes=25.0))
    assert np.array_equal(late.weights, plain.weights) and np.array_equal(late.test_thresholds(),
                                                                          plain.test_thresholds())
    assert (plain._state.plasticity.activity >= 10.0).any()  # neurons committed: the cases are not empty
    whole = dict(budget_reserve_neurons=0.0, budget_full_neurons=1.0)
    full = _trained_budget(dataclasses.replace(BUDGET, **whole, recall_referenced=False))
    uniform = _trained_budget(dataclasses.replace(BUDGET, capacity_budget=False, commit_spikes=50.0))
    assert np.array_equal(full.weights, uniform.weights) and np.array_equal(full.theta, uniform.theta)
    assert np.array_equal(full._state.plasticity.activity, uniform._state.plasticity.activity)
    assert np.array_equal(full.test_thresholds(), uniform.test_thresholds())
    referenced = _trained_budget(dataclasses.replace(BUDGET, **whole))
    committed = uniform._state.plasticity.activity >= 50.0
    assert committed.any()
    drop = referenced.config.excitatory.theta_plus_mv * 40.0
    np.testing.assert_array_equal(referenced.test_thresholds(),
                                  uniform.test_thresholds() - np.where(committed, drop, 0.0))
    p = BUDGET
    assert budget_head_start(p, 12) == 0.0 and budget_head_start(p, 100) == 0.0
    assert budget_head_start(p, 7) == 20.0 and budget_head_start(p, 2) == 40.0 and budget_head_start(p, 0) == 40.0
    # the share f (reserve 2, full 12): 0 up to the reserve, 1 from the full size, linear between; E (1 - f)
    assert [budget_share(p, free) for free in (0, 2, 7, 12, 100)] == [0.0, 0.0, 0.5, 1.0, 1.0]
    assert all(budget_head_start(p, free) == p.budget_extra_spikes * (1.0 - budget_share(p, free))
               for free in range(14))


def test_capacity_budget_first_starts_get_the_whole_extra_and_later_ones_less() -> None:
    """Analytic, step by step: after each image, every neuron that reached the start in it has budget
    A + E min(1, F / R), F the neurons not started before that image, and its count has the head start
    E - E f on its spikes."""
    config = _config(BUDGET).replace(input__max_presentations=1)  # one presentation per image
    net = Network(config, seed=16)
    spikes = np.zeros(12)
    for image in BUDGET_IMAGES:
        before = net._state.plasticity.significance[4].copy()
        counts_before = net._state.plasticity.activity.copy()
        net.train(image[None], progress=False)
        after = net._state.plasticity.significance[4]
        new = (before == 0.0) & (after > 0.0)
        f = min(1.0, max(0.0, (np.sum(before == 0.0) - 2.0) / 10.0))
        spikes = spikes + (net._state.plasticity.activity - counts_before) - np.where(new, 40.0 * (1.0 - f), 0.0)
        assert np.all(after[new] == 10.0 + 40.0 * f)
        assert np.all(spikes[new] >= 3.0) and np.all(spikes[(before == 0.0) & ~new] < 3.0)
    assert np.any((after > 0.0) & (after < 50.0))  # some started after others: less than the whole extra
    np.testing.assert_allclose(net._state.plasticity.activity, spikes + np.where(after > 0.0, 50.0 - after, 0.0),
                               rtol=0, atol=1e-9)


def test_referenced_recall_removes_the_rise_beyond_the_common_budget() -> None:
    """A committed neuron answers with its threshold at commitment less theta_plus (A_j - A); without
    ``recall_referenced`` with the threshold at commitment; training is the same either way."""
    net = _trained_budget(BUDGET)
    off = _trained_budget(dataclasses.replace(BUDGET, recall_referenced=False))
    assert np.array_equal(net.weights, off.weights) and np.array_equal(net.theta, off.theta)
    tr = net._state.plasticity
    committed = tr.activity >= 50.0
    assert committed.any()
    theta_plus = net.config.excitatory.theta_plus_mv
    expected = np.where(committed, tr.significance[3] - theta_plus * (tr.significance[4] - 10.0), net.theta)
    np.testing.assert_array_equal(net.test_thresholds(), expected)
    np.testing.assert_array_equal(off.test_thresholds(), np.where(committed, tr.significance[3], net.theta))
    assert np.any(net.test_thresholds() < off.test_thresholds())
    np.testing.assert_array_equal(recall_thresholds(net.config, net.theta, tr.activity, tr.significance[3],
                                                    tr.significance[4]), expected)


def test_brian2_twin_agrees_with_the_capacity_budget() -> None:
    """Learning with the budget (the twin's step is :func:`after_presentation_numpy` on the whole
    population), then answering with learning off (the referenced recall): the twin gives the same
    budgets, recalled thresholds and spikes."""
    pytest.importorskip("brian2")
    from spikedyn.reference.brian2 import Brian2Network

    # a smaller extra than BUDGET's, so that a neuron spends its whole budget within 8 images
    p = dataclasses.replace(BUDGET, budget_extra_spikes=25.0)
    config = _config(p)
    net = Network(config, seed=16)
    twin = Brian2Network(config, net.weights, net.theta, target="numpy", seed=16)
    net.train(BUDGET_IMAGES[:8], progress=False)
    twin.train(BUDGET_IMAGES[:8])
    np.testing.assert_array_equal(twin.rule_state["budget"], net._state.plasticity.significance[4])
    full = commit_count(p)  # A + E: a neuron at it spent its whole budget
    assert (net._state.plasticity.activity >= full).any() and np.any(twin.rule_state["budget"] < full)
    recalled_v = twin._model.plasticity.brian2_test_thresholds(config, twin._theta_v, twin.rule_state)
    np.testing.assert_allclose(recalled_v * 1e3, net.test_thresholds(), rtol=0, atol=1e-9)
    counts, _ = twin.respond(BUDGET_IMAGES[8:10], stream=STREAM_TEST)
    np.testing.assert_array_equal(counts, net.respond(BUDGET_IMAGES[8:10], stream=STREAM_TEST, n_jobs=1,
                                                      progress=False))


def test_novelty_gate_at_the_extremes() -> None:
    """Vigilance 0: no input is ever novel, so the run is the one without the gate, bit for bit (the
    gains are exactly 1); a huge vigilance makes every input novel once ``S_min`` spikes arrived."""
    base = dataclasses.replace(OFF, consolidate=True, commit_spikes=3.0)
    never = _trained(dataclasses.replace(base, novelty=True, vigilance=0.0))
    without = _trained(base)
    assert np.array_equal(never.weights, without.weights) and np.array_equal(never.theta, without.theta)
    always = _trained(dataclasses.replace(base, novelty=True, vigilance=1e6, novelty_boost=1.0))
    assert not np.array_equal(always.weights, without.weights)


def test_section_checks() -> None:
    with pytest.raises(ConfigError, match="theta_hold"):
        _config(MetaplasticParams(theta_hold=1.5))
    with pytest.raises(ConfigError, match="tau_fatigue_ms"):
        _config(MetaplasticParams(tau_fatigue_ms=0.0))
    with pytest.raises(ConfigError, match="novelty_after_spikes"):
        _config(MetaplasticParams(novelty=True, novelty_after_spikes=0))
    with pytest.raises(ConfigError, match="turn metaplastic.consolidate on"):
        _config(MetaplasticParams(capacity_budget=True, consolidate=False))
    with pytest.raises(ConfigError, match="recall_referenced"):
        _config(MetaplasticParams(capacity_budget=True, recall_at_commit=False))
    with pytest.raises(ConfigError, match="budget_full_neurons"):
        _config(MetaplasticParams(budget_full_neurons=0.0))
    with pytest.raises(ConfigError, match="budget_reserve_neurons=1600.0 must be below"):
        _config(MetaplasticParams(budget_reserve_neurons=1600.0))
    assert _config(MetaplasticParams(recall_at_commit=False))  # the referenced recall needs it only with the budget
    config = NetworkConfig(model="metaplastic").replace(metaplastic__fatigue=True)
    assert NetworkConfig.from_toml(config.to_toml()) == config


def test_brian2_twin_refuses_the_novelty_gate() -> None:
    pytest.importorskip("brian2")
    from spikedyn.reference import validate as validation

    config = _config(ALL_ON)
    with pytest.raises(ConfigError, match="novelty"):
        validation.validate(config, IMAGES[:1], learn=True, target="numpy", seed=0, progress=False)


def test_brian2_twin_agrees_with_fatigue_and_decorrelation() -> None:
    pytest.importorskip("brian2")
    from test_brian2 import assert_agree

    from spikedyn.reference import validate as validation

    config = _config(dataclasses.replace(ALL_ON, novelty=False, decorrelate=True, decorrelation_rate=0.3))
    s = validation.validate(config, IMAGES, learn=True, target="numpy", seed=16, progress=False)
    assert_agree(s, learn=True)
    net = Network(config, seed=16)
    net.train(IMAGES, progress=False)
    assert net.update_counts()["decay"] > 0  # the decorrelation acted in these presentations


def test_networks_saved_before_the_recall_load_without_it(tmp_path) -> None:
    """A saved config without ``metaplastic.recall_at_commit`` (0.4.0's) loads with the recall off, as
    the version that wrote it ran; a user's partial config gets the current default."""
    saved = NetworkConfig(model="metaplastic").to_dict()
    del saved["metaplastic"]["recall_at_commit"]
    assert NetworkConfig.from_saved(saved).metaplastic.recall_at_commit is False
    assert NetworkConfig.from_dict(saved).metaplastic.recall_at_commit is True
    assert NetworkConfig.from_saved({"model": "metaplastic"}).metaplastic.recall_at_commit is True
    del saved["metaplastic"]["recall_gain"]  # and 0.8.0's, before the recall gain
    assert NetworkConfig.from_saved(saved).metaplastic.recall_gain is False
    assert NetworkConfig.from_saved({"model": "metaplastic"}).metaplastic.recall_gain is True
    del saved["metaplastic"]["recall_committed_only"]  # and 0.8.0's, before the recall by committed neurons only
    assert NetworkConfig.from_saved(saved).metaplastic.recall_committed_only is False
    # with the fatigue on: 0.4.0 kept its rule state in 3 rows, which the recall's off keeps
    net = Network(NetworkConfig(model="metaplastic", n_neurons=12, timing=SHORT).replace(
        metaplastic__recall_at_commit=False, metaplastic__fatigue=True), seed=3)
    net.train(IMAGES[:2], progress=False)
    net.save(tmp_path / "run")
    meta = tmp_path / "run" / "run.json"
    import json
    data = json.loads(meta.read_text())
    del data["config"]["metaplastic"]["recall_at_commit"]
    meta.write_text(json.dumps(data))
    loaded = Network.load(tmp_path / "run")
    assert loaded.config == net.config and np.array_equal(loaded.weights, net.weights)
    assert loaded._state.plasticity.significance.shape == (3, 12)
    np.testing.assert_array_equal(loaded._state.plasticity.significance, net._state.plasticity.significance)
