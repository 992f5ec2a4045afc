import pytest

from minicalc import CalcError, tokenize


def kinds_values(text):
    return [(t.kind, t.value) for t in tokenize(text)]


def test_integers_and_operators():
    assert kinds_values("1 + 22*3") == [
        ("number", 1),
        ("op", "+"),
        ("number", 22),
        ("op", "*"),
        ("number", 3),
        ("end", None),
    ]


def test_decimal_numbers():
    assert kinds_values("3.25")[0] == ("number", 3.25)
    assert kinds_values("1e3")[0] == ("number", 1000.0)


def test_double_star_is_power():
    assert kinds_values("2**3")[1] == ("op", "^")


def test_names():
    assert kinds_values("max(x, y_1)")[:2] == [("name", "max"), ("op", "(")]


def test_bad_character_reports_position():
    with pytest.raises(CalcError) as info:
        tokenize("1 + $")
    assert info.value.position == 4
