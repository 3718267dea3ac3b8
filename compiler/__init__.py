"""yaogc.compiler: the yaogc language (lark grammar, AST, type checker, lowering)."""
