"""Command-line interface: ``spikedyn train | evaluate | continual | estimate | search | convert | surrogate | validate
| bench | plot``.

A thin layer of argument parsing over library calls, one module per command group:

=================  ==============================================================================
``options``        the options the commands share, the one-line error parser, starting or resuming
``train``          ``train`` and ``evaluate`` (the standard protocol, run directories)
``continual``      ``continual`` (class-incremental learning)
``search``         ``estimate`` and ``search`` (the cost model, the Pareto search)
``deep``           ``convert`` and ``surrogate`` (the other ways to obtain an SNN)
``reference``      ``validate`` and ``bench`` (against the Brian2 twin)
``plot``           ``plot weights`` and ``plot confusion``
=================  ==============================================================================

Every problem the user can fix ends the command with a one-line
``spikedyn: error: ...`` on stderr and exit status 2, and leaves no output file or
run directory behind (outputs are written atomically at the end).
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from .._version import __version__, source_hash
from ..errors import ConfigError, SpikedynError
from .options import Parser

EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    """The ``spikedyn`` parser, with every command group's subcommands."""
    from . import continual, deep, plot, reference, search, train  # each imports what it runs only when it runs

    parser = Parser(prog="spikedyn", description="Spiking networks that learn MNIST without labels (Numba), with a Brian2 twin.")
    parser.add_argument("--version", action="version", version=f"spikedyn {__version__} (source {source_hash()})",
                        help="print the version and the hash of the installed sources, which every JSON records")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for group in (train, continual, search, deep, reference, plot):
        group.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``spikedyn`` command; returns the exit status."""
    from ..io.interrupt import Interrupted

    try:
        args = build_parser().parse_args(argv)
        json_path = getattr(args, "json", None)
        if json_path is not None and json_path.exists() and json_path.is_dir():
            raise ConfigError(f"--json {json_path} is a directory; give a file name")
        summary = args.func(args)
        if json_path is not None:
            from ..io.files import write_json

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
