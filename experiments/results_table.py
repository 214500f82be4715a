"""Test accuracy of each model and size over several seeds, with learning curves: the results spikedyn reports.

Protocol (Diehl & Cook 2015; ``spikedyn.io.splits``): each network learns from the
MNIST training images in order, ``--epochs`` passes; at each checkpoint (a number of
training images seen) its neurons are named from the training images it has learned
from, once each (learning off), and it is tested on all 10,000 test images. Nothing
here is chosen: the parameters are the defaults of ``spikedyn.config`` (selected
on the validation split by ``experiments/inhibition_sweep.py``), possibly overridden
with ``--set section.field=value`` for a stated comparison.

Example (the README's table and learning curves)::

    python experiments/results_table.py --models diehl-cook,lateral --neurons 100,400 \\
        --checkpoints 1000,3000,10000,30000,60000 --out experiments/results/results_table --jobs 2

Outputs in ``--out``: ``runs/`` (one JSON per network, reused when the command is run
again), ``table.csv``, ``table.md`` (final accuracy mean +- sd over seeds, beside the
paper's, with wall times), ``curves.csv`` and ``curves.png``, and
``labelled_pass.md`` (the final accuracy with the neurons named from other training
images: how much the choice of the labelled pass matters).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _runner import (add_executor_options, int_list, mean_sd, mnist, open_text, run_tasks, stored_runs,  # noqa: E402
                     write_text)

from spikedyn.config import NetworkConfig, parse_set  # noqa: E402
from spikedyn.core.encoding import STREAM_TEST  # noqa: E402
from spikedyn.simulation.network import Network, warm_up  # noqa: E402
from spikedyn.core.readout import accuracy, predict  # noqa: E402

#: Diehl & Cook (2015), test accuracy by number of excitatory neurons.
PAPER = {100: 0.829, 400: 0.870, 1600: 0.919, 6400: 0.950}


def run(task: dict) -> dict:
    x, y = mnist("train")
    xt, yt = mnist("test")
    config = NetworkConfig(model=task["model"], n_neurons=task["neurons"]).replace(**dict(task["set"]))
    warm_up(config, learn=True, seed=task["seed"])  # compilation is not training time
    net = Network(config, seed=task["seed"])
    per_epoch = task["train_samples"]
    total = per_epoch * task["epochs"]
    checkpoints = sorted({c for c in task["checkpoints"] if c <= total} | {total})
    curve, train_s, eval_s, seen = [], 0.0, 0.0, 0
    for stop in checkpoints:
        while seen < stop:  # train up to the checkpoint, epoch by epoch over the first `per_epoch` images
            lo = seen % per_epoch
            hi = min(per_epoch, lo + (stop - seen))
            start = time.perf_counter()
            net.train(x[lo:hi], progress=False)
            train_s += time.perf_counter() - start
            seen += hi - lo
        start = time.perf_counter()
        learned = min(seen, per_epoch)
        assignments = net.assign(x[:learned], y[:learned], n_jobs=1).assignments_
        counts = net.respond(xt, stream=STREAM_TEST, n_jobs=1, progress=False)
        eval_s += time.perf_counter() - start
        curve.append({"train_samples": seen, "test_accuracy": accuracy(yt, predict(counts, assignments)),
                      "assign_images": [0, learned], "unassigned_neurons": int(np.sum(assignments < 0))})
    # How much the choice of the labelled pass moves the final accuracy (same test responses).
    passes = {}
    choices = {"first 1,000": (0, 1000), "first 10,000": (0, 10_000),
               "last 10,000": (x.shape[0] - 10_000, x.shape[0]), "all 60,000": (0, x.shape[0])}
    for name, (lo, hi) in (choices if task.get("labelled_passes", True) else {}).items():
        passes[name] = accuracy(yt, predict(counts, net.assign(x[lo:hi], y[lo:hi], n_jobs=1).assignments_))
    out = {"curve": curve, "test_accuracy": curve[-1]["test_accuracy"], "train_seconds": train_s,
           "eval_seconds": eval_s, "train_samples_per_second": seen / train_s, "config": config.to_dict()}
    if passes:
        out["labelled_passes"] = passes
    return out


def summarise(results: list[dict], out: Path) -> None:
    groups: dict[tuple, list[dict]] = {}
    for r in results:
        t = r["task"]
        groups.setdefault((t["model"], t["neurons"], t["epochs"], tuple(map(tuple, t["set"]))), []).append(r)
    rows = []
    for (model, n, epochs, overrides), rs in sorted(groups.items()):
        acc_mean, acc_sd = mean_sd(r["test_accuracy"] for r in rs)
        rows.append({"model": model, "neurons": n, "epochs": epochs,
                     "overrides": " ".join(f"{k.replace('__', '.')}={v}" for k, v in overrides),
                     "seeds": len(rs), "test_accuracy_mean": acc_mean, "test_accuracy_sd": acc_sd,
                     "paper": PAPER.get(n), "train_minutes_mean": mean_sd(r["train_seconds"] / 60 for r in rs)[0],
                     "train_samples_per_second_mean": mean_sd(r["train_samples_per_second"] for r in rs)[0]})
    with open_text(out / "table.csv", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    lines = ["| model | neurons | epochs | overrides | test accuracy (mean ± sd) | seeds | paper | "
             "training time per network (min) |", "|---|---:|---:|---|---:|---:|---:|---:|"]
    for r in rows:
        paper = "" if r["paper"] is None else f"{r['paper']:.3f}"
        lines.append(f"| `{r['model']}` | {r['neurons']} | {r['epochs']} | {r['overrides'] or '-'} | "
                     f"**{r['test_accuracy_mean']:.4f} ± {r['test_accuracy_sd']:.4f}** | {r['seeds']} | {paper} | "
                     f"{r['train_minutes_mean']:.1f} |")
    write_text(out / "table.md",
        "Test accuracy (all 10,000 test images) after training on the MNIST training images in order, neurons "
        "named from the training images learned from (once each, learning off); mean ± sd over seeds. "
        "Training time: wall minutes per network on one simulation thread, with several networks (and other "
        "experiments) sharing the 2 cores, so an upper bound; docs/speed.md has samples/s measured "
        "alone.\n\n"
        + "\n".join(lines) + "\n")
    # the labelled pass
    pass_lines = []
    for (model, n, epochs, overrides), rs in sorted(groups.items()):
        with_passes = [r for r in rs if "labelled_passes" in r]
        if not with_passes:
            continue
        cells = []
        for name in with_passes[0]["labelled_passes"]:
            m, sd = mean_sd(r["labelled_passes"][name] for r in with_passes)
            cells.append(f"{m:.4f} ± {sd:.4f}")
        if not pass_lines:
            names = list(with_passes[0]["labelled_passes"])
            pass_lines = ["| model | neurons | learned images (default) | " + " | ".join(names) + " |",
                          "|---|---:|" + "---:|" * (len(names) + 1)]
        m, sd = mean_sd(r["test_accuracy"] for r in with_passes)
        pass_lines.append(f"| `{model}` | {n} | {m:.4f} ± {sd:.4f} | " + " | ".join(cells) + " |")
    if pass_lines:
        write_text(out / "labelled_pass.md",
            "Test accuracy of the same trained networks with the neurons named from different training images "
            "(learning off); mean ± sd over seeds.\n\n" + "\n".join(pass_lines) + "\n")
    # learning curves
    curve_rows = []
    for (model, n, epochs, overrides), rs in sorted(groups.items()):
        for i, point in enumerate(rs[0]["curve"]):
            accs = [r["curve"][i]["test_accuracy"] for r in rs if len(r["curve"]) > i]
            m, sd = mean_sd(accs)
            curve_rows.append({"model": model, "neurons": n, "overrides": " ".join(f"{k}={v}" for k, v in overrides),
                               "train_samples": point["train_samples"], "test_accuracy_mean": m,
                               "test_accuracy_sd": sd, "seeds": len(accs)})
    write_curves(curve_rows, out)


def write_curves(rows, out: Path, ylabel: str = "test accuracy (mean ± sd over seeds)") -> None:
    """``curves.csv`` and ``curves.png`` in ``out`` from rows of model, neurons, overrides, train_samples,
    test_accuracy_mean, test_accuracy_sd and seeds (also used by early_learning.py)."""
    with open_text(out / "curves.csv", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    _plot_curves(rows, out / "curves.png", ylabel=ylabel)


def _plot_curves(rows, path: Path, ylabel: str = "test accuracy (mean ± sd over seeds)") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from spikedyn.plotting import save_figure

    fig, ax = plt.subplots(figsize=(7, 4.5))
    keys = sorted({(r["model"], r["neurons"], r["overrides"]) for r in rows})
    for model, n, overrides in keys:
        pts = [r for r in rows if (r["model"], r["neurons"], r["overrides"]) == (model, n, overrides)]
        xs = np.array([p["train_samples"] for p in pts])
        m = np.array([p["test_accuracy_mean"] for p in pts])
        sd = np.array([p["test_accuracy_sd"] for p in pts])
        label = f"{model}, {n} neurons" + (f" ({overrides})" if overrides else "")
        line, = ax.plot(xs, m, marker="o", label=label)
        ax.fill_between(xs, m - sd, m + sd, color=line.get_color(), alpha=0.2)
    ax.set_xscale("log")
    ticks = sorted({int(r["train_samples"]) for r in rows})
    ax.set_xticks(ticks, [f"{t:,}" for t in ticks])
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel("training images seen")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    ax.set_title("learning curves")
    save_figure(fig, path)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default="diehl-cook,lateral")
    p.add_argument("--neurons", type=int_list, default=[100, 400])
    p.add_argument("--seeds", type=int_list, default=[0, 1, 2])
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--train-samples", type=int, default=60_000, help="the first K training images, per epoch")
    p.add_argument("--checkpoints", type=int_list, default=[], help="also evaluate after these many images")
    p.add_argument("--set", action="append", default=[], type=parse_set, metavar="SECTION.FIELD=VALUE")
    p.add_argument("--no-labelled-passes", action="store_true",
                   help="skip the comparison of labelled passes (four more passes over training images)")
    add_executor_options(p, jobs=2)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    overrides = sorted(args.set)
    suffix = "".join(f"-{k.replace('__', '.')}={v}" for k, v in overrides)
    tasks = [{"id": f"{m}-{n}-e{args.epochs}{suffix}-seed{s}", "model": m, "neurons": n, "seed": s,
              "epochs": args.epochs, "train_samples": args.train_samples, "checkpoints": args.checkpoints,
              "set": [list(o) for o in overrides], **({"labelled_passes": False} if args.no_labelled_passes else {})}
             for m in args.models.split(",") for n in args.neurons for s in args.seeds]
    run_tasks(run, tasks, args.out, jobs=args.jobs, desc="networks",
              executor=args.executor, scheduler=args.scheduler)
    # The tables cover every network stored in OUT, so that runs of different sizes and
    # epochs (e.g. 1600 neurons with more epochs) made by separate commands share them.
    results = stored_runs(args.out)
    summarise(results, args.out)
    print((args.out / "table.md").read_text())


if __name__ == "__main__":
    main()
