"""The notebooks: each jupytext pair is in sync, committed without outputs, takes its input as a
parameter cell, and runs headless from any working directory, on the committed results or on a
user's own runs, without a warning in its output or a temporary directory left behind.

CI runs them with nbclient and ipykernel (the kernel JupyterLab itself starts) and ipywidgets;
JupyterLab (the ``[notebooks]`` extra, for a user who opens them) is the interface only, so the
``test`` extra leaves it out (``test_the_notebooks_extra_opens_them_in_jupyterlab``).
"""

from __future__ import annotations

import json
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
    (parameters,) = [c for c in ipynb.cells if "parameters" in c.metadata.get("tags", [])]
    assert "None" in parameters.source  # defaults to the committed results


def test_the_notebooks_extra_opens_them_in_jupyterlab() -> None:
    from spikedyn.io.files import toml_reader

    extras = toml_reader().loads((NOTEBOOKS.parent / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    names = {req.split(">")[0].split("=")[0].split("[")[0] for req in extras["notebooks"]}
    assert {"jupyterlab", "ipywidgets", "jupytext", "ipykernel"} <= names
    runner = {req.split(">")[0] for req in extras["test"]}
    assert {"nbclient", "nbformat", "ipykernel", "jupytext", "ipywidgets"} <= runner  # what CI runs them with


def execute(source: Path, cwd: Path, monkeypatch, *, tmpdir: Path | None = None, then: str | None = None,
            **parameters):
    """Run the notebook with its parameter cell replaced by ``parameters`` (when given), in ``cwd``;
    returns the executed notebook. ``tmpdir``: the kernel's TMPDIR (a private one, so that what
    other processes put in the machine's temporary directory meanwhile does not count); ``then``:
    code run after the last cell."""
    pytest.importorskip("nbclient")
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("SPIKEDYN_NOTEBOOK_QUICK", "1")
    if tmpdir is not None:
        tmpdir.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv("TMPDIR", str(tmpdir))  # the kernel, a new process, takes its temporaries there
    nb = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    if parameters:
        (cell,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        cell.source = "\n".join(f"{k} = {v!r}" for k, v in parameters.items())
    if then is not None:
        nb.cells.append(nbformat.v4.new_code_cell(then))
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


def check_outputs(nb) -> None:
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    stderr = [o.text for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    assert stderr == [], f"the notebook wrote to stderr (a warning?): {stderr}"
    assert not [o for o in outputs if "Warning" in json.dumps(o.get("data", {})) + o.get("text", "")]
    assert any(o.output_type == "display_data" and "image/png" in o.get("data", {}) for o in outputs), \
        "the notebook drew no figure"


@pytest.mark.mnist
@pytest.mark.parametrize("source", [p for p in SOURCES if p.stem != "search_fronts"], ids=lambda p: p.stem)
def test_notebook_runs_headless_from_any_directory(source: Path, tmp_path, monkeypatch) -> None:
    cwd, tmpdir = tmp_path / "cwd", tmp_path / "tmp"
    cwd.mkdir()
    nb = execute(source, cwd, monkeypatch, tmpdir=tmpdir)  # not notebooks/: paths do not depend on the directory
    check_outputs(nb)
    assert list(cwd.iterdir()) == []  # wrote nothing where it ran
    assert list(tmpdir.glob("spikedyn-*")) == []  # no temporary directory left


@pytest.mark.mnist
def test_the_search_notebook_runs_its_own_search_headless_and_cleans_up(tmp_path, monkeypatch) -> None:
    """The search notebook's one run (it trains; running it twice cost the suite half a minute): its
    own search, from another directory. Its reading of the committed search is the same code on
    another directory, checked below without running the notebook."""
    cwd, tmpdir = tmp_path / "cwd", tmp_path / "tmp"
    cwd.mkdir()
    nb = execute(NOTEBOOKS / "search_fronts.py", cwd, monkeypatch, tmpdir=tmpdir, then="print(search_dir)",
                 SEARCH=None, NEW_SEARCH=True, QUICK=True)
    check_outputs(nb)
    assert list(cwd.iterdir()) == []  # wrote nothing where it ran
    searched = Path(nb.cells[-1].outputs[0].text.strip())
    assert searched.parent == tmpdir and searched.name.startswith("spikedyn-search-")  # its own search ran there
    assert not searched.exists() and list(tmpdir.glob("spikedyn-search-*")) == []  # and was removed


def test_the_committed_search_the_notebook_reads_by_default_has_what_it_reads() -> None:
    import spikedyn

    result = json.loads((NOTEBOOKS.parent / "experiments" / "results" / "search" / "search.json").read_text())
    assert result["protocol"]["description"] and result["protocol"]["seeds"]
    chosen = [c for c in result["candidates"] if c["id"] == result["selected"]]
    assert len(chosen) == 1 and spikedyn.NetworkConfig.from_dict(chosen[0]["config"]).n_neurons > 0
    for c in result["candidates"]:
        if c["pruned"]:
            assert c["reason"] and c["estimate"]["memory_kb"] > 0
        else:
            assert {"accuracy", "memory_kb", "train_energy_uj", "infer_energy_uj", "on_front"} <= c.keys()


def test_the_continual_notebook_reads_a_users_runs(tmp_path, monkeypatch) -> None:
    from test_compare import write_runs

    write_runs(tmp_path / "mine", {("spikedyn", 0): 0.7, ("spikedyn", 1): 0.72, ("lateral", 0): 0.5,
                                   ("lateral", 1): 0.52})
    nb = execute(NOTEBOOKS / "continual_results.py", tmp_path, monkeypatch, RUNS=str(tmp_path / "mine"), ABLATION="")
    check_outputs(nb)
    text = json.dumps([o.get("data", {}).get("text/markdown", "") for c in nb.cells for o in c.get("outputs", [])])
    assert "`spikedyn` - `lateral`" in text and "| `lateral` | 20 | 2 |" in text
