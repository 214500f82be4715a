"""Energy tables: the price of each operation, as data with its source.

Published SNN energy models disagree by orders of magnitude because each counts
different operations at different prices. spikedyn therefore keeps the *counts*
(what a model does) and the *prices* (what an operation costs on some hardware) apart:
a price list is an :class:`EnergyTable`, read from a TOML file. Every row names its
source and how the source obtained the figure:

``measured``
    measured on silicon;
``simulated``
    a pre-silicon or circuit-simulation estimate;
``all-in``
    one figure per event that already includes the neuron updates, memory and
    communication around it: nothing may be added on top.

Built-in tables (``spikedyn/energy_tables/``): ``horowitz-45nm`` (45 nm CMOS
arithmetic and memory, Horowitz, ISSCC 2014; the default), ``loihi`` (Davies et al.,
IEEE Micro 2018), ``truenorth`` (Merolla et al., Science 2014) and ``spinnaker2``
(Höppner et al., IEEE TCAS-I 2019). A user passes their own as a path.

File format::

    name = "my-chip"
    description = "..."
    source = "where the figures come from"

    [operations]
    synaptic_op = { energy_pj = 23.6, label = "simulated", source = "Table 1" }
    learning_update = { energy_pj = 120, label = "simulated", source = "Table 1" }

    [costs]   # how each operation spikedyn counts is made of the rows above
    synaptic_events_input = { synaptic_op = 1 }
    weight_updates_potentiation = { learning_update = 1 }
    weight_reads = {}                       # included in another row
    trace_updates = "unsupported"           # the chip cannot do it

``[costs]`` names every operation of :data:`spikedyn.cost.operations.OPERATIONS` (those of
:data:`~spikedyn.cost.operations.OPTIONAL_OPERATIONS`, which the layered networks do, and ``macs``
an STDP network's centre-surround filter, may be left out: such a table prices every other STDP
network and refuses, in one line, a count of an operation it lacks), as a sum of rows with
multiplicities, ``{}`` (included in another row's price, said in a comment), or ``"unsupported"``
(the chip cannot run that phase: its energy is reported as unavailable, with the reason). Two
symbolic rows adapt the price to the network: ``memory`` is one access to the memory that holds the
model, chosen from its footprint (:func:`memory_level`: SRAM of 8 KB, 32 KB or 1 MB, else DRAM) and scaled
from the table's 64-bit access to the weight width (``weight_bits / 64``); ``add_w``
is an addition at the weight precision (``add_fp32`` for floats, ``add_int32`` for
16-bit and ``add_int8`` for 8- and 4-bit fixed point: Horowitz has no 16-bit integer
row, so 16 bits are priced as 32).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from ..errors import ConfigError, key_name, one_line, show
from ..io.files import read_text_file, toml_reader

LABELS = ("measured", "simulated", "all-in")
TABLE_DIR = Path(__file__).resolve().parent / "energy_tables"
DEFAULT_TABLE = "horowitz-45nm"
_TABLE_KEYS = ("name", "description", "source", "operations")
_OPTIONAL_TABLE_KEYS = ("costs",)
UNSUPPORTED = "unsupported"
_ROW_KEYS = ("energy_pj", "label", "source")

#: Memory levels of the 45 nm table, smallest first: (operation, capacity in bytes).
MEMORY_LEVELS = (("read64_sram_8kb", 8 * 1024), ("read64_sram_32kb", 32 * 1024), ("read64_sram_1mb", 1024 * 1024))
DRAM = "read64_dram"
#: Additions at each weight width (bits -> row), for the symbolic row ``add_w``.
ADD_AT_BITS = {64: "add_fp32", 32: "add_fp32", 16: "add_int32", 8: "add_int8", 4: "add_int8"}
#: Symbolic rows of ``[costs]`` and the rows a table must price to use them.
SYMBOLS = {"memory": tuple(op for op, _ in MEMORY_LEVELS) + (DRAM,), "add_w": tuple(sorted(set(ADD_AT_BITS.values())))}


@dataclass(frozen=True)
class Price:
    """One operation's energy, with how and where it was obtained."""

    energy_pj: float
    label: str
    source: str


@dataclass(frozen=True)
class EnergyTable:
    """A named price list: operation name -> :class:`Price`, and ``costs``: how each operation
    spikedyn counts is made of them (``{row: multiplicity}``, or :data:`UNSUPPORTED`)."""

    name: str
    description: str
    source: str
    operations: Mapping[str, Price]
    costs: Mapping[str, Any] | None = None

    def energy_pj(self, operation: str) -> float:
        """The energy of one ``operation`` in pJ; a ConfigError names the table's operations otherwise."""
        try:
            return self.operations[operation].energy_pj
        except KeyError:
            raise ConfigError(f"energy table {self.name!r} has no operation {operation!r}; it prices: "
                              f"{', '.join(sorted(self.operations))}") from None

    def require(self, operations) -> None:
        """Raise a ConfigError listing every operation of ``operations`` the table does not price."""
        missing = sorted(set(operations) - set(self.operations))
        if missing:
            raise ConfigError(f"energy table {self.name!r} lacks {', '.join(missing)}; add them to its "
                              f"[operations] or choose another table")

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "source": self.source,
                "operations": {k: {"energy_pj": p.energy_pj, "label": p.label, "source": p.source}
                               for k, p in self.operations.items()},
                "costs": dict(self.costs) if self.costs is not None else None}

    def unit_energy_pj(self, operation: str, *, footprint_bytes: int, weight_bits: int) -> float | None:
        """Energy of one counted ``operation`` (:data:`spikedyn.cost.operations.OPERATIONS`) in pJ, for a
        model of ``footprint_bytes`` with ``weight_bits``-bit weights; None if the table marks it
        unsupported."""
        recipe = self._recipe(operation)
        if recipe == UNSUPPORTED:
            return None
        total = 0.0
        for row, times in recipe.items():
            if row == "memory":
                total += times * self.energy_pj(memory_level(footprint_bytes)) * weight_bits / 64
            elif row == "add_w":
                total += times * self.energy_pj(ADD_AT_BITS[weight_bits])
            else:
                total += times * self.energy_pj(row)
        return total

    def prices(self, operation: str) -> bool:
        """Whether ``[costs]`` says how ``operation`` is priced (a recipe, ``{}`` or unsupported)."""
        return self.costs is not None and operation in self.costs

    def _recipe(self, operation: str):
        if self.costs is None:
            raise ConfigError(f"energy table {self.name!r} has no [costs] section saying how spikedyn's operations "
                              "are priced; add one (see spikedyn.cost.tables)")
        try:
            return self.costs[operation]
        except KeyError:
            raise ConfigError(f"energy table {self.name!r}: [costs] does not price {operation!r}; add "
                              f"costs.{operation} (a sum of rows, {{}} if another row includes it, or "
                              f"{UNSUPPORTED!r})") from None


def builtin_tables() -> tuple[str, ...]:
    """Names of the tables shipped with spikedyn."""
    return tuple(sorted(p.stem for p in TABLE_DIR.glob("*.toml")))


def _text(where: str, key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: {key} must be a non-empty string, got {show(value)}")
    return value


def _amount(value: Any) -> bool:
    """Whether ``value`` is a finite number >= 0 (not a bool; an int too large for a float is not)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value) and value >= 0
    except OverflowError:
        return False


def _check_keys(where: str, data: Mapping[str, Any], keys: tuple[str, ...]) -> None:
    """Exactly the keys ``keys``: the first unknown one, or every missing one, is a ConfigError."""
    unknown = sorted(set(data) - set(keys), key=str)
    if unknown:
        raise ConfigError(f"{where}: unknown key {show(unknown[0])}; keys: {', '.join(keys)}")
    missing = [k for k in keys if k not in data]
    if missing:
        raise ConfigError(f"{where}: missing {', '.join(missing)}")


def parse_table(data: Mapping[str, Any], *, where: str = "energy table") -> EnergyTable:
    """An :class:`EnergyTable` from parsed TOML; every problem is a one-line ConfigError naming the field."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a table of name, description, source and [operations]")
    _check_keys(where, {k: v for k, v in data.items() if k not in _OPTIONAL_TABLE_KEYS}, _TABLE_KEYS)
    ops = data["operations"]
    if not isinstance(ops, Mapping) or not ops:
        raise ConfigError(f"{where}: [operations] must hold at least one operation")
    prices = {}
    for op, row in ops.items():
        at = f"{where}: operations.{key_name(op)}"
        if not isinstance(row, Mapping):
            raise ConfigError(f"{at} must be {{ energy_pj = ..., label = ..., source = ... }}, got {show(row)}")
        _check_keys(at, row, _ROW_KEYS)
        e = row["energy_pj"]
        if not _amount(e):
            raise ConfigError(f"{at}.energy_pj must be a finite number >= 0 (pJ), got {show(e)}")
        if row["label"] not in LABELS:
            raise ConfigError(f"{at}.label must be one of {', '.join(LABELS)}, got {show(row['label'])}")
        prices[str(op)] = Price(float(e), row["label"], _text(at, "source", row["source"]))
    costs = _parse_costs(where, data["costs"], prices) if "costs" in data else None
    return EnergyTable(_text(where, "name", data["name"]), _text(where, "description", data["description"]),
                       _text(where, "source", data["source"]), prices, costs)


def _parse_costs(where: str, costs: Any, prices: Mapping[str, Price]) -> dict[str, Any]:
    """The ``[costs]`` section: every operation spikedyn counts, each a valid recipe."""
    from .operations import OPERATIONS, OPTIONAL_OPERATIONS

    if not isinstance(costs, Mapping):
        raise ConfigError(f"{where}: [costs] must be a table of operation = {{ row = multiplicity, ... }}")
    # every operation but the optional ones (a table written before the layered networks lacks them)
    _check_keys(f"{where}: [costs]", {**{op: None for op in OPTIONAL_OPERATIONS}, **costs}, OPERATIONS)
    out: dict[str, Any] = {}
    for op, recipe in costs.items():
        at = f"{where}: costs.{op}"
        if recipe == UNSUPPORTED:
            out[op] = UNSUPPORTED
            continue
        if not isinstance(recipe, Mapping):
            raise ConfigError(f"{at} must be {{ row = multiplicity, ... }}, {{}} or {UNSUPPORTED!r}, got {show(recipe)}")
        for row, times in recipe.items():
            if row in SYMBOLS:
                lacking = [r for r in SYMBOLS[row] if r not in prices]
                if lacking:
                    raise ConfigError(f"{at}: the symbolic row {row!r} needs the table to price {', '.join(lacking)}")
            elif row not in prices:
                raise ConfigError(f"{at}: unknown row {row!r}; rows: {', '.join(sorted(prices))}, "
                                  f"or {', '.join(SYMBOLS)}")
            if not _amount(times):
                raise ConfigError(f"{at}.{key_name(row)} must be a finite number >= 0 (how many), got {show(times)}")
        out[op] = {str(r): float(x) for r, x in recipe.items()}
    return out


def load_energy_table(table: str | os.PathLike[str] = DEFAULT_TABLE) -> EnergyTable:
    """A built-in table by name (:func:`builtin_tables`) or a user's TOML file by path."""

    path = Path(table)
    if path.suffix.lower() != ".toml":
        if str(table) not in builtin_tables():
            raise ConfigError(f"unknown energy table {str(table)!r}; choose one of {', '.join(builtin_tables())} "
                              "or give a .toml file")
        path = TABLE_DIR / f"{table}.toml"
    text = read_text_file(path, "energy table", ".toml", "is not UTF-8 text; save it as UTF-8 TOML")
    tomllib = toml_reader()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"energy table {path} is not valid TOML: {one_line(exc)}; fix the syntax") from None
    except (ValueError, RecursionError) as exc:  # an integer of more than 4,300 digits, deep nesting
        raise ConfigError(f"energy table {path} is not valid TOML ({one_line(exc)}); fix the value") from None
    return parse_table(data, where=f"energy table {path}")


def memory_level(footprint_bytes: int) -> str:
    """The 45 nm table's memory-read operation for data of ``footprint_bytes``: the smallest SRAM
    that holds it (8 KB, 32 KB, 1 MB), else DRAM."""
    if isinstance(footprint_bytes, bool) or not isinstance(footprint_bytes, int) or footprint_bytes < 0:
        raise ConfigError(f"footprint_bytes must be an integer >= 0, got {footprint_bytes!r}")
    for op, capacity in MEMORY_LEVELS:
        if footprint_bytes <= capacity:
            return op
    return DRAM
