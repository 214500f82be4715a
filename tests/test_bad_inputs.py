"""Bad inputs through the command line: every one ends in exit status 2, one line
``spikedyn: error: ...`` on stderr (no traceback), and nothing written.

The cases are a table, :data:`CASES`: ``(id, argv_builder, expected_substring)``. A builder
takes a :class:`Inputs` (a scratch working directory, with helpers that write the bad file a
case needs there) and returns the argument list; the test snapshots the directory after the
builder ran and checks that the command left it exactly as it was. Most cases fail while the
command checks its inputs, before anything is compiled or simulated.

``python tests/test_bad_inputs.py`` runs every case and prints them as a markdown table
(:func:`table_markdown`).
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # helpers, when run as a script

from helpers import idx_bytes, make_digits_dir, write_bytes  # noqa: E402

from spikedyn import cli  # noqa: E402
from spikedyn.cost import ACTIVITY_FILE  # noqa: E402
from spikedyn.cost.tables import TABLE_DIR  # noqa: E402
from spikedyn.io.data import MNIST_FILES  # noqa: E402

TRAIN_IMAGES, TRAIN_LABELS = MNIST_FILES["train"]
TEST_IMAGES, TEST_LABELS = MNIST_FILES["test"]
TABLE_TEXT = (TABLE_DIR / "horowitz-45nm.toml").read_text()
STATISTICS = json.loads(ACTIVITY_FILE.read_text())


class Inputs:
    """The scratch working directory of one case, and the bad files a case writes into it."""

    def __init__(self, root: Path, digits: Path) -> None:
        self.root = root
        self.digits = digits  # a good gzip MNIST-format directory, outside root: never written

    def write(self, name: str, content: str | bytes) -> Path:
        """A file ``name`` in the working directory holding ``content``."""
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    def data(self, **files: bytes | None) -> Path:
        """A copy of the good data directory in which each ``stem=content`` replaces that file
        (raw bytes, or gzip-compressed when the stem ends in ``_gz``); None deletes it."""
        directory = self.root / "data"
        shutil.copytree(self.digits, directory)
        for key, content in files.items():
            gz = key.endswith("_gz")
            stem = {"images": TRAIN_IMAGES, "labels": TRAIN_LABELS, "test_images": TEST_IMAGES,
                    "test_labels": TEST_LABELS}[key.removesuffix("_gz")]
            (directory / f"{stem}.gz").unlink(missing_ok=True)
            if content is not None:
                write_bytes(directory / (f"{stem}.gz" if gz else stem), content, gz=gz)
        return directory

    def dir(self, name: str) -> Path:
        """A new empty directory ``name`` in the working directory."""
        path = self.root / name
        path.mkdir(parents=True)
        return path

    def put(self, directory: Path, name: str, content: str | bytes | None) -> Path:
        """``directory`` after writing ``content`` into its file ``name`` (None: make it a directory)."""
        if content is None:
            (directory / name).mkdir()
        elif isinstance(content, bytes):
            (directory / name).write_bytes(content)
        else:
            (directory / name).write_text(content)
        return directory

    def train_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        with gzip.open(self.digits / f"{TRAIN_IMAGES}.gz") as f:
            images = np.frombuffer(f.read()[16:], np.uint8).reshape(-1, 28, 28)
        with gzip.open(self.digits / f"{TRAIN_LABELS}.gz") as f:
            labels = np.frombuffer(f.read()[8:], np.uint8).copy()
        return images, labels

    def run(self, edit_meta: Callable[[dict], Any] | None = None, **arrays: Any) -> Path:
        """A run directory of an untrained 3-neuron network (``Network.save``), with run.json edited
        by ``edit_meta``, any ``name=array`` replacing ``name.npy`` and any ``name_npz={key: array}``
        writing ``name.npz``."""
        from spikedyn import Network, NetworkConfig

        path = self.root / "run"
        Network(NetworkConfig(model="lateral", n_neurons=3), seed=0).save(path)
        if edit_meta is not None:
            meta = json.loads((path / "run.json").read_text())
            edit_meta(meta)
            (path / "run.json").write_text(json.dumps(meta))
        for name, array in arrays.items():
            if name.endswith("_npz"):
                np.savez(path / f"{name.removesuffix('_npz')}.npz", **array)
            else:
                np.save(path / f"{name}.npy", array)
        return path

    def table(self, old: str, new: str) -> Path:
        """The default energy table with the text ``old`` replaced by ``new``."""
        assert old in TABLE_TEXT, old
        return self.write("table.toml", TABLE_TEXT.replace(old, new))

    def statistics(self, edit: Callable[[dict], Any]) -> Path:
        """The shipped activity statistics, edited by ``edit``."""
        data = json.loads(json.dumps(STATISTICS))
        edit(data)
        return self.write("statistics.json", json.dumps(data))


Builder = Callable[[Inputs], list]
CASES: list[tuple[str, Builder, str]] = []
#: What is wrong in each case, by id (the "bad input" column of the table).
WHAT: dict[str, str] = {}
#: Cases that do not exit cleanly yet, by id: the fix they need (xfail, strict).
XFAIL: dict[str, str] = {}


def case(id: str, what: str, expected: str, build: Builder) -> None:
    """Add the case ``id``: ``build`` makes the bad input ``what`` and the argument list; the
    error line must contain ``expected``."""
    assert id not in WHAT, id
    CASES.append((id, build, expected))
    WHAT[id] = what


def command_of(argv: list) -> str:
    """The subcommand of an argument list (``plot weights`` for the plot commands)."""
    return " ".join(map(str, argv[:2])) if argv[0] == "plot" else str(argv[0])


def chmod(directory: Path, name: str, mode: int) -> Path:
    (directory / name).chmod(mode)
    return directory


def idx_header(type_code: int, *shape: int) -> bytes:
    return bytes([0, 0, type_code, len(shape)]) + b"".join(n.to_bytes(4, "big") for n in shape)


def corrupt_gzip(array: np.ndarray) -> bytes:
    """The gzip stream of ``array``'s IDX file with 64 bytes in its middle overwritten."""
    data = bytearray(gzip.compress(idx_bytes(array), mtime=0))
    middle = len(data) // 2
    data[middle:middle + 64] = bytes(range(64))
    return bytes(data)


def _del(*keys: str) -> Callable[[dict], None]:
    def edit(d: dict) -> None:
        for key in keys[:-1]:
            d = d[key]
        del d[keys[-1]]
    return edit


def _set(value: Any, *keys: str) -> Callable[[dict], None]:
    def edit(d: dict) -> None:
        for key in keys[:-1]:
            d = d[key]
        d[keys[-1]] = value
    return edit


TRAIN = ["train", "--out", "out", "--json", "out.json", "--quiet"]
FIRST5 = ["--assign-from", "first", "--assign-samples", "5"]
ESTIMATE = ["estimate", "--json", "out.json"]
CONTINUAL = ["continual", "--out", "out", "--json", "out.json", "--quiet", "--no-iid", "--samples-per-task", "1",
             "--assign-per-class", "1", "--test-per-class", "1"]

# -- network configs: TOML, JSON, --set ----------------------------------------------------------
case("config-missing", "--config names a file that does not exist", "does not exist",
     lambda c: [*ESTIMATE, "--config", c.root / "absent.toml"])
case("config-suffix", "--config file that is neither .toml nor .json", "must end in .toml or .json",
     lambda c: [*ESTIMATE, "--config", c.write("net.yaml", "n_neurons: 4\n")])
case("config-directory", "--config names a directory", "cannot read config file",
     lambda c: [*ESTIMATE, "--config", c.dir("dir.toml")])
case("config-not-utf8", "config file of binary bytes", "not UTF-8",
     lambda c: [*TRAIN, "--config", c.write("net.toml", b"\xff\xfe\x00\x80")])
case("toml-syntax", "config TOML with a syntax error", "invalid TOML",
     lambda c: [*TRAIN, "--config", c.write("net.toml", "[stdp]\nnu_post = \n")])
case("toml-unknown-key", "config TOML with a misspelt field", "'stdp.nu_postt'",
     lambda c: [*ESTIMATE, "--config", c.write("net.toml", "[stdp]\nnu_postt = 0.02\n")])
case("toml-unknown-section", "config TOML with an unknown section", "unknown config section 'stdpp'",
     lambda c: [*ESTIMATE, "--config", c.write("net.toml", "[stdpp]\nnu_post = 0.02\n")])
case("toml-wrong-type", "config TOML: a string where a number belongs", "stdp.nu_post must be a number",
     lambda c: [*ESTIMATE, "--config", c.write("net.toml", '[stdp]\nnu_post = "abc"\n')])
case("toml-negative-tau", "config TOML: negative membrane time constant", "excitatory.tau_m_ms must be > 0",
     lambda c: [*CONTINUAL, "--config", c.write("net.toml", "[excitatory]\ntau_m_ms = -100.0\n")])
case("toml-dt-above-tau", "config TOML: dt not smaller than every time constant",
     "timing.dt_ms=2.0 must be smaller than every time constant; excitatory.tau_ge_ms=1.0 is not",
     lambda c: [*TRAIN, "--config", c.write("net.toml", "[timing]\ndt_ms = 2.0\n")])
case("toml-infinite-stdp-tau", "config TOML: STDP trace time constant inf (cannot be tabulated)",
     "stdp.tau_pre_ms=inf is too long",
     lambda c: [*TRAIN, "--config", c.write("net.toml", "[stdp]\ntau_pre_ms = inf\n")])
case("toml-saturating-rates", "config TOML: input rates of more than one spike per step",
     "saturate the input",
     lambda c: [*CONTINUAL, "--config", c.write("net.toml", "[input]\nrate_hz_per_unit = 10.0\n")])
case("toml-huge-int", "config TOML: an integer of 5,000 digits", "invalid TOML",
     lambda c: [*ESTIMATE, "--config", c.write("net.toml", "n_neurons = " + "9" * 5000 + "\n")])
case("toml-reversal-order", "config TOML: inhibitory reversal potential above the excitatory one",
     "excitatory.e_inh_mv=10.0 must be below excitatory.e_exc_mv=0.0",
     lambda c: [*ESTIMATE, "--config", c.write("net.toml", "[excitatory]\ne_inh_mv = 10.0\n")])
case("json-syntax", "config JSON with a trailing comma", "invalid JSON at line 1",
     lambda c: [*CONTINUAL, "--config", c.write("net.json", '{"n_neurons": 4,}')])
case("json-not-object", "config JSON that is an array", "table/object",
     lambda c: [*ESTIMATE, "--config", c.write("net.json", "[1, 2]")])
case("json-nan", "config JSON: NaN learning rate", "stdp.nu_post must be a finite number",
     lambda c: [*ESTIMATE, "--config", c.write("net.json", '{"stdp": {"nu_post": NaN}}')])
case("json-weight-sum", "config JSON: weight sum above n_input * w_max", "stdp.weight_sum=1000.0 cannot be reached",
     lambda c: [*TRAIN, "--config", c.write("net.json", '{"stdp": {"weight_sum": 1000.0}}')])
case("json-int-too-large", "config JSON: n_neurons = 10**30", "n_neurons must be an integer in",
     lambda c: [*ESTIMATE, "--config", c.write("net.json", '{"n_neurons": 1' + "0" * 30 + "}")])
case("json-section-not-table", "config JSON: a section given as a number", "stdp must be a table/object",
     lambda c: [*ESTIMATE, "--config", c.write("net.json", '{"stdp": 3}')])
case("set-not-number", "--set with a value that is not a number", "stdp.nu_post must be a number",
     lambda c: [*TRAIN, "--set", "stdp.nu_post=abc"])
case("set-unknown-section", "--set of an unknown section", "unknown config section 'bogus'",
     lambda c: [*ESTIMATE, "--set", "bogus.x=1"])
case("set-no-equals", "--set without =", "is not of the form section.field=value",
     lambda c: [*ESTIMATE, "--set", "stdp.nu_post"])
case("set-not-whole-steps", "--set of a presentation that is not a whole number of steps",
     "timing.present_ms=350.3 is not a whole number of dt_ms=0.5 steps",
     lambda c: [*CONTINUAL, "--set", "timing.present_ms=350.3"])
case("set-reset-outside", "--set of a reset potential outside the reversal potentials",
     "inhibitory.v_reset_mv=5.0 must lie between the reversal potentials",
     lambda c: [*ESTIMATE, "--set", "inhibitory.v_reset_mv=5"])
case("set-subnormal-rate", "--set of a learning rate below the kernels' zero",
     "stdp.nu_post=1e-320 is below 1e-100",
     lambda c: [*TRAIN, "--set", "stdp.nu_post=1e-320"])
case("set-max-presentations", "--set input.max_presentations=0", "input.max_presentations must be >= 1",
     lambda c: [*ESTIMATE, "--set", "input.max_presentations=0"])
case("set-too-many-synapses", "--set n_neurons=1000000 (784 million synapses)", "n_input * n_neurons <=",
     lambda c: [*TRAIN, "--set", "n_neurons=1000000"])

# -- command-line options ------------------------------------------------------------------------
case("option-neurons-zero", "--neurons 0", "must be a positive integer", lambda c: [*TRAIN, "--neurons", "0"])
case("option-seed-negative", "--seed -1", "seed must be in [0, 2**63)", lambda c: [*TRAIN, "--seed", "-1"])
case("option-model-unknown", "--model that is not registered", "invalid choice: 'bogus'",
     lambda c: [*ESTIMATE, "--model", "bogus"])
case("option-out-missing", "train without --out", "--out",
     lambda c: ["train", "--quiet"])
case("option-json-directory", "--json names a directory", "is a directory",
     lambda c: ["estimate", "--json", c.dir("j")])
case("option-out-exists", "--out is an existing non-empty directory", "already exists",
     lambda c: [*TRAIN, "--data-dir", c.digits, "--out", c.write("old/file.txt", "x").parent])
case("option-samples-too-many", "--train-samples above the images in the data", "--train-samples=1000 but",
     lambda c: [*TRAIN, "--data-dir", c.digits, "--train-samples", "1000"])
case("option-png-suffix", "plot -o without .png", "must end in .png",
     lambda c: ["plot", "weights", c.root / "run", "-o", "weights.txt"])

# -- data directories and IDX files --------------------------------------------------------------
case("data-dir-missing", "--data-dir that does not exist", "does not exist",
     lambda c: [*TRAIN, "--data-dir", c.root / "absent"])
case("data-dir-file", "--data-dir names a file", "is not a directory",
     lambda c: [*TRAIN, "--data-dir", c.write("data.txt", "x")])
case("data-dir-incomplete", "data directory without the test files", "lacks t10k-images-idx3-ubyte[.gz]",
     lambda c: [*TRAIN, "--data-dir", c.data(test_images=None, test_labels=None)])
case("idx-truncated", "images file cut in the middle of the pixels", "is truncated",
     lambda c: [*TRAIN, "--data-dir", c.data(images=idx_header(8, 30, 28, 28) + bytes(1000))])
case("idx-bad-magic", "images file that does not start with 00 00", "is not an IDX file",
     lambda c: [*TRAIN, "--data-dir", c.data(images=b"PK\x03\x04" + bytes(100))])
case("idx-float-type", "images file of float32 (type code 0x0D)", "IDX type code 0x0D",
     lambda c: [*TRAIN, "--data-dir", c.data(images=idx_header(0x0D, 30, 28, 28) + bytes(4 * 30 * 784))])
case("idx-too-many-dims", "IDX header declaring 70 dimensions", "declares 70 dimensions",
     lambda c: [*TRAIN, "--data-dir", c.data(images=idx_header(8, *[1] * 70) + b"\x07")])
case("idx-images-2d", "images file holding a 2-D array", "must be 3-D",
     lambda c: [*TRAIN, "--data-dir", c.data(images=idx_bytes(np.zeros((30, 784), np.uint8)))])
case("idx-label-count", "labels file with fewer labels than images", "holds 30 images but",
     lambda c: [*TRAIN, "--data-dir", c.data(labels=idx_bytes(np.zeros(29, np.uint8)))])
case("idx-label-range", "labels file with a label of 10", "labels must be 0-9",
     lambda c: [*TRAIN, "--data-dir", c.data(labels=idx_bytes(np.full(30, 10, np.uint8)))])
case("idx-no-images", "a split of zero images", "holds no pixels",
     lambda c: [*TRAIN, "--data-dir", c.data(images=idx_bytes(np.zeros((0, 28, 28), np.uint8)),
                                             labels=idx_bytes(np.zeros(0, np.uint8)))])
case("idx-empty-file", "an empty labels file", "is empty",
     lambda c: [*TRAIN, "--data-dir", c.data(labels=b"")])
case("idx-corrupt-gzip", "gzip file with corrupted compressed data", "is a corrupt gzip file",
     lambda c: [*TRAIN, "--data-dir", c.data(images=corrupt_gzip(c.train_arrays()[0]))])
case("idx-gzip-truncated", "gzip file cut short", "truncated",
     lambda c: [*TRAIN, "--data-dir",
                c.data(images=gzip.compress(idx_bytes(np.zeros((30, 28, 28), np.uint8)))[:-20])])
case("idx-directory", "a directory where the images file belongs", "is a directory",
     lambda c: [*TRAIN, "--data-dir", c.put(c.data(images=None), TRAIN_IMAGES, None)])
case("data-evaluate-test-split", "evaluate with a corrupt test-images file", "is not an IDX file",
     lambda c: ["evaluate", c.run(), "--quiet", *FIRST5, "--data-dir", c.data(test_images=b"\x01\x02\x03\x04" + bytes(64))])

# -- continual task lists ------------------------------------------------------------------------
case("tasks-class-10", "--tasks 0,10 (MNIST has classes 0-9)", "--tasks names class 10",
     lambda c: [*CONTINUAL, "--data-dir", c.digits, "--tasks", "0,10"])
case("tasks-repeated", "--tasks 3,3 (a class in two tasks)", "--tasks repeats class 3",
     lambda c: [*CONTINUAL, "--data-dir", c.digits, "--tasks", "3,3"])
case("tasks-not-a-class", "--tasks 0,x", "is not a class",
     lambda c: [*CONTINUAL, "--data-dir", c.digits, "--tasks", "0,x"])
case("tasks-class-missing-in-data", "--tasks 8,9 on data without a 9", "have only 0 images",
     lambda c: [*CONTINUAL, "--tasks", "8,9", "--data-dir",
                c.data(labels=idx_bytes(np.minimum(c.train_arrays()[1], 8)))])

# -- energy tables (estimate --energy-table) ------------------------------------------------------
case("table-unknown-name", "--energy-table that is neither built in nor a .toml", "unknown energy table 'nope'",
     lambda c: [*ESTIMATE, "--energy-table", "nope"])
case("table-missing-file", "--energy-table FILE that does not exist", "cannot read energy table",
     lambda c: [*ESTIMATE, "--energy-table", c.root / "absent.toml"])
case("table-syntax", "energy table that is not TOML", "is not valid TOML",
     lambda c: [*ESTIMATE, "--energy-table", c.write("table.toml", "name = \n")])
case("table-missing-cost", "energy table whose [costs] lacks an operation", "[costs]: missing weight_writes",
     lambda c: [*ESTIMATE, "--energy-table", c.table("weight_writes = { memory = 1 }", "")])
case("table-unknown-operation", "energy table pricing an operation spikedyn does not count",
     "[costs]: unknown key 'weight_teleports'",
     lambda c: [*ESTIMATE, "--energy-table", c.table("weight_writes = { memory = 1 }",
                                                      "weight_writes = { memory = 1 }\nweight_teleports = {}")])
case("table-unknown-row", "energy table whose cost names a row it does not price", "unknown row 'add_fp64'",
     lambda c: [*ESTIMATE, "--energy-table", c.table("synaptic_events_input = { add_fp32 = 1 }",
                                                      "synaptic_events_input = { add_fp64 = 1 }")])
case("table-negative-energy", "energy table with a negative energy", "energy_pj must be a finite number >= 0",
     lambda c: [*ESTIMATE, "--energy-table", c.table("energy_pj = 0.9,", "energy_pj = -0.9,")])
case("table-text-energy", "energy table with an energy given as text", "energy_pj must be a finite number >= 0",
     lambda c: [*ESTIMATE, "--energy-table", c.table("energy_pj = 0.9,", 'energy_pj = "0.9 pJ",')])
case("table-nan-energy", "energy table with a NaN energy", "got nan",
     lambda c: [*ESTIMATE, "--energy-table", c.table("energy_pj = 0.9,", "energy_pj = nan,")])
case("table-no-operations", "energy table without [operations]", "missing operations",
     lambda c: [*ESTIMATE, "--energy-table", c.write("table.toml", 'name = "t"\ndescription = "d"\nsource = "s"\n')])
case("table-no-costs", "energy table without [costs]", "has no [costs] section",
     lambda c: [*ESTIMATE, "--energy-table", c.write("table.toml", TABLE_TEXT.split("[costs]")[0])])
case("search-table-missing", "search --energy-table FILE that does not exist", "cannot read energy table",
     lambda c: ["search", "--models", "lateral", "--neurons", "10", "--out", "s", "--energy-table",
                c.root / "absent.toml", "--data-dir", c.digits, "--quiet"])

# -- activity statistics (estimate --statistics) --------------------------------------------------
case("stats-missing-file", "--statistics FILE that does not exist", "cannot read activity statistics",
     lambda c: [*ESTIMATE, "--statistics", c.root / "absent.json"])
case("stats-syntax", "statistics file that is not JSON", "are not valid JSON",
     lambda c: [*ESTIMATE, "--statistics", c.write("statistics.json", "{models: }")])
case("stats-not-object", "statistics file holding a JSON array", "expected a JSON object",
     lambda c: [*ESTIMATE, "--statistics", c.write("statistics.json", "[]")])
case("stats-missing-field", "statistics lacking one field of one phase", "missing 'presentations_per_sample'",
     lambda c: [*ESTIMATE, "--statistics", c.statistics(_del("models", "diehl-cook", "100", "train",
                                                             "presentations_per_sample"))])
case("stats-negative", "statistics with a negative value", "must be a finite number >= 0, got -1",
     lambda c: [*ESTIMATE, "--statistics", c.statistics(_set(-1, "models", "lateral", "400", "inference",
                                                             "input_spikes_factor"))])
case("stats-bad-size", "statistics with a size that is not a number", "has the size 'many'",
     lambda c: [*ESTIMATE, "--statistics", c.statistics(_set({}, "models", "lateral", "many"))])

# -- run directories (evaluate, plot) -------------------------------------------------------------
case("run-missing", "evaluate a directory that is not a run", "is not a spikedyn run (no run.json)",
     lambda c: ["evaluate", c.write("notes/a.txt", "x").parent, "--data-dir", c.digits])
case("run-json-corrupt", "run.json that is not JSON", "is unreadable",
     lambda c: ["evaluate", c.put(c.run(), "run.json", "{"), "--data-dir", c.digits])
case("run-json-binary", "run.json of binary bytes", "is unreadable",
     lambda c: ["evaluate", c.put(c.run(), "run.json", b"\xff\xfe\x00"), "--data-dir", c.digits])
case("run-other-format", "run of another format version", "has run format 99",
     lambda c: ["evaluate", c.run(_set(99, "format_version")), "--data-dir", c.digits])
case("run-other-model", "run whose config names an unknown model", "unknown model 'hopfield'",
     lambda c: ["plot", "weights", c.run(_set("hopfield", "config", "model")), "-o", "w.png"])
case("run-lacks-config", "run.json without its config", "lacks config",
     lambda c: ["evaluate", c.run(_del("config")), "--data-dir", c.digits])
case("run-weights-shape", "run whose weights.npy has the wrong shape", "weights.npy has shape (5, 5)",
     lambda c: ["plot", "weights", c.run(weights=np.zeros((5, 5))), "-o", "w.png"])
case("run-weights-garbage", "run whose weights.npy is not a NumPy file", "is incomplete or corrupt",
     lambda c: ["evaluate", c.put(c.run(), "weights.npy", b"garbage"), "--data-dir", c.digits])
case("run-weights-nan", "run whose weights are NaN", "weights",
     lambda c: ["plot", "weights", c.run(weights=np.full((784, 3), np.nan)), "-o", "w.png"])
case("run-training-not-object", 'run.json whose "training" is a string', "training",
     lambda c: ["evaluate", c.run(_set("x", "training")), "--data-dir", c.digits, "--quiet"])
case("run-learned-images-text", 'run.json whose "training.learned_images" is text', "learned_images",
     lambda c: ["evaluate", c.run(_set({"learned_images": "many"}, "training")), "--data-dir", c.digits, "--quiet"])
case("plot-no-evaluation", "plot confusion of a run never evaluated", "has no evaluation yet",
     lambda c: ["plot", "confusion", c.run(), "-o", "c.png"])
case("plot-evaluation-garbage", "plot confusion of a run whose evaluation.npz is not a NumPy file", "evaluation.npz",
     lambda c: ["plot", "confusion", c.put(c.run(), "evaluation.npz", b"garbage"), "-o", "c.png"])
case("plot-evaluation-no-confusion", "plot confusion of a run whose evaluation.npz lacks the matrix",
     "evaluation.npz", lambda c: ["plot", "confusion", c.run(evaluation_npz={"other": np.zeros(3)}), "-o", "c.png"])
case("evaluate-assign-samples", "evaluate --assign-samples without --assign-from first/last",
     "--assign-samples goes with --assign-from first or last",
     lambda c: ["evaluate", c.run(), "--assign-samples", "5", "--data-dir", c.digits])
case("evaluate-test-samples", "evaluate --test-samples above the test images", "--test-samples=1000 but",
     lambda c: ["evaluate", c.run(), *FIRST5, "--test-samples", "1000", "--data-dir", c.digits, "--quiet"])
case("run-untrained", "evaluate a run that learned from no images", "the run learned from 0 training images",
     lambda c: ["evaluate", c.run(), "--data-dir", c.digits, "--quiet"])

# -- search, validate, bench -----------------------------------------------------------------------
case("search-unknown-model", "search --models naming an unregistered model", "unknown model 'bogus'",
     lambda c: ["search", "--models", "bogus", "--out", "s", "--data-dir", c.digits, "--quiet"])
case("search-weight-bits", "search --weight-bits 3", "weight_bits must be among",
     lambda c: ["search", "--models", "lateral", "--weight-bits", "3", "--out", "s", "--data-dir", c.digits])
case("search-grid-steps", "search --grid with a presentation that is not whole steps", "not a whole number",
     lambda c: ["search", "--models", "lateral", "--grid", "timing.present_ms=250.3", "--out", "s",
                "--data-dir", c.digits])
case("validate-data-dir", "validate --data-dir that does not exist", "does not exist",
     lambda c: ["validate", "--json", "v.json", "--data-dir", c.root / "absent", "--quiet"])
case("validate-config", "validate --set n_neurons=0", "n_neurons must be a positive integer",
     lambda c: ["validate", "--json", "v.json", "--set", "n_neurons=0", "--data-dir", c.digits])
case("bench-model", "bench --model naming an unregistered model", "bogus",
     lambda c: ["bench", "--model", "bogus", "--json", "b.json"])
case("bench-config", "bench --set timing.dt_ms=-1", "timing.dt_ms must be > 0",
     lambda c: ["bench", "--set", "timing.dt_ms=-1", "--json", "b.json", "--data-dir", c.digits])

# -- convert, surrogate, search families (docs/deep.md) ----------------------------------------------
CONVERT = ["convert", "--json", "c.json", "--quiet"]
SURROGATE = ["surrogate", "--json", "s.json", "--quiet"]
case("convert-task", "convert --task naming an unknown task", "unknown task 'atari'; choose one of mnist, cartpole",
     lambda c: [*CONVERT, "--task", "atari", "--data-dir", c.digits])
case("convert-timesteps", "convert --timesteps 0", "timesteps must be an integer >= 1",
     lambda c: [*CONVERT, "--timesteps", "0", "--data-dir", c.digits])
case("convert-percentile-zero", "convert --percentile 0", "percentile must be a number in (0, 100]",
     lambda c: [*CONVERT, "--percentile", "0", "--data-dir", c.digits])
case("convert-percentile-above", "convert --percentile 100.5", "percentile must be a number in (0, 100]",
     lambda c: [*CONVERT, "--percentile", "100.5", "--data-dir", c.digits])
case("convert-percentile-nan", "convert --percentile nan", "percentile must be a number in (0, 100]",
     lambda c: [*CONVERT, "--percentile", "nan", "--data-dir", c.digits])
case("convert-hidden", "convert --hidden 0", "hidden must be one or more layer sizes >= 1",
     lambda c: [*CONVERT, "--hidden", "500,0", "--data-dir", c.digits])
case("convert-readout", "convert --readout naming an unknown readout", "readout must be one of spikes, spikes+membrane",
     lambda c: [*CONVERT, "--readout", "rate", "--data-dir", c.digits])
case("convert-input", "convert --input naming an unknown coding", "input must be one of constant, poisson",
     lambda c: [*CONVERT, "--input", "burst", "--data-dir", c.digits])
case("convert-sweep", "convert --sweep beyond --timesteps", "sweep step counts must be integers in [1, timesteps=10]",
     lambda c: [*CONVERT, "--timesteps", "10", "--sweep", "5,20", "--data-dir", c.digits])
case("convert-cartpole-poisson", "convert --task cartpole --input poisson", "constant currents",
     lambda c: [*CONVERT, "--task", "cartpole", "--input", "poisson"])
case("convert-table", "convert --energy-table naming an unknown table", "unknown energy table 'nochip'",
     lambda c: [*CONVERT, "--energy-table", "nochip", "--data-dir", c.digits])
case("surrogate-task", "surrogate --task naming an unknown task", "unknown task 'cifar'; choose one of mnist",
     lambda c: [*SURROGATE, "--task", "cifar", "--data-dir", c.digits])
case("surrogate-layers", "surrogate --layers 0", "layers must be an integer >= 1",
     lambda c: [*SURROGATE, "--layers", "0", "--data-dir", c.digits])
case("surrogate-timesteps", "surrogate --timesteps 0", "timesteps must be an integer >= 1",
     lambda c: [*SURROGATE, "--timesteps", "0", "--data-dir", c.digits])
case("surrogate-shape", "surrogate --surrogate naming an unknown shape", "surrogate must be one of fast-sigmoid",
     lambda c: [*SURROGATE, "--surrogate", "sigmoid", "--data-dir", c.digits])
case("surrogate-scale", "surrogate --scale 0", "surrogate scale must be a number > 0",
     lambda c: [*SURROGATE, "--scale", "0", "--data-dir", c.digits])
case("surrogate-width", "surrogate --width 0", "width must be an integer >= 1",
     lambda c: [*SURROGATE, "--width", "0", "--data-dir", c.digits])
case("surrogate-beta", "surrogate --beta 1.5", "beta must be in (0, 1]",
     lambda c: [*SURROGATE, "--beta", "1.5", "--data-dir", c.digits])
case("search-family-bits", "search --models converted-mlp --weight-bits 8", "converted-mlp runs with 32-bit weights only",
     lambda c: ["search", "--models", "converted-mlp", "--weight-bits", "8", "--out", "s", "--data-dir", c.digits])
case("search-family-field", "search --grid naming a field a family does not have", "surrogate-mlp has no field 'depth'",
     lambda c: ["search", "--models", "surrogate-mlp", "--grid", "surrogate-mlp.depth=2", "--out", "s",
                "--data-dir", c.digits])
case("search-family-continual", "search --models surrogate-mlp --protocol continual",
     "surrogate-mlp is trained and scored under the standard protocol only",
     lambda c: ["search", "--models", "surrogate-mlp", "--protocol", "continual", "--out", "s", "--data-dir", c.digits])

# -- checkpoints, resume, search files -------------------------------------------------------------
def _checkpoint(c: Inputs, command: str = "train", model: str = "spikedyn", version: str | None = None,
                seed: int = 0) -> Path:
    """A directory holding a checkpoint of ``command`` for ``model`` (written by spikedyn ``version``)."""
    from spikedyn.io import checkpoint
    from spikedyn.config import NetworkConfig

    options = {"config": NetworkConfig(model=model, n_neurons=3).to_dict(), "seed": seed, "train_samples": 5,
               "epochs": 1}
    path = c.root / "ck"
    checkpoint.Checkpointer(path, command, options).save({}, {})
    if version is not None:
        with np.load(path / "checkpoint.npz") as z:
            meta = json.loads(z["__meta__"].tobytes())
        meta["spikedyn_version"] = version
        np.savez(path / "checkpoint.npz", __meta__=np.frombuffer(json.dumps(meta).encode(), np.uint8))
    return path


SPEC = 'models = ["lateral"]\nneurons = [10]\n'
case("resume-nothing", "train --resume of a directory without a checkpoint", "has no checkpoint.npz",
     lambda c: ["train", "--resume", c.dir("empty"), "--data-dir", c.digits])
case("resume-finished", "continual --resume of a finished run", "it is finished or not a spikedyn continual output",
     lambda c: ["continual", "--resume", c.run(), "--data-dir", c.digits])
case("resume-other-command", "continual --resume of a train checkpoint", "resume it with: spikedyn train --resume",
     lambda c: ["continual", "--resume", _checkpoint(c), "--data-dir", c.digits])
case("resume-other-model", "train --resume DIR --model asp of a spikedyn checkpoint",
     "holds a run of model 'spikedyn', not 'asp'",
     lambda c: ["train", "--resume", _checkpoint(c), "--model", "asp", "--data-dir", c.digits])
case("resume-other-version", "a checkpoint written by another spikedyn version", "was written by spikedyn '0.0.1'",
     lambda c: ["train", "--resume", _checkpoint(c, version="0.0.1"), "--data-dir", c.digits])
case("resume-changed-option", "train --resume DIR --neurons 50", "drop --neurons",
     lambda c: ["train", "--resume", _checkpoint(c), "--neurons", "50", "--data-dir", c.digits])
case("resume-default-given", "train --resume DIR --seed 0 (the default) of a seed-5 run",
     "continues the run as it was started (with --seed 5); drop --seed",
     lambda c: ["train", "--resume", _checkpoint(c, seed=5), "--seed", "0", "--data-dir", c.digits])
case("resume-continual-default-given", "continual --resume DIR --split test (the default) of another run",
     "drop --split", lambda c: ["continual", "--resume", _checkpoint(c, "continual"), "--split", "test",
                                "--data-dir", c.digits])
case("resume-corrupt", "a checkpoint of garbage bytes", "checkpoint.npz is not a spikedyn checkpoint",
     lambda c: ["train", "--resume", c.put(c.dir("ck"), "checkpoint.npz", b"garbage"), "--data-dir", c.digits])
case("rerun-other-options", "train --out of an interrupted run with other options",
     "holds an interrupted run with other options",
     lambda c: ["train", "--neurons", "4", "--train-samples", "5", "--out", _checkpoint(c), "--data-dir", c.digits])
case("checkpoint-every-zero", "train --checkpoint-every 0", "must be a finite number of seconds > 0",
     lambda c: ["train", "--checkpoint-every", "0", "--out", "r", "--data-dir", c.digits])
case("search-nothing", "search without --models or --spec", "give --models",
     lambda c: ["search", "--out", "s", "--data-dir", c.digits])
case("search-spec-unknown-key", "search file with a misspelt key", "unknown key 'neuron'",
     lambda c: ["search", "--spec", c.write("s.toml", SPEC + "neuron = [5]\n"), "--out", "s", "--data-dir", c.digits])
case("search-spec-syntax", "search file that is not TOML", "is not valid TOML",
     lambda c: ["search", "--spec", c.write("s.toml", "models = [lateral\n"), "--out", "s", "--data-dir", c.digits])
case("search-spec-type", "search file whose neurons are text", "neurons must be a non-empty list of integers",
     lambda c: ["search", "--spec", c.write("s.json", '{"models": ["lateral"], "neurons": "100"}'), "--out", "s",
                "--data-dir", c.digits])
case("search-spec-budget", "search file with a negative memory budget", "max_memory_kb must be a positive number",
     lambda c: ["search", "--spec", c.write("s.toml", SPEC + "[budget]\nmax_memory_kb = -1\n"), "--out", "s",
                "--data-dir", c.digits])
case("search-spec-config", "search file whose base config has an unknown field", "unknown config field",
     lambda c: ["search", "--spec", c.write("s.toml", SPEC + "[config.stdp]\nnu = 1\n"), "--out", "s",
                "--data-dir", c.digits])
case("search-spec-and-options", "search --spec FILE with --neurons as well", "drop --neurons",
     lambda c: ["search", "--spec", c.write("s.toml", SPEC), "--neurons", "5", "--out", "s", "--data-dir", c.digits])

# -- issue 24: config, compare, a continual run's network, plot subsets, search budgets and clusters ------
def _continual_network(c: Inputs) -> Path:
    """A run directory as 'spikedyn continual' writes OUT/network (assigned classes saved)."""
    return c.run(_set({"command": "continual", "train_samples": 9}, "training"),
                 assignments=np.array([0, 1, -1], np.int64))


case("config-output-suffix", "config -o FILE that is neither .toml nor .json", "must end in .toml or .json",
     lambda c: ["config", "-o", "net.yaml"])
case("config-set-unknown", "config --set of an unknown section", "unknown config section 'bogus'",
     lambda c: ["config", "--set", "bogus.x=1"])
case("config-format", "config --format xml", "invalid choice: 'xml'", lambda c: ["config", "--format", "xml"])
case("config-format-and-suffix", "config --format json -o net.toml", "drop --format",
     lambda c: ["config", "--format", "json", "-o", "net.toml"])
case("compare-missing", "compare a path that does not exist", "does not exist",
     lambda c: ["compare", c.root / "absent", "--out", "cmp"])
case("compare-nothing", "compare a directory holding no run", "found no continual or evaluated run",
     lambda c: ["compare", c.write("notes/a.txt", "x").parent, "--out", "cmp"])
case("compare-bad-json", "compare a JSON file that is not JSON", "is not a readable JSON file",
     lambda c: ["compare", c.write("x.json", "{"), "--out", "cmp"])
case("compare-other-json", "compare an estimate's JSON", "holds no continual or evaluated run",
     lambda c: ["compare", c.write("e.json", '{"command": "estimate"}'), "--json", "c.json"])
case("compare-out-exists", "compare --out an existing non-empty directory", "already exists",
     lambda c: ["compare", c.run(), "--out", c.write("cmp/file.txt", "x").parent])
case("evaluate-missing-path", "evaluate a path that does not exist", "does not exist",
     lambda c: ["evaluate", c.root / "absent", "--data-dir", c.digits])
case("evaluate-stored-none", "evaluate --assign-from stored of a run saved without classes",
     "was saved without assigned classes", lambda c: ["evaluate", c.run(), "--assign-from", "stored",
                                                      "--data-dir", c.digits])
case("evaluate-learned-continual", "evaluate --assign-from learned of a continual run's network",
     "learned from images drawn task by task", lambda c: ["evaluate", _continual_network(c), "--assign-from",
                                                           "learned", "--data-dir", c.digits])
def _continual_out(c: Inputs) -> Path:
    """A directory as 'spikedyn continual --out' writes it: results, and the network in network/."""
    out = c.put(c.dir("c"), "continual.json", "{}")
    c.run().rename(out / "network")
    return out


case("evaluate-continual-dir", "evaluate a continual run's directory instead of its network",
     "its trained network is", lambda c: ["evaluate", _continual_out(c), "--data-dir", c.digits])
case("plot-show-syntax", "plot weights --show 5-3", "is not a range of neuron indices",
     lambda c: ["plot", "weights", c.run(), "-o", "w.png", "--show", "5-3"])
case("plot-show-beyond", "plot weights --show 7 of a 3-neuron run", "--show 7 is not a neuron of",
     lambda c: ["plot", "weights", c.run(), "-o", "w.png", "--show", "0,7"])
case("search-scheduler-timeout", "search --scheduler-timeout 0", "must be a finite number of seconds > 0",
     lambda c: ["search", "--models", "lateral", "--scheduler-timeout", "0", "--out", "s"])
case("search-scheduler-unreachable", "search --scheduler where no scheduler listens",
     "cannot reach the Dask scheduler at tcp://127.0.0.1:9 within 1 s",
     lambda c: ["search", "--models", "lateral", "--neurons", "10", "--executor", "dask", "--scheduler",
                "tcp://127.0.0.1:9", "--scheduler-timeout", "1", "--out", "s", "--json", "s.json",
                "--data-dir", c.digits])

case("export-missing", "export a path that does not exist", "does not exist",
     lambda c: ["export", c.root / "absent", "-o", "net.nir"])
case("export-not-a-run", "export a directory that is not a run", "not a spikedyn run",
     lambda c: ["export", c.dir("empty"), "-o", "net.nir"])
case("export-suffix", "export -o a name that does not end in .nir", "must end in .nir",
     lambda c: ["export", c.run(), "-o", "net.h5"])
case("export-exists", "export -o an existing file", "exists; remove it or choose another name",
     lambda c: ["export", c.run(), "-o", c.write("net.nir", "keep")])
case("export-format", "export --format onnx", "invalid choice: 'onnx'",
     lambda c: ["export", c.run(), "--format", "onnx", "-o", "net.nir"])
case("export-json-is-output", "export --json naming the -o file", "--json and -o name the same file",
     lambda c: ["export", c.run(), "-o", "net.nir", "--json", "net.nir"])

if os.name == "posix" and hasattr(os, "geteuid") and os.geteuid() != 0:  # root reads every file
    case("data-unreadable", "images file without read permission", "cannot be opened",
         lambda c: [*TRAIN, "--data-dir", chmod(c.data(), f"{TRAIN_IMAGES}.gz", 0)])



def tree(root: Path) -> dict[str, tuple[bool, int, int]]:
    """Every path under ``root``: (is a directory, size, modification time)."""
    out = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        out[str(path.relative_to(root))] = (path.is_dir(), st.st_size if not path.is_dir() else 0, st.st_mtime_ns)
    return out


def run_case(build: Builder, root: Path, digits: Path) -> tuple[list[str], int, str, dict, dict]:
    """Build the case's inputs in ``root`` (the working directory) and run the command there; returns
    the arguments, the exit status, stderr, and the tree of ``root`` before and after."""
    import contextlib
    import io

    argv = [str(a) for a in build(Inputs(root, digits))]
    before = tree(root)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = cli.main(argv)
    return argv, code, err.getvalue(), before, tree(root)


PARAMS = [pytest.param(id, build, expected, id=id,
                       marks=[pytest.mark.xfail(strict=True, reason=XFAIL[id])] if id in XFAIL else [])
          for id, build, expected in CASES]


#: Commands the table must cover.
COMMANDS = ("train", "evaluate", "continual", "estimate", "search", "convert", "surrogate", "plot", "validate", "bench",
            "config", "compare", "export")


def test_the_table_is_long_and_covers_every_command(tmp_path: Path, digits_dir: Path) -> None:
    assert len(CASES) >= 40
    commands = set()
    for id, build, _ in CASES:
        root = tmp_path / id
        root.mkdir()
        commands.add(command_of(build(Inputs(root, digits_dir))).split()[0])
    assert commands == set(COMMANDS)


@pytest.mark.parametrize("id, build, expected", PARAMS)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(id: str, build: Builder, expected: str, tmp_path: Path,
                                                            digits_dir: Path, offline_env, monkeypatch) -> None:
    root = tmp_path / "work"
    root.mkdir()
    monkeypatch.chdir(root)
    argv, code, err, before, after = run_case(build, root, digits_dir)
    assert command_of(argv).split()[0] in COMMANDS
    lines = err.splitlines()
    assert "Traceback" not in err, err
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("spikedyn: error: "), err
    assert expected in lines[0], lines[0]
    assert after == before, "the command created or changed files"


def table_markdown() -> str:
    """Run every case (in a scratch directory, offline) and return the markdown table
    ``| # | command | bad input | message |``."""
    saved = dict(os.environ)
    cwd = os.getcwd()
    rows = ["| # | command | bad input | message |", "|---:|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ.pop("SPIKEDYN_DATA_DIR", None)
        os.environ.update(SPIKEDYN_MNIST_MIRRORS="http://127.0.0.1:9/", XDG_CACHE_HOME=str(tmp / "cache"),
                          no_proxy="127.0.0.1,localhost", NO_PROXY="127.0.0.1,localhost")
        digits = make_digits_dir(tmp / "digits")
        try:
            for k, (id, build, expected) in enumerate(CASES, 1):
                root = tmp / id
                root.mkdir()
                os.chdir(root)
                try:
                    argv, code, err, before, after = run_case(build, root, digits)
                except Exception as exc:  # noqa: BLE001 - a case that still needs a fix (XFAIL)
                    argv = [str(a) for a in build(Inputs(tmp / f"{id}-argv", digits))]
                    rows.append(f"| {k} | `{command_of(argv)}` | {WHAT[id]} | **uncaught {type(exc).__name__}: "
                                f"{str(exc).splitlines()[0]}** |")
                    continue
                lines = err.strip().splitlines()
                errors = [line for line in lines if line.startswith("spikedyn: error: ")]
                message = errors[-1].removeprefix("spikedyn: error: ") if errors else "(no error)"
                message = message.replace(str(root) + "/", "").replace(str(digits), "DIGITS").replace(
                    str(tmp / "cache"), "~/.cache").replace("|", "\\|")
                ok = code == 2 and after == before and len(lines) == 1 and "Traceback" not in err
                status = "" if ok else f" **(exit {code}{', wrote files' if after != before else ''}" \
                                       f"{', traceback' if 'Traceback' in err else ''})**"
                rows.append(f"| {k} | `{command_of(argv)}` | {WHAT[id]} | {message}{status} |")
        finally:
            os.chdir(cwd)
            os.environ.clear()
            os.environ.update(saved)
    return "\n".join(rows)


if __name__ == "__main__":
    print(table_markdown())
