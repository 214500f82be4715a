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
compiled in each process and never saved (:func:`foreign_modules`; in whatever cache Numba would
have put it, a read-only installation's fallback included; ``NUMBA_DEBUG_CACHE=1`` prints each save
skipped); the package's own specialisations of the same kernel are cached as before. An index of the
package's cache that cannot be loaded all the same (a case the guard missed) is read as empty: its
kernels are compiled again and the index rewritten.
"""

from __future__ import annotations

import functools
import io
import pickle
import sys
import types
from pathlib import Path

from numba.core import caching, config, serialize

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


class _ModuleCollector(serialize.NumbaPickler):
    """Pickles into nothing as Numba pickles a cache index (its own reductions included: a dispatcher
    or a jitclass type is pickled through them) and records the module of every class and function
    it meets."""

    def __init__(self):
        super().__init__(io.BytesIO(), protocol=pickle.HIGHEST_PROTOCOL)
        self.modules: set[str] = set()

    def persistent_id(self, obj):
        if isinstance(obj, (type, types.FunctionType)) or (
                isinstance(obj, types.BuiltinFunctionType) and isinstance(getattr(obj, "__self__", None),
                                                                          (types.ModuleType, type(None)))):
            self.modules.add(str(obj.__module__))
            return "named"  # stored as a reference: found, and nothing to look up
        return None  # (a bound built-in method is pickled on, into its object)


def foreign_modules(signature) -> set[str]:
    """The modules, other than this package's, Numba's, NumPy's, llvmlite's and the standard
    library's, that a kernel signature (a tuple of Numba types) names when pickled: what the
    cache's index would need to import. A signature that cannot be pickled names ``"<unpicklable>"``."""
    collector = _ModuleCollector()
    try:
        collector.dump(signature)
    except Exception:  # noqa: BLE001 - whatever the reason, an index could not hold it
        return {"<unpicklable>"}
    ours = __name__.partition(".")[0]
    return {m for m in collector.modules
            if m.partition(".")[0] not in (ours, *_LIBRARIES) and m.partition(".")[0] not in sys.stdlib_module_names}


def _in_package(py_func) -> bool:
    try:
        return PACKAGE_DIR in Path(py_func.__code__.co_filename).resolve().parents
    except (AttributeError, OSError):
        return False


_numba_save_overload = caching.Cache._save_overload
_numba_load_index = caching.IndexDataCacheFile._load_index


def _save_overload(self, sig, data):
    """Numba's ``Cache._save_overload``, except that a kernel of this package specialised for a type
    defined elsewhere is not saved, wherever its cache lives (the module docstring says why)."""
    if self._enabled and _in_package(self._py_func):
        foreign = foreign_modules(sig)
        if foreign:
            caching._cache_log("[cache] not saving %s: its signature names %s, outside spikedyn", self._name,
                               ", ".join(sorted(foreign)))
            return
    _numba_save_overload(self, sig, data)


def _load_index(self):
    """Numba's ``IndexDataCacheFile._load_index``; an index in this version's cache directory
    (:func:`cache_dir`) that cannot be unpickled (a case the guard above missed: it names a module this
    process cannot import) is read as empty, so the kernels are compiled and the index rewritten,
    instead of failing."""
    try:
        return _numba_load_index(self)
    except (ImportError, AttributeError, pickle.UnpicklingError, EOFError):
        if Path(self._index_path).parent != cache_dir():
            raise
        caching._cache_log("[cache] index %r cannot be loaded: compiled again", self._index_path)
        return {}


def install() -> None:
    """Put :class:`SourceHashLocator` first in Numba's list of cache locators, and keep
    specialisations for types defined outside the package out of the caches (once)."""
    locators = caching.CacheImpl._locator_classes
    if SourceHashLocator not in locators:
        locators.insert(0, SourceHashLocator)
    caching.Cache._save_overload = _save_overload
    caching.IndexDataCacheFile._load_index = _load_index


def is_installed() -> bool:
    return (SourceHashLocator in caching.CacheImpl._locator_classes and caching.Cache._save_overload is _save_overload
            and caching.IndexDataCacheFile._load_index is _load_index)


def is_cold(package_dir: Path = PACKAGE_DIR) -> bool:
    """Whether no kernel of this version of the sources is cached yet (its first run compiles
    them all, for tens of seconds): :func:`cache_dir` holds no Numba index file."""
    directory = cache_dir(package_dir)
    return not directory.is_dir() or not any(directory.glob("*.nbi"))


__all__ = ["SourceHashLocator", "cache_dir", "foreign_modules", "install", "is_cold", "is_installed", "sources_hash"]
