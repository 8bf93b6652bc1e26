"""Text exports of genes and proteins: FASTA and GFF3 (pure functions over row mappings)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import quote

GFF_SOURCE = "Lanhai/pyrodigal"
#: optional list-valued keys of a gene row written as GFF3 attributes (multi-valued, comma
#: separated): domain hits ``family:pack:from-to:evalue``, their substrates, PUL and BGC ids
ANNOTATION_ATTRIBUTES = ("domains", "substrates", "pul", "bgc")
#: characters GFF3 requires escaped in column 9 values (and '%' itself)
_GFF_RESERVED = ";=&,%\t\n\r"


def fasta(ident: str, sequence: str, description: str = "", width: int = 60) -> str:
    """One FASTA record, wrapped at ``width`` residues a line."""
    head = f">{ident} {description}".rstrip()
    body = "\n".join(sequence[i:i + width] for i in range(0, len(sequence), width))
    return f"{head}\n{body}\n"


def gene_description(row: Mapping[str, Any]) -> str:
    """Prodigal-style header fields: '# start # end # strand # partial=..;start_type=..'."""
    return (f"# {row['start']} # {row['end']} # {row['strand']} # "
            f"partial={_partial(row)};start_type={row['start_type']};"
            f"rbs_motif={row['rbs_motif']};gc_cont={row['gc']:.3f}")


def _partial(row: Mapping[str, Any]) -> str:
    return f"{int(bool(row['partial_begin']))}{int(bool(row['partial_end']))}"


def _escape(value: str) -> str:
    """Escape a column 9 value (GFF3: tab, newline, ';', '=', '&', ',' and '%')."""
    return quote(value, safe="".join(chr(c) for c in range(32, 127)
                                     if chr(c) not in _GFF_RESERVED))


def _seqid(value: str) -> str:
    """Escape a seqid (GFF3: anything outside [a-zA-Z0-9.:^*$@!+_?-|])."""
    return quote(value, safe=".:^*$@!+_?-|")


def gff3(genes: Iterable[Mapping[str, Any]],
         contigs: Iterable[tuple[str, int]] = ()) -> Iterator[str]:
    """GFF3 lines (with newlines) for ``genes``; ``contigs`` (id, length) become
    ##sequence-region pragmas. Coordinates are 1-based and inclusive; phase is 0 for a
    complete start and the reading-frame offset for a gene cut at a contig edge."""
    yield "##gff-version 3\n"
    for ident, length in contigs:
        yield f"##sequence-region {_seqid(ident)} 1 {length}\n"
    for row in genes:
        strand = "+" if row["strand"] == 1 else "-"
        attributes = ";".join([
            f"ID={_escape(row['protein_id'])}",
            f"partial={_partial(row)}",
            f"start_type={_escape(row['start_type'])}",
            f"rbs_motif={_escape(str(row['rbs_motif']))}",
            f"gc_cont={row['gc']:.3f}",
            f"transl_table={row['translation_table']}",
            *(f"{key}={','.join(_escape(str(v)) for v in row[key])}"
              for key in ANNOTATION_ATTRIBUTES if row.get(key)),
        ])
        yield "\t".join([_seqid(row["contig"]), GFF_SOURCE, "CDS", str(row["start"]),
                         str(row["end"]), f"{row['score']:.1f}", strand,
                         str(_phase(row)), attributes]) + "\n"


def _phase(row: Mapping[str, Any]) -> int:
    """Bases to skip from the CDS's 5' end to reach the first complete codon."""
    cut = row["partial_begin"] if row["strand"] == 1 else row["partial_end"]
    if not cut:
        return 0
    return (int(row["end"]) - int(row["start"]) + 1) % 3
