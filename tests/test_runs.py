"""Tests for spikedyn.io.runs: saving and loading runs, atomically, and resuming training exactly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import assert_states_equal, bright_images

import spikedyn
from spikedyn.config import InputParams, NetworkConfig
from spikedyn.core.encoding import STREAM_TEST
from spikedyn.errors import ConfigError, SpikedynError
from spikedyn.io.files import write_json, write_npy
from spikedyn.io.runs import FORMAT_VERSION, RUN_FILE, RunError, load_run, read_meta, save_run
from spikedyn.simulation.network import Network

CONFIG = NetworkConfig(model="diehl-cook", n_neurons=8, input=InputParams(max_presentations=3))
IMAGES = bright_images(0, [160] * 4)


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


@pytest.fixture
def trained_net() -> Network:
    net = Network(CONFIG, seed=17)
    net.train(IMAGES[:2], progress=False)
    return net


def test_round_trip(tmp_path: Path, trained_net: Network) -> None:
    run = save_run(tmp_path / "run", trained_net, extra={"training": {"note": "x"}})
    assert run == tmp_path / "run"
    assert sorted(p.name for p in run.iterdir()) == ["run.json", "state.npz", "theta.npy", "weights.npy"]
    assert leftovers(tmp_path) == []
    loaded, meta = load_run(run, Network)
    assert np.array_equal(loaded.weights, trained_net.weights) and loaded.weights.dtype == np.float64
    assert np.array_equal(loaded.theta, trained_net.theta)
    assert_states_equal(loaded._state, trained_net._state)
    assert loaded.config == trained_net.config
    assert loaded.seed == 17 and loaded.samples_seen == 2
    assert meta["format_version"] == FORMAT_VERSION
    assert meta["spikedyn_version"] == spikedyn.__version__
    assert meta["training"] == {"note": "x"}
    assert NetworkConfig.from_dict(meta["config"]) == CONFIG
    assert read_meta(run) == meta


def test_loaded_network_continues_bit_identically(tmp_path: Path) -> None:
    straight = Network(CONFIG, seed=17)
    straight.train(IMAGES, progress=False)

    first = Network(CONFIG, seed=17)
    first.train(IMAGES[:2], progress=False)
    save_run(tmp_path / "run", first)
    resumed, _ = load_run(tmp_path / "run", Network)
    resumed.train(IMAGES[2:], progress=False)

    assert not np.array_equal(first.weights, straight.weights)  # training went on
    assert np.array_equal(resumed.weights, straight.weights)
    assert np.array_equal(resumed.theta, straight.theta)
    assert_states_equal(resumed._state, straight._state)
    assert resumed.samples_seen == straight.samples_seen == 4
    # ... and answers the same.
    a = resumed.respond(IMAGES, stream=STREAM_TEST, n_jobs=1, progress=False)
    b = straight.respond(IMAGES, stream=STREAM_TEST, n_jobs=1, progress=False)
    assert np.array_equal(a, b)


def test_lateral_model_round_trip(tmp_path: Path) -> None:
    config = CONFIG.with_overrides(model="lateral")
    net = Network(config, seed=3)
    net.train(IMAGES[:1], progress=False)
    loaded, _ = load_run(save_run(tmp_path / "lateral", net), Network)
    assert loaded.config.model == "lateral"
    assert loaded._state.competition.v.shape == (0,)
    assert np.array_equal(loaded.weights, net.weights)


def test_save_into_empty_directory_is_allowed(tmp_path: Path, trained_net: Network) -> None:
    (tmp_path / "run").mkdir()
    save_run(tmp_path / "run", trained_net)
    assert (tmp_path / "run" / RUN_FILE).is_file()


def test_save_refuses_non_empty_directory(tmp_path: Path, trained_net: Network) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "keep.txt").write_text("precious")
    with pytest.raises(ConfigError, match="already exists"):
        save_run(run, trained_net)
    assert sorted(p.name for p in run.iterdir()) == ["keep.txt"]
    assert leftovers(tmp_path) == []
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="already exists"):
        save_run(tmp_path / "file", trained_net)


def test_failed_save_leaves_nothing(tmp_path: Path, trained_net: Network, monkeypatch) -> None:
    real_save = np.save
    calls = []

    def failing_save(file, arr, *args, **kwargs):
        calls.append(file)
        if len(calls) == 2:  # weights.npy is written, theta.npy fails
            raise OSError("disk full (simulated)")
        return real_save(file, arr, *args, **kwargs)

    monkeypatch.setattr(np, "save", failing_save)
    with pytest.raises(OSError, match="simulated"):
        save_run(tmp_path / "run", trained_net)
    assert len(calls) == 2
    assert list(tmp_path.iterdir()) == []  # neither the run nor its temporary directory


def test_failed_save_into_empty_directory_keeps_it_empty(tmp_path: Path, trained_net: Network, monkeypatch) -> None:
    (tmp_path / "run").mkdir()

    def failing_savez(*args, **kwargs):
        raise KeyboardInterrupt  # interrupted while writing the state

    monkeypatch.setattr(np, "savez", failing_savez)
    with pytest.raises(KeyboardInterrupt):
        save_run(tmp_path / "run", trained_net)
    assert [p.name for p in tmp_path.iterdir()] == ["run"]
    assert list((tmp_path / "run").iterdir()) == []


def test_atomic_writers_leave_no_partial_file(tmp_path: Path, monkeypatch) -> None:
    write_json(tmp_path / "a.json", {"x": 1})
    assert json.loads((tmp_path / "a.json").read_text()) == {"x": 1}
    write_npy(tmp_path / "w.npy", np.arange(3.0))
    assert np.array_equal(np.load(tmp_path / "w.npy"), np.arange(3.0))

    def failing_save(*args, **kwargs):
        raise OSError("simulated")

    monkeypatch.setattr(np, "save", failing_save)
    with pytest.raises(OSError, match="simulated"):
        write_npy(tmp_path / "w.npy", np.zeros(2))
    assert np.array_equal(np.load(tmp_path / "w.npy"), np.arange(3.0))  # old content intact
    assert leftovers(tmp_path) == []


# ----------------------------------------------------------------------------------------
# Loading broken runs
# ----------------------------------------------------------------------------------------
@pytest.fixture
def saved(tmp_path: Path, trained_net: Network) -> Path:
    return save_run(tmp_path / "run", trained_net)


def assert_run_error(path: Path, *fragments: str) -> RunError:
    with pytest.raises(RunError) as info:
        load_run(path, Network)
    assert isinstance(info.value, SpikedynError)
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message
    return info.value


def test_load_missing_directory(tmp_path: Path) -> None:
    assert_run_error(tmp_path / "nope", "does not exist")


def test_load_directory_without_run_json(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert_run_error(tmp_path / "empty", "not a spikedyn run")


def test_load_corrupt_run_json(saved: Path) -> None:
    (saved / RUN_FILE).write_text('{"format_version": 1, "config": ')
    assert_run_error(saved, "unreadable")


def test_load_other_format_version(saved: Path) -> None:
    meta = json.loads((saved / RUN_FILE).read_text())
    meta["format_version"] = FORMAT_VERSION + 1
    (saved / RUN_FILE).write_text(json.dumps(meta))
    assert_run_error(saved, "format")


def test_load_wrong_shape_weights(saved: Path) -> None:
    np.save(saved / "weights.npy", np.zeros((784, 9)))
    assert_run_error(saved, "weights", "(784, 8)")


def test_load_wrong_dtype_theta(saved: Path) -> None:
    np.save(saved / "theta.npy", np.zeros(8, np.float32))
    assert_run_error(saved, "theta")


def test_load_missing_weights(saved: Path) -> None:
    (saved / "weights.npy").unlink()
    assert_run_error(saved, "incomplete or corrupt")


def test_load_truncated_weights(saved: Path) -> None:
    data = (saved / "weights.npy").read_bytes()
    (saved / "weights.npy").write_bytes(data[: len(data) // 2])
    assert_run_error(saved, "incomplete or corrupt")


def test_load_state_missing_a_field(saved: Path) -> None:
    with np.load(saved / "state.npz") as z:
        state = {k: z[k] for k in z.files if k != "plasticity.last_pre"}
    np.savez(saved / "state.npz", **state)
    assert_run_error(saved, "incomplete or corrupt")


def test_load_state_with_wrong_shape(saved: Path) -> None:
    with np.load(saved / "state.npz") as z:
        state = {k: z[k] for k in z.files}
    state["exc.v"] = np.zeros(3)
    np.savez(saved / "state.npz", **state)
    assert_run_error(saved, "state.npz", "exc.v")


@pytest.mark.parametrize("content, fragments", [
    ("[]", ["holds a JSON array, not a run record"]),
    ("null", ["holds a JSON null, not a run record"]),
    ('{"format_version": 1}', ["lacks config, seed, samples_seen"]),
    ("null", ["not a run record"]),
])
def test_load_run_json_with_wrong_structure_raises_run_error(saved: Path, content: str, fragments) -> None:
    (saved / RUN_FILE).write_text(content)
    assert_run_error(saved, str(saved / RUN_FILE), *fragments, "retrain or restore the run")
