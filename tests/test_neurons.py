"""Tests for spikedyn.core.neurons: the LIF step against tests/naive.py and analytic solutions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from naive import NEVER as NAIVE_NEVER
from naive import lif_params_naive, lif_step_naive

from spikedyn.config import ExcitatoryParams, NetworkConfig
from spikedyn.core.neurons import NEVER, LifParams, _newest_spike, lif_params, lif_step
from spikedyn.core.numerics import FLUSH_BELOW
from spikedyn.simulation.state import kernel_params

DEFAULT = NetworkConfig()
EXC, INH = lif_params_naive(DEFAULT)


def params(**changes) -> LifParams:
    """Excitatory kernel parameters of the default config with some fields replaced."""
    return EXC._replace(**changes)


def assert_same_step(p, v, ge, gi, theta, last_spike, t, adapt):
    spikes, (v1, ge1, gi1, th1) = lif_step(p, v, ge, gi, theta, last_spike, t, adapt_theta=adapt)
    nspikes, (v2, ge2, gi2, th2) = lif_step_naive(p, v, ge, gi, theta, last_spike, t, adapt)
    assert spikes.dtype == np.int32
    np.testing.assert_array_equal(spikes, nspikes)
    for name, a, b in (("v", v1, v2), ("ge", ge1, ge2), ("gi", gi1, gi2), ("theta", th1, th2)):
        assert a.dtype == np.float64
        assert np.array_equal(a, b), f"{name} differs: max |diff| {np.max(np.abs(a - b))}"
    return spikes, (v1, ge1, gi1, th1)


# ----------------------------------------------------------------------------------------
# Parameters
# ----------------------------------------------------------------------------------------
def test_kernel_params_match_the_config() -> None:
    for model in ("diehl-cook", "lateral"):
        config = NetworkConfig(model=model, excitatory=ExcitatoryParams(lockout_ms=25.0))
        kp = kernel_params(config)
        exc, inh = lif_params_naive(config)
        # The excitatory population without its threshold dynamics: those are the
        # threshold part's record.
        assert kp.exc == exc._replace(dt_over_tau_theta=0.0, theta_plus=0.0)
        assert (kp.threshold.dt_over_tau_theta, kp.threshold.theta_plus) == (exc.dt_over_tau_theta, exc.theta_plus)
        assert kp.exc.refractory_steps == 10 and kp.exc.lockout_steps == 50
        if model == "diehl-cook":
            assert kp.competition.lif == inh
            assert kp.competition.lif.refractory_steps == 4
        assert kp.exc.v_thresh == -72.0  # v_thresh - theta_offset: -52 - 20


def test_lif_params_converts_units() -> None:
    p = lif_params(dt_ms=0.5, tau_m_ms=100.0, v_rest_mv=-65.0, v_reset_mv=-60.0, v_thresh_mv=-52.0,
                   e_exc_mv=0.0, e_inh_mv=-100.0, tau_ge_ms=1.0, tau_gi_ms=2.0, refractory_ms=5.0,
                   lockout_ms=7.5, tau_theta_ms=1e7, theta_plus_mv=0.05)
    assert p.dt_over_tau_m == 0.005 and p.dt_over_tau_ge == 0.5 and p.dt_over_tau_gi == 0.25
    assert p.dt_over_tau_theta == 5e-8
    assert (p.refractory_steps, p.lockout_steps) == (10, 15)
    assert (p.v_rest, p.v_reset, p.v_thresh, p.theta_plus) == (-65.0, -60.0, -52.0, 0.05)
    # Defaults: no gi decay and no threshold decay (tau = inf).
    q = lif_params(dt_ms=0.5, tau_m_ms=10.0, v_rest_mv=-60.0, v_reset_mv=-45.0, v_thresh_mv=-40.0,
                   e_exc_mv=0.0, e_inh_mv=-85.0, tau_ge_ms=1.0)
    assert q.dt_over_tau_gi == 0.0 and q.dt_over_tau_theta == 0.0
    assert q.refractory_steps == 0 and q.lockout_steps == 0


def test_never_is_far_in_the_past() -> None:
    assert NEVER == NAIVE_NEVER
    # No refractory period, lock-out or trace table reaches that far.
    assert -NEVER > 10**12 / 2


# ----------------------------------------------------------------------------------------
# Against the naive reference
# ----------------------------------------------------------------------------------------
def random_state(rng: np.random.Generator, n: int, t: int, with_theta: bool):
    v = rng.uniform(-90.0, -30.0, n)
    ge = rng.exponential(1.0, n) * (rng.random(n) < 0.7)
    gi = rng.exponential(2.0, n) * (rng.random(n) < 0.5)
    # Some conductances straddle the flush threshold.
    near = rng.random(n) < 0.2
    ge[near] = FLUSH_BELOW * rng.uniform(0.5, 3.0, near.sum())
    theta = rng.uniform(0.0, 30.0, n) if with_theta else np.zeros(0)
    last_spike = np.where(rng.random(n) < 0.3, NEVER, t - rng.integers(0, 30, n))
    return v, ge, gi, theta, last_spike.astype(np.int64)


@pytest.mark.parametrize("which", ["exc", "inh"])
@pytest.mark.parametrize("adapt", [True, False])
def test_lif_step_matches_naive_on_seeded_states(which: str, adapt: bool) -> None:
    rng = np.random.default_rng(20240 + adapt)
    p = EXC if which == "exc" else INH
    fired = 0
    for trial in range(40):
        t = int(rng.integers(0, 100000))
        state = random_state(rng, 64, t, with_theta=which == "exc")
        spikes, _ = assert_same_step(p, *state, t, adapt)
        fired += spikes.size
    assert fired > 0  # the threshold branch was exercised


lif_records = st.fixed_dictionaries({
    "v_rest": st.floats(-80, -40), "v_reset": st.floats(-80, -40), "v_thresh": st.floats(-80, -20),
    "e_exc": st.floats(-10, 10), "e_inh": st.floats(-110, -70),
    "dt_over_tau_m": st.floats(1e-4, 0.5), "dt_over_tau_ge": st.floats(1e-3, 1.0),
    "dt_over_tau_gi": st.floats(0.0, 1.0), "dt_over_tau_theta": st.floats(0.0, 1e-3),
    "theta_plus": st.floats(0.0, 1.0),
    "refractory_steps": st.integers(0, 12), "lockout_steps": st.integers(0, 20),
})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record=lif_records, seed=st.integers(0, 2**32 - 1), n=st.integers(1, 40),
       with_theta=st.booleans(), adapt=st.booleans())
def test_lif_step_matches_naive_property(record, seed, n, with_theta, adapt) -> None:
    p = LifParams(**record)
    rng = np.random.default_rng(seed)
    t = int(rng.integers(0, 1000))
    state = random_state(rng, n, t, with_theta)
    assert_same_step(p, *state, t, adapt)


def quiet_state(rng: np.random.Generator, p: LifParams, n: int, t: int, with_theta: bool, margin: int):
    """A random state whose newest spike is ``gate + margin`` steps before ``t`` (margin >= 0: a
    quiet step, no neuron refractory or locked out; -1: one neuron just inside its gate)."""
    v, ge, gi, theta, _ = random_state(rng, n, t, with_theta)
    gate = max(p.refractory_steps, p.lockout_steps)
    last_spike = np.where(rng.random(n) < 0.4, NEVER, t - gate - margin - rng.integers(0, 40, n))
    last_spike[rng.integers(n)] = t - gate - margin  # the newest spike, exactly at the edge
    return v, ge, gi, theta, last_spike.astype(np.int64)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record=lif_records, seed=st.integers(0, 2**32 - 1), n=st.integers(1, 40), with_theta=st.booleans(),
       adapt=st.booleans(), margin=st.integers(-1, 3))
def test_quiet_and_gated_steps_match_naive(record, seed, n, with_theta, adapt, margin) -> None:
    """A quiet step (no spike in the last max(refractory, lockout) steps) skips the per-neuron gate
    tests (spikedyn.core.neurons._lif_integrate): the same bits as the naive step, on both sides of
    the edge."""
    p = LifParams(**record)
    rng = np.random.default_rng(seed)
    t = int(rng.integers(100, 1000))
    state = quiet_state(rng, p, n, t, with_theta, margin)
    assert (t - _newest_spike(state[4]) >= max(p.refractory_steps, p.lockout_steps)) == (margin >= 0)
    assert_same_step(p, *state, t, adapt)


def test_quiet_step_analytic() -> None:
    """Quiet: every neuron integrates (none held) and may fire; the newest spike sets the edge."""
    p = params(refractory_steps=10, lockout_steps=0, dt_over_tau_theta=0.0)
    v = np.array([-20.0, -20.0])
    for newest, expected in ((90, [0, 1]), (91, [0])):  # t = 100, gate 10
        spikes, (v1, *_) = lif_step(p, v, [0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [50, newest], 100)
        assert spikes.tolist() == expected
        assert v1[0] == -20.0 + p.dt_over_tau_m * (p.v_rest + 20.0)  # integrated
        assert v1[1] == (v1[0] if newest == 90 else -20.0)  # held while refractory


def test_newest_spike_is_the_maximum() -> None:
    assert _newest_spike(np.array([NEVER, 5, -3, 17, 2], np.int64)) == 17
    assert _newest_spike(np.full(3, NEVER, np.int64)) == NEVER
    assert _newest_spike(np.zeros(0, np.int64)) == NEVER


def test_lif_step_does_not_modify_its_arguments() -> None:
    rng = np.random.default_rng(3)
    state = random_state(rng, 16, 500, True)
    copies = [a.copy() for a in state]
    lif_step(EXC, *state, 500)
    for a, b in zip(state, copies):
        assert np.array_equal(a, b)


def test_empty_theta_means_zero_theta() -> None:
    rng = np.random.default_rng(4)
    v, ge, gi, _, last = random_state(rng, 32, 100, False)
    v = v + 25.0  # make some fire
    s0, st0 = lif_step(EXC, v, ge, gi, np.zeros(0), last, 100)
    s1, st1 = lif_step(EXC, v, ge, gi, np.zeros(32), last, 100)
    assert s0.size > 0
    np.testing.assert_array_equal(s0, s1)
    for a, b in zip(st0[:3], st1[:3]):
        assert np.array_equal(a, b)
    assert st0[3].shape == (0,)


@pytest.mark.parametrize("bad", ["ge", "gi", "last_spike", "theta"])
def test_lif_step_validates_shapes(bad: str) -> None:
    args = {"v": np.zeros(4) - 65, "ge": np.zeros(4), "gi": np.zeros(4), "theta": np.zeros(4),
            "last_spike": np.full(4, NEVER)}
    args[bad] = args[bad][:3]
    with pytest.raises(ValueError, match=bad):
        lif_step(EXC, args["v"], args["ge"], args["gi"], args["theta"], args["last_spike"], 0)


# ----------------------------------------------------------------------------------------
# Analytic cases
# ----------------------------------------------------------------------------------------
def run_steps(p, v, ge, gi, theta, last_spike, t0, k, adapt=True):
    """Apply k steps (no reset) and return the list of states after each step."""
    out = []
    for s in range(k):
        spikes, (v, ge, gi, theta) = lif_step(p, v, ge, gi, theta, last_spike, t0 + s, adapt_theta=adapt)
        assert spikes.size == 0
        out.append((v, ge, gi, theta))
    return out


@pytest.mark.parametrize("v0", [-40.0, -90.0])
def test_free_membrane_decay_is_euler(v0: float) -> None:
    p = params(v_thresh=100.0)  # never fires
    h = p.dt_over_tau_m
    k = np.arange(1, 1201)
    states = run_steps(p, np.array([v0]), np.zeros(1), np.zeros(1), np.zeros(1), np.array([NEVER]), 0, k.size)
    v = np.array([s[0][0] for s in states])
    euler = p.v_rest + (v0 - p.v_rest) * (1.0 - h) ** k
    np.testing.assert_allclose(v, euler, rtol=1e-12, atol=0)
    # The exact solution: forward Euler is first order, max_k |(1-h)^k - e^{-kh}| < h/(2e) (1 + h).
    exact = p.v_rest + (v0 - p.v_rest) * np.exp(-k * h)
    err = np.abs(v - exact)
    assert err.max() <= abs(v0 - p.v_rest) * h / (2 * math.e) * (1 + h)
    assert err.max() > abs(v0 - p.v_rest) * h / (2 * math.e) * 0.9  # and that bound is attained


def test_free_membrane_decay_converges_at_first_order() -> None:
    """Halving dt halves the error against exp(-t/tau) at a fixed time."""
    v0, t_ms, tau = -40.0, 100.0, 100.0
    errors = []
    for dt in (0.5, 0.25, 0.125):
        p = params(v_thresh=100.0, dt_over_tau_m=dt / tau)
        n = round(t_ms / dt)
        v = run_steps(p, np.array([v0]), np.zeros(1), np.zeros(1), np.zeros(1), np.array([NEVER]), 0, n)[-1][0][0]
        errors.append(abs(v - (p.v_rest + (v0 - p.v_rest) * math.exp(-t_ms / tau))))
    for coarse, fine in zip(errors, errors[1:]):
        assert 1.9 < coarse / fine < 2.1


def test_conductance_decay_and_flush_exact() -> None:
    """dt/tau_ge = 0.5: ge halves exactly each step, so ge_k = 2**-k until it drops below 1e-100."""
    p = params(v_thresh=1000.0)
    assert p.dt_over_tau_ge == 0.5 and p.dt_over_tau_gi == 0.25
    n = 900
    states = run_steps(p, np.array([-65.0]), np.array([1.0]), np.array([3.0]), np.zeros(1),
                       np.array([NEVER]), 0, n)
    ge = np.array([s[1][0] for s in states])
    gi = np.array([s[2][0] for s in states])
    k = np.arange(1, n + 1)
    expected_ge = 2.0 ** -k.astype(float)
    expected_ge[expected_ge < FLUSH_BELOW] = 0.0
    assert np.array_equal(ge, expected_ge)
    first_zero = int(np.argmax(ge == 0.0)) + 1
    assert first_zero == 333  # 2**-332 = 1.1e-100 is kept, 2**-333 = 5.7e-101 is flushed
    # gi: (1 - 0.25)^k, again up to rounding, then flushed to exactly 0 and stays 0.
    alive = gi > 0
    np.testing.assert_allclose(gi[alive], 3.0 * 0.75 ** k[alive], rtol=1e-12)
    assert gi[alive].min() >= FLUSH_BELOW
    assert 3.0 * 0.75 ** (k[~alive][0]) < FLUSH_BELOW * (1 + 1e-9)
    assert not alive[np.argmin(alive):].any()


def test_flush_below_threshold_only() -> None:
    p = params(v_thresh=1000.0, dt_over_tau_ge=0.0, dt_over_tau_gi=0.0)  # no decay: the flush alone
    g = np.array([FLUSH_BELOW, FLUSH_BELOW * 0.999, 0.5 * FLUSH_BELOW, 1e-300, 5e-324, 0.0, 1e-99, 1.0])
    _, (_, ge, gi, _) = lif_step(p, np.full(g.size, -65.0), g, g, np.zeros(g.size), np.full(g.size, NEVER), 0)
    expected = np.where(g >= FLUSH_BELOW, g, 0.0)
    assert np.array_equal(ge, expected) and np.array_equal(gi, expected)
    assert ge[0] == FLUSH_BELOW and ge[1] == 0.0


def test_threshold_decay() -> None:
    p = params(v_thresh=1000.0, dt_over_tau_theta=1e-3)
    n = 500
    k = np.arange(1, n + 1)
    states = run_steps(p, np.array([-65.0]), np.zeros(1), np.zeros(1), np.array([20.0]), np.array([NEVER]), 0, n)
    theta = np.array([s[3][0] for s in states])
    np.testing.assert_allclose(theta, 20.0 * (1 - 1e-3) ** k, rtol=1e-12)
    # Frozen when not adapting.
    frozen = run_steps(p, np.array([-65.0]), np.zeros(1), np.zeros(1), np.array([20.0]), np.array([NEVER]), 0, 5,
                       adapt=False)
    assert all(s[3][0] == 20.0 for s in frozen)


def test_default_threshold_decay_is_tiny() -> None:
    """[DC15]: tau_theta = 1e7 ms, so one step changes theta by theta * dt / tau_theta."""
    _, (_, _, _, theta) = lif_step(EXC, [-65.0], [0.0], [0.0], [20.0], [NEVER], 0)
    assert theta[0] == 20.0 - 5e-8 * 20.0


def test_refractory_period_holds_v() -> None:
    """Spike at step 100: v is held for t - 100 < refractory_steps, integrated from then on."""
    p = params(v_thresh=1000.0)
    r = p.refractory_steps
    assert r == 10
    t_spike = 100
    v, ge, gi = np.array([p.v_reset]), np.array([5.0]), np.array([0.0])
    for t in range(t_spike + 1, t_spike + r + 3):
        _, (v_new, ge_new, _, _) = lif_step(p, v, ge, gi, np.zeros(1), np.array([t_spike]), t)
        if t - t_spike < r:
            assert v_new[0] == v[0] == p.v_reset
        else:
            expected = v[0] + p.dt_over_tau_m * ((p.v_rest - v[0]) + ge[0] * (p.e_exc - v[0]) + gi[0] * (p.e_inh - v[0]))
            assert v_new[0] == expected and v_new[0] != v[0]
        assert ge_new[0] == ge[0] * 0.5  # conductances decay during the refractory period too
        v, ge = v_new, ge_new


def test_firing_gates() -> None:
    """A neuron far above threshold fires exactly when t - last_spike >= max(refractory, lockout)."""
    for refractory, lockout in ((4, 10), (10, 10), (6, 0)):
        p = params(refractory_steps=refractory, lockout_steps=lockout)
        gate = max(refractory, lockout)
        fired_at = []
        for t in range(0, 30):
            spikes, _ = lif_step(p, [-20.0], [0.0], [0.0], [0.0], [0], t)
            if spikes.size:
                fired_at.append(t)
        assert fired_at == list(range(gate, 30))


def test_threshold_is_strict_and_includes_theta() -> None:
    p = params(v_rest=-60.0, v_thresh=-70.0, dt_over_tau_theta=0.0)
    # At rest, no input: v' = v = -60. Fires iff -60 > -70 + theta.
    theta = np.array([9.0, 10.0, 11.0, 10.0 - 1e-12])
    n = theta.size
    spikes, (v, *_rest) = lif_step(p, np.full(n, -60.0), np.zeros(n), np.zeros(n), theta, np.full(n, NEVER), 5)
    assert np.all(v == -60.0)
    np.testing.assert_array_equal(spikes, [0, 3])


def test_inhibitory_conductance_pulls_toward_e_inh() -> None:
    """One step from rest with only gi: dv = dt/tau_m * gi * (e_inh - v_rest)."""
    p = params(v_thresh=1000.0)
    _, (v, *_r) = lif_step(p, [p.v_rest], [0.0], [2.0], [0.0], [NEVER], 0)
    assert v[0] == p.v_rest + p.dt_over_tau_m * ((p.v_rest - p.v_rest) + 0.0 * (p.e_exc - p.v_rest)
                                                 + 2.0 * (p.e_inh - p.v_rest))
    assert v[0] == pytest.approx(-65.0 + 0.005 * 2.0 * (-35.0), rel=1e-14)


# ----------------------------------------------------------------------------------------
# Stability: forward Euler must not leave the reversal potentials
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("g_name", ["ge", "gi"])
def test_huge_conductance_keeps_v_between_reversal_potentials(g_name: str) -> None:
    """dt/tau_m * g = 0.005 * 1000 = 5 > 2: unclipped Euler would diverge (|1 - 5| > 1)."""
    n = 4
    v = np.full(n, -65.0)
    g = {"ge": np.zeros(n), "gi": np.zeros(n)}
    g[g_name][:] = 1000.0
    last = np.full(n, NEVER, np.int64)
    theta = np.zeros(n)
    for t in range(20):
        _, (v, ge, gi, theta) = assert_same_step(EXC, v, g["ge"], g["gi"], theta, last, t, False)
        g = {"ge": ge, "gi": gi}
        assert np.all(v >= EXC.e_inh) and np.all(v <= EXC.e_exc)
    target = EXC.e_exc if g_name == "ge" else EXC.e_inh
    _, (v_first, _, _, _) = lif_step(EXC, np.full(n, -65.0), *(
        (np.full(n, 1000.0), np.zeros(n)) if g_name == "ge" else (np.zeros(n), np.full(n, 1000.0))),
        theta, last, 0, adapt_theta=False)
    np.testing.assert_array_equal(v_first, np.full(n, target))


def test_strong_lateral_inhibition_has_no_runaway() -> None:
    """Many simultaneous spikes at a strong lateral weight once made every neuron fire every step."""
    from spikedyn.models.competition import LateralParams
    from spikedyn.simulation.network import Network

    config = NetworkConfig(model="lateral", n_neurons=30, lateral=LateralParams(w_lateral=200.0))
    net = Network(config, seed=1)
    images = np.random.default_rng(1).integers(0, 256, size=(5, 784)).astype(np.uint8)
    counts = net.respond(images, stream=0, progress=False, n_jobs=1)
    # 700 steps, refractory 10 steps: a runaway fires every 10 steps, ~70 spikes per neuron.
    # Observed: one or two winners, 32-36 spikes per sample, at most 33 from one neuron.
    assert counts.max() < 50
    assert np.all(counts.sum(axis=1) >= 10)  # inhibited, not silenced
    # Without the clip this training run gave 1895 spikes per sample and theta up to 42.6 mV;
    # with it, 28 spikes per sample, one presentation each, and theta from 20.0 to 24.04 mV.
    stats = net.train(images, progress=False)
    assert 10 <= stats.mean_spikes_per_sample < 100
    assert stats.presentations == len(images)
    assert np.all(net.theta < 25.0) and net.theta.max() > 22.0


def test_fires_at_rest_is_the_threshold_below_rest() -> None:
    """[DC15]'s values: threshold v_thresh - offset + theta = -72 + theta mV, rest -65 mV: theta < 7 mV."""
    exc = ExcitatoryParams()
    theta = np.array([0.0, 6.5, 7.0 - 1e-9, 7.0, 7.0 + 1e-9, 20.0])
    np.testing.assert_array_equal(exc.fires_at_rest(theta), [True, True, True, False, False, False])
    shifted = ExcitatoryParams(v_rest_mv=-60.0)  # -72 + theta < -60 iff theta < 12
    np.testing.assert_array_equal(shifted.fires_at_rest([11.9, 12.0]), [True, False])


@pytest.mark.parametrize("model", ["diehl-cook", "lateral"])
def test_neurons_firing_at_rest_answer_a_blank_image(model: str) -> None:
    """With no input at all, exactly the neurons whose threshold lies below rest fire (learning off)."""
    from spikedyn.simulation.network import Network

    net = Network(NetworkConfig(model=model, n_neurons=12), seed=3)
    net.theta[:] = np.linspace(4.0, 10.0, 12)  # 4.0 ... 10.0 mV: below rest up to 7 mV
    expected = net.theta < 7.0
    np.testing.assert_array_equal(net.firing_at_rest(), expected)
    counts = net.respond(np.zeros((2, 784), np.uint8), progress=False, n_jobs=1)
    np.testing.assert_array_equal(counts > 0, np.broadcast_to(expected, counts.shape))
