"""ReLU multilayer perceptrons in JAX, trained with Optax: the ANNs that are converted.

Parameters are a list of ``(W, b)`` pairs, ``W`` of shape ``(n_in, n_out)`` (input-major, as
the SNN kernel stores them). Hidden layers are ``a_l = max(0, a_{l-1} W_l + b_l)``; the output
layer is linear (logits or Q-values). Initialisation: He-normal weights (He et al. 2015,
the usual choice for ReLU), zero biases.
"""

from __future__ import annotations

import functools
from typing import Sequence

import numpy as np


def _jax():
    import jax
    import jax.numpy as jnp

    return jax, jnp


def init_params(sizes: Sequence[int], seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """He-normal weights ``N(0, 2 / n_in)``, zero biases, for layer sizes ``(n_in, n_1, ..., n_L)``;
    drawn from ``numpy.random.default_rng(seed)`` (float32)."""
    rng = np.random.default_rng(seed)
    return [((rng.standard_normal((a, b)) * np.sqrt(2.0 / a)).astype(np.float32), np.zeros(b, np.float32))
            for a, b in zip(sizes[:-1], sizes[1:])]


def forward(params, x):
    """The ANN's output (logits / Q-values), shape (n, n_out); works on JAX and NumPy arrays."""
    h = x
    for i, (w, b) in enumerate(params):
        h = h @ w + b
        if i < len(params) - 1:
            h = h * (h > 0)
    return h


def activations(params, x: np.ndarray) -> list[np.ndarray]:
    """Each layer's activation in float64 NumPy: ReLU outputs of the hidden layers, then the linear output."""
    out, h = [], np.asarray(x, np.float64)
    for i, (w, b) in enumerate(params):
        h = h @ np.asarray(w, np.float64) + np.asarray(b, np.float64)
        if i < len(params) - 1:
            h = np.maximum(h, 0.0)
        out.append(h)
    return out


def predict(params, x: np.ndarray, batch: int = 4096) -> np.ndarray:
    """The ANN's outputs for ``x`` in float64 NumPy, computed in batches."""
    return np.concatenate([activations(params, x[i:i + batch])[-1] for i in range(0, len(x), batch)]) \
        if len(x) else np.zeros((0, params[-1][0].shape[1]))


@functools.lru_cache(maxsize=None)
def _classifier_step(learning_rate: float):
    jax, jnp = _jax()
    import optax

    opt = optax.adam(learning_rate)

    def loss(params, x, y):
        return optax.softmax_cross_entropy_with_integer_labels(forward(params, x), y).mean()

    @jax.jit
    def step(params, state, x, y):
        value, grads = jax.value_and_grad(loss)(params, x, y)
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state, value

    return opt, step


def train_classifier(sizes: Sequence[int], x: np.ndarray, y: np.ndarray, *, epochs: int, seed: int,
                     batch_size: int = 100, learning_rate: float = 1e-3,
                     progress: bool = False) -> list[tuple[np.ndarray, np.ndarray]]:
    """A ReLU MLP of ``sizes`` trained on ``(x, y)`` with softmax cross-entropy and Adam
    (Kingma & Ba 2015; Optax), ``epochs`` passes in minibatches shuffled by ``default_rng(seed)``
    (a progress bar with ``progress``). Returns float32 NumPy parameters."""
    from tqdm.auto import tqdm

    jax, jnp = _jax()
    opt, step = _classifier_step(float(learning_rate))
    params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in init_params(sizes, seed)]
    state = opt.init(params)
    rng = np.random.default_rng(seed + 1)
    x = np.asarray(x, np.float32)
    y = np.asarray(y, np.int32)
    n = len(x) - len(x) % batch_size
    with tqdm(total=epochs * (n // batch_size), desc="train ANN", unit="batch", disable=not progress) as bar:
        for _ in range(epochs):
            order = rng.permutation(len(x))[:n].reshape(-1, batch_size)
            for idx in order:
                params, state, _ = step(params, state, x[idx], y[idx])
                bar.update()
    return [(np.asarray(w), np.asarray(b)) for w, b in params]
