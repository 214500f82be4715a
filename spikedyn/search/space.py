"""What a model search searches: the space, the budget, the protocol, and the search as a file.

:class:`SearchSpace` (models x sizes x weight widths x a grid of config fields, on a base
config; a name of ``models`` is a registered STDP model or a candidate family of
:mod:`spikedyn.search.families`, such as ``converted-mlp``), :class:`Budget` (memory and energy bounds), :class:`SearchProtocol` (how each
candidate is trained and scored) and :class:`SearchSpec` (all of them and the energy
table, as a TOML or JSON file: :func:`load_spec`). :mod:`spikedyn.search.driver` runs a
search.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..config import INFINITY, NetworkConfig
from ..core.params import WEIGHT_BITS
from ..cost.tables import DEFAULT_TABLE
from ..errors import ConfigError, one_line, show
from ..io.files import read_text_file, toml_reader
from . import families

PROTOCOLS = ("standard", "continual")
DEFAULT_NEURONS = (100, 200, 400, 900, 1600)
#: The objectives: name and sense.
OBJECTIVES = (("accuracy", "max"), ("memory_kb", "min"), ("train_energy_uj", "min"), ("infer_energy_uj", "min"))
#: Budgets: the argument, the estimate's key, its unit.
BUDGETS = (("max_memory_kb", "memory_kb", "KB"), ("max_train_energy_uj", "train_energy_uj", "uJ"),
           ("max_infer_energy_uj", "infer_energy_uj", "uJ"))


def _positive_or_none(name: str, value) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{name} must be a positive number, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Budget:
    """Upper bounds on memory (KB) and on training and inference energy per sample (uJ); None: no bound."""

    max_memory_kb: float | None = None
    max_train_energy_uj: float | None = None
    max_infer_energy_uj: float | None = None

    def __post_init__(self):
        for name, _, _ in BUDGETS:
            object.__setattr__(self, name, _positive_or_none(name, getattr(self, name)))

    def violations(self, costs: Mapping[str, Any]) -> list[str]:
        """Each bound ``costs`` breaks, as ``"memory_kb 3091 > 3000 KB"``; an energy a table cannot
        price (None) breaks its bound."""
        out = []
        for name, key, unit in BUDGETS:
            bound, value = getattr(self, name), costs.get(key)
            if bound is None:
                continue
            if value is None:
                out.append(f"{key} unavailable on this energy table, bound {bound:g} {unit}")
            elif value > bound:
                out.append(f"{key} {value:.4g} > {bound:g} {unit}")
        return out


@dataclass(frozen=True)
class SearchProtocol:
    """How each candidate is trained and scored (see the module docstring)."""

    name: str = "standard"
    train_samples: int = 5000
    validation_samples: int = 2000
    samples_per_task: int = 1000
    seeds: tuple[int, ...] = (0,)

    def __post_init__(self):
        if self.name not in PROTOCOLS:
            raise ConfigError(f"protocol must be one of {', '.join(PROTOCOLS)}, got {self.name!r}")
        from ..io.splits import TRAIN_SAMPLES, VALIDATION_SAMPLES

        limits = {"train_samples": TRAIN_SAMPLES - VALIDATION_SAMPLES, "validation_samples": VALIDATION_SAMPLES,
                  "samples_per_task": 4000}
        for key, top in limits.items():
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 1 <= v <= top:
                raise ConfigError(f"{key} must be an integer in 1..{top}, got {v!r}")
        seeds = tuple(self.seeds)
        if not seeds or len(set(seeds)) != len(seeds) or any(
                isinstance(s, bool) or not isinstance(s, (int, np.integer)) or not 0 <= s < 2**63 for s in seeds):
            raise ConfigError(f"seeds must be distinct integers in [0, 2**63), got {list(self.seeds)}")
        object.__setattr__(self, "seeds", tuple(int(s) for s in seeds))

    def to_dict(self) -> dict[str, Any]:
        """The protocol as JSON holds it (the seeds a list)."""
        return {**asdict(self), "seeds": list(self.seeds)}

    def describe(self) -> str:
        if self.name == "standard":
            return (f"learn from training images 0-{self.train_samples - 1} in order, name the neurons from them, "
                    f"score on validation images 50,000-{50_000 + self.validation_samples - 1}; "
                    f"seeds {','.join(map(str, self.seeds))}")
        return (f"class-incremental, 10 one-class tasks, {self.samples_per_task} images each, validation split "
                f"(learn from training images 0-49,999, score on 50,000-59,999); final average accuracy; "
                f"seeds {','.join(map(str, self.seeds))}")


@dataclass(frozen=True)
class Candidate:
    """One point of the search space: a model, a size, a weight width and other config fields."""

    model: str
    neurons: int
    weight_bits: int
    overrides: tuple[tuple[str, Any], ...] = ()

    @property
    def id(self) -> str:
        extra = "".join(f"-{k.removeprefix(self.model + '.')}={v}" for k, v in self.overrides)
        return f"{self.model}-{self.neurons}-w{self.weight_bits}{extra}"

    def config(self, base: NetworkConfig) -> NetworkConfig:
        fields = {k.replace(".", "__"): v for k, v in self.overrides}
        return base.replace(model=self.model, n_neurons=self.neurons, precision__weight_bits=self.weight_bits,
                            **fields)


@dataclass(frozen=True)
class SearchSpace:
    """Models x sizes x weight widths x the ``grid`` of other config fields (``"section.field"`` -> values).

    ``weight_bits`` None (the default) is each model's own width: the base config's
    ``precision.weight_bits`` for the STDP models (the width ``spikedyn train`` simulates and
    ``spikedyn estimate`` prices unless told otherwise), and for a family that runs at fixed
    widths (:mod:`spikedyn.search.families`) that width, or its first. ``weight_bits`` then
    holds every width the search uses; :meth:`SearchSpec.to_dict` leaves it out, so that a
    search read back defaults the same way.
    """

    models: tuple[str, ...]
    neurons: tuple[int, ...] = DEFAULT_NEURONS
    weight_bits: tuple[int, ...] | None = None
    grid: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    base: NetworkConfig = field(default_factory=NetworkConfig)

    def __post_init__(self):
        object.__setattr__(self, "_default_bits", self.weight_bits is None)
        if self.weight_bits is None:
            widths = {self._own_bits(families.family_of(m)) for m in self.models} if self.models else set()
            object.__setattr__(self, "weight_bits", tuple(sorted(widths)) or (self.base.precision.weight_bits,))
        for name, values in (("models", self.models), ("neurons", self.neurons), ("weight_bits", self.weight_bits)):
            if not values or len(set(values)) != len(values):
                raise ConfigError(f"{name} must be a non-empty list without repeats, got {list(values)}")
        for b in self.weight_bits:
            if b not in WEIGHT_BITS:
                raise ConfigError(f"weight_bits must be among {', '.join(map(str, WEIGHT_BITS))}, got {b!r}")
        for n in self.neurons:
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
                raise ConfigError(f"neurons must be positive integers, got {n!r}")
        for key, values in self.grid:
            if not values:
                raise ConfigError(f"grid field {key} has no values")
        for m in self.models:
            family = families.family_of(m)  # a registered model or family, or an error now
            if family.weight_bits is not None and not set(family.weight_bits) & set(self.weight_bits):
                raise ConfigError(f"{m} runs with {', '.join(map(str, family.weight_bits))}-bit weights only; "
                                  f"add {family.weight_bits[0]} to weight_bits or drop {m}")
        used = {k for m in self.models for k in families.family_of(m).grid_keys(self.grid)}
        unused = [k for k, _ in self.grid if k not in used]
        if unused:
            raise ConfigError(f"grid field {unused[0]} belongs to no model of the search ({', '.join(self.models)})")
        for c in self.candidates():  # every candidate a valid config, or an error now
            families.family_of(c.model).config(c, self.base)

    def candidates(self) -> list[Candidate]:
        """Every model x size x weight width x the grid of the model's family (:mod:`spikedyn.search.families`:
        a family's grid keys are ``FAMILY.field``, the STDP models' ``section.field``; a family makes
        candidates only at the weight widths it runs)."""
        out = []
        for m in self.models:
            family = families.family_of(m)
            keys = family.grid_keys(self.grid)
            grid = dict(self.grid)
            combos = list(itertools.product(*[grid[k] for k in keys]))  # [()] without a grid
            bits = ([self._own_bits(family)] if self._default_bits
                    else [b for b in self.weight_bits if family.weight_bits is None or b in family.weight_bits])
            out += [Candidate(m, int(n), int(b), tuple(zip(keys, combo)))
                    for n in self.neurons for b in bits for combo in combos]
        return out

    def _own_bits(self, family) -> int:
        """A model's width when none is given: the base config's, unless its family runs at others."""
        own = self.base.precision.weight_bits
        return own if family.weight_bits is None or own in family.weight_bits else family.weight_bits[0]


def check_protocol(space: SearchSpace, protocol: SearchProtocol) -> None:
    """A ConfigError if a model of ``space`` cannot be trained and scored under ``protocol``."""
    for m in space.models:
        family = families.family_of(m)
        if protocol.name not in family.protocols:
            raise ConfigError(f"{m} is trained and scored under the {' or '.join(family.protocols)} protocol only, "
                              f"not {protocol.name!r}; drop it or choose --protocol {family.protocols[0]}")


#: Keys of a search file (TOML or JSON), and of ``OUT/search_spec.json``.
SPEC_KEYS = ("models", "neurons", "weight_bits", "grid", "budget", "protocol", "energy_table", "config")
SPEC_FILE = "search_spec.json"


@dataclass(frozen=True)
class SearchSpec:
    """A whole search: the space, the budget, the protocol and the energy table.

    Written as a file (``spikedyn search --spec FILE``, TOML or JSON)::

        models = ["spikedyn", "asp"]
        neurons = [100, 200, 400]
        weight_bits = [32, 8]          # optional, default: the config's precision.weight_bits
        energy_table = "horowitz-45nm" # optional
        [budget]                       # optional; any of the three bounds
        max_memory_kb = 3000
        [protocol]                     # optional; SearchProtocol's fields
        name = "standard"
        train_samples = 5000
        seeds = [0, 1, 2]
        [grid]                         # optional; other config fields to search over
        "timing.present_ms" = [250, 350]
        [config.stdp]                  # optional; the base network config (any sections)
        nu_post = 0.01
    """

    space: SearchSpace
    budget: Budget = field(default_factory=Budget)
    protocol: SearchProtocol = field(default_factory=SearchProtocol)
    energy_table: str = DEFAULT_TABLE

    def __post_init__(self):
        check_protocol(self.space, self.protocol)

    def to_dict(self) -> dict[str, Any]:
        sp = self.space
        return {"models": list(sp.models), "neurons": list(sp.neurons),
                **({} if sp._default_bits else {"weight_bits": list(sp.weight_bits)}),
                "grid": {k: [_plain(x) for x in v] for k, v in sp.grid},
                "budget": {k: v for k, v in asdict(self.budget).items() if v is not None},
                "protocol": self.protocol.to_dict(),
                "energy_table": str(self.energy_table), "config": sp.base.to_dict()}

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "search spec") -> "SearchSpec":
        """Check and build a spec; every problem is a one-line ConfigError naming ``source`` and the key."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"{source}: must hold a table of {', '.join(SPEC_KEYS)}, got {type(data).__name__}")
        unknown = sorted(set(map(str, data)) - set(SPEC_KEYS))
        if unknown:
            raise ConfigError(f"{source}: unknown key {unknown[0]!r}; the keys are {', '.join(SPEC_KEYS)}")
        if "models" not in data:
            raise ConfigError(f"{source}: 'models' is missing; give a list such as [\"spikedyn\", \"asp\"]")

        def items(key, kind, default):
            value = data.get(key, default)
            if not isinstance(value, (list, tuple)) or not value or not all(
                    isinstance(v, kind) and not isinstance(v, bool) for v in value):
                what = "strings" if kind is str else "integers"
                raise ConfigError(f"{source}: {key} must be a non-empty list of {what}, got {show(value)}")
            return tuple(value)

        def table(key, allowed):
            value = data.get(key, {})
            if not isinstance(value, Mapping):
                raise ConfigError(f"{source}: {key} must be a table, got {show(value)}")
            bad = sorted(set(map(str, value)) - set(allowed))
            if bad:
                raise ConfigError(f"{source}: unknown {key} key {bad[0]!r}; the keys are {', '.join(allowed)}")
            return dict(value)

        budget = table("budget", [name for name, _, _ in BUDGETS])
        protocol = table("protocol", [f.name for f in dataclasses.fields(SearchProtocol)])
        grid = table("grid", [str(k) for k in data.get("grid", {})] if isinstance(data.get("grid"), Mapping) else [])
        for key, values in grid.items():
            if not isinstance(values, (list, tuple)) or not values:
                raise ConfigError(f"{source}: grid {key} must be a non-empty list of values, got {show(values)}")
        if "seeds" in protocol:
            if not isinstance(protocol["seeds"], (list, tuple)):
                raise ConfigError(f"{source}: protocol.seeds must be a list of integers, got {show(protocol['seeds'])}")
            protocol["seeds"] = tuple(protocol["seeds"])
        table_name = data.get("energy_table", DEFAULT_TABLE)
        if not isinstance(table_name, str) or not table_name:
            raise ConfigError(f"{source}: energy_table must be a table's name or a .toml path, got {show(table_name)}")
        base = data.get("config", {})
        if not isinstance(base, Mapping):
            raise ConfigError(f"{source}: config must be a table of config sections, got {show(base)}")
        try:
            return cls(space=SearchSpace(models=items("models", str, None), neurons=items("neurons", int, DEFAULT_NEURONS),
                                         weight_bits=(items("weight_bits", int, None) if "weight_bits" in data
                                                      else None),
                                         grid=tuple((str(k), tuple(_unplain(x) for x in v)) for k, v in grid.items()),
                                         base=NetworkConfig.from_dict(base, source=f"{source} [config]")),
                       budget=Budget(**budget), protocol=SearchProtocol(**protocol), energy_table=table_name)
        except ConfigError as exc:
            message = str(exc)
            raise ConfigError(message if message.startswith(source) else f"{source}: {message}") from None
        except TypeError as exc:  # a value of a type the records cannot take
            raise ConfigError(f"{source}: {exc}") from None


def _plain(value: Any) -> Any:
    """A grid value as JSON can hold it: an infinite time constant is ``"inf"`` (as in configs)."""
    return INFINITY if isinstance(value, float) and value == math.inf else value


def _unplain(value: Any) -> Any:
    return math.inf if isinstance(value, str) and value == INFINITY else value


def load_spec(path: str | os.PathLike[str]) -> SearchSpec:
    """Read a search file, TOML (``.toml``) or JSON (``.json``); see :class:`SearchSpec`."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise ConfigError(f"search file {path} must end in .toml or .json, got {suffix or 'no suffix'!r}")
    text = read_text_file(path, "search file", suffix, "is not UTF-8 text; save it as UTF-8")
    try:
        if suffix == ".json":
            data = json.loads(text)
        else:
            data = toml_reader().loads(text)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and TOMLDecodeError are ValueErrors
        raise ConfigError(f"search file {path} is not valid {suffix[1:].upper()}: {one_line(exc)}; fix the "
                          "syntax") from None
    return SearchSpec.from_dict(data, source=f"search file {path}")

