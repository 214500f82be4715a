"""``spikedyn export``: a trained network as a file other stacks read (NIR: :mod:`spikedyn.export`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parsers(sub) -> None:
    """Register ``export`` on an argparse subparsers object."""
    from ..export import FORMATS

    p = sub.add_parser("export", help="write a trained network as a NIR graph (Loihi 2, SpiNNaker 2, snnTorch, ...)",
                       description="Write the trained network of a run directory as its frozen inference graph "
                                   "in the Neuromorphic Intermediate Representation (NIR), with the neurons' "
                                   "labels when the run has them; docs/export.md derives every approximation.")
    p.add_argument("run_dir", metavar="RUN", type=Path,
                   help="a run directory: the --out of 'spikedyn train' (labels from 'spikedyn evaluate' are "
                        "included when present) or OUT/network of 'spikedyn continual'")
    p.add_argument("--format", choices=tuple(FORMATS), default="nir", help="output format (default nir)")
    p.add_argument("-o", "--output", required=True, type=Path, metavar="FILE",
                   help="new file to write (.nir); refused if it exists")
    p.add_argument("--json", type=Path, default=None, help="also write a JSON summary here")
    p.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> dict[str, Any]:
    from .._version import provenance
    from ..errors import ConfigError
    from ..export import export_run

    if args.json is not None and args.json.absolute() == args.output.absolute():
        raise ConfigError("--json and -o name the same file; give two names")
    summary = export_run(args.run_dir, args.output, args.format)
    labels = ("with neuron labels" if summary["labels"]
              else "without neuron labels (run 'spikedyn evaluate RUN' first to include them)")
    print(f"wrote {summary['path']}: {summary['model']} network of {summary['neurons']} neurons as a NIR graph "
          f"of {len(summary['nodes'])} nodes, {summary['bytes']:,} bytes, {labels}")
    return {**summary, **provenance()}
