"""intervals: half-open numeric intervals and sets of disjoint intervals."""

from intervals.interval import Interval
from intervals.intervalset import IntervalSet

__all__ = ["Interval", "IntervalSet"]
__version__ = "0.5.0"
