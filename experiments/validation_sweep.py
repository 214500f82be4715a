"""Validation accuracy over a grid of parameters, at several points of learning: tuning without the test set.

Each network learns from training images 0-49,999 in order (up to the last
checkpoint); at each checkpoint its neurons are named from the images learned so far
(once each, learning off) and it is scored on the validation split, training images
50,000-59,999. The test set is never loaded. Any config field can be swept with
``--grid section.field=v1,v2,...`` (repeatable; the grid is their product).

Example (how fast the network learns early, and what that costs at the end)::

    python experiments/validation_sweep.py --models diehl-cook,lateral --neurons 100 \\
        --grid stdp.nu_post=0.01,0.02,0.04 --grid excitatory.theta_plus_mv=0.05,0.025 \\
        --checkpoints 3000,50000 --out experiments/results/early_learning

Outputs in ``--out``: ``runs/`` (one JSON per network, reused on a rerun), ``table.csv``
and ``table.md`` (validation accuracy mean +- sd over seeds at each checkpoint).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _runner import (add_executor_options, grid_combos, int_list, mean_sd, mnist, open_text, run_tasks,  # noqa: E402
                     write_text)

from spikedyn.config import NetworkConfig  # noqa: E402
from spikedyn.simulation.network import Network  # noqa: E402
from spikedyn.io.splits import selection_split  # noqa: E402


def run(task: dict) -> dict:
    x, y = mnist("train")
    split = selection_split(n_train=x.shape[0])
    xv, yv = x[split.validation.start:split.validation.stop], y[split.validation.start:split.validation.stop]
    config = NetworkConfig(model=task["model"], n_neurons=task["neurons"]).replace(**dict(task["set"]))
    net = Network(config, seed=task["seed"])
    curve, train_s = [], 0.0
    for stop in task["checkpoints"]:
        if stop > split.learn.stop:
            raise ValueError(f"checkpoint {stop} is beyond the learning part of the split ({split.learn.stop})")
        start = time.perf_counter()
        net.train(x[net.samples_seen:stop], progress=False)
        train_s += time.perf_counter() - start
        # Name the neurons from the images learned so far; score the validation images.
        score = net.assign(x[:stop], y[:stop], n_jobs=1).score(xv, yv, n_jobs=1)
        curve.append({"train_samples": stop, "validation_accuracy": score})
    return {"curve": curve, "train_seconds": train_s, "config": config.to_dict()}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default="diehl-cook,lateral")
    p.add_argument("--neurons", type=int_list, default=[100])
    p.add_argument("--grid", action="append", default=[], metavar="SECTION.FIELD=V1,V2,...")
    p.add_argument("--seeds", type=int_list, default=[0, 1, 2])
    p.add_argument("--checkpoints", type=int_list, default=[3000, 50000])
    add_executor_options(p, jobs=2)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    combos = grid_combos(args.grid)
    tasks = []
    for m in args.models.split(","):
        for n in args.neurons:
            for combo in combos:
                for s in args.seeds:
                    label = "-".join(f"{k.replace('__', '.')}={v}" for k, v in combo) or "defaults"
                    tasks.append({"id": f"{m}-{n}-{label}-seed{s}", "model": m, "neurons": n, "seed": s,
                                  "set": [list(kv) for kv in combo], "checkpoints": sorted(args.checkpoints)})
    results = run_tasks(run, tasks, args.out, jobs=args.jobs, desc="networks",
                        executor=args.executor, scheduler=args.scheduler)
    groups: dict[tuple, list[dict]] = {}
    for r in results:
        t = r["task"]
        key = (t["model"], t["neurons"], " ".join(f"{k.replace('__', '.')}={v}" for k, v in t["set"]) or "defaults")
        groups.setdefault(key, []).append(r)
    checkpoints = sorted(args.checkpoints)
    rows = []
    for (model, n, setting), rs in sorted(groups.items()):
        row = {"model": model, "neurons": n, "setting": setting, "seeds": len(rs)}
        for i, c in enumerate(checkpoints):
            row[f"mean_{c}"], row[f"sd_{c}"] = mean_sd(r["curve"][i]["validation_accuracy"] for r in rs)
        rows.append(row)
    with open_text(args.out / "table.csv", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    lines = ["| model | neurons | setting | " + " | ".join(f"after {c:,} images" for c in checkpoints) + " |",
             "|---|---:|---|" + "---:|" * len(checkpoints)]
    for r in rows:
        cells = [f"{r[f'mean_{c}']:.4f} ± {r[f'sd_{c}']:.4f}" for c in checkpoints]
        lines.append(f"| `{r['model']}` | {r['neurons']} | {r['setting']} | " + " | ".join(cells) + " |")
    write_text(args.out / "table.md",
        "Validation accuracy (training images 50,000-59,999; neurons named from the images learned so far), "
        f"mean ± sd over {max(r['seeds'] for r in rows)} seeds.\n\n" + "\n".join(lines) + "\n")
    print((args.out / "table.md").read_text())


if __name__ == "__main__":
    main()
