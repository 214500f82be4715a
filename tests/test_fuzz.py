"""Property and fuzz tests (hypothesis): every loader of a user's file either returns what it
reads or raises a one-line spikedyn error, never anything else; random configs within the
documented ranges simulate without non-finite values.

The suite's profile is derandomised (``tests/conftest.py``): every run draws the same examples.
``HYPOTHESIS_PROFILE=random`` draws new ones. The simulation property compiles the kernels of
each model composition it runs (15-25 s each on a fresh kernel cache, twice that on a busy
machine), so by default it covers two: ``spikedyn`` at reduced precision (direct lateral
inhibition, SpikeDyn's rule and threshold, fixed-point weights) and ``diehl-cook-delays`` at
float64 (the inhibitory layer, the delayed STDP rule, the homeostatic threshold), and the file
runs in under a minute on 2 cores with a cold cache. ``SPIKEDYN_FUZZ_ALL_MODELS=1`` runs it
for every registered model, at float64 and at reduced precision where the model allows it.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import shutil
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import idx_bytes, one_line, write_idx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spikedyn import cost, models
from spikedyn.config import NetworkConfig, load_config, parse_set, section_classes
from spikedyn.config.network_config import _TOP_FIELDS
from spikedyn.config.sections import section_fields
from spikedyn.cost.tables import TABLE_DIR, EnergyTable, load_energy_table, parse_table
from spikedyn.errors import ConfigError, DataError
from spikedyn.io.data import MNIST_FILES, load_split, read_idx

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def scratch() -> Path:
    """A directory for the files the properties write (one module-wide directory: hypothesis runs
    many examples per test, and function-scoped fixtures are not reset between them)."""
    path = Path(tempfile.mkdtemp(prefix="spikedyn-fuzz-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


# ----------------------------------------------------------------------------------------
# IDX files
# ----------------------------------------------------------------------------------------
VALID_IDX = idx_bytes(np.arange(3 * 5 * 4, dtype=np.uint8).reshape(3, 5, 4))
VALID_GZ = gzip.compress(VALID_IDX, mtime=0)


def read_or_data_error(path: Path, content: bytes | None = None) -> np.ndarray | None:
    """``read_idx(path)``, or None after checking that it raised a one-line DataError naming the file.
    An array read from the (decompressed) ``content`` must be exactly what its header declares."""
    try:
        array = read_idx(path)
    except DataError as exc:
        assert str(path) in one_line(exc)
        return None
    assert array.dtype == np.uint8 and array.flags.writeable
    if content is not None:
        ndim = content[3]
        assert content[:3] == b"\x00\x00\x08" and array.ndim == ndim
        assert array.shape == tuple(int.from_bytes(content[4 + 4 * k:8 + 4 * k], "big") for k in range(ndim))
        assert array.tobytes() == content[4 + 4 * ndim:]
    return array


@st.composite
def mutated(draw: st.DrawFn, content: bytes) -> bytes:
    """``content`` with a few random edits: bytes replaced, inserted or deleted, a cut, or a tail."""
    data = bytearray(content)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["set", "insert", "delete", "truncate", "append"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "set" and data:
            data[at] = draw(st.integers(0, 255))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete" and data:
            del data[at:at + draw(st.integers(1, 8))]
        elif op == "truncate":
            del data[at:]
        else:
            data += draw(st.binary(min_size=1, max_size=8))
    return bytes(data)


@st.composite
def idx_headers(draw: st.DrawFn) -> bytes:
    """Plausible IDX files: a magic number of any type code and dimension count (often the valid ones),
    small sizes and a payload that may or may not match them."""
    type_code = draw(st.one_of(st.just(0x08), st.integers(0, 255)))
    ndim = draw(st.one_of(st.integers(0, 4), st.integers(0, 255)))
    sizes = draw(st.lists(st.one_of(st.integers(0, 4), st.integers(0, 2**32 - 1)), min_size=min(ndim, 8),
                          max_size=min(ndim, 8)))
    sizes += [1] * (ndim - len(sizes))
    header = bytes([0, 0, type_code, ndim]) + b"".join(n.to_bytes(4, "big") for n in sizes)
    expected = math.prod(sizes)
    payload = draw(st.one_of(st.binary(max_size=64), st.just(bytes(expected if expected <= 256 else 0))))
    return header + payload


@FAST
@given(content=st.binary(max_size=300))
def test_read_idx_of_arbitrary_bytes_returns_an_array_or_a_data_error(scratch: Path, content: bytes) -> None:
    path = scratch / "arbitrary-idx"
    path.write_bytes(content)
    read_or_data_error(path)


@FAST
@given(content=idx_headers(), gz=st.booleans())
def test_read_idx_of_plausible_headers(scratch: Path, content: bytes, gz: bool) -> None:
    path = scratch / "header-idx"
    path.write_bytes(gzip.compress(content, mtime=0) if gz else content)
    read_or_data_error(path, content)


@FAST
@given(content=mutated(VALID_IDX))
def test_read_idx_of_a_mutated_raw_file(scratch: Path, content: bytes) -> None:
    path = scratch / "mutated-idx"
    path.write_bytes(content)
    read_or_data_error(path, content if content[:2] != b"\x1f\x8b" else None)


@FAST
@given(compressed=st.one_of(mutated(VALID_GZ), mutated(VALID_IDX).map(lambda b: gzip.compress(b, mtime=0))))
def test_read_idx_of_a_mutated_gzip_file(scratch: Path, compressed: bytes) -> None:
    """Corrupt gzip streams (bad header, CRC, length, truncated, trailing garbage) and gzip streams of
    corrupt IDX content."""
    path = scratch / "mutated-idx.gz"
    path.write_bytes(compressed)
    try:
        content = gzip.decompress(compressed) if compressed[:2] == b"\x1f\x8b" else compressed
    except (OSError, EOFError, zlib.error):
        content = None  # then read_idx must refuse it too
    array = read_or_data_error(path, content)
    assert array is None or content is not None


@settings(max_examples=40, deadline=None)
@given(n_images=st.integers(0, 3), n_labels=st.integers(0, 3), rows=st.integers(0, 3), cols=st.integers(0, 3),
       image_dims=st.sampled_from([1, 2, 3, 4]), label_dims=st.sampled_from([1, 2]), top_label=st.integers(0, 255),
       gz=st.booleans())
def test_load_split_returns_a_consistent_split_or_a_data_error(scratch: Path, n_images, n_labels, rows, cols,
                                                               image_dims, label_dims, top_label, gz) -> None:
    directory = scratch / "split"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir()
    images = np.full((n_images, rows, cols, 1)[:image_dims], 7, np.uint8)
    labels = np.full((n_labels, 1)[:label_dims], top_label, np.uint8)
    suffix = ".gz" if gz else ""
    write_idx(directory / f"{MNIST_FILES['train'][0]}{suffix}", images, gz=gz)
    write_idx(directory / f"{MNIST_FILES['train'][1]}{suffix}", labels, gz=gz)
    try:
        x, y = load_split("train", directory, download=False)
    except DataError as exc:
        one_line(exc)
        return
    assert x.ndim == 3 and y.ndim == 1 and len(x) == len(y) > 0 and x.shape[1] * x.shape[2] > 0
    assert int(y.max()) <= 9


# ----------------------------------------------------------------------------------------
# Configs
# ----------------------------------------------------------------------------------------
_SECTIONS = section_classes()
_SECTION_FIELDS = {section: section_fields(cls) for section, cls in _SECTIONS.items()}
ALL_FIELDS = sorted({*_TOP_FIELDS, *_SECTIONS, *(f for fields in _SECTION_FIELDS.values() for f in fields)})

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 1000), st.integers(-2**70, 2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8),
    st.sampled_from(models.names()), st.sampled_from(["nearest", "stochastic", "inf", "1e400"]),
    st.sampled_from([10**400, -10**400]),  # ints no float can hold
)
keys = st.one_of(st.sampled_from(ALL_FIELDS), st.text(max_size=6))
nested = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
                      max_leaves=8)


def near_default(section: str | None, name: str) -> st.SearchStrategy:
    """Values for one field: often near its default (scaled, negated, zeroed), sometimes of another type."""
    f = _TOP_FIELDS[name] if section is None else _SECTION_FIELDS[section][name]
    default = f.default
    if isinstance(default, bool):
        return st.one_of(st.booleans(), scalars)
    if isinstance(default, (int, float)):
        scaled = st.sampled_from([0, -1, 0.5, 1, 1, 1, 2, 10, 1e3, 1e9]).map(lambda k: type(default)(default * k))
        return st.one_of(scaled, st.just(default), st.integers(-3, 30), scalars)
    return st.one_of(st.sampled_from(models.names() + ("nearest", "stochastic")), scalars)


@st.composite
def config_dicts(draw: st.DrawFn) -> dict[str, Any]:
    """Partial configs that look like real ones: known sections and fields, values near the defaults,
    now and then an unknown key."""
    out: dict[str, Any] = {}
    for name in draw(st.lists(st.sampled_from(sorted(_TOP_FIELDS)), max_size=3, unique=True)):
        out[name] = draw(near_default(None, name))
    for section in draw(st.lists(st.sampled_from(sorted(_SECTIONS)), max_size=4, unique=True)):
        names = draw(st.lists(st.sampled_from(sorted(_SECTION_FIELDS[section])), min_size=1, max_size=3,
                              unique=True))
        out[section] = {name: draw(near_default(section, name)) for name in names}
    if draw(st.integers(0, 9)) == 0:
        out[draw(keys)] = draw(scalars)
    return out


def toml_value(value: Any) -> str | None:
    """A TOML literal for a scalar (None if TOML has none)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return json.dumps(value).replace("\x7f", "\\u007f")
    return None


def to_toml(data: dict[str, Any]) -> str:
    lines, tables = [], []
    for key, value in data.items():
        if isinstance(value, dict):
            tables.append((key, value))
        elif (literal := toml_value(value)) is not None:
            lines.append(f"{json.dumps(key)} = {literal}")
    for key, table in tables:
        lines.append(f"[{json.dumps(key)}]")
        lines += [f"{json.dumps(k)} = {lit}" for k, v in table.items() if (lit := toml_value(v)) is not None]
    return "\n".join(lines) + "\n"


def config_or_error(build: Callable[[], NetworkConfig]) -> NetworkConfig | None:
    """``build()``: a valid config that survives both file formats, or None after a one-line ConfigError."""
    try:
        config = build()
    except ConfigError as exc:
        one_line(exc)
        return None
    assert isinstance(config, NetworkConfig)
    assert NetworkConfig.from_json(config.to_json()) == config
    assert NetworkConfig.from_toml(config.to_toml()) == config
    return config


@FAST
@given(data=st.one_of(nested, st.dictionaries(keys, nested, max_size=5)))
def test_from_dict_of_arbitrary_nested_data(data: Any) -> None:
    config_or_error(lambda: NetworkConfig.from_dict(data))


@FAST
@given(data=config_dicts())
def test_from_dict_json_and_toml_of_config_like_data(data: dict[str, Any]) -> None:
    """The same data through from_dict, JSON text and TOML text: all three agree."""
    direct = config_or_error(lambda: NetworkConfig.from_dict(data))
    try:
        text = json.dumps(data)
    except ValueError:  # an int of more than 4,300 digits cannot be written
        return
    via_json = config_or_error(lambda: NetworkConfig.from_json(text))
    assert via_json == direct
    via_toml = config_or_error(lambda: NetworkConfig.from_toml(to_toml(data)))
    if all(toml_value(v) is not None or isinstance(v, dict) for v in data.values()) and all(
            toml_value(v) is not None for t in data.values() if isinstance(t, dict) for v in t.values()):
        assert via_toml == direct


@FAST
@given(text=st.one_of(st.text(max_size=200), st.sampled_from(["", "{}", "[]", "null", "1e400", '{"n_neurons": 1e400}',
                                                               '{"stdp": {"nu_post": NaN}}', "[" * 5000])))
def test_json_text(text: str) -> None:
    config_or_error(lambda: NetworkConfig.from_json(text))


@FAST
@given(text=st.one_of(st.text(max_size=200), st.lists(
    st.sampled_from(["[stdp]", "[timing]", "[bogus]", "nu_post = 0.02", "dt_ms = 1.0", "dt_ms = 5.0",
                     "n_neurons = 0", "model = 'lateral'", "tau_pre_ms = inf", "x = [1, 2", "a.b.c = 1",
                     "w_max = 1" + "0" * 400, "weight_sum = 1e9", '"\\u0000" = 1', "[[stdp]]"]),
    max_size=6).map("\n".join)))
def test_toml_text(text: str) -> None:
    config_or_error(lambda: NetworkConfig.from_toml(text))


@FAST
@given(content=st.binary(max_size=120), suffix=st.sampled_from([".toml", ".json", ".TOML", ".yaml", ""]))
def test_load_config_of_arbitrary_bytes(scratch: Path, content: bytes, suffix: str) -> None:
    path = scratch / f"config{suffix}"
    path.write_bytes(content)
    config = config_or_error(lambda: load_config(path))
    if config is None:
        with pytest.raises(ConfigError) as info:
            load_config(path)
        assert str(path) in str(info.value)


@FAST
@given(text=st.one_of(st.text(max_size=40), st.tuples(st.sampled_from(ALL_FIELDS + ["stdp.nu_post", "timing.dt_ms",
                                                                                   "input.min_spikes", "x.y"]),
                                                     st.text(max_size=8)).map("=".join)))
def test_parse_set_then_replace(text: str) -> None:
    try:
        key, value = parse_set(text)
    except ConfigError as exc:
        one_line(exc)
        return
    config_or_error(lambda: NetworkConfig().replace(**{key: value}))


# ----------------------------------------------------------------------------------------
# Energy tables and activity statistics
# ----------------------------------------------------------------------------------------
def _tomllib():
    from spikedyn.io.files import toml_reader

    return toml_reader()


DEFAULT_TABLE_TEXT = (TABLE_DIR / "horowitz-45nm.toml").read_text()
DEFAULT_TABLE_DATA = _tomllib().loads(DEFAULT_TABLE_TEXT)
STATISTICS_DATA = json.loads(cost.ACTIVITY_FILE.read_text())


@st.composite
def mutated_tree(draw: st.DrawFn, data: dict[str, Any]) -> Any:
    """A deep copy of ``data`` with a few edits at random places: a key deleted, a value replaced by
    anything, an unknown key added."""
    data = json.loads(json.dumps(data))
    for _ in range(draw(st.integers(1, 3))):
        node: Any = data
        while isinstance(node, dict) and node and draw(st.integers(0, 5)) > 0:
            child = node[draw(st.sampled_from(sorted(node)))]
            if not isinstance(child, dict):
                break
            node = child
        if not isinstance(node, dict):
            continue
        op = draw(st.sampled_from(["delete", "replace", "replace", "add"]))
        if op == "add" or not node:
            node[draw(st.text(max_size=6))] = draw(scalars)
            continue
        key = draw(st.sampled_from(sorted(node)))
        if op == "delete":
            del node[key]
        else:
            node[key] = draw(st.one_of(scalars, st.just({}), st.just("unsupported"), st.floats(-1, 1e6)))
    return data


def table_or_error(load: Callable[[], EnergyTable]) -> EnergyTable | None:
    try:
        table = load()
    except ConfigError as exc:
        one_line(exc)
        return None
    assert isinstance(table, EnergyTable)
    for price in table.operations.values():
        assert math.isfinite(price.energy_pj) and price.energy_pj >= 0
    return table


@FAST
@given(data=mutated_tree(DEFAULT_TABLE_DATA))
def test_parse_table_of_a_mutated_table(data: Any) -> None:
    table = table_or_error(lambda: parse_table(data))
    if table is not None and table.costs is not None:
        for op in table.costs:  # every recipe it accepted can be priced
            for bits in (4, 8, 16, 32, 64):
                try:
                    unit = table.unit_energy_pj(op, footprint_bytes=1000, weight_bits=bits)
                except ConfigError as exc:  # a row the table does not price, named
                    one_line(exc)
                    continue
                assert unit is None or (math.isfinite(unit) and unit >= 0)


@FAST
@given(text=st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(DEFAULT_TABLE_TEXT.splitlines()), max_size=40).map("\n".join),
    st.tuples(st.integers(0, len(DEFAULT_TABLE_TEXT)), st.integers(0, 40), st.text(max_size=10)).map(
        lambda t: DEFAULT_TABLE_TEXT[:t[0]] + t[2] + DEFAULT_TABLE_TEXT[t[0] + t[1]:]),
))
def test_load_energy_table_of_arbitrary_and_mutated_text(scratch: Path, text: str) -> None:
    path = scratch / "table.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    table_or_error(lambda: load_energy_table(path))


@FAST
@given(data=mutated_tree(STATISTICS_DATA), neurons=st.integers(1, 3000))
def test_load_statistics_of_a_mutated_file_then_estimate(scratch: Path, data: Any, neurons: int) -> None:
    """A statistics file either is refused, or every model estimates from it (or says it lacks the model)."""
    path = scratch / "statistics.json"
    path.write_text(json.dumps(data))
    try:
        stats = cost.load_statistics(path)
    except ConfigError as exc:
        one_line(exc)
        return
    for model in models.names():
        try:
            est = cost.estimate(NetworkConfig(model=model, n_neurons=neurons), statistics=stats)
        except ConfigError as exc:
            assert "no activity statistics" in one_line(exc)
            continue
        assert est["memory_kb"] > 0


@FAST
@given(content=st.binary(max_size=200))
def test_load_statistics_of_arbitrary_bytes(scratch: Path, content: bytes) -> None:
    path = scratch / "statistics-bytes.json"
    path.write_bytes(content)
    try:
        stats = cost.load_statistics(path)
    except ConfigError as exc:
        assert str(path) in one_line(exc)
        return
    assert isinstance(stats["models"], dict)


# ----------------------------------------------------------------------------------------
# Random configs within the documented ranges simulate without non-finite values
# ----------------------------------------------------------------------------------------
REDUCED = (4, 8, 16, 32)


def _allows_reduced(model: str) -> bool:
    return models.get(model).plasticity.operation_profile(NetworkConfig(model=model))["depression"] != "delayed"


if os.environ.get("SPIKEDYN_FUZZ_ALL_MODELS"):
    SIM_CASES = [(m, "float64") for m in models.names()] + [(m, "reduced") for m in models.names()
                                                             if _allows_reduced(m)]
else:  # both competitions, both thresholds, two rules and both weight representations, in two compilations
    SIM_CASES = [("spikedyn", "reduced"), ("diehl-cook-delays", "float64")]


def uniform(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


@st.composite
def documented_configs(draw: st.DrawFn, model: str, precision: str) -> NetworkConfig:
    """A config of ``model`` with every field drawn from its documented range, chosen so that the
    cross-field rules hold (dt below every time constant, whole steps, rates that do not saturate,
    a reachable weight sum, rest and reset between the reversal potentials)."""
    dt = draw(st.sampled_from([0.25, 0.5, 1.0]))

    def steps(lo: int, hi: int) -> float:
        return draw(st.integers(lo, hi)) * dt

    def tau(lo: float, hi: float) -> float:
        return max(draw(uniform(lo, hi)), 1.5 * dt)

    max_delay = steps(1, 10)
    w_max = draw(uniform(0.3, 2.0))
    w_high = draw(st.one_of(st.just(0.0), uniform(1e-100, w_max)))  # 0 < w < 1e-100 is refused
    bits = 64 if precision == "float64" else draw(st.sampled_from(REDUCED))
    e_exc, e_inh = draw(uniform(-5.0, 5.0)), draw(uniform(-110.0, -80.0))
    return NetworkConfig(model=model, n_neurons=draw(st.integers(5, 20))).replace(
        timing__dt_ms=dt, timing__present_ms=steps(20, 80),
        timing__rest_ms=max(steps(0, 40), max_delay) if "delays" in model else steps(0, 40),
        delays__max_delay_ms=max_delay,
        excitatory__tau_m_ms=tau(5.0, 200.0), excitatory__tau_ge_ms=tau(1.0, 10.0),
        excitatory__tau_gi_ms=draw(st.one_of(st.just(math.inf), st.floats(1.0, 10.0).map(lambda t: max(t, 1.5 * dt)))),
        excitatory__tau_theta_ms=draw(st.one_of(st.just(math.inf), uniform(1e3, 1e8))),
        excitatory__e_exc_mv=e_exc, excitatory__e_inh_mv=e_inh,
        excitatory__v_rest_mv=draw(uniform(-70.0, -60.0)), excitatory__v_reset_mv=draw(uniform(-70.0, -60.0)),
        excitatory__v_thresh_mv=draw(uniform(-58.0, -45.0)),
        excitatory__refractory_ms=steps(0, 20), excitatory__lockout_ms=steps(0, 20),
        excitatory__theta_plus_mv=draw(uniform(0.0, 0.5)), excitatory__theta_init_mv=draw(uniform(0.0, 30.0)),
        excitatory__theta_offset_mv=draw(uniform(0.0, 30.0)),
        inhibitory__tau_m_ms=tau(2.0, 50.0), inhibitory__tau_ge_ms=tau(1.0, 10.0),
        inhibitory__refractory_ms=steps(0, 10), inhibitory__w_exc_inh=draw(uniform(0.0, 20.0)),
        inhibitory__w_inh_exc=draw(uniform(0.0, 60.0)), lateral__w_lateral=draw(uniform(0.0, 60.0)),
        stdp__tau_pre_ms=tau(2.0, 80.0), stdp__tau_post1_ms=tau(2.0, 80.0), stdp__tau_post2_ms=tau(2.0, 80.0),
        stdp__nu_pre=draw(uniform(0.0, 1e-3)), stdp__nu_post=draw(st.one_of(st.just(0.0), uniform(1e-100, 0.05))), stdp__w_max=w_max,
        stdp__w_init_low=draw(uniform(0.0, w_high)), stdp__w_init_high=w_high,
        stdp__weight_sum=draw(uniform(0.01, 0.3)) * 784 * w_max,
        input__rate_hz_per_unit=draw(uniform(0.05, 0.5)), input__retry_rate_hz_per_unit=draw(uniform(0.0, 0.25)),
        input__min_spikes=draw(st.integers(0, 10)), input__max_presentations=draw(st.integers(1, 3)),
        spikedyn__adaptive_rate=draw(st.booleans()), spikedyn__rate_half_spikes=draw(uniform(1.0, 200.0)),
        spikedyn__adaptive_threshold=draw(st.booleans()), spikedyn__theta_hold=draw(uniform(0.0, 1.0)),
        spikedyn__tau_theta_ms=draw(st.one_of(st.just(math.inf), uniform(1e3, 1e9))),
        spikedyn__weight_decay=draw(st.booleans()), spikedyn__decay_rate=draw(uniform(0.0, 1.0)),
        spikedyn__decay_below=draw(uniform(0.0, 2.0)), spikedyn__skip_spurious=draw(st.booleans()),
        spikedyn__min_update=draw(uniform(0.0, 1e-3)),
        asp__beta=draw(uniform(0.0, 1.0)), asp__leak_rate=draw(uniform(0.0, 1.0)),
        precision__weight_bits=bits, precision__rounding=draw(st.sampled_from(["nearest", "stochastic"])),
    )


def assert_finite_state(network) -> None:
    """Weights, thresholds and every float array of the dynamic state are finite (a list ``X`` with a
    companion count ``n_X`` is checked up to its length; the rest of its buffer is scratch)."""
    from spikedyn.simulation.state import state_arrays

    assert np.all(np.isfinite(network.weights)) and np.all(network.weights >= 0)
    assert np.all(np.isfinite(network.theta))
    arrays = state_arrays(network._state)
    for name, array in arrays.items():
        part, _, field = name.rpartition(".")
        count = arrays.get(f"{part}.n_{field}" if part else f"n_{field}")
        if count is not None:
            array = array[:int(count[0])]
        if np.issubdtype(array.dtype, np.floating):
            assert np.all(np.isfinite(array)), name


@pytest.mark.parametrize("model, precision", SIM_CASES)
def test_random_documented_configs_simulate_without_non_finite_values(model: str, precision: str) -> None:
    from spikedyn import Network

    images = np.random.default_rng(0).integers(0, 256, (5, 784), dtype=np.uint8)
    images[2] = 0  # a blank image: every presentation of it is retried

    @settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(config=documented_configs(model, precision), seed=st.integers(0, 2**32))
    def simulate(config: NetworkConfig, seed: int) -> None:
        network = Network(config, seed=seed)
        stats = network.train(images[:3], progress=False)
        assert stats.train_samples == 3 and stats.presentations >= 3
        assert_finite_state(network)
        counts = network.respond(images[3:], n_jobs=1)
        assert counts.shape == (2, config.n_neurons) and np.issubdtype(counts.dtype, np.integer)
        assert np.all(counts >= 0)
        assert_finite_state(network)

    simulate()


@pytest.mark.parametrize("model, precision", [(m, p) for m in models.names()
                                               for p in (("float64", "reduced") if _allows_reduced(m) else ("float64",))])
def test_the_documented_config_strategy_draws_valid_configs_of_every_model(model: str, precision: str) -> None:
    """The strategy itself stays inside the ranges the config accepts, for every model (no simulation)."""
    @settings(max_examples=15, deadline=None)
    @given(config=documented_configs(model, precision))
    def draw_one(config: NetworkConfig) -> None:
        assert config.model == model and (config.precision.weight_bits == 64) == (precision == "float64")

    draw_one()


# ----------------------------------------------------------------------------------------
# Search files (spikedyn search --spec)
# ----------------------------------------------------------------------------------------
SPEC_DATA = {"models": ["spikedyn", "asp"], "neurons": [100, 400], "weight_bits": [32, 8],
             "energy_table": "horowitz-45nm", "budget": {"max_memory_kb": 3000.0},
             "protocol": {"name": "standard", "train_samples": 500, "seeds": [0, 1]},
             "grid": {"timing.present_ms": [250.0, 350.0]}, "config": {"stdp": {"nu_post": 0.02}}}


def spec_or_error(load: Callable[[], Any]) -> Any:
    from spikedyn.search import SearchSpec

    try:
        spec = load()
    except ConfigError as exc:
        one_line(exc)
        return None
    assert isinstance(spec, SearchSpec)
    assert spec.space.candidates()  # a spec that loads has candidates, each a valid config
    return spec


@FAST
@given(data=st.one_of(mutated_tree(SPEC_DATA), nested, st.dictionaries(
    st.sampled_from(["models", "neurons", "weight_bits", "grid", "budget", "protocol", "energy_table", "config"]),
    nested, max_size=6)))
def test_search_spec_of_mutated_and_arbitrary_data(data: Any) -> None:
    from spikedyn.search import SearchSpec

    spec = spec_or_error(lambda: SearchSpec.from_dict(data))
    if spec is not None:  # what it writes, it reads back the same
        assert SearchSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


@FAST
@given(text=st.one_of(st.text(max_size=200), st.tuples(st.integers(0, 300), st.integers(0, 20), st.text(max_size=8))
                      .map(lambda t: (lambda s: s[:t[0]] + t[2] + s[t[0] + t[1]:])(json.dumps(SPEC_DATA)))),
       suffix=st.sampled_from([".json", ".toml"]))
def test_load_spec_of_arbitrary_and_mutated_text(scratch: Path, text: str, suffix: str) -> None:
    from spikedyn.search import load_spec

    path = scratch / f"search{suffix}"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    spec_or_error(lambda: load_spec(path))
