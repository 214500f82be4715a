"""A screen of ``metaplastic`` in which a neuron that matches its inputs poorly learns longer (not a model).

Why. On Split-MNIST a third of the neurons commit to a mixture of the two classes of their task
(``docs/continual.md``, "Why Split-MNIST scores lower"), and a larger commitment budget for every
neuron lifts Split-MNIST at 400 neurons by 4-5 points but leaves no neuron for the last classes of
ten one-class tasks at 200 neurons. If a mixture could be told from a pure neuron by something the
neuron has (no labels, no task boundaries), only the mixtures need the longer budget. Measured first
(``--diagnose``; validation, Split-MNIST, 400 neurons, seed 0): how far a neuron's weights move per
presentation does not tell them apart, how well the images it wins match its weights does, weakly
(the module's ``--diagnose`` output has the numbers).

The rule screened. For a plastic neuron ``j`` and an image ``x`` it fires on, its *match* is
``m_j(x) = cos(x, w_j)``, ``w_j`` its weights at the end of the previous presentation. When ``j``'s
count reaches its budget (the presentation in which it would commit), ``M_j`` is the mean match over
the presentations it fired in during the second half of its count's rise; every such ``M_j`` (each
neuron's first) joins a reference list, and::

    if M_j < kappa * median(reference)   (at least 10 in it, j not extended before,
                                          and at least --free-share of the network not started):
        j's count is lowered by --extra spikes: it stays plastic and commits --extra spikes later

An extended neuron's threshold keeps rising with its spikes as a plastic neuron's does (or, with
``--hold``, gives back ``hold * theta_plus`` per spike, as a committed neuron's does), and its
referenced recall (mechanism 8) subtracts what the extra spikes added, so neurons of different
budgets answer at test time as neurons of the common budget would. Applied through the spike count
after every training image (``Network.train``'s ``on_batch`` with ``batch_size`` 1), without touching
the kernels; with ``--kappa 0`` nothing is extended and the run is ``spikedyn continual --split
validation``'s, bit for bit.

The class-incremental protocol of :mod:`spikedyn.continual` on the validation split only (learn from
training images 0-49,999, score on 50,000-59,999; the same plan of images as ``spikedyn continual
--split validation --seed S``); the test set is never loaded. ``docs/continual.md`` ("Longer budgets
for poorly matched neurons") has what it showed.

Usage::

    python experiments/match_extension_screen.py --tasks 0-1,2-3,4-5,6-7,8-9 --neurons 400 --seed 0 \\
        --kappa 1 --out experiments/results/match_extension_screen/split-400-k1-s0.json
    python experiments/match_extension_screen.py --table experiments/results/match_extension_screen

Output (JSON, written atomically): the arguments and config, the accuracy matrix (the paper's
readout), ACC, BWT, per task the committed, extended and started neurons, the wall time, the source
hash and version; with ``--diagnose`` also, per neuron that committed, its movement, match and the
purity of the images it won while plastic (labels read for the record only; the rule never sees
them) and the separations (AUROC) of mixtures (purity < 0.8 over the second half) from pure neurons.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import mannwhitneyu

from _runner import add_screen_options, mean_sd, screen_plan, write_screen_run

from spikedyn.config import NetworkConfig
from spikedyn.config.network_config import parse_set
from spikedyn.continual import DEFAULT_CONTINUAL_SET
from spikedyn.continual import protocol as cp
from spikedyn.io.files import atomic_write
from spikedyn.models.metaplastic import budget_share, commit_count
from spikedyn.simulation.network import Network

MIN_REFERENCE = 10  # neurons whose match at their budget is known before any is compared with their median


def _cos(x: np.ndarray, w: np.ndarray) -> float:
    nx, nw = np.linalg.norm(x), np.linalg.norm(w)
    return float(x @ w / (nx * nw)) if nx > 0 and nw > 0 else 0.0


class MatchExtension:
    """The rule of the module docstring for one network: call :meth:`after_image` after every training
    image, with the image and (for the diagnosis only) its label."""

    def __init__(self, net: Network, kappa: float, extra: float, hold: float, free_share: float,
                 min_reference: int = MIN_REFERENCE, scale_by_budget: bool = False):
        self.net, self.kappa, self.extra, self.hold, self.free_share = net, kappa, extra, hold, free_share
        self.min_reference, self.scale_by_budget = min_reference, scale_by_budget
        n = net.config.n_neurons
        self.commit = commit_count(net.config.metaplastic)
        self.state = net._state.plasticity
        self.w_before = net.weights.copy()
        self.count_before = self.state.activity.copy()
        self.fired = [[] for _ in range(n)]  # per plastic presentation: (count after, match, movement, spikes, label)
        self.reference: list[float] = []
        self.extended = np.zeros(n, bool)
        self.first_commit = np.full(n, -1)  # the image at which each neuron first reached its budget

    def after_image(self, x: np.ndarray, label: int, index: int) -> None:
        count = self.state.activity
        w = self.net.weights
        spikes = count - self.count_before
        not_started = self.state.significance[4] == 0.0
        free = float(np.mean(not_started))  # the share of neurons not started
        extra = self.extra
        if self.scale_by_budget:  # times the capacity budget's f of the neurons not started (mechanism 8)
            extra = self.extra * budget_share(self.net.config.metaplastic, int(np.sum(not_started)))
        theta_plus = self.net.config.excitatory.theta_plus_mv
        for j in np.nonzero(spikes > 0)[0]:
            if self.count_before[j] >= self.commit:
                continue  # committed before this image
            if self.hold > 0 and self.extended[j]:
                self.net.theta[j] -= self.hold * theta_plus * spikes[j]
            move = 1.0 - _cos(self.w_before[:, j], w[:, j])
            self.fired[j].append((float(count[j]), _cos(x, self.w_before[:, j]), move, float(spikes[j]), int(label)))
            if count[j] < self.commit:
                continue
            rise = [r for r in self.fired[j] if r[0] >= (count[j] + self.fired[j][0][0]) / 2]
            match = float(np.mean([r[1] for r in rise]))
            if not self.extended[j]:
                self.reference.append(match)
                self.first_commit[j] = index
            if (self.kappa > 0 and extra > 0 and len(self.reference) >= self.min_reference and not self.extended[j]
                    and free >= self.free_share and match < self.kappa * float(np.median(self.reference))):
                count[j] -= extra
                self.state.rate[j] = 1.0
                self.state.significance[3, j] = 0.0  # its threshold at commitment, recorded again later
                self.state.significance[4, j] += extra * (1.0 - self.hold)  # the referenced recall's rise
                self.extended[j] = True
        self.w_before[...] = w
        self.count_before[...] = count

    def diagnosis(self) -> dict:
        """Per neuron that reached its budget: the movement and match over the second half of its rise,
        and the purity of the labels of the images it won then (spike-weighted)."""
        rows = []
        for j in np.nonzero(self.first_commit >= 0)[0]:
            r = np.array(self.fired[j])
            half = r[:, 0] >= (r[-1, 0] + r[0, 0]) / 2
            by_class = np.bincount(r[half, 4].astype(int), weights=r[half, 3], minlength=10)
            rows.append({"neuron": int(j), "presentations": int(len(r)), "match": float(r[half, 1].mean()),
                         "movement": float(r[half, 2].mean()), "purity": float(by_class.max() / by_class.sum())})
        mixture = np.array([row["purity"] < 0.8 for row in rows])
        out = {"neurons": rows, "mixtures": int(mixture.sum()), "pure": int((~mixture).sum())}
        for key in ("match", "movement"):
            v = np.array([row[key] for row in rows])
            a, b = v[~mixture], v[mixture]  # P(pure > mixture), ties half: the Mann-Whitney U over its maximum
            out[f"auroc_pure_above_mixture_{key}"] = (
                float(mannwhitneyu(a, b).statistic / (a.size * b.size)) if a.size and b.size else None)
            out[f"mean_{key}_pure_mixture"] = [float(a.mean()) if a.size else None, float(b.mean()) if b.size else None]
        return out


def table(directory: Path) -> str:
    """``table.md`` of the runs in ``directory``: mean ± sd over seeds per protocol, size and rule."""
    groups: dict[tuple, list[dict]] = {}
    for path in sorted(directory.glob("*.json")):
        run = json.loads(path.read_text())
        a = run["args"]
        key = (a["tasks"], a["neurons"], a["kappa"], a["extra"], a["hold"], a["free_share"],
               bool(a.get("scale_by_budget")), tuple(a.get("set", [])))
        groups.setdefault(key, []).append(run)
    lines = ["Screen of longer budgets for poorly matched neurons (`experiments/match_extension_screen.py`), "
             "validation split (learning from training images 0-49,999, scoring on 50,000-59,999), spikedyn "
             "continual's default set; `kappa` 0 is the default run. Mean ± sd over seeds.", "",
             "| tasks | neurons | kappa | extra spikes | hold | free share | seeds | ACC | each seed | BWT | "
             "committed after the last task | extended | source |",
             "|---|---:|---:|---:|---:|---:|---|---:|---|---:|---:|---:|---|"]
    # extra spikes "100 f": times the capacity budget's share f of the neurons not started (--scale-by-budget)
    for key in sorted(groups):
        runs = sorted(groups[key], key=lambda r: r["args"]["seed"])
        acc = [r["final_average_accuracy"] for r in runs]
        acc_mean, acc_sd = mean_sd(acc)
        tasks = "ten one-class" if key[0] == "0,1,2,3,4,5,6,7,8,9" else key[0]
        extra = f"{key[3]:g} f" if key[6] else f"{key[3]:g}"
        lines.append(f"| {tasks} | {key[1]} | {key[2]:g} | {extra} | {key[4]:g} | {key[5]:g} | "
                     f"{','.join(str(r['args']['seed']) for r in runs)} | **{acc_mean:.3f} ± {acc_sd:.3f}** | "
                     f"{' '.join(f'{v:.3f}' for v in acc)} | {np.mean([r['bwt'] for r in runs]):+.3f} | "
                     f"{np.mean([r['per_task'][-1]['committed'] for r in runs]):.0f} | "
                     f"{np.mean([r['per_task'][-1]['extended'] for r in runs]):.0f} | "
                     f"{','.join(sorted({r['source_hash'] for r in runs}))} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_screen_options(ap, "after spikedyn continual's default overrides")
    ap.add_argument("--kappa", type=float, default=1.0, help="extend below kappa times the median match (0: never)")
    ap.add_argument("--extra", type=float, default=100.0, help="spikes an extended neuron learns beyond its budget")
    ap.add_argument("--hold", type=float, default=0.0,
                    help="share of theta_plus an extended neuron's spike gives back (0: it rises as a plastic one's)")
    ap.add_argument("--free-share", type=float, default=0.0,
                    help="extend only while at least this share of the network has not started")
    ap.add_argument("--scale-by-budget", action="store_true",
                    help="extend by --extra times the capacity budget's f of the neurons not started (mechanism 8: 0 "
                         "with metaplastic.budget_reserve_neurons or fewer, 1 with budget_full_neurons or more)")
    ap.add_argument("--min-reference", type=int, default=MIN_REFERENCE,
                    help="matches known before the first comparison with their median")
    ap.add_argument("--diagnose", action="store_true", help="also record each neuron's match, movement and purity")
    ap.add_argument("--table", type=Path, default=None, metavar="DIR", help="write DIR/table.md from its runs and stop")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    if args.table is not None:
        text = table(args.table)
        atomic_write(args.table / "table.md", lambda f: f.write(text.encode()))
        print(text)
        return 0
    if args.out is None:
        ap.error("--out is required (or --table DIR)")
    if args.kappa < 0 or args.extra < 0 or not 0 <= args.hold <= 1 or not 0 <= args.free_share <= 1 \
            or args.min_reference < 1:
        ap.error("--kappa and --extra must be >= 0, --hold and --free-share between 0 and 1, --min-reference >= 1")
    config = NetworkConfig(model="metaplastic", n_neurons=args.neurons).replace(
        **dict(parse_set(s) for s in (*DEFAULT_CONTINUAL_SET, *args.set)))
    if not (config.metaplastic.consolidate and config.metaplastic.capacity_budget):
        ap.error("the screen needs metaplastic.consolidate and metaplastic.capacity_budget on (it moves the "
                 "commitment and records the extra spikes in the budget the referenced recall reads)")
    protocol, pools, plan = screen_plan(args)
    start = time.perf_counter()
    net = Network(config, seed=args.seed)
    rule = MatchExtension(net, args.kappa, args.extra, args.hold, args.free_share, args.min_reference,
                          args.scale_by_budget)
    n_tasks = len(protocol.tasks)
    R = np.full((n_tasks, n_tasks), np.nan)
    per_task = []
    seen = 0
    for i in range(n_tasks):
        x = pools.learn_x[plan.train[i]]
        y = pools.learn_y[plan.train[i]]
        flat = x.reshape(x.shape[0], -1).astype(np.float64)
        done = [0]

        def after(_stats, flat=flat, y=y, done=done):
            k = done[0]
            rule.after_image(flat[k], int(y[k]), seen + k)
            done[0] += 1

        net.train(x, progress=False, batch_size=1, on_batch=after)
        seen += x.shape[0]
        accs, unnamed, _ = cp._evaluate(net, pools, plan, i + 1, 1)
        R[i, :i + 1] = accs
        per_task.append({"task": cp.task_name(protocol.tasks[i]), "accuracy_on_tasks": [float(a) for a in accs],
                         "committed": int(np.sum(rule.state.activity >= rule.commit)),
                         "extended": int(rule.extended.sum()), "unnamed": int(unnamed),
                         "started": int(np.sum(rule.state.significance[4] > 0))})
        print(f"task {per_task[-1]['task']}: {np.round(accs, 3).tolist()}, committed {per_task[-1]['committed']}, "
              f"extended {per_task[-1]['extended']}", flush=True)
    extra = {"diagnosis": rule.diagnosis()} if args.diagnose else {}
    return write_screen_run("match_extension_screen", args, config, R, per_task, start, **extra)

if __name__ == "__main__":
    sys.exit(main())
