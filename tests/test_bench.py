"""``spikedyn bench``: a smoke test of the benchmark and its JSON, at tiny sizes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spikedyn import bench

from test_brian2 import run_cli, synthetic_images, write_idx_dir

# Brian2 2.9 calls pyparsing APIs that pyparsing 3 deprecates: hundreds of warnings per test.
pytestmark = [pytest.mark.brian2, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

ROW_KEYS = {"model", "backend", "neurons", "mode", "samples", "samples_per_second", "compile_seconds", "threads",
            "peak_rss_mb", "rss_growth_mb", "wall_seconds"}


def test_bench_numba_and_brian2_numpy_json(tmp_path, monkeypatch, capsys):
    data_dir = write_idx_dir(tmp_path / "data", synthetic_images(n=3))
    out = tmp_path / "bench.json"
    argv = ["bench", "--model", "diehl-cook,lateral", "--neurons", "8", "--samples", "3", "--brian2-samples", "2",
            "--backends", "numba,brian2-numpy", "--jobs", "2", "--data-dir", str(data_dir), "--json", str(out),
            "--quiet"]
    assert run_cli(monkeypatch, argv, bench) == 0
    s = json.loads(out.read_text())
    results = s["results"]
    # numba: train (1 thread), infer with 2 and with 1 thread; brian2-numpy: train and infer; two models.
    assert len(results) == 2 * (3 + 2)
    for r in results:
        assert ROW_KEYS <= r.keys()
        assert r["samples_per_second"] > 0 and r["compile_seconds"] >= 0 and r["peak_rss_mb"] > 0
        assert r["samples"] == (3 if r["backend"] == "numba" else 2)
    numba_infer = sorted(r["threads"] for r in results if r["backend"] == "numba" and r["mode"] == "infer"
                         and r["model"] == "lateral")
    assert numba_infer == [1, 2]
    assert {r["mode"] for r in results} == {"train", "infer"}
    # one speedup per (numba row, brian2 row) of the same model, size and mode
    assert len(s["speedups"]) == 2 * (1 + 2)
    for sp in s["speedups"]:
        assert sp["backend"] == "brian2-numpy" and sp["speedup"] > 0
    for key in ("cpu_count", "python", "numpy", "numba", "brian2"):
        assert s["machine"][key]
    table = capsys.readouterr().out
    assert table.startswith("| model | neurons | mode | backend |")
    assert table.count("\n| ") == len(results)  # one line per row after the header
    brian2 = [r for r in results if r["backend"] == "brian2-numpy"]
    assert all(r["samples_per_second_loop"] >= r["samples_per_second"] for r in brian2)


@pytest.mark.parametrize("argv", [
    ["bench", "--backends", "numba,gpu", "--json", "x.json"],
    ["bench", "--neurons", "10,0", "--json", "x.json"],
    ["bench", "--mode", "learn", "--json", "x.json"],
    ["bench", "--model", "diehl-cook,hopfield", "--json", "x.json"],
])
def test_bench_usage_errors_exit_2(argv, monkeypatch, capsys):
    assert run_cli(monkeypatch, argv, bench) == 2
    err = capsys.readouterr().err
    assert err.startswith("spikedyn: error:") and err.count("\n") == 1


def test_speedups_pair_numba_with_each_other_backend():
    rows = [
        {"model": "lateral", "neurons": 4, "mode": "train", "backend": "numba", "threads": 1,
         "samples_per_second": 100.0},
        {"model": "lateral", "neurons": 4, "mode": "train", "backend": "brian2-numpy", "threads": 1,
         "samples_per_second": 2.0, "samples_per_second_sim": 4.0},
        {"model": "lateral", "neurons": 8, "mode": "train", "backend": "brian2-numpy", "threads": 1,
         "samples_per_second": 1.0},
    ]
    (sp,) = bench.speedups(rows)
    assert sp["speedup"] == pytest.approx(50.0) and sp["speedup_vs_sim_only"] == pytest.approx(25.0)
    assert np.isfinite(sp["speedup"])


def test_scaling_plot_is_a_png(tmp_path):
    from spikedyn.plotting import plot_scaling

    results = [
        {"backend": "numba", "model": m, "mode": mode, "threads": t, "neurons": n, "samples_per_second": sps}
        for m in ("diehl-cook", "lateral") for mode, t in (("train", 1), ("infer", 2))
        for n, sps in ((100, 2000.0), (400, 800.0), (1600, 150.0))
    ]
    out = tmp_path / "scaling.png"
    plot_scaling(results, out)
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_bad_plot_name_fails_before_benchmarking(tmp_path, monkeypatch, capsys):
    argv = ["bench", "--neurons", "10", "--samples", "1", "--backends", "numba", "--json",
            str(tmp_path / "b.json"), "--plot", str(tmp_path / "scaling.svg"), "--data-dir", str(tmp_path / "none")]
    assert run_cli(monkeypatch, argv, bench) == 2
    assert "--plot" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
