"""Energy tables (prices with sources) and the memory footprint of a config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import exercised, one_line

from spikedyn import cost
from spikedyn.config import NetworkConfig, StdpParams
from spikedyn.cost.tables import (DEFAULT_TABLE, LABELS, builtin_tables, load_energy_table, memory_level,
                             parse_table)
from spikedyn.cost.footprint import footprint_bytes
from spikedyn.errors import ConfigError


# -- footprint --------------------------------------------------------------------------------------
def _tiny(model: str) -> NetworkConfig:
    return exercised(model, n_neurons=3, n_input=4, stdp=StdpParams(weight_sum=0.4))


@pytest.mark.parametrize("model, expected", [
    # weights 4*3 floats; inhibitory layer 3 + 3*2 connections; v, ge, gi of 3 excitatory and
    # v, ge of 3 inhibitory neurons; 3 thetas; traces 4 + 2*3; spike bits 4 + 3 + 3 -> 2 bytes
    ("diehl-cook", {"weights": 48, "competition": 36, "neuron_state": 60, "thresholds": 12, "traces": 40,
                    "rule_state": 0, "spike_buffers": 2}),
    # direct lateral: 3*2 connections, no inhibitory neurons; spike bits 4 + 3 -> 1 byte
    ("lateral", {"weights": 48, "competition": 24, "neuron_state": 36, "thresholds": 12, "traces": 40,
                 "rule_state": 0, "spike_buffers": 1}),
    ("spikedyn", {"weights": 48, "competition": 24, "neuron_state": 36, "thresholds": 12, "traces": 40,
                  "rule_state": 24, "spike_buffers": 1}),
    ("asp", {"weights": 48, "competition": 36, "neuron_state": 60, "thresholds": 12, "traces": 40,
             "rule_state": 48, "spike_buffers": 2}),
    # lateral's, and per neuron its training spikes, rate factor, fatigue and drive (fatigue on) and its
    # threshold at commitment (the recall) and its gain at recall: 6*3 floats
    ("metaplastic", {"weights": 48, "competition": 24, "neuron_state": 36, "thresholds": 12, "traces": 40,
                     "rule_state": 72, "spike_buffers": 1}),
])
def test_footprint_by_hand(model: str, expected: dict) -> None:
    got = footprint_bytes(_tiny(model), weight_bits=32)
    assert got == {**expected, "delays": 0, "total": sum(expected.values())}


def test_footprint_with_delays_counts_per_synapse_traces_and_delays() -> None:
    f = footprint_bytes(_tiny("lateral-delays"), weight_bits=32)
    assert f["delays"] == 12 and f["traces"] == (12 + 6) * 4


def test_footprint_scales_with_precision() -> None:
    f4 = footprint_bytes(_tiny("lateral"), weight_bits=4)
    assert f4["weights"] == 6 and f4["competition"] == 3  # 12 and 6 entries of half a byte
    f16 = footprint_bytes(_tiny("lateral"), weight_bits=16, state_bits=16)
    assert f16["weights"] == 24 and f16["traces"] == 20
    # SpikeDyn's budget: under 3,000 KB at 32-bit for 400 neurons
    assert footprint_bytes(NetworkConfig(model="spikedyn", n_neurons=400), weight_bits=32)["total"] / 1024 < 3000
    # the weight width defaults to the config's
    assert footprint_bytes(_tiny("lateral").replace(precision__weight_bits=4)) == f4


@pytest.mark.parametrize("kwargs, message", [
    ({"weight_bits": 3}, "weight_bits must be one of 4, 8, 16, 32, 64, got 3"),
    ({"state_bits": True}, "state_bits must be one of 4, 8, 16, 32, 64, got True"),
])
def test_footprint_rejects_bad_precisions(kwargs, message) -> None:
    with pytest.raises(ConfigError, match=message):
        footprint_bytes(_tiny("lateral"), **kwargs)


# -- energy tables --------------------------------------------------------------------------------
def test_builtin_tables_load_and_label_every_row() -> None:
    assert set(builtin_tables()) == {"horowitz-45nm", "loihi", "truenorth", "spinnaker2"}
    for name in builtin_tables():
        table = load_energy_table(name)
        assert table.name == name and table.source
        assert all(p.label in LABELS and p.source and p.energy_pj >= 0 for p in table.operations.values())
    t = load_energy_table(DEFAULT_TABLE)
    assert t.energy_pj("add_fp32") == 0.9 and t.energy_pj("mul_fp32") == 3.7 and t.energy_pj("read64_dram") == 1950
    assert load_energy_table("truenorth").operations["synaptic_event"].label == "all-in"
    with pytest.raises(ConfigError, match="energy table 'truenorth' has no operation 'add_fp32'; it prices: "
                                          "synaptic_event"):
        load_energy_table("truenorth").energy_pj("add_fp32")
    with pytest.raises(ConfigError, match="energy table 'loihi' lacks add_fp32, mul_fp32; add them"):
        load_energy_table("loihi").require(["synaptic_op", "add_fp32", "mul_fp32"])


def test_a_users_table_is_read_from_its_file(tmp_path: Path) -> None:
    path = tmp_path / "chip.toml"
    path.write_text('name = "chip"\ndescription = "d"\nsource = "s"\n[operations]\n'
                    'synaptic_op = { energy_pj = 5, label = "measured", source = "datasheet" }\n')
    table = load_energy_table(path)
    assert table.energy_pj("synaptic_op") == 5.0 and table.to_dict()["operations"]["synaptic_op"]["label"] == "measured"


GOOD = {"name": "t", "description": "d", "source": "s",
        "operations": {"op": {"energy_pj": 1.0, "label": "measured", "source": "x"}}}


@pytest.mark.parametrize("change, message", [
    ({"extra": 1}, "unknown key 'extra'; keys: name, description, source, operations"),
    ({"source": None}, "source must be a non-empty string, got None"),
    ({"operations": {}}, r"\[operations\] must hold at least one operation"),
    ({"operations": {"op": 3}}, "operations.op must be"),
    ({"operations": {"op": {"energy_pj": -1, "label": "measured", "source": "x"}}},
     r"operations.op.energy_pj must be a finite number >= 0 \(pJ\), got -1"),
    ({"operations": {"op": {"energy_pj": float("nan"), "label": "measured", "source": "x"}}}, "got nan"),
    ({"operations": {"op": {"energy_pj": 1, "label": "guessed", "source": "x"}}},
     "label must be one of measured, simulated, all-in, got 'guessed'"),
    ({"operations": {"op": {"energy_pj": 1, "label": "measured"}}}, "operations.op: missing source"),
    ({"operations": {"op": {"energy_pj": 1, "label": "measured", "source": "x", "unit": "nJ"}}},
     "unknown key 'unit'"),
])
def test_bad_tables_get_one_line_errors(change, message) -> None:
    data = {**GOOD, **change}
    with pytest.raises(ConfigError, match=message):
        parse_table(data)


@pytest.mark.parametrize("change, message", [
    ({"operations": {"op": {"energy_pj": 10**400, "label": "measured", "source": "x"}}},
     "energy_pj must be a finite number >= 0 (pJ), got 1000"),
    ({"operations": {"op\nx": {"energy_pj": -1, "label": "measured", "source": "x"}}}, "operations.'op\\nx'"),
    ({"operations": {"op": {"energy_pj": 1, "label": ["measured"], "source": "x"}}}, "got ['measured']"),
    ({1: 2}, "unknown key 1"),
])
def test_odd_values_and_keys_give_one_line_errors(change, message) -> None:
    with pytest.raises(ConfigError) as info:
        parse_table({**GOOD, **change})
    assert message in one_line(info), str(info.value)


def _costs(**changes) -> dict:
    from spikedyn.cost.operations import OPERATIONS

    return {**{op: {} for op in OPERATIONS}, **changes}


@pytest.mark.parametrize("costs, message", [
    (_costs(spikes={"op": 10**400}), "costs.spikes.op must be a finite number >= 0 (how many), got 1000"),
    (_costs(spikes={"op": -1}), "costs.spikes.op must be a finite number >= 0 (how many), got -1"),
    (_costs(spikes={"nope": 1}), "costs.spikes: unknown row 'nope'; rows: op, or memory, add_w"),
    (_costs(spikes={"memory": 1}), "the symbolic row 'memory' needs the table to price read64_sram_8kb"),
    (_costs(spikes=3), "costs.spikes must be { row = multiplicity, ... }, {} or 'unsupported', got 3"),
    (_costs(teleports={}), "[costs]: unknown key 'teleports'"),
    ({"spikes": {}}, "[costs]: missing synaptic_events_input"),
    ([], "[costs] must be a table"),
])
def test_bad_costs_get_one_line_errors(costs, message) -> None:
    with pytest.raises(ConfigError) as info:
        parse_table({**GOOD, "costs": costs})
    assert message in one_line(info), str(info.value)


@pytest.mark.parametrize("text, message", [
    ("name = " + "9" * 5000 + "\n", "is not valid TOML (Exceeds the limit"),
    ("x = " + "[" * 5000 + "\n", "is not valid TOML"),
    (b"\xff\xfe", "is not UTF-8 text"),
])
def test_table_files_that_break_the_parser(tmp_path: Path, text, message) -> None:
    path = tmp_path / "t.toml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(ConfigError, match="energy table") as info:
        load_energy_table(path)
    assert message in str(info.value) and str(path) in str(info.value)
    (tmp_path / "d.toml").mkdir()
    with pytest.raises(ConfigError, match="is a directory"):
        load_energy_table(tmp_path / "d.toml")


# -- activity statistics files (cost.load_statistics) --------------------------------------------------
def _statistics(tmp_path: Path, edit) -> Path:
    data = json.loads(cost.ACTIVITY_FILE.read_text())
    edit(data)
    path = tmp_path / "statistics.json"
    path.write_text(json.dumps(data))
    return path


def _delete(*keys):
    def edit(d):
        for k in keys[:-1]:
            d = d[k]
        del d[keys[-1]]
    return edit


def _put(value, *keys):
    def edit(d):
        for k in keys[:-1]:
            d = d[k]
        d[keys[-1]] = value
    return edit


@pytest.mark.parametrize("edit, message", [
    (_delete("pixel_sum"), "missing pixel_sum"),
    (_put("many", "pixel_sum"), "pixel_sum must be a finite number >= 0"),
    (_put(1, "extra"), "unknown key 'extra'"),
    (_put(3, "protocol"), "protocol must be a text"),
    (_put([], "models"), "models must be an object"),
    (_put({}, "models", "lateral"), "models.lateral must be a non-empty object"),
    (_put({}, "models", "lateral", "0"), "models.lateral has the size '0'"),
    (_put([], "models", "lateral", "400"), "models.lateral.400 must be an object"),
    (_delete("models", "lateral", "400", "inference"), "must hold exactly the phases train, inference; missing 'inference'"),
    (_put({}, "models", "lateral", "400", "test"), "must hold exactly the phases train, inference; unknown 'test'"),
    (_put(1.0, "models", "lateral", "400", "train", "speed"), "models.lateral.400.train must hold exactly"),
    (_put(float("nan"), "models", "lateral", "400", "train", "decay_fraction"), "decay_fraction must be a finite number >= 0, got nan"),
    (_put(True, "models", "lateral", "400", "train", "decay_fraction"), "got True"),
    (_put(10**400, "models", "lateral", "400", "train", "decay_fraction"), "must be a finite number >= 0, got 1000"),
    (_put({}, "models", "line\nbreak"), "models.'line\\nbreak'"),
])
def test_bad_statistics_files_get_one_line_errors(tmp_path: Path, edit, message) -> None:
    path = _statistics(tmp_path, edit)
    with pytest.raises(ConfigError) as info:
        cost.load_statistics(path)
    text = one_line(info)
    assert message in text and str(path) in text, text


@pytest.mark.parametrize("content, message", [
    ("{", "are not valid JSON: Expecting property name"), ("[]", "expected a JSON object"),
    ('{"pixel_sum": ' + "9" * 5000 + "}", "are not valid JSON (Exceeds the limit"), ("[" * 100_000, "not valid JSON"),
    (b"\xff", "are not UTF-8 text"),
])
def test_statistics_files_that_break_the_parser(tmp_path: Path, content, message) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(ConfigError) as info:
        cost.load_statistics(path)
    assert message in one_line(info)
    with pytest.raises(ConfigError, match="cannot read activity statistics"):
        cost.load_statistics(tmp_path / "absent.json")
    with pytest.raises(ConfigError, match="is a directory"):
        cost.load_statistics(tmp_path)


def test_a_valid_statistics_file_estimates_every_model(tmp_path: Path) -> None:
    stats = cost.load_statistics(_statistics(tmp_path, lambda d: None))
    for model in stats["models"]:
        assert cost.estimate(NetworkConfig(model=model, n_neurons=200), statistics=stats)["memory_kb"] > 0


def test_missing_keys_and_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="energy table: missing operations"):
        parse_table({"name": "t", "description": "d", "source": "s"})
    with pytest.raises(ConfigError, match="unknown energy table 'nope'; choose one of horowitz-45nm, loihi"):
        load_energy_table("nope")
    with pytest.raises(ConfigError, match="cannot read energy table"):
        load_energy_table(tmp_path / "absent.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_energy_table(bad)


@pytest.mark.parametrize("size, level", [
    (0, "read64_sram_8kb"), (8192, "read64_sram_8kb"), (8193, "read64_sram_32kb"), (32768, "read64_sram_32kb"),
    (32769, "read64_sram_1mb"), (1048576, "read64_sram_1mb"), (1048577, "read64_dram"),
])
def test_memory_level_is_the_smallest_memory_that_holds_the_data(size, level) -> None:
    assert memory_level(size) == level
