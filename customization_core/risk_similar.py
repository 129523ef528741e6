"""Near-duplicate records: MinHash signatures in an LSH index (rensa), in bounded memory.

rensa rather than datasketch: datasketch needs numpy and scipy (172 MB unpacked on
Lambda arm64, near Lambda's 250 MB limit) and was 33 times slower here (3,000 records of
300 words signed, looked up and inserted: 1.51 s against 0.045 s). A record's signature is the
MinHash of its lowercased words; the index proposes candidates, and a candidate counts
only when the signatures' estimated Jaccard similarity reaches THRESHOLD.
"""

from __future__ import annotations

from typing import Final

import rensa  # type: ignore[import-untyped]  # no type stubs; used through this module only

# Estimated Jaccard similarity of two records' word sets from which they are "near" duplicates.
THRESHOLD: Final = 0.8
# Permutations of a signature: a Jaccard estimate within about 1/sqrt(64) = 0.125 (one
# standard error at worst), enough to tell 0.8 from 0.5, in 256 bytes a record.
NUM_PERM: Final = 64
# 16 bands of 4 rows: a pair at Jaccard 0.8 becomes a candidate with probability
# 1 - (1 - 0.8**4)**16 = 0.9998; one at 0.5 with 0.64 and is then rejected by the estimate.
NUM_BANDS: Final = 16
SEED: Final = 17
# Records indexed per file. Each costs about 1 KB (measured: 620 B in the index, 420 B
# for the kept signature), so a full index is about 52 MB; beyond it records are still
# compared with the index but not added, and the scan says it was partial.
MAX_INDEXED: Final = 50_000
# Candidates verified per lookup. A record with more candidates than this, none of them
# a match, is left out of the index: buckets then hold at most about this many records
# each, and a lookup costs at most NUM_BANDS * MAX_CANDIDATES keys however alike the
# records of a file are (a small vocabulary, a long shared template).
MAX_CANDIDATES: Final = 16


class Signature:
    """A record's MinHash signature (opaque outside this module)."""

    __slots__ = ("minhash",)

    def __init__(self, minhash: object) -> None:
        self.minhash = minhash


def signature(text: str) -> Signature | None:
    """The signature of ``text``'s lowercased words; None for text without words."""
    words = text.lower().split()
    if not words:
        return None
    minhash = rensa.RMinHash(NUM_PERM, SEED)
    minhash.update(words)
    return Signature(minhash)


class SimilarityIndex:
    """The signatures of one file's first MAX_INDEXED distinct records, keyed by line."""

    def __init__(self, capacity: int = MAX_INDEXED) -> None:
        self._lsh = rensa.RMinHashLSH(THRESHOLD, NUM_PERM, NUM_BANDS)
        self._kept: dict[int, object] = {}
        self.capacity = capacity
        self.full = False  # a record was left out because the index was full
        self.crowded = 0  # records left out because their buckets were crowded
        self._last_crowded = False

    def __len__(self) -> int:
        return len(self._kept)

    def match(self, sig: Signature) -> int | None:
        """The first indexed line whose record is a near duplicate of ``sig``'s, if any."""
        candidates = self._lsh.query(sig.minhash)
        self._last_crowded = len(candidates) > MAX_CANDIDATES
        if not candidates:
            return None
        kept = self._kept
        jaccard = sig.minhash.jaccard  # type: ignore[attr-defined]
        for key in sorted(candidates)[:MAX_CANDIDATES]:  # the earliest lines first
            if jaccard(kept[key]) >= THRESHOLD:
                return int(key)
        return None

    def add(self, line: int, sig: Signature) -> None:
        """Index the record at ``line``, just looked up by ``match`` and matching nothing."""
        if self._last_crowded:
            self.crowded += 1
            return
        if len(self._kept) >= self.capacity:
            self.full = True
            return
        self._lsh.insert(line, sig.minhash)
        self._kept[line] = sig.minhash
