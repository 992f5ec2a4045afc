"""A book of dated entries with running balances."""
from dataclasses import dataclass
from datetime import date

from ledger.money import parse_amount


@dataclass(frozen=True)
class Entry:
    """One booking: a day, an amount in cents and a note."""

    day: date
    cents: int
    note: str = ""


class Book:
    """Entries in booking order."""

    def __init__(self):
        self.entries = []

    def add(self, day, amount, note=""):
        """Books ``amount`` (text, as :func:`parse_amount` reads it) on ``day``."""
        entry = Entry(day, parse_amount(amount), note)
        self.entries.append(entry)
        return entry

    def balance(self, until=None):
        """Sum of the entries booked on or before ``until`` (all entries when ``None``)."""
        return sum(e.cents for e in self.entries if until is None or e.day < until)
