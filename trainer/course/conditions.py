"""The condition language: comparisons, and/or/not and `in` over course variables.

Conditions are written by instructors, so they are data, never code: Python's parser turns the text into a tree and only
a short list of node types is accepted; evaluation walks our own compiled tree. Nothing is ever passed to eval.

    lock_applied and press_power == "off"
    not guard_open or mode in ["teach", "manual"]
    pressure <= 0
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from trainer.course.limits import CONDITION_MAX_CHARS

Value = str | int | float | bool
Env = Mapping[str, Value]


class ConditionError(ValueError):
    """A condition that cannot be parsed; `offset` is the 0-based column inside the condition text."""

    def __init__(self, message: str, offset: int = 0):
        super().__init__(message)
        self.offset = offset


_COMPARE: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
_LITERAL_NAMES = {"true": True, "false": False, "True": True, "False": False}
MAX_LENGTH = CONDITION_MAX_CHARS


@dataclass(frozen=True)
class Condition:
    """A parsed condition: its source text, the variables it reads, and a function over the variables."""

    source: str
    variables: frozenset[str]
    _fn: Callable[[Env], Any]

    def __call__(self, env: Env) -> bool:
        try:
            return bool(self._fn(env))
        except TypeError:
            # Comparing text with a number is simply false, as an instructor would expect, not a crash mid-session.
            return False


def parse_condition(source: str) -> Condition:
    if len(source) > MAX_LENGTH:
        raise ConditionError(f"the condition is longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ConditionError(f"cannot parse the condition: {exc.msg}", max((exc.offset or 1) - 1, 0)) from None
    names: set[str] = set()
    fn = _compile(tree.body, names)
    return Condition(source, frozenset(names), fn)


def _compile(node: ast.AST, names: set[str]) -> Callable[[Env], Any]:
    if isinstance(node, ast.BoolOp):
        parts = [_compile(v, names) for v in node.values]
        if isinstance(node.op, ast.And):
            return lambda env: all(p(env) for p in parts)
        return lambda env: any(p(env) for p in parts)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        inner = _compile(node.operand, names)
        return lambda env: not inner(env)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        value = node.operand.value
        if isinstance(value, int | float) and not isinstance(value, bool):
            if isinstance(value, float) and not math.isfinite(value):
                raise ConditionError("the number is too large", node.col_offset)
            negated = -value
            return lambda env: negated
    if isinstance(node, ast.Compare):
        left = _compile(node.left, names)
        ops = [_COMPARE[type(op)] for op in node.ops if type(op) in _COMPARE]
        if len(ops) != len(node.ops):
            raise ConditionError("only ==, !=, <, <=, >, >=, in and not in compare values", node.col_offset)
        rights = [_compile(c, names) for c in node.comparators]

        def compare(env: Env) -> bool:
            a = left(env)
            for op, right in zip(ops, rights, strict=True):
                b = right(env)
                if not op(a, b):
                    return False
                a = b
            return True

        return compare
    if isinstance(node, ast.Name):
        if node.id in _LITERAL_NAMES:
            literal = _LITERAL_NAMES[node.id]
            return lambda env: literal
        name = node.id
        names.add(name)
        return lambda env: env[name]
    if isinstance(node, ast.Constant) and isinstance(node.value, str | int | float | bool):
        value = node.value
        if isinstance(value, float) and not math.isfinite(value):  # 1e999 reads as infinity: a typo, not a number
            raise ConditionError("the number is too large", node.col_offset)
        return lambda env: value
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        items = [_compile(e, names) for e in node.elts]
        return lambda env: [i(env) for i in items]
    what = type(node).__name__
    raise ConditionError(
        f"{what} is not allowed in a condition; use variables, text, numbers, comparisons, and/or/not, in",
        getattr(node, "col_offset", 0),
    )
