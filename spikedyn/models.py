"""The registry of models: each model is a named composition of parts.

=============  ====================  ===========  ===========  ===========
model          competition           plasticity   threshold    between
=============  ====================  ===========  ===========  ===========
diehl-cook     inhibitory-layer      stdp         homeostatic  normalise
lateral        direct-lateral        stdp         homeostatic  normalise
=============  ====================  ===========  ===========  ===========

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

    def kernel_records(self, config) -> dict[str, Any]:
        """Each part's kernel record for ``config``, by kind."""
        return {kind: part.record(config) for kind, part in self.parts.items()}


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
    from .competition import DirectLateral, InhibitoryLayer
    from .plasticity import DiehlCookStdp, Normalisation
    from .potentiation_only import PotentiationOnly
    from .threshold import Homeostatic

    register(Model("diehl-cook", "inhibitory layer, STDP, homeostatic threshold (Diehl & Cook 2015)",
                   InhibitoryLayer(), DiehlCookStdp(), Homeostatic(), Normalisation()))
    register(Model("lateral", "direct lateral inhibition, STDP, homeostatic threshold (SpikeDyn)",
                   DirectLateral(), DiehlCookStdp(), Homeostatic(), Normalisation()))
    register(Model("lateral-no-depression", "lateral, STDP without depression",
                   DirectLateral(), PotentiationOnly(), Homeostatic(), Normalisation()))


_register_builtin()
