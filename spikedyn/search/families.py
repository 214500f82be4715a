"""Candidate families of the search: the kinds of network one Pareto front can hold.

A *family* is how one kind of network enters a search: which candidates it makes of a
model name, a size and the grid, the config record of a candidate, the estimate that
prunes it before training, the training and scoring under the search's protocol (run in
a worker), and the pricing of what it counted. Three kinds ship:

=================  ====================================================================  ==========
family             candidates                                                            labels
=================  ====================================================================  ==========
``stdp``           every registered model (:mod:`spikedyn.models`): ``neurons``           one
                   excitatory neurons, any weight width, a :class:`~spikedyn.config.       labelled
                   NetworkConfig`                                                          pass
``converted-mlp``  a ReLU MLP ``784-neurons-10`` trained with labels and converted to     every
                   an SNN (:mod:`spikedyn.conversion.family`), 32-bit weights              image
``surrogate-mlp``  an SNN MLP of LIF layers ``neurons`` wide trained with surrogate       every
                   gradients (:mod:`spikedyn.surrogate.family`), 32-bit weights            image
=================  ====================================================================  ==========

Every family follows the search's rules: a candidate whose *estimate* breaks the budget
is pruned before training; the others learn from the first ``train_samples`` training
images and are scored on the validation split (training images 50,000 onwards), never
the test set; their operations are counted by spikedyn's kernels and priced on the
search's energy table (:mod:`spikedyn.cost`: the same operations, views and tables for
all); results are stored by task and source hash and reused by a rerun; they run on the
local or Dask executors alike.

A family registers itself (:func:`register`); :func:`family_of` finds the family of a
name of the search's ``models``: a registered family by its name, else the ``stdp``
family for a registered model. The families that ship with spikedyn live beside the
code they train (:data:`BUILTIN`) and are imported on the first look-up, so a search
worker finds them too and ``import spikedyn.search`` does not import JAX.

Grid keys (``--grid``) of the form ``FAMILY.field`` set a field of that family's config
(``surrogate-mlp.layers=2,4``); the others (``section.field``) are network config fields
of the STDP models.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Mapping
from typing import Any

from ..config import NetworkConfig
from ..errors import ConfigError

#: Modules that register the families shipped with spikedyn (imported on first look-up).
BUILTIN = ("spikedyn.conversion.family", "spikedyn.surrogate.family")
#: The costs a family's estimate and its pricing give (what the search prunes and ranks by).
COST_KEYS = ("memory_kb", "train_energy_uj", "infer_energy_uj")

_FAMILIES: dict[str, "Family"] = {}
_loaded = False


class Family:
    """The interface of a candidate family (subclass it and :func:`register` an instance).

    Attributes
    ----------
    name : str
        How the search's ``models`` name it (the ``stdp`` family takes the models' names).
    description, labels : str
        What it is; which labels its training needs (for the tables).
    weight_bits : tuple of int or None
        The weight widths it runs (None: any); other widths make no candidate of it.
    protocols : tuple of str
        The search protocols it can be trained and scored under.
    """

    name: str = ""
    description: str = ""
    labels: str = ""
    weight_bits: tuple[int, ...] | None = None
    protocols: tuple[str, ...] = ("standard",)

    def grid_keys(self, grid) -> list[str]:
        """The grid's keys that set fields of this family's candidates."""
        return [k for k, _ in grid if k.startswith(self.name + ".")]

    def config(self, candidate, base: NetworkConfig) -> Any:
        """The config record of ``candidate`` (checked: a bad value is a ConfigError now)."""
        raise NotImplementedError

    def config_dict(self, config) -> dict[str, Any]:
        """``config`` as JSON holds it (the task a worker gets)."""
        raise NotImplementedError

    def from_dict(self, data: Mapping[str, Any]) -> Any:
        raise NotImplementedError

    def estimate(self, config, table) -> dict[str, Any]:
        """Memory (KB) and training and inference energy per sample (uJ) on ``table``
        (an :class:`~spikedyn.cost.tables.EnergyTable`) before training: :data:`COST_KEYS`."""
        raise NotImplementedError

    def evaluate(self, task: dict) -> dict[str, Any]:
        """Train and score one candidate with one seed under the task's protocol (in a worker):
        ``{"accuracy": ..., "tally": {"train": {"samples": ...}, "inference": {...}}, ...}``."""
        raise NotImplementedError

    def price(self, config, result: Mapping[str, Any], table) -> dict[str, Any]:
        """Memory and energy per sample (:data:`COST_KEYS`) on ``table`` from what ``evaluate`` counted."""
        raise NotImplementedError

    def cost(self, task: dict) -> float:
        """A rough estimate of how long ``task`` takes, in synapse visits (weights x training
        samples), so a search starts its longest runs first; 0 (no estimate) by default."""
        return 0.0

    def warm_up(self, task: dict) -> dict | None:
        """A small task that compiles the kernels ``task`` needs (run first, once per distinct
        ``"id"``, by :func:`spikedyn.search.executors.run_tasks`); None: no warm-up."""
        return None


def parse_value(text: str) -> Any:
    """A grid value of a family's field from the command line: an integer, a number, true/false, or text
    (the family's config checks it)."""
    text = text.strip()
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def overrides_for(family: Family, overrides) -> dict[str, Any]:
    """``{field: value}`` of a candidate's grid overrides ``FAMILY.field`` (the prefix removed); a field
    the family's config record does not have is a ConfigError naming those it has."""
    prefix = family.name + "."
    out = {k[len(prefix):]: v for k, v in overrides if k.startswith(prefix)}
    config_type = getattr(family, "config_type", None)
    if dataclasses.is_dataclass(config_type):
        fields = [f.name for f in dataclasses.fields(config_type)]
        for name in out:
            if name not in fields:
                raise ConfigError(f"{family.name} has no field {name!r}; its fields: {', '.join(fields)}")
    return out


def standard_split(task: dict):
    """The standard protocol's images of ``task`` as values in [0, 1]: ``(x, y)`` the first
    ``train_samples`` training images, ``(x_val, y_val)`` the first ``validation_samples`` of the
    validation split (training images 50,000 onwards); never the test set."""
    from ..io.data import load_mnist
    from ..io.splits import TRAIN_SAMPLES, VALIDATION_SAMPLES

    p = task["protocol"]
    x, y = load_mnist("train", task.get("data_dir"))
    first = TRAIN_SAMPLES - VALIDATION_SAMPLES
    val = slice(first, first + p["validation_samples"])
    return x[:p["train_samples"]] / 255.0, y[:p["train_samples"]], x[val] / 255.0, y[val]


class LayeredFamily(Family):
    """What the layered families (converted and surrogate-trained SNNs) share: a frozen config record
    with ``sizes()``, counted by the layered kernel (:mod:`spikedyn.feedforward`), priced by
    :func:`spikedyn.cost.price_layered` with the training MACs of :func:`spikedyn.cost.training_macs`.
    A subclass gives ``config_type``, ``neuron`` (``"if"`` or ``"lif"``), :meth:`train_steps`,
    :meth:`predicted_tally` and :meth:`train_and_score`."""

    weight_bits = (32,)
    config_type: type = object
    neuron = "if"

    def config_dict(self, config) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()}

    def from_dict(self, data):
        return self.config_type(**data)

    def train_steps(self, config) -> int:
        """Time steps that backpropagation runs through per training sample (1 for an ANN)."""
        raise NotImplementedError

    def predicted_tally(self, config) -> dict[str, float]:
        """The kernel's tally per sample before training (:func:`spikedyn.cost.predict_layered_tally`)."""
        raise NotImplementedError

    def train_and_score(self, config, x, y, x_val, y_val, *, seed: int) -> dict[str, Any]:
        """Train on ``(x, y)``, score on ``(x_val, y_val)``: ``{"accuracy", "tally" (the kernel's), ...}``."""
        raise NotImplementedError

    def operations(self, config, tally) -> dict[str, Any]:
        """Operations per sample by phase: inference from the kernel's ``tally``, training from the sizes."""
        from ..cost import derive_layered, derive_training, training_macs

        sizes = config.sizes()
        poisson = getattr(config, "input", "constant") == "poisson"
        return {"inference": derive_layered(sizes, tally, neuron=self.neuron, poisson=poisson),
                "train": derive_training(training_macs(sizes, self.train_steps(config)))}

    def _priced(self, config, tally, table) -> dict[str, Any]:
        from ..cost import price_layered

        priced = price_layered(config.sizes(), self.operations(config, tally), table=table)
        return {k: priced.get(k) for k in COST_KEYS}

    def estimate(self, config, table) -> dict[str, Any]:
        return self._priced(config, self.predicted_tally(config), table)

    def evaluate(self, task: dict) -> dict[str, Any]:
        config = self.from_dict(task["config"])
        x, y, x_val, y_val = standard_split(task)
        out = self.train_and_score(config, x, y, x_val, y_val, seed=task["seed"])
        return {**out, "tally": {"train": {"samples": len(x) * config.epochs}, "inference": out["tally"]}}

    def price(self, config, result, table) -> dict[str, Any]:
        return self._priced(config, result["tally"]["inference"], table)

    def cost(self, task: dict) -> float:
        config = self.from_dict(task["config"])
        sizes = config.sizes()
        weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
        return float(weights * task["protocol"]["train_samples"] * getattr(config, "epochs", 1)
                     * self.train_steps(config))


class StdpFamily(Family):
    """The registered STDP models (:mod:`spikedyn.models`), trained without labels."""

    name = "stdp"
    description = "unsupervised STDP networks (every registered model)"
    labels = "one labelled pass to name the neurons"
    protocols = ("standard", "continual")

    def grid_keys(self, grid) -> list[str]:
        prefixes = tuple(f + "." for f in names())
        return [k for k, _ in grid if not k.startswith(prefixes)]

    def config(self, candidate, base: NetworkConfig) -> NetworkConfig:
        return candidate.config(base)

    def config_dict(self, config: NetworkConfig) -> dict[str, Any]:
        return config.to_dict()

    def from_dict(self, data) -> NetworkConfig:
        return NetworkConfig.from_saved(data)

    def estimate(self, config, table) -> dict[str, Any]:
        from .. import cost

        est = cost.estimate(config, table=table)
        return {k: est[k] for k in COST_KEYS}

    def evaluate(self, task: dict) -> dict[str, Any]:
        return _evaluate_stdp(task)

    def price(self, config, result, table) -> dict[str, Any]:
        from .. import cost

        priced = cost.price(config, result["tally"], table=table)
        return {k: priced.get(k) for k in COST_KEYS}

    def cost(self, task: dict) -> float:
        config, p = task["config"], task["protocol"]
        samples = p["train_samples"] if p["name"] == "standard" else p["samples_per_task"] * 10
        return float(config["n_input"] * config["n_neurons"] * samples)

    def warm_up(self, task: dict) -> dict:
        """The candidate's config trained on one image and scored on one (the standard protocol):
        it compiles the training, labelling and inference kernels of every candidate whose
        kernel arguments have the same Numba types (:func:`spikedyn.simulation.state.kernel_signature`)."""
        from ..simulation.state import kernel_signature

        signature = kernel_signature(NetworkConfig.from_saved(task["config"]))
        return {**task, "id": f"warm-up-{signature}", "seed": 0,
                "protocol": {**task["protocol"], "name": "standard", "train_samples": 1, "validation_samples": 1}}


def _evaluate_stdp(task: dict) -> dict:
    """Train and score one STDP candidate with one seed; returns the accuracy and the operations the
    kernels counted. Checkpointed while it trains when the executor gives it a checkpoint file
    (:func:`spikedyn.search.executors.task_session`), and resumed from it."""
    from ..cost.operations import PHASES
    from ..io.checkpoint import TrainProgress, network_point, point_network, reading, train_resumably
    from ..simulation.network import Network
    from .executors import task_session, threads_per_task

    config = NetworkConfig.from_saved(task["config"])
    p = task["protocol"]  # a SearchProtocol's dict
    jobs = threads_per_task()
    session = task_session(task)
    if p["name"] == "standard":
        from ..io.data import load_mnist

        x, y = load_mnist("train", task.get("data_dir"))
        x = x.reshape(len(x), -1)
        learn = slice(0, p["train_samples"])
        val = slice(50_000, 50_000 + p["validation_samples"])
        resumed = session.resumed("standard")
        if resumed is None:
            net, progress = Network(config, seed=task["seed"]), TrainProgress()
        else:
            with reading(session.source):
                net, progress = point_network(*resumed, Network), TrainProgress(**resumed[0]["progress"])

        def point(tp: TrainProgress):
            return network_point(net, {"progress": tp.to_dict()})

        progress = train_resumably(net, x[learn], progress, session, "standard", point, show=False, desc="train")
        session.save("standard", *point(progress))  # trained: a stop while scoring does not train again
        net.assign(x[learn], y[learn], n_jobs=jobs)
        accuracy = net.score(x[val], y[val], n_jobs=jobs)
        tally = {phase: net.operations(phase)["tally"] for phase in PHASES}
        extra: dict[str, Any] = {}
    else:
        from .. import continual

        protocol = continual.Protocol(samples_per_task=p["samples_per_task"], split="validation")
        pools = continual.load_pools("validation", task.get("data_dir"))
        result = continual.run(config, seed=task["seed"], protocol=protocol, pools=pools, n_jobs=jobs,
                               progress=False, session=session)
        summary = result.summary()
        accuracy = summary["final_average_accuracy"]
        tally = result.cost["tally"]
        extra = {"accuracy_matrix": summary["accuracy_matrix"]}
    return {"accuracy": float(accuracy), "tally": tally, **extra}


STDP = StdpFamily()


def task_cost(task: dict) -> float:
    """:meth:`Family.cost` of a search task, by its family."""
    return get(task.get("family", STDP.name)).cost(task)


def task_warm_up(task: dict) -> dict | None:
    """:meth:`Family.warm_up` of a search task, by its family."""
    return get(task.get("family", STDP.name)).warm_up(task)


def register(family: Family) -> Family:
    """Add ``family`` to the registry (its name must be new and no model's)."""
    from .. import models

    if not isinstance(family, Family) or not family.name:
        raise ConfigError(f"a family must be a spikedyn.search.families.Family with a name, got {family!r}")
    if family.name in _FAMILIES or family.name in models.names():
        raise ConfigError(f"a model or family named {family.name!r} is already registered")
    _FAMILIES[family.name] = family
    return family


def _load_builtin() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for module in BUILTIN:
            importlib.import_module(module)


def names() -> tuple[str, ...]:
    """The registered families' names (the ``stdp`` family excluded: it answers to the models' names)."""
    _load_builtin()
    return tuple(_FAMILIES)


def get(name: str) -> Family:
    """The family registered as ``name`` (``"stdp"`` for the STDP models)."""
    _load_builtin()
    if name == STDP.name:
        return STDP
    try:
        return _FAMILIES[name]
    except KeyError:
        raise ConfigError(f"unknown family {name!r}; families: {', '.join((STDP.name, *_FAMILIES))}") from None


def family_of(model: str) -> Family:
    """The family of a name in a search's ``models``: a registered family, else ``stdp`` for a registered
    model; a ConfigError listing both otherwise."""
    from .. import models

    _load_builtin()
    if model in _FAMILIES:
        return _FAMILIES[model]
    if model in models.names():
        return STDP
    raise ConfigError(f"unknown model {model!r}; models: {', '.join(models.names())}; "
                      f"other families: {', '.join(_FAMILIES)}")
