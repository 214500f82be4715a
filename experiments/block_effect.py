"""Which training images cost accuracy when they are learned last: training images only.

A diagnosis, not a selection: it chooses nothing and never loads the test set. The training
images are cut into blocks of ``--block`` (10,000) images in file order; one block is held
out for scoring (``--eval-block``, default the first). For each other block B and each seed,
a network learns every remaining block in file order except B, is scored on the held-out
block (neurons named from every image learned, the paper's readout), then learns B and is
scored again. The change is what learning B last does; if every block costs about the same,
it is what any 10,000 more images do, and if one costs more, it is a property of that
block's images or of their order in the file.

Example::

    python experiments/block_effect.py --models lateral,diehl-cook --seeds 0,1 \\
        --out experiments/results/block_effect

Outputs in ``--out``: ``runs/`` (one JSON per network, reused on a rerun), ``table.md`` and
``table.csv`` (per model and block B: accuracy before and after learning B, mean ± sd over
seeds, and the change with its 95 % confidence interval, paired by seed).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _runner import (add_executor_options, blocks_of, int_list, mean_sd, mnist, open_text, run_tasks,  # noqa: E402
                     stored_runs, write_text)

from spikedyn.config import NetworkConfig  # noqa: E402
from spikedyn.core.stats import paired_margin  # noqa: E402
from spikedyn.simulation.network import Network, warm_up  # noqa: E402


def run(task: dict) -> dict:
    """Learn every block but the held-out one and ``task['last']`` in file order, score; learn the last one, score."""
    x, y = mnist("train")
    blocks = [tuple(b) for b in task["blocks"]]
    held, last = tuple(task["held_out"]), tuple(task["last"])
    first = np.concatenate([np.arange(lo, hi) for lo, hi in blocks if (lo, hi) not in (held, last)])
    tail = np.arange(*last)
    if task.get("order", "file") == "shuffled":  # block B in an order drawn from the seed
        tail = tail[np.random.default_rng([task["seed"], 7]).permutation(tail.size)]
    config = NetworkConfig(model=task["model"], n_neurons=task["neurons"])
    warm_up(config, learn=True, seed=task["seed"])
    net = Network(config, seed=task["seed"])
    scores, states = [], []
    for learned in (first, np.concatenate([first, tail])):
        net.train(x[learned[net.samples_seen:]], progress=False)
        net.assign(x[learned], y[learned], n_jobs=1)
        scores.append(net.score(x[held[0]:held[1]], y[held[0]:held[1]], n_jobs=1))
        states.append((net.weights.copy(), net.test_thresholds().copy()))  # the thresholds it answers with
    out = {"before": scores[0], "after": scores[1], "config": config.to_dict()}
    if task.get("split_state"):  # which learned quantity carries the change: each with the other's old value
        (w_before, theta_before), (w_after, theta_after) = states
        for key, (w, theta) in {"after_thresholds_before": (w_after, theta_before),
                                "before_thresholds_after": (w_before, theta_after)}.items():
            mixed = Network(config, seed=task["seed"])
            mixed.weights[...], mixed.theta[...] = w, theta
            mixed.assign(x[learned], y[learned], n_jobs=1)
            out[key] = mixed.score(x[held[0]:held[1]], y[held[0]:held[1]], n_jobs=1)
    return out


def local_similarity(images: np.ndarray, labels: np.ndarray, lag: int = 20, samples: int = 2000) -> float:
    """How much alike neighbours in file order are, from the data alone: for sampled images, the squared
    distance to the nearest image of the same class among the ``lag`` images before it, over the same for as
    many images of that class drawn at random from the block (mean over samples; 1 = no order effect, below 1
    = runs of similar images, as from one writer). Deterministic (its own fixed seed)."""
    x = images.reshape(images.shape[0], -1).astype(np.float64) / 255.0
    rng = np.random.default_rng(0)
    near, rand = [], []
    for i in rng.integers(lag, x.shape[0], samples):
        before = np.arange(i - lag, i)[labels[i - lag:i] == labels[i]]
        if before.size == 0:
            continue
        same = np.flatnonzero(labels == labels[i])
        others = rng.choice(same[same != i], before.size)  # never the image itself
        near.append(((x[before] - x[i]) ** 2).sum(axis=1).min())
        rand.append(((x[others] - x[i]) ** 2).sum(axis=1).min())
    return float(np.mean(near) / np.mean(rand)) if near else float("nan")


def write_state_table(results: list[dict], out: Path) -> None:
    """``table_state.md``: for the runs with ``--split-state``, the accuracy after block B with the
    thresholds of before it and the reverse, each change paired by seed with the run's ``before``."""
    groups: dict[tuple, list[dict]] = {}
    for r in results:
        if "after_thresholds_before" in r:
            t = r["task"]
            groups.setdefault((t["model"], t["neurons"], tuple(t["last"]), t.get("order", "file")), []).append(r)
    if not groups:
        return
    held = results[0]["task"]["held_out"]
    lines = [f"What carries the change of learning block B last: accuracy on training images {held[0]:,}-"
             f"{held[1] - 1:,} (held out; paper's readout, neurons named from every image learned) before and after "
             "block B, and of the weights after it with the thresholds the network answered with before it (and the "
             "reverse); mean ± sd over seeds, changes from before in points (mean [95 % confidence interval], paired "
             "by seed). The test set is not used. Sources: "
             f"{', '.join(sorted({r['source_hash'] for rs in groups.values() for r in rs}))}.", "",
             "| model | neurons | block B (learned last) | its order | seeds | before | after | weights after, "
             "thresholds before | weights before, thresholds after | change: all | change: weights only | "
             "change: thresholds only |", "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for (model, n, last, order), rs in sorted(groups.items()):
        keys = ("before", "after", "after_thresholds_before", "before_thresholds_after")
        by_seed = {key: {r["task"]["seed"]: r[key] for r in rs} for key in keys}
        cells = [f"{m:.4f} ± {sd:.4f}" for m, sd in (mean_sd(by_seed[k].values()) for k in keys)]
        changes = [paired_margin(by_seed[k], by_seed["before"]).format() for k in keys[1:]]
        lines.append(f"| `{model}` | {n} | {last[0]}-{last[1] - 1} | {order} | {len(rs)} | " + " | ".join(cells)
                     + " | " + " | ".join(changes) + " |")
    write_text(out / "table_state.md", "\n".join(lines) + "\n")
    print((out / "table_state.md").read_text())


def write_tables(results: list[dict], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_state_table(results, out)
    groups: dict[tuple, dict[int, dict]] = {}
    for r in results:  # a run with --split-state has the same before and after as the plain one: one per seed
        t = r["task"]
        groups.setdefault((t["model"], t["neurons"], tuple(t["last"]), t.get("order", "file")), {})[t["seed"]] = r
    groups = {key: list(by_seed.values()) for key, by_seed in groups.items()}
    x, y = mnist("train")
    similarity = {last: local_similarity(x[last[0]:last[1]], y[last[0]:last[1]]) for _, _, last, _ in groups}
    rows = []
    for (model, n, last, order), rs in groups.items():
        by_seed = {key: {r["task"]["seed"]: r[key] for r in rs} for key in ("before", "after")}
        change = paired_margin(by_seed["after"], by_seed["before"])
        before, before_sd = mean_sd(by_seed["before"].values())
        after, after_sd = mean_sd(by_seed["after"].values())
        rows.append({"model": model, "neurons": n, "last_block": f"{last[0]}-{last[1] - 1}", "order": order,
                     "similarity": similarity[last],
                     "seeds": len(rs),
                     "before": before, "before_sd": before_sd, "after": after, "after_sd": after_sd,
                     "change_points": change.format()})
    out.mkdir(parents=True, exist_ok=True)
    with open_text(out / "table.csv", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    held = results[0]["task"]["held_out"]
    lines = [f"Accuracy on training images {held[0]:,}-{held[1] - 1:,} (held out; paper's readout, neurons named from "
             "every image learned) of a network that learned the other blocks in file order, before and after it "
             "learns block B last; mean ± sd over seeds, and the change (points; mean [95 % confidence interval], "
             "paired by seed). Neighbours alike: the block's local similarity in file order, from the data "
             "alone (`local_similarity`: below 1, runs of similar images). The test set is not used. Sources: "
             f"{', '.join(sorted({r['source_hash'] for r in results}))}.", "",
             "| model | neurons | block B (learned last) | neighbours alike | its order | seeds | before | after | "
             "change |", "|---|---:|---|---:|---|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| `{r['model']}` | {r['neurons']} | {r['last_block']} | {r['similarity']:.3f} | {r['order']} | "
                     f"{r['seeds']} | "
                     f"{r['before']:.4f} ± {r['before_sd']:.4f} | {r['after']:.4f} ± {r['after_sd']:.4f} | "
                     f"{r['change_points']} |")
    write_text(out / "table.md", "\n".join(lines) + "\n")
    print((out / "table.md").read_text())


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default="lateral")
    p.add_argument("--neurons", type=int_list, default=[100])
    p.add_argument("--seeds", type=int_list, default=[0, 1])
    p.add_argument("--block", type=int, default=10_000, help="training images per block")
    p.add_argument("--eval-block", type=int, default=0, help="the held-out block (0 = the first)")
    p.add_argument("--train-samples", type=int, default=None, help="use only the first K training images")
    p.add_argument("--last", type=int_list, default=None,
                   help="only these blocks are learned last (default: every block but the held-out one)")
    p.add_argument("--order", default="file", choices=("file", "shuffled"),
                   help="block B in file order, or shuffled (a permutation drawn from the seed): whether its "
                        "order or its images matter")
    p.add_argument("--split-state", action="store_true",
                   help="also score the weights after block B with the thresholds of before it, and the reverse "
                        "(which learned quantity carries the change; table_state.md)")
    add_executor_options(p, jobs=2)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--tables-only", action="store_true", help="compute nothing: the tables from the stored runs")
    args = p.parse_args(argv)
    if args.tables_only:
        results = stored_runs(args.out)
        partitions = {json.dumps([r["task"]["blocks"], r["task"]["held_out"]]) for r in results}
        if len(partitions) != 1:
            p.error(f"--tables-only: {args.out / 'runs'} holds runs of {len(partitions)} partitions (blocks and "
                    "held-out block); one is needed: keep one per --out")
        write_tables(results, args.out)
        return
    n_train = mnist("train")[0].shape[0]
    if args.train_samples is not None and not 0 < args.train_samples <= n_train:
        p.error(f"--train-samples must be in 1..{n_train} (the training images)")
    n_images = n_train if args.train_samples is None else args.train_samples
    if not 0 < args.block < n_images:
        p.error(f"--block must be in 1..{n_images - 1}: at least two blocks are needed")
    blocks = blocks_of(n_images, args.block)
    if len(blocks) < 3:
        p.error(f"{n_images} images in blocks of {args.block} make {len(blocks)} blocks; at least 3 are needed "
                "(one held out, one learned last, one before it): use a smaller --block")
    if not 0 <= args.eval_block < len(blocks):
        p.error(f"--eval-block must be in 0..{len(blocks) - 1} (the {len(blocks)} blocks)")
    held = blocks[args.eval_block]
    last = [b for b in range(len(blocks)) if b != args.eval_block] if args.last is None else args.last
    if any(not 0 <= b < len(blocks) or b == args.eval_block for b in last):
        p.error(f"--last must name blocks in 0..{len(blocks) - 1} other than the held-out one ({args.eval_block})")
    suffix = "-shuffled" if args.order == "shuffled" else ""
    split = "-split" if args.split_state else ""
    tasks = [{"id": f"{m}-{n}-of{n_images}-held{held[0]}_{held[1]}-last{lo}_{hi}{suffix}{split}-seed{s}",
              "model": m, "neurons": n, "seed": s, "blocks": [list(b) for b in blocks], "held_out": list(held),
              "last": [lo, hi], **({"order": "shuffled"} if suffix else {}),
              **({"split_state": True} if split else {})}
             for m in args.models.split(",") for n in args.neurons
             for (lo, hi) in (blocks[b] for b in sorted(set(last))) for s in args.seeds]
    run_tasks(run, tasks, args.out, jobs=args.jobs, desc="networks", executor=args.executor,
              scheduler=args.scheduler)
    # the table holds every stored run with this held-out block (both orders, earlier invocations too)
    write_tables([r for r in stored_runs(args.out) if r["task"]["held_out"] == list(held)
                  and r["task"]["blocks"] == [list(b) for b in blocks]], args.out)


if __name__ == "__main__":
    main()
