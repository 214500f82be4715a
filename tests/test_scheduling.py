"""The executors' scheduling: longest first, one warm-up per distinct set of kernels, runs and
groups in the progress bar; and the search's and experiments' estimates that drive it."""

from __future__ import annotations

from pathlib import Path

from helpers import logged_task

from spikedyn.config import NetworkConfig
from spikedyn.search import executors, families
from spikedyn.simulation.state import kernel_signature


def _log(path: Path) -> list[str]:
    return path.read_text().splitlines()


def _tasks(log: Path, sizes) -> list[dict]:
    return [{"id": f"t{k}-{kind}", "kind": kind, "n": n, "log": str(log)}
            for k, (kind, n) in enumerate(sizes)]


def _warm(task: dict) -> dict:
    return {"id": f"warm-{task['kind']}", "kind": task["kind"], "log": task["log"]}


def test_tasks_start_longest_first_and_results_keep_the_given_order(tmp_path) -> None:
    log = tmp_path / "log.txt"
    tasks = _tasks(log, [("a", 1), ("a", 5), ("b", 3), ("b", 5), ("a", 2)])
    results, reused = executors.run_tasks(logged_task, tasks, tmp_path / "out", jobs=1, progress=False,
                                          cost=lambda t: t["n"], warm=_warm)
    assert reused == 0
    assert [r["task"]["id"] for r in results] == [t["id"] for t in tasks]
    assert [r["n"] for r in results] == [1, 5, 3, 5, 2]
    starts = [line.split()[1] for line in _log(log) if line.startswith("start")]
    # decreasing cost, ties in the given order; one worker: no warm-up
    assert starts == ["t1-a", "t3-b", "t2-b", "t4-a", "t0-a"]


def test_warm_ups_run_once_each_and_end_before_any_task_starts(tmp_path) -> None:
    log = tmp_path / "log.txt"
    tasks = _tasks(log, [("a", 1), ("b", 2), ("a", 3), ("b", 4), ("a", 5)])
    results, _ = executors.run_tasks(logged_task, tasks, tmp_path / "out", jobs=2, progress=False,
                                     cost=lambda t: t["n"], warm=_warm)
    lines = _log(log)
    warm = [k for k, line in enumerate(lines) if "warm-" in line]
    first_task = min(k for k, line in enumerate(lines) if line.startswith("start t"))
    assert sorted(lines[k] for k in warm) == ["end warm-a", "end warm-b", "start warm-a", "start warm-b"]
    assert max(warm) < first_task
    assert sorted(line for line in lines if line.startswith("start t")) == sorted(f"start {t['id']}" for t in tasks)
    # a warm-up leaves no result: only the tasks are stored
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(f"{t['id']}.json" for t in tasks)
    assert [r["n"] for r in results] == [1, 2, 3, 4, 5]


def test_warm_ups_are_distinct_by_id_in_order_of_first_need() -> None:
    tasks = [{"id": "x", "kind": "b"}, {"id": "y", "kind": "a"}, {"id": "z", "kind": "b"}]
    assert [w["id"] for w in executors.warm_ups(tasks, lambda t: {"id": t["kind"]})] == ["b", "a"]
    assert executors.warm_ups(tasks, lambda t: None) == []


def test_progress_counts_complete_groups_from_what_was_stored() -> None:
    tasks = [{"id": f"{c}-seed{s}"} for c in ("c1", "c2") for s in (0, 1)]

    def group(task):
        return task["id"].rsplit("-seed", 1)[0]

    count = executors._GroupCount(tasks, group, {"c1-seed0": {}, "c1-seed1": {}}, "candidates")
    assert count.text() == "candidates complete: 1/2"
    count.add(tasks[2])
    assert count.text() == "candidates complete: 1/2"
    count.add(tasks[3])
    assert count.text() == "candidates complete: 2/2"


def test_kernel_signature_follows_the_compiled_types_not_the_values() -> None:
    base = NetworkConfig(model="lateral", n_neurons=100)
    assert kernel_signature(base) == kernel_signature(base.replace(n_neurons=400, stdp__nu_post=0.02))
    assert kernel_signature(base) != kernel_signature(NetworkConfig(model="diehl-cook", n_neurons=100))
    assert kernel_signature(base) != kernel_signature(base.replace(precision__weight_bits=8))


def test_search_tasks_share_a_warm_up_per_signature_and_the_larger_runs_first() -> None:
    protocol = {"name": "standard", "train_samples": 100, "validation_samples": 50, "seeds": [0]}

    def task(model, n):
        return {"id": f"{model}-{n}-seed0", "family": "stdp", "seed": 0, "protocol": protocol,
                "config": NetworkConfig(model=model, n_neurons=n).to_dict()}

    small, large, other = task("lateral", 100), task("lateral", 400), task("diehl-cook", 100)
    warm = [families.task_warm_up(t) for t in (small, large, other)]
    assert warm[0]["id"] == warm[1]["id"] != warm[2]["id"]
    assert warm[0]["protocol"]["train_samples"] == 1 and warm[0]["protocol"]["validation_samples"] == 1
    assert families.task_cost(large) == 4 * families.task_cost(small) == 4 * 784 * 100 * 100
    tasks = [small, large, other]
    assert [t["id"] for t in executors.longest_first(tasks, families.task_cost)] == [
        "lateral-400-seed0", "lateral-100-seed0", "diehl-cook-100-seed0"]
