"""What every experiment script shares: tasks run on spikedyn's executors, each result stored as it completes.

A task is a JSON-able dict with a unique ``"id"``; its result is written atomically
to ``OUT/runs/<id>.json`` as soon as it is done, so an interrupted experiment
rerun with the same command computes only what is missing. The tasks run on the
executors of :mod:`spikedyn.search.executors`, the same as ``spikedyn search``: ``--jobs``
local worker processes (``spawn``), or a Dask cluster (``--executor dask
[--scheduler ADDRESS]``), so a user with a cluster runs the paper's comparison
there unchanged.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Callable, Iterator

from spikedyn.core.stats import mean_sd  # noqa: F401 - the scripts' one mean ± sd (ddof=1), re-exported
from spikedyn.io.files import atomic_path, atomic_write
from spikedyn.search import executors

_DATA: dict[str, Any] = {}


def mnist(split: str):
    """MNIST ``(images, labels)`` of a split, loaded once per process ($SPIKEDYN_DATA_DIR or the cache)."""
    if split not in _DATA:
        from spikedyn.io.data import load_mnist

        _DATA[split] = load_mnist(split)
    return _DATA[split]


def grid_combos(items: list[str]) -> list[list[tuple]]:
    """Every combination of ``--grid SECTION.FIELD=V1,V2,...`` items, each a list of parsed
    ``(key, value)`` overrides (one empty combination without items); a bad value fails here."""
    import itertools

    from spikedyn.config import parse_set

    axes = []
    for item in items:
        name, _, values = item.partition("=")
        axes.append([parse_set(f"{name}={v}") for v in values.split(",") if v.strip()])
    return [list(c) for c in itertools.product(*axes)]


def add_executor_options(ap: argparse.ArgumentParser, *, jobs: int | None = 1) -> None:
    """``--executor local|dask``, ``--jobs J`` and ``--scheduler ADDRESS``."""
    ap.add_argument("--executor", choices=executors.EXECUTORS, default="local",
                    help="local worker processes (default) or a Dask cluster")
    ap.add_argument("--jobs", type=int, default=jobs, help=f"workers (default {jobs or 'all cores'})")
    ap.add_argument("--scheduler", default=None, help="an existing Dask scheduler, tcp://host:port")


def run_tasks(worker: Callable[[dict], dict], tasks: list[dict], out_dir: Path, *, jobs: int = 1,
              desc: str = "runs", executor: str = "local", scheduler: str | None = None,
              cost: Callable[[dict], float] | None = None, warm: Callable[[dict], dict | None] | None = None,
              group: Callable[[dict], str] | None = None, group_name: str = "groups") -> list[dict]:
    """Results of every task, computing only those without a stored result; in the order of ``tasks``.
    ``cost``, ``warm``, ``group``: the scheduling of :func:`spikedyn.search.executors.run_tasks`
    (longest first, a warm-up per distinct set of kernels, complete groups in the progress bar)."""
    if executor == "dask":
        # The worker functions live in the experiment scripts (and this module), which a Dask
        # worker cannot import: send them by value.
        import cloudpickle

        cloudpickle.register_pickle_by_value(sys.modules[__name__])
        cloudpickle.register_pickle_by_value(sys.modules[worker.__module__])
    results, _ = executors.run_tasks(worker, tasks, Path(out_dir) / "runs", executor=executor, jobs=jobs,
                                     scheduler=scheduler, desc=desc, cost=cost, warm=warm, group=group,
                                     group_name=group_name)
    return results


def task_config(task: dict):
    """The network config of a continual task: ``model`` with ``neurons``, and its ``set`` overrides."""
    from spikedyn.config import NetworkConfig, parse_set

    return NetworkConfig(model=task["model"], n_neurons=task["neurons"]).replace(
        **dict(parse_set(item) for item in task["set"]))


def continual_warm_up(task: dict, **tiny) -> dict:
    """A warm-up of a continual task (see :func:`run_tasks`): the same model and overrides on a tiny
    protocol (``tiny``: the task's protocol fields, each set to one image), identified by the Numba
    types of its kernel arguments, so one warm-up compiles the kernels of every task that shares them."""
    from spikedyn.simulation.state import kernel_signature

    return {**task, "id": f"warm-up-{kernel_signature(task_config(task))}", "seed": 0, **tiny}


def seeds_group(task: dict) -> str:
    """The group of a task whose id ends in ``-seed<S>``: its id without that (the variant or
    configuration whose seeds it is), for :func:`run_tasks`'s ``group``."""
    return task["id"].rsplit("-seed", 1)[0]


def continual_cost(task: dict, samples_per_task: int, n_tasks: int = 10) -> float:
    """Synapse visits of a continual task's training, a rough measure of its duration (longest first)."""
    return float(task["neurons"] * samples_per_task * n_tasks * (2 if task.get("iid") else 1))


def stored_runs(out_dir: Path) -> list[dict]:
    """Every result stored in ``OUT/runs`` (whatever code produced it: each keeps its source hash), by file name."""
    return [json.loads(p.read_text()) for p in sorted((Path(out_dir) / "runs").glob("*.json"))]


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (:func:`spikedyn.io.files.atomic_write`): a reader never sees half."""
    atomic_write(path, lambda f: f.write(text.encode()))


@contextmanager
def open_text(path: Path, newline: str | None = None) -> Iterator[IO[str]]:
    """A text file opened for writing that replaces ``path`` only when the block succeeds (for ``csv.writer``)."""
    with atomic_path(path) as tmp, open(tmp, "w", newline=newline, encoding="utf-8") as f:
        yield f


def add_table_options(ap: argparse.ArgumentParser) -> None:
    """``--tables-only`` (write the table from the stored runs) and ``--out``, the runs' directory."""
    ap.add_argument("--tables-only", action="store_true", help="write the table from the stored runs")
    ap.add_argument("--out", type=Path, required=True)


def write_and_show(ap: argparse.ArgumentParser, results: list[dict], out_dir: Path,
                   write_table: Callable[[list[dict], Path], None]) -> None:
    """Write ``OUT/table.md`` from ``results`` with ``write_table`` and print it; a usage error (exit 2) when
    there is none (``--tables-only`` on a directory without stored runs)."""
    if not results:
        ap.error(f"no stored runs in {Path(out_dir) / 'runs'}")
    write_table(results, Path(out_dir))
    print((Path(out_dir) / "table.md").read_text(), end="")


def blocks_of(n: int, size: int) -> list[tuple[int, int]]:
    """``[(lo, hi), ...]``: consecutive blocks of ``size`` indices covering ``range(n)`` (the last may be short)."""
    return [(lo, min(lo + size, n)) for lo in range(0, n, size)]


def setting_label(pairs) -> str:
    """A setting's label, ``SECTION.FIELD=VALUE ...`` from parsed ``(key, value)`` overrides (``defaults`` if none)."""
    return " ".join(f"{k.replace('__', '.')}={v}" for k, v in pairs) or "defaults"


def setting_slug(pairs) -> str:
    """The setting in a run's file name: its label, or for a long one (a file name has at most 255
    bytes) its first words and a hash of the whole label."""
    label = setting_label(pairs).replace(" ", "-")
    if len(label) <= 120:
        return label
    return f"{label[:80]}-{hashlib.sha1(label.encode()).hexdigest()[:12]}"


def int_list(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def float_list(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x.strip()]


def write_screen_run(script: str, args: argparse.Namespace, config, matrix, per_task: list[dict], started: float,
                     **extra) -> int:
    """Store one run of a validation screen (``experiments/*_screen.py``) in ``args.out``, atomically: the
    arguments and config, the accuracy matrix (``None`` above the diagonal), ACC, BWT, ``per_task``,
    ``extra``, the wall time since ``started`` (:func:`time.perf_counter`), the source hash and the
    version; print ACC and BWT. Returns the exit status, 0."""
    from spikedyn import __version__
    from spikedyn._version import source_hash
    from spikedyn.continual.metrics import summarize
    from spikedyn.io.files import atomic_write

    metrics = summarize(matrix)
    out = {"script": script, "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
           "split": "validation", "config": config.to_dict(), **extra,
           "accuracy_matrix": metrics["accuracy_matrix"], "per_task": per_task,
           "final_average_accuracy": metrics["final_average_accuracy"], "bwt": metrics["bwt"],
           "wall_seconds": time.perf_counter() - started, "spikedyn_version": __version__,
           "source_hash": source_hash()}
    text = json.dumps(out, indent=1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(args.out, lambda f: f.write(text.encode()))
    print(f"ACC {metrics['final_average_accuracy']:.4f}, BWT {metrics['bwt']:+.4f}")
    return 0


def add_screen_options(ap: argparse.ArgumentParser, set_help: str) -> None:
    """The protocol options every validation screen (``experiments/*_screen.py``) takes: network size and
    seed, tasks, images per task, the labelled pass, ``--set`` overrides (``set_help`` says after what) and
    the data directory."""
    from spikedyn.continual import protocol as cp

    ap.add_argument("--neurons", type=int, default=400)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tasks", default="0,1,2,3,4,5,6,7,8,9")
    ap.add_argument("--samples-per-task", type=int, default=cp.DEFAULT_SAMPLES_PER_TASK)
    ap.add_argument("--assign-per-class", type=int, default=cp.DEFAULT_ASSIGN_PER_CLASS)
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE", help=set_help)
    ap.add_argument("--data-dir", default=None)


def screen_plan(args: argparse.Namespace):
    """The protocol of a screen's options (:func:`add_screen_options`) on the validation split, its pools and
    the plan of images (``spikedyn continual --split validation --seed S``'s): ``(protocol, pools, plan)``."""
    from spikedyn.continual import protocol as cp

    protocol = cp.Protocol(tasks=cp.parse_tasks(args.tasks), samples_per_task=args.samples_per_task,
                           assign_per_class=args.assign_per_class, split="validation")
    pools = cp.load_pools("validation", args.data_dir)
    return protocol, pools, cp._plan(pools, protocol, args.seed)
