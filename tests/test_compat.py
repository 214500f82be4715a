"""What spikedyn 0.1.0 (commit 7978f04, the flat layout) wrote still loads, and its import paths still work.

The fixtures in ``tests/data/7978f04/`` were written by that version (``make_fixtures.py``
there says how): two run directories, the checkpoint of an interrupted ``spikedyn train``,
a finished ``spikedyn search``, and in ``expected.npz`` what that version computed from
them. Here the current code loads each and must compute the same, bit for bit.

The old module paths (``spikedyn.network``, ``spikedyn.cl_metrics``, ...) import for one
version with a DeprecationWarning (:mod:`spikedyn._compat`); this is the one test module
that uses them.
"""

from __future__ import annotations

import importlib
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

import spikedyn
from spikedyn import _compat, cli
from spikedyn.io.data import load_mnist
from spikedyn.io.runs import load_run
from spikedyn.simulation.network import Network

from helpers import canonical_state_arrays

DATA = Path(__file__).resolve().parent / "data" / "7978f04"
EXPECTED = dict(np.load(DATA / "expected.npz"))


# -- files written by 0.1.0 -------------------------------------------------------------------------------
#: What 0.2.0 changed on purpose (CHANGELOG.md): SpikeDyn's rule skips an update by its trace factor,
#: relative to the neuron's rate (so a 0.1.0 ``spikedyn`` run continues under the new rule), and the
#: rules count as updates only those they make (``plasticity.updates`` counts fewer).
CHANGED_IN_0_2 = {"spikedyn": ("weights", "theta", "state"), "diehl-cook": ("plasticity.updates",)}


@pytest.mark.parametrize("model", ["spikedyn", "diehl-cook"])
def test_a_run_directory_of_0_1_0_loads_and_continues_bit_identically(model: str, digits_dir: Path) -> None:
    network, meta = load_run(DATA / f"run-{model}", Network)
    assert meta["spikedyn_version"] == "0.1.0" and network.config.model == model
    assert Network.load(DATA / f"run-{model}").config == network.config
    x, _ = load_mnist("train", digits_dir)
    xt, _ = load_mnist("test", digits_dir)
    assert np.array_equal(network.predict(xt, n_jobs=1), EXPECTED[f"{model}/predict"])  # inference is unchanged
    seen = network.samples_seen
    network.train(x[12:16], progress=False)
    changed = CHANGED_IN_0_2[model]
    if "weights" in changed:  # the rule itself changed: the run goes on under the new one
        assert network.samples_seen == seen + 4
        return
    assert np.array_equal(network.weights, EXPECTED[f"{model}/weights"])
    assert np.array_equal(network.theta, EXPECTED[f"{model}/theta"])
    expected = canonical_state_arrays({name: EXPECTED[f"{model}/state.{name}"] for name in network.state_arrays()})
    for name, array in network.state_arrays().items():  # the lists now saved in canonical form
        if name not in changed:
            assert np.array_equal(array, expected[name]), name


def test_a_checkpoint_of_0_1_0_is_refused_with_one_line(tmp_path: Path, digits_dir: Path, capsys) -> None:
    """A checkpoint promises a bit-identical continuation, which another version cannot keep."""
    out = tmp_path / "train"
    shutil.copytree(DATA / "train-interrupted", out)
    before = sorted(p.name for p in out.iterdir())
    assert cli.main(["train", "--resume", str(out), "--data-dir", str(digits_dir), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "0.1.0" in err[0] and spikedyn.__version__ in err[0]
    assert sorted(p.name for p in out.iterdir()) == before


def test_the_stored_results_of_a_0_1_0_search_are_not_reused(tmp_path: Path) -> None:
    """Results are reused only by the code that computed them (their source hash)."""
    from spikedyn.search.executors import stored_result

    out = tmp_path / "search"
    shutil.copytree(DATA / "search", out)
    stored = [json.loads(p.read_text()) for p in sorted((out / "candidates").glob("*.json"))]
    assert stored and all("source_hash" not in r for r in stored)
    assert all(stored_result(out / "candidates", r["task"]) is None for r in stored)


# -- import paths of 0.1.0 --------------------------------------------------------------------------------
@pytest.fixture
def fresh_old_modules():
    """Forget the old module objects, so that each test imports them (and is warned) afresh."""
    def forget():
        for name in _compat.MOVED:
            sys.modules.pop(name, None)
            vars(spikedyn).pop(name.rpartition(".")[2], None)  # the attribute an import of it set
    forget()
    yield
    forget()


@pytest.mark.parametrize("old", sorted(_compat.MOVED))
def test_every_old_module_imports_with_a_deprecation_warning(old: str, fresh_old_modules) -> None:
    with pytest.deprecated_call(match=f"{old} is deprecated: it moved to {_compat.new_home(old)}"):
        module = importlib.import_module(old)
    targets, renames = _compat.MOVED[old]
    for target in targets:  # every public name of the new homes is there under the old path
        new = importlib.import_module(target)
        for name in [n for n in vars(new) if not n.startswith("__") and n not in renames]:
            assert getattr(module, name) is getattr(new, name), (old, name)


def test_old_import_statements_work(fresh_old_modules) -> None:
    with pytest.deprecated_call():
        from spikedyn.cl_metrics import summarize
        from spikedyn.network import Network as OldNetwork, kernel_params, state_arrays
        from spikedyn.plasticity import UPDATE_KINDS, normalize_weights
        from spikedyn import runs
    from spikedyn.continual.metrics import summarize as new_summarize
    from spikedyn.core.traces import UPDATE_KINDS as new_kinds
    from spikedyn.models.stdp import normalize_weights as new_normalize
    from spikedyn.simulation.state import kernel_params as new_kernel_params, state_arrays as new_state_arrays

    assert (summarize, OldNetwork, kernel_params, state_arrays, UPDATE_KINDS, normalize_weights) == (
        new_summarize, Network, new_kernel_params, new_state_arrays, new_kinds, new_normalize)
    network, meta = runs.load_run(DATA / "run-spikedyn")  # 0.1.0's arguments
    assert isinstance(network, Network) and meta["format_version"] == 3
    assert runs.write_json is spikedyn.io.files.write_json


def test_an_old_attribute_of_the_package_warns(fresh_old_modules) -> None:
    with pytest.deprecated_call(match="spikedyn.encoding is deprecated: it moved to spikedyn.core.encoding"):
        assert spikedyn.encoding.STREAM_ASSIGN == 1
    assert "encoding" not in spikedyn.__all__ and "continual" in spikedyn.__all__


def test_part_sections_moved_out_of_the_config_module_warn() -> None:
    from spikedyn import config
    from spikedyn.models.asp import AspParams

    with pytest.deprecated_call(match="spikedyn.config.AspParams moved to spikedyn.models.asp.AspParams"):
        assert config.AspParams is AspParams
    with pytest.raises(AttributeError, match="no attribute 'NopeParams'"):
        config.NopeParams  # noqa: B018
