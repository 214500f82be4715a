"""Tables and seed-paired margins of stored continual runs of one model at different configurations.

``spikedyn compare`` pairs runs of different models; this pairs sets of runs the user names, such as
a default before and after a change (the same model, the same protocol and seeds, other overrides):
each ``--runs LABEL=DIR`` is one row, labelled ``LABEL``, and every two rows at one size get the
seed-paired margin of each metric with its 95 % t-interval (:func:`spikedyn.compare.write_comparison`,
the tables ``spikedyn compare`` writes). Nothing is run; every run keeps its own source hash, and
runs whose protocols differ are never paired.

Usage::

    python experiments/paired_runs.py --runs "without=experiments/results/continual_default_budget_1600/runs" \\
        --runs "with=experiments/results/continual_default_committed_1600/runs" \\
        --out experiments/results/continual_committed_margin_1600
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from spikedyn.compare import group_runs, run_from_record, write_comparison


def _labelled(spec: str) -> tuple[str, list[Path]]:
    label, sep, paths = spec.partition("=")
    if not sep or not label or not paths or "" in paths.split(","):
        raise argparse.ArgumentTypeError(f"--runs takes LABEL=DIR[,DIR...], got {spec!r}")
    return label, [Path(p) for p in paths.split(",")]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=_labelled, action="append", required=True, metavar="LABEL=DIR[,DIR...]",
                    help="a row: the continual runs (JSON files) in the DIRs, labelled LABEL (repeatable, two or "
                         "more); a DIR may be a pattern of file names in a directory (DIR/*-0.375-*.json)")
    ap.add_argument("--note", default="", help="a sentence for the table's caption (what the labels stand for)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    if len(args.runs) < 2:
        ap.error("--runs: give two sets or more to pair")
    runs = []
    for label, directories in args.runs:
        files = sorted(f for where in directories  # a runs/ directory, or a pattern of its files (DIR/*-1600-*.json)
                       for f in (where.glob("*.json") if where.is_dir() else where.parent.glob(where.name)))
        if not files:
            ap.error(f"--runs {label}: no run files in {', '.join(map(str, directories))}; give runs/ directories "
                     "of a comparison")
        for f in files:
            run = run_from_record(json.loads(f.read_text()), source=str(f), label=label)
            if run is None:
                ap.error(f"{f} is no continual run; give a runs/ directory of a comparison")
            runs.append(dataclasses.replace(run, overrides=()))
    write_comparison(group_runs(runs), args.out, label="configuration", note=args.note or None)
    print((args.out / "table.md").read_text())
    margins = args.out / "margins.md"
    if margins.exists():
        print(margins.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
