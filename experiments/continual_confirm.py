"""Second stage of the continual selection: each model's best configurations of a first stage,
run again at the default protocol, on the validation split only.

The first stage (``experiments/continual_selection.py``) ranks every model's grid on a cheap
protocol (1,000 training images per task, 200 validation images per class); its ranking need
not hold at the default protocol (4,000 images per task, every validation image), where the
final numbers are measured: a neuron sees four times as many images of a class before the
next arrives. This stage gives every model the same second budget: its ``--top`` K best
configurations of the first stage (by mean ACC), each
run with the same seeds at the default protocol, and chooses the best of them by the same
criterion. The test set is never loaded: the script has no option that could load it.

Usage (the first-stage tables of several selections are joined; a model must appear in one)::

    python experiments/continual_confirm.py --stage1 experiments/results/continual_selection/selection.csv \\
        --top 3 --models spikedyn,asp,diehl-cook,lateral --out experiments/results/continual_confirm --jobs 2

Outputs in ``--out``: ``runs/`` (one JSON per run, reused by the same code only),
``confirm.md`` and ``confirm.csv`` (each re-run configuration: its first-stage ACC, its ACC
and BWT at the default protocol), ``chosen.json`` (the format of the first stage's, which
``experiments/continual_comparison.py --chosen`` reads).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _runner import add_executor_options, continual_cost, continual_warm_up, int_list, run_tasks, seeds_group  # noqa: E402
from continual_selection import SPLIT, TIE, _key, _score, _slug, run_one  # noqa: E402

from spikedyn.config import parse_set  # noqa: E402

#: The default protocol of ``spikedyn continual`` (``spikedyn.continual.Protocol``'s defaults).
SAMPLES_PER_TASK = 4000


def read_stage1(paths: list[Path]) -> dict[str, list[dict]]:
    """model -> its first-stage rows in table order: ``{"overrides", "acc", "bwt"}``."""
    rows: dict[str, list[dict]] = {}
    owner: dict[str, Path] = {}
    for path in paths:
        with open(path, newline="", encoding="utf-8") as f:
            for r in csv.DictReader(f):
                m = r["model"]
                if owner.setdefault(m, path) != path:
                    sys.exit(f"--stage1: model {m!r} is in both {owner[m]} and {path}; give each model one table")
                # each item read by the config (its typed value, or its one-line message)
                overrides = {item.split("=", 1)[0]: parse_set(item)[1] for item in r["configuration"].split()}
                rows.setdefault(m, []).append({"overrides": overrides, "acc": float(r["acc_mean"]),
                                               "bwt": float(r["bwt_mean"]), "runs": int(r["runs"])})
    return rows


def top(rows: list[dict], k: int) -> list[dict]:
    """The ``k`` rows of highest mean ACC (equal ACC: the one listed first), each a distinct result: a row
    whose ACC and BWT equal a better one's is the same computation under another name (``asp`` without a
    leak ignores ``beta``) and is passed over, so no model spends its budget twice on one network."""
    out: list[dict] = []
    for r in sorted(rows, key=lambda r: -r["acc"]):
        if len(out) < k and not any((r["acc"], r["bwt"]) == (o["acc"], o["bwt"]) for o in out):
            out.append(r)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--stage1", type=Path, action="append", required=True, metavar="SELECTION_CSV",
                    help="selection.csv of experiments/continual_selection.py (repeatable)")
    ap.add_argument("--models", required=True, help="comma-separated models (each in one --stage1 table)")
    ap.add_argument("--top", type=int, default=3, help="configurations per model re-run (default 3)")
    ap.add_argument("--neurons", type=int, default=400)
    ap.add_argument("--seeds", type=int_list, default=[0, 1])
    ap.add_argument("--samples-per-task", type=int, default=SAMPLES_PER_TASK)
    add_executor_options(ap, jobs=1)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    if args.top < 1:
        ap.error(f"--top {args.top}: give a positive number of configurations")
    stage1 = read_stage1(args.stage1)
    models = args.models.split(",")
    missing = [m for m in models if m not in stage1]
    if missing:
        ap.error(f"model {missing[0]!r} is in no --stage1 table; tables have {', '.join(sorted(stage1))}")

    tasks, picked = [], {}
    for m in models:
        picked[m] = top(stage1[m], args.top)
        for row in picked[m]:
            key = _key(row["overrides"])
            for seed in args.seeds:
                tasks.append({"id": _slug(f"confirm-{m}-{args.neurons}-{key}-seed{seed}"), "model": m,
                              "neurons": args.neurons, "seed": seed,
                              "set": [f"{k}={v}" for k, v in row["overrides"].items()],
                              "samples_per_task": args.samples_per_task, "test_per_class": None,
                              "overrides": row["overrides"]})
    results = run_tasks(run_one, tasks, args.out, jobs=args.jobs, desc="confirmation runs", executor=args.executor,
                        scheduler=args.scheduler, cost=lambda t: continual_cost(t, t["samples_per_task"]),
                        warm=lambda t: continual_warm_up(t, samples_per_task=1, test_per_class=1, assign_per_class=1),
                        group=seeds_group, group_name="configurations")

    from spikedyn._version import provenance
    from spikedyn.io.files import atomic_path, write_json

    note = (f"Second stage of the selection, on the validation split (learning from training images 0-49,999, "
            f"scoring on all of 50,000-59,999): each model's {args.top} best configurations of the first stage "
            f"({', '.join(str(p) for p in args.stage1)}) at the default protocol, {args.samples_per_task} images "
            f"per task, {args.neurons} neurons, seeds {','.join(map(str, args.seeds))}; mean ± sd over the seeds. "
            f"Criterion: ACC, ties within {TIE} to the configuration ranked higher in the first stage.")
    md = [note, "", "| model | configuration | first-stage ACC | runs | ACC | BWT | |", "|---|---|---:|---:|---:|---:|---|"]
    lines = ["model,configuration,stage1_acc,runs,acc_mean,acc_sd,bwt_mean,bwt_sd,chosen"]
    chosen = {}
    for m in models:
        scored = []
        for row in picked[m]:
            mine = [r for r in results if r["task"]["model"] == m and r["task"]["overrides"] == row["overrides"]]
            scored.append((row, _score(mine)))
        best_acc = max(s["acc"][0] for _, s in scored)
        best, score = next((r, s) for r, s in scored if s["acc"][0] >= best_acc - TIE)
        chosen[m] = {"chosen": best["overrides"], "acc": score["acc"], "bwt": score["bwt"],
                     "runs": sum(s["runs"] for _, s in scored), "stage1_runs": sum(r["runs"] for r in stage1[m])}
        for row, s in scored:
            mark = "**chosen**" if row is best else ""
            md.append(f"| `{m}` | {_key(row['overrides'])} | {row['acc']:.3f} | {s['runs']} | "
                      f"{s['acc'][0]:.3f} ± {s['acc'][1]:.3f} | {s['bwt'][0]:+.3f} ± {s['bwt'][1]:.3f} | {mark} |")
            lines.append(f"{m},{_key(row['overrides'])},{row['acc']:.6f},{s['runs']},{s['acc'][0]:.6f},"
                         f"{s['acc'][1]:.6f},{s['bwt'][0]:.6f},{s['bwt'][1]:.6f},{int(bool(mark))}")
    for name, text in (("confirm.md", md), ("confirm.csv", lines)):
        with atomic_path(args.out / name) as tmp:
            tmp.write_text("\n".join(text) + "\n")
    write_json(args.out / "chosen.json", {"protocol": note, "split": SPLIT, **provenance(), "models": chosen})
    print(json.dumps({m: {"chosen": c["chosen"], "acc": c["acc"]} for m, c in chosen.items()}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
