"""What every experiment script shares: tasks run in worker processes, each result stored as it completes.

A task is a JSON-able dict with a unique ``"id"``; its result is written atomically
to ``OUT/runs/<id>.json`` as soon as it is done, so an interrupted experiment
rerun with the same command computes only what is missing. Workers are separate
processes (``spawn``), one simulation thread each; ``--jobs`` of them run at once.
"""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Callable

from tqdm.auto import tqdm

from spikedyn import __version__
from spikedyn.runs import write_json

_DATA: dict[str, Any] = {}


def mnist(split: str):
    """MNIST ``(images, labels)`` of a split, loaded once per process ($SPIKEDYN_DATA_DIR or the cache)."""
    if split not in _DATA:
        from spikedyn.data import load_mnist

        _DATA[split] = load_mnist(split)
    return _DATA[split]


def _run_one(worker: Callable[[dict], dict], task: dict, path: str) -> dict:
    start = time.perf_counter()
    result = worker(task)
    result = {"task": task, "spikedyn_version": __version__, "worker_wall_seconds": time.perf_counter() - start,
              **result}
    write_json(path, result)
    return result


def run_tasks(worker: Callable[[dict], dict], tasks: list[dict], out_dir: Path, *, jobs: int = 1,
              desc: str = "runs") -> list[dict]:
    """Results of every task, computing only those without a stored result; in the order of ``tasks``."""
    runs = Path(out_dir) / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    ids = [t["id"] for t in tasks]
    if len(set(ids)) != len(ids):
        raise ValueError("task ids must be unique")
    done: dict[str, dict] = {}
    todo = []
    for task in tasks:
        path = runs / f"{task['id']}.json"
        if path.is_file():
            stored = json.loads(path.read_text())
            if stored.get("task") == task:
                done[task["id"]] = stored
                continue
        todo.append((task, str(path)))
    if todo:
        print(f"{len(done)} of {len(tasks)} {desc} stored in {runs}; computing {len(todo)}", file=sys.stderr)
    with tqdm(total=len(todo), desc=desc, unit="run") as bar:
        if jobs <= 1:
            for task, path in todo:
                done[task["id"]] = _run_one(worker, task, path)
                bar.update()
        else:
            with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
                futures = {pool.submit(_run_one, worker, task, path): task["id"] for task, path in todo}
                for future in as_completed(futures):
                    done[futures[future]] = future.result()
                    bar.update()
    return [done[i] for i in ids]


def mean_sd(values) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1; 0 for one value)."""
    import numpy as np

    values = np.asarray(list(values), dtype=float)
    return float(values.mean()), float(values.std(ddof=1)) if values.size > 1 else 0.0


def int_list(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def float_list(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x.strip()]
