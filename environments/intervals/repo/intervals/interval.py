"""A half-open interval ``[start, end)`` of numbers."""

from functools import total_ordering


@total_ordering
class Interval:
    """The half-open interval ``[start, end)``; empty when ``start == end``."""

    __slots__ = ("start", "end")

    def __init__(self, start, end):
        if end < start:
            raise ValueError(f"interval end {end!r} is before its start {start!r}")
        self.start = start
        self.end = end

    def __repr__(self):
        return f"Interval({self.start!r}, {self.end!r})"

    def __eq__(self, other):
        if not isinstance(other, Interval):
            return NotImplemented
        return (self.start, self.end) == (other.start, other.end)

    def __lt__(self, other):
        if not isinstance(other, Interval):
            return NotImplemented
        return (self.start, self.end) < (other.start, other.end)

    def __hash__(self):
        return hash((self.start, self.end))

    def __len__(self):
        raise TypeError("use Interval.length for the (possibly fractional) size")

    @property
    def length(self):
        return self.end - self.start

    def is_empty(self):
        return self.start == self.end

    def contains(self, value):
        """Whether ``value`` lies in ``[start, end)``."""
        return self.start <= value < self.end

    def overlaps(self, other):
        """Whether the two intervals share at least one point (touching ends do not)."""
        return self.start < other.end and other.start < self.end

    def touches(self, other):
        """Whether one interval ends exactly where the other starts."""
        return self.end == other.start or other.end == self.start

    def intersection(self, other):
        """The common part, or ``None`` when they do not overlap."""
        if not self.overlaps(other):
            return None
        return Interval(max(self.start, other.start), min(self.end, other.end))

    def hull(self, other):
        """The smallest interval covering both."""
        return Interval(min(self.start, other.start), max(self.end, other.end))
