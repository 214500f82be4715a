"""The import paths of spikedyn 0.1.0's flat layout, kept working for one version with a DeprecationWarning.

``import spikedyn.cl_metrics``, ``from spikedyn.network import Network`` and the other
old paths are answered by a meta-path finder (:class:`AliasFinder`, installed by
``spikedyn/__init__.py``) instead of stub modules: an old module that became one new
module *is* that module (``spikedyn.cl_metrics is spikedyn.continual.metrics``); one
whose names went to several modules (``spikedyn.network``, ``spikedyn.plasticity``,
``spikedyn.runs``) is a module object that looks each name up in them, in order. The
few functions whose arguments changed (the loaders that now take the network class)
keep their old arguments here. ``CHANGELOG.md`` lists every move.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
import warnings
from pathlib import Path

#: Old module -> (its new modules, in the order their names are looked up; old name -> "module:name").
MOVED: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "spikedyn._numerics": (("spikedyn.core.numerics",), {}),
    "spikedyn._kernel_cache": (("spikedyn.core.kernel_cache",), {}),
    "spikedyn.parts": (("spikedyn.core.parts",), {}),
    "spikedyn.encoding": (("spikedyn.core.encoding",), {}),
    "spikedyn.neurons": (("spikedyn.core.neurons",), {}),
    "spikedyn.readout": (("spikedyn.core.readout",), {}),
    "spikedyn.quantise": (("spikedyn.core.quantise",), {}),
    "spikedyn.plasticity": (("spikedyn.core.traces", "spikedyn.models.stdp"), {}),
    "spikedyn.competition": (("spikedyn.models.competition",), {}),
    "spikedyn.threshold": (("spikedyn.models.threshold",), {}),
    "spikedyn.potentiation_only": (("spikedyn.models.no_depression",), {}),
    "spikedyn.delays": (("spikedyn.models.delays",), {}),
    "spikedyn.spikedyn_stdp": (("spikedyn.models.spikedyn",), {}),
    "spikedyn.asp": (("spikedyn.models.asp",), {}),
    "spikedyn.network": (("spikedyn.simulation.network", "spikedyn.simulation.state", "spikedyn.simulation.loop"),
                         {}),
    "spikedyn.operations": (("spikedyn.cost.operations",), {}),
    "spikedyn.footprint": (("spikedyn.cost.footprint",), {}),
    "spikedyn.energy": (("spikedyn.cost.tables",), {}),
    "spikedyn.cl_metrics": (("spikedyn.continual.metrics",), {}),
    "spikedyn.protocol": (("spikedyn.io.splits",), {}),
    "spikedyn.pareto": (("spikedyn.search.pareto",), {}),
    "spikedyn.executors": (("spikedyn.search.executors",), {}),
    "spikedyn.data": (("spikedyn.io.data",), {}),
    "spikedyn.files": (("spikedyn.io.files",), {}),
    "spikedyn.runs": (("spikedyn.io.runs", "spikedyn.io.files"), {"load_run": "spikedyn._compat:_load_run"}),
    "spikedyn.checkpoint": (("spikedyn.io.checkpoint",), {"restore_network": "spikedyn._compat:_restore_network",
                                                         "point_network": "spikedyn._compat:_point_network"}),
    "spikedyn.interrupt": (("spikedyn.io.interrupt",), {}),
    "spikedyn.brian2_reference": (("spikedyn.reference.brian2",), {}),
    "spikedyn.validation": (("spikedyn.reference.validate", "spikedyn.cli.reference"),
                            {"add_parser": "spikedyn.cli.reference:add_validate_parser"}),
    "spikedyn.bench": (("spikedyn.reference.bench", "spikedyn.cli.reference"),
                       {"add_parser": "spikedyn.cli.reference:add_bench_parser"}),
    "spikedyn.cli_options": (("spikedyn.cli.options",), {}),
}


def _load_run(run_dir):
    """``spikedyn.runs.load_run(run_dir)`` of 0.1.0: the new one takes the network class."""
    from .io.runs import load_run
    from .simulation.network import Network

    return load_run(run_dir, Network)


def _restore_network(record, arrays, prefix):
    """``spikedyn.checkpoint.restore_network`` of 0.1.0: the new one takes the network class."""
    from .io.checkpoint import restore_network
    from .simulation.network import Network

    return restore_network(record, arrays, prefix, Network)


def _point_network(record, arrays):
    """``spikedyn.checkpoint.point_network`` of 0.1.0: the new one takes the network class."""
    from .io.checkpoint import point_network
    from .simulation.network import Network

    return point_network(record, arrays, Network)


def _resolve(target: str):
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def new_home(old: str) -> str:
    """Where the old module ``old`` went, for messages: ``"spikedyn.continual.metrics"``."""
    return " and ".join(MOVED[old][0])


#: This module and the package's ``__init__`` (whose ``__getattr__`` imports an old module for ``spikedyn.X``).
_OWN_FILES = (__file__, str(Path(__file__).with_name("__init__.py")))


def _stacklevel() -> int:
    """The ``stacklevel`` of :func:`warnings.warn`, called from :class:`_Alias`, that names the first frame
    outside the import machinery and this package's own (``warnings`` itself skips importlib's bootstrap frames)."""
    frame, level = sys._getframe(2), 1
    while frame is not None:
        name = frame.f_code.co_filename
        bootstrap = "importlib" in name and "_bootstrap" in name
        if not bootstrap:
            level += 1
            if name not in _OWN_FILES and "importlib" not in name:
                return level
        frame = frame.f_back
    return level


class _Alias(importlib.abc.Loader):
    """Loads an old module: the one new module it became, or a module that looks names up in several."""

    def create_module(self, spec):
        targets, renames = MOVED[spec.name]
        warnings.warn(f"{spec.name} is deprecated: it moved to {new_home(spec.name)}; import from there (the old "
                      "path goes away in the next version, see CHANGELOG.md)", DeprecationWarning,
                      stacklevel=_stacklevel())
        if len(targets) == 1 and not renames:
            return importlib.import_module(targets[0])
        module = types.ModuleType(spec.name, f"Deprecated alias of {new_home(spec.name)}.")

        def __getattr__(name: str):
            if name in renames:
                return _resolve(renames[name])
            for target in targets:
                found = importlib.import_module(target)
                if hasattr(found, name):
                    return getattr(found, name)
            raise AttributeError(f"module {spec.name!r} has no attribute {name!r} (it moved to "
                                 f"{new_home(spec.name)})")

        def __dir__() -> list[str]:
            return sorted({*renames, *(n for t in targets for n in dir(importlib.import_module(t)))})

        module.__getattr__ = __getattr__
        module.__dir__ = __dir__
        return module

    def exec_module(self, module) -> None:
        """Nothing to run: the module is the new one, or looks its names up there."""


class AliasFinder(importlib.abc.MetaPathFinder):
    """Finds the old module paths of :data:`MOVED`."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, _Alias())


def install() -> None:
    """Put an :class:`AliasFinder` on ``sys.meta_path`` (once)."""
    if not any(isinstance(f, AliasFinder) for f in sys.meta_path):
        sys.meta_path.append(AliasFinder())
