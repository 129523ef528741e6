"""Records unlike the rest of their file: far too long, an empty-looking answer, one answer for many prompts.

Bounded: lengths go into a TokenStats histogram (exact below 4,096, then within 1/4,096),
the longest records into a heap of LONGEST_KEPT, answers into a map of at most MAX_ANSWERS
hashes (``hash()`` of the text: 64 bits, the same within the process, which is all
a comparison needs). ``Outliers.groups()`` turns them into findings after the pass.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Final

from customization_core.risk_pii import find_sensitive
from customization_core.stats import TokenStats

# A record is "far longer" above LONG_FACTOR times the median length and above the
# 99th percentile: a file of uniformly long records has none.
LONG_FACTOR: Final = 8
LONG_PERCENTILE: Final = 0.99
MEDIAN: Final = 0.5
# The longest records remembered (length, line): enough to name the lines of a few outliers.
LONGEST_KEPT: Final = 200
# Answers that say nothing, compared stripped and lowercased.
EMPTY_ANSWERS: Final = frozenset({"", ".", "-", "--", "?", "n/a", "na", "none", "null", "nil"})
# An answer given to at least this many distinct prompts is reported; answers shorter than
# MIN_REPEATED_CHARS (class labels such as "positive") repeat by design and are not.
REPEATED_MIN_PROMPTS: Final = 10
MIN_REPEATED_CHARS: Final = 16
# Distinct answers remembered (about 100 bytes each, some 20 MB at the cap); beyond it
# known answers are still counted, new ones are not, and the scan says it was partial.
MAX_ANSWERS: Final = 200_000
# Lines named per finding, and the characters of an answer shown as its example.
MAX_LINES: Final = 20
EXAMPLE_CHARS: Final = 60
# Repeated answers reported one finding each, the most repeated first.
MAX_REPEATED_GROUPS: Final = 5


@dataclass
class _Answer:
    first_prompt: int
    count: int = 1
    prompts: int = 1  # records whose prompt differs from the first's, plus the first
    lines: list[int] = field(default_factory=list)
    example: str | None = None
    withheld: bool = False  # the answer holds personal data or a secret: never an example


@dataclass(frozen=True)
class OutlierGroup:
    """One outlier finding of a file: what, how many records, their first lines."""

    what: str  # "long", "empty-answer", "repeated-answer"
    count: int
    lines: tuple[int, ...]
    example: str | None  # an answer (clipped); None for long records
    detail: dict[str, int]  # numbers the message names (threshold, median, prompts)


@dataclass
class Outliers:
    lengths: TokenStats = field(default_factory=TokenStats)
    longest: list[tuple[int, int]] = field(default_factory=list)  # min-heap of (length, -line)
    empty: int = 0
    empty_lines: list[int] = field(default_factory=list)
    empty_example: str | None = None
    answers: dict[int, _Answer] = field(default_factory=dict)
    answers_full: bool = False

    def observe(self, line: int, length: int, prompt: str, answer: str | None) -> None:
        self.lengths.add(length)
        if len(self.longest) < LONGEST_KEPT:
            heapq.heappush(self.longest, (length, -line))
        elif length > self.longest[0][0]:
            heapq.heapreplace(self.longest, (length, -line))
        if answer is None:
            return
        normal = answer.strip().lower()
        if normal in EMPTY_ANSWERS:
            self.empty += 1
            if len(self.empty_lines) < MAX_LINES:
                self.empty_lines.append(line)
            if self.empty_example is None:
                self.empty_example = repr(answer.strip())
            return
        if len(normal) < MIN_REPEATED_CHARS:
            return
        key = hash(normal)
        seen = self.answers.get(key)
        prompt_key = hash(prompt)
        if seen is None:
            if len(self.answers) < MAX_ANSWERS:
                self.answers[key] = _Answer(prompt_key, lines=[line])
            else:
                self.answers_full = True
            return
        seen.count += 1
        if prompt_key != seen.first_prompt:
            seen.prompts += 1
        if len(seen.lines) < MAX_LINES:
            seen.lines.append(line)
        if seen.example is None and not seen.withheld:
            whole = answer.strip()
            # Judged on the whole answer: a cut could break an address or a key so that the
            # detectors no longer see it, and the cut part would be shown.
            if find_sensitive(whole):
                seen.withheld = True
            else:
                seen.example = whole[:EXAMPLE_CHARS]

    def groups(self) -> list[OutlierGroup]:
        found: list[OutlierGroup] = []
        long = self._long()
        if long is not None:
            found.append(long)
        if self.empty:
            found.append(
                OutlierGroup(
                    "empty-answer", self.empty, tuple(self.empty_lines), self.empty_example, {}
                )
            )
        repeated = sorted(
            (a for a in self.answers.values() if a.prompts >= REPEATED_MIN_PROMPTS),
            key=lambda a: (-a.count, a.lines[0]),
        )
        found.extend(
            OutlierGroup(
                "repeated-answer", a.count, tuple(a.lines), a.example, {"prompts": a.prompts}
            )
            for a in repeated[:MAX_REPEATED_GROUPS]
        )
        return found

    def flagged(self) -> int:
        """Records flagged by any outlier group (an empty answer is never a repeated one)."""
        return sum(group.count for group in self.groups())

    def _long(self) -> OutlierGroup | None:
        median = self.lengths.percentile(MEDIAN)
        high = self.lengths.percentile(LONG_PERCENTILE)
        threshold = max(LONG_FACTOR * median, high)
        over = sorted(-negative for length, negative in self.longest if length > threshold)
        if not over:
            return None
        # All of them are in the heap unless it filled with them: then the histogram counts.
        count = len(over) if len(over) < LONGEST_KEPT else self._count_over(threshold)
        return OutlierGroup(
            "long",
            count,
            tuple(over[:MAX_LINES]),
            None,
            {"threshold": threshold, "median": median},
        )

    def _count_over(self, threshold: int) -> int:
        small = self.lengths.small
        count = sum(small[threshold + 1 :]) if threshold + 1 < len(small) else 0
        return count + sum(n for value, n in self.lengths.large.items() if value > threshold)
