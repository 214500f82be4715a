"""How well can N prototypes do after the first 3,000 images? A reference for the early-learning aim.

A network of the Diehl & Cook family answers an image mostly through the few neurons whose
weights match it best, and each neuron's weights drift towards the images it wins: it is an
online, spiking form of competitive learning (k-means on normalised images). This script
measures what k-means itself reaches on the early-learning protocol of
``experiments/early_learning.py``, so that a network's early score can be read against it:

- **batch**: spherical k-means (Lloyd's iterations to convergence, at most ``--iterations``)
  with ``--neurons`` prototypes on the first ``--early`` training images, each image scaled to
  unit length, prototypes started from ``--neurons`` of those images drawn by the seed: the best
  that many prototypes fitted to these images without a time limit do (up to a local optimum).
- **online**: one pass over the same images in order, the nearest prototype moved towards each
  image by ``1 / n`` (``n`` the images it has won, itself included; MacQueen 1967): the running
  mean, which a neuron with an annealed learning rate would compute.

Both are named as the protocol names a network's neurons (each prototype by the class whose
labelled images ``[--label-from, --early)`` it is nearest to in the largest proportion: its
highest mean response, a response being 1 for the nearest prototype; none: never the answer)
and answer an image with the class of its nearest named prototype, which is the readout of a
network whose best-matching neuron alone answered (a network's own readouts pool several
neurons). Scored on the first ``--eval-early`` images of the validation split (training images
50,000-59,999; 10,000 by default), the reference for the selection, where the test set is never
loaded; or, with ``--split test``, on the first ``--eval-early`` test images (1,000 by default:
the early-learning protocol's final score), a final number for a fixed method that nothing is
chosen from. The first 3,000 training images are the same in both splits.

Examples (what ``docs/results.md`` quotes)::

    python experiments/prototype_reference.py --neurons 100,400 --seeds 0,1,2,3,4 \\
        --out experiments/results/prototype_reference
    python experiments/prototype_reference.py --split test --neurons 100 --seeds 0,1,2,3,4 \\
        --out experiments/results/prototype_reference_test

Outputs in ``--out``: ``runs/`` (one JSON per seed, with the source hash) and ``table.md``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import split_data  # noqa: E402
from _runner import (add_table_options, int_list, mean_sd, run_tasks, stored_runs, write_and_show,  # noqa: E402
                     write_text)

from spikedyn.core.readout import UNASSIGNED, assign_labels  # noqa: E402

KINDS = ("batch", "online")
#: Images scored by default: the early-learning protocol's (``experiments/early_learning.py``).
EVAL_EARLY = {"validation": 10000, "test": 1000}
#: What each split's scored images are, for the table.
SCORED = {"validation": "validation images (training 50,000-59,999)", "test": "test images"}


def unit_rows(images: np.ndarray) -> np.ndarray:
    """The images as float64 rows scaled to unit length (a blank image stays zero)."""
    x = images.astype(np.float64)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


def batch_kmeans(x: np.ndarray, k: int, rng: np.random.Generator, iterations: int) -> np.ndarray:
    """Spherical k-means: ``k`` unit prototypes (rows), Lloyd's iterations until no image changes
    prototype (or ``iterations``); a prototype that loses every image keeps its place."""
    protos = x[rng.choice(x.shape[0], k, replace=False)].copy()
    nearest = None
    for _ in range(iterations):
        now = (x @ protos.T).argmax(axis=1)
        if nearest is not None and np.array_equal(now, nearest):
            break
        nearest = now
        for j in range(k):
            members = x[nearest == j]
            if members.shape[0]:
                mean = members.sum(axis=0)
                protos[j] = mean / np.linalg.norm(mean)
    return protos


def online_kmeans(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """One pass in order: the nearest prototype moves by ``1 / n`` towards each image (``n`` its wins,
    counting the starting image), then is scaled back to unit length."""
    protos = x[rng.choice(x.shape[0], k, replace=False)].copy()
    wins = np.ones(k)
    for row in x:
        j = int((protos @ row).argmax())
        wins[j] += 1
        protos[j] += (row - protos[j]) / wins[j]
        protos[j] /= np.linalg.norm(protos[j])
    return protos


def nearest_prototype_accuracy(protos: np.ndarray, named_x, named_y, eval_x, eval_y, n_classes: int = 10) -> float:
    """Name the prototypes as the protocol names neurons (:func:`spikedyn.core.readout.assign_labels`,
    each labelled image a response of 1 from its nearest prototype); answer each evaluated image with
    its nearest named prototype's class; the accuracy."""
    nearest = (named_x @ protos.T).argmax(axis=1)
    responses = np.zeros((named_x.shape[0], protos.shape[0]), np.int64)
    responses[np.arange(named_x.shape[0]), nearest] = 1
    names = assign_labels(responses, named_y, n_classes)
    named = np.flatnonzero(names != UNASSIGNED)
    answer = names[named[(eval_x @ protos[named].T).argmax(axis=1)]]
    return float(np.mean(answer == eval_y))


def run(task: dict) -> dict:
    """Both references for one seed."""
    x, y, xe, ye = split_data(task.get("split", "validation"))
    learned = unit_rows(x[:task["early"]])
    named_x, named_y = learned[task["label_from"]:], y[task["label_from"]:task["early"]]
    eval_x, eval_y = unit_rows(xe[:task["eval_early"]]), ye[:task["eval_early"]]
    out = {}
    for kind in KINDS:
        rng = np.random.default_rng([task["seed"], 17])
        protos = (batch_kmeans(learned, task["neurons"], rng, task["iterations"]) if kind == "batch"
                  else online_kmeans(learned, task["neurons"], rng))
        out[kind] = nearest_prototype_accuracy(protos, named_x, named_y, eval_x, eval_y)
    return out


def write_table(results: list[dict], out: Path) -> None:
    tasks = [r["task"] for r in results]
    t = tasks[0]
    lines = [f"k-means references on the early-learning protocol: prototypes fitted to the first {t['early']:,} "
             f"training images, named from images {t['label_from']:,}-{t['early'] - 1:,}, the nearest named prototype "
             f"answering the first {t['eval_early']:,} {SCORED[t.get('split', 'validation')]}; mean ± sd over "
             "seeds.", "",
             "| prototypes | seeds | batch spherical k-means | each seed | online, 1/n steps, one pass | each seed "
             "| source |", "|---:|---:|---:|---|---:|---|---|"]
    for n in sorted({t["neurons"] for t in tasks}):
        rows = [r for r in results if r["task"]["neurons"] == n]
        cells = []
        for kind in KINDS:
            values = [r[kind] for r in rows]
            cells += ["{:.4f} ± {:.4f}".format(*mean_sd(values)), " ".join(f"{v:.4f}" for v in values)]
        hashes = ", ".join(sorted({r["source_hash"] for r in rows}))
        lines.append(f"| {n} | {len(rows)} | {cells[0]} | {cells[1]} | {cells[2]} | {cells[3]} | {hashes} |")
    text = "\n".join(lines) + "\n"
    write_text(out / "table.md", text)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--neurons", type=int_list, default=[100], help="numbers of prototypes (default 100)")
    ap.add_argument("--seeds", type=int_list, default=[0, 1, 2])
    ap.add_argument("--early", type=int, default=3000, help="training images the prototypes learn from")
    ap.add_argument("--label-from", type=int, default=2000, help="first of the labelled images (up to --early)")
    ap.add_argument("--split", choices=tuple(EVAL_EARLY), default="validation",
                    help="'validation' (default; the test set is not loaded) or 'test' (a final reference number)")
    ap.add_argument("--eval-early", type=int, default=None,
                    help="images scored (default: 10,000 validation or 1,000 test images, the protocol's)")
    ap.add_argument("--iterations", type=int, default=100, help="at most this many of Lloyd's iterations")
    add_table_options(ap)
    args = ap.parse_args(argv)
    if args.tables_only:
        results = stored_runs(args.out)
    else:
        if not 0 <= args.label_from < args.early:
            ap.error(f"--label-from {args.label_from} must be below --early {args.early}")
        if min(args.neurons) < 1 or max(args.neurons) > args.early:
            ap.error(f"--neurons must be between 1 and --early ({args.early})")
        eval_early = EVAL_EARLY[args.split] if args.eval_early is None else args.eval_early
        if eval_early < 1:
            ap.error(f"--eval-early {eval_early} must be at least 1")
        tasks = [{"id": f"{n}-seed{s}", "neurons": n, "seed": s, "early": args.early, "label_from": args.label_from,
                  "eval_early": eval_early, "iterations": args.iterations, "split": args.split}
                 for n in args.neurons for s in args.seeds]
        results = run_tasks(run, tasks, args.out, desc="references")
    write_and_show(ap, results, args.out, write_table)


if __name__ == "__main__":
    main()
