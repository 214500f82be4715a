"""Select every continual-learning model's parameters on equal terms, on the validation split only.

Each model gets the same budget: a grid of the same number of configurations, run
with the same seeds at the same size, on the validation split (learning from training
images 0-49,999, scoring on 50,000-59,999; the test set is never loaded: the script
has no option that could load it). Every grid includes the model's special cases (the
mechanism switched off: ``asp`` without a leak is ``diehl-cook``; ``spikedyn`` without
skipping) and the values around its current default, so the choice is not won at an
edge; where the best value of a numeric axis still lies at the edge of the grid, the
axis is extended by one step beyond it and run (the extension is reported, with each
model's number of runs, so the budgets can be compared).

The criterion is the final average accuracy ACC (mean over the seeds); ties within
0.002 go to the configuration listed first (the default, the simpler one). Every model
also gets the input rate as an axis: a 2x rate (128 Hz at pixel 255) was the strongest
lever found in the learning research (docs/continual.md), and a lever one model is
tuned on is given to every model.

Outputs in ``--out``: ``runs/`` (one JSON per run, reused by the same code only),
``selection.md`` and ``selection.csv`` (every configuration: ACC and BWT, mean ± sd),
``chosen.json`` (per model: the chosen overrides, its ACC, the runs spent, the
extensions made).

Usage::

    python experiments/continual_selection.py --out experiments/results/continual_selection_0.2 --jobs 2
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _runner import (add_executor_options, continual_cost, continual_warm_up, int_list, run_tasks,  # noqa: E402
                     seeds_group, task_config)

from spikedyn.config import parse_set  # noqa: E402
from spikedyn.core.stats import mean_sd  # noqa: E402

#: The split every run of this script uses; there is no other.
SPLIT = "validation"
#: Configurations within this much ACC of the best count as tied (the first listed wins).
TIE = 0.002

#: model -> ordered axes ``{field: values}``; the first value of each axis is the default (or the
#: special case) and every model's grid has the same number of configurations.
GRIDS: dict[str, dict[str, tuple]] = {
    "spikedyn": {"input.rate_hz_per_unit": (0.25, 0.5),
                 "spikedyn.rate_half_spikes": (100.0, 50.0, 200.0),
                 "spikedyn.min_update": (0.0, 0.01)},
    "asp": {"input.rate_hz_per_unit": (0.25, 0.5),
            "asp.leak_rate": (0.0, 0.001, 0.01),
            "asp.beta": (0.1, 0.3)},
    "diehl-cook": {"input.rate_hz_per_unit": (0.25, 0.5),
                   "inhibitory.w_inh_exc": (40.0, 17.0, 60.0),
                   "stdp.nu_post": (0.01, 0.02)},
    "lateral": {"input.rate_hz_per_unit": (0.25, 0.5),
                "lateral.w_lateral": (40.0, 17.0, 60.0),
                "stdp.nu_post": (0.01, 0.02)},
    "metaplastic": {"input.rate_hz_per_unit": (0.25, 0.5),
                    "metaplastic.theta_hold": (0.0, 0.97, 1.0),
                    "metaplastic.commit_spikes": (200.0, 100.0)},
}
#: Axes whose first value is a special case (the mechanism off): never "an edge" to extend past.
#: (``metaplastic.theta_hold`` 0: committed neurons keep Diehl & Cook's homeostasis, no hold.)
SPECIAL_FIRST = {"spikedyn.min_update", "asp.leak_rate", "metaplastic.theta_hold"}
#: Axes bounded above (fractions), and the input rate, which the config bounds by saturation.
UPPER = {"asp.beta": 1.0, "asp.leak_rate": 1.0, "input.rate_hz_per_unit": 1.0, "metaplastic.theta_hold": 1.0}


def configurations(grid: dict[str, tuple]) -> list[dict]:
    """Every combination of the grid's values, in order (the defaults first)."""
    axes = list(grid)
    return [dict(zip(axes, combo)) for combo in itertools.product(*(grid[a] for a in axes))]


def _key(overrides: dict) -> str:
    return " ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in overrides.items())


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-." else "_" for c in text)


def run_one(task: dict) -> dict:
    """One continual run on the validation split, in a worker process."""
    from spikedyn import continual  # one simulation thread (n_jobs=1); the environment is left alone,
    # since a task can run in this very process (jobs=1), where Numba's threads may already run

    config = task_config(task)
    protocol = continual.Protocol(samples_per_task=task["samples_per_task"], split=SPLIT,
                                  test_per_class=task["test_per_class"],
                                  assign_per_class=task.get("assign_per_class", continual.DEFAULT_ASSIGN_PER_CLASS))
    pools = continual.load_pools(SPLIT)
    result = continual.run(config, seed=task["seed"], protocol=protocol, pools=pools, n_jobs=1, progress=False)
    return {"summary": result.summary()}


def _tasks(model: str, configs: list[dict], args) -> list[dict]:
    tasks = []
    for overrides in configs:
        items = [f"{k}={v}" for k, v in overrides.items()]
        for item in items:
            parse_set(item)  # fail early, with the config's message
        for seed in args.seeds:
            tasks.append({"id": _slug(f"{model}-{args.neurons}-{_key(overrides)}-seed{seed}"), "model": model,
                          "neurons": args.neurons, "seed": seed, "set": items,
                          "samples_per_task": args.samples_per_task, "test_per_class": args.test_per_class,
                          **({} if args.assign_per_class is None else {"assign_per_class": args.assign_per_class}),
                          "overrides": overrides})
    return tasks


def _score(results: list[dict]) -> dict:
    acc = [r["summary"]["final_average_accuracy"] for r in results]
    bwt = [r["summary"]["bwt"] for r in results]
    return {"acc": mean_sd(acc), "bwt": mean_sd(bwt), "runs": len(results)}


def _best(scored: list[tuple[dict, dict]]) -> tuple[dict, dict]:
    top = max(s["acc"][0] for _, s in scored)
    return next((o, s) for o, s in scored if s["acc"][0] >= top - TIE)


def _extension(grid: dict[str, tuple], best: dict) -> dict[str, tuple] | None:
    """The grid extended by one step past the edge the best configuration sits on, or None."""
    for axis, values in grid.items():
        numeric = sorted(v for v in values if not (axis in SPECIAL_FIRST and v == values[0]))
        if len(numeric) < 2 or best[axis] not in (numeric[0], numeric[-1]):
            continue
        if best[axis] == numeric[-1]:
            step = numeric[-1] * (numeric[-1] / numeric[-2])
            if step <= UPPER.get(axis, float("inf")):
                return {**grid, axis: values + (round(step, 12),)}
        elif numeric[0] > 0:
            return {**grid, axis: values + (round(numeric[0] * numeric[0] / numeric[1], 12),)}
    return None


def select(model: str, args) -> dict:
    grid = dict(GRIDS[model])
    done: dict[str, tuple[dict, dict]] = {}
    extensions = []
    while True:
        configs = [c for c in configurations(grid) if _key(c) not in done]
        tasks = _tasks(model, configs, args)
        results = run_tasks(run_one, tasks, args.out, jobs=args.jobs, desc=f"{model} selection runs",
                            executor=args.executor, scheduler=args.scheduler,
                            cost=lambda t: continual_cost(t, t["samples_per_task"]),
                            warm=lambda t: continual_warm_up(t, samples_per_task=1, test_per_class=1,
                                                             assign_per_class=1),
                            group=seeds_group, group_name="configurations")
        for c in configs:
            mine = [r for r in results if r["task"]["overrides"] == c]
            done[_key(c)] = (c, _score(mine))
        scored = [done[_key(c)] for c in configurations(grid)]
        best, score = _best(scored)
        wider = _extension(grid, best) if len(extensions) < args.max_extensions else None
        if wider is None:
            return {"model": model, "chosen": best, "acc": score["acc"], "bwt": score["bwt"],
                    "runs": sum(s["runs"] for _, s in done.values()), "extensions": extensions,
                    "table": [{"overrides": c, **s} for c, s in done.values()]}
        extensions.append({axis: list(wider[axis]) for axis in wider if wider[axis] != grid[axis]})
        grid = wider


def write(out: Path, chosen: list[dict], args) -> None:
    from spikedyn._version import provenance
    from spikedyn.io.files import atomic_path, write_json

    note = (f"Selection on the validation split (learning from training images 0-49,999 with each task's images "
            f"drawn by the seed, scoring on 50,000-59,999), {args.neurons} neurons, ten one-class tasks of "
            f"{args.samples_per_task} images, seeds {','.join(map(str, args.seeds))}; mean ± sd over the seeds. "
            f"Criterion: final average accuracy (ACC), ties within {TIE} to the first configuration listed.")
    md = [note, "", "| model | configuration | runs | ACC | BWT | |", "|---|---|---:|---:|---:|---|"]
    csv = ["model,configuration,runs,acc_mean,acc_sd,bwt_mean,bwt_sd,chosen"]
    for c in chosen:
        for row in c["table"]:
            mark = "**chosen**" if row["overrides"] == c["chosen"] else ""
            md.append(f"| `{c['model']}` | {_key(row['overrides'])} | {row['runs']} | "
                      f"{row['acc'][0]:.3f} ± {row['acc'][1]:.3f} | {row['bwt'][0]:+.3f} ± {row['bwt'][1]:.3f} | {mark} |")
            csv.append(f"{c['model']},{_key(row['overrides'])},{row['runs']},{row['acc'][0]:.6f},{row['acc'][1]:.6f},"
                       f"{row['bwt'][0]:.6f},{row['bwt'][1]:.6f},{int(bool(mark))}")
    md += ["", "| model | runs | extensions of the grid |", "|---|---:|---|"]
    for c in chosen:
        ext = "; ".join(", ".join(f"{a}: {v}" for a, v in e.items()) for e in c["extensions"]) or "none"
        md.append(f"| `{c['model']}` | {c['runs']} | {ext} |")
    for name, lines in (("selection.md", md), ("selection.csv", csv)):
        with atomic_path(out / name) as tmp:
            tmp.write_text("\n".join(lines) + "\n")
    write_json(out / "chosen.json", {"protocol": note, **provenance(),
                                     "models": {c["model"]: {k: c[k] for k in ("chosen", "acc", "bwt", "runs",
                                                                              "extensions")} for c in chosen}})


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default=",".join(GRIDS), help=f"models to select, from {', '.join(GRIDS)}")
    ap.add_argument("--neurons", type=int, default=400)
    ap.add_argument("--seeds", type=int_list, default=[0, 1])
    ap.add_argument("--samples-per-task", type=int, default=4000)
    ap.add_argument("--test-per-class", type=int, default=None, help="validation images per class (default: all)")
    ap.add_argument("--assign-per-class", type=int, default=None,
                    help="images per class of the labelled pass (default: the protocol's)")
    ap.add_argument("--max-extensions", type=int, default=2, help="extensions of a grid won at an edge (default 2)")
    add_executor_options(ap, jobs=1)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    models = args.models.split(",")
    unknown = [m for m in models if m not in GRIDS]
    if unknown:
        ap.error(f"no selection grid for {unknown[0]!r}; models: {', '.join(GRIDS)}")
    sizes = {len(configurations(GRIDS[m])) for m in models}
    assert len(sizes) == 1, f"every model must get the same budget, grid sizes are {sizes}"
    chosen = [select(m, args) for m in models]
    write(args.out, chosen, args)
    print(json.dumps({c["model"]: {"chosen": c["chosen"], "acc": c["acc"]} for c in chosen}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
