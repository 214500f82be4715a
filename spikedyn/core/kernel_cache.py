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
locators.

A kernel hook implemented outside the package (a model registered from a script or a test) is
inlined into the package's time loop, but its source is not part of the hash, and the cache's
index would name its module, which another process (a worker, the next run) may not be able to
import: Numba then fails to load the whole index of that kernel, for every model. So a kernel
specialised for a type defined outside the package, Numba, NumPy and the standard library is
compiled in each process and never saved (:func:`foreign_modules`); the package's own
specialisations of the same kernel are cached as before.
"""

from __future__ import annotations

import functools
import io
import pickle
import sys
import types
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


#: Top-level modules whose types a cached kernel's signature may name besides the package's own.
_LIBRARIES = ("numba", "numpy", "llvmlite")


class _ModuleCollector(pickle.Pickler):
    """Pickles into nothing and records the module of every class and function it meets."""

    def __init__(self):
        super().__init__(io.BytesIO(), protocol=pickle.HIGHEST_PROTOCOL)
        self.modules: set[str] = set()

    def persistent_id(self, obj):
        if isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType)):
            self.modules.add(str(getattr(obj, "__module__", None)))
            return "named"  # stored as a reference: found, and nothing to look up
        return None


def foreign_modules(signature) -> set[str]:
    """The modules, other than this package's, Numba's, NumPy's, llvmlite's and the standard
    library's, that a kernel signature (a tuple of Numba types) names when pickled: what the
    cache's index would need to import."""
    collector = _ModuleCollector()
    collector.dump(signature)
    ours = __name__.partition(".")[0]
    return {m for m in collector.modules
            if m.partition(".")[0] not in (ours, *_LIBRARIES) and m.partition(".")[0] not in sys.stdlib_module_names}


_numba_save_overload = caching.Cache._save_overload


def _save_overload(self, sig, data):
    """Numba's ``Cache._save_overload``, except that a kernel of this package specialised for a type
    defined elsewhere is not saved (the module docstring says why)."""
    if isinstance(self._impl.locator, SourceHashLocator) and foreign_modules(sig):
        return
    _numba_save_overload(self, sig, data)


def install() -> None:
    """Put :class:`SourceHashLocator` first in Numba's list of cache locators, and keep
    specialisations for types defined outside the package out of its directories (once)."""
    locators = caching.CacheImpl._locator_classes
    if SourceHashLocator not in locators:
        locators.insert(0, SourceHashLocator)
    caching.Cache._save_overload = _save_overload


def is_installed() -> bool:
    return SourceHashLocator in caching.CacheImpl._locator_classes and caching.Cache._save_overload is _save_overload


def is_cold(package_dir: Path = PACKAGE_DIR) -> bool:
    """Whether no kernel of this version of the sources is cached yet (its first run compiles
    them all, for tens of seconds): :func:`cache_dir` holds no Numba index file."""
    directory = cache_dir(package_dir)
    return not directory.is_dir() or not any(directory.glob("*.nbi"))


__all__ = ["SourceHashLocator", "cache_dir", "foreign_modules", "install", "is_cold", "is_installed", "sources_hash"]
