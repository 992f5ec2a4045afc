"""A set of numbers stored as sorted, disjoint, non-adjacent intervals."""

from bisect import bisect_right

from intervals.interval import Interval


class IntervalSet:
    """Union of half-open intervals, kept normalized: sorted, disjoint, never touching."""

    def __init__(self, intervals=()):
        self._items = []
        for item in intervals:
            self.add(item)

    def __iter__(self):
        return iter(self._items)

    def __len__(self):
        return len(self._items)

    def __repr__(self):
        return f"IntervalSet({self._items!r})"

    def __eq__(self, other):
        if not isinstance(other, IntervalSet):
            return NotImplemented
        return self._items == other._items

    def add(self, interval):
        """Add ``interval``, merging it with every interval it overlaps or touches."""
        if not isinstance(interval, Interval):
            interval = Interval(*interval)
        if interval.is_empty():
            return
        merged = interval
        kept = []
        for item in self._items:
            if item.overlaps(merged) or item.touches(merged):
                merged = merged.hull(item)
            else:
                kept.append(item)
        kept.append(merged)
        kept.sort()
        self._items = kept

    def remove(self, interval):
        """Remove every point of ``interval`` from the set, splitting intervals as needed."""
        if not isinstance(interval, Interval):
            interval = Interval(*interval)
        if interval.is_empty():
            return
        kept = []
        for item in self._items:
            if not item.overlaps(interval):
                kept.append(item)
                continue
            if item.start < interval.start:
                kept.append(Interval(item.start, interval.start))
            if interval.end < item.end:
                kept.append(Interval(interval.end, item.end))
        self._items = kept

    def contains(self, value):
        """Whether ``value`` is in the set (binary search)."""
        starts = [item.start for item in self._items]
        i = bisect_right(starts, value) - 1
        return i >= 0 and self._items[i].contains(value)

    @property
    def total_length(self):
        return sum(item.length for item in self._items)

    def union(self, other):
        result = IntervalSet(self._items)
        for item in other:
            result.add(item)
        return result

    def intersection(self, other):
        result = IntervalSet()
        for a in self._items:
            for b in other:
                common = a.intersection(b)
                if common is not None:
                    result.add(common)
        return result

    def complement(self, bounds):
        """The points of ``bounds`` (an interval) that are not in the set."""
        if not isinstance(bounds, Interval):
            bounds = Interval(*bounds)
        result = IntervalSet([bounds])
        for item in self._items:
            result.remove(item)
        return result
