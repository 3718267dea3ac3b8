"""The yaogc abstract syntax tree: plain dataclasses, each with the source position it came from.

``line`` and ``col`` (1-based) point at the token an error about the node should underline:
the operator of a binary operation, the name of a call, the first token of a statement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction


@dataclass
class Node:
    line: int
    col: int


# ---- types ----------------------------------------------------------------------------------
@dataclass
class TypeName(Node):
    name: str
    dims: list["Expr"]


@dataclass
class TupleTypeExpr(Node):
    elems: list["TypeExpr"]
    dims: list["Expr"]


TypeExpr = TypeName | TupleTypeExpr


# ---- expressions ----------------------------------------------------------------------------
@dataclass
class Expr(Node):
    pass


@dataclass
class IntLit(Expr):
    value: int


@dataclass
class DecLit(Expr):
    value: Fraction
    text: str


@dataclass
class BoolLit(Expr):
    value: bool


@dataclass
class Var(Expr):
    name: str


@dataclass
class BinOp(Expr):
    op: str
    left: Expr
    right: Expr


@dataclass
class Compare(Expr):
    op: str
    left: Expr
    right: Expr


@dataclass
class BoolOp(Expr):
    op: str  # "and" | "or"
    left: Expr
    right: Expr


@dataclass
class Not(Expr):
    operand: Expr


@dataclass
class Unary(Expr):
    op: str  # "-" | "+" | "~"
    operand: Expr


@dataclass
class Ternary(Expr):
    cond: Expr
    then: Expr
    orelse: Expr


@dataclass
class Index(Expr):
    base: Expr
    index: Expr


@dataclass
class Call(Expr):
    name: str
    args: list[Expr]


@dataclass
class Comprehension(Expr):
    """``[elem for var in iterable]``; as the only argument of a call it is a generator."""
    elem: Expr
    var: str
    iterable: Expr


@dataclass
class ListLit(Expr):
    items: list[Expr]


@dataclass
class TupleLit(Expr):
    items: list[Expr]


# ---- statements -----------------------------------------------------------------------------
@dataclass
class Stmt(Node):
    pass


@dataclass
class Target(Node):
    name: str
    indices: list[Expr]


@dataclass
class Decl(Stmt):
    name: str
    type: TypeExpr
    value: Expr


@dataclass
class Assign(Stmt):
    targets: list[Target]
    value: Expr


@dataclass
class AugAssign(Stmt):
    target: Target
    op: str  # the binary operator: "+", "<<", ...
    value: Expr


@dataclass
class Return(Stmt):
    values: list[Expr]


@dataclass
class Pass(Stmt):
    pass


@dataclass
class Assert(Stmt):
    """``assert cond, "message"``: a condition checked at compile time."""
    cond: Expr
    message: str | None


@dataclass
class If(Stmt):
    branches: list[tuple[Expr, list[Stmt]]]
    orelse: list[Stmt] | None


@dataclass
class For(Stmt):
    var: str
    var_line: int
    var_col: int
    iterable: Expr
    body: list[Stmt]


@dataclass
class While(Stmt):
    pass


# ---- declarations ---------------------------------------------------------------------------
@dataclass
class PartyRef(Node):
    name: str


@dataclass
class PartySet(Node):
    """``@(north, south)``: an output addressed to several parties."""
    refs: list[PartyRef]


@dataclass
class Param(Node):
    name: str
    type: TypeExpr
    party: PartyRef | None


@dataclass
class OutSpec(Node):
    name: str | None  # None for an unnamed single result
    type: TypeExpr
    party: PartyRef | None


@dataclass
class FuncDef(Node):
    name: str
    params: list[Param]
    returns: list[OutSpec] | None
    named_returns: bool
    body: list[Stmt]


@dataclass
class ConstDecl(Node):
    name: str
    type: TypeExpr | None
    value: Expr


@dataclass
class PartyDecl(Node):
    names: list[PartyRef]


@dataclass
class TypeDecl(Node):
    """``type Fix = fix16_8``: a name for a type, overridable with ``-D Fix=fix24_12``."""
    name: str
    type: TypeExpr


@dataclass
class ImportDecl(Node):
    """``from stats import mean, variance``; ``module`` may be dotted (``lib.stats``)."""
    module: str
    names: list[PartyRef]


@dataclass
class Program:
    parties: list[PartyDecl]
    consts: list[ConstDecl]
    funcs: list[FuncDef]
    types: list[TypeDecl] = field(default_factory=list)
    imports: list[ImportDecl] = field(default_factory=list)
