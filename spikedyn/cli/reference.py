"""``spikedyn validate`` and ``spikedyn bench``: spikedyn against its Brian2 twin, spike for spike and in speed
(argument parsing over :mod:`spikedyn.reference`, which imports Brian2 only when it runs)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import ConfigError, DataError
from ..reference.bench import BACKENDS, MODES
from ..reference.validate import DEFAULT_TARGET, VALIDATE_TARGETS
from .options import (TRAIN_JOBS_HELP, add_config_options, add_data_dir, add_model_options, add_progress, add_seed,
                      config_from_args, png_path, positive_int, training_jobs)


def add_parsers(sub) -> None:
    """Register ``validate`` and ``bench`` on an argparse subparsers object."""
    add_validate_parser(sub)
    add_bench_parser(sub)


def add_validate_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``spikedyn validate`` on an argparse subparsers object."""
    p = subparsers.add_parser(
        "validate", help="compare spikedyn with its Brian2 twin spike for spike",
        description="Run spikedyn and the Brian2 reference on the first K MNIST training images from the "
                    "same initial weights and input spikes, and compare every excitatory spike.",
    )
    add_model_options(p)
    p.add_argument("--samples", type=positive_int, default=50, help="first K training images (default 50)")
    p.add_argument("--learn", action="store_true",
                   help="training protocol (STDP, adaptive thresholds); default: inference protocol")
    p.add_argument("--then-infer", type=positive_int, default=None, metavar="J",
                   help="with --learn: the trained networks then answer the next J training images with learning "
                        "off (the thresholds and weights a rule answers with), compared too")
    p.add_argument("--target", choices=VALIDATE_TARGETS, default=DEFAULT_TARGET,
                   help=f"Brian2 code generation target (default {DEFAULT_TARGET})")
    add_seed(p)
    add_config_options(p)
    p.add_argument("--json", type=Path, required=True, help="write the JSON summary here")
    add_data_dir(p)
    add_progress(p)
    p.set_defaults(func=cmd_validate)
    return p


def cmd_validate(args: argparse.Namespace) -> dict[str, Any]:
    from ..io.data import load_samples
    from ..reference.validate import format_summary, validate

    if args.then_infer is not None and not args.learn:
        raise ConfigError("--then-infer answers images after learning; add --learn")
    config = config_from_args(args, model=args.model, n_neurons=args.neurons)
    more = args.then_infer or 0
    images, _ = load_samples("train", args.data_dir, None if more else args.samples, progress=not args.quiet)
    if args.samples + more > images.shape[0]:
        raise DataError(f"--samples {args.samples} and --then-infer {more} need {args.samples + more} images but the "
                        f"train set has {images.shape[0]}; ask for fewer")
    summary = validate(config, images[:args.samples], learn=args.learn, target=args.target, seed=args.seed,
                       progress=not args.quiet, then_infer=images[args.samples:args.samples + more] if more else None)
    print(format_summary(summary))
    return summary


def _list(choices, what: str):
    def parse(text: str) -> list[str]:
        items = [x.strip() for x in text.split(",") if x.strip()]
        bad = [x for x in items if x not in choices]
        if not items or bad:
            raise argparse.ArgumentTypeError(
                f"unknown {what} {', '.join(bad) or repr(text)}; choose from {', '.join(choices)} (comma-separated)")
        return list(dict.fromkeys(items))
    return parse


def _int_list(text: str) -> list[int]:
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers, got {text!r}")
    return list(dict.fromkeys(values))


def add_bench_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``spikedyn bench`` on an argparse subparsers object."""
    from .. import models

    p = subparsers.add_parser(
        "bench", help="speed of spikedyn against Brian2",
        description="Training and inference samples/s of spikedyn (numba) and the Brian2 reference on the "
                    "same inputs and initial weights; compile time and peak memory reported separately.",
    )
    p.add_argument("--model", "--models", dest="model", type=_list(models.names(), "model"), default=["diehl-cook"],
                   help=f"registered models, comma-separated, from {', '.join(models.names())} (default diehl-cook; "
                        "--models is the same option)")
    p.add_argument("--neurons", type=_int_list, default=[100], help="sizes, comma-separated (default 100)")
    p.add_argument("--samples", type=positive_int, default=100, help="first K training images (default 100)")
    p.add_argument("--backends", type=_list(BACKENDS, "backend"), default=["numba", "brian2-standalone"],
                   help=f"comma-separated from {', '.join(BACKENDS)} (default numba,brian2-standalone)")
    p.add_argument("--mode", type=_list(MODES, "mode"), default=list(MODES),
                   help="train, infer or both (default train,infer)")
    p.add_argument("--jobs", type=positive_int, default=None,
                   help="numba threads: inference on J (default: all cores) and on 1; training on 1 and, with "
                        "--jobs J, then on J, side by side in the same run. Training: " + TRAIN_JOBS_HELP)
    p.add_argument("--brian2-samples", type=positive_int, default=None,
                   help="samples for brian2-numpy and brian2-cython (default: --samples)")
    p.add_argument("--count-operations", choices=("on", "off"), default="on",
                   help="spikedyn's operation counters (default on, as in Network)")
    add_seed(p)
    add_config_options(p)
    p.add_argument("--json", type=Path, required=True, help="write the JSON summary here")
    p.add_argument("--plot", type=png_path, default=None, help="also save time per sample vs N as this PNG")
    add_data_dir(p)
    add_progress(p)
    p.set_defaults(func=cmd_bench)
    return p


def cmd_bench(args: argparse.Namespace) -> dict[str, Any]:
    from ..io.data import load_samples
    from ..reference.bench import markdown_table, run_bench

    base = config_from_args(args)
    train_jobs = 1 if args.jobs is None or "train" not in args.mode else args.jobs
    for n in args.neurons:
        training_jobs(base.replace(n_neurons=n), train_jobs)
    images, _ = load_samples("train", args.data_dir, args.samples, progress=not args.quiet)
    summary = run_bench(args.model, args.neurons, args.backends, images, modes=args.mode,
                        jobs=args.jobs, brian2_samples=args.brian2_samples, seed=args.seed,
                        progress=not args.quiet, base_config=base, count_operations=args.count_operations == "on",
                        train_jobs=train_jobs)
    print(markdown_table(summary))
    if args.plot is not None:
        import matplotlib

        matplotlib.use("Agg")  # the command only writes a file
        from ..plotting import plot_scaling, save_figure

        save_figure(plot_scaling(summary["results"]).figure, args.plot)
        print(f"wrote {args.plot}")
    return summary
