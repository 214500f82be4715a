"""Where does a continual-learning model lose its accuracy? Per task: neurons per class, which neurons
learned, thresholds at test time, how well the committed neurons' weights match each class, readouts.

Runs the class-incremental protocol of :mod:`spikedyn.continual` on the validation split (learn
from training images 0-49,999, score on 50,000-59,999; this script has no test-set option),
the same images as ``spikedyn continual --split validation --seed S`` (the protocol's plan),
and after each task records the list below. With ``--learn-pool all`` it learns from the images
that ``spikedyn continual --seed S`` (test split) learns from, drawn from all 60,000 training
images, so the network is the one that run trains, and scores it on training images that run's
plan never uses (``--test-per-class`` of each class; the test set is never read): a run that
failed on the test set can be looked into without choosing anything on it.

- the accuracy matrix row with Diehl & Cook's mean-response readout (``R``; the protocol's),
  and with a vote-count readout and a nearest-class-mean readout of the same responses;
- neurons named after each class in the labelled pass, and how many never fire in it;
- which neurons learned during the task (weights moved by more than 1 % of their sum, L1),
  and the class they were named after before and after the task;
- the thresholds at test time by class (mean theta, mV) and, for the ``metaplastic`` model,
  the committed and plastic neurons (``a_j >= commit_spikes``) and their thresholds, how many
  neurons had committed after each 250 training images of the task (``committed_course``), and
  the *purity* of the committed neurons that answer the task's evaluation images so far: each
  one's share of its spikes that come from its most frequent class (1: one class only;
  ``purity`` has the mean, the 10th, 25th and 50th percentiles and the spike-weighted share);
- the *match* of each test class with the network's neurons: for an image x and neuron j,
  ``m_j(x) = (x . w_j) / (|x|_1 * weight_sum / n_input)`` (1 for uniform weights; it is the
  expected drive per input spike that the novelty gate of :mod:`spikedyn.models.metaplastic`
  tests), averaged over the class's images: the best neuron's match among the neurons named
  after the class, and among those named after other classes;
- the confusion matrix of the mean readout and, for its errors, the class of the single most
  active neuron (``top_neuron_class_of_errors[true][1 + named class]``, column 0: an unnamed
  neuron): whether an error is one neuron of the wrong class answering best, or the readout's
  averaging.

Usage::

    python experiments/continual_diagnosis.py --model spikedyn --neurons 200 --seed 0 \\
        --set input.rate_hz_per_unit=0.5 --out experiments/results/learn2/diag-spikedyn-200-s0.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from spikedyn import __version__
from spikedyn._version import source_hash
from spikedyn.config import NetworkConfig
from spikedyn.config.network_config import parse_set
from spikedyn.continual import protocol as cp
from spikedyn.core.encoding import STREAM_ASSIGN, STREAM_TEST
from spikedyn.core.readout import assign_labels, predict
from spikedyn.io.data import load_mnist
from spikedyn.io.files import atomic_write
from spikedyn.models.metaplastic import commit_count
from spikedyn.simulation.network import Network, input_images


def readouts(a_counts, a_labels, t_counts, n_classes: int = 10) -> dict[str, np.ndarray]:
    """Predictions of three readouts of the same responses: the paper's mean response, vote counts
    (each assigned neuron's spikes summed per class) and the nearest class mean of the L2-normalised
    count vectors of the labelled pass."""
    assignments = assign_labels(a_counts, a_labels, n_classes)
    out = {"mean": predict(t_counts, assignments, n_classes)}
    votes = np.zeros((t_counts.shape[0], n_classes))
    for c in range(n_classes):
        votes[:, c] = t_counts[:, assignments == c].sum(axis=1)
    out["votes"] = np.argmax(votes, axis=1)

    def unit(a):
        a = a.astype(float)
        return a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-9)

    seen = np.unique(a_labels)
    means = np.stack([unit(a_counts[a_labels == c]).mean(axis=0) for c in seen])
    out["class_mean"] = seen[np.argmax(unit(t_counts) @ unit(means).T, axis=1)]
    return out


def match(images: np.ndarray, w: np.ndarray, weight_sum: float) -> np.ndarray:
    """``m[k, j] = (x_k . w_j) / (|x_k|_1 * weight_sum / n_input)`` (float64, (K, N))."""
    x = images.reshape(images.shape[0], -1).astype(np.float64)
    return (x @ w) / (x.sum(axis=1, keepdims=True) * weight_sum / w.shape[0])


def purity(t_counts: np.ndarray, t_labels: np.ndarray, neurons: np.ndarray, n_classes: int = 10) -> dict:
    """Of the ``neurons`` (bool mask) that fire on the scored images: each one's share of its spikes
    from its most frequent class; the mean, the 10th/25th/50th percentiles and the spike-weighted share."""
    by_class = np.stack([t_counts[t_labels == c].sum(axis=0) for c in range(n_classes)], axis=1).astype(float)
    total = by_class.sum(axis=1)
    firing = neurons & (total > 0)
    if not firing.any():
        return {"neurons": 0, "mean": None, "quantiles_10_25_50": None, "spike_weighted": None}
    share = by_class[firing].max(axis=1) / total[firing]
    return {"neurons": int(firing.sum()), "mean": float(share.mean()),
            "quantiles_10_25_50": [float(q) for q in np.quantile(share, [0.1, 0.25, 0.5])],
            "spike_weighted": float(by_class[firing].max(axis=1).sum() / total[firing].sum())}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="spikedyn")
    ap.add_argument("--neurons", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tasks", default="0,1,2,3,4,5,6,7,8,9")
    ap.add_argument("--samples-per-task", type=int, default=cp.DEFAULT_SAMPLES_PER_TASK)
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE")
    ap.add_argument("--learn-pool", choices=("validation", "all"), default="validation",
                    help="'validation': learn from training images 0-49,999 and score on 50,000-59,999 (the "
                         "validation split); 'all': learn as the test split's run does and score on the training "
                         "images its plan never uses")
    ap.add_argument("--test-per-class", type=int, default=None,
                    help="images scored per class (default all; with --learn-pool all, 500)")
    ap.add_argument("--save-network", type=Path, default=None,
                    help="also save the final network to this run directory (Network.load reads it; run.json "
                         "keeps the last labelled pass's names)")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    config = NetworkConfig(model=args.model, n_neurons=args.neurons).replace(
        **dict(parse_set(s) for s in args.set))
    test_per_class = args.test_per_class or (500 if args.learn_pool == "all" else None)
    protocol = cp.Protocol(tasks=cp.parse_tasks(args.tasks), samples_per_task=args.samples_per_task,
                           split="validation", test_per_class=test_per_class)
    if args.learn_pool == "validation":
        pools = cp.load_pools("validation", args.data_dir)
    else:
        train_x, train_y = load_mnist("train", args.data_dir)
        drawn = cp._plan(cp.Pools(train_x, train_y, train_x, train_y), protocol, args.seed).train
        unused = np.setdiff1d(np.arange(train_y.size), np.concatenate(drawn))
        pools = cp.Pools(train_x, train_y, train_x[unused], train_y[unused])
    plan = cp._plan(pools, protocol, args.seed)
    net = Network(config, seed=args.seed)
    n, n_tasks = args.neurons, len(protocol.tasks)
    R = {k: np.full((n_tasks, n_tasks), np.nan) for k in ("mean", "votes", "class_mean")}
    per_task = []
    before = np.full(n, -1)
    commit = commit_count(config.metaplastic) if args.model == "metaplastic" else None
    start = time.perf_counter()
    for i, task in enumerate(protocol.tasks):
        w0 = net.weights.copy()
        course = []
        on_batch = (None if commit is None else
                    lambda _stats: course.append(int(np.sum(net._state.plasticity.activity >= commit))))
        net.train(pools.learn_x[plan.train[i]], progress=False, on_batch=on_batch)
        moved = np.abs(net.weights - w0).sum(axis=0) / config.stdp.weight_sum
        a_idx = np.concatenate(plan.assign[:i + 1])
        a_counts = net.respond(pools.learn_x[a_idx], stream=STREAM_ASSIGN, n_jobs=1, progress=False)
        a_labels = pools.learn_y[a_idx]
        t_counts, offset = [], 0
        for idx in plan.test[:i + 1]:
            t_counts.append(net.respond(pools.eval_x[idx], stream=STREAM_TEST, first_index=offset, n_jobs=1,
                                        progress=False))
            offset += idx.size
        t_counts = np.concatenate(t_counts)
        t_labels = pools.eval_y[np.concatenate(plan.test[:i + 1])]
        preds = readouts(a_counts, a_labels, t_counts)
        for name, p in preds.items():
            for j, t in enumerate(protocol.tasks[:i + 1]):
                mask = np.isin(t_labels, t)
                R[name][i, j] = float(np.mean(p[mask] == t_labels[mask]))
        assignments = assign_labels(a_counts, a_labels)
        learned = moved > 0.01
        conf = np.zeros((10, 10), int)
        np.add.at(conf, (t_labels, preds["mean"]), 1)
        wrong = (preds["mean"] != t_labels) & (t_counts.sum(axis=1) > 0)
        top = np.zeros((10, 11), int)
        np.add.at(top, (t_labels[wrong], assignments[np.argmax(t_counts[wrong], axis=1)] + 1), 1)
        seen = sorted({c for t in protocol.tasks[:i + 1] for c in t})
        matches = {}
        for c in seen:
            imgs = pools.eval_x[plan.test[[k for k, t in enumerate(protocol.tasks) if c in t][0]]][:200]
            imgs = input_images(imgs, config)  # as the layer sees them (the centre-surround filter)
            m = match(imgs, net.weights, config.stdp.weight_sum)
            own, other = assignments == c, (assignments >= 0) & (assignments != c)
            matches[str(c)] = {"own_best": float(m[:, own].max(axis=1).mean()) if own.any() else None,
                               "other_best": float(m[:, other].max(axis=1).mean()) if other.any() else None}
        theta = net.test_thresholds()  # the thresholds the network answers with at test time
        record = {
            "task": cp.task_name(task),
            "neurons_per_class": np.bincount(assignments[assignments >= 0], minlength=10).tolist(),
            "unassigned": int(np.sum(assignments < 0)),
            "silent_in_labelled_pass": int(np.sum(a_counts.sum(axis=0) == 0)),
            "neurons_learned": int(learned.sum()),
            "learned_neurons_class_before": np.bincount(before[learned] + 1, minlength=11).tolist(),
            "learned_neurons_class_after": np.bincount(assignments[learned] + 1, minlength=11).tolist(),
            "theta_mean_by_class": [float(theta[assignments == c].mean()) if np.any(assignments == c) else None
                                    for c in range(10)],
            "match": matches,
            "confusion_mean_readout": conf.tolist(),
            "top_neuron_class_of_errors": top.tolist(),
            "accuracy": {k: [float(x) for x in R[k][i, :i + 1]] for k in R},
        }
        if commit is not None:
            activity = net._state.plasticity.activity
            committed = activity >= commit
            record["committed"] = int(committed.sum())
            record["theta_committed_mean"] = float(theta[committed].mean()) if committed.any() else None
            record["theta_committed_sd"] = float(theta[committed].std()) if committed.any() else None
            record["theta_plastic_mean"] = float(theta[~committed].mean()) if (~committed).any() else None
            record["committed_course"] = course
            record["purity"] = purity(t_counts, t_labels, committed)
        per_task.append(record)
        before = assignments
        print(f"task {cp.task_name(task)}: " + ", ".join(f"{k} {np.nanmean(R[k][i, :i + 1]):.3f}" for k in R)
              + f"; newest {R['mean'][i, i]:.3f}; learned {learned.sum()}, per class {record['neurons_per_class']}"
              + (f", committed {record['committed']}" if commit is not None else ""), flush=True)
    acc = {k: float(np.mean(R[k][-1])) for k in R}
    bwt = {k: float(np.mean([R[k][-1, j] - R[k][j, j] for j in range(n_tasks - 1)])) for k in R}
    result = {"model": args.model, "neurons": n, "seed": args.seed, "tasks": args.tasks,
              "samples_per_task": args.samples_per_task, "set": args.set,
              "split": "validation" if args.learn_pool == "validation" else "training images the plan never uses",
              "learn_pool": args.learn_pool, "test_per_class": test_per_class,
              "config": config.to_dict(), "spikedyn_version": __version__, "source_hash": source_hash(),
              "final_average_accuracy": acc,
              "bwt": bwt, "accuracy_matrix": {k: [[None if np.isnan(x) else float(x) for x in row] for row in v]
                                              for k, v in R.items()},
              "per_task": per_task, "wall_seconds": time.perf_counter() - start}
    if args.save_network is not None:
        net.save(args.save_network, overwrite=True, extra={"assignments": before.tolist(), "seed": args.seed,
                                                           "learn_pool": args.learn_pool, "tasks": args.tasks})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=1)
    atomic_write(args.out, lambda f: f.write(text.encode()))
    print("ACC " + ", ".join(f"{k} {v:.3f}" for k, v in acc.items()) + "; BWT "
          + ", ".join(f"{k} {v:+.3f}" for k, v in bwt.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
