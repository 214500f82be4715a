"""The kernel cache is keyed by the hash of the package's sources; nothing is deleted."""

from __future__ import annotations

from pathlib import Path

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
