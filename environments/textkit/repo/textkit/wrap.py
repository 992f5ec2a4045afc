"""Wrapping, truncating and dedenting text."""


def wrap(text, width=70):
    """Greedy word wrap: a list of lines no longer than ``width`` (long words stay whole)."""
    if width <= 0:
        raise ValueError("width must be positive")
    lines = []
    current = ""
    for word in text.split():
        if not current:
            current = word
        elif len(current) + 1 + len(word) <= width:
            current += " " + word
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


def truncate(text, limit, ellipsis="..."):
    """Cut ``text`` to at most ``limit`` characters, ending with ``ellipsis`` when cut.

    >>> truncate("Hello, world", 8)
    'Hello...'
    """
    if limit < 0:
        raise ValueError("limit must not be negative")
    if len(text) <= limit:
        return text
    if limit <= len(ellipsis):
        return ellipsis[:limit]
    return text[: limit - len(ellipsis)] + ellipsis


def dedent_lines(lines):
    """Remove the common leading whitespace of non-blank lines."""
    indents = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
    margin = min(indents) if indents else 0
    return [line[margin:] if line.strip() else "" for line in lines]
