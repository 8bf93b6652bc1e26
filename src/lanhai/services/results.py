"""Reading annotation results: families, substrates, plastics, loci, clusters, hits, and the
GFF3 / GenBank exports (a part of :class:`lanhai.services.sequences.SequenceService`)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from lanhai.errors import NotFound, Problem, UsageError
from lanhai.exports.common import spreadsheet_safe
from lanhai.model import Record
from lanhai.sequence import formats, genbank
from lanhai.sequence.reader import PROTEOME
from lanhai.services.access import Actor
from lanhai.services.annotation import ANNOTATION, CLUSTERS, substrate_line
from lanhai.store.hits import family_summary
from lanhai.store.leftovers import PartialFiles
from lanhai.store.sequences import SequenceStore

#: columns of the hit table as TSV (substrates joined with ';')
HIT_COLUMNS = ("protein_id", "pack", "category", "family", "family_accession", "description",
               "evalue", "score", "bias", "ali_from", "ali_to", "hmm_from", "hmm_to",
               "hmm_length", "coverage", "substrates")


class AnnotationReads:
    """Read methods over the stored annotation results (mixed into SequenceService)."""

    store: SequenceStore
    #: how result tables are written to a file (the bank's: noted in its data folder)
    files = PartialFiles(None)

    def _assembly(self, actor: Actor, accession: str) -> Record:  # pragma: no cover
        raise NotImplementedError

    def rows(self, actor: Actor, accession: str, table: str
             ) -> Iterator[dict[str, Any]]:  # pragma: no cover
        raise NotImplementedError

    def _marker(self, actor: Actor, accession: str, step: str) -> tuple[str, dict[str, Any]]:
        record = self._assembly(actor, accession)
        marker = self.store.step_done(record.accession, step)
        if marker is None:
            what = "gene clusters" if step == CLUSTERS else "family annotation"
            raise NotFound(f"{record.accession} has no {what} yet", [Problem(
                f"no {what} is stored", f"run `lanhai annotate {record.accession}`",
                record=record.accession)])
        return record.accession, marker

    def annotation_summary(self, actor: Actor, accession: str) -> dict[str, Any]:
        """The annotation marker: packs, counts, substrate and plastics summaries."""
        acc, marker = self._marker(actor, accession, ANNOTATION)
        return {"accession": acc, **marker}

    def clusters_status(self, actor: Actor, accession: str) -> dict[str, Any]:
        """The gene-cluster marker (counts per type); a proteome has none."""
        record = self._assembly(actor, accession)
        if (self.store.manifest(record.accession) or {}).get("kind") == PROTEOME:
            raise NotFound(f"{record.accession} is a proteome: no gene clusters", [Problem(
                "GECCO needs contigs (gene order and positions) to find gene clusters",
                "ingest the genome's contigs to find its biosynthetic gene clusters",
                record=record.accession)])
        acc, marker = self._marker(actor, accession, CLUSTERS)
        return {"accession": acc, **marker}

    def families(self, actor: Actor, accession: str) -> list[dict[str, Any]]:
        """One row per (pack, family) hit: proteins and domains, best E-value, and the
        version of the pack that called it."""
        acc, marker = self._marker(actor, accession, ANNOTATION)
        path = self.store.table_path(acc, "hits")
        assert path is not None
        versions = _pack_versions(marker)
        return [{**row, "pack_version": versions.get(row["pack"])}
                for row in family_summary(path)]

    def substrates(self, actor: Actor, accession: str) -> dict[str, Any]:
        """Per marine substrate, the CAZyme families and how many proteins have them."""
        acc, marker = self._marker(actor, accession, ANNOTATION)
        found = marker.get("substrates", {})
        return {"accession": acc, "substrates": found,
                "lines": [substrate_line(s, f) for s, f in found.items()],
                "packs": marker.get("packs", [])}

    def plastics(self, actor: Actor, accession: str) -> list[dict[str, Any]]:
        """Hits of plastic-degrading enzyme packs, one row per domain."""
        _, marker = self._marker(actor, accession, ANNOTATION)
        versions = _pack_versions(marker)
        return [{**{k: row[k] for k in ("protein_id", "pack", "family", "substrates", "evalue",
                                        "score", "ali_from", "ali_to", "coverage")},
                 "pack_version": versions.get(row["pack"])}
                for row in self.rows(actor, accession, "hits")
                if row["category"] == "plastics"]

    def write_hits(self, actor: Actor, accession: str, fmt: str, path: Path) -> int:
        """Write the hit table to ``path`` as ``tsv`` or ``parquet`` (atomically); returns
        the number of hits."""
        acc, marker = self._marker(actor, accession, ANNOTATION)
        if fmt not in ("tsv", "parquet"):
            raise UsageError("hit tables are written as tsv or parquet")
        source = self.store.table_path(acc, "hits")
        assert source is not None
        with self.files.open(Path(path), f"the hit table of {acc}") as out:
            if fmt == "parquet":
                with source.open("rb") as table:
                    shutil.copyfileobj(table, out)
            else:
                for line in self.hit_tsv(actor, acc):
                    out.write(line.encode("utf-8"))
        return int(marker["hit_count"])

    def hit_tsv(self, actor: Actor, accession: str) -> Iterator[str]:
        yield "\t".join(HIT_COLUMNS) + "\n"
        for row in self.rows(actor, accession, "hits"):
            yield "\t".join(_cell(row[c]) for c in HIT_COLUMNS) + "\n"

    # -- exports over genes + annotation ------------------------------------------------------
    def _regions(self, accession: str) -> tuple[dict[str, list[dict[str, Any]]],
                                                dict[str, str], dict[str, str]]:
        """PUL and BGC regions by contig, and protein -> PUL id / BGC id."""
        by_contig: dict[str, list[dict[str, Any]]] = {}
        pul: dict[str, str] = {}
        bgc: dict[str, str] = {}
        for locus in self.store.iter_rows(accession, "loci"):
            for protein in locus["proteins"]:
                pul[protein] = locus["locus_id"]
            if locus["contig"] and locus["start"] is not None:
                by_contig.setdefault(locus["contig"], []).append({
                    "start": locus["start"], "end": locus["end"], "kind": "PUL",
                    "note": f"{locus['locus_id']}: "
                            + ("CAZyme gene cluster" if locus.get("type") == "CGC"
                               else "polysaccharide utilisation locus")
                            + f", predicted substrate {locus['substrate'] or 'unknown'}"
                            + _confidence(locus.get("substrate_confidence"))
                            + f"; {locus['substrate_evidence']}"})
        for cluster in self.store.iter_rows(accession, "clusters"):
            for protein in cluster["proteins"]:
                bgc[protein] = cluster["cluster_id"]
            by_contig.setdefault(cluster["contig"], []).append({
                "start": cluster["start"], "end": cluster["end"], "kind": "BGC",
                "note": f"{cluster['cluster_id']}: biosynthetic gene cluster (GECCO), type "
                        f"{cluster['type']}, average probability "
                        f"{cluster['average_probability']:.3f}"})
        return by_contig, pul, bgc

    def annotated_gff3(self, actor: Actor, accession: str) -> Iterator[str]:
        """Genes as GFF3 with their domain hits, substrates, PUL and BGC as attributes."""
        record = self._assembly(actor, accession)
        acc = record.accession
        genes = self.rows(actor, acc, "genes")
        _, pul, bgc = self._regions(acc)
        hits = self.store.iter_rows(acc, "hits")

        def annotated() -> Iterator[dict[str, Any]]:
            hit = next(hits, None)
            for gene in genes:
                domains: list[str] = []
                substrates: list[str] = []
                while hit is not None and hit["protein_id"] == gene["protein_id"]:
                    domains.append(f"{hit['family']}:{hit['pack']}:{hit['ali_from']}-"
                                   f"{hit['ali_to']}:{hit['evalue']:.2g}")
                    substrates.extend(s for s in hit["substrates"] if s not in substrates)
                    hit = next(hits, None)
                pid = gene["protein_id"]
                yield {**gene, "domains": domains, "substrates": substrates,
                       "pul": [pul[pid]] if pid in pul else [],
                       "bgc": [bgc[pid]] if pid in bgc else []}

        return formats.gff3(annotated(), self.store.contig_lengths(acc))

    def genbank(self, actor: Actor, accession: str) -> Iterator[str]:
        """The contigs as GenBank with CDS, domain hits, PUL and BGC features."""
        record = self._assembly(actor, accession)
        acc = record.accession
        manifest = self.store.manifest(acc) or {}
        if manifest.get("kind") == PROTEOME:
            raise UsageError(f"{acc} is a proteome: it has no nucleotide sequence to write as "
                             "GenBank; export --proteins --format fasta or the hit table")
        genes = self.rows(actor, acc, "genes")
        proteins = self.store.iter_rows(acc, "proteins", columns=["sequence"])
        with_protein = ({**g, "protein": p["sequence"]}
                        for g, p in zip(genes, proteins, strict=True))
        regions, _, _ = self._regions(acc)
        return genbank.records(self.store.iter_sequences(acc), with_protein,
                               self.store.iter_rows(acc, "hits"), regions)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return spreadsheet_safe(";".join(str(v) for v in value))
    if isinstance(value, float):
        return f"{value:.6g}"
    return spreadsheet_safe(value)


def _confidence(value: float | None) -> str:
    """' (confidence 83%)', or nothing for a locus stored before confidences were."""
    return "" if value is None else f" (confidence {round(value * 100)}%)"


def _pack_versions(marker: Mapping[str, Any]) -> dict[str, str]:
    """Pack name -> the version the annotation used (from its marker)."""
    return {p["name"]: str(p["version"]) for p in marker.get("packs", [])
            if isinstance(p, Mapping) and "name" in p}
