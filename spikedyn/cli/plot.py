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
    q = plot_sub.add_parser("weights", help="receptive fields as a grid of 28x28 images")
    q.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    q.add_argument("-o", "--output", type=png_path, required=True, help="PNG file")
    q.set_defaults(func=cmd_plot_weights)
    q = plot_sub.add_parser("confusion", help="confusion matrix of the last 'spikedyn evaluate'")
    q.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    q.add_argument("-o", "--output", type=png_path, required=True, help="PNG file")
    q.set_defaults(func=cmd_plot_confusion)


def _use_file_backend() -> None:
    """Select matplotlib's file-only Agg backend: the plot commands only write PNG files."""
    import matplotlib

    matplotlib.use("Agg")


def cmd_plot_weights(args: argparse.Namespace) -> dict[str, Any]:
    from ..plotting import plot_weights, save_figure
    from ..simulation.network import Network

    network = Network.load(args.run_dir)
    _use_file_backend()
    ax = plot_weights(network.weights,
                      title=f"{network.config.model}, {network.config.n_neurons} neurons, "
                            f"{network.samples_seen} samples")
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
