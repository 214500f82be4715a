"""The registry of models: each model is a named composition of four parts.

A part (see :mod:`spikedyn.core.parts`) is an object with a ``kind`` (its slot in a
:class:`Model`), a ``name``, a ``record(config)`` method that turns a config into its
kernel record, and optionally ``sections``: the parameter sections it reads beyond the
base ones, ``{"asp": AspParams}``, each a frozen dataclass (:mod:`spikedyn.core.params`).
The config (:mod:`spikedyn.config`) looks the declared sections up here whenever it
builds, checks or parses a config, so a model registered at run time brings its
sections with it. This module knows no part by name: the built-in models are
registered by :mod:`spikedyn.models` (its ``__init__``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ..core.params import BASE_SECTIONS, TOP_FIELDS, check_section_class
from ..core.parts import KINDS
from ..errors import ConfigError


@dataclass(frozen=True)
class Model:
    """A registered model: a name, a one-line description, its four parts and its defaults.

    ``defaults``: the model's own defaults of fields of any section, ``{"input":
    {"rate_hz_per_unit": 0.5}}``; every other field keeps its section's default. A config built
    for the model (``NetworkConfig(model=...)``) starts from them; a model with the parts of
    another and other defaults is that model's computation at another setting, and is priced
    as such (:meth:`reduced`)."""

    name: str
    description: str
    competition: Any
    plasticity: Any
    threshold: Any
    between: Any
    defaults: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, hash=False, compare=False)

    def default_record(self, section: str, cls: type) -> Any:
        """The record of section ``section`` (class ``cls``) of a config built for this model."""
        changes = self.defaults.get(section)
        return dataclasses.replace(cls(), **changes) if changes else cls()

    def matches_defaults(self, config) -> bool:
        """Whether every field this model sets a default of has that value in ``config``."""
        return all(getattr(getattr(config, section), name) == value
                   for section, changes in self.defaults.items() for name, value in changes.items())

    @property
    def parts(self) -> dict[str, Any]:
        """The parts by kind."""
        return {"competition": self.competition, "plasticity": self.plasticity, "threshold": self.threshold,
                "between": self.between}

    def reduced(self, config) -> str:
        """The registered model whose computation ``config`` is: the cost model prices a
        computation, never a name, and looks its statistics up by this.

        Each part names the part it reduces to for ``config`` (``part.reduces_to(config)``; by
        default its own name): ``spikedyn`` with its four mechanisms off is ``lateral``'s parts,
        ``asp`` without a leak ``diehl-cook``'s. Among the registered models with those parts,
        the one whose own defaults (:attr:`defaults`) ``config`` matches, the one with the most
        of them first (``lateral-fast`` at its defaults is ``lateral-fast``; at ``lateral``'s
        input rate it is ``lateral`` with a faster STDP, and ``lateral`` at ``lateral-fast``'s
        settings is ``lateral-fast``); this model's name if none matches.
        """
        names = {kind: part.reduces_to(config) if hasattr(part, "reduces_to") else part.name
                 for kind, part in self.parts.items()}
        same = [model for model in _REGISTRY.values()
                if all(model.parts[kind].name == names[kind] for kind in names)]
        matching = [model for model in same if model.matches_defaults(config)]
        if matching:
            return max(matching, key=lambda model: sum(map(len, model.defaults.values()))).name
        return self.name

    def kernel_records(self, config, seed: int = 0, neurons: tuple[int, int] | None = None) -> dict[str, Any]:
        """Each part's kernel record for ``config``, by kind.

        A part whose record depends on the network's seed (``needs_seed``, e.g. the
        random delays of :class:`spikedyn.models.delays.DelayedStdp`) receives it.
        ``neurons = (lo, hi)``: the records of the block of neurons ``lo..hi-1`` of a network
        simulated in blocks (:mod:`spikedyn.simulation.blocks`); a part whose record holds
        something per neuron (``block_record(record, config, seed, lo, hi)``) cuts it to the
        block, every other record is the network's.
        """
        records = {kind: part.record(config, seed) if getattr(part, "needs_seed", False) else part.record(config)
                   for kind, part in self.parts.items()}
        if neurons is not None:
            for kind, part in self.parts.items():
                if hasattr(part, "block_record"):
                    records[kind] = part.block_record(records[kind], config, seed, *neurons)
        return records


_REGISTRY: dict[str, Model] = {}


def register(model: Model) -> Model:
    """Add ``model`` to the registry; each part must be of the kind of its slot, and each
    section a part declares a valid section whose name no other section (base or declared
    by another registered part, with another class) has."""
    if model.name in _REGISTRY:
        raise ValueError(f"model {model.name!r} is already registered")
    for kind, part in model.parts.items():
        if getattr(part, "kind", None) != kind:
            raise ValueError(f"model {model.name!r}: {part!r} is not a {kind} part")
    known = {name: cls for _, name, cls in declared_sections()}
    for part in model.parts.values():
        for name, cls in getattr(part, "sections", {}).items():
            if not isinstance(name, str) or not name.isidentifier() or name in BASE_SECTIONS or name in TOP_FIELDS:
                raise ValueError(f"model {model.name!r}: {part.name!r} declares the section {name!r}; a section "
                                 f"name must be an identifier other than {', '.join([*TOP_FIELDS, *BASE_SECTIONS])}")
            if known.get(name, cls) is not cls:
                raise ValueError(f"model {model.name!r}: section {name!r} of {part.name!r} is "
                                 f"{cls.__name__}, but a registered part declares it as {known[name].__name__}")
            check_section_class(name, cls)
            known[name] = cls
    for section, changes in model.defaults.items():
        cls = BASE_SECTIONS.get(section, known.get(section))
        if cls is None or not isinstance(changes, Mapping):
            raise ValueError(f"model {model.name!r}: defaults name the section {section!r}; give a mapping of "
                             f"fields for one of {', '.join([*BASE_SECTIONS, *known])}")
        try:
            model.default_record(section, cls)
        except TypeError as exc:
            raise ValueError(f"model {model.name!r}: defaults of section {section!r}: {exc}") from None
    _REGISTRY[model.name] = model
    return model


def unregister(name: str) -> Model:
    """Remove the model ``name`` from the registry and return it (its sections go with it,
    unless another registered model's parts declare them too)."""
    try:
        return _REGISTRY.pop(name)
    except KeyError:
        raise ValueError(f"model {name!r} is not registered") from None


@contextmanager
def registered(model: Model) -> Iterator[Model]:
    """Register ``model`` for the duration of a ``with`` block (e.g. a test), then unregister it."""
    register(model)
    try:
        yield model
    finally:
        unregister(model.name)


def get(name: str) -> Model:
    """The registered model called ``name``; a ConfigError lists the choices otherwise."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise ConfigError(f"unknown model {name!r}; choose one of {', '.join(names())}") from None


def names() -> tuple[str, ...]:
    """Names of the registered models, in registration order."""
    return tuple(_REGISTRY)


def declared_sections() -> list[tuple[str, str, type]]:
    """``(kind, name, section class)`` of every section the registered parts declare, each
    once: by kind (in the order of :data:`~spikedyn.core.parts.KINDS`), then in the order
    the models were registered."""
    out: dict[str, tuple[str, str, type]] = {}
    for kind in KINDS:
        for model in _REGISTRY.values():
            for name, cls in getattr(model.parts[kind], "sections", {}).items():
                out.setdefault(name, (kind, name, cls))
    return list(out.values())
