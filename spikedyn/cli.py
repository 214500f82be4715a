"""Command-line interface: ``spikedyn train | evaluate | validate | bench | plot``.

Every problem the user can fix ends the command with a one-line
``spikedyn: error: ...`` on stderr and exit status 2, and leaves no output file or
run directory behind (outputs are written atomically at the end).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from . import __version__
from .config import MODELS, NetworkConfig
from .errors import ConfigError, SpikedynError

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and raise instead of exiting."""

    def error(self, message: str):  # noqa: D102 - argparse API
        raise ConfigError(f"{self.prog}: {message}; see '{self.prog} --help'")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer seed, got {text!r}") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"seed must be in [0, 2**63), got {value}")
    return value


def _add_data_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data-dir", type=Path, default=None,
        help="directory with the four MNIST IDX files (raw or .gz); default: $SPIKEDYN_DATA_DIR, "
             "else the user cache, downloading MNIST there if needed",
    )


def _add_seed(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=_seed, default=0, help="initial weights and input spikes (default 0)")


def _add_progress(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="spikedyn", description="Spiking networks that learn MNIST without labels (Numba), with a Brian2 twin.")
    parser.add_argument("--version", action="version", version=f"spikedyn {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    defaults = NetworkConfig()
    p = sub.add_parser("train", help="train a network on MNIST without labels")
    p.add_argument("--model", choices=MODELS, default=defaults.model,
                   help=f"competition scheme (default {defaults.model})")
    p.add_argument("--neurons", type=_positive_int, default=defaults.n_neurons,
                   help=f"excitatory neurons (default {defaults.n_neurons})")
    p.add_argument("--train-samples", type=_positive_int, default=60000,
                   help="first K training images, in order (default 60000)")
    p.add_argument("--epochs", type=_positive_int, default=1, help="passes over them (default 1)")
    _add_seed(p)
    p.add_argument("--out", type=Path, required=True, help="new run directory")
    p.add_argument("--json", type=Path, default=None, help="also write a JSON summary here")
    _add_data_dir(p)
    _add_progress(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="assign labels and measure test accuracy of a trained run")
    p.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    p.add_argument("--assign-samples", type=_positive_int, default=10000,
                   help="label neurons from the first K training images (default 10000)")
    p.add_argument("--test-samples", type=_positive_int, default=None,
                   help="first K test images (default: all)")
    p.add_argument("--jobs", type=_positive_int, default=None, help="threads (default: all cores)")
    p.add_argument("--json", type=Path, default=None, help="also write a JSON summary here")
    _add_data_dir(p)
    _add_progress(p)
    p.set_defaults(func=cmd_evaluate)

    from . import bench, validation  # neither imports Brian2 until it runs

    validation.add_parser(sub)
    bench.add_parser(sub)

    p = sub.add_parser("plot", help="figures of a run")
    plot_sub = p.add_subparsers(dest="figure", required=True, parser_class=_Parser)
    q = plot_sub.add_parser("weights", help="receptive fields as a grid of 28x28 images")
    q.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    q.add_argument("-o", "--output", type=Path, required=True, help="PNG file")
    q.set_defaults(func=cmd_plot_weights)
    q = plot_sub.add_parser("confusion", help="confusion matrix of the last 'spikedyn evaluate'")
    q.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    q.add_argument("-o", "--output", type=Path, required=True, help="PNG file")
    q.set_defaults(func=cmd_plot_confusion)
    return parser


# -- commands ------------------------------------------------------------------------------
def _warm_up(config: NetworkConfig, seed: int, images: np.ndarray, *, learn: bool) -> float:
    """Compile (or load from cache) the kernels on a throwaway network; seconds taken."""
    from .network import Network

    start = time.perf_counter()
    scratch = Network(config, seed=seed)
    if learn:
        scratch.train(images[:1], progress=False)
    else:
        scratch.respond(images[:1], stream=0, progress=False, n_jobs=1)
    return time.perf_counter() - start


def cmd_train(args: argparse.Namespace) -> dict[str, Any]:
    from .data import load_samples
    from .network import Network
    from .runs import check_new_run_dir, save_run

    config = NetworkConfig(model=args.model, n_neurons=args.neurons)
    check_new_run_dir(args.out)
    images, _ = load_samples("train", args.data_dir, args.train_samples, progress=not args.quiet,
                             option="--train-samples")
    compile_s = _warm_up(config, args.seed, images, learn=True)
    network = Network(config, seed=args.seed)
    stats = []
    for epoch in range(args.epochs):
        stats.append(network.train(images, progress=not args.quiet, desc=f"train epoch {epoch + 1}/{args.epochs}"))
    wall = sum(s.wall_seconds for s in stats)
    n_total = sum(s.train_samples for s in stats)
    summary = {
        "command": "train",
        "model": args.model,
        "neurons": args.neurons,
        "seed": args.seed,
        "epochs": args.epochs,
        "train_samples": n_total,
        "presentations": sum(s.presentations for s in stats),
        "mean_spikes_per_sample": sum(s.mean_spikes_per_sample * s.train_samples for s in stats) / n_total,
        "wall_seconds": wall,
        "samples_per_second": n_total / wall,
        "compile_seconds": compile_s,
        "spikedyn_version": __version__,
    }
    save_run(args.out, network, extra={"training": summary})
    summary["run_dir"] = str(args.out)
    print(f"trained {args.model} with {args.neurons} neurons on {n_total} samples in {wall:.1f} s "
          f"({summary['samples_per_second']:.0f} samples/s); run saved to {args.out}")
    return summary


def cmd_evaluate(args: argparse.Namespace) -> dict[str, Any]:
    from .data import load_samples
    from .encoding import STREAM_ASSIGN, STREAM_TEST
    from .readout import accuracy, assign_labels, confusion_matrix, predict
    from .runs import load_run, write_json, write_npz

    network, meta = load_run(args.run_dir)
    assign_x, assign_y = load_samples("train", args.data_dir, args.assign_samples, progress=not args.quiet,
                                      option="--assign-samples")
    test_x, test_y = load_samples("test", args.data_dir, args.test_samples, progress=not args.quiet,
                                  option="--test-samples")
    compile_s = _warm_up(network.config, network.seed, test_x, learn=False)
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
        "n_test": int(test_x.shape[0]),
        "per_class_accuracy": (np.diag(confusion) / np.maximum(confusion.sum(axis=1), 1)).tolist(),
        "unassigned_neurons": int(np.sum(assignments < 0)),
        "wall_seconds": wall,
        "samples_per_second": (assign_x.shape[0] + test_x.shape[0]) / wall,
        "compile_seconds": compile_s,
        "spikedyn_version": __version__,
    }
    write_npz(Path(args.run_dir) / "evaluation.npz", assignments=assignments, confusion=confusion,
              predictions=predictions)
    write_json(Path(args.run_dir) / "evaluation.json", summary)
    print(f"accuracy {acc:.4f} on {summary['n_test']} test images "
          f"(labels from {summary['n_assign']} training images)")
    return summary


def cmd_plot_weights(args: argparse.Namespace) -> dict[str, Any]:
    from .plotting import plot_weights
    from .runs import load_run

    network, _ = load_run(args.run_dir)
    plot_weights(network.weights, args.output,
                 title=f"{network.config.model}, {network.config.n_neurons} neurons, "
                       f"{network.samples_seen} samples")
    print(f"wrote {args.output}")
    return {}


def cmd_plot_confusion(args: argparse.Namespace) -> dict[str, Any]:
    from .plotting import plot_confusion
    from .runs import RunError, read_meta

    read_meta(args.run_dir)
    path = Path(args.run_dir) / "evaluation.npz"
    if not path.is_file():
        raise RunError(f"{args.run_dir} has no evaluation yet; run 'spikedyn evaluate {args.run_dir}' first")
    with np.load(path) as z:
        confusion = z["confusion"]
    plot_confusion(confusion, args.output)
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
    except KeyboardInterrupt:
        print("spikedyn: interrupted; nothing was written", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
