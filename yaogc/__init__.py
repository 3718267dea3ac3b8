"""yaogc: a garbled-circuit compiler and two-party Yao runtime.

The stages live in their own subpackages, in dependency order:
``yaogc.circuits`` (the circuit IR, value types, word library, passes, formats),
``yaogc.compiler`` (the language), ``yaogc.gc`` (garbling), ``yaogc.runtime``
(channel, oblivious transfer, protocol, CLI).
"""

__version__ = "0.1.0"

import os as _os

# In a source checkout this folder holds only this file, and the stages are its siblings
# (pyproject.toml maps yaogc.compiler to compiler/, ...). Python started in the checkout
# finds this folder first, before the installed package: the checkout's root then serves
# the subpackages, so that `import yaogc.compiler` works there too.
_root = _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))
if _os.path.isfile(_os.path.join(_root, "compiler", "yaogc.lark")) and \
        _os.path.isfile(_os.path.join(_root, "pyproject.toml")):
    __path__.append(_root)
del _os, _root


def run(program, as_, inputs=None, **kw):
    """Run one party of a two-party session from Python; see :func:`yaogc.runtime.api.run`."""
    from yaogc.runtime.api import run as _run
    return _run(program, as_, inputs, **kw)


def _command() -> int:
    """The ``yaogc`` console command (:func:`yaogc.runtime.cli.main`). Its modules take a
    few tenths of a second to load: a Ctrl-C meanwhile is reported as any other, not as a
    traceback through the imports."""
    import sys
    try:
        from yaogc.runtime.cli import main
    except KeyboardInterrupt:
        if sys.stderr is not None:
            try:
                sys.stderr.write("yaogc: interrupted\n")
            except (OSError, ValueError):
                pass
        return 130
    return main()


# the exceptions the API raises, as yaogc.InputError etc. (imported when first asked for,
# so that importing yaogc stays cheap)
_ERRORS = {"YaogcError": "yaogc.circuits.errors", "InputError": "yaogc.circuits.errors",
           "CompileError": "yaogc.compiler.errors", "NetworkError": "yaogc.runtime.errors",
           "PeerDeviated": "yaogc.runtime.errors",
           "OverflowWithheld": "yaogc.compiler.checked"}


def __getattr__(name):
    module = _ERRORS.get(name)
    if module is None:
        raise AttributeError(f"module 'yaogc' has no attribute '{name}'")
    import importlib
    return getattr(importlib.import_module(module), name)
