"""The experiment scripts: model selection never touches the test set; results are stored and reused."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import pytest

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"
sys.path.insert(0, str(EXPERIMENTS))



@pytest.fixture
def no_test_split(monkeypatch):
    """Loading the test split fails loudly; loading the training split is recorded."""
    import spikedyn.data

    real = spikedyn.data.load_mnist
    loaded = []

    def guarded(split, *args, **kwargs):
        if split != "train":
            raise AssertionError(f"model selection loaded the {split!r} split")
        loaded.append(split)
        return real(split, *args, **kwargs)

    monkeypatch.setattr(spikedyn.data, "load_mnist", guarded)
    runner = importlib.import_module("_runner")
    monkeypatch.setattr(runner, "_DATA", {})
    return loaded


@pytest.mark.mnist
def test_inhibition_sweep_never_loads_the_test_split(tmp_path, no_test_split, mnist_dir) -> None:
    sweep = importlib.import_module("inhibition_sweep")
    out = tmp_path / "sweep"
    selection = sweep.main(["--models", "lateral", "--neurons", "4", "--strengths", "20,40", "--seeds", "0",
                            "--learn-samples", "40", "--jobs", "1", "--out", str(out)])
    assert no_test_split == ["train"]
    assert selection["lateral"]["selected"] in (20.0, 40.0)
    runs = sorted(p.name for p in (out / "runs").iterdir())
    assert runs == ["lateral-4-20-seed0.json", "lateral-4-40-seed0.json"]
    record = json.loads((out / "runs" / runs[0]).read_text())
    assert record["learned_images"] == [0, 40] and record["validation_images"] == [50_000, 60_000]
    for name in ("table.csv", "table.md", "selection.json", "sweep.png"):
        assert (out / name).is_file()
    # Run again: every network is reused, none recomputed.
    before = {p: p.stat().st_mtime_ns for p in (out / "runs").iterdir()}
    sweep.main(["--models", "lateral", "--neurons", "4", "--strengths", "20,40", "--seeds", "0",
                "--learn-samples", "40", "--jobs", "1", "--out", str(out)])
    assert {p: p.stat().st_mtime_ns for p in (out / "runs").iterdir()} == before


def test_no_selection_code_reads_the_test_split() -> None:
    """A static check: the scripts that select parameters never name the test split."""
    for name in ("inhibition_sweep.py", "validation_sweep.py"):
        source = (EXPERIMENTS / name).read_text()
        assert 'mnist("test")' not in source and "load_mnist(\"test\"" not in source
        assert "STREAM_TEST" not in source or "validation images" in source.lower()
