"""The paper-scale networks (1600 and 6400 neurons): accuracy, and the neurons that fire with no input.

Each network learns from the first ``--train-samples`` MNIST training images in order,
``--epochs`` passes (the authors' code: 3); its neurons are named from the images it
learned from, once each (learning off), and it is scored on all 10,000 test images
(``--split test``, final numbers only) or learns from images 0-49,999 and is scored on the
validation images 50,000-59,999 (``--split validation``, for choices; the test set is
then never loaded).

Besides the paper's readout and the other readouts of ``spikedyn.core.readout`` (fitted
on the same labelled pass), every network reports what decides its paper readout at this
size: the neurons whose threshold lies below the resting potential
(``Network.firing_at_rest``): how many there are, how far their weights moved from their
initial values (largest weight), their share of the test spikes, the class the labelled
pass gives them, and the paper's readout with them left unnamed (a diagnosis, not a
readout we offer: it uses which neurons fire at rest, which the paper's protocol does not).

``--variant`` runs the same networks with config overrides (repeatable; ``defaults`` is
the package's defaults). The variant behind docs/results.md, "Paper scale": thresholds
that start at 0 and decay to 0 with no offset, so a threshold never falls below
``v_thresh`` (BindsNET's ``DiehlAndCookNodes``), against [DC15]'s start at 20 mV with a
20 mV offset, which lets an unused neuron's threshold decay to 7 mV below rest.

Example (about 25 minutes per 1600-neuron network on one core here)::

    python experiments/paper_scale.py --neurons 1600 --epochs 1 --split validation --seeds 0,1 \\
        --variant defaults --variant "excitatory.theta_init_mv=0 excitatory.theta_offset_mv=0" \\
        --out experiments/results/paper_scale_validation --jobs 2

Outputs in ``--out``: ``runs/`` (one JSON per network, reused on a rerun with the same
source), ``table.md`` and ``table.csv`` (``--tables-only``: from every stored run, for runs made by
several invocations, e.g. with different ``--threads``). ``--run-dir DIR`` (with ``--split test``) reads out a network
trained before, e.g. by ``spikedyn train --model diehl-cook --neurons 6400 --epochs 3 --jobs 2 --out DIR``,
the same way.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import split_data  # noqa: E402
from _runner import add_executor_options, int_list, mean_sd, open_text, run_tasks, stored_runs, write_text  # noqa: E402

from spikedyn.config import NetworkConfig, parse_set  # noqa: E402
from spikedyn.core.encoding import STREAM_ASSIGN, STREAM_TEST  # noqa: E402
from spikedyn.core.readout import READOUTS, accuracy, assign_labels, fit_readouts, predict  # noqa: E402
from spikedyn.io.splits import TRAIN_SAMPLES  # noqa: E402
from spikedyn.simulation.network import Network, warm_up  # noqa: E402

#: Diehl & Cook (2015), test accuracy by number of excitatory neurons.
PAPER = {100: 0.829, 400: 0.870, 1600: 0.919, 6400: 0.950}
DEFAULTS = "defaults"


def variant_overrides(variant: str) -> dict:
    """The config overrides of a ``--variant``: ``defaults`` or space-separated ``section.field=value``."""
    return {} if variant == DEFAULTS else dict(parse_set(item) for item in variant.split())


def diagnose(net: Network, named_counts: np.ndarray, named_labels: np.ndarray, counts: np.ndarray,
             labels: np.ndarray) -> dict:
    """The accuracy of every readout, and what the neurons firing at rest do to the paper's."""
    assignments = assign_labels(named_counts, named_labels)
    at_rest = net.firing_at_rest()
    unnamed = assignments.copy()
    unnamed[at_rest] = -1
    theta = net.test_thresholds()
    largest = net.weights.max(axis=0)
    spikes = counts.sum()
    exc = net.config.excitatory
    gap = exc.v_thresh_mv - exc.theta_offset_mv + theta - exc.v_rest_mv  # threshold above rest, mV
    lowest = np.argsort(gap, kind="stable")[:max(1, gap.size // 100)]
    return {
        "accuracy": accuracy(labels, predict(counts, assignments)),
        "readout_accuracy": {k: accuracy(labels, r.predict(counts))
                             for k, r in fit_readouts(named_counts, named_labels, kinds=READOUTS[1:]).items()},
        "unassigned_neurons": int(np.sum(assignments < 0)),
        "firing_at_rest": int(at_rest.sum()),
        "firing_at_rest_classes": np.bincount(assignments[at_rest] + 1, minlength=11).tolist(),  # [-1, 0..9]
        "firing_at_rest_spike_share": float(counts[:, at_rest].sum() / spikes) if spikes else 0.0,
        "firing_at_rest_largest_weight_median": float(np.median(largest[at_rest])) if at_rest.any() else None,
        "others_largest_weight_median": float(np.median(largest[~at_rest])) if (~at_rest).any() else None,
        "accuracy_without_firing_at_rest": accuracy(labels, predict(counts, unnamed)),
        "test_spikes_per_image": float(spikes / max(counts.shape[0], 1)),
        # where the spikes go: the neurons that answer most, and those nearest to firing at rest
        "winners": int(np.unique(counts.argmax(axis=1)[counts.max(axis=1) > 0]).size),
        "lowest_threshold_1pct_spike_share": float(counts[:, lowest].sum() / spikes) if spikes else 0.0,
        "threshold_above_rest_mv": dict(zip(("p0", "p1", "p10", "p50"),
                                            np.percentile(gap, [0, 1, 10, 50]).tolist())),
        "theta_percentiles_mv": dict(zip(("p0", "p10", "p50", "p90", "p100"),
                                         np.percentile(theta, [0, 10, 50, 90, 100]).tolist())),
    }


def read_out(net: Network, named_x, named_y, xs, ys, threads: int) -> dict:
    """The labelled pass over ``named_x`` and the responses to ``xs`` (learning off), diagnosed; with the
    seconds they took (``eval_seconds``)."""
    start = time.perf_counter()
    named = net.respond(named_x, stream=STREAM_ASSIGN, n_jobs=threads, progress=False)
    counts = net.respond(xs, stream=STREAM_TEST, n_jobs=threads, progress=False)
    return {**diagnose(net, named, named_y, counts, ys), "eval_seconds": time.perf_counter() - start}


def run(task: dict) -> dict:
    x, y, xs, ys = split_data(task["split"])
    per_epoch = min(task["train_samples"], x.shape[0])
    config = NetworkConfig(model=task["model"], n_neurons=task["neurons"]).replace(
        **variant_overrides(task["variant"]))
    warm_up(config, learn=True, seed=task["seed"])  # compilation is not training time
    net = Network(config, seed=task["seed"])
    start = time.perf_counter()
    for _ in range(task["epochs"]):
        net.train(x[:per_epoch], progress=False, n_jobs=task["threads"])
    train_s = time.perf_counter() - start
    return {**read_out(net, x[:per_epoch], y[:per_epoch], xs, ys, task["threads"]), "train_seconds": train_s,
            "train_samples_per_second": per_epoch * task["epochs"] / train_s, "config": config.to_dict()}


def saved(task: dict) -> dict:
    """A network already trained (``spikedyn train --out DIR``), read out as :func:`run` reads its own."""
    x, y, xs, ys = split_data("test")
    net = Network.load(task["run_dir"])
    meta = json.loads((Path(task["run_dir"]) / "run.json").read_text())
    learned = int(meta.get("training", {}).get("learned_images", min(net.samples_seen, x.shape[0])))
    return {**read_out(net, x[:learned], y[:learned], xs, ys, task["threads"]),
            "train_seconds": meta.get("training", {}).get("wall_seconds"),  # None: not recorded
            "trained_by": {k: meta.get(k) for k in ("spikedyn_version", "source_hash")},
            "config": net.config.to_dict()}


def overrides(config: dict) -> str:
    """The fields of a saved network's config that differ from the package defaults at its model and size."""
    defaults = NetworkConfig(model=config["model"], n_neurons=config["n_neurons"]).to_dict()
    diff = [f"{section}.{k}={v}" for section, fields in config.items() if isinstance(fields, dict)
            for k, v in fields.items() if defaults.get(section, {}).get(k, v) != v]
    return " ".join(diff) or DEFAULTS


def summarise(results: list[dict], out: Path, split: str) -> str:
    groups: dict[tuple, list[dict]] = {}
    for r in results:
        t = r["task"]
        variant = t["variant"]
        if "trained_by" in r:  # a network trained before: its settings and the code that trained it
            variant = (f"{overrides(r['config'])} (trained before, by spikedyn {r['trained_by']['spikedyn_version']}, "
                       f"source {r['trained_by']['source_hash']})")
        groups.setdefault((t["model"], t["neurons"], t["epochs"], variant), []).append(r)
    rows = []
    for (model, n, epochs, variant), rs in sorted(groups.items()):
        row = {"model": model, "neurons": n, "epochs": epochs, "variant": variant, "seeds": len(rs),
               "paper": PAPER.get(n) if split == "test" else None}
        for key in ("accuracy", "accuracy_without_firing_at_rest", "firing_at_rest", "firing_at_rest_spike_share"):
            row[f"{key}_mean"], row[f"{key}_sd"] = mean_sd(r[key] for r in rs)
        times = [r["train_seconds"] for r in rs if r.get("train_seconds") is not None]
        row["train_seconds_mean"] = mean_sd(times)[0] if times else float("nan")
        for kind in READOUTS[1:]:
            row[f"{kind}_mean"], row[f"{kind}_sd"] = mean_sd(r["readout_accuracy"][kind] for r in rs)
        if len(rs) == 1:  # one seed: no spread to show
            row.update({k: float("nan") for k in row if k.endswith("_sd")})
        # absent from runs stored before these columns existed: over the runs that have them
        for key in ("winners", "lowest_threshold_1pct_spike_share"):
            have = [r[key] for r in rs if key in r]
            row[f"{key}_mean"], row[f"{key}_sd"] = mean_sd(have) if have else (float("nan"), float("nan"))
            if len(have) == 1:
                row[f"{key}_sd"] = float("nan")  # one seed: no spread to show
        have = [r["threshold_above_rest_mv"]["p0"] for r in rs if "threshold_above_rest_mv" in r]
        row["lowest_above_rest_mv"] = min(have) if have else float("nan")
        row["seeds_with_spike_columns"] = len(have)
        row["per_seed"] = " ".join(f"{r['accuracy']:.3f}" for r in sorted(rs, key=lambda r: r["task"]["seed"]))
        rows.append(row)
    with open_text(out / "table.csv", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    scored = "all 10,000 test images" if split == "test" else "the validation images 50,000-59,999"
    def pm(r, k, f=".3f"):
        m, sd = r[k + "_mean"], r[k + "_sd"]
        if m != m:
            return "-"  # runs stored before the column existed
        return f"{m:{f}}" if sd != sd else f"{m:{f}} ± {sd:{f}}"  # one seed: the value alone

    def one(x, f):
        return "-" if x != x else f"{x:{f}}"

    lines = [f"Accuracy on {scored} (mean ± sd over seeds; neurons named from the training images learned "
             "from, learning off) and where the spikes on those images go at the end of training: the lowest threshold "
             "above the resting potential (mV, over seeds), the share of the spikes fired by the 1 % of neurons "
             "with the lowest thresholds, the number of distinct neurons that answer an image most, and the "
             "neurons whose threshold lies below rest (`Network.firing_at_rest`: their number, their share of "
             "the spikes, and the paper's readout with them unnamed); \"-\": runs stored before those columns existed "
             "(the others are over the seeds that have them); a value without ± comes from one seed. Among equal "
             "thresholds (many neurons share the floor at x = 0) the 1 % is taken in neuron order. Source of the "
             "code that trained and read out: "
             + ", ".join(sorted({str(r.get('source_hash')) for r in results})) + ".", "",
             "| model | neurons | passes | variant | paper's readout | per seed | profile | logistic | "
             "lowest threshold above rest | spikes, 1 % lowest thresholds | distinct winners | firing at rest "
             "(share of spikes) | paper's readout, those unnamed | paper | training min |",
             "|---|---:|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        paper = "-" if r["paper"] is None else f"{r['paper']:.3f}"
        lines.append(f"| `{r['model']}` | {r['neurons']} | {r['epochs']:g} | {r['variant']} | **{pm(r, 'accuracy')}** "
                     f"| {r['per_seed']} | {pm(r, 'profile')} | {pm(r, 'logistic')} | "
                     f"{one(r['lowest_above_rest_mv'], '.1f')} | {pm(r, 'lowest_threshold_1pct_spike_share', '.2f')} | "
                     f"{one(r['winners_mean'], '.0f')} | {r['firing_at_rest_mean']:.0f} "
                     f"({r['firing_at_rest_spike_share_mean']:.2f}) | {pm(r, 'accuracy_without_firing_at_rest')} | "
                     f"{paper} | {one(r['train_seconds_mean'] / 60, '.0f')} |")
    text = "\n".join(lines) + "\n"
    write_text(out / "table.md", text)
    return text


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="diehl-cook")
    p.add_argument("--neurons", type=int_list, default=None,
                   help="sizes to train (default 1600; none when only --run-dir networks are read out)")
    p.add_argument("--epochs", type=int, default=3, help="passes over the training images (the authors' code: 3)")
    p.add_argument("--train-samples", type=int, default=60_000, help="the first K training images, per pass")
    p.add_argument("--seeds", type=int_list, default=[0, 1, 2])
    p.add_argument("--split", choices=("test", "validation"), default="validation")
    p.add_argument("--variant", action="append", default=[], metavar="'SECTION.FIELD=VALUE ...'|defaults")
    p.add_argument("--threads", type=int, default=1, help="simulation threads per network (spikedyn train --jobs)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--run-dir", type=Path, action="append", default=[],
                   help="also read out a network trained before (spikedyn train --out DIR; test split only)")
    p.add_argument("--tables-only", action="store_true",
                   help="write the tables from every stored run of --split in --out/runs, computing nothing")
    add_executor_options(p)
    args = p.parse_args(argv)
    if args.tables_only:
        stored = stored_runs(args.out)
        stored = [r for r in stored if r.get("task", {}).get("split") == args.split]
        if not stored:
            p.error(f"--tables-only: no stored run of the {args.split} split in {args.out / 'runs'}")
        print(summarise(stored, args.out, args.split))
        return
    if args.run_dir and args.split != "test":
        p.error("--run-dir reads out a network trained on the standard protocol: use it with --split test")
    if args.neurons is None:
        args.neurons = [] if args.run_dir else [1600]
    for v in args.variant or [DEFAULTS]:
        variant_overrides(v)  # a bad override fails here, before any run
    size = "" if args.train_samples == 60_000 else f"-n{args.train_samples}"
    tasks = [{"id": f"{args.model}-{n}-e{args.epochs}{size}-{v.replace(' ', '_')}-{args.split}-seed{s}",
              "model": args.model, "neurons": n, "epochs": args.epochs, "train_samples": args.train_samples,
              "split": args.split, "variant": v, "seed": s, "threads": args.threads}
             for n in args.neurons for v in (args.variant or [DEFAULTS]) for s in args.seeds]
    if args.run_dir:
        for d in args.run_dir:
            if not (d / "run.json").is_file():
                p.error(f"{d} is not a run directory (no run.json); give a directory of spikedyn train --out")
        tasks_saved = []
        for d in args.run_dir:
            meta = json.loads((d / "run.json").read_text())
            learned = meta.get("training", {}).get("learned_images", min(meta["samples_seen"], TRAIN_SAMPLES))
            epochs = round(meta["samples_seen"] / max(learned, 1), 2)  # passes over the images it learned from
            where = str(d.resolve())
            tasks_saved.append({"id": f"saved-{d.name}-{hashlib.sha1(where.encode()).hexdigest()[:8]}",
                                "model": meta["config"]["model"], "neurons": meta["config"]["n_neurons"],
                                "epochs": epochs, "split": "test", "variant": f"trained before: {d.name}",
                                "seed": meta["seed"], "threads": args.threads, "run_dir": where,
                                # a network trained again in the same directory is read out again
                                "trained": [meta["samples_seen"], meta.get("source_hash")]})
        saved_results = run_tasks(saved, tasks_saved, args.out, jobs=1, desc="saved networks")
    else:
        saved_results = []
    if not tasks and not saved_results:
        p.error("nothing to run: give --neurons (sizes to train) or --run-dir (networks to read out)")
    results = run_tasks(run, tasks, args.out, jobs=args.jobs, desc="networks", executor=args.executor,
                        scheduler=args.scheduler, cost=lambda t: float(t["neurons"] * t["epochs"])) if tasks else []
    print(summarise(results + saved_results, args.out, args.split))


if __name__ == "__main__":
    main()
