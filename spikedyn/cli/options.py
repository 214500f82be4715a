"""Options shared by the ``spikedyn`` subcommands, the parser that reports errors in one line,
and starting or resuming a checkpointed run.

Every subcommand module of :mod:`spikedyn.cli` takes its common options from here; none
of them imports :mod:`spikedyn.cli` itself, which only assembles the subcommands. This
module imports neither NumPy nor Numba.

A network configuration on the command line is built by :func:`config_from_args`
from, in increasing order of precedence: the defaults of
:class:`~spikedyn.config.NetworkConfig`, the file given by ``--config``, each
``--set section.field=value`` (left to right), and the subcommand's own explicit
options such as ``--model`` and ``--neurons`` (only when given).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import NetworkConfig, check_seed, load_config, parse_set
from ..errors import ConfigError

if TYPE_CHECKING:
    from ..io.interrupt import Interrupted

__all__ = [
    "CONFIG_PRECEDENCE",
    "TRAIN_JOBS_HELP",
    "Parser",
    "add_config_options",
    "add_data_dir",
    "add_progress",
    "add_resume_options",
    "add_seed",
    "compile_kernels",
    "config_from_args",
    "interrupted_here",
    "png_path",
    "positive_int",
    "positive_seconds",
    "explicit_options",
    "seed",
    "start_or_resume",
    "training_jobs",
]

#: How --config, --set and a subcommand's own options combine; shown in --help.
CONFIG_PRECEDENCE = (
    "The network config is the defaults (the model's own, for a model that has them), overridden by "
    "--config FILE, then by each --set (left to right), then by options such as --model and --neurons "
    "when they are given."
)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and raise ConfigError instead of exiting.

    The command prints the message after ``spikedyn: error:``, so it does not repeat the
    program's name; it ends by naming the help of the (sub)command that failed.
    """

    def error(self, message: str):  # noqa: D102 - argparse API
        raise ConfigError(f"{message}; see '{self.prog} --help'")


def explicit_options(parser: argparse.ArgumentParser, argv: list[str]) -> frozenset[str]:
    """The destinations of the options given on the command line ``argv`` (not those left at
    their defaults), whatever their value: ``--seed 0`` counts although 0 is the default.

    ``parser`` must be a fresh parser (its defaults are replaced): ``argv`` is parsed again
    with every default suppressed, so that only what was given lands in the namespace.
    """
    def suppress(p: argparse.ArgumentParser) -> None:
        p._defaults.clear()  # set_defaults(func=...): not an option
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for child in action.choices.values():
                    suppress(child)
            elif action.dest != "help":
                action.default = argparse.SUPPRESS

    suppress(parser)
    namespace, _ = parser.parse_known_args(argv)
    return frozenset(vars(namespace))


def positive_int(text: str) -> int:
    """Argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


#: Help of the options that set the threads training one network (``train``, ``continual``, ``bench``).
TRAIN_JOBS_HELP = ("threads that train one network together, each simulating a block of its neurons; the weights "
                   "are bit-identical for any number. Worth it from a few hundred neurons on, with no more threads "
                   "than free cores (a waiting thread spins)")


def training_jobs(config: NetworkConfig, jobs: int, option: str = "--jobs") -> int:
    """``jobs`` training threads for ``config``, checked: at most one per neuron (a ConfigError naming
    the fix otherwise)."""
    if jobs > config.n_neurons:
        raise ConfigError(f"{option} {jobs} is more threads than the network's {config.n_neurons} neurons; "
                          f"give {option} {config.n_neurons} or fewer (one thread simulates at least one neuron)")
    return jobs


def seed(text: str) -> int:
    """Argparse type: a seed, checked by :func:`spikedyn.config.check_seed`."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer seed, got {text!r}") from None
    try:
        return check_seed(value)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def png_path(text: str) -> Path:
    """Argparse type: a file name ending in ``.png``."""
    path = Path(text)
    if path.suffix.lower() != ".png":
        raise argparse.ArgumentTypeError(f"{text} must end in .png")
    return path


def _set_item(text: str) -> tuple[str, Any]:
    """Argparse type of ``--set``: :func:`spikedyn.config.parse_set` with argparse's error type."""
    try:
        return parse_set(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_data_dir(p: argparse.ArgumentParser) -> None:
    """Add ``--data-dir DIR``."""
    p.add_argument(
        "--data-dir", type=Path, default=None,
        help="directory with the four MNIST IDX files (raw or .gz); default: $SPIKEDYN_DATA_DIR, "
             "else the user cache, downloading MNIST there if needed",
    )


def add_seed(p: argparse.ArgumentParser) -> None:
    """Add ``--seed S`` (default 0)."""
    p.add_argument("--seed", type=seed, default=0, help="initial weights and input spikes (default 0)")


def add_progress(p: argparse.ArgumentParser) -> None:
    """Add ``--quiet`` (no progress bars)."""
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def add_model_options(p: argparse.ArgumentParser, default_model: str | None = None) -> None:
    """Add ``--model M`` and ``--neurons N``; both default to None (the config's value), see
    :func:`add_config_options`. ``default_model``: the command's own default model, which the
    command applies when neither ``--model``, ``--config`` nor ``--set model=...`` names one
    (``continual``: :data:`spikedyn.continual.DEFAULT_CONTINUAL_MODEL`)."""
    from .. import models

    defaults = NetworkConfig()
    p.add_argument("--model", choices=models.names(), default=None,
                   help=f"registered model (default: from --config/--set, else {default_model or defaults.model})")
    p.add_argument("--neurons", type=positive_int, default=None,
                   help=f"excitatory neurons (default: from --config/--set, else {defaults.n_neurons})")


def positive_seconds(text: str) -> float:
    """Argparse type of ``--checkpoint-every``, ``--scheduler-timeout``: seconds, a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number of seconds > 0, got {text}")
    return value


def add_resume_options(p: argparse.ArgumentParser) -> None:
    """Add ``--resume DIR`` and ``--checkpoint-every SECONDS`` (:mod:`spikedyn.io.checkpoint`)."""
    from ..io.checkpoint import DEFAULT_EVERY_S

    p.add_argument("--resume", type=Path, default=None, metavar="DIR",
                   help="continue the interrupted run whose --out was DIR, from its last checkpoint (the run's "
                        "options come from the checkpoint)")
    p.add_argument("--checkpoint-every", type=positive_seconds, default=DEFAULT_EVERY_S, metavar="SECONDS",
                   help=f"write a checkpoint every SECONDS of training (default {DEFAULT_EVERY_S:g}), and on "
                        "Ctrl-C or SIGTERM")


def add_config_options(p: argparse.ArgumentParser) -> None:
    """Add ``--config FILE`` and the repeatable ``--set section.field=value``.

    Read them with :func:`config_from_args`. Explicit options of the subcommand that
    also set the config (``--model``, ``--neurons``) should default to None, so that
    a value from the file or from ``--set`` holds unless the option is given.
    """
    group = p.add_argument_group("network config", CONFIG_PRECEDENCE)
    group.add_argument(
        "--config", type=Path, default=None, metavar="FILE",
        help="network config, TOML (.toml) or JSON (.json), all or some of its fields "
             "(write one with NetworkConfig().save('config.toml'))",
    )
    group.add_argument(
        "--set", type=_set_item, action="append", default=[], metavar="SECTION.FIELD=VALUE",
        help="override one config field, e.g. --set stdp.nu_post=0.02 or --set n_neurons=400; repeatable",
    )


def config_from_args(args: argparse.Namespace, **cli_fields: Any) -> NetworkConfig:
    """Build the network config of a command: defaults <- --config <- --set <- explicit options.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments of a parser set up with :func:`add_config_options`.
    **cli_fields
        Config fields set by the subcommand's own options, in
        :meth:`~spikedyn.config.NetworkConfig.replace` form (``model=args.model,
        n_neurons=args.neurons``); a value of None (option not given) is ignored.

    Returns
    -------
    NetworkConfig

    Raises
    ------
    ConfigError
        If the file cannot be read or holds an invalid config, or the overrides make
        an invalid config; the message is one line naming the file or field.
    """
    overrides = dict(args.set)
    overrides.update({key: value for key, value in cli_fields.items() if value is not None})
    # The file's fields apply over the defaults of the model the command runs (a model's own
    # defaults, spikedyn.models.Model.defaults), so that a field the file sets is never lost.
    config = NetworkConfig() if args.config is None else load_config(args.config, model=overrides.get("model"))
    return config.replace(**overrides)


# -- starting or resuming a checkpointed run --------------------------------------------------
def start_or_resume(args: argparse.Namespace, command: str, new_options) -> tuple[dict, dict | None, dict | None]:
    """The options of a new run (``new_options()``, with ``--out`` checked), or those of the
    interrupted run in ``--resume DIR`` with its checkpoint: (options, checkpoint record or
    None, checkpoint arrays or None). Sets ``args.out``, ``args.json`` to the ``--json``
    the run was started with unless another is given now, and ``args.resuming`` to the line
    :func:`say_resuming` prints.

    On ``--resume`` every option that defines the run comes from the checkpoint: one given
    explicitly (``args.given``, from :func:`explicit_options`; at its default value too) is
    refused, except those of :data:`RESUME_MAY_CHANGE`.
    """
    from ..io import checkpoint
    from ..io.files import check_new_run_dir, remove_stale_temporaries

    for directory in (args.out, args.resume):  # what a writer killed in this run's directory left
        if directory is not None and Path(directory).is_dir():
            remove_stale_temporaries(directory)
    if args.resume is None:
        if args.out is None:
            raise ConfigError(f"give --out DIR for a new run, or --resume DIR to continue an interrupted one; see "
                              f"'spikedyn {command} --help'")
        options = json.loads(json.dumps(new_options()))  # as a checkpoint holds them
        if checkpoint.path_of(args.out).is_file():  # the same command again continues where it stopped
            meta, arrays = checkpoint.load(args.out, command)
            if meta["options"] != options:
                raise ConfigError(f"{args.out} holds an interrupted run with other options; continue it with "
                                  f"'{checkpoint.resume_command(command, args.out)}', or choose a new --out")
            _resumed_json(args, meta)
            args.resuming = checkpoint.describe(command, args.out, meta)
            return options, meta, arrays
        check_new_run_dir(args.out)
        return options, None, None
    if args.out is not None and Path(args.out) != Path(args.resume):
        raise ConfigError(f"--resume {args.resume} continues in its own directory; drop --out {args.out}")
    meta, arrays = checkpoint.load(args.resume, command)
    options = meta["options"]
    given = getattr(args, "given", frozenset())  # cli.main sets it from the command line
    for key in sorted(set(given) - RESUME_MAY_CHANGE):
        value = getattr(args, key, None)
        stored = options.get("config", {})
        if key == "model" and value != stored.get("model"):
            raise checkpoint.CheckpointError(f"{args.resume} holds a run of model {stored.get('model')!r}, "
                                             f"not {value!r}; start a new run of {value} with a new --out")
        if key in _known_values(options) and _known_values(options)[key] == value:
            continue  # given, but as the run was started: no change
        was = _stored_value(key, options)
        raise ConfigError(f"--resume continues the run as it was started{was}; drop --{key.replace('_', '-')} "
                          f"(the checkpoint in {args.resume} has its own options)")
    args.out = Path(args.resume)
    _resumed_json(args, meta)
    args.resuming = checkpoint.describe(command, args.out, meta)
    return options, meta, arrays


def say_resuming(args: argparse.Namespace) -> None:
    """Print the line that says what is resumed (set by :func:`start_or_resume`), once the command
    has checked its inputs: a bad input still ends in one line."""
    if getattr(args, "resuming", None):
        print(f"spikedyn: {args.resuming}", file=sys.stderr)


def _known_values(options: dict) -> dict[str, Any]:
    """The command-line values of the options a train or continual checkpoint keeps by name."""
    if "seed" not in options:  # a search: its options are a search file's, not one run's
        return {}
    config = options.get("config", {})
    return {"seed": options.get("seed"), "model": config.get("model"), "neurons": config.get("n_neurons")}


def _stored_value(key: str, options: dict) -> str:
    """`` (with --KEY VALUE)`` for the options a checkpoint keeps under a known name, else ``""``."""
    value = _known_values(options).get(key)
    return "" if value is None else f" (with --{key} {value})"


def _resumed_json(args: argparse.Namespace, meta: dict) -> None:
    """Write the resumed run's summary to the ``--json`` it was started with, unless one is given now."""
    stored = meta.get("json")
    if getattr(args, "json", None) is None and stored:
        path = Path(stored)
        if path.is_dir():
            raise ConfigError(f"the run was started with --json {path}, which is now a directory; give --json FILE")
        args.json = path


#: Options that may differ when a run is resumed: where the data is, how it is shown, the threads,
#: how often to checkpoint, and where to write a copy of the summary.
RESUME_MAY_CHANGE = frozenset({"resume", "out", "data_dir", "quiet", "jobs", "checkpoint_every", "json", "func",
                               "command", "executor", "scheduler", "scheduler_timeout"})


def interrupted_here(exc: Interrupted, command: str, out) -> Interrupted:
    """Mark ``exc`` with the command line that resumes the run in ``out``."""
    from ..io.checkpoint import resume_command

    exc.resume = resume_command(command, out)
    return exc


# -- compiling the kernels ---------------------------------------------------------------------
#: What a command prints, once, before it compiles the kernels of a version for the first time.
COMPILE_NOTICE = "spikedyn: compiling the kernels (first run of this version only, about 20-60 s)"


def compile_kernels(configs, *, learn: tuple[bool, ...] = (True, False), seed: int = 0, train_jobs: int = 1) -> float:
    """Compile (or load from the cache) the kernels of every config in ``configs``, for training
    (on ``train_jobs`` threads) and/or inference as ``learn`` says; returns the seconds taken.

    When no kernel of this version of the sources is cached yet (the first run after install or
    upgrade), :data:`COMPILE_NOTICE` is printed once on stderr first, so the minute of compiling
    is not a silent one; later runs load the kernels from the cache in about a second.
    """
    from ..core.kernel_cache import is_cold
    from ..simulation.network import warm_up

    if is_cold():
        print(COMPILE_NOTICE, file=sys.stderr, flush=True)
    return sum(warm_up(config, learn=mode, seed=seed, n_jobs=train_jobs if mode else 1)
               for config in configs for mode in learn)
