"""How the fixture of tests/test_blocks.py was written: with spikedyn c31ca7d (0.2.0), training
on one thread, before a network could train on several.

Run with that version's code, e.g. from a worktree of that commit::

    git worktree add /tmp/before c31ca7d
    PYTHONPATH=/tmp/before python tests/data/c31ca7d/make_fixtures.py tests/data/c31ca7d

It trains a small network of every registered model, and a few variants (fixed-point
weights with stochastic rounding, a network large enough for aligned blocks), and stores in
``expected.npz`` the weights, thresholds, state (its neuron lists in canonical form), the
training operation counters, and the spike counts and presentations of every sample.
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/ (helpers)
from helpers import bright_images, canonical_state_arrays  # noqa: E402
from spikedyn.config import InputParams, NetworkConfig, TimingParams  # noqa: E402
from spikedyn.core.params import PrecisionParams  # noqa: E402
from spikedyn.simulation.network import Network  # noqa: E402
from spikedyn.simulation.state import state_arrays  # noqa: E402


def cases() -> dict:
    """name -> (config, seed, images): shared with tests/test_blocks.py (which imports this module)."""
    import spikedyn.models

    retry3 = InputParams(max_presentations=3)
    short = TimingParams(present_ms=100.0, rest_ms=50.0)
    images = bright_images(21, [150, 40, 220, 0, 200, 260])
    out = {model: (NetworkConfig(model=model, n_neurons=12, input=retry3, timing=short), 7, images)
           for model in spikedyn.models.names()}
    # asp with its leak, 0.2.0's default (0 by default since the selection at the default protocol)
    out["asp"] = (out["asp"][0].replace(asp__leak_rate=0.001), 7, images)
    out["lateral-8bit-stochastic"] = (
        NetworkConfig(model="lateral", n_neurons=12, input=retry3, timing=short,
                      precision=PrecisionParams(weight_bits=8, rounding="stochastic")), 8, images)
    out["diehl-cook-40"] = (NetworkConfig(model="diehl-cook", n_neurons=40, input=retry3, timing=short), 9, images)
    return out


def train(config, seed, images, **options) -> Network:
    net = Network(config, seed=seed)
    net.train(images[:3], progress=False, batch_size=2, **options)
    net.train(images[3:], progress=False, **options)
    return net


def outcome(net: Network, stats_counts=None) -> dict:
    out = {"weights": net.weights, "theta": net.theta, "counters": net._counters["train"]}
    out.update({f"state.{k}": v for k, v in canonical_state_arrays(state_arrays(net._state)).items()})
    return out


if __name__ == "__main__":
    expected = {}
    for name, (config, seed, images) in cases().items():
        for key, value in outcome(train(config, seed, images)).items():
            expected[f"{name}/{key}"] = value
        print(name, "done")
    np.savez_compressed(Path(sys.argv[1]) / "expected.npz", **expected)
