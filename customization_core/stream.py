"""Reading a dataset once, line by line, in constant memory, from any binary stream."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Final, Protocol

# The longest line kept in memory (bytes). A valid record is far shorter: the
# largest per-record token limit in the catalog is well under a million
# characters. A longer line is reported and skipped without being held.
MAX_LINE_BYTES: Final = 8 * 1024 * 1024
READ_BUFFER_BYTES: Final = 1024 * 1024
NEWLINE: Final = ord("\n")


class Readable(Protocol):
    """Anything with ``read(n)``: an open file, an S3 StreamingBody, a pipe."""

    def read(self, size: int = -1, /) -> bytes: ...


class _Raw(io.RawIOBase):
    """Adapts an object with ``read(n)`` to the raw-IO interface a BufferedReader needs."""

    def __init__(self, source: Readable) -> None:
        self._source = source

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._source.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        return n


def reader(source: Readable) -> io.BufferedIOBase:
    """A buffered reader over ``source`` whose ``readline(limit)`` bounds each read."""
    if isinstance(source, io.BufferedReader | io.BytesIO):
        return source
    return io.BufferedReader(_Raw(source), buffer_size=READ_BUFFER_BYTES)


def skip_rest_of_line(readline: Callable[[int], bytes], read: int) -> tuple[int, int]:
    """Discard the rest of an over-long line: (its length without newline, 1 if a newline ended it)."""
    length = read
    while True:
        more = readline(MAX_LINE_BYTES)
        if not more:
            return length, 0
        if more[-1] == NEWLINE:
            return length + len(more) - 1, 1
        length += len(more)
