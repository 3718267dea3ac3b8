"""The error base every stage raises for bad input, so the CLI can map it to an exit status.

``exit_code`` is what ``yaogc`` exits with: 2 for usage or bad input (program, file, value),
3 for network, peer or protocol failures. Anything that is not a ``YaogcError`` is a bug (1).
"""


class YaogcError(Exception):
    """Base of yaogc's own errors; the message's first line says what is wrong and where."""

    exit_code = 2


class InputError(YaogcError, ValueError):
    """A bad file, value, type name or argument supplied by the user."""
