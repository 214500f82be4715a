"""``convert --task mnist``: train a ReLU MLP on MNIST, convert it, simulate the SNN, compare.

Input coding (``input``):

``constant`` (default)
    pixel / 255 in [0, 1] is injected every step as a current into the first layer
    (Rueckauer et al. 2017's analog input): ``I_1 = W'_1^T x`` is computed once per sample
    (``784 n_1`` multiply-accumulates, counted) and the first layer is the first to spike.
``poisson``
    pixel ``i`` spikes at each step with probability ``rate * x_i`` (a Bernoulli process, the
    discrete-time Poisson train); the first layer's weights are scaled by ``lambda_0 = rate``
    so that its expected input equals the ANN's. Costs synaptic events instead of MACs.

Data: the ANN trains on the first ``n_train`` training images; the normalisation's
activations are gathered on the first ``n_norm`` of them (never the test set); every
accuracy is measured on the first ``n_test`` test images.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any, Sequence

import numpy as np

from .._version import provenance
from ..cost import derive_layered, derive_training, layered_cost, price_layered, training_macs
from ..cost.tables import DEFAULT_TABLE
from ..errors import ConfigError
from ..feedforward import simulate
from . import mlp
from .normalise import V_INIT, convert, scales_record
from .options import check_common, check_hidden, check_positive_int, check_sweep
from .readout import READOUTS, decide

#: Step counts of the accuracy-against-T curve (those <= timesteps are used).
DEFAULT_SWEEP = (5, 10, 20, 50, 100, 200, 500)


def score(ann_out: np.ndarray, sim, labels: np.ndarray | None = None) -> dict[str, dict[str, Any]]:
    """Accuracy (given ``labels``) and decision agreement with the ANN at every recorded step count,
    for both readouts: ``{T: {readout: {"accuracy": .., "decision_agreement": ..}}}``."""
    ann_choice = ann_out.argmax(axis=1)
    out = {}
    for r, t in enumerate(sim.record_at):
        row = {}
        for readout in READOUTS:
            choice = decide(sim.counts[:, r], sim.membrane[:, r], readout)
            entry = {"decision_agreement": float(np.mean(choice == ann_choice))}
            if labels is not None:
                entry["accuracy"] = float(np.mean(choice == labels))
            row[readout] = entry
        out[str(int(t))] = row
    return out


@dataclass(frozen=True)
class ConvertedMLPConfig:
    """Everything a converted MNIST MLP depends on (a search candidate's config). Checked on creation.

    ``hidden`` (500,): the issue's 784-500-10; ``timesteps`` 100; ``percentile`` 99.9 and
    ``readout`` ``spikes+membrane``: Tan, Patel & Kozma (AAAI 2021); ``input`` ``constant``
    (Rueckauer et al. 2017's analog input); ``normalisation`` ``layer`` (Tan et al.);
    ``v_init`` :data:`~spikedyn.conversion.normalise.V_INIT`; ``epochs`` 5 of Adam at 1e-3,
    batch 100; ``rate`` 1 (Poisson input: spikes per step at pixel 255); ``n_norm`` 10,000
    training images for the percentiles.
    """

    hidden: tuple[int, ...] = (500,)
    timesteps: int = 100
    percentile: float = 99.9
    readout: str = "spikes+membrane"
    input: str = "constant"
    normalisation: str = "layer"
    v_init: float = V_INIT
    epochs: int = 5
    rate: float = 1.0
    n_norm: int = 10000
    batch_size: int = 100
    learning_rate: float = 1e-3

    def __post_init__(self):
        object.__setattr__(self, "hidden", check_hidden(self.hidden))
        check_common(timesteps=self.timesteps, percentile=self.percentile, readout=self.readout, seed=0,
                     input=self.input, normalisation=self.normalisation)
        for name, what in (("epochs", "passes over the training images"), ("n_norm", "images for the percentiles"),
                           ("batch_size", "images per minibatch")):
            check_positive_int(getattr(self, name), name, what)
        if not (isinstance(self.rate, (int, float)) and 0 < self.rate <= 1):
            raise ConfigError(f"rate must be in (0, 1] (spikes per step of a white pixel), got {self.rate!r}")
        if not (isinstance(self.v_init, (int, float)) and 0 <= self.v_init < 1):
            raise ConfigError(f"v_init must be in [0, 1) (a fraction of the threshold), got {self.v_init!r}")

    def sizes(self, n_in: int = 784, n_out: int = 10) -> tuple[int, ...]:
        return (n_in, *self.hidden, n_out)


def converted_cost(sizes, sim, *, poisson: bool, table: str = DEFAULT_TABLE) -> dict[str, Any]:
    """The ``cost`` record of a converted network from its simulation: the SNN's operations per
    inference (counted by the kernel), its ANN's dense MACs, and as training operations the ANN's
    backpropagation MACs per training sample (:func:`spikedyn.cost.training_macs` with T = 1; the
    percentile pass that converts it, a forward pass over ``n_norm`` images once, is not counted);
    ``by_timesteps``: the inference energy on ``table`` at every recorded step count."""
    train = derive_training(training_macs(sizes, 1))
    cost = layered_cost(sizes, derive_layered(sizes, sim.tally(), neuron="if", poisson=poisson), train=train,
                        table=table)
    per_t = {str(int(t)): derive_layered(sizes, sim.tally(r), neuron="if", poisson=poisson)
             for r, t in enumerate(sim.record_at)}
    cost["by_timesteps"] = {t: price_layered(sizes, {"inference": ops}, table=table)["infer_energy_uj"]
                            for t, ops in per_t.items()}
    cost["tally_by_timesteps"] = {str(int(t)): sim.tally(r) for r, t in enumerate(sim.record_at)}
    cost["training"] = ("the ANN's backpropagation MACs per training sample (one epoch's presentation), "
                        "each with a weight read; the conversion's percentile pass is not counted")
    return cost


def train_and_score(config: ConvertedMLPConfig, x: np.ndarray, y: np.ndarray, x_eval: np.ndarray,
                    y_eval: np.ndarray, *, seed: int, sweep: Sequence[int] | None = None,
                    energy_table: str = DEFAULT_TABLE, progress: bool = False) -> dict[str, Any]:
    """Train the ANN on ``(x, y)`` (values in [0, 1]), convert it (percentiles from ``x[:n_norm]``),
    score ANN and SNN on ``(x_eval, y_eval)``; the counted cost on ``energy_table``. What a search
    candidate runs with the validation split as ``x_eval``."""
    steps = check_sweep(sweep if sweep is not None else [t for t in DEFAULT_SWEEP if t <= config.timesteps],
                        config.timesteps)
    start = time.perf_counter()
    sizes = config.sizes(x.shape[1], 10)
    params = mlp.train_classifier(sizes, x, y, epochs=config.epochs, seed=seed, batch_size=config.batch_size,
                                  learning_rate=config.learning_rate, progress=progress)
    t_train = time.perf_counter() - start
    poisson = config.input == "poisson"
    snn, scales = convert(params, mlp.activations(params, x[:config.n_norm]), percentile=config.percentile,
                          input_scale=config.rate if poisson else 1.0, v_init=config.v_init, per=config.normalisation)
    ann_out = mlp.predict(params, x_eval)
    t0 = time.perf_counter()
    sim = simulate(snn, x_eval, timesteps=config.timesteps, record_at=steps, input=config.input, rate=config.rate,
                   seed=seed, progress=progress, desc="simulate SNN")
    t_sim = time.perf_counter() - t0
    curve = score(ann_out, sim, y_eval)
    final = curve[str(config.timesteps)][config.readout]
    cost = converted_cost(sizes, sim, poisson=poisson, table=energy_table)
    return {"ann_accuracy": float(np.mean(ann_out.argmax(1) == y_eval)), "snn_accuracy": final["accuracy"],
            "decision_agreement": final["decision_agreement"], "by_timesteps": curve,
            "scales": scales_record(scales), "cost": cost, "tally": sim.tally(), "wall_s": {"train": t_train, "simulate": t_sim}}


def run_mnist(hidden: int | Sequence[int] = (500,), timesteps: int = 100, percentile: float = 99.9,
              readout: str = "spikes+membrane", seed: int = 0, input: str = "constant",
              energy_table: str = DEFAULT_TABLE, *, epochs: int = 5, n_train: int = 60000,
              n_norm: int = 10000, n_test: int = 10000, rate: float = 1.0, v_init: float = V_INIT,
              normalisation: str = "layer", sweep: Sequence[int] | None = None, data_dir=None,
              progress: bool = False) -> dict[str, Any]:
    """Train on the first ``n_train`` training images, convert, evaluate on the first ``n_test`` test
    images; the result as a JSON-ready dict (``convert --task mnist``).

    Keys: ``ann_accuracy``, ``snn_accuracy``, ``decision_agreement`` (fraction of test images
    on which the SNN and the ANN choose the same class), ``timesteps``, ``readout``, ``input``,
    ``by_timesteps`` (both readouts at every step count of ``sweep``), ``cost``
    (``infer_energy_uj``, ``ann_infer_energy_uj``, memory, operations, every shipped table),
    ``scales`` (the normalisation's lambda_l), ``config``, ``wall_s``, ``source_hash``.
    """
    from ..io.data import load_mnist

    config = ConvertedMLPConfig(hidden=hidden, timesteps=timesteps, percentile=percentile, readout=readout,
                                input=input, normalisation=normalisation, v_init=v_init, epochs=epochs, rate=rate,
                                n_norm=n_norm)
    opts = check_common(timesteps=timesteps, percentile=percentile, readout=readout, seed=seed, input=input,
                        energy_table=energy_table, normalisation=normalisation)
    n_train = check_positive_int(n_train, "n_train", "training images")
    n_test = check_positive_int(n_test, "n_test", "test images")
    check_sweep(sweep, config.timesteps)
    start = time.perf_counter()
    x, y = load_mnist("train", n=n_train, data_dir=data_dir)
    xt, yt = load_mnist("test", n=n_test, data_dir=data_dir)
    out = train_and_score(config, x / 255.0, y, xt / 255.0, yt, seed=opts["seed"], sweep=sweep,
                          energy_table=opts["energy_table"], progress=progress)
    out["wall_s"]["total"] = time.perf_counter() - start
    return {"task": "mnist", **{k: out[k] for k in ("ann_accuracy", "snn_accuracy", "decision_agreement")},
            "timesteps": config.timesteps, "readout": config.readout, "input": config.input,
            "hidden": list(config.hidden), "percentile": config.percentile, "seed": opts["seed"],
            **{k: out[k] for k in ("by_timesteps", "scales", "cost")},
            "config": {**asdict(config), "n_train": n_train, "n_test": n_test, "energy_table": opts["energy_table"]},
            "wall_s": out["wall_s"], **provenance()}
