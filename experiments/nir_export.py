"""How well does the exported NIR graph reproduce spikedyn? Tune its free scales, then measure on the test set.

For each model (default ``diehl-cook``, ``lateral``, ``spikedyn``; 400 neurons), the run
directory ``RUNS/<model>-<N>`` is a network trained on the 60,000 MNIST training images
(one pass, seed 0) and evaluated (``spikedyn evaluate``: neurons named from the images it
learned from). With ``--train`` the script makes missing runs with the CLI.

1. **Tuning, on training images only.** The exported graph (simulated by
   :mod:`spikedyn.export.simulate` with exactly spikedyn's input spikes) and spikedyn
   respond to training images 50,000 to 50,000 + K (the input stream of the labelled
   pass). For every point of the grid of the approximation's free parameters
   (``exc_scale``, ``inh_scale``, ``reset_offset``; ``docs/export.md``) the script records the
   spike-count error ``sum |c_graph - c_spikedyn| / sum c_spikedyn`` and the agreement
   of the predicted classes. The selected point minimises the count error averaged
   over the models; it is ``spikedyn.export.nir.DEFAULT_APPROXIMATION``, and the
   script says whether the two agree.
2. **Test, once.** On the 10,000 test images (spikedyn's test input stream), spikedyn's
   accuracy with the run's labels against the exported graph's, with the same labels,
   for: the derivation alone (scales 1, no reset offset), the same with the refractory
   periods honoured (not NIR: what leaving them out costs), and the written file of
   ``export_run`` (the tuned defaults), read back with ``nir.read``.

Example (the committed results; about 25 minutes on two busy cores)::

    python experiments/nir_export.py --runs runs/nir --train --out experiments/results/nir

The committed results were made in two steps, so that the selected point could be made the
code's default before the test: ``--tune-only`` (writes ``tuning.csv``), then the command
above with ``--reuse-tuning`` (reads it back; ``results.json`` says which).

Outputs in ``--out``: ``tuning.csv`` (every grid point and model), ``results.json`` (the
selection, every measurement, the configs, seeds and versions), ``results.md`` (the
tables) and ``layout.json`` (each model's nodes and edges).
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _runner import float_list, mnist, open_text, write_text  # noqa: E402

import spikedyn  # noqa: E402
from spikedyn import cli  # noqa: E402
from spikedyn.core.encoding import STREAM_ASSIGN, STREAM_TEST  # noqa: E402
from spikedyn.export import export_run, load_labelled  # noqa: E402
from spikedyn.export import simulate  # noqa: E402
from spikedyn.export.nir import DEFAULT_APPROXIMATION, Approximation, build_graph  # noqa: E402
from spikedyn.core.readout import accuracy, predict  # noqa: E402
from spikedyn.io.files import write_json  # noqa: E402

MODELS = ("diehl-cook", "lateral", "spikedyn")
TUNE_FIRST = 50_000  # first training image of the tuning images


def agreement(ref: np.ndarray, got: np.ndarray, assignments: np.ndarray, labels: np.ndarray) -> dict:
    """How close the graph's spike counts ``got`` are to spikedyn's ``ref`` (both (n, N) int)."""
    p_ref, p_got = predict(ref, assignments), predict(got, assignments)
    fired = (ref.sum(1) > 0) & (got.sum(1) > 0)
    return {
        "accuracy": accuracy(labels, p_got),
        "accuracy_spikedyn": accuracy(labels, p_ref),
        "prediction_agreement": float(np.mean(p_ref == p_got)),
        "winner_agreement": float(np.mean(ref[fired].argmax(1) == got[fired].argmax(1))),
        "count_error": float(np.abs(got.astype(np.int64) - ref).sum() / max(1, ref.sum())),
        "count_correlation": float(np.corrcoef(ref.ravel(), got.ravel())[0, 1]),
        "mean_spikes": float(got.sum(1).mean()),
        "mean_spikes_spikedyn": float(ref.sum(1).mean()),
    }


def ensure_run(runs: Path, model: str, neurons: int, train: bool) -> Path:
    """The run directory of ``model``, trained (60,000 images, seed 0) and evaluated if ``train``."""
    run = runs / f"{model}-{neurons}"
    if not (run / "run.json").is_file():
        if not train:
            raise SystemExit(f"{run} is missing; train it (spikedyn train --model {model} --neurons {neurons} "
                             f"--out {run}) or pass --train")
        if cli.main(["train", "--model", model, "--neurons", str(neurons), "--seed", "0", "--out", str(run),
                     "--quiet"]):
            raise SystemExit(f"training {model} failed")
    if not (run / "evaluation.npz").is_file():
        if not train:
            raise SystemExit(f"{run} has no labels; run spikedyn evaluate {run}, or pass --train")
        if cli.main(["evaluate", str(run), "--quiet"]):
            raise SystemExit(f"evaluating {run} failed")
    return run


def tune(nets: dict, images: np.ndarray, labels: np.ndarray, grid: list[tuple], jobs: int) -> list[dict]:
    """Every grid point on the tuning images, per model."""
    rows = []
    for model, (net, assignments) in nets.items():
        ref = net.respond(images, stream=STREAM_ASSIGN, first_index=TUNE_FIRST, n_jobs=jobs, progress=False)
        for exc_scale, inh_scale, reset_offset in grid:
            approx = Approximation(exc_scale, inh_scale, reset_offset)
            graph = build_graph(net.config, net.weights, net.test_thresholds(), seed=net.seed, assignments=assignments,
                                approximation=approx)
            got, _ = simulate.respond(graph, images, stream=STREAM_ASSIGN, first_index=TUNE_FIRST, n_jobs=jobs)
            row = {"model": model, "exc_scale": exc_scale, "inh_scale": inh_scale, "reset_offset": reset_offset,
                   **agreement(ref, got, assignments, labels)}
            rows.append(row)
            print(f"tune {model} {exc_scale:g} {inh_scale:g} {reset_offset:g}: count error "
                  f"{row['count_error']:.3f}, predictions agree {row['prediction_agreement']:.3f}", flush=True)
    return rows


def read_tuning(path: Path, grid: list[tuple], models: list[str], tune_samples: int) -> list[dict]:
    """The rows of an earlier tuning, checked to be this grid's for these models."""
    with open(path, newline="") as f:
        rows = [{k: (v if k == "model" else float(v)) for k, v in row.items()} for row in csv.DictReader(f)]
    points = {(m, *p) for m in models for p in grid}
    found = {(r["model"], r["exc_scale"], r["inh_scale"], r["reset_offset"]) for r in rows}
    if found != points:
        raise SystemExit(f"{path} holds another grid or other models; tune again without --reuse-tuning")
    print(f"tuning read from {path} ({len(rows)} rows; {tune_samples} images assumed)", flush=True)
    return rows


def select(rows: list[dict]) -> dict:
    """The grid point with the smallest count error averaged over the models (ties: first in the grid)."""
    by_point: dict[tuple, list[float]] = {}
    for row in rows:
        by_point.setdefault((row["exc_scale"], row["inh_scale"], row["reset_offset"]), []).append(row["count_error"])
    best = min(by_point, key=lambda point: float(np.mean(by_point[point])))
    per_model = {}
    for model in sorted({row["model"] for row in rows}):
        mine = [row for row in rows if row["model"] == model]
        b = min(mine, key=lambda row: row["count_error"])
        per_model[model] = {k: b[k] for k in ("exc_scale", "inh_scale", "reset_offset", "count_error")}
    return {"exc_scale": best[0], "inh_scale": best[1], "reset_offset": best[2],
            "mean_count_error": float(np.mean(by_point[best])), "best_per_model": per_model}


def test(nets: dict, runs: dict, images: np.ndarray, labels: np.ndarray, export_dir: Path, jobs: int) -> dict:
    """Spikedyn against the exported graph on the test images, per model and variant."""
    out = {}
    for model, (net, assignments) in nets.items():
        start = time.perf_counter()
        ref = net.respond(images, stream=STREAM_TEST, n_jobs=jobs, progress=False)
        spikedyn_s = time.perf_counter() - start
        evaluation = json.loads((runs[model] / "evaluation.json").read_text())
        variants = {}
        derived = build_graph(net.config, net.weights, net.test_thresholds(), seed=net.seed, assignments=assignments,
                              approximation=Approximation())
        path = export_dir / f"{model}.nir"
        path.unlink(missing_ok=True)
        summary = export_run(runs[model], path)
        written = simulate.read_graph(path)
        for name, graph, refractory in (("derived", derived, False),
                                        ("derived + refractory (not NIR)", derived, True),
                                        ("exported file (tuned)", written, False)):
            start = time.perf_counter()
            got, presentations = simulate.respond(graph, images, stream=STREAM_TEST, refractory=refractory,
                                                  n_jobs=jobs)
            variants[name] = {**agreement(ref, got, assignments, labels),
                              "mean_presentations": float(presentations.mean()),
                              "seconds": time.perf_counter() - start}
            print(f"test {model} {name}: accuracy {variants[name]['accuracy']:.4f} (spikedyn "
                  f"{variants[name]['accuracy_spikedyn']:.4f}), count error {variants[name]['count_error']:.3f}",
                  flush=True)
        out[model] = {"run_dir": str(runs[model]), "evaluate_accuracy": evaluation["accuracy"],
                      "spikedyn_seconds": spikedyn_s, "export": {k: summary[k] for k in
                                                                 ("bytes", "sha256", "labels", "exc_scale",
                                                                  "inh_scale", "reset_offset")},
                      "nodes": summary["nodes"], "edges": summary["edges"], "variants": variants,
                      "config": net.config.to_dict(), "seed": net.seed}
    return out


def write_tables(out: Path, selection: dict, results: dict, args) -> None:
    lines = ["# Exported NIR graph against spikedyn", "",
             f"Test set: the first {args.test_samples:,} MNIST test images, spikedyn's test input spikes; labels "
             "from the run's `spikedyn evaluate` (training images it learned from). Tuned on training images "
             f"{TUNE_FIRST:,}-{TUNE_FIRST + args.tune_samples - 1:,} only: exc_scale {selection['exc_scale']:g}, "
             f"inh_scale {selection['inh_scale']:g}, reset_offset {selection['reset_offset']:g} "
             f"(mean count error {selection['mean_count_error']:.3f}).", "",
             "| model | variant | accuracy | spikedyn | predictions agree | winner agrees | count error | "
             "count r | spikes/image (spikedyn) |", "|---|---|---|---|---|---|---|---|---|"]
    for model, r in results.items():
        for name, v in r["variants"].items():
            lines.append(f"| {model} | {name} | {v['accuracy']:.4f} | {v['accuracy_spikedyn']:.4f} | "
                         f"{v['prediction_agreement']:.3f} | {v['winner_agreement']:.3f} | {v['count_error']:.3f} | "
                         f"{v['count_correlation']:.3f} | {v['mean_spikes']:.1f} ({v['mean_spikes_spikedyn']:.1f}) |")
    lines += ["", "count error: sum over images and neurons of |graph - spikedyn| / sum of spikedyn's counts; "
              "winner: the neuron with most spikes (images where both fired).", ""]
    write_text(out / "results.md", "\n".join(lines))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=Path, default=Path("runs/nir"), help="directory of the run directories")
    ap.add_argument("--out", type=Path, default=Path("experiments/results/nir"))
    ap.add_argument("--models", nargs="+", default=list(MODELS))
    ap.add_argument("--neurons", type=int, default=400)
    ap.add_argument("--train", action="store_true", help="train and evaluate missing runs (60,000 images, seed 0)")
    ap.add_argument("--tune-samples", type=int, default=2000, help="training images from 50,000 to tune on")
    ap.add_argument("--test-samples", type=int, default=10_000)
    ap.add_argument("--exc-scales", type=float_list, default=float_list("0.9,1.0,1.1"))
    ap.add_argument("--inh-scales", type=float_list, default=float_list("0.9,1.0,1.1,1.2"))
    ap.add_argument("--reset-offsets", type=float_list, default=float_list("0,0.1,0.2,0.3,0.4"))
    ap.add_argument("--tune-only", action="store_true", help="stop after the tuning (writes tuning.csv)")
    ap.add_argument("--reuse-tuning", action="store_true",
                    help="read OUT/tuning.csv (from an earlier run with the same grid and images) instead of tuning")
    ap.add_argument("--jobs", type=int, default=2, help="threads")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    runs = {model: ensure_run(args.runs, model, args.neurons, args.train) for model in args.models}
    nets = {}
    for model, run in runs.items():
        net, _, assignments, _ = load_labelled(run)
        nets[model] = (net, assignments)
    x, y = mnist("train")
    tune_x = x[TUNE_FIRST:TUNE_FIRST + args.tune_samples].reshape(args.tune_samples, -1)
    tune_y = y[TUNE_FIRST:TUNE_FIRST + args.tune_samples]
    grid = list(itertools.product(args.exc_scales, args.inh_scales, args.reset_offsets))
    tuning_csv = args.out / "tuning.csv"
    if args.reuse_tuning and tuning_csv.is_file():
        rows = read_tuning(tuning_csv, grid, args.models, args.tune_samples)
    else:
        rows = tune(nets, tune_x, tune_y, grid, args.jobs)
        with open_text(tuning_csv, newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    selection = select(rows)
    selection["tuning"] = "read from tuning.csv" if args.reuse_tuning and tuning_csv.is_file() else "computed"
    default = {"exc_scale": DEFAULT_APPROXIMATION.exc_scale, "inh_scale": DEFAULT_APPROXIMATION.inh_scale,
               "reset_offset": DEFAULT_APPROXIMATION.reset_offset}
    selection["default_in_code"] = default
    selection["default_is_selection"] = all(default[k] == selection[k] for k in default)
    print(f"selected {selection}", flush=True)
    if args.tune_only:
        write_json(args.out / "selection.json", selection)
        return 0
    tx, ty = mnist("test")
    test_x, test_y = tx[:args.test_samples].reshape(args.test_samples, -1), ty[:args.test_samples]
    export_dir = args.runs / "exported"
    export_dir.mkdir(parents=True, exist_ok=True)
    results = test(nets, runs, test_x, test_y, export_dir, args.jobs)
    import nir

    write_json(args.out / "results.json", {
        "selection": selection, "tune_images": [TUNE_FIRST, TUNE_FIRST + args.tune_samples],
        "test_images": [0, args.test_samples], "grid": {"exc_scale": args.exc_scales, "inh_scale": args.inh_scales,
                                                        "reset_offset": args.reset_offsets},
        "results": results, "spikedyn_version": spikedyn.__version__, "nir_version": nir.__version__,
        "command": " ".join(sys.argv)})
    write_json(args.out / "layout.json", {m: {"nodes": r["nodes"], "edges": r["edges"]} for m, r in results.items()})
    write_tables(args.out, selection, results, args)
    print((args.out / "results.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
