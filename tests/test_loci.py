"""Polysaccharide utilisation loci: dbCAN's CGC-finder logic (signature genes at most N
non-signature genes apart, a SusC-SusD pair and a CAZyme), on hand-made gene orders and on
the real, experimentally characterised PULs of Zobellia galactanivorans DsiJT."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import pytest
from sqlalchemy import Engine

from lanhai.sequence.loci import Annotation, Gene, find_puls, predict_substrate, role_of
from tests.support.sequences import ANNOTATOR as CURATOR
from tests.support.sequences import HERE, SUS_ROLES, proteome_bank
from tests.support.sequences import ZOBELLIA_PROTEOME as ZOBELLIA

PULS = HERE / "zobellia_characterized_pul_genes.tsv"


def annotated(*roles: str, substrates: tuple[str, ...] = ("agar",)
              ) -> tuple[list[Gene], dict[str, Annotation]]:
    """Genes g1, g2 … on one contig with the given roles ('' = not a signature gene)."""
    genes = [Gene(f"g{n}", "c1", n * 1000, n * 1000 + 900, 1) for n in range(1, len(roles) + 1)]
    found: dict[str, Annotation] = {}
    for gene, role in zip(genes, roles, strict=True):
        if role:
            ann = found.setdefault(gene.protein_id, Annotation())
            ann.roles.add(role)
            if role == "cazyme":
                ann.families["GH16"] = substrates
    return genes, found


def test_signature_genes_join_within_the_gene_distance() -> None:
    genes, roles = annotated("susC", "susD", "", "", "cazyme")
    [locus] = find_puls(genes, roles)  # two non-signature genes apart: one cluster
    assert (locus["first_protein"], locus["last_protein"], locus["gene_count"]) == \
        ("g1", "g5", 5)
    assert (locus["start"], locus["end"], locus["contig"]) == (1000, 5900, "c1")
    assert locus["roles"] == ["susC", "susD", "", "", "cazyme"]
    assert locus["substrate"] == "agar" and locus["susc_susd_pairs"] == 1
    genes, roles = annotated("susC", "susD", "", "", "", "cazyme")
    assert find_puls(genes, roles) == []  # three apart: the CAZyme is not in the locus
    assert len(find_puls(genes, roles, max_gap=3)) == 1


def test_a_pul_needs_an_adjacent_susc_susd_pair_and_a_cazyme() -> None:
    assert find_puls(*annotated("susC", "", "susD", "cazyme")) == []  # not adjacent
    assert find_puls(*annotated("susC", "susD", "sulfatase")) == []  # no CAZyme
    assert len(find_puls(*annotated("susD", "susC", "cazyme"))) == 1  # either order
    genes, roles = annotated("susC", "susD", "cazyme")
    moved = [Gene(g.protein_id, "c2" if g.protein_id == "g3" else "c1") for g in genes]
    assert find_puls(moved, roles) == []  # signature genes on another contig do not join


def test_substrate_is_the_majority_of_the_cazymes_with_evidence() -> None:
    substrate, evidence = predict_substrate([
        ("p1", {"GH16": ("agar", "porphyran")}), ("p2", {"GH86": ("agar",)}),
        ("p3", {"GH117": ("agar",)}), ("p4", {"PL7": ("alginate",)})])
    assert substrate == "agar"
    assert evidence.startswith("agar (3 genes): GH16 (p1), GH86 (p2), GH117 (p3); ")
    assert predict_substrate([("p1", {"GH16": ("agar",)}), ("p2", {"PL7": ("alginate",)})]
                             )[0] == "agar/alginate"  # a tie names both
    assert predict_substrate([("p1", {"GH3": ()})]) == (None,
                                                         "no CAZyme with a known substrate")


def test_roles_from_packs_categories_and_pfam_names() -> None:
    assert role_of("GH16_3", "cazy", None) == "cazyme"
    assert role_of("S1_19", "cazy", None) == "sulfatase"
    assert role_of("SusD_RagB", "families", None) == "susD"
    assert role_of("TonB_dep_Rec", "families", None) == "susC"
    assert role_of("PETase", "plastics", None) is None
    assert role_of("anything", "pul", "susD") == "susD"
    with pytest.raises(ValueError):
        find_puls([], {}, max_gap=-1)


def test_characterised_zobellia_puls_are_found() -> None:
    """Zobellia galactanivorans DsiJT proteome (locus tags in genome order; a proteome has
    no coordinates, so the file order is the gene order). SusC/SusD: the 8 PULkit Pfam HMMs
    (`hmmsearch --cut_ga`, table in tests/data/sequence/zobellia_sus.domtbl.gz). CAZymes and
    sulfatases: the genes of the characterised PULs with a glycoside hydrolase or
    polysaccharide lyase EC number (3.2.1.-, 4.2.2.-) or a sulfatase EC number (3.1.6.-),
    from dbCAN-PUL; substrates from their PUL."""
    with gzip.open(ZOBELLIA, "rt") as handle:
        tags = [line[1:].split()[0] for line in handle if line.startswith(">")]
    full = {tag.split("_[")[0]: tag for tag in tags}
    roles: dict[str, Annotation] = {}
    with gzip.open(HERE / "zobellia_sus.domtbl.gz", "rt") as handle:
        for line in handle:
            if not line.startswith("#"):
                target, family = line.split()[0], line.split()[3]
                roles.setdefault(target, Annotation()).roles.add(SUS_ROLES[family])
    characterised: dict[str, tuple[str, set[str]]] = {}
    with PULS.open() as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            tag = full[row["locus_tag"]]
            pul = characterised.setdefault(row["pul_id"], (row["substrate"], set()))
            pul[1].add(tag)
            if row["ec_number"].startswith(("3.2.1.", "4.2.2.")):
                ann = roles.setdefault(tag, Annotation())
                ann.roles.add("cazyme")
                ann.families[row["ec_number"]] = tuple(row["substrate"].split(","))
            elif row["ec_number"].startswith("3.1.6."):
                roles.setdefault(tag, Annotation()).roles.add("sulfatase")
    found = find_puls((Gene(tag, "") for tag in tags), roles)
    matched = {}
    for locus in found:
        for pul, (_substrate, genes) in characterised.items():
            if genes & set(locus["proteins"]):
                matched[pul] = (locus["substrate"], len(genes & set(locus["proteins"])))
    # the agarase agaB PUL (ZOBELLIA_3570-3573), the alginate PUL (ZOBELLIA_2613-2624, lyases
    # alyA1/alyA2 = ZOBELLIA_2618/2624), a carrageenan PUL and the hemicellulose PUL
    assert matched == {"PUL0315": ("agar/porphyran", 4), "PUL0151": ("alginate", 7),
                       "PUL0149": ("carrageenan", 10), "PUL0132": ("hemicellulose", 7)}
    agar = next(locus for locus in found if full["ZOBELLIA_3573"] in locus["proteins"])
    assert agar["contig"] is None and agar["start"] is None  # a proteome: order only
    assert agar["roles"] == ["susC", "susD", "", "cazyme"]
    assert "3.2.1.81 (ZOBELLIA_3573" in agar["substrate_evidence"]


def test_zobellia_puls_with_the_shipped_packs(sqlite_engine: Engine, tmp_path: Path) -> None:
    """The whole chain on the real proteome with the shipped marine-cazy and sus packs: the
    agarase agaB PUL (ZOBELLIA_3570-3573: SusC, SusD, agaB GH16) and the alginate PUL
    (SusC/SusD ZOBELLIA_2620-2621 and the lyase ZOBELLIA_2624; whether alyA1 = ZOBELLIA_2618
    joins depends on the pack's calibrated PL7 threshold) are found, and the
    genome's substrate summary lists agar (GH16) and alginate (PL7)."""
    from lanhai.profiles.registry import load_packs

    service, acc = proteome_bank(sqlite_engine, tmp_path)
    packs = load_packs(tmp_path / "profiles", ["marine-cazy", "sus"])
    report = service.annotate(CURATOR, [acc], packs=packs, threads=2)
    assert report["assemblies"][0]["steps"]["families"] == "done"
    loci = list(service.rows(CURATOR, acc, "loci"))
    tag = "ZOBELLIA_{}_[Zobellia_galactanivorans_DsiJ]".format
    agar = next(lo for lo in loci if tag(3573) in lo["proteins"])
    assert {tag(3570), tag(3571)} <= set(agar["proteins"])
    assert "agar" in agar["substrate"].split("/")
    assert "GH16 (" + tag(3573) in agar["substrate_evidence"]
    alginate = next(lo for lo in loci if tag(2620) in lo["proteins"])
    assert {tag(2621), tag(2624)} <= set(alginate["proteins"])
    assert alginate["substrate"] == "alginate"
    summary = service.substrates(CURATOR, acc)
    assert summary["substrates"]["agar"]["GH16"] >= 1
    assert summary["substrates"]["alginate"]["PL7"] >= 1
    assert any(line.startswith("alginate: ") for line in summary["lines"])
