import pytest

from intervals import Interval


def test_rejects_reversed_bounds():
    with pytest.raises(ValueError):
        Interval(3, 1)


def test_contains_is_half_open():
    iv = Interval(1, 3)
    assert iv.contains(1)
    assert iv.contains(2.5)
    assert not iv.contains(3)


def test_overlaps():
    assert Interval(1, 4).overlaps(Interval(3, 6))
    assert Interval(3, 6).overlaps(Interval(1, 4))
    assert not Interval(1, 2).overlaps(Interval(5, 6))


def test_touching_intervals_do_not_overlap():
    assert not Interval(1, 3).overlaps(Interval(3, 5))
    assert Interval(1, 3).touches(Interval(3, 5))


def test_intersection_and_hull():
    assert Interval(1, 4).intersection(Interval(3, 6)) == Interval(3, 4)
    assert Interval(1, 3).intersection(Interval(3, 5)) is None
    assert Interval(1, 2).hull(Interval(5, 6)) == Interval(1, 6)


def test_length_and_ordering():
    assert Interval(1.5, 4).length == 2.5
    assert sorted([Interval(3, 4), Interval(1, 9), Interval(1, 2)]) == [Interval(1, 2), Interval(1, 9), Interval(3, 4)]
