"""MNIST-format data: reading IDX files, finding a data directory, downloading MNIST.

Where the data comes from
-------------------------
:func:`load_mnist`, :func:`load_split` and :func:`resolve_data_dir` look for the four MNIST files
(:data:`MNIST_FILES`) in this order:

1. the ``data_dir`` argument (the CLI's ``--data-dir``);
2. the directory named by the environment variable ``SPIKEDYN_DATA_DIR``;
3. the user cache, :func:`default_cache_dir` (``$XDG_CACHE_HOME/spikedyn/mnist``,
   ``~/.cache/spikedyn/mnist``, or ``%LOCALAPPDATA%\\spikedyn\\mnist`` on Windows).

A directory given by 1 or 2 must already hold the files: spikedyn never writes
into it, and a missing file is an error. Only the cache is downloaded into, and
only the files it lacks. Each file may be stored raw (``train-images-idx3-ubyte``)
or gzip-compressed (``train-images-idx3-ubyte.gz``); the raw one wins if both exist.

Any dataset stored in MNIST's IDX layout (Fashion-MNIST, KMNIST, ...) works:
files are validated by their format, not by their content or name.

Downloading
-----------
:func:`download_mnist` tries the mirrors in :data:`MNIST_MIRRORS` in order, or
the comma-separated base URLs in ``SPIKEDYN_MNIST_MIRRORS`` if that is set (for
users behind a proxy mirror). A download is accepted only if the SHA-256 of its
*decompressed* content matches :data:`MNIST_SHA256`, so a mirror that
re-compresses the files is fine. Files are streamed into a temporary file next
to their destination and renamed into place atomically, so an interrupted or
rejected download never leaves a partial file behind.

Every problem a user can fix raises :class:`~spikedyn.errors.DataError` with a
one-line message naming the file, the problem and the fix.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import math
import os
import struct
import sys
import tempfile
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import BinaryIO

import numpy as np
from tqdm import tqdm

from ..errors import DataError

__all__ = [
    "MNIST_FILES",
    "MNIST_MIRRORS",
    "MNIST_SHA256",
    "default_cache_dir",
    "download_mnist",
    "load_mnist",
    "load_samples",
    "load_split",
    "read_idx",
    "resolve_data_dir",
    "stream_url",
]

#: Split name -> (images file stem, labels file stem). Each file may be stored
#: raw or with a ``.gz`` suffix.
MNIST_FILES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
    }
)

#: SHA-256 of each *decompressed* MNIST file. Mirrors may re-compress the
#: files, so the content is verified, not the ``.gz``.
MNIST_SHA256: Mapping[str, str] = MappingProxyType(
    {
        "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    }
)

#: Base URLs tried in order; each file is fetched as ``<base><stem>.gz``.
#: ``SPIKEDYN_MNIST_MIRRORS`` (comma-separated base URLs) overrides them.
MNIST_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

DATA_DIR_ENV = "SPIKEDYN_DATA_DIR"
MIRRORS_ENV = "SPIKEDYN_MNIST_MIRRORS"

_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20  # bytes per read when streaming files and downloads
_USER_AGENT = "spikedyn (MNIST downloader; Python urllib)"

# IDX type codes (third magic byte). Only unsigned byte is supported; the
# others are named so that the error says what the file holds.
_IDX_UBYTE = 0x08
_IDX_TYPE_NAMES = {
    0x08: "unsigned byte",
    0x09: "signed byte",
    0x0B: "int16",
    0x0C: "int32",
    0x0D: "float32",
    0x0E: "float64",
}

_ALL_STEMS: tuple[str, ...] = tuple(stem for pair in MNIST_FILES.values() for stem in pair)

_FIX_REDOWNLOAD = (
    "re-download it (delete the file and rerun, "
    "or point --data-dir/SPIKEDYN_DATA_DIR at a good copy)"
)
_FIX_LOCAL_COPY = (
    "pass --data-dir DIR or set SPIKEDYN_DATA_DIR to a directory holding the four MNIST files"
)


# --------------------------------------------------------------------------- #
# Reading IDX files
# --------------------------------------------------------------------------- #


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (raw or gzip-compressed) into an array.

    The IDX format is a 4-byte magic number -- two zero bytes, a type code and
    the number of dimensions ``ndim`` -- followed by ``ndim`` big-endian
    uint32 sizes and the data in C order. Compression is detected from the
    gzip magic bytes ``1f 8b``, not from the file name.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read.

    Returns
    -------
    numpy.ndarray
        uint8 array whose shape is the one in the header, e.g.
        ``(n, rows, cols)`` for an images file and ``(n,)`` for a labels file.
        The array is writable and shares memory with nothing else.

    Raises
    ------
    DataError
        If the file cannot be opened, the gzip stream is corrupt or truncated,
        the magic number is wrong, the type code is not unsigned byte (0x08),
        the header is incomplete, or the payload is shorter or longer than the
        header declares. The message is one line naming the file, the problem
        and the fix.
    """
    path = Path(path)
    try:
        file = open(path, "rb")
    except FileNotFoundError as exc:
        raise DataError(f"{path} does not exist; check the path or {_FIX_REDOWNLOAD}") from exc
    except IsADirectoryError as exc:
        raise DataError(f"{path} is a directory, not an IDX file; {_FIX_REDOWNLOAD}") from exc
    except (OSError, ValueError) as exc:  # ValueError: a path with a NUL character
        raise DataError(
            f"{path} cannot be opened ({_short_error(exc)}); check the path and its permissions"
        ) from exc

    with file:
        try:
            compressed = file.read(len(_GZIP_MAGIC)) == _GZIP_MAGIC
            file.seek(0)
            if not compressed:
                return _parse_idx(file, path, compressed=False)
            with gzip.GzipFile(fileobj=file, mode="rb") as stream:
                return _parse_idx(stream, path, compressed=True)
        except EOFError as exc:  # raised by gzip only
            raise DataError(
                f"{path} is a truncated gzip file (the compressed stream ends early); "
                f"{_FIX_REDOWNLOAD}"
            ) from exc
        except (gzip.BadGzipFile, zlib.error) as exc:
            raise DataError(
                f"{path} is a corrupt gzip file ({_short_error(exc)}); {_FIX_REDOWNLOAD}"
            ) from exc
        except OSError as exc:
            raise DataError(
                f"{path} cannot be read ({_short_error(exc)}); check the disk and {_FIX_REDOWNLOAD}"
            ) from exc


def _parse_idx(stream: BinaryIO, path: Path, *, compressed: bool) -> np.ndarray:
    """Parse and validate the IDX content of an open (decompressed) stream."""
    magic = _read_at_most(stream, 4)
    if not magic:
        what = "decompresses to nothing" if compressed else "is empty"
        raise DataError(f"{path} {what}; {_FIX_REDOWNLOAD}")
    if len(magic) < 4:
        raise DataError(
            f"{path} is truncated: an IDX header needs at least 4 bytes but the file "
            f"{_holds(len(magic), compressed)}; {_FIX_REDOWNLOAD}"
        )
    zero0, zero1, type_code, ndim = magic
    if zero0 != 0 or zero1 != 0:
        raise DataError(
            f"{path} is not an IDX file: it starts with bytes {magic.hex(' ')}, "
            f"not 00 00 <type> <ndim>; {_FIX_REDOWNLOAD}"
        )
    if type_code != _IDX_UBYTE:
        kind = _IDX_TYPE_NAMES.get(type_code, "an unknown type")
        raise DataError(
            f"{path} holds IDX type code 0x{type_code:02X} ({kind}), but spikedyn reads only "
            f"unsigned-byte (0x08) IDX files such as MNIST's; {_FIX_REDOWNLOAD}"
        )
    if ndim == 0:
        raise DataError(f"{path} has an IDX header declaring 0 dimensions; {_FIX_REDOWNLOAD}")

    sizes = _read_at_most(stream, 4 * ndim)
    if len(sizes) < 4 * ndim:
        raise DataError(
            f"{path} is truncated: an IDX header with {ndim} dimensions needs {4 + 4 * ndim} "
            f"bytes but the file {_holds(4 + len(sizes), compressed)}; {_FIX_REDOWNLOAD}"
        )
    shape = struct.unpack(f">{ndim}I", sizes)
    expected = math.prod(shape)
    dims = "x".join(map(str, shape))

    payload, total = _read_payload(stream, expected)
    if total < expected:
        raise DataError(
            f"{path} is truncated: header says {dims} = {expected} bytes of data but the "
            f"file {_holds(total, compressed)}; {_FIX_REDOWNLOAD}"
        )
    if total > expected:
        raise DataError(
            f"{path} has {total - expected} unexpected trailing bytes after the {dims} = "
            f"{expected} bytes of data its header declares; {_FIX_REDOWNLOAD}"
        )
    # A bytearray-backed array is writable, unlike np.frombuffer over bytes.
    try:
        return np.frombuffer(payload, dtype=np.uint8).reshape(shape)
    except ValueError as exc:  # more dimensions than NumPy supports (64)
        raise DataError(
            f"{path} declares {ndim} dimensions ({_short_error(exc)}); an MNIST-format file has 1 "
            f"(labels) or 3 (images); {_FIX_REDOWNLOAD}"
        ) from exc


def _holds(n_bytes: int, compressed: bool) -> str:
    """Describe how many bytes a file holds, e.g. for "... but the file holds 12 bytes"."""
    return f"holds {n_bytes} bytes" + (" after decompression" if compressed else "")


def _read_at_most(stream: BinaryIO, n: int) -> bytes:
    """Read up to ``n`` bytes, fewer only at end of stream."""
    parts = []
    while n > 0 and (chunk := stream.read(n)):
        parts.append(chunk)
        n -= len(chunk)
    return b"".join(parts)


def _read_payload(stream: BinaryIO, expected: int) -> tuple[bytearray, int]:
    """Read the rest of ``stream``, keeping at most ``expected`` bytes.

    Returns the kept bytes and the total number of bytes the stream held, so
    that a header claiming a huge size cannot make us allocate it up front,
    and trailing bytes are counted without being stored.
    """
    payload = bytearray()
    total = 0
    while chunk := stream.read(_CHUNK):
        if len(payload) < expected:
            payload += chunk[: expected - len(payload)]
        total += len(chunk)
    return payload, total


# --------------------------------------------------------------------------- #
# Locating the data directory
# --------------------------------------------------------------------------- #


def default_cache_dir() -> Path:
    """Return the directory MNIST is downloaded into when no data directory is given.

    Returns
    -------
    pathlib.Path
        ``%LOCALAPPDATA%\\spikedyn\\mnist`` on Windows; elsewhere
        ``$XDG_CACHE_HOME/spikedyn/mnist`` if ``XDG_CACHE_HOME`` is set to an
        absolute path (as the XDG spec requires), else ``~/.cache/spikedyn/mnist``.
        The directory is not created.
    """
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        base = Path(local) if local else Path.home() / "AppData" / "Local"
    else:
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "spikedyn" / "mnist"


def resolve_data_dir(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    progress: bool = True,
) -> Path:
    """Find the directory holding the four MNIST files, downloading into the cache if needed.

    Parameters
    ----------
    data_dir : str or os.PathLike, optional
        Directory holding the files (raw or ``.gz``). If omitted,
        ``SPIKEDYN_DATA_DIR`` is used, and if that is unset or empty, the user
        cache (:func:`default_cache_dir`).
    download : bool, default True
        Download files missing from the cache. Never applies to a directory
        given by ``data_dir`` or ``SPIKEDYN_DATA_DIR``, which must be complete.
    progress : bool, default True
        Show a progress bar while downloading.

    Returns
    -------
    pathlib.Path
        The data directory.

    Raises
    ------
    DataError
        If a given directory does not exist or lacks a file, if the cache lacks
        a file and ``download`` is False, or if a download fails.
    """
    return _resolve(data_dir, _ALL_STEMS, download=download, progress=progress)


def _resolve(
    data_dir: str | os.PathLike[str] | None,
    stems: Sequence[str],
    *,
    download: bool,
    progress: bool,
) -> Path:
    """Implement :func:`resolve_data_dir` for the files ``stems`` only."""
    if data_dir is not None:
        return _require_files(Path(data_dir).expanduser(), stems, source="data_dir/--data-dir")
    env_dir = os.environ.get(DATA_DIR_ENV)
    if env_dir:
        return _require_files(Path(env_dir).expanduser(), stems, source=DATA_DIR_ENV)

    cache = default_cache_dir()
    missing = [stem for stem in stems if _find_file(cache, stem) is None]
    if missing:
        if not download:
            raise DataError(
                f"the MNIST cache {cache} lacks {_list_files(missing)} and downloading is off; "
                f"allow the download, or {_FIX_LOCAL_COPY}"
            )
        download_mnist(cache, stems=missing, progress=progress)
    return cache


def _require_files(directory: Path, stems: Iterable[str], *, source: str) -> Path:
    """Return ``directory`` if it holds every file in ``stems``, else raise DataError."""
    drop = (
        f"drop --data-dir/{DATA_DIR_ENV} to let spikedyn download MNIST into "
        f"{default_cache_dir()}"
    )
    if not _exists(directory, source):
        raise DataError(
            f"data directory {directory} (from {source}) does not exist; "
            f"create it with the four MNIST files, or {drop}"
        )
    if not directory.is_dir():
        raise DataError(
            f"data directory {directory} (from {source}) is not a directory; "
            f"point it at a directory holding the four MNIST files, or {drop}"
        )
    missing = [stem for stem in stems if _find_file(directory, stem) is None]
    if missing:
        dirs = [f"{stem}{suffix}" for stem in missing for suffix in ("", ".gz")
                if (directory / f"{stem}{suffix}").is_dir()]
        what = f" ({', '.join(dirs)} {'is a directory' if len(dirs) == 1 else 'are directories'})" if dirs else ""
        raise DataError(
            f"data directory {directory} (from {source}) lacks {_list_files(missing)}{what}; "
            f"add the missing file(s) there (raw or .gz), or {drop}"
        )
    return directory


def _exists(path: Path, source: str) -> bool:
    """``path.exists()``, with a DataError when it cannot even be looked at (a parent without search permission)."""
    try:
        path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return False
    except (OSError, ValueError) as exc:
        raise DataError(
            f"data directory {path} (from {source}) cannot be accessed ({_short_error(exc)}); "
            f"check its path and permissions"
        ) from exc
    return True


def _find_file(directory: Path, stem: str) -> Path | None:
    """Return ``directory/stem`` if it is a file, else ``directory/stem.gz``, else None.

    Raises DataError if the directory cannot be searched (no permission)."""
    for candidate in (directory / stem, directory / f"{stem}.gz"):
        try:
            candidate.stat()
        except (FileNotFoundError, NotADirectoryError):
            continue
        except (OSError, ValueError) as exc:
            raise DataError(
                f"{candidate} cannot be accessed ({_short_error(exc)}); check the permissions of "
                f"{directory}"
            ) from exc
        if candidate.is_file():
            return candidate
    return None


def _list_files(stems: Sequence[str]) -> str:
    return ", ".join(f"{stem}[.gz]" for stem in stems)


# --------------------------------------------------------------------------- #
# Downloading
# --------------------------------------------------------------------------- #


class _RejectedDownload(Exception):
    """A downloaded file is not a gzip stream or its content has the wrong checksum."""


def download_mnist(
    dest_dir: str | os.PathLike[str],
    *,
    mirrors: Sequence[str] | None = None,
    sha256: Mapping[str, str] | None = None,
    stems: Iterable[str] | None = None,
    progress: bool = True,
    timeout_s: float = 30.0,
) -> Path:
    """Download and verify MNIST files into ``dest_dir`` as ``<stem>.gz``.

    For each file, the mirrors are tried in order. The file is streamed into
    a temporary file in ``dest_dir``; if the SHA-256 of its decompressed
    content matches, it is renamed atomically to ``<stem>.gz``, otherwise it
    is deleted and the next mirror is tried. No partial file is ever left.

    Parameters
    ----------
    dest_dir : str or os.PathLike
        Destination directory; created if missing.
    mirrors : sequence of str, optional
        Base URLs; the file ``<stem>`` is fetched from ``<base><stem>.gz``.
        Defaults to ``SPIKEDYN_MNIST_MIRRORS`` (comma-separated) if set, else
        :data:`MNIST_MIRRORS`.
    sha256 : mapping of str to str, optional
        Expected hex SHA-256 of each decompressed file, by stem. Defaults to
        :data:`MNIST_SHA256`.
    stems : iterable of str, optional
        Files to download. Defaults to the four MNIST files.
    progress : bool, default True
        Show a progress bar (bytes) per file.
    timeout_s : float, default 30.0
        Socket timeout for connecting and for each read, in seconds.

    Returns
    -------
    pathlib.Path
        ``dest_dir``.

    Raises
    ------
    DataError
        If ``dest_dir`` cannot be created, no mirror is configured, or every
        mirror fails for a file; the message names the file, the last error
        and how to point spikedyn at a local copy.
    ValueError
        If a stem has no entry in ``sha256``.
    """
    dest = Path(dest_dir).expanduser()
    sha256 = MNIST_SHA256 if sha256 is None else sha256
    stems = _ALL_STEMS if stems is None else tuple(stems)
    bases = _configured_mirrors() if mirrors is None else tuple(map(_as_base_url, mirrors))
    if not bases:
        raise DataError(
            f"no download mirrors are configured; set {MIRRORS_ENV} or {_FIX_LOCAL_COPY}"
        )
    unknown = [stem for stem in stems if stem not in sha256]
    if unknown:
        raise ValueError(f"no SHA-256 given for {', '.join(unknown)}")
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(
            f"cannot create the download directory {dest} ({_short_error(exc)}); {_FIX_LOCAL_COPY}"
        ) from exc

    for stem in stems:
        target = dest / f"{stem}.gz"
        last_error = ""
        for base in bases:
            url = f"{base}{stem}.gz"
            try:
                _fetch_verified(
                    url, target, sha256[stem], progress=progress, timeout_s=timeout_s
                )
            except (_RejectedDownload, OSError, http.client.HTTPException, ValueError) as exc:
                # OSError covers URLError, HTTPError, timeouts and refused
                # connections; HTTPException covers truncated responses;
                # ValueError covers malformed mirror URLs.
                last_error = f"{url}: {_short_error(exc)}"
                continue
            break
        else:
            raise DataError(
                f"could not download {stem}.gz from any of {len(bases)} mirror(s) "
                f"(last error: {last_error}); {_FIX_LOCAL_COPY}"
            )
    return dest


def _fetch_verified(
    url: str, target: Path, expected_sha256: str, *, progress: bool, timeout_s: float
) -> None:
    """Download ``url`` next to ``target``, verify it and move it into place.

    Raises on any failure, always removing the temporary file.
    """
    tmp = tempfile.NamedTemporaryFile(
        dir=target.parent, prefix=f".{target.name}.", suffix=".part", delete=False
    )
    tmp_path = Path(tmp.name)
    try:
        with tmp:
            stream_url(url, tmp, desc=target.name, progress=progress, timeout_s=timeout_s)
        digest = _sha256_of_gzip(tmp_path)
        if digest != expected_sha256.lower():
            raise _RejectedDownload(
                f"SHA-256 of the decompressed content is {digest[:16]}..., "
                f"expected {expected_sha256[:16]}..."
            )
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


def stream_url(url: str, out: BinaryIO, *, desc: str, progress: bool, timeout_s: float) -> None:
    """Copy the body of ``url`` into ``out`` with a byte progress bar (the downloader's, and that of
    scripts that fetch other data: ``experiments/fashion_mnist.py``)."""
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        length = response.headers.get("Content-Length", "")
        total = int(length) if length.isdigit() else None
        with tqdm(
            total=total,
            desc=desc,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            disable=not progress,
        ) as bar:
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                bar.update(len(chunk))


def _sha256_of_gzip(path: Path) -> str:
    """Return the hex SHA-256 of the decompressed content of the gzip file ``path``."""
    digest = hashlib.sha256()
    try:
        with gzip.open(path, "rb") as stream:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise _RejectedDownload(f"not a valid gzip file ({_short_error(exc)})") from exc
    return digest.hexdigest()


def _configured_mirrors() -> tuple[str, ...]:
    """Return the mirrors from ``SPIKEDYN_MNIST_MIRRORS``, or :data:`MNIST_MIRRORS`."""
    env = os.environ.get(MIRRORS_ENV, "")
    from_env = tuple(_as_base_url(url) for url in env.split(",") if url.strip())
    return from_env or MNIST_MIRRORS


def _as_base_url(url: str) -> str:
    """Strip whitespace and make sure a base URL ends with a slash."""
    url = url.strip()
    return url if url.endswith("/") else f"{url}/"


def _short_error(exc: BaseException, limit: int = 160) -> str:
    """One-line, length-limited description of ``exc`` for an error message."""
    if isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError):
        exc_text = str(exc.reason)
    elif isinstance(exc, OSError) and exc.strerror:
        exc_text = exc.strerror
    else:
        exc_text = str(exc) or type(exc).__name__
    text = " ".join(exc_text.split())
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


# --------------------------------------------------------------------------- #
# Loading a split
# --------------------------------------------------------------------------- #


def load_split(
    split: str,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    progress: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Load the images and labels of one split of an MNIST-format dataset.

    The directory is found as in :func:`resolve_data_dir`, except that only
    the two files of ``split`` are required (and, for the cache, downloaded).
    The files are validated by format, so any dataset in MNIST's IDX layout
    (Fashion-MNIST, KMNIST, ...) works. Results are not cached; callers that
    load a split repeatedly should keep the arrays.

    Parameters
    ----------
    split : {"train", "test"}
        Which split to load.
    data_dir : str or os.PathLike, optional
        Directory holding the files; see :func:`resolve_data_dir`.
    download : bool, default True
        Download files missing from the cache.
    progress : bool, default True
        Show a progress bar while downloading.

    Returns
    -------
    images : numpy.ndarray
        uint8 array of shape ``(n, rows, cols)``; (60000, 28, 28) for MNIST's
        train split and (10000, 28, 28) for its test split.
    labels : numpy.ndarray
        uint8 array of shape ``(n,)`` with values in 0-9.

    Raises
    ------
    DataError
        If ``split`` is unknown (``DataError`` is a ``ValueError``), a file is
        missing, unreadable or malformed, the images are not 3-D, the labels
        are not 1-D, the two counts differ, the split holds no images (or
        images of no pixels), or a label is 10 or more.
    """
    if not isinstance(split, str) or split not in MNIST_FILES:
        raise DataError(
            f"unknown split {split!r}; choose one of {', '.join(map(repr, MNIST_FILES))}"
        )
    images_stem, labels_stem = MNIST_FILES[split]
    directory = _resolve(data_dir, (images_stem, labels_stem), download=download, progress=progress)
    # _resolve checked that both files exist; should one vanish in between,
    # read_idx reports the raw path as missing.
    images_path = _find_file(directory, images_stem) or directory / images_stem
    labels_path = _find_file(directory, labels_stem) or directory / labels_stem

    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.ndim != 3:
        raise DataError(
            f"{images_path} holds a {images.ndim}-D array of shape {images.shape}, but an images "
            f"file must be 3-D (count x rows x cols); check that it is the right file or "
            f"{_FIX_REDOWNLOAD}"
        )
    if labels.ndim != 1:
        raise DataError(
            f"{labels_path} holds a {labels.ndim}-D array of shape {labels.shape}, but a labels "
            f"file must be 1-D; check that it is the right file or {_FIX_REDOWNLOAD}"
        )
    if len(images) != len(labels):
        raise DataError(
            f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} "
            f"labels; the two files must come from the same split and dataset -- re-download "
            f"them or point --data-dir/{DATA_DIR_ENV} at a matching pair"
        )
    if len(images) == 0 or images.shape[1] == 0 or images.shape[2] == 0:
        raise DataError(
            f"{images_path} holds no pixels (shape {images.shape}); a split needs at least one image of at "
            f"least 1x1 pixels; check that it is the right file or {_FIX_REDOWNLOAD}"
        )
    out_of_range = np.flatnonzero(labels >= 10)
    if out_of_range.size:
        first = int(out_of_range[0])
        raise DataError(
            f"{labels_path} holds label {labels[first]} at index {first} ({out_of_range.size} "
            f"labels are >= 10), but labels must be 0-9; point --data-dir/{DATA_DIR_ENV} at a "
            f"10-class MNIST-format dataset or {_FIX_REDOWNLOAD}"
        )
    return images, labels


def load_samples(
    split: str,
    data_dir: str | os.PathLike[str] | None = None,
    n: int | None = None,
    *,
    progress: bool = True,
    option: str = "--samples",
) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n`` images and labels of a split, after checking the whole data directory.

    All four files are required (:func:`resolve_data_dir`), so that an incomplete
    directory is reported before a long run rather than when the other split is
    needed. ``option`` names the command-line option that set ``n`` in the error
    raised when the split has fewer than ``n`` images.

    Returns
    -------
    images : uint8 array, shape (n, rows, cols)
    labels : uint8 array, shape (n,)
    """
    directory = resolve_data_dir(data_dir, progress=progress)
    images, labels = load_split(split, directory, progress=progress)
    return _first(images, labels, n, split, option)


def _first(images: np.ndarray, labels: np.ndarray, n: int | None, split: str, option: str):
    """The first ``n`` images and labels (all if ``n`` is None); ``option`` names ``n`` in the error."""
    if n is None:
        return images, labels
    if n > images.shape[0]:
        raise DataError(f"{option}={n} but the {split} set has {images.shape[0]} images; use at most that")
    return images[:n], labels[:n]


def load_mnist(
    split: str,
    data_dir: str | os.PathLike[str] | None = None,
    n: int | None = None,
    *,
    progress: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Load the first ``n`` images and labels of an MNIST-format split, ready for a network.

    Works on any directory holding the four files in MNIST's IDX layout
    (Fashion-MNIST, KMNIST, ...). The directory is found as described in the module
    docstring: ``data_dir``, else ``$SPIKEDYN_DATA_DIR``, else the user cache,
    downloading MNIST into the cache if it is incomplete.

    Parameters
    ----------
    split : {"train", "test"}
        Which split to load.
    data_dir : str or os.PathLike, optional
        Directory holding the files (raw or ``.gz``).
    n : int, optional
        Load only the first ``n`` images (in file order); default all.
    progress : bool, default False
        Show a progress bar while downloading.

    Returns
    -------
    images : uint8 array, shape (n, rows * cols)
        One flattened image per row, pixel intensities 0-255, C-contiguous: the
        input layout of :class:`~spikedyn.network.Network` (``n_input = 784`` for
        MNIST). ``images[k].reshape(28, 28)`` is image ``k``.
    labels : int64 array, shape (n,)
        Classes 0-9.

    Raises
    ------
    DataError
        If ``split`` is not ``"train"`` or ``"test"``, ``n`` is not a positive
        integer or exceeds the split's size, or the data directory or a file is
        missing or malformed (``DataError`` is a ``ValueError``).

    Examples
    --------
    >>> images, labels = load_mnist("test", n=100)          # doctest: +SKIP
    >>> images.shape, images.dtype, labels.dtype            # doctest: +SKIP
    ((100, 784), dtype('uint8'), dtype('int64'))
    """
    if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1):
        raise DataError(f"n must be a positive integer or None (all images), got {n!r}")
    images, labels = _first(*load_split(split, data_dir, progress=progress), n, split, "n")
    return (np.ascontiguousarray(images.reshape(images.shape[0], -1)),
            labels.astype(np.int64))
