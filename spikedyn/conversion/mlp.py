"""ReLU multilayer perceptrons in JAX, trained with Optax: the ANNs that are converted.

Parameters are a list of ``(W, b)`` pairs, ``W`` of shape ``(n_in, n_out)`` (input-major, as
the SNN kernel stores them). Hidden layers are ``a_l = max(0, a_{l-1} W_l + b_l)``, or, for a
layer ``(W, b, lambda)``, the quantisation clip-floor-shift activation of Bu et al. (ICLR 2022,
:func:`act`) that an integrate-and-fire neuron reproduces in ``levels`` steps; the output
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


def init_params(sizes: Sequence[int], seed: int, *, clip: float | None = None) -> list[tuple]:
    """He-normal weights ``N(0, 2 / n_in)``, zero biases, for layer sizes ``(n_in, n_1, ..., n_L)``;
    drawn from ``numpy.random.default_rng(seed)`` (float32). With ``clip``, every hidden layer also
    gets a trainable clipping level ``lambda_l = clip`` (a QCFS activation, :func:`act`)."""
    rng = np.random.default_rng(seed)
    layers = [((rng.standard_normal((a, b)) * np.sqrt(2.0 / a)).astype(np.float32), np.zeros(b, np.float32))
              for a, b in zip(sizes[:-1], sizes[1:])]
    if clip is not None:
        layers = [(w, b, np.float32(clip)) for w, b in layers[:-1]] + layers[-1:]
    return layers


def act(h, layer, levels: int | None, xp=np):
    """A hidden layer's activation: ReLU, or for a layer ``(W, b, lambda)`` the quantisation clip-floor-shift
    activation of Bu et al. (ICLR 2022) with ``L = levels``::

        a = lambda * clip(floor(h L / lambda + 1/2) / L, 0, 1)

    exactly what an integrate-and-fire neuron of threshold ``lambda`` starting at half of it counts in
    ``L`` steps of constant input ``h`` (times ``lambda / L``). The floor's gradient is passed straight
    through (Bengio et al. 2013), so ``lambda`` and the weights train by backpropagation."""
    if len(layer) < 3:
        return h * (h > 0)
    if levels is None:
        raise ValueError("a QCFS layer needs its quantisation levels")
    clip = layer[2]
    z = h * (levels / clip) + 0.5
    if xp is np:
        q = np.floor(z)
    else:
        import jax

        q = z + jax.lax.stop_gradient(xp.floor(z) - z)
    return clip * xp.clip(q / levels, 0.0, 1.0)


def weights(params) -> list[tuple]:
    """The ``(W, b)`` pairs of ``params`` (a QCFS layer's ``lambda`` left out)."""
    return [tuple(layer[:2]) for layer in params]


def clips(params) -> list | None:
    """The hidden layers' QCFS clipping levels ``lambda_l``, or None for a ReLU network."""
    if all(len(layer) < 3 for layer in params):
        return None
    return [float(np.asarray(layer[2])) for layer in params[:-1]]


def forward(params, x, levels: int | None = None):
    """The ANN's output (logits / Q-values), shape (n, n_out); works on JAX and NumPy arrays."""
    xp = np if isinstance(x, np.ndarray) and all(isinstance(layer[0], np.ndarray) for layer in params) else None
    if xp is None:
        import jax.numpy as xp
    h = x
    for i, layer in enumerate(params):
        h = h @ layer[0] + layer[1]
        if i < len(params) - 1:
            h = act(h, layer, levels, xp)
    return h


def activations(params, x: np.ndarray, levels: int | None = None) -> list[np.ndarray]:
    """Each layer's activation in float64 NumPy: the hidden layers' (ReLU or QCFS), then the linear output."""
    out, h = [], np.asarray(x, np.float64)
    for i, layer in enumerate(params):
        h = h @ np.asarray(layer[0], np.float64) + np.asarray(layer[1], np.float64)
        if i < len(params) - 1:
            h = act(h, tuple(np.asarray(a, np.float64) for a in layer), levels)
        out.append(h)
    return out


def predict(params, x: np.ndarray, batch: int = 4096, levels: int | None = None) -> np.ndarray:
    """The ANN's outputs for ``x`` in float64 NumPy, computed in batches."""
    return np.concatenate([activations(params, x[i:i + batch], levels)[-1] for i in range(0, len(x), batch)]) \
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
