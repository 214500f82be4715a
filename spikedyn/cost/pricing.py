"""Memory and energy of a network: operations per sample priced on an energy table.

Three pieces, each in its own module, meet here:

- :mod:`spikedyn.cost.footprint`: bytes of every array a model stores, from the config;
- :mod:`spikedyn.cost.operations`: the operations a model does per sample, derived from a
  *tally* of a few primitives (steps, input and output spikes, weight updates, ...),
  counted by the kernels or predicted by :mod:`spikedyn.cost.activity`;
- :mod:`spikedyn.cost.tables`: what each operation costs on some hardware (a table).

Energy is operations x prices (:func:`energy`); :func:`estimate` prices the analytical
tally of a config before it is trained, :func:`counted` the tally a network counted.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Mapping

from ..errors import ConfigError
from .activity import _check_statistics, activity_for, input_pixel_sum, load_statistics, predict_tally
from .footprint import footprint_bytes, layered_footprint_bytes
from .operations import OPERATIONS, OPTIONAL_OPERATIONS, PHASES, VIEWS, derive
from .tables import DEFAULT_TABLE, EnergyTable, builtin_tables, load_energy_table


def energy(ops_per_sample: Mapping[str, Mapping[str, float]], table: EnergyTable, *, footprint: int,
           weight_bits: int, view: str = "model") -> dict[str, Any]:
    """Energy of one sample: ``{"total_uj": float or None, "breakdown_uj": {operation: uJ},
    "unsupported": [operations the table cannot run]}`` from operations per sample
    (:func:`spikedyn.cost.operations.derive`), priced by ``table``; ``view`` chooses the model
    or executed operations."""
    breakdown: dict[str, float] = {}
    unsupported = []
    for op in OPERATIONS:
        entry = ops_per_sample.get(op)
        count = 0.0 if entry is None else float(entry[view])
        if count == 0 and op in OPTIONAL_OPERATIONS and not table.prices(op):
            continue  # a table without the layered networks' rows still prices the STDP networks
        unit = table.unit_energy_pj(op, footprint_bytes=footprint, weight_bits=weight_bits)
        if unit is None:
            if count > 0:
                unsupported.append(op)
            continue
        breakdown[op] = count * unit * 1e-6
    total = None if unsupported else sum(breakdown.values())
    return {"total_uj": total, "breakdown_uj": breakdown, "unsupported": unsupported}


def _table(table: str | EnergyTable) -> EnergyTable:
    return table if isinstance(table, EnergyTable) else load_energy_table(table)


def price(config, tallies: Mapping[str, Mapping[str, float]], *,
          table: str | EnergyTable = DEFAULT_TABLE) -> dict[str, Any]:
    """Memory and energy of ``config`` (weights at ``config.precision.weight_bits``) from a tally
    per phase (counted or predicted): the operations per sample and the energy of each phase, on
    ``table``: ``train_energy_uj`` and ``infer_energy_uj`` in the model view (what the search
    prunes with), ``energy_uj_by_view`` in every view of :data:`~spikedyn.cost.operations.VIEWS`."""
    tb = _table(table)
    weight_bits = config.precision.weight_bits
    fp = footprint_bytes(config)
    out: dict[str, Any] = {"model": config.model, "neurons": config.n_neurons, "weight_bits": weight_bits,
                           "energy_table": tb.name, "memory_kb": fp["total"] / 1024, "footprint_bytes": fp}
    for phase, tally in tallies.items():
        _price_phase(out, phase, derive(config, tally, phase), tb, fp["total"], weight_bits)
    return out


def _price_phase(out: dict[str, Any], phase: str, ops: Mapping[str, Mapping[str, float]], tb: EnergyTable,
                 footprint: int, weight_bits: int) -> None:
    """Add one phase's operations and their energy in every view to a cost record ``out``."""
    key = "train" if phase == "train" else "infer"
    for view in VIEWS:
        e = energy(ops, tb, footprint=footprint, weight_bits=weight_bits, view=view)
        out.setdefault("energy_uj_by_view", {}).setdefault(view, {})[key] = e["total_uj"]
        if view == "model":
            out[f"{key}_energy_uj"] = e["total_uj"]
            out[f"{key}_unsupported"] = e["unsupported"]
            out.setdefault("breakdown", {})[phase] = e["breakdown_uj"]
    out.setdefault("operations", {})[phase] = ops


def estimate(config, *, table: str | EnergyTable = DEFAULT_TABLE,
             statistics: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The analytical estimate of ``config`` before any training: memory (KB), training and
    inference energy per sample (uJ) on ``table`` with weights at ``config.precision.weight_bits``,
    the breakdown by operation, and the activity statistics it assumed. What ``spikedyn estimate``
    prints and the search prunes with."""
    stats = load_statistics() if statistics is None else _check_statistics(statistics, "activity statistics")
    activities = {phase: activity_for(config, phase, stats) for phase in PHASES}
    pixel_sum = input_pixel_sum(config, stats)
    tallies = {phase: predict_tally(config, activities[phase], phase, pixel_sum=pixel_sum) for phase in PHASES}
    out = price(config, tallies, table=table)
    out["activity"] = {phase: asdict(a) for phase, a in activities.items()}
    out["pixel_sum"] = pixel_sum
    return out


def counted(network, table: str | EnergyTable = DEFAULT_TABLE) -> dict[str, Any]:
    """Memory and energy of a :class:`~spikedyn.Network` from the operations its kernels counted
    (every phase that counted at least one sample), with NeuroBench's activity measures; what the
    ``train``, ``evaluate`` and ``continual`` commands add to their JSON."""
    from .operations import sparsity

    if not network.count_operations:
        raise ConfigError("this network does not count operations; create it with count_operations=True")
    tallies = {phase: network.operations(phase)["tally"] for phase in PHASES}
    tallies = {phase: t for phase, t in tallies.items() if t["samples"] > 0}
    out = price(network.config, tallies, table=table)
    out["tally"] = tallies
    out["sparsity"] = {phase: sparsity(network.config, t, network.weights if phase == "inference" else None)
                       for phase, t in tallies.items()}
    return out


def price_layered(sizes, operations: Mapping[str, Mapping[str, Mapping[str, float]]], *, kind: str = "snn",
                  table: str | EnergyTable = DEFAULT_TABLE, weight_bits: int = 32) -> dict[str, Any]:
    """Memory and energy of a layered network (an SNN or its ANN) of ``sizes = (n_0, ..., n_L)`` from its
    operations per sample by phase (``{"inference": ops, "train": ops}``;
    :func:`~spikedyn.cost.operations.derive_layered`, ``derive_ann``, ``derive_training``), on ``table``:
    the same record as :func:`price` gives an STDP network (``infer_energy_uj`` and
    ``train_energy_uj`` in the model view, ``energy_uj_by_view`` in every view, the breakdown,
    the footprint)."""
    tb = _table(table)
    fp = layered_footprint_bytes(sizes, kind=kind, weight_bits=weight_bits)
    out: dict[str, Any] = {"kind": kind, "sizes": [int(s) for s in sizes], "weight_bits": weight_bits,
                           "energy_table": tb.name, "memory_kb": fp["total"] / 1024, "footprint_bytes": fp}
    for phase, ops in operations.items():
        if phase not in PHASES:
            raise ConfigError(f"phase must be one of {', '.join(PHASES)}, got {phase!r}")
        _price_phase(out, phase, ops, tb, fp["total"], weight_bits)
    return out


def layered_cost(sizes, inference: Mapping[str, Mapping[str, float]], *, train: Mapping[str, Any] | None = None,
                 ann: bool = True, table: str | EnergyTable = DEFAULT_TABLE, weight_bits: int = 32) -> dict[str, Any]:
    """The ``cost`` record of a converted or surrogate-trained SNN: :func:`price_layered` of the SNN
    (``infer_energy_uj``; ``train_energy_uj`` when ``train`` gives training operations per sample),
    with, given ``ann``, its ANN's dense MACs on the same table (``ann_infer_energy_uj``,
    ``ann_memory_kb``, ``ann_energy_uj_by_view``), and the energies on every shipped table
    (``by_table``)."""
    from .operations import derive_ann

    def one(tb):
        phases = {"inference": inference, **({"train": train} if train is not None else {})}
        rec = price_layered(sizes, phases, kind="snn", table=tb, weight_bits=weight_bits)
        if ann:
            a = price_layered(sizes, {"inference": derive_ann(sizes)}, kind="ann", table=tb, weight_bits=weight_bits)
            rec.update(ann_infer_energy_uj=a["infer_energy_uj"], ann_infer_unsupported=a["infer_unsupported"],
                       ann_memory_kb=a["memory_kb"], ann_footprint_bytes=a["footprint_bytes"],
                       ann_energy_uj_by_view={v: e["infer"] for v, e in a["energy_uj_by_view"].items()},
                       ann_operations=a["operations"]["inference"])
        return rec

    out = one(_table(table))
    keys = ("infer_energy_uj", "train_energy_uj", "ann_infer_energy_uj", "energy_uj_by_view")
    out["by_table"] = {name: {k: v for k, v in one(load_energy_table(name)).items() if k in keys}
                       for name in builtin_tables()}
    return out
