"""The registry of models: each model is a named composition of parts.

=============  ====================  ===========  ===========  ===========
model          competition           plasticity   threshold    between
=============  ====================  ===========  ===========  ===========
diehl-cook     inhibitory-layer      stdp         homeostatic  normalise
lateral        direct-lateral        stdp         homeostatic  normalise
=============  ====================  ===========  ===========  ===========

the continual-learning models

=============  ====================  =============  ===========  ===========
spikedyn       direct-lateral        stdp-spikedyn  spikedyn-     normalise
                                                   threshold
asp            inhibitory-layer      stdp-asp       homeostatic  normalise
=============  ====================  =============  ===========  ===========

(SpikeDyn's rule, :mod:`spikedyn.spikedyn_stdp`; ASP, :mod:`spikedyn.asp`), and the
variants ``lateral-no-depression`` (plasticity ``stdp-potentiation-only``,
the example of docs/model.md), ``diehl-cook-delays`` and ``lateral-delays``
(plasticity ``stdp-delayed``: the original's random input delays).

``NetworkConfig(model=...)``, the CLI's ``--model`` choices, the Numba network, the
Brian2 twin, ``validate``, ``bench``, runs on disk and the naive reference of the
tests all look models up here. Adding a model is one module with its new part(s)
(kernel record, hook implementations, Brian2 twin) and one :func:`register` line
below; see ``docs/model.md``, "How to add a model".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import ConfigError


@dataclass(frozen=True)
class Model:
    """A registered model: a name, a one-line description and its four parts."""

    name: str
    description: str
    competition: Any
    plasticity: Any
    threshold: Any
    between: Any

    @property
    def parts(self) -> dict[str, Any]:
        """The parts by kind."""
        return {"competition": self.competition, "plasticity": self.plasticity, "threshold": self.threshold,
                "between": self.between}

    def kernel_records(self, config, seed: int = 0) -> dict[str, Any]:
        """Each part's kernel record for ``config``, by kind.

        A part whose record depends on the network's seed (``needs_seed``, e.g. the
        random delays of :class:`spikedyn.delays.DelayedStdp`) receives it.
        """
        return {kind: part.record(config, seed) if getattr(part, "needs_seed", False) else part.record(config)
                for kind, part in self.parts.items()}


_REGISTRY: dict[str, Model] = {}


def register(model: Model) -> Model:
    """Add ``model`` to the registry; each part must be of the kind of its slot."""
    if model.name in _REGISTRY:
        raise ValueError(f"model {model.name!r} is already registered")
    for kind, part in model.parts.items():
        if getattr(part, "kind", None) != kind:
            raise ValueError(f"model {model.name!r}: {part!r} is not a {kind} part")
    _REGISTRY[model.name] = model
    return model


def get(name: str) -> Model:
    """The registered model called ``name``; a ConfigError lists the choices otherwise."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise ConfigError(f"unknown model {name!r}; choose one of {', '.join(names())}") from None


def names() -> tuple[str, ...]:
    """Names of the registered models, in registration order."""
    return tuple(_REGISTRY)


def _register_builtin() -> None:
    from .asp import Asp
    from .competition import DirectLateral, InhibitoryLayer
    from .delays import DelayedStdp
    from .plasticity import DiehlCookStdp, Normalisation
    from .potentiation_only import PotentiationOnly
    from .spikedyn_stdp import SpikeDynStdp, SpikeDynThreshold
    from .threshold import Homeostatic

    register(Model("diehl-cook", "inhibitory layer, STDP, homeostatic threshold (Diehl & Cook 2015)",
                   InhibitoryLayer(), DiehlCookStdp(), Homeostatic(), Normalisation()))
    register(Model("lateral", "direct lateral inhibition, STDP, homeostatic threshold (SpikeDyn)",
                   DirectLateral(), DiehlCookStdp(), Homeostatic(), Normalisation()))
    register(Model("spikedyn", "lateral with SpikeDyn's continual-learning rule: adaptive rates and threshold, "
                               "weight decay, no spurious updates", DirectLateral(), SpikeDynStdp(), SpikeDynThreshold(),
                   Normalisation()))
    register(Model("asp", "diehl-cook with ASP's significance-modulated weight leak (Panda et al. 2018)",
                   InhibitoryLayer(), Asp(), Homeostatic(), Normalisation()))
    register(Model("lateral-no-depression", "lateral, STDP without depression",
                   DirectLateral(), PotentiationOnly(), Homeostatic(), Normalisation()))
    register(Model("diehl-cook-delays", "diehl-cook with the original's random input delays (0-10 ms)",
                   InhibitoryLayer(), DelayedStdp(), Homeostatic(), Normalisation()))
    register(Model("lateral-delays", "lateral with random input delays (0-10 ms)",
                   DirectLateral(), DelayedStdp(), Homeostatic(), Normalisation()))


_register_builtin()
