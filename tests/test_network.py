"""Tests for spikedyn.simulation (the time loop and Network): the event-driven kernel against a dense
naive simulation, determinism, the inference protocol, the rest period and config validation."""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import math
from typing import NamedTuple

import numpy as np
import pytest
from helpers import assert_states_equal, bright_images
from naive import KERNEL_STATE_NAMES, NaiveResult, poisson_rasters, simulate_naive

from spikedyn.config import ExcitatoryParams, InputParams, NetworkConfig, StdpParams, TimingParams
from spikedyn.core.barrier import new_words, one_thread
from spikedyn.core.encoding import STREAM_ASSIGN, STREAM_TEST, STREAM_TRAIN
from spikedyn.cost.operations import new_counters
from spikedyn.errors import ConfigError, SpikedynError
from spikedyn.io import interrupt
from spikedyn.models.asp import AspParams
from spikedyn.models.metaplastic import MetaplasticParams
from spikedyn.models.spikedyn import SpikeDynParams
from spikedyn.simulation.loop import _train_batch
from spikedyn.simulation.network import Network
from spikedyn.simulation.state import _new_buffers, _recorder, state_arrays


class Case(NamedTuple):
    config: NetworkConfig
    images: np.ndarray
    seed: int


def _cases() -> dict[str, Case]:
    retry3 = InputParams(max_presentations=3)
    short = TimingParams(present_ms=100.0, rest_ms=50.0)
    cases = {
        # Defaults but at most 3 presentations; one weak image and a blank one force retries.
        "diehl-cook": Case(NetworkConfig(model="diehl-cook", n_neurons=12, input=retry3),
                           bright_images(1, [150, 40, 120, 0, 200]), 3),
        "lateral": Case(NetworkConfig(model="lateral", n_neurons=12, input=retry3),
                        bright_images(2, [150, 40, 120, 80, 200]), 4),
        # Lock-out longer than the refractory period ([B2EX]), strong STDP that clips
        # at 0 and w_max, short presentations.
        "diehl-cook-lockout-strong-stdp": Case(
            NetworkConfig(model="diehl-cook", n_neurons=16, input=retry3, timing=short,
                          excitatory=ExcitatoryParams(lockout_ms=25.0, theta_plus_mv=0.5),
                          stdp=StdpParams(nu_pre=0.05, nu_post=0.6, w_max=0.35, w_init_high=0.3)),
            bright_images(5, [300, 250, 60, 200, 280, 220]), 11),
        "lateral-strong-stdp": Case(
            NetworkConfig(model="lateral", n_neurons=10, input=InputParams(max_presentations=4, min_spikes=8),
                          timing=short, stdp=StdpParams(nu_pre=0.02, nu_post=0.5, w_max=0.4, w_init_high=0.3)),
            bright_images(6, [300, 30, 250, 260]), 12),
        # w_max below the weights the normalisation produces: the presynaptic rule
        # then clips every weight it reads, post1 trace or not.
        # SpikeDyn's rule with every mechanism strong enough to act within a few samples.
        "spikedyn": Case(
            NetworkConfig(model="spikedyn", n_neurons=12, input=retry3, timing=short,
                          spikedyn=SpikeDynParams(rate_half_spikes=3.0, theta_hold=0.9, weight_decay=True,
                                                  decay_rate=0.3,
                                                  decay_below=1.0, min_update=2e-3)),
            bright_images(8, [150, 40, 220, 120, 200]), 14),
        # ASP with a fast leak and significance.
        "asp": Case(
            NetworkConfig(model="asp", n_neurons=12, input=retry3, timing=short,
                          asp=AspParams(beta=0.5, leak_rate=0.2)),
            bright_images(9, [150, 40, 220, 120, 200]), 15),
        # Consolidating STDP with every mechanism acting within a few samples (tests/test_metaplastic.py
        # has each alone).
        "metaplastic": Case(
            NetworkConfig(model="metaplastic", n_neurons=12, input=retry3, timing=short,
                          metaplastic=MetaplasticParams(commit_spikes=3.0, theta_hold=0.8, decay_threshold=True,
                                                        tau_theta_ms=2e3, fatigue=True, fatigue_per_spike=1.0,
                                                        tau_fatigue_ms=1e3, novelty=True, vigilance=1.3,
                                                        novelty_boost=0.7, novelty_after_spikes=20)),
            bright_images(10, [150, 40, 220, 120, 200, 180, 160, 210]), 16),
        # Ink normalisation: images of 10 to 400 lit pixels and a blank one, gains clipped both ways.
        "lateral-ink-normalised": Case(
            NetworkConfig(model="lateral", n_neurons=12, timing=short,
                          input=InputParams(max_presentations=3, normalise_mean_pixel=33.3, max_gain=2.0)),
            bright_images(17, [150, 40, 400, 10, 0, 200]), 18),
        "lateral-low-w-max": Case(
            NetworkConfig(model="lateral", n_neurons=10, timing=short, input=retry3,
                          stdp=StdpParams(w_max=0.12, w_init_high=0.12)),
            bright_images(7, [250, 200, 280]), 13),
    }
    return cases


CASES = _cases()


@functools.lru_cache(maxsize=None)
def trained(name: str) -> tuple[Network, object, NaiveResult, np.ndarray, np.ndarray]:
    """Train the network and the naive reference on a case (cached for the module)."""
    case = CASES[name]
    net = Network(case.config, seed=case.seed)
    w0, theta0 = net.weights.copy(), net.theta.copy()
    naive = simulate_naive(case.config, w0, theta0,
                           poisson_rasters(case.config, case.images, seed=case.seed, stream=STREAM_TRAIN),
                           True, n_samples=len(case.images))
    stats = net.train(case.images, progress=False)
    return net, stats, naive, w0, theta0


def assert_state_equal(net: Network, naive_state) -> None:
    kernel = state_arrays(net._state)
    for name, kernel_name in KERNEL_STATE_NAMES.items():
        a, b = kernel[kernel_name], getattr(naive_state, name)
        assert a.shape == b.shape, name
        assert np.array_equal(a, b), f"state field {name} differs"
    assert int(net._state.clock[0]) == naive_state.clock


# ----------------------------------------------------------------------------------------
# (a) training, bit for bit against the dense simulation
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(CASES))
def test_train_matches_naive(name: str) -> None:
    case = CASES[name]
    net, stats, naive, w0, theta0 = trained(name)
    n = len(case.images)
    # The simulation did something worth comparing.
    assert naive.input_spikes > 1000
    assert naive.exc_spikes > n
    assert naive.potentiations > 0 and naive.depressions > 0
    assert not np.array_equal(naive.theta, theta0)
    # Bit-identical weights, thresholds and dynamic state.
    assert np.array_equal(net.weights, naive.weights), np.max(np.abs(net.weights - naive.weights))
    assert np.array_equal(net.theta, naive.theta)
    assert_state_equal(net, naive.state)
    # Statistics.
    assert stats.train_samples == n and net.samples_seen == n
    assert stats.presentations == int(naive.attempts.sum())
    assert stats.mean_spikes_per_sample == naive.counts.sum() / n
    steps = case.config.timing.present_steps + case.config.timing.rest_steps
    assert int(net._state.clock[0]) == stats.presentations * steps


@pytest.mark.parametrize("name", list(CASES))
def test_train_kernel_counts_and_attempts_match_naive(name: str) -> None:
    """Per-sample spike counts and presentation numbers, read from the training kernel."""
    case = CASES[name]
    _, _, naive, _, _ = trained(name)
    net = Network(case.config, seed=case.seed)
    n, n_neurons = len(case.images), case.config.n_neurons
    counts = np.full((n, n_neurons), -1, np.int32)
    attempts = np.zeros(n, np.int32)
    buf = _new_buffers(net._kp, case.config.n_input, n_neurons)
    words = new_words()  # as Network.train calls it on one thread: a barrier of one
    _train_batch(net._kp, net._state, buf, net.weights, net.theta, case.images,
                 np.uint64(case.seed), np.uint64(0), counts, attempts, new_counters(), interrupt.STOP,
                 np.full(1, -1, np.int64), one_thread(words, case.config.n_input), _recorder(0, 0, 0, 0))
    np.testing.assert_array_equal(counts, naive.counts)
    np.testing.assert_array_equal(attempts, naive.attempts)
    assert np.array_equal(net.weights, naive.weights)


def test_cases_exercise_retries_clipping_and_the_cap() -> None:
    results = {name: trained(name)[2] for name in CASES}
    assert any(r.attempts.max() > 1 for r in results.values())
    dc = results["diehl-cook"]
    cap = CASES["diehl-cook"].config.input.max_presentations
    assert dc.attempts[3] == cap and dc.counts[3].sum() == 0  # the blank image
    assert dc.inh_spikes > 0
    assert sum(r.attempts.sum() > len(r.attempts) for r in results.values()) >= 2
    assert results["diehl-cook-lockout-strong-stdp"].clipped > 0
    assert results["lateral-strong-stdp"].clipped > 0
    # The normalisation lifted weights above w_max and the presynaptic rule clipped
    # them for neurons with no post1 trace (the kernel's dense depression path).
    assert any(r.clipped_without_post1 > 0 for r in results.values())
    # A sample that needed a retry and then succeeded.
    assert any(np.any((r.attempts > 1) & (r.counts.sum(axis=1) >= CASES[name].config.input.min_spikes))
               for name, r in results.items())


@pytest.mark.mnist
@pytest.mark.parametrize("model", ["diehl-cook", "lateral"])
def test_train_and_respond_match_naive_on_real_mnist(model: str, mnist_dir) -> None:
    from spikedyn.io.data import load_split

    images, _ = load_split("train", mnist_dir, download=False, progress=False)
    images = images[:3].reshape(3, -1)
    config = NetworkConfig(model=model, n_neurons=10, input=InputParams(max_presentations=3))
    net = Network(config, seed=8)
    naive = simulate_naive(config, net.weights, net.theta,
                           poisson_rasters(config, images, seed=8, stream=STREAM_TRAIN), True, n_samples=3)
    net.train(images, progress=False)
    assert naive.potentiations > 0
    assert np.array_equal(net.weights, naive.weights) and np.array_equal(net.theta, naive.theta)
    assert_state_equal(net, naive.state)
    resp = simulate_naive(config, net.weights, net.theta,
                          poisson_rasters(config, images, seed=8, stream=STREAM_TEST), False, n_samples=3)
    np.testing.assert_array_equal(net.respond(images, stream=STREAM_TEST, n_jobs=1, progress=False), resp.counts)


# ----------------------------------------------------------------------------------------
# (b) inference, bit for bit against the dense simulation
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(CASES))
def test_respond_matches_naive(name: str) -> None:
    case = CASES[name]
    net, _, _, _, _ = trained(name)
    weights, theta = net.weights.copy(), net.theta.copy()
    # inference answers with the rule's test thresholds and weights (metaplastic: the recalled
    # thresholds and the gained weights, tested against their definitions in
    # tests/test_metaplastic.py; every other rule: theta and the weights themselves)
    test_theta, test_weights = net.test_thresholds().copy(), net.test_weights().copy()
    state = copy.deepcopy(net._state)
    first = 7
    naive = simulate_naive(case.config, test_weights, test_theta,
                           poisson_rasters(case.config, case.images, seed=case.seed, stream=STREAM_TEST,
                                           first_index=first),
                           False, n_samples=len(case.images))
    counts = net.respond(case.images, stream=STREAM_TEST, first_index=first, n_jobs=1, progress=False)
    assert counts.dtype == np.int32 and counts.shape == (len(case.images), case.config.n_neurons)
    np.testing.assert_array_equal(counts, naive.counts)
    assert naive.exc_spikes > 0
    # Frozen: inference changes neither weights, thresholds nor the training state.
    assert np.array_equal(naive.weights, test_weights) and np.array_equal(naive.theta, test_theta)
    assert np.array_equal(net.weights, weights) and np.array_equal(net.theta, theta)
    assert_states_equal(net._state, state)


def test_respond_retries_too() -> None:
    case = CASES["diehl-cook"]
    net = trained("diehl-cook")[0]
    naive = simulate_naive(case.config, net.weights, net.theta,
                           poisson_rasters(case.config, case.images, seed=case.seed, stream=STREAM_ASSIGN),
                           False, n_samples=len(case.images))
    assert naive.attempts.max() == case.config.input.max_presentations
    np.testing.assert_array_equal(net.respond(case.images, stream=STREAM_ASSIGN, n_jobs=1, progress=False),
                                  naive.counts)


# ----------------------------------------------------------------------------------------
# (c) determinism
# ----------------------------------------------------------------------------------------
SMALL = NetworkConfig(n_neurons=10, input=InputParams(max_presentations=3))
SMALL_IMAGES = bright_images(9, [150, 200, 120, 180])


def test_same_seed_is_bit_identical_and_different_seed_is_not() -> None:
    def run(seed: int) -> Network:
        net = Network(SMALL, seed=seed)
        net.train(SMALL_IMAGES, progress=False)
        return net

    a, b, c = run(5), run(5), run(6)
    assert np.array_equal(a.weights, b.weights) and np.array_equal(a.theta, b.theta)
    assert_states_equal(a._state, b._state)
    assert not np.array_equal(a.weights, c.weights)
    assert not np.array_equal(a.theta, c.theta)
    ra = a.respond(SMALL_IMAGES, stream=STREAM_TEST, n_jobs=1, progress=False)
    rb = b.respond(SMALL_IMAGES, stream=STREAM_TEST, n_jobs=1, progress=False)
    assert np.array_equal(ra, rb)


def test_initial_weights_come_from_the_seed() -> None:
    net = Network(SMALL, seed=42)
    expected = np.random.default_rng(42).uniform(SMALL.stdp.w_init_low, SMALL.stdp.w_init_high, (784, 10))
    assert np.array_equal(net.weights, expected)
    assert net.weights.dtype == np.float64 and net.weights.flags.c_contiguous
    assert np.array_equal(net.theta, np.full(10, SMALL.excitatory.theta_init_mv))
    assert net.samples_seen == 0


# ----------------------------------------------------------------------------------------
# (d) inference is independent of threads, batches and position
# ----------------------------------------------------------------------------------------
def test_respond_independent_of_jobs_and_batches() -> None:
    net = trained("lateral")[0]
    images = bright_images(10, [160, 40, 220, 90, 180, 130, 0, 250, 75, 140, 110])
    reference = net.respond(images, stream=STREAM_TEST, n_jobs=1, batch_size=100, progress=False)
    # Every image but the blank one makes the network fire (observed: 4-13 spikes each).
    assert np.all(np.delete(reference.sum(axis=1), 6) >= 2) and reference[6].sum() == 0
    for n_jobs, batch_size in ((2, 100), (2, 1), (1, 1), (2, 3), (1, 4), (2, 7)):
        counts = net.respond(images, stream=STREAM_TEST, n_jobs=n_jobs, batch_size=batch_size, progress=False)
        assert np.array_equal(counts, reference), (n_jobs, batch_size)
    # Each sample depends only on its own stream index.
    tail = net.respond(images[4:], stream=STREAM_TEST, first_index=4, n_jobs=2, batch_size=2, progress=False)
    assert np.array_equal(tail, reference[4:])
    # ... and on the stream.
    other = net.respond(images, stream=STREAM_ASSIGN, n_jobs=1, progress=False)
    assert not np.array_equal(other, reference)


def test_respond_accepts_images_as_rows_or_squares() -> None:
    net = trained("lateral")[0]
    images = bright_images(12, [150, 200])
    flat = net.respond(images, stream=STREAM_TEST, n_jobs=1, progress=False)
    square = net.respond(images.reshape(2, 28, 28), stream=STREAM_TEST, n_jobs=1, progress=False)
    assert np.array_equal(flat, square)


# ----------------------------------------------------------------------------------------
# (e) the rest period and the carried-over state
# ----------------------------------------------------------------------------------------
def test_training_in_pieces_equals_training_at_once() -> None:
    whole = Network(SMALL, seed=1)
    whole.train(SMALL_IMAGES, progress=False)
    pieces = Network(SMALL, seed=1)
    for k in range(len(SMALL_IMAGES)):
        pieces.train(SMALL_IMAGES[k:k + 1], progress=False)
    batched = Network(SMALL, seed=1)
    batched.train(SMALL_IMAGES, progress=False, batch_size=1)
    for other in (pieces, batched):
        assert np.array_equal(whole.weights, other.weights)
        assert np.array_equal(whole.theta, other.theta)
        assert_states_equal(whole._state, other._state)
        assert other.samples_seen == whole.samples_seen == len(SMALL_IMAGES)


def test_rest_state_is_carried_to_the_next_presentation() -> None:
    """After a presentation the network rests for rest_steps (simulated, not reset), and
    the next sample starts from that state: the naive simulation that carries the state
    over matches bit for bit, one that resets the network between samples does not."""
    name = "diehl-cook"
    case = CASES[name]
    net, _, carried, w0, theta0 = trained(name)
    assert np.array_equal(net.weights, carried.weights)
    reset = simulate_naive(case.config, w0, theta0,
                           poisson_rasters(case.config, case.images, seed=case.seed, stream=STREAM_TRAIN),
                           True, n_samples=len(case.images), reset_between_samples=True)
    assert not np.array_equal(net.weights, reset.weights)
    # After a single sample, the state is the one at the end of the rest period:
    # clock advanced by present + rest steps per presentation, membranes not at rest.
    one = Network(case.config, seed=case.seed)
    stats = one.train(case.images[:1], progress=False)
    t = case.config.timing
    assert int(one._state.clock[0]) == stats.presentations * (t.present_steps + t.rest_steps)
    assert np.any(one._state.exc.v != case.config.excitatory.v_rest_mv)
    single = simulate_naive(case.config, w0, theta0,
                            poisson_rasters(case.config, case.images[:1], seed=case.seed, stream=STREAM_TRAIN),
                            True, n_samples=1)
    assert_state_equal(one, single.state)  # the state is that of the stepped rest period


def test_rest_period_decays_conductances_and_thresholds() -> None:
    """rest_ms without input: theta keeps decaying (learning) and conductances decay."""
    config = dataclasses.replace(SMALL, excitatory=ExcitatoryParams(tau_theta_ms=1000.0))
    net = Network(config, seed=2)
    net.train(SMALL_IMAGES[:1], progress=False)
    theta_after = net.theta.copy()
    naive = simulate_naive(config, Network(config, seed=2).weights, np.full(10, 20.0),
                           poisson_rasters(config, SMALL_IMAGES[:1], seed=2, stream=STREAM_TRAIN), True, n_samples=1)
    assert np.array_equal(theta_after, naive.theta)
    # A neuron that never fired: theta_k = 20 (1 - dt/tau_theta)^k over every step,
    # presentation and rest period alike.
    steps = int(net._state.clock[0])
    t = config.timing
    assert steps == t.present_steps + t.rest_steps
    silent = net._state.exc.last_spike < 0
    assert silent.any()
    np.testing.assert_allclose(theta_after[silent], 20.0 * (1 - 0.5 / 1000.0) ** steps, rtol=1e-12)
    assert np.all(theta_after[silent] < 20.0 * (1 - 0.5 / 1000.0) ** t.present_steps * 0.9)


# ----------------------------------------------------------------------------------------
# (f) configuration
# ----------------------------------------------------------------------------------------
def replace_in(part: str, **changes):
    base = NetworkConfig()
    return lambda: NetworkConfig(**{part: dataclasses.replace(getattr(base, part), **changes)})


BAD_CONFIGS = {
    "n_neurons=0": (lambda: NetworkConfig(n_neurons=0), "n_neurons"),
    "n_neurons=-3": (lambda: NetworkConfig(n_neurons=-3), "n_neurons"),
    "n_neurons=2.5": (lambda: NetworkConfig(n_neurons=2.5), "n_neurons"),
    "n_neurons=True": (lambda: NetworkConfig(n_neurons=True), "n_neurons"),
    "n_input=0": (lambda: NetworkConfig(n_input=0), "n_input"),
    "model": (lambda: NetworkConfig(model="bogus"), "unknown model"),
    "tau_m<0": (replace_in("excitatory", tau_m_ms=-100.0), "excitatory.tau_m_ms"),
    "tau_ge=0": (replace_in("excitatory", tau_ge_ms=0.0), "excitatory.tau_ge_ms"),
    "tau_theta=nan": (replace_in("excitatory", tau_theta_ms=math.nan), "excitatory.tau_theta_ms"),
    "inh tau_m<0": (replace_in("inhibitory", tau_m_ms=-1.0), "inhibitory.tau_m_ms"),
    "tau_pre<0": (replace_in("stdp", tau_pre_ms=-20.0), "stdp.tau_pre_ms"),
    "tau_post2=0": (replace_in("stdp", tau_post2_ms=0.0), "stdp.tau_post2_ms"),
    "dt=0": (replace_in("timing", dt_ms=0.0), "timing.dt_ms"),
    "rest<0": (replace_in("timing", rest_ms=-1.0), "timing.rest_ms"),
    "present not whole": (replace_in("timing", present_ms=350.25), "present_ms"),
    "refractory not whole": (replace_in("excitatory", refractory_ms=5.2), "excitatory.refractory_ms"),
    "refractory<0": (replace_in("excitatory", refractory_ms=-0.5), "excitatory.refractory_ms"),
    "lockout<0": (replace_in("excitatory", lockout_ms=-1.0), "excitatory.lockout_ms"),
    "w_exc_inh<0": (replace_in("inhibitory", w_exc_inh=-1.0), "inhibitory.w_exc_inh"),
    "w_lateral<0": (replace_in("lateral", w_lateral=-1.0), "lateral.w_lateral"),
    "w_max=0": (replace_in("stdp", w_max=0.0, w_init_low=0.0, w_init_high=0.0), "stdp.w_max"),
    "nu_pre<0": (replace_in("stdp", nu_pre=-1e-4), "stdp.nu_pre"),
    "weight_sum=0": (replace_in("stdp", weight_sum=0.0), "stdp.weight_sum"),
    "w_init order": (replace_in("stdp", w_init_low=0.3, w_init_high=0.2), "w_init_low"),
    "w_init > w_max": (replace_in("stdp", w_max=0.25), "w_max"),
    "rate<=0": (replace_in("input", rate_hz_per_unit=0.0), "input.rate_hz_per_unit"),
    "rate too high": (replace_in("input", rate_hz_per_unit=10.0), "exceed one spike"),
    "retries too high": (replace_in("input", max_presentations=100), "exceed one spike"),
    "max_presentations=0": (replace_in("input", max_presentations=0), "max_presentations"),
    "min_spikes<0": (replace_in("input", min_spikes=-1), "input.min_spikes"),
}


@pytest.mark.parametrize("name", list(BAD_CONFIGS))
def test_bad_config_raises_config_error(name: str) -> None:
    make, match = BAD_CONFIGS[name]
    with pytest.raises(ConfigError, match=match) as info:
        make()
    assert isinstance(info.value, SpikedynError) and isinstance(info.value, ValueError)
    assert "\n" not in str(info.value)


def test_default_config_and_steps() -> None:
    c = NetworkConfig()
    assert (c.model, c.n_neurons, c.n_input) == ("diehl-cook", 100, 784)
    assert (c.timing.present_steps, c.timing.rest_steps) == (700, 300)
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.n_neurons = 5  # type: ignore[misc]


@pytest.mark.parametrize("config", [
    NetworkConfig(),
    NetworkConfig(model="lateral", n_neurons=7, excitatory=ExcitatoryParams(lockout_ms=50.0, tau_theta_ms=math.inf),
                  stdp=StdpParams(nu_post=0.02), timing=TimingParams(rest_ms=0.0)),
])
def test_config_round_trip(config: NetworkConfig) -> None:
    assert NetworkConfig.from_dict(config.to_dict()) == config
    assert NetworkConfig.from_dict(json.loads(config.to_json())) == config
    assert json.loads(config.to_json()) == config.to_dict()


def test_config_rejects_unknown_keys() -> None:
    with pytest.raises(ConfigError, match="bogus"):
        NetworkConfig.from_dict({"bogus": 1})
    data = NetworkConfig().to_dict()
    data["stdp"]["nu_bogus"] = 1.0
    with pytest.raises(ConfigError, match="stdp.nu_bogus"):
        NetworkConfig.from_dict(data)
    with pytest.raises(ConfigError, match="n_neurons"):
        NetworkConfig.from_dict({"n_neurons": 0})
    with pytest.raises(ConfigError, match="bogus"):
        NetworkConfig().with_overrides(bogus=3)
    with pytest.raises(ConfigError, match="n_neurons"):
        NetworkConfig().with_overrides(n_neurons=0)
    assert NetworkConfig().with_overrides(n_neurons=3).n_neurons == 3


@pytest.mark.parametrize("seed", [-1, 2**63, True, 1.5, "3"])
def test_network_rejects_bad_seed(seed) -> None:
    with pytest.raises(ConfigError, match="seed"):
        Network(SMALL, seed=seed)


def test_network_rejects_bad_images() -> None:
    net = Network(SMALL, seed=0)
    with pytest.raises(ConfigError, match="uint8"):
        net.train(np.zeros((2, 784)), progress=False)
    with pytest.raises(ConfigError, match="shape"):
        net.train(np.zeros((2, 783), np.uint8), progress=False)
    with pytest.raises(ConfigError, match="shape"):
        net.respond(np.zeros((2, 27, 28), np.uint8), stream=STREAM_TEST, progress=False)
    with pytest.raises(ConfigError, match="n_jobs"):
        net.respond(np.zeros((2, 784), np.uint8), stream=STREAM_TEST, n_jobs=0, progress=False)
    assert net.samples_seen == 0


def test_models_that_transmit_alike_share_one_inference_kernel() -> None:
    """Inference runs only the competition, the transmission and the weight storage
    (:func:`spikedyn.simulation.state.inference_params`): the models that differ only in what they
    learn compile one inference kernel; a rule with a transmission of its own keeps its record.
    (The responses themselves are checked against the naive simulation and Brian2 per model.)"""
    import numba

    from spikedyn import models
    from spikedyn.models.stdp import StdpRecord
    from spikedyn.simulation.state import inference_params, kernel_params

    def infer_type(model: str, **changes) -> str:
        config = NetworkConfig(model=model, n_neurons=5).replace(**changes)
        return str(numba.typeof(inference_params(config, kernel_params(config))))

    lateral = infer_type("lateral")
    for model in ("spikedyn", "metaplastic", "lateral-fast-recall", "lateral-no-depression"):
        assert infer_type(model) == lateral, model
    assert infer_type("asp") == infer_type("diehl-cook") != lateral
    config = NetworkConfig(model="lateral-delays", n_neurons=5)
    kp = kernel_params(config)
    assert type(inference_params(config, kp).plasticity) is type(kp.plasticity) is not StdpRecord
    assert infer_type("metaplastic", precision__weight_bits=8) != lateral  # the storage is the kernel's
    assert len({infer_type(m) for m in models.names()}) < len(models.names())


def test_centre_surround_is_the_same_network_on_the_filtered_images() -> None:
    """``input.centre_surround``: learning and answering from raw images is learning and answering, bit for
    bit, from the images :func:`~spikedyn.core.encoding.centre_surround` gives, with the filter off; the
    counted operations differ only by the filter's multiply-accumulates, once per sample."""
    from spikedyn.core.encoding import centre_surround
    from spikedyn.cost.operations import input_filter_macs

    images = bright_images(4, [300, 200, 400, 250, 350])
    off = NetworkConfig(model="lateral", n_neurons=12)
    on = off.replace(input__centre_surround=True)
    filtered = centre_surround(images)
    assert not np.array_equal(filtered, images)
    a, b = Network(on, seed=5), Network(off, seed=5)
    a.train(images[:3], progress=False)
    b.train(filtered[:3], progress=False)
    assert_states_equal(a._state, b._state)
    np.testing.assert_array_equal(a.weights, b.weights)
    np.testing.assert_array_equal(a.respond(images[3:], n_jobs=2, progress=False),
                                  b.respond(filtered[3:], n_jobs=2, progress=False))
    for phase in ("train", "inference"):
        ops_a, ops_b = a.operations(phase)["per_sample"], b.operations(phase)["per_sample"]
        assert ops_a["macs"]["model"] == input_filter_macs(on) == 784 * 53 and ops_b["macs"]["model"] == 0
        assert {k: v for k, v in ops_a.items() if k != "macs"} == {k: v for k, v in ops_b.items() if k != "macs"}


def test_centre_surround_refuses_images_that_are_not_square() -> None:
    config = NetworkConfig(model="lateral", n_neurons=4).replace(input__centre_surround=True)
    with pytest.raises(ConfigError, match=r"filters square images, got images of shape \(2, 14, 56\)"):
        Network(config, seed=0).respond(np.zeros((2, 14, 56), np.uint8), progress=False)
