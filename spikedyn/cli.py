"""Command-line interface: ``spikedyn train | evaluate | continual | estimate | search | validate | bench | plot``.

Every problem the user can fix ends the command with a one-line
``spikedyn: error: ...`` on stderr and exit status 2, and leaves no output file or
run directory behind (outputs are written atomically at the end).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from . import __version__
from .cli_options import (
    CONFIG_PRECEDENCE,
    Parser,
    add_config_options,
    add_data_dir,
    add_model_options,
    add_progress,
    add_resume_options,
    add_seed,
    config_from_args,
    png_path,
    positive_int,
)
from .protocol import ASSIGN_CHOICES, DEFAULT_ASSIGN
from .checkpoint import CheckpointError
from .config import NetworkConfig
from .errors import ConfigError, SpikedynError
from .interrupt import Interrupted
from . import interrupt

EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="spikedyn", description="Spiking networks that learn MNIST without labels (Numba), with a Brian2 twin.")
    parser.add_argument("--version", action="version", version=f"spikedyn {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    p = sub.add_parser("train", help="train a network on MNIST without labels",
                       description=f"Train a network on MNIST without labels. {CONFIG_PRECEDENCE}")
    add_model_options(p)
    p.add_argument("--train-samples", type=positive_int, default=60000,
                   help="first K training images, in order (default 60000)")
    p.add_argument("--epochs", type=positive_int, default=1, help="passes over them (default 1)")
    add_seed(p)
    p.add_argument("--out", type=Path, default=None, help="new run directory")
    add_resume_options(p)
    p.add_argument("--json", type=Path, default=None, help="also write a JSON summary here")
    add_config_options(p)
    add_data_dir(p)
    add_progress(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="assign labels and measure test accuracy of a trained run")
    p.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    p.add_argument("--assign-from", choices=ASSIGN_CHOICES, default=DEFAULT_ASSIGN,
                   help="training images that name the neurons: 'learned' (default; those the run learned from, "
                        "once each, as Diehl & Cook did), 'first'/'last' K (with --assign-samples), or 'all'")
    p.add_argument("--assign-samples", type=positive_int, default=None,
                   help="K for --assign-from first/last")
    p.add_argument("--test-samples", type=positive_int, default=None,
                   help="first K test images (default: all)")
    p.add_argument("--jobs", type=positive_int, default=None, help="threads (default: all cores)")
    p.add_argument("--json", type=Path, default=None, help="also write a JSON summary here")
    add_data_dir(p)
    add_progress(p)
    p.set_defaults(func=cmd_evaluate)

    from .continual import DEFAULT_ASSIGN_PER_CLASS, DEFAULT_SAMPLES_PER_TASK, SPLITS

    p = sub.add_parser("continual", help="class-incremental learning: tasks one at a time, never repeated",
                       description="Train a new network on MNIST classes arriving one task at a time (each task's "
                                   "images seen once, never again); after each task, with learning off, name the "
                                   "neurons from the classes seen so far and measure accuracy on each task seen so "
                                   f"far. {CONFIG_PRECEDENCE}")
    add_model_options(p)
    p.add_argument("--samples-per-task", type=positive_int, default=DEFAULT_SAMPLES_PER_TASK,
                   help=f"training images per task (default {DEFAULT_SAMPLES_PER_TASK})")
    p.add_argument("--tasks", type=str, default="0,1,2,3,4,5,6,7,8,9",
                   help="task order: one class each (3,1,4,...) or ranges of classes (0-1,2-3,...); "
                        "default 0,1,...,9")
    p.add_argument("--assign-per-class", type=positive_int, default=DEFAULT_ASSIGN_PER_CLASS,
                   help="labelled-pass images per class seen so far, after each task "
                        f"(default {DEFAULT_ASSIGN_PER_CLASS})")
    p.add_argument("--test-per-class", type=positive_int, default=None,
                   help="test images per class seen so far (default: all)")
    p.add_argument("--split", choices=SPLITS, default="test",
                   help="'test' (default): learn from the training set, score on the test set; 'validation': "
                        "learn from training images 0-49,999, score on 50,000-59,999 (for choosing parameters)")
    p.add_argument("--no-iid", action="store_true",
                   help="skip the i.i.d. reference (the same images, all classes shuffled together)")
    add_seed(p)
    p.add_argument("--jobs", type=positive_int, default=None, help="threads for the evaluations (default: all cores)")
    p.add_argument("--out", type=Path, default=None, help="new output directory")
    add_resume_options(p)
    p.add_argument("--json", type=Path, default=None, help="also write the JSON summary here")
    add_config_options(p)
    add_data_dir(p)
    add_progress(p)
    p.set_defaults(func=cmd_continual)

    from .config import WEIGHT_BITS
    from .energy import DEFAULT_TABLE, builtin_tables

    p = sub.add_parser("estimate", help="memory and energy per sample of a network, before training it",
                       description="The analytical cost model: memory footprint and training and inference "
                                   "energy per sample, from the config and calibrated activity statistics, "
                                   f"broken down by operation (docs/cost.md). {CONFIG_PRECEDENCE}")
    add_model_options(p)
    p.add_argument("--weight-bits", type=int, choices=WEIGHT_BITS, default=None,
                   help="weight width (default: from --config/--set, else 64, the float64 simulation)")
    p.add_argument("--energy-table", default=DEFAULT_TABLE, metavar="TABLE",
                   help=f"prices: {', '.join(builtin_tables())} or a .toml file (default {DEFAULT_TABLE})")
    p.add_argument("--statistics", type=Path, default=None, metavar="FILE",
                   help="activity statistics (default: those shipped, from experiments/cost_model.py --calibrate)")
    p.add_argument("--json", type=Path, default=None, help="also write the estimate here")
    add_config_options(p)
    p.set_defaults(func=cmd_estimate)

    from . import bench, search, validation  # neither imports Brian2 until it runs

    search.add_parser(sub)
    validation.add_parser(sub)
    bench.add_parser(sub)

    p = sub.add_parser("plot", help="figures of a run")
    plot_sub = p.add_subparsers(dest="figure", required=True, parser_class=Parser)
    q = plot_sub.add_parser("weights", help="receptive fields as a grid of 28x28 images")
    q.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    q.add_argument("-o", "--output", type=png_path, required=True, help="PNG file")
    q.set_defaults(func=cmd_plot_weights)
    q = plot_sub.add_parser("confusion", help="confusion matrix of the last 'spikedyn evaluate'")
    q.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    q.add_argument("-o", "--output", type=png_path, required=True, help="PNG file")
    q.set_defaults(func=cmd_plot_confusion)
    return parser


# -- commands ------------------------------------------------------------------------------
def start_or_resume(args: argparse.Namespace, command: str, new_options) -> tuple[dict, dict | None, dict | None]:
    """The options of a new run (``new_options()``, with ``--out`` checked), or those of the
    interrupted run in ``--resume DIR`` with its checkpoint: (options, checkpoint record or
    None, checkpoint arrays or None). Sets ``args.out``."""
    from . import checkpoint
    from .runs import check_new_run_dir

    from .files import remove_stale_temporaries

    for directory in (args.out, args.resume):  # what a writer killed in this run's directory left
        if directory is not None and Path(directory).is_dir():
            remove_stale_temporaries(directory)
    if args.resume is None:
        if args.out is None:
            raise ConfigError(f"spikedyn {command}: give --out DIR for a new run, or --resume DIR to continue an "
                              "interrupted one")
        options = json.loads(json.dumps(new_options()))  # as a checkpoint holds them
        if checkpoint.path_of(args.out).is_file():  # the same command again continues where it stopped
            meta, arrays = checkpoint.load(args.out, command)
            if meta["options"] != options:
                raise ConfigError(f"{args.out} holds an interrupted run with other options; continue it with "
                                  f"'{checkpoint.resume_command(command, args.out)}', or choose a new --out")
            print(f"spikedyn: continuing the interrupted run in {args.out}", file=sys.stderr)
            return options, meta, arrays
        check_new_run_dir(args.out)
        return options, None, None
    if args.out is not None and Path(args.out) != Path(args.resume):
        raise ConfigError(f"--resume {args.resume} continues in its own directory; drop --out {args.out}")
    meta, arrays = checkpoint.load(args.resume, command)
    options = meta["options"]
    defaults = build_parser().parse_args([command, "--resume", str(args.resume)])
    for key, value in vars(args).items():
        if key in RESUME_MAY_CHANGE or value == getattr(defaults, key, value):
            continue
        if key == "model" and value != options.get("config", {}).get("model"):
            raise CheckpointError(f"{args.resume} holds a run of model {options['config']['model']!r}, not "
                                  f"{value!r}; start a new run of {value} with a new --out")
        raise ConfigError(f"--resume continues the run as it was started; drop --{key.replace('_', '-')} "
                          f"(the checkpoint in {args.resume} has its own)")
    args.out = Path(args.resume)
    return options, meta, arrays


#: Options that may differ when a run is resumed: where the data is, how it is shown, the threads,
#: how often to checkpoint, and where to write a copy of the summary.
RESUME_MAY_CHANGE = frozenset({"resume", "out", "data_dir", "quiet", "jobs", "checkpoint_every", "json", "func",
                               "command", "executor", "scheduler"})


def interrupted_here(exc: Interrupted, command: str, out) -> Interrupted:
    """Mark ``exc`` with the command line that resumes the run in ``out``."""
    from .checkpoint import resume_command

    exc.resume = resume_command(command, out)
    return exc


def cmd_train(args: argparse.Namespace) -> dict[str, Any]:
    from . import checkpoint
    from .checkpoint import TrainProgress
    from .data import load_samples
    from .network import Network, warm_up
    from .runs import save_run

    def new_options() -> dict[str, Any]:
        config = config_from_args(args, model=args.model, n_neurons=args.neurons)
        return {"config": config.to_dict(), "seed": args.seed, "train_samples": args.train_samples,
                "epochs": args.epochs}

    options, meta, arrays = start_or_resume(args, "train", new_options)
    with checkpoint.reading(checkpoint.path_of(args.out)):
        config = NetworkConfig.from_dict(options["config"])
        epochs, seed, train_samples = int(options["epochs"]), options["seed"], options["train_samples"]
    images, _ = load_samples("train", args.data_dir, train_samples, progress=not args.quiet, option="--train-samples")
    compile_s = warm_up(config, learn=True, seed=seed)
    session = checkpoint.Session(checkpoint.Checkpointer(args.out, "train", options, args.checkpoint_every),
                                 meta, arrays)
    resumed = session.resumed("train")
    if resumed is None:
        network, epoch, progress, total = Network(config, seed=seed), 0, TrainProgress(), TrainProgress()
    else:
        record, saved = resumed
        with checkpoint.reading(session.source):
            network = checkpoint.point_network(record, saved)
            epoch, progress, total = (int(record["epoch"]), TrainProgress(**record["progress"]),
                                      TrainProgress(**record["total"]))

    def point(p: TrainProgress):
        return checkpoint.network_point(network, {"epoch": epoch, "progress": p.to_dict(), "total": total.to_dict()})

    with interrupt.stoppable():
        try:
            while epoch < epochs:
                progress = checkpoint.train_resumably(network, images, progress, session, "train", point,
                                                      show=not args.quiet, desc=f"train epoch {epoch + 1}/{epochs}")
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
        "train_samples": total.done,
        "learned_images": int(images.shape[0]),  # the first K training images, each seen `epochs` times
        "presentations": total.presentations,
        "mean_spikes_per_sample": total.spikes / total.done,
        "wall_seconds": wall,
        "samples_per_second": total.done / wall if wall > 0 else None,
        "compile_seconds": compile_s,
        "spikedyn_version": __version__,
        "config": config.to_dict(),
        "cost": _counted_cost(network),
    }
    save_run(args.out, network, extra={"training": summary}, overwrite=True)  # the checkpoint goes with it
    summary["run_dir"] = str(args.out)
    print(f"trained {config.model} with {config.n_neurons} neurons on {total.done} samples in {wall:.1f} s "
          f"({total.done / max(wall, 1e-9):.0f} samples/s); run saved to {args.out}")
    return summary


def cmd_evaluate(args: argparse.Namespace) -> dict[str, Any]:
    from .data import load_samples
    from .encoding import STREAM_ASSIGN, STREAM_TEST
    from .network import warm_up
    from .readout import accuracy, assign_labels, confusion_matrix, predict
    from .runs import load_run, write_json, write_npz

    from .protocol import assign_range, take

    network, meta = load_run(args.run_dir)
    if args.assign_samples is not None and args.assign_from not in ("first", "last"):
        raise ConfigError(f"--assign-samples goes with --assign-from first or last, not {args.assign_from}")
    train_x, train_y = load_samples("train", args.data_dir, None, progress=not args.quiet)
    learned = meta.get("training", {}).get("learned_images", min(network.samples_seen, train_x.shape[0]))
    indices = assign_range(args.assign_from, n_learned=int(learned), n_available=train_x.shape[0],
                           k=args.assign_samples)
    assign_x, assign_y = take(train_x, train_y, indices)
    test_x, test_y = load_samples("test", args.data_dir, args.test_samples, progress=not args.quiet,
                                  option="--test-samples")
    compile_s = warm_up(network.config, learn=False, seed=network.seed)
    start = time.perf_counter()
    assign_counts = network.respond(assign_x, stream=STREAM_ASSIGN, n_jobs=args.jobs,
                                    progress=not args.quiet, desc="assign labels")
    test_counts = network.respond(test_x, stream=STREAM_TEST, n_jobs=args.jobs,
                                  progress=not args.quiet, desc="test")
    wall = time.perf_counter() - start
    assignments = assign_labels(assign_counts, assign_y)
    predictions = predict(test_counts, assignments)
    confusion = confusion_matrix(test_y, predictions)
    acc = accuracy(test_y, predictions)
    summary = {
        "command": "evaluate",
        "run_dir": str(args.run_dir),
        "model": network.config.model,
        "neurons": network.config.n_neurons,
        "accuracy": acc,
        "n_assign": int(assign_x.shape[0]),
        "assign_from": args.assign_from,
        "assign_images": [indices.start, indices.stop],
        "n_test": int(test_x.shape[0]),
        "per_class_accuracy": (np.diag(confusion) / np.maximum(confusion.sum(axis=1), 1)).tolist(),
        "unassigned_neurons": int(np.sum(assignments < 0)),
        "wall_seconds": wall,
        "samples_per_second": (assign_x.shape[0] + test_x.shape[0]) / wall,
        "compile_seconds": compile_s,
        "spikedyn_version": __version__,
        "cost": _counted_cost(network),
    }
    write_npz(Path(args.run_dir) / "evaluation.npz", assignments=assignments, confusion=confusion,
              predictions=predictions)
    write_json(Path(args.run_dir) / "evaluation.json", summary)
    print(f"accuracy {acc:.4f} on {summary['n_test']} test images "
          f"(labels from training images {indices.start}-{indices.stop - 1}, --assign-from {args.assign_from})")
    return summary


def cmd_continual(args: argparse.Namespace) -> dict[str, Any]:
    from . import checkpoint, continual
    from .network import warm_up

    def new_options() -> dict[str, Any]:
        config = config_from_args(args, model=args.model, n_neurons=args.neurons)
        protocol = continual.Protocol(tasks=continual.parse_tasks(args.tasks), samples_per_task=args.samples_per_task,
                                      assign_per_class=args.assign_per_class, test_per_class=args.test_per_class,
                                      split=args.split)
        return {"config": config.to_dict(), "seed": args.seed, "protocol": protocol.to_dict(), "iid": not args.no_iid}

    options, meta, arrays = start_or_resume(args, "continual", new_options)
    with checkpoint.reading(checkpoint.path_of(args.out)):
        config = NetworkConfig.from_dict(options["config"])
        protocol = continual.Protocol.from_dict(options["protocol"])
        seed, iid_reference = options["seed"], bool(options["iid"])
    pools = continual.load_pools(protocol.split, args.data_dir, progress=not args.quiet)
    continual._plan(pools, protocol)  # every class found before anything is compiled or written
    compile_s = warm_up(config, learn=True, seed=seed) + warm_up(config, learn=False, seed=seed)
    session = checkpoint.Session(checkpoint.Checkpointer(args.out, "continual", options, args.checkpoint_every),
                                 meta, arrays)
    with interrupt.stoppable():
        try:
            result = continual.run(config, seed=seed, protocol=protocol, pools=pools, n_jobs=args.jobs,
                                   progress=not args.quiet, session=session)
            iid = None
            if iid_reference:
                iid = continual.run_iid(config, seed=seed, protocol=protocol, pools=pools, n_jobs=args.jobs,
                                        progress=not args.quiet, session=session)
        except Interrupted as exc:
            raise interrupted_here(exc, "continual", args.out) from None
    summary = continual.write_outputs(result, args.out, iid=iid, overwrite=True,
                                      extra={"command": "continual", "compile_seconds": compile_s,
                                             "out": str(args.out)})
    old = [x for x in summary["old_task_accuracy"] if x is not None]
    line = (f"{config.model}, {config.n_neurons} neurons, {len(protocol.tasks)} tasks in {result.wall_seconds:.0f} s: "
            f"final average accuracy {summary['final_average_accuracy']:.3f}, "
            f"mean newest-task {np.mean(summary['new_task_accuracy']):.3f}")
    if old:
        line += f", mean previous-tasks {np.mean(old):.3f}, BWT {summary['bwt']:+.3f}"
    if iid is not None:
        line += f"; i.i.d. reference {iid['average_accuracy']:.3f}"
    print(line + f"; written to {args.out}")
    return summary


def cmd_estimate(args: argparse.Namespace) -> dict[str, Any]:
    from . import cost

    config = config_from_args(args, model=args.model, n_neurons=args.neurons,
                              precision__weight_bits=args.weight_bits)
    stats = None if args.statistics is None else cost.load_statistics(args.statistics)
    est = cost.estimate(config, table=args.energy_table, statistics=stats)
    summary = {"command": "estimate", **est, "config": config.to_dict(), "spikedyn_version": __version__}
    print(f"{config.model}, {config.n_neurons} neurons, {config.precision.weight_bits}-bit weights, "
          f"energy table {est['energy_table']}:")
    print(f"  memory     {est['memory_kb']:10.1f} KB")
    for key, phase in (("train", "train"), ("infer", "inference")):
        total = est[f"{key}_energy_uj"]
        if total is None:
            print(f"  {phase:<10} unavailable: the table cannot run {', '.join(est[f'{key}_unsupported'])}")
            continue
        top = sorted(est["breakdown"][phase].items(), key=lambda kv: -kv[1])[:3]
        parts = ", ".join(f"{op} {e / total:.0%}" for op, e in top if total > 0)
        print(f"  {phase:<10} {total:10.3f} uJ per sample ({parts})")
    return summary


def _counted_cost(network) -> dict[str, Any]:
    """The operations the network counted, priced on the default table (for the commands' JSON)."""
    from . import cost

    return cost.counted(network)


def _use_file_backend() -> None:
    """Select matplotlib's file-only Agg backend: the plot commands only write PNG files."""
    import matplotlib

    matplotlib.use("Agg")


def cmd_plot_weights(args: argparse.Namespace) -> dict[str, Any]:
    from .plotting import plot_weights, save_figure
    from .runs import load_run

    network, _ = load_run(args.run_dir)
    _use_file_backend()
    ax = plot_weights(network.weights,
                      title=f"{network.config.model}, {network.config.n_neurons} neurons, "
                            f"{network.samples_seen} samples")
    save_figure(ax.figure, args.output)
    print(f"wrote {args.output}")
    return {}


def cmd_plot_confusion(args: argparse.Namespace) -> dict[str, Any]:
    from .plotting import plot_confusion, save_figure
    from .runs import RunError, read_meta

    read_meta(args.run_dir)
    path = Path(args.run_dir) / "evaluation.npz"
    if not path.is_file():
        raise RunError(f"{args.run_dir} has no evaluation yet; run 'spikedyn evaluate {args.run_dir}' first")
    try:
        with np.load(path) as z:
            confusion = z["confusion"]
    except (OSError, ValueError, KeyError, EOFError) as exc:
        raise RunError(f"{path} is unreadable ({exc}); run 'spikedyn evaluate {args.run_dir}' again") from None
    if confusion.ndim != 2 or confusion.shape[0] != confusion.shape[1] or not np.issubdtype(confusion.dtype,
                                                                                            np.integer):
        raise RunError(f"{path} holds no confusion matrix; run 'spikedyn evaluate {args.run_dir}' again")
    _use_file_backend()
    save_figure(plot_confusion(confusion).figure, args.output)
    print(f"wrote {args.output}")
    return {}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``spikedyn`` command; returns the exit status."""
    try:
        args = build_parser().parse_args(argv)
        json_path = getattr(args, "json", None)
        if json_path is not None and json_path.exists() and json_path.is_dir():
            raise ConfigError(f"--json {json_path} is a directory; give a file name")
        summary = args.func(args)
        if json_path is not None:
            from .runs import write_json

            write_json(json_path, summary)
    except SpikedynError as exc:
        print(f"spikedyn: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Interrupted as exc:
        if exc.resume is None:
            print(f"spikedyn: {exc}; nothing was written", file=sys.stderr)
        else:
            print(f"spikedyn: {exc}; checkpoint written. Resume with: {exc.resume}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:  # before a run could checkpoint, or a second Ctrl-C
        print("spikedyn: interrupted; no checkpoint written now (files written before are intact)", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
