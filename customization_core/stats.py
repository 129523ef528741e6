"""Token statistics in constant memory: total, max and an upper bound of the 95th percentile."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Final

# Bins of the histogram drawn on the report page (equal widths up to the file's max).
HISTOGRAM_BINS: Final = 20

# Counts below 2**EXACT_BITS are kept exactly (an array); larger ones are
# rounded up to a multiple of 2**(bits - EXACT_BITS), a relative error under
# 1/4096. The number of distinct keys stays bounded whatever the data, and
# the percentile never reads low.
EXACT_BITS: Final = 12
EXACT_LIMIT: Final = 1 << EXACT_BITS


def bucket(tokens: int) -> int:
    """The histogram key of a count of at least EXACT_LIMIT tokens."""
    shift = tokens.bit_length() - EXACT_BITS
    return -(-tokens >> shift) << shift


@dataclass(slots=True)
class TokenStats:
    count: int = 0
    total: int = 0
    max: int = 0
    small: list[int] = field(default_factory=lambda: [0] * EXACT_LIMIT)
    large: Counter[int] = field(default_factory=Counter)

    @classmethod
    def from_histogram(
        cls,
        small: list[int],
        large: Counter[int],
        large_count: int,
        large_total: int,
        large_max: int,
    ) -> TokenStats:
        """Stats from a histogram built in a hot loop (exact below EXACT_LIMIT, plus exact large sums)."""
        count = sum(small) + large_count
        total = sum(value * n for value, n in enumerate(small) if n) + large_total
        most = large_max or max((value for value, n in enumerate(small) if n), default=0)
        return cls(count=count, total=total, max=most, small=small, large=large)

    def add(self, tokens: int) -> None:
        self.count += 1
        self.total += tokens
        if tokens > self.max:
            self.max = tokens
        if tokens < EXACT_LIMIT:
            self.small[tokens] += 1
        else:
            self.large[bucket(tokens)] += 1

    def percentile(self, fraction: float) -> int:
        """The smallest value with at least ``fraction`` of the records at or below it."""
        if not self.count:
            return 0
        needed = fraction * self.count
        seen = 0
        for value, n in enumerate(self.small):
            seen += n
            if n and seen >= needed:
                return value
        for value in sorted(self.large):
            seen += self.large[value]
            if seen >= needed:
                return min(value, self.max)
        return self.max

    def histogram(self, bins: int = HISTOGRAM_BINS) -> list[list[int]]:
        """``[[upper_bound, count], ...]``: ``bins`` equal widths up to the max (empty: no records).

        Counts above EXACT_LIMIT are rounded up to their bucket (within 1/4,096), so a
        record may sit one bin high, never low; each bound is capped at the max.
        """
        if not self.count:
            return []
        width = max(1, -(-self.max // bins))
        counts = [0] * (-(-self.max // width) or 1)
        last = len(counts) - 1
        for value, n in enumerate(self.small):
            if n:
                counts[min(last, max(0, (value - 1) // width))] += n
        for value, n in self.large.items():
            counts[min(last, (min(value, self.max) - 1) // width)] += n
        return [[min((i + 1) * width, self.max), n] for i, n in enumerate(counts)]
