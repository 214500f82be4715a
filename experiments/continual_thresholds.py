"""Why some continual runs collapse in the last task: the same trained networks read out with their
current thresholds and with the recalled ones (``metaplastic.recall_at_commit``).

Training is the same with and without the recall (it acts only when learning is off), so one network
trained with it on gives both readings: its current thresholds (``Network.theta``, what 0.4.0
answered with) and the recalled ones (``Network.test_thresholds()``). For each run directory of
``spikedyn continual --split validation --out DIR`` (its final network in ``DIR/network``) this
names the neurons by a labelled pass over 100 training images per class (images 0-49,999, seeded)
and scores every validation image (50,000-59,999), once per set of thresholds; and, per class, the
neurons named after it, their median thresholds and its accuracy. It writes ``thresholds.md`` and
``thresholds.json`` to ``--out``.

    for s in 0 1 2 3 4 5; do spikedyn continual --neurons 400 --seed $s --split validation --no-iid \\
        --out runs/recall-s$s; done
    python experiments/continual_thresholds.py runs/recall-s* --out experiments/results/continual_thresholds
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from spikedyn.io.files import atomic_path, write_json


def readings(run_dir: Path, images: np.ndarray, labels: np.ndarray) -> dict:
    """Accuracy and per-class statistics of one run's final network, with current and recalled thresholds."""
    from spikedyn.core.readout import assign_labels, class_scores
    from spikedyn.simulation.network import Network

    net = Network.load(run_dir / "network")
    if not net.config.metaplastic.recall_at_commit or net.config.model != "metaplastic":
        sys.exit(f"{run_dir}: not a metaplastic network trained with metaplastic.recall_at_commit on "
                 "(its thresholds at commitment were not stored)")
    rng = np.random.default_rng(0)
    named = np.concatenate([rng.choice(np.nonzero(labels[:50000] == c)[0], 100, replace=False) for c in range(10)])
    scored = np.arange(50000, 60000)
    current = net.theta.copy()
    recalled = net.test_thresholds().copy()
    # one network answering with whichever thresholds it is given: the same weights, no recall
    reader = Network(net.config.replace(metaplastic__recall_at_commit=False), seed=net.seed)
    reader.weights[...] = net.weights
    out = {"run": str(run_dir), "seed": net.seed, "source_hash": json.loads(
        (run_dir / "network" / "run.json").read_text()).get("source_hash")}
    for name, theta in (("current", current), ("recalled", recalled)):
        reader.theta[...] = theta
        counts_named = reader.respond(images[named], progress=False)
        counts_scored = reader.respond(images[scored], progress=False)
        assignments = assign_labels(counts_named, labels[named], 10)
        predicted = class_scores(counts_scored, assignments, 10).argmax(axis=1)
        truth = labels[scored]
        out[name] = {
            "accuracy": float((predicted == truth).mean()),
            "per_class": [{"class": c, "neurons": int((assignments == c).sum()),
                           "accuracy": float((predicted[truth == c] == c).mean()),
                           "median_threshold_mv": float(np.median(theta[assignments == c]))
                           if (assignments == c).any() else None} for c in range(10)]}
    return out


def table(results: list[dict]) -> str:
    lines = ["Final networks of `spikedyn continual --neurons 400 --split validation` (metaplastic, 128 Hz), read out "
             "with their current thresholds (what 0.4.0 answered with) and with the recalled ones "
             "(`metaplastic.recall_at_commit`; training is the same): neurons named by 100 training images per "
             "class (images 0-49,999), accuracy on all 10,000 validation images (50,000-59,999). Source hash of "
             "the runs: " + ", ".join(sorted({str(r['source_hash']) for r in results})) + ".", "",
             "| seed | accuracy, current thresholds | accuracy, recalled thresholds |", "|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r['seed']} | {r['current']['accuracy']:.3f} | {r['recalled']['accuracy']:.3f} |")
    cur = [r["current"]["accuracy"] for r in results]
    rec = [r["recalled"]["accuracy"] for r in results]
    lines += [f"| mean ± sd | {np.mean(cur):.3f} ± {np.std(cur, ddof=1) if len(cur) > 1 else 0:.3f} | "
              f"{np.mean(rec):.3f} ± {np.std(rec, ddof=1) if len(rec) > 1 else 0:.3f} |", ""]
    worst = min(results, key=lambda r: r["current"]["accuracy"])
    lines += [f"Per class, seed {worst['seed']} (the lowest with current thresholds): the neurons named after each "
              "class, the median of their thresholds (theta, mV) and the class's accuracy.", "",
              "| class | neurons | median theta, current | accuracy | neurons (recalled) | median theta, recalled "
              "| accuracy |", "|---:|---:|---:|---:|---:|---:|---:|"]
    for a, b in zip(worst["current"]["per_class"], worst["recalled"]["per_class"]):
        show = lambda x: "-" if x is None else f"{x:.2f}"  # noqa: E731
        lines.append(f"| {a['class']} | {a['neurons']} | {show(a['median_threshold_mv'])} | {a['accuracy']:.2f} | "
                     f"{b['neurons']} | {show(b['median_threshold_mv'])} | {b['accuracy']:.2f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", type=Path, help="run directories of spikedyn continual --out")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--data-dir", default=None)
    args = ap.parse_args(argv)
    import spikedyn

    missing = [str(r) for r in args.runs if not (r / "network" / "run.json").is_file()]
    if missing:
        ap.error(f"no final network in {', '.join(missing)}: give run directories of spikedyn continual --out")
    images, labels = spikedyn.load_mnist("train", data_dir=args.data_dir)
    results = [readings(r, images, labels) for r in args.runs]
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / "thresholds.json", results)
    text = table(results)
    with atomic_path(args.out / "thresholds.md") as tmp:
        tmp.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
