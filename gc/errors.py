"""Errors of the garbling engine (a subclass of yaogc's base error, so the CLI maps them)."""

from yaogc.circuits.errors import YaogcError


class GarbleError(YaogcError):
    """Garbling or evaluation was asked something inconsistent: a wrong batch size, input
    labels of the wrong shape, a table block that does not match the next layer, or results
    requested before every layer was processed. The message says which and where."""

    exit_code = 3


class EngineChoiceError(GarbleError):
    """An engine asked for by name (``--engine``, ``YAOGC_ENGINE``) that is no engine or
    cannot run on this machine: a usage error, found before anything connects."""

    exit_code = 2
