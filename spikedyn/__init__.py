"""spikedyn: spiking neural networks that learn without labels, continually, within a budget.

The Python API (see the README for a worked example)::

    import spikedyn
    x, y = spikedyn.load_mnist("train", n=2000)
    net = spikedyn.Network(spikedyn.NetworkConfig(model="lateral", n_neurons=100), seed=0)
    net.fit(x[:1500]).assign(x[1500:], y[1500:])

=====================  ==========================================================
``NetworkConfig``      every parameter; ``replace(stdp__nu_post=0.02)``, TOML/JSON
``load_config``        a config from a ``.toml`` or ``.json`` file
``Network``            fit / partial_fit / assign / predict / score / respond / save / load
``load_mnist``         MNIST (or any MNIST-format directory) as uint8 arrays
``models``             the registry of models (``spikedyn.models.names()``)
``continual``          the class-incremental protocol (``spikedyn.continual.run``)
``cost``               memory and energy: ``estimate(config)``, ``counted(network)``
``plotting``           figures drawn into matplotlib Axes
=====================  ==========================================================

Names are imported on first use, so ``import spikedyn`` stays light.
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("spikedyn")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

from . import _kernel_cache

_kernel_cache.install()  # before any kernel module is imported

#: Public name -> module that defines it.
_EXPORTS = {
    "Network": "network",
    "Response": "network",
    "SpikeRecord": "network",
    "TrainStats": "network",
    "NetworkConfig": "config",
    "load_config": "config",
    "load_mnist": "data",
    "ConfigError": "errors",
    "DataError": "errors",
    "SpikedynError": "errors",
}
_SUBMODULES = ("models", "plotting", "readout", "encoding", "runs", "continual", "cost", "operations", "energy",
               "footprint")

__all__ = ["__version__", *_EXPORTS, *_SUBMODULES]


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    if name in _SUBMODULES:
        return import_module(f".{name}", __name__)
    raise AttributeError(f"module 'spikedyn' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
