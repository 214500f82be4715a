"""Tests for the command line: ``spikedyn train | evaluate | plot``, and the usage errors
of every command (``validate`` and ``bench`` run in test_brian2.py and test_bench.py).

Errors a user can fix must end the command with exit status 2 and exactly one line
``spikedyn: error: ...`` on stderr, no traceback, and no run directory or JSON file
left behind. The happy path runs on a small synthetic MNIST-format data directory;
one test marked ``mnist`` runs on the real data when ``SPIKEDYN_DATA_DIR`` is set.
"""

from __future__ import annotations

import re

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import assert_png, assert_usage_error, entries, make_digits_dir

from spikedyn import __version__
from spikedyn.cli import main
from spikedyn.config import NetworkConfig
from spikedyn.io.runs import save_run
from spikedyn.simulation.network import Network

pytestmark = pytest.mark.usefixtures("offline_env")


# ----------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("argv, message", [
    (["--neurons", "0"], "spikedyn train: argument --neurons: must be a positive integer, got 0"),
    (["--neurons", "ten"], "spikedyn train: argument --neurons: expected a positive integer, got 'ten'"),
    (["--model", "bogus"], "spikedyn train: argument --model: invalid choice: 'bogus' (choose from 'diehl-cook', "),
    (["--seed", "-1"], "spikedyn train: argument --seed: seed must be in [0, 2**63), got -1"),
    (["--seed", "1.5"], "spikedyn train: argument --seed: expected an integer seed, got '1.5'"),
    (["--train-samples", "0"], "spikedyn train: argument --train-samples: must be a positive integer, got 0"),
    (["--jobs", "0"], "spikedyn train: argument --jobs: must be a positive integer, got 0"),
    (["--bogus-option"], "spikedyn train: unrecognized arguments: --bogus-option"),
])
def test_train_bad_options(tmp_path: Path, digits_dir: Path, run_cli, argv, message) -> None:
    code, out, err = run_cli("train", "--data-dir", digits_dir, "--out", tmp_path / "run",
                             "--json", tmp_path / "s.json", "--quiet", "--train-samples", "30", *argv)
    assert_one_prefix(code, err, message)
    assert out == "" and entries(tmp_path) == []


def assert_one_prefix(code: int, err: str, message: str) -> None:
    """``message`` is ``"PROG: text"``: the error line is ``spikedyn: error: text; see 'PROG --help'``,
    the program's name said once (issue 24: no ``spikedyn: error: spikedyn: ...``)."""
    prog, _, text = message.partition(": ")
    assert_usage_error(code, err, f"spikedyn: error: {text}", f"; see '{prog} --help'")
    assert not re.match(r"spikedyn: error: spikedyn[ :]", err), err


@pytest.mark.parametrize("argv, message", [
    ([], "spikedyn: the following arguments are required: COMMAND"),
    (["frobnicate"], "spikedyn: argument COMMAND: invalid choice: 'frobnicate' (choose from 'train', "),
    (["plot"], "spikedyn plot: the following arguments are required: figure; see 'spikedyn plot --help'"),
    (["plot", "histogram", "x", "-o", "x.png"],
     "spikedyn plot: argument figure: invalid choice: 'histogram' (choose from 'weights', 'confusion')"),
    (["train"], "spikedyn train: give --out DIR for a new run, or --resume DIR to continue an interrupted one"),
    (["continual", "--bogus"], "spikedyn continual: unrecognized arguments: --bogus"),
    (["plot", "weights", "x", "-o", "x.png", "--bogus"], "spikedyn plot weights: unrecognized arguments: --bogus"),
    (["evaluate"], "spikedyn evaluate: the following arguments are required: RUN_DIR"),
    (["validate", "--target", "gpu"],
     "spikedyn validate: argument --target: invalid choice: 'gpu' (choose from 'numpy', 'cython', "),
    (["validate", "--samples", "0"], "spikedyn validate: argument --samples: must be a positive integer, got 0"),
    (["validate", "--model", "hopfield"],
     "spikedyn validate: argument --model: invalid choice: 'hopfield' (choose from 'diehl-cook', "),
    (["bench", "--backends", "numba,gpu"], "spikedyn bench: argument --backends: unknown backend gpu; choose from "),
    (["bench", "--neurons", "10,0"],
     "spikedyn bench: argument --neurons: expected comma-separated positive integers, got '10,0'"),
    (["bench", "--mode", "learn"], "spikedyn bench: argument --mode: unknown mode learn; choose from train, infer"),
    (["bench", "--jobs", "two"], "spikedyn bench: argument --jobs: expected a positive integer, got 'two'"),
    (["bench", "--model", "diehl-cook,hopfield"],
     "spikedyn bench: argument --model/--models: unknown model hopfield; choose from diehl-cook, "),
])
def test_bad_commands(tmp_path: Path, monkeypatch, run_cli, argv, message) -> None:
    monkeypatch.chdir(tmp_path)
    if argv[:1] in (["validate"], ["bench"]):
        argv = [*argv, "--json", "x.json", "--data-dir", "none"]  # would be written here, read from here
    code, out, err = run_cli(*argv)
    assert_one_prefix(code, err, message)
    assert out == "" and entries(tmp_path) == []


def test_version(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    from spikedyn._version import source_hash

    out = capsys.readouterr().out.strip()
    assert out == f"spikedyn {__version__} (source {source_hash()})"
    assert re.fullmatch(r"[0-9a-f]{12}", source_hash())


def test_train_with_data_dir_missing_a_file(tmp_path: Path, run_cli) -> None:
    data = make_digits_dir(tmp_path / "data", 12, 10)
    (data / "train-labels-idx1-ubyte.gz").unlink()
    code, _, err = run_cli("train", "--data-dir", data, "--out", tmp_path / "run",
                           "--json", tmp_path / "s.json", "--neurons", "4", "--quiet")
    assert_usage_error(code, err, "train-labels-idx1-ubyte")
    assert entries(tmp_path) == ["data"]


def test_train_with_truncated_idx(tmp_path: Path, run_cli) -> None:
    data = make_digits_dir(tmp_path / "data", 12, 10)
    path = data / "train-images-idx3-ubyte.gz"
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(raw[: len(raw) - 100], mtime=0))  # a complete gzip of a short file
    code, _, err = run_cli("train", "--data-dir", data, "--out", tmp_path / "run",
                           "--json", tmp_path / "s.json", "--neurons", "4", "--quiet")
    assert_usage_error(code, err, "truncated")
    assert entries(tmp_path) == ["data"]


def test_train_with_truncated_gzip_stream(tmp_path: Path, run_cli) -> None:
    data = make_digits_dir(tmp_path / "data", 12, 10)
    path = data / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-200])
    code, _, err = run_cli("train", "--data-dir", data, "--out", tmp_path / "run", "--quiet")
    assert_usage_error(code, err, "truncated")
    assert entries(tmp_path) == ["data"]


def test_train_more_samples_than_available(tmp_path: Path, digits_dir: Path, run_cli) -> None:
    code, _, err = run_cli("train", "--data-dir", digits_dir, "--out", tmp_path / "run",
                           "--json", tmp_path / "s.json", "--train-samples", "31", "--quiet")
    assert_usage_error(code, err, "--train-samples=31", "30")
    assert entries(tmp_path) == []


def test_train_refuses_existing_run_dir(tmp_path: Path, digits_dir: Path, run_cli) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep").write_text("x")
    code, _, err = run_cli("train", "--data-dir", digits_dir, "--out", out, "--quiet",
                           "--json", tmp_path / "s.json")
    assert_usage_error(code, err, "already exists")
    assert entries(tmp_path) == ["run"] and entries(out) == ["keep"]


def test_json_path_that_is_a_directory(tmp_path: Path, digits_dir: Path, run_cli) -> None:
    (tmp_path / "dir.json").mkdir()
    code, _, err = run_cli("train", "--data-dir", digits_dir, "--out", tmp_path / "run", "--quiet",
                           "--json", tmp_path / "dir.json")
    assert_usage_error(code, err, "is a directory")
    assert entries(tmp_path) == ["dir.json"]


def test_evaluate_on_a_non_run_directory(tmp_path: Path, digits_dir: Path, run_cli) -> None:
    (tmp_path / "not-a-run").mkdir()
    for target, says in ((tmp_path / "not-a-run", "not a spikedyn run"), (tmp_path / "missing", "does not exist")):
        code, _, err = run_cli("evaluate", target, "--data-dir", digits_dir, "--quiet",
                               "--json", tmp_path / "e.json")
        assert_usage_error(code, err, says)
    assert entries(tmp_path) == ["not-a-run"]
    assert entries(tmp_path / "not-a-run") == []


@pytest.fixture
def untrained_run(tmp_path: Path) -> Path:
    """A run directory as 'spikedyn train' writes it (a fresh network, no simulation needed)."""
    return save_run(tmp_path / "run", Network(NetworkConfig(n_neurons=4), seed=0))


def test_evaluate_warns_about_neurons_firing_at_rest(tmp_path: Path, digits_dir: Path, run_cli) -> None:
    net = Network(NetworkConfig(n_neurons=4), seed=0)
    net.theta[:] = [20.0, 6.0, 20.0, 3.0]  # thresholds -52, -66, -52 and -69 mV; rest -65 mV
    run = save_run(tmp_path / "run", net)
    code, out, err = run_cli("evaluate", run, "--data-dir", digits_dir, "--assign-from", "first", "--assign-samples",
                             "10", "--test-samples", "10", "--json", tmp_path / "eval.json", "--quiet")
    assert code == 0, err
    assert json.loads((tmp_path / "eval.json").read_text())["neurons_firing_at_rest"] == 2
    assert err.startswith("warning: 2 of 4 neurons have thresholds below the resting potential")
    assert "Paper scale" in err and out.startswith("accuracy ")


def test_plot_confusion_before_evaluate(tmp_path: Path, untrained_run: Path, run_cli) -> None:
    before = entries(untrained_run)
    code, _, err = run_cli("plot", "confusion", untrained_run, "-o", tmp_path / "c.png")
    assert_usage_error(code, err, "no evaluation", "spikedyn evaluate")
    assert not (tmp_path / "c.png").exists()
    assert entries(untrained_run) == before


def test_plot_needs_png_name(tmp_path: Path, untrained_run: Path, run_cli) -> None:
    code, _, err = run_cli("plot", "weights", untrained_run, "-o", tmp_path / "w.jpg")
    assert_usage_error(code, err, "-o/--output", f"{tmp_path / 'w.jpg'} must end in .png")
    assert entries(tmp_path) == ["run"]


def test_evaluate_test_samples_beyond_the_data(tmp_path: Path, untrained_run: Path, digits_dir: Path,
                                               run_cli) -> None:
    before = entries(untrained_run)
    code, _, err = run_cli("evaluate", untrained_run, "--data-dir", digits_dir, "--assign-from", "first", "--assign-samples", "30",
                           "--test-samples", "21", "--quiet", "--json", tmp_path / "e.json")
    assert_usage_error(code, err, "--test-samples=21")
    assert entries(untrained_run) == before and not (tmp_path / "e.json").exists()


def test_evaluate_on_run_json_without_config(untrained_run: Path, digits_dir: Path, run_cli) -> None:
    (untrained_run / "run.json").write_text(json.dumps({"format_version": 1}))
    before = entries(untrained_run)
    code, out, err = run_cli("evaluate", untrained_run, "--data-dir", digits_dir, "--quiet")
    assert_usage_error(code, err, f"{untrained_run / 'run.json'} lacks config, seed, samples_seen;",
                       "retrain or restore the run")
    assert out == "" and entries(untrained_run) == before


# ----------------------------------------------------------------------------------------
# Real processes
# ----------------------------------------------------------------------------------------
def run_process(*argv: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    full_env.pop("SPIKEDYN_DATA_DIR", None)
    return subprocess.run([sys.executable, "-m", "spikedyn.cli", *map(str, argv)], capture_output=True,
                          text=True, env=full_env, timeout=300, stdin=subprocess.DEVNULL)


def test_subprocess_usage_errors(tmp_path: Path, digits_dir: Path) -> None:
    cases = [
        (["train", "--neurons", "0", "--out", tmp_path / "run", "--json", tmp_path / "s.json",
          "--data-dir", digits_dir], "argument --neurons: must be a positive integer, got 0"),
        (["train", "--model", "bogus", "--out", tmp_path / "run"], "argument --model: invalid choice: 'bogus'"),
        (["evaluate", tmp_path / "nowhere", "--data-dir", digits_dir, "--json", tmp_path / "e.json"],
         "does not exist"),
    ]
    for argv, fragment in cases:
        proc = run_process(*argv)
        assert_usage_error(proc.returncode, proc.stderr, fragment)
        assert proc.stdout == ""
    assert entries(tmp_path) == []


def test_subprocess_truncated_idx(tmp_path: Path) -> None:
    data = make_digits_dir(tmp_path / "data", 12, 10)
    path = data / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes())[:-3], mtime=0))
    # The training split is fine: train works, evaluate then fails on the test labels.
    proc = run_process("train", "--data-dir", data, "--out", tmp_path / "run", "--neurons", "4",
                       "--train-samples", "3", "--quiet")
    assert proc.returncode == 0, proc.stderr
    before = entries(tmp_path / "run")
    proc = run_process("evaluate", tmp_path / "run", "--data-dir", data, "--assign-from", "first", "--assign-samples", "5", "--quiet",
                       "--json", tmp_path / "e.json")
    assert_usage_error(proc.returncode, proc.stderr, "t10k-labels-idx1-ubyte", "truncated")
    assert entries(tmp_path / "run") == before
    assert not (tmp_path / "e.json").exists()


# ----------------------------------------------------------------------------------------
# Happy path
# ----------------------------------------------------------------------------------------
def untrained_accuracy(run_cli, run: Path, data_dir: Path, n_assign: int, n_test: int, n_neurons: int = 10,
                       seed: int = 0) -> float:
    """The test accuracy of a fresh (untrained) network evaluated as ``spikedyn evaluate`` does."""
    save_run(run, Network(NetworkConfig(n_neurons=n_neurons), seed=seed))
    code, _, err = run_cli("evaluate", run, "--data-dir", data_dir, "--assign-from", "first", "--assign-samples", n_assign,
                           "--test-samples", n_test, "--quiet")
    assert code == 0, err
    return json.loads((run / "evaluation.json").read_text())["accuracy"]


def test_end_to_end_on_synthetic_data(tmp_path: Path, digits_dir: Path, run_cli) -> None:
    run = tmp_path / "run"
    code, out, err = run_cli("train", "--data-dir", digits_dir, "--out", run, "--neurons", "10",
                             "--train-samples", "30", "--seed", "5", "--json", tmp_path / "train.json", "--quiet")
    assert code == 0, err
    assert err == ""
    assert "trained diehl-cook with 10 neurons on 30 samples" in out
    summary = json.loads((tmp_path / "train.json").read_text())
    assert summary["train_samples"] == 30
    assert summary["wall_seconds"] > 0 and summary["samples_per_second"] > 0
    assert summary["samples_per_second"] == pytest.approx(30 / summary["wall_seconds"])
    assert summary["presentations"] >= 30 and summary["neurons"] == 10 and summary["seed"] == 5
    assert summary["run_dir"] == str(run)
    assert entries(run) == ["run.json", "state.npz", "theta.npy", "weights.npy"]
    meta = json.loads((run / "run.json").read_text())
    assert meta["seed"] == 5 and meta["samples_seen"] == 30 and meta["config"]["n_neurons"] == 10
    assert meta["training"]["train_samples"] == 30
    # the counted operations, memory and energy per training sample
    tally = summary["cost"]["tally"]["train"]
    assert tally["samples"] == 30 and tally["presentations"] == summary["presentations"]
    assert summary["cost"]["train_energy_uj"] > 0 and summary["cost"]["memory_kb"] > 0
    assert "inference" not in summary["cost"]["tally"]

    code, out, err = run_cli("evaluate", run, "--data-dir", digits_dir, "--assign-from", "first", "--assign-samples", "30",
                             "--test-samples", "20", "--jobs", "2", "--json", tmp_path / "eval.json", "--quiet")
    assert code == 0, err
    assert err == ""
    assert out.startswith("accuracy ")
    ev = json.loads((tmp_path / "eval.json").read_text())
    # It learned: seed 5 reaches 0.8 (seeds 0-15: 0.65-1.0); the same network untrained
    # reaches 0.3 (seeds 0-7: 0.15-0.35); chance is 0.1.
    assert ev["accuracy"] >= 0.5, ev
    untrained = untrained_accuracy(run_cli, tmp_path / "untrained", digits_dir, 30, 20, seed=5)
    assert ev["accuracy"] >= untrained + 0.25, (ev["accuracy"], untrained)
    assert ev["n_assign"] == 30 and ev["n_test"] == 20
    assert ev["assign_from"] == "first" and ev["assign_images"] == [0, 30]
    assert ev["wall_seconds"] > 0 and ev["samples_per_second"] > 0
    assert len(ev["per_class_accuracy"]) == 10
    assert ev["cost"]["tally"]["inference"]["samples"] == 30 + 20 and ev["cost"]["infer_energy_uj"] > 0
    assert 0 <= ev["unassigned_neurons"] <= 3
    assert ev["neurons_firing_at_rest"] == 0  # 30 images: every threshold is still near its initial 20 mV
    # every other readout, fitted on the same labelled pass, beside the paper's
    assert ev["readout"] == "mean" and set(ev["readout_accuracy"]) == {"proportion", "profile", "logistic"}
    assert all(0 <= a <= 1 and round(a * 20) == a * 20 for a in ev["readout_accuracy"].values())
    assert "under the other readouts" in out and "logistic" in out
    assert json.loads((run / "evaluation.json").read_text()) == ev
    with np.load(run / "evaluation.npz") as z:
        assert z["confusion"].shape == (10, 10) and z["confusion"].sum() == 20
        assert z["assignments"].shape == (10,) and z["predictions"].shape == (20,)
        assert np.trace(z["confusion"]) / 20 == ev["accuracy"]

    # The default labelled pass is the images the run learned from: here the same 30.
    code, out, err = run_cli("evaluate", run, "--data-dir", digits_dir, "--test-samples", "20",
                             "--json", tmp_path / "eval-learned.json", "--quiet")
    assert code == 0, err
    learned = json.loads((tmp_path / "eval-learned.json").read_text())
    assert learned["assign_from"] == "learned" and learned["assign_images"] == [0, 30]
    assert learned["accuracy"] == ev["accuracy"]
    assert "labels from training images 0-29, --assign-from learned" in out

    # Evaluating again gives the same answer (inference is deterministic).
    code, _, err = run_cli("evaluate", run, "--data-dir", digits_dir, "--assign-from", "first", "--assign-samples", "30",
                           "--test-samples", "20", "--jobs", "1", "--json", tmp_path / "eval2.json", "--quiet")
    assert code == 0, err
    assert json.loads((tmp_path / "eval2.json").read_text())["accuracy"] == ev["accuracy"]

    for figure in ("weights", "confusion"):
        png = tmp_path / f"{figure}.png"
        code, out, err = run_cli("plot", figure, run, "-o", png)
        assert code == 0, err
        assert f"wrote {png}" in out
        assert_png(png)


def test_train_is_reproducible_from_the_command_line(tmp_path: Path, digits_dir: Path, run_cli) -> None:
    for name, seed in (("a", "1"), ("b", "1"), ("c", "2")):
        code, _, err = run_cli("train", "--data-dir", digits_dir, "--out", tmp_path / name,
                               "--neurons", "6", "--train-samples", "5", "--seed", seed, "--quiet",
                               "--model", "lateral")
        assert code == 0, err
    w = {name: np.load(tmp_path / name / "weights.npy") for name in "abc"}
    assert np.array_equal(w["a"], w["b"])
    assert not np.array_equal(w["a"], w["c"])


@pytest.mark.mnist
def test_end_to_end_on_real_mnist(tmp_path: Path, mnist_dir: Path, run_cli) -> None:
    run = tmp_path / "run"
    code, _, err = run_cli("train", "--data-dir", mnist_dir, "--out", run, "--model", "diehl-cook", "--seed", "0",
                           "--neurons", "20", "--train-samples", "300", "--json", tmp_path / "t.json", "--quiet")
    assert code == 0, err
    assert json.loads((tmp_path / "t.json").read_text())["train_samples"] == 300
    code, _, err = run_cli("evaluate", run, "--data-dir", mnist_dir, "--assign-from", "first", "--assign-samples", "300",
                           "--test-samples", "300", "--json", tmp_path / "e.json", "--quiet")
    assert code == 0, err
    ev = json.loads((tmp_path / "e.json").read_text())
    assert ev["n_assign"] == 300 and ev["n_test"] == 300
    # It learned: seed 0 reaches 0.467 (seeds 1-4: 0.31-0.49); the same network untrained
    # reaches 0.16 (seeds 0-4: 0.08-0.25); chance is 0.1.
    assert ev["accuracy"] >= 0.35, ev
    untrained = untrained_accuracy(run_cli, tmp_path / "untrained", mnist_dir, 300, 300, n_neurons=20)
    assert ev["accuracy"] >= untrained + 0.15, (ev["accuracy"], untrained)


def test_train_with_data_dir_missing_a_test_file(tmp_path: Path, run_cli) -> None:
    """Training needs only the training files, but an incomplete data directory is
    reported before training, not discovered at evaluation."""
    data = make_digits_dir(tmp_path / "data", 12, 10)
    (data / "t10k-labels-idx1-ubyte.gz").unlink()
    code, _, err = run_cli("train", "--data-dir", data, "--out", tmp_path / "run",
                           "--json", tmp_path / "s.json", "--neurons", "4", "--quiet")
    assert_usage_error(code, err, "t10k-labels-idx1-ubyte")
    assert entries(tmp_path) == ["data"]


# ----------------------------------------------------------------------------------------
# --config and --set
# ----------------------------------------------------------------------------------------
def run_config(run: Path) -> NetworkConfig:
    return NetworkConfig.from_dict(json.loads((run / "run.json").read_text())["config"])


def test_train_config_precedence(tmp_path: Path, digits_dir: Path, run_cli) -> None:
    """defaults <- --config <- --set (left to right) <- --model/--neurons when given."""
    config_file = tmp_path / "c.toml"
    config_file.write_text('model = "lateral"\nn_neurons = 6\n[stdp]\nnu_post = 0.02\nnu_pre = 0.0002\n')
    common = ["--data-dir", digits_dir, "--train-samples", "3", "--quiet", "--config", config_file]

    code, out, err = run_cli("train", *common, "--out", tmp_path / "a", "--json", tmp_path / "a.json")
    assert code == 0, err
    assert "trained lateral with 6 neurons" in out
    expected = NetworkConfig().replace(model="lateral", n_neurons=6, stdp__nu_post=0.02, stdp__nu_pre=0.0002)
    assert run_config(tmp_path / "a") == expected
    assert json.loads((tmp_path / "a.json").read_text())["config"] == expected.to_dict()

    code, _, err = run_cli("train", *common, "--out", tmp_path / "b", "--set", "n_neurons=5",
                           "--set", "stdp.nu_post=1e-3", "--set", "stdp.nu_post=0.03")
    assert code == 0, err
    assert run_config(tmp_path / "b") == expected.replace(n_neurons=5, stdp__nu_post=0.03)

    code, _, err = run_cli("train", *common, "--out", tmp_path / "c", "--set", "n_neurons=5",
                           "--neurons", "4", "--model", "diehl-cook")
    assert code == 0, err
    assert run_config(tmp_path / "c") == expected.replace(n_neurons=4, model="diehl-cook")
    assert np.load(tmp_path / "c" / "weights.npy").shape == (784, 4)


def test_train_set_without_config_file(tmp_path: Path, digits_dir: Path, run_cli) -> None:
    code, _, err = run_cli("train", "--data-dir", digits_dir, "--train-samples", "2", "--quiet",
                           "--out", tmp_path / "run", "--neurons", "3", "--set", "timing.rest_ms=50")
    assert code == 0, err
    assert run_config(tmp_path / "run") == NetworkConfig(n_neurons=3).replace(timing__rest_ms=50.0)


@pytest.mark.parametrize("content, argv, fragments", [
    (None, ["--set", "stdp.nu_post"], ["--set", "section.field=value"]),
    (None, ["--set", "stdp.nu_postt=0.1"], ["--set", "'stdp.nu_postt'", "nu_post"]),
    (None, ["--set", "stdpp.nu_post=0.1"], ["--set", "'stdpp'", "stdp"]),
    (None, ["--set", "stdp.nu_post=abc"], ["--set", "stdp.nu_post must be a number", "'abc'"]),
    (None, ["--set", "n_neurons=4.5"], ["n_neurons must be an integer"]),
    (None, ["--set", "stdp.w_init_low=0.9"], ["w_init_low <= w_init_high"]),
    (None, ["--set", "model=bogus"], ["unknown model 'bogus'"]),
    (None, ["--config", "{tmp}/missing.toml"], ["missing.toml", "does not exist"]),
    (None, ["--config", "{tmp}/c.yaml"], ["c.yaml", ".toml or .json"]),
    ("n_neurons = \n", ["--config", "{tmp}/c.toml"], ["c.toml", "invalid TOML"]),
    ("[stdp]\nbogus = 1\n", ["--config", "{tmp}/c.toml"], ["c.toml", "'stdp.bogus'", "nu_post"]),
    ('[stdp]\nnu_post = "x"\n', ["--config", "{tmp}/c.toml"], ["c.toml", "stdp.nu_post must be a number"]),
    ('{"n_neurons": 0}', ["--config", "{tmp}/c.json"], ["c.json", "n_neurons must be a positive integer"]),
])
def test_train_bad_config_or_set(tmp_path: Path, digits_dir: Path, run_cli, content, argv, fragments) -> None:
    config_dir = tmp_path / "cfg"
    config_dir.mkdir()
    argv = [a.replace("{tmp}", str(config_dir)) for a in argv]
    if content is not None:
        Path(argv[1]).write_text(content)
    before = entries(config_dir)
    code, out, err = run_cli("train", "--data-dir", digits_dir, "--out", tmp_path / "run",
                             "--json", tmp_path / "s.json", "--quiet", "--train-samples", "3", *argv)
    assert_usage_error(code, err, *fragments)
    assert out == ""
    assert entries(tmp_path) == ["cfg"] and entries(config_dir) == before


def test_train_help_documents_the_config_precedence(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["train", "--help"])
    assert info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--config FILE" in text and "--set SECTION.FIELD=VALUE" in text
    assert "overridden by --config FILE, then by each --set (left to right), then by options such as " \
           "--model and --neurons when they are given" in text


def test_plot_output_name_is_checked_before_any_work(tmp_path: Path, run_cli) -> None:
    code, _, err = run_cli("plot", "weights", tmp_path / "no-run", "-o", tmp_path / "w.svg")
    assert_usage_error(code, err, "-o/--output", "must end in .png")
    assert entries(tmp_path) == []


def test_cli_options_imports_no_simulator_and_no_command() -> None:
    """The command groups import cli.options; it must stay light (the config, no model, no simulator) and import
    no command group (the cli package's __init__ imports them only to build the parser)."""
    code = ("import sys, spikedyn.cli.options; "
            "print(sorted(m for m in sys.modules if m.startswith('spikedyn.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert eval(out) == ["spikedyn._compat", "spikedyn._version", "spikedyn.cli", "spikedyn.cli.options",
                         "spikedyn.config", "spikedyn.config.checks", "spikedyn.config.network_config",
                         "spikedyn.config.sections", "spikedyn.core", "spikedyn.core.kernel_cache",
                         "spikedyn.core.numerics", "spikedyn.core.params", "spikedyn.errors"]


def parsed(*argv: str | Path):
    from spikedyn.cli import build_parser

    return build_parser().parse_args([str(a) for a in argv])


def test_config_from_args_precedence(tmp_path: Path) -> None:
    """The same precedence as the end-to-end test, without running a network."""
    from spikedyn.cli.options import config_from_args

    path = tmp_path / "c.json"
    NetworkConfig(model="lateral", n_neurons=6).replace(stdp__nu_post=0.02).save(path)
    base = ["train", "--out", tmp_path / "run"]
    args = parsed(*base)
    assert config_from_args(args, model=args.model, n_neurons=args.neurons) == NetworkConfig()
    args = parsed(*base, "--config", path)
    assert config_from_args(args, model=args.model, n_neurons=args.neurons) == \
        NetworkConfig(model="lateral", n_neurons=6).replace(stdp__nu_post=0.02)
    args = parsed(*base, "--config", path, "--set", "n_neurons=5", "--set", "stdp.nu_post=0.03")
    assert config_from_args(args, model=args.model, n_neurons=args.neurons) == \
        NetworkConfig(model="lateral", n_neurons=5).replace(stdp__nu_post=0.03)
    args = parsed(*base, "--config", path, "--set", "n_neurons=5", "--neurons", "4", "--model", "diehl-cook")
    assert config_from_args(args, model=args.model, n_neurons=args.neurons) == \
        NetworkConfig(n_neurons=4).replace(stdp__nu_post=0.02)
    # a model with its own defaults: the file's fields apply over them, a field the file sets is kept
    partial = tmp_path / "p.toml"
    partial.write_text("[input]\nrate_hz_per_unit = 0.25\n")
    args = parsed(*base, "--config", partial, "--model", "lateral-fast")
    assert config_from_args(args, model=args.model, n_neurons=args.neurons) == \
        NetworkConfig(model="lateral-fast").replace(input__rate_hz_per_unit=0.25)
    args = parsed(*base, "--set", "stdp.nu_pre=0.0002", "--model", "lateral-fast")
    assert config_from_args(args, model=args.model, n_neurons=args.neurons) == \
        NetworkConfig(model="lateral-fast").replace(stdp__nu_pre=0.0002)
    assert NetworkConfig(model="lateral-fast").stdp.nu_post == 0.02
    assert entries(tmp_path) == ["c.json", "p.toml"]


@pytest.mark.parametrize("options, message", [
    (["--assign-samples", "5"], "--assign-samples goes with --assign-from first or last, not learned"),
    (["--assign-from", "last"], "--assign-from last needs --assign-samples K"),
    (["--assign-from", "first", "--assign-samples", "999"], "--assign-samples=999 is out of range"),
    (["--assign-from", "some"], "argument --assign-from: invalid choice: 'some'"),
])
def test_evaluate_labelled_pass_options(untrained_run: Path, digits_dir: Path, run_cli, options, message) -> None:
    before = entries(untrained_run)
    code, out, err = run_cli("evaluate", untrained_run, "--data-dir", digits_dir, *options, "--quiet")
    assert_usage_error(code, err, message)
    assert out == "" and entries(untrained_run) == before


@pytest.mark.parametrize("argv, message", [
    (["train", "--neurons", "3", "--jobs", "4", "--train-samples", "30"],
     "--jobs 4 is more threads than the network's 3 neurons; give --jobs 3 or fewer"),
    (["bench", "--neurons", "10,2", "--jobs", "3"],
     "--jobs 3 is more threads than the network's 2 neurons; give --jobs 2 or fewer"),
])
def test_more_threads_than_neurons_is_refused(tmp_path: Path, monkeypatch, digits_dir: Path, run_cli, argv,
                                               message) -> None:
    monkeypatch.chdir(tmp_path)
    extra = (["--data-dir", digits_dir, "--out", tmp_path / "run"] if argv[0] == "train"
             else ["--samples", "2", "--json", tmp_path / "run"])
    code, out, err = run_cli(*argv, *extra)
    assert_usage_error(code, err, message)
    assert not (tmp_path / "run").exists()
