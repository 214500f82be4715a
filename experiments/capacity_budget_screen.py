"""A screen of ``metaplastic`` with a commitment budget that follows the free capacity (not a model).

Each neuron gets its budget once, when it starts to learn (its training spikes first reach
``--start``, 10), from the share ``f`` of the neurons that have not started by then::

    A_j = A + E f          (A: metaplastic.commit_spikes, E: --extra)

or, with ``--free-scale R``, from their number ``F`` counted against ``R`` neurons,
``f = min(1, F / R)`` (a network of ``R`` neurons or fewer never gets the whole extra; with ``R``
the network's size it is the share)

and keeps it, so no neuron that is learning is cut short. It is applied through the spike count,
without touching the kernels: the network runs with ``commit_spikes = A + E`` (no neuron can
commit early) and a starting neuron's count is raised by ``E (1 - f)``; with ``--uniform``
(``f`` held at 1) the run is ``commit_spikes = A + E`` exactly. The check runs after every
``--every`` training images (``Network.train``'s ``on_batch``), so a neuron's start is seen at
the end of the batch in which it happens. With ``--recall referenced`` each committed neuron
answers with the threshold it had at commitment less ``theta_plus E f_j``, the part its extra
spikes added (thresholds do not decay by default, and each spike of a plastic neuron adds
``theta_plus``): the recall of a neuron that had the common budget ``A``.

The class-incremental protocol of :mod:`spikedyn.continual` on the validation split only (learn
from training images 0-49,999, score on 50,000-59,999; the same plan of images as ``spikedyn
continual --split validation --seed S``); the test set is never loaded. ``docs/continual.md``
("The commitment budget") has what it showed: the older classes lose through the recall
thresholds, the referenced recall removes that, and the free share overfills small networks.

Usage::

    python experiments/capacity_budget_screen.py --neurons 400 --seed 0 --extra 100 --recall referenced \\
        --out experiments/results/capacity_budget_screen/ten-400-e100-referenced-s0.json

A neuron whose start is seen only after it passed its budget (many spikes within one batch of
``--every`` images) commits when it is seen, with its threshold of then recorded for the recall
(``late_commits`` counts them); one seen after it reached ``A + E`` keeps that budget.

Output (JSON, written atomically): the arguments and config, the accuracy matrix (the paper's
readout; ``null`` above the diagonal), ACC, BWT, per task the committed and started neurons, the
late commits, the neurons no labelled image names, the mean extra budget of the started neurons
and the committed neurons' recall thresholds (min, median, max, mV), the wall time, the source
hash and version.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from _runner import add_screen_options, screen_plan, write_screen_run

from spikedyn.config import NetworkConfig
from spikedyn.config.network_config import parse_set
from spikedyn.continual import DEFAULT_CONTINUAL_SET
from spikedyn.continual import protocol as cp
from spikedyn.simulation.network import Network

RECALLS = ("commit", "referenced")


class CapacityBudget:
    """The per-neuron budgets of one network (the module docstring): call :meth:`update` after every
    batch of training images; :meth:`referenced` gives the recall thresholds of the common budget."""

    def __init__(self, net: Network, extra: float, start: float, uniform: bool = False, free_scale: int = 0):
        self.net, self.extra, self.start, self.uniform = net, float(extra), float(start), uniform
        self.free_scale = int(free_scale)
        n = net.config.n_neurons
        self.started = np.zeros(n, bool)
        self.extra_of = np.zeros(n)  # E f_j of each started neuron (its budget less A)
        self.late_commits = 0  # neurons past their budget when their start was seen (committed then)

    def spikes(self) -> np.ndarray:
        """Each neuron's training spikes (its count less the offset a start added)."""
        activity = self.net._state.plasticity.activity
        offset = np.where(self.started, self.extra - self.extra_of, 0.0)
        return activity - offset

    def update(self, _stats=None) -> None:
        """After a batch: give the neurons that started in it their budgets. A neuron seen to start
        after it already reached ``A + E`` (many spikes within one batch) committed at that budget
        in the kernel, which is its budget here; one whose raised count passes ``A + E`` commits
        now, with its threshold of now recorded for the recall, as the kernel records it."""
        state = self.net._state.plasticity
        commit = self.net.config.metaplastic.commit_spikes  # A + E
        new = ~self.started & (self.spikes() >= self.start)
        if not new.any():
            return
        if self.uniform:
            f = 1.0
        elif self.free_scale:  # the free neurons before these start, counted against --free-scale
            f = min(1.0, float(np.sum(~self.started)) / self.free_scale)
        else:  # the free share before these start
            f = float(np.mean(~self.started))
        already = new & (state.activity >= commit)
        fresh = new & ~already
        self.extra_of[already] = self.extra
        self.extra_of[fresh] = self.extra * f
        state.activity[fresh] += self.extra - self.extra_of[fresh]
        late = fresh & (state.activity >= commit)
        if late.any():
            state.significance[3][late] = self.net.theta[late]
            state.rate[late] = self.net.config.metaplastic.consolidated_rate
            self.late_commits += int(late.sum())
        self.started[new] = True

    def referenced(self, theta_commit: np.ndarray, committed: np.ndarray) -> np.ndarray:
        """Thresholds at commitment less ``theta_plus E f_j`` for the committed neurons (a new array)."""
        out = theta_commit.copy()
        out[committed] -= self.extra_of[committed] * self.net.config.excitatory.theta_plus_mv
        return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_screen_options(ap, "after spikedyn continual's default overrides (128 Hz input; the registered capacity "
                           "budget off: the screen applies its own)")
    ap.add_argument("--extra", type=float, default=100.0, help="E: the budget's extra spikes when every neuron is free")
    ap.add_argument("--start", type=float, default=10.0, help="training spikes at which a neuron's budget is set")
    ap.add_argument("--every", type=int, default=10, help="training images between two checks for starts")
    ap.add_argument("--uniform", action="store_true", help="hold f at 1: commit_spikes = A + E (a check)")
    ap.add_argument("--free-scale", type=int, default=0, metavar="R",
                    help="f = min(1, free neurons / R) instead of the free share (0: the share)")
    ap.add_argument("--recall", choices=RECALLS, default="commit")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    if args.extra < 0 or args.start < 0 or args.every < 1 or args.free_scale < 0:
        ap.error("--extra, --start and --free-scale must be >= 0 and --every >= 1")
    config = NetworkConfig(model="metaplastic", n_neurons=args.neurons).replace(
        **dict(parse_set(s) for s in (*DEFAULT_CONTINUAL_SET, "metaplastic.capacity_budget=false", *args.set)))
    if not (config.metaplastic.consolidate and config.metaplastic.recall_at_commit):
        ap.error("the screen needs metaplastic.consolidate and metaplastic.recall_at_commit on (it sets the "
                 "commitment and reads the thresholds at commitment)")
    base = config.metaplastic.commit_spikes
    config = config.replace(**dict([parse_set(f"metaplastic.commit_spikes={base + args.extra}")]))
    protocol, pools, plan = screen_plan(args)
    start = time.perf_counter()
    net = Network(config, seed=args.seed)
    budget = CapacityBudget(net, args.extra, args.start, args.uniform, args.free_scale)
    state = net._state.plasticity
    n_tasks = len(protocol.tasks)
    R = np.full((n_tasks, n_tasks), np.nan)
    per_task = []
    for i in range(n_tasks):
        net.train(pools.learn_x[plan.train[i]], progress=False, batch_size=args.every, on_batch=budget.update)
        committed = state.activity >= config.metaplastic.commit_spikes
        kept = state.significance[3].copy()
        recalled = budget.referenced(kept, committed) if args.recall == "referenced" else kept
        state.significance[3][:] = recalled
        try:
            accs, unnamed, _ = cp._evaluate(net, pools, plan, i + 1, 1)
        finally:
            state.significance[3][:] = kept
        R[i, :i + 1] = accs
        per_task.append({"task": cp.task_name(protocol.tasks[i]), "accuracy_on_tasks": [float(a) for a in accs],
                         "committed": int(committed.sum()), "started": int(budget.started.sum()),
                         "unnamed": int(unnamed), "late_commits": budget.late_commits,
                         "mean_extra_of_started": float(budget.extra_of[budget.started].mean())
                         if budget.started.any() else 0.0,
                         "recall_threshold_mv_committed_min_median_max":
                             [float(q) for q in np.quantile(recalled[committed], [0, 0.5, 1])]
                             if committed.any() else None})
        print(f"task {per_task[-1]['task']}: {np.round(accs, 3).tolist()}, committed {per_task[-1]['committed']}, "
              f"unnamed {unnamed}", flush=True)
    return write_screen_run("capacity_budget_screen", args, config, R, per_task, start, base_commit_spikes=base)


if __name__ == "__main__":
    sys.exit(main())
