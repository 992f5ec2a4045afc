"""URL slugs."""

import re
import unicodedata

_NON_WORD = re.compile(r"[^a-z0-9]+")


def slugify(text, sep="-", max_length=None):
    """Turn ``text`` into a URL slug.

    Accents are stripped, everything that is not a letter or digit becomes ``sep``, runs of
    separators collapse into one, and separators never start or end the slug. With
    ``max_length`` the slug is cut at a word boundary when possible.

    >>> slugify("Hello, World!")
    'hello-world'
    """
    normalized = unicodedata.normalize("NFKD", text)
    ascii_text = normalized.encode("ascii", "ignore").decode("ascii").lower()
    slug = _NON_WORD.sub(sep, ascii_text)
    if sep:
        doubled = sep + sep
        while doubled in slug:
            slug = slug.replace(doubled, sep)
        slug = slug.strip(sep)
    if max_length is not None and len(slug) > max_length:
        cut = slug[:max_length]
        if sep and sep in cut and slug[max_length : max_length + len(sep)] != sep:
            cut = cut.rsplit(sep, 1)[0]
        slug = cut.strip(sep) if sep else cut
    return slug


def unique_slug(text, taken, sep="-"):
    """A slug for ``text`` that is not in ``taken``, adding ``-2``, ``-3``, ... when needed."""
    base = slugify(text, sep=sep) or "item"
    if base not in taken:
        return base
    n = 2
    while f"{base}{sep}{n}" in taken:
        n += 1
    return f"{base}{sep}{n}"
