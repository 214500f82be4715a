"""``spikedyn continual``: class-incremental learning, tasks one at a time, never repeated."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from ..config import NetworkConfig, parse_set
from ..continual import DEFAULT_CONTINUAL_MODEL, DEFAULT_CONTINUAL_SET
from ..continual.outputs import readouts_line
from ..continual.protocol import DEFAULT_ASSIGN_PER_CLASS, DEFAULT_SAMPLES_PER_TASK, DRAWS, SPLITS
from ..errors import ConfigError
from ..io import interrupt
from ..io.interrupt import Interrupted
from .options import (CONFIG_PRECEDENCE, TRAIN_JOBS_HELP, add_config_options, add_data_dir, add_model_options,
                      add_progress, add_resume_options, add_seed, compile_kernels, config_from_args, interrupted_here,
                      positive_int, say_resuming, start_or_resume, training_jobs)


def add_parsers(sub) -> None:
    """Register ``continual`` on an argparse subparsers object."""
    p = sub.add_parser("continual", help="class-incremental learning: tasks one at a time, never repeated",
                       description="Train a new network on MNIST classes arriving one task at a time (each task's "
                                   "images seen once, never again); after each task, with learning off, name the "
                                   "neurons from the classes seen so far and measure accuracy on each task seen so "
                                   f"far. {CONFIG_PRECEDENCE}")
    add_model_options(p, default_model=f"{DEFAULT_CONTINUAL_MODEL} with {' '.join(DEFAULT_CONTINUAL_SET)}")
    p.add_argument("--samples-per-task", type=positive_int, default=DEFAULT_SAMPLES_PER_TASK,
                   help=f"training images per task (default {DEFAULT_SAMPLES_PER_TASK})")
    p.add_argument("--tasks", type=str, default="0,1,2,3,4,5,6,7,8,9",
                   help="task order: one class each (3,1,4,...) or ranges of classes (0-1,2-3,...); "
                        "default 0,1,...,9")
    p.add_argument("--assign-per-class", type=positive_int, default=DEFAULT_ASSIGN_PER_CLASS,
                   help="labelled-pass images per class seen so far, after each task "
                        f"(default {DEFAULT_ASSIGN_PER_CLASS})")
    p.add_argument("--test-per-class", type=positive_int, default=None,
                   help="test images per class seen so far (default: all)")
    p.add_argument("--split", choices=SPLITS, default="test",
                   help="'test' (default): learn from the training set, score on the test set; 'validation': "
                        "learn from training images 0-49,999, score on 50,000-59,999 (for choosing parameters)")
    p.add_argument("--draw", choices=DRAWS, default="seeded",
                   help="how each task's training images are chosen from its classes' images: 'seeded' "
                        "(default) draws them by --seed, 'first' takes the first ones in file order, the same for "
                        "every seed (spikedyn 0.1's protocol, to reproduce its results)")
    p.add_argument("--no-iid", action="store_true",
                   help="skip the i.i.d. reference (the same images, all classes shuffled together)")
    add_seed(p)
    p.add_argument("--jobs", type=positive_int, default=None,
                   help="threads for training and for the evaluations (default: training on 1, evaluations on all "
                        "cores). Training: " + TRAIN_JOBS_HELP)
    p.add_argument("--out", type=Path, default=None,
                   help="new output directory: the results, figures, and the final network in OUT/network")
    add_resume_options(p)
    p.add_argument("--json", type=Path, default=None,
                   help="also write the JSON summary here (a resumed run writes it too)")
    add_config_options(p)
    add_data_dir(p)
    add_progress(p)
    p.set_defaults(func=cmd_continual)


def cmd_continual(args: argparse.Namespace) -> dict[str, Any]:
    from .. import continual
    from ..continual.outputs import write_outputs
    from ..continual.protocol import _plan
    from ..io import checkpoint

    loaded: dict[str, Any] = {}

    def new_options() -> dict[str, Any]:
        model, given = args.model, args
        if model is None and args.config is None and not any(key == "model" for key, _ in args.set):
            # continual's own default (the config's is diehl-cook), with the overrides that come with it
            model = DEFAULT_CONTINUAL_MODEL
            given = argparse.Namespace(**{**vars(args), "set": [parse_set(item) for item in DEFAULT_CONTINUAL_SET]
                                          + list(args.set)})
        config = config_from_args(given, model=model, n_neurons=args.neurons)
        protocol = continual.Protocol(tasks=continual.parse_tasks(args.tasks), samples_per_task=args.samples_per_task,
                                      assign_per_class=args.assign_per_class, test_per_class=args.test_per_class,
                                      split=args.split, draw=args.draw)
        # a new run (or the same command again) learns from these pools: loaded once, they name the dataset
        loaded["pools"] = continual.load_pools(protocol.split, args.data_dir, progress=not args.quiet)
        return {"config": config.to_dict(), "seed": args.seed, "protocol": protocol.to_dict(), "iid": not args.no_iid,
                "dataset": loaded["pools"].dataset}

    options, meta, arrays = start_or_resume(args, "continual", new_options)
    with checkpoint.reading(checkpoint.path_of(args.out)):
        config = NetworkConfig.from_saved(options["config"])
        protocol = continual.Protocol.from_dict(options["protocol"])
        seed, iid_reference = options["seed"], bool(options["iid"])
    pools = loaded.get("pools") or continual.load_pools(protocol.split, args.data_dir, progress=not args.quiet)
    started = options.get("dataset", "mnist")  # checkpoints from before the field were all on MNIST
    if pools.dataset != started:
        raise ConfigError(f"{args.out} was started on dataset {started}, but the data found now is {pools.dataset}; "
                          "pass the --data-dir (or SPIKEDYN_DATA_DIR) it was started with")
    _plan(pools, protocol, seed)  # every class found before anything is compiled or written
    say_resuming(args)
    train_jobs = 1 if args.jobs is None else training_jobs(config, args.jobs)
    compile_s = compile_kernels([config], seed=seed, train_jobs=train_jobs)
    session = checkpoint.Session(checkpoint.Checkpointer(args.out, "continual", options, args.checkpoint_every,
                                                         json_path=args.json), meta, arrays)

    def report(i: int, record) -> None:
        accs = record.accuracy_on_tasks
        old = f", previous tasks {np.mean(accs[:-1]):.3f}" if i else ""
        tqdm.write(f"task {record.task}: newest-task accuracy {accs[-1]:.3f}{old}", file=sys.stderr)

    with interrupt.stoppable():
        try:
            result = continual.run(config, seed=seed, protocol=protocol, pools=pools, n_jobs=args.jobs,
                                   train_jobs=train_jobs, progress=not args.quiet, session=session,
                                   on_task=None if args.quiet else report)
            iid = None
            if iid_reference:
                iid = continual.run_iid(config, seed=seed, protocol=protocol, pools=pools, n_jobs=args.jobs,
                                        train_jobs=train_jobs, progress=not args.quiet, session=session)
        except Interrupted as exc:
            raise interrupted_here(exc, "continual", args.out) from None
    summary = write_outputs(result, args.out, iid=iid, overwrite=True,
                                      extra={"command": "continual", "compile_seconds": compile_s,
                                             "out": str(args.out)})
    old = [x for x in summary["old_task_accuracy"] if x is not None]
    on = "" if result.dataset in (None, "mnist") else f" of dataset {result.dataset}"  # MNIST is not named
    line = (f"{config.model}, {config.n_neurons} neurons, {len(protocol.tasks)} tasks{on} in "
            f"{result.wall_seconds:.0f} s: "
            f"final average accuracy {summary['final_average_accuracy']:.3f}, "
            f"mean newest-task {np.mean(summary['new_task_accuracy']):.3f}")
    if old:
        line += f", mean previous-tasks {np.mean(old):.3f}, BWT {summary['bwt']:+.3f}"
    if iid is not None:
        line += f"; i.i.d. reference {iid['average_accuracy']:.3f}"
    print(line + f"; written to {args.out} (the final network: {Path(args.out) / 'network'})")
    if readouts_line(summary):
        print(readouts_line(summary))
    return summary
