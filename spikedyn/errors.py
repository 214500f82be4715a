"""User-facing errors.

Every problem a user can fix (a bad file, a wrong option, an out-of-range
parameter) raises a :class:`SpikedynError` whose message is one line that names
the problem and the fix. The CLI prints that line and exits with status 2;
anything else is a bug and keeps its traceback.
"""


class SpikedynError(Exception):
    """A problem the user can fix; the message names the problem and the fix."""


class DataError(SpikedynError, ValueError):
    """A data file or data directory is missing, corrupt or of the wrong format."""


class ConfigError(SpikedynError, ValueError):
    """A parameter or option is out of range or unknown."""


class NumericalError(SpikedynError, ArithmeticError):
    """The simulation produced a non-finite value; the message names the sample, neuron and step."""


class DiskError(SpikedynError, OSError):
    """An output could not be written (disk full, no permission); what was written before is intact."""
