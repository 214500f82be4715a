"""experiments/speed_tables.py: the tables of docs/speed.md, built from stored bench JSONs (synthetic here)."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiments"))
speed_tables = importlib.import_module("speed_tables")

HASH = "abcdef123456"


def machine(start: float = 1.0, end: float = 2.0) -> dict:
    return {"cpu_count": 2, "cpu_model": "Test CPU", "load_average_start": [start, 0, 0],
            "load_average_end": [end, 0, 0]}


def row(model: str, n: int, mode: str, threads: int, rate: float, backend: str = "numba", **extra) -> dict:
    return {"model": model, "neurons": n, "mode": mode, "threads": threads, "backend": backend,
            "samples_per_second": rate, "compile_seconds": 0.5, "peak_rss_mb": 300.0, **extra}


def summary(results: list[dict], *, samples: int = 10, jobs: int = 2, load: tuple = (1.0, 2.0), **extra) -> dict:
    from spikedyn.reference.bench import speedups

    return {"command": "bench", "spikedyn_version": "9.9.9", "source_hash": HASH, "samples": samples, "jobs": jobs,
            "results": results, "speedups": speedups(results), "machine": machine(*load),
            "bench_command": "spikedyn bench --test", "speed_tables_command": "python experiments/speed_tables.py --x",
            **extra}


def store(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data))


def test_brian2_table_gives_the_speedups_compile_times_and_memory(tmp_path: Path) -> None:
    brian2 = dict(backend="brian2-standalone", samples_per_second_loop=50.0, samples_per_second_sim=8.0)
    results = [row("diehl-cook", 400, "train", 1, 1000.0, compile_seconds=15.0),
               row("diehl-cook", 400, "infer", 2, 4000.0, compile_seconds=6.0),
               row("diehl-cook", 400, "infer", 1, 2000.0, compile_seconds=6.0),
               row("diehl-cook", 400, "train", 1, 5.0, compile_seconds=14.0, **brian2),
               row("diehl-cook", 400, "infer", 1, 20.0, compile_seconds=12.0, **{**brian2, "peak_rss_mb": 40.0})]
    store(tmp_path / "brian2.json", summary(results, samples=200))
    cached = [row("diehl-cook", 400, "train", 1, 900.0, compile_seconds=0.4, peak_rss_mb=210.0),
              row("diehl-cook", 400, "infer", 1, 900.0, compile_seconds=0.1, peak_rss_mb=210.0)]
    store(tmp_path / "brian2_cache.json", summary(cached, samples=1))
    text = speed_tables.brian2_table(tmp_path)
    assert "| training, 1 thread | 1,000 samples/s | 5.0 samples/s | **200x** | 50.0 samples/s | 20x |" in text
    assert "| inference, 2 threads | 4,000 samples/s | 20.0 samples/s | 200x | 50.0 samples/s | 80x |" in text
    assert "| inference, 1 thread | 2,000 samples/s | 20.0 samples/s | 100x | 50.0 samples/s | 40x |" in text
    assert "cold: 15.0 s training, 6.0 s inference; from the cache: 0.4 s, 0.1 s | 14.0 s training, 12.0 s" in text
    assert "| peak memory | 300 MB (whole process, cold), 210 MB from the cache | 300 MB (the simulation binary)" in text
    caption = text.splitlines()[0]
    assert f"source {HASH}" in caption and "spikedyn 9.9.9" in caption and "2 cores (Test CPU)" in caption
    assert "1.0 / 2.0" in caption and "`python experiments/speed_tables.py --x`" in caption


def test_scaling_table_takes_the_median_of_each_cell_over_the_runs(tmp_path: Path) -> None:
    # train rates 100, 300, 200 -> median 200; inference on 2 threads 1000, 900, 1100 -> 1000
    for k, (train, infer2) in enumerate([(100.0, 1000.0), (300.0, 900.0), (200.0, 1100.0)], 1):
        results = [row(m, n, mode, t, v * (1 if m == "diehl-cook" else 2) / (n / 100))
                   for m in ("diehl-cook", "lateral") for n in (100, 400)
                   for mode, t, v in (("train", 1, train), ("infer", 2, infer2), ("infer", 1, 500.0))]
        store(tmp_path / f"scaling_run{k}.json", summary(results, samples=1000, load=(k, k + 0.5)))
    text = speed_tables.scaling_table(tmp_path)
    assert "| `diehl-cook` | 100 | 200 | 1,000 | 500 |" in text
    assert "| `diehl-cook` | 400 | 50.0 | 250 | 125 |" in text
    assert "| `lateral` | 100 | 400 | 2,000 | 1,000 |" in text
    assert "the median of 3 runs" in text
    assert "1.0 / 1.5, 2.0 / 2.5, 3.0 / 3.5" in text  # every run's load
    assert "200 %" in text  # 300 / 100 - 1, the train cells' spread
    assert f"source {HASH}" in text.splitlines()[0]


def test_scaling_runs_are_read_in_the_order_of_their_numbers(tmp_path: Path) -> None:
    for k in (1, 2, 10):
        store(tmp_path / f"scaling_run{k}.json", {"k": k})
    assert [r["k"] for r in speed_tables.scaling_runs(tmp_path)] == [1, 2, 10]


def test_plain_numba_table_gives_the_ratio_of_each_pair_and_their_median(tmp_path: Path) -> None:
    for k, (plain, mine) in enumerate([(600.0, 1200.0), (500.0, 1500.0), (800.0, 1000.0)], 1):
        store(tmp_path / f"pair{k}_plain.json", {
            "command": "plain_numba_probe", "samples_per_second": plain, "probe_sha256": "f" * 64,
            "probe_command": "python plain_numba_network.py 400 600", "machine": machine(k, 9.0)})
        store(tmp_path / f"pair{k}_spikedyn.json",
              summary([row("lateral", 400, "train", 1, mine, presentations=610)], samples=600, load=(9.0, k + 0.25)))
    text = speed_tables.plain_numba_table(tmp_path)
    assert "| 1 | 600 | 1,200 | 2.00x | 610 | 1.0 / 1.2 |" in text  # A's start, B's end
    assert "| 2 | 500 | 1,500 | 3.00x | 610 | 2.0 / 2.2 |" in text
    assert "| 3 | 800 | 1,000 | 1.25x | 610 | 3.0 / 3.2 |" in text
    assert "Median ratio, spikedyn / plain Numba: 2.00x at spikedyn's defaults (3 runs)." in text
    caption = text.splitlines()[0]
    assert f"source {HASH}" in caption and "sha256 ffffffffffff" in caption
    # with the runs at the probe's schedule (C): their rates, ratios and median, C's end load
    for k, mine in enumerate([1800.0, 1500.0, 2400.0], 1):
        store(tmp_path / f"pair{k}_spikedyn_schedule.json",
              summary([row("lateral", 400, "train", 1, mine, presentations=600)], samples=600, load=(9.0, k + 0.5)))
    text = speed_tables.plain_numba_table(tmp_path)
    assert "| 1 | 600 | 1,200 | 2.00x | 610 | 1,800 | 3.00x | 1.0 / 1.5 |" in text
    assert "| 3 | 800 | 1,000 | 1.25x | 610 | 2,400 | 3.00x | 3.0 / 3.5 |" in text
    assert "Median ratio, spikedyn / plain Numba: 2.00x at spikedyn's defaults, 3.00x at the probe's schedule" in text
    assert "then C = `spikedyn bench --test`" in text.splitlines()[0]


def test_plain_numba_table_refuses_unpaired_runs(tmp_path: Path) -> None:
    store(tmp_path / "pair1_plain.json", {"samples_per_second": 1.0})
    with pytest.raises(SystemExit, match="expected one of each per run"):
        speed_tables.plain_numba_table(tmp_path)


def test_a_missing_probe_is_a_one_line_error_naming_the_option(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        speed_tables.main(["--out", str(tmp_path), "--probe", str(tmp_path / "absent.py")])
    assert "--probe" in str(exc.value) and "\n" not in str(exc.value)
    assert not any(tmp_path.iterdir())  # nothing ran


def test_table_only_without_stored_runs_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="run without --table-only"):
        speed_tables.main(["--out", str(tmp_path), "--table-only", "--parts", "plain_numba"])


def test_summary_gives_the_headline_median_ratios(tmp_path: Path) -> None:
    speed, threads = tmp_path / "speed", tmp_path / "threads"
    speed.mkdir()
    threads.mkdir()
    brian2 = dict(backend="brian2-standalone", samples_per_second_loop=50.0, samples_per_second_sim=8.0)
    store(speed / "brian2.json", summary([row("diehl-cook", 400, "train", 1, 1000.0),
                                         row("diehl-cook", 400, "train", 1, 5.0, **brian2)], samples=200))
    for k, (plain, mine, same) in enumerate([(600.0, 1200.0, 1800.0), (500.0, 1500.0, 2000.0),
                                             (800.0, 1000.0, 2400.0)], 1):
        store(speed / f"pair{k}_plain.json", {"samples_per_second": plain, "machine": machine()})
        store(speed / f"pair{k}_spikedyn.json", summary([row("lateral", 400, "train", 1, mine)]))
        store(speed / f"pair{k}_spikedyn_schedule.json", summary([row("lateral", 400, "train", 1, same)]))
    for k, (a, b) in enumerate([(100.0, 150.0), (100.0, 170.0), (100.0, 160.0)], 1):
        store(threads / f"run{k}.json", {"train_jobs": 2, "source_hash": "0123", "results": [
            row("lateral", 400, "train", 1, a), row("lateral", 400, "train", 2, b),
            row("lateral", 1600, "train", 1, a / 4), row("lateral", 1600, "train", 2, a / 2)]})
    text = speed_tables.summary_table(speed, threads)
    assert "at spikedyn's defaults | 2.00x |" in text  # 2.00, 3.00, 1.25 -> 2.00
    assert "the same steps per image) | 3.00x |" in text  # 3.00, 4.00, 3.00 -> 3.00
    assert "against Brian2 cpp_standalone (whole run) | 200x |" in text
    assert "one `lateral` network on 2 threads against one, 400 / 1600 neurons | 1.60x / 2.00x |" in text
    assert f"source {HASH} (threads: 0123)" in text
