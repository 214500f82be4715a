"""spikedyn: spiking neural networks that learn without labels, continually, within a budget."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("spikedyn")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

from . import _kernel_cache

_kernel_cache.install()  # before any kernel module is imported

__all__ = ["__version__"]
