"""A deep SNN MLP trained by backpropagation through time with a surrogate spike derivative (JAX).

After Ledinauskas, Ruseckas, Juršėnas & Buračas, "Training Deep Spiking Neural Networks"
(arXiv 2006.04436): a feed-forward SNN is implicitly recurrent (each membrane carries its
state across steps), so BPTT multiplies a surrogate derivative and a weight matrix per layer
*and* per step; with depth, gradients vanish or explode. Two things control it: the
surrogate's shape and scale, and batch normalisation of every layer's input current.

Network (``L`` hidden layers of ``width`` LIF neurons, ``T`` steps, threshold ``theta = 1``)::

    c_1[t]  = x W_1                        the image (pixel / 255) as a constant current
    c_l[t]  = s_{l-1}[t] W_l               l = 2 .. L (binary spikes in, no synaptic delay)
    I_l[t]  = BN(c_l[t])  or  c_l[t] + b_l with or without the fix
    v_l[t]  = beta v_l[t-1] + I_l[t]       v_l[0] = 0
    s_l[t]  = H(v_l[t] - theta)            Heaviside; backward: a surrogate derivative
    v_l[t] -= theta s_l[t]                 reset by subtraction, detached from the gradient
    logits  = (1/T) sum_t s_L[t] W_out + b_out    a non-spiking integrator reads out

``BN`` (Ioffe & Szegedy 2015) normalises each neuron's current with the mean and variance
over the batch *and* the time steps, then applies a learned scale ``gamma`` and shift
``beta_bn``; at inference the running averages are used, so BN is one affine map per neuron
and folds into the weights (:func:`fold`): ``W' = W gamma / sigma``, ``b' = beta_bn - gamma
mu / sigma``. (Per-step statistics, Kim & Panda's BNTT, would not fold into one matrix.)

Surrogate derivatives ``H'(x) ~ g(x)`` with ``g(0) = 1`` and width ``1 / scale``:

``fast-sigmoid``   ``1 / (1 + scale |x|)^2``               (SuperSpike, Zenke & Ganguli 2018)
``arctan``         ``1 / (1 + (pi/2 scale x)^2)``           (Fang et al. 2021)
``triangle``       ``max(0, 1 - scale |x|)``                (Bellec et al. 2018; Esser et al. 2016)

Initialisation: LeCun-normal weights ``N(0, 1 / n_in)``, zero biases, ``gamma = 1``,
``beta_bn = 0``; the same draw with and without BN, so the two differ only by the fix.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Sequence

import numpy as np

from ..errors import ConfigError

SURROGATES = ("fast-sigmoid", "arctan", "triangle")
BN_EPS = 1e-5
BN_MOMENTUM = 0.9  # running statistics: r <- m r + (1 - m) batch


def check_surrogate(shape: str, scale) -> tuple[str, float]:
    if shape not in SURROGATES:
        raise ConfigError(f"surrogate must be one of {', '.join(SURROGATES)}, got {shape!r}")
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not math.isfinite(scale) or scale <= 0:
        raise ConfigError(f"surrogate scale must be a number > 0 (the derivative's width is 1/scale), got {scale!r}")
    return shape, float(scale)


def x64():
    """A context in which JAX computes in float64 (for the check against the float64 kernel)."""
    import jax

    enable = getattr(jax, "enable_x64", None)
    if enable is None:  # JAX < 0.7
        from jax.experimental import enable_x64 as enable
    return enable(True)


def surrogate_derivative(x, shape: str, scale: float):
    """``g(x)`` of the module docstring (JAX or NumPy arrays)."""
    import jax.numpy as jnp

    if shape == "fast-sigmoid":
        return 1.0 / (1.0 + scale * jnp.abs(x)) ** 2
    if shape == "arctan":
        return 1.0 / (1.0 + (0.5 * jnp.pi * scale * x) ** 2)
    return jnp.maximum(0.0, 1.0 - scale * jnp.abs(x))


@functools.lru_cache(maxsize=None)
def spike_function(shape: str, scale: float):
    """Heaviside ``H(x) = [x >= 0]`` forward, ``g(x)`` backward (a ``jax.custom_jvp``)."""
    import jax

    @jax.custom_jvp
    def spike(x):
        return (x >= 0).astype(x.dtype)

    @spike.defjvp
    def _jvp(primals, tangents):
        (x,), (dx,) = primals, tangents
        return spike(x), dx * surrogate_derivative(x, shape, scale)

    return spike


def init_params(sizes: Sequence[int], seed: int) -> dict[str, Any]:
    """Parameters for layer sizes ``(n_in, width x L, n_out)`` (NumPy float32), drawn from
    ``default_rng(seed)``: ``{"w": [...], "b": [...], "gamma": [...], "beta": [...]}`` (gamma and
    beta for the L hidden layers)."""
    rng = np.random.default_rng(seed)
    w = [(rng.standard_normal((a, b)) / np.sqrt(a)).astype(np.float32) for a, b in zip(sizes[:-1], sizes[1:])]
    return {"w": w, "b": [np.zeros(b, np.float32) for b in sizes[1:]],
            "gamma": [np.ones(b, np.float32) for b in sizes[1:-1]],
            "beta": [np.zeros(b, np.float32) for b in sizes[1:-1]]}


def init_bn_state(sizes: Sequence[int]) -> dict[str, list]:
    return {"mean": [np.zeros(b, np.float32) for b in sizes[1:-1]],
            "var": [np.ones(b, np.float32) for b in sizes[1:-1]]}


def forward(params, bn_state, x, *, timesteps: int, beta: float, spike, batch_norm: bool, train: bool,
            threshold: float = 1.0):
    """Logits ``(B, n_out)``, the new BN state, and each hidden layer's spikes ``(T, B, n)``.

    ``train``: BN uses the batch's statistics (over batch and time) and updates the running ones;
    otherwise the running statistics."""
    import jax
    import jax.numpy as jnp

    n_hidden = len(params["w"]) - 1
    new_mean, new_var, spikes = [], [], []
    h = None
    for l in range(n_hidden):
        w = params["w"][l]
        if l == 0:
            c = jnp.broadcast_to(x @ w, (timesteps,) + (x.shape[0], w.shape[1]))
        else:
            c = h @ w
        if batch_norm:
            if train:
                mu, var = c.mean(axis=(0, 1)), c.var(axis=(0, 1))
                new_mean.append(BN_MOMENTUM * bn_state["mean"][l] + (1 - BN_MOMENTUM) * jax.lax.stop_gradient(mu))
                new_var.append(BN_MOMENTUM * bn_state["var"][l] + (1 - BN_MOMENTUM) * jax.lax.stop_gradient(var))
            else:
                mu, var = bn_state["mean"][l], bn_state["var"][l]
            current = (c - mu) / jnp.sqrt(var + BN_EPS) * params["gamma"][l] + params["beta"][l]
        else:
            current = c + params["b"][l]

        def step(v, i):
            v = beta * v + i
            s = spike(v - threshold)
            return v - threshold * jax.lax.stop_gradient(s), s

        _, h = jax.lax.scan(step, jnp.zeros(current.shape[1:], current.dtype), current)
        spikes.append(h)
    logits = h.mean(axis=0) @ params["w"][-1] + params["b"][-1]
    state = {"mean": new_mean, "var": new_var} if (batch_norm and train) else bn_state
    return logits, state, spikes


def fold(params, bn_state, *, batch_norm: bool) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Inference weights and biases (float64) with BN folded in: ``W' = W gamma / sigma``,
    ``b' = beta_bn - gamma mu / sigma`` with ``sigma = sqrt(running var + eps)``."""
    ws = [np.asarray(w, np.float64) for w in params["w"]]
    bs = [np.asarray(b, np.float64) for b in params["b"]]
    if batch_norm:
        for l in range(len(ws) - 1):
            sigma = np.sqrt(np.asarray(bn_state["var"][l], np.float64) + BN_EPS)
            g = np.asarray(params["gamma"][l], np.float64) / sigma
            bs[l] = np.asarray(params["beta"][l], np.float64) - g * np.asarray(bn_state["mean"][l], np.float64)
            ws[l] = ws[l] * g
    return ws, bs
