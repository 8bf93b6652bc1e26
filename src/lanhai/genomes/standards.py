"""Assembly standards (EBP, VGP, B10K, GoaT's EBP labels) and whether an assembly meets them.

The standards ship as data, ``lanhai/genomes/data/standards.tsv`` (one row per standard and
criterion, with the source's own wording; provenance in ``data/README.md``).

**How a criterion is judged.** Each criterion names a metric of
:class:`~lanhai.genomes.quality.AssemblyMetrics`. When the metric is known the criterion is
*passed* or *failed* (a :class:`Failure` says in words why); when it is unknown it is *not
measured*: neither a pass nor a failure, and listed in ``Classification.not_measured``.

**Met.** A standard is met when none of its measured criteria fails and every criterion
that defines it is measured. The EBP report separates the standard itself (6.C.Q40: contig
N50, chromosome-scale scaffolding, QV) from criteria it lists *in addition* (false
duplications, k-mer completeness, share assigned to chromosomes, single-copy genes,
transcript mappability; marked "additional criterion" in the data); an additional criterion
that is not measured does not stop the standard being met, but is still listed as not
measured, and one that is measured and fails does. Every criterion of the VGP (Rhie et al.
2021, Table 1) and GoaT levels defines its level. A standard that has no failure but lacks
a defining measurement is *undetermined* (``verdict``).

**Metrics the standards name** (see :data:`METRICS`):

- ``contig_n50``/``scaffold_n50`` (EBP, GoaT) are N50; ``contig_ng50``/``scaffold_ng50`` (VGP)
  are NG50, against an estimated genome size, and are not taken from an N50.
- ``scaffolding`` = chromosome-scale (EBP's "C", "chromosomal scale N50 scaffolding"): the
  scaffold at the N50 is a chromosome. Where the share assigned to chromosomes is known it
  decides: at least 50 % assigned puts the N50 inside the chromosomes. Otherwise the assembly
  level decides: Chromosome or Complete Genome passes; Contig or Scaffold fails (NCBI gives
  those levels to assemblies with no sequence assigned to a chromosome).
- ``scaffold_ng50 = chromosome NG50`` (VGP-2020's "c") needs the chromosome NG50, which no
  metric holds: always not measured.
- ``base_error_rate`` = 10^(-QV/10); ``qv`` is Merqury's QV.
- ``assigned_to_chromosomes_pct`` and GoaT's ``_fraction`` (the same share / 100): where the
  share is unknown but the level is Contig or Scaffold the share is 0 (nothing is assigned).
- ``busco_single_copy_complete_pct`` = BUSCO (or compleasm) S; ``genes_complete_pct`` = C.
- ``gaps_per_gb`` = gaps per 10^9 bases; ``kmer_completeness_pct``,
  ``false_duplications_pct`` as given. ``reliable_blocks``, ``phase_block_ng50`` and
  ``transcript_mappability_pct`` have no metric: always not measured.

**Order** (:data:`ORDER`, highest first), used by :func:`best_standard`: VGP-2020
7.c.P6.Q50.C95, VGP-2016 6.7.P5.Q40.C90, EBP 6.C.Q40, GoaT 6.C, GoaT 6.7, GoaT 5.C, GoaT
5.6, B10K-2014 4.5.Q30. Contig continuity (the leading number) ranks first; among the
"6" standards VGP-2016 asks the most and EBP's adds QV to GoaT's 6.C; GoaT's own code
lets 6.C override 6.7 and tries 5.C before 5.6. B10K-2014 asks only 10 kb contigs.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib.resources import files
from typing import Literal

from lanhai.errors import NotFound, Problem, ValidationFailed
from lanhai.genomes.quality import AssemblyMetrics

#: the notations of the shipped standards, highest first (see the module's docstring)
ORDER = ("7.c.P6.Q50.C95", "6.7.P5.Q40.C90", "6.C.Q40", "6.C", "6.7", "5.C", "5.6",
         "4.5.Q30")
COLUMNS = ("standard", "notation", "source_id", "metric", "operator", "threshold", "unit",
           "source_text", "notes")
OPERATORS = {">=": "≥", ">": ">", "<": "<", "<=": "≤", "=": "="}
#: the sources the data's source_id column names
SOURCES = {
    "EBP_REPORT": "Earth BioGenome Project, Report on Assembly Standards "
                  "(earthbiogenome.org/report-on-assembly-standards), v5.0-v7.0",
    "RHIE2021_TABLE1": "Rhie A. et al. (2021) Nature 592:737-746, Table 1, "
                       "doi:10.1038/s41586-021-03451-0",
    "GOAT_CODE": "GoaT check_ebp_criteria(), genomehubs/goat-data @ 2ab7addc, "
                 "flows/lib/utils.py",
}
Verdict = Literal["met", "not met", "undetermined"]


@dataclass(frozen=True)
class Criterion:
    """One requirement of a standard: ``metric`` ``operator`` ``threshold`` (a number in
    ``unit``, or a text such as "chromosome-scale"), with the source's wording."""

    metric: str
    operator: str
    threshold: float | str
    unit: str
    source_text: str
    notes: str = ""

    @property
    def additional(self) -> bool:
        """Whether the source lists it in addition to the standard's own criteria."""
        return self.notes.startswith("additional criterion")

    def required(self) -> str:
        """What is required, in words: "≥ 1 Mb", "> 40", "chromosome-scale"."""
        if isinstance(self.threshold, str):
            return self.threshold
        return f"{OPERATORS[self.operator]} {_show(self.threshold, self.unit)}"


@dataclass(frozen=True)
class Standard:
    """A named standard (``notation`` such as 6.C.Q40) and its criteria."""

    name: str
    notation: str
    source_id: str
    criteria: tuple[Criterion, ...]

    @property
    def title(self) -> str:
        """Name and notation, for messages: "EBP minimum reference standard … 6.C.Q40"."""
        return self.notation if self.notation in self.name else f"{self.name} {self.notation}"

    @property
    def source(self) -> str:
        return SOURCES.get(self.source_id, self.source_id)


@dataclass(frozen=True)
class Failure:
    """A measured criterion the assembly fails: the metric, what is required, the value
    found and why, in words."""

    metric: str
    required: str
    actual: str
    reason: str
    criterion: Criterion


@dataclass(frozen=True)
class NotMeasured:
    """A criterion whose metric is unknown for the assembly, and what is missing."""

    metric: str
    required: str
    reason: str
    criterion: Criterion


@dataclass(frozen=True)
class Classification:
    """How an assembly fares against one standard."""

    standard: Standard
    met: bool
    failures: list[Failure]
    not_measured: list[NotMeasured]
    passed: list[Criterion]

    @property
    def verdict(self) -> Verdict:
        """"met", "not met" (a measured criterion fails) or "undetermined" (no failure,
        but a defining criterion is not measured)."""
        if self.met:
            return "met"
        return "not met" if self.failures else "undetermined"

    def describe(self) -> str:
        """One paragraph: the verdict, each failure and what was not measured."""
        head = f"{self.standard.title}: {self.verdict}"
        parts = [f.reason for f in self.failures]
        if self.not_measured:
            parts.append("not measured: " + ", ".join(
                f"{n.metric} ({n.reason})" for n in self.not_measured))
        return head + ("; " + "; ".join(parts) if parts else "")


# --- metrics --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Measured:
    """A metric's value for an assembly and how to show it in a message (with where the
    value comes from when it is inferred, e.g. from the assembly level)."""

    value: float
    shown: str


Reading = Measured | str  # a value, or why it is not measured


@dataclass(frozen=True)
class Metric:
    """How to read one metric the standards name from :class:`AssemblyMetrics`."""

    label: str
    read: Callable[[AssemblyMetrics], Reading]
    #: whether it can judge a text threshold ("chromosome-scale"): it reads 1 (yes) or 0
    judges_text: bool = False


def _field(name: str, missing: str, unit: str, scale: float = 1.0
           ) -> Callable[[AssemblyMetrics], Reading]:
    def read(m: AssemblyMetrics) -> Reading:
        value = getattr(m, name)
        if value is None:
            return missing
        return Measured(float(value) / scale, _show(float(value) / scale, unit))
    return read


def _busco(part: str) -> Callable[[AssemblyMetrics], Reading]:
    def read(m: AssemblyMetrics) -> Reading:
        if m.busco is None:
            return "no BUSCO or compleasm result given"
        value: float = getattr(m.busco, part)
        lineage = f", {m.busco.lineage}" if m.busco.lineage else ""
        return Measured(value, f"{value:.2f} % ({m.busco.tool}{lineage})")
    return read


def _assigned(scale: float) -> Callable[[AssemblyMetrics], Reading]:
    def read(m: AssemblyMetrics) -> Reading:
        pct = m.assigned_to_chromosomes_pct
        if pct is not None:
            return Measured(pct / scale, f"{pct:g} %" if scale == 1 else f"{pct / scale:g}")
        if m.assembly_level is not None and not m.assembly_level.has_chromosomes:
            zero = "0 %" if scale == 1 else "0"
            return Measured(0.0, f"{zero} (assembly level {m.assembly_level.value}: nothing "
                                 "is assigned to chromosomes)")
        return "the share assigned to chromosomes is not known"
    return read


def _error_rate(m: AssemblyMetrics) -> Reading:
    rate = m.error_rate
    if rate is None or m.qv is None:
        return "no QV given"
    return Measured(rate, f"{rate:.3g} errors per base (QV {m.qv:g})")


def _gaps_per_gb(m: AssemblyMetrics) -> Reading:
    value = m.gaps_per_gb
    if value is None:
        return "the gap count or total length is not known"
    return Measured(value, f"{value:,.0f} gaps per Gb ({m.gap_count:,} gaps)")


def _scaffolding(m: AssemblyMetrics) -> Reading:
    """1 when the scaffolding is chromosome-scale, 0 when not (see the module docstring)."""
    pct = m.assigned_to_chromosomes_pct
    if pct is not None:
        return Measured(1.0 if pct >= 50 else 0.0, f"{pct:g} % assigned to chromosomes")
    if m.assembly_level is not None:
        return Measured(1.0 if m.assembly_level.has_chromosomes else 0.0,
                        f"assembly level {m.assembly_level.value}")
    return "neither the assembly level nor the share assigned to chromosomes is known"


def _unmeasurable(why: str) -> Callable[[AssemblyMetrics], Reading]:
    def read(m: AssemblyMetrics) -> Reading:
        return why
    return read


#: every metric the shipped standards name, and how it is read
METRICS: Mapping[str, Metric] = {
    "contig_n50": Metric("contig N50", _field("contig_n50_bp", "no contig N50 given", "bp")),
    "scaffold_n50": Metric("scaffold N50",
                           _field("scaffold_n50_bp", "no scaffold N50 given", "bp")),
    "contig_ng50": Metric("contig NG50", _field("contig_ng50_bp", "no contig NG50 given; an "
                                                "N50 is not an NG50", "bp")),
    "scaffold_ng50": Metric("scaffold NG50", _field("scaffold_ng50_bp", "no scaffold NG50 "
                                                    "given; an N50 is not an NG50", "bp")),
    "scaffolding": Metric("scaffolding", _scaffolding, judges_text=True),
    "base_error_rate": Metric("base error rate", _error_rate),
    "qv": Metric("QV", _field("qv", "no QV given", "Phred")),
    "false_duplications_pct": Metric("false duplications", _field(
        "false_duplications_pct", "no false-duplication share given", "%")),
    "kmer_completeness_pct": Metric("k-mer completeness", _field(
        "kmer_completeness_pct", "no k-mer completeness given", "%")),
    "assigned_to_chromosomes_pct": Metric("share assigned to chromosomes", _assigned(1.0)),
    "assigned_to_chromosomes_fraction": Metric("fraction assigned to chromosomes",
                                               _assigned(100.0)),
    "busco_single_copy_complete_pct": Metric("complete single-copy genes", _busco("single")),
    "genes_complete_pct": Metric("complete genes", _busco("complete")),
    "gaps_per_gb": Metric("gaps per Gb", _gaps_per_gb),
    "reliable_blocks": Metric("reliable blocks", _unmeasurable(
        "the reliable-block length is not among the metrics")),
    "phase_block_ng50": Metric("phased block NG50", _unmeasurable(
        "the phased-block NG50 is not among the metrics")),
    "transcript_mappability_pct": Metric("transcript mappability", _unmeasurable(
        "transcript mappability is not among the metrics")),
}


def _show(value: float, unit: str) -> str:
    """A value in its unit for a message: 956,540 bp (957 kb), 40 Phred, 90 %."""
    if unit == "bp":
        whole = f"{value:,.0f} bp"
        for size, name in ((1e9, "Gb"), (1e6, "Mb"), (1e3, "kb")):
            if value >= size:
                short = f"{value / size:.3g} {name}"
                return short if value % size == 0 else f"{whole} ({short})"
        return whole
    if unit == "%":
        return f"{value:g} %"
    if unit == "Phred":
        return f"{value:g}"
    if unit == "errors per base":
        return f"{value:g} errors per base"
    return f"{value:g} {unit}".strip()


# --- loading --------------------------------------------------------------------------------

def load_standards(text: str, *, file: str | None = None) -> tuple[Standard, ...]:
    """Standards from TSV text in the shipped layout (:data:`COLUMNS`), in file order;
    refuses an unknown column set, metric or operator, or a threshold that is not a number
    for an ordering operator, naming the row."""
    reader = csv.reader(io.StringIO(text), delimiter="\t")
    header = next(reader, None)
    if header is None or tuple(header) != COLUMNS:
        raise ValidationFailed("not a standards table", [Problem(
            reason="the header is not the standards layout", row=1, file=file,
            value="\t".join(header or []), fix="columns: " + ", ".join(COLUMNS))])
    problems: list[Problem] = []
    grouped: dict[tuple[str, str], tuple[str, list[Criterion]]] = {}
    for number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(COLUMNS):
            problems.append(Problem(reason=f"has {len(row)} cells, not {len(COLUMNS)}",
                                    row=number, file=file, fix="one cell per column"))
            continue
        cells = dict(zip(COLUMNS, (c.strip() for c in row), strict=True))
        criterion = _criterion(cells, number, file, problems)
        if criterion is None:
            continue
        key = (cells["standard"], cells["notation"])
        grouped.setdefault(key, (cells["source_id"], []))[1].append(criterion)
    if problems:
        raise ValidationFailed(f"the standards table has {len(problems)} problem(s)",
                               problems)
    return tuple(Standard(name=name, notation=notation, source_id=source,
                          criteria=tuple(criteria))
                 for (name, notation), (source, criteria) in grouped.items())


def _criterion(cells: Mapping[str, str], number: int, file: str | None,
               problems: list[Problem]) -> Criterion | None:
    def fail(column: str, reason: str, fix: str) -> None:
        problems.append(Problem(reason=reason, fix=fix, row=number, column=column,
                                value=cells[column], file=file))

    if cells["metric"] not in METRICS:
        fail("metric", "is not a metric the standards know",
             "use one of " + ", ".join(METRICS))
        return None
    if cells["operator"] not in OPERATORS:
        fail("operator", "is not a comparison", "use one of " + " ".join(OPERATORS))
        return None
    threshold: float | str = cells["threshold"]
    try:
        threshold = float(cells["threshold"])
    except ValueError:
        if cells["operator"] != "=":
            fail("threshold", "is not a number", "give the threshold as a number in the unit")
            return None
    if isinstance(threshold, float) and not math.isfinite(threshold):
        fail("threshold", "is not a finite number", "give the threshold as a number")
        return None
    return Criterion(metric=cells["metric"], operator=cells["operator"], threshold=threshold,
                     unit=cells["unit"], source_text=cells["source_text"],
                     notes=cells["notes"])


def shipped_standards() -> tuple[Standard, ...]:
    """The standards shipped with Lanhai, in :data:`ORDER` (highest first)."""
    text = files("lanhai.genomes").joinpath("data", "standards.tsv").read_text("utf-8")
    loaded = {s.notation: s for s in load_standards(text, file="standards.tsv")}
    return tuple(loaded[n] for n in ORDER if n in loaded) + tuple(
        s for n, s in loaded.items() if n not in ORDER)


SHIPPED: tuple[Standard, ...] = shipped_standards()


def standard(notation: str, standards: Sequence[Standard] = SHIPPED) -> Standard:
    """The standard with this notation (6.C.Q40) or name (VGP-2016)."""
    for s in standards:
        if notation in (s.notation, s.name):
            return s
    raise NotFound(f"no standard {notation!r}", [Problem(
        reason="is not a standard's notation or name", value=notation,
        fix="use one of " + ", ".join(s.notation for s in standards))])


# --- classifying ----------------------------------------------------------------------------

def classify(metrics: AssemblyMetrics, standard: Standard) -> Classification:
    """Judge every criterion of ``standard`` on ``metrics`` (see the module docstring)."""
    failures: list[Failure] = []
    not_measured: list[NotMeasured] = []
    passed: list[Criterion] = []
    for criterion in standard.criteria:
        metric = METRICS[criterion.metric]
        reading = metric.read(metrics)
        required = criterion.required()
        if isinstance(criterion.threshold, str) and not metric.judges_text:
            not_measured.append(NotMeasured(
                criterion.metric, required, f"comparing with the {criterion.threshold} needs "
                "a value that is not among the metrics", criterion))
        elif isinstance(reading, str):
            not_measured.append(NotMeasured(criterion.metric, required, reading, criterion))
        elif _holds(reading.value, criterion):
            passed.append(criterion)
        else:
            failures.append(Failure(criterion.metric, required, reading.shown,
                                    _why(metric.label, reading, criterion, standard),
                                    criterion))
    defining_unmeasured = any(not n.criterion.additional for n in not_measured)
    met = not failures and not defining_unmeasured
    return Classification(standard, met, failures, not_measured, passed)


def _holds(value: float, criterion: Criterion) -> bool:
    if isinstance(criterion.threshold, str):  # "= chromosome-scale": the reading is 1 or 0
        return value >= 1.0
    t = criterion.threshold
    return {">=": value >= t, ">": value > t, "<": value < t, "<=": value <= t,
            "=": value == t}[criterion.operator]


def _why(label: str, reading: Measured, criterion: Criterion, standard: Standard) -> str:
    quote = f" (\"{criterion.source_text}\")" if criterion.source_text else ""
    if isinstance(criterion.threshold, str):
        return (f"{label} is not {criterion.threshold}: {reading.shown}; "
                f"{standard.title} requires {criterion.threshold}{quote}")
    threshold = _show(criterion.threshold, criterion.unit)
    equal = reading.value == criterion.threshold
    if criterion.operator in (">=", ">"):
        relation = f"is only {threshold}, not above it" if equal else f"is below {threshold}"
    else:
        relation = f"is {threshold}, not below it" if equal else f"is above {threshold}"
    return (f"{label} {reading.shown} {relation}: {standard.title} requires "
            f"{criterion.required()}{quote}")


def classify_all(metrics: AssemblyMetrics, standards: Iterable[Standard] = SHIPPED
                 ) -> list[Classification]:
    """:func:`classify` against each standard, in the order given (highest first)."""
    return [classify(metrics, s) for s in standards]


def best_standard(metrics: AssemblyMetrics, standards: Iterable[Standard] = SHIPPED
                  ) -> Standard | None:
    """The first standard of ``standards`` (default :data:`SHIPPED`, in :data:`ORDER`,
    highest first) that ``metrics`` meets, or ``None``."""
    for s in standards:
        if classify(metrics, s).met:
            return s
    return None
