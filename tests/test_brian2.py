"""The Brian2 twin against spikedyn, spike for spike (``spikedyn validate``).

Synthetic, seeded images need no MNIST; the tests marked ``mnist`` use the real
files and are skipped when ``SPIKEDYN_DATA_DIR`` is unset. Observed on these cases:
every spike agrees (agreement 1.0), weights agree to ~1e-16 and thresholds to ~1e-12 mV
after learning; the asserted tolerances leave room only for rounding.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from helpers import (assert_usage_error, bright_images, entries, exercised, images_ending_faint,
                     one_model_per_composition, write_mnist_dir)

from spikedyn import models
from spikedyn.config import NetworkConfig
from spikedyn.core.encoding import STREAM_TEST
from spikedyn.reference import validate as validation
from spikedyn.simulation.network import Network

# Brian2 2.9 calls pyparsing APIs that pyparsing 3 deprecates: hundreds of warnings per test.
pytestmark = [pytest.mark.brian2, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


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

    from spikedyn.reference.brian2 import brian2_namespace

    config = NetworkConfig()
    config = dataclasses.replace(
        config, excitatory=dataclasses.replace(config.excitatory, v_thresh_mv=-50.0, lockout_ms=10.0))
    ns = brian2_namespace(config)
    assert float(ns["v_thresh_e"]) == float(-50.0 * mV)
    assert ns["lockout_steps"] == 20
    assert float(ns["dt"]) == float(0.5 * ms)
    assert float(ns["tau_m_e"]) == float(100 * ms)


def test_normalisation_matches_spikedyn_bit_for_bit():
    from spikedyn.models.stdp import normalize_columns_numpy as normalize_columns
    from spikedyn.models.stdp import normalize_weights

    w = np.random.default_rng(1).uniform(0.0, 0.3, size=(784, 37))
    w[:, 3] = 0.0  # an all-zero column is left alone
    expected = normalize_weights(w, 78.0)
    normalize_columns(w, 78.0)
    np.testing.assert_array_equal(w, expected)


@pytest.mark.parametrize("learn", [False, True])
def test_recorded_spikedyn_run_matches_the_public_api(learn):
    config = NetworkConfig(model="diehl-cook", n_neurons=20)
    images = images_ending_faint()
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
    from spikedyn.reference.brian2 import make_spike_record

    a = make_spike_record([0, 0, 1], [0, 0, 0], [5, 9, 3], [2, 1, 0], [1, 1])
    b = make_spike_record([0, 1, 1], [0, 0, 0], [5, 3, 4], [2, 0, 7], [1, 1])
    s = validation.compare_records(a, b, n_neurons=10, period=700, max_presentations=20)
    assert s["spike_agreement"] == pytest.approx(4 / 6)
    assert s["first_disagreement"] == {"sample": 0, "presentation": 0, "step": 9, "neuron": 1,
                                       "side": "spikedyn only"}


# -- spikedyn against Brian2 ------------------------------------------------------------------------
@pytest.mark.parametrize("model", [m for m in one_model_per_composition()
                                   if models.get(m).plasticity.name != "stdp-delayed"])
@pytest.mark.parametrize("learn", [False, True])
def test_numpy_target_agrees_on_images_ending_faint(model, learn):
    # (the delayed models have their own agreement test in tests/test_delays.py; every model, its
    # defaults included, against the standalone target: experiments/brian2_validation.py)
    config = exercised(model, n_neurons=20)
    s = validation.validate(config, images_ending_faint(config=config), learn=learn, target="numpy", seed=0,
                            progress=False)
    assert s["presentations_spikedyn"] > 2  # the faint image was repeated, on both sides alike
    assert_agree(s, learn=learn)


@pytest.mark.parametrize("learn", [False, True])
def test_agrees_when_euler_overshoots_and_the_membrane_is_clipped(learn):
    """Lateral weight 1000: one spike gives dt/tau_m * gi = 5, where unclipped Euler diverges
    (without the clip in the Brian2 twin, Brian2 fires 201 spikes here against spikedyn's 10)."""
    config = NetworkConfig(model="lateral", n_neurons=20)
    config = dataclasses.replace(config, lateral=dataclasses.replace(config.lateral, w_lateral=1000.0))
    s = validation.validate(config, images_ending_faint(n=1), learn=learn, target="numpy", progress=False)
    assert_agree(s, learn=learn)


@pytest.mark.parametrize("learn", [False, True])
def test_agrees_with_ink_normalisation(learn):
    """Each image's base rate scaled to a target mean pixel (gains 0.25-4 clipped to [0.5, 2] here, a
    blank image at gain 1, its retries at the unscaled increment): Brian2 is fed the same scaled rasters and
    agrees spike for spike. Three presentations at most: the blank image's retries are the test's cost."""
    config = exercised("lateral", n_neurons=20).replace(input__normalise_mean_pixel=33.3, input__max_gain=2.0,
                                                        input__max_presentations=3)
    s = validation.validate(config, bright_images(3, [150, 30, 400, 0]), learn=learn, target="numpy",
                            progress=False)
    assert_agree(s, learn=learn)


def test_agrees_with_the_centre_surround_filter():
    """``input.centre_surround``: both simulators take their images through the same filter
    (``simulation.network.input_images``), so Brian2 learns from the filtered images spike for spike."""
    config = exercised("lateral", n_neurons=20).replace(input__centre_surround=True, input__max_presentations=3)
    s = validation.validate(config, bright_images(3, [250, 400]), learn=True, target="numpy", progress=False)
    assert_agree(s, learn=True)


@pytest.mark.mnist
@pytest.mark.parametrize("model", one_model_per_composition())
def test_numpy_target_agrees_on_mnist_training(model, mnist_dir):
    from spikedyn.io.data import load_split

    images, _ = load_split("train", mnist_dir, download=False, progress=False)
    s = validation.validate(exercised(model, n_neurons=20), images[:2], learn=True, target="numpy",
                            progress=False)
    assert_agree(s, learn=True)


def test_standalone_agrees_and_leaves_the_runtime_device_usable(tmp_path):
    """One compiled project run per presentation with run_args; runtime Brian2 works afterwards."""
    from brian2 import get_device
    from brian2.devices.device import runtime_device

    from spikedyn.reference.brian2 import Brian2Network

    config = NetworkConfig(model="diehl-cook", n_neurons=10)
    images = images_ending_faint(seed=2)
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
@pytest.mark.usefixtures("offline_env")
def test_validate_command_writes_json(tmp_path, run_cli):
    data_dir = write_mnist_dir(tmp_path / "data", images_ending_faint(n=2))
    out = tmp_path / "validate.json"
    code, stdout, err = run_cli("validate", "--model", "lateral", "--neurons", "10", "--samples", "2",
                                "--target", "numpy", "--data-dir", data_dir, "--json", out, "--quiet")
    assert code == 0, err
    s = json.loads(out.read_text())
    for key in ("spike_agreement", "count_agreement", "max_weight_abs_diff", "max_theta_abs_diff", "model",
                "neurons", "samples", "target", "learn", "seed", "wall_seconds_spikedyn", "wall_seconds_brian2",
                "first_disagreement"):
        assert key in s
    assert s["model"] == "lateral" and s["samples"] == 2 and s["learn"] is False
    assert s["spike_agreement"] == 1.0
    assert "first disagreement: none" in stdout


@pytest.mark.usefixtures("offline_env")
def test_too_many_samples_is_a_usage_error(tmp_path, run_cli):
    data_dir = write_mnist_dir(tmp_path / "data", images_ending_faint(n=2))
    code, out, err = run_cli("validate", "--samples", "5", "--data-dir", data_dir, "--json", tmp_path / "v.json")
    assert_usage_error(code, err, "--samples=5 but the train set has 2 images")
    assert out == "" and entries(tmp_path) == ["data"]


@pytest.mark.usefixtures("offline_env")
def test_validate_after_learning_compares_the_recalled_network(tmp_path, run_cli):
    """--then-infer: both networks, trained, answer more images with learning off; with metaplastic's
    budget at 3 spikes neurons commit in the first images, so the recalled thresholds and gains answer."""
    data_dir = write_mnist_dir(tmp_path / "data", images_ending_faint(n=5))
    out = tmp_path / "validate.json"
    code, stdout, err = run_cli("validate", "--model", "metaplastic", "--neurons", "10", "--samples", "3",
                                "--learn", "--then-infer", "2", "--set", "metaplastic.commit_spikes=3",
                                "--target", "numpy", "--data-dir", data_dir, "--json", out, "--quiet")
    assert code == 0, err
    s = json.loads(out.read_text())
    assert s["learn"] is True and s["samples"] == 3 and s["spike_agreement"] == 1.0
    after = s["after_learning"]
    assert after["samples"] == 2 and after["spikes_spikedyn"] > 0
    assert after["spike_agreement"] == 1.0 and after["count_agreement"] == 1.0 and after["presentations_agree"]
    assert "after learning, inference on the next 2 samples: spike agreement 1.000000" in stdout
    # the same images answered by the network trained alone: its recall is in play (some neuron committed)
    from spikedyn.config import parse_set
    from spikedyn.io.data import load_samples

    config = NetworkConfig(model="metaplastic", n_neurons=10).replace(**dict([parse_set("metaplastic.commit_spikes=3")]))
    net = Network(config, seed=0)
    images, _ = load_samples("train", data_dir, 5, progress=False)
    net.train(images[:3], progress=False)
    assert (net._state.plasticity.activity >= 3).any()
    assert not np.array_equal(net.test_thresholds(), net.theta)  # recalled at commitment, not as trained
    # and the recall shapes these answers: without it (training unchanged) the same network spikes at other steps
    off = config.replace(**dict([parse_set("metaplastic.recall_at_commit=false"),
                                 parse_set("metaplastic.recall_gain=false")]))
    plain = Network(off, seed=0)
    plain.train(images[:3], progress=False)
    assert np.array_equal(plain.weights, net.weights)

    def spikes(network):
        r = network.respond(images[3:5], stream=STREAM_TEST, n_jobs=1, progress=False, record="spikes").spikes
        return list(zip(r.sample, r.step, r.neuron))

    assert len(spikes(net)) == after["spikes_spikedyn"] and spikes(net) != spikes(plain)
    code, out_text, err = run_cli("validate", "--then-infer", "2", "--data-dir", data_dir, "--json", tmp_path / "x.json")
    assert_usage_error(code, err, "--then-infer answers images after learning; add --learn")
    # the images after the learned ones, and only as many as asked for
    code, out_text, err = run_cli("validate", "--model", "lateral", "--neurons", "4", "--samples", "2", "--learn",
                                  "--then-infer", "2", "--target", "numpy", "--data-dir", data_dir, "--json",
                                  tmp_path / "short.json", "--quiet")
    assert code == 0, err
    assert json.loads((tmp_path / "short.json").read_text())["after_learning"]["samples"] == 2
    code, out_text, err = run_cli("validate", "--learn", "--samples", "4", "--then-infer", "2", "--data-dir", data_dir,
                                  "--json", tmp_path / "x.json")
    assert_usage_error(code, err, "--samples 4 and --then-infer 2 need 6 images but the train set has 5; "
                                   "ask for fewer")
    assert not (tmp_path / "x.json").exists()
