"""``spikedyn convert`` and ``spikedyn surrogate`` end to end at tiny sizes: the JSON keys the issue names,
the cost on the same tables as the STDP networks, help text for every option."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spikedyn.cli import build_parser

pytest.importorskip("jax")
pytestmark = pytest.mark.usefixtures("offline_env")


def _json(run_cli, tmp_path: Path, *argv) -> dict:
    code, out, err = run_cli(*argv, "--json", tmp_path / "out.json", "--quiet")
    assert code == 0, err
    return json.loads((tmp_path / "out.json").read_text())


def test_convert_mnist_keys(run_cli, tmp_path, digits_dir) -> None:
    r = _json(run_cli, tmp_path, "convert", "--task", "mnist", "--hidden", "16", "--timesteps", "20", "--epochs", "1",
              "--train-samples", "30", "--test-samples", "20", "--sweep", "5,10", "--data-dir", digits_dir)
    for key in ("ann_accuracy", "snn_accuracy", "decision_agreement", "timesteps", "readout", "source_hash"):
        assert key in r
    assert r["cost"]["infer_energy_uj"] > 0 and r["cost"]["ann_infer_energy_uj"] > 0
    assert set(r["by_timesteps"]) == {"5", "10", "20"} and r["timesteps"] == 20
    assert set(r["cost"]["by_table"]) == {"horowitz-45nm", "loihi", "spinnaker2", "truenorth"}
    assert set(r["cost"]["energy_uj_by_view"]) == {"model", "executed", "dense"}


def test_convert_cartpole_keys(run_cli, tmp_path) -> None:
    pytest.importorskip("gymnasium")
    r = _json(run_cli, tmp_path, "convert", "--task", "cartpole", "--hidden", "8", "--timesteps", "5",
              "--episodes", "1", "--max-steps", "600")
    for key in ("ann_return", "snn_return", "decision_agreement", "timesteps", "readout", "cost", "source_hash"):
        assert key in r
    assert r["cost"]["infer_energy_uj"] > 0 and 0 <= r["decision_agreement"] <= 1


def test_surrogate_keys(run_cli, tmp_path, digits_dir) -> None:
    r = _json(run_cli, tmp_path, "surrogate", "--task", "mnist", "--layers", "2", "--width", "8", "--timesteps", "3",
              "--train-samples", "30", "--test-samples", "20", "--energy-table", "loihi", "--data-dir", digits_dir)
    for key in ("accuracy", "layers", "timesteps", "source_hash"):
        assert key in r
    assert r["layers"] == 2 and r["cost"]["infer_energy_uj"] > 0 and r["cost"]["energy_table"] == "loihi"
    assert r["cost"]["train_energy_uj"] is None and r["cost"]["by_table"]["horowitz-45nm"]["train_energy_uj"] > 0
    assert r["numba_jax_agreement"] == 1.0


@pytest.mark.parametrize("command", ["convert", "surrogate"])
def test_every_option_has_help(command) -> None:
    sub = next(a for a in build_parser()._actions if a.dest == "command").choices[command]
    for action in sub._actions:
        assert action.help, f"{command} {action.option_strings} has no help"
