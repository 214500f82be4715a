"""How the fixtures of tests/test_compat.py were written: with spikedyn 7978f04, the flat layout.

Run with that version's code, e.g. from a worktree of that commit with its own environment::

    git worktree add /tmp/before 7978f04
    PYTHONPATH=/tmp/before SPIKEDYN_DATA_DIR=... python tests/data/7978f04/make_fixtures.py tests/data/7978f04

(the search fixture needs the real MNIST). It writes two run directories (``Network.save``),
the checkpoint of an interrupted ``spikedyn train``, a finished ``spikedyn search``, and in
``expected.npz`` what that version computed from them.
"""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

import spikedyn

sys.path.insert(0, str(Path(spikedyn.__file__).resolve().parents[1] / "tests"))  # that version's test helpers
from helpers import make_digits_dir  # noqa: E402
from spikedyn import checkpoint  # noqa: E402
from spikedyn.checkpoint import TrainProgress  # noqa: E402
from spikedyn.data import load_mnist  # noqa: E402
from spikedyn.network import state_arrays  # noqa: E402

out = Path(sys.argv[1])
for name in ("run-spikedyn", "run-diehl-cook", "train-interrupted", "search", "expected.npz"):
    shutil.rmtree(out / name, ignore_errors=True)
    (out / name).unlink(missing_ok=True) if (out / name).is_file() else None
out.mkdir(parents=True, exist_ok=True)
digits = make_digits_dir(out / "tmp-digits")
x, y = load_mnist("train", digits)
xt, yt = load_mnist("test", digits)
expected = {}

# run directories (Network.save) and what the network does after loading
for model in ("spikedyn", "diehl-cook"):
    net = spikedyn.Network(spikedyn.NetworkConfig(model=model, n_neurons=4), seed=5)
    net.train(x[:6], progress=False)
    net.assign(x[6:12], y[6:12], n_jobs=1)
    net.save(out / f"run-{model}")
    expected[f"{model}/predict"] = net.predict(xt, n_jobs=1)
    net.train(x[12:16], progress=False)
    expected[f"{model}/weights"] = net.weights
    expected[f"{model}/theta"] = net.theta
    for k, v in state_arrays(net._state).items():
        expected[f"{model}/state.{k}"] = v

# an interrupted 'spikedyn train': the checkpoint cmd_train writes, after 8 of 20 images
config = spikedyn.NetworkConfig(model="lateral", n_neurons=5)
options = json.loads(json.dumps({"config": config.to_dict(), "seed": 2, "train_samples": 20, "epochs": 1}))
net = spikedyn.Network(config, seed=2)
stats = net.train(x[:8], progress=False)
progress = TrainProgress().plus(stats)
session = checkpoint.Session(checkpoint.Checkpointer(out / "train-interrupted", "train", options))
session.save("train", *checkpoint.network_point(net, {"epoch": 0, "progress": progress.to_dict(),
                                                      "total": TrainProgress().to_dict()}))
done = out / "tmp-train-done"
subprocess.run([sys.executable, "-m", "spikedyn.cli", "train", "--model", "lateral", "--neurons", "5", "--seed", "2",
                "--train-samples", "20", "--data-dir", str(digits), "--quiet", "--out", str(done)], check=True)
expected["train/weights"] = np.load(done / "weights.npy")
expected["train/theta"] = np.load(done / "theta.npy")
shutil.rmtree(done)
np.savez(out / "expected.npz", **expected)

# a finished 'spikedyn search' (real MNIST): its stored results are reused by a rerun
search = out / "tmp-search"
subprocess.run([sys.executable, "-m", "spikedyn.cli", "search", "--models", "lateral,asp", "--neurons", "3",
                "--weight-bits", "32,8", "--train-samples", "10", "--validation-samples", "10", "--jobs", "1",
                "--quiet", "--out", str(search)], check=True, stdout=subprocess.DEVNULL)
keep = out / "search"
keep.mkdir()
for name in ("search.json", "search_spec.json"):
    shutil.copy(search / name, keep / name)
shutil.copytree(search / "candidates", keep / "candidates")
shutil.rmtree(search)
shutil.rmtree(digits)
print(sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()))
