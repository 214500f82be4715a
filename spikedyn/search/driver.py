"""The Pareto model search: which network fits a memory and energy budget, without training them all.

1. **Candidates**: every combination of models x sizes x weight widths x any other
   config fields given (``grid``: ``{"timing.present_ms": (250, 350)}``), each on top of
   a base config. A name of ``models`` is a registered STDP model or another *family*
   of networks (:mod:`spikedyn.search.families`: ``converted-mlp``, ``surrogate-mlp``),
   so one front can hold networks trained without labels, converted from an ANN and
   trained with surrogate gradients.
2. **Pruning**: each family's estimate (for the STDP models the analytical cost model,
   :func:`spikedyn.cost.estimate`) prices every candidate before anything is trained;
   one whose estimated memory or training or inference energy per sample breaks a
   budget is *pruned*, with the reason, and never trained.
3. **Evaluation**: each remaining candidate is trained and evaluated under a stated
   protocol, for each seed, on the executors of :mod:`spikedyn.search.executors` (local
   processes or a Dask cluster), each result stored as it completes (rerunning the
   same search computes only what is missing). The runs start longest first (by the
   family's estimate of their work), after a warm-up that compiles each distinct set of
   kernels once (:meth:`~spikedyn.search.families.Family.warm_up`); the progress bar
   counts runs and complete candidates. Accuracy is measured on the
   **validation split** (training images 50,000-59,999), never the test set: the search
   *chooses*. Memory is the footprint; training and inference energy per sample are
   the operations the kernels counted, priced on the chosen table.
4. **Front and choice**: the Pareto front of the evaluated candidates over accuracy
   (up), memory, training and inference energy (down) (:mod:`spikedyn.search.pareto`); the
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

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from ..cost.tables import DEFAULT_TABLE
from ..errors import SpikedynError
from .space import BUDGETS, OBJECTIVES, Budget, SearchProtocol, SearchSpace, _plain


class BudgetTooTight(SpikedynError):
    """Every candidate of a search breaks the budget by its estimate: nothing to train.
    ``spikedyn search`` exits with :attr:`exit_status` 3 (not 2: the input is valid)."""

    exit_status = 3


def price_candidates(space: SearchSpace, budget: Budget, table) -> list[dict[str, Any]]:
    """Every candidate of ``space`` with its family, its estimate (on the energy table ``table``, a
    loaded table or a name) and whether the budget prunes it, and why: the search's first step."""
    from ..cost.tables import EnergyTable, load_energy_table
    from . import families

    tb = table if isinstance(table, EnergyTable) else load_energy_table(table)
    records = []
    for cand in space.candidates():
        family = families.family_of(cand.model)
        config = family.config(cand, space.base)
        est = family.estimate(config, tb)
        reasons = budget.violations(est)
        records.append({"id": cand.id, "model": cand.model, "family": family.name, "labels": family.labels,
                        "neurons": cand.neurons, "weight_bits": cand.weight_bits,
                        "overrides": {k: _plain(v) for k, v in cand.overrides}, "pruned": bool(reasons),
                        "reason": "; ".join(reasons) if reasons else None,
                        "estimate": {k: est[k] for k in families.COST_KEYS},
                        "config": family.config_dict(config)})
    return records


def check_some_fit(records: Sequence[Mapping[str, Any]], budget: Budget) -> None:
    """Raise :class:`BudgetTooTight`, saying what to relax, if the budget prunes every candidate."""
    if not records or not all(r["pruned"] for r in records):
        return
    options = {"max_memory_kb": "--max-memory-kb", "max_train_energy_uj": "--max-train-energy-uj",
               "max_infer_energy_uj": "--max-infer-energy-uj"}
    alone = []  # the bounds that no candidate meets, each with the least any candidate needs
    for name, key, unit in BUDGETS:
        bound = getattr(budget, name)
        values = [r["estimate"][key] for r in records if r["estimate"][key] is not None]
        if bound is not None and (not values or min(values) > bound):
            least = f"{min(values):.4g}" if values else "unavailable on this energy table"
            alone.append(f"{options[name]} {bound:g} (the cheapest candidate needs {least} {unit})")
    if alone:
        what = "; ".join(alone)
    else:  # each bound is met by some candidate, but never all at once: show the nearest miss
        nearest = min(records, key=lambda r: len(r["reason"].split("; ")))
        what = f"no candidate meets them all at once (nearest: {nearest['id']}, {nearest['reason']})"
    which = ("the only candidate breaks the budget by its estimate" if len(records) == 1
             else f"all {len(records)} candidates break the budget by their estimate")
    raise BudgetTooTight(f"{which}, so nothing was trained or written: {what}; relax "
                         "the budget, or add smaller candidates (--neurons, --weight-bits)")


def evaluate(task: dict) -> dict:
    """Train and score one candidate with one seed (runs in a worker process), by its family
    (:mod:`spikedyn.search.families`): the accuracy and what the kernels counted."""
    from . import families

    return families.get(task.get("family", families.STDP.name)).evaluate(task)


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
               data_dir=None, progress: bool = True, checkpoint_every_s: float | None = None,
               scheduler_timeout_s: float | None = None) -> dict[str, Any]:
    """Run the search (see the module docstring); writes ``out_dir`` and returns the summary.

    ``checkpoint_every_s``: each candidate's training is checkpointed this often (on this
    machine's workers) in ``out_dir/candidates/``, and resumed from there by a rerun.
    ``scheduler_timeout_s``: how long to try to reach ``scheduler`` (default
    :data:`~spikedyn.search.executors.DEFAULT_SCHEDULER_TIMEOUT_S`).
    """
    from ..cost.tables import load_energy_table
    from ..io.datasets import dataset_of
    from ..io.files import write_json
    from . import executors, families
    from .pareto import pareto_front
    from .space import check_protocol

    executors.check_executor(executor, jobs, scheduler)
    check_protocol(space, protocol)
    tb = load_energy_table(table)
    out = Path(out_dir)
    records = price_candidates(space, budget, tb)
    check_some_fit(records, budget)
    dataset = dataset_of(data_dir)  # the data the workers read, named by content
    # the dataset (by content) is part of each task, so a run stored for other images is never reused
    tasks: list[dict] = [{"id": f"{rec['id']}-seed{seed}", "family": rec["family"], "config": rec["config"],
                          "seed": seed, "protocol": protocol.to_dict(), "dataset": dataset,
                          "data_dir": None if data_dir is None else str(data_dir)}
                         for rec in records if not rec["pruned"] for seed in protocol.seeds]
    results, reused = executors.run_tasks(evaluate, tasks, out / "candidates", executor=executor, jobs=jobs,
                                          scheduler=scheduler, desc="runs", progress=progress,
                                          checkpoint_every_s=checkpoint_every_s,
                                          scheduler_timeout_s=scheduler_timeout_s or executors.DEFAULT_SCHEDULER_TIMEOUT_S,
                                          cost=families.task_cost, warm=families.task_warm_up,
                                          group=_candidate_of, group_name="candidates")
    by_id: dict[str, list[dict]] = {}
    for r in results:
        by_id.setdefault(_candidate_of(r["task"]), []).append(r)
    for rec in records:
        runs = by_id.get(rec["id"], [])
        rec["counted_train_samples"] = int(sum(r["tally"]["train"]["samples"] for r in runs))
        if rec["pruned"]:
            rec.update(accuracy=None, accuracy_sd=None, memory_kb=None, train_energy_uj=None, infer_energy_uj=None)
            continue
        family = families.get(rec["family"])
        config = family.from_dict(rec["config"])
        priced = [family.price(config, r, tb) for r in runs]
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
        "dataset": dataset,
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


def _candidate_of(task: Mapping[str, Any]) -> str:
    """The candidate id of a search task (its id without ``-seed<S>``)."""
    return task["id"].rsplit("-seed", 1)[0]


def _write_csv(path: Path, records: list[dict]) -> None:
    from ..io.files import atomic_path

    cols = ["id", "model", "family", "neurons", "weight_bits", "pruned", "reason", "accuracy", "accuracy_sd", "memory_kb",
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
    from ..io.files import atomic_path

    def num(x, fmt):
        return "-" if x is None else format(x, fmt)

    p = summary["protocol"]
    data = summary.get("dataset")  # named when not MNIST (summaries written before 0.8.0's end have none)
    named = "" if data in (None, "mnist") else f" Dataset: {data}."
    lines = [f"Protocol: {p['description']}.{named} Energy table: {summary['energy_table']}. Pruned candidates were "
             "never trained; their memory is the estimate's.", "",
             "| candidate | family | validation accuracy | memory (KB) | training (uJ/sample) | inference (uJ/sample) | |",
             "|---|---|---:|---:|---:|---:|---|"]
    for c in summary["candidates"]:
        family = c.get("family", "stdp")
        if c["pruned"]:
            lines.append(f"| `{c['id']}` | {family} | - | {c['estimate']['memory_kb']:.0f} | - | - | "
                         f"pruned: {c['reason']} |")
            continue
        note = ", ".join(x for x, on in (("**selected**", c["id"] == summary["selected"]),
                                         ("front", c["on_front"])) if on)
        sd = f" ± {c['accuracy_sd']:.3f}" if len(p["seeds"]) > 1 else ""
        lines.append(f"| `{c['id']}` | {family} | {c['accuracy']:.3f}{sd} | {c['memory_kb']:.0f} | "
                     f"{num(c['train_energy_uj'], '.1f')} | {num(c['infer_energy_uj'], '.1f')} | {note} |")
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n")


def _write_plots(out: Path, summary: dict, budget: Budget) -> None:
    """The three projections as PNG files (matplotlib's Figure directly: pyplot's backend, e.g. a
    notebook's, is left alone)."""
    from matplotlib.figure import Figure

    from ..plotting import plot_pareto, save_figure
    from ..plotting.costs import COST_AXES

    for key, bound in (("memory_kb", budget.max_memory_kb), ("train_energy_uj", budget.max_train_energy_uj),
                       ("infer_energy_uj", budget.max_infer_energy_uj)):
        fig = Figure(figsize=(9, 5.5), layout="constrained")
        energy = "" if key == "memory_kb" else f", priced on {summary['energy_table']}"
        plot_pareto(summary["candidates"], key, fig.subplots(), budget=bound, selected=summary["selected"],
                    title=f"validation accuracy against {COST_AXES[key].split(' (')[0]}{energy}")
        save_figure(fig, out / f"accuracy_vs_{key}.png")

