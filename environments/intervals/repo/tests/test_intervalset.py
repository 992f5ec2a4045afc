from intervals import Interval, IntervalSet


def spans(s):
    return [(i.start, i.end) for i in s]


def test_add_keeps_sorted_disjoint():
    s = IntervalSet([(5, 7), (1, 2)])
    assert spans(s) == [(1, 2), (5, 7)]


def test_add_merges_overlapping():
    s = IntervalSet([(1, 4), (3, 6), (10, 12)])
    assert spans(s) == [(1, 6), (10, 12)]


def test_add_merges_touching():
    s = IntervalSet([(1, 3), (3, 5)])
    assert spans(s) == [(1, 5)]


def test_add_bridges_several():
    s = IntervalSet([(1, 2), (3, 4), (5, 6)])
    s.add((2, 5))
    assert spans(s) == [(1, 6)]


def test_empty_intervals_are_ignored():
    s = IntervalSet([(2, 2)])
    assert len(s) == 0


def test_remove_from_middle_splits():
    s = IntervalSet([(0, 10)])
    s.remove((3, 5))
    assert spans(s) == [(0, 3), (5, 10)]


def test_remove_edges():
    s = IntervalSet([(0, 10), (20, 30)])
    s.remove((5, 25))
    assert spans(s) == [(0, 5), (25, 30)]


def test_contains():
    s = IntervalSet([(0, 1), (5, 10)])
    assert s.contains(0)
    assert s.contains(7)
    assert not s.contains(1)
    assert not s.contains(-1)
    assert not s.contains(11)


def test_total_length():
    assert IntervalSet([(0, 1), (5, 10)]).total_length == 6


def test_union_and_intersection():
    a = IntervalSet([(0, 5), (10, 15)])
    b = IntervalSet([(3, 12)])
    assert spans(a.union(b)) == [(0, 15)]
    assert spans(a.intersection(b)) == [(3, 5), (10, 12)]


def test_complement():
    s = IntervalSet([(2, 4), (6, 8)])
    assert spans(s.complement(Interval(0, 10))) == [(0, 2), (4, 6), (8, 10)]
