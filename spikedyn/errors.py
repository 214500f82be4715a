"""User-facing errors, and the helpers that keep their messages on one line.

Every problem a user can fix (a bad file, a wrong option, an out-of-range
parameter) raises a :class:`SpikedynError` whose message is one line that names
the problem and the fix. The CLI prints that line and exits with status 2;
anything else is a bug and keeps its traceback. :func:`show`, :func:`one_line` and
:func:`key_name` put a user's value, an exception or a key of a user's file into
such a line. This module imports nothing: every other module may import it.
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


# -- one-line messages -------------------------------------------------------------------------
def show(value, limit: int = 60) -> str:
    """A short one-line repr of ``value`` for an error message."""
    try:
        text = repr(value)
    except (ValueError, RecursionError):  # an int of more than 4,300 digits, a deeply nested list
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def one_line(exc: BaseException, limit: int = 200) -> str:
    """``exc``'s message on one line, at most ``limit`` characters."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def key_name(key) -> str:
    """A key of a user's file for an error message: as it is if it is a short printable name, else its repr."""
    ok = isinstance(key, str) and key.isprintable() and key and not any(c.isspace() for c in key) and len(key) <= 60
    return key if ok else show(key)
