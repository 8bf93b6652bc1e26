"""Polysaccharide utilisation loci (PULs) from annotated genes: dbCAN's CGC-finder logic.

Signature genes are CAZymes, sulfatases, SusC and SusD (and, when a pack marks them,
transporters and transcription factors). On one contig, signature genes follow each other
in a cluster while at most ``max_gap`` non-signature genes lie between two consecutive ones
(dbCAN's CGC-finder distance, default 2). A cluster is a PUL when it holds a SusC gene next
to a SusD gene (adjacent in gene order, either order) and at least one CAZyme. Its predicted
substrate is the substrate most of its CAZymes act on (a tie names all tied substrates),
with the evidence: which families and genes support each substrate.

Pure: takes genes in order and their roles, returns plain dicts. For a proteome (no
coordinates) the caller passes the proteins in file order as the gene order, on one
pseudo-contig, and says so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

SUSC, SUSD, CAZYME, SULFATASE, TRANSPORTER, TF = (
    "susC", "susD", "cazyme", "sulfatase", "transporter", "tf")
SIGNATURE_ROLES = frozenset({SUSC, SUSD, CAZYME, SULFATASE, TRANSPORTER, TF})
MAX_GAP = 2
#: roles of Pfam families when a pack gives none (Pfam names as in Pfam 35)
PFAM_ROLES = {
    "TonB_dep_Rec": SUSC, "SusD_RagB": SUSD, "SusD-like": SUSD, "SusD-like_2": SUSD,
    "SusD-like_3": SUSD, "Sulfatase": SULFATASE,
}


@dataclass(frozen=True)
class Gene:
    """A gene in order: its protein id, contig and (for genomes) coordinates."""

    protein_id: str
    contig: str
    start: int | None = None
    end: int | None = None
    strand: int | None = None


@dataclass
class Annotation:
    """What the hits say about one protein: its signature roles and CAZyme families."""

    roles: set[str] = field(default_factory=set)
    #: CAZyme (or sulfatase) family -> substrates it acts on
    families: dict[str, tuple[str, ...]] = field(default_factory=dict)


def role_of(family: str, category: str, role: str | None) -> str | None:
    """The signature role of a hit: the pack's own, else by category or Pfam name."""
    if role:
        return role
    if category == "cazy":
        lowered = family.lower()
        return SULFATASE if lowered.startswith("s1_") or "sulfatase" in lowered else CAZYME
    return PFAM_ROLES.get(family)


def find_puls(genes: Iterable[Gene], annotations: Mapping[str, Annotation], *,
              max_gap: int = MAX_GAP) -> list[dict[str, Any]]:
    """PULs among ``genes`` (in gene order, contig by contig) given each protein's roles.

    Streams: only the genes of the cluster being grown are held (a metagenome's or a large
    proteome's genes are never all in memory)."""
    if max_gap < 0:
        raise ValueError("max_gap must be 0 or more")
    loci: list[dict[str, Any]] = []
    span: list[Gene] = []  # from the cluster's first signature gene to the current gene
    members: list[int] = []  # positions of the signature genes in ``span``
    gap = 0

    def close() -> None:
        if members:
            locus = _pul(span[:members[-1] + 1], members, annotations)
            if locus is not None:
                locus["locus_id"] = f"PUL{len(loci) + 1}"
                loci.append(locus)
        span.clear()
        members.clear()

    for gene in genes:
        if span and gene.contig != span[0].contig:
            close()
        signature = bool(_roles(annotations, gene))
        if not signature:
            if members:
                gap += 1
                if gap > max_gap:
                    close()
                else:
                    span.append(gene)
            continue
        span.append(gene)
        members.append(len(span) - 1)
        gap = 0
    close()
    return loci


def _roles(annotations: Mapping[str, Annotation], gene: Gene) -> set[str]:
    found = annotations.get(gene.protein_id)
    return found.roles & SIGNATURE_ROLES if found else set()


def _pul(genes: Sequence[Gene], members: list[int],
         annotations: Mapping[str, Annotation]) -> dict[str, Any] | None:
    """A PUL from one cluster: ``genes`` from its first to its last signature gene,
    ``members`` the signature genes' positions in it."""
    roles = {i: _roles(annotations, genes[i]) for i in members}
    pairs = [(i, i + 1) for i in members if i + 1 in roles
             and ((SUSC in roles[i] and SUSD in roles[i + 1])
                  or (SUSD in roles[i] and SUSC in roles[i + 1]))]
    cazymes = [i for i in members if CAZYME in roles[i]]
    if not pairs or not cazymes:
        return None
    first, last = members[0], members[-1]
    span = genes[first:last + 1]
    substrate, evidence = predict_substrate(
        (genes[i].protein_id, annotations[genes[i].protein_id].families) for i in cazymes)
    starts = [g.start for g in span if g.start is not None]
    ends = [g.end for g in span if g.end is not None]
    return {
        "locus_id": "", "type": "PUL", "contig": genes[first].contig or None,
        "start": min(starts) if starts else None, "end": max(ends) if ends else None,
        "first_protein": genes[first].protein_id, "last_protein": genes[last].protein_id,
        "gene_count": len(span),
        "proteins": [g.protein_id for g in span],
        "roles": [",".join(sorted(_roles(annotations, g))) for g in span],
        "families": [",".join(sorted(annotations[g.protein_id].families))
                     if g.protein_id in annotations else "" for g in span],
        "cazyme_count": len(cazymes),
        "sulfatase_count": sum(SULFATASE in roles[i] for i in members),
        "susc_susd_pairs": len(pairs),
        "substrate": substrate, "substrate_evidence": evidence,
    }


def predict_substrate(cazymes: Iterable[tuple[str, Mapping[str, Sequence[str]]]]
                      ) -> tuple[str | None, str]:
    """Majority substrate of CAZyme genes ((protein id, family -> substrates)): each gene
    votes once for each substrate its families act on. Returns (substrate or None, evidence
    like 'agar: GH16 (P1), GH86 (P2); porphyran: GH16 (P1)')."""
    votes: Counter[str] = Counter()
    support: dict[str, list[str]] = {}
    for protein, families in cazymes:
        gene_substrates: set[str] = set()
        for family, substrates in sorted(families.items()):
            for substrate in substrates:
                support.setdefault(substrate, []).append(f"{family} ({protein})")
                gene_substrates.add(substrate)
        votes.update(gene_substrates)
    if not votes:
        return None, "no CAZyme with a known substrate"
    best = max(votes.values())
    winners = sorted(s for s, n in votes.items() if n == best)
    ranked = sorted(votes, key=lambda s: (-votes[s], s))
    evidence = "; ".join(f"{s} ({votes[s]} gene{'s' if votes[s] > 1 else ''}): "
                         + ", ".join(support[s]) for s in ranked)
    return "/".join(winners), evidence
