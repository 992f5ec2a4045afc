"""Parsing and formatting amounts of money held as integer cents."""


def parse_amount(text):
    """Parses ``"12.5"``, ``"-3.05"`` or ``"7"`` into cents (``1250``, ``-305``, ``700``)."""
    text = text.strip()
    if not text:
        raise ValueError("empty amount")
    whole, _, frac = text.partition(".")
    if len(frac) > 2 or not (frac.isdigit() or frac == ""):
        raise ValueError(f"bad amount: {text!r}")
    cents = int(frac.ljust(2, "0")) if frac else 0
    return int(whole) * 100 + cents


def format_amount(cents):
    """Formats cents as ``"12.50"`` / ``"-3.05"``."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{whole}.{frac:02d}"
