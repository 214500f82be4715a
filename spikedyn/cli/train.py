"""``spikedyn train`` and ``spikedyn evaluate``: the standard protocol (learn without labels, then name the
neurons and test), on a run directory."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from .._version import provenance
from ..config import NetworkConfig
from ..errors import ConfigError
from ..io import interrupt
from ..io.interrupt import Interrupted
from ..io.splits import ASSIGN_CHOICES, DEFAULT_ASSIGN
from .options import (CONFIG_PRECEDENCE, TRAIN_JOBS_HELP, add_config_options, add_data_dir, add_model_options,
                      add_progress, add_resume_options, add_seed, compile_kernels, config_from_args, interrupted_here,
                      positive_int, say_resuming, start_or_resume, training_jobs)

#: ``evaluate --assign-from stored``: the neurons keep the classes saved with the network.
STORED = "stored"


def add_parsers(sub) -> None:
    """Register ``train`` and ``evaluate`` on an argparse subparsers object."""
    p = sub.add_parser("train", help="train a network on MNIST without labels",
                       description=f"Train a network on MNIST without labels. {CONFIG_PRECEDENCE}")
    add_model_options(p)
    p.add_argument("--train-samples", type=positive_int, default=60000,
                   help="first K training images, in order (default 60000)")
    p.add_argument("--epochs", type=positive_int, default=1, help="passes over them (default 1)")
    add_seed(p)
    p.add_argument("--out", type=Path, default=None, help="new run directory")
    add_resume_options(p)
    p.add_argument("--jobs", type=positive_int, default=1, help=TRAIN_JOBS_HELP + " (default 1)")
    p.add_argument("--json", type=Path, default=None, help="also write a JSON summary here")
    add_config_options(p)
    add_data_dir(p)
    add_progress(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="assign labels and measure test accuracy of a trained run",
                       description="Name the neurons of a trained network from labelled training images "
                                   "(learning off) and measure its accuracy on the test images.")
    p.add_argument("run_dir", type=Path, metavar="RUN_DIR",
                   help="a run directory: the --out of 'spikedyn train', or OUT/network of 'spikedyn continual'")
    p.add_argument("--assign-from", choices=(*ASSIGN_CHOICES, STORED), default=None,
                   help="training images that name the neurons: 'learned' (those the run learned from, once each, "
                        "as Diehl & Cook did; the default for 'spikedyn train' runs), 'first'/'last' K (with "
                        "--assign-samples), 'all', or 'stored': keep the classes the run was saved with (the default "
                        "for a continual run's network, named by the protocol's last labelled pass)")
    p.add_argument("--assign-samples", type=positive_int, default=None,
                   help="K for --assign-from first/last")
    p.add_argument("--test-samples", type=positive_int, default=None,
                   help="first K test images (default: all)")
    p.add_argument("--jobs", type=positive_int, default=None, help="threads (default: all cores)")
    p.add_argument("--json", type=Path, default=None, help="also write a JSON summary here")
    add_data_dir(p)
    add_progress(p)
    p.set_defaults(func=cmd_evaluate)


def cmd_train(args: argparse.Namespace) -> dict[str, Any]:
    from ..io import checkpoint
    from ..io.checkpoint import TrainProgress
    from ..io.data import load_samples
    from ..simulation.network import Network

    def new_options() -> dict[str, Any]:
        config = config_from_args(args, model=args.model, n_neurons=args.neurons)
        return {"config": config.to_dict(), "seed": args.seed, "train_samples": args.train_samples,
                "epochs": args.epochs}

    options, meta, arrays = start_or_resume(args, "train", new_options)
    with checkpoint.reading(checkpoint.path_of(args.out)):
        config = NetworkConfig.from_saved(options["config"])
        epochs, seed, train_samples = int(options["epochs"]), options["seed"], options["train_samples"]
    images, _ = load_samples("train", args.data_dir, train_samples, progress=not args.quiet, option="--train-samples")
    say_resuming(args)
    jobs = training_jobs(config, args.jobs)
    compile_s = compile_kernels([config], learn=(True,), seed=seed, train_jobs=jobs)
    session = checkpoint.Session(checkpoint.Checkpointer(args.out, "train", options, args.checkpoint_every,
                                                         json_path=args.json),
                                 meta, arrays)
    resumed = session.resumed("train")
    if resumed is None:
        network, epoch, progress, total = Network(config, seed=seed), 0, TrainProgress(), TrainProgress()
    else:
        record, saved = resumed
        with checkpoint.reading(session.source):
            network = checkpoint.point_network(record, saved, Network)
            epoch, progress, total = (int(record["epoch"]), TrainProgress(**record["progress"]),
                                      TrainProgress(**record["total"]))

    def point(p: TrainProgress):
        return checkpoint.network_point(network, {"epoch": epoch, "progress": p.to_dict(), "total": total.to_dict()})

    with interrupt.stoppable():
        try:
            while epoch < epochs:
                progress = checkpoint.train_resumably(network, images, progress, session, "train", point,
                                                      show=not args.quiet, desc=f"train epoch {epoch + 1}/{epochs}",
                                                      n_jobs=jobs)
                total = total.then(progress)
                epoch, progress = epoch + 1, TrainProgress()
        except Interrupted as exc:
            raise interrupted_here(exc, "train", args.out) from None
    wall = total.train_seconds
    summary = {
        "command": "train",
        "model": config.model,
        "neurons": config.n_neurons,
        "seed": seed,
        "epochs": epochs,
        "train_threads": jobs,
        "train_samples": total.done,
        "learned_images": int(images.shape[0]),  # the first K training images, each seen `epochs` times
        "presentations": total.presentations,
        "mean_spikes_per_sample": total.spikes / total.done,
        "wall_seconds": wall,
        "samples_per_second": total.done / wall if wall > 0 else None,
        "compile_seconds": compile_s,
        **provenance(),
        "config": config.to_dict(),
        "cost": _counted_cost(network),
    }
    network.save(args.out, overwrite=True, extra={"training": summary})  # the checkpoint goes with it
    summary["run_dir"] = str(args.out)
    print(f"trained {config.model} with {config.n_neurons} neurons on {total.done} samples in {wall:.1f} s "
          f"({total.done / max(wall, 1e-9):.0f} samples/s); run saved to {args.out}")
    return summary


def cmd_evaluate(args: argparse.Namespace) -> dict[str, Any]:
    from ..core.encoding import STREAM_ASSIGN, STREAM_TEST
    from ..core.readout import (PAPER_READOUT, READOUTS, accuracy, assign_labels, confusion_matrix, fit_readouts,
                                predict)
    from ..io.data import load_samples
    from ..io.files import write_json, write_npz
    from ..io.runs import load_run
    from ..io.splits import assign_range, take
    from ..simulation.network import Network

    network, meta = load_run(args.run_dir, Network)
    training = meta.get("training", {})
    continual_run = training.get("command") == "continual"
    choice = args.assign_from or (STORED if continual_run and network.assignments_ is not None else DEFAULT_ASSIGN)
    if args.assign_samples is not None and choice not in ("first", "last"):
        raise ConfigError(f"--assign-samples goes with --assign-from first or last, not {choice}")
    if choice == STORED and network.assignments_ is None:
        raise ConfigError(f"{args.run_dir} was saved without assigned classes; name its neurons with --assign-from "
                          f"{'|'.join(ASSIGN_CHOICES)}")
    if choice == "learned" and continual_run:
        raise ConfigError(f"{args.run_dir} learned from images drawn task by task, not the first training images; "
                          "use --assign-from stored (its own labelled pass, the default), first, last or all")
    if choice != STORED:
        train_x, train_y = load_samples("train", args.data_dir, None, progress=not args.quiet)
        learned = training.get("learned_images", min(network.samples_seen, train_x.shape[0]))
        indices = assign_range(choice, n_learned=int(learned), n_available=train_x.shape[0],
                               k=args.assign_samples)
        assign_x, assign_y = take(train_x, train_y, indices)
    test_x, test_y = load_samples("test", args.data_dir, args.test_samples, progress=not args.quiet,
                                  option="--test-samples")
    compile_s = compile_kernels([network.config], learn=(False,), seed=network.seed)
    start = time.perf_counter()
    if choice != STORED:
        assign_counts = network.respond(assign_x, stream=STREAM_ASSIGN, n_jobs=args.jobs,
                                        progress=not args.quiet, desc="assign labels")
    test_counts = network.respond(test_x, stream=STREAM_TEST, n_jobs=args.jobs,
                                  progress=not args.quiet, desc="test")
    wall = time.perf_counter() - start
    assignments = network.assignments_ if choice == STORED else assign_labels(assign_counts, assign_y)
    predictions = predict(test_counts, assignments)
    # the other readouts need the labelled pass's counts, so a run named from its stored classes has none
    others = {} if choice == STORED else {
        kind: accuracy(test_y, r.predict(test_counts))
        for kind, r in fit_readouts(assign_counts, assign_y, kinds=READOUTS[1:]).items()}
    confusion = confusion_matrix(test_y, predictions)
    acc = accuracy(test_y, predictions)
    n_assign = 0 if choice == STORED else int(assign_x.shape[0])
    summary = {
        "command": "evaluate",
        "run_dir": str(args.run_dir),
        "model": network.config.model,
        "neurons": network.config.n_neurons,
        "accuracy": acc,
        "readout": PAPER_READOUT,
        "readout_accuracy": others,
        "n_assign": n_assign,
        "assign_from": choice,
        "assign_images": None if choice == STORED else [indices.start, indices.stop],
        "n_test": int(test_x.shape[0]),
        "per_class_accuracy": (np.diag(confusion) / np.maximum(confusion.sum(axis=1), 1)).tolist(),
        "unassigned_neurons": int(np.sum(assignments < 0)),
        "neurons_firing_at_rest": int(np.sum(network.firing_at_rest())),
        "wall_seconds": wall,
        "samples_per_second": (n_assign + test_x.shape[0]) / wall,
        "compile_seconds": compile_s,
        **provenance(),
        "cost": _counted_cost(network),
    }
    write_npz(Path(args.run_dir) / "evaluation.npz", assignments=assignments, confusion=confusion,
              predictions=predictions)
    write_json(Path(args.run_dir) / "evaluation.json", summary)
    named = ("the classes saved with the run (--assign-from stored)" if choice == STORED
             else f"training images {indices.start}-{indices.stop - 1}, --assign-from {choice}")
    print(f"accuracy {acc:.4f} on {summary['n_test']} test images (labels from {named})")
    if others:
        print("under the other readouts (spikedyn.core.readout; the paper's above): "
              + ", ".join(f"{kind} {a:.4f}" for kind, a in others.items()))
    if summary["neurons_firing_at_rest"]:
        print(f"warning: {summary['neurons_firing_at_rest']} of {network.config.n_neurons} neurons have thresholds "
              "below the resting potential and fire with no input, whatever the image; they can decide the "
              "paper's readout (docs/results.md, \"Paper scale\")", file=sys.stderr)
    return summary


def _counted_cost(network) -> dict[str, Any]:
    """The operations the network counted, priced on the default table (for the commands' JSON)."""
    from ..cost.pricing import counted

    return counted(network)
