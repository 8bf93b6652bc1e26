"""GenBank flat files of annotated contigs (written with Biopython, one contig at a time).

Each contig becomes one record: a ``CDS`` feature per called gene (``/locus_tag`` = the gene
id, ``/translation``, ``/codon_start``, ``/transl_table``, and a ``/note`` per domain hit
``GH16 (marine-cazy) 25-260 E=1.2e-50 score=180.3 substrates=agar``), a ``misc_feature``
per domain hit on the protein's nucleotide span, and a ``misc_feature`` per PUL and
biosynthetic gene cluster region (``/note="PUL1 ..."``).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import Bio.SeqFeature
from Bio import SeqIO
from Bio.Seq import Seq
from Bio.SeqRecord import SeqRecord

# Biopython's constructors are untyped
FeatureLocation: Any = Bio.SeqFeature.FeatureLocation
SeqFeature: Any = Bio.SeqFeature.SeqFeature

_NAME_MAX = 16  # a LOCUS name longer than this breaks older parsers


def hit_note(hit: Mapping[str, Any]) -> str:
    """One line about a domain hit."""
    note = f"{hit['family']} ({hit['pack']}) {hit['ali_from']}-{hit['ali_to']}"
    if hit.get("evalue") is not None:  # hits imported from other tools may lack one
        note += f" E={hit['evalue']:.2g}"
    if hit.get("score") is not None:
        note += f" score={hit['score']:.1f}"
    if hit.get("substrates"):
        note += " substrates=" + ",".join(hit["substrates"])
    return note


def _domain_location(gene: Mapping[str, Any], hit: Mapping[str, Any]) -> Any:
    """The nucleotide span of a domain (protein coordinates ali_from..ali_to) on the contig."""
    start, end = int(gene["start"]), int(gene["end"])
    first, last = (int(hit["ali_from"]) - 1) * 3, int(hit["ali_to"]) * 3
    if gene["strand"] == 1:
        lo, hi = start - 1 + first, min(end, start - 1 + last)
        return FeatureLocation(lo, max(hi, lo + 1), strand=1)
    lo, hi = max(start - 1, end - last), end - first
    return FeatureLocation(lo, max(hi, lo + 1), strand=-1)


def record(contig: str, sequence: str, genes: Sequence[Mapping[str, Any]],
           hits: Mapping[str, Sequence[Mapping[str, Any]]],
           regions: Iterable[Mapping[str, Any]] = (), *, description: str = "",
           molecule: str = "DNA") -> str:
    """GenBank text of one contig; ``genes`` rows carry ``protein`` (the translation),
    ``hits`` maps protein id -> domain hits, ``regions`` are dicts with ``start``, ``end``
    (1-based), ``kind`` and ``note``."""
    rec = SeqRecord(Seq(sequence), id=contig, name=contig[:_NAME_MAX],
                    description=description or contig,
                    annotations={"molecule_type": molecule, "topology": "linear"})
    features = []
    for region in regions:
        features.append(SeqFeature(
            FeatureLocation(int(region["start"]) - 1, int(region["end"])), type="misc_feature",
            qualifiers={"note": [region["note"]], "label": [region["kind"]]}))
    for gene in genes:
        location = FeatureLocation(int(gene["start"]) - 1, int(gene["end"]),
                                   strand=int(gene["strand"]))
        found = hits.get(gene["protein_id"], ())
        qualifiers: dict[str, list[str]] = {
            "locus_tag": [gene["protein_id"]],
            "codon_start": [str(_codon_start(gene))],
            "transl_table": [str(gene["translation_table"])],
            "translation": [gene["protein"]]}
        if found:
            qualifiers["note"] = [hit_note(h) for h in found]
        features.append(SeqFeature(location, type="CDS", qualifiers=qualifiers))
        for hit in found:
            features.append(SeqFeature(
                _domain_location(gene, hit), type="misc_feature",
                qualifiers={"locus_tag": [gene["protein_id"]], "note": [hit_note(hit)]}))
    features.sort(key=lambda f: (int(f.location.start), f.type != "misc_feature"))
    rec.features = features
    out = io.StringIO()
    SeqIO.write(rec, out, "genbank")
    return out.getvalue()


def _codon_start(gene: Mapping[str, Any]) -> int:
    cut = gene["partial_begin"] if gene["strand"] == 1 else gene["partial_end"]
    if not cut:
        return 1
    return (int(gene["end"]) - int(gene["start"]) + 1) % 3 + 1


def records(contigs: Iterable[tuple[str, str]], genes: Iterable[Mapping[str, Any]],
            hits: Iterable[Mapping[str, Any]],
            regions: Mapping[str, Sequence[Mapping[str, Any]]]) -> Iterator[str]:
    """GenBank text per contig; ``genes`` in stored (contig) order, ``hits`` sorted in the
    same gene order, so both are merged as streams; ``regions`` by contig."""
    gene_iter, hit_iter = iter(genes), iter(hits)
    pending = next(gene_iter, None)
    hit = next(hit_iter, None)
    for contig, sequence in contigs:
        found: list[Mapping[str, Any]] = []
        by_protein: dict[str, list[Mapping[str, Any]]] = {}
        while pending is not None and pending["contig"] == contig:
            found.append(pending)
            while hit is not None and hit["protein_id"] == pending["protein_id"]:
                by_protein.setdefault(pending["protein_id"], []).append(hit)
                hit = next(hit_iter, None)
            pending = next(gene_iter, None)
        yield record(contig, sequence, found, by_protein, regions.get(contig, ()))


def protein_record(protein_id: str, sequence: str, hits: Sequence[Mapping[str, Any]],
                   source: Mapping[str, str]) -> str:
    """GenPept-style GenBank text of one protein from a search result: a ``source`` feature
    whose qualifiers say where it came from (``source`` maps qualifier → value, e.g. strain,
    lat_lon, note), and a ``Region`` per domain hit (``/region_name``, ``/note``)."""
    rec = SeqRecord(Seq(sequence), id=protein_id[:_NAME_MAX * 4], name=protein_id[:_NAME_MAX],
                    description=source.get("description", protein_id),
                    annotations={"molecule_type": "protein", "topology": "linear"})
    qualifiers = {key: [value] for key, value in source.items()
                  if key != "description" and value}
    features = [SeqFeature(FeatureLocation(0, len(sequence)), type="source",
                           qualifiers=qualifiers)]
    for hit in hits:
        start = max(0, int(hit["ali_from"]) - 1)
        end = min(len(sequence), max(start + 1, int(hit["ali_to"])))
        features.append(SeqFeature(FeatureLocation(start, end), type="Region", qualifiers={
            "region_name": [str(hit["family"])], "note": [hit_note(hit)]}))
    rec.features = features
    out = io.StringIO()
    SeqIO.write(rec, out, "genbank")
    return out.getvalue()
