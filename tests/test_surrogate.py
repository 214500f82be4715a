"""Surrogate-gradient SNNs: the surrogate derivatives, BN folding, the Numba forward pass against
JAX's, training MACs by hand, a small run, and bad inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from helpers import one_line
from spikedyn.errors import ConfigError
from spikedyn.feedforward import simulate
from spikedyn.surrogate import jax_logits, model, run_mnist, to_snn

jax = pytest.importorskip("jax")
jnp = jax.numpy


@pytest.mark.parametrize("shape", model.SURROGATES)
def test_surrogate_derivative_is_the_backward_of_the_spike(shape):
    spike = model.spike_function(shape, 3.0)
    xs = jnp.array([-0.8, -0.1, 0.0, 0.05, 0.6])
    np.testing.assert_array_equal(np.asarray(spike(xs)), [0, 0, 1, 1, 1])
    grads = jax.vmap(jax.grad(spike))(xs)
    np.testing.assert_allclose(np.asarray(grads), np.asarray(model.surrogate_derivative(xs, shape, 3.0)), rtol=1e-6)
    assert float(model.surrogate_derivative(0.0, shape, 3.0)) == 1.0


def _random_model(batch_norm: bool, seed: int = 0):
    sizes = (12, 16, 16, 16, 5)
    rng = np.random.default_rng(seed)
    params = model.init_params(sizes, seed)
    params["w"] = [w * 2.0 for w in params["w"]]
    params["b"] = [rng.normal(0, 0.3, b.shape).astype(np.float32) for b in params["b"]]
    params["gamma"] = [rng.uniform(0.5, 1.5, g.shape).astype(np.float32) for g in params["gamma"]]
    params["beta"] = [rng.normal(0.3, 0.3, g.shape).astype(np.float32) for g in params["beta"]]
    state = {"mean": [rng.normal(0, 0.5, g.shape).astype(np.float32) for g in params["gamma"]],
             "var": [rng.uniform(0.5, 2.0, g.shape).astype(np.float32) for g in params["gamma"]]}
    return {"params": params, "bn_state": state, "sizes": sizes,
            "settings": {"timesteps": 8, "beta": 0.9, "surrogate": "fast-sigmoid", "scale": 2.0,
                         "batch_norm": batch_norm}}


@pytest.mark.parametrize("batch_norm", [True, False])
def test_numba_forward_equals_jax_forward(batch_norm):
    """The kernel (BN folded into the weights) and JAX (BN applied) give the same spikes in every layer
    and the same logits (float64 both)."""
    m = _random_model(batch_norm)
    x = np.random.default_rng(1).uniform(0, 1, (60, 12))
    logits = jax_logits(m, x, x64=True)
    sim = simulate(to_snn(m), x, timesteps=8)
    np.testing.assert_allclose(sim.membrane[:, -1] / 8, logits, rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(sim.membrane[:, -1].argmax(1), logits.argmax(1))
    with model.x64():
        cast = lambda t: jax.tree_util.tree_map(lambda a: jnp.asarray(np.asarray(a, np.float64)), t)
        _, _, spikes = model.forward(cast(m["params"]), cast(m["bn_state"]), jnp.asarray(x), timesteps=8, beta=0.9,
                                     spike=model.spike_function("fast-sigmoid", 2.0), batch_norm=batch_norm,
                                     train=False)
    counts = np.stack([np.asarray(s).sum(axis=(0, 2)) for s in spikes], axis=1)
    np.testing.assert_array_equal(sim.layer_spikes[:, 1:-1], counts)
    assert counts.sum() > 0


def test_fold_by_hand():
    params = {"w": [np.array([[2.0]]), np.array([[1.0]])], "b": [np.array([5.0]), np.array([0.0])],
              "gamma": [np.array([3.0])], "beta": [np.array([0.5])]}
    state = {"mean": [np.array([1.0])], "var": [np.array([4.0 - model.BN_EPS])]}
    ws, bs = model.fold(params, state, batch_norm=True)
    assert ws[0][0, 0] == pytest.approx(2.0 * 3.0 / 2.0) and bs[0][0] == pytest.approx(0.5 - 3.0 * 1.0 / 2.0)
    ws, bs = model.fold(params, state, batch_norm=False)
    assert ws[0][0, 0] == 2.0 and bs[0][0] == 5.0


def _small(digits_dir, **kw):
    out = run_mnist(layers=2, timesteps=4, width=16, n_train=30, n_test=20, batch_size=10, data_dir=digits_dir, **kw)
    out.pop("wall_s")
    return out


def test_run_small_keys_determinism_and_kernel_agreement(digits_dir):
    a = _small(digits_dir, seed=2)
    for key in ("accuracy", "layers", "timesteps", "cost", "source_hash", "grad_norms_init"):
        assert key in a
    assert a["cost"]["infer_energy_uj"] > 0 and a["cost"]["train_energy_uj"] > 0
    assert a["cost"]["by_table"]["loihi"]["train_energy_uj"] is None
    assert a["numba_jax_agreement"] == 1.0 and len(a["grad_norms_init"]) == 3
    assert json.dumps(a) == json.dumps(_small(digits_dir, seed=2))
    assert _small(digits_dir, seed=2, batch_norm=False)["batch_norm"] is False



def test_bad_arguments_raise_config_error():
    with pytest.raises(ConfigError) as err:
        run_mnist(layers=2.5)
    assert "layers" in one_line(err)
