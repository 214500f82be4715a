"""The Pareto model search: which network fits a memory and energy budget, without training them all.

1. **Candidates**: every combination of models x sizes x weight widths x any other
   config fields given (``grid``: ``{"timing.present_ms": (250, 350)}``), each on top of
   a base config.
2. **Pruning**: the analytical cost model (:func:`spikedyn.cost.estimate`) prices every
   candidate before anything is trained; one whose estimated memory or training or
   inference energy per sample breaks a budget is *pruned*, with the reason, and never
   trained.
3. **Evaluation**: each remaining candidate is trained and evaluated under a stated
   protocol, for each seed, on the executors of :mod:`spikedyn.executors` (local
   processes or a Dask cluster), each result stored as it completes (rerunning the
   same search computes only what is missing). Accuracy is measured on the
   **validation split** (training images 50,000-59,999), never the test set: the search
   *chooses*. Memory is the footprint; training and inference energy per sample are
   the operations the kernels counted, priced on the chosen table.
4. **Front and choice**: the Pareto front of the evaluated candidates over accuracy
   (up), memory, training and inference energy (down) (:mod:`spikedyn.pareto`); the
   selected model is the most accurate candidate whose measured costs are within the
   budget, ties going to the cheaper (memory, then training, then inference energy).

Protocols
---------
``standard``
    learn from the first ``train_samples`` training images in order, name the neurons
    from the same images (learning off), score on the first ``validation_samples``
    images of the validation split.
``continual``
    the class-incremental protocol (:mod:`spikedyn.continual`) on the validation split,
    ``samples_per_task`` images per task; the score is the final average accuracy.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import itertools
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .config import (INFINITY, WEIGHT_BITS, NetworkConfig, _one_line, _show, _toml_reader, parse_set,
                     read_text_file)
from .energy import DEFAULT_TABLE
from .errors import ConfigError

PROTOCOLS = ("standard", "continual")
DEFAULT_NEURONS = (100, 200, 400, 900, 1600)
#: The objectives: name and sense.
OBJECTIVES = (("accuracy", "max"), ("memory_kb", "min"), ("train_energy_uj", "min"), ("infer_energy_uj", "min"))
#: Budgets: the argument, the estimate's key, its unit.
BUDGETS = (("max_memory_kb", "memory_kb", "KB"), ("max_train_energy_uj", "train_energy_uj", "uJ"),
           ("max_infer_energy_uj", "infer_energy_uj", "uJ"))


def _positive_or_none(name: str, value) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{name} must be a positive number, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Budget:
    """Upper bounds on memory (KB) and on training and inference energy per sample (uJ); None: no bound."""

    max_memory_kb: float | None = None
    max_train_energy_uj: float | None = None
    max_infer_energy_uj: float | None = None

    def __post_init__(self):
        for name, _, _ in BUDGETS:
            object.__setattr__(self, name, _positive_or_none(name, getattr(self, name)))

    def violations(self, costs: Mapping[str, Any]) -> list[str]:
        """Each bound ``costs`` breaks, as ``"memory_kb 3091 > 3000 KB"``; an energy a table cannot
        price (None) breaks its bound."""
        out = []
        for name, key, unit in BUDGETS:
            bound, value = getattr(self, name), costs.get(key)
            if bound is None:
                continue
            if value is None:
                out.append(f"{key} unavailable on this energy table, bound {bound:g} {unit}")
            elif value > bound:
                out.append(f"{key} {value:.4g} > {bound:g} {unit}")
        return out


@dataclass(frozen=True)
class SearchProtocol:
    """How each candidate is trained and scored (see the module docstring)."""

    name: str = "standard"
    train_samples: int = 5000
    validation_samples: int = 2000
    samples_per_task: int = 1000
    seeds: tuple[int, ...] = (0,)

    def __post_init__(self):
        if self.name not in PROTOCOLS:
            raise ConfigError(f"protocol must be one of {', '.join(PROTOCOLS)}, got {self.name!r}")
        from .protocol import TRAIN_SAMPLES, VALIDATION_SAMPLES

        limits = {"train_samples": TRAIN_SAMPLES - VALIDATION_SAMPLES, "validation_samples": VALIDATION_SAMPLES,
                  "samples_per_task": 4000}
        for key, top in limits.items():
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 1 <= v <= top:
                raise ConfigError(f"{key} must be an integer in 1..{top}, got {v!r}")
        seeds = tuple(self.seeds)
        if not seeds or len(set(seeds)) != len(seeds) or any(
                isinstance(s, bool) or not isinstance(s, (int, np.integer)) or not 0 <= s < 2**63 for s in seeds):
            raise ConfigError(f"seeds must be distinct integers in [0, 2**63), got {list(self.seeds)}")
        object.__setattr__(self, "seeds", tuple(int(s) for s in seeds))

    def to_dict(self) -> dict[str, Any]:
        """The protocol as JSON holds it (the seeds a list)."""
        return {**asdict(self), "seeds": list(self.seeds)}

    def describe(self) -> str:
        if self.name == "standard":
            return (f"learn from training images 0-{self.train_samples - 1} in order, name the neurons from them, "
                    f"score on validation images 50,000-{50_000 + self.validation_samples - 1}; "
                    f"seeds {','.join(map(str, self.seeds))}")
        return (f"class-incremental, 10 one-class tasks, {self.samples_per_task} images each, validation split "
                f"(learn from training images 0-49,999, score on 50,000-59,999); final average accuracy; "
                f"seeds {','.join(map(str, self.seeds))}")


@dataclass(frozen=True)
class Candidate:
    """One point of the search space: a model, a size, a weight width and other config fields."""

    model: str
    neurons: int
    weight_bits: int
    overrides: tuple[tuple[str, Any], ...] = ()

    @property
    def id(self) -> str:
        extra = "".join(f"-{k}={v}" for k, v in self.overrides)
        return f"{self.model}-{self.neurons}-w{self.weight_bits}{extra}"

    def config(self, base: NetworkConfig) -> NetworkConfig:
        fields = {k.replace(".", "__"): v for k, v in self.overrides}
        return base.replace(model=self.model, n_neurons=self.neurons, precision__weight_bits=self.weight_bits,
                            **fields)


@dataclass(frozen=True)
class SearchSpace:
    """Models x sizes x weight widths x the ``grid`` of other config fields (``"section.field"`` -> values)."""

    models: tuple[str, ...]
    neurons: tuple[int, ...] = DEFAULT_NEURONS
    weight_bits: tuple[int, ...] = (32,)
    grid: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    base: NetworkConfig = field(default_factory=NetworkConfig)

    def __post_init__(self):
        for name, values in (("models", self.models), ("neurons", self.neurons), ("weight_bits", self.weight_bits)):
            if not values or len(set(values)) != len(values):
                raise ConfigError(f"{name} must be a non-empty list without repeats, got {list(values)}")
        for b in self.weight_bits:
            if b not in WEIGHT_BITS:
                raise ConfigError(f"weight_bits must be among {', '.join(map(str, WEIGHT_BITS))}, got {b!r}")
        for n in self.neurons:
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
                raise ConfigError(f"neurons must be positive integers, got {n!r}")
        for key, values in self.grid:
            if not values:
                raise ConfigError(f"grid field {key} has no values")
        for c in self.candidates():  # every candidate a valid config (registered model, ...), or an error now
            c.config(self.base)

    def candidates(self) -> list[Candidate]:
        keys = [k for k, _ in self.grid]
        combos = list(itertools.product(*[v for _, v in self.grid]))  # [()] without a grid
        return [Candidate(m, int(n), int(b), tuple(zip(keys, combo)))
                for m in self.models for n in self.neurons for b in self.weight_bits for combo in combos]


# -- one candidate, in a worker -----------------------------------------------------------------
def evaluate(task: dict) -> dict:
    """Train and score one candidate with one seed (runs in a worker process); returns the accuracy
    and the operations the kernels counted. Checkpointed while it trains when the executor
    gives it a checkpoint file (:func:`spikedyn.executors.task_session`), and resumed from it."""
    from .checkpoint import TrainProgress, network_point, point_network, reading, train_resumably
    from .executors import task_session, threads_per_task
    from .network import Network
    from .operations import PHASES

    config = NetworkConfig.from_dict(task["config"])
    p = SearchProtocol(**task["protocol"])
    jobs = threads_per_task()
    session = task_session(task)
    if p.name == "standard":
        from .data import load_mnist

        x, y = load_mnist("train", task.get("data_dir"))
        x = x.reshape(len(x), -1)
        learn = slice(0, p.train_samples)
        val = slice(50_000, 50_000 + p.validation_samples)
        resumed = session.resumed("standard")
        if resumed is None:
            net, progress = Network(config, seed=task["seed"]), TrainProgress()
        else:
            with reading(session.source):
                net, progress = point_network(*resumed), TrainProgress(**resumed[0]["progress"])

        def point(tp: TrainProgress):
            return network_point(net, {"progress": tp.to_dict()})

        progress = train_resumably(net, x[learn], progress, session, "standard", point, show=False, desc="train")
        session.save("standard", *point(progress))  # trained: a stop while scoring does not train again
        net.assign(x[learn], y[learn], n_jobs=jobs)
        accuracy = net.score(x[val], y[val], n_jobs=jobs)
        tally = {phase: net.operations(phase)["tally"] for phase in PHASES}
        extra: dict[str, Any] = {}
    else:
        from . import continual

        protocol = continual.Protocol(samples_per_task=p.samples_per_task, split="validation")
        pools = continual.load_pools("validation", task.get("data_dir"))
        result = continual.run(config, seed=task["seed"], protocol=protocol, pools=pools, n_jobs=jobs,
                               progress=False, session=session)
        summary = result.summary()
        accuracy = summary["final_average_accuracy"]
        tally = result.cost["tally"]
        extra = {"accuracy_matrix": summary["accuracy_matrix"]}
    return {"accuracy": float(accuracy), "tally": tally, **extra}


# -- the search ---------------------------------------------------------------------------------
def _objective_values(c: Mapping[str, Any]) -> list[float]:
    return [float(c[k]) for k, _ in OBJECTIVES]


def select(candidates: Sequence[Mapping[str, Any]], budget: Budget) -> Mapping[str, Any] | None:
    """The most accurate evaluated candidate within the budget (by its measured costs); ties go to
    the cheaper: memory, then training, then inference energy. None if none fits."""
    fits = [c for c in candidates if not c["pruned"] and c["accuracy"] is not None and not budget.violations(c)]
    if not fits:
        return None
    return min(fits, key=lambda c: (-c["accuracy"], c["memory_kb"], c["train_energy_uj"] or 0.0,
                                    c["infer_energy_uj"] or 0.0, c["id"]))


def run_search(space: SearchSpace, budget: Budget, protocol: SearchProtocol, *, out_dir, table: str = DEFAULT_TABLE,
               executor: str = "local", jobs: int | None = None, scheduler: str | None = None,
               data_dir=None, progress: bool = True, checkpoint_every_s: float | None = None) -> dict[str, Any]:
    """Run the search (see the module docstring); writes ``out_dir`` and returns the summary.

    ``checkpoint_every_s``: each candidate's training is checkpointed this often (on this
    machine's workers) in ``out_dir/candidates/``, and resumed from there by a rerun.
    """
    from . import cost, executors
    from .energy import load_energy_table
    from .pareto import pareto_front
    from .runs import write_json

    executors.check_executor(executor, jobs, scheduler)
    tb = load_energy_table(table)
    out = Path(out_dir)
    records: list[dict[str, Any]] = []
    tasks: list[dict] = []
    for cand in space.candidates():
        config = cand.config(space.base)
        est = cost.estimate(config, table=tb)
        reasons = budget.violations(est)
        records.append({"id": cand.id, "model": cand.model, "neurons": cand.neurons, "weight_bits": cand.weight_bits,
                        "overrides": {k: _plain(v) for k, v in cand.overrides}, "pruned": bool(reasons),
                        "reason": "; ".join(reasons) if reasons else None,
                        "estimate": {k: est[k] for k in ("memory_kb", "train_energy_uj", "infer_energy_uj")},
                        "config": config.to_dict()})
        if not reasons:
            for seed in protocol.seeds:
                tasks.append({"id": f"{cand.id}-seed{seed}", "config": config.to_dict(), "seed": seed,
                              "protocol": protocol.to_dict(),
                              "data_dir": None if data_dir is None else str(data_dir)})
    results, reused = executors.run_tasks(evaluate, tasks, out / "candidates", executor=executor, jobs=jobs,
                                          scheduler=scheduler, desc="candidates", progress=progress,
                                          checkpoint_every_s=checkpoint_every_s)
    by_id: dict[str, list[dict]] = {}
    for r in results:
        by_id.setdefault(r["task"]["id"].rsplit("-seed", 1)[0], []).append(r)
    for rec in records:
        runs = by_id.get(rec["id"], [])
        rec["counted_train_samples"] = int(sum(r["tally"]["train"]["samples"] for r in runs))
        if rec["pruned"]:
            rec.update(accuracy=None, accuracy_sd=None, memory_kb=None, train_energy_uj=None, infer_energy_uj=None)
            continue
        config = NetworkConfig.from_dict(rec["config"])
        priced = [cost.price(config, r["tally"], table=tb) for r in runs]
        accs = [r["accuracy"] for r in runs]
        rec["accuracy"] = float(np.mean(accs))
        rec["accuracy_sd"] = float(np.std(accs, ddof=1)) if len(accs) > 1 else 0.0
        rec["memory_kb"] = priced[0]["memory_kb"]
        for key in ("train_energy_uj", "infer_energy_uj"):
            values = [p[key] for p in priced]
            rec[key] = None if any(v is None for v in values) else float(np.mean(values))
    evaluated = [r for r in records if not r["pruned"] and all(r[k] is not None for k, _ in OBJECTIVES)]
    front_ids: list[str] = []
    if evaluated:
        mask = pareto_front([_objective_values(c) for c in evaluated], [s for _, s in OBJECTIVES])
        front_ids = [c["id"] for c, on in zip(evaluated, mask) if on]
    for rec in records:
        rec["on_front"] = rec["id"] in front_ids
    chosen = select(records, budget)
    summary = {
        "space": {"models": list(space.models), "neurons": list(space.neurons), "weight_bits": list(space.weight_bits),
                  "grid": {k: list(v) for k, v in space.grid}},
        "budget": asdict(budget),
        "energy_table": tb.name,
        "protocol": {**protocol.to_dict(), "description": protocol.describe()},
        "objectives": [{"name": k, "sense": s} for k, s in OBJECTIVES],
        "candidates": records,
        "front": front_ids,
        "selected": None if chosen is None else chosen["id"],
        "counts": {"candidates": len(records), "pruned": sum(r["pruned"] for r in records),
                   "evaluated": len(evaluated), "tasks": len(tasks), "tasks_reused": reused,
                   "pruned_but_trained": sum(r["pruned"] and r["counted_train_samples"] > 0 for r in records)},
    }
    write_json(out / "search.json", summary)
    _write_csv(out / "candidates.csv", records)
    _write_markdown(out / "candidates.md", summary)
    _write_plots(out, summary, budget)
    return summary


def _write_csv(path: Path, records: list[dict]) -> None:
    from .runs import atomic_path

    cols = ["id", "model", "neurons", "weight_bits", "pruned", "reason", "accuracy", "accuracy_sd", "memory_kb",
            "train_energy_uj", "infer_energy_uj", "on_front", "counted_train_samples", "estimate_memory_kb",
            "estimate_train_energy_uj", "estimate_infer_energy_uj"]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(cols)
    for r in records:
        row = {**r, **{f"estimate_{k}": v for k, v in r["estimate"].items()}}
        w.writerow(["" if row.get(c) is None else row.get(c) for c in cols])
    with atomic_path(path) as tmp:
        tmp.write_text(buf.getvalue())


def _write_markdown(path: Path, summary: dict) -> None:
    """Every candidate as a markdown table: measured values, or the estimate and why it was pruned."""
    from .runs import atomic_path

    def num(x, fmt):
        return "-" if x is None else format(x, fmt)

    p = summary["protocol"]
    lines = [f"Protocol: {p['description']}. Energy table: {summary['energy_table']}. Pruned candidates were "
             "never trained; their memory is the estimate's.", "",
             "| candidate | validation accuracy | memory (KB) | training (uJ/sample) | inference (uJ/sample) | |",
             "|---|---:|---:|---:|---:|---|"]
    for c in summary["candidates"]:
        if c["pruned"]:
            lines.append(f"| `{c['id']}` | - | {c['estimate']['memory_kb']:.0f} | - | - | pruned: {c['reason']} |")
            continue
        note = ", ".join(x for x, on in (("**selected**", c["id"] == summary["selected"]),
                                         ("front", c["on_front"])) if on)
        sd = f" ± {c['accuracy_sd']:.3f}" if len(p["seeds"]) > 1 else ""
        lines.append(f"| `{c['id']}` | {c['accuracy']:.3f}{sd} | {c['memory_kb']:.0f} | "
                     f"{num(c['train_energy_uj'], '.1f')} | {num(c['infer_energy_uj'], '.1f')} | {note} |")
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n")


def _write_plots(out: Path, summary: dict, budget: Budget) -> None:
    """The three projections as PNG files (matplotlib's Figure directly: pyplot's backend, e.g. a
    notebook's, is left alone)."""
    from matplotlib.figure import Figure

    from .plotting import plot_pareto, save_figure

    for key, bound in (("memory_kb", budget.max_memory_kb), ("train_energy_uj", budget.max_train_energy_uj),
                       ("infer_energy_uj", budget.max_infer_energy_uj)):
        fig = Figure(figsize=(7, 4.8), layout="constrained")
        plot_pareto(summary["candidates"], key, fig.subplots(), budget=bound, selected=summary["selected"],
                    title=f"accuracy vs {key} ({summary['energy_table']})")
        save_figure(fig, out / f"accuracy_vs_{key}.png")


# -- the search as a file -----------------------------------------------------------------------
#: Keys of a search file (TOML or JSON), and of ``OUT/search_spec.json``.
SPEC_KEYS = ("models", "neurons", "weight_bits", "grid", "budget", "protocol", "energy_table", "config")
SPEC_FILE = "search_spec.json"


@dataclass(frozen=True)
class SearchSpec:
    """A whole search: the space, the budget, the protocol and the energy table.

    Written as a file (``spikedyn search --spec FILE``, TOML or JSON)::

        models = ["spikedyn", "asp"]
        neurons = [100, 200, 400]
        weight_bits = [32, 8]          # optional, default [32]
        energy_table = "horowitz-45nm" # optional
        [budget]                       # optional; any of the three bounds
        max_memory_kb = 3000
        [protocol]                     # optional; SearchProtocol's fields
        name = "standard"
        train_samples = 5000
        seeds = [0, 1, 2]
        [grid]                         # optional; other config fields to search over
        "timing.present_ms" = [250, 350]
        [config.stdp]                  # optional; the base network config (any sections)
        nu_post = 0.01
    """

    space: SearchSpace
    budget: Budget = field(default_factory=Budget)
    protocol: SearchProtocol = field(default_factory=SearchProtocol)
    energy_table: str = DEFAULT_TABLE

    def to_dict(self) -> dict[str, Any]:
        sp = self.space
        return {"models": list(sp.models), "neurons": list(sp.neurons), "weight_bits": list(sp.weight_bits),
                "grid": {k: [_plain(x) for x in v] for k, v in sp.grid},
                "budget": {k: v for k, v in asdict(self.budget).items() if v is not None},
                "protocol": self.protocol.to_dict(),
                "energy_table": str(self.energy_table), "config": sp.base.to_dict()}

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "search spec") -> "SearchSpec":
        """Check and build a spec; every problem is a one-line ConfigError naming ``source`` and the key."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"{source}: must hold a table of {', '.join(SPEC_KEYS)}, got {type(data).__name__}")
        unknown = sorted(set(map(str, data)) - set(SPEC_KEYS))
        if unknown:
            raise ConfigError(f"{source}: unknown key {unknown[0]!r}; the keys are {', '.join(SPEC_KEYS)}")
        if "models" not in data:
            raise ConfigError(f"{source}: 'models' is missing; give a list such as [\"spikedyn\", \"asp\"]")

        def items(key, kind, default):
            value = data.get(key, default)
            if not isinstance(value, (list, tuple)) or not value or not all(
                    isinstance(v, kind) and not isinstance(v, bool) for v in value):
                what = "strings" if kind is str else "integers"
                raise ConfigError(f"{source}: {key} must be a non-empty list of {what}, got {_show(value)}")
            return tuple(value)

        def table(key, allowed):
            value = data.get(key, {})
            if not isinstance(value, Mapping):
                raise ConfigError(f"{source}: {key} must be a table, got {_show(value)}")
            bad = sorted(set(map(str, value)) - set(allowed))
            if bad:
                raise ConfigError(f"{source}: unknown {key} key {bad[0]!r}; the keys are {', '.join(allowed)}")
            return dict(value)

        budget = table("budget", [name for name, _, _ in BUDGETS])
        protocol = table("protocol", [f.name for f in dataclasses.fields(SearchProtocol)])
        grid = table("grid", [str(k) for k in data.get("grid", {})] if isinstance(data.get("grid"), Mapping) else [])
        for key, values in grid.items():
            if not isinstance(values, (list, tuple)) or not values:
                raise ConfigError(f"{source}: grid {key} must be a non-empty list of values, got {_show(values)}")
        if "seeds" in protocol:
            if not isinstance(protocol["seeds"], (list, tuple)):
                raise ConfigError(f"{source}: protocol.seeds must be a list of integers, got {_show(protocol['seeds'])}")
            protocol["seeds"] = tuple(protocol["seeds"])
        table_name = data.get("energy_table", DEFAULT_TABLE)
        if not isinstance(table_name, str) or not table_name:
            raise ConfigError(f"{source}: energy_table must be a table's name or a .toml path, got {_show(table_name)}")
        base = data.get("config", {})
        if not isinstance(base, Mapping):
            raise ConfigError(f"{source}: config must be a table of config sections, got {_show(base)}")
        try:
            return cls(space=SearchSpace(models=items("models", str, None), neurons=items("neurons", int, DEFAULT_NEURONS),
                                         weight_bits=items("weight_bits", int, (32,)),
                                         grid=tuple((str(k), tuple(_unplain(x) for x in v)) for k, v in grid.items()),
                                         base=NetworkConfig.from_dict(base, source=f"{source} [config]")),
                       budget=Budget(**budget), protocol=SearchProtocol(**protocol), energy_table=table_name)
        except ConfigError as exc:
            message = str(exc)
            raise ConfigError(message if message.startswith(source) else f"{source}: {message}") from None
        except TypeError as exc:  # a value of a type the records cannot take
            raise ConfigError(f"{source}: {exc}") from None


def _plain(value: Any) -> Any:
    """A grid value as JSON can hold it: an infinite time constant is ``"inf"`` (as in configs)."""
    return INFINITY if isinstance(value, float) and value == math.inf else value


def _unplain(value: Any) -> Any:
    return math.inf if isinstance(value, str) and value == INFINITY else value


def load_spec(path: str | os.PathLike[str]) -> SearchSpec:
    """Read a search file, TOML (``.toml``) or JSON (``.json``); see :class:`SearchSpec`."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise ConfigError(f"search file {path} must end in .toml or .json, got {suffix or 'no suffix'!r}")
    text = read_text_file(path, "search file", suffix, "is not UTF-8 text; save it as UTF-8")
    try:
        if suffix == ".json":
            data = json.loads(text)
        else:
            data = _toml_reader().loads(text)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and TOMLDecodeError are ValueErrors
        raise ConfigError(f"search file {path} is not valid {suffix[1:].upper()}: {_one_line(exc)}; fix the "
                          "syntax") from None
    return SearchSpec.from_dict(data, source=f"search file {path}")


# -- command line -------------------------------------------------------------------------------
def _int_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def _str_list(text: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in text.split(",") if x.strip())


def _grid_item(text: str) -> tuple[str, tuple[Any, ...]]:
    key, sep, values = text.partition("=")
    if not sep or not values:
        raise argparse.ArgumentTypeError(f"expected SECTION.FIELD=V1,V2,..., got {text!r}")
    try:
        parsed = tuple(parse_set(f"{key}={v}")[1] for v in values.split(","))
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return key.strip(), parsed


def add_parser(sub) -> argparse.ArgumentParser:
    from .cli_options import add_config_options, add_data_dir, add_progress, add_resume_options, positive_int
    from .energy import builtin_tables

    p = sub.add_parser("search", help="Pareto search over models, sizes and precisions within a memory/energy budget",
                       description=__doc__.split("\n\n")[0] + " Candidates that break the budget by the analytical "
                       "estimate are pruned before training; the rest are trained and scored on the validation split. "
                       "The search is given by options or by --spec FILE (TOML/JSON, see spikedyn.search.SearchSpec).")
    p.add_argument("--spec", type=Path, default=None, metavar="FILE",
                   help="the whole search as a TOML or JSON file, instead of the options below")
    p.add_argument("--models", type=_str_list, default=None, help="comma-separated registered models")
    p.add_argument("--neurons", type=_int_list, default=DEFAULT_NEURONS,
                   help=f"sizes (default {','.join(map(str, DEFAULT_NEURONS))})")
    p.add_argument("--weight-bits", type=_int_list, default=(32,), help="weight widths, from 4,8,16,32,64 (default 32)")
    p.add_argument("--grid", type=_grid_item, action="append", default=[], metavar="SECTION.FIELD=V1,V2",
                   help="another config field to search over, e.g. timing.present_ms=250,350 (repeatable)")
    p.add_argument("--max-memory-kb", type=float, default=None)
    p.add_argument("--max-train-energy-uj", type=float, default=None)
    p.add_argument("--max-infer-energy-uj", type=float, default=None)
    p.add_argument("--energy-table", default=DEFAULT_TABLE,
                   help=f"prices: {', '.join(builtin_tables())} or a .toml file (default {DEFAULT_TABLE})")
    p.add_argument("--protocol", choices=PROTOCOLS, default="standard")
    p.add_argument("--train-samples", type=positive_int, default=SearchProtocol.train_samples,
                   help=f"standard protocol: training images (default {SearchProtocol.train_samples})")
    p.add_argument("--validation-samples", type=positive_int, default=SearchProtocol.validation_samples,
                   help=f"standard protocol: validation images scored (default {SearchProtocol.validation_samples})")
    p.add_argument("--samples-per-task", type=positive_int, default=SearchProtocol.samples_per_task,
                   help=f"continual protocol: images per task (default {SearchProtocol.samples_per_task})")
    p.add_argument("--seeds", type=_int_list, default=(0,), help="seeds per candidate (default 0)")
    p.add_argument("--executor", choices=("local", "dask"), default="local")
    p.add_argument("--jobs", type=positive_int, default=None,
                   help="worker processes (local) or LocalCluster workers (dask without --scheduler); default: cores")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS", help="an existing Dask scheduler, tcp://host:port")
    p.add_argument("--out", type=Path, default=None, help="new output directory")
    add_resume_options(p)
    p.add_argument("--json", type=Path, default=None, help="also write the summary here")
    add_config_options(p)
    add_data_dir(p)
    add_progress(p)
    p.set_defaults(func=cmd_search)
    return p


#: Options that define the search (given as options, or all in --spec FILE).
_SPEC_OPTIONS = ("models", "neurons", "weight_bits", "grid", "max_memory_kb", "max_train_energy_uj",
                 "max_infer_energy_uj", "energy_table", "protocol", "train_samples", "validation_samples",
                 "samples_per_task", "seeds", "config", "set")


def spec_from_args(args: argparse.Namespace) -> SearchSpec:
    """The search the command line describes: ``--spec FILE``, or the options."""
    from .cli_options import config_from_args

    if args.spec is not None:
        defaults = add_parser(argparse.ArgumentParser().add_subparsers()).parse_args([])
        for key in _SPEC_OPTIONS:
            if getattr(args, key) != getattr(defaults, key):
                raise ConfigError(f"--spec {args.spec} holds the whole search; drop --{key.replace('_', '-')} "
                                  "(or edit the file)")
        return load_spec(args.spec)
    if args.models is None:
        raise ConfigError("spikedyn search: give --models (e.g. --models spikedyn,asp) or --spec FILE")
    space = SearchSpace(models=args.models, neurons=args.neurons, weight_bits=args.weight_bits,
                        grid=tuple(args.grid), base=config_from_args(args))
    budget = Budget(args.max_memory_kb, args.max_train_energy_uj, args.max_infer_energy_uj)
    protocol = SearchProtocol(args.protocol, args.train_samples, args.validation_samples, args.samples_per_task,
                              args.seeds)
    return SearchSpec(space, budget, protocol, str(args.energy_table))


def cmd_search(args: argparse.Namespace) -> dict[str, Any]:
    from . import checkpoint, interrupt
    from .cli import interrupted_here, start_or_resume
    from .data import resolve_data_dir
    from .energy import load_energy_table
    from .executors import check_executor
    from .files import remove_stale_temporaries, write_json
    from .interrupt import Interrupted

    def new_options() -> dict[str, Any]:
        spec = spec_from_args(args)
        load_energy_table(spec.energy_table)
        return spec.to_dict()

    options, _, _ = start_or_resume(args, "search", new_options)
    spec = SearchSpec.from_dict(options, source=f"{args.out}/{checkpoint.CHECKPOINT_FILE}")
    check_executor(args.executor, args.jobs, args.scheduler)
    data_dir = resolve_data_dir(args.data_dir, progress=not args.quiet)  # found (or fetched) once, here
    ckpt = checkpoint.Checkpointer(args.out, "search", options, args.checkpoint_every)
    remove_stale_temporaries(args.out)
    if not ckpt.path.is_file():
        ckpt.save({}, {})  # the search is resumable from now on
        write_json(Path(args.out) / SPEC_FILE, options)
    with interrupt.stoppable():
        try:
            summary = run_search(spec.space, spec.budget, spec.protocol, out_dir=args.out, table=spec.energy_table,
                                 executor=args.executor, jobs=args.jobs, scheduler=args.scheduler, data_dir=data_dir,
                                 progress=not args.quiet, checkpoint_every_s=args.checkpoint_every)
        except Interrupted as exc:
            raise interrupted_here(exc, "search", args.out) from None
    ckpt.path.unlink()  # finished: nothing to resume
    c = summary["counts"]
    sel = summary["selected"]
    print(f"{c['candidates']} candidates: {c['pruned']} pruned by the estimate, {c['evaluated']} evaluated "
          f"({c['tasks']} runs, {c['tasks_reused']} reused); front: {', '.join(summary['front']) or 'empty'}; "
          f"selected: {sel or 'none within the budget'}; written to {args.out}")
    return summary
