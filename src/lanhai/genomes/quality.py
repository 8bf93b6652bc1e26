"""How good one genome assembly is: its metrics, the checks that refuse impossible values,
metrics computed from its sequences, and readers for the reports of BUSCO, compleasm and
Merqury.

Every length is in base pairs and every share in percent (0-100). A metric nobody measured
is ``None``; :mod:`lanhai.genomes.standards` reports it as "not measured", never as a pass.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from lanhai.errors import Problem, UsageError, ValidationFailed

#: an INSDC assembly accession: GenBank GCA_ or RefSeq GCF_, nine digits, a version
ACCESSION = re.compile(r"^GC[AF]_\d{9}\.\d+$")
#: how far BUSCO's complete share may differ from single + duplicated (rounding), in points
BUSCO_PARTS_TOLERANCE = 0.2
#: how far complete + fragmented + missing may differ from 100 %, in points
BUSCO_TOTAL_TOLERANCE = 0.5
#: the characters a nucleotide sequence may hold (IUPAC codes, either case)
_NUCLEOTIDES = re.compile(r"[^ACGTURYSWKMBDHVNacgturyswkmbdhvn]")
_GAP = re.compile(r"[Nn]+")

BuscoTool = Literal["busco", "compleasm"]


class AssemblyLevel(StrEnum):
    """NCBI's assembly levels, lowest first. ``Chromosome``: one or more sequences are
    assigned to chromosomes; ``Scaffold`` and ``Contig`` assemblies have none."""

    CONTIG = "Contig"
    SCAFFOLD = "Scaffold"
    CHROMOSOME = "Chromosome"
    COMPLETE_GENOME = "Complete Genome"

    @classmethod
    def parse(cls, text: str) -> AssemblyLevel:
        """The level a text names, in any case, with the usual aliases ("complete",
        "chromosome-level", "chr", "complete_genome"); refuses anything else."""
        key = re.sub(r"[\s_-]+", " ", text.strip().lower()).removesuffix(" level").strip()
        found = _LEVEL_ALIASES.get(key)
        if found is None:
            raise UsageError(f"the assembly level {text!r} is not known", [Problem(
                reason="is not an assembly level", field="assembly_level", value=text,
                fix="write Contig, Scaffold, Chromosome or Complete Genome")])
        return found

    @property
    def has_chromosomes(self) -> bool:
        """Whether an assembly at this level has sequences assigned to chromosomes."""
        return self in (AssemblyLevel.CHROMOSOME, AssemblyLevel.COMPLETE_GENOME)


_LEVEL_ALIASES = {
    "contig": AssemblyLevel.CONTIG, "contigs": AssemblyLevel.CONTIG,
    "scaffold": AssemblyLevel.SCAFFOLD, "scaffolds": AssemblyLevel.SCAFFOLD,
    "chromosome": AssemblyLevel.CHROMOSOME, "chromosomes": AssemblyLevel.CHROMOSOME,
    "chr": AssemblyLevel.CHROMOSOME,
    "complete genome": AssemblyLevel.COMPLETE_GENOME, "complete": AssemblyLevel.COMPLETE_GENOME,
    "completegenome": AssemblyLevel.COMPLETE_GENOME,
}


@dataclass(frozen=True)
class Busco:
    """Gene completeness against a BUSCO lineage, in percent of ``n`` genes.

    ``complete`` = ``single`` + ``duplicated``. compleasm has one more class,
    ``interspaced`` (its "I": a gene found in pieces); BUSCO has none, so it stays ``None``
    and complete + fragmented + missing is 100 %.
    """

    complete: float
    single: float
    duplicated: float
    fragmented: float
    missing: float
    n: int
    lineage: str | None = None
    tool: BuscoTool = "busco"
    interspaced: float | None = None

    @classmethod
    def from_counts(cls, single: int, duplicated: int, fragmented: int, missing: int, n: int,
                    *, lineage: str | None = None, tool: BuscoTool = "busco",
                    interspaced: int | None = None) -> Busco:
        """From gene counts (as the tools' tables give them): each share is count / n."""
        if n < 1:
            raise UsageError(f"a BUSCO total of {n} genes is impossible", [Problem(
                reason="must be at least 1", field="busco.n", value=str(n),
                fix="give the number of genes in the lineage (n)")])

        def pct(count: int) -> float:
            return 100.0 * count / n

        return cls(complete=pct(single + duplicated), single=pct(single),
                   duplicated=pct(duplicated), fragmented=pct(fragmented),
                   missing=pct(missing), n=n, lineage=lineage, tool=tool,
                   interspaced=None if interspaced is None else pct(interspaced))

    def notation(self) -> str:
        """The BUSCO one-line notation: ``C:95.1%[S:93.0%,D:2.1%],F:1.2%,M:3.7%,n:3640``
        (compleasm's I after F when known)."""
        inter = f",I:{self.interspaced:.1f}%" if self.interspaced is not None else ""
        return (f"C:{self.complete:.1f}%[S:{self.single:.1f}%,D:{self.duplicated:.1f}%],"
                f"F:{self.fragmented:.1f}%{inter},M:{self.missing:.1f}%,n:{self.n}")


@dataclass(frozen=True, kw_only=True)
class AssemblyMetrics:
    """What is known about one assembly; ``None`` = not measured.

    ``accession`` is the INSDC accession when the assembly has one; ``source`` says where
    the values come from. The NG50s (against an estimated genome size) and the false
    duplications are optional extras the VGP standards use.
    """

    accession: str | None = None
    assembly_name: str | None = None
    taxid: int | None = None
    organism: str | None = None
    assembly_level: AssemblyLevel | None = None
    total_length_bp: int | None = None
    contig_n50_bp: int | None = None
    scaffold_n50_bp: int | None = None
    contig_count: int | None = None
    scaffold_count: int | None = None
    gap_count: int | None = None
    chromosome_count: int | None = None
    assigned_to_chromosomes_pct: float | None = None
    qv: float | None = None
    kmer_completeness_pct: float | None = None
    busco: Busco | None = None
    release_date: dt.date | None = None
    source: str | None = None
    contig_ng50_bp: int | None = None
    scaffold_ng50_bp: int | None = None
    false_duplications_pct: float | None = None

    @property
    def error_rate(self) -> float | None:
        """Errors per base from the QV (Phred: QV = -10 log10 error rate)."""
        return None if self.qv is None else 10.0 ** (-self.qv / 10.0)

    @property
    def gaps_per_gb(self) -> float | None:
        """Gaps per 10^9 bases of assembly."""
        if self.gap_count is None or not self.total_length_bp:
            return None
        return self.gap_count * 1e9 / self.total_length_bp

    @property
    def label(self) -> str:
        """How to name the assembly in a message."""
        return self.accession or self.assembly_name or "the assembly"


def qv_from_error_rate(error_rate: float) -> float:
    """Phred quality of an error rate: QV 40 = 1 error in 10,000 bases."""
    if not 0 < error_rate <= 1:
        raise UsageError(f"an error rate of {error_rate} is not between 0 and 1", [Problem(
            reason="is not a rate above 0 and at most 1", field="error_rate",
            value=str(error_rate), fix="give errors per base, e.g. 0.0001")])
    return -10.0 * math.log10(error_rate)


# --- checks ---------------------------------------------------------------------------------

_LENGTHS = (("total_length_bp", "total length"), ("contig_n50_bp", "contig N50"),
            ("scaffold_n50_bp", "scaffold N50"), ("contig_ng50_bp", "contig NG50"),
            ("scaffold_ng50_bp", "scaffold NG50"))
_COUNTS = (("contig_count", "contig count"), ("scaffold_count", "scaffold count"),
           ("chromosome_count", "chromosome count"))
_PERCENTS = (("assigned_to_chromosomes_pct", "share assigned to chromosomes"),
             ("kmer_completeness_pct", "k-mer completeness"),
             ("false_duplications_pct", "false duplications"))


def check_metrics(m: AssemblyMetrics, *, today: dt.date | None = None) -> list[Problem]:
    """Every impossible value in ``m``, each with what, where and how to fix it; an empty
    list when nothing is wrong. ``today`` (default: the UTC date) bounds the release date."""
    problems: list[Problem] = []

    def add(field: str, value: object, reason: str, fix: str) -> None:
        problems.append(Problem(reason=reason, fix=fix, field=field, value=str(value),
                                record=m.accession))

    if m.accession is not None and not ACCESSION.match(m.accession):
        add("accession", m.accession, "is not an INSDC assembly accession",
            "write GCA_ or GCF_, nine digits and a version, e.g. GCA_014839685.1")
    if m.taxid is not None and m.taxid < 1:
        add("taxid", m.taxid, "is not a taxon id (a positive whole number)",
            "give the NCBI Taxonomy id, e.g. 8078")
    for name, label in _LENGTHS:
        value = getattr(m, name)
        if value is not None and value < 1:
            add(name, value, f"the {label} cannot be {'negative' if value < 0 else '0 bp'}",
                f"give the {label} in base pairs (a positive whole number)")
    total = m.total_length_bp
    for name, label in _LENGTHS[1:]:
        value = getattr(m, name)
        if value is not None and total is not None and total > 0 and value > total:
            add(name, value, f"the {label} {value:,} bp is larger than the total length "
                f"{total:,} bp", f"check the {label} and the total length; an N50 is the "
                "length of one sequence of the assembly")
    for small, big in (("contig_n50_bp", "scaffold_n50_bp"),
                       ("contig_ng50_bp", "scaffold_ng50_bp")):
        a, b = getattr(m, small), getattr(m, big)
        if a is not None and b is not None and a > b > 0:
            add(small, a, f"the {_label(small)} {a:,} bp is larger than the "
                f"{_label(big)} {b:,} bp", "scaffolds are made of contigs, so the contig "
                "value cannot be the larger: check both")
    for name, label in _COUNTS:
        value = getattr(m, name)
        if value is not None and value < 1:
            add(name, value, f"the {label} must be at least 1",
                f"give the number of sequences, or leave the {label} empty when unknown")
    if m.gap_count is not None and m.gap_count < 0:
        add("gap_count", m.gap_count, "the gap count cannot be negative",
            "give the number of gaps (0 when the scaffolds have none)")
    if (m.contig_count is not None and m.scaffold_count is not None
            and 0 < m.contig_count < m.scaffold_count):
        add("contig_count", m.contig_count, f"there are fewer contigs ({m.contig_count:,}) "
            f"than scaffolds ({m.scaffold_count:,})", "every scaffold holds at least one "
            "contig: check both counts")
    for name, label in _PERCENTS:
        value = getattr(m, name)
        if value is not None and not 0 <= value <= 100:
            add(name, value, f"the {label} {value} % is outside 0-100 %",
                "give a percentage between 0 and 100")
    if m.qv is not None and not 0 <= m.qv <= 100:
        add("qv", m.qv, f"QV {m.qv} is outside 0-100",
            "give the Phred QV (Merqury's 4th column), a number between 0 and 100")
    if m.busco is not None:
        problems.extend(_check_busco(m.busco, m.accession))
    if m.release_date is not None:
        limit = today or dt.datetime.now(dt.UTC).date()
        if m.release_date > limit:
            add("release_date", m.release_date.isoformat(),
                f"the release date is in the future (after {limit.isoformat()})",
                "give the date INSDC released the assembly, YYYY-MM-DD")
    return problems


def _label(field: str) -> str:
    return dict(_LENGTHS).get(field, field)


def _check_busco(b: Busco, record: str | None) -> list[Problem]:
    problems: list[Problem] = []

    def add(field: str, value: object, reason: str, fix: str) -> None:
        problems.append(Problem(reason=reason, fix=fix, field=f"busco.{field}",
                                value=str(value), record=record))

    shares = {"complete": b.complete, "single": b.single, "duplicated": b.duplicated,
              "fragmented": b.fragmented, "missing": b.missing}
    if b.interspaced is not None:
        shares["interspaced"] = b.interspaced
    outside = False
    for name, value in shares.items():
        if not 0 <= value <= 100:
            outside = True
            add(name, value, f"the BUSCO {name} share {value} % is outside 0-100 %",
                "give the share as a percentage between 0 and 100")
    if b.n < 1:
        add("n", b.n, "the number of BUSCO genes must be at least 1",
            "give n, the size of the lineage (e.g. 3640 for actinopterygii_odb10)")
    if outside:
        return problems
    if abs(b.complete - (b.single + b.duplicated)) > BUSCO_PARTS_TOLERANCE:
        add("complete", b.complete, f"complete {b.complete:g} % is not single {b.single:g} % "
            f"+ duplicated {b.duplicated:g} %", "copy C, S and D from the same BUSCO "
            "summary line (C = S + D)")
    total = b.complete + b.fragmented + b.missing
    if b.tool == "compleasm" and b.interspaced is None:
        if total > 100 + BUSCO_TOTAL_TOLERANCE:
            add("missing", b.missing, f"complete + fragmented + missing is {total:.1f} %, "
                "more than 100 %", "copy S, D, F and M from the same compleasm summary")
    else:
        total += b.interspaced or 0.0
        if abs(total - 100) > BUSCO_TOTAL_TOLERANCE:
            parts = "complete + fragmented + interspaced + missing" if b.interspaced \
                is not None else "complete + fragmented + missing"
            add("missing", b.missing, f"{parts} is {total:.1f} %, not 100 %",
                f"copy every share from the same {b.tool} summary")
    return problems


# --- metrics from sequences -----------------------------------------------------------------

def n50(lengths: Iterable[int]) -> int:
    """The N50: the length L such that sequences of length >= L hold at least half of all
    bases (sorted longest first, the length at which the running sum reaches half)."""
    ordered = sorted(lengths, reverse=True)
    if not ordered:
        raise UsageError("an N50 needs at least one sequence", [Problem(
            reason="no lengths were given", fix="give the length of every sequence")])
    if ordered[-1] < 0:
        raise UsageError("a sequence length cannot be negative", [Problem(
            reason="is negative", value=str(ordered[-1]), fix="give lengths in base pairs")])
    return _nx50(ordered, sum(ordered))


def ng50(lengths: Iterable[int], genome_size: int) -> int | None:
    """The NG50: as :func:`n50` but against an estimated genome size instead of the
    assembly's length; ``None`` when the sequences hold less than half the genome."""
    if genome_size < 1:
        raise UsageError(f"a genome size of {genome_size} bp is impossible", [Problem(
            reason="must be at least 1 bp", field="genome_size", value=str(genome_size),
            fix="give the estimated genome size in base pairs")])
    ordered = sorted(lengths, reverse=True)
    if 2 * sum(ordered) < genome_size:
        return None
    return _nx50(ordered, genome_size)


def _nx50(descending: list[int], total: int) -> int:
    running = 0
    for length in descending:
        running += length
        if 2 * running >= total:
            return length
    return descending[-1]


def metrics_from_sequences(records: Iterable[tuple[str, str]], *, min_gap: int = 1,
                           accession: str | None = None, assembly_name: str | None = None,
                           source: str = "computed from the sequences") -> AssemblyMetrics:
    """Total length, scaffold and contig N50 and counts, and gap count of the scaffolds
    ``records`` yields as (id, sequence), one at a time (only lengths are kept).

    Contigs are the scaffolds split at gaps, as NCBI splits them; a gap is a run of N (or n)
    at least ``min_gap`` long (default 1: every run of N, as seqrequester computes
    GenomeArk's contig NG50). A shorter run stays inside its contig as ambiguous bases.
    Runs at either end of a scaffold are not gaps (they join nothing): they count in the
    total length but in no contig. Refuses an empty or repeated id, an empty sequence,
    characters that are not IUPAC nucleotide codes, and an assembly with no contig.
    """
    if min_gap < 1:
        raise UsageError(f"min_gap={min_gap} is not a gap length", [Problem(
            reason="must be at least 1", field="min_gap", value=str(min_gap),
            fix="give the shortest run of N that counts as a gap, e.g. 1 or 10")])
    seen: set[str] = set()
    scaffolds: list[int] = []
    contigs: list[int] = []
    gaps = 0
    for number, (name, sequence) in enumerate(records, start=1):
        where = f"sequence {number} ({name!r})" if name else f"sequence {number}"
        if not name:
            raise ValidationFailed(f"{where} has no id", [Problem(
                reason="has no id", record=where, fix="give every sequence an id")])
        if name in seen:
            raise ValidationFailed(f"{where}: the id is used twice", [Problem(
                reason="the id is used by an earlier sequence", field="id", value=name,
                record=where, fix="give every scaffold its own id")])
        seen.add(name)
        if not sequence:
            raise ValidationFailed(f"{where} is empty", [Problem(
                reason="has no bases", record=where, fix="remove the empty sequence")])
        bad = _NUCLEOTIDES.search(sequence)
        if bad is not None:
            raise ValidationFailed(f"{where} has {bad.group()!r} at position "
                                   f"{bad.start() + 1}", [Problem(
                                       reason="is not a nucleotide code", value=bad.group(),
                                       record=f"{where}, position {bad.start() + 1}",
                                       fix="give DNA as IUPAC codes (A, C, G, T, N …)")])
        scaffolds.append(len(sequence))
        pieces, inner = _split_at_gaps(sequence, min_gap)
        contigs.extend(pieces)
        gaps += inner
    if not scaffolds:
        raise ValidationFailed("no sequences were given", [Problem(
            reason="the assembly has no sequences", fix="give at least one scaffold")])
    if not contigs:
        raise ValidationFailed("every sequence is all N", [Problem(
            reason="the assembly has no contig (every base is N)",
            fix="give the assembled sequences, not only gaps")])
    return AssemblyMetrics(accession=accession, assembly_name=assembly_name,
                           total_length_bp=sum(scaffolds), scaffold_n50_bp=n50(scaffolds),
                           scaffold_count=len(scaffolds), contig_n50_bp=n50(contigs),
                           contig_count=len(contigs), gap_count=gaps, source=source)


def _split_at_gaps(sequence: str, min_gap: int) -> tuple[list[int], int]:
    """Contig lengths of one scaffold and the number of gaps between them."""
    contigs: list[int] = []
    start = 0
    for run in _GAP.finditer(sequence):
        if run.end() - run.start() < min_gap:
            continue
        if run.start() > start:
            contigs.append(run.start() - start)
        start = run.end()
    if start < len(sequence):
        contigs.append(len(sequence) - start)
    return contigs, max(len(contigs) - 1, 0)


def read_fasta(lines: Iterable[str]) -> Iterator[tuple[str, str]]:
    """(id, sequence) of each record of FASTA text, one record at a time; the id is the
    header's first word. Refuses sequence before the first header."""
    name: str | None = None
    chunks: list[str] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith(">"):
            if name is not None:
                yield name, "".join(chunks)
            name, chunks = (line[1:].split() or [""])[0], []
        elif name is None:
            raise ValidationFailed(f"line {number}: sequence before the first header", [
                Problem(reason="is sequence before any '>' header", row=number,
                        value=line[:40], fix="start the file with a '>id' line")])
        else:
            chunks.append(line)
    if name is not None:
        yield name, "".join(chunks)


# --- tool reports ---------------------------------------------------------------------------

_NUMBER = r"(\d+(?:\.\d+)?)"
_BUSCO_LINE = re.compile(
    rf"^C:{_NUMBER}%\[S:{_NUMBER}%,D:{_NUMBER}%\],F:{_NUMBER}%,M:{_NUMBER}%,n:(\d+)"
    rf"(?:,E:{_NUMBER}%)?$")
_BUSCO_LINEAGE = re.compile(r"^#\s*The lineage dataset is:\s*(\S+)(.*)$")
_BUSCO_COUNT = re.compile(r"^(\d+)\s+(\S.*?)\s*(?:\t.*)?$")
#: the count lines under BUSCO's result line, by the class each counts
_BUSCO_COUNTS = {"Complete BUSCOs (C)": "C", "Complete and single-copy BUSCOs (S)": "S",
                 "Complete and duplicated BUSCOs (D)": "D", "Fragmented BUSCOs (F)": "F",
                 "Missing BUSCOs (M)": "M", "Total BUSCO groups searched": "n"}
_BUSCO_SIZE = re.compile(r"number of BUSCOs:\s*(\d+)")
_BUSCO_EXAMPLE = "C:95.1%[S:93.0%,D:2.1%],F:1.2%,M:3.7%,n:3640"


def _refuse(tool: str, line: int | None, text: str | None, reason: str, fix: str
            ) -> ValidationFailed:
    where = f"line {line}: " if line is not None else ""
    return ValidationFailed(f"not a {tool}: {where}{reason}", [Problem(
        reason=reason, fix=fix, row=line, value=None if text is None else text[:120])])


def parse_busco_summary(text: str) -> Busco:
    """A BUSCO short summary (``short_summary.*.txt``): the one-line result
    ``C:95.1%[S:93.0%,D:2.1%],F:1.2%,M:3.7%,n:3640`` (BUSCO 5.8 may add ``,E:…%``) and the
    lineage from ``# The lineage dataset is: …``. Where the count lines follow (``3462
    Complete BUSCOs (C)`` …), the shares are computed from them (they are exact; the line
    is rounded to 0.1) after checking both agree."""
    tool = "BUSCO short summary"
    lineage: str | None = None
    size: int | None = None
    result: tuple[int, re.Match[str]] | None = None
    counts: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if found := _BUSCO_LINEAGE.match(line):
            lineage = found.group(1)
            if sized := _BUSCO_SIZE.search(found.group(2)):
                size = int(sized.group(1))
        elif line.startswith("C:"):
            match = _BUSCO_LINE.match(line)
            if match is None:
                raise _refuse(tool, number, line, "the result line is not in BUSCO notation",
                              f"copy the line as BUSCO wrote it, e.g. {_BUSCO_EXAMPLE}")
            if result is not None:
                raise _refuse(tool, number, line, "a second result line (two summaries "
                              "pasted together?)", "give one summary at a time")
            result = (number, match)
        elif (counted := _BUSCO_COUNT.match(line)) and \
                counted.group(2) in _BUSCO_COUNTS:
            counts[_BUSCO_COUNTS[counted.group(2)]] = int(counted.group(1))
    if result is None:
        raise _refuse(tool, None, None, f"no result line like {_BUSCO_EXAMPLE}",
                      "give the short_summary file BUSCO wrote (not the full table)")
    number, match = result
    c, s, d, f, m = (float(match.group(i)) for i in range(1, 6))
    n = int(match.group(6))
    if n < 1:
        raise _refuse(tool, number, match.group(0), "n (the number of genes) is 0",
                      "give a summary of a run that searched the lineage's genes")
    if size is not None and size != n:
        raise _refuse(tool, number, match.group(0), f"n:{n} differs from the lineage's "
                      f"{size} BUSCOs", "give the summary of one run, unedited")
    busco = Busco(complete=c, single=s, duplicated=d, fragmented=f, missing=m, n=n,
                  lineage=lineage, tool="busco")
    if counts.get("n", n) != n or ("C" in counts and {"S", "D"} <= counts.keys()
                                   and counts["C"] != counts["S"] + counts["D"]):
        raise _refuse(tool, number, match.group(0), "the count lines disagree with the "
                      "result line (n, or C = S + D)", "give the summary of one run, unedited")
    if {"S", "D", "F", "M"} <= counts.keys():
        exact = Busco.from_counts(counts["S"], counts["D"], counts["F"], counts["M"], n,
                                  lineage=lineage, tool="busco")
        for name in ("complete", "single", "duplicated", "fragmented", "missing"):
            if abs(getattr(exact, name) - getattr(busco, name)) > 0.1:
                raise _refuse(tool, number, match.group(0), f"the {name} count disagrees "
                              "with the percentage on the result line",
                              "give the summary of one run, unedited")
        busco = exact
    problems = _check_busco(busco, None)
    if problems:
        raise ValidationFailed(f"not a {tool}: line {number}: {problems[0].reason}",
                               [Problem(reason=p.reason, fix=p.fix, row=number,
                                        field=p.field, value=p.value) for p in problems])
    return busco


_COMPLEASM_LINEAGE = re.compile(r"^##\s*lineage:\s*(\S+)\s*$")
_COMPLEASM_CLASS = re.compile(r"^([SDFIM]):\s*(\d+(?:\.\d+)?)%\s*,\s*(\d+)\s*$")
_COMPLEASM_TOTAL = re.compile(r"^N:\s*(\d+)\s*$")
_COMPLEASM_KEYS = ("S", "D", "F", "I", "M")


def parse_compleasm_summary(text: str, lineage: str | None = None) -> Busco:
    """compleasm's ``summary.txt``: a block per lineage run, ``## lineage: actinopterygii_odb10``
    then ``S:97.50%, 3555``, ``D:…``, ``F:…``, ``I:…``, ``M:…`` (percent, count) and
    ``N:3640``. compleasm appends a block per run, so a file with several needs ``lineage``
    to choose one. Shares are computed from the counts after checking both agree."""
    tool = "compleasm summary"
    blocks: list[tuple[int, str, dict[str, tuple[float, int, int]], int | None]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if found := _COMPLEASM_LINEAGE.match(line):
            blocks.append((number, found.group(1), {}, None))
            continue
        if not blocks:
            raise _refuse(tool, number, line, "a line before the first '## lineage:' line",
                          "give compleasm's summary.txt, which starts with '## lineage: …'")
        start, name, classes, total = blocks[-1]
        if shown := _COMPLEASM_CLASS.match(line):
            key = shown.group(1)
            if key in classes:
                raise _refuse(tool, number, line, f"{key} is given twice for {name}",
                              "give compleasm's summary.txt unedited")
            classes[key] = (float(shown.group(2)), int(shown.group(3)), number)
        elif counted := _COMPLEASM_TOTAL.match(line):
            blocks[-1] = (start, name, classes, int(counted.group(1)))
        else:
            raise _refuse(tool, number, line, "is not a compleasm summary line",
                          "lines look like '## lineage: actinopterygii_odb10', "
                          "'S:97.50%, 3555' or 'N:3640'")
    if not blocks:
        raise _refuse(tool, None, None, "no '## lineage:' line",
                      "give compleasm's summary.txt")
    if lineage is not None:
        chosen = [b for b in blocks if b[1] == lineage]
        if not chosen:
            raise _refuse(tool, None, None, f"no block for lineage {lineage}", "choose one "
                          f"of {', '.join(b[1] for b in blocks)}")
    elif len(blocks) > 1:
        raise _refuse(tool, None, None, f"{len(blocks)} lineage blocks "
                      f"({', '.join(b[1] for b in blocks)})", "pass the lineage to read")
    else:
        chosen = blocks
    start, name, classes, total = chosen[-1]
    missing = [k for k in _COMPLEASM_KEYS if k not in classes]
    if missing or total is None:
        lacking = ", ".join(missing + ([] if total is not None else ["N"]))
        raise _refuse(tool, start, f"## lineage: {name}", f"the block lacks {lacking}",
                      "give the whole block: S, D, F, I, M and N lines")
    if total < 1:
        raise _refuse(tool, start, f"N:{total}", "N (the number of genes) is 0",
                      "give the summary of a run that searched the lineage's genes")
    if sum(count for _, count, _ in classes.values()) != total:
        raise _refuse(tool, start, f"## lineage: {name}", "the counts of S, D, F, I and M "
                      f"do not add up to N:{total}", "give compleasm's summary.txt unedited")
    for key, (shown_pct, count, number) in classes.items():
        if abs(100.0 * count / total - shown_pct) > 0.01:
            raise _refuse(tool, number, f"{key}:{shown_pct}%, {count}", f"{shown_pct} % "
                          f"is not {count} of {total} genes", "give the file unedited")
    return Busco.from_counts(classes["S"][1], classes["D"][1], classes["F"][1],
                             classes["M"][1], total, lineage=name, tool="compleasm",
                             interspaced=classes["I"][1])


@dataclass(frozen=True)
class MerquryQV:
    """One line of a Merqury ``.qv`` file: the assembly (or ``Both`` for a pair of
    haplotypes), k-mers found only in the assembly (errors), all its k-mers, QV and error
    rate. ``qv`` is ``inf`` when no k-mer was in error."""

    assembly: str
    error_kmers: int
    total_kmers: int
    qv: float
    error_rate: float


@dataclass(frozen=True)
class MerquryCompleteness:
    """One line of a Merqury ``.completeness.stats`` file: the assembly (or ``both``), the
    k-mer set (``all``), the read k-mers found in the assembly, all solid read k-mers, and
    the completeness in percent."""

    assembly: str
    kmer_set: str
    found: int
    total: int
    completeness_pct: float


def _fields(text: str, tool: str, width: int, example: str
            ) -> Iterator[tuple[int, str, list[str]]]:
    any_line = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        any_line = True
        parts = line.split("\t") if "\t" in line else line.split()
        if len(parts) != width:
            raise _refuse(tool, number, line, f"has {len(parts)} columns, not {width}",
                          f"give the file Merqury wrote; a line looks like {example!r}")
        yield number, line, parts
    if not any_line:
        raise _refuse(tool, None, None, "the file has no lines",
                      f"give the file Merqury wrote; a line looks like {example!r}")


def _number(text: str, tool: str, number: int, line: str, what: str, whole: bool = False
            ) -> float:
    try:
        value = float(int(text)) if whole else float(text)
    except ValueError:
        raise _refuse(tool, number, line, f"the {what} {text!r} is not a "
                      f"{'whole number' if whole else 'number'}",
                      "give the file Merqury wrote, unedited") from None
    if math.isnan(value) or value < 0:
        raise _refuse(tool, number, line, f"the {what} {text!r} is not a count or rate",
                      "give the file Merqury wrote, unedited")
    return value


def parse_merqury_qv(text: str) -> list[MerquryQV]:
    """A Merqury ``.qv`` file, one line per assembly (``asm``, error k-mers, total k-mers,
    QV, error rate), tab-separated; checks QV = -10 log10(error rate)."""
    tool = "Merqury .qv file"
    example = "fAnaAna1\t41280\t2151298472\t40.9204\t8.0935e-05"
    out = []
    for number, line, (name, errors, total, qv, rate) in _fields(text, tool, 5, example):
        e = int(_number(errors, tool, number, line, "error k-mer count", whole=True))
        t = int(_number(total, tool, number, line, "total k-mer count", whole=True))
        q = _number(qv.lstrip("+"), tool, number, line, "QV")
        r = _number(rate, tool, number, line, "error rate")
        if e > t or t == 0:
            raise _refuse(tool, number, line, f"{e:,} error k-mers of {t:,} in all",
                          "the 2nd column counts a part of the 3rd: give the file unedited")
        if r > 1:
            raise _refuse(tool, number, line, f"the error rate {rate} is above 1",
                          "the 5th column is errors per base")
        expected = math.inf if r == 0 else qv_from_error_rate(r)
        if not (math.isinf(q) and math.isinf(expected)) and abs(q - expected) > 0.01:
            raise _refuse(tool, number, line, f"QV {qv} does not match the error rate "
                          f"{rate} (QV {expected:.4f})", "the 4th column is the QV and the "
                          "5th the error rate: give the file unedited")
        out.append(MerquryQV(assembly=name, error_kmers=e, total_kmers=t, qv=q,
                             error_rate=r))
    return out


def parse_merqury_completeness(text: str) -> list[MerquryCompleteness]:
    """A Merqury ``.completeness.stats`` file, one line per assembly (``asm``, ``all``,
    k-mers found, k-mers in all, completeness %), tab-separated; checks the percentage is
    100 × found / total."""
    tool = "Merqury .completeness.stats file"
    example = "fAnaAna1\tall\t1019000000\t1025000000\t99.4146"
    out = []
    for number, line, (name, kset, found, total, pct) in _fields(text, tool, 5, example):
        f = int(_number(found, tool, number, line, "found k-mer count", whole=True))
        t = int(_number(total, tool, number, line, "total k-mer count", whole=True))
        p = _number(pct, tool, number, line, "completeness")
        if t == 0 or f > t:
            raise _refuse(tool, number, line, f"{f:,} k-mers found of {t:,} in all",
                          "the 3rd column counts a part of the 4th: give the file unedited")
        if abs(100.0 * f / t - p) > 0.01:
            raise _refuse(tool, number, line, f"{pct} % is not {f:,} of {t:,}",
                          "the 5th column is 100 × 3rd / 4th: give the file unedited")
        out.append(MerquryCompleteness(assembly=name, kmer_set=kset, found=f, total=t,
                                       completeness_pct=p))
    return out
