"""Numba's on-disk cache of spikedyn's kernels, keyed by the hash of their sources.

Numba invalidates a cached function when *its own* file changes, but not when a
function it calls (or a rule it dispatches to) from another module changes: after
editing ``core/neurons.py``, the cached time loop in ``simulation/loop.py`` that inlines
the old neuron update would still be used. spikedyn's kernels call across modules, so
spikedyn gives Numba a cache locator of its own: every kernel of the package is
cached in a directory named after the SHA-256 of all the package's sources (every
``*.py`` file in every sub-package), ``spikedyn/__pycache__/kernels-<hash>/`` (or below
``NUMBA_CACHE_DIR`` when that is set, e.g. one per Dask worker; ``kernels-<hash>-opt1/`` for
kernels compiled with ``NUMBA_OPT=1``, as the test suite compiles them). A change to any source selects a new,
empty directory; nothing is ever deleted, so a process still loading the previous
version's files (a pytest-xdist or Dask worker) is never disturbed. Old directories
are a few megabytes each and can be removed by hand when no spikedyn process runs.

The locator is registered before any kernel module is imported
(:func:`install`, called by ``spikedyn/__init__.py``) and applies only to functions
defined in this package; every other Numba user in the process keeps Numba's own
locators. A kernel hook implemented outside the package (a model registered from a
script or a test) is inlined into the package's cached time loop but is not part of
the hash: after editing such an implementation, clear the cache directory.
"""

from __future__ import annotations

import functools
from pathlib import Path

from numba.core import caching, config

from .._version import package_digest

#: The ``spikedyn`` package directory (this module is in its ``core/``).
PACKAGE_DIR = Path(__file__).resolve().parent.parent


@functools.lru_cache(maxsize=None)
def sources_hash(package_dir: Path = PACKAGE_DIR) -> str:
    """SHA-256 over the relative paths and contents of every ``*.py`` file of the package,
    its sub-packages included (the kernels depend on the code alone)."""
    return package_digest((".py",), Path(package_dir))


def cache_dir(package_dir: Path = PACKAGE_DIR) -> Path:
    """Directory of this version's cached kernels (may not exist yet); kernels compiled at an LLVM
    level other than Numba's default (``NUMBA_OPT``, 3) are other code and get their own."""
    name = f"kernels-{sources_hash(package_dir)[:16]}"
    if int(config.OPT) != 3:
        name += f"-opt{int(config.OPT)}"
    if config.CACHE_DIR:
        return Path(config.CACHE_DIR) / "spikedyn" / name
    return Path(package_dir) / "__pycache__" / name


class SourceHashLocator(caching._SourceFileBackedLocatorMixin, caching._CacheLocator):
    """Numba cache locator for spikedyn's kernels: one directory per source hash."""

    def __init__(self, py_func, py_file, path: Path):
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno
        self._cache_path = str(path)

    def get_cache_path(self) -> str:
        return self._cache_path

    @classmethod
    def from_function(cls, py_func, py_file):
        try:
            inside = PACKAGE_DIR in Path(py_file).resolve().parents
        except OSError:
            return None
        if not inside:
            return None
        self = cls(py_func, py_file, cache_dir())
        try:
            self.ensure_cache_path()
        except OSError:  # read-only installation: fall through to Numba's own locators
            return None
        return self


def install() -> None:
    """Put :class:`SourceHashLocator` first in Numba's list of cache locators (once)."""
    locators = caching.CacheImpl._locator_classes
    if SourceHashLocator not in locators:
        locators.insert(0, SourceHashLocator)


def is_installed() -> bool:
    return SourceHashLocator in caching.CacheImpl._locator_classes


def is_cold(package_dir: Path = PACKAGE_DIR) -> bool:
    """Whether no kernel of this version of the sources is cached yet (its first run compiles
    them all, for tens of seconds): :func:`cache_dir` holds no Numba index file."""
    directory = cache_dir(package_dir)
    return not directory.is_dir() or not any(directory.glob("*.nbi"))


__all__ = ["SourceHashLocator", "cache_dir", "install", "is_cold", "is_installed", "sources_hash"]
