"""Read FASTA or GenBank, plain or gzip (sniffed from the bytes), validating as it streams.

:class:`SequenceReader` yields one :class:`SeqRecord` at a time and collects every
:class:`~lanhai.errors.Problem` (record id, line number, what is wrong, how to fix it) in
``problems``; the caller decides what to keep. Windows line endings are accepted silently.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from lanhai.errors import Problem

GENOME = "genome"
PROTEOME = "proteome"
KINDS = (GENOME, PROTEOME)

#: IUPAC nucleotide codes (upper case; lower-case soft-masking is accepted and upper-cased)
NUCLEOTIDES = frozenset("ACGTUNRYSWKMBDHV")
#: IUPAC amino-acid codes plus selenocysteine (U) and pyrrolysine (O)
AMINO_ACIDS = frozenset("ACDEFGHIKLMNPQRSTVWYBZJXUO")
#: problems kept in full; beyond this only a count is reported
MAX_PROBLEMS = 1000
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class SeqRecord:
    """One sequence: id, the rest of its header line, upper-case residues, header line no."""

    id: str
    description: str
    sequence: str
    line: int


class _Hashing(io.RawIOBase):
    """A binary stream wrapper that hashes and counts the raw (compressed) bytes read."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.sha256 = hashlib.sha256()
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.raw.read(len(buffer))
        self.sha256.update(data)
        self.bytes_read += len(data)
        buffer[: len(data)] = data
        return len(data)


class SequenceReader:
    """Stream the records of one file of ``kind`` (genome or proteome).

    ``allow_stops`` accepts internal '*' in proteins (real proteomes have them: pseudogenes
    translated through a stop); a single trailing '*' is always accepted and dropped.
    """

    def __init__(self, stream: BinaryIO, *, kind: str = GENOME, name: str = "",
                 allow_stops: bool = False) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        self.kind, self.name, self.allow_stops = kind, name, allow_stops
        self.problems: list[Problem] = []
        self.problem_count = 0
        self.format = ""
        self.compressed = False
        self._raw = _Hashing(stream)
        self._ids: dict[str, int] = {}
        self._alphabet = NUCLEOTIDES if kind == GENOME else AMINO_ACIDS

    @property
    def sha256(self) -> str:
        """SHA-256 of the bytes read so far (the whole file once iteration ends)."""
        return self._raw.sha256.hexdigest()

    @property
    def bytes_read(self) -> int:
        return self._raw.bytes_read

    def problem(self, reason: str, fix: str, *, line: int | None = None,
                record: str | None = None, value: str | None = None) -> None:
        """Note one problem (only the first MAX_PROBLEMS are kept in full)."""
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(reason=reason, fix=fix, row=line, record=record,
                                         value=value, file=self.name or None))

    def __iter__(self) -> Iterator[SeqRecord]:
        buffered = io.BufferedReader(self._raw, buffer_size=1 << 20)
        head = buffered.peek(2)[:2]
        self.compressed = head == _GZIP_MAGIC
        binary: BinaryIO = buffered
        if self.compressed:
            binary = gzip.GzipFile(fileobj=buffered, mode="rb")  # type: ignore[assignment]
        text = io.TextIOWrapper(binary, encoding="utf-8", errors="replace", newline=None)
        try:
            yield from self._records(text)
        except EOFError:
            self.problem("the gzip file is truncated (it ends before the end-of-stream marker)",
                         "copy or download the file again and check it with `gzip -t FILE`")
        except (gzip.BadGzipFile, zlib.error) as err:
            self.problem(f"the gzip data is corrupt ({err})",
                         "copy or download the file again and check it with `gzip -t FILE`")
        finally:
            # read what is left so the checksum covers the whole file
            while self._raw.read(1 << 20):
                pass

    def _records(self, text: io.TextIOWrapper) -> Iterator[SeqRecord]:
        number = 0
        for number, line in enumerate(text, 1):
            if not line.strip():
                continue
            if line.startswith(">"):
                self.format = "fasta"
                yield from self._fasta(text, line, number)
                break
            if line.startswith("LOCUS"):
                self.format = "genbank"
                yield from self._genbank(text, line, number)
                break
            self.problem("is neither FASTA (a first line starting with '>') nor GenBank "
                         "(a first line starting with 'LOCUS')",
                         "give a FASTA or GenBank file, plain or gzip-compressed "
                         "(decompress bzip2, xz or zstd files first)",
                         line=number, value=line.strip()[:60])
            return
        if not self.format and number == 0:
            self.problem("the file is empty", "give a FASTA or GenBank file with sequences")
        elif not self._ids and not self.problems:
            self.problem("holds no sequence records", "give a FASTA or GenBank file with "
                         "sequences")

    def _fasta(self, text: io.TextIOWrapper, header: str, first: int) -> Iterator[SeqRecord]:
        head_line = first
        parts: list[tuple[int, str]] = []
        for number, line in enumerate(text, first + 1):
            if line.startswith(">"):
                yield from self._finish(header, head_line, parts)
                header, head_line, parts = line, number, []
            else:
                parts.append((number, line.rstrip("\r\n")))
        yield from self._finish(header, head_line, parts)

    def _finish(self, header: str, line: int, parts: list[tuple[int, str]]
                ) -> Iterator[SeqRecord]:
        title = header[1:].strip()
        ident, _, description = title.partition(" ")
        if not ident:
            self.problem("the header has no sequence id", "write an id right after '>', "
                         "e.g. '>contig_1 description'", line=line)
            ident = f"(no id, line {line})"
        sequence = self._check(ident, parts)
        if self._register(ident, line) and sequence is not None:
            yield SeqRecord(ident, description.strip(), sequence, line)

    def _register(self, ident: str, line: int) -> bool:
        first = self._ids.get(ident)
        if first is not None:
            self.problem(f"duplicate id (first used on line {first})",
                         "give every sequence a unique id", line=line, record=ident)
            return False
        self._ids[ident] = line
        return True

    def _check(self, ident: str, parts: list[tuple[int, str]]) -> str | None:
        """Join and validate the sequence lines of one record; None when it is unusable."""
        sequence = "".join(p for _, p in parts).upper()
        if self.kind == PROTEOME and sequence.endswith("*"):
            sequence = sequence[:-1]
        if not sequence:
            line = parts[0][0] - 1 if parts else None
            self.problem("the sequence is empty", "remove the record or add its sequence",
                         line=line, record=ident)
            return None
        bad = set(sequence) - self._alphabet
        if self.kind == PROTEOME and self.allow_stops:
            bad.discard("*")
        if not bad:
            return sequence
        for char in sorted(bad):
            line = next(n for n, p in parts if char in p.upper())
            self.problem(*self._explain(char), line=line, record=ident, value=char)
        return None

    def _explain(self, char: str) -> tuple[str, str]:
        if char == "*" and self.kind == PROTEOME:
            return ("internal stop codon '*' in a protein",
                    "pass --allow-stops to accept proteins with internal stops "
                    "(pseudogenes), or remove them")
        what = "nucleotide (IUPAC)" if self.kind == GENOME else "amino-acid (IUPAC)"
        fix = f"remove the character; valid: {''.join(sorted(self._alphabet))}"
        if self.kind == GENOME and char in AMINO_ACIDS:
            fix += "; if this is a protein FASTA, ingest it with --kind proteome"
        shown = {" ": "space", "\t": "tab", "-": "gap"}.get(char, repr(char))
        return f"stray character {shown}: not a {what} code", fix

    def _genbank(self, text: io.TextIOWrapper, locus: str, first: int
                 ) -> Iterator[SeqRecord]:
        ident, description, head_line = _locus_name(locus), "", first
        parts: list[tuple[int, str]] = []
        in_origin = False
        for number, line in enumerate(text, first + 1):
            if line.startswith("//"):
                sequence = self._check(ident, parts)
                if self._register(ident, head_line) and sequence is not None:
                    yield SeqRecord(ident, description, sequence, head_line)
                ident, description, parts, in_origin = "", "", [], False
            elif in_origin:
                parts.append((number, re.sub(r"[\s\d]+", "", line)))
            elif line.startswith("LOCUS"):
                if ident:
                    self.problem("the previous record has no '//' terminator",
                                 "end every GenBank record with a line '//'", line=number,
                                 record=ident)
                ident, head_line, parts = _locus_name(line), number, []
            elif line.startswith("VERSION") and len(line.split()) > 1:
                ident = line.split()[1]
            elif line.startswith("DEFINITION"):
                description = line[10:].strip()
            elif line.startswith("ORIGIN"):
                in_origin = True
        if ident:
            self.problem("the last record has no '//' terminator (is the file cut short?)",
                         "end every GenBank record with a line '//'", line=head_line,
                         record=ident)


def _locus_name(line: str) -> str:
    words = line.split()
    return words[1] if len(words) > 1 else ""
