"""Copy the committed experiment tables into the README and docs/*.md, between markers; nothing is typed by hand.

The README (and each page of docs/) holds, for each generated table, a block

    <!-- generated: experiments/results/<dir>/<file>.md -->
    ...
    <!-- end generated -->

and this script replaces the block's content with the file's. ``tests/test_readme.py``
checks that every block equals its file.

    python experiments/sync_readme.py
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from spikedyn.io.files import atomic_write

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"(<!-- generated: (?P<path>[^ ]+) -->\n)(?P<body>.*?)(<!-- end generated -->)", re.S)


def blocks(text: str):
    """(path, body) of every generated block of ``text``."""
    return [(m.group("path"), m.group("body")) for m in BLOCK.finditer(text)]


#: The documents with generated blocks.
DOCUMENTS = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))


def sync(readme: Path = ROOT / "README.md") -> int:
    text = readme.read_text()
    missing = [p for p, _ in blocks(text) if not (ROOT / p).is_file()]
    if missing:
        sys.exit(f"missing generated files: {', '.join(missing)}; run the experiments first")
    new = BLOCK.sub(lambda m: m.group(1) + (ROOT / m.group("path")).read_text() + m.group(4), text)
    atomic_write(readme, lambda f: f.write(new.encode()))
    return len(blocks(new))


if __name__ == "__main__":
    print(f"synchronised {sum(sync(d) for d in DOCUMENTS)} generated blocks")
