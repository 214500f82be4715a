"""Writing MNIST-format data and telling datasets apart.

spikedyn reads any dataset stored in MNIST's IDX layout (:mod:`spikedyn.io.data`). Two things
that a reader needs beside it live here:

- :func:`idx_bytes` and :func:`write_idx` encode an array as an IDX file of unsigned bytes (the
  inverse of :func:`spikedyn.io.data.read_idx`), for a script that builds a data directory from
  another source (``experiments/fashion_mnist.py``) and for the tests' synthetic directories;
- :func:`dataset_id` names a dataset by the content of its training split, so that a result can
  say which data produced it and runs on different data are never compared as if they were one
  protocol: ``"mnist"`` for MNIST's 60,000 training images and labels, else ``"sha256:"`` and the
  first 16 hex digits of the SHA-256 of the images' bytes (uint8, in file order) followed by the
  labels' (one byte each). Only the training split is read: a selection on the validation split
  (carved from it) must never load the test set.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path

import numpy as np

from .files import atomic_write

__all__ = ["MNIST_TRAIN_SHA256", "dataset_id", "dataset_of", "idx_bytes", "write_idx"]

#: SHA-256 of MNIST's training images (60,000 x 784 bytes, file order) followed by its labels.
MNIST_TRAIN_SHA256 = "edc0d1098aa497be14ace79ddd5171e5a3dcf9c4d196c015389203eb3ba1f59b"


def idx_bytes(array: np.ndarray) -> bytes:
    """``array`` as an IDX file of unsigned bytes: the magic number (0, 0, 0x08, ndim), the sizes as
    big-endian uint32, then the data in C order. Values must lie in 0-255."""
    array = np.asarray(array)
    if array.ndim < 1 or not (np.issubdtype(array.dtype, np.integer) or array.dtype == bool):
        raise ValueError(f"an IDX file of unsigned bytes holds integers with at least one dimension, got "
                         f"{array.dtype} of shape {array.shape}; pass the pixel values 0-255 as integers")
    if array.size and (array.min() < 0 or array.max() > 255):
        bad = array[(array < 0) | (array > 255)].flat[0]
        raise ValueError(f"an IDX file of unsigned bytes holds 0-255, got {bad}; clip or rescale the values")
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return header + array.tobytes()


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> Path:
    """Write ``array`` to ``path`` as an IDX file (:func:`idx_bytes`), gzip-compressed when the name
    ends in ``.gz`` (with no time stamp, so the same array gives the same bytes), atomically."""
    path = Path(path)
    content = idx_bytes(array)
    if path.suffix == ".gz":
        content = gzip.compress(content, compresslevel=9, mtime=0)
    return atomic_write(path, lambda f: f.write(content))


def dataset_id(images: np.ndarray, labels: np.ndarray) -> str:
    """The name of the dataset whose training images and labels these are (see the module docstring):
    ``"mnist"`` for MNIST's 60,000, else ``"sha256:"`` and 16 hex digits of their content."""
    digest = hashlib.sha256(np.ascontiguousarray(images, dtype=np.uint8).tobytes())
    digest.update(np.ascontiguousarray(labels, dtype=np.uint8).tobytes())
    if digest.hexdigest() == MNIST_TRAIN_SHA256:
        return "mnist"
    return "sha256:" + digest.hexdigest()[:16]


def dataset_of(data_dir: str | os.PathLike[str] | None = None) -> str:
    """:func:`dataset_id` of the training split found at ``data_dir`` (as :func:`spikedyn.io.data.load_mnist`
    finds it: ``data_dir``, else ``$SPIKEDYN_DATA_DIR``, else the cache): the name a run records for its data."""
    from .data import load_mnist

    return dataset_id(*load_mnist("train", data_dir))
