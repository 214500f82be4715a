"""Early learning: accuracy after the first 3,000 training images, and after one pass, over seeds.

The protocol of BindsNET 0.3.4's Diehl & Cook example, which the learning issue holds us to:
a network learns from the first ``--early`` (3,000) training images in order; its neurons
are named from the last 1,000 of them (images ``--label-from`` = 2,000 to 2,999, once
each, learning off) and it is scored on the first ``--eval-early`` (1,000) images of the
evaluation split. With ``--final`` it then learns on to the end of one pass and is scored
again the way the results table scores it (neurons named from every image learned, the
whole evaluation split), so a setting that learns fast early is also checked for what it
costs at the end.

Splits (``spikedyn.io.splits``): ``--split validation`` learns from training images
0-49,999 and scores on 50,000-59,999 (the test set is never loaded); ``--split test``
learns from all 60,000 and scores on the test images. Settings are chosen on validation
only: a ``--grid`` on the test split is refused (that would be a selection on the test
set); the test split takes one setting (``--set``, repeatable) and gives final numbers.

Examples::

    # selection (validation): which input rate and competition learn fastest
    python experiments/early_learning.py --split validation --models lateral --neurons 100 \\
        --grid input.rate_hz_per_unit=0.25,0.5,0.75 --grid lateral.w_lateral=25,40 \\
        --eval-early 10000 --final --seeds 0,1 --out experiments/results/early_learning_selection
    # the final numbers (test), 5 seeds, one setting
    python experiments/early_learning.py --split test --models lateral --neurons 100 \\
        --seeds 0,1,2,3,4 --final --out experiments/results/early_learning_test

Every score is taken under the paper's readout (Diehl & Cook's mean response, the one the
tables and the aims use) and, beside it, under every other readout of
:data:`spikedyn.core.readout.READOUTS`, all fitted on the same labelled pass and scored on the
same test spikes (the paper's score is the one an ``assign``/``score`` pair gives, bit for bit).

Outputs in ``--out``: ``runs/`` (one JSON per network, reused on a rerun), ``table.csv`` and
``table.md`` (mean +- sd over seeds, the seeds' values, the protocol stated above the table),
``readouts.md`` (every readout's score and its margin over the paper's, paired by seed; from
the runs that recorded the readouts).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import split_data  # noqa: E402
from _runner import (add_executor_options, grid_combos, int_list, mean_sd, open_text, run_tasks,  # noqa: E402
                     seeds_group, setting_label, setting_slug, stored_runs, write_text)

from spikedyn.config import NetworkConfig, parse_set  # noqa: E402
from spikedyn.core.encoding import STREAM_ASSIGN, STREAM_TEST  # noqa: E402
from spikedyn.core.readout import PAPER_READOUT, READOUTS, accuracy, fit_readouts  # noqa: E402
from spikedyn.core.stats import paired_margin  # noqa: E402
from spikedyn.io.splits import TRAIN_SAMPLES, selection_split  # noqa: E402
from spikedyn.simulation.network import Network, warm_up  # noqa: E402

SPLITS = ("validation", "test")


def readout_scores(net: Network, x_label, y_label, x_eval, y_eval) -> dict[str, float]:
    """Name ``net``'s neurons from a labelled pass over ``x_label`` (learning off) and score ``x_eval`` under
    every readout, the paper's first: one labelled pass and one test pass for all of them, on the streams
    ``Network.assign`` and ``Network.score`` use, so the paper's score is theirs bit for bit."""
    counts = net.respond(x_label, stream=STREAM_ASSIGN, n_jobs=1, progress=False)
    net.name_from(counts, y_label)
    test = net.respond(x_eval, stream=STREAM_TEST, n_jobs=1, progress=False)
    return {kind: float(accuracy(y_eval, readout.predict(test)))
            for kind, readout in fit_readouts(counts, y_label).items()}


def run(task: dict) -> dict:
    """One network: learn ``early`` images, name from ``[label_from, early)``, score the first ``eval_early``
    evaluation images; with ``final``, learn on to the end of the pool and score the whole evaluation split."""
    x, y, xe, ye = split_data(task["split"])
    n = task.get("train_samples") or x.shape[0]
    x, y = x[:n], y[:n]
    if task.get("order", "file") == "shuffled":  # the pool in an order drawn from the seed
        order = np.random.default_rng([task["seed"], 11]).permutation(n)
        x, y = x[order], y[order]
    config = NetworkConfig(model=task["model"], n_neurons=task["neurons"]).replace(**dict(task["set"]))
    warm_up(config, learn=True, seed=task["seed"])  # compilation is not training time
    net = Network(config, seed=task["seed"])
    early, label_from = task["early"], task["label_from"]
    start = time.perf_counter()
    net.train(x[:early], progress=False)
    train_s = time.perf_counter() - start
    scores = readout_scores(net, x[label_from:early], y[label_from:early], xe[:task["eval_early"]],
                            ye[:task["eval_early"]])
    out = {"early_accuracy": scores.pop(PAPER_READOUT), "early_readouts": scores}
    if task["final"]:
        curve = []
        for stop in sorted({c for c in task.get("curve", []) if c < x.shape[0]} | {x.shape[0]}):
            if stop > net.samples_seen:
                start = time.perf_counter()
                net.train(x[net.samples_seen:stop], progress=False)
                train_s += time.perf_counter() - start
            scores = readout_scores(net, x[:stop], y[:stop], xe, ye)
            curve.append({"train_samples": stop, "accuracy": scores.pop(PAPER_READOUT), "readouts": scores})
        out["curve"] = curve
        out["final_accuracy"] = curve[-1]["accuracy"]
        out["final_readouts"] = curve[-1]["readouts"]
        out["final_samples"] = int(x.shape[0])
    return {**out, "train_seconds": train_s, "config": config.to_dict()}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--split", choices=SPLITS, required=True)
    p.add_argument("--models", default="diehl-cook,lateral")
    p.add_argument("--neurons", type=int_list, default=[100])
    p.add_argument("--set", action="append", default=[], type=parse_set, metavar="SECTION.FIELD=VALUE",
                   help="a fixed override of every network (repeatable)")
    p.add_argument("--grid", action="append", default=[], metavar="SECTION.FIELD=V1,V2,...",
                   help="validation only: a swept field (repeatable; the grid is their product)")
    p.add_argument("--seeds", type=int_list, default=[0, 1, 2, 3, 4])
    p.add_argument("--early", type=int, default=3000, help="training images learned before the early score")
    p.add_argument("--label-from", type=int, default=2000, help="the early labelled pass: images LABEL_FROM..EARLY-1")
    p.add_argument("--eval-early", type=int, default=1000, help="the first K evaluation images give the early score")
    p.add_argument("--final", action="store_true", help="also learn to the end of one pass and score every image")
    p.add_argument("--baseline", default=None, metavar="MODEL",
                   help="also write margins.md: each setting minus MODEL at its defaults, paired by seed, with "
                        "the 95%% confidence interval of the margin (several: MODEL,MODEL, one table each)")
    p.add_argument("--train-samples", type=int, default=None,
                   help="with --final: one pass over the first K training images of the split (default: all of them)")
    p.add_argument("--order", choices=("file", "shuffled"), default="file",
                   help="the pool in file order ([DC15]'s, the default) or shuffled, in a permutation drawn from "
                        "the seed (the early images are then the first of that permutation)")
    p.add_argument("--curve", type=int_list, default=[],
                   help="with --final: also score after these many images (named from the images learned), "
                        "a learning curve (curves.csv, curves.png)")
    add_executor_options(p, jobs=2)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--tables-only", action="store_true",
                   help="compute nothing: write the tables from every stored run of --split in OUT/runs, whatever "
                        "code produced them (each run keeps its source hash)")
    args = p.parse_args(argv)
    if args.tables_only:
        stored = stored_runs(args.out)
        stored = [r for r in stored if r.get("task", {}).get("split") == args.split]
        protocols = {tuple(r["task"][k] for k in ("early", "label_from", "eval_early", "final")) for r in stored}
        if len(protocols) != 1:
            p.error(f"--tables-only: {args.out / 'runs'} holds {len(protocols)} protocols of the {args.split} split "
                    "(early, label_from, eval_early, final); one is needed")
        args.early, args.label_from, args.eval_early, args.final = protocols.pop()
        args.curve = stored[0]["task"].get("curve", [])
        args.train_samples = stored[0]["task"].get("train_samples")
        write_tables(stored, args)
        return
    if args.grid and args.split == "test":
        p.error("--grid chooses a setting, which is done on --split validation only; the test split takes one "
                "setting (--set) and gives final numbers")
    n_learn = TRAIN_SAMPLES if args.split == "test" else selection_split().learn.stop
    if args.train_samples is not None:
        if not args.early <= args.train_samples <= n_learn:
            p.error(f"--train-samples must be in --early..{n_learn} (the {args.split} split's training images)")
        n_learn = args.train_samples
    if not 0 <= args.label_from < args.early <= n_learn:
        p.error(f"need 0 <= --label-from < --early <= {n_learn} (the {args.split} split's training images)")
    if any(c < args.early for c in args.curve):
        p.error(f"--curve checkpoints must be at least --early ({args.early}): the curve follows the early score")
    if not 0 < args.eval_early <= 10_000:
        p.error("--eval-early must be in 1..10000 (the evaluation split's images)")
    combos = [list(args.set) + combo for combo in grid_combos(args.grid)]
    tasks = [{"id": f"{args.split}-{m}-{n}-{setting_slug(combo)}-e{args.early}-l{args.label_from}"
                    f"-k{args.eval_early}{'-final' if args.final else ''}"
                    f"{'-curve' + '_'.join(map(str, args.curve)) if args.curve and args.final else ''}"
                    f"{f'-n{args.train_samples}' if args.train_samples is not None else ''}"
                    f"{'-shuffled' if args.order == 'shuffled' else ''}-seed{s}",
              "split": args.split, "model": m, "neurons": n, "seed": s, "set": [list(kv) for kv in combo],
              "early": args.early, "label_from": args.label_from, "eval_early": args.eval_early, "final": args.final,
              **({"curve": sorted(args.curve)} if args.curve and args.final else {}),
              **({"train_samples": args.train_samples} if args.train_samples is not None else {}),
              **({"order": "shuffled"} if args.order == "shuffled" else {})}
             for m in args.models.split(",") for n in args.neurons for combo in combos for s in args.seeds]
    results = run_tasks(run, tasks, args.out, jobs=args.jobs, desc="networks", executor=args.executor,
                        scheduler=args.scheduler, group=seeds_group, group_name="settings")
    write_tables(results, args)


def marked(setting: str, order: str) -> str:
    """A setting's label in the tables, marked when its pool was shuffled."""
    return f"{setting} (pool shuffled)" if order == "shuffled" else setting


def write_tables(results: list[dict], args) -> None:
    groups: dict[tuple, list[dict]] = {}
    for r in results:
        t = r["task"]
        groups.setdefault((t["model"], t["neurons"], setting_label(t["set"]), t.get("order", "file")), []).append(r)
    rows = []
    for (model, n, setting, order), rs in groups.items():
        row = {"model": model, "neurons": n, "setting": setting, "order": order, "seeds": len(rs),
               "early": ";".join(f"{r['early_accuracy']:.4f}" for r in rs)}
        row["early_mean"], row["early_sd"] = mean_sd(r["early_accuracy"] for r in rs)
        if args.final:
            row["final_mean"], row["final_sd"] = mean_sd(r["final_accuracy"] for r in rs)
        row["train_minutes"] = sum(r["train_seconds"] for r in rs) / len(rs) / 60
        row["sources"] = ";".join(sorted({r["source_hash"] for r in rs}))
        rows.append(row)
    args.out.mkdir(parents=True, exist_ok=True)
    with open_text(args.out / "table.csv", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    evaluation = "validation images (training 50,000-59,999)" if args.split == "validation" else "test images"
    n_pool = getattr(args, "train_samples", None) or (selection_split().learn.stop if args.split == "validation"
                                                       else TRAIN_SAMPLES)
    pool = f"training images 0-{n_pool - 1:,}"
    head = (f"Accuracy after {args.early:,} training images (neurons named from images {args.label_from:,}-"
            f"{args.early - 1:,}, scored on the first {args.eval_early:,} {evaluation})")
    if args.final:
        head += f" and after one pass over {pool} (named from every image learned, all {evaluation})"
    if any(r["order"] == "shuffled" for r in rows):
        head += ("; training images in file order, or, for a setting marked (pool shuffled), in a permutation of "
                 "the pool drawn from each seed, whose first images are then the early ones")
    lines = [head + "; mean ± sd over seeds, paper's readout.", "",
             "| model | neurons | setting | seeds | early | each seed | one pass | train min | source |",
             "|---|---:|---|---:|---:|---|---:|---:|---|"]
    for r in rows:
        final = f"{r['final_mean']:.4f} ± {r['final_sd']:.4f}" if args.final else "-"
        lines.append(f"| `{r['model']}` | {r['neurons']} | {marked(r['setting'], r['order'])} | {r['seeds']} | "
                     f"**{r['early_mean']:.4f} ± {r['early_sd']:.4f}** | {r['early'].replace(';', ' ')} | {final} | "
                     f"{r['train_minutes']:.1f} | {r['sources']} |")
    write_text(args.out / "table.md", "\n".join(lines) + "\n")
    print((args.out / "table.md").read_text())
    if args.final and args.curve:
        write_curves(groups, args.out, "validation" if args.split == "validation" else "test")
    if getattr(args, "baseline", None):
        write_margins(groups, args)
    write_readouts(groups, args, head)


def write_readouts(groups: dict, args, head: str) -> None:
    """``readouts.md``: each setting's early (and one-pass) score under every readout, mean ± sd over seeds,
    and each readout's margin over the paper's, paired by seed; settings whose runs did not all record the
    readouts (runs of an older version) are left out."""
    keys = [("early", "early_accuracy", "early_readouts")]
    if args.final:
        keys.append(("one pass", "final_accuracy", "final_readouts"))
    others = [k for k in READOUTS if k != PAPER_READOUT]
    lines = [head + "; each readout (`spikedyn.core.readout.READOUTS`) fitted on the same labelled pass and "
             f"scored on the same test spikes, `{PAPER_READOUT}` the paper's; mean ± sd over seeds, and the margin "
             "of each over the paper's in points, paired by seed [95 % t-interval].", "",
             "| model | neurons | setting | seeds | score | " + " | ".join(f"`{k}`" for k in READOUTS) + " |",
             "|---|---:|---|---:|---|" + "---:|" * len(READOUTS)]
    for (model, n, setting, order), rs in groups.items():
        if not all(readouts in r for r in rs for _, _, readouts in keys):
            continue
        for name, paper, readouts in keys:
            value = {PAPER_READOUT: {r["task"]["seed"]: r[paper] for r in rs}}
            value.update({k: {r["task"]["seed"]: r[readouts][k] for r in rs} for k in others})
            cells = ["{:.4f} ± {:.4f}".format(*mean_sd(value[PAPER_READOUT].values()))]
            for k in others:
                m, sd = mean_sd(value[k].values())
                cells.append(f"{m:.4f} ± {sd:.4f} ({paired_margin(value[k], value[PAPER_READOUT]).format()})")
            lines.append(f"| `{model}` | {n} | {marked(setting, order)} | {len(rs)} | {name} | " + " | ".join(cells)
                         + " |")
    if len(lines) > 4:
        write_text(args.out / "readouts.md", "\n".join(lines) + "\n")
        print((args.out / "readouts.md").read_text())


def write_margins(groups: dict, args) -> None:
    """``margins.md``: every setting minus each baseline model at its defaults (same size), paired by seed;
    one table per baseline (``--baseline A,B``)."""
    def by_seed(rs, key):
        return {r["task"]["seed"]: r[key] for r in rs}

    keys = ["early_accuracy", *(["final_accuracy"] if args.final else [])]
    lines = []
    for baseline in args.baseline.split(","):
        lines += [*([""] if lines else []),
                  f"Margins against `{baseline}` at its defaults, same size and seeds (points; mean "
                  "[95 % confidence interval], Student's t over the paired differences).", "",
                  "| model | neurons | setting | seeds | early | one pass |", "|---|---:|---|---:|---:|---:|"]
        for (model, n, setting, order), rs in groups.items():
            base = groups.get((baseline, n, "defaults", order))  # the baseline in the same order
            if base is None or (model, setting) == (baseline, "defaults"):
                continue
            margins = [paired_margin(by_seed(rs, k), by_seed(base, k)) for k in keys]
            cells = [m.format() for m in margins] + ["-"] * (2 - len(margins))
            lines.append(f"| `{model}` | {n} | {marked(setting, order)} | {margins[0].n} | " + " | ".join(cells)
                         + " |")
    write_text(args.out / "margins.md", "\n".join(lines) + "\n")
    print((args.out / "margins.md").read_text())


def write_curves(groups: dict, out: Path, split: str) -> None:
    """``curves.csv`` and ``curves.png``: accuracy after each checkpoint, mean ± sd over seeds, per setting."""
    import results_table

    rows = []
    for (model, n, setting, order), rs in groups.items():
        for i, point in enumerate(rs[0]["curve"]):
            m, sd = mean_sd(r["curve"][i]["accuracy"] for r in rs)
            overrides = "" if setting == "defaults" else setting
            if order == "shuffled":
                overrides = f"{overrides}, pool shuffled" if overrides else "pool shuffled"
            rows.append({"model": model, "neurons": n, "overrides": overrides,
                         "train_samples": point["train_samples"], "test_accuracy_mean": m,
                         "test_accuracy_sd": sd, "seeds": len(rs)})
    results_table.write_curves(rows, out, ylabel=f"{split} accuracy (mean ± sd over seeds)")


if __name__ == "__main__":
    main()
