"""Amounts as integer cents and a book of dated entries."""
from ledger.book import Book, Entry
from ledger.money import format_amount, parse_amount

__all__ = ["Book", "Entry", "format_amount", "parse_amount"]
