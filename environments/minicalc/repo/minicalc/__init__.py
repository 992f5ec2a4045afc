"""minicalc: a small arithmetic expression language (tokenizer, parser, evaluator)."""

from minicalc.errors import CalcError
from minicalc.evaluator import evaluate
from minicalc.parser import parse
from minicalc.tokenizer import tokenize

__all__ = ["CalcError", "evaluate", "parse", "tokenize"]
__version__ = "1.2.0"
