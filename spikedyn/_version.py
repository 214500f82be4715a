"""spikedyn's version and the hash of the sources that run (a leaf: every module may import it).

``__version__`` comes from the installed package's metadata; :func:`source_hash` from the
installed files themselves, so it names the code that produced a result with or without
git: every JSON spikedyn writes carries both (:func:`provenance`), and ``spikedyn
--version`` prints them.
"""

from __future__ import annotations

import functools
import hashlib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

try:
    __version__ = version("spikedyn")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

#: The ``spikedyn`` package directory.
PACKAGE_DIR = Path(__file__).resolve().parent
#: Files whose content is the package's behaviour: its code and its package data.
SOURCE_SUFFIXES = (".py", ".toml", ".json")
#: Hex digits of :func:`source_hash` quoted in results.
SHORT = 12


def package_digest(suffixes: tuple[str, ...] = SOURCE_SUFFIXES, package_dir: Path = PACKAGE_DIR) -> str:
    """SHA-256 (hex) over the relative path and the content of every file of the package whose
    name ends in one of ``suffixes``, sub-packages included (caches excluded), in sorted order."""
    package_dir = Path(package_dir)
    digest = hashlib.sha256()
    for path in sorted(package_dir.rglob("*")):
        rel = path.relative_to(package_dir)
        if path.suffix in suffixes and path.is_file() and "__pycache__" not in rel.parts:
            digest.update(rel.as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def source_hash() -> str:
    """A short hash (:data:`SHORT` hex digits) of the installed package's sources and data."""
    return package_digest()[:SHORT]


def provenance() -> dict[str, str]:
    """``{"spikedyn_version": ..., "source_hash": ...}``: what every result records of the code."""
    return {"spikedyn_version": __version__, "source_hash": source_hash()}
