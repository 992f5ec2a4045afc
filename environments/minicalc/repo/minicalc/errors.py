"""Errors raised by minicalc."""


class CalcError(Exception):
    """Any error in tokenizing, parsing or evaluating an expression."""

    def __init__(self, message, position=None):
        super().__init__(message if position is None else f"{message} at position {position}")
        self.position = position
