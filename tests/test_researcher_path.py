"""The researcher's path (issue 24): from a finished run to the next step without reading the code.

A first run says it is compiling; resuming finishes the run as it was started; a continual run leaves a network the other
commands use; the config is printable and reads back; the defaults agree; every option
says what it does; a search with no candidate in the budget says what to relax; an
unreachable Dask scheduler is found before anything is written.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
from helpers import assert_png, assert_usage_error, entries, make_digits_dir

from spikedyn import Network, NetworkConfig
from spikedyn.cli import EXIT_NOTHING_FITS, build_parser
from spikedyn.cli.options import COMPILE_NOTICE, compile_kernels, explicit_options
from spikedyn.continual import DEFAULT_CONTINUAL_MODEL, DEFAULT_CONTINUAL_SET
from spikedyn.core import kernel_cache
from spikedyn.io import checkpoint, interrupt
from spikedyn.simulation import network as network_module

pytestmark = pytest.mark.usefixtures("offline_env")

#: A continual run small enough for the synthetic digits (3 training images per class).
CONTINUAL = ["continual", "--neurons", "6", "--tasks", "0,1,2", "--samples-per-task", "3", "--assign-per-class", "1",
             "--test-per-class", "2", "--no-iid"]


def walk(parser: argparse.ArgumentParser, name: str = "spikedyn"):
    """(command, action) of every argument of every (sub)command."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub, child in action.choices.items():
                yield from walk(child, f"{name} {sub}")
        else:
            yield name, action


def test_a_first_run_says_once_that_it_compiles_and_a_cached_run_says_nothing(monkeypatch, tmp_path,
                                                                               capsys) -> None:
    """Without kernels of this version in the cache, a command prints one line before it compiles
    (not a silent minute); with them, nothing. (warm_up is stubbed: what is tested is the notice.)"""
    directory = tmp_path / "kernels-0123"
    monkeypatch.setattr(kernel_cache, "cache_dir", lambda *args: directory)
    warmed = []
    monkeypatch.setattr(network_module, "warm_up", lambda config, *, learn, seed, n_jobs=1: warmed.append((config.model, learn))
                        or 0.0)
    configs = [NetworkConfig(), NetworkConfig(model="spikedyn")]
    assert kernel_cache.is_cold()
    compile_kernels(configs)
    assert capsys.readouterr().err == COMPILE_NOTICE + "\n"
    assert warmed == [("diehl-cook", True), ("diehl-cook", False), ("spikedyn", True), ("spikedyn", False)]
    directory.mkdir()
    (directory / "loop._run_steps-1.py311.nbi").write_bytes(b"index")
    assert not kernel_cache.is_cold()
    compile_kernels(configs, learn=(False,))
    assert capsys.readouterr().err == ""


def test_every_option_of_every_command_says_what_it_does() -> None:
    missing = [f"{command} {'/'.join(a.option_strings) or a.dest}" for command, a in walk(build_parser())
               if not a.help or a.help == argparse.SUPPRESS]
    assert missing == []
    commands = {command for command, _ in walk(build_parser())}
    assert {"spikedyn config", "spikedyn compare", "spikedyn continual", "spikedyn search"} <= commands


def test_an_option_given_at_its_default_value_counts_as_given() -> None:
    given = explicit_options(build_parser(), ["train", "--seed", "0", "--out", "x"])
    assert {"seed", "out"} <= given and "neurons" not in given and "train_samples" not in given
    assert "figure" in explicit_options(build_parser(), ["plot", "weights", "r", "-o", "w.png"])


def _train_checkpoint(directory: Path, seed: int = 5) -> Path:
    options = {"config": NetworkConfig(model="lateral", n_neurons=3).to_dict(), "seed": seed, "train_samples": 5,
               "epochs": 1}
    checkpoint.Checkpointer(directory, "train", options, json_path=directory.parent / "started.json").save({}, {})
    return directory


def test_resume_refuses_a_default_value_given_explicitly_and_accepts_the_same(run_cli, tmp_path) -> None:
    ck = _train_checkpoint(tmp_path / "ck")
    code, _, err = run_cli("train", "--resume", ck, "--seed", "0")  # 0 is the default; the run has seed 5
    assert_usage_error(code, err, "--resume continues the run as it was started (with --seed 5); drop --seed")
    # the same value is no change: it gets past the options, to the data (which is missing here)
    code, _, err = run_cli("train", "--resume", ck, "--seed", "5", "--data-dir", tmp_path / "absent")
    assert_usage_error(code, err, "does not exist")


def _stop_at_second_task(monkeypatch) -> None:
    """Ask the run to stop right after the checkpoint that opens task 2 (as Ctrl-C would)."""
    real = checkpoint.Session.save

    def save(self, stage, record, arrays):
        real(self, stage, record, arrays)
        if stage == "continual" and record.get("task") == 1 and record.get("phase") == "train":
            interrupt.request()

    monkeypatch.setattr(checkpoint.Session, "save", save)


def test_a_resumed_continual_run_writes_the_json_it_was_started_with(run_cli, tmp_path, digits_dir,
                                                                       monkeypatch) -> None:
    ref, out, j = tmp_path / "ref", tmp_path / "out", tmp_path / "j.json"
    assert run_cli(*CONTINUAL, "--data-dir", digits_dir, "--out", ref, "--json", tmp_path / "ref.json",
                   "--quiet")[0] == 0
    with monkeypatch.context() as m:
        _stop_at_second_task(m)
        code, _, err = run_cli(*CONTINUAL, "--data-dir", digits_dir, "--out", out, "--json", j, "--quiet")
    assert code == 130 and f"Resume with: spikedyn continual --resume {out}" in err
    assert entries(out) == ["checkpoint.npz"] and not j.exists()
    other = make_digits_dir(tmp_path / "other", seed=1)  # another dataset: the run is not continued on it
    code, _, err = run_cli("continual", "--resume", out, "--data-dir", other)
    assert code == 2 and "was started on dataset sha256:" in err and "pass the --data-dir" in err
    assert entries(out) == ["checkpoint.npz"]
    code, stdout, err = run_cli("continual", "--resume", out, "--data-dir", digits_dir)
    assert code == 0, err
    name = json.loads(j.read_text())["dataset"]
    assert f"3 tasks of dataset {name} in " in stdout  # the result's line names data other than MNIST
    assert err.splitlines()[0] == (f"spikedyn: resuming the continual run in {out} ({DEFAULT_CONTINUAL_MODEL}, 6 "
                                   "neurons, seed 0), stopped in task 2 of 3 after 0 of its 3 images")
    assert "task 2/3 (class 1)" in err and "task 1/3" not in err  # the bars start where the run stopped
    times = ("wall_seconds", "train_seconds", "eval_seconds", "compile_seconds", "out")

    def strip(d):
        if isinstance(d, dict):
            return {k: strip(v) for k, v in d.items() if k not in times}
        return [strip(x) for x in d] if isinstance(d, list) else d

    assert strip(json.loads(j.read_text())) == strip(json.loads((tmp_path / "ref.json").read_text()))
    assert json.loads(j.read_text())["dataset"].startswith("sha256:")  # the synthetic digits, named by content
    for name in ("weights.npy", "theta.npy", "assignments.npy"):
        assert np.array_equal(np.load(out / "network" / name), np.load(ref / "network" / name)), name


def test_the_progress_bar_of_a_resumed_stretch_counts_from_where_it_stopped(capsys) -> None:
    net = Network(NetworkConfig(model="lateral", n_neurons=3), seed=0)
    images = np.zeros((4, 784), np.uint8)
    net.train(images, progress=True, progress_start=5, desc="bar")
    err = capsys.readouterr().err
    assert "5/9" in err and "9/9" in err and "0/4" not in err


def test_a_continual_run_leaves_a_network_the_other_commands_use(run_cli, tmp_path, digits_dir) -> None:
    out = tmp_path / "c"
    code, stdout, _ = run_cli(*CONTINUAL, "--data-dir", digits_dir, "--out", out, "--quiet")
    assert code == 0 and f"the final network: {out / 'network'}" in stdout
    summary = json.loads((out / "continual.json").read_text())
    assert summary["model"] == DEFAULT_CONTINUAL_MODEL == "metaplastic"  # continual's default model: one constant
    net = Network.load(out / "network")
    assert net.config.model == DEFAULT_CONTINUAL_MODEL and net.samples_seen == 9 and net.assignments_ is not None
    # the overrides that come with the default model, and only with it
    assert DEFAULT_CONTINUAL_SET == ("input.rate_hz_per_unit=0.375", "metaplastic.capacity_budget=true",
                                     "metaplastic.recall_committed_only=true", "lateral.w_lateral=30")
    assert net.config.input.rate_hz_per_unit == 0.375 and net.config.metaplastic.capacity_budget
    assert net.config.metaplastic.recall_committed_only and net.config.lateral.w_lateral == 30.0
    code, _, err = run_cli(*CONTINUAL, "--model", "metaplastic", "--data-dir", digits_dir, "--out", tmp_path / "m",
                           "--quiet")
    assert code == 0, err
    plain = Network.load(tmp_path / "m" / "network").config
    assert plain.input.rate_hz_per_unit == 0.25 and not plain.metaplastic.capacity_budget  # the model's defaults
    assert plain.lateral.w_lateral == 40.0
    code, _, err = run_cli(*CONTINUAL, "--set", "input.rate_hz_per_unit=0.75", "--data-dir", digits_dir, "--out",
                           tmp_path / "s", "--quiet")
    assert code == 0, err
    assert Network.load(tmp_path / "s" / "network").config.input.rate_hz_per_unit == 0.75  # the user's --set wins
    code, stdout, err = run_cli("evaluate", out / "network", "--data-dir", digits_dir, "--quiet")
    assert code == 0, err
    assert "labels from the classes saved with the run (--assign-from stored)" in stdout
    evaluation = json.loads((out / "network" / "evaluation.json").read_text())
    assert evaluation["assign_from"] == "stored" and evaluation["n_assign"] == 0
    code, _, err = run_cli("evaluate", out / "network", "--assign-from", "learned", "--data-dir", digits_dir)
    assert_usage_error(code, err, "learned from images drawn task by task")
    code, _, err = run_cli("plot", "weights", out / "network", "-o", tmp_path / "w.png")
    assert code == 0, err
    assert_png(tmp_path / "w.png")
    code, _, err = run_cli("plot", "weights", out, "-o", tmp_path / "x.png")
    assert_usage_error(code, err, f"its trained network is {out / 'network'}")


def test_continual_run_from_python_prints_nothing_and_returns_the_network(tmp_path, digits_dir, capsys,
                                                                           caplog) -> None:
    import logging

    from spikedyn import continual

    pools = continual.load_pools("test", digits_dir)
    protocol = continual.Protocol(tasks=((0,), (1,)), samples_per_task=3, assign_per_class=1, test_per_class=2)
    seen = []
    with caplog.at_level(logging.INFO, logger="spikedyn.continual.protocol"):
        result = continual.run(NetworkConfig(model="spikedyn", n_neurons=6), protocol=protocol, pools=pools,
                               on_task=lambda i, record: seen.append((i, record.task)))
    assert capsys.readouterr() == ("", "")
    assert seen == [(0, "0"), (1, "1")]
    assert [r.getMessage().split(":")[0] for r in caplog.records] == ["task 0 (1 of 2)", "task 1 (2 of 2)"]
    assert isinstance(result.network, Network) and result.network.samples_seen == 6
    np.testing.assert_array_equal(result.network.weights.astype(np.float32), result.weights_per_task[-1])


def test_config_prints_a_file_that_config_reads_back_to_the_same_network(run_cli, tmp_path, digits_dir) -> None:
    code, stdout, _ = run_cli("config", "--model", "spikedyn", "--neurons", "5", "--set", "stdp.nu_post=0.02")
    assert code == 0
    (tmp_path / "c.toml").write_text(stdout)
    expected = NetworkConfig(model="spikedyn", n_neurons=5).replace(stdp__nu_post=0.02)
    assert NetworkConfig.load(tmp_path / "c.toml") == expected
    code, stdout, _ = run_cli("config", "--config", tmp_path / "c.toml", "--format", "json")
    assert NetworkConfig.from_json(stdout) == expected
    common = ["--train-samples", "6", "--data-dir", digits_dir, "--quiet"]
    assert run_cli("train", "--config", tmp_path / "c.toml", "--out", tmp_path / "a", *common)[0] == 0
    assert run_cli("train", "--model", "spikedyn", "--neurons", "5", "--set", "stdp.nu_post=0.02",
                   "--out", tmp_path / "b", *common)[0] == 0
    for name in ("weights.npy", "theta.npy"):
        assert np.array_equal(np.load(tmp_path / "a" / name), np.load(tmp_path / "b" / name)), name
    code, _, err = run_cli("config", "-o", tmp_path / "c.yaml")
    assert_usage_error(code, err, "must end in .toml or .json")


def test_estimate_and_search_price_the_same_width_by_default(run_cli, tmp_path) -> None:
    code, _, _ = run_cli("estimate", "--model", "lateral", "--neurons", "10", "--json", tmp_path / "e.json")
    width = json.loads((tmp_path / "e.json").read_text())["config"]["precision"]["weight_bits"]
    from spikedyn.cli.search import spec_from_args
    from spikedyn.search.space import SearchSpace

    assert SearchSpace(models=("lateral",)).weight_bits == (width,) == (NetworkConfig().precision.weight_bits,)
    spec = spec_from_args(build_parser().parse_args(["search", "--models", "lateral"]))
    assert spec.space.weight_bits == (width,)
    spec = spec_from_args(build_parser().parse_args(["search", "--models", "lateral", "--set",
                                                     "precision.weight_bits=8"]))
    assert spec.space.weight_bits == (8,)  # the config's width, wherever it comes from
    mixed = SearchSpace(models=("lateral", "converted-mlp"), neurons=(10,))  # a family at fixed widths keeps its own
    assert [c.id for c in mixed.candidates()] == [f"lateral-10-w{width}", "converted-mlp-10-w32"]


def test_bench_and_search_accept_both_spellings_of_the_models_option() -> None:
    parser = build_parser()
    for option in ("--model", "--models"):
        assert parser.parse_args(["bench", option, "lateral,asp", "--json", "b.json"]).model == ["lateral", "asp"]
        assert parser.parse_args(["search", option, "lateral,asp"]).models == ("lateral", "asp")


def test_a_search_with_every_candidate_over_budget_says_what_to_relax(run_cli, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli("search", "--models", "lateral,asp", "--neurons", "10,20", "--max-memory-kb", "1",
                             "--out", "s", "--json", "s.json")
    assert code == EXIT_NOTHING_FITS == 3 and out == ""
    (line,) = err.splitlines()
    assert line.startswith("spikedyn: all 4 candidates break the budget by their estimate, so nothing was trained")
    assert "--max-memory-kb 1 (the cheapest candidate needs" in line and "relax the budget" in line
    assert entries(tmp_path) == []
    # each bound is met by one candidate, never both by the same: the nearest miss is named
    from spikedyn.search.driver import BudgetTooTight, check_some_fit
    from spikedyn.search.space import Budget

    budget = Budget(max_memory_kb=100, max_train_energy_uj=10)
    records = [{"id": "small-slow", "pruned": True, "reason": "train_energy_uj 20 > 10 uJ",
                "estimate": {"memory_kb": 50, "train_energy_uj": 20, "infer_energy_uj": 1}},
               {"id": "big-fast", "pruned": True, "reason": "memory_kb 200 > 100 KB",
                "estimate": {"memory_kb": 200, "train_energy_uj": 5, "infer_energy_uj": 1}}]
    with pytest.raises(BudgetTooTight, match=r"no candidate meets them all at once \(nearest: small-slow, "
                                             r"train_energy_uj 20 > 10 uJ\)") as info:
        check_some_fit(records, budget)
    assert info.value.exit_status == 3
    check_some_fit([{**records[0], "pruned": False}, records[1]], budget)  # one fits: nothing to say


def test_an_unreachable_dask_scheduler_is_found_before_anything_is_written(run_cli, tmp_path, monkeypatch,
                                                                           dead_url) -> None:
    pytest.importorskip("distributed")
    monkeypatch.chdir(tmp_path)
    address = dead_url.replace("http://", "tcp://").rstrip("/")
    code, _, err = run_cli("search", "--models", "lateral", "--neurons", "10", "--executor", "dask", "--scheduler",
                           address, "--scheduler-timeout", "1", "--out", "s", "--json", "s.json")
    assert_usage_error(code, err, f"cannot reach the Dask scheduler at {address} within 1 s", "--scheduler-timeout")
    assert entries(tmp_path) == []
