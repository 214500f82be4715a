"""``spikedyn config``: the full network config of a model, as a file ``--config`` reads back."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .options import CONFIG_PRECEDENCE, add_config_options, add_model_options


def add_parsers(sub) -> None:
    """Register ``config`` on an argparse subparsers object."""
    p = sub.add_parser("config", help="print the full network config (TOML) that --config reads back",
                       description="Print every parameter of a network config, with its value, as TOML (or JSON): "
                                   "edit it and pass it to train, continual, estimate, validate or bench with "
                                   f"--config FILE; unchanged, it gives the same network. {CONFIG_PRECEDENCE}")
    add_model_options(p)
    add_config_options(p)
    p.add_argument("--format", choices=("toml", "json"), default="toml", help="output format (default toml)")
    p.add_argument("-o", "--output", type=Path, default=None, metavar="FILE",
                   help="write the config to FILE (.toml or .json, atomically) instead of printing it")
    p.set_defaults(func=cmd_config)


def cmd_config(args: argparse.Namespace) -> dict[str, Any]:
    from .._version import __version__
    from ..config import CONFIG_SUFFIXES
    from ..errors import ConfigError
    from .options import config_from_args

    config = config_from_args(args, model=args.model, n_neurons=args.neurons)
    if args.output is not None:
        if CONFIG_SUFFIXES.get(args.output.suffix.lower()) is None:
            raise ConfigError(f"-o {args.output} must end in .toml or .json")
        if "format" in getattr(args, "given", ()) and CONFIG_SUFFIXES[args.output.suffix.lower()] != args.format:
            raise ConfigError(f"-o {args.output} is {args.output.suffix}, not {args.format}; drop --format (the suffix "
                              "decides)")
        config.save(args.output)
        print(f"wrote {args.output}")
        return {}
    if args.format == "json":
        print(config.to_json(), end="")
    else:
        print(f"# spikedyn {__version__}: the config of model {config.model!r}, {config.n_neurons} neurons "
              f"(every parameter).\n# Use it with --config FILE; edit any value, or drop the lines you keep at "
              f"their defaults.\n{config.to_toml()}", end="")
    return {}
