"""Resource limits: how much a request, a file or a row may hold before it is refused.

Every limit is a setting (``LANHAI_MAX_*``, see :data:`lanhai.settings.SETTINGS_DOC`) with a
default that suits a bank on one machine; exceeding one is a clear error (HTTP 413 or 400,
exit code 1) naming the limit and the setting, and nothing is written.

The readers of tables, sequences and breeding files apply them with the guards below, which
wrap the streams (or the zip file) the readers hand them: :func:`gunzip` decompresses with
the decompressed bytes counted against ``expanded`` and ``ratio``, :func:`read_line` reads one
line without holding more than the limit, and :func:`check_zip` / :class:`GuardedZip` check
the members of a zip archive (an XLSX workbook) by their declared sizes and again while they
are read.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from typing import IO, Any, Protocol, TextIO

from lanhai.errors import LanhaiError, UsageError

KIB, MIB, GIB = 1024, 1024 ** 2, 1024 ** 3

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*$", re.I)
_UNITS = {"": 1, "k": KIB, "m": MIB, "g": GIB, "t": 1024 * GIB}


class TooLarge(LanhaiError):
    """An input went past one of the limits; nothing was written."""

    code = "too_large"
    http_status = 413


@dataclass(frozen=True)
class Limits:
    """The limits of one bank (``Settings.limits``)."""

    #: bytes of a JSON or form request body (records, links, users, search forms)
    body: int = 1 * MIB
    #: bytes of a search request (pasted or uploaded FASTA, an HMM): anyone may send one
    query: int = 32 * MIB
    #: bytes of an uploaded file (an import table, sequences, breeding data): writers only
    upload: int = 4 * GIB
    #: bytes a compressed file (gzip, a zip member, an XLSX part) may expand to
    expanded: int = 20 * GIB
    #: how many times larger than its compressed size a file may expand, once past 64 MiB
    ratio: int = 200
    #: bytes of one line of a text table
    line: int = 1 * MIB
    #: cells in one row of a table
    cells: int = 10_000
    #: rows in one import
    rows: int = 10_000_000
    #: residues of one sequence (a chromosome) in a FASTA or GenBank file
    sequence: int = 2_000_000_000

    def refuse(self, what: str, name: str, limit: int, fix: str = "") -> TooLarge:
        """The error for ``what`` going past the limit ``name`` (a field of this class)."""
        setting = SETTING_OF[name]
        shown = size_text(limit) if name in SIZES else f"{limit:,}"
        return TooLarge(f"{what} is over the limit of {shown} ({setting}); nothing was "
                        f"written" + (f": {fix}" if fix else ""))


#: the setting of each limit
SETTING_OF = {
    "body": "LANHAI_MAX_BODY", "query": "LANHAI_MAX_QUERY", "upload": "LANHAI_MAX_UPLOAD",
    "expanded": "LANHAI_MAX_EXPANDED", "ratio": "LANHAI_MAX_RATIO",
    "line": "LANHAI_MAX_LINE", "cells": "LANHAI_MAX_CELLS", "rows": "LANHAI_MAX_ROWS",
    "sequence": "LANHAI_MAX_SEQUENCE",
}
#: limits given in bytes (the rest are counts)
SIZES = frozenset({"body", "query", "upload", "expanded", "line"})
assert set(SETTING_OF) == {f.name for f in fields(Limits)}


def size_text(size: int) -> str:
    """1048576 -> '1 MiB'."""
    for unit, factor in (("TiB", 1024 * GIB), ("GiB", GIB), ("MiB", MIB), ("KiB", KIB)):
        if size >= factor:
            value = size / factor
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size} bytes"


def parse_size(text: str, setting: str) -> int:
    """'64M', '2 GiB', '1048576' -> bytes."""
    match = _SIZE.match(text)
    if not match:
        raise UsageError(f"{setting}={text!r} is not a size; write e.g. 1048576, 512K, 64M "
                         "or 2G")
    return int(float(match[1]) * _UNITS[match[2].lower()])


def parse_count(text: str, setting: str) -> int:
    """'10000' or '10_000' -> 10000."""
    cleaned = text.strip().replace("_", "").replace(",", "")
    if not cleaned.isdigit() or int(cleaned) < 1:
        raise UsageError(f"{setting}={text!r} is not a whole number of at least 1")
    return int(cleaned)


def limits_from_env(env: dict[str, str] | None) -> Limits:
    """The limits ``LANHAI_MAX_*`` set, the defaults for the rest."""
    values: dict[str, int] = {}
    for name, setting in SETTING_OF.items():
        text = (env or {}).get(setting)
        if text is not None and text.strip():
            values[name] = (parse_size(text, setting) if name in SIZES
                            else parse_count(text, setting))
            if values[name] < 1:
                raise UsageError(f"{setting} must be at least 1")
    return Limits(**values)


# --- guards over the streams a reader is handed ------------------------------------------------

#: decompressed bytes past which the expansion ratio is checked (a small file may expand a lot)
RATIO_FROM = 64 * MIB
#: the first bytes of a gzip stream
GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 * MIB


def check_expansion(limits: Limits, what: str, expanded: int, compressed: int, *,
                    cap: str = "expanded") -> None:
    """TooLarge when ``expanded`` bytes from ``compressed`` go past the limit named by ``cap``
    (``expanded`` by default) or, past :data:`RATIO_FROM`, past ``limits.ratio``."""
    limit = int(getattr(limits, cap))
    if expanded > limit:
        raise limits.refuse(f"{what}, decompressed,", cap, limit,
                            f"decompress it yourself and check what it holds; if it is "
                            f"genuine, raise {SETTING_OF[cap]}")
    if expanded > RATIO_FROM and expanded > limits.ratio * max(compressed, 1):
        times = expanded // max(compressed, 1)
        raise limits.refuse(
            f"the expansion of {what} ({times:,} times: {size_text(expanded)} from "
            f"{size_text(compressed)})", "ratio", limits.ratio,
            "a file that expands this much is a decompression bomb, or holds little but "
            "repeats; if it is genuine, give it uncompressed or raise LANHAI_MAX_RATIO")


class Readable(Protocol):
    """What the guards read from: a binary stream's ``read`` and ``close``."""

    def read(self, size: int = ..., /) -> bytes: ...

    def close(self) -> None: ...


class Counted(io.RawIOBase):
    """A binary stream read through this one, counting the bytes read (``count``)."""

    def __init__(self, raw: Readable) -> None:
        super().__init__()
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        self.count += size
        return size

    def tell(self) -> int:
        return self.count


class Expanding(io.RawIOBase):
    """What a decompressor gives, refused (:class:`TooLarge`) as soon as it goes past the
    limits while it is read: see :func:`check_expansion`. ``compressed`` tells how many
    compressed bytes were read so far; ``declared`` is the size a zip header promised (more
    than that is refused too)."""

    def __init__(self, source: Readable, compressed: Callable[[], int], limits: Limits,
                 what: str, *, cap: str = "expanded", declared: int | None = None) -> None:
        super().__init__()
        self.source, self.compressed, self.limits = source, compressed, limits
        self.what, self.cap, self.declared = what, cap, declared
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.source.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        self.count += size
        if self.declared is not None and self.count > self.declared:
            raise TooLarge(f"{self.what} holds more than the {self.declared:,} bytes its zip "
                           "header declares; nothing was written: the file is corrupt or "
                           "made to mislead; save it again from the program that wrote it")
        check_expansion(self.limits, self.what, self.count, self.compressed(), cap=self.cap)
        return size

    def close(self) -> None:
        if not self.closed:
            self.source.close()
        super().close()


def gunzip(raw: Readable, limits: Limits, what: str, *, cap: str = "expanded"
           ) -> io.BufferedReader:
    """The decompressed content of the gzip (or bgzip) stream ``raw``, read from where
    ``raw`` stands and refused as soon as it goes past the limits (:class:`Expanding`).
    ``what`` names the file in messages; ``cap`` is the limit on the decompressed size
    (``query`` for a search request, which anyone may send)."""
    counted = Counted(raw)
    source = gzip.GzipFile(fileobj=counted, mode="rb")
    return io.BufferedReader(Expanding(source, counted.tell, limits, what, cap=cap), _CHUNK)


def read_line(text: TextIO, limit: int) -> str | None:
    """The next line of ``text`` with its line ending ('' at the end of the text), or None
    when it is longer than ``limit`` bytes (as UTF-8). At most ``limit + 2`` characters are
    read, so a file without line breaks costs no memory."""
    line = text.readline(limit + 2)
    body = line.rstrip("\r\n")
    if len(body) > limit or (len(body) * 4 > limit and _utf8_size(body) > limit):
        return None
    return line


def lines(text: TextIO, limit: int, too_long: Callable[[int], TooLarge]) -> Iterator[str]:
    """Every line of ``text``; ``too_long(number)`` (line numbers count from 1) is raised
    for the first line longer than ``limit`` bytes, before it is held in memory."""
    number = 0
    while True:
        line = read_line(text, limit)
        number += 1
        if line is None:
            raise too_long(number)
        if not line:
            return
        yield line


def _utf8_size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def check_zip(archive: zipfile.ZipFile, limits: Limits, name: str) -> None:
    """TooLarge when a member of ``archive`` (or all of them together) declares a size past
    the limits; nothing is decompressed."""
    total = packed = 0
    for info in archive.infolist():
        check_expansion(limits, f"{info.filename} in {name}", info.file_size,
                        info.compress_size)
        total += info.file_size
        packed += info.compress_size
    check_expansion(limits, name, total, packed)


class GuardedZip(zipfile.ZipFile):
    """A zip archive (an XLSX workbook) read within the limits: the sizes its members declare
    are checked when it is opened (:func:`check_zip`), and every member is counted again
    while it is read, since declared sizes can lie (:class:`Expanding`)."""

    def __init__(self, file: str | os.PathLike[str] | IO[bytes], limits: Limits,
                 name: str) -> None:
        super().__init__(file, "r")
        self.limits, self.name = limits, name
        try:
            check_zip(self, limits, name)
        except TooLarge:
            self.close()
            raise

    def open(self, name: str | zipfile.ZipInfo, mode: Any = "r", pwd: bytes | None = None,
             *, force_zip64: bool = False) -> IO[bytes]:
        member = super().open(name, mode, pwd, force_zip64=force_zip64)
        if mode != "r":
            return member
        info = name if isinstance(name, zipfile.ZipInfo) else self.getinfo(name)
        guarded = Expanding(member, lambda: info.compress_size, self.limits,
                            f"{info.filename} in {self.name}", declared=info.file_size)
        return io.BufferedReader(guarded, _CHUNK)
