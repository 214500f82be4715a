"""One network trained on one thread and on J threads, side by side (issue 22): the table of the
README's "One network on several threads".

Runs ``spikedyn bench --mode train --jobs J`` ``--runs`` times in a row; each run trains every
size on one thread and then on J threads from the same initial weights (checked to learn the
same weights), so the runs give the pairs A B A B ... on the same machine within seconds of
each other. Stores each run's JSON (with the machine's load averages before and after) in
``--out`` and writes ``table.md`` there: samples/s per pair, the ratio J threads / 1 thread
per pair, and its median. On a shared machine the ratio depends on whether every thread has
a free core (a waiting thread spins): the load averages are in the table for that reason.

    python experiments/bench_threads.py --neurons 400,1600 --samples 1000 --jobs 2 --runs 3
    python experiments/bench_threads.py --table-only     # rewrite table.md from the stored JSONs
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _runner import write_text  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "experiments" / "results" / "bench_threads"


def run(out: Path, model: str, neurons: str, samples: int, jobs: int, runs: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("run*.json"):
        old.unlink()
    for r in range(1, runs + 1):
        load_before = list(os.getloadavg())
        path = out / f"run{r}.json"
        subprocess.run([sys.executable, "-m", "spikedyn.cli", "bench", "--model", model, "--neurons", neurons,
                        "--samples", str(samples), "--backends", "numba", "--mode", "train", "--jobs", str(jobs),
                        "--json", str(path), "--quiet"], check=True, stdout=subprocess.DEVNULL)
        summary = json.loads(path.read_text())
        summary["machine"]["load_average_start"] = load_before
        write_text(path, json.dumps(summary, indent=1))


def stored_runs(out: Path) -> list[dict]:
    """The stored runs of ``out``, in order."""
    return [json.loads(p.read_text()) for p in sorted(Path(out).glob("run*.json"))]


def rates(run: dict, n: int) -> dict[int, float]:
    """Training samples/s of ``n`` neurons in one run, by number of threads."""
    return {r["threads"]: r["samples_per_second"] for r in run["results"] if r["neurons"] == n}


def ratios_by_size(runs: list[dict]) -> dict[int, list[float]]:
    """J threads / 1 thread of every run, by network size (ascending)."""
    jobs = runs[0]["train_jobs"]
    sizes = sorted({r["neurons"] for r in runs[0]["results"]})
    return {n: [rates(run, n)[jobs] / rates(run, n)[1] for run in runs] for n in sizes}


def table(out: Path) -> str:
    runs = stored_runs(out)
    first = runs[0]
    jobs = first["train_jobs"]
    lines = [f"`{first['results'][0]['model']}`, {first['samples']} training samples per row, "
             f"{first['machine'].get('cpu_count')} cores; each run trains on 1 thread, then on {jobs} "
             f"(A B A B ...); load average (1 min) at the start and end of each run.", "",
             "| neurons | run | 1 thread, samples/s | " + f"{jobs} threads, samples/s | ratio | load start / end |",
             "|---:|---:|---:|---:|---:|---|"]
    medians = []
    for n, ratios in ratios_by_size(runs).items():
        for k, (s, ratio) in enumerate(zip(runs, ratios), 1):
            rows = rates(s, n)
            m = s["machine"]
            lines.append(f"| {n} | {k} | {rows[1]:,.0f} | {rows[jobs]:,.0f} | {ratio:.2f}x | "
                         f"{m['load_average_start'][0]:.1f} / {m['load_average_end'][0]:.1f} |")
        medians.append(f"{n} neurons: {statistics.median(ratios):.2f}x")
    lines += ["", f"Median ratio, {jobs} threads / 1 thread: " + "; ".join(medians) + ".", ""]
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="lateral")
    p.add_argument("--neurons", default="400,1600")
    p.add_argument("--samples", type=int, default=1000)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--table-only", action="store_true")
    args = p.parse_args()
    if not args.table_only:
        run(args.out, args.model, args.neurons, args.samples, args.jobs, args.runs)
    text = table(args.out)
    write_text(args.out / "table.md", text)
    print(text)


if __name__ == "__main__":
    main()
