"""Conversions between snake_case, camelCase, kebab-case and Title Case."""

import re

_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATORS = re.compile(r"[\s_\-]+")


def split_words(text):
    """Split an identifier or phrase into lower-case words.

    >>> split_words("parseHTTPResponse")
    ['parse', 'http', 'response']
    """
    text = _BOUNDARY.sub(" ", text.strip())
    return [w.lower() for w in _SEPARATORS.split(text) if w]


def to_snake(text):
    """``"HelloWorld"`` -> ``"hello_world"``."""
    return "_".join(split_words(text))


def to_kebab(text):
    """``"HelloWorld"`` -> ``"hello-world"``."""
    return "-".join(split_words(text))


def to_camel(text, upper_first=False):
    """``"hello_world"`` -> ``"helloWorld"`` (``"HelloWorld"`` with ``upper_first``)."""
    words = split_words(text)
    if not words:
        return ""
    head = words[0].capitalize() if upper_first else words[0]
    return head + "".join(w.capitalize() for w in words[1:])


_SMALL_WORDS = {"a", "an", "and", "as", "at", "but", "by", "for", "in", "of", "on", "or", "the", "to"}


def to_title(text):
    """Title-case a phrase, keeping small words lower case except at the ends."""
    words = text.split()
    out = []
    for i, word in enumerate(words):
        lower = word.lower()
        if 0 < i < len(words) - 1 and lower in _SMALL_WORDS:
            out.append(lower)
        else:
            out.append(lower[:1].upper() + lower[1:])
    return " ".join(out)
