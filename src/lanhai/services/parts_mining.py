"""Part mining: turn chosen hits or proteins of an annotated assembly into ``part`` records.

A genome's part is the coding sequence (DNA, from the genes table); a proteome has only the
protein, so its part is a protein-type part. The role defaults to CDS (SO:0000316). The part's
displayId is ``<ASSEMBLY>_<protein id>`` (non-word characters become ``_``), which is also its
identifier: mining the same protein again finds the existing part and creates nothing. Each
part is linked ``assembly --mined_from--> part`` and carries its evidence (family, pack,
E-value, score, domain span). Writes go through :class:`CatalogService` (validation, access
control, history); a restricted assembly gives restricted parts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from lanhai.errors import NotFound, Problem, UsageError
from lanhai.kinds.parts import TYPES
from lanhai.model import Record
from lanhai.services.access import Actor, require_writer
from lanhai.services.catalog import CatalogService
from lanhai.services.sequences import SequenceService

CDS_ROLE = "SO:0000316"


def display_id(accession: str, protein_id: str) -> str:
    """An SBOL3 displayId for a protein of an assembly: letters, digits and '_'."""
    return re.sub(r"_+", "_", re.sub(r"\W", "_", f"{accession}_{protein_id}")).strip("_")


def _evidence(hit: dict[str, Any]) -> str:
    accession = f", {hit['family_accession']}" if hit.get("family_accession") else ""
    return (f"{hit['family']} ({hit['pack']}{accession}) "
            f"domain {hit['ali_from']}-{hit['ali_to']}, E-value {hit['evalue']:.2g}, "
            f"score {hit['score']:.1f} bits"
            + (f"; substrates {', '.join(hit['substrates'])}" if hit.get("substrates") else ""))


class PartMiner:
    """Mines parts from the stored annotation of assemblies."""

    def __init__(self, catalog: CatalogService, sequences: SequenceService) -> None:
        self.catalog = catalog
        self.sequences = sequences

    def mine(self, actor: Actor, accession: str, *, families: Sequence[str] = (),
             proteins: Sequence[str] = (), role: str = CDS_ROLE) -> dict[str, Any]:
        """Parts for the proteins with a hit to one of ``families`` and for ``proteins``."""
        require_writer(actor)
        if not families and not proteins:
            raise UsageError("say what to mine: --family F and/or --protein ID")
        record = self.sequences._assembly(actor, accession)
        acc = record.accession
        summary = self.sequences.annotation_summary(actor, acc)  # NotFound before annotation
        wanted_families, wanted_proteins = set(families), set(proteins)
        best: dict[str, dict[str, Any]] = {}
        for hit in self.sequences.rows(actor, acc, "hits"):
            chosen = hit["family"] in wanted_families or hit["protein_id"] in wanted_proteins
            if chosen and (hit["protein_id"] not in best
                           or hit["evalue"] < best[hit["protein_id"]]["evalue"]):
                best[hit["protein_id"]] = hit
        found_families = {h["family"] for h in best.values()}
        missing = [f for f in families if f not in found_families]
        proteome = self.sequences.store.input_table(acc) == "proteins"
        sequences: dict[str, str] = {}
        table = "proteins" if proteome else "genes"
        key = "id" if proteome else "protein_id"
        targets = set(best) | wanted_proteins
        for row in self.sequences.rows(actor, acc, table):
            if row[key] in targets:
                sequences[row[key]] = row["sequence"]
        unknown = [p for p in proteins if p not in sequences]
        if unknown or missing:
            problems = [Problem("no such protein in the assembly", "use an id from `lanhai "
                                f"annotations {acc} --proteins`", value=p, record=acc)
                        for p in unknown]
            problems += [Problem("no protein of the assembly has a hit to this family",
                                 f"see `lanhai annotations {acc} --families`", value=f,
                                 record=acc) for f in missing]
            raise NotFound(f"{acc}: nothing to mine for some of what was asked", problems)
        parts = []
        for protein in sorted(targets, key=lambda p: (p not in best, p)):
            parts.append(self._part(actor, record, protein, sequences[protein],
                                    best.get(protein), proteome, role))
        return {"accession": acc, "parts": parts, "packs": summary.get("packs", []),
                "created": sum(p["status"] == "created" for p in parts)}

    def _part(self, actor: Actor, assembly: Record, protein: str,
              sequence: str, hit: dict[str, Any] | None, proteome: bool,
              role: str) -> dict[str, Any]:
        ident = display_id(assembly.accession, protein)
        existing = self.catalog.by_identifier(actor, "part", f"part:{ident}")
        if existing is not None:
            part = existing
            status = "unchanged"
        else:
            name = assembly.name or assembly.accession
            fields: dict[str, Any] = {
                "display_id": ident,
                "part_name": f"{hit['family'] if hit else 'protein'} {protein} from {name}",
                "part_type": TYPES["protein"] if proteome else TYPES["dna"],
                "role": role, "sequence": sequence,
                "evidence": _evidence(hit) if hit else "chosen by protein id (no family hit)",
                "source": f"Lanhai assembly {assembly.accession}, "
                          f"{'protein' if proteome else 'gene'} {protein}",
            }
            if assembly.fields.get("taxon_name"):
                fields["organism"] = assembly.fields["taxon_name"]
            if assembly.restricted:
                fields["restricted"] = True
            part = self.catalog.create(actor, "part", fields,
                                       note=f"mined from {assembly.accession}")
            status = "created"
        self.catalog.link(actor, assembly.accession, "mined_from", part.accession)
        return {"accession": part.accession, "display_id": ident, "protein_id": protein,
                "family": hit["family"] if hit else None, "status": status,
                "part_type": "protein" if proteome else "DNA"}
