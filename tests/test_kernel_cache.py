"""The kernel cache is keyed by the hash of the package's sources; nothing is deleted."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numba.core import caching, config

from spikedyn.core import kernel_cache as _kernel_cache
from spikedyn.simulation import loop


@pytest.fixture
def package_cache(monkeypatch) -> None:
    """The cache in the package's own directory, whatever ``NUMBA_CACHE_DIR`` the environment sets."""
    monkeypatch.setattr(config, "CACHE_DIR", "")


def make_package(tmp_path: Path) -> Path:
    pkg = tmp_path / "pkg"
    for name in ("simulation/loop.py", "core/neurons.py", "core/traces.py"):
        (pkg / name).parent.mkdir(parents=True, exist_ok=True)
        (pkg / name).write_text(f"# {name}\n")
    return pkg


def test_any_source_change_selects_a_new_directory(tmp_path: Path, package_cache) -> None:
    pkg = make_package(tmp_path)
    before = _kernel_cache.cache_dir(pkg)
    assert _kernel_cache.cache_dir(pkg) == before  # stable for unchanged sources
    (pkg / "core/neurons.py").write_text("# neurons.py, edited\n")  # a callee of loop.py, in another sub-package
    _kernel_cache.sources_hash.cache_clear()
    after = _kernel_cache.cache_dir(pkg)
    assert after != before
    assert after.parent == before.parent == pkg / "__pycache__"


def test_old_cache_files_are_never_deleted(tmp_path: Path, package_cache) -> None:
    pkg = make_package(tmp_path)
    old = _kernel_cache.cache_dir(pkg)
    old.mkdir(parents=True)
    (old / "loop._run_steps-1.py311.nbi").write_bytes(b"compiled")
    (pkg / "simulation/loop.py").write_text("# loop.py, edited\n")
    _kernel_cache.sources_hash.cache_clear()
    assert _kernel_cache.cache_dir(pkg) != old
    assert (old / "loop._run_steps-1.py311.nbi").read_bytes() == b"compiled"


def test_spikedyn_kernels_use_the_locator_and_others_do_not() -> None:
    assert _kernel_cache.is_installed()
    assert caching.CacheImpl._locator_classes[0] is _kernel_cache.SourceHashLocator
    ours = _kernel_cache.SourceHashLocator.from_function(loop._run_steps.py_func, loop.__file__)
    assert ours is not None
    assert Path(ours.get_cache_path()) == _kernel_cache.cache_dir()

    def elsewhere():  # defined in tests/, not in the package
        return 1

    assert _kernel_cache.SourceHashLocator.from_function(elsewhere, __file__) is None


def test_numba_cache_dir_is_honoured(monkeypatch) -> None:
    monkeypatch.setattr(config, "CACHE_DIR", "/tmp/spikedyn-worker-cache")
    assert _kernel_cache.cache_dir().parent == Path("/tmp/spikedyn-worker-cache/spikedyn")


def test_kernels_compiled_at_another_llvm_level_have_their_own_directory(monkeypatch) -> None:
    monkeypatch.setattr(config, "OPT", 3)
    default = _kernel_cache.cache_dir()
    assert default.name == f"kernels-{_kernel_cache.sources_hash()[:16]}"
    monkeypatch.setattr(config, "OPT", 1)
    assert _kernel_cache.cache_dir() == default.with_name(default.name + "-opt1")


FOREIGN_MODULE = """
from typing import NamedTuple


class Foreign(NamedTuple):  # a record type of a model registered from outside the package
    a: float
    b: float
"""

FOREIGN_RUN = """
import sys
import numpy as np
import spikedyn
from spikedyn.simulation.state import _record_state
from foreign_records import Foreign

if sys.argv[1] == "unguarded":  # as Numba saves it, without the guard
    from numba.core import caching
    from spikedyn.core import kernel_cache
    caching.Cache._save_overload = kernel_cache._numba_save_overload

v, out_v, out_threshold = np.zeros(2), np.zeros((1, 2)), np.zeros((1, 2))
_record_state(v, np.array([1.0, 2.0]), -50.0, out_v, out_threshold, 0)  # the package's own types: cached
_record_state(v, Foreign(3.0, 4.0), -50.0, out_v, out_threshold, 0)  # a type from outside: compiled, not saved
assert out_threshold[0].tolist() == [-47.0, -46.0], out_threshold
"""

CACHED_RUN = """
import numpy as np
import spikedyn
from spikedyn.simulation.state import _record_state

out_threshold = np.zeros((1, 2))
_record_state(np.zeros(2), np.array([1.0, 2.0]), -50.0, np.zeros((1, 2)), out_threshold, 0)
assert out_threshold[0].tolist() == [-49.0, -48.0], out_threshold
print(sum(_record_state.stats.cache_hits.values()), sum(_record_state.stats.cache_misses.values()))
"""


def _index_overloads(path: Path) -> dict:
    with open(path, "rb") as f:
        pickle.load(f)  # Numba's version
        return pickle.loads(f.read())[1]


def test_foreign_modules_names_what_a_signature_would_import() -> None:
    import numba
    from typing import NamedTuple

    class Local(NamedTuple):
        a: float

    from spikedyn.simulation.state import Excitatory
    ours = numba.typeof(Excitatory(np.zeros(1), np.zeros(1), np.zeros(1), np.zeros(1, np.int64)))
    assert _kernel_cache.foreign_modules((ours, numba.float64, numba.float32[:, :])) == set()
    assert _kernel_cache.foreign_modules((ours, numba.typeof(Local(1.0)))) == {__name__}
    assert _kernel_cache.foreign_modules((numba.typeof(loop._run_steps),)) == set()  # a dispatcher of ours
    assert _kernel_cache.foreign_modules((numba.types.Omitted(os),)) == set()  # pickled as Numba would


@pytest.fixture
def foreign_env(tmp_path: Path) -> tuple[Path, dict, dict]:
    """The cache directory, and the environments of a process that can import the foreign record's
    module and of one that cannot (as a later run, a worker)."""
    (tmp_path / "mods").mkdir()
    (tmp_path / "mods" / "foreign_records.py").write_text(FOREIGN_MODULE)
    cache = tmp_path / "cache"  # not the working directory, where its spikedyn/ would shadow the package
    later = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    return cache, {**later, "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path / "mods"),
                                                                           os.environ.get("PYTHONPATH")]))}, later


def test_a_kernel_specialised_for_a_type_from_outside_the_package_is_not_saved(tmp_path: Path, foreign_env) -> None:
    """Its index would name a module the next process cannot import, and Numba would then fail to load
    the kernel's whole index (the package's own specialisations too); the next process loads them."""
    cache, first, later = foreign_env
    subprocess.run([sys.executable, "-c", FOREIGN_RUN, "guarded"], env=first, check=True, cwd=tmp_path)
    indexes = list(cache.rglob("state._record_state-*.nbi"))
    assert len(indexes) == 1
    overloads = _index_overloads(indexes[0])
    assert len(overloads) == 1
    assert all(_kernel_cache.foreign_modules(key[0]) == set() for key in overloads)
    done = subprocess.run([sys.executable, "-c", CACHED_RUN], env=later, check=True, cwd=tmp_path,
                          capture_output=True, text=True)
    assert tuple(map(int, done.stdout.split())) == (1, 0)  # loaded from the cache, not compiled


def test_an_index_naming_a_module_that_cannot_be_imported_is_compiled_again_and_rewritten(tmp_path: Path,
                                                                                          foreign_env) -> None:
    cache, first, later = foreign_env
    subprocess.run([sys.executable, "-c", FOREIGN_RUN, "unguarded"], env=first, check=True, cwd=tmp_path)
    index = next(cache.rglob("state._record_state-*.nbi"))
    assert b"foreign_records" in index.read_bytes()  # as an unguarded save leaves it
    done = subprocess.run([sys.executable, "-c", CACHED_RUN], env=later, check=True, cwd=tmp_path,
                          capture_output=True, text=True)
    assert tuple(map(int, done.stdout.split())) == (0, 1)  # compiled, instead of failing to import the module
    assert b"foreign_records" not in index.read_bytes() and len(_index_overloads(index)) == 1
