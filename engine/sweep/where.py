"""``--where "fast < slow"``: a grid constraint, so impossible parameter sets are skipped instead of failing.

The expression is Python syntax restricted to what a constraint needs:
names of parameters, numbers, strings, booleans, comparisons (chains
too), ``and``/``or``/``not``, arithmetic and parentheses. It is checked
once, before any backtest runs: a name that is not a parameter or any other
construct is an error naming it. Nothing is evaluated with ``eval``.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Collection, Mapping
from typing import Any

_COMPARE: dict[type, Callable[[Any, Any], bool]] = {
    ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
    ast.Eq: operator.eq, ast.NotEq: operator.ne,
}
_ARITHMETIC: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
}


class Where:
    """A parsed constraint; ``where(params)`` says whether a parameter set is kept."""

    def __init__(self, text: str, names: Collection[str]) -> None:
        self.text = text
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError as exc:
            raise ValueError(f"--where {text!r}: not an expression ({exc.msg})") from None
        self._body = tree.body
        self._check(self._body, set(names))

    def __call__(self, params: Mapping[str, Any]) -> bool:
        return bool(self._eval(self._body, params))

    def _check(self, node: ast.AST, names: set[str]) -> None:
        if isinstance(node, ast.Name):
            if node.id not in names:
                raise ValueError(f"--where {self.text!r}: {node.id!r} is not a parameter (known: {', '.join(sorted(names))})")
        elif isinstance(node, ast.Constant):
            if not isinstance(node.value, int | float | str | bool):
                raise ValueError(f"--where {self.text!r}: {node.value!r} is not a number, text or boolean")
        elif isinstance(node, ast.BoolOp | ast.UnaryOp | ast.Compare | ast.BinOp):
            if isinstance(node, ast.Compare) and any(type(op) not in _COMPARE for op in node.ops):
                raise ValueError(f"--where {self.text!r}: only <, <=, >, >=, ==, != compare")
            if isinstance(node, ast.BinOp) and type(node.op) not in _ARITHMETIC:
                raise ValueError(f"--where {self.text!r}: only + - * / // % ** compute")
            if isinstance(node, ast.UnaryOp) and not isinstance(node.op, ast.Not | ast.USub | ast.UAdd):
                raise ValueError(f"--where {self.text!r}: only not, - and + apply to one value")
            for child in ast.iter_child_nodes(node):
                if not isinstance(child, ast.cmpop | ast.operator | ast.boolop | ast.unaryop):
                    self._check(child, names)
        else:
            raise ValueError(f"--where {self.text!r}: {type(node).__name__} is not allowed in a constraint")

    def _eval(self, node: ast.AST, params: Mapping[str, Any]) -> Any:
        if isinstance(node, ast.Name):
            return params[node.id]
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.BoolOp):
            values = (self._eval(v, params) for v in node.values)
            return all(values) if isinstance(node.op, ast.And) else any(values)
        if isinstance(node, ast.UnaryOp):
            value = self._eval(node.operand, params)
            return not value if isinstance(node.op, ast.Not) else -value if isinstance(node.op, ast.USub) else +value
        if isinstance(node, ast.BinOp):
            return _ARITHMETIC[type(node.op)](self._eval(node.left, params), self._eval(node.right, params))
        assert isinstance(node, ast.Compare)
        left = self._eval(node.left, params)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self._eval(right_node, params)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
