import pytest

from minicalc import CalcError, parse


def test_precedence():
    assert parse("1 + 2 * 3") == ("bin", "+", ("num", 1), ("bin", "*", ("num", 2), ("num", 3)))


def test_power_is_right_associative():
    assert parse("2 ^ 3 ^ 2") == ("bin", "^", ("num", 2), ("bin", "^", ("num", 3), ("num", 2)))


def test_unary_minus_binds_looser_than_power():
    assert parse("-2 ^ 2") == ("neg", ("bin", "^", ("num", 2), ("num", 2)))


def test_calls():
    assert parse("max(1, x)") == ("call", "max", [("num", 1), ("var", "x")])
    assert parse("f()") == ("call", "f", [])


@pytest.mark.parametrize("text", ["1 +", "(1", "1 2", ")"], ids=["dangling-op", "unclosed", "two-numbers", "stray-paren"])
def test_syntax_errors(text):
    with pytest.raises(CalcError):
        parse(text)
