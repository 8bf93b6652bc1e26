"""An assembly's genome-quality fields (assembly level, contig and scaffold N50, QV, BUSCO,
k-mer completeness, share assigned to chromosomes) and what they give: the best EBP/VGP
standard the assembly meets and, against the EBP minimum reference standard (6.C.Q40), each
criterion it fails in words (:mod:`lanhai.genomes.standards`)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from lanhai.errors import LanhaiError, Problem
from lanhai.genomes.quality import AssemblyLevel, AssemblyMetrics, Busco, check_metrics
from lanhai.genomes.standards import best_standard, classify, standard
from lanhai.kinds import vocab
from lanhai.kinds.fields import Field, Fields
from lanhai.kinds.vocab import FieldError, ValueContext

GROUP = "Genome quality"
#: the standard every assembly is judged against, criterion by criterion
REFERENCE = "6.C.Q40"
_BUSCO = re.compile(
    r"^C:(?P<C>[\d.]+)%\[S:(?P<S>[\d.]+)%,D:(?P<D>[\d.]+)%\],F:(?P<F>[\d.]+)%"
    r"(?:,I:(?P<I>[\d.]+)%)?,M:(?P<M>[\d.]+)%,n:(?P<n>\d+)$")
_COUNTS = re.compile(r"^S:(?P<S>\d+),D:(?P<D>\d+),F:(?P<F>\d+)(?:,I:(?P<I>\d+))?,"
                     r"M:(?P<M>\d+)(?:,n:(?P<n>\d+))?$", re.I)
_BUSCO_FIX = ("write BUSCO's line, e.g. C:95.1%[S:93.0%,D:2.1%],F:1.2%,M:3.7%,n:3640, or "
              "the gene counts S:3290,D:36,F:2,M:26,n:3354")


def assembly_level(value: Any, ctx: ValueContext, name: str) -> str:
    """Contig, Scaffold, Chromosome or Complete Genome (INSDC assembly levels)."""
    try:
        return str(AssemblyLevel.parse(vocab.text(value, ctx, name)).value)
    except LanhaiError:
        raise FieldError("is not an assembly level",
                         "write Contig, Scaffold, Chromosome or Complete Genome") from None


def busco(value: Any, ctx: ValueContext, name: str) -> str:
    """BUSCO's one-line result, or gene counts (compleasm, BUSCO tables), kept in BUSCO's
    notation; the parts must add up."""
    raw = re.sub(r"\s+", "", vocab.text(value, ctx, name))
    found = _BUSCO.match(raw)
    if found:
        shares = {k: float(v) for k, v in found.groupdict().items() if v is not None
                  and k != "n"}
        made = Busco(complete=shares["C"], single=shares["S"], duplicated=shares["D"],
                     fragmented=shares["F"], missing=shares["M"], n=int(found["n"]),
                     interspaced=shares.get("I"))
    else:
        counted = _COUNTS.match(raw)
        if counted is None:
            raise FieldError("is not a BUSCO result", _BUSCO_FIX)
        parts = {k: int(v) for k, v in counted.groupdict().items() if v is not None}
        total = sum(parts[k] for k in "SDFIM" if k in parts)
        n = parts.get("n", total)
        if n != total:
            raise FieldError(f"has counts adding up to {total}, not n = {n}",
                             "give every class's count (S, D, F, M) of the same lineage")
        made = Busco.from_counts(parts["S"], parts["D"], parts["F"], parts["M"], n,
                                 interspaced=parts.get("I"))
    if abs(made.complete - made.single - made.duplicated) > 0.2:
        raise FieldError(f"says C {made.complete}% but S + D = "
                         f"{made.single + made.duplicated:.1f}%",
                         "complete is single-copy plus duplicated: copy the line again")
    added = made.complete + made.fragmented + made.missing + (made.interspaced or 0)
    if abs(added - 100) > 0.5:
        raise FieldError(f"adds up to {added:.1f}%, not 100%",
                         "C + F + M (+ I) is 100%: copy the line again")
    return made.notation()


def _qv(value: Any, ctx: ValueContext, name: str) -> float:
    number = vocab.number(value, ctx, name)
    if not 0 < number <= 100:
        raise FieldError("is outside 0-100", "give the Phred QV, e.g. 42.3 (Merqury's QV)")
    return number


def _positive(value: Any, ctx: ValueContext, name: str) -> int:
    number = vocab.integer(value, ctx, name)
    if number < 1:
        raise FieldError("is below 1", "give a length or count of at least 1")
    return number


FIELDS: tuple[Field, ...] = (
    Field("assembly_level", assembly_level, group=GROUP, aliases=("level", "组装水平"),
          description="Contig, Scaffold, Chromosome or Complete Genome (INSDC).",
          example="Chromosome"),
    Field("contig_n50", _positive, group=GROUP, aliases=("contig n50", "contig_n50_bp"),
          description="Contig N50, bp (computed from stored sequences when not given).",
          example="10167936"),
    Field("scaffold_n50", _positive, group=GROUP, aliases=("scaffold n50", "scaffold_n50_bp"),
          description="Scaffold N50, bp.", example="42463096"),
    Field("scaffold_count", _positive, group=GROUP, aliases=("scaffolds",),
          description="Number of scaffolds."),
    Field("chromosome_count", _positive, group=GROUP, aliases=("chromosomes",),
          description="Number of chromosomes assigned."),
    Field("assigned_to_chromosomes", vocab.percentage, group=GROUP,
          aliases=("assigned to chromosomes", "assigned_to_chromosomes_pct",
                   "chromosome assignment"),
          description="Share of the sequence assigned to chromosomes, %.", example="99.53"),
    Field("qv", _qv, group=GROUP, aliases=("consensus quality", "merqury qv"),
          description="Consensus quality value (Phred; Merqury).", example="42.3"),
    Field("kmer_completeness", vocab.percentage, group=GROUP,
          aliases=("k-mer completeness", "merqury completeness"),
          description="k-mer completeness, % (Merqury).", example="96.4"),
    Field("false_duplications", vocab.percentage, group=GROUP,
          aliases=("false duplications",), description="False duplications, %."),
    Field("busco", busco, group=GROUP, aliases=("busco result", "compleasm"),
          description="BUSCO (or compleasm) result in BUSCO's notation, or the gene counts.",
          example="C:99.2%[S:98.1%,D:1.1%],F:0.1%,M:0.8%,n:3354"),
    Field("busco_lineage", group=GROUP, aliases=("busco lineage", "lineage dataset"),
          description="The BUSCO lineage set.", example="vertebrata_odb10"),
    Field("release_date", vocab.full_date, group=GROUP, aliases=("seq_rel_date",),
          description="Day the assembly was released in INSDC."),
)
NAMES = tuple(f.name for f in FIELDS)
#: what :func:`derive` computes
COMPUTED = ("quality_standard", "ebp_verdict", "ebp_failures", "ebp_not_measured")


def metrics_of(fields: Fields) -> AssemblyMetrics:
    """The assembly's metrics from its fields (and its stored sequences' summary)."""
    def known(name: str) -> Any:
        value = fields.get(name)
        return None if value is None or vocab.missing_term(value) is not None else value

    shares = busco_of(known("busco"), known("busco_lineage"))
    level = known("assembly_level")
    released = known("release_date")
    taxid = known("taxid")
    return AssemblyMetrics(
        accession=None, assembly_name=known("assembly_name"),
        taxid=int(taxid) if isinstance(taxid, int) else None,
        organism=known("taxon_name"),
        assembly_level=AssemblyLevel.parse(level) if level else None,
        total_length_bp=known("genome_size"),
        contig_n50_bp=known("contig_n50") or known("sequence_contig_n50"),
        scaffold_n50_bp=known("scaffold_n50") or known("n50"),
        contig_count=known("contig_count"), scaffold_count=known("scaffold_count"),
        chromosome_count=known("chromosome_count"),
        assigned_to_chromosomes_pct=known("assigned_to_chromosomes"), qv=known("qv"),
        kmer_completeness_pct=known("kmer_completeness"), busco=shares,
        release_date=dt.date.fromisoformat(released) if released else None,
        false_duplications_pct=known("false_duplications"))


def busco_of(notation: Any, lineage: Any = None) -> Busco | None:
    """A stored BUSCO notation read back."""
    if not isinstance(notation, str):
        return None
    found = _BUSCO.match(notation)
    if found is None:
        return None
    return Busco(complete=float(found["C"]), single=float(found["S"]),
                 duplicated=float(found["D"]), fragmented=float(found["F"]),
                 missing=float(found["M"]), n=int(found["n"]),
                 lineage=lineage if isinstance(lineage, str) else None,
                 interspaced=float(found["I"]) if found["I"] else None)


def derive(fields: Fields) -> list[Problem]:
    """Check the quality metrics together (an N50 larger than the assembly is refused) and
    set the best standard met and the EBP verdict; nothing when no quality field is given."""
    for name in COMPUTED:
        fields.pop(name, None)
    if not any(name in fields for name in NAMES):
        return []
    metrics = metrics_of(fields)
    problems = [Problem(reason=p.reason, fix=p.fix, field=_FIELD_OF.get(p.field or "",
                                                                          p.field),
                        value=p.value)
                for p in check_metrics(metrics) if (p.field or "") != "accession"]
    if problems:
        return problems
    best = best_standard(metrics)
    judged = classify(metrics, standard(REFERENCE))
    fields["quality_standard"] = best.notation if best else "none met"
    fields["ebp_verdict"] = judged.verdict
    fields["ebp_failures"] = [f.reason for f in judged.failures]
    fields["ebp_not_measured"] = [n.metric for n in judged.not_measured]
    return []


#: the metrics' names as the fields of an assembly record call them
_FIELD_OF = {"total_length_bp": "genome_size", "contig_n50_bp": "contig_n50",
             "scaffold_n50_bp": "scaffold_n50", "assigned_to_chromosomes_pct":
             "assigned_to_chromosomes", "kmer_completeness_pct": "kmer_completeness",
             "false_duplications_pct": "false_duplications"}
