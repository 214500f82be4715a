"""Plain helpers that several test modules share: MNIST-format files, synthetic images,
and the checks of a command-line usage error.

Fixtures are in ``conftest.py``; these are ordinary functions a test calls with its own
arguments (``conftest.py`` has pytest rewrite the asserts in this module). All
randomness is seeded.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from spikedyn.cli import EXIT_USAGE
from spikedyn.config import NetworkConfig
from spikedyn.core.params import InputParams
from spikedyn.io.data import MNIST_FILES
from spikedyn.io.datasets import idx_bytes

# Captured at import, before any fixture clears SPIKEDYN_DATA_DIR for a test.
REAL_DATA_DIR = os.environ.get("SPIKEDYN_DATA_DIR")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# ----------------------------------------------------------------------------------------
# MNIST-format (IDX) files
# ----------------------------------------------------------------------------------------
def write_bytes(path: Path, content: bytes, *, gz: bool = False, level: int = 9, mtime: int = 0) -> Path:
    """Write ``content`` to ``path``, gzip-compressed if ``gz``."""
    path.write_bytes(gzip.compress(content, compresslevel=level, mtime=mtime) if gz else content)
    return path


def write_idx(path: Path, array: np.ndarray, *, gz: bool = False) -> Path:
    return write_bytes(path, idx_bytes(array), gz=gz)


def write_split(directory: Path, split: str, images: np.ndarray, labels: np.ndarray, *, gz: bool = False) -> None:
    """Write one split (``"train"`` or ``"test"``) under the MNIST file names, ``.gz`` if ``gz``."""
    suffix = ".gz" if gz else ""
    images_stem, labels_stem = MNIST_FILES[split]
    write_idx(directory / f"{images_stem}{suffix}", images, gz=gz)
    write_idx(directory / f"{labels_stem}{suffix}", labels, gz=gz)


def write_mnist_dir(directory: Path, images: np.ndarray, labels: np.ndarray | None = None, *,
                    test: tuple[np.ndarray, np.ndarray] | None = None, gz: bool = False) -> Path:
    """A data directory holding the four MNIST files (created if needed).

    The training split holds ``images`` (uint8, shape (n, 784) or (n, 28, 28)) with
    ``labels`` (all 0 when omitted); the test split holds ``test = (images, labels)``,
    by default the same as the training split.
    """
    directory.mkdir(parents=True, exist_ok=True)
    train = (images, np.zeros(len(images), np.uint8) if labels is None else labels)
    for split, (x, y) in (("train", train), ("test", test or train)):
        write_split(directory, split, np.asarray(x).reshape(len(x), 28, 28), y, gz=gz)
    return directory


# ----------------------------------------------------------------------------------------
# Synthetic images
# ----------------------------------------------------------------------------------------
def bright_images(seed: int, n_bright: Sequence[int]) -> np.ndarray:
    """Seeded uint8 images (n, 784): image k has ``n_bright[k]`` pixels of intensity 128-255."""
    rng = np.random.default_rng(seed)
    out = np.zeros((len(n_bright), 784), np.uint8)
    for k, m in enumerate(n_bright):
        idx = rng.choice(784, m, replace=False)
        out[k, idx] = rng.integers(128, 256, m)
    return out


def images_ending_faint(seed: int = 0, n: int = 2, *, config: NetworkConfig | None = None) -> np.ndarray:
    """Seeded uint8 images (n, 784): 150 bright random pixels each, but the last image is
    faint (120 pixels of one intensity in 50-89), so that it needs 2-5 presentations at the
    default input rate; for ``config``, the faint intensity is scaled by the default rate over
    the config's, so that a model with a higher input rate (``lateral-fast``) repeats it too."""
    scale = 1.0 if config is None else InputParams().rate_hz_per_unit / config.input.rate_hz_per_unit
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 784), np.uint8)
    for k in range(n):
        faint = k == n - 1
        pixels = rng.choice(784, size=120 if faint else 150, replace=False)
        images[k, pixels] = round(rng.integers(50, 90) * scale) if faint else rng.integers(128, 256, size=pixels.size)
    return images


def bar_digits(rng: np.random.Generator, labels: np.ndarray) -> np.ndarray:
    """28x28 uint8 images: class c is a bright 6x20 bar at a class-specific place, plus noise."""
    images = np.zeros((labels.size, 28, 28), np.uint8)
    for k, c in enumerate(labels):
        if c < 5:
            images[k, 4:24, 2 + 5 * c:8 + 5 * c] = 220
        else:
            images[k, 2 + 5 * (c - 5):8 + 5 * (c - 5), 4:24] = 220
        noise = rng.random((28, 28)) < 0.03
        images[k][noise] = rng.integers(100, 256, noise.sum())
    return images


def make_digits_dir(directory: Path, n_train: int = 30, n_test: int = 20, seed: int = 0) -> Path:
    """A gzip-compressed MNIST-format data directory of :func:`bar_digits`, every class
    equally often (up to rounding), in seeded random order."""
    rng = np.random.default_rng(seed)
    splits = []
    for n in (n_train, n_test):
        labels = (np.arange(n) % 10).astype(np.uint8)
        rng.shuffle(labels)
        splits.append((bar_digits(rng, labels), labels))
    return write_mnist_dir(directory, *splits[0], test=splits[1], gz=True)


# ----------------------------------------------------------------------------------------
# Network state
# ----------------------------------------------------------------------------------------
def canonical_state_arrays(arrays: dict) -> dict:
    """Flat state arrays (``state_arrays``) with every list (a field ``X`` with a companion count
    ``n_X``) in its canonical form: its members ascending, zeros after them. The order in which
    neurons joined a list, and what a buffer holds after its list, is no part of the state
    (``spikedyn.simulation.state._canonical_lists``); spikedyn before 0.3 saved both as they were."""
    out = {k: np.array(v) for k, v in arrays.items()}
    for name, items in out.items():
        part, _, field = name.rpartition(".")
        count = f"{part}.n_{field}" if part else f"n_{field}"
        if count in out:
            n = int(out[count][0])
            items[:n] = np.sort(items[:n])
            items[n:] = 0
    return out


def assert_states_equal(a, b) -> None:
    """Two ``network.State`` records hold the same state.

    A field ``X`` with a companion count ``n_X`` (e.g. ``active_i``/``n_active_i``) is a
    list of that length in a larger buffer; the rest of the buffer is scratch
    (uninitialised memory) and is not part of the state.
    """
    from spikedyn.simulation.state import NOT_SAVED

    not_state = {name for names in NOT_SAVED.values() for name in names}
    for name in a._fields:
        if name in not_state:  # derived from the config or scratch: not state
            continue
        x, y = getattr(a, name), getattr(b, name)
        if isinstance(x, tuple):  # the state of one population or part
            assert_states_equal(x, y)
            continue
        if "n_" + name in a._fields:
            n_a, n_b = int(getattr(a, "n_" + name)[0]), int(getattr(b, "n_" + name)[0])
            assert n_a == n_b, f"length of {name} differs"
            x, y = x[:n_a], y[:n_b]
        assert x.dtype == y.dtype and x.shape == y.shape, name
        assert np.array_equal(x, y), f"state field {name} differs"


# ----------------------------------------------------------------------------------------
# Command-line checks
# ----------------------------------------------------------------------------------------
def entries(directory: Path) -> list[str]:
    """The sorted names in ``directory``."""
    return sorted(p.name for p in directory.iterdir())


def assert_usage_error(code: int, err: str, *fragments: str) -> None:
    """Exit status 2 and exactly one line ``spikedyn: error: ...`` on stderr, no traceback,
    containing every fragment."""
    assert code == EXIT_USAGE == 2
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("spikedyn: error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def one_line(error) -> str:
    """The message of ``error`` (an exception, or pytest's ``ExceptionInfo`` of one), which must
    be one non-empty line."""
    text = str(getattr(error, "value", error))
    assert text and "\n" not in text and "\r" not in text, repr(text)
    return text


def assert_png(path: Path) -> None:
    """``path`` is a PNG file with some content, and no hidden temporary file was left beside it."""
    data = path.read_bytes()
    assert len(data) > len(PNG_SIGNATURE) + 100
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []


def images(ax) -> list:
    """The images (``AxesImage``) drawn into ``ax``."""
    from matplotlib.image import AxesImage

    return [a for a in ax.get_children() if isinstance(a, AxesImage)]


# ----------------------------------------------------------------------------------------
# Executors
# ----------------------------------------------------------------------------------------
def logged_task(task: dict) -> dict:
    """A worker for :func:`spikedyn.search.executors.run_tasks` that appends ``start <id>`` and
    ``end <id>`` to the file ``task["log"]`` (one ``O_APPEND`` write each: lines of concurrent
    workers never interleave) and returns ``{"n": task["n"]}``."""
    for word in ("start", "end"):
        fd = os.open(task["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            os.write(fd, f"{word} {task['id']}\n".encode())
        finally:
            os.close(fd)
    return {"n": task.get("n")}


# ----------------------------------------------------------------------------------------
# Models
# ----------------------------------------------------------------------------------------
#: Overrides with which a registered model exercises a mechanism its defaults leave off: ``asp``
#: has no leak by default (it was selected off), so tests of its leak switch it on; ``metaplastic``'s
#: neurons commit after hundreds of training spikes, which a test's few images never give, so here
#: they commit after 2, then hold 90 % of the threshold's rise, learn at a tenth of the rate and tire.
EXERCISE = {"asp": {"asp__leak_rate": 0.001},
            "metaplastic": {"metaplastic__commit_spikes": 2.0, "metaplastic__theta_hold": 0.9,
                            "metaplastic__consolidated_rate": 0.1, "metaplastic__fatigue": True,
                            "metaplastic__fatigue_per_spike": 0.5, "metaplastic__tau_fatigue_ms": 400.0}}


def exercised(model: str, **fields) -> NetworkConfig:
    """``NetworkConfig(model=model, **fields)`` with :data:`EXERCISE`'s overrides of the model."""
    return NetworkConfig(model=model, **fields).replace(**EXERCISE.get(model, {}))


def one_model_per_composition() -> list[str]:
    """The registered models, one per composition of parts (the first registered): a model with
    another's parts and other defaults (``lateral-fast``) is that model's code at other settings,
    so a test of the code (compiled loops, the Brian2 twin's equations) needs one of them."""
    from spikedyn import models

    first: dict[tuple, str] = {}
    for name in models.names():
        first.setdefault(tuple(part.name for part in models.get(name).parts.values()), name)
    return list(first.values())
