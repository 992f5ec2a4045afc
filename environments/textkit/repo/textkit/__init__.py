"""textkit: small text utilities (case conversion, wrapping, slugs, word statistics)."""

from textkit.case import to_camel, to_kebab, to_snake, to_title
from textkit.slug import slugify
from textkit.stats import char_frequencies, most_common_words, word_count
from textkit.wrap import dedent_lines, truncate, wrap

__all__ = [
    "char_frequencies",
    "dedent_lines",
    "most_common_words",
    "slugify",
    "to_camel",
    "to_kebab",
    "to_snake",
    "to_title",
    "truncate",
    "word_count",
    "wrap",
]

__version__ = "0.3.1"
