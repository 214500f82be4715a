"""Select the competition strength of each model on the validation split, never on the test set.

For each model, network size, strength and seed, a network learns from the first
50,000 MNIST training images (one pass), its neurons are named from those same
images (the labelled pass of ``spikedyn.io.splits``, learning off), and it is scored
on the validation split, training images 50,000-59,999, which it never learned
from. The test set is never loaded. The selected strength of a model is the one
with the highest validation accuracy averaged over seeds and sizes; it becomes the
model's default in ``spikedyn/models/competition.py``, which cites this experiment.

Example (the run behind the defaults; about 20 minutes on two cores)::

    python experiments/inhibition_sweep.py --out experiments/results/inhibition_sweep --jobs 2

Outputs in ``--out``: ``runs/`` (one JSON per network, reused when the command is
run again), ``table.csv`` and ``table.md`` (mean +- sd over seeds), ``selection.json``
and ``sweep.png``.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _runner import (add_executor_options, float_list, int_list, mean_sd, mnist, open_text, run_tasks,  # noqa: E402
                     write_text)

from spikedyn import models  # noqa: E402
from spikedyn.config import NetworkConfig  # noqa: E402
from spikedyn.core.encoding import STREAM_TEST  # noqa: E402
from spikedyn.simulation.network import Network  # noqa: E402
from spikedyn.io.splits import selection_split  # noqa: E402
from spikedyn.core.readout import accuracy, predict  # noqa: E402
from spikedyn.io.files import write_json  # noqa: E402

DEFAULT_STRENGTHS = "17,25,30,40,50,60"


def strength_field(model: str) -> str:
    return models.get(model).competition.strength_field


def run(task: dict) -> dict:
    """One network: learn from the selection split's learning part, score on its validation part."""
    x, y = mnist("train")
    split = selection_split(n_train=x.shape[0])
    learn = range(split.learn.start, min(split.learn.stop, task["learn_samples"]))
    config = NetworkConfig(model=task["model"], n_neurons=task["neurons"]).replace(
        **{strength_field(task["model"]): task["strength"]})
    net = Network(config, seed=task["seed"])
    start = time.perf_counter()
    net.train(x[learn.start:learn.stop], progress=False)
    train_s = time.perf_counter() - start
    net.assign(x[learn.start:learn.stop], y[learn.start:learn.stop], n_jobs=1)
    xv, yv = x[split.validation.start:split.validation.stop], y[split.validation.start:split.validation.stop]
    # Validation images use the test stream of input randomness; they are training images.
    counts = net.respond(xv, stream=STREAM_TEST, n_jobs=1, progress=False)
    return {
        "validation_accuracy": accuracy(yv, predict(counts, net.assignments_)),
        "learned_images": [learn.start, learn.stop],
        "validation_images": [split.validation.start, split.validation.stop],
        "train_seconds": train_s,
        "unassigned_neurons": int(np.sum(net.assignments_ < 0)),
        "mean_spikes_validation": float(counts.sum(axis=1).mean()),
        "config": config.to_dict(),
    }


def summarise(results: list[dict], out: Path) -> dict:
    groups: dict[tuple, list[float]] = {}
    for r in results:
        t = r["task"]
        groups.setdefault((t["model"], t["neurons"], t["strength"]), []).append(r["validation_accuracy"])
    rows = []
    for (model, n, strength), accs in sorted(groups.items()):
        mean, sd = mean_sd(accs)
        rows.append({"model": model, "neurons": n, "strength": strength, "seeds": len(accs),
                     "validation_accuracy_mean": mean, "validation_accuracy_sd": sd})
    with open_text(out / "table.csv", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    selection = {}
    for model in sorted({r["model"] for r in rows}):
        sizes = sorted({r["neurons"] for r in rows if r["model"] == model})
        by_strength: dict[float, list[float]] = {}
        for r in rows:
            if r["model"] == model:
                by_strength.setdefault(r["strength"], []).append(r["validation_accuracy_mean"])
        complete = {s: float(np.mean(v)) for s, v in by_strength.items() if len(v) == len(sizes)}
        best = max(complete, key=lambda s: (complete[s], -s))
        selection[model] = {"field": strength_field(model).replace("__", "."), "selected": best,
                            "mean_over_sizes": complete[best], "sizes": sizes}
    lines = ["| model | neurons | " + " | ".join(f"{s:g}" for s in sorted({r['strength'] for r in rows})) + " |"]
    strengths = sorted({r["strength"] for r in rows})
    lines.append("|---|---:|" + "---:|" * len(strengths))
    for model in sorted({r["model"] for r in rows}):
        for n in sorted({r["neurons"] for r in rows if r["model"] == model}):
            cells = []
            for s in strengths:
                match = [r for r in rows if (r["model"], r["neurons"], r["strength"]) == (model, n, s)]
                if not match:
                    cells.append("")
                    continue
                r = match[0]
                text = f"{r['validation_accuracy_mean']:.4f} ± {r['validation_accuracy_sd']:.4f}"
                cells.append(f"**{text}**" if s == selection[model]["selected"] else text)
            lines.append(f"| `{model}` | {n} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    write_text(out / "table.md",
        "Validation accuracy (training images 50,000-59,999) after one pass over training images 0-49,999, "
        f"mean ± sd over {max(r['seeds'] for r in rows)} seeds; columns: competition strength; "
        "bold: the selected default.\n\n" + table + "\n")
    write_json(out / "selection.json", selection)
    _plot(rows, selection, out / "sweep.png")
    return selection


def _plot(rows, selection, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from spikedyn.plotting import save_figure

    models_ = sorted({r["model"] for r in rows})
    fig, axes = plt.subplots(1, len(models_), figsize=(5.5 * len(models_), 4), sharey=True, squeeze=False)
    for ax, model in zip(axes[0], models_):
        for n in sorted({r["neurons"] for r in rows if r["model"] == model}):
            pts = sorted((r["strength"], r["validation_accuracy_mean"], r["validation_accuracy_sd"])
                         for r in rows if r["model"] == model and r["neurons"] == n)
            s, m, sd = map(np.array, zip(*pts))
            ax.errorbar(s, m, yerr=sd, marker="o", capsize=3, label=f"{n} neurons")
        ax.axvline(selection[model]["selected"], color="grey", linestyle=":", label="selected")
        ax.set_title(f"{model} ({selection[model]['field']})")
        ax.set_xlabel("competition strength")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[0][0].set_ylabel("validation accuracy (mean ± sd over seeds)")
    save_figure(fig, path)


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default="diehl-cook,lateral")
    p.add_argument("--neurons", type=int_list, default=[100, 400])
    p.add_argument("--strengths", type=float_list, default=float_list(DEFAULT_STRENGTHS))
    p.add_argument("--seeds", type=int_list, default=[0, 1, 2])
    p.add_argument("--learn-samples", type=int, default=50_000, help="learn from the first K of images 0-49,999")
    add_executor_options(p, jobs=2)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    tasks = [{"id": f"{m}-{n}-{s:g}-seed{seed}", "model": m, "neurons": n, "strength": s, "seed": seed,
              "learn_samples": args.learn_samples}
             for m in args.models.split(",") for n in args.neurons for s in args.strengths for seed in args.seeds]
    results = run_tasks(run, tasks, args.out, jobs=args.jobs, desc="sweep",
                        executor=args.executor, scheduler=args.scheduler)
    selection = summarise(results, args.out)
    print((args.out / "table.md").read_text())
    print(json.dumps(selection, indent=2))
    return selection


if __name__ == "__main__":
    main()
