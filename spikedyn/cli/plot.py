"""``spikedyn plot``: figures of a run, written as PNG files."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from .options import Parser, png_path


def add_parsers(sub) -> None:
    """Register ``plot weights`` and ``plot confusion`` on an argparse subparsers object."""
    p = sub.add_parser("plot", help="figures of a run")
    plot_sub = p.add_subparsers(dest="figure", required=True, parser_class=Parser)
    q = plot_sub.add_parser("weights", help="receptive fields as a grid of 28x28 images",
                            description="Every neuron's receptive field (or those of --show), with its assigned "
                                        "class (from the run's labelled pass: a continual run's network, or "
                                        "'spikedyn evaluate') and untrained neurons hatched.")
    q.add_argument("run_dir", type=Path, metavar="RUN_DIR",
                   help="a run directory: the --out of 'spikedyn train', or OUT/network of 'spikedyn continual'")
    q.add_argument("-o", "--output", type=png_path, required=True, help="PNG file to write")
    q.add_argument("--show", type=neuron_list, default=None, metavar="NEURONS",
                   help="which neurons: indices and ranges, e.g. 0-99 or 3,7,20-29 (default: all)")
    q.set_defaults(func=cmd_plot_weights)
    q = plot_sub.add_parser("confusion", help="confusion matrix of the last 'spikedyn evaluate'")
    q.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a run directory evaluated by 'spikedyn evaluate'")
    q.add_argument("-o", "--output", type=png_path, required=True, help="PNG file to write")
    q.set_defaults(func=cmd_plot_confusion)


def _use_file_backend() -> None:
    """Select matplotlib's file-only Agg backend: the plot commands only write PNG files."""
    import matplotlib

    matplotlib.use("Agg")


def neuron_list(text: str) -> list[int]:
    """Argparse type of ``--show``: ``0-99`` or ``3,7,20-29``, as sorted unique indices."""
    out: set[int] = set()
    for item in text.split(","):
        lo, sep, hi = item.strip().partition("-")
        try:
            a, b = int(lo), int(hi) if sep else int(lo)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected neuron indices and ranges such as 0-99 or 3,7,20-29, "
                                             f"got {text!r}") from None
        if a < 0 or b < a:
            raise argparse.ArgumentTypeError(f"{item.strip()!r} is not a range of neuron indices (low-high, >= 0)")
        out.update(range(a, b + 1))
    return sorted(out)


def _assignments(run_dir: Path, network) -> np.ndarray | None:
    """The run's assigned classes: saved with the network, else from its last 'spikedyn evaluate'."""
    if network.assignments_ is not None:
        return network.assignments_
    path = run_dir / "evaluation.npz"
    if path.is_file():
        try:
            with np.load(path) as z:
                a = z["assignments"]
        except (OSError, ValueError, KeyError, EOFError):
            return None
        if a.shape == (network.config.n_neurons,):
            return a
    return None


def cmd_plot_weights(args: argparse.Namespace) -> dict[str, Any]:
    from ..plotting import plot_weights, save_figure
    from ..plotting.network import untrained_neurons
    from ..simulation.network import Network

    network = Network.load(args.run_dir)
    n = network.config.n_neurons
    if args.show is not None and args.show[-1] >= n:
        from ..errors import ConfigError

        raise ConfigError(f"--show {args.show[-1]} is not a neuron of {args.run_dir}, which has neurons 0-{n - 1}")
    untrained = untrained_neurons(network.weights, Network(network.config, seed=network.seed).weights)
    _use_file_backend()
    ax = plot_weights(network.weights, neurons=args.show, assignments=_assignments(Path(args.run_dir), network),
                      untrained=untrained,
                      title=f"{network.config.model}, {n} neurons, {network.samples_seen} samples")
    save_figure(ax.figure, args.output)
    print(f"wrote {args.output}")
    return {}


def cmd_plot_confusion(args: argparse.Namespace) -> dict[str, Any]:
    from ..io.runs import RunError, read_meta
    from ..plotting import plot_confusion, save_figure

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
