import math

import pytest

from minicalc import CalcError, evaluate


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1+2*3", 7),
        ("(1+2)*3", 9),
        ("10/4", 2.5),
        ("8/2", 4),
        ("7%3", 1),
        ("2^3^2", 512),
        ("-2^2", -4),
        ("2**10", 1024),
        ("1.5*4", 6.0),
    ],
)
def test_arithmetic(text, expected):
    assert evaluate(text) == expected


def test_variables_and_constants():
    assert evaluate("x * y + 1", {"x": 3, "y": 4}) == 13
    assert evaluate("2 * pi") == pytest.approx(2 * math.pi)


def test_functions():
    assert evaluate("max(1, 5, 3) + abs(-2)") == 7
    assert evaluate("sqrt(16)") == 4.0


def test_division_by_zero_is_a_calc_error():
    with pytest.raises(CalcError, match="division by zero"):
        evaluate("1 / 0")


def test_modulo_by_zero_is_a_calc_error():
    with pytest.raises(CalcError, match="modulo by zero"):
        evaluate("5 % (2 - 2)")


def test_unknown_names():
    with pytest.raises(CalcError, match="unknown variable"):
        evaluate("q + 1")
    with pytest.raises(CalcError, match="unknown function"):
        evaluate("nope(1)")


def test_bad_arguments():
    with pytest.raises(CalcError, match="bad arguments to sqrt"):
        evaluate("sqrt(-1)")
