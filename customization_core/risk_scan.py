"""The data risk scan: fed one record at a time by the validator's pass, judged at the end.

``RiskScan.observe`` runs inside customization_core/file_check.py's loop for every record
that parsed as an object; ``start_file`` switches from training to validation (whose
records are also compared with training's: leakage). Memory is bounded by the caps of
customization_core/risk_similar.py, risk_outliers.py and MAX_HASHES below; a cap that is
hit makes the file's scan partial rather than letting it grow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from customization_core.risk_outliers import LONG_FACTOR, MAX_ANSWERS, Outliers
from customization_core.risk_pii import Hit, find_sensitive
from customization_core.risk_policy import (
    RISK_KINDS,
    SAMPLED_BUDGET,
    RiskKind,
    RiskPolicy,
    ScanBudget,
)
from customization_core.risk_report import FileScan, RiskItem, RiskReport, Role, line_list
from customization_core.risk_similar import THRESHOLD, SimilarityIndex, signature
from customization_core.risk_text import MAX_TEXT_CHARS, record_text

__all__ = ["SAMPLED_BUDGET", "RiskReport", "RiskScan", "ScanBudget"]


# Record texts remembered per file for exact matches (a 64-bit hash and a line: about
# 100 bytes each, some 20 MB at the cap), as file_check.py's DEFAULT_DUPLICATE_WINDOW.
MAX_HASHES: Final = 200_000
MAX_LINES: Final = 20

_FIX: Final[dict[str, str]] = {
    "pii": "a model can repeat personal data it was trained on. Remove or mask it",
    "secrets": "a model can repeat it, and it is exposed to whoever reads the data. Remove it and rotate the credential",
}
_NOUN: Final[dict[str, str]] = {
    "email": "an e-mail address",
    "phone": "a phone number",
    "card": "a payment card number (Luhn-valid)",
    "iban": "an IBAN (checksum-valid)",
    "aws-key": "an AWS access key",
    "private-key": "a private key",
    "url-password": "a password in a URL",
}


@dataclass
class _Tally:
    """Records with one kind of finding in one file: counted, the first lines and example kept."""

    count: int = 0
    lines: list[int] = field(default_factory=list)
    example: str | None = None
    pair: tuple[int, int] | None = None  # (line, the line it matches), for look-alikes

    def add(self, line: int, example: str | None = None, other: int | None = None) -> None:
        self.count += 1
        if len(self.lines) < MAX_LINES:
            self.lines.append(line)
        if self.example is None:
            self.example = example
        if self.pair is None and other is not None:
            self.pair = (line, other)


@dataclass
class _File:
    role: Role
    sample_every: int = 1
    records: int = 0
    skipped: int = 0  # records past the budget not in the sample: counted, not read
    whole: int = 0  # records read before the budget's whole part was spent
    bytes: int = 0
    cut: int = 0
    index: SimilarityIndex = field(default_factory=SimilarityIndex)
    exact: dict[int, int] = field(default_factory=dict)
    exact_full: bool = False
    outliers: Outliers = field(default_factory=Outliers)
    tallies: dict[str, _Tally] = field(default_factory=dict)
    flagged: dict[str, int] = field(default_factory=dict)

    def tally(self, code: str) -> _Tally:
        found = self.tallies.get(code)
        if found is None:
            found = self.tallies[code] = _Tally()
        return found

    def flag(self, kind: str) -> None:
        self.flagged[kind] = self.flagged.get(kind, 0) + 1

    def partial(self) -> tuple[str, ...]:
        why = []
        if self.skipped:
            why.append(
                f"{self.records:,} of {self.records + self.skipped:,} records scanned: the first "
                f"{self.whole:,} whole, then a sample of 1 in {self.sample_every}"
            )
        if self.cut:
            why.append(
                f"{self.cut:,} records over {MAX_TEXT_CHARS:,} characters: their first {MAX_TEXT_CHARS:,} searched"
            )
        if self.index.full:
            why.append(
                f"near duplicates: the first {self.index.capacity:,} distinct records indexed, later ones compared with them only"
            )
        if self.index.crowded:
            why.append(
                f"near duplicates: {self.index.crowded:,} records with many look-alike candidates compared, not indexed"
            )
        if self.exact_full:
            why.append(f"exact matches: the first {MAX_HASHES:,} records remembered")
        if self.outliers.answers_full:
            why.append(f"repeated answers: the first {MAX_ANSWERS:,} distinct answers counted")
        return tuple(why)


class RiskScan:
    """Leakage, near duplicates, personal data, secrets and outliers, over one or two files."""

    def __init__(
        self, policy: RiskPolicy | None = None, *, budget: ScanBudget | None = None
    ) -> None:
        """``budget``: how much of each file is read (None: every record, whole)."""
        self.policy = policy or RiskPolicy()
        self.budget = budget
        self._files: dict[Role, _File] = {}
        self._current = self.start_file("training")

    def start_file(self, role: Role) -> _File:
        """Records observed from now on belong to ``role``'s file."""
        every = self.budget.sample_every if self.budget else 1
        self._current = self._files[role] = _File(role, sample_every=every)
        return self._current

    def observe(self, line: int, record: Mapping[str, Any]) -> None:
        """One record at ``line`` (1-based) of the current file: a JSON object of the file's format,
        before its fields are checked (a record with a bad field is still scanned)."""
        now = self._current
        budget = self.budget
        if budget is not None:
            if now.bytes < budget.whole_bytes:
                now.whole += 1
            elif (now.skipped + now.records - now.whole + 1) % budget.sample_every:
                now.skipped += 1
                return
        now.records += 1
        found = record_text(record)
        if found is None:
            return
        text = found.text
        now.bytes += len(text) if text.isascii() else len(text.encode())
        if found.cut:
            now.cut += 1
        hits = find_sensitive(text)
        if hits:
            self._sensitive(now, line, hits)
        self._similar(now, line, text)
        now.outliers.observe(line, found.length, found.prompt, found.answer)

    def _sensitive(self, now: _File, line: int, hits: list[Hit]) -> None:
        kinds: set[str] = set()
        whats: set[str] = set()
        for hit in hits:
            if hit.what in whats:
                continue
            whats.add(hit.what)
            kinds.add(hit.kind)
            now.tally(f"risk-{hit.kind}-{hit.what}").add(line, hit.masked)
        for kind in kinds:
            now.flag(kind)

    def _similar(self, now: _File, line: int, text: str) -> None:
        key = hash(text)
        training = self._files.get("training") if now.role == "validation" else None
        sig = signature(text)
        if training is not None:
            seen = training.exact.get(key)
            if seen is not None:
                now.tally("risk-leakage-exact").add(line, other=seen)
                now.flag("leakage")
            elif sig is not None and (near := training.index.match(sig)) is not None:
                now.tally("risk-leakage-near").add(line, other=near)
                now.flag("leakage")
        first = now.exact.get(key)
        if first is not None:
            return  # an exact repeat: file_check.py's duplicate-record, not reported twice
        if len(now.exact) < MAX_HASHES:
            now.exact[key] = line
        else:
            now.exact_full = True
        if sig is None:
            return
        near = now.index.match(sig)
        if near is not None:
            now.tally("risk-duplicates-near").add(line, other=near)
            now.flag("duplicates")
        else:
            now.index.add(line, sig)

    def result(self) -> RiskReport:
        """What the scan found, in a fixed order: file, then kind, then code."""
        items: list[RiskItem] = []
        summary: dict[str, int] = dict.fromkeys(RISK_KINDS, 0)
        scanned: dict[Role, FileScan] = {}
        for role in ("training", "validation"):
            now = self._files.get(role)
            if now is None:
                continue
            scanned[role] = FileScan(now.records, now.bytes, now.partial())
            for kind, count in now.flagged.items():
                summary[kind] += count
            file_items = [self._item(now, code, tally) for code, tally in now.tallies.items()]
            file_items.extend(_outlier_items(now))
            summary["outliers"] += now.outliers.flagged()
            order = {kind: n for n, kind in enumerate(RISK_KINDS)}
            file_items.sort(key=lambda item: (order[item.kind], item.code))
            items.extend(file_items)
        return RiskReport(scanned, summary, tuple(items), self.policy)

    def _item(self, now: _File, code: str, tally: _Tally) -> RiskItem:
        kind: RiskKind = code.split("-")[1]  # type: ignore[assignment]
        what = code.split("-", 2)[2]
        lines = tuple(tally.lines)
        where = line_list(lines, tally.count)
        one = tally.count == 1
        records = f"{tally.count:,} record{'' if one else 's'}"
        if kind in ("pii", "secrets"):
            text = f"{records} {'holds' if one else 'hold'} {_NOUN[what]} ({where}; e.g. {tally.example}); {_FIX[kind]}."
        elif kind == "leakage":
            how = (
                "repeat"
                if what == "exact"
                else f"nearly repeat (word-set similarity >= {THRESHOLD})"
            )
            pair = tally.pair or (lines[0], 0)
            text = (
                f"{records} of the validation file {how} training {'a record' if one else 'records'} ({where}; e.g. validation "
                f"line {pair[0]} and training line {pair[1]}); a score on records the model trained "
                "on reads too high. Remove them from the validation file."
            )
        else:
            pair = tally.pair or (lines[0], 0)
            text = (
                f"{records} nearly {'repeats' if one else 'repeat'} an earlier record of the file (word-set similarity >= "
                f"{THRESHOLD}; {where}; e.g. line {pair[0]} and line {pair[1]}); look-alikes weigh "
                "one example several times in training. Remove or vary them."
            )
        return RiskItem(kind, code, now.role, tally.count, lines, tally.example, text)


def _outlier_items(now: _File) -> list[RiskItem]:
    items = []
    for group in now.outliers.groups():
        one = group.count == 1
        records = f"{group.count:,} record{'' if one else 's'}"
        where = line_list(group.lines, group.count)
        example = group.example
        if group.what == "long":
            text = (
                f"{records} {'is' if one else 'are'} far longer than the rest ({where}): over {group.detail['threshold']:,} "
                f"characters, {LONG_FACTOR}x the median of {group.detail['median']:,} and above the "
                "99th percentile. Check they are not several records run together, or split them."
            )
        elif group.what == "empty-answer":
            text = (
                f"{records} {'has' if one else 'have'} an empty-looking answer ({where}; e.g. {example}); the model learns "
                "to answer that way. Write the answers or remove the records."
            )
        else:
            if example is not None and find_sensitive(example):
                example = None  # the answer itself holds personal data or a secret: not shown
            shown = f"{example!r}" if example is not None else "withheld: it holds sensitive data"
            text = (
                f"{records} give one answer to {group.detail['prompts']:,} different prompts "
                f"({where}; e.g. {shown}); the model learns to give it whatever it is asked. "
                "Vary the answers or remove most of these records."
            )
            example = shown if example is not None else None
        items.append(
            RiskItem(
                "outliers",
                f"risk-outliers-{group.what}",
                now.role,
                group.count,
                group.lines,
                example,
                text,
            )
        )
    return items
