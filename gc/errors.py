"""Errors of the garbling engine (a subclass of yaogc's base error, so the CLI maps them)."""

from yaogc.circuits.errors import YaogcError


class GarbleError(YaogcError):
    """Garbling or evaluation was asked something inconsistent: a wrong batch size, input
    labels of the wrong shape, a table block that does not match the next layer, or results
    requested before every layer was processed. The message says which and where."""

    exit_code = 3
