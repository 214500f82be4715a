"""The notebooks: each jupytext pair is in sync, committed without outputs, and runs headless."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SOURCES = sorted(NOTEBOOKS.glob("*.py"))


def test_every_notebook_has_its_pair() -> None:
    assert {p.stem for p in SOURCES} == {"search_fronts", "continual_results", "cost_model", "deep_families"}
    assert {p.stem for p in NOTEBOOKS.glob("*.ipynb")} == {p.stem for p in SOURCES}


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_pair_is_in_sync_and_has_no_outputs(source: Path) -> None:
    jupytext = pytest.importorskip("jupytext")
    import nbformat

    text = jupytext.read(source)
    ipynb = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    assert [(c.cell_type, c.source) for c in ipynb.cells] == [(c.cell_type, c.source) for c in text.cells], \
        f"{source.name} and its .ipynb differ: run jupytext --sync {source}"
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in ipynb.cells if c.cell_type == "code")


@pytest.mark.mnist
@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_notebook_runs_headless(source: Path, monkeypatch) -> None:
    pytest.importorskip("nbclient")
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("SPIKEDYN_NOTEBOOK_QUICK", "1")
    nb = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    assert any(o.output_type == "display_data" and "image/png" in o.get("data", {})
               for c in nb.cells for o in c.get("outputs", [])), "the notebook drew no figure"
