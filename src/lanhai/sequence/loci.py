"""Polysaccharide utilisation loci (PULs) from annotated genes: dbCAN's CGC-finder logic.

Signature genes are CAZymes, sulfatases, SusC and SusD (and, when a pack marks them,
transporters and transcription factors). On one contig, signature genes follow each other
in a cluster while at most ``max_gap`` non-signature genes lie between two consecutive ones
(dbCAN's CGC-finder distance, default 2). A cluster is a PUL (type ``PUL``) when it holds a
SusC gene next to a SusD gene (adjacent in gene order, either order) and at least one CAZyme;
otherwise a CAZyme gene cluster (type ``CGC``) when it holds at least three CAZyme genes, or two
beside another signature gene (a lone SusC or SusD, a sulfatase, a transporter, a regulator).
Its predicted substrate comes from a weighted vote of its CAZyme genes
(:func:`predict_substrate`): a family acting on one substrate weighs more than one acting on
five, a subfamily with its own entry in the substrate table more than a family, a binding
module (CBM) less than a catalytic module. The call carries its evidence (which families and
genes voted for it and for the runners-up) and a confidence in 0..1 (the winner's share of the
vote, lowered when its support is thin).

Pure: takes genes in order and their roles, returns plain dicts. For a proteome (no
coordinates) the caller passes the proteins in file order as the gene order, on one
pseudo-contig, and says so.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lanhai.profiles.pul_evidence import LocusEvidence, shipped
from lanhai.profiles.substrates import entry_level, subfamily_of, votes_for_pul

SUSC, SUSD, CAZYME, SULFATASE, TRANSPORTER, TF = (
    "susC", "susD", "cazyme", "sulfatase", "transporter", "tf")
SIGNATURE_ROLES = frozenset({SUSC, SUSD, CAZYME, SULFATASE, TRANSPORTER, TF})
MAX_GAP = 2
#: locus types: a SusC/SusD pair with CAZymes (a Bacteroidetes PUL), or a CAZyme gene cluster
#: without one (as dbCAN's CGC-finder reports: many marine PULs, alginate and agar loci of
#: Proteobacteria among them, have no Sus genes)
PUL, CGC = "PUL", "CGC"
#: CAZyme genes that make a cluster a CGC on their own (two suffice next to a SusC, SusD,
#: sulfatase, transporter or regulator gene)
CGC_CAZYMES = 3
#: vote weight of a module acting on one substrate: a catalytic family, a subfamily with its
#: own table entry, a carbohydrate-binding module; a module acting on n substrates gives 1/n
FAMILY_WEIGHT, SUBFAMILY_WEIGHT, CBM_WEIGHT = 1.0, 1.5, 0.5
#: most a gene can give one substrate, however many of its modules act on it
GENE_CAP = SUBFAMILY_WEIGHT
#: support (summed weight) at which the confidence is halved: one specific family alone
HALF_SUPPORT = 1.0
#: what the characterised loci's log-odds (:mod:`lanhai.profiles.pul_evidence`) add to a
#: substrate's vote: enough to order substrates the table leaves tied or close, not to
#: overturn a clear majority (one family's vote is 1). Chosen with loci of a genus held out
#: together: exact calls 54 % without, 64 % at 0.1 to 0.3, 61 % at 1.
EVIDENCE_WEIGHT = 0.2
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
    numbered: dict[str, int] = {}  # loci of each type so far: PUL1, PUL2 …, CGC1 …
    span: list[Gene] = []  # from the cluster's first signature gene to the current gene
    members: list[int] = []  # positions of the signature genes in ``span``
    gap = 0

    def close() -> None:
        if members:
            locus = _pul(span[:members[-1] + 1], members, annotations)
            if locus is not None:
                kind = locus["type"]
                numbered[kind] = numbered.get(kind, 0) + 1
                locus["locus_id"] = f"{kind}{numbered[kind]}"
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
    if not cazymes:
        return None
    if pairs:
        kind = PUL
    elif len(cazymes) >= CGC_CAZYMES or (
            len(cazymes) >= 2 and any(roles[i] - {CAZYME} for i in members)):
        kind = CGC
    else:
        return None
    first, last = members[0], members[-1]
    span = genes[first:last + 1]
    call = predict_substrate(
        (genes[i].protein_id, annotations[genes[i].protein_id].families) for i in cazymes)
    starts = [g.start for g in span if g.start is not None]
    ends = [g.end for g in span if g.end is not None]
    return {
        "locus_id": "", "type": kind, "contig": genes[first].contig or None,
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
        "substrate": call.substrate, "substrate_evidence": call.evidence,
        "substrate_confidence": call.confidence,
    }


@dataclass(frozen=True)
class SubstrateCall:
    """A locus's predicted substrate: ``substrate`` (tied substrates joined by '/', None when
    no CAZyme has a known substrate), ``confidence`` in 0..1, the ``evidence`` text and every
    substrate's weighted vote, best first (``ranked``)."""

    substrate: str | None
    confidence: float | None
    evidence: str
    ranked: tuple[tuple[str, float], ...] = ()

    @property
    def tied(self) -> tuple[str, ...]:
        """The substrates sharing the best vote."""
        return tuple(self.substrate.split("/")) if self.substrate else ()


def module_weight(family: str, substrates: Sequence[str]) -> float:
    """The vote one module casts for each of its substrates: its kind's weight (a subfamily
    with its own table entry 1.5, a family 1, a CBM 0.5) over the number of substrates it
    acts on (polysaccharide or not: a family that also acts on peptidoglycan is less
    specific)."""
    if not substrates:
        return 0.0
    if family.upper().startswith("CBM"):
        kind = CBM_WEIGHT
    elif subfamily_of(family) is not None and entry_level(family) == "subfamily":
        kind = SUBFAMILY_WEIGHT
    else:
        kind = FAMILY_WEIGHT
    return kind / len(set(substrates))


def predict_substrate(cazymes: Iterable[tuple[str, Mapping[str, Sequence[str]]]],
                      evidence: LocusEvidence | None = None) -> SubstrateCall:
    """The substrate of a locus from its CAZyme genes ((protein id, family -> substrates)).

    Each gene votes for every substrate its modules act on: the sum of those modules'
    weights (:func:`module_weight`; a GH18 with a chitin-binding CBM5 says chitin more than
    a GH18 alone), at most ``GENE_CAP`` so that a multi-module protein cannot outvote several
    genes; substrates that are no PUL's
    target (peptidoglycan, lignin) are listed but never counted. The winner has the largest
    summed vote (a tie names every tied substrate, 'agar/porphyran'). Confidence = the
    winner's share of all votes x support / (support + 1), support being the winner's summed
    vote: one gene of a one-substrate family alone gives at most 0.5, three such genes 0.75.
    Evidence reads 'starch 2.00 (2 genes): GH13_9 (P1), GH97 (P2); raffinose 0.50 (1 gene):
    GH97 (P2)'.

    ``evidence`` (default: the shipped counts of characterised loci) then adds
    :data:`EVIDENCE_WEIGHT` times each voted substrate's log-odds given the locus's modules
    (a substrate the loci never show gets the lowest of the others), which orders tied and
    close substrates by what characterised loci with these modules degrade. When no module
    has a substrate in the table, the loci alone name one from the modules the table does
    not list (never from those it lists as too broad, GT2 or GT4), with confidence at most
    0.25."""
    votes: dict[str, float] = {}
    voters: dict[str, list[str]] = {}
    support: dict[str, list[str]] = {}
    ignored: dict[str, list[str]] = {}
    modules: list[str] = []
    for protein, families in cazymes:
        modules += families
        best: dict[str, float] = {}
        for family, substrates in sorted(families.items()):
            weight = module_weight(family, substrates)
            for substrate in dict.fromkeys(substrates):
                if not votes_for_pul(substrate):
                    ignored.setdefault(substrate, []).append(f"{family} ({protein})")
                    continue
                support.setdefault(substrate, []).append(f"{family} ({protein})")
                best[substrate] = min(GENE_CAP, best.get(substrate, 0.0) + weight)
        for substrate, weight in best.items():
            votes[substrate] = votes.get(substrate, 0.0) + weight
            voters.setdefault(substrate, []).append(protein)
    skipped = "; ".join(f"not counted: {s} ({', '.join(f)})" for s, f in sorted(ignored.items()))
    counts = evidence if evidence is not None else shipped()
    if not votes or max(votes.values()) <= 0:
        # only modules the table does not know: one it lists without substrates (GT2, GT4)
        # is too broad to name any
        unknown = [m for m in modules if entry_level(m) is None]
        return _from_loci(counts.scores(unknown) if counts.knows(unknown) else {}, skipped)
    loci = counts.scores(modules)
    floor = min(loci.values(), default=0.0)
    scored = {s: v + EVIDENCE_WEIGHT * loci.get(s, floor) for s, v in votes.items()}
    ranked = sorted(scored.items(), key=lambda kv: (-round(kv[1], 9), kv[0]))
    winners = [s for s, v in ranked if abs(v - ranked[0][1]) < 1e-9]
    top = votes[winners[0]]
    share = top / sum(votes.values())
    confidence = round(share * top / (top + HALF_SUPPORT), 3)
    text = "; ".join(
        f"{s} {votes[s]:.2f} ({len(voters[s])} gene{'s' if len(voters[s]) > 1 else ''}): "
        + ", ".join(support[s]) for s, _ in ranked)
    if loci:
        text += "; characterised loci with these modules: " + ", ".join(
            f"{s} {loci.get(s, floor):+.1f}" for s, _ in ranked[:3])
    if skipped:
        text += "; " + skipped
    return SubstrateCall("/".join(sorted(winners)), confidence, text,
                         tuple((s, round(v, 4)) for s, v in ranked))


def _from_loci(loci: Mapping[str, float], skipped: str) -> SubstrateCall:
    """The call when no module has a substrate in the table: the characterised loci's best
    substrate, if any module is known to them (confidence: its probability among the
    substrates, at most 0.25), else none."""
    notes = [skipped] if skipped else []
    if not loci:
        return SubstrateCall(None, None, "; ".join(["no CAZyme with a known substrate",
                                                    *notes]))
    ranked = sorted(loci.items(), key=lambda kv: (-round(kv[1], 9), kv[0]))
    best = ranked[0][1]
    share = 1.0 / sum(math.exp(v - best) for _, v in ranked)
    text = "no CAZyme with a substrate in the table; characterised loci with these " \
        "modules: " + ", ".join(f"{s} {v:+.1f}" for s, v in ranked[:3])
    return SubstrateCall(ranked[0][0], round(min(0.25, share), 3), "; ".join([text, *notes]),
                         tuple((s, round(v, 4)) for s, v in ranked))
