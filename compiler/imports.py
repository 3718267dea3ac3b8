"""Imports across files: ``from stats import mean, variance``.

A module is a ``.yao`` file of functions, constants and type aliases (its parties and its
``main``, if any, are ignored, so a program can be a module too). It is looked up on the
search path: the importing file's folder, then each folder of ``$YAOGC_PATH`` (separated by
the OS path separator), then the library shipped with yaogc (``compiler/lib``, e.g.
``stats.yao``). A dotted name ``a.b`` is the file ``a/b.yao``.

Every top-level name of a module enters the program as ``module.name`` (a name no program can
spell, so a module's helpers never clash with the program's names); the names listed in the
``from`` statement enter under their own names as well. Nodes parsed from a module carry its
:class:`Source` in ``src``, so an error inside a module names that file, line and column.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from pathlib import Path

from . import nodes as N
from .errors import CompileError, Source

LIB_DIR = Path(__file__).resolve().parent / "lib"
# every 'from NAME import' anywhere, across any whitespace the parser skips (a backslash
# continuation, a form feed, spaces around the dots of a dotted name): the cache digest may
# take a module too many (one named in a comment), never one too few
_FROM_RE = re.compile(r"(?<![\w.])from\s+([A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*)*)\s+import\b")
_SPACE_RE = re.compile(r"\s+")


def search_path(filename: str) -> list[Path]:
    """Where a module imported by ``filename`` is looked for, in order."""
    here = Path(filename).resolve().parent if filename and not filename.startswith("<") \
        and filename != "-D" else Path.cwd()
    extra = [Path(p) for p in os.environ.get("YAOGC_PATH", "").split(os.pathsep) if p]
    return [here, *extra, LIB_DIR]


def find_module(name: str, filename: str) -> Path | None:
    rel = Path(*name.split(".")).with_suffix(".yao")
    for d in search_path(filename):
        p = d / rel
        if p.is_file():
            return p
    return None


def imports_digest(text: str, filename: str) -> bytes:
    """A digest of every module the program text imports, transitively (for the compiled
    circuit cache: a changed module must not reuse a stale circuit)."""
    h = hashlib.sha256()
    seen: set[Path] = set()
    todo = [(text, filename)]
    while todo:
        t, f = todo.pop()
        # every backslash a space: a continuation then is whitespace whatever stands between
        # the backslash and the line end (spaces, tabs, a form feed) and whatever ends the
        # line (LF, CRLF, a lone CR); a backslash anywhere else can only add a module
        for m in _FROM_RE.findall(t.replace("\\", " ")):
            p = find_module(_SPACE_RE.sub("", m), f)
            if p is None or p in seen:
                continue
            seen.add(p)
            data = p.read_bytes()
            h.update(str(p).encode() + b"\0" + hashlib.sha256(data).digest())
            todo.append((data.decode("utf-8", "replace"), str(p)))
    return h.digest()


def _tag(node, src: Source, rename: dict[str, str]) -> None:
    """Give every node of a module's AST its source, and rename references to the module's
    top-level names (calls, variables, type names) to their ``module.name`` form."""
    stack = [node]
    while stack:
        x = stack.pop()
        if isinstance(x, list):
            stack.extend(x)
            continue
        if isinstance(x, tuple):
            stack.extend(x)
            continue
        if not dataclasses.is_dataclass(x) or isinstance(x, type):
            continue
        if isinstance(x, N.Node):
            x.src = src
            if isinstance(x, (N.Call, N.Var, N.TypeName)) and x.name in rename:
                if isinstance(x, N.Var):
                    x.plain = x.name        # a local of that name still comes first
                x.name = rename[x.name]
            elif isinstance(x, (N.Target, N.Decl)) and x.name in rename:
                x.own = rename[x.name]      # assigns a name the module declares: refused
        for f in dataclasses.fields(x):
            stack.append(getattr(x, f.name))


class Loader:
    """Loads the modules a program imports and merges their declarations into it."""

    def __init__(self):
        self.loaded: dict[Path, tuple[str, N.Program, Source]] = {}
        self.loading: list[Path] = []

    def merge(self, prog: N.Program, src: Source, err) -> dict[str, str]:
        """Add the declarations of every module ``prog`` imports to ``prog``; returns the
        aliases (imported name -> ``module.name``). ``err(node, message)`` makes an error."""
        from .parser import parse, read_source
        aliases: dict[str, str] = {}
        for imp in prog.imports:
            path = find_module(imp.module, src.filename)
            if path is None:
                where = ", ".join(str(d) for d in search_path(src.filename))
                raise err(imp, f"no module '{imp.module}' (looked for "
                               f"{Path(*imp.module.split('.')).with_suffix('.yao')} in: {where})")
            path = path.resolve()
            if path in self.loading:
                raise err(imp, f"import cycle: {imp.module} imports itself "
                               f"(through {', '.join(p.stem for p in self.loading)})")
            if path not in self.loaded:
                text, fname = read_source(path)
                msrc = Source(text, fname)
                mprog = parse(text, fname)
                top = [f.name for f in mprog.funcs if f.name != "main"] + \
                    [c.name for c in mprog.consts] + [t.name for t in mprog.types]
                rename = {n: f"{imp.module}.{n}" for n in top}
                own = len(mprog.funcs), len(mprog.consts), len(mprog.types)
                _tag(mprog.imports, msrc, {})   # its import errors name its file
                self.loading.append(path)
                inner = self.merge(mprog, msrc, err)
                self.loading.pop()
                # the merge appended the declarations of the modules this one imports, tagged
                # and renamed already: only this module's own are tagged and renamed here
                funcs, consts, types = (mprog.funcs[:own[0]], mprog.consts[:own[1]],
                                        mprog.types[:own[2]])
                # names a module imports itself refer to the other module's declarations
                rename.update({k: v for k, v in inner.items() if k not in rename})
                _tag(funcs + consts + types, msrc, rename)
                for f in funcs:
                    if f.name != "main":
                        f.name = rename[f.name]
                for c in consts:
                    c.name = rename[c.name]
                for t in types:
                    t.name = rename[t.name]
                prog.funcs.extend(f for f in mprog.funcs if f.name != "main")
                prog.consts.extend(mprog.consts)
                prog.types.extend(mprog.types)
                self.loaded[path] = (imp.module, mprog, msrc)
            module, mprog, _ = self.loaded[path]
            names = {f.name for f in mprog.funcs} | {c.name for c in mprog.consts} | \
                {t.name for t in mprog.types}
            for ref in imp.names:
                full = f"{module}.{ref.name}"
                if full not in names:
                    public = sorted(n.split(".", 1)[1] for n in names
                                    if n.startswith(module + ".") and
                                    not n.split(".", 1)[1].startswith("_"))
                    raise err(ref, f"module '{imp.module}' has no '{ref.name}' (it has: "
                                   f"{', '.join(public)})")
                if ref.name in aliases and aliases[ref.name] != full:
                    raise err(ref, f"'{ref.name}' is imported twice, from different modules")
                aliases[ref.name] = full
        return aliases


__all__ = ["Loader", "find_module", "search_path", "imports_digest", "LIB_DIR", "CompileError"]
