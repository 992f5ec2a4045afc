from datetime import date

from ledger.book import Book


def test_balance_of_all_entries():
    book = Book()
    book.add(date(2024, 1, 1), "10")
    book.add(date(2024, 1, 2), "2.50")
    assert book.balance() == 1250


def test_entries_keep_booking_order():
    book = Book()
    book.add(date(2024, 2, 1), "1", "b")
    book.add(date(2024, 1, 1), "1", "a")
    assert [e.note for e in book.entries] == ["b", "a"]
