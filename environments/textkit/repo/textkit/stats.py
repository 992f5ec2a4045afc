"""Word and character statistics."""

import re
from collections import Counter

_WORD = re.compile(r"[A-Za-z0-9']+")


def word_count(text):
    """Number of whitespace-separated words in ``text``."""
    return len(text.split())


def words(text):
    """Lower-case words of ``text`` (letters, digits and apostrophes)."""
    return [w.lower().strip("'") for w in _WORD.findall(text) if w.strip("'")]


def most_common_words(text, n=3, stopwords=()):
    """The ``n`` most frequent words as ``(word, count)`` pairs.

    Ties are broken alphabetically so the result is deterministic.
    """
    stop = {s.lower() for s in stopwords}
    counts = Counter(w for w in words(text) if w not in stop)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return ranked[:n]


def char_frequencies(text, ignore_case=True, letters_only=True):
    """Relative frequency of each character, as a dict summing to 1.0 (empty for no chars)."""
    if ignore_case:
        text = text.lower()
    chars = [c for c in text if c.isalpha()] if letters_only else [c for c in text if not c.isspace()]
    if not chars:
        return {}
    counts = Counter(chars)
    total = len(chars)
    return {c: counts[c] / total for c in sorted(counts)}
