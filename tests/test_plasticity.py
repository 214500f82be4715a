"""Tests for spikedyn.core.traces and spikedyn.models.stdp (STDP rules, traces, normalisation) and STDP inside the network kernel."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from helpers import bright_images, exercised
from naive import normalize_naive, stdp_post_naive, stdp_pre_naive, trace_naive

from spikedyn import models
from spikedyn.config import NetworkConfig, StdpParams
from spikedyn.core.neurons import NEVER
from spikedyn.core.numerics import FLUSH_BELOW
from spikedyn.core.traces import _traces_now, decay_table
from spikedyn.cost.operations import new_counters
from spikedyn.errors import ConfigError
from spikedyn.models.stdp import _normalize_columns, normalize_weights, stdp_post, stdp_pre
from spikedyn.simulation.loop import _run_steps
from spikedyn.simulation.network import Network
from spikedyn.simulation.state import _new_buffers, _new_state, _recorder, kernel_params

S = StdpParams()


# ----------------------------------------------------------------------------------------
# Traces
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("tau_ms, dt_ms", [(20.0, 0.5), (40.0, 0.5), (20.0, 0.1), (7.0, 0.25), (30.0, 0.3)])
def test_decay_table_values(tau_ms: float, dt_ms: float) -> None:
    table = decay_table(tau_ms, dt_ms)
    assert table.dtype == np.float64 and table.ndim == 1
    k = np.arange(table.size)
    # Bit for bit: exp(-k / tau_steps), tau_steps = tau/dt.
    tau_steps = tau_ms / dt_ms
    assert np.array_equal(table, np.array([math.exp(-int(i) / tau_steps) for i in k]))
    # The documented exp(-k dt / tau): equal up to the rounding of the exponent
    # (identical when dt/tau is exact in binary, e.g. the defaults).
    np.testing.assert_allclose(table, [math.exp(-int(i) * dt_ms / tau_ms) for i in k], rtol=1e-12)
    assert table[0] == 1.0
    assert np.all(np.diff(table) < 0)
    # It ends at the flush threshold: the last entry is kept, the next would not be.
    assert table[-1] >= FLUSH_BELOW
    assert math.exp(-table.size / tau_steps) < FLUSH_BELOW
    assert table.size == math.floor(tau_steps * 100 * math.log(10)) + 1


def test_decay_table_default_is_exact() -> None:
    table = decay_table(S.tau_pre_ms, 0.5)
    assert all(table[k] == math.exp(-k * 0.5 / S.tau_pre_ms) for k in range(table.size))


@pytest.mark.parametrize("tau_ms, dt_ms", [(0.0, 0.5), (-1.0, 0.5), (20.0, 0.0), (float("nan"), 0.5)])
def test_decay_table_rejects_bad_arguments(tau_ms: float, dt_ms: float) -> None:
    with pytest.raises(ConfigError, match="tau_ms > 0"):
        decay_table(tau_ms, dt_ms)


def test_trace_naive_is_zero_past_the_table() -> None:
    table = decay_table(20.0, 0.5)
    assert trace_naive(table, 0) == 1.0
    assert trace_naive(table, table.size - 1) == table[-1]
    assert trace_naive(table, table.size) == 0.0
    assert trace_naive(table, 2**40) == 0.0


# ----------------------------------------------------------------------------------------
# Rules against the naive reference
# ----------------------------------------------------------------------------------------
def random_weights(rng, n_in, n_out, w_max=1.0):
    w = rng.uniform(0.0, w_max, (n_in, n_out))
    w[rng.random(w.shape) < 0.1] = 0.0
    w[rng.random(w.shape) < 0.05] = w_max
    return w


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_in=st.integers(1, 30), n_out=st.integers(1, 12),
       nu=st.sampled_from([1e-4, 0.01, 0.3, 2.0]), w_max=st.sampled_from([1.0, 0.5, 3.0]))
def test_stdp_rules_match_naive(seed, n_in, n_out, nu, w_max) -> None:
    rng = np.random.default_rng(seed)
    w = random_weights(rng, n_in, n_out, w_max)
    post1 = rng.random(n_out) * (rng.random(n_out) < 0.7)
    pre = rng.random(n_in) * (rng.random(n_in) < 0.7)
    post2 = float(rng.random())
    i, j = int(rng.integers(n_in)), int(rng.integers(n_out))
    before = w.copy()
    assert np.array_equal(stdp_pre(w, i, post1, nu, w_max), stdp_pre_naive(w, i, post1, nu, w_max))
    assert np.array_equal(stdp_post(w, j, pre, post2, nu, w_max), stdp_post_naive(w, j, pre, post2, nu, w_max))
    assert np.array_equal(w, before)  # copies, not in place


def test_stdp_pre_touches_one_row_and_post_one_column() -> None:
    rng = np.random.default_rng(11)
    w = random_weights(rng, 9, 5)
    w1 = stdp_pre(w, 4, np.full(5, 0.5), 0.01, 1.0)
    changed = np.argwhere(w1 != w)
    assert set(changed[:, 0]) == {4}
    w2 = stdp_post(w, 2, np.full(9, 0.5), 0.7, 0.01, 1.0)
    changed = np.argwhere(w2 != w)
    assert set(changed[:, 1]) == {2}


def test_stdp_clipping() -> None:
    w = np.array([[0.001, 0.5, 0.999]])
    # Depression below 0 is clipped at 0.
    out = stdp_pre(w, 0, np.array([1.0, 1.0, 1.0]), 0.01, 1.0)
    assert out[0, 0] == 0.0 and out[0, 1] == 0.5 - 0.01 and out[0, 2] == 0.999 - 0.01
    # Potentiation above w_max is clipped at w_max.
    w = np.array([[0.001], [0.5], [0.999]])
    out = stdp_post(w, 0, np.array([1.0, 0.0, 1.0]), 1.0, 0.01, 1.0)
    assert out[:, 0].tolist() == [0.001 + 0.01, 0.5, 1.0]
    # A weight outside [0, w_max] is brought back by any update.
    out = stdp_pre(np.array([[-0.5, 2.0]]), 0, np.zeros(2), 0.01, 1.0)
    assert out.tolist() == [[0.0, 1.0]]


def test_stdp_validates_trace_shapes() -> None:
    w = np.zeros((4, 3))
    with pytest.raises(ValueError, match="post1"):
        stdp_pre(w, 0, np.zeros(4), 0.1, 1.0)
    with pytest.raises(ValueError, match="pre"):
        stdp_post(w, 0, np.zeros(3), 1.0, 0.1, 1.0)


# ----------------------------------------------------------------------------------------
# Normalisation
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(784, 10), (5, 3), (1, 1), (100, 1)])
def test_normalize_matches_naive_and_hits_target(shape) -> None:
    rng = np.random.default_rng(sum(shape))
    w = random_weights(rng, *shape)
    w[:, 0] += 1e-3  # no zero column here
    target = 78.0
    out = normalize_weights(w, target)
    assert np.array_equal(out, normalize_naive(w, target))
    np.testing.assert_allclose(out.sum(axis=0), target, rtol=1e-13)
    # Each column is a positive multiple of the original one.
    ratios = out[w > 0] / w[w > 0]
    cols = np.nonzero(w > 0)[1]
    for j in range(shape[1]):
        np.testing.assert_allclose(ratios[cols == j], ratios[cols == j][0], rtol=1e-15)


def test_normalize_leaves_zero_column_alone_and_copies() -> None:
    w = np.array([[0.0, 1.0, 0.25], [0.0, 3.0, 0.25]])
    before = w.copy()
    out = normalize_weights(w, 2.0)
    assert out.tolist() == [[0.0, 0.5, 1.0], [0.0, 1.5, 1.0]]
    assert np.array_equal(w, before)
    assert np.array_equal(out, normalize_naive(w, 2.0))


def test_normalize_is_idempotent_up_to_rounding() -> None:
    rng = np.random.default_rng(5)
    once = normalize_weights(rng.uniform(0.003, 0.303, (784, 20)), 78.0)
    twice = normalize_weights(once, 78.0)
    np.testing.assert_allclose(twice, once, rtol=1e-14)


def test_normalize_validates() -> None:
    with pytest.raises(ValueError, match="2-D"):
        normalize_weights(np.ones(5), 1.0)
    with pytest.raises(ValueError, match="target"):
        normalize_weights(np.ones((5, 2)), 0.0)


class Normaliser:
    """The kernel's normalisation with its state between calls (the sums it left, the flags)."""

    def __init__(self, n_in: int, n_out: int, w_max: float):
        self.col_next, self.col_dirty = np.zeros(n_out), np.ones(n_out, np.bool_)
        self.row_over, self.w_max, self.known = np.zeros(n_in, np.bool_), w_max, False

    def __call__(self, w: np.ndarray, target: float) -> None:
        _normalize_columns(w, target, np.empty(w.shape[1]), self.w_max, self.row_over, self.col_next,
                           self.col_dirty, self.known)
        self.known = True


@pytest.mark.parametrize("n_changed", [0, 1, 3, 40])
def test_normalize_with_the_sums_it_left_matches_a_full_pass(n_changed: int) -> None:
    # Three rounds: change some columns (and flag them, as the time loop does), normalise with the
    # sums the previous call left; a naive full pass of every round gives the same bits. 40 of
    # 100 columns: more than an eighth, so one pass over every column instead.
    rng = np.random.default_rng(n_changed)
    w = random_weights(rng, 784, 100) * 0.3
    expected = w.copy()
    normalise = Normaliser(784, 100, w_max=1.0)
    for _ in range(3):
        normalise(w, 78.0)
        expected = normalize_naive(expected, 78.0)
        assert np.array_equal(w, expected)
        assert np.array_equal(normalise.row_over, (expected > 1.0).any(axis=1))
        changed = rng.choice(100, n_changed, replace=False)
        w[rng.integers(0, 784, n_changed), changed] *= rng.uniform(0.5, 1.5, n_changed)
        expected[:] = w
        normalise.col_dirty[changed] = True


def test_normalize_flags_the_columns_it_lifts_above_w_max() -> None:
    # A column rescaled above w_max is flagged for the next call: the rules clip it at their next
    # event without the time loop flagging it.
    w = np.array([[0.4, 1.0], [0.4, 1.0], [0.7, 1.0]])
    normalise = Normaliser(3, 2, w_max=1.0)
    normalise(w, 3.0)  # column 0 doubled: 1.4 in row 2; column 1 unchanged
    assert normalise.col_dirty.tolist() == [True, False] and normalise.row_over.tolist() == [False, False, True]
    w[2, 0] = 1.0  # the clip
    clipped = w.copy()
    normalise(w, 3.0)
    assert np.array_equal(w, normalize_naive(clipped, 3.0))


def row_order_sums(w: np.ndarray) -> np.ndarray:
    """Column sums accumulated row by row from row 0 (the kernel's order)."""
    sums = np.zeros(w.shape[1])
    for row in w:
        sums += row
    return sums


@pytest.mark.parametrize("model", sorted(models.names()))
def test_training_reuses_column_sums_bit_identically(model: str) -> None:
    # Trained with the sums of the previous normalisation for the columns nothing wrote to, and
    # with a full pass before every presentation: the same weights, thresholds and counters; and
    # after the weights were changed from Python between two calls, too.
    images = bright_images(3, [180, 90, 240, 150, 200, 60, 220, 130] * 2)
    outcomes = []
    for known in (True, False):
        net = Network(exercised(model, n_neurons=96), seed=4)
        net._kp = net._kp._replace(known_sums=known and net._kp.known_sums)
        net.train(images[:10], progress=False, batch_size=5)
        net.weights[:, 7] *= 0.5
        net.train(images[10:], progress=False)
        outcomes.append((net.weights.copy(), net.theta.copy(), net._counters["train"].copy(), net))
    (w, theta, ops, net), (w_full, theta_full, ops_full, _) = outcomes
    assert np.array_equal(w, w_full) and np.array_equal(theta, theta_full) and np.array_equal(ops, ops_full)
    # The premise, checked on the trained network: a rule that does not scan the weights wrote
    # only to the columns flagged since the last normalisation or of neurons that fired after
    # it, so every other column still sums to what that normalisation left.
    buf = net._buffers
    scans = models.get(model).parts["plasticity"].operation_profile(net.config)["scans_weights"]
    assert buf.sums_known[0] == (not scans)
    if not scans:
        untouched = ~buf.col_dirty & (net._state.exc.last_spike < buf.normalised_at[0])
        assert untouched.sum() >= 48
        assert np.array_equal(buf.col_next[untouched], row_order_sums(w)[untouched])


# ----------------------------------------------------------------------------------------
# Analytic pre/post pairs, through the network kernel
# ----------------------------------------------------------------------------------------
class OneSynapse:
    """One excitatory neuron (lateral model: no inhibition) with two inputs.

    Input 0 is the plastic synapse under test; input 1 is a "teacher" with a huge
    weight: its spike at step s makes the neuron fire at step s + 1, and the
    refractory period lets the rest of its conductance decay away.
    """

    TEACHER_W = 50.0

    def __init__(self):
        self.config = NetworkConfig(
            model="lateral", n_neurons=1, n_input=2,
            stdp=dataclasses.replace(S, w_max=100.0, weight_sum=50.1),
        )
        self.kp = kernel_params(self.config)
        self.state = _new_state(self.kp, 2, 1)
        self.buf = _new_buffers(self.kp, 2, 1)
        self.w = np.array([[0.1], [self.TEACHER_W]])
        self.theta = np.array([20.0])
        self.spikes: list[int] = []

    def run_until(self, t_end: int, inputs: dict[int, list[int]]) -> None:
        """Simulate up to (not including) step ``t_end``; ``inputs[step] = pixels``."""
        t0 = int(self.state.clock[0])
        n = t_end - t0
        assert 0 < n <= self.kp.present_steps
        step_ptr = self.buf.step_ptr
        step_ptr[0] = 0
        k = 0
        for s in range(n):
            for pixel in sorted(inputs.get(t0 + s, [])):
                self.buf.pixels[k] = pixel
                k += 1
            step_ptr[s + 1] = k
        counts = np.zeros(1, np.int32)
        rec = _recorder(64, 1, 0, 1)
        _run_steps(self.kp, self.state, self.buf, self.w, self.theta, n, True, True, counts, rec, new_counters(False), None)
        self.spikes += rec.spike_step[:rec.n_spikes[0]].tolist()

    @property
    def tables(self):
        """The (pre, post1, post2) decay tables the kernel uses."""
        tr = self.state.plasticity
        return tr.pre_table, tr.post1_table, tr.post2_table


def test_stdp_pairs_in_the_network_kernel() -> None:
    syn = OneSynapse()
    pre_table, post1_table, post2_table = syn.tables
    dt = syn.config.timing.dt_ms
    w0 = syn.w[0, 0]

    # Pre at step 3, post at step 10 (teacher at 9). The neuron never fired before,
    # so post2_before = 0: the pair changes nothing. Neither does the pre spike (post1 = 0).
    syn.run_until(20, {3: [0], 9: [1]})
    assert syn.spikes == [10]
    assert syn.w[0, 0] == w0

    # Post (step 10) then pre (step 40): depression by nu_pre * exp(-30 dt / tau_post1).
    syn.run_until(50, {40: [0]})
    expected = w0 - S.nu_pre * math.exp(-30 * dt / S.tau_post1_ms)
    assert syn.w[0, 0] == w0 - S.nu_pre * post1_table[30]
    assert syn.w[0, 0] == pytest.approx(expected, rel=1e-15)
    w1 = syn.w[0, 0]

    # Pre (step 40) then post (step 60): potentiation by
    # nu_post * exp(-20 dt / tau_pre) * post2_before, post2_before = exp(-(60 - 10) dt / tau_post2).
    syn.run_until(70, {59: [1]})
    assert syn.spikes == [10, 60]
    assert syn.w[0, 0] == w1 + S.nu_post * pre_table[20] * post2_table[50]
    assert syn.w[0, 0] - w1 == pytest.approx(
        S.nu_post * math.exp(-20 * dt / S.tau_pre_ms) * math.exp(-50 * dt / S.tau_post2_ms), rel=1e-12)
    assert syn.w[0, 0] > w0


def test_stdp_same_step_pre_and_post() -> None:
    """Pre and post in the same step: the presynaptic rule reads post1 before the
    post spike is registered, the postsynaptic rule reads the fresh pre trace (= 1)."""
    syn = OneSynapse()
    syn.run_until(20, {9: [1]})  # first post spike at 10: sets the post traces
    assert syn.spikes == [10]
    w0 = syn.w[0, 0]
    syn.run_until(40, {29: [1], 30: [0]})  # post at 30 and pre at 30
    assert syn.spikes == [10, 30]
    _, post1_table, post2_table = syn.tables
    post1_at_30 = post1_table[20]  # from the spike at 10
    after_pre = min(max(w0 - S.nu_pre * post1_at_30, 0.0), 100.0)
    assert syn.w[0, 0] == after_pre + S.nu_post * 1.0 * post2_table[20]


def test_kernel_traces_are_flushed_after_the_table() -> None:
    """The kernels read a trace from the table and return exactly 0.0 past its end.

    (A trace near FLUSH_BELOW cannot move a weight by an ulp, so this is checked on the
    trace kernel itself rather than through the weights.)
    """
    table = decay_table(S.tau_pre_ms, 0.5)
    t = 50_000
    last = np.array([t, t - 5, t - (table.size - 1), t - table.size, NEVER], np.int64)
    out = np.full(last.size, np.nan)
    _traces_now(table, last, t, out)
    expected = trace_naive(table, t - last)
    assert np.array_equal(out, expected)
    assert out.tolist() == [1.0, table[5], table[-1], 0.0, 0.0]


def test_recorded_training_after_a_restore_uses_no_stale_sums() -> None:
    # The replay of the numerical guard restores the network and trains again through the recorded
    # path: it must not take the column sums its buffers kept from the batch it replaces.
    images = bright_images(5, [180, 90, 240, 150, 200, 60])
    net = Network(NetworkConfig(model="diehl-cook", n_neurons=100), seed=2)
    before = net._snapshot()
    net.train(images, progress=False)
    assert net._buffers.sums_known[0]
    net._restore(before)
    replay = net._run_recorded(images, learn=True, stream=0, first_index=0)
    fresh = Network(NetworkConfig(model="diehl-cook", n_neurons=100), seed=2)
    fresh_replay = fresh._run_recorded(images, learn=True, stream=0, first_index=0)
    assert np.array_equal(net.weights, fresh.weights) and np.array_equal(replay.counts, fresh_replay.counts)
