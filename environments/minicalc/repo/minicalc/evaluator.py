"""Evaluates minicalc expressions."""

import math

from minicalc.errors import CalcError
from minicalc.parser import parse

FUNCTIONS = {
    "abs": abs,
    "min": min,
    "max": max,
    "sqrt": math.sqrt,
    "round": round,
}

CONSTANTS = {"pi": math.pi, "e": math.e}


def _binary(op, left, right):
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if op == "/":
        if right == 0:
            raise CalcError("division by zero")
        result = left / right
        return int(result) if isinstance(left, int) and isinstance(right, int) and result.is_integer() else result
    if op == "%":
        if right == 0:
            raise CalcError("modulo by zero")
        return left % right
    if op == "^":
        return left**right
    raise CalcError(f"unknown operator {op!r}")


def _eval(node, env):
    kind = node[0]
    if kind == "num":
        return node[1]
    if kind == "var":
        name = node[1]
        if name in env:
            return env[name]
        if name in CONSTANTS:
            return CONSTANTS[name]
        raise CalcError(f"unknown variable {name!r}")
    if kind == "neg":
        return -_eval(node[1], env)
    if kind == "bin":
        return _binary(node[1], _eval(node[2], env), _eval(node[3], env))
    if kind == "call":
        func = FUNCTIONS.get(node[1])
        if func is None:
            raise CalcError(f"unknown function {node[1]!r}")
        args = [_eval(arg, env) for arg in node[2]]
        try:
            return func(*args)
        except (TypeError, ValueError) as exc:
            raise CalcError(f"bad arguments to {node[1]}: {exc}") from None
    raise CalcError(f"unknown node {kind!r}")


def evaluate(text, variables=None):
    """Evaluate the expression ``text`` with optional ``variables``."""
    return _eval(parse(text), dict(variables or {}))
