import pytest

from ledger.money import format_amount, parse_amount


@pytest.mark.parametrize("text,cents", [("12.5", 1250), ("7", 700), ("0.05", 5), ("3.10", 310)])
def test_parse_positive(text, cents):
    assert parse_amount(text) == cents


@pytest.mark.parametrize("text", ["", "1.234", "1.x"])
def test_parse_rejects(text):
    with pytest.raises(ValueError):
        parse_amount(text)


def test_format():
    assert format_amount(1250) == "12.50"
    assert format_amount(-305) == "-3.05"
    assert format_amount(0) == "0.00"
