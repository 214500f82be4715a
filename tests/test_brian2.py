"""The Brian2 twin against spikedyn, spike for spike (``spikedyn validate``).

Synthetic, seeded images need no MNIST; the tests marked ``mnist`` use the real
files and are skipped when ``SPIKEDYN_DATA_DIR`` is unset. Observed on these cases:
every spike agrees (agreement 1.0), weights agree to ~1e-16 and thresholds to ~1e-12 mV
after learning; the asserted tolerances leave room only for rounding.
"""

from __future__ import annotations

import dataclasses
import json
import os
import struct
from pathlib import Path

import numpy as np
import pytest

from spikedyn import cli, validation
from spikedyn.cli_options import Parser
from spikedyn.config import NetworkConfig
from spikedyn.encoding import STREAM_TEST
from spikedyn.network import Network

# Brian2 2.9 calls pyparsing APIs that pyparsing 3 deprecates: hundreds of warnings per test.
pytestmark = [pytest.mark.brian2, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

REAL_DATA_DIR = os.environ.get("SPIKEDYN_DATA_DIR")
needs_mnist = pytest.mark.skipif(not REAL_DATA_DIR, reason="SPIKEDYN_DATA_DIR is not set")


def synthetic_images(seed: int = 0, n: int = 2) -> np.ndarray:
    """Seeded digit-sized images: 150 bright random pixels; the last image is faint
    (120 pixels of one intensity in 50-89), so that it needs 2-5 presentations."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 784), np.uint8)
    for k in range(n):
        faint = k == n - 1
        pixels = rng.choice(784, size=120 if faint else 150, replace=False)
        images[k, pixels] = rng.integers(50, 90) if faint else rng.integers(128, 256, size=pixels.size)
    return images


def write_idx_dir(directory: Path, images: np.ndarray) -> Path:
    """A data directory holding ``images`` as both MNIST-format splits (all four files)."""
    directory.mkdir(parents=True, exist_ok=True)
    n = images.shape[0]
    for prefix in ("train", "t10k"):
        (directory / f"{prefix}-images-idx3-ubyte").write_bytes(
            struct.pack(">IIII", 0x803, n, 28, 28) + images.astype(np.uint8).tobytes())
        (directory / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 0x801, n) + bytes(n))
    return directory


def parser_with(*modules):
    """A ``spikedyn`` parser with the given subcommands, built as ``cli.build_parser`` does."""
    parser = Parser(prog="spikedyn")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for module in modules:
        module.add_parser(sub)
    return parser


def run_cli(monkeypatch, argv, *modules) -> int:
    monkeypatch.setattr(cli, "build_parser", lambda: parser_with(*modules))
    return cli.main(argv)


def assert_agree(s: dict, *, learn: bool) -> None:
    assert s["spikes_spikedyn"] > 0
    assert s["spike_agreement"] == 1.0, s["first_disagreement"]
    assert s["count_agreement"] == 1.0
    assert s["presentations_agree"]
    assert s["first_disagreement"] is None
    if learn:
        assert s["max_weight_abs_diff"] < 1e-12
        assert s["max_theta_abs_diff"] < 1e-9  # mV
    else:
        assert s["max_weight_abs_diff"] == 0.0 and s["max_theta_abs_diff"] == 0.0


# -- pieces ---------------------------------------------------------------------------------------
def test_namespace_comes_from_the_config():
    from brian2 import mV, ms

    from spikedyn.brian2_reference import brian2_namespace

    config = NetworkConfig()
    config = dataclasses.replace(
        config, excitatory=dataclasses.replace(config.excitatory, v_thresh_mv=-50.0, lockout_ms=10.0))
    ns = brian2_namespace(config)
    assert float(ns["v_thresh_e"]) == float(-50.0 * mV)
    assert ns["lockout_steps"] == 20
    assert float(ns["dt"]) == float(0.5 * ms)
    assert float(ns["tau_m_e"]) == float(100 * ms)


def test_normalisation_matches_spikedyn_bit_for_bit():
    from spikedyn.brian2_reference import normalize_columns
    from spikedyn.plasticity import normalize_weights

    w = np.random.default_rng(1).uniform(0.0, 0.3, size=(784, 37))
    w[:, 3] = 0.0  # an all-zero column is left alone
    expected = normalize_weights(w, 78.0)
    normalize_columns(w, 78.0)
    np.testing.assert_array_equal(w, expected)


@pytest.mark.parametrize("learn", [False, True])
def test_recorded_spikedyn_run_matches_the_public_api(learn):
    config = NetworkConfig(model="diehl-cook", n_neurons=20)
    images = synthetic_images()
    recorded, public = Network(config, seed=3), Network(config, seed=3)
    counts, record = validation.run_spikedyn_recorded(recorded, images, learn=learn)
    assert record.presentations[-1] > 1  # the faint image was repeated
    if learn:
        stats = public.train(images, progress=False)
        np.testing.assert_array_equal(recorded.weights, public.weights)
        np.testing.assert_array_equal(recorded.theta, public.theta)
        assert stats.presentations == record.presentations.sum()
        assert recorded.samples_seen == public.samples_seen == len(images)
    else:
        np.testing.assert_array_equal(counts, public.respond(images, stream=STREAM_TEST, progress=False))
    # The counts are those of each sample's last presentation, inside the presentation period.
    last = (record.presentation == record.presentations[record.sample] - 1) & (record.step < 700)
    rebuilt = np.zeros_like(counts)
    np.add.at(rebuilt, (record.sample[last], record.neuron[last]), 1)
    np.testing.assert_array_equal(rebuilt, counts)


def test_compare_records_finds_the_first_disagreement():
    from spikedyn.brian2_reference import make_spike_record

    a = make_spike_record([0, 0, 1], [0, 0, 0], [5, 9, 3], [2, 1, 0], [1, 1])
    b = make_spike_record([0, 1, 1], [0, 0, 0], [5, 3, 4], [2, 0, 7], [1, 1])
    s = validation.compare_records(a, b, n_neurons=10, period=700, max_presentations=20)
    assert s["spike_agreement"] == pytest.approx(4 / 6)
    assert s["first_disagreement"] == {"sample": 0, "presentation": 0, "step": 9, "neuron": 1,
                                       "side": "spikedyn only"}


# -- spikedyn against Brian2 ------------------------------------------------------------------------
@pytest.mark.parametrize("model", ["diehl-cook", "lateral"])
@pytest.mark.parametrize("learn", [False, True])
def test_numpy_target_agrees_on_synthetic_images(model, learn):
    config = NetworkConfig(model=model, n_neurons=20)
    s = validation.validate(config, synthetic_images(), learn=learn, target="numpy", seed=0, progress=False)
    assert s["presentations_spikedyn"] > 2  # the faint image was repeated, on both sides alike
    assert_agree(s, learn=learn)


@pytest.mark.parametrize("learn", [False, True])
def test_agrees_when_euler_overshoots_and_the_membrane_is_clipped(learn):
    """Lateral weight 1000: one spike gives dt/tau_m * gi = 5, where unclipped Euler diverges
    (without the clip in the Brian2 twin, Brian2 fires 201 spikes here against spikedyn's 10)."""
    config = NetworkConfig(model="lateral", n_neurons=20)
    config = dataclasses.replace(config, lateral=dataclasses.replace(config.lateral, w_lateral=1000.0))
    s = validation.validate(config, synthetic_images(n=1), learn=learn, target="numpy", progress=False)
    assert_agree(s, learn=learn)


@needs_mnist
@pytest.mark.mnist
@pytest.mark.parametrize("model", ["diehl-cook", "lateral"])
def test_numpy_target_agrees_on_mnist_training(model):
    from spikedyn.data import load_split

    images, _ = load_split("train", REAL_DATA_DIR, download=False, progress=False)
    s = validation.validate(NetworkConfig(model=model, n_neurons=20), images[:2], learn=True, target="numpy",
                            progress=False)
    assert_agree(s, learn=True)


def test_standalone_agrees_and_leaves_the_runtime_device_usable(tmp_path):
    """One compiled project run per presentation with run_args; runtime Brian2 works afterwards."""
    from brian2 import get_device
    from brian2.devices.device import runtime_device

    from spikedyn.brian2_reference import Brian2Network

    config = NetworkConfig(model="diehl-cook", n_neurons=10)
    images = synthetic_images(seed=2)
    s = validation.validate(config, images, learn=True, target="cpp_standalone", progress=False,
                            directory=str(tmp_path))
    assert_agree(s, learn=True)
    assert get_device() is runtime_device
    project = tmp_path / "diehl-cook-10-train"
    assert (project / "main").is_file()
    assert not [p for p in (project / "static_arrays").iterdir() if p.name.startswith("init_")], \
        "run_args files must not pile up"

    # A runtime network in the same process still matches spikedyn.
    net = Network(config, seed=0)
    b2 = Brian2Network(config, net.weights, net.theta, target="numpy", seed=0)
    counts, _ = b2.respond(images[:1], STREAM_TEST)
    np.testing.assert_array_equal(counts, net.respond(images[:1], stream=STREAM_TEST, progress=False))


# -- command line -----------------------------------------------------------------------------------
def test_validate_command_writes_json(tmp_path, monkeypatch, capsys):
    data_dir = write_idx_dir(tmp_path / "data", synthetic_images(n=2))
    out = tmp_path / "validate.json"
    status = run_cli(monkeypatch, ["validate", "--model", "lateral", "--neurons", "10", "--samples", "2",
                                   "--target", "numpy", "--data-dir", str(data_dir), "--json", str(out),
                                   "--quiet"], validation)
    assert status == 0
    s = json.loads(out.read_text())
    for key in ("spike_agreement", "count_agreement", "max_weight_abs_diff", "max_theta_abs_diff", "model",
                "neurons", "samples", "target", "learn", "seed", "wall_seconds_spikedyn", "wall_seconds_brian2",
                "first_disagreement"):
        assert key in s
    assert s["model"] == "lateral" and s["samples"] == 2 and s["learn"] is False
    assert s["spike_agreement"] == 1.0
    assert "first disagreement: none" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [
    ["validate", "--target", "gpu", "--json", "x.json"],
    ["validate", "--samples", "0", "--json", "x.json"],
    ["validate", "--model", "hopfield", "--json", "x.json"],
])
def test_validate_usage_errors_exit_2(argv, monkeypatch, capsys):
    assert run_cli(monkeypatch, argv, validation) == 2
    err = capsys.readouterr().err
    assert err.startswith("spikedyn: error:") and err.count("\n") == 1


def test_too_many_samples_is_a_usage_error(tmp_path, monkeypatch, capsys):
    data_dir = write_idx_dir(tmp_path / "data", synthetic_images(n=2))
    argv = ["validate", "--samples", "5", "--data-dir", str(data_dir), "--json", str(tmp_path / "v.json")]
    assert run_cli(monkeypatch, argv, validation) == 2
    assert "--samples=5" in capsys.readouterr().err
    assert not (tmp_path / "v.json").exists()
