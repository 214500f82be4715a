"""SpikeDyn's comparison in a dynamic environment: models x sizes x seeds, class-incremental MNIST.

Every run is the protocol of :mod:`spikedyn.continual` (one class per task, 0..9 by
default, never shown again; after each task a labelled pass over the classes seen
so far and a test on each), plus, per model, size and seed, the i.i.d. reference
(the same images, all classes shuffled together). The table gives, per model and
size, mean ± sd over seeds of: the final average accuracy ACC, the mean newest-task
accuracy (mean over tasks of R[i, i]), the mean previous-tasks accuracy (mean over
tasks i >= 1 of the mean of R[i, j < i]), BWT, forgetting and the i.i.d. reference;
and the margins of ``spikedyn`` over ``asp`` (SpikeDyn's claim: +21 / +8 points at
400 neurons, +23 / +4 at 200).

``--ablation`` runs SpikeDyn's rule instead with each of its four mechanisms
removed in turn and each alone (and all, and none); ``--grid`` every combination
of the given parameter values of the first model (parameter selection: on the
validation split only; ``--grid`` with ``--split test`` is refused before anything runs).

``--split validation`` learns from training images 0-49,999 and scores on
50,000-59,999: that is how the rules' parameters were chosen; without ``--grid``
the default split is the test set (final numbers only).

``--data-dir DIR`` runs everything on another MNIST-format dataset (Fashion-MNIST:
``experiments/fashion_mnist.py``). Whatever the data's route (``--data-dir``,
``SPIKEDYN_DATA_DIR``), a dataset other than MNIST is recorded by content
(:func:`spikedyn.io.datasets.dataset_id`) in every run's protocol, the tables name it, and
its runs are never taken for, or paired with, runs on MNIST.

Usage::

    python experiments/continual_comparison.py --out experiments/results/continual --jobs 2
    python experiments/continual_comparison.py --ablation --neurons 400 --out experiments/results/continual_ablation
    python experiments/continual_comparison.py --split validation --grid spikedyn.rate_half_spikes=20,50 \
        --neurons 400 --seeds 0,1 --no-iid --out experiments/results/continual_selection
    python experiments/continual_comparison.py --models metaplastic --data-dir ~/data/fashion-mnist \
        --chosen experiments/results/continual_default_rate96/default.json --out experiments/results/continual_fashion
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))
from _runner import (add_executor_options, continual_cost, continual_warm_up, int_list, run_tasks,  # noqa: E402
                     seeds_group, task_config, write_text)

from spikedyn.config import parse_set  # noqa: E402

MODELS = ("spikedyn", "asp", "diehl-cook", "lateral")
MECHANISMS = ("adaptive_rate", "adaptive_threshold", "weight_decay", "skip_spurious")
_POOLS: dict = {}


def _pools(split: str, data_dir: str | None = None):
    from spikedyn import continual

    if (split, data_dir) not in _POOLS:
        _POOLS[split, data_dir] = continual.load_pools(split, data_dir)
    return _POOLS[split, data_dir]


def ablation_variants() -> dict[str, list[str]]:
    """Variant name -> ``--set`` items of the ``spikedyn`` model."""
    def switches(on):
        return [f"spikedyn.{m}={'true' if m in on else 'false'}" for m in MECHANISMS]

    variants = {"all four": switches(MECHANISMS)}
    variants.update({f"without {m}": switches([o for o in MECHANISMS if o != m]) for m in MECHANISMS})
    variants.update({f"only {m}": switches([m]) for m in MECHANISMS})
    variants["none (= lateral)"] = switches([])
    return variants


def stored_runs(tasks: list[dict], out: Path) -> list[dict]:
    """The stored result of every task in ``out/runs``: the same task, its ``--set`` items in any order
    (a chosen.json keeps no order), produced by any code (each run keeps its source hash); exits with a
    one-line message naming the first missing run."""
    import json

    from spikedyn.search.executors import task_identity

    def same(task: dict) -> dict:
        return {**task_identity(task), "set": sorted(task.get("set", []))}

    results = []
    for task in tasks:
        path = out / "runs" / f"{task['id']}.json"
        record = json.loads(path.read_text()) if path.is_file() else {}
        if not isinstance(record.get("task"), dict) or same(record["task"]) != same(task):
            sys.exit(f"--tables-only: no stored run of task {task['id']} in {out / 'runs'}; run without "
                     "--tables-only to compute it")
        results.append(record)
    return results


def read_chosen(path: Path) -> dict[str, list[str]]:
    """model -> ``--set`` items of its selected configuration, from a selection's ``chosen.json``."""
    import json

    from spikedyn.io.files import read_text_file

    text = read_text_file(Path(path), "--chosen", ".json", "is not UTF-8 text; give chosen.json of a selection")
    try:
        models = json.loads(text)["models"]
    except (ValueError, KeyError, TypeError):
        sys.exit(f"--chosen {path}: not the chosen.json of experiments/continual_selection.py (no 'models'); "
                 "give that file")
    return {m: [f"{k}={v}" for k, v in c["chosen"].items()] for m, c in models.items()}


def _slug(name: str) -> str:
    """``name`` as a file-name fragment."""
    return "".join(c if c.isalnum() or c in "-." else "_" for c in name)


def grid_variants(model: str, grid: list[str]) -> dict[str, tuple[str, list[str]]]:
    """Variant name -> (model, ``--set`` items) for every combination of the grid's values."""
    import itertools

    axes = []
    for item in grid:
        key, _, values = item.partition("=")
        axes.append([f"{key}={v}" for v in values.split(",")])
        for v in values.split(","):
            parse_set(f"{key}={v}")  # fail early, with the config's message
    return {" ".join(combo): (model, list(combo)) for combo in itertools.product(*axes)}


def run_one(task: dict) -> dict:
    """One continual run (and its i.i.d. reference) in a worker process."""
    from spikedyn import continual  # one simulation thread (n_jobs=1); the environment is left alone,
    # since a task can run in this very process (jobs=1), where Numba's threads may already run

    config = task_config(task)
    p = task["protocol"]
    protocol = continual.Protocol(tasks=continual.parse_tasks(p["tasks"]), samples_per_task=p["samples_per_task"],
                                  assign_per_class=p["assign_per_class"], test_per_class=p["test_per_class"],
                                  split=p["split"], draw=p.get("draw", "seeded"))
    pools = _pools(p["split"], task.get("data_dir"))
    result = continual.run(config, seed=task["seed"], protocol=protocol, pools=pools, n_jobs=1, progress=False)
    out = {"summary": result.summary()}
    if task["iid"]:
        out["iid"] = continual.run_iid(config, seed=task["seed"], protocol=protocol, pools=pools, n_jobs=1,
                                       progress=False, every_task=task.get("iid_every_task", False))
    return out


def write_never_forgets(keys: list[tuple[str, int]], results: list[dict], out: Path, *, note: str) -> str:
    """``--iid-every-task``: each variant's continual runs beside its i.i.d. networks scored after every task
    (:func:`spikedyn.continual.run_iid` with ``every_task``), seed-paired, in ``out``; returns the table."""
    from spikedyn.compare import group_runs, run_from_record, write_comparison

    runs = []
    for (name, _), result in zip(keys, results):
        base = {k: v for k, v in result["summary"].items() if k not in ("readouts", "tasks", "cost")}
        never = {"summary": {**base, **result["iid"]["every_task"]}, "source_hash": result.get("source_hash")}
        for label, record in ((name, result), (f"{name}, i.i.d.", never)):
            run = run_from_record(record, source=result["task"]["id"], label=label)
            runs.append(dataclasses.replace(run, overrides=(), metrics={**run.metrics, "iid": None}))
    write_comparison(group_runs(runs), out, label="variant", note=note)
    _write_bwt_beyond(keys, results, out / "bwt.md")
    return (out / "table.md").read_text() + "\n" + (out / "bwt.md").read_text()


def _write_bwt_beyond(keys: list[tuple[str, int]], results: list[dict], path: Path) -> None:
    """Per variant and size: the continual runs' BWT, their i.i.d. networks' (what the evaluation alone takes)
    and the seed-paired difference, the BWT beyond the evaluation, with its 95 % t-interval."""
    from spikedyn.core.stats import mean_sd, paired_margin

    groups: dict[tuple[str, int], dict[str, dict[int, float]]] = {}
    for key, result in zip(keys, results):
        seed, row = result["summary"]["seed"], groups.setdefault(key, {"run": {}, "iid": {}})
        row["run"][seed], row["iid"][seed] = result["summary"]["bwt"], result["iid"]["every_task"]["bwt"]
    lines = ["BWT of the continual runs, of their i.i.d. networks scored after every task (a network that forgets "
             "nothing: what the evaluation alone takes from earlier tasks as classes join), and the BWT beyond the "
             "evaluation, their seed-paired difference (mean [95 % t-interval]); mean ± sd over seeds.", "",
             "| variant | neurons | seeds | BWT | BWT of the i.i.d. network | BWT beyond the evaluation |",
             "|---|---:|---:|---:|---:|---:|"]
    for (name, n), row in groups.items():
        if any(v is None for v in (*row["run"].values(), *row["iid"].values())):  # one task: no BWT
            lines.append(f"| `{name}` | {n} | {len(row['run'])} | - | - | - |")
            continue
        m = paired_margin(row["run"], row["iid"])
        cells = ["{:.3f} ± {:.3f}".format(*mean_sd(list(row[k].values()))) for k in ("run", "iid")]
        lines.append(f"| `{name}` | {n} | {m.n} | {cells[0]} | {cells[1]} | {m.mean:+.3f} [{m.low:+.3f}, "
                     f"{m.high:+.3f}] |")
    write_text(path, "\n".join(lines) + "\n")


#: SpikeDyn's published margins over ASP (newest / previous tasks, points), for the margins table.
PAPER = {("spikedyn", "asp", 400): "+21 / +8", ("spikedyn", "asp", 200): "+23 / +4"}


def write_results(keys: list[tuple[str, int]], results: list[dict], out: Path, *, label: str, note: str,
                  selected: bool = False) -> str:
    """The tables, margins and figures of the runs (:func:`spikedyn.compare.write_comparison`, the
    implementation ``spikedyn compare`` uses); returns the table's markdown. ``selected``: each label
    stands for its own configuration (a model at its ``--chosen`` configuration, named in ``note``; an
    ablation's or a grid's variant), so labels are paired across their different overrides."""
    import dataclasses

    from spikedyn.compare import group_runs, run_from_record, write_comparison

    runs = [run_from_record(result, source=result["task"]["id"], label=name) for (name, _), result in zip(keys, results)]
    if selected:
        runs = [dataclasses.replace(r, overrides=()) for r in runs]
    write_comparison(group_runs(runs), out, label=label, note=note, paper=PAPER)
    return (out / "table.md").read_text()


def main(argv=None) -> int:
    from spikedyn import continual

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--neurons", type=int_list, default=[200, 400])
    ap.add_argument("--seeds", type=int_list, default=[0, 1, 2])
    ap.add_argument("--samples-per-task", type=int, default=continual.DEFAULT_SAMPLES_PER_TASK)
    ap.add_argument("--tasks", default="0,1,2,3,4,5,6,7,8,9")
    ap.add_argument("--assign-per-class", type=int, default=continual.DEFAULT_ASSIGN_PER_CLASS)
    ap.add_argument("--test-per-class", type=int, default=None)
    ap.add_argument("--split", choices=continual.SPLITS, default=None,
                    help="where the final accuracies come from: 'test' (the default for a comparison) or "
                         "'validation' (the default, and the only split, for --grid: a grid selects parameters)")
    ap.add_argument("--ablation", action="store_true", help="SpikeDyn's mechanisms removed in turn and each alone")
    ap.add_argument("--grid", action="append", default=[], metavar="SECTION.FIELD=V1,V2,...",
                    help="a grid of the first model's parameters: every combination is a variant (repeatable)")
    ap.add_argument("--chosen", type=Path, default=None, metavar="CHOSEN_JSON",
                    help="run each model (and the ablation's spikedyn) at the configuration selected on the "
                         "validation split: the chosen.json of experiments/continual_selection.py")
    ap.add_argument("--no-iid", action="store_true", help="skip the i.i.d. references")
    ap.add_argument("--iid-every-task", action="store_true",
                    help="also score each i.i.d. network after every task as the continual run is scored (a "
                         "network that forgets nothing) and write, in OUT/never_forgets, its table and margins "
                         "beside the continual runs")
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE",
                    help="config override for every run (repeatable)")
    ap.add_argument("--data-dir", type=Path, default=None,
                    help="an MNIST-format dataset for every run (default: $SPIKEDYN_DATA_DIR, else the cache's MNIST); "
                         "the runs record it by content and the tables name it")
    ap.add_argument("--tables-only", action="store_true",
                    help="compute nothing: write the tables and figures from the runs stored in OUT/runs for these "
                         "tasks, whatever code produced them (each run keeps its source_hash); a missing run is an "
                         "error")
    add_executor_options(ap, jobs=1)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    if args.grid and args.split == "test":
        ap.error("--grid selects parameters, which is never done on the test set: use --split validation "
                 "(learning from training images 0-49,999, scoring on 50,000-59,999)")
    if args.split is None:
        args.split = "validation" if args.grid else "test"
    if args.iid_every_task and args.no_iid:
        ap.error("--iid-every-task scores the i.i.d. references, which --no-iid skips: drop one of them")
    if args.chosen is not None and args.grid:
        ap.error("--chosen and --grid do not go together: a grid selects, --chosen runs what was selected")
    chosen = read_chosen(args.chosen) if args.chosen is not None else {}
    for item in args.set:
        parse_set(item)  # fail early, with the config's message
    continual.parse_tasks(args.tasks)
    protocol = {"tasks": args.tasks, "samples_per_task": args.samples_per_task,
                "assign_per_class": args.assign_per_class, "test_per_class": args.test_per_class, "split": args.split}
    from spikedyn.errors import SpikedynError
    from spikedyn.io.datasets import dataset_of

    try:  # named by content, whatever the data's route: part of every run's identity (MNIST's runs carry no name)
        data_name = dataset_of(args.data_dir)
    except SpikedynError as exc:
        ap.error(f"--data-dir: {exc}" if args.data_dir is not None else str(exc))
    dataset = "MNIST"
    if data_name != "mnist":
        protocol["dataset"] = data_name
        dataset = (f"{args.data_dir.resolve().name} (dataset {data_name})" if args.data_dir is not None
                   else f"dataset {data_name}")
    where = {} if args.data_dir is None else {"data_dir": str(args.data_dir.resolve())}
    if args.ablation:
        variants = {name: ("spikedyn", chosen.get("spikedyn", []) + sets) for name, sets in ablation_variants().items()}
    elif args.grid:
        variants = grid_variants(args.models.split(",")[0], args.grid)
    else:
        variants = {m: (m, chosen.get(m, [])) for m in args.models.split(",")}
    tasks, keys = [], []  # keys[k]: the (variant, neurons) group of tasks[k]
    for name, (model, sets) in variants.items():
        for n in args.neurons:
            for seed in args.seeds:
                tasks.append({"id": f"{_slug(name)}-{n}-seed{seed}", "model": model, "neurons": n, "seed": seed,
                              "set": sets + args.set, "protocol": protocol, "iid": not args.no_iid, **where,
                              **({"iid_every_task": True} if args.iid_every_task else {})})
                keys.append((name, n))
    if args.tables_only:
        results = stored_runs(tasks, args.out)
    else:
        n_tasks = len(continual.parse_tasks(args.tasks))
        results = run_tasks(run_one, tasks, args.out, jobs=args.jobs, desc="continual runs",
                            executor=args.executor, scheduler=args.scheduler,
                            cost=lambda t: continual_cost(t, args.samples_per_task, n_tasks),
                            # the warm-up takes its images in file order: a seeded draw of one image
                            # from a task of two classes leaves a class without a labelled image
                            warm=lambda t: continual_warm_up(t, iid=False, protocol={
                                **t["protocol"], "tasks": t["protocol"]["tasks"].split(",")[0],
                                "samples_per_task": 1, "assign_per_class": 1, "test_per_class": 1, "draw": "first"}),
                            group=seeds_group, group_name="variants")
    what = "SpikeDyn's mechanisms" if args.ablation else "models"
    note = (f"Class-incremental {dataset} ({what}): tasks {args.tasks}, {args.samples_per_task} training images "
            f"per task, labelled pass over {args.assign_per_class} images per class seen, test on "
            f"{'all' if args.test_per_class is None else args.test_per_class} images per class seen "
            f"({'test set' if args.split == 'test' else 'validation split'}); mean ± sd over seeds "
            f"{','.join(map(str, args.seeds))}"
            + ("" if args.chosen is None else
               "; each model at its configuration selected on the validation split ("
               + "; ".join(f"`{m}`: {' '.join(sets) or 'defaults'}" for m, sets in chosen.items()) + ")")
            + ". Minutes: wall time per run (and its i.i.d. reference) on one "
            "simulation thread, runs sharing the machine.")
    hashes = sorted({r.get("source_hash", "unknown") for r in results})
    note += f" Source hash of the runs: {', '.join(hashes)}."
    print(write_results(keys, results, args.out, label="variant" if args.ablation or args.grid else "model",
                        note=note, selected=True))  # a variant's label names its configuration
    if args.iid_every_task:
        print(write_never_forgets(keys, results, args.out / "never_forgets", note=note.replace(
            ". Minutes:", "; each beside its i.i.d. network (`, i.i.d.`: the same images shuffled together, "
            "scored after every task as the continual run is: a network that forgets nothing). Minutes:")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
