"""Keep Numba's on-disk cache of spikedyn's kernels consistent with their sources.

Numba invalidates a cached function when *its own* file changes, but not when a
function it calls from another module changes: after editing ``neurons.py``, the
cached ``network.py`` kernels that inline the old neuron update would still be used.
spikedyn's kernels call across modules, so on import the package hashes the sources
of every kernel module and, if the hash differs from the one stored beside the cache,
deletes spikedyn's cache files first. Costs one read of a few small files.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

#: Modules that define or inline Numba kernels.
KERNEL_MODULES = ("_numerics.py", "encoding.py", "neurons.py", "plasticity.py", "network.py")
_STAMP = "spikedyn-kernels.sha256"


def sources_hash(package_dir: Path) -> str:
    digest = hashlib.sha256()
    for name in KERNEL_MODULES:
        path = package_dir / name
        digest.update(name.encode())
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()


def refresh(package_dir: Path | None = None) -> bool:
    """Delete stale cache files in ``package_dir/__pycache__``; return whether any were stale.

    Does nothing (and returns False) where the cache directory cannot be written.
    """
    package_dir = Path(__file__).parent if package_dir is None else Path(package_dir)
    cache_dir = package_dir / "__pycache__"
    current = sources_hash(package_dir)
    stamp = cache_dir / _STAMP
    try:
        if stamp.exists() and stamp.read_text().strip() == current:
            return False
        cache_dir.mkdir(exist_ok=True)
        for pattern in ("*.nbi", "*.nbc"):
            for stale in cache_dir.glob(pattern):
                stale.unlink(missing_ok=True)
        tmp = cache_dir / f".{_STAMP}.tmp"
        tmp.write_text(current + "\n")
        tmp.replace(stamp)
    except OSError:  # read-only installation: Numba then uses its own cache location
        return False
    return True
