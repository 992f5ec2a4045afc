"""Turns an expression string into tokens."""

import re
from collections import namedtuple

from minicalc.errors import CalcError

Token = namedtuple("Token", ["kind", "value", "pos"])

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z_0-9]*)
  | (?P<op>\*\*|[-+*/%^(),])
    """,
    re.VERBOSE,
)


def tokenize(text):
    """Tokens of ``text``; numbers become ``int`` or ``float`` values, ``**`` becomes ``^``."""
    tokens = []
    pos = 0
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if m is None:
            raise CalcError(f"unexpected character {text[pos]!r}", pos)
        kind = m.lastgroup
        raw = m.group()
        if kind == "number":
            value = float(raw) if any(c in raw for c in ".eE") else int(raw)
            tokens.append(Token("number", value, pos))
        elif kind == "name":
            tokens.append(Token("name", raw, pos))
        elif kind == "op":
            tokens.append(Token("op", "^" if raw == "**" else raw, pos))
        pos = m.end()
    tokens.append(Token("end", None, len(text)))
    return tokens
