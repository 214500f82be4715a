"""Calibrate the analytical cost model, and check it against the kernels' counted operations.

``--calibrate`` measures, for every model and size, the activity statistics the
analytical model needs (:class:`spikedyn.cost.Activity`): each network (seed 0) learns
from ``--train-samples`` training images of the validation split (50,000 onwards) and
responds to ``--infer-samples`` more; the statistics of both phases and the mean pixel
sum of the 60,000 training images are written to ``spikedyn/cost/activity_statistics.json``
(package data: what ``spikedyn estimate`` and the search use). The test set is not
touched.

``--check`` compares, for every model at 100 and 400 neurons, the operations per sample
that the analytical model predicts (from the shipped statistics, before anything is
trained) with those the kernels count on another run: seed 1, learning from the first
``--train-samples`` training images and responding to the next ``--infer-samples``.
It writes ``check.csv`` and ``check.md`` (relative error per operation and phase, model
and executed views) and fails if any operation of the model view is off by more than
``--tolerance``.

Usage::

    python experiments/cost_model.py --calibrate --out experiments/results/cost_calibration --jobs 2
    python experiments/cost_model.py --check --out experiments/results/cost_check --jobs 2
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _runner import add_executor_options, int_list, mnist, run_tasks, write_text  # noqa: E402

from spikedyn import cost, models  # noqa: E402
from spikedyn.config import NetworkConfig  # noqa: E402
from spikedyn.core.encoding import centre_surround  # noqa: E402
from spikedyn.core.params import InputParams  # noqa: E402
from spikedyn.simulation.network import Network  # noqa: E402
from spikedyn.cost.operations import OPERATIONS, PHASES  # noqa: E402
from spikedyn.io.files import write_json  # noqa: E402

VALIDATION_START = 50_000


def _pixel_sum(images) -> float:
    return float(images.reshape(len(images), -1).sum(axis=1, dtype=np.int64).mean())


def count(task: dict) -> dict:
    """Train, then respond, counting operations; the tallies of both phases and the mean pixel sums
    of their images."""
    x, _ = mnist("train")
    first = task["first_image"]
    k, m = task["train_samples"], task["infer_samples"]
    learn, respond = x[first:first + k], x[first + k:first + k + m]
    net = Network(NetworkConfig(model=task["model"], n_neurons=task["neurons"]), seed=task["seed"])
    net.train(learn, progress=False)
    net.respond(respond, progress=False, n_jobs=1)
    return {"tally": {phase: net.operations(phase)["tally"] for phase in PHASES},
            "pixel_sum": {"train": _pixel_sum(learn), "inference": _pixel_sum(respond)}}


def _tasks(model_names, sizes, seed, first, args) -> list[dict]:
    return [{"id": f"{m}-{n}-s{seed}-{first}-{args.train_samples}-{args.infer_samples}", "model": m, "neurons": n,
             "seed": seed, "first_image": first, "train_samples": args.train_samples,
             "infer_samples": args.infer_samples} for m in model_names for n in sizes]


def calibrate(args) -> None:
    results = run_tasks(count, _tasks(args.models, args.neurons, 0, VALIDATION_START, args), args.out,
                        jobs=args.jobs, desc="calibration runs", executor=args.executor, scheduler=args.scheduler)
    x, _ = mnist("train")
    i = InputParams()  # the centre-surround filter at its defaults (cost.activity.input_pixel_sum)
    filtered = centre_surround(x, i.centre_sigma_px, i.surround_sigma_px, i.centre_surround_gain)
    stats = {"pixel_sum": _pixel_sum(x),
             "centre_surround_pixel_sum": {cost.filter_key(NetworkConfig(input=i)): _pixel_sum(filtered)},
             "protocol": (f"seed 0; learning from {args.train_samples} training images from index "
                          f"{VALIDATION_START} (validation split), then responding to the next "
                          f"{args.infer_samples}; pixel_sum: mean over the 60,000 training images"),
             "models": {}}
    if args.statistics.exists():  # calibrating some models keeps the others' statistics
        stored = cost.load_statistics(args.statistics)
        if stored.get("protocol") == stats["protocol"]:
            stats["models"] = {m: v for m, v in stored["models"].items() if m not in args.models}
    for r in results:
        t = r["task"]
        config = NetworkConfig(model=t["model"], n_neurons=t["neurons"])
        stats["models"].setdefault(t["model"], {})[str(t["neurons"])] = {
            phase: cost.Activity.from_tally(config, r["tally"][phase], pixel_sum=r["pixel_sum"][phase]).__dict__
            for phase in PHASES}
    write_json(args.statistics, stats)
    print(f"wrote {args.statistics}")


def check(args) -> int:
    results = run_tasks(count, _tasks(args.models, args.neurons, 1, 0, args), args.out, jobs=args.jobs,
                        desc="check runs", executor=args.executor, scheduler=args.scheduler)
    rows = []
    for r in results:
        t = r["task"]
        config = NetworkConfig(model=t["model"], n_neurons=t["neurons"])
        predicted = cost.estimate(config, statistics=cost.load_statistics(args.statistics))["operations"]
        counted = cost.price(config, r["tally"])["operations"]
        for phase in PHASES:
            for op in OPERATIONS:
                for view in ("model", "executed"):
                    c, p = counted[phase][op][view], predicted[phase][op][view]
                    err = (p - c) / c if c else (0.0 if p == 0 else float("inf"))
                    rows.append((t["model"], t["neurons"], phase, op, view, c, p, err))
    out = Path(args.out)
    lines = ["model,neurons,phase,operation,view,counted,predicted,relative_error"]
    lines += [f"{m},{n},{ph},{op},{v},{c:.6g},{p:.6g},{e:.6g}" for m, n, ph, op, v, c, p, e in rows]
    write_text(out / "check.csv", "\n".join(lines) + "\n")
    worst = {}
    for m, n, ph, op, v, c, p, e in rows:
        if c or p:
            key = (m, n, ph, v)
            if key not in worst or abs(e) > abs(worst[key][0]):
                worst[key] = (e, op)
    md = ["| model | neurons | phase | view | worst operation | relative error |", "|---|---:|---|---|---|---:|"]
    md += [f"| {m} | {n} | {ph} | {v} | {op} | {e:+.1%} |" for (m, n, ph, v), (e, op) in sorted(worst.items())]
    write_text(out / "check.md", "\n".join(md) + "\n")
    print("\n".join(md))
    bad = [(k, v) for k, v in worst.items() if k[3] == "model" and abs(v[0]) > args.tolerance]
    if bad:
        print(f"{len(bad)} cases off by more than {args.tolerance:.0%}", file=sys.stderr)
        return 1
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--calibrate", action="store_true")
    mode.add_argument("--check", action="store_true")
    ap.add_argument("--models", type=lambda s: s.split(","), default=list(models.names()))
    ap.add_argument("--neurons", type=int_list, default=None,
                    help="sizes (default: 100,200,400,900,1600 to calibrate, 100,400 to check)")
    ap.add_argument("--train-samples", type=int, default=1000)
    ap.add_argument("--infer-samples", type=int, default=500)
    ap.add_argument("--statistics", type=Path, default=cost.ACTIVITY_FILE)
    ap.add_argument("--tolerance", type=float, default=0.10)
    add_executor_options(ap)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    if args.neurons is None:
        args.neurons = [100, 200, 400, 900, 1600] if args.calibrate else [100, 400]
    if args.calibrate:
        calibrate(args)
        return 0
    return check(args)


if __name__ == "__main__":
    sys.exit(main())
