"""Training and evaluating the surrogate-gradient SNN; ``surrogate --task mnist``.

Adam (Optax) with a cosine decay of the learning rate to 0 over the run, on the softmax
cross-entropy of the read-out logits, minibatches shuffled by ``default_rng(seed)``. The
trained network is evaluated twice: by JAX's forward pass (inference mode) and by spikedyn's
Numba kernel with BN folded into the weights; the reported ``accuracy`` and the counted operations are the kernel's, and
``numba_jax_agreement`` is the fraction of test images on which both choose the same class.
"""

from __future__ import annotations

import functools
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .._version import provenance
from ..config import check_seed
from ..cost import derive_layered, derive_training, layered_cost, training_macs
from ..cost.tables import DEFAULT_TABLE, load_energy_table
from ..errors import ConfigError
from ..feedforward import LayeredSNN, check_positive_int, check_timesteps, simulate
from .model import check_surrogate, fold, forward, init_bn_state, init_params, spike_function
from .model import x64 as float64_context

TASKS = ("mnist",)
#: Hidden-layer width. 256 LIF neurons per layer: a 784-256-...-10 MLP reaches 98 % on MNIST, and an
#: 8-layer network trains in minutes on 2 cores, which the depth table (18 runs) needs.
WIDTH = 256
#: Membrane decay per step (tau = -1 / ln 0.9 = 9.5 steps: the membrane remembers about one presentation of T = 10).
BETA = 0.9
SURROGATE = "fast-sigmoid"
#: Steepness of the surrogate derivative: its width is 1/SCALE in units of the threshold.
SCALE = 2.0
#: Adam's initial learning rate (cosine decay to 0 over the run). On seed 0, L = 4, one epoch: 0.9758 at
#: (2e-3, scale 2), 0.9732 at (5e-3, 2), 0.9734 at (5e-3, 5); a constant 1e-3 to 3e-3 gave 0.961-0.968.
LEARNING_RATE = 2e-3


def check_layers(layers) -> int:
    if isinstance(layers, bool) or not isinstance(layers, (int, np.integer)) or layers < 1:
        raise ConfigError(f"layers must be an integer >= 1 (hidden LIF layers), got {layers!r}")
    return int(layers)


def check_task(task: str) -> str:
    if task not in TASKS:
        raise ConfigError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    return task


@functools.lru_cache(maxsize=None)
def _step_fns(timesteps: int, beta: float, shape: str, scale: float, batch_norm: bool, learning_rate: float,
              total_steps: int = 1):
    import jax
    import optax

    # cosine decay to 0 over the whole run (Loshchilov & Hutter, ICLR 2017, without restarts)
    opt = optax.adam(optax.cosine_decay_schedule(learning_rate, max(total_steps, 1)))
    spike = spike_function(shape, scale)

    def loss(params, bn_state, x, y):
        logits, state, _ = forward(params, bn_state, x, timesteps=timesteps, beta=beta, spike=spike,
                                   batch_norm=batch_norm, train=True)
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean(), state

    grad = jax.value_and_grad(loss, has_aux=True)

    @jax.jit
    def step(params, bn_state, opt_state, x, y):
        (value, state), g = grad(params, bn_state, x, y)
        updates, opt_state = opt.update(g, opt_state, params)
        return optax.apply_updates(params, updates), state, opt_state, value

    @jax.jit
    def gradients(params, bn_state, x, y):
        return grad(params, bn_state, x, y)[1]

    @jax.jit
    def infer(params, bn_state, x):
        return forward(params, bn_state, x, timesteps=timesteps, beta=beta, spike=spike, batch_norm=batch_norm,
                       train=False)[0]

    return opt, step, gradients, infer


@dataclass(frozen=True)
class SurrogateMLPConfig:
    """Everything a surrogate-trained SNN MLP depends on (a search candidate's config). Checked on creation.

    Defaults: 4 hidden layers of :data:`WIDTH` LIF neurons (:data:`BETA`), T = 10 (Ledinauskas et
    al. train deep SNNs with about 10 steps), one epoch, BN on (their fix), the :data:`SURROGATE`
    derivative at :data:`SCALE`, Adam at :data:`LEARNING_RATE` with cosine decay, batch 100.
    """

    layers: int = 4
    width: int = WIDTH
    timesteps: int = 10
    epochs: int = 1
    batch_norm: bool = True
    surrogate: str = SURROGATE
    scale: float = SCALE
    beta: float = BETA
    learning_rate: float = LEARNING_RATE
    batch_size: int = 100

    def __post_init__(self):
        check_layers(self.layers)
        check_timesteps(self.timesteps)
        check_surrogate(self.surrogate, self.scale)
        for name, what in (("width", "LIF neurons per hidden layer"), ("epochs", "passes over the training images"),
                           ("batch_size", "images per minibatch")):
            check_positive_int(getattr(self, name), name, what)
        if not isinstance(self.batch_norm, (bool, np.bool_)):
            raise ConfigError(f"batch_norm must be true or false, got {self.batch_norm!r}")
        if isinstance(self.beta, bool) or not (isinstance(self.beta, (int, float)) and 0 < self.beta <= 1):
            raise ConfigError(f"beta must be in (0, 1] (the membrane decay per step), got {self.beta!r}")
        if isinstance(self.learning_rate, bool) or not (isinstance(self.learning_rate, (int, float))
                                                         and self.learning_rate > 0):
            raise ConfigError(f"learning_rate must be a number > 0, got {self.learning_rate!r}")

    def sizes(self, n_in: int = 784, n_out: int = 10) -> tuple[int, ...]:
        return (n_in,) + (self.width,) * self.layers + (n_out,)


def train(x: np.ndarray, y: np.ndarray, config: SurrogateMLPConfig, *, seed: int,
          progress: bool = False) -> dict[str, Any]:
    """Train on ``(x, y)`` (x in [0, 1]); returns ``{"params", "bn_state", "grad_norms_init" (||dL/dW_l||
    per layer on the first minibatch, before any update), "loss" (per step), "sizes", "settings"}``."""
    import jax.numpy as jnp

    c = config
    sizes = c.sizes(x.shape[1], 10)
    n = len(x) - len(x) % c.batch_size
    opt, step, gradients, _ = _step_fns(c.timesteps, float(c.beta), c.surrogate, float(c.scale), bool(c.batch_norm),
                                        float(c.learning_rate), c.epochs * (n // c.batch_size))
    params = {k: [jnp.asarray(a) for a in v] for k, v in init_params(sizes, seed).items()}
    bn_state = {k: [jnp.asarray(a) for a in v] for k, v in init_bn_state(sizes).items()}
    opt_state = opt.init(params)
    rng = np.random.default_rng(seed + 1)
    x = np.asarray(x, np.float32)
    y = np.asarray(y, np.int32)
    grad_norms, losses = None, []
    from tqdm.auto import tqdm

    bar = tqdm(total=c.epochs * (n // c.batch_size), desc="train (BPTT)", unit="batch", disable=not progress)
    with bar:
        for _ in range(c.epochs):
            for idx in rng.permutation(len(x))[:n].reshape(-1, c.batch_size):
                if grad_norms is None:
                    g = gradients(params, bn_state, x[idx], y[idx])
                    grad_norms = [float(jnp.linalg.norm(w)) for w in g["w"]]
                params, bn_state, opt_state, value = step(params, bn_state, opt_state, x[idx], y[idx])
                losses.append(float(value))
                bar.update()
    return {"params": params, "bn_state": bn_state, "grad_norms_init": grad_norms, "loss": losses, "sizes": sizes,
            "settings": {"timesteps": c.timesteps, "beta": float(c.beta), "surrogate": c.surrogate,
                         "scale": float(c.scale), "batch_norm": bool(c.batch_norm)}}


def to_snn(model: dict[str, Any]) -> LayeredSNN:
    """The trained network for spikedyn's kernel: LIF hidden layers (decay ``beta``), BN folded,
    a non-spiking integrating output (decay 1, so its membrane after T steps is T x the logits)."""
    ws, bs = fold(model["params"], model["bn_state"], batch_norm=model["settings"]["batch_norm"])
    n = len(ws)
    beta = model["settings"]["beta"]
    return LayeredSNN(weights=ws, biases=bs, betas=(beta,) * (n - 1) + (1.0,), spiking=(True,) * (n - 1) + (False,),
                      threshold=1.0, v_init=0.0)


def jax_logits(model: dict[str, Any], x: np.ndarray, *, batch: int = 1000, x64: bool = False) -> np.ndarray:
    """JAX's inference-mode logits (float32; float64 with ``x64``, for the kernel check)."""
    import jax
    import jax.numpy as jnp

    s = model["settings"]
    if not x64:
        _, _, _, infer = _step_fns(s["timesteps"], s["beta"], s["surrogate"], s["scale"], s["batch_norm"], 1e-3)
        return np.concatenate([np.asarray(infer(model["params"], model["bn_state"], jnp.asarray(x[i:i + batch],
                                                                                               jnp.float32)))
                               for i in range(0, len(x), batch)])
    with float64_context():
        cast = lambda tree: jax.tree_util.tree_map(lambda a: jnp.asarray(np.asarray(a, np.float64)), tree)
        params, state = cast(model["params"]), cast(model["bn_state"])
        spike = spike_function(s["surrogate"], s["scale"])
        out = [np.asarray(forward(params, state, jnp.asarray(np.asarray(x[i:i + batch], np.float64)),
                                  timesteps=s["timesteps"], beta=s["beta"], spike=spike,
                                  batch_norm=s["batch_norm"], train=False)[0])
               for i in range(0, len(x), batch)]
    return np.concatenate(out)


def train_and_score(config: SurrogateMLPConfig, x: np.ndarray, y: np.ndarray, x_eval: np.ndarray,
                    y_eval: np.ndarray, *, seed: int, energy_table: str = DEFAULT_TABLE,
                    progress: bool = False) -> dict[str, Any]:
    """Train on ``(x, y)`` (values in [0, 1]), score on ``(x_eval, y_eval)`` in spikedyn's kernel and in
    JAX; the counted cost on ``energy_table``. What a search candidate runs with the validation split."""
    start = time.perf_counter()
    model = train(x, y, config, seed=seed, progress=progress)
    t_train = time.perf_counter() - start
    jax_pred = jax_logits(model, x_eval).argmax(axis=1)
    t0 = time.perf_counter()
    sim = simulate(to_snn(model), x_eval, timesteps=config.timesteps, progress=progress, desc="simulate SNN")
    t_sim = time.perf_counter() - t0
    pred = sim.membrane[:, -1].argmax(axis=1)
    sizes = model["sizes"]
    cost = layered_cost(sizes, derive_layered(sizes, sim.tally(), neuron="lif"), table=energy_table,
                        train=derive_training(training_macs(sizes, config.timesteps)))
    cost["training"] = ("BPTT's forward and backward matrix products per training sample, each with a weight "
                        "read; element-wise work, BN and Adam are not counted")
    losses = model["loss"]
    return {
        "accuracy": float(np.mean(pred == y_eval)),
        "jax_accuracy": float(np.mean(jax_pred == y_eval)),
        "numba_jax_agreement": float(np.mean(pred == jax_pred)),
        "grad_norms_init": model["grad_norms_init"],
        "final_loss": float(np.mean(losses[-50:])) if losses else None,
        "finite": bool(np.all(np.isfinite(losses))),
        # spikes per neuron and step of each hidden layer
        "spike_rates": (sim.layer_spikes[:, 1:-1].mean(axis=0) / config.timesteps / np.asarray(sizes[1:-1])).tolist(),
        "cost": cost, "tally": sim.tally(),
        "wall_s": {"train": t_train, "simulate": t_sim},
    }


def run_mnist(layers: int = 4, timesteps: int = 10, epochs: int = 1, seed: int = 0, *, batch_norm: bool = True,
              surrogate: str = SURROGATE, scale: float = SCALE, width: int = WIDTH, beta: float = BETA,
              learning_rate: float = LEARNING_RATE, batch_size: int = 100, energy_table: str = DEFAULT_TABLE,
              n_train: int = 60000, n_test: int = 10000, task: str = "mnist", data_dir=None,
              progress: bool = False) -> dict[str, Any]:
    """Train on the first ``n_train`` training images, evaluate on the first ``n_test`` test images; the
    result as a JSON-ready dict (``surrogate --task mnist``).

    Keys: ``accuracy`` (the Numba kernel's, on the test images), ``jax_accuracy``,
    ``numba_jax_agreement``, ``layers``, ``timesteps``, ``batch_norm``, ``surrogate``, ``scale``,
    ``grad_norms_init``, ``cost`` (``infer_energy_uj``, ``train_energy_uj``, memory, operations,
    every shipped table), ``config``, ``wall_s``, ``source_hash``.
    """
    from ..io.data import load_mnist

    check_task(task)
    config = SurrogateMLPConfig(layers=layers, width=width, timesteps=timesteps, epochs=epochs, batch_norm=batch_norm,
                                surrogate=surrogate, scale=scale, beta=beta, learning_rate=learning_rate,
                                batch_size=batch_size)
    seed = check_seed(seed)
    n_train = check_positive_int(n_train, "n_train", "training images")
    n_test = check_positive_int(n_test, "n_test", "test images")
    load_energy_table(energy_table)
    table = str(energy_table)
    start = time.perf_counter()
    x, y = load_mnist("train", n=n_train, data_dir=data_dir)
    xt, yt = load_mnist("test", n=n_test, data_dir=data_dir)
    out = train_and_score(config, x / 255.0, y, xt / 255.0, yt, seed=seed, energy_table=table, progress=progress)
    out["wall_s"]["total"] = time.perf_counter() - start
    return {"task": "mnist", "accuracy": out.pop("accuracy"), "layers": config.layers,
            "timesteps": config.timesteps, "epochs": config.epochs, "batch_norm": bool(config.batch_norm),
            "surrogate": config.surrogate, "scale": float(config.scale), "seed": seed, **out,
            "config": {**asdict(config), "n_train": n_train, "n_test": n_test, "energy_table": table,
                       "input": "constant"},
            **provenance()}
