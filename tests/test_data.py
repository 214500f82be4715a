"""Tests for spikedyn.io.data: IDX reading, data-directory lookup and the MNIST downloader.

All data is synthetic and seeded; the downloader is exercised against an HTTP
server on 127.0.0.1. The test marked ``mnist`` checks the real files when
``SPIKEDYN_DATA_DIR`` is set.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from helpers import idx_bytes, write_bytes, write_idx, write_split
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from spikedyn.errors import DataError
from spikedyn.io import data

# Every test is kept away from the user's data dir, cache, mirrors and proxies.
pytestmark = pytest.mark.usefixtures("offline_env")

TRAIN_IMAGES, TRAIN_LABELS = data.MNIST_FILES["train"]
TEST_IMAGES, TEST_LABELS = data.MNIST_FILES["test"]


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #


def make_split(
    directory: Path, split: str, *, n: int = 12, seed: int = 0, gz: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Write a seeded synthetic split (``n`` 5x4 images) into ``directory``."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 5, 4), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    write_split(directory, split, images, labels, gz=gz)
    return images, labels


def make_dataset(directory: Path, *, seed: int = 0, gz: bool = False) -> dict[str, tuple]:
    """Write both synthetic splits into ``directory`` (created if needed)."""
    directory.mkdir(parents=True, exist_ok=True)
    return {
        split: make_split(directory, split, n=12 + i, seed=seed + i, gz=gz)
        for i, split in enumerate(data.MNIST_FILES)
    }


def assert_one_line_naming(error: BaseException, *names: str) -> None:
    message = str(error)
    assert "\n" not in message
    for name in names:
        assert name in message


def sha256_of_content(path: Path) -> str:
    """SHA-256 of a file's content, decompressed if it is gzip-compressed."""
    with open(path, "rb") as file:
        opener = gzip.open if file.read(2) == b"\x1f\x8b" else open
    digest = hashlib.sha256()
    with opener(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------- #
# Local HTTP mirror
# --------------------------------------------------------------------------- #


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (base signature)
        pass


@dataclass
class Mirror:
    """A directory served over HTTP on 127.0.0.1; ``requests`` lists the paths asked for."""

    root: Path
    url: str
    requests: list[str] = field(default_factory=list)

    def serve(self, stem: str, content: bytes, *, subdir: str = "", **gzip_kw) -> str:
        """Serve ``content`` gzip-compressed as ``<url><subdir>/<stem>.gz``; return the base URL."""
        directory = self.root / subdir
        directory.mkdir(parents=True, exist_ok=True)
        write_bytes(directory / f"{stem}.gz", content, gz=True, **gzip_kw)
        return f"{self.url}{subdir}/" if subdir else self.url


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[Mirror]:
    root = tmp_path / "mirror"
    root.mkdir()
    requests: list[str] = []

    class Handler(_QuietHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            super().do_GET()

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(root))
    )
    # A short poll interval keeps shutdown() (which waits for the next poll) fast.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
    )
    thread.start()
    try:
        yield Mirror(root, f"http://127.0.0.1:{server.server_port}/", requests)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def payload() -> tuple[str, bytes, dict[str, str]]:
    """A tiny synthetic IDX file: its stem, its content and a sha256 mapping for it."""
    stem = "tiny-images-idx3-ubyte"
    content = idx_bytes(np.random.default_rng(7).integers(0, 256, (6, 3, 3), dtype=np.uint8))
    return stem, content, {stem: hashlib.sha256(content).hexdigest()}


# --------------------------------------------------------------------------- #
# read_idx
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("shape", [(7,), (3, 5, 4), (0, 28, 28), (2, 1, 3, 2)])
@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
def test_read_idx_round_trip(tmp_path: Path, shape: tuple[int, ...], gz: bool) -> None:
    array = np.random.default_rng(1).integers(0, 256, size=shape, dtype=np.uint8)
    result = data.read_idx(write_idx(tmp_path / "f.idx", array, gz=gz))
    assert result.dtype == np.uint8
    assert result.shape == shape
    np.testing.assert_array_equal(result, array)
    assert result.flags.writeable
    result[...] = 0  # safe: the array is not a view of an immutable buffer


@settings(max_examples=40, deadline=None)
@given(
    array=hnp.arrays(np.uint8, hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=6)),
    gz=st.booleans(),
)
def test_read_idx_round_trip_property(array: np.ndarray, gz: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        result = data.read_idx(write_idx(Path(tmp) / "f", array, gz=gz))
    assert result.shape == array.shape
    np.testing.assert_array_equal(result, array)


def test_read_idx_detects_gzip_by_magic_not_name(tmp_path: Path) -> None:
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    compressed_without_suffix = write_idx(tmp_path / "images.idx", array, gz=True)
    raw_with_gz_suffix = write_idx(tmp_path / "images.idx.gz", array, gz=False)
    np.testing.assert_array_equal(data.read_idx(compressed_without_suffix), array)
    np.testing.assert_array_equal(data.read_idx(raw_with_gz_suffix), array)


_GOOD = idx_bytes(np.random.default_rng(2).integers(0, 256, size=(3, 5, 4), dtype=np.uint8))


@pytest.mark.parametrize(
    ("content", "match"),
    [
        pytest.param(_GOOD[:-5], r"truncated: header says 3x5x4 = 60", id="truncated-payload"),
        pytest.param(_GOOD + b"\x00\x01\x02", r"3 unexpected trailing bytes", id="trailing-bytes"),
        pytest.param(b"\x01\x02" + _GOOD[2:], r"not an IDX file", id="bad-magic"),
        pytest.param(_GOOD[:2] + b"\x0d" + _GOOD[3:], r"code 0x0D \(float32\)", id="type-code"),
        pytest.param(_GOOD[:2] + b"\x42" + _GOOD[3:], r"type code 0x42", id="unknown-type-code"),
        pytest.param(_GOOD[:9], r"truncated: an IDX header with 3 dim", id="truncated-header"),
        pytest.param(_GOOD[:3], r"truncated: an IDX header needs at least 4", id="truncated-magic"),
        pytest.param(b"\x00\x00\x08\x00", r"0 dimensions", id="zero-dims"),
        pytest.param(b"", r"is empty|decompresses to nothing", id="empty"),
    ],
)
@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
def test_read_idx_rejects_malformed(tmp_path: Path, content: bytes, match: str, gz: bool) -> None:
    path = write_bytes(tmp_path / "bad-images-idx3-ubyte", content, gz=gz)
    with pytest.raises(DataError, match=match) as excinfo:
        data.read_idx(path)
    assert_one_line_naming(excinfo.value, str(path), "re-download")


def test_read_idx_truncation_message_reports_sizes(tmp_path: Path) -> None:
    path = write_bytes(tmp_path / "train-images-idx3-ubyte", _GOOD[:-5])
    with pytest.raises(DataError) as excinfo:
        data.read_idx(path)
    # 16 header bytes + 60 data bytes - 5 cut = 55 data bytes.
    assert "header says 3x5x4 = 60 bytes of data but the file holds 55 bytes;" in str(excinfo.value)
    assert "--data-dir/SPIKEDYN_DATA_DIR" in str(excinfo.value)


def test_read_idx_rejects_corrupt_gzip(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    content = idx_bytes(rng.integers(0, 256, size=(40, 28, 28), dtype=np.uint8))
    compressed = bytearray(gzip.compress(content, mtime=0))
    middle = len(compressed) // 2
    compressed[middle : middle + 8] = bytes(b ^ 0xFF for b in compressed[middle : middle + 8])
    path = write_bytes(tmp_path / "t10k-images-idx3-ubyte.gz", bytes(compressed))
    with pytest.raises(DataError, match=r"(corrupt|truncated) gzip") as excinfo:
        data.read_idx(path)
    assert_one_line_naming(excinfo.value, str(path))


def test_read_idx_rejects_truncated_gzip(tmp_path: Path) -> None:
    compressed = gzip.compress(_GOOD, mtime=0)
    path = write_bytes(tmp_path / "t10k-labels-idx1-ubyte.gz", compressed[: len(compressed) // 2])
    with pytest.raises(DataError, match=r"truncated gzip") as excinfo:
        data.read_idx(path)
    assert_one_line_naming(excinfo.value, str(path))


def test_read_idx_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope-idx1-ubyte"
    with pytest.raises(DataError, match="does not exist") as excinfo:
        data.read_idx(path)
    assert_one_line_naming(excinfo.value, str(path))


def test_read_idx_more_dimensions_than_numpy_holds(tmp_path: Path) -> None:
    path = write_bytes(tmp_path / "deep-idx", bytes([0, 0, 8, 70]) + (1).to_bytes(4, "big") * 70 + b"\x07")
    with pytest.raises(DataError, match="declares 70 dimensions") as excinfo:
        data.read_idx(path)
    assert_one_line_naming(excinfo.value, str(path), "re-download")


def test_read_idx_of_a_directory_and_of_a_bad_path(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="is a directory, not an IDX file") as excinfo:
        data.read_idx(tmp_path)
    assert_one_line_naming(excinfo.value, str(tmp_path))
    with pytest.raises(DataError, match="cannot be opened"):
        data.read_idx(tmp_path / "a\0b")


@pytest.mark.skipif(sys.platform == "win32" or not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="needs POSIX permissions and a user other than root")
def test_read_idx_unreadable_file(tmp_path: Path) -> None:
    path = write_bytes(tmp_path / "secret-idx", _GOOD)
    path.chmod(0)
    with pytest.raises(DataError, match="cannot be opened") as excinfo:
        data.read_idx(path)
    assert_one_line_naming(excinfo.value, str(path), "permissions")


# --------------------------------------------------------------------------- #
# load_split and resolve_data_dir
# --------------------------------------------------------------------------- #


def test_a_directory_that_cannot_be_searched_is_a_data_error(tmp_path: Path, monkeypatch) -> None:
    """A data directory whose files cannot be looked at (no search permission; simulated, since
    root may look at anything) is reported, not a raw PermissionError."""
    make_dataset(tmp_path / "d")
    real_stat = Path.stat

    def stat(self, *args, **kwargs):
        if self.parent == tmp_path / "d":
            raise PermissionError(13, "Permission denied", str(self))
        return real_stat(self, *args, **kwargs)

    monkeypatch.setattr(Path, "stat", stat)
    with pytest.raises(DataError, match="cannot be accessed") as excinfo:
        data.load_split("train", tmp_path / "d")
    assert_one_line_naming(excinfo.value, str(tmp_path / "d"), "permission")


def test_a_directory_where_a_file_belongs_is_named(tmp_path: Path) -> None:
    make_dataset(tmp_path / "d")
    (tmp_path / "d" / TRAIN_IMAGES).unlink()
    (tmp_path / "d" / TRAIN_IMAGES).mkdir()
    with pytest.raises(DataError, match=f"lacks {TRAIN_IMAGES}\\[.gz\\] \\({TRAIN_IMAGES} is a directory\\)"):
        data.load_split("train", tmp_path / "d")


@pytest.mark.parametrize("shape", [(0, 5, 4), (3, 0, 4), (3, 5, 0)])
def test_load_split_rejects_a_split_without_pixels(tmp_path: Path, shape) -> None:
    write_split(tmp_path, "train", np.zeros(shape, np.uint8), np.zeros(shape[0], np.uint8))
    with pytest.raises(DataError, match="holds no pixels") as excinfo:
        data.load_split("train", tmp_path)
    assert_one_line_naming(excinfo.value, str(tmp_path / TRAIN_IMAGES))


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
def test_load_split_reads_both_splits(tmp_path: Path, gz: bool) -> None:
    expected = make_dataset(tmp_path / "d", gz=gz)
    for split, (images, labels) in expected.items():
        got_images, got_labels = data.load_split(split, tmp_path / "d", download=False)
        assert got_images.dtype == got_labels.dtype == np.uint8
        assert got_images.shape == images.shape and got_labels.shape == labels.shape
        np.testing.assert_array_equal(got_images, images)
        np.testing.assert_array_equal(got_labels, labels)


def test_load_split_prefers_raw_over_gz(tmp_path: Path) -> None:
    raw_images, _ = make_split(tmp_path, "test", seed=10, gz=False)
    gz_images, _ = make_split(tmp_path, "test", seed=11, gz=True)
    assert not np.array_equal(raw_images, gz_images)
    images, _ = data.load_split("test", tmp_path)
    np.testing.assert_array_equal(images, raw_images)


def test_load_split_count_mismatch_names_both_files(tmp_path: Path) -> None:
    make_split(tmp_path, "train", n=12)
    write_idx(tmp_path / TRAIN_LABELS, np.zeros(11, dtype=np.uint8))
    with pytest.raises(DataError, match="12 images but .* 11 labels") as excinfo:
        data.load_split("train", tmp_path)
    assert_one_line_naming(excinfo.value, TRAIN_IMAGES, TRAIN_LABELS)


def test_load_split_rejects_labels_out_of_range(tmp_path: Path) -> None:
    make_split(tmp_path, "train", n=12)
    labels = np.arange(12, dtype=np.uint8)  # 10 and 11 are out of range
    write_idx(tmp_path / TRAIN_LABELS, labels)
    with pytest.raises(DataError, match="label 10 at index 10 .*2 labels are >= 10") as excinfo:
        data.load_split("train", tmp_path)
    assert_one_line_naming(excinfo.value, TRAIN_LABELS)


@pytest.mark.parametrize(
    ("stem", "array"),
    [
        pytest.param(TEST_IMAGES, np.zeros((12, 20), dtype=np.uint8), id="images-2d"),
        pytest.param(TEST_LABELS, np.zeros((12, 1), dtype=np.uint8), id="labels-2d"),
    ],
)
def test_load_split_validates_ndim(tmp_path: Path, stem: str, array: np.ndarray) -> None:
    make_split(tmp_path, "test", n=12)
    write_idx(tmp_path / stem, array)
    with pytest.raises(DataError, match="must be [13]-D") as excinfo:
        data.load_split("test", tmp_path)
    assert_one_line_naming(excinfo.value, stem)


def test_load_split_unknown_split() -> None:
    with pytest.raises(DataError, match="unknown split 'validation'") as excinfo:
        data.load_split("validation")
    assert isinstance(excinfo.value, ValueError)


def test_explicit_dir_missing_file_is_an_error(tmp_path: Path, dead_url: str, monkeypatch) -> None:
    monkeypatch.setenv("SPIKEDYN_MNIST_MIRRORS", dead_url)  # a download attempt would fail loudly
    make_dataset(tmp_path / "d")
    (tmp_path / "d" / TRAIN_LABELS).unlink()
    with pytest.raises(DataError, match="lacks") as excinfo:
        data.load_split("train", tmp_path / "d")
    assert_one_line_naming(excinfo.value, str(tmp_path / "d"), TRAIN_LABELS, "SPIKEDYN_DATA_DIR")
    assert TRAIN_IMAGES not in str(excinfo.value)
    # The test split is complete, so loading it still works...
    assert data.load_split("test", tmp_path / "d")[0].shape == (13, 5, 4)
    # ...but resolve_data_dir asks for all four files.
    with pytest.raises(DataError, match=TRAIN_LABELS):
        data.resolve_data_dir(tmp_path / "d")


def test_explicit_dir_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir"
    with pytest.raises(DataError, match="does not exist") as excinfo:
        data.resolve_data_dir(missing)
    assert_one_line_naming(excinfo.value, str(missing), "--data-dir", "SPIKEDYN_DATA_DIR")
    assert not missing.exists()


def test_env_data_dir_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = make_dataset(tmp_path / "env")
    monkeypatch.setenv("SPIKEDYN_DATA_DIR", str(tmp_path / "env"))
    assert data.resolve_data_dir() == tmp_path / "env"
    images, labels = data.load_split("test")
    np.testing.assert_array_equal(images, expected["test"][0])
    np.testing.assert_array_equal(labels, expected["test"][1])
    assert not data.default_cache_dir().exists()  # nothing was downloaded


def test_env_data_dir_missing_file_is_an_error(tmp_path: Path, monkeypatch) -> None:
    make_dataset(tmp_path / "env")
    (tmp_path / "env" / TEST_IMAGES).unlink()
    monkeypatch.setenv("SPIKEDYN_DATA_DIR", str(tmp_path / "env"))
    with pytest.raises(DataError, match=f"from SPIKEDYN_DATA_DIR.*lacks {TEST_IMAGES}") as excinfo:
        data.load_split("test")
    assert_one_line_naming(excinfo.value, str(tmp_path / "env"))


def test_explicit_dir_beats_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_dataset(tmp_path / "env", seed=0)
    explicit = make_dataset(tmp_path / "explicit", seed=100)
    monkeypatch.setenv("SPIKEDYN_DATA_DIR", str(tmp_path / "env"))
    assert data.resolve_data_dir(tmp_path / "explicit") == tmp_path / "explicit"
    images, _ = data.load_split("train", tmp_path / "explicit")
    np.testing.assert_array_equal(images, explicit["train"][0])
    # An incomplete explicit dir is an error even though the env dir is complete.
    (tmp_path / "explicit" / TRAIN_IMAGES).unlink()
    with pytest.raises(DataError, match=TRAIN_IMAGES):
        data.load_split("train", tmp_path / "explicit")


# --------------------------------------------------------------------------- #
# default_cache_dir
# --------------------------------------------------------------------------- #


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX cache locations")
def test_default_cache_dir_posix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data.default_cache_dir() == tmp_path / "xdg" / "spikedyn" / "mnist"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for xdg in ("", "relative/path"):  # unset-like or not absolute: ignored per the XDG spec
        monkeypatch.setenv("XDG_CACHE_HOME", xdg)
        assert data.default_cache_dir() == tmp_path / "home" / ".cache" / "spikedyn" / "mnist"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert data.default_cache_dir() == tmp_path / "home" / ".cache" / "spikedyn" / "mnist"


def test_default_cache_dir_windows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
    assert data.default_cache_dir() == tmp_path / "local" / "spikedyn" / "mnist"


# --------------------------------------------------------------------------- #
# download_mnist
# --------------------------------------------------------------------------- #


def test_download_falls_back_to_next_mirror(tmp_path, mirror, dead_url, payload, capsys) -> None:
    stem, content, sha = payload
    good = mirror.serve(stem, content)
    dest = tmp_path / "dest"
    result = data.download_mnist(dest, mirrors=[dead_url, good], sha256=sha, stems=[stem])
    assert result == dest
    assert sorted(p.name for p in dest.iterdir()) == [f"{stem}.gz"]
    assert gzip.decompress((dest / f"{stem}.gz").read_bytes()) == content
    assert mirror.requests == [f"/{stem}.gz"]
    assert stem in capsys.readouterr().err  # the progress bar names the file


def test_download_rejects_wrong_checksum_and_leaves_nothing(tmp_path, mirror, payload) -> None:
    stem, content, _ = payload
    good = mirror.serve(stem, content)
    dest = tmp_path / "dest"
    wrong = {stem: hashlib.sha256(b"something else").hexdigest()}
    with pytest.raises(DataError, match="SHA-256") as excinfo:
        data.download_mnist(dest, mirrors=[good], sha256=wrong, stems=[stem], progress=False)
    assert_one_line_naming(excinfo.value, f"{stem}.gz", "--data-dir", "SPIKEDYN_DATA_DIR")
    assert list(dest.iterdir()) == []


def test_download_with_server_down(tmp_path: Path, dead_url: str, payload) -> None:
    stem, _, sha = payload
    dest = tmp_path / "dest"
    with pytest.raises(DataError) as excinfo:
        data.download_mnist(dest, mirrors=[dead_url], sha256=sha, stems=[stem], progress=False)
    assert_one_line_naming(
        excinfo.value, f"{stem}.gz", dead_url, "--data-dir DIR", "SPIKEDYN_DATA_DIR"
    )
    assert list(dest.iterdir()) == []


def test_download_accepts_recompressed_gzip(tmp_path, mirror, payload) -> None:
    stem, content, sha = payload
    base = mirror.serve(stem, content, level=1, mtime=123456789)
    served = (mirror.root / f"{stem}.gz").read_bytes()
    assert served != gzip.compress(content, compresslevel=9, mtime=0)  # a different .gz...
    data.download_mnist(tmp_path, mirrors=[base], sha256=sha, stems=[stem], progress=False)
    assert (tmp_path / f"{stem}.gz").read_bytes() == served  # ...kept as served
    assert gzip.decompress(served) == content


def test_download_skips_mirror_serving_non_gzip(tmp_path, mirror, payload) -> None:
    stem, content, sha = payload
    bad_dir = mirror.root / "captive-portal"
    bad_dir.mkdir()
    (bad_dir / f"{stem}.gz").write_bytes(b"<html>please log in</html>")
    good = mirror.serve(stem, content, subdir="good")
    dest = tmp_path / "dest"
    mirrors = [f"{mirror.url}captive-portal", good]
    data.download_mnist(dest, mirrors=mirrors, sha256=sha, stems=[stem], progress=False)
    assert sorted(p.name for p in dest.iterdir()) == [f"{stem}.gz"]
    assert mirror.requests == [f"/captive-portal/{stem}.gz", f"/good/{stem}.gz"]


def test_download_reports_http_error(tmp_path, mirror, payload) -> None:
    stem, _, sha = payload
    with pytest.raises(DataError, match="404") as excinfo:
        data.download_mnist(
            tmp_path / "d", mirrors=[mirror.url], sha256=sha, stems=[stem], progress=False
        )
    assert_one_line_naming(excinfo.value, f"{stem}.gz")
    assert list((tmp_path / "d").iterdir()) == []


def test_download_uses_mirrors_env(tmp_path, mirror, dead_url, payload, monkeypatch) -> None:
    stem, content, sha = payload
    mirror.serve(stem, content)
    # Spaces and a missing trailing slash are tolerated.
    monkeypatch.setenv("SPIKEDYN_MNIST_MIRRORS", f" {dead_url} , {mirror.url.rstrip('/')} ")
    data.download_mnist(tmp_path, sha256=sha, stems=[stem], progress=False)
    assert gzip.decompress((tmp_path / f"{stem}.gz").read_bytes()) == content


def test_cache_dir_downloads_only_missing_files(tmp_path, mirror, monkeypatch) -> None:
    # Serve a synthetic dataset under the real MNIST names and trust its checksums.
    served = tmp_path / "served"
    expected = make_dataset(served)
    sha = {stem: sha256_of_content(served / stem) for stem in data.MNIST_SHA256}
    for stem in sha:
        mirror.serve(stem, (served / stem).read_bytes())
    monkeypatch.setattr(data, "MNIST_SHA256", sha)
    monkeypatch.setenv("SPIKEDYN_MNIST_MIRRORS", mirror.url)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    cache = tmp_path / "cache" / "spikedyn" / "mnist"

    # One file is already cached (raw); only the other three are fetched.
    cache.mkdir(parents=True)
    (cache / TEST_LABELS).write_bytes((served / TEST_LABELS).read_bytes())
    assert data.resolve_data_dir(progress=False) == cache
    assert sorted(mirror.requests) == sorted(f"/{s}.gz" for s in sha if s != TEST_LABELS)
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        [TEST_LABELS] + [f"{s}.gz" for s in sha if s != TEST_LABELS]
    )

    # A complete cache needs no network.
    mirror.requests.clear()
    for split, (images, labels) in expected.items():
        got_images, got_labels = data.load_split(split, progress=False)
        np.testing.assert_array_equal(got_images, images)
        np.testing.assert_array_equal(got_labels, labels)
    assert mirror.requests == []


def test_cache_dir_without_download_is_an_error(tmp_path, mirror, monkeypatch) -> None:
    monkeypatch.setenv("SPIKEDYN_MNIST_MIRRORS", mirror.url)
    with pytest.raises(DataError, match="downloading is off") as excinfo:
        data.load_split("train", download=False)
    assert_one_line_naming(excinfo.value, TRAIN_IMAGES, TRAIN_LABELS, "SPIKEDYN_DATA_DIR")
    assert TEST_IMAGES not in str(excinfo.value)
    assert mirror.requests == []


# --------------------------------------------------------------------------- #
# The real MNIST files
# --------------------------------------------------------------------------- #


@pytest.mark.mnist
def test_real_mnist(mnist_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPIKEDYN_DATA_DIR", str(mnist_dir))
    for split, n in (("train", 60000), ("test", 10000)):
        images, labels = data.load_split(split, download=False, progress=False)
        assert images.shape == (n, 28, 28) and images.dtype == np.uint8
        assert labels.shape == (n,) and labels.dtype == np.uint8
        assert set(np.unique(labels)) == set(range(10))
    for stem, expected in data.MNIST_SHA256.items():
        path = mnist_dir / stem if (mnist_dir / stem).is_file() else mnist_dir / f"{stem}.gz"
        assert sha256_of_content(path) == expected, path


# --------------------------------------------------------------------------- #
# load_mnist: the notebook entry point
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
def test_load_mnist_flattens_images_and_widens_labels(tmp_path: Path, gz: bool) -> None:
    expected = make_dataset(tmp_path, gz=gz)
    for split, (images, labels) in expected.items():
        got_images, got_labels = data.load_mnist(split, tmp_path)
        assert got_images.dtype == np.uint8 and got_images.shape == (len(images), 20)
        assert got_images.flags.c_contiguous
        assert got_labels.dtype == np.int64 and got_labels.shape == (len(labels),)
        np.testing.assert_array_equal(got_images.reshape(images.shape), images)
        np.testing.assert_array_equal(got_labels, labels)


def test_load_mnist_first_n_and_env_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    images, labels = make_split(tmp_path, "test", n=12)
    monkeypatch.setenv("SPIKEDYN_DATA_DIR", str(tmp_path))
    got_images, got_labels = data.load_mnist("test", n=np.int64(5))
    np.testing.assert_array_equal(got_images, images[:5].reshape(5, -1))
    np.testing.assert_array_equal(got_labels, labels[:5])
    assert data.load_mnist("test", n=12)[0].shape == (12, 20)


@pytest.mark.parametrize("n", [0, -3, 2.5, True, "10"])
def test_load_mnist_rejects_bad_n(tmp_path: Path, n) -> None:
    make_split(tmp_path, "train")
    with pytest.raises(DataError, match="n must be a positive integer") as excinfo:
        data.load_mnist("train", tmp_path, n)
    assert_one_line_naming(excinfo.value, repr(n))


def test_load_mnist_n_beyond_the_split(tmp_path: Path) -> None:
    make_split(tmp_path, "train", n=12)
    with pytest.raises(DataError, match="n=13 but the train set has 12 images") as excinfo:
        data.load_mnist("train", tmp_path, 13)
    assert_one_line_naming(excinfo.value)


@pytest.mark.parametrize("split", ["validation", "Train", None, ["train"]])
def test_load_mnist_rejects_bad_split(tmp_path: Path, split) -> None:
    with pytest.raises(DataError, match="unknown split") as excinfo:
        data.load_mnist(split, tmp_path)
    assert_one_line_naming(excinfo.value, "'train', 'test'")


def test_load_mnist_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        data.load_mnist("test", tmp_path / "nowhere")


@pytest.mark.mnist
def test_load_mnist_real(mnist_dir: Path) -> None:
    images, labels = data.load_mnist("test", mnist_dir, 1000)
    assert images.shape == (1000, 784) and images.dtype == np.uint8
    assert labels.dtype == np.int64 and set(np.unique(labels)) == set(range(10))
    assert labels[0] == 7  # the first MNIST test image is a 7
    assert images.max() == 255 and images.min() == 0


# --------------------------------------------------------------------------- #
# spikedyn.io.datasets: writing IDX files, naming a dataset by its content
# --------------------------------------------------------------------------- #


def test_idx_bytes_of_a_small_array_byte_by_byte() -> None:
    from spikedyn.io.datasets import idx_bytes as package_idx_bytes

    content = package_idx_bytes(np.array([[1, 2, 3], [4, 5, 255]]))
    assert content == bytes([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 255])
    with pytest.raises(ValueError, match="holds 0-255, got 256; clip or rescale"):
        package_idx_bytes(np.array([1, 256]))
    with pytest.raises(ValueError, match="got float64 of shape"):  # not truncated: 0.2 and 1.9 are no bytes
        package_idx_bytes(np.array([0.2, 1.9]))


@pytest.mark.parametrize("name", ["images-idx3-ubyte", "images-idx3-ubyte.gz"])
def test_write_idx_round_trips_through_read_idx_the_same_bytes_each_time(tmp_path: Path, name: str) -> None:
    from spikedyn.io.datasets import write_idx as package_write_idx

    array = np.random.default_rng(3).integers(0, 256, (7, 28, 28), dtype=np.uint8)
    first = package_write_idx(tmp_path / "a" / name, array)
    np.testing.assert_array_equal(data.read_idx(first), array)
    second = package_write_idx(tmp_path / "b" / name, array)
    assert first.read_bytes() == second.read_bytes()  # gzip without a time stamp
    assert (first.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    assert sorted(p.name for p in first.parent.iterdir()) == [name]  # written atomically: no temporary left


def test_dataset_id_is_a_hash_of_the_content() -> None:
    from spikedyn.io.datasets import dataset_id

    rng = np.random.default_rng(4)
    images, labels = rng.integers(0, 256, (12, 784), dtype=np.uint8), rng.integers(0, 10, 12)
    name = dataset_id(images, labels)
    assert name.startswith("sha256:") and len(name) == len("sha256:") + 16
    expected = hashlib.sha256(images.tobytes() + labels.astype(np.uint8).tobytes()).hexdigest()[:16]
    assert name == f"sha256:{expected}" == dataset_id(images.copy(), labels.astype(np.uint8))
    other = labels.copy()
    other[0] = (other[0] + 1) % 10
    assert dataset_id(images, other) != name  # one label changed: another dataset


@pytest.mark.mnist
def test_dataset_id_of_mnist_is_mnist(mnist_dir: Path) -> None:
    from spikedyn.io.datasets import dataset_id, dataset_of

    images, labels = data.load_mnist("train", mnist_dir)
    assert dataset_id(images, labels) == "mnist" == dataset_of(mnist_dir)
    assert dataset_id(images[:-1], labels[:-1]).startswith("sha256:")
