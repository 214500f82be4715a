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
import io
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .config import WEIGHT_BITS, NetworkConfig, parse_set
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
                isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0 for s in seeds):
            raise ConfigError(f"seeds must be distinct non-negative integers, got {list(self.seeds)}")
        object.__setattr__(self, "seeds", tuple(int(s) for s in seeds))

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
    and the operations the kernels counted."""
    from .executors import threads_per_task
    from .network import Network
    from .operations import PHASES

    config = NetworkConfig.from_dict(task["config"])
    p = SearchProtocol(**task["protocol"])
    jobs = threads_per_task()
    if p.name == "standard":
        from .data import load_mnist

        x, y = load_mnist("train", task.get("data_dir"))
        x = x.reshape(len(x), -1)
        learn = slice(0, p.train_samples)
        val = slice(50_000, 50_000 + p.validation_samples)
        net = Network(config, seed=task["seed"])
        net.train(x[learn], progress=False)
        net.assign(x[learn], y[learn], n_jobs=jobs)
        accuracy = net.score(x[val], y[val], n_jobs=jobs)
        tally = {phase: net.operations(phase)["tally"] for phase in PHASES}
        extra: dict[str, Any] = {}
    else:
        from . import continual

        protocol = continual.Protocol(samples_per_task=p.samples_per_task, split="validation")
        pools = continual.load_pools("validation", task.get("data_dir"))
        result = continual.run(config, seed=task["seed"], protocol=protocol, pools=pools, n_jobs=jobs,
                               progress=False)
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


def run_search(space: SearchSpace, budget: Budget, protocol: SearchProtocol, *, out_dir, table: str = "horowitz-45nm",
               executor: str = "local", jobs: int | None = None, scheduler: str | None = None,
               data_dir=None, progress: bool = True) -> dict[str, Any]:
    """Run the search (see the module docstring); writes ``out_dir`` and returns the summary."""
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
                        "overrides": {k: v for k, v in cand.overrides}, "pruned": bool(reasons),
                        "reason": "; ".join(reasons) if reasons else None,
                        "estimate": {k: est[k] for k in ("memory_kb", "train_energy_uj", "infer_energy_uj")},
                        "config": config.to_dict()})
        if not reasons:
            for seed in protocol.seeds:
                tasks.append({"id": f"{cand.id}-seed{seed}", "config": config.to_dict(), "seed": seed,
                              "protocol": {**asdict(protocol), "seeds": list(protocol.seeds)},
                              "data_dir": None if data_dir is None else str(data_dir)})
    results, reused = executors.run_tasks(evaluate, tasks, out / "candidates", executor=executor, jobs=jobs,
                                          scheduler=scheduler, desc="candidates", progress=progress)
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
        "protocol": {**asdict(protocol), "seeds": list(protocol.seeds), "description": protocol.describe()},
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
    from .cli_options import add_config_options, add_data_dir, add_progress, positive_int
    from .energy import DEFAULT_TABLE, builtin_tables

    p = sub.add_parser("search", help="Pareto search over models, sizes and precisions within a memory/energy budget",
                       description=__doc__.split("\n\n")[0] + " Candidates that break the budget by the analytical "
                       "estimate are pruned before training; the rest are trained and scored on the validation split.")
    p.add_argument("--models", type=_str_list, required=True, help="comma-separated registered models")
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
    p.add_argument("--out", type=Path, required=True, help="output directory (rerun the command to resume)")
    p.add_argument("--json", type=Path, default=None, help="also write the summary here")
    add_config_options(p)
    add_data_dir(p)
    add_progress(p)
    p.set_defaults(func=cmd_search)
    return p


def cmd_search(args: argparse.Namespace) -> dict[str, Any]:
    from .cli_options import config_from_args

    base = config_from_args(args)
    space = SearchSpace(models=args.models, neurons=args.neurons, weight_bits=args.weight_bits,
                        grid=tuple(args.grid), base=base)
    budget = Budget(args.max_memory_kb, args.max_train_energy_uj, args.max_infer_energy_uj)
    protocol = SearchProtocol(args.protocol, args.train_samples, args.validation_samples, args.samples_per_task,
                              args.seeds)
    from .data import resolve_data_dir
    from .energy import load_energy_table
    from .executors import check_executor

    check_executor(args.executor, args.jobs, args.scheduler)
    load_energy_table(args.energy_table)
    data_dir = resolve_data_dir(args.data_dir, progress=not args.quiet)  # found (or fetched) once, here
    summary = run_search(space, budget, protocol, out_dir=args.out, table=args.energy_table, executor=args.executor,
                         jobs=args.jobs, scheduler=args.scheduler, data_dir=data_dir, progress=not args.quiet)
    c = summary["counts"]
    sel = summary["selected"]
    print(f"{c['candidates']} candidates: {c['pruned']} pruned by the estimate, {c['evaluated']} evaluated "
          f"({c['tasks']} runs, {c['tasks_reused']} reused); front: {', '.join(summary['front']) or 'empty'}; "
          f"selected: {sel or 'none within the budget'}; written to {args.out}")
    return summary
