"""``python -m spikedyn.cli``: the ``spikedyn`` command."""

import sys

from . import main

sys.exit(main())
