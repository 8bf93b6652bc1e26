"""Read FASTA or GenBank, plain or gzip (sniffed from the bytes), validating as it streams.

:class:`SequenceReader` yields one :class:`SeqRecord` at a time and collects every
:class:`~lanhai.errors.Problem` (record id, line number, what is wrong, how to fix it) in
``problems``; the caller decides what to keep. Only valid records are yielded: a record
with a problem of its own (a stray character, an empty sequence, a missing or repeated id)
is listed in ``set_aside`` with its line and reasons, so that a caller may store the others;
``file_problems`` counts the problems no single record explains (a file that is not FASTA or
GenBank, a truncated gzip, a GenBank record without its terminator). Windows line endings
are accepted silently.

Memory stays within the :class:`~lanhai.limits.Limits` handed in: lines are read in pieces of
at most :data:`PIECE` characters (a chromosome on one line streams, and is validated piece
by piece), a gzip file is counted as it is decompressed (``expanded``, ``ratio``), a header
or annotation line may hold ``line`` bytes and one sequence ``sequence`` residues; past a
limit the reader raises :class:`~lanhai.limits.TooLarge`. A file that is not text (it holds
NUL bytes, as a file of zeros does) is a problem found in its first bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from lanhai.errors import Problem
from lanhai.limits import GZIP_MAGIC, Limits, TooLarge, gunzip

GENOME = "genome"
PROTEOME = "proteome"
KINDS = (GENOME, PROTEOME)

#: IUPAC nucleotide codes (upper case; lower-case soft-masking is accepted and upper-cased)
NUCLEOTIDES = frozenset("ACGTUNRYSWKMBDHV")
#: IUPAC amino-acid codes plus selenocysteine (U) and pyrrolysine (O)
AMINO_ACIDS = frozenset("ACDEFGHIKLMNPQRSTVWYBZJXUO")
#: problems kept in full; beyond this only a count is reported
MAX_PROBLEMS = 1000
#: characters of a line read at once (a longer line comes in several pieces)
PIECE = 1 << 20
#: bytes looked at first to tell text from binary data
_SNIFF = 4096
_GENBANK_JUNK = re.compile(r"[\s\d]+")


@dataclass(frozen=True)
class SetAside:
    """A record not yielded because of its own problems: id, header line, the reasons."""

    id: str
    line: int | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "line": self.line, "reason": self.reason}


@dataclass(frozen=True)
class SeqRecord:
    """One sequence: id, the rest of its header line, upper-case residues, header line no."""

    id: str
    description: str
    sequence: str
    line: int


#: one piece of a line: (line number, text without the line break, starts the line, ends it)
Piece = tuple[int, str, bool, bool]


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


@dataclass
class _Residues:
    """The sequence of one record while its lines stream past: checked piece by piece and
    kept only while it is valid."""

    #: the line before the first sequence line (the header, or GenBank's ORIGIN)
    line: int
    parts: list[str] = field(default_factory=list)
    size: int = 0
    lines: bool = False
    #: character -> first line it is on, for characters outside the alphabet
    bad: dict[str, int] = field(default_factory=dict)
    stars: int = 0
    star_line: int = 0
    last: str = ""


class SequenceReader:
    """Stream the records of one file of ``kind`` (genome or proteome).

    ``allow_stops`` accepts internal '*' in proteins (real proteomes have them: pseudogenes
    translated through a stop); a single trailing '*' is always accepted and dropped.
    ``limits`` bound what the file may hold; ``cap`` names the limit on its decompressed
    size (``expanded``, or ``query`` for a search request).
    """

    def __init__(self, stream: BinaryIO, *, kind: str = GENOME, name: str = "",
                 allow_stops: bool = False, limits: Limits | None = None,
                 cap: str = "expanded") -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        self.kind, self.name, self.allow_stops = kind, name, allow_stops
        self.limits, self.cap = limits or Limits(), cap
        self.problems: list[Problem] = []
        self.problem_count = 0
        #: records with problems of their own (the first MAX_PROBLEMS), and how many in all
        self.set_aside: list[SetAside] = []
        self.set_aside_count = 0
        #: problems that belong to the file rather than to one record
        self.file_problems = 0
        #: reasons found so far for the record being read (None between records)
        self._reasons: list[str] | None = None
        self.format = ""
        self.compressed = False
        self._raw = _Hashing(stream)
        self._ids: dict[str, int] = {}
        self._alphabet = NUCLEOTIDES if kind == GENOME else AMINO_ACIDS
        # bytes a sequence may hold; '*' is judged on its own in proteins (a final stop)
        self._valid = "".join(sorted(self._alphabet)).encode("ascii") + (
            b"*" if kind == PROTEOME else b"")

    @property
    def sha256(self) -> str:
        """SHA-256 of the bytes read so far (the whole file once iteration ends)."""
        return self._raw.sha256.hexdigest()

    @property
    def bytes_read(self) -> int:
        return self._raw.bytes_read

    def problem(self, reason: str, fix: str, *, line: int | None = None,
                record: str | None = None, value: str | None = None,
                whole_file: bool = False) -> None:
        """Note one problem (only the first MAX_PROBLEMS are kept in full): the current
        record's, or (``whole_file``, or between records) the file's."""
        self.problem_count += 1
        if self._reasons is None or whole_file:
            self.file_problems += 1
        else:
            self._reasons.append(reason)
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(reason=reason, fix=fix, row=line, record=record,
                                         value=value, file=self.name or None))

    def __iter__(self) -> Iterator[SeqRecord]:
        buffered = io.BufferedReader(self._raw, buffer_size=1 << 20)
        head = buffered.peek(2)[:2]
        self.compressed = head == GZIP_MAGIC
        binary: io.BufferedReader[Any] = buffered
        if self.compressed:
            binary = gunzip(buffered, self.limits, self.name or "the file", cap=self.cap)
        finished = False
        try:
            if b"\0" in binary.peek(_SNIFF)[:_SNIFF]:
                self.problem("is neither FASTA nor GenBank: it holds binary data (NUL bytes), "
                             "not text", "give a FASTA or GenBank file, plain or "
                             "gzip-compressed (decompress bzip2, xz or zstd files first)",
                             line=1)
            else:
                text = io.TextIOWrapper(binary, encoding="utf-8", errors="replace",
                                        newline=None)
                yield from self._records(self._pieces(text))
            finished = True
        except EOFError:
            self.problem("the gzip file is truncated (it ends before the end-of-stream marker)",
                         "copy or download the file again and check it with `gzip -t FILE`",
                         whole_file=True)
            finished = True
        except (gzip.BadGzipFile, zlib.error) as err:
            self.problem(f"the gzip data is corrupt ({err})",
                         "copy or download the file again and check it with `gzip -t FILE`",
                         whole_file=True)
            finished = True
        self._reasons = None
        if finished and not self.file_problems:
            # read what is left so the checksum covers the whole file
            while self._raw.read(1 << 20):
                pass

    @staticmethod
    def _pieces(text: io.TextIOWrapper) -> Iterator[Piece]:
        """Every line of ``text`` in pieces of at most :data:`PIECE` characters."""
        number, starts = 0, True
        while True:
            piece = text.readline(PIECE)
            if not piece:
                return
            number += starts
            ends = piece.endswith("\n")
            yield number, piece[:-1] if ends else piece, starts, ends
            starts = ends

    def _whole(self, first: Piece, pieces: Iterator[Piece]) -> str:
        """The whole line ``first`` starts (a header or an annotation line), within the line
        limit."""
        number, text, _, ends = first
        limit = self.limits.line
        parts, size = [text], len(text)
        while not ends:
            _, more, _, ends = next(pieces, (number, "", False, True))
            size += len(more)
            if size > limit:
                break
            parts.append(more)
        if size > limit:
            raise self.limits.refuse(
                f"{self.name or 'the file'}, line {number}: the line", "line", limit,
                "a FASTA header or GenBank line is short; check that the file is FASTA or "
                "GenBank text (raise LANHAI_MAX_LINE if its headers are genuinely this long)")
        return "".join(parts)

    def _records(self, pieces: Iterator[Piece]) -> Iterator[SeqRecord]:
        number = 0
        for piece in pieces:
            number, text, starts, ends = piece
            if starts and ends and not text.strip():
                continue
            if starts and text.startswith(">"):
                self.format = "fasta"
                yield from self._fasta(self._whole(piece, pieces), number, pieces)
                break
            if starts and text.startswith("LOCUS"):
                self.format = "genbank"
                yield from self._genbank(self._whole(piece, pieces), number, pieces)
                break
            self.problem("is neither FASTA (a first line starting with '>') nor GenBank "
                         "(a first line starting with 'LOCUS')",
                         "give a FASTA or GenBank file, plain or gzip-compressed "
                         "(decompress bzip2, xz or zstd files first)",
                         line=number, value=text.strip()[:60])
            return
        if not self.format and number == 0:
            self.problem("the file is empty", "give a FASTA or GenBank file with sequences")
        elif not self._ids and not self.problems:
            self.problem("holds no sequence records", "give a FASTA or GenBank file with "
                         "sequences")

    def _fasta(self, header: str, first: int, pieces: Iterator[Piece]
               ) -> Iterator[SeqRecord]:
        self._reasons = []
        ident, description = self._title(header, first)
        head_line, residues = first, _Residues(first)
        for piece in pieces:
            number, text, starts, _ = piece
            if starts and text.startswith(">"):
                yield from self._finish(ident, description, head_line, residues)
                self._reasons = []
                ident, description = self._title(self._whole(piece, pieces), number)
                head_line, residues = number, _Residues(number)
            else:
                self._add(residues, ident, number, text)
        yield from self._finish(ident, description, head_line, residues)

    def _title(self, header: str, line: int) -> tuple[str, str]:
        title = header[1:].strip()
        ident, _, description = title.partition(" ")
        if not ident:
            self.problem("the header has no sequence id", "write an id right after '>', "
                         "e.g. '>contig_1 description'", line=line)
            ident = f"(no id, line {line})"
        return ident, description.strip()

    def _finish(self, ident: str, description: str, line: int, residues: _Residues
                ) -> Iterator[SeqRecord]:
        """Yield the record read, or set it aside with its reasons."""
        sequence = self._check(ident, residues)
        self._register(ident, line)
        reasons, self._reasons = self._reasons or [], None
        if reasons:
            self.set_aside_count += 1
            if len(self.set_aside) < MAX_PROBLEMS:
                self.set_aside.append(SetAside(ident, line, "; ".join(reasons)))
        elif sequence is not None:
            yield SeqRecord(ident, description, sequence, line)

    def _register(self, ident: str, line: int) -> bool:
        first = self._ids.get(ident)
        if first is not None:
            self.problem(f"duplicate id (first used on line {first})",
                         "give every sequence a unique id", line=line, record=ident)
            return False
        self._ids[ident] = line
        return True

    def _add(self, residues: _Residues, ident: str, number: int, text: str) -> None:
        """Check one piece of a sequence line and keep it while the sequence is valid."""
        residues.lines = True
        if not text:
            return
        upper = text.upper()
        residues.size += len(upper)
        if residues.size > self.limits.sequence:
            raise self._too_long(ident, residues.line)
        residues.last = upper[-1]
        try:
            rest = upper.encode("ascii").translate(None, self._valid)
            bad = set(rest.decode("ascii"))
        except UnicodeEncodeError:
            bad = set(upper) - self._alphabet - {"*" if self.kind == PROTEOME else ""}
        if self.kind == PROTEOME and "*" in upper:
            if not residues.stars:
                residues.star_line = number
            residues.stars += upper.count("*")
        for char in bad:
            residues.bad.setdefault(char, number)
        if residues.bad:
            residues.parts.clear()  # not stored: only the problems are reported
        else:
            residues.parts.append(upper)

    def _too_long(self, ident: str, line: int) -> TooLarge:
        return self.limits.refuse(
            f"{self.name or 'the file'}, line {line}, record {ident}: the length of the "
            "sequence (residues)", "sequence", self.limits.sequence,
            "check the file; if the sequence is genuine, raise LANHAI_MAX_SEQUENCE")

    def _check(self, ident: str, residues: _Residues) -> str | None:
        """The validated sequence of one record; None when it is unusable."""
        final_stop = self.kind == PROTEOME and residues.last == "*"
        if residues.size - final_stop <= 0:
            self.problem("the sequence is empty", "remove the record or add its sequence",
                         line=residues.line if residues.lines else None, record=ident)
            return None
        bad = dict(residues.bad)
        if self.kind == PROTEOME and residues.stars > final_stop and not self.allow_stops:
            bad.setdefault("*", residues.star_line)
        if not bad:
            sequence = "".join(residues.parts)
            return sequence[:-1] if final_stop else sequence
        for char in sorted(bad):
            self.problem(*self._explain(char), line=bad[char], record=ident, value=char)
        return None

    def _explain(self, char: str) -> tuple[str, str]:
        if char == "*" and self.kind == PROTEOME:
            return ("internal stop codon '*' in a protein",
                    "pass --allow-stops to accept proteins with internal stops "
                    "(pseudogenes), or remove them")
        what = "a nucleotide (IUPAC)" if self.kind == GENOME else "an amino-acid (IUPAC)"
        fix = f"remove the character; valid: {''.join(sorted(self._alphabet))}"
        if self.kind == GENOME and char in AMINO_ACIDS:
            fix += "; if this is a protein FASTA, ingest it with --kind proteome"
        shown = {" ": "space", "\t": "tab", "-": "gap"}.get(char, repr(char))
        return f"stray character {shown}: not {what} code", fix

    def _genbank(self, locus: str, first: int, pieces: Iterator[Piece]
                 ) -> Iterator[SeqRecord]:
        ident, description, head_line = _locus_name(locus), "", first
        residues = _Residues(first)
        in_origin = False
        self._reasons = []
        for piece in pieces:
            number, text, starts, _ = piece
            if starts and text.startswith("//"):
                if not piece[3]:
                    self._whole(piece, pieces)
                yield from self._finish(ident, description, head_line, residues)
                ident, description, in_origin = "", "", False
                residues = _Residues(number)
            elif in_origin:
                self._add(residues, ident, number, _GENBANK_JUNK.sub("", text))
            elif not starts:
                continue  # the rest of a line already read whole
            else:
                line = self._whole(piece, pieces)
                if line.startswith("LOCUS"):
                    if ident:
                        self.problem("the previous record has no '//' terminator",
                                     "end every GenBank record with a line '//'",
                                     line=number, record=ident, whole_file=True)
                    self._reasons = []
                    ident, head_line, residues = _locus_name(line), number, _Residues(number)
                elif line.startswith("VERSION") and len(line.split()) > 1:
                    ident = line.split()[1]
                elif line.startswith("DEFINITION"):
                    description = line[10:].strip()
                elif line.startswith("ORIGIN"):
                    in_origin, residues = True, _Residues(number)
        if ident:
            self.problem("the last record has no '//' terminator (is the file cut short?)",
                         "end every GenBank record with a line '//'", line=head_line,
                         record=ident, whole_file=True)
        self._reasons = None


def _locus_name(line: str) -> str:
    words = line.split()
    return words[1] if len(words) > 1 else ""
