"""Where the evaluation images come from: accuracy by block of the evaluation split, over a pass.

A diagnosis, not a selection: it chooses nothing. One network per (model, size, seed) learns
its split's training images in order (``--split validation``: 0-49,999, ``--split test``: all
60,000); after each ``--checkpoints`` value (and at the end of the pass) its neurons are named
from every image learned (learning off, as the results table and the early-learning curve
name them) and it answers the whole evaluation split once. Each evaluation block of
``--block`` images (validation: training images 50,000-59,999; test: the test images in file
order) gets its accuracy under the paper's readout, the mean spike count per image, and
the share of images the network answered with no spike at all; the table also gives each
block's ink (mean pixels above zero per image, a property of the data alone).

It answers two questions the learning curves raise: whether accuracy falls late in a pass on
both splits or on one (the validation split scores images like those learned; the test set
was written by other people, and its halves differ from each other), and which evaluation
images lose it.

Example::

    python experiments/evaluation_blocks.py --split validation --models lateral,lateral-fast \\
        --seeds 0,1 --checkpoints 10000,30000 --out experiments/results/evaluation_blocks

Outputs in ``--out``: ``runs/`` (one JSON per network, reused on a rerun), ``table_<split>.md``
and ``table_<split>.csv`` (mean over seeds per model, size, checkpoint and block).
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import split_data  # noqa: E402
from _runner import (add_executor_options, blocks_of, int_list, open_text, run_tasks, seeds_group,  # noqa: E402
                     setting_slug, stored_runs, task_config, write_text)

from spikedyn.config import parse_set  # noqa: E402
from spikedyn.core.encoding import STREAM_TEST  # noqa: E402
from spikedyn.core.readout import predict  # noqa: E402
from spikedyn.simulation.network import Network, warm_up  # noqa: E402

SPLITS = ("validation", "test")


def block_summary(counts: np.ndarray, predictions: np.ndarray, labels: np.ndarray, block: int) -> list[dict]:
    """Per block of evaluation images: accuracy, mean spikes per image, share of images with no spike."""
    spikes = counts.sum(axis=1)
    return [{"lo": lo, "hi": hi, "accuracy": float(np.mean(predictions[lo:hi] == labels[lo:hi])),
             "spikes_per_image": float(spikes[lo:hi].mean()), "silent": float(np.mean(spikes[lo:hi] == 0))}
            for lo, hi in blocks_of(labels.shape[0], block)]


def run(task: dict) -> dict:
    """One network over one pass: the block summary after each checkpoint."""
    x, y, xe, ye = split_data(task["split"])
    n = task.get("train_samples") or x.shape[0]
    x, y = x[:n], y[:n]
    config = task_config(task)
    warm_up(config, learn=True, seed=task["seed"])
    net = Network(config, seed=task["seed"])
    points = []
    for stop in sorted({c for c in task["checkpoints"] if c < x.shape[0]} | {x.shape[0]}):
        net.train(x[net.samples_seen:stop], progress=False)
        net.assign(x[:stop], y[:stop], n_jobs=1)
        counts = net.respond(xe, stream=STREAM_TEST, n_jobs=1, progress=False)
        predictions = predict(counts, net.assignments_, n_classes=10)
        points.append({"train_samples": stop, "accuracy": float(np.mean(predictions == ye)),
                       "mean_theta_mv": float(net.test_thresholds().mean()),
                       "blocks": block_summary(counts, predictions, ye, task["block"])})
    return {"points": points, "config": config.to_dict()}


def ink_per_block(images: np.ndarray, block: int) -> list[float]:
    """Mean number of pixels above zero per image, for each block of ``images``."""
    ink = (images.reshape(images.shape[0], -1) > 0).sum(axis=1)
    return [float(ink[lo:hi].mean()) for lo, hi in blocks_of(images.shape[0], block)]


def write_tables(results: list[dict], split: str, out: Path) -> None:
    """The tables of ``results``, runs of one split and one block size (``ValueError`` otherwise): one row
    group per model, size, setting and protocol (checkpoints, pool), so runs of different protocols never
    share a mean."""
    blocks = {r["task"]["block"] for r in results}
    if len(blocks) != 1 or {r["task"]["split"] for r in results} != {split}:
        raise ValueError(f"the runs mix block sizes {sorted(blocks)} or splits; keep one of each per --out")
    block = blocks.pop()
    groups: dict[tuple, list[dict]] = {}
    for r in results:
        t = r["task"]
        groups.setdefault((t["model"], t["neurons"], " ".join(t["set"]) or "defaults", tuple(t["checkpoints"]),
                           t.get("train_samples")), []).append(r)
    _, _, xe, _ = split_data(split)
    ink = ink_per_block(xe, block)
    rows = []
    for g, ((model, n, setting, _, _), rs) in enumerate(groups.items()):
        for i, point in enumerate(rs[0]["points"]):
            for b, blk in enumerate(point["blocks"]):
                def mean(key, i=i, b=b):
                    return float(np.mean([r["points"][i]["blocks"][b][key] for r in rs]))
                rows.append({"group": g, "model": model, "neurons": n, "setting": setting, "seeds": len(rs),
                             "train_samples": point["train_samples"],
                             "all": float(np.mean([r["points"][i]["accuracy"] for r in rs])),
                             "mean_theta_mv": float(np.mean([r["points"][i]["mean_theta_mv"] for r in rs])),
                             "block": f"{blk['lo']}-{blk['hi'] - 1}", "ink": ink[b], "accuracy": mean("accuracy"),
                             "spikes_per_image": mean("spikes_per_image"), "silent": mean("silent")})
    out.mkdir(parents=True, exist_ok=True)
    with open_text(out / f"table_{split}.csv", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    evaluation = ("validation images (training 50,000-59,999)" if split == "validation"
                  else "test images, in file order")
    block_names = [r["block"] for r in rows[:len(ink)]]
    lines = [f"Accuracy (paper's readout, neurons named from every image learned) on each block of {block:,} "
             f"{evaluation} after each checkpoint of one pass; mean over seeds. Below each accuracy row: mean "
             "spikes per image. Ink: mean pixels above zero per image of the block (the data alone). "
             f"Sources: {', '.join(sorted({r['source_hash'] for r in results}))}.", "",
             "| model | neurons | setting | seeds | images learned | mean θ (mV) | all | "
             + " | ".join(block_names) + " |",
             "|---|---:|---|---:|---:|---:|---:|" + "---:|" * len(ink),
             "| ink | | | | | | | " + " | ".join(f"{v:.0f}" for v in ink) + " |"]
    for key in dict.fromkeys((r["group"], r["train_samples"]) for r in rows):
        sel = [r for r in rows if (r["group"], r["train_samples"]) == key]
        model, n, setting, seeds, stop = (sel[0][k] for k in ("model", "neurons", "setting", "seeds", "train_samples"))
        lines.append(f"| `{model}` | {n} | {setting} | {seeds} | {stop:,} | {sel[0]['mean_theta_mv']:.1f} | "
                     f"**{sel[0]['all']:.3f}** | " + " | ".join(f"{r['accuracy']:.3f}" for r in sel) + " |")
        lines.append("| spikes/image | | | | | | | " + " | ".join(f"{r['spikes_per_image']:.1f}" for r in sel) + " |")
    write_text(out / f"table_{split}.md", "\n".join(lines) + "\n")
    print((out / f"table_{split}.md").read_text())


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--split", choices=SPLITS, required=True)
    p.add_argument("--models", default="lateral")
    p.add_argument("--neurons", type=int_list, default=[100])
    p.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE",
                   help="a fixed override of every network (repeatable)")
    p.add_argument("--seeds", type=int_list, default=[0, 1])
    p.add_argument("--checkpoints", type=int_list, default=[30000],
                   help="also score after these many images (the end of the pass always)")
    p.add_argument("--block", type=int, default=1000, help="evaluation images per block")
    p.add_argument("--train-samples", type=int, default=None,
                   help="one pass over the first K training images of the split (default: all of them)")
    add_executor_options(p, jobs=2)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--tables-only", action="store_true", help="compute nothing: tables from the stored runs")
    args = p.parse_args(argv)
    pairs = [parse_set(item) for item in args.set]  # a bad override fails here, before any run
    if not 0 < args.block <= 10_000:
        p.error("--block must be in 1..10000 (the evaluation split's images)")
    if args.train_samples is not None and args.train_samples < 1:
        p.error("--train-samples must be at least 1")
    if any(c < 1 for c in args.checkpoints):
        p.error("--checkpoints must be positive numbers of images")
    if args.tables_only:
        results = [r for r in stored_runs(args.out) if r.get("task", {}).get("split") == args.split]
        if not results:
            p.error(f"--tables-only: no stored run of the {args.split} split in {args.out / 'runs'}")
        try:
            write_tables(results, args.split, args.out)
        except ValueError as e:
            p.error(f"--tables-only: {e}")
        return
    tasks = [{"id": f"{args.split}-{m}-{n}-{setting_slug(pairs)}"
                    f"-c{'_'.join(map(str, sorted(args.checkpoints)))}-b{args.block}"
                    f"{f'-n{args.train_samples}' if args.train_samples is not None else ''}-seed{s}",
              "split": args.split, "model": m, "neurons": n, "seed": s, "set": list(args.set),
              "checkpoints": sorted(args.checkpoints), "block": args.block,
              **({"train_samples": args.train_samples} if args.train_samples is not None else {})}
             for m in args.models.split(",") for n in args.neurons for s in args.seeds]
    results = run_tasks(run, tasks, args.out, jobs=args.jobs, desc="networks", executor=args.executor,
                        scheduler=args.scheduler, group=seeds_group, group_name="settings")
    write_tables(results, args.split, args.out)


if __name__ == "__main__":
    main()
