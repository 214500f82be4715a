"""A new model with new parameters is one module plus one registry line: shown on a throwaway model.

Everything the model needs is in this file, the way a model module of ``spikedyn/models/``
would hold it: a parameter section (a frozen dataclass with its defaults, its ranges and a
rule of its own), a kernel record type, a hook implementation Numba compiles into the time
loop, and the part that ties them together and declares its section. Registering it (here
for the duration of a test, ``models.registered``) is the only other step: the config then
has the section (``config.leak.floor``, ``--set leak.floor=...``, TOML and JSON), the
checks apply to it, the cost model prices it, and a network of the model trains, saves,
loads and runs from the command line.

The model's kernels are compiled in this process and never saved to the package's kernel
cache (:mod:`spikedyn.core.kernel_cache`: their types are defined outside the package, and
another process could not import this module to load them); the test checks that too.
"""

from __future__ import annotations

import dataclasses
import math
import pickle
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest

from spikedyn import Network, cli, cost, models
from spikedyn.config import NetworkConfig, parse_set
from spikedyn.core.kernel_cache import cache_dir
from spikedyn.core.parts import implements
from spikedyn.core.traces import after_presentation, on_post, on_pre, synapse_history, synapse_significance, transmit
from spikedyn.errors import ConfigError
from spikedyn.io.data import load_mnist
from spikedyn.io.runs import read_meta
from spikedyn.models.competition import DirectLateral
from spikedyn.models.stdp import (DiehlCookStdp, Normalisation, _no_significance, _stdp_on_post, _stdp_on_pre,
                                  _stdp_synapse_history, _stdp_transmit)
from spikedyn.models.threshold import Homeostatic


# -- the model, as its module would hold it ------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class LeakParams:
    """A leak of every weight toward ``floor`` after each training presentation (section ``leak``):
    ``w = floor + (w - floor) * exp(-(present_ms + rest_ms) / tau_leak_ms)``."""

    tau_leak_ms: float = 1e5
    floor: float = 0.0

    POSITIVE = ("tau_leak_ms",)
    NON_NEGATIVE = ("floor",)

    def check(self, config) -> None:
        """A rule between sections: the floor lies below the weights' bound."""
        if not self.floor < config.stdp.w_max:
            raise ConfigError(f"leak.floor={self.floor!r} must be below stdp.w_max={config.stdp.w_max!r}; "
                              "lower it")


class LeakyStdpRecord(NamedTuple):  # its own type: Numba dispatches the hooks on it
    nu_pre: float
    nu_post: float
    w_max: float
    keep: float
    floor: float


# Diehl & Cook's pathways, and a step of its own after each presentation.
implements(on_pre, LeakyStdpRecord)(_stdp_on_pre)
implements(transmit, LeakyStdpRecord)(_stdp_transmit)
implements(on_post, LeakyStdpRecord)(_stdp_on_post)
implements(synapse_history, LeakyStdpRecord)(_stdp_synapse_history)
implements(synapse_significance, LeakyStdpRecord)(_no_significance)


@implements(after_presentation, LeakyStdpRecord)
def _leak_after_presentation(rec, w, theta, counts, activity, rate, significance, updates, sync):
    n_in, n_out = w.shape
    for i in range(n_in):
        for j in range(n_out):
            w[i, j] = rec.floor + (w[i, j] - rec.floor) * rec.keep
    updates[4] += n_in * n_out


class LeakyStdp(DiehlCookStdp):
    """Part: Diehl & Cook's STDP with a leak toward a floor; ``config.stdp``, ``config.leak``."""

    name = "stdp-leaky"
    sections = {"leak": LeakParams}

    def operation_profile(self, config):
        return {**super().operation_profile(config), "scans_weights": True}

    def record(self, config) -> LeakyStdpRecord:
        s, leak, t = config.stdp, config.leak, config.timing
        return LeakyStdpRecord(nu_pre=float(s.nu_pre), nu_post=float(s.nu_post), w_max=float(s.w_max),
                               keep=math.exp(-(t.present_ms + t.rest_ms) / leak.tau_leak_ms), floor=float(leak.floor))


#: The registry line.
MODEL = models.Model("lateral-leak", "lateral with a leak of the weights toward a floor",
                     DirectLateral(), LeakyStdp(), Homeostatic(), Normalisation())


# -- the config side (no kernel runs) --------------------------------------------------------------------
def test_a_registered_part_brings_its_section_to_the_config() -> None:
    assert "leak" not in NetworkConfig().sections()
    with pytest.raises(ConfigError, match="unknown config section 'leak'"):
        parse_set("leak.floor=0.1")
    with models.registered(MODEL):
        config = NetworkConfig(model="lateral-leak", n_neurons=6)
        assert config.leak == LeakParams() and config.leak.tau_leak_ms == 1e5
        assert "leak" in config.to_dict() and "leak" in NetworkConfig().sections()  # every config has it
        assert parse_set("leak.floor=0.1") == ("leak__floor", 0.1)
        varied = config.replace(**dict([parse_set("leak.floor=0.1")]), leak__tau_leak_ms=2000.0)
        assert varied.leak == LeakParams(tau_leak_ms=2000.0, floor=0.1)
        assert NetworkConfig(model="lateral-leak", leak=LeakParams(floor=0.2)).leak.floor == 0.2
        assert dataclasses.replace(varied, leak=LeakParams()).leak == LeakParams()
        # TOML and JSON round trips, and what Dask ships
        assert NetworkConfig.from_toml(varied.to_toml()) == varied
        assert "[leak]\ntau_leak_ms = 2000.0\nfloor = 0.1\n" in varied.to_toml()
        assert NetworkConfig.from_json(varied.to_json()) == varied
        assert pickle.loads(pickle.dumps(varied)) == varied
        # the checks apply to it: its ranges, its own rule, and the rules over every section
        with pytest.raises(ConfigError, match=r"^leak\.floor must be >= 0, got -0\.1$"):
            config.replace(leak__floor=-0.1)
        with pytest.raises(ConfigError, match=r"^leak\.floor=1\.5 must be below stdp\.w_max=1\.0; lower it$"):
            config.replace(leak__floor=1.5)
        with pytest.raises(ConfigError, match=r"leak\.tau_leak_ms=0\.25 is not; lower timing\.dt_ms"):
            config.replace(leak__tau_leak_ms=0.25)
        with pytest.raises(ConfigError, match="leak.floor must be a number"):
            NetworkConfig.from_dict({"model": "lateral-leak", "leak": {"floor": "high"}})
        with pytest.raises(ConfigError, match=r"unknown config section 'lek'; sections are excitatory, inhibitory, "
                                              r"lateral, stdp, input, timing, spikedyn, asp, metaplastic, recall, delays, leak, precision"):
            parse_set("lek.floor=0.1")
        # the cost model: what the part stores and does, priced before anything is trained
        assert cost.footprint_bytes(config) == cost.footprint_bytes(config.replace(model="lateral"))
        statistics = cost.load_statistics()
        statistics["models"] = {**statistics["models"], "lateral-leak": statistics["models"]["lateral"]}
        leaky, lateral = (cost.estimate(config.replace(model=m), statistics=statistics)
                          for m in ("lateral-leak", "lateral"))
        assert leaky["memory_kb"] == lateral["memory_kb"]
        reads = [e["operations"]["train"]["weight_reads"]["model"] for e in (leaky, lateral)]
        assert reads[0] > reads[1]  # it reads every weight after each presentation
        assert leaky["train_energy_uj"] > lateral["train_energy_uj"]
    assert "lateral-leak" not in models.names() and "leak" not in NetworkConfig().sections()
    with pytest.raises(ConfigError, match="unknown model 'lateral-leak'"):
        NetworkConfig(model="lateral-leak")


def test_a_part_declaring_a_taken_or_bad_section_is_refused() -> None:
    class Clash(LeakyStdp):
        name = "stdp-clash"
        sections = {"asp": LeakParams}  # the asp model's section name, another class

    class Base(LeakyStdp):
        name = "stdp-base"
        sections = {"stdp": LeakParams}

    class Mutable(LeakyStdp):
        name = "stdp-mutable"
        sections = {"mutable": type("MutableParams", (), {})}

    for part, message in ((Clash(), "section 'asp' of 'stdp-clash' is LeakParams, but a registered part declares "
                                    "it as AspParams"),
                          (Base(), "declares the section 'stdp'; a section name must be an identifier other than"),
                          (Mutable(), "section 'mutable' must be a frozen dataclass")):
        with pytest.raises(ValueError, match=message):
            models.register(models.Model("bad", "bad", DirectLateral(), part, Homeostatic(), Normalisation()))
        assert "bad" not in models.names()


# -- the network side ------------------------------------------------------------------------------------
def test_a_network_of_the_new_model_trains_saves_loads_and_runs_from_the_cli(tmp_path: Path, digits_dir: Path):
    x, _ = load_mnist("train", str(digits_dir))
    with models.registered(MODEL):
        config = NetworkConfig(model="lateral-leak", n_neurons=6).replace(leak__tau_leak_ms=2000.0)
        net = Network(config, seed=1)
        net.train(x[:6], progress=False)
        assert net.update_counts()["decay"] >= 6 * 784 * 6  # the leak ran after every presentation
        net.save(tmp_path / "run")
        loaded = Network.load(tmp_path / "run")
        assert loaded.config == config and np.array_equal(loaded.weights, net.weights)
        loaded.train(x[6:10], progress=False)
        straight = Network(config, seed=1)
        straight.train(x[:10], progress=False)
        assert np.array_equal(loaded.weights, straight.weights) and np.array_equal(loaded.theta, straight.theta)
        code = cli.main(["train", "--model", "lateral-leak", "--neurons", "6", "--set", "leak.tau_leak_ms=2000",
                         "--seed", "1", "--train-samples", "10", "--data-dir", str(digits_dir),
                         "--out", str(tmp_path / "cli"), "--quiet"])
        assert code == 0
        assert np.array_equal(Network.load(tmp_path / "cli").weights, straight.weights)
    # The leak changed what was learned: lateral's network, same seed, differs.
    assert read_meta(tmp_path / "run")["config"]["model"] == "lateral-leak"
    plain = Network(NetworkConfig(model="lateral", n_neurons=6), seed=1)
    plain.train(x[:6], progress=False)
    assert not np.array_equal(net.weights, plain.weights)
    # Nothing compiled for the model defined here went into the package's cache, which every later
    # process loads (an index naming this module would fail to load in all of them).
    for index in cache_dir().glob("*.nbi"):
        assert __name__ not in index.read_bytes().decode("latin-1"), index.name
