"""The genome PUL benchmark's pure logic: matching characterised loci to predicted PULs by
gene overlap (CAZyme and half-the-genes criteria), scoring the call, and finding a labelled
protein in a proteome whose copy starts elsewhere."""

from __future__ import annotations

from typing import Any

from benchmarks.bench_pul_genome import Characterised, call_of, diagnose, locate, match


def locus(locus_id: str, proteins: list[str], substrate: str | None,
          confidence: float | None = 0.5) -> dict[str, Any]:
    return {"locus_id": locus_id, "proteins": proteins, "substrate": substrate,
            "substrate_confidence": confidence}


#: a characterised agar locus: six genes, two of them CAZymes (g3, g6)
AGAR = Characterised("genome", "PUL9", ("agarose",), ("agar",),
                     ("g1", "g2", "g3", "g4", "g5", "g6"), frozenset({"g3", "g6"}))


def test_the_criteria_can_disagree_and_each_keeps_its_own_locus() -> None:
    loci = [locus("PUL1", ["g0", "g1", "g2", "g4", "g5"], "laminarin"),  # 4 genes, no CAZyme
            locus("PUL2", ["g6", "g7"], "agar/porphyran"),  # 1 gene, a CAZyme
            locus("PUL3", ["x1", "x2"], "agar")]  # shares nothing
    m = match(AGAR, loci)
    assert m.overlapping == ("PUL1", "PUL2")
    assert m.by_cazyme.found and m.by_cazyme.locus is loci[1]
    # porphyran is a kind of agar: not exact, but related
    assert (m.by_cazyme.exact, m.by_cazyme.related) == (False, True)
    assert m.by_half.found and m.by_half.locus is loci[0]
    assert (m.by_half.exact, m.by_half.related) == (False, False)


def test_most_shared_cazymes_then_most_shared_genes_win() -> None:
    loci = [locus("PUL1", ["g3"], "carrageenan"),
            locus("PUL2", ["g2", "g3", "g4"], "agar"),
            locus("PUL3", ["g5", "g6", "g1"], "agar")]
    m = match(AGAR, loci)
    # PUL2 and PUL3 share one CAZyme and three genes each: the first in gene order wins
    assert m.by_cazyme.locus is loci[1] and m.by_cazyme.exact
    assert m.by_half.locus is loci[1]  # three of six genes is half


def test_shared_cazymes_count_before_shared_genes() -> None:
    three = Characterised("genome", "PUL8", ("alginate",), ("alginate",),
                          ("g1", "g2", "g3", "g4", "g5", "g6"), frozenset({"g1", "g2", "g5"}))
    loci = [locus("PUL1", ["g3", "g4", "g5", "g6"], "laminarin"),  # 1 CAZyme, 4 genes
            locus("PUL2", ["g1", "g2"], "alginate")]  # 2 CAZymes, 2 genes
    m = match(three, loci)
    assert m.by_cazyme.locus is loci[1] and m.by_cazyme.exact
    assert m.by_half.locus is loci[0] and not m.by_half.related


def test_less_than_half_and_no_cazyme_is_not_found() -> None:
    m = match(AGAR, [locus("PUL1", ["g1", "g2"], "agar")])
    assert not m.by_cazyme.found and m.by_cazyme.locus is None
    assert not m.by_cazyme.exact and not m.by_cazyme.related
    assert not m.by_half.found
    assert m.overlapping == ("PUL1",)
    assert not match(AGAR, []).by_half.found


def test_a_locus_without_a_call_is_found_but_never_right() -> None:
    m = match(AGAR, [locus("PUL1", ["g3", "g4", "g5"], None, None)])
    assert m.by_cazyme.found and m.by_half.found
    assert not m.by_cazyme.exact and not m.by_cazyme.related
    assert call_of(locus("PUL1", [], "agar/porphyran")).winners == ("agar", "porphyran")
    assert call_of(locus("PUL1", [], None)).winners == ()


def test_diagnose_names_the_signature_genes_and_the_susc_susd_pair() -> None:
    signatures = {"g2": ({"susC"}, set()), "g3": ({"cazyme"}, {"GH16_16"}),
                  "g4": ({"susD"}, set())}
    text = diagnose(AGAR, signatures)
    assert "g3 cazyme[GH16_16]" in text
    assert "CAZyme genes with a CAZy hit 1/2" in text
    assert text.endswith("SusC next to SusD among its genes: no")  # g3 lies between them
    signatures["g3"] = ({"susD"}, set())
    assert diagnose(AGAR, signatures).endswith("among its genes: yes")


def test_locate_finds_the_identical_protein_or_the_one_holding_its_windows() -> None:
    core = "".join("ACDEFGHIKLMNPQRSTVWY"[(i * 7 + i // 20) % 20] for i in range(300))
    proteome = {"P1": "M" + core, "P2": core[::-1], "P3": "MKKT" + core[5:] + "GG"}
    index = {s: [p] for p, s in proteome.items()}
    assert locate("M" + core, proteome, index) == "P1"
    # another start codon: not identical, but its windows lie in P3 (and in P1: ambiguous)
    assert locate("MSS" + core[5:], proteome, index) is None
    proteome.pop("P1")
    assert locate("MSS" + core[5:], proteome, {}) == "P3"
    assert locate("W" * 300, proteome, {}) is None
