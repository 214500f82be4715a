"""The class-incremental protocol, its outputs and command, and the continual-learning rules."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from helpers import assert_png, assert_states_equal, assert_usage_error, bar_digits, bright_images, make_digits_dir

from spikedyn import continual as cl
from spikedyn.config import InputParams, NetworkConfig, TimingParams
from spikedyn.continual import metrics as cl_metrics
from spikedyn.continual.protocol import _first_of_classes, _per_class, _plan
from spikedyn.errors import ConfigError
from spikedyn.simulation.network import Network

SHORT = TimingParams(present_ms=100.0, rest_ms=50.0)


def _pools(n_learn: int = 200, n_eval: int = 100, seed: int = 0) -> cl.Pools:
    """Bar digits (one bar per class): labels in shuffled order, every class equally often."""
    rng = np.random.default_rng(seed)
    out = []
    for n in (n_learn, n_eval):
        labels = (np.arange(n) % 10).astype(np.int64)
        rng.shuffle(labels)
        out += [bar_digits(rng, labels).reshape(n, -1), labels]
    return cl.Pools(*out)


POOLS = _pools()
SMALL = cl.Protocol(tasks=cl.parse_tasks("0,1,2"), samples_per_task=15, assign_per_class=8, test_per_class=8)


def _config(model: str = "spikedyn", **overrides) -> NetworkConfig:
    return NetworkConfig(model=model, n_neurons=15, timing=SHORT, input=InputParams(max_presentations=3)).replace(
        **overrides)


# -- tasks and data --------------------------------------------------------------------------------
def test_parse_tasks_reads_classes_and_ranges() -> None:
    assert cl.parse_tasks("0,1,2") == ((0,), (1,), (2,))
    assert cl.parse_tasks(" 3, 1 ,4") == ((3,), (1,), (4,))
    assert cl.parse_tasks("0-1,2-3,9") == ((0, 1), (2, 3), (9,))
    assert cl.task_name((2, 3)) == "2-3" and cl.task_name((7,)) == "7"


@pytest.mark.parametrize("text, message", [
    ("", "--tasks needs a comma-separated list"),
    ("0,a", "--tasks item 'a' is not a class (3) or a range of classes (2-5)"),
    ("0,,1", "--tasks item '' is not a class"),
    ("3-1", "--tasks range '3-1' runs backwards; write 1-3"),
    ("0,10", "--tasks names class 10, but the data has classes 0-9"),
    ("0-2,2", "--tasks repeats class 2; each class belongs to one task"),
])
def test_parse_tasks_rejects_bad_lists(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        cl.parse_tasks(text)


@pytest.mark.parametrize("kwargs, message", [
    ({"samples_per_task": 0}, "samples_per_task must be a positive integer, got 0"),
    ({"assign_per_class": True}, "assign_per_class must be a positive integer, got True"),
    ({"test_per_class": -1}, "test_per_class must be a positive integer or None"),
    ({"split": "train"}, "split must be 'test' or 'validation', got 'train'"),
    ({"tasks": ()}, "the protocol needs at least one task"),
])
def test_protocol_rejects_bad_choices(kwargs, message) -> None:
    with pytest.raises(ConfigError, match=message):
        cl.Protocol(**kwargs)


def test_task_images_are_the_first_of_their_classes_in_file_order() -> None:
    y = POOLS.learn_y
    idx = _first_of_classes(y, (2, 3), 10, "x")
    assert idx.size == 10 and np.all(np.diff(idx) > 0) and set(y[idx]) == {2, 3}
    assert np.array_equal(idx, np.flatnonzero(np.isin(y, (2, 3)))[:10])
    per = _per_class(y, [4, 1], 3, "x")
    assert list(y[per]) == [4, 4, 4, 1, 1, 1]
    with pytest.raises(ConfigError, match="classes 5 have only 20 images in the pool, fewer than 21; ask for fewer"):
        _first_of_classes(y, (5,), 21, "--samples-per-task")


# -- the protocol ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_run() -> cl.ContinualResult:
    return cl.run(_config(), seed=3, protocol=SMALL, pools=POOLS, progress=False, n_jobs=1)


def test_run_fills_the_accuracy_matrix_task_by_task(small_run) -> None:
    R = small_run.accuracy_matrix
    assert R.shape == (3, 3)
    assert np.all(np.isnan(R[np.triu_indices(3, 1)]))
    lower = R[np.tril_indices(3)]
    assert np.all((lower >= 0) & (lower <= 1))
    # Bars are easy: after each task the network tells the classes it has seen apart.
    assert np.mean(cl_metrics.new_task_accuracy(R)) >= 0.75, R
    assert [t.classes for t in small_run.tasks] == [[0], [1], [2]]
    assert all(t.train_samples == 15 and t.presentations >= 15 for t in small_run.tasks)
    assert len(small_run.weights_per_task) == 3 and small_run.weights_per_task[0].dtype == np.float32
    # Each task's record holds its own updates, not the running totals.
    assert all(t.updates["potentiation_done"] > 0 for t in small_run.tasks)
    s = small_run.summary()
    json.dumps(s, allow_nan=False)
    assert s["old_task_accuracy"][0] is None and s["task_names"] == ["0", "1", "2"]
    assert s["final_average_accuracy"] == pytest.approx(np.mean(R[2]))


def test_every_readout_is_scored_on_the_same_test_spikes(small_run) -> None:
    """After the last task, each readout fitted on the protocol's labelled pass and scored on its
    test images (the same streams) gives the recorded accuracies; the paper's is the matrix."""
    from spikedyn.core.encoding import STREAM_ASSIGN, STREAM_TEST
    from spikedyn.core.readout import PAPER_READOUT, READOUTS, accuracy, fit_readout

    matrices = small_run.readout_matrices()
    assert list(matrices) == list(READOUTS) and matrices[PAPER_READOUT] is small_run.accuracy_matrix
    net, plan = small_run.network, _plan(POOLS, SMALL, small_run.seed)
    a_idx = np.concatenate(plan.assign)
    counts = net.respond(POOLS.learn_x[a_idx], stream=STREAM_ASSIGN, progress=False)
    offset = 0
    for j, t_idx in enumerate(plan.test):
        test_counts = net.respond(POOLS.eval_x[t_idx], stream=STREAM_TEST, first_index=offset, progress=False)
        offset += t_idx.size
        for kind in READOUTS:
            expected = accuracy(POOLS.eval_y[t_idx], fit_readout(kind, counts, POOLS.learn_y[a_idx]).predict(test_counts))
            assert matrices[kind][2, j] == expected, (kind, j)
            assert net.score(POOLS.eval_x[t_idx], POOLS.eval_y[t_idx], readout=kind) >= 0  # the final network holds the pass
    s = small_run.summary()
    assert set(s["readouts"]) == set(READOUTS)
    assert s["readouts"][PAPER_READOUT] == {"final_average_accuracy": s["final_average_accuracy"], "bwt": s["bwt"]}
    for kind in READOUTS:
        assert s["readouts"][kind]["final_average_accuracy"] == pytest.approx(np.mean(matrices[kind][2]))


def test_run_is_deterministic_and_independent_of_threads(small_run) -> None:
    again = cl.run(_config(), seed=3, protocol=SMALL, pools=POOLS, progress=False, n_jobs=2)
    np.testing.assert_array_equal(again.accuracy_matrix, small_run.accuracy_matrix)
    for a, b in zip(again.weights_per_task, small_run.weights_per_task):
        np.testing.assert_array_equal(a, b)
    other = cl.run(_config(), seed=4, protocol=SMALL, pools=POOLS, progress=False)
    assert not np.array_equal(other.weights_per_task[-1], small_run.weights_per_task[-1])


def _spy_on_training(monkeypatch) -> list[np.ndarray]:
    seen = []
    original = Network.train
    monkeypatch.setattr(Network, "train", lambda self, images, **kw: (seen.append(images.copy()),
                                                                       original(self, images, **kw))[1])
    return seen


@pytest.mark.parametrize("draw", ["seeded", "first"])
def test_each_task_trains_on_its_classes_only(monkeypatch, draw: str) -> None:
    seen = _spy_on_training(monkeypatch)
    protocol = dataclasses.replace(SMALL, draw=draw)
    cl.run(_config(), seed=0, protocol=protocol, pools=POOLS, progress=False)
    plan = _plan(POOLS, protocol, 0)
    for task, images, idx in zip(SMALL.tasks, seen, plan.train):
        assert len(set(idx.tolist())) == idx.size == 15 and set(POOLS.learn_y[idx].tolist()) <= set(task)
        np.testing.assert_array_equal(images, POOLS.learn_x[idx])
        if draw == "first":
            np.testing.assert_array_equal(idx, _first_of_classes(POOLS.learn_y, task, 15, "x"))
    for task, assign, train in zip(SMALL.tasks, plan.assign, plan.train):  # the labelled pass: images learned from
        assert set(assign.tolist()) <= set(train.tolist()) if draw == "seeded" else True
        assert sorted(POOLS.learn_y[assign].tolist()) == sorted(list(task) * SMALL.assign_per_class)


def test_a_seed_draws_the_task_images() -> None:
    """A seed changes which images each task learns from, not only the network (``draw="seeded"``)."""
    a, b, again = (_plan(POOLS, SMALL, seed).train for seed in (0, 1, 0))
    assert all(np.array_equal(x, y) for x, y in zip(a, again))
    assert not all(np.array_equal(x, y) for x, y in zip(a, b))
    first = dataclasses.replace(SMALL, draw="first")
    assert all(np.array_equal(x, y) for x, y in zip(_plan(POOLS, first, 0).train, _plan(POOLS, first, 1).train))


def test_a_protocol_stored_before_draw_existed_reads_as_first() -> None:
    stored = {k: v for k, v in SMALL.to_dict().items() if k != "draw"}
    assert cl.Protocol.from_dict(stored).draw == "first"
    assert cl.Protocol.from_dict(SMALL.to_dict()) == SMALL


def test_iid_reference_trains_on_the_same_images_shuffled(monkeypatch) -> None:
    """The i.i.d. reference learns the tasks' images shuffled; with ``every_task`` it is also scored as the
    continual run is after each task (a network that never forgets), its last row the reference's score, its
    first exactly 1 (with one class seen, every answer is that class)."""
    seen = _spy_on_training(monkeypatch)
    out = cl.run_iid(_config(), seed=1, protocol=SMALL, pools=POOLS, progress=False, every_task=True)
    plain = cl.run_iid(_config(), seed=1, protocol=SMALL, pools=POOLS, progress=False)
    for key in ("accuracy_on_tasks", "average_accuracy", "readout_average_accuracy", "unassigned_neurons"):
        assert out[key] == plain[key], key  # scoring the prefixes first leaves the reference's scores as they were
    images = seen[0]
    assert np.array_equal(seen[1], images)
    expected = np.concatenate([POOLS.learn_x[idx] for idx in _plan(POOLS, SMALL, 1).train])
    assert images.shape == expected.shape and not np.array_equal(images, expected)
    assert sorted(map(bytes, images)) == sorted(map(bytes, expected))
    assert out["train_samples"] == 45 and len(out["accuracy_on_tasks"]) == 3
    assert out["average_accuracy"] >= 0.5  # well above chance (1/3) on these three bar classes
    every = out["every_task"]
    matrix = cl_metrics.check_accuracy_matrix(every["accuracy_matrix"])
    assert matrix[0, 0] == 1.0
    np.testing.assert_array_equal(matrix[-1], out["accuracy_on_tasks"])
    assert every["bwt"] == pytest.approx(np.mean([matrix[-1, j] - matrix[j, j] for j in range(2)]))
    assert every["final_average_accuracy"] == pytest.approx(out["average_accuracy"])


def test_iid_every_task_on_a_stage_finished_without_it_is_refused() -> None:
    """A session whose i.i.d. stage finished without ``every_task`` kept no network to score again: asking for
    it then is a one-line error, not the stored result without the matrix; the stored result is returned as it
    was when ``every_task`` is off, or when it has the matrix."""
    from spikedyn.io.checkpoint import Session

    session = Session(None)
    session.complete("iid", {"average_accuracy": 0.5})
    with pytest.raises(ConfigError, match="finished without every_task"):
        cl.run_iid(_config(), protocol=SMALL, pools=POOLS, session=session, every_task=True)
    assert cl.run_iid(_config(), protocol=SMALL, pools=POOLS, session=session) == {"average_accuracy": 0.5}
    session.complete("iid", {"average_accuracy": 0.5, "every_task": {"bwt": 0.0}})
    assert cl.run_iid(_config(), protocol=SMALL, pools=POOLS, session=session, every_task=True)["every_task"]


def test_write_outputs_is_complete_and_atomic(small_run, tmp_path: Path, monkeypatch) -> None:
    import matplotlib

    out = tmp_path / "run"
    backend = matplotlib.get_backend()
    summary = cl.write_outputs(small_run, out, iid={"average_accuracy": 0.5}, extra={"command": "continual"})
    assert matplotlib.get_backend() == backend  # a notebook's inline figures keep working
    assert sorted(p.name for p in out.iterdir()) == [
        "accuracy_matrix.csv", "accuracy_matrix.png", "continual.json", "metrics.csv", "network",
        "receptive_fields.png", "task_accuracy.png", "tasks.csv", "weights_per_task.npz"]
    # the final network, a run directory that Network.load reads back as it was
    from spikedyn import Network

    net = Network.load(out / "network")
    assert np.array_equal(net.weights, small_run.network.weights) and net.samples_seen == small_run.network.samples_seen
    assert np.array_equal(net.assignments_, small_run.network.assignments_)
    assert oct((out / "network").stat().st_mode & 0o777) != oct(0o600)  # normal permissions, like any directory
    meta = json.loads((out / "network" / "run.json").read_text())
    assert meta["training"]["command"] == "continual" and meta["training"]["train_samples"] == sum(
        t.train_samples for t in small_run.tasks)
    # the metrics the JSON has, as CSV too
    metrics = dict(line.split(",") for line in (out / "metrics.csv").read_text().splitlines()[1:])
    assert float(metrics["final_average_accuracy"]) == pytest.approx(summary["final_average_accuracy"], abs=1e-6)
    assert float(metrics["iid_average_accuracy"]) == 0.5
    assert float(metrics["bwt"]) == pytest.approx(summary["bwt"], abs=1e-6)
    data = json.loads((out / "continual.json").read_text())
    assert data == json.loads(json.dumps(summary)) and data["iid"] == {"average_accuracy": 0.5}
    for key in ("accuracy_matrix", "new_task_accuracy", "old_task_accuracy", "final_average_accuracy", "bwt",
                "forgetting", "config", "seed", "spikedyn_version", "protocol", "cost"):
        assert key in data
    # every task trained and every evaluation counted
    assert data["cost"]["tally"]["train"]["samples"] == sum(t["train_samples"] for t in data["tasks"])
    assert data["cost"]["train_energy_uj"] > 0 and data["cost"]["infer_energy_uj"] > 0
    rows = (out / "accuracy_matrix.csv").read_text().splitlines()
    assert rows[0] == "after_task,task_0,task_1,task_2" and rows[1].endswith(",,")
    assert len((out / "tasks.csv").read_text().splitlines()) == 4
    with np.load(out / "weights_per_task.npz") as z:
        assert sorted(z.files) == ["task_0", "task_1", "task_2"]
    for name in ("accuracy_matrix.png", "task_accuracy.png", "receptive_fields.png"):
        assert_png(out / name)
    with pytest.raises(ConfigError, match="already exists"):
        cl.write_outputs(small_run, out)
    # A failure half-way leaves nothing behind.
    import spikedyn.plotting as plotting

    monkeypatch.setattr(plotting, "plot_receptive_fields_per_task", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        cl.write_outputs(small_run, tmp_path / "broken")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


# -- the rules -------------------------------------------------------------------------------------
def test_spikedyn_with_every_mechanism_off_is_lateral_bit_for_bit() -> None:
    images = bright_images(21, [150, 40, 220, 120, 200, 180])
    off = _config(spikedyn__adaptive_rate=False, spikedyn__adaptive_threshold=False, spikedyn__weight_decay=False,
                  spikedyn__skip_spurious=False)
    a, b = Network(off, seed=5), Network(off.replace(model="lateral"), seed=5)
    a.train(images, progress=False)
    b.train(images, progress=False)
    assert np.array_equal(a.weights, b.weights) and np.array_equal(a.theta, b.theta)
    # The same state, except that the SpikeDyn rule keeps counting each neuron's training spikes
    # (of every presentation, retries included, so at least those of each sample's last one).
    assert a._state.plasticity.activity.sum() >= sum(s.mean_spikes_per_sample * s.train_samples
                                                     for s in a.train_stats_) > 0
    b._state.plasticity.activity[:] = a._state.plasticity.activity
    assert_states_equal(a._state, b._state)
    assert a.update_counts() == b.update_counts()


def test_each_spikedyn_mechanism_acts() -> None:
    images = bright_images(22, [150, 40, 220, 120, 200, 180])
    strong = dict(spikedyn__rate_half_spikes=3.0, spikedyn__theta_hold=0.9, spikedyn__weight_decay=True,
                  spikedyn__decay_rate=0.3,
                  spikedyn__decay_below=1.0, spikedyn__min_update=2e-3)
    net = Network(_config(**strong), seed=6).fit(images)
    tr = net._state.plasticity
    assert np.all(tr.activity >= 0) and tr.activity.sum() > 0
    assert np.allclose(tr.rate, 1.0 / (1.0 + tr.activity / 3.0))  # adaptive rates follow the activity
    counts = net.update_counts()
    assert counts["potentiation_skipped"] > 0 and counts["depression_skipped"] > 0 and counts["decay"] > 0
    # Each mechanism, switched off alone, changes the outcome.
    for switch in ("adaptive_rate", "adaptive_threshold", "weight_decay", "skip_spurious"):
        other = Network(_config(**{**strong, f"spikedyn__{switch}": False}), seed=6).fit(images)
        assert not np.array_equal(other.weights, net.weights), switch


def test_asp_significance_tracks_correlation_and_the_leak_spares_it() -> None:
    images = bright_images(23, [200, 180, 220])
    net = Network(_config("asp", asp__beta=0.5, asp__leak_rate=0.2), seed=7).fit(images)
    s = net._state.plasticity.significance
    assert s.shape == (784, 15) and 0 < s.max() <= 1 and s.min() >= 0
    assert net.update_counts()["decay"] == 784 * 15 * sum(st.presentations for st in net.train_stats_)
    no_leak = Network(_config("asp", asp__beta=0.5, asp__leak_rate=0.0), seed=7).fit(images)
    lateral_like = Network(_config("diehl-cook"), seed=7).fit(images)
    assert np.array_equal(no_leak.weights, lateral_like.weights)  # without the leak, ASP is Diehl & Cook
    assert not np.array_equal(net.weights, no_leak.weights)


def test_adaptive_state_survives_save_and_load(tmp_path: Path) -> None:
    images = bright_images(24, [150, 200, 180])
    net = Network(_config(), seed=8).fit(images)
    back = Network.load(net.save(tmp_path / "run"))
    assert_states_equal(net._state, back._state)
    images2 = bright_images(25, [170, 160])
    net.partial_fit(images2)
    back.partial_fit(images2)
    assert np.array_equal(net.weights, back.weights) and np.array_equal(net.theta, back.theta)


# -- the command -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bars_dir(tmp_path_factory) -> Path:
    return make_digits_dir(tmp_path_factory.mktemp("bars"), n_train=200, n_test=100, seed=1)


def test_continual_command_writes_its_outputs(run_cli, bars_dir: Path, tmp_path: Path) -> None:
    out, js = tmp_path / "out", tmp_path / "summary.json"
    code, stdout, err = run_cli("continual", "--model", "spikedyn", "--neurons", "15", "--tasks", "0,1,2",
                                "--samples-per-task", "12", "--assign-per-class", "6", "--test-per-class", "6",
                                "--set", "timing.present_ms=100", "--set", "timing.rest_ms=50",
                                "--data-dir", bars_dir, "--out", out, "--json", js, "--quiet")
    assert code == 0, err
    data = json.loads(js.read_text())
    assert data["command"] == "continual" and data["model"] == "spikedyn" and data["neurons"] == 15
    assert len(data["accuracy_matrix"]) == 3 and data["old_task_accuracy"][0] is None
    assert {"bwt", "forgetting", "final_average_accuracy", "iid"} <= set(data)
    assert data["protocol"]["tasks"] == ["0", "1", "2"] and data["protocol"]["split"] == "test"
    assert "final average accuracy" in stdout and "i.i.d. reference" in stdout
    assert "under the other readouts" in stdout and "profile" in stdout and "logistic" in stdout
    assert set(data["readouts"]) == {"mean", "proportion", "profile", "logistic"}
    assert set(data["iid"]["readout_average_accuracy"]) == {"proportion", "profile", "logistic"}
    metrics = (out / "metrics.csv").read_text()
    assert "final_average_accuracy_profile_readout," in metrics and "bwt_logistic_readout," in metrics
    assert (out / "continual.json").is_file()


def test_continual_on_two_training_threads_is_the_same_run(run_cli, bars_dir: Path, tmp_path: Path) -> None:
    """``--jobs 2`` trains each task's network on two threads (and evaluates on two): the weights after
    every task, the accuracies and the counted operations are those of one thread."""
    from spikedyn import continual
    from spikedyn.config import NetworkConfig, TimingParams

    config = NetworkConfig(model="spikedyn", n_neurons=12, timing=TimingParams(present_ms=100.0, rest_ms=50.0))
    protocol = continual.Protocol(tasks=continual.parse_tasks("0,1"), samples_per_task=6, assign_per_class=4,
                                  test_per_class=4)
    pools = continual.load_pools(protocol.split, bars_dir, progress=False)
    one, two = (continual.run(config, seed=3, protocol=protocol, pools=pools, n_jobs=1, train_jobs=j, progress=False)
                for j in (1, 2))
    assert all(np.array_equal(a, b) for a, b in zip(one.weights_per_task, two.weights_per_task, strict=True))
    assert np.array_equal(one.accuracy_matrix, two.accuracy_matrix, equal_nan=True) and one.cost == two.cost
    code, _, err = run_cli("continual", "--model", "lateral", "--neurons", "10", "--tasks", "0,1",
                           "--samples-per-task", "4", "--assign-per-class", "4", "--test-per-class", "4", "--no-iid",
                           "--set", "timing.present_ms=100", "--set", "timing.rest_ms=50", "--jobs", "2",
                           "--data-dir", bars_dir, "--out", tmp_path / "out", "--quiet")
    assert code == 0, err


@pytest.mark.parametrize("args, fragment", [
    (["--tasks", "0,1,11"], "--tasks names class 11, but the data has classes 0-9"),
    (["--samples-per-task", "500"], "have only 20 images in the pool, fewer than 500"),
    (["--samples-per-task", "0"], "--samples-per-task: must be a positive integer, got 0"),
    (["--model", "nope"], "--model: invalid choice: 'nope'"),
    (["--jobs", "0"], "--jobs: must be a positive integer, got 0"),
    (["--jobs", "11", "--tasks", "0,1", "--samples-per-task", "4", "--assign-per-class", "4"],
     "--jobs 11 is more threads than the network's 10 neurons; give --jobs 10 or fewer"),
])
def test_continual_command_rejects_bad_input_and_writes_nothing(run_cli, bars_dir, tmp_path, args, fragment):
    out = tmp_path / "out"
    code, _, err = run_cli("continual", "--neurons", "10", "--data-dir", bars_dir, "--out", out, "--quiet", *args)
    assert_usage_error(code, err, fragment)
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kwargs, message", [
    ({"tasks": ((),)}, "is not a class"),
    ({"tasks": ((1,), (1,))}, "--tasks repeats class 1"),
    ({"tasks": ((11,),)}, "--tasks names class 11"),
    ({"tasks": ((1, 3),)}, r"task \(1, 3\) must be one class or a range of consecutive classes"),
])
def test_protocol_checks_tasks_built_in_python(kwargs, message) -> None:
    with pytest.raises(ConfigError, match=message):
        cl.Protocol(**kwargs)


def test_missing_images_are_found_before_training(monkeypatch) -> None:
    monkeypatch.setattr(Network, "train", lambda *a, **k: pytest.fail("trained before checking the data"))
    protocol = cl.Protocol(tasks=cl.parse_tasks("0,1"), samples_per_task=5, assign_per_class=3, test_per_class=11)
    with pytest.raises(ConfigError, match=r"test \(--test-per-class\): classes 0 have only 10 images"):
        cl.run(_config(), protocol=protocol, pools=POOLS, progress=False)


def test_mean_sd_refuses_what_it_cannot_read() -> None:
    with pytest.raises(ConfigError, match="mean_sd needs numbers or None"):
        cl_metrics.mean_sd(["x"])
