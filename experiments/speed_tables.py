"""The speed tables of docs/speed.md, measured and written by one script (nothing typed by hand).

Three parts, each stored as JSON in ``--out`` and turned into a markdown table there:

``brian2.md``
    ``spikedyn bench --neurons 400 --samples 200 --backends numba,brian2-standalone``
    (``diehl-cook``): samples/s of training and inference, numba's speedups over Brian2's
    cpp_standalone (whole call and simulation loop only), compile times and peak memory.
    The bench runs on an empty Numba cache (numba's compile time is a cold compile); a
    second bench of numba alone (``--samples 1``) on the cache it left gives the compile
    time from the cache.
``scaling.md``
    ``spikedyn bench --model diehl-cook,lateral --neurons 100,400,1600 --samples 1000
    --backends numba``, ``--runs`` times; the median of every cell, and ``scaling.png``
    (the plot of ``spikedyn bench --plot``, drawn from those medians).
``plain_numba.md``
    A plain Numba implementation of ``lateral`` (``--probe``, run as ``python PROBE N SAMPLES``)
    against ``spikedyn bench --model lateral --neurons 400 --samples 600 --backends numba
    --mode train`` (training on one thread), and against the same bench at the probe's schedule
    (``--set timing.rest_ms=0 --set input.min_spikes=0``: 350 ms presentations, no rest, no
    retries, the same steps per image as the probe), one after the other (A B C A B C ...)
    ``--runs`` times: samples/s of each, the ratios per run and their medians.

``summary.md`` (the README's speed section)
    The headline ratios of the three, and of one network on two threads
    (``experiments/bench_threads.py``'s runs in ``experiments/results/bench_threads/``), written
    with the tables whenever the stored runs of all of them are there.

Every JSON carries the load average before and after its run, the machine, spikedyn's version
and source hash; every table a caption line with them. ``--table-only`` rewrites the tables
(and the plot) from the stored JSONs.

    python experiments/speed_tables.py --runs 3
    python experiments/speed_tables.py --table-only

The sizes can be shrunk for a quick check of the script (the captions then say so):

    python experiments/speed_tables.py --runs 1 --out /tmp/speed --neurons 20,40 --samples 20 \\
        --brian2-neurons 20 --brian2-samples 2 --pair-neurons 20 --pair-samples 20
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from spikedyn.io.files import atomic_path, write_json

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "experiments" / "results" / "speed"
#: The plain Numba implementation, outside the repository.
PROBE = ROOT.parent / "shared" / "probe" / "plain_numba_network.py"
PARTS = ("brian2", "scaling", "plain_numba")
#: spikedyn's settings for the probe's schedule: no rest after a presentation, no retries.
PROBE_SCHEDULE = ["--set", "timing.rest_ms=0", "--set", "input.min_spikes=0"]
#: What the probe prints: ``N=400: 1.476 ms/sample, 678 samples/s; ...``.
PROBE_LINE = re.compile(r"N=(\d+): ([0-9.]+) ms/sample, ([0-9.]+) samples/s")
BACKEND_NAMES = {"brian2-standalone": "Brian2 cpp_standalone"}


# -- running --------------------------------------------------------------------------------------
def _shown(path: Path) -> str:
    """``path`` relative to the repository where it is inside it."""
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _check(done: subprocess.CompletedProcess, cmd: list[str]) -> None:
    if done.returncode != 0:
        tail = (done.stderr or done.stdout or "").strip().splitlines()[-1:] or ["(no output)"]
        sys.exit(f"{shlex.join(cmd)} failed (exit status {done.returncode}): {tail[0]}")


def bench(path: Path, args: list[str], command: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``spikedyn bench ARGS --json PATH``; store in its JSON the load average before the run,
    the bench command and the command of this script."""
    cmd = [sys.executable, "-m", "spikedyn.cli", "bench", *args, "--json", str(path), "--quiet"]
    load_start = list(os.getloadavg())
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    _check(done, cmd)
    summary = json.loads(path.read_text())
    summary["machine"]["load_average_start"] = load_start
    summary["bench_command"] = shlex.join(["spikedyn", "bench", *args, "--json", _shown(path)])
    summary["speed_tables_command"] = command
    write_json(path, summary)
    return summary


def probe(path: Path, script: Path, neurons: int, samples: int, command: str) -> dict[str, Any]:
    """Run the plain Numba probe and store what it printed, with the machine and its load."""
    from spikedyn.reference.bench import machine_info

    cmd = [sys.executable, str(script), str(neurons), str(samples)]
    machine = machine_info()
    machine["load_average_start"] = list(os.getloadavg())
    done = subprocess.run(cmd, capture_output=True, text=True)
    machine["load_average_end"] = list(os.getloadavg())
    _check(done, cmd)
    match = PROBE_LINE.search(done.stdout)
    if match is None:
        sys.exit(f"{shlex.join(cmd)} printed no 'N=...: ... ms/sample' line: {done.stdout.strip()[:200]}")
    ms = float(match.group(2))
    record = {
        "command": "plain_numba_probe",
        "probe": str(script),
        "probe_sha256": hashlib.sha256(script.read_bytes()).hexdigest(),
        "probe_command": shlex.join(["python", script.name, str(neurons), str(samples)]),
        "neurons": int(match.group(1)),
        "samples": samples,
        "ms_per_sample": ms,
        "samples_per_second": 1e3 / ms,  # from the ms/sample it prints (3 decimals), not its rounded samples/s
        "output": done.stdout.strip(),
        "machine": machine,
        "speed_tables_command": command,
    }
    write_json(path, record)
    return record


def _remove(out: Path, pattern: str) -> None:
    for old in out.glob(pattern):
        old.unlink()


def measure(args: argparse.Namespace, command: str) -> None:
    """Run every bench of ``args.parts`` and store its JSON in ``args.out``."""
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    steps = (2 if "brian2" in args.parts else 0) + (args.runs if "scaling" in args.parts else 0) \
        + (3 * args.runs if "plain_numba" in args.parts else 0)
    with tqdm(total=steps, desc="speed tables", unit="run") as bar:
        def step(name: str) -> None:
            bar.set_postfix_str(name)

        if "brian2" in args.parts:
            with tempfile.TemporaryDirectory(prefix="spikedyn-numba-cache-") as cache:
                env = dict(os.environ, NUMBA_CACHE_DIR=cache)  # an empty Numba cache: a cold compile
                size = ["--model", "diehl-cook", "--neurons", str(args.brian2_neurons)]
                step("brian2")
                bench(out / "brian2.json", [*size, "--samples", str(args.brian2_samples),
                                            "--backends", "numba,brian2-standalone"], command, env)
                bar.update()
                step("numba from cache")
                bench(out / "brian2_cache.json", [*size, "--samples", "1", "--backends", "numba"], command, env)
                bar.update()
        if "scaling" in args.parts:
            _remove(out, "scaling_run*.json")
            for k in range(1, args.runs + 1):
                step(f"scaling run {k}")
                bench(out / f"scaling_run{k}.json", ["--model", "diehl-cook,lateral", "--neurons", args.neurons,
                                                    "--samples", str(args.samples), "--backends", "numba"], command)
                bar.update()
        if "plain_numba" in args.parts:
            _remove(out, "pair*.json")
            for k in range(1, args.runs + 1):
                step(f"pair {k}: plain Numba")
                probe(out / f"pair{k}_plain.json", args.probe, args.pair_neurons, args.pair_samples, command)
                bar.update()
                lateral = ["--model", "lateral", "--neurons", str(args.pair_neurons), "--samples",
                           str(args.pair_samples), "--backends", "numba", "--mode", "train"]
                step(f"pair {k}: spikedyn")
                bench(out / f"pair{k}_spikedyn.json", lateral, command)
                bar.update()
                step(f"pair {k}: spikedyn at the probe's schedule")
                bench(out / f"pair{k}_spikedyn_schedule.json", lateral + PROBE_SCHEDULE, command)
                bar.update()


# -- tables ---------------------------------------------------------------------------------------
def _load(path: Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def _numbered(out: Path, pattern: str) -> list[Path]:
    """The files ``pattern`` (one ``{}`` for the run number) in ``out``, in the order of their numbers."""
    found = {}
    for path in Path(out).glob(pattern.format("*")):
        number = re.fullmatch(pattern.format(r"(\d+)"), path.name)
        if number:
            found[int(number.group(1))] = path
    return [found[k] for k in sorted(found)]


def plural(count: int, word: str) -> str:
    """``1 run``, ``3 runs``."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def rate(value: float) -> str:
    """Samples/s as the tables print them: no decimals from 100 up, one below."""
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def times(value: float) -> str:
    """A speedup or ratio: ``178x``, ``19x``, ``2.03x``."""
    return f"{value:,.0f}x" if value >= 10 else f"{value:.2f}x"


def _load_pair(machine: dict[str, Any]) -> str:
    """``1.0 / 1.2``: the 1-minute load average at the start and the end of a run."""
    return f"{machine['load_average_start'][0]:.1f} / {machine['load_average_end'][0]:.1f}"


def caption(records: list[dict[str, Any]], command: str | None = None) -> str:
    """The machine, the load average, the code and the command of ``records`` (stored JSONs), as one line."""
    machine = records[0]["machine"]
    cpu = f" ({machine['cpu_model']})" if machine.get("cpu_model") else ""
    loads = ", ".join(_load_pair(r["machine"]) for r in records)
    code = sorted({f"spikedyn {r.get('spikedyn_version', '?')}, source {r.get('source_hash', 'unknown')}"
                   for r in records if r.get("command") == "bench"})
    command = command or records[0].get("speed_tables_command", "python experiments/speed_tables.py")
    return (f"Machine: {machine.get('cpu_count')} cores{cpu}; load average (1 min) at the start / end of each run: "
            f"{loads}. Code: {'; '.join(code)}. Measured by `{command}`.")


def _find(results: list[dict[str, Any]], **key: Any) -> dict[str, Any] | None:
    for r in results:
        if all(r.get(k) == v for k, v in key.items()):
            return r
    return None


def _speedup(summary: dict[str, Any], mode: str, threads: int) -> dict[str, Any]:
    return _find(summary["speedups"], mode=mode, numba_threads=threads) or {}


def _columns(jobs: int, train: str, infer_jobs: str, infer_one: str) -> list[tuple[str, int, str]]:
    """(mode, threads, label) of what a bench measures: training on one thread, inference on
    ``jobs`` threads (``infer_jobs`` with ``{}`` for the number; left out for one) and on one."""
    jobs_column = [("infer", jobs, infer_jobs.format(jobs))] if jobs != 1 else []
    return [("train", 1, train), *jobs_column, ("infer", 1, infer_one)]


def brian2_table(out: Path) -> str:
    """``brian2.md``: numba against Brian2 cpp_standalone, from ``brian2.json`` (and ``brian2_cache.json``)."""
    s = _load(Path(out) / "brian2.json")
    cache_path = Path(out) / "brian2_cache.json"
    cached = _load(cache_path) if cache_path.is_file() else None
    results = s["results"]
    other = next(r["backend"] for r in results if r["backend"] != "numba")
    name = BACKEND_NAMES.get(other, other)
    model, n, jobs = results[0]["model"], results[0]["neurons"], s["jobs"]
    b2 = {mode: _find(results, backend=other, mode=mode) for mode in ("train", "infer")}
    lines = [
        f"`{model}`, {n} neurons, the first {s['samples']} MNIST training images, the same initial weights for "
        f"both; `{s['bench_command']}` on an empty Numba cache"
        + (f", then `{cached['bench_command']}` on the cache it left" if cached else "") + ". "
        + caption([s] + ([cached] if cached else [])), "",
        f"| `{model}`, {n} neurons | numba | {name} | speedup | Brian2 simulation loop only | speedup |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for mode, threads, label in _columns(jobs, "training, 1 thread", "inference, {} threads", "inference, 1 thread"):
        mine = _find(results, backend="numba", mode=mode, threads=threads)
        ref, sp = b2[mode], _speedup(s, mode, threads)
        bold = "**" if mode == "train" else ""
        lines.append(f"| {label} | {rate(mine['samples_per_second'])} samples/s | "
                     f"{rate(ref['samples_per_second'])} samples/s | {bold}{times(sp['speedup'])}{bold} | "
                     f"{rate(ref['samples_per_second_loop'])} samples/s | {times(sp['speedup_vs_loop_only'])} |")
    numba_compile = {m: _find(results, backend="numba", mode=m)["compile_seconds"] for m in ("train", "infer")}
    compile_cell = f"cold: {numba_compile['train']:.1f} s training, {numba_compile['infer']:.1f} s inference"
    if cached:
        c = {m: _find(cached["results"], backend="numba", mode=m)["compile_seconds"] for m in ("train", "infer")}
        compile_cell += f"; from the cache: {c['train']:.1f} s, {c['infer']:.1f} s"
    lines.append(f"| compile | {compile_cell} | {b2['train']['compile_seconds']:.1f} s training, "
                 f"{b2['infer']['compile_seconds']:.1f} s inference | | | |")
    peak = max(r["peak_rss_mb"] for r in results if r["backend"] == "numba")
    memory_cell = f"{peak:.0f} MB (whole process, cold)"
    if cached:
        memory_cell += f", {max(r['peak_rss_mb'] for r in cached['results']):.0f} MB from the cache"
    lines.append(f"| peak memory | {memory_cell} | {max(r['peak_rss_mb'] for r in b2.values()):.0f} MB "
                 "(the simulation binary) | | | |")
    return "\n".join(lines) + "\n"


def median_rows(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (backend, model, neurons, mode, threads) of the bench runs, with the median
    ``samples_per_second`` over the runs and ``spread``, the largest over the smallest minus one."""
    groups: dict[tuple, list[float]] = {}
    for run in runs:
        for r in run["results"]:
            key = (r["backend"], r["model"], r["neurons"], r["mode"], r["threads"])
            groups.setdefault(key, []).append(r["samples_per_second"])
    return [{"backend": b, "model": m, "neurons": n, "mode": mode, "threads": t,
             "samples_per_second": statistics.median(v), "spread": max(v) / min(v) - 1, "runs": len(v)}
            for (b, m, n, mode, t), v in groups.items()]


def scaling_runs(out: Path) -> list[dict[str, Any]]:
    return [_load(p) for p in _numbered(out, "scaling_run{}.json")]


def scaling_table(out: Path) -> str:
    """``scaling.md``: numba's samples/s per model and size, the median of the stored runs."""
    runs = scaling_runs(out)
    first = runs[0]
    jobs = first["jobs"]
    rows = median_rows(runs)
    columns = _columns(jobs, "training samples/s (1 thread)", "inference samples/s ({} threads)",
                       "inference samples/s (1 thread)")
    lines = [f"numba, {first['samples']} samples per row, the median of {plural(len(runs), 'run')} (each cell on its "
             f"own); training from the initial weights. `{first['bench_command']}`, {plural(len(runs), 'time')}. " + caption(runs), "",
             "| model | N | " + " | ".join(c[2] for c in columns) + " |",
             "|---|---:|" + "---:|" * len(columns)]
    models = list(dict.fromkeys(r["model"] for r in first["results"]))
    sizes = sorted({r["neurons"] for r in first["results"]})
    for model in models:
        for n in sizes:
            cells = [_find(rows, model=model, neurons=n, mode=mode, threads=t) for mode, t, _ in columns]
            lines.append(f"| `{model}` | {n} | " + " | ".join(rate(c["samples_per_second"]) for c in cells) + " |")
    worst = max(rows, key=lambda r: r["spread"])
    lines += ["", f"Largest difference between the runs of one cell (fastest / slowest - 1): "
                  f"{100 * worst['spread']:.0f} % (`{worst['model']}`, {worst['neurons']} neurons, {worst['mode']}, "
                  f"{plural(worst['threads'], 'thread')})."]
    return "\n".join(lines) + "\n"


def scaling_plot(out: Path) -> Path:
    """``scaling.png``: ``spikedyn bench --plot``'s figure of the median rows."""
    import matplotlib

    matplotlib.use("Agg")
    from spikedyn.plotting import plot_scaling, save_figure

    rows = median_rows(scaling_runs(out))
    return save_figure(plot_scaling(rows, title=f"numba, median of {plural(rows[0]['runs'], 'run')}").figure,
                       Path(out) / "scaling.png")


def pair_runs(out: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The stored runs of the plain Numba probe (A), spikedyn at its defaults (B) and at the probe's
    schedule (C; none for runs stored before C was measured), one of each per run."""
    plain = [_load(p) for p in _numbered(out, "pair{}_plain.json")]
    mine = [_load(p) for p in _numbered(out, "pair{}_spikedyn.json")]
    same = [_load(p) for p in _numbered(out, "pair{}_spikedyn_schedule.json")]
    if len(plain) != len(mine) or not plain or (same and len(same) != len(plain)):
        raise SystemExit(f"{out}: {len(plain)} plain Numba runs, {len(mine)} spikedyn runs and {len(same)} at the "
                         f"probe's schedule; expected one of each per run")
    return plain, mine, same


def _train_rate(bench: dict[str, Any]) -> float:
    """Training samples/s on one thread of a spikedyn bench summary."""
    return _find(bench["results"], mode="train", threads=1)["samples_per_second"]


def plain_numba_table(out: Path) -> str:
    """``plain_numba.md``: the plain Numba probe (A), spikedyn at its defaults (B) and at the probe's
    schedule (C) one after the other, run by run (runs stored before C was measured have no C)."""
    plain, mine, same = pair_runs(out)
    s0 = mine[0]
    n = s0["results"][0]["neurons"]
    runs = [r for k in range(len(plain)) for r in (plain[k], mine[k], *same[k:k + 1])]
    lines = [f"`{s0['results'][0]['model']}`, {n} neurons, the first {s0['samples']} MNIST training images, "
             f"training on one thread; each run is A = the plain Numba probe (`{plain[0]['probe_command']}`, "
             f"sha256 {plain[0]['probe_sha256'][:12]}), then B = `{s0['bench_command']}`"
             + (f", then C = `{same[0]['bench_command']}` (the probe's schedule: 700 steps per image, no rest, "
                "no retries)" if same else "") + ". " + caption(runs), ""]
    head = "| run | A: plain Numba, samples/s | B: spikedyn, samples/s | B / A | B's presentations "
    rule = "|---:|---:|---:|---:|---:|"
    if same:
        head += "| C: spikedyn at the probe's schedule, samples/s | C / A "
        rule += "---:|---:|"
    lines += [head + "| load start / end |", rule + "---|"]
    ratios, ratios_same = [], []
    for k, (a, b) in enumerate(zip(plain, mine), 1):
        last = same[k - 1] if same else b
        ratios.append(_train_rate(b) / a["samples_per_second"])
        cells = f"| {k} | {rate(a['samples_per_second'])} | {rate(_train_rate(b))} | {times(ratios[-1])} | " \
                f"{_find(b['results'], mode='train', threads=1).get('presentations', '')} |"
        if same:
            ratios_same.append(_train_rate(last) / a["samples_per_second"])
            cells += f" {rate(_train_rate(last))} | {times(ratios_same[-1])} |"
        load = {"load_average_start": a["machine"]["load_average_start"],
                "load_average_end": last["machine"]["load_average_end"]}
        lines.append(f"{cells} {_load_pair(load)} |")
    lines += ["", f"Median ratio, spikedyn / plain Numba: {times(statistics.median(ratios))} at spikedyn's defaults"
                  + (f", {times(statistics.median(ratios_same))} at the probe's schedule" if same else "")
                  + f" ({plural(len(ratios), 'run')})."]
    return "\n".join(lines) + "\n"


def summary_table(out: Path, threads: Path) -> str:
    """``summary.md``: the headline ratios of the stored runs (the README's speed section)."""
    from bench_threads import ratios_by_size, stored_runs  # the thread table's own ratios

    b2 = _speedup(_load(Path(out) / "brian2.json"), "train", 1)
    plain, mine, same = pair_runs(out)

    def median_ratio(runs: list[dict[str, Any]]) -> str:
        return times(statistics.median(_train_rate(r) / a["samples_per_second"] for r, a in zip(runs, plain)))

    thread_runs = stored_runs(threads)
    jobs = thread_runs[0]["train_jobs"]
    by_size = ratios_by_size(thread_runs)
    sizes = " / ".join(str(n) for n in by_size)
    ratios = " / ".join(times(statistics.median(v)) for v in by_size.values())
    cpu = plain[0]["machine"]
    return "\n".join([
        f"Measured on {cpu.get('cpu_count')} cores ({cpu.get('cpu_model')}), each ratio the median of the side-by-side "
        f"runs in [docs/speed.md](docs/speed.md); source {mine[0]['source_hash']} (threads: "
        f"{thread_runs[0].get('source_hash', 'not recorded')}).", "",
        "| training, one thread unless said | ratio |",
        "|---|---:|",
        f"| `lateral`, 400 neurons, against a plain Numba implementation of the same network, at spikedyn's "
        f"defaults | {median_ratio(mine)} |",
        *([f"| the same, at the plain implementation's schedule (no rest, no retries: the same steps per image) "
           f"| {median_ratio(same)} |"] if same else []),
        f"| `diehl-cook`, 400 neurons, against Brian2 cpp_standalone (whole run) | {times(b2['speedup'])} |",
        f"| one `lateral` network on {jobs} threads against one, {sizes} neurons | {ratios} |", ""])


TABLES = {"brian2": ("brian2.md", brian2_table, "brian2.json"),
          "scaling": ("scaling.md", scaling_table, "scaling_run1.json"),
          "plain_numba": ("plain_numba.md", plain_numba_table, "pair1_plain.json")}


def write_tables(out: Path, parts: list[str]) -> None:
    for part in parts:
        name, make, needed = TABLES[part]
        if not (Path(out) / needed).is_file():
            sys.exit(f"{out} has no stored runs of {part} ({needed}); run without --table-only first")
        text = make(out)
        with atomic_path(Path(out) / name) as tmp:
            tmp.write_text(text)
        print(text)
        if part == "scaling":
            print(f"wrote {scaling_plot(out)}")
    threads = ROOT / "experiments" / "results" / "bench_threads"
    needed = [Path(out) / "brian2.json", Path(out) / "pair1_plain.json", threads / "run1.json"]
    if all(p.is_file() for p in needed):
        with atomic_path(Path(out) / "summary.md") as tmp:
            tmp.write_text(summary_table(out, threads))


def _parts(text: str) -> list[str]:
    parts = [p for p in text.split(",") if p]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown or not parts:
        raise argparse.ArgumentTypeError(f"expected parts from {', '.join(PARTS)}, got {text!r}")
    return parts


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=OUT, help=f"JSONs and tables (default {_shown(OUT)})")
    p.add_argument("--table-only", action="store_true", help="rewrite the tables and the plot from the stored JSONs")
    p.add_argument("--runs", type=int, default=3, help="scaling runs and A B pairs (default 3)")
    p.add_argument("--parts", type=_parts, default=list(PARTS), help=f"comma-separated from {','.join(PARTS)} "
                   "(default all)")
    p.add_argument("--probe", type=Path, default=PROBE,
                   help="the plain Numba implementation (default ../shared/probe/plain_numba_network.py from the "
                        "repository root)")
    sizes = p.add_argument_group("sizes (shrink them only to check the script)")
    sizes.add_argument("--brian2-neurons", type=int, default=400)
    sizes.add_argument("--brian2-samples", type=int, default=200)
    sizes.add_argument("--neurons", default="100,400,1600", help="scaling sizes (default 100,400,1600)")
    sizes.add_argument("--samples", type=int, default=1000, help="scaling samples (default 1000)")
    sizes.add_argument("--pair-neurons", type=int, default=400)
    sizes.add_argument("--pair-samples", type=int, default=600)
    args = p.parse_args(argv)
    if args.runs < 1:
        p.error("--runs must be at least 1")
    if not args.table_only:
        if "plain_numba" in args.parts and not args.probe.is_file():
            sys.exit(f"speed_tables.py: the plain Numba probe {args.probe} does not exist; give its path with --probe")
        argv = sys.argv[1:] if argv is None else argv
        measure(args, shlex.join(["python", "experiments/speed_tables.py", *argv]))
    write_tables(args.out, args.parts)


if __name__ == "__main__":
    main()
