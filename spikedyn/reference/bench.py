"""Speed of spikedyn (Numba) against the Brian2 twin (``spikedyn bench``, :mod:`spikedyn.cli.reference`).

Every backend gets the same inputs (the first K MNIST training images, the same seed,
so the same input spikes) and the same initial weights and thresholds (a spikedyn
``Network``'s seeded ones) in one run of the command. Training runs the training
protocol from those weights; inference runs the inference protocol (stream
``STREAM_TEST``) with those same initial weights.

Backends
--------
``numba``
    spikedyn. Training is single-threaded (one network); inference runs
    ``Network.respond(..., n_jobs=J)`` and is also reported with ``n_jobs=1``.
    ``compile_seconds`` is the first call's compile (or cache-load) time, measured on
    a throwaway network on one image.
``brian2-standalone``, ``brian2-cython``, ``brian2-numpy``
    :class:`spikedyn.reference.brian2.Brian2Network` on that target, single-threaded.
    ``compile_seconds`` is code generation plus compilation (make for standalone,
    Cython for cython; numpy has only code generation). ``--brian2-samples`` lowers
    the sample count of the slow runtime targets (numpy, cython).

Speed
-----
``samples_per_second`` is samples over the wall time of the whole call (everything a
user waits for except compilation). Brian2 rows add ``samples_per_second_sim`` (time
inside Brian2's run: ``Network.run``, or the standalone binary's whole execution, which
per presentation includes process start, synapse creation and the file I/O of
``run_args`` and results) and ``samples_per_second_loop`` (Brian2's simulation loop
alone, its ``_last_run_time``): the speed Brian2 would reach if the protocol ran
inside one binary. ``speedups`` gives numba over each, as ``speedup``,
``speedup_vs_sim_only`` and ``speedup_vs_loop_only``.

Memory
------
``peak_rss_mb``: for in-process backends (numba, brian2-numpy, brian2-cython) the
process's ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` after the measurement, with
``rss_growth_mb`` its increase during the measurement (a high-water mark: 0 means the
measurement did not exceed an earlier peak of the process). For ``brian2-standalone``
the simulation runs in a separate binary: its own peak RSS is measured on one extra
presentation run through a wrapper (after the timed runs, so timing is unaffected),
and ``rss_growth_mb`` is the Python side's growth.
"""

from __future__ import annotations

import os
import platform
import resource
import sys
import time
from typing import Any

import numpy as np

from ..config import NetworkConfig
from ..core.encoding import STREAM_TEST

BACKENDS = ("numba", "brian2-standalone", "brian2-cython", "brian2-numpy")
MODES = ("train", "infer")
_TARGET = {"brian2-standalone": "cpp_standalone", "brian2-cython": "cython", "brian2-numpy": "numpy"}


def _maxrss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024.0  # Linux: kilobytes


def machine_info() -> dict[str, Any]:
    """CPU, load and library versions of this machine."""
    import numba

    info: dict[str, Any] = {
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
    }
    from importlib.metadata import PackageNotFoundError, version

    try:  # without importing Brian2 (only spikedyn.reference.brian2 does)
        info["brian2"] = version("brian2")
    except PackageNotFoundError:  # pragma: no cover - brian2 is a dependency
        info["brian2"] = None
    try:
        info["load_average"] = list(os.getloadavg())
    except OSError:  # pragma: no cover
        info["load_average"] = None
    return info


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


# -- one backend --------------------------------------------------------------------------------
def _row(model, backend, neurons, mode, samples, wall, compile_s, threads, rss0, **extra) -> dict[str, Any]:
    row = {
        "model": model,
        "backend": backend,
        "neurons": neurons,
        "mode": mode,
        "samples": samples,
        "wall_seconds": wall,
        "samples_per_second": samples / wall if wall > 0 else float("inf"),
        "compile_seconds": compile_s,
        "threads": threads,
        "peak_rss_mb": _maxrss_mb(),
        "rss_growth_mb": _maxrss_mb() - rss0,
    }
    row.update(extra)
    return row


def bench_numba(config: NetworkConfig, images: np.ndarray, *, seed: int, modes, jobs: int,
                count_operations: bool = True, train_jobs: int = 1) -> list[dict[str, Any]]:
    """Rows of the ``numba`` backend for one model and size (operation counters on or off):
    training on one thread and, for ``train_jobs`` > 1, then on that many (one after the other,
    checked to learn the same weights), inference on ``jobs`` threads and on one."""
    from ..simulation.network import Network, warm_up

    rows = []
    m, n = config.model, config.n_neurons
    if "train" in modes:
        compile_s = warm_up(config, learn=True, seed=seed, n_jobs=train_jobs)
        learned = None
        for threads in sorted({train_jobs, 1}):
            rss0 = _maxrss_mb()
            net = Network(config, seed=seed, count_operations=count_operations)
            stats = net.train(images, progress=False, n_jobs=threads)
            if learned is not None and not np.array_equal(net.weights, learned):
                raise RuntimeError(f"training on {threads} threads learned other weights than on one")
            learned = net.weights
            rows.append(_row(m, "numba", n, "train", images.shape[0], stats.wall_seconds, compile_s, threads, rss0,
                             presentations=stats.presentations))
    if "infer" in modes:
        compile_s = warm_up(config, learn=False, seed=seed)
        net = Network(config, seed=seed, count_operations=count_operations)
        for threads in sorted({jobs, 1}, reverse=True):
            rss0 = _maxrss_mb()
            start = time.perf_counter()
            net.respond(images, stream=STREAM_TEST, n_jobs=threads, progress=False)
            wall = time.perf_counter() - start
            rows.append(_row(m, "numba", n, "infer", images.shape[0], wall, compile_s, threads, rss0))
    return rows


def bench_brian2(config: NetworkConfig, images: np.ndarray, backend: str, *, seed: int, modes,
                 progress: bool) -> list[dict[str, Any]]:
    """Rows of one Brian2 backend for one model and size (initial weights of ``Network(config, seed)``)."""
    from ..simulation.network import Network
    from .brian2 import Brian2Network

    rows = []
    m, n = config.model, config.n_neurons
    init = Network(config, seed=seed)
    for mode in modes:
        b2 = Brian2Network(config, init.weights, init.theta, target=_TARGET[backend], seed=seed)
        try:
            rss0 = _maxrss_mb()
            engine = b2.engine(mode)
            compile_s = engine.build_seconds
            start = time.perf_counter()
            if mode == "train":
                counts, record = b2.train(images, progress=progress, desc=f"{backend} {m} {n} train")
            else:
                counts, record = b2.respond(images, STREAM_TEST, progress=progress, desc=f"{backend} {m} {n} infer")
            wall = time.perf_counter() - start
            sim, loop = engine.sim_seconds, engine.loop_seconds
            extra: dict[str, Any] = {
                "presentations": int(record.presentations.sum()),
                "sim_seconds": sim,
                "loop_seconds": loop,
                "samples_per_second_sim": images.shape[0] / sim if sim > 0 else float("inf"),
                "samples_per_second_loop": images.shape[0] / loop if loop > 0 else float("inf"),
            }
            row = _row(m, backend, n, mode, images.shape[0], wall, compile_s, 1, rss0, **extra)
            if backend == "brian2-standalone":
                row["peak_rss_mb"] = _standalone_peak_mb(b2, images[0], mode)
            rows.append(row)
        finally:
            b2.close()
    return rows


_PEAK_WRAPPER = (
    "import resource, subprocess, sys\n"
    "rc = subprocess.call(sys.argv[2:])\n"
    "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
    "sys.exit(rc)\n"
)


def _standalone_peak_mb(b2, image: np.ndarray, mode: str) -> float:
    """Peak RSS (MB) of the standalone binary over one more presentation, run through a wrapper."""
    from brian2 import prefs

    engine = b2.engine(mode)
    out = os.path.join(engine.directory, "spikedyn_maxrss.txt")
    old = prefs.devices.cpp_standalone.run_cmd_unix
    prefs.devices.cpp_standalone.run_cmd_unix = [sys.executable, "-c", _PEAK_WRAPPER, out, "./main"]
    try:
        c = b2.config
        learn = mode == "train"
        n_steps = c.timing.present_steps + (c.timing.rest_steps if learn else 0)
        weights, theta = b2.weights.copy(), b2._theta_v.copy()
        engine.present(weights, theta, b2._raster(image, STREAM_TEST, 0, 0), n_steps, from_rest=not learn)
        with open(out) as f:
            return int(f.read()) / 1024.0
    finally:
        prefs.devices.cpp_standalone.run_cmd_unix = old


# -- the whole benchmark ------------------------------------------------------------------------
def speedups(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Speedup of numba over every other backend, per model, size and mode (and numba thread count)."""
    out = []
    for r in results:
        if r["backend"] != "numba":
            continue
        for other in results:
            if (other["backend"] != "numba" and other["model"] == r["model"] and other["neurons"] == r["neurons"]
                    and other["mode"] == r["mode"]):
                entry = {
                    "model": r["model"], "neurons": r["neurons"], "mode": r["mode"],
                    "numba_threads": r["threads"], "backend": other["backend"],
                    "speedup": r["samples_per_second"] / other["samples_per_second"],
                }
                for key, name in (("samples_per_second_sim", "speedup_vs_sim_only"),
                                  ("samples_per_second_loop", "speedup_vs_loop_only")):
                    if key in other:
                        entry[name] = r["samples_per_second"] / other[key]
                out.append(entry)
    return out


def run_bench(models, neurons, backends, images: np.ndarray, *, modes=MODES, jobs: int | None = None,
              brian2_samples: int | None = None, seed: int = 0, progress: bool = True,
              base_config: NetworkConfig | None = None, count_operations: bool = True,
              train_jobs: int = 1) -> dict[str, Any]:
    """Benchmark every (model, size, backend, mode); returns the ``--json`` summary.

    spikedyn (``numba``) infers on ``jobs`` threads (default: all cores) and on one, and trains on
    one thread and, side by side, on ``train_jobs`` (:func:`bench_numba`).

    Each network is ``base_config`` (default: the defaults) with its model and size;
    spikedyn's operation counters are on unless ``count_operations`` is false.
    """
    base_config = NetworkConfig() if base_config is None else base_config
    from ..simulation.network import default_jobs

    jobs = default_jobs() if jobs is None else int(jobs)
    k = images.shape[0]
    k_b2 = k if brian2_samples is None else min(int(brian2_samples), k)
    machine = machine_info()
    results: list[dict[str, Any]] = []
    start = time.perf_counter()
    for model in models:
        for n in neurons:
            config = base_config.replace(model=model, n_neurons=int(n))
            for backend in backends:
                if backend == "numba":
                    rows = bench_numba(config, images, seed=seed, modes=modes, jobs=jobs,
                                       count_operations=count_operations, train_jobs=train_jobs)
                else:
                    sub = images if backend == "brian2-standalone" else images[:k_b2]
                    rows = bench_brian2(config, sub, backend, seed=seed, modes=modes, progress=progress)
                for r in rows:
                    if progress:
                        print(f"  {r['model']} {r['neurons']} {r['backend']} {r['mode']} threads={r['threads']}: "
                              f"{r['samples_per_second']:.2f} samples/s", file=sys.stderr)
                results.append(rows)
    flat = [r for rows in results for r in rows]
    machine["load_average_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    from .._version import provenance

    return {
        "command": "bench",
        **provenance(),
        # every parameter of each model; n_neurons is the "neurons" of each result row
        "configs": {model: {k: v for k, v in base_config.replace(model=model).to_dict().items() if k != "n_neurons"}
                    for model in models},
        "samples": k,
        "brian2_runtime_samples": k_b2,
        "seed": seed,
        "jobs": jobs,
        "train_jobs": train_jobs,
        "modes": list(modes),
        "count_operations": count_operations,
        "memory_method": "resource.getrusage ru_maxrss (process high-water mark; standalone: the binary's own "
                         "peak, measured on one extra presentation)",
        "results": flat,
        "speedups": speedups(flat),
        "machine": machine,
        "total_seconds": time.perf_counter() - start,
    }


def markdown_table(summary: dict[str, Any]) -> str:
    """The results as a markdown table, with numba's speedup over each other backend."""
    best: dict[tuple, tuple[float, float]] = {}
    for s in summary["speedups"]:
        key = (s["model"], s["neurons"], s["mode"], s["backend"])
        old = best.get(key, (0.0, 0.0))
        best[key] = (max(old[0], s["speedup"]), max(old[1], s.get("speedup_vs_loop_only", 0.0)))
    lines = [
        "| model | neurons | mode | backend | threads | samples | samples/s | loop-only samples/s | compile s "
        "| peak RSS MB | numba speedup | numba speedup vs loop only |",
        "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in summary["results"]:
        sp = best.get((r["model"], r["neurons"], r["mode"], r["backend"]))
        loop = r.get("samples_per_second_loop")
        lines.append(
            f"| {r['model']} | {r['neurons']} | {r['mode']} | {r['backend']} | {r['threads']} | {r['samples']} | "
            f"{r['samples_per_second']:.2f} | {'' if loop is None else f'{loop:.2f}'} | "
            f"{r['compile_seconds']:.1f} | {r['peak_rss_mb']:.0f} | {'' if sp is None else f'{sp[0]:.1f}x'} | "
            f"{'' if sp is None or not sp[1] else f'{sp[1]:.1f}x'} |"
        )
    lines.append("")
    lines.append("numba speedups use the faster numba thread count; 'loop only' counts Brian2's simulation loop "
                 "alone (no process start, synapse creation or file I/O per presentation).")
    return "\n".join(lines)
