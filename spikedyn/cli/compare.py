"""``spikedyn compare``: tables (mean ± sd over seeds), paired margins and figures of finished runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_parsers(sub) -> None:
    """Register ``compare`` on an argparse subparsers object."""
    p = sub.add_parser("compare", help="compare runs across seeds and models: mean ± sd, margins with CIs, figures",
                       description="Read the outputs of 'spikedyn continual' (and of 'spikedyn train' runs scored by "
                                   "'spikedyn evaluate') under the given paths, group them by model, size, overrides "
                                   "and protocol, and print the mean ± sd over seeds of each metric and, for every "
                                   "two models at one size, the seed-paired margin with its 95 % t-interval. With "
                                   "--out, also write the tables as markdown and CSV, and the figures.")
    p.add_argument("paths", type=Path, nargs="+", metavar="PATH",
                   help="output directories (searched recursively) or JSON files of continual or evaluated runs")
    p.add_argument("--out", type=Path, default=None,
                   help="new directory for table.md/.csv, margins.md/.csv and the figures (default: only print)")
    p.add_argument("--json", type=Path, default=None, help="also write the tables and margins here as JSON")
    p.set_defaults(func=cmd_compare)


def cmd_compare(args: argparse.Namespace) -> dict[str, Any]:
    from .._version import provenance
    from ..compare import format_tables, group_runs, margin_rows, read_runs, table_rows, write_comparison
    from ..io.files import atomic_directory, check_new_run_dir

    if args.out is not None:
        check_new_run_dir(args.out)
    runs = read_runs(args.paths)
    groups = group_runs(runs)
    print(format_tables(groups))
    if args.out is not None:
        import matplotlib

        matplotlib.use("Agg")  # the command only writes files
        with atomic_directory(args.out) as tmp:
            write_comparison(groups, tmp)
        print(f"wrote the tables and figures to {args.out}")
    else:
        print("(add --out DIR to write the tables as markdown and CSV, and the figures)", file=sys.stderr)
    margins = []
    for row in margin_rows(groups):
        margins.append({k: (v if not hasattr(v, "mean") else {"mean": v.mean, "sd": v.sd, "low": v.low,
                                                               "high": v.high, "n": v.n, "confidence": v.confidence})
                        for k, v in row.items()})
    return {"command": "compare", "paths": [str(p) for p in args.paths], "runs": len(runs),
            "rows": table_rows(groups), "margins": margins,
            "sources": sorted(r.source for r in runs), **provenance()}
