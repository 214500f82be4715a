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
``search``             the Pareto model search within a budget
``plotting``           figures drawn into matplotlib Axes
=====================  ==========================================================

The package, by concept (dependencies run one way, each only on those above it):

=====================  ==========================================================
``errors``             the exceptions, and their one-line messages
``core``               primitives: numerics, the parts protocol, base parameters,
                       encoding, neurons, traces, weight storage, readout
``io``                 files, MNIST, splits, run directories, checkpoints, signals
``models``             the registry, and one module per part family
``config``             ``NetworkConfig``: the base sections and the parts' sections
``cost``               operations, footprint, energy tables, the analytical model
``simulation``         the one time loop, its state, ``Network``
``continual``          the protocol, its metrics and outputs
``search``             the space, the Pareto front, executors, the search
``plotting``           figures
``reference``          the Brian2 twin, validation, benchmarks
``cli``                the ``spikedyn`` command
=====================  ==========================================================

Names are imported on first use, so ``import spikedyn`` stays light. The module paths
of spikedyn 0.1.0 (``spikedyn.network``, ``spikedyn.cl_metrics``, ...) still import,
with a DeprecationWarning, for one version (:mod:`spikedyn._compat`, ``CHANGELOG.md``).
"""

from importlib import import_module

from . import _compat
from ._version import __version__
from .core.kernel_cache import install as _install_kernel_cache

_install_kernel_cache()  # before any kernel module is imported
_compat.install()

#: Public name -> module that defines it.
_EXPORTS = {
    "Network": "simulation.network",
    "Response": "simulation.network",
    "SpikeRecord": "simulation.network",
    "TrainStats": "simulation.network",
    "NetworkConfig": "config",
    "load_config": "config",
    "load_mnist": "io.data",
    "ConfigError": "errors",
    "DataError": "errors",
    "SpikedynError": "errors",
}
_SUBMODULES = ("core", "io", "models", "config", "cost", "simulation", "continual", "search", "plotting",
               "reference")

__all__ = ["__version__", *_EXPORTS, *_SUBMODULES]


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    if name in _SUBMODULES or f"{__name__}.{name}" in _compat.MOVED:  # an old module: a DeprecationWarning
        return import_module(f".{name}", __name__)
    raise AttributeError(f"module 'spikedyn' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
