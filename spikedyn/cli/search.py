"""``spikedyn estimate`` and ``spikedyn search``: the cost model before training, and the Pareto search
within a memory and energy budget (argument parsing over :mod:`spikedyn.cost` and :mod:`spikedyn.search`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .._version import provenance
from ..config import NetworkConfig, parse_set
from ..core.kernel_cache import is_cold
from ..core.params import WEIGHT_BITS
from ..cost.tables import DEFAULT_TABLE, builtin_tables
from ..errors import ConfigError
from ..search import driver
from ..search.executors import DEFAULT_SCHEDULER_TIMEOUT_S
from ..search.space import DEFAULT_NEURONS, PROTOCOLS, SPEC_FILE, Budget, SearchProtocol, SearchSpace, SearchSpec, load_spec
from .options import (COMPILE_NOTICE, CONFIG_PRECEDENCE, add_config_options, add_data_dir, add_model_options,
                      add_progress, add_resume_options, config_from_args, interrupted_here, positive_int,
                      positive_seconds, say_resuming, start_or_resume)


def add_parsers(sub) -> None:
    """Register ``estimate`` and ``search`` on an argparse subparsers object."""
    p = sub.add_parser("estimate", help="memory and energy per sample of a network, before training it",
                       description="The analytical cost model: memory footprint and training and inference "
                                   "energy per sample, from the config and calibrated activity statistics, "
                                   f"broken down by operation (docs/cost.md). {CONFIG_PRECEDENCE}")
    add_model_options(p)
    p.add_argument("--weight-bits", type=int, choices=WEIGHT_BITS, default=None,
                   help="weight width (default: from --config/--set, else the config's precision.weight_bits, "
                        f"{NetworkConfig().precision.weight_bits}, the width 'spikedyn train' simulates and "
                        "'spikedyn search' searches)")
    p.add_argument("--energy-table", default=DEFAULT_TABLE, metavar="TABLE",
                   help=f"prices: {', '.join(builtin_tables())} or a .toml file (default {DEFAULT_TABLE})")
    p.add_argument("--statistics", type=Path, default=None, metavar="FILE",
                   help="activity statistics (default: those shipped, from experiments/cost_model.py --calibrate)")
    p.add_argument("--json", type=Path, default=None, help="also write the estimate here")
    add_config_options(p)
    p.set_defaults(func=cmd_estimate)

    add_search_parser(sub)


def cmd_estimate(args: argparse.Namespace) -> dict[str, Any]:
    from .. import cost

    config = config_from_args(args, model=args.model, n_neurons=args.neurons,
                              precision__weight_bits=args.weight_bits)
    stats = None if args.statistics is None else cost.load_statistics(args.statistics)
    est = cost.estimate(config, table=args.energy_table, statistics=stats)
    summary = {"command": "estimate", **est, "config": config.to_dict(), **provenance()}
    print(f"{config.model}, {config.n_neurons} neurons, {config.precision.weight_bits}-bit weights, "
          f"energy table {est['energy_table']}:")
    print(f"  memory     {est['memory_kb']:10.1f} KB")
    for key, phase in (("train", "train"), ("infer", "inference")):
        total = est[f"{key}_energy_uj"]
        if total is None:
            print(f"  {phase:<10} unavailable: the table cannot run {', '.join(est[f'{key}_unsupported'])}")
            continue
        top = sorted(est["breakdown"][phase].items(), key=lambda kv: -kv[1])[:3]
        parts = ", ".join(f"{op} {e / total:.0%}" for op, e in top if total > 0)
        print(f"  {phase:<10} {total:10.3f} uJ per sample ({parts})")
    return summary


def _int_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def _str_list(text: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in text.split(",") if x.strip())


def _grid_item(text: str) -> tuple[str, tuple[Any, ...]]:
    from ..search import families

    key, sep, values = text.partition("=")
    if not sep or not values:
        raise argparse.ArgumentTypeError(f"expected SECTION.FIELD=V1,V2,..., got {text!r}")
    try:
        if key.strip().partition(".")[0] in families.names():  # FAMILY.field: checked by the family's config
            return key.strip(), tuple(families.parse_value(v) for v in values.split(","))
        parsed = tuple(parse_set(f"{key}={v}")[1] for v in values.split(","))
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return key.strip(), parsed


def add_search_parser(sub) -> argparse.ArgumentParser:
    """Register ``search`` on an argparse subparsers object."""
    p = sub.add_parser("search", help="Pareto search over models, sizes and precisions within a memory/energy budget",
                       description=driver.__doc__.split("\n\n")[0] + " Candidates that break the budget by the analytical "
                       "estimate are pruned before training; the rest are trained and scored on the validation split. "
                       "The search is given by options or by --spec FILE (TOML/JSON, see spikedyn.search.SearchSpec).")
    p.add_argument("--spec", type=Path, default=None, metavar="FILE",
                   help="the whole search as a TOML or JSON file, instead of the options below")
    p.add_argument("--models", "--model", dest="models", type=_str_list, default=None,
                   help="comma-separated registered models, e.g. spikedyn,asp, and other families of networks: "
                        "converted-mlp, surrogate-mlp (spikedyn.search.families; for them --neurons is the hidden "
                        "width); --model is the same option")
    p.add_argument("--neurons", type=_int_list, default=DEFAULT_NEURONS,
                   help=f"sizes (default {','.join(map(str, DEFAULT_NEURONS))})")
    p.add_argument("--weight-bits", type=_int_list, default=None,
                   help="weight widths, from 4,8,16,32,64 (default: the config's precision.weight_bits, "
                        f"{NetworkConfig().precision.weight_bits}, as 'spikedyn estimate' and 'spikedyn train')")
    p.add_argument("--grid", type=_grid_item, action="append", default=[], metavar="SECTION.FIELD=V1,V2",
                   help="another config field to search over, e.g. timing.present_ms=250,350, or a family's, e.g. "
                        "surrogate-mlp.layers=2,4 (repeatable)")
    p.add_argument("--max-memory-kb", type=float, default=None, metavar="KB",
                   help="memory budget: prune candidates whose estimated footprint is above KB (default: none)")
    p.add_argument("--max-train-energy-uj", type=float, default=None, metavar="UJ",
                   help="training-energy budget per sample in uJ, on --energy-table (default: none)")
    p.add_argument("--max-infer-energy-uj", type=float, default=None, metavar="UJ",
                   help="inference-energy budget per sample in uJ, on --energy-table (default: none)")
    p.add_argument("--energy-table", default=DEFAULT_TABLE,
                   help=f"prices: {', '.join(builtin_tables())} or a .toml file (default {DEFAULT_TABLE})")
    p.add_argument("--protocol", choices=PROTOCOLS, default="standard",
                   help="how each candidate is scored on the validation split: 'standard' (default; learn from "
                        "--train-samples images, score on --validation-samples) or 'continual' (the class-"
                        "incremental protocol, --samples-per-task images per task; score: final average accuracy)")
    p.add_argument("--train-samples", type=positive_int, default=SearchProtocol.train_samples,
                   help=f"standard protocol: training images (default {SearchProtocol.train_samples})")
    p.add_argument("--validation-samples", type=positive_int, default=SearchProtocol.validation_samples,
                   help=f"standard protocol: validation images scored (default {SearchProtocol.validation_samples})")
    p.add_argument("--samples-per-task", type=positive_int, default=SearchProtocol.samples_per_task,
                   help=f"continual protocol: images per task (default {SearchProtocol.samples_per_task})")
    p.add_argument("--seeds", type=_int_list, default=(0,), help="seeds per candidate (default 0)")
    p.add_argument("--executor", choices=("local", "dask"), default="local",
                   help="where candidates train: 'local' worker processes (default) or a 'dask' cluster "
                        "(--scheduler ADDRESS, else a local Dask cluster of --jobs workers)")
    p.add_argument("--jobs", type=positive_int, default=None,
                   help="worker processes (local) or LocalCluster workers (dask without --scheduler); default: cores")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS", help="an existing Dask scheduler, tcp://host:port")
    p.add_argument("--scheduler-timeout", type=positive_seconds, default=DEFAULT_SCHEDULER_TIMEOUT_S, metavar="SECONDS",
                   help="how long to try to reach --scheduler before giving up, checked before anything is written "
                        f"(default {DEFAULT_SCHEDULER_TIMEOUT_S:g})")
    p.add_argument("--out", type=Path, default=None, help="new output directory")
    add_resume_options(p)
    p.add_argument("--json", type=Path, default=None, help="also write the summary here")
    add_config_options(p)
    add_data_dir(p)
    add_progress(p)
    p.set_defaults(func=cmd_search)
    return p


#: Options that define the search (given as options, or all in --spec FILE).
_SPEC_OPTIONS = ("models", "neurons", "weight_bits", "grid", "max_memory_kb", "max_train_energy_uj",
                 "max_infer_energy_uj", "energy_table", "protocol", "train_samples", "validation_samples",
                 "samples_per_task", "seeds", "config", "set")


def spec_from_args(args: argparse.Namespace) -> SearchSpec:
    """The search the command line describes: ``--spec FILE``, or the options."""
    if args.spec is not None:
        for key in _SPEC_OPTIONS:
            if key in getattr(args, "given", ()):
                raise ConfigError(f"--spec {args.spec} holds the whole search; drop --{key.replace('_', '-')} "
                                  "(or edit the file)")
        return load_spec(args.spec)
    if args.models is None:
        raise ConfigError("give --models (e.g. --models spikedyn,asp) or --spec FILE; see 'spikedyn search --help'")
    space = SearchSpace(models=args.models, neurons=args.neurons, weight_bits=args.weight_bits,
                        grid=tuple(args.grid), base=config_from_args(args))
    budget = Budget(args.max_memory_kb, args.max_train_energy_uj, args.max_infer_energy_uj)
    protocol = SearchProtocol(args.protocol, args.train_samples, args.validation_samples, args.samples_per_task,
                              args.seeds)
    return SearchSpec(space, budget, protocol, str(args.energy_table))


def cmd_search(args: argparse.Namespace) -> dict[str, Any]:
    from ..cost.tables import load_energy_table
    from ..io import checkpoint, interrupt
    from ..io.data import resolve_data_dir
    from ..io.files import remove_stale_temporaries, write_json
    from ..io.interrupt import Interrupted
    from ..search.driver import check_some_fit, price_candidates, run_search
    from ..search.executors import check_executor, check_scheduler
    from ..search.space import check_protocol

    def new_options() -> dict[str, Any]:
        spec = spec_from_args(args)
        load_energy_table(spec.energy_table)
        return spec.to_dict()

    options, _, _ = start_or_resume(args, "search", new_options)
    spec = SearchSpec.from_dict(options, source=f"{args.out}/{checkpoint.CHECKPOINT_FILE}")
    check_executor(args.executor, args.jobs, args.scheduler)
    check_protocol(spec.space, spec.protocol)
    candidates = price_candidates(spec.space, spec.budget, spec.energy_table)
    check_some_fit(candidates, spec.budget)  # before any file
    if args.scheduler is not None:
        check_scheduler(args.scheduler, args.scheduler_timeout)
    data_dir = resolve_data_dir(args.data_dir, progress=not args.quiet)  # found (or fetched) once, here
    say_resuming(args)
    if args.scheduler is None and is_cold():  # the executors' warm-up compiles each kernel set once, in a worker
        print(COMPILE_NOTICE, file=sys.stderr, flush=True)
    ckpt = checkpoint.Checkpointer(args.out, "search", options, args.checkpoint_every, json_path=args.json)
    remove_stale_temporaries(args.out)
    if not ckpt.path.is_file():
        ckpt.save({}, {})  # the search is resumable from now on
        write_json(Path(args.out) / SPEC_FILE, options)
    with interrupt.stoppable():
        try:
            summary = run_search(spec.space, spec.budget, spec.protocol, out_dir=args.out, table=spec.energy_table,
                                 executor=args.executor, jobs=args.jobs, scheduler=args.scheduler, data_dir=data_dir,
                                 progress=not args.quiet, checkpoint_every_s=args.checkpoint_every,
                                 scheduler_timeout_s=args.scheduler_timeout)
        except Interrupted as exc:
            raise interrupted_here(exc, "search", args.out) from None
    ckpt.path.unlink()  # finished: nothing to resume
    c = summary["counts"]
    sel = summary["selected"]
    print(f"{c['candidates']} candidates: {c['pruned']} pruned by the estimate, {c['evaluated']} evaluated "
          f"({c['tasks']} runs, {c['tasks_reused']} reused); front: {', '.join(summary['front']) or 'empty'}; "
          f"selected: {sel or 'none within the budget'}; written to {args.out}")
    return summary
