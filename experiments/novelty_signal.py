"""Could a novelty signal tell a new class from the classes learned? A diagnosis of the continual default.

A novelty-gated recruitment (``metaplastic``'s mechanism 4; Controlled Forgetting's dopaminergic
signal) recruits free neurons for an input that the committed neurons match poorly. That can
only work if the best match of the network's neurons is lower for the images of a class that
has not been learned yet than for those of the classes already learned. This script measures it
on the continual default (:data:`spikedyn.continual.DEFAULT_CONTINUAL_MODEL` with
:data:`~spikedyn.continual.DEFAULT_CONTINUAL_SET`, plus ``--set``): after each task ``k - 1`` it
takes the network's weights (``weights_per_task``) and, for the validation images of task ``k``'s
classes ("new") and of the classes of tasks ``0 .. k-1`` ("learned", up to ``--learned-images``
drawn by the seed), the best match over the neurons, by three measures:

- ``ink``: ``max_j w_j . x / sum(x)``, the drive per input spike that the novelty gate compares
  (``D_j / S``; a neuron with uniform weights has ``weight_sum / n_input``);
- ``cosine``: ``max_j w_j . x / (|w_j| |x|)``, a match by direction;
- ``centred``: the cosine after subtracting the learned images' mean image from ``x`` and each
  neuron's mean weight from ``w_j``.

Every neuron is compared (a plastic neuron's near-uniform weights match any image about as a
uniform neuron does, below the committed ones, so the best is in effect a committed neuron's). The
score of each task is the area under the ROC curve of "a low match flags a new image": the
probability that a new image's best match is below a learned image's. 1 means the signal
separates them perfectly, 0.5 not at all, below 0.5 that new images are matched *better*. The
network trains on the validation split (training images 0-49,999) and the matches are taken on
the validation images (50,000-59,999); the test set is never loaded.

Example (what ``docs/continual.md`` quotes)::

    python experiments/novelty_signal.py --dataset MNIST=/path/to/mnist \\
        --dataset Fashion-MNIST=/path/to/fashion-mnist --seeds 0,1 --out experiments/results/novelty_signal

Outputs in ``--out``: ``runs/`` (one JSON per dataset and seed, with the source hash) and ``table.md``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _runner import (add_table_options, int_list, mean_sd, run_tasks, stored_runs, task_config,  # noqa: E402
                     write_and_show)

from spikedyn.io.files import atomic_write  # noqa: E402

MEASURES = ("ink", "cosine", "centred")


def auc_low_is_new(new: np.ndarray, learned: np.ndarray) -> float:
    """P(a new image's score < a learned image's score), ties counted half (the Mann-Whitney U / n m)."""
    scores = np.concatenate([new, learned])
    order = scores.argsort(kind="stable")
    ranks = np.empty(scores.size)
    sorted_scores = scores[order]
    # average ranks over ties
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    ends = np.r_[starts[1:], scores.size]
    for s, e in zip(starts, ends):
        ranks[order[s:e]] = (s + e + 1) / 2.0
    u_new_above = ranks[:new.size].sum() - new.size * (new.size + 1) / 2.0
    return float(1.0 - u_new_above / (new.size * learned.size))


def _unit(a: np.ndarray, axis: int) -> np.ndarray:
    norms = np.linalg.norm(a, axis=axis, keepdims=True)
    return a / np.where(norms > 0, norms, 1.0)


def best_matches(weights: np.ndarray, images: np.ndarray, measure: str, mean_image: np.ndarray) -> np.ndarray:
    """The best match over the neurons (columns of ``weights``) of each image (rows), by ``measure``."""
    w = weights.astype(np.float64)
    x = images.astype(np.float64)
    if measure == "ink":
        return (x / np.maximum(x.sum(axis=1, keepdims=True), 1.0) @ w).max(axis=1)
    if measure == "centred":
        x = x - mean_image
        w = w - w.mean(axis=0, keepdims=True)
    return (_unit(x, 1) @ _unit(w, 0)).max(axis=1)


def run(task: dict) -> dict:
    """Train the continual default on one dataset and seed (validation split); the scores of each task."""
    from spikedyn import continual

    pools = continual.load_pools("validation", task["data_dir"])
    protocol = continual.Protocol(split="validation", samples_per_task=task["samples_per_task"],
                                  assign_per_class=min(continual.DEFAULT_ASSIGN_PER_CLASS, task["samples_per_task"]),
                                  test_per_class=task["test_per_class"])
    result = continual.run(task_config(task), seed=task["seed"], protocol=protocol, pools=pools, n_jobs=1)
    x = pools.eval_x.reshape(pools.eval_x.shape[0], -1)
    rng = np.random.default_rng([task["seed"], 29])
    auc = {m: [] for m in MEASURES}
    for k in range(1, len(protocol.tasks)):
        learned_classes = [c for t in protocol.tasks[:k] for c in t]
        new = np.flatnonzero(np.isin(pools.eval_y, protocol.tasks[k]))
        learned = np.flatnonzero(np.isin(pools.eval_y, learned_classes))
        learned = rng.choice(learned, min(learned.size, task["learned_images"]), replace=False)
        mean_image = x[learned].astype(np.float64).mean(axis=0)
        for m in MEASURES:
            weights = result.weights_per_task[k - 1]
            auc[m].append(auc_low_is_new(best_matches(weights, x[new], m, mean_image),
                                         best_matches(weights, x[learned], m, mean_image)))
    return {"auc": auc, "final_average_accuracy": result.summary()["final_average_accuracy"],
            "dataset_id": pools.dataset}


def write_table(results: list[dict], out: Path) -> None:
    t0 = results[0]["task"]
    extra = " ".join(t0["extra_set"]) or "none"
    lines = [f"How well the best match of the continual default's neurons (after task k - 1) flags task k's images as "
             f"new among the classes learned: area under the ROC curve (1: perfectly, 0.5: not at all, below 0.5: new "
             f"images matched better), per task k and its mean over tasks 1-9; mean over seeds; validation split "
             f"(learned from training images 0-49,999, matched on 50,000-59,999), {t0['neurons']} neurons, "
             f"overrides beyond the default: {extra}.", "",
             "| dataset | measure | seeds | mean over tasks | " + " | ".join(f"task {k}" for k in range(1, 10))
             + " | ACC | source |", "|---|---|---:|---:|" + "---:|" * 9 + "---:|---|"]
    for name in dict.fromkeys(r["task"]["dataset"] for r in results):
        rows = [r for r in results if r["task"]["dataset"] == name]
        acc = "{:.3f} ± {:.3f}".format(*mean_sd([r["final_average_accuracy"] for r in rows]))
        hashes = ", ".join(sorted({r["source_hash"] for r in rows}))
        for m in MEASURES:
            per_seed = np.array([r["auc"][m] for r in rows])
            means = "{:.2f} ± {:.2f}".format(*mean_sd(per_seed.mean(axis=1).tolist()))
            cells = " | ".join(f"{v:.2f}" for v in per_seed.mean(axis=0))
            lines.append(f"| {name} | {m} | {len(rows)} | {means} | {cells} | {acc} | {hashes} |")
    text = "\n".join(lines) + "\n"
    atomic_write(out / "table.md", lambda f: f.write(text.encode()))


def _dataset(text: str) -> tuple[str, str]:
    name, sep, path = text.partition("=")
    if not sep or not name or not Path(path).is_dir():
        raise argparse.ArgumentTypeError(f"{text!r}: give NAME=DIR with an existing directory, e.g. MNIST=data/mnist")
    return name, path


def main(argv=None) -> None:
    from spikedyn import continual as continual_defaults
    from spikedyn.continual import DEFAULT_CONTINUAL_MODEL, DEFAULT_CONTINUAL_SET

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", type=_dataset, action="append", default=[],
                    help="NAME=DIR of an MNIST-format dataset (repeatable)")
    ap.add_argument("--neurons", type=int, default=400)
    ap.add_argument("--seeds", type=int_list, default=[0, 1])
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE",
                    help="an override beyond the continual default (repeatable)")
    ap.add_argument("--samples-per-task", type=int, default=continual_defaults.DEFAULT_SAMPLES_PER_TASK,
                    help="training images per task (default: the protocol's)")
    ap.add_argument("--test-per-class", type=int, default=None,
                    help="validation images per class that the run's accuracy (ACC) is scored on (default: all)")
    ap.add_argument("--learned-images", type=int, default=4000,
                    help="validation images of the learned classes drawn per task (default 4000)")
    ap.add_argument("--jobs", type=int, default=1)
    add_table_options(ap)
    args = ap.parse_args(argv)
    if args.tables_only:
        results = stored_runs(args.out)
    else:
        if not args.dataset:
            ap.error("give at least one --dataset NAME=DIR")
        if args.samples_per_task < 1:
            ap.error(f"--samples-per-task {args.samples_per_task} must be at least 1")
        if args.test_per_class is not None and args.test_per_class < 1:
            ap.error(f"--test-per-class {args.test_per_class} must be at least 1")
        if args.learned_images < 1:
            ap.error(f"--learned-images {args.learned_images} must be at least 1")
        tasks = [{"id": f"{name}-{args.neurons}-seed{s}", "dataset": name, "data_dir": path, "seed": s,
                  "model": DEFAULT_CONTINUAL_MODEL, "neurons": args.neurons,
                  "set": [*DEFAULT_CONTINUAL_SET, *args.set], "extra_set": args.set,
                  "samples_per_task": args.samples_per_task,
                  "test_per_class": args.test_per_class, "learned_images": args.learned_images}
                 for name, path in args.dataset for s in args.seeds]
        results = run_tasks(run, tasks, args.out, jobs=args.jobs, desc="networks")
    write_and_show(ap, results, args.out, write_table)


if __name__ == "__main__":
    main()
