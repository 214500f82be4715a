"""Could a novelty signal tell a new class from the classes learned? A diagnosis of the continual default.

A novelty-gated recruitment (``metaplastic``'s mechanism 4; Controlled Forgetting's dopaminergic
signal) recruits free neurons for an input that the committed neurons match poorly. That can
only work if the best match of the committed neurons is lower for the images of a class that
has not been learned yet than for those of the classes already learned. This script measures it
on the continual default (:data:`spikedyn.continual.DEFAULT_CONTINUAL_MODEL` with
:data:`~spikedyn.continual.DEFAULT_CONTINUAL_SET`, plus ``--set``), trained task by task on the
images ``spikedyn continual --split validation`` learns from (the protocol's plan). After each task
``k - 1`` it takes the weights and, for the validation images of task ``k``'s classes ("new") and
of the classes of tasks ``0 .. k-1`` ("learned", up to ``--learned-images`` drawn by the seed), the
best match over a set of neurons, by three measures:

- ``ink``: ``max_j w_j . x / sum(x)``, the drive per input spike that the novelty gate compares
  (``D_j / S``; a neuron with uniform weights has ``weight_sum / n_input``);
- ``cosine``: ``max_j w_j . x / (|w_j| |x|)``, a match by direction;
- ``centred``: the cosine after subtracting the learned images' mean image from ``x`` and each
  neuron's mean weight from ``w_j``;

over two sets: the *committed* neurons (``a_j`` at or above the commitment's count,
:func:`spikedyn.models.metaplastic.commit_count`: the set the gate compares) and *every* neuron.
The score of each task is the area under the ROC curve of "a low match flags a new image": the
probability that a new image's best match is below a learned image's (ties count half). 1 means
the signal separates them perfectly, 0.5 not at all, below 0.5 that new images are matched
*better*; "-" where no neuron had committed. The table also gives the committed neurons after each
task. The network learns from training images 0-49,999 and the matches are taken on the validation
images (50,000-59,999); the test set is never loaded. A stored run is reused only for the same
images (the dataset by content, :func:`spikedyn.io.datasets.dataset_id`).

Example (what ``docs/continual.md`` quotes)::

    python experiments/novelty_signal.py --dataset MNIST=/path/to/mnist \\
        --dataset Fashion-MNIST=/path/to/fashion-mnist --seeds 0,1 --out experiments/results/novelty_signal

Outputs in ``--out``: ``runs/`` (one JSON per dataset and seed, with the source hash) and ``table.md``.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _runner import (add_table_options, int_list, mean_sd, run_tasks, stored_runs, task_config,  # noqa: E402
                     write_and_show, write_text)

from spikedyn.errors import ConfigError  # noqa: E402

MEASURES = ("ink", "cosine", "centred")
#: The neurons whose best match is taken: the committed ones (the novelty gate's), or every one.
NEURON_SETS = ("committed", "every")
#: What the runs of one table must share (``--tables-only`` refuses a mix).
SHARED = ("neurons", "extra_set", "samples_per_task", "learned_images")


def auc_low_is_new(new: np.ndarray, learned: np.ndarray) -> float:
    """P(a new image's score < a learned image's score), ties counted half (the Mann-Whitney U / n m)."""
    if new.size == 0 or learned.size == 0:
        raise ValueError("the area under the ROC curve needs at least one new and one learned score")
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
    """Train the continual default task by task on one dataset and seed (validation split); the scores of
    each task, for each measure and set of neurons, and the committed neurons after each task."""
    from spikedyn import continual
    from spikedyn.continual import protocol as cp
    from spikedyn.models.metaplastic import commit_count
    from spikedyn.simulation.network import Network

    pools = continual.load_pools("validation", task["data_dir"])
    if pools.dataset != task["dataset_id"]:
        raise ConfigError(f"the images in {task['data_dir']} are {pools.dataset}, not the run's {task['dataset_id']}")
    protocol = continual.Protocol(split="validation", samples_per_task=task["samples_per_task"],
                                  assign_per_class=min(continual.DEFAULT_ASSIGN_PER_CLASS, task["samples_per_task"]))
    config = task_config(task)
    plan = cp._plan(pools, protocol, task["seed"])
    net = Network(config, seed=task["seed"])
    x = pools.eval_x.reshape(pools.eval_x.shape[0], -1)
    rng = np.random.default_rng([task["seed"], 29])
    auc = {f"{m}/{n}": [] for m in MEASURES for n in NEURON_SETS}
    committed_after = []
    for k in range(len(protocol.tasks)):
        net.train(pools.learn_x[plan.train[k]], progress=False)
        committed = net._state.plasticity.activity >= commit_count(config.metaplastic)
        committed_after.append(int(committed.sum()))
        if k + 1 == len(protocol.tasks):
            break
        learned_classes = [c for t in protocol.tasks[:k + 1] for c in t]
        new = np.flatnonzero(np.isin(pools.eval_y, protocol.tasks[k + 1]))
        learned = np.flatnonzero(np.isin(pools.eval_y, learned_classes))
        learned = rng.choice(learned, min(learned.size, task["learned_images"]), replace=False)
        mean_image = x[learned].astype(np.float64).mean(axis=0)
        for m in MEASURES:
            for n, columns in (("committed", committed), ("every", np.ones_like(committed))):
                weights = net.weights[:, columns]
                auc[f"{m}/{n}"].append(None if weights.shape[1] == 0 else auc_low_is_new(
                    best_matches(weights, x[new], m, mean_image), best_matches(weights, x[learned], m, mean_image)))
    return {"auc": auc, "committed_after_task": committed_after, "dataset_id": pools.dataset}


def _cell(values: list) -> str:
    return "-" if not values or None in values else f"{np.mean(values):.2f}"


def write_table(results: list[dict], out: Path) -> None:
    t0 = results[0]["task"]
    extra = " ".join(t0["extra_set"]) or "none"
    n_tasks = len(results[0]["committed_after_task"])
    lines = [f"How well the best match of the continual default's neurons (after task k - 1) flags task k's images as "
             f"new among the classes learned: area under the ROC curve (1: perfectly, 0.5: not at all, below 0.5: new "
             f"images matched better), per task k and its mean over the tasks; over the committed neurons (the novelty "
             f"gate's set) and over every neuron; mean over seeds (\"-\": a seed with no committed neuron then). "
             f"Last row of each dataset: the committed neurons after task k - 1, mean over seeds. Validation split "
             f"(learned from training images 0-49,999, matched on 50,000-59,999), {t0['neurons']} neurons, "
             f"overrides beyond the default: "
             f"{extra}.", "",
             "| dataset | measure | neurons | seeds | mean over tasks | "
             + " | ".join(f"task {k}" for k in range(1, n_tasks)) + " | source |",
             "|---|---|---|---:|---:|" + "---:|" * (n_tasks - 1) + "---|"]
    ordered = sorted(results, key=lambda r: (r["task"]["order"], r["task"]["seed"]))
    for name in dict.fromkeys(r["task"]["dataset"] for r in ordered):
        rows = [r for r in ordered if r["task"]["dataset"] == name]
        label = f"{name} ({rows[0]['dataset_id']})"
        hashes = ", ".join(sorted({r["source_hash"] for r in rows}))
        for m in MEASURES:
            for n in NEURON_SETS:
                per_seed = [r["auc"][f"{m}/{n}"] for r in rows]
                per_task = [[seed[k] for seed in per_seed] for k in range(n_tasks - 1)]
                means = [None if None in seed else float(np.mean(seed)) for seed in per_seed]
                overall = ("-" if None in means else "{:.2f} ± {:.2f}".format(*mean_sd(means)))
                lines.append(f"| {label} | {m} | {n} | {len(rows)} | {overall} | "
                             + " | ".join(_cell(v) for v in per_task) + f" | {hashes} |")
        committed = np.mean([r["committed_after_task"] for r in rows], axis=0)
        lines.append(f"| {label} | committed neurons (the set of column k: after task k - 1) | | {len(rows)} | | "
                     + " | ".join(f"{c:.0f}" for c in committed[:-1]) + f" | {hashes} |")
    write_text(out / "table.md", "\n".join(lines) + "\n")


def _dataset(text: str) -> tuple[str, str]:
    name, sep, path = text.partition("=")
    if not sep or not re.fullmatch(r"[A-Za-z0-9._-]+", name) or not Path(path).is_dir():
        raise argparse.ArgumentTypeError(f"{text!r}: give NAME=DIR, NAME of letters, digits, '.', '_' or '-' and DIR "
                                         "an existing directory, e.g. MNIST=data/mnist")
    return name, path


def main(argv=None) -> None:
    from spikedyn import continual as continual_defaults
    from spikedyn.continual import DEFAULT_CONTINUAL_MODEL, DEFAULT_CONTINUAL_SET
    from spikedyn.io.datasets import dataset_of

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", type=_dataset, action="append", default=[],
                    help="NAME=DIR of an MNIST-format dataset (repeatable; the table keeps their order)")
    ap.add_argument("--neurons", type=int, default=400)
    ap.add_argument("--seeds", type=int_list, default=[0, 1])
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE",
                    help="an override beyond the continual default (repeatable)")
    ap.add_argument("--samples-per-task", type=int, default=continual_defaults.DEFAULT_SAMPLES_PER_TASK,
                    help="training images per task (default: the protocol's)")
    ap.add_argument("--learned-images", type=int, default=4000,
                    help="validation images of the learned classes drawn per task (default 4000)")
    ap.add_argument("--jobs", type=int, default=1)
    add_table_options(ap)
    args = ap.parse_args(argv)
    if args.tables_only:
        results = stored_runs(args.out)
        mixed = [k for k in SHARED if len({repr(r["task"][k]) for r in results}) > 1]
        if mixed:
            ap.error(f"the runs in {args.out / 'runs'} differ in {', '.join(mixed)}: one table per setting; "
                     "move the others to another --out")
    else:
        if not args.dataset:
            ap.error("give at least one --dataset NAME=DIR")
        for name, low in (("--neurons", args.neurons), ("--samples-per-task", args.samples_per_task),
                          ("--learned-images", args.learned_images)):
            if low < 1:
                ap.error(f"{name} {low} must be at least 1")
        sets = [*DEFAULT_CONTINUAL_SET, *args.set]
        try:
            config = task_config({"model": DEFAULT_CONTINUAL_MODEL, "neurons": args.neurons, "set": sets})
        except (ConfigError, ValueError) as exc:
            ap.error(str(exc))
        if config.model != "metaplastic":
            ap.error(f"--set model={config.model}: the diagnosis reads metaplastic's commitment; keep its model")
        ids = {name: dataset_of(path) for name, path in args.dataset}
        tasks = [{"id": f"{name}-{args.neurons}-seed{s}", "dataset": name, "dataset_id": ids[name], "order": i,
                  "data_dir": path, "seed": s, "model": DEFAULT_CONTINUAL_MODEL, "neurons": args.neurons,
                  "set": sets, "extra_set": args.set,
                  "samples_per_task": args.samples_per_task, "learned_images": args.learned_images}
                 for i, (name, path) in enumerate(args.dataset) for s in args.seeds]
        results = run_tasks(run, tasks, args.out, jobs=args.jobs, desc="networks")
    write_and_show(ap, results, args.out, write_table)


if __name__ == "__main__":
    main()
