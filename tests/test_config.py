"""Tests for spikedyn.config: nested replace, type validation, TOML/JSON files, --set parsing, seeds."""

from __future__ import annotations

import dataclasses
import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest
from helpers import one_line

from spikedyn.config import (
    NetworkConfig,
    StdpParams,
    TimingParams,
    check_seed,
    load_config,
    parse_set,
)
from spikedyn import models
from spikedyn.errors import ConfigError
from spikedyn.io.files import atomic_write

DEFAULT = NetworkConfig()


# ----------------------------------------------------------------------------------------
# replace
# ----------------------------------------------------------------------------------------
def test_replace_nested_fields_in_one_call() -> None:
    c = DEFAULT.replace(stdp__nu_post=0.02, n_neurons=400, timing__present_ms=250.0)
    assert (c.stdp.nu_post, c.n_neurons, c.timing.present_ms) == (0.02, 400, 250.0)
    # Everything else is unchanged, and the original is untouched.
    assert c.stdp.nu_pre == DEFAULT.stdp.nu_pre and c.timing.dt_ms == DEFAULT.timing.dt_ms
    assert DEFAULT.stdp.nu_post == 0.01 and DEFAULT.n_neurons == 100


def test_replace_accepts_a_record_or_a_mapping_for_a_section() -> None:
    record = StdpParams(nu_post=0.03)
    assert DEFAULT.replace(stdp=record).stdp is record
    assert DEFAULT.replace(stdp={"nu_pre": 0.0002}).stdp == StdpParams(nu_pre=0.0002)
    # A record and a field of it in one call: the field applies to the record.
    c = DEFAULT.replace(stdp=record, stdp__nu_pre=0.0003)
    assert (c.stdp.nu_post, c.stdp.nu_pre) == (0.03, 0.0003)


def test_with_overrides_still_works() -> None:
    assert DEFAULT.with_overrides(model="lateral", timing__rest_ms=100.0) == \
        DEFAULT.replace(model="lateral", timing__rest_ms=100.0)


@pytest.mark.parametrize("overrides, fragments", [
    ({"stdpp__nu_post": 0.1}, ["'stdpp'", "excitatory, inhibitory, lateral, stdp, input, timing"]),
    ({"stdp__nu_postt": 0.1}, ["'stdp.nu_postt'", "nu_pre, nu_post"]),
    ({"neurons": 4}, ["'neurons'", "model, n_neurons, n_input"]),
    ({"stdp": {"bogus": 1}}, ["'stdp.bogus'"]),
    ({"stdp": 3}, ["stdp must be a StdpParams"]),
])
def test_replace_unknown_names_list_the_valid_ones(overrides, fragments) -> None:
    with pytest.raises(ConfigError) as info:
        DEFAULT.replace(**overrides)
    for fragment in fragments:
        assert fragment in one_line(info)


# ----------------------------------------------------------------------------------------
# Type validation
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("overrides, message", [
    ({"stdp__nu_post": "abc"}, "stdp.nu_post must be a number, got 'abc' (str)"),
    ({"stdp__nu_post": True}, "stdp.nu_post must be a number, got True (bool)"),
    ({"stdp__nu_post": None}, "stdp.nu_post must be a number, got None (NoneType)"),
    ({"timing__dt_ms": float("nan")}, "timing.dt_ms must be a finite number"),
    ({"excitatory__v_rest_mv": float("-inf")}, "excitatory.v_rest_mv must be a finite number"),
    ({"n_neurons": 4.0}, "n_neurons must be an integer, got 4.0 (float)"),
    ({"n_neurons": True}, "n_neurons must be an integer, got True (bool)"),
    ({"n_neurons": "400"}, "n_neurons must be an integer, got '400' (str)"),
    ({"input__min_spikes": 5.5}, "input.min_spikes must be an integer"),
    ({"input__max_presentations": [20]}, "input.max_presentations must be an integer"),
    ({"model": 3}, "model must be a string, got 3 (int)"),
    ({"model": ["lateral"]}, "model must be a string"),
])
def test_wrong_types_give_one_line_naming_the_field(overrides, message) -> None:
    with pytest.raises(ConfigError) as info:
        DEFAULT.replace(**overrides)
    assert one_line(info).startswith(message)


def test_wrong_type_in_a_record_built_directly() -> None:
    with pytest.raises(ConfigError, match=r"^timing\.present_ms must be a number"):
        NetworkConfig(timing=TimingParams(present_ms="350"))


def test_numbers_of_any_numeric_type_are_accepted_and_serialised_as_plain_python() -> None:
    c = DEFAULT.replace(n_neurons=np.int64(20), stdp__nu_post=np.float32(0.5), timing__rest_ms=100)
    d = c.to_dict()
    assert type(d["n_neurons"]) is int and d["n_neurons"] == 20
    assert type(d["stdp"]["nu_post"]) is float and type(d["timing"]["rest_ms"]) is float
    assert NetworkConfig.from_json(json.dumps(d)) == c


@pytest.mark.parametrize("overrides, match", [
    ({"model": "bogus"}, "unknown model 'bogus'"),
    ({"n_neurons": 0}, "n_neurons must be a positive integer"),
    ({"timing__dt_ms": -0.5}, r"timing\.dt_ms must be > 0"),
    ({"stdp__nu_pre": -1.0}, r"stdp\.nu_pre must be >= 0"),
    ({"input__max_presentations": 0}, "max_presentations must be >= 1"),
    ({"stdp__w_init_low": 0.5}, "w_init_low <= w_init_high"),
    ({"timing__present_ms": 350.3}, "not a whole number"),
    ({"input__rate_hz_per_unit": 1e-300}, "spike probability"),
])
def test_range_checks_are_kept(overrides, match) -> None:
    with pytest.raises(ConfigError, match=match):
        DEFAULT.replace(**overrides)


@pytest.mark.parametrize("model", models.names())
def test_every_models_default_config_is_valid(model: str) -> None:
    NetworkConfig(model=model).validate()


@pytest.mark.parametrize("overrides, fragments", [
    # dt below every time constant of every section
    ({"timing__dt_ms": 2.0}, ["timing.dt_ms=2.0 must be smaller than every time constant; excitatory.tau_ge_ms=1.0 "
                              "is not; lower timing.dt_ms", "0 < timing.dt_ms < 1.0"]),
    ({"timing__dt_ms": 1.0}, ["timing.dt_ms=1.0 must be smaller", "excitatory.tau_ge_ms=1.0 is not"]),
    ({"inhibitory__tau_ge_ms": 0.5}, ["timing.dt_ms=0.5 must be smaller", "inhibitory.tau_ge_ms=0.5 is not"]),
    ({"stdp__tau_post1_ms": 0.25}, ["stdp.tau_post1_ms=0.25 is not", "0 < timing.dt_ms < 0.25"]),
    ({"spikedyn__tau_theta_ms": 0.5}, ["spikedyn.tau_theta_ms=0.5 is not"]),
    # STDP traces are tabulated: finite and at most 10**4 steps
    ({"stdp__tau_pre_ms": float("inf")}, ["stdp.tau_pre_ms=inf is too long", "<= 10000 * timing.dt_ms = 5000.0 ms"]),
    ({"stdp__tau_post2_ms": 5000.5}, ["stdp.tau_post2_ms=5000.5 is too long"]),
    # negative time constants
    ({"excitatory__tau_m_ms": -100.0}, ["excitatory.tau_m_ms must be > 0, got -100.0"]),
    ({"stdp__tau_pre_ms": -20.0}, ["stdp.tau_pre_ms must be > 0, got -20.0"]),
    # a weight sum the weights can reach
    ({"stdp__weight_sum": 784.5}, ["stdp.weight_sum=784.5 cannot be reached by 784 input weights of at most "
                                   "stdp.w_max=1.0", "0 < stdp.weight_sum <= n_input * stdp.w_max = 784.0"]),
    ({"n_input": 30}, ["stdp.weight_sum=78.0 cannot be reached by 30 input weights", "= 30.0"]),
    ({"stdp__w_max": 0.05, "stdp__w_init_high": 0.05}, ["stdp.weight_sum=78.0 cannot be reached", "= 39.2"]),
    # nothing below the kernels' zero
    ({"stdp__w_init_high": 1e-320, "stdp__w_init_low": 0.0}, ["stdp.w_init_high=1e-320 is below 1e-100"]),
    ({"stdp__nu_post": 5e-324}, ["stdp.nu_post=5e-324 is below 1e-100", "= 0 or >= 1e-100"]),
    # reversal potentials, rest and reset
    ({"excitatory__e_inh_mv": 1.0}, ["excitatory.e_inh_mv=1.0 must be below excitatory.e_exc_mv=0.0"]),
    ({"inhibitory__e_exc_mv": -90.0}, ["inhibitory.e_inh_mv=-85.0 must be below inhibitory.e_exc_mv=-90.0"]),
    ({"excitatory__v_rest_mv": -120.0}, ["excitatory.v_rest_mv=-120.0 must lie between the reversal potentials",
                                         "[-100.0, 0.0] mV"]),
    ({"inhibitory__v_reset_mv": 5.0}, ["inhibitory.v_reset_mv=5.0", "[-85.0, 0.0] mV"]),
    # input rates
    ({"input__rate_hz_per_unit": 10.0}, ["input.rate_hz_per_unit=10.0, input.retry_rate_hz_per_unit=0.125 and "
                                         "input.max_presentations=20 saturate the input", "< 1000 / dt_ms = 2000 Hz"]),
    ({"input__max_presentations": 100}, ["input.max_presentations=100 saturate the input"]),
    ({"input__rate_hz_per_unit": 1e-300}, ["input.rate_hz_per_unit=1e-300", "allowed: input.rate_hz_per_unit >= 2e-12"]),
    # the centre-surround filter: a wider surround, square images, positive widths and gain
    ({"input__centre_surround": True, "input__surround_sigma_px": 1.0},
     ["input.surround_sigma_px=1.0 must exceed input.centre_sigma_px=1.0"]),
    ({"input__centre_surround": True, "n_input": 780}, ["n_input=780 is not a square number"]),
    ({"input__centre_sigma_px": 0.0}, ["input.centre_sigma_px must be > 0"]),
    ({"input__centre_surround_gain": -1.0}, ["input.centre_surround_gain must be > 0"]),
    # ink normalisation: the gain's bound, and the top rate at the highest gain
    ({"input__max_gain": 0.5}, ["input.max_gain=0.5 bounds the ink normalisation's gain", "input.max_gain >= 1"]),
    ({"input__normalise_mean_pixel": -1.0}, ["input.normalise_mean_pixel"]),
    ({"input__normalise_mean_pixel": 33.3, "input__max_gain": 30.0},
     ["with input.max_gain=30.0 saturate the input", "255 * (input.max_gain * rate_hz_per_unit", "lower the rates, "
      "input.max_gain or input.max_presentations"]),
    # durations
    ({"timing__present_ms": 350.3}, ["timing.present_ms=350.3 is not a whole number of dt_ms=0.5 steps",
                                     "e.g. 350 or 350.5"]),
    ({"timing__present_ms": 1e9}, ["timing.present_ms=1000000000.0 is 2e+09 steps", "timing.dt_ms = 5000000.0 ms"]),
    ({"excitatory__refractory_ms": 1e12}, ["excitatory.refractory_ms=1000000000000.0 is 2e+12 steps"]),
    # sizes
    ({"n_neurons": 400_000}, ["n_input=784 and n_neurons=400000 make 313600000 synapses",
                              "n_input * n_neurons <= 268435456"]),
    ({"n_neurons": 2**64}, ["n_neurons must be an integer in [-2**63, 2**63), got 18446744073709551616"]),
    ({"input__min_spikes": -2**70}, ["input.min_spikes must be an integer in [-2**63, 2**63)"]),
    # a float field given an int no float can hold
    ({"stdp__nu_post": 10**400}, ["stdp.nu_post must be a finite number, got 1000"]),
])
def test_cross_field_and_range_checks_name_field_value_and_range(overrides, fragments) -> None:
    with pytest.raises(ConfigError) as info:
        DEFAULT.replace(**overrides)
    text = one_line(info)
    for fragment in fragments:
        assert fragment in text, text


def test_limits_themselves_are_allowed() -> None:
    """The bounds are inclusive where the messages say <=, and infinite time constants other
    than the tabulated STDP traces mean no decay."""
    DEFAULT.replace(stdp__weight_sum=784.0)
    DEFAULT.replace(n_input=30, stdp__weight_sum=30.0)
    DEFAULT.replace(stdp__tau_pre_ms=5000.0, stdp__tau_post1_ms=0.75)
    DEFAULT.replace(stdp__nu_post=0.0, stdp__w_init_high=0.0, stdp__w_init_low=0.0, stdp__nu_pre=1e-300)
    DEFAULT.replace(excitatory__tau_m_ms=float("inf"), excitatory__tau_ge_ms=float("inf"),
                    inhibitory__tau_m_ms=float("inf"), spikedyn__tau_theta_ms=float("inf"))
    DEFAULT.replace(excitatory__v_reset_mv=0.0, excitatory__v_rest_mv=-100.0)
    DEFAULT.replace(timing__present_ms=5e6, timing__rest_ms=0.0)
    DEFAULT.replace(n_neurons=342_000)
    # the top input rate just below one spike per step
    DEFAULT.replace(input__rate_hz_per_unit=7.8, input__max_presentations=1)
    # ... also at the ink normalisation's highest gain; a gain bound unused while normalisation is off
    DEFAULT.replace(input__rate_hz_per_unit=1.95, input__max_presentations=1, input__normalise_mean_pixel=33.3)
    DEFAULT.replace(input__max_gain=20.0)
    with pytest.raises(ConfigError, match="saturate"):
        DEFAULT.replace(input__rate_hz_per_unit=2000 / 255, input__max_presentations=1)


@pytest.mark.parametrize("text, fragments", [
    ("n_neurons = " + "9" * 5000 + "\n", ["invalid TOML", "4300 digits", "fix the value"]),
    ("x = " + "[" * 5000 + "\n", ["invalid TOML"]),
    ("[bogus]\nx = 1\n", ["unknown config section 'bogus'"]),
])
def test_toml_text_that_breaks_the_parser_is_a_config_error(text: str, fragments) -> None:
    with pytest.raises(ConfigError) as info:
        NetworkConfig.from_toml(text)
    for fragment in fragments:
        assert fragment in one_line(info)


@pytest.mark.parametrize("text, fragments", [
    ('{"n_neurons": ' + "9" * 5000 + "}", ["invalid JSON", "4300 digits"]),
    ("[" * 100_000, ["invalid JSON"]),
    ('{"stdp": {"nu_post": 1e400}}', ["stdp.nu_post must be a finite number, got inf"]),
    ('{"bogus": {}}', ["unknown config section 'bogus'"]),
])
def test_json_text_that_breaks_the_parser_is_a_config_error(text: str, fragments) -> None:
    with pytest.raises(ConfigError) as info:
        NetworkConfig.from_json(text)
    for fragment in fragments:
        assert fragment in one_line(info)


def test_from_dict_of_odd_keys_and_values() -> None:
    for data in ({1: 2}, {"stdp": {3: 1}}, {"stdp": {"nu_post": [1, 2]}}, {(1, 2): {}}, {"model": 10**5000},
                 {"stdp": {"nu_post": 10**5000}}):
        with pytest.raises(ConfigError) as info:
            NetworkConfig.from_dict(data)
        one_line(info)


# ----------------------------------------------------------------------------------------
# Serialisation
# ----------------------------------------------------------------------------------------
VARIANT = DEFAULT.replace(model="lateral", n_neurons=400, stdp__nu_post=0.02, excitatory__tau_theta_ms=1e7,
                          lateral__w_lateral=35.5, input__min_spikes=3, timing__present_ms=250.0)


@pytest.mark.parametrize("config", [DEFAULT, VARIANT])
def test_json_and_toml_round_trip(config: NetworkConfig) -> None:
    assert NetworkConfig.from_json(config.to_json()) == config
    assert NetworkConfig.from_toml(config.to_toml()) == config
    assert NetworkConfig.from_dict(config.to_dict()) == config


def test_toml_is_standard() -> None:
    """tomllib (Python >= 3.11) reads the same nested values as to_dict."""
    tomllib = pytest.importorskip("tomllib")
    assert tomllib.loads(VARIANT.to_toml()) == VARIANT.to_dict()


def test_toml_layout() -> None:
    text = VARIANT.to_toml()
    assert text.startswith('model = "lateral"\nn_neurons = 400\nn_input = 784\n\n[excitatory]\n')
    assert "\n[stdp]\n" in text and "nu_post = 0.02\n" in text and "min_spikes = 3\n" in text


def test_partial_config_overrides_the_defaults() -> None:
    c = NetworkConfig.from_toml('n_neurons = 400\n[stdp]\nnu_post = 0.02\n')
    assert c == DEFAULT.replace(n_neurons=400, stdp__nu_post=0.02)
    assert NetworkConfig.from_json('{"timing": {"rest_ms": 100}}') == DEFAULT.replace(timing__rest_ms=100.0)
    assert NetworkConfig.from_json("{}") == DEFAULT


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_save_and_load(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"config{suffix}"
    assert VARIANT.save(path) == path
    assert load_config(path) == VARIANT
    assert NetworkConfig.load(str(path)) == VARIANT
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temporary file left


def test_saved_files_get_normal_permissions(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = DEFAULT.save(tmp_path / "c.toml")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_save_replaces_atomically_and_keeps_the_old_file_on_failure(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    DEFAULT.save(path)
    before = path.read_bytes()

    def fail(f):
        f.write(b"partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(path, fail)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.json"]


def test_save_refuses_other_suffixes_and_directories(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"must end in \.toml or \.json"):
        DEFAULT.save(tmp_path / "c.yaml")
    (tmp_path / "d.toml").mkdir()
    with pytest.raises(ConfigError, match="is a directory"):
        DEFAULT.save(tmp_path / "d.toml")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.toml"]


@pytest.mark.parametrize("name, content, fragments", [
    ("c.toml", "n_neurons = \n", ["c.toml", "invalid TOML", "line 1"]),
    ("c.json", '{"n_neurons": 4,}', ["c.json", "invalid JSON at line 1"]),
    ("c.toml", "[stdp]\nnu_postt = 0.1\n", ["c.toml", "'stdp.nu_postt'", "nu_post"]),
    ("c.toml", "[stdpp]\nx = 1\n", ["c.toml", "'stdpp'", "excitatory"]),
    ("c.toml", 'neurons = 4\n', ["c.toml", "'neurons'", "n_neurons"]),
    ("c.toml", '[stdp]\nnu_post = "abc"\n', ["c.toml", "stdp.nu_post must be a number, got 'abc' (str)"]),
    ("c.toml", 'n_neurons = 4.0\n', ["c.toml", "n_neurons must be an integer"]),
    ("c.toml", 'stdp = 3\n', ["c.toml", "stdp must be a table"]),
    ("c.json", '[1, 2]', ["c.json", "table/object"]),
    ("c.toml", 'model = "bogus"\n', ["c.toml", "unknown model 'bogus'"]),
])
def test_bad_files_name_file_key_and_fix(tmp_path: Path, name: str, content: str, fragments) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = one_line(info)
    assert text.startswith(str(path))
    for fragment in fragments:
        assert fragment in text


def test_missing_unreadable_and_misnamed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match=r"must end in \.toml or \.json"):
        load_config(tmp_path / "c.ini")
    (tmp_path / "bin.toml").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(tmp_path / "bin.toml")
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "dir.json")


def test_every_field_is_in_the_files() -> None:
    """A new field appears in to_dict, TOML and JSON without further code."""
    d = DEFAULT.to_dict()
    for section in ("excitatory", "inhibitory", "lateral", "stdp", "input", "timing"):
        record = getattr(DEFAULT, section)
        assert set(d[section]) == {f.name for f in dataclasses.fields(record)}


# ----------------------------------------------------------------------------------------
# --set strings and seeds
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("stdp.nu_post=0.02", ("stdp__nu_post", 0.02)),
    ("stdp.nu_pre=1e-4", ("stdp__nu_pre", 1e-4)),
    ("timing.present_ms=250", ("timing__present_ms", 250.0)),
    (" input.min_spikes = 3 ", ("input__min_spikes", 3)),
    ("n_neurons=400", ("n_neurons", 400)),
    ("model=lateral", ("model", "lateral")),
])
def test_parse_set(text: str, expected) -> None:
    key, value = parse_set(text)
    assert (key, value) == expected
    assert type(value) is type(expected[1])
    DEFAULT.replace(**{key: value})  # what parse_set returns, replace takes


@pytest.mark.parametrize("text, fragments", [
    ("stdp.nu_post", ["section.field=value"]),
    ("=3", ["section.field=value"]),
    ("stdp.nu_post=abc", ["stdp.nu_post must be a number", "'abc'", "stdp.nu_post=0.01"]),
    ("n_neurons=4.5", ["n_neurons must be an integer", "n_neurons=100"]),
    ("stdp.bogus=1", ["'stdp.bogus'", "nu_post"]),
    ("bogus.x=1", ["'bogus'", "stdp"]),
    ("stdp=1", ["stdp is a section", "stdp.tau_pre_ms"]),
])
def test_parse_set_errors(text: str, fragments) -> None:
    with pytest.raises(ConfigError) as info:
        parse_set(text)
    for fragment in fragments:
        assert fragment in one_line(info)


def test_set_values_are_range_checked_by_the_config() -> None:
    with pytest.raises(ConfigError, match=r"^stdp\.nu_post must be a finite number, got nan"):
        DEFAULT.replace(**dict([parse_set("stdp.nu_post=nan")]))
    assert DEFAULT.replace(**dict([parse_set("excitatory.tau_theta_ms=inf")])).excitatory.tau_theta_ms == np.inf


def test_time_constants_may_be_infinite_other_numbers_not() -> None:
    c = DEFAULT.replace(excitatory__tau_theta_ms=float("inf"), excitatory__tau_gi_ms=float("inf"))
    assert NetworkConfig.from_toml(c.to_toml()) == c
    assert NetworkConfig.from_json(c.to_json()) == c
    for field in ("stdp__nu_post", "excitatory__v_thresh_mv", "timing__rest_ms"):
        with pytest.raises(ConfigError, match="must be a finite number"):
            DEFAULT.replace(**{field: float("inf")})


def test_check_seed() -> None:
    assert check_seed(0) == 0 and check_seed(np.uint64(7)) == 7 and type(check_seed(np.int64(7))) is int
    assert check_seed(2**63 - 1) == 2**63 - 1
    assert check_seed(2**64 - 1, bits=64) == 2**64 - 1
    for bad in (-1, 2**63, 1.0, True, "3", None):
        with pytest.raises(ConfigError, match=r"^my_seed must be"):
            check_seed(bad, "my_seed")


def test_an_infinite_time_constant_survives_json_toml_and_a_run_directory(tmp_path: Path) -> None:
    """JSON has no infinity: to_dict writes an infinite time constant as "inf", which reads back."""
    from spikedyn.io.files import json_text

    config = DEFAULT.replace(excitatory__tau_theta_ms=float("inf"), spikedyn__tau_theta_ms=float("inf"))
    data = config.to_dict()
    assert data["excitatory"]["tau_theta_ms"] == "inf"
    assert NetworkConfig.from_dict(json.loads(json_text(data))) == config
    for suffix in (".json", ".toml"):
        assert NetworkConfig.load(config.save(tmp_path / f"c{suffix}")) == config
    assert "tau_theta_ms = inf\n" in config.to_toml()
