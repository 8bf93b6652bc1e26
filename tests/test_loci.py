"""Polysaccharide utilisation loci: dbCAN's CGC-finder logic (signature genes at most N
non-signature genes apart, a SusC-SusD pair and a CAZyme), on hand-made gene orders and on
the real, experimentally characterised PULs of Zobellia galactanivorans DsiJT."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import pytest
from sqlalchemy import Engine

from lanhai.profiles.pul_evidence import LocusEvidence, shipped
from lanhai.profiles.registry import load_packs, substrates_for
from lanhai.sequence import loci as loci_module
from lanhai.sequence.loci import (
    Annotation,
    Gene,
    SubstrateCall,
    find_puls,
    module_weight,
    predict_substrate,
    role_of,
)
from tests.support import SHARED
from tests.support.sequences import ANNOTATOR as CURATOR
from tests.support.sequences import HERE, SUS_ROLES, proteome_bank
from tests.support.sequences import ZOBELLIA_PROTEOME as ZOBELLIA

PULS = HERE / "zobellia_characterized_pul_genes.tsv"


@pytest.fixture
def table_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The family table's votes alone (no counts of characterised loci)."""
    monkeypatch.setattr(loci_module, "shipped", lambda: LocusEvidence({}, {}))


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


def test_cazyme_gene_clusters_without_a_sus_pair_are_cgcs() -> None:
    assert find_puls(*annotated("cazyme", "", "cazyme")) == []  # two CAZymes alone: no
    [three] = find_puls(*annotated("cazyme", "cazyme", "", "cazyme"))
    assert (three["type"], three["locus_id"], three["cazyme_count"]) == ("CGC", "CGC1", 3)
    assert three["susc_susd_pairs"] == 0 and three["substrate"] == "agar"
    [sulfated] = find_puls(*annotated("cazyme", "sulfatase", "cazyme"))
    assert sulfated["type"] == "CGC" and sulfated["sulfatase_count"] == 1
    [lone] = find_puls(*annotated("susC", "cazyme", "cazyme"))  # a SusC without its SusD
    assert lone["type"] == "CGC"
    # PULs and CGCs are numbered apart: a PUL keeps its number whatever CGCs precede it
    genes, roles = annotated("cazyme", "cazyme", "cazyme", "", "", "", "susC", "susD", "cazyme")
    assert [(x["locus_id"], x["type"]) for x in find_puls(genes, roles)] == \
        [("CGC1", "CGC"), ("PUL1", "PUL")]


@pytest.mark.usefixtures("table_only")
def test_substrate_is_the_weighted_vote_of_the_cazymes_with_evidence() -> None:
    call = predict_substrate([
        ("p1", {"GH16": ("agar", "porphyran")}), ("p2", {"GH86": ("agar",)}),
        ("p3", {"GH117": ("agar",)}), ("p4", {"PL7": ("alginate",)})])
    assert call.substrate == "agar"
    # GH16 splits its vote between its two substrates: 0.5 + 1 + 1 for agar
    assert call.evidence.startswith("agar 2.50 (3 genes): GH16 (p1), GH86 (p2), GH117 (p3); ")
    assert "alginate 1.00 (1 gene): PL7 (p4)" in call.evidence
    assert call.ranked == (("agar", 2.5), ("alginate", 1.0), ("porphyran", 0.5))
    # share 2.5 / 4 of the vote, support 2.5 / (2.5 + 1)
    assert call.confidence == pytest.approx(2.5 / 4 * 2.5 / 3.5, abs=1e-3)
    assert predict_substrate([("p1", {"GH3": ()})]) == SubstrateCall(
        None, None, "no CAZyme with a known substrate")


@pytest.mark.usefixtures("table_only")
def test_a_starch_locus_is_called_starch_with_evidence_and_confidence() -> None:
    """A Sus-like starch locus: SusC/SusD next to GH13 (SusA/SusG), GH97 (SusB, which also
    holds alpha-galactosidases) and a CBM20; the table's substrates, as annotation gets them."""
    cazymes = {"g3": ["GH13_20"], "g4": ["GH97"], "g5": ["GH13", "CBM20"]}
    genes, found = annotated("susC", "susD", "cazyme", "cazyme", "cazyme")
    for gene, families in cazymes.items():
        found[gene].families = {f: substrates_for(f) for f in families}
    [locus] = find_puls(genes, found)
    assert locus["substrate"] == "starch"
    assert locus["substrate_evidence"].startswith(
        "starch 3.50 (3 genes): GH13_20 (g3), GH97 (g4), CBM20 (g5), GH13 (g5); "
        "raffinose 0.50 (1 gene): GH97 (g4)")
    assert locus["substrate_confidence"] == pytest.approx(3.5 / 4 * 3.5 / 4.5, abs=1e-3)
    assert 0.6 < locus["substrate_confidence"] < 1
    # a gene's modules add up (the CBM20 backs its GH13), to at most 1.5 per gene
    many = predict_substrate([("p1", {"GH13_9": ("starch",), "CBM48": ("starch",),
                                      "CBM20": ("starch",)})])
    assert many.ranked == (("starch", 1.5),)


@pytest.mark.usefixtures("table_only")
def test_specific_families_outvote_broad_ones_and_subfamilies_outvote_families() -> None:
    # two GH3 (five substrates each) do not outvote one xylanase family
    call = predict_substrate([("p1", {"GH3": substrates_for("GH3")}),
                              ("p2", {"GH3": substrates_for("GH3")}),
                              ("p3", {"GH10": substrates_for("GH10")})])
    assert call.substrate == "xylan"
    assert module_weight("GH16_3", substrates_for("GH16_3")) == 0.75  # 1.5 over 2
    assert module_weight("GH16", substrates_for("GH16")) == pytest.approx(1 / 6)
    assert module_weight("CBM20", ("starch",)) == 0.5
    assert module_weight("GH13_99", ("starch",)) == 1.0  # no entry of its own: a family
    # an agarase subfamily decides what the polyspecific GH16 family leaves open
    call = predict_substrate([("p1", {"GH16_16": substrates_for("GH16_16")}),
                              ("p2", {"GH16": substrates_for("GH16")})])
    assert call.substrate == "agar"
    assert call.ranked[0][0] == "agar" and call.ranked[0][1] == pytest.approx(1.5 + 1 / 6,
                                                                              abs=1e-3)
    alone = predict_substrate([("p1", {"GH16": substrates_for("GH16")})])
    assert alone.substrate is not None and len(alone.tied) == 6
    assert (alone.confidence or 0) < 0.05  # one sixth of the vote, little support


@pytest.mark.usefixtures("table_only")
def test_ties_name_every_tied_substrate() -> None:
    call = predict_substrate([("p1", {"GH16": ("agar",)}), ("p2", {"PL7": ("alginate",)})])
    assert call.substrate == "agar/alginate" and call.tied == ("agar", "alginate")
    assert call.confidence == pytest.approx(0.5 * 0.5)  # half the vote, support 1
    # one gene whose family acts on two substrates ties them
    assert predict_substrate([("p1", {"GH117": ("agar", "porphyran")})]).substrate == \
        "agar/porphyran"


@pytest.mark.usefixtures("table_only")
def test_a_cbm_only_vote_is_weak_and_peptidoglycan_never_votes() -> None:
    call = predict_substrate([("p1", {"CBM48": ("starch",)})])
    assert call.substrate == "starch"
    assert call.confidence == pytest.approx(0.5 / 1.5, abs=1e-3)  # below a catalytic family's
    assert (call.confidence or 1) < (predict_substrate([("p1", {"GH57": ("starch",)})])
                                     .confidence or 0)
    chitinase = predict_substrate([("p1", {"GH23": ("peptidoglycan",)}),
                                   ("p2", {"CE4": ("chitin", "peptidoglycan")})])
    assert chitinase.substrate == "chitin"  # CE4's half for chitin; peptidoglycan not counted
    assert chitinase.ranked == (("chitin", 0.5),)
    assert "not counted: peptidoglycan (GH23 (p1), CE4 (p2))" in chitinase.evidence
    only = predict_substrate([("p1", {"GH23": ("peptidoglycan",)})])
    assert only.substrate is None and only.confidence is None
    assert only.evidence == ("no CAZyme with a known substrate; "
                             "not counted: peptidoglycan (GH23 (p1))")


def test_characterised_loci_order_what_the_table_leaves_tied() -> None:
    """Counts of characterised loci: a family the table gives six substrates (GH16) is
    called by which substrate's loci hold it with the locus's other modules; a clear table
    majority stands; modules the table has no substrate for still get a weak call."""
    evidence = LocusEvidence.count([
        ("laminarin", ["GH16_3", "GH17", "GH30_1"]), ("laminarin", ["GH16_3", "GH3", "GT2"]),
        ("agar", ["GH16_16", "GH86", "GH117"]), ("agar", ["GH16_16", "GH50"]),
        ("xylan", ["GH10", "GH43_1", "CE20"]), ("xylan", ["GH10", "GH67"])])
    assert evidence.loci == {"laminarin": 2, "agar": 2, "xylan": 2}
    assert evidence.holding["laminarin"]["GH16"] == 2  # a subfamily counts for its family
    gh16 = [("p1", {"GH16": substrates_for("GH16")}), ("p2", {"GH17": substrates_for("GH17")})]
    assert len(predict_substrate(gh16[:1], LocusEvidence({}, {})).tied) == 6
    call = predict_substrate(gh16, evidence)
    assert call.substrate == "laminarin" and call.tied == ("laminarin",)
    assert "characterised loci with these modules: laminarin +" in call.evidence
    scores = evidence.scores(["GH16", "GH17"])
    assert scores["laminarin"] > scores["agar"] and scores["laminarin"] > scores["xylan"]
    # a clear majority of the table is not overturned
    majority = [("p1", {"GH10": ("xylan",)}), ("p2", {"GH10": ("xylan",)}),
                ("p3", {"GH16_3": ("laminarin", "beta-glucan")})]
    assert predict_substrate(majority, evidence).substrate == "xylan"
    # no module with substrates in the table: the loci alone (from modules the table does
    # not list: CE20), with a low confidence; none from a module it lists as too broad (GT2)
    weak = predict_substrate([("p1", {"CE20": ()}), ("p2", {"GT2": ()})], evidence)
    assert weak.substrate == "xylan" and weak.confidence is not None \
        and weak.confidence <= 0.25
    assert weak.evidence.startswith("no CAZyme with a substrate in the table; characterised "
                                    "loci with these modules: xylan")
    assert predict_substrate([("p1", {"GT2": ()})], evidence).substrate is None


def test_the_shipped_counts_of_characterised_loci(tmp_path: Path) -> None:
    """dbCAN-PUL's characterised loci, counted by the builder; a written file reads back."""
    counts = shipped()
    assert counts.total >= 500 and {"starch", "xylan", "alginate", "pectin"} <= set(
        counts.loci)
    assert counts.holding["alginate"]["PL7"] > counts.holding["alginate"].get("GH13", 0)
    path = tmp_path / "evidence.tsv"
    counts.write(path, ["test"])
    assert LocusEvidence.read(path) == counts
    # a starch locus's modules point to starch, an alginate locus's to alginate
    starch = counts.scores(["GH13_9", "GH97", "CBM48"])
    assert max(starch, key=starch.__getitem__) == "starch"
    alginate = counts.scores(["PL7", "PL6", "PL17"])
    assert max(alginate, key=alginate.__getitem__) == "alginate"


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
    # alyA1/alyA2 = ZOBELLIA_2618/2624), a carrageenan PUL and the hemicellulose PUL; and the
    # alginate lyase cluster ZOBELLIA_4130-4132 (PL6, PL7, PL6: no SusC/SusD), a CGC. The
    # agaB PUL's substrates tie in the table (agar, porphyran); characterised loci of agar
    # outnumber those of porphyran, which breaks the tie (its modules here are EC numbers,
    # which the counts do not hold)
    assert matched == {"PUL0315": ("agar", 4), "PUL0151": ("alginate", 7),
                       "PUL0149": ("carrageenan", 10), "PUL0132": ("hemicellulose", 7),
                       "PUL0313": ("alginate", 3)}
    lyases = next(locus for locus in found if full["ZOBELLIA_4131"] in locus["proteins"])
    assert lyases["type"] == "CGC" and lyases["locus_id"].startswith("CGC")
    assert lyases["susc_susd_pairs"] == 0 and lyases["cazyme_count"] == 3
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
    service, acc = proteome_bank(sqlite_engine, tmp_path)
    packs = load_packs(tmp_path / "profiles", ["marine-cazy", "sus"])
    report = service.annotate(CURATOR, [acc], packs=packs, threads=2)
    assert report["assemblies"][0]["steps"]["families"] == "done"
    loci = list(service.rows(CURATOR, acc, "loci"))
    tag = "ZOBELLIA_{}_[Zobellia_galactanivorans_DsiJ]".format
    agar = next(lo for lo in loci if tag(3573) in lo["proteins"])
    assert {tag(3570), tag(3571)} <= set(agar["proteins"])
    # marine-cazy has one GH16 profile (agar, porphyran, carrageenan, laminarin: a quarter
    # vote each) and the cluster takes in the GH29 fucosidase ZOBELLIA_3568 beside it: the
    # call is weak and agar is among its runners-up (the general pack's GH16_16 settles it)
    assert agar["substrate_confidence"] <= 0.3
    assert "; agar 0.25 (1 gene): GH16 (" + tag(3573) in agar["substrate_evidence"]
    alginate = next(lo for lo in loci if tag(2620) in lo["proteins"])
    assert {tag(2621), tag(2624)} <= set(alginate["proteins"])
    assert alginate["substrate"] == "alginate"
    summary = service.substrates(CURATOR, acc)
    assert summary["substrates"]["agar"]["GH16"] >= 1
    assert summary["substrates"]["alginate"]["PL7"] >= 1
    assert any(line.startswith("alginate: ") for line in summary["lines"])


def test_loci_stored_before_confidences_still_read(sqlite_engine: Engine,
                                                   tmp_path: Path) -> None:
    """A loci.parquet written without the substrate_confidence column (before it existed)
    reads as before: the rows lack it, the API model takes it as null, the text line and the
    pages leave it out."""
    import pyarrow.parquet as pq

    from lanhai.api.schemas import Locus
    from lanhai.services.results import _confidence
    from lanhai.store.sequences import LOCI

    service, acc = proteome_bank(sqlite_engine, tmp_path)
    service.annotate(CURATOR, [acc], packs=load_packs(tmp_path / "profiles",
                                                      ["marine-cazy", "sus"]), threads=2)
    path = service.store.annotation_folder(acc) / "loci.parquet"
    new = pq.read_table(path)
    assert new.schema.equals(LOCI)
    pq.write_table(new.drop_columns(["substrate_confidence"]), path)
    rows = list(service.rows(CURATOR, acc, "loci"))
    assert rows and all("substrate_confidence" not in row for row in rows)
    locus = Locus.model_validate({**rows[0], "locus_id": rows[0]["locus_id"]})
    assert locus.substrate_confidence is None and locus.substrate == rows[0]["substrate"]
    assert _confidence(None) == "" and _confidence(0.834) == " (confidence 83%)"



@pytest.mark.skipif(not (SHARED / "cazy" / "labelled" / "families.tsv").is_file(),
                    reason="../shared/data/cazy is not beside the repository")
def test_the_shipped_counts_are_what_the_builder_makes(tmp_path: Path) -> None:
    from lanhai.profiles import pul_evidence

    out = tmp_path / "pul_evidence.tsv"
    assert pul_evidence.main(["--data", str(SHARED / "cazy" / "labelled" / "families.tsv"),
                              "--out", str(out)]) == 0
    assert out.read_text("utf-8") == pul_evidence.SHIPPED.read_text("utf-8")
