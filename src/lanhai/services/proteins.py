"""One protein of an assembly, as an enzyme miner looks at it: its sequence, where its gene
lies, its domain hits with their families and substrates, the polysaccharide utilisation
locus or gene cluster it belongs to, its neighbours on the genome, and where the assembly
came from (strain, sample)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lanhai.errors import NotFound, Problem
from lanhai.services.access import Actor
from lanhai.services.catalog import CatalogService
from lanhai.store import hits as hit_store
from lanhai.store.sequences import SequenceStore

#: genes shown on each side of the protein's own
NEIGHBOURS = 6
_GENE_COLUMNS = ["contig", "protein_id", "start", "end", "strand", "partial_begin",
                 "partial_end", "start_type", "gc", "score", "translation_table"]
_HIT_COLUMNS = ["protein_id", "pack", "category", "family", "family_accession", "description",
                "evalue", "score", "ali_from", "ali_to", "hmm_from", "hmm_to", "hmm_length",
                "coverage", "substrates"]
#: the order families are told in: enzymes first (a pack's category, any case; dbCAN's
#: tables call theirs CAZyme)
CATEGORY_ORDER = ("cazy", "plastics", "pul", "orthology", "families", "custom")
_SAME_AS = {"cazyme": "cazy", "pfam": "families"}


class ProteinService:
    """Reads one protein of an assembly the caller may see."""

    def __init__(self, catalog: CatalogService, store: SequenceStore) -> None:
        self.catalog = catalog
        self.store = store

    def protein(self, actor: Actor, accession: str, protein_id: str) -> dict[str, Any]:
        """Everything stored about ``protein_id`` of the assembly ``accession`` (404 when
        the assembly is hidden from ``actor`` or has no such protein)."""
        record = self.catalog.get(actor, accession)
        if record.kind != "assembly":
            raise NotFound(f"{record.accession} is a {record.kind}, not an assembly")
        acc = record.accession
        found = hit_store.rows_where(self.store, acc, "proteins", "id", [protein_id])
        if not found:
            raise NotFound(f"{acc} has no protein {protein_id!r}", [Problem(
                "no protein of that id is stored", "open the assembly's page for its proteins "
                "(ids as in its FASTA, or <contig>_<n> for called genes)",
                record=acc, value=protein_id)])
        protein = found[0]
        genes = hit_store.rows_where(self.store, acc, "genes", "protein_id", [protein_id],
                                     _GENE_COLUMNS)
        gene = genes[0] if genes else None
        domains = sorted(hit_store.rows_where(self.store, acc, "hits", "protein_id",
                                              [protein_id], _HIT_COLUMNS),
                         key=lambda h: (h["ali_from"] or 0, -(h["score"] or 0.0)))
        neighbours = self._neighbours(acc, protein_id, gene)
        return {
            "assembly": {"accession": acc, "name": record.name,
                         "taxon_name": record.fields.get("taxon_name")},
            "origin": self._origin(actor, acc),
            "protein": {"id": protein["id"], "description": protein.get("description") or "",
                        "length": len(protein["sequence"].rstrip("*")),
                        "sequence": protein["sequence"]},
            "gene": gene,
            "domains": domains,
            "families": _families(domains),
            "substrates": sorted({s for d in domains for s in (d.get("substrates") or [])}),
            "loci": [_member_view(row) for row in self.store.iter_rows(acc, "loci")
                     if protein_id in (row.get("proteins") or [])],
            "clusters": [_member_view(row) for row in self.store.iter_rows(acc, "clusters")
                         if protein_id in (row.get("proteins") or [])],
            "neighbours": neighbours,
            "annotated": self.store.table_path(acc, "hits") is not None,
        }

    def _neighbours(self, acc: str, protein_id: str, gene: dict[str, Any] | None
                    ) -> list[dict[str, Any]]:
        """The genes around it on its contig (or, for a given proteome, the proteins around
        it in file order, which is gene order in annotated proteomes), each with its best
        family."""
        if gene is not None:
            around = sorted(hit_store.rows_where(
                self.store, acc, "genes", "contig", [gene["contig"]],
                ["protein_id", "start", "end", "strand"]), key=lambda g: g["start"])
            ids = [g["protein_id"] for g in around]
        else:
            ids = hit_store.column_values(self.store, acc, "proteins", "id")
            around = [{"protein_id": i} for i in ids]
        if protein_id not in ids:
            return []
        at = ids.index(protein_id)
        window = around[max(0, at - NEIGHBOURS): at + NEIGHBOURS + 1]
        best = _best_families(hit_store.rows_where(
            self.store, acc, "hits", "protein_id", [g["protein_id"] for g in window],
            ["protein_id", "family", "category", "score", "substrates"]))
        return [{**g, "family": best.get(g["protein_id"], {}).get("family", ""),
                 "category": best.get(g["protein_id"], {}).get("category", ""),
                 "self": g["protein_id"] == protein_id} for g in window]

    def _origin(self, actor: Actor, acc: str) -> dict[str, list[dict[str, Any]]]:
        """The strains and samples upstream of the assembly that the caller may see."""
        walk = self.catalog.lineage(actor, acc, max_depth=4)
        out: dict[str, list[dict[str, Any]]] = {"strains": [], "samples": []}
        for node in walk["nodes"]:
            if node["kind"] in ("strain", "sample"):
                out[node["kind"] + "s"].append({"accession": node["accession"],
                                                "name": node.get("name", "")})
        return out


def _families(domains: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The protein's families, enzymes first, each once with its best hit."""
    best: dict[str, dict[str, Any]] = {}
    for d in domains:
        family = str(d.get("family") or "")
        if family and (family not in best or (d["score"] or 0) > (best[family]["score"] or 0)):
            best[family] = d
    return sorted(({"family": f, "category": d["category"], "pack": d["pack"],
                    "description": d.get("description") or "", "evalue": d["evalue"],
                    "score": d["score"], "substrates": d.get("substrates") or []}
                   for f, d in best.items()), key=lambda f: (rank(f["category"]), f["family"]))


def _best_families(rows: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    best: dict[str, dict[str, Any]] = {}
    for row in rows:
        pid = row["protein_id"]
        key = (rank(row["category"]), -(row["score"] or 0.0))
        if pid not in best or key < (rank(best[pid]["category"]), -(best[pid]["score"] or 0.0)):
            best[pid] = row
    return best


def rank(category: str | None) -> int:
    """Where a family of this category is told: CAZymes first, Pfam domains last."""
    name = (category or "").lower()
    name = _SAME_AS.get(name, name)
    return CATEGORY_ORDER.index(name) if name in CATEGORY_ORDER else len(CATEGORY_ORDER)


def _member_view(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in row.items()
            if k != "sequence"}
