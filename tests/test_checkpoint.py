"""Checkpoints, interrupts, numerical guards and disk errors (issue 13).

The end-to-end tests run the real command in a subprocess on real MNIST, kill it
(SIGKILL, SIGINT or SIGTERM) once it has written a checkpoint midway, resume it with
``--resume``, and compare every output with a run that was never interrupted: arrays
bit for bit, JSON and CSV exactly except wall-clock times.
"""

from __future__ import annotations

import csv
import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from spikedyn.config import NetworkConfig
from spikedyn.errors import DiskError, NumericalError
from spikedyn.io import checkpoint, interrupt
from spikedyn.io.checkpoint import CheckpointError, Checkpointer, Session, network_record, restore_network
from spikedyn.io.files import atomic_directory, write_json, write_npy
from spikedyn.io.interrupt import Interrupted
from spikedyn.models import names as model_names
from spikedyn.simulation.network import Network

from helpers import REAL_DATA_DIR, assert_usage_error

#: Wall-clock fields: the only ones a resumed run may differ in.
TIMES = {"wall_seconds", "train_seconds", "eval_seconds", "compile_seconds", "samples_per_second",
         "worker_wall_seconds", "tasks_reused", "run_dir", "out"}


def _without_times(d):
    if isinstance(d, dict):
        return {k: _without_times(v) for k, v in d.items() if k not in TIMES}
    if isinstance(d, list):
        return [_without_times(x) for x in d]
    return d


def _cli(*args) -> list[str]:
    return [sys.executable, "-m", "spikedyn.cli", *map(str, args)]


def _progress(out: Path) -> dict | None:
    """The checkpoint's progress record, or None while there is none (read as a reader would)."""
    try:
        with np.load(out / checkpoint.CHECKPOINT_FILE) as z:
            return json.loads(z["__meta__"].tobytes())["progress"]
    except (OSError, ValueError, KeyError):
        return None


def _stop_midway(argv: list[str], out: Path, sig: int, ready) -> tuple[subprocess.CompletedProcess, dict]:
    """Start ``argv``, send ``sig`` once ``ready(progress)`` holds for its checkpoint, and wait.
    Returns the finished process and the progress it had reached."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 600
    progress = None
    while time.time() < deadline and proc.poll() is None:
        progress = _progress(out)
        if progress is not None and ready(progress):
            break
        time.sleep(0.02)
    assert proc.poll() is None, f"the run ended before it could be stopped midway: {proc.communicate()}"
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=600)
    return subprocess.CompletedProcess(argv, proc.returncode, stdout, stderr), progress


def _running_in_group(pgid: int) -> list[int]:
    """Processes of process group ``pgid`` still running (zombies, already dead, excluded)."""
    running = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":  # fields: state, ppid, pgrp, ...
            running.append(int(stat.parent.name))
    return running


def _assert_same_npz(a: Path, b: Path) -> None:
    with np.load(a) as za, np.load(b) as zb:
        assert sorted(za.files) == sorted(zb.files)
        for k in za.files:
            assert np.array_equal(za[k], zb[k], equal_nan=True), k


# -- train ------------------------------------------------------------------------------------------
TRAIN = ["train", "--model", "spikedyn", "--neurons", "100", "--train-samples", "2000", "--epochs", "2", "--quiet"]


def _reference(tmp_path_factory, argv: list[str]) -> Path:
    """The outputs of ``argv`` run once, never interrupted."""
    out = tmp_path_factory.mktemp(argv[0]) / "ref"
    subprocess.run(_cli(*argv, "--out", out, "--data-dir", REAL_DATA_DIR), check=True, capture_output=True)
    return out


@pytest.fixture(scope="module")
def train_reference(tmp_path_factory) -> Path:
    return _reference(tmp_path_factory, TRAIN)


def _assert_same_run(a: Path, b: Path) -> None:
    for name in ("weights.npy", "theta.npy"):
        assert np.array_equal(np.load(a / name), np.load(b / name)), name
    _assert_same_npz(a / "state.npz", b / "state.npz")
    assert _without_times(json.loads((a / "run.json").read_text())) == \
        _without_times(json.loads((b / "run.json").read_text()))
    assert sorted(p.name for p in a.iterdir()) == sorted(p.name for p in b.iterdir())


@pytest.mark.mnist
def test_train_killed_with_sigkill_resumes_bit_identical(train_reference, tmp_path, mnist_dir) -> None:
    out = tmp_path / "run"
    argv = _cli(*TRAIN, "--out", out, "--data-dir", mnist_dir, "--checkpoint-every", "0.1")
    killed, progress = _stop_midway(argv, out, signal.SIGKILL, lambda p: p["current"] is not None)
    assert killed.returncode == -signal.SIGKILL
    seen = progress["current"]["record"]["network"]["samples_seen"]
    assert 0 < seen < 4000, "killed midway"
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint.npz"]  # no partial run, no temporary file
    resumed = subprocess.run(_cli("train", "--resume", out, "--quiet", "--data-dir", mnist_dir),
                             capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    _assert_same_run(out, train_reference)


@pytest.mark.mnist
def test_ctrl_c_stops_writes_a_checkpoint_and_says_how_to_resume(train_reference, tmp_path, mnist_dir) -> None:
    """The behaviour, not its speed (issue 24: no test depends on wall-clock time): the run stops
    with 130, the checkpoint written on Ctrl-C holds the point it stopped at, and resuming gives
    the uninterrupted run. How fast it stops is measured by experiments/stop_latency.py."""
    out = tmp_path / "run"
    argv = _cli(*TRAIN, "--out", out, "--data-dir", mnist_dir, "--checkpoint-every", "0.1")
    stopped, before = _stop_midway(argv, out, signal.SIGINT, lambda p: p["current"] is not None)
    assert stopped.returncode == 130, stopped.stderr
    assert stopped.stderr.strip().splitlines()[-1] == (
        f"spikedyn: interrupted by SIGINT; checkpoint written. Resume with: spikedyn train --resume {out}")
    after = _progress(out)["current"]["record"]["network"]["samples_seen"]
    assert before["current"]["record"]["network"]["samples_seen"] <= after < 4000  # written on Ctrl-C
    again = subprocess.run(_cli(*TRAIN, "--out", out, "--data-dir", mnist_dir), capture_output=True, text=True)
    assert again.returncode == 0, again.stderr  # the same command again continues, too
    assert f"spikedyn: resuming the train run in {out}" in again.stderr
    _assert_same_run(out, train_reference)


# -- continual ----------------------------------------------------------------------------------------
CONTINUAL = ["continual", "--model", "spikedyn", "--neurons", "100", "--tasks", "0,1,2", "--samples-per-task", "500",
             "--assign-per-class", "50", "--test-per-class", "200", "--quiet"]


@pytest.fixture(scope="module")
def continual_reference(tmp_path_factory) -> Path:
    return _reference(tmp_path_factory, CONTINUAL)


def _assert_same_continual(a: Path, b: Path) -> None:
    assert sorted(p.name for p in a.iterdir()) == sorted(p.name for p in b.iterdir())
    _assert_same_npz(a / "weights_per_task.npz", b / "weights_per_task.npz")
    assert (a / "accuracy_matrix.csv").read_text() == (b / "accuracy_matrix.csv").read_text()
    ja, jb = (json.loads((d / "continual.json").read_text()) for d in (a, b))
    assert ja["accuracy_matrix"] == jb["accuracy_matrix"]
    assert _without_times(ja) == _without_times(jb)
    rows = [[{k: v for k, v in r.items() if k not in TIMES} for r in csv.DictReader((d / "tasks.csv").open())]
            for d in (a, b)]
    assert rows[0] == rows[1]


@pytest.mark.mnist
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_continual_stopped_midway_resumes_bit_identical(continual_reference, tmp_path, mnist_dir, sig) -> None:
    out = tmp_path / "c"
    argv = _cli(*CONTINUAL, "--out", out, "--data-dir", mnist_dir, "--checkpoint-every", "0.1")

    def midway(p) -> bool:  # inside the second task's training
        cur = p["current"]
        return cur is not None and cur["stage"] == "continual" and cur["record"]["task"] >= 1

    stopped, progress = _stop_midway(argv, out, sig, midway)
    if sig == signal.SIGKILL:
        assert stopped.returncode == -signal.SIGKILL
    else:
        assert stopped.returncode == 143
        assert stopped.stderr.strip().endswith(f"Resume with: spikedyn continual --resume {out}")
    assert "continual" not in progress["completed"]
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint.npz"]
    resumed = subprocess.run(_cli("continual", "--resume", out, "--quiet", "--data-dir", mnist_dir),
                             capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    _assert_same_continual(out, continual_reference)


# -- search -------------------------------------------------------------------------------------------
SEARCH = ["search", "--models", "spikedyn,diehl-cook", "--neurons", "30,100", "--train-samples", "250",
          "--validation-samples", "100", "--seeds", "0,1", "--jobs", "2", "--quiet"]


@pytest.fixture(scope="module")
def search_reference(tmp_path_factory) -> Path:
    return _reference(tmp_path_factory, SEARCH)


@pytest.mark.mnist
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_search_stopped_midway_resumes_identical(search_reference, tmp_path, mnist_dir, sig) -> None:
    ref, out = search_reference, tmp_path / "s"
    proc = subprocess.Popen(_cli(*SEARCH, "--out", out, "--data-dir", mnist_dir, "--checkpoint-every", "0.1"),
                            start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 600
    while time.time() < deadline and not list((out / "candidates").glob("*.json")):
        time.sleep(0.02)
    if sig == signal.SIGKILL:
        os.killpg(proc.pid, signal.SIGKILL)  # the command and its workers
        proc.wait()
    else:
        proc.send_signal(sig)  # the command only: it stops its workers
        _, stderr = proc.communicate(timeout=600)
        assert proc.returncode == 130, stderr
        assert stderr.strip().splitlines()[-1].endswith(f"Resume with: spikedyn search --resume {out}")
        until = time.monotonic() + 120  # multiprocessing's resource tracker exits once its parent has
        while _running_in_group(proc.pid) and time.monotonic() < until:
            time.sleep(0.05)
        left = {pid: Path(f"/proc/{pid}/cmdline").read_bytes() for pid in _running_in_group(proc.pid)}
        assert left == {}, "no worker left behind"
    stored = len(list((out / "candidates").glob("*.json")))
    assert 1 <= stored < 8, f"stopped midway, but {stored} of 8 candidates were stored"
    assert not (out / "search.json").exists()
    resumed = subprocess.run(_cli("search", "--resume", out, "--quiet", "--data-dir", mnist_dir),
                             capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    a, b = (json.loads((d / "search.json").read_text()) for d in (out, ref))
    assert a["counts"]["tasks_reused"] == stored, resumed.stderr
    assert _without_times(a) == _without_times(b), resumed.stderr
    names = sorted(p.name for p in (ref / "candidates").iterdir())
    assert sorted(p.name for p in (out / "candidates").iterdir()) == names  # no checkpoint left behind
    for name in names:
        assert _without_times(json.loads((out / "candidates" / name).read_text())) == \
            _without_times(json.loads((ref / "candidates" / name).read_text()))
    for name in ("candidates.csv", "candidates.md", "search_spec.json"):
        assert (out / name).read_text() == (ref / name).read_text()
    assert not (out / "checkpoint.npz").exists()


@pytest.mark.mnist
def test_a_search_task_interrupted_mid_training_resumes_from_its_checkpoint(tmp_path, monkeypatch, mnist_dir):
    from spikedyn import search
    from spikedyn.search import executors

    config = NetworkConfig(model="spikedyn", n_neurons=30)
    task = {"id": "t", "config": config.to_dict(), "seed": 3, "data_dir": str(mnist_dir),
            "protocol": {"name": "standard", "train_samples": 800, "validation_samples": 200,
                         "samples_per_task": 1000, "seeds": [3]}}
    plain = executors._call(search.evaluate, task, 1)
    saves = []
    original = Checkpointer.save

    def save_then_stop(self, progress, arrays):
        path = original(self, progress, arrays)
        saves.append(progress)
        if len(saves) == 2:
            interrupt.request()  # a Ctrl-C arriving after the second checkpoint
        return path

    monkeypatch.setattr(Checkpointer, "save", save_then_stop)
    with pytest.raises(Interrupted):
        executors._call(search.evaluate, task, 1, str(tmp_path), 1e-9)
    interrupt.clear()
    assert (tmp_path / "t.checkpoint.npz").is_file()
    record = saves[-1]["current"]["record"]
    assert 0 < record["progress"]["done"] < 800
    saves.clear()
    monkeypatch.setattr(Checkpointer, "save", original)
    resumed = executors._call(search.evaluate, task, 1, str(tmp_path), 1000.0)
    assert _without_times(resumed) == _without_times(plain)


# -- checkpoints, in process ---------------------------------------------------------------------------
def _images(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.random((n, 784)) < 0.15).astype(np.uint8) * rng.integers(60, 256, (n, 784), dtype=np.uint8)


SMALL = dict(n_neurons=12, timing__present_ms=40.0, timing__rest_ms=20.0)


@pytest.mark.parametrize("model", model_names())
def test_a_network_restored_from_a_checkpoint_continues_exactly(model, tmp_path) -> None:
    config = NetworkConfig(model=model).replace(**SMALL)
    x = _images(24)
    whole = Network(config, seed=5)
    whole.train(x, progress=False)
    whole.respond(x[:6], progress=False)
    half = Network(config, seed=5)
    half.train(x[:11], progress=False)
    ck = Checkpointer(tmp_path, "train", {"model": model}, 1.0)
    record, arrays = network_record(half, "net")
    ck.save({"network": record}, arrays)
    meta, loaded = checkpoint.load(tmp_path, "train")
    back = restore_network(meta["progress"]["network"], loaded, "net", Network)
    back.train(x[11:], progress=False)
    back.respond(x[:6], progress=False)
    assert np.array_equal(back.weights, whole.weights) and np.array_equal(back.theta, whole.theta)
    assert back.samples_seen == whole.samples_seen
    assert back.operations("train") == whole.operations("train")
    assert back.operations("inference") == whole.operations("inference")


def test_a_stop_request_ends_training_after_the_current_sample_and_keeps_the_network_consistent() -> None:
    config = NetworkConfig().replace(**SMALL)
    x = _images(30)
    whole = Network(config, seed=2)
    whole.train(x, progress=False)
    net = Network(config, seed=2)
    batches = []

    def stop_after_two(stats) -> None:
        batches.append(stats.train_samples)
        if len(batches) == 2:
            interrupt.request()

    try:
        with pytest.raises(Interrupted):
            net.train(x, batch_size=7, progress=False, on_batch=stop_after_two)
    finally:
        interrupt.clear()
    assert net.samples_seen == 14 and net.train_stats_[-1].train_samples == 14
    net.train(x[14:], progress=False)
    assert np.array_equal(net.weights, whole.weights) and np.array_equal(net.theta, whole.theta)
    assert net.operations("train")["tally"] == whole.operations("train")["tally"]


def test_a_stop_request_ends_inference_on_every_thread() -> None:
    net = Network(NetworkConfig().replace(**SMALL), seed=0)
    interrupt.request(signal.SIGTERM)
    try:
        with pytest.raises(Interrupted) as info:
            net.respond(_images(40), n_jobs=2, progress=False)
    finally:
        interrupt.clear()
    assert info.value.exit_status == 143
    assert net.operations("inference")["tally"]["samples"] == 0  # no thread went past its first check


def test_stoppable_turns_signals_into_a_request_and_restores_the_handlers() -> None:
    before = signal.getsignal(signal.SIGINT)
    with interrupt.stoppable():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
        assert interrupt.requested()
        with pytest.raises(Interrupted):
            interrupt.check()
    assert not interrupt.requested() and signal.getsignal(signal.SIGINT) is before


def test_a_pool_worker_signalled_while_idle_refuses_its_next_tasks(monkeypatch) -> None:
    from spikedyn.search import executors

    ran = []
    monkeypatch.setattr(executors, "_pool_worker", True)
    monkeypatch.setattr(executors, "_stopped_by", None)
    assert executors._call(lambda t: ran.append(t) or {}, {"id": "a"}, 1)["spikedyn_version"]
    executors._stop_when_idle(signal.SIGTERM, None)  # between two tasks
    for _ in range(2):
        with pytest.raises(Interrupted) as info:
            executors._call(lambda t: ran.append(t) or {}, {"id": "b"}, 1)
        assert info.value.exit_status == 143
    assert ran == [{"id": "a"}]  # the queued tasks never started


def test_checkpoints_of_another_version_command_or_a_corrupt_file_are_refused(tmp_path, monkeypatch) -> None:
    Checkpointer(tmp_path, "train", {"x": 1}).save({"p": 1}, {"a": np.arange(3)})
    meta, arrays = checkpoint.load(tmp_path, "train")
    assert meta["options"] == {"x": 1} and np.array_equal(arrays["a"], np.arange(3))
    with pytest.raises(CheckpointError, match="is a checkpoint of 'spikedyn train', not of 'spikedyn continual'"):
        checkpoint.load(tmp_path, "continual")
    monkeypatch.setattr(checkpoint, "__version__", "9.9.9")
    with pytest.raises(CheckpointError, match=r"written by spikedyn '.*'.*this is spikedyn 9.9.9"):
        checkpoint.load(tmp_path, "train")
    monkeypatch.undo()
    (tmp_path / "checkpoint.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(CheckpointError, match="is not a spikedyn checkpoint"):
        checkpoint.load(tmp_path, "train")
    with pytest.raises(CheckpointError, match="has no checkpoint.npz"):
        checkpoint.load(tmp_path / "nothing", "train")


def test_a_session_keeps_finished_stages_and_the_current_point(tmp_path) -> None:
    session = Session(Checkpointer(tmp_path, "continual", {}))
    session.save("a", {"i": 1}, {"x": np.ones(2)})
    session.complete("a", {"result": 3}, {"y": np.zeros(1)})
    session.save("b", {"i": 2}, {"x": np.full(2, 7.0)})
    again = Session(None, *checkpoint.load(tmp_path, "continual"))
    assert again.result("a")[0] == {"result": 3} and np.array_equal(again.result("a")[1]["y"], np.zeros(1))
    assert again.resumed("a") is None and again.result("b") is None
    record, arrays = again.resumed("b")
    assert record == {"i": 2} and np.array_equal(arrays["x"], np.full(2, 7.0))


@pytest.mark.parametrize("extra, message", [
    (["--model", "asp"], "holds a run of model 'spikedyn', not 'asp'; start a new run of asp with a new --out"),
    (["--neurons", "50"], "--resume continues the run as it was started (with --neurons 100); drop --neurons"),
    (["--out", "elsewhere"], "continues in its own directory; drop --out elsewhere"),
])
def test_resume_refuses_another_model_or_changed_options(run_cli, tmp_path, extra, message) -> None:
    options = {"config": NetworkConfig(model="spikedyn").to_dict(), "seed": 0, "train_samples": 10, "epochs": 1}
    Checkpointer(tmp_path / "r", "train", options).save({}, {})
    code, _, err = run_cli("train", "--resume", tmp_path / "r", *extra)
    assert_usage_error(code, err, message)


def test_resuming_a_finished_or_foreign_directory_is_refused(run_cli, tmp_path) -> None:
    (tmp_path / "done").mkdir()
    (tmp_path / "done" / "run.json").write_text("{}")
    code, _, err = run_cli("continual", "--resume", tmp_path / "done")
    assert_usage_error(code, err, "has no checkpoint.npz: it is finished or not a spikedyn continual output")
    Checkpointer(tmp_path / "t", "train", {}).save({}, {})
    code, _, err = run_cli("continual", "--resume", tmp_path / "t")
    assert_usage_error(code, err, f"resume it with: spikedyn train --resume {tmp_path / 't'}")


# -- numerical guards ----------------------------------------------------------------------------------
def test_a_non_finite_weight_stops_training_naming_the_sample_and_the_synapse() -> None:
    net = Network(NetworkConfig(model="lateral").replace(**SMALL), seed=0)
    x = _images(20)
    net.train(x[:5], progress=False)
    net.weights[2, 3] = np.inf  # the normalisation before sample 5 makes it inf / inf
    with pytest.raises(NumericalError, match=r"^the weight from input 2 to excitatory neuron 3 became nan during "
                                             r"training sample 5 \(training-stream index\): the simulation diverged"):
        net.train(x[5:], progress=False, batch_size=4)


@pytest.mark.parametrize("model", ["diehl-cook", "spikedyn"])
def test_a_non_finite_state_stops_training_naming_the_sample_neuron_and_step(model) -> None:
    net = Network(NetworkConfig(model=model).replace(**SMALL), seed=0)
    x = _images(20)
    net.train(x[:6], progress=False)
    net.theta[4] = np.nan
    with pytest.raises(NumericalError, match=r"^the threshold of excitatory neuron 4 became nan at step 0 \(0 ms\) "
                                             r"of presentation 1 of training sample 6 \(training-stream index\)"):
        net.train(x[6:], progress=False)


def test_a_non_finite_threshold_stops_inference_naming_the_sample() -> None:
    net = Network(NetworkConfig().replace(**SMALL), seed=0)
    net.theta[4] = np.nan
    with pytest.raises(NumericalError, match=r"threshold of excitatory neuron 4 became nan at step 0 .* of sample "
                                             r"0 of this call \(stream \d+, index 7\), learning off"):
        net.respond(_images(3), first_index=7, progress=False)


def test_json_outputs_never_hold_nan_or_infinity(tmp_path) -> None:
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match="non-finite"):
            write_json(tmp_path / "x.json", {"a": [1.0, bad]})
    assert not list(tmp_path.iterdir())


# -- disk ----------------------------------------------------------------------------------------------
def test_a_full_disk_is_reported_and_the_previous_file_is_intact(tmp_path, monkeypatch) -> None:
    path = tmp_path / "w.npy"
    write_npy(path, np.arange(3.0))

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "save", full)
    with pytest.raises(DiskError, match=r"cannot write .*w.npy: No space left on device; free some space or "
                                        r"choose another location \(files written before are intact\)"):
        write_npy(path, np.zeros(2))
    monkeypatch.undo()
    assert np.array_equal(np.load(path), np.arange(3.0))
    assert [p.name for p in tmp_path.iterdir()] == ["w.npy"]


def test_a_failed_output_directory_leaves_the_old_one(tmp_path, monkeypatch) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "old.txt").write_text("old")
    real = os.replace

    def fail_on_dir(src, dst):
        if Path(dst) == out and str(src).endswith(".tmp"):
            raise OSError(errno.EDQUOT, "Disk quota exceeded")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", fail_on_dir)
    with pytest.raises(DiskError, match="Disk quota exceeded"):
        with atomic_directory(out, overwrite=True) as tmp:
            (tmp / "new.txt").write_text("new")
    assert [p.name for p in out.iterdir()] == ["old.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_an_unwritable_output_is_one_line_and_exit_2(run_cli, tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, err = run_cli("estimate", "--model", "lateral", "--neurons", "100", "--json", blocker / "e.json")
    assert_usage_error(code, err, f"cannot write {blocker / 'e.json'}: a parent of it is a file, not a directory; "
                                  "choose another path")


def test_a_checkpoint_without_its_options_is_one_line(run_cli, tmp_path) -> None:
    (tmp_path / "r").mkdir()
    np.savez(tmp_path / "r" / "checkpoint.npz", __meta__=np.frombuffer(json.dumps(
        {"format_version": checkpoint.FORMAT_VERSION, "spikedyn_version": checkpoint.__version__,
         "command": "train"}).encode(), np.uint8))
    code, _, err = run_cli("train", "--resume", tmp_path / "r")
    assert_usage_error(code, err, "checkpoint.npz lacks its options or progress; it is corrupt")


def test_a_task_result_does_not_depend_on_where_its_data_was_read(tmp_path) -> None:
    from spikedyn.search import executors

    from spikedyn._version import source_hash

    task = {"id": "t", "x": 1, "data_dir": "/a"}
    write_json(tmp_path / "t.json", {"task": task, "accuracy": 0.5, "source_hash": source_hash()})
    assert executors.stored_result(tmp_path, {**task, "data_dir": "/elsewhere"})["accuracy"] == 0.5
    assert executors.stored_result(tmp_path, {**task, "x": 2}) is None
    write_json(tmp_path / "t.json", {"task": task, "accuracy": 0.5, "source_hash": "0" * 12})  # other code
    assert executors.stored_result(tmp_path, task) is None


def test_a_search_over_an_infinite_time_constant_can_be_written_and_read(tmp_path) -> None:
    from spikedyn.search import SearchSpec, load_spec

    spec = SearchSpec.from_dict({"models": ["lateral"], "neurons": [10],
                                 "grid": {"excitatory.tau_theta_ms": ["inf", 1e7]}})
    assert spec.space.grid == (("excitatory.tau_theta_ms", (float("inf"), 1e7)),)
    write_json(tmp_path / "s.json", spec.to_dict())
    assert load_spec(tmp_path / "s.json") == spec


def _never_called(task: dict) -> dict:  # pragma: no cover - every task is reused
    raise AssertionError("a stored result was computed again")


def test_a_stored_result_drops_the_checkpoint_its_killed_worker_left(tmp_path) -> None:
    """A worker killed between storing its result and deleting its checkpoint leaves both; the
    rerun reuses the result and removes the checkpoint (deterministic form of the race the
    search test above can hit with SIGKILL)."""
    from spikedyn._version import source_hash
    from spikedyn.search import executors

    task = {"id": "t-seed0", "x": 1}
    (tmp_path / "t-seed0.json").write_text(json.dumps({"task": task, "source_hash": source_hash(), "y": 2}))
    (tmp_path / "t-seed0.checkpoint.npz").write_bytes(b"left by a killed worker")
    results, reused = executors.run_tasks(_never_called, [task], tmp_path, progress=False, checkpoint_every_s=0.1)
    assert reused == 1 and results[0]["y"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t-seed0.json"]
