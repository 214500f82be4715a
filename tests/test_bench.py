"""``spikedyn bench``: a smoke test of the benchmark and its JSON, at tiny sizes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import assert_png, assert_usage_error, entries, images_ending_faint, write_mnist_dir

from spikedyn.reference import bench

# Brian2 2.9 calls pyparsing APIs that pyparsing 3 deprecates: hundreds of warnings per test.
pytestmark = [pytest.mark.brian2, pytest.mark.filterwarnings("ignore::DeprecationWarning"),
              pytest.mark.usefixtures("offline_env")]

ROW_KEYS = {"model", "backend", "neurons", "mode", "samples", "samples_per_second", "compile_seconds", "threads",
            "peak_rss_mb", "rss_growth_mb", "wall_seconds"}


def test_bench_numba_and_brian2_numpy_json(tmp_path, run_cli):
    data_dir = write_mnist_dir(tmp_path / "data", images_ending_faint(n=3))
    out = tmp_path / "bench.json"
    # one model: the rows and pairs below are per model (a second model only doubled the subprocesses)
    code, table, err = run_cli("bench", "--model", "lateral", "--neurons", "8", "--samples", "3",
                               "--brian2-samples", "2", "--backends", "numba,brian2-numpy", "--jobs", "2",
                               "--data-dir", data_dir, "--json", out, "--quiet")
    assert code == 0, err
    s = json.loads(out.read_text())
    results = s["results"]
    # numba: train with 1 and with 2 threads, infer with 2 and with 1; brian2-numpy: train and infer.
    assert len(results) == 4 + 2 and {r["model"] for r in results} == {"lateral"}
    for r in results:
        assert ROW_KEYS <= r.keys()
        assert r["samples_per_second"] > 0 and r["compile_seconds"] >= 0 and r["peak_rss_mb"] > 0
        assert r["samples"] == (3 if r["backend"] == "numba" else 2)
    numba_infer = sorted(r["threads"] for r in results if r["backend"] == "numba" and r["mode"] == "infer"
                         and r["model"] == "lateral")
    assert numba_infer == [1, 2]
    numba_train = [r["threads"] for r in results if r["backend"] == "numba" and r["mode"] == "train"
                   and r["model"] == "lateral"]
    assert numba_train == [1, 2] and s["train_jobs"] == 2
    assert {r["mode"] for r in results} == {"train", "infer"}
    # one speedup per (numba row, brian2 row) of the same model, size and mode
    assert len(s["speedups"]) == 2 + 2
    for sp in s["speedups"]:
        assert sp["backend"] == "brian2-numpy" and sp["speedup"] > 0
    for key in ("cpu_count", "python", "numpy", "numba", "brian2"):
        assert s["machine"][key]
    assert table.startswith("| model | neurons | mode | backend |")
    assert table.count("\n| ") == len(results)  # one line per row after the header
    brian2 = [r for r in results if r["backend"] == "brian2-numpy"]
    assert all(r["samples_per_second_loop"] >= r["samples_per_second"] for r in brian2)


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
    assert_png(out)
    assert out.stat().st_size > 10_000


def test_bad_plot_name_fails_before_benchmarking(tmp_path, run_cli):
    code, out, err = run_cli("bench", "--neurons", "10", "--samples", "1", "--backends", "numba",
                             "--json", tmp_path / "b.json", "--plot", tmp_path / "scaling.svg",
                             "--data-dir", tmp_path / "none")
    assert_usage_error(code, err, f"argument --plot: {tmp_path / 'scaling.svg'} must end in .png")
    assert out == "" and entries(tmp_path) == []


def test_bench_takes_several_models_in_one_option() -> None:
    from spikedyn.cli import build_parser

    for option in ("--model", "--models"):
        args = build_parser().parse_args(["bench", option, "diehl-cook,lateral", "--json", "b.json"])
        assert args.model == ["diehl-cook", "lateral"]
