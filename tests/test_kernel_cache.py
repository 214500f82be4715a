"""The kernel cache is cleared when any kernel module changes."""

from __future__ import annotations

import shutil
from pathlib import Path

from spikedyn import _kernel_cache


def make_package(tmp_path: Path) -> Path:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    for name in _kernel_cache.KERNEL_MODULES:
        (pkg / name).write_text(f"# {name}\n")
    return pkg


def test_stale_cache_files_are_removed_when_a_callee_module_changes(tmp_path: Path) -> None:
    pkg = make_package(tmp_path)
    assert _kernel_cache.refresh(pkg) is True  # first time: no stamp yet
    cache = pkg / "__pycache__"
    for name in ("network._run_steps-1.py311.nbi", "network._run_steps-1.py311.1.nbc"):
        (cache / name).write_bytes(b"compiled")
    assert _kernel_cache.refresh(pkg) is False  # unchanged sources: cache kept
    assert len(list(cache.glob("*.nb?"))) == 2

    (pkg / "neurons.py").write_text("# neurons.py, edited\n")  # a callee of network.py
    assert _kernel_cache.refresh(pkg) is True
    assert list(cache.glob("*.nb?")) == []
    assert (cache / "spikedyn-kernels.sha256").read_text().strip() == _kernel_cache.sources_hash(pkg)


def test_read_only_cache_directory_is_left_alone(tmp_path: Path, monkeypatch) -> None:
    pkg = make_package(tmp_path)

    def refuse(*args, **kwargs):
        raise PermissionError("read-only")

    monkeypatch.setattr(Path, "mkdir", refuse)
    assert _kernel_cache.refresh(pkg) is False
    shutil.rmtree(pkg)
