"""The Pareto model search: pruning, the front and the choice, executors, resuming."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from spikedyn.config import NetworkConfig
from spikedyn.errors import ConfigError
from spikedyn.search import Budget, Candidate, SearchProtocol, SearchSpace, run_search, select


def test_budget_names_each_bound_broken() -> None:
    b = Budget(max_memory_kb=3000, max_infer_energy_uj=10)
    assert b.violations({"memory_kb": 3091.2, "train_energy_uj": 1e9, "infer_energy_uj": 5}) == [
        "memory_kb 3091 > 3000 KB"]
    assert b.violations({"memory_kb": 10, "infer_energy_uj": None}) == [
        "infer_energy_uj unavailable on this energy table, bound 10 uJ"]
    with pytest.raises(ConfigError, match="max_memory_kb must be a positive number, got -1"):
        Budget(max_memory_kb=-1)


def test_space_enumerates_every_combination_and_checks_it() -> None:
    space = SearchSpace(models=("lateral", "asp"), neurons=(10, 20), weight_bits=(32, 8),
                        grid=(("timing.present_ms", (250.0, 350.0)),))
    cands = space.candidates()
    assert len(cands) == 2 * 2 * 2 * 2 and len({c.id for c in cands}) == 16
    c = Candidate("asp", 20, 8, (("timing.present_ms", 250.0),))
    assert c.id == "asp-20-w8-timing.present_ms=250.0"
    config = c.config(NetworkConfig())
    assert (config.model, config.n_neurons, config.precision.weight_bits, config.timing.present_ms) == (
        "asp", 20, 8, 250.0)
    with pytest.raises(ConfigError, match="unknown model 'nope'"):
        SearchSpace(models=("nope",))
    with pytest.raises(ConfigError, match="weight_bits must be among 4, 8, 16, 32, 64, got 12"):
        SearchSpace(models=("lateral",), weight_bits=(12,))
    with pytest.raises(ConfigError, match="present_ms=250.3 is not a whole number of dt_ms=0.5 steps"):
        SearchSpace(models=("lateral",), grid=(("timing.present_ms", (250.3,)),))
    with pytest.raises(ConfigError, match="train_samples must be an integer in 1..50000"):
        SearchProtocol(train_samples=60_000)


def test_selection_is_the_most_accurate_within_budget_ties_to_the_cheaper() -> None:
    def cand(i, acc, mem, tr=1.0, inf=1.0, pruned=False):
        return {"id": i, "pruned": pruned, "accuracy": acc, "memory_kb": mem, "train_energy_uj": tr,
                "infer_energy_uj": inf}

    cands = [cand("a", 0.9, 500), cand("b", 0.9, 400), cand("c", 0.95, 5000), cand("d", None, 1, pruned=True)]
    assert select(cands, Budget(max_memory_kb=3000))["id"] == "b"  # c breaks the budget; b is cheaper than a
    assert select(cands, Budget())["id"] == "c"
    assert select(cands, Budget(max_memory_kb=100)) is None


# asp with its leak (and so its significance matrix): no leak by default, which is diehl-cook
SMALL = dict(models=("lateral", "asp"), neurons=(10, 30), weight_bits=(32, 8),
             base=NetworkConfig().replace(asp__leak_rate=0.001))
# asp-30 at 32 bits needs 191 KB by the estimate: pruned by a 150 KB budget, the rest (at most 120 KB) kept
BUDGET = Budget(max_memory_kb=150)
PROTOCOL = SearchProtocol(train_samples=60, validation_samples=60)


def _comparable(summary: dict) -> dict:
    return {"candidates": summary["candidates"], "front": summary["front"], "selected": summary["selected"]}


@pytest.fixture(scope="module")
def local_search(tmp_path_factory):
    if os.environ.get("SPIKEDYN_DATA_DIR") is None:
        pytest.skip("set SPIKEDYN_DATA_DIR to a directory with MNIST")
    out = tmp_path_factory.mktemp("search-local")
    return out, run_search(SearchSpace(**SMALL), BUDGET, PROTOCOL, out_dir=out, executor="local", jobs=2,
                           progress=False)


@pytest.mark.mnist
def test_search_prunes_before_training_and_keeps_a_non_dominated_front(local_search) -> None:
    from spikedyn.search.pareto import dominates
    from spikedyn.search import OBJECTIVES

    out, s = local_search
    by_id = {c["id"]: c for c in s["candidates"]}
    assert by_id["asp-30-w32"]["pruned"] and by_id["asp-30-w32"]["reason"].startswith("memory_kb ")
    assert s["counts"]["pruned"] == 1 and s["counts"]["pruned_but_trained"] == 0
    for c in s["candidates"]:  # the counters say who was trained
        assert c["counted_train_samples"] == (0 if c["pruned"] else PROTOCOL.train_samples)
        assert not (out / "candidates" / f"{c['id']}-seed0.json").exists() or not c["pruned"]
    evaluated = [c for c in s["candidates"] if not c["pruned"]]
    senses = [sense for _, sense in OBJECTIVES]
    values = {c["id"]: [c[k] for k, _ in OBJECTIVES] for c in evaluated}
    for c in evaluated:
        beaten = any(dominates(values[o], values[c["id"]], senses) for o in values if o != c["id"])
        assert c["on_front"] == (not beaten)
    assert s["selected"] in s["front"]
    assert (out / "candidates.csv").read_text().count("\n") == len(s["candidates"]) + 1
    assert (out / "candidates.md").read_text().count("pruned: memory_kb") == 1
    for key in ("memory_kb", "train_energy_uj", "infer_energy_uj"):
        assert (out / f"accuracy_vs_{key}.png").read_bytes().startswith(b"\x89PNG")
    assert json.loads((out / "search.json").read_text()) == json.loads(json.dumps(s))


@pytest.mark.mnist
def test_rerunning_reuses_every_stored_candidate_and_recomputes_a_missing_one(local_search, tmp_path) -> None:
    out, first = local_search
    again = run_search(SearchSpace(**SMALL), BUDGET, PROTOCOL, out_dir=out, executor="local", jobs=1, progress=False)
    assert again["counts"]["tasks_reused"] == again["counts"]["tasks"] == 7
    assert _comparable(again) == _comparable(first)
    (out / "candidates" / "lateral-30-w8-seed0.json").unlink()
    third = run_search(SearchSpace(**SMALL), BUDGET, PROTOCOL, out_dir=out, executor="local", jobs=1, progress=False)
    assert third["counts"]["tasks_reused"] == 6 and _comparable(third) == _comparable(first)
    # a run stored for other images (the dataset by content) is not reused
    assert first["dataset"] == "mnist"
    stored = out / "candidates" / "lateral-10-w8-seed0.json"
    record = json.loads(stored.read_text())
    assert record["task"]["dataset"] == "mnist"
    record["task"]["dataset"] = "sha256:0123456789abcdef"
    stored.write_text(json.dumps(record))
    fourth = run_search(SearchSpace(**SMALL), BUDGET, PROTOCOL, out_dir=out, executor="local", jobs=1, progress=False)
    assert fourth["counts"]["tasks_reused"] == 6 and _comparable(fourth) == _comparable(first)
    assert json.loads(stored.read_text())["task"]["dataset"] == "mnist"


@pytest.mark.mnist
def test_the_candidates_table_names_a_dataset_other_than_mnist(local_search, tmp_path) -> None:
    from spikedyn.search.driver import _write_markdown

    _, s = local_search
    for dataset, named in (("mnist", False), ("sha256:0123456789abcdef", True), (None, False)):
        _write_markdown(tmp_path / "c.md", {**s, "dataset": dataset})
        assert ("Dataset: sha256:0123456789abcdef." in (tmp_path / "c.md").read_text()) is named


@pytest.mark.mnist
def test_dask_local_cluster_gives_the_same_result(local_search, tmp_path) -> None:
    pytest.importorskip("distributed")
    _, first = local_search
    dask = run_search(SearchSpace(**SMALL), BUDGET, PROTOCOL, out_dir=tmp_path, executor="dask", jobs=2,
                      progress=False)
    assert _comparable(dask) == _comparable(first)


@pytest.mark.mnist
def test_search_killed_with_sigkill_resumes_where_it_stopped(local_search, tmp_path, mnist_dir) -> None:
    _, first = local_search
    argv = [sys.executable, "-m", "spikedyn.cli", "search", "--models", "lateral,asp", "--neurons", "10,30",
            "--weight-bits", "32,8", "--max-memory-kb", "150", "--train-samples", "60", "--validation-samples", "60",
            "--jobs", "1", "--out", str(tmp_path / "s"), "--quiet", "--data-dir", str(mnist_dir),
            "--set", "asp.leak_rate=0.001"]  # SMALL's base
    proc = subprocess.Popen(argv, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stored = tmp_path / "s" / "candidates"
    deadline = time.time() + 300
    while time.time() < deadline and len(list(stored.glob("*.json"))) < 2:
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = len(list(stored.glob("*.json")))
    assert 2 <= done_before < 7, "the search was not killed midway"
    assert not list(stored.glob(".*.tmp")), "a partial candidate file was left behind"
    finished = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stderr
    resumed = json.loads((tmp_path / "s" / "search.json").read_text())
    assert resumed["counts"]["tasks_reused"] == done_before
    assert _comparable(resumed) == json.loads(json.dumps(_comparable(first)))


@pytest.mark.parametrize("argv, message", [
    (["--models", "nope"], "unknown model 'nope'"),
    (["--models", "lateral", "--weight-bits", "3"], "weight_bits must be among"),
    (["--models", "lateral", "--max-memory-kb", "-5"], "max_memory_kb must be a positive number"),
    (["--models", "lateral", "--scheduler", "tcp://127.0.0.1:1"], "--scheduler goes with --executor dask"),
    (["--models", "lateral", "--grid", "timing.nope=1,2"], "unknown config field 'timing.nope'"),
    (["--models", "lateral", "--train-samples", "55000"], "train_samples must be an integer in 1..50000"),
])
def test_search_rejects_bad_input(run_cli, tmp_path: Path, argv, message) -> None:
    code, _, err = run_cli("search", *argv, "--out", tmp_path / "s", "--json", tmp_path / "s.json")
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "s").exists() and not (tmp_path / "s.json").exists()


_ORPHAN_SCRIPT = """
import os, signal, time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

from spikedyn.search import executors

if __name__ == "__main__":
    pool = ProcessPoolExecutor(1, mp_context=get_context("spawn"), initializer=executors._init_pool_worker,
                               initargs=(os.getpid(),))
    worker = pool.submit(os.getpid).result()
    pool.submit(time.sleep, 3600)  # a task that would outlive the run by an hour
    print(worker, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # the run dies without a word to its workers
"""


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (an exited child nobody reaped yet)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_a_pool_worker_exits_when_the_run_that_started_it_dies(tmp_path: Path) -> None:
    """A run killed outright (SIGKILL; also SIGTERM to its group while a worker compiled or sat
    idle) left its workers running, orphaned, for as long as their tasks took: each now sees
    its parent change and exits (executors._watch_parent). Nothing here is timed: the test only
    waits for the worker to be gone, and gives up after a limit far above the watchdog's period
    plus the grace period (that limit turns a leftover worker into a failure, not a hang)."""
    script = tmp_path / "run.py"
    script.write_text(_ORPHAN_SCRIPT)
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    with out.open("w") as stdout, err.open("w") as stderr:  # files, not pipes: the orphan inherits them
        code = subprocess.run([sys.executable, str(script)], stdout=stdout, stderr=stderr, timeout=300).returncode
    assert code == -signal.SIGKILL, err.read_text()
    worker = int(out.read_text().split()[0])
    try:
        deadline = time.monotonic() + 120
        while _running(worker) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _running(worker), "the orphaned worker is still running"
    finally:
        if _running(worker):
            os.kill(worker, signal.SIGKILL)
