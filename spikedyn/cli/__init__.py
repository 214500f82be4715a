"""Command-line interface: ``spikedyn train | evaluate | continual | compare | estimate | search | convert | surrogate
| validate | bench | plot | export | config``.

A thin layer of argument parsing over library calls, one module per command group:

=================  ==============================================================================
``options``        the options the commands share, the one-line error parser, starting or resuming
``train``          ``train`` and ``evaluate`` (the standard protocol, run directories)
``continual``      ``continual`` (class-incremental learning)
``search``         ``estimate`` and ``search`` (the cost model, the Pareto search)
``deep``           ``convert`` and ``surrogate`` (the other ways to obtain an SNN)
``reference``      ``validate`` and ``bench`` (against the Brian2 twin)
``plot``           ``plot weights`` and ``plot confusion``
``compare``        ``compare`` (tables, margins and figures of finished runs)
``config``         ``config`` (the full network config, as a file ``--config`` reads)
``export``         ``export`` (a trained network as a NIR graph)
=================  ==============================================================================

Every problem the user can fix ends the command with a one-line
``spikedyn: error: ...`` on stderr and exit status 2, and leaves no output file or
run directory behind (outputs are written atomically at the end).

Exit status
-----------
====  ==========================================================================================
0     done
2     bad input (an option, a file, the data): one line names the problem and the fix; nothing written
3     ``spikedyn search``: every candidate breaks the budget by its estimate; one line says what to
      relax; nothing trained or written
130   interrupted by Ctrl-C (143: SIGTERM); a checkpoint is written and the line says how to resume
====  ==========================================================================================
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from .._version import __version__, source_hash
from ..errors import ConfigError, SpikedynError
from .options import Parser, explicit_options

EXIT_USAGE = 2
#: ``spikedyn search``: no candidate fits the budget (:class:`spikedyn.search.driver.BudgetTooTight`).
EXIT_NOTHING_FITS = 3


def build_parser() -> argparse.ArgumentParser:
    """The ``spikedyn`` parser, with every command group's subcommands."""
    from . import compare, config, continual, deep, export, plot, reference, search, train  # each imports what it runs

    parser = Parser(prog="spikedyn", description="Spiking networks that learn MNIST without labels (Numba), with a Brian2 twin.")
    parser.add_argument("--version", action="version", version=f"spikedyn {__version__} (source {source_hash()})",
                        help="print the version and the hash of the installed sources, which every JSON records")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser, metavar="COMMAND")
    for group in (train, continual, compare, search, deep, reference, plot, export, config):
        group.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``spikedyn`` command; returns the exit status."""
    from ..io.interrupt import Interrupted

    argv = list(sys.argv[1:] if argv is None else map(str, argv))
    try:
        args, unknown = build_parser().parse_known_args(argv)
        if unknown:
            raise ConfigError(f"unrecognized arguments: {' '.join(unknown)}; see '{_prog(args)} --help'")
        args.given = explicit_options(build_parser(), argv)
        json_path = getattr(args, "json", None)
        if json_path is not None and json_path.exists() and json_path.is_dir():
            raise ConfigError(f"--json {json_path} is a directory; give a file name")
        summary = args.func(args)
        json_path = getattr(args, "json", None)  # a resumed run writes the --json it was started with
        if json_path is not None:
            from ..io.files import write_json

            write_json(json_path, summary)
    except SpikedynError as exc:
        status = getattr(exc, "exit_status", EXIT_USAGE)
        print(f"spikedyn: {'error: ' if status == EXIT_USAGE else ''}{exc}", file=sys.stderr)
        return status
    except Interrupted as exc:
        if exc.resume is None:
            print(f"spikedyn: {exc}; nothing was written", file=sys.stderr)
        else:
            print(f"spikedyn: {exc}; checkpoint written. Resume with: {exc.resume}", file=sys.stderr)
        return exc.exit_status
    except BrokenPipeError:  # stdout closed early (spikedyn ... | head): not an error of the command
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:  # before a run could checkpoint, or a second Ctrl-C
        print("spikedyn: interrupted; no checkpoint written now (files written before are intact)", file=sys.stderr)
        return 130
    return 0


def _prog(args) -> str:
    """``spikedyn COMMAND`` (``spikedyn plot weights``) of parsed arguments."""
    return " ".join(["spikedyn"] + [str(x) for x in (getattr(args, "command", None), getattr(args, "figure", None))
                                    if x is not None])


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
