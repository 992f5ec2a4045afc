"""Recursive-descent parser producing a small AST of tuples.

Grammar (lowest precedence first)::

    expr    := term (("+" | "-") term)*
    term    := unary (("*" | "/" | "%") unary)*
    unary   := "-" unary | "+" unary | power
    power   := call ("^" unary)?          # right associative, binds tighter than unary minus
    call    := NAME "(" args ")" | atom
    atom    := NUMBER | NAME | "(" expr ")"

Nodes: ``("num", value)``, ``("var", name)``, ``("neg", node)``, ``("bin", op, left, right)``,
``("call", name, [args])``.
"""

from minicalc.errors import CalcError
from minicalc.tokenizer import tokenize


class _Parser:
    def __init__(self, tokens):
        self.tokens = tokens
        self.i = 0

    def peek(self):
        return self.tokens[self.i]

    def next(self):
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def accept(self, *ops):
        tok = self.peek()
        if tok.kind == "op" and tok.value in ops:
            self.i += 1
            return tok
        return None

    def expect(self, op):
        tok = self.next()
        if tok.kind != "op" or tok.value != op:
            raise CalcError(f"expected {op!r}", tok.pos)
        return tok

    def expr(self):
        node = self.term()
        while True:
            tok = self.accept("+", "-")
            if tok is None:
                return node
            node = ("bin", tok.value, node, self.term())

    def term(self):
        node = self.unary()
        while True:
            tok = self.accept("*", "/", "%")
            if tok is None:
                return node
            node = ("bin", tok.value, node, self.unary())

    def unary(self):
        if self.accept("-"):
            return ("neg", self.unary())
        if self.accept("+"):
            return self.unary()
        return self.power()

    def power(self):
        base = self.call()
        if self.accept("^"):
            return ("bin", "^", base, self.unary())
        return base

    def call(self):
        tok = self.peek()
        if tok.kind == "name" and self.tokens[self.i + 1].kind == "op" and self.tokens[self.i + 1].value == "(":
            self.i += 2
            args = []
            if not self.accept(")"):
                args.append(self.expr())
                while self.accept(","):
                    args.append(self.expr())
                self.expect(")")
            return ("call", tok.value, args)
        return self.atom()

    def atom(self):
        tok = self.next()
        if tok.kind == "number":
            return ("num", tok.value)
        if tok.kind == "name":
            return ("var", tok.value)
        if tok.kind == "op" and tok.value == "(":
            node = self.expr()
            self.expect(")")
            return node
        if tok.kind == "end":
            raise CalcError("unexpected end of expression", tok.pos)
        raise CalcError(f"unexpected token {tok.value!r}", tok.pos)


def parse(text):
    """Parse ``text`` into an AST."""
    parser = _Parser(tokenize(text))
    node = parser.expr()
    tok = parser.peek()
    if tok.kind != "end":
        raise CalcError(f"unexpected token {tok.value!r}", tok.pos)
    return node
