"""Screening profiles (lanhai.screening.profile) and glycan features
(lanhai.screening.glycans): aspirin's profile, a rhodanine's PAINS alert named, Lipinski's
failed criteria named, a drug's nearest approved drug is itself, and agarose and carrageenan
repeat units counted by hand from IUPAC-condensed, WURCS and SMILES."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from rdkit import Chem

from lanhai.errors import ValidationFailed
from lanhai.screening import glycans, profile
from lanhai.screening.glycans import GLYCAN_FEATURE_NAMES, glycan_features, is_carbohydrate

DATA = Path(__file__).parent / "data" / "screening"
ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
#: 5-benzylidene rhodanine, the PAINS family "ene_rhod"
RHODANINE = "O=C1C(=Cc2ccccc2)SC(=S)N1"
#: alpha-D-glucopyranose, checked by CIP (1S,2R,3S,4S,5R); alpha-D-galactose flips C4
A_D_GLC = "OC[C@H]1O[C@H](O)[C@H](O)[C@@H](O)[C@@H]1O"
A_D_GAL = "OC[C@H]1O[C@H](O)[C@H](O)[C@@H](O)[C@H]1O"
LACTULOSE = ("OC[C@H]1O[C@@H](O[C@@H]2[C@@H](CO)O[C@](O)(CO)[C@H]2O)[C@H](O)[C@@H](O)"
             "[C@H]1O")  # beta-D-Gal-(1-4)-D-Fru, ChEMBL296306
MALTOSE = ("OC[C@H]1O[C@H](O[C@H]2[C@H](O)[C@@H](O)[C@H](O)O[C@@H]2CO)[C@H](O)[C@@H](O)"
           "[C@@H]1O")  # alpha-D-Glc-(1-4)-D-Glc


def test_aspirins_profile() -> None:
    p = profile.screening_profile(ASPIRIN)
    props = p.properties
    assert p.inchikey == "BSYNRYMUTXBXSQ-UHFFFAOYSA-N" and p.formula == "C9H8O4"
    assert props["mw"] == pytest.approx(180.159, abs=1e-3)
    assert props["exact_mass"] == pytest.approx(180.04226, abs=1e-5)
    assert (props["hbd"], props["nhoh"], props["no"], props["heavy_atoms"]) == (1, 1, 4, 13)
    assert (props["rings"], props["aromatic_rings"], props["rotatable_bonds"]) == (1, 1, 2)
    assert props["tpsa"] == pytest.approx(63.6, abs=0.01)
    assert props["fraction_sp3"] == pytest.approx(1 / 9, abs=1e-4)
    assert 0 < props["qed"] < 1 and props["formal_charge"] == 0
    assert p.rule("Lipinski").passed and p.rule("Veber").passed and p.rule("Egan").passed
    muegge = p.rule("Muegge")  # MW 180 is under Muegge's 200
    assert not muegge.passed and muegge.violations == ("MW 180.159 < 200",)
    assert p.np_likeness.available and p.synthetic_accessibility.available
    assert 1 <= (p.synthetic_accessibility.value or 0) < 3  # aspirin is easy to make
    assert p.admet == {"available": False, "note": profile.ADMET_NOTE}
    assert not p.carbohydrate and p.glycan is None
    assert p.nearest_drugs[0].name == "ASPIRIN" and p.nearest_drugs[0].similarity == 1.0
    body = json.loads(json.dumps(p.as_dict()))
    assert body["np_likeness"]["available"] is True
    assert body["rules"][0]["name"] == "Lipinski"


def test_a_rhodanine_raises_the_pains_alert_by_name() -> None:
    alerts = profile.screening_profile(RHODANINE).alerts
    named = {(a.catalogue, a.description) for a in alerts}
    assert ("PAINS_A", "ene_rhod_A(235)") in named
    assert ("NIH", "rhodanine") in named
    assert not profile.screening_profile(ASPIRIN).rule("Lipinski").violations
    assert all(a.atoms for a in alerts)


def test_lipinski_names_each_failed_criterion() -> None:
    # a lipopeptide: stearoyl-Tyr-Lys-Trp
    big = ("CCCCCCCCCCCCCCCCCC(=O)NC(Cc1ccc(O)cc1)C(=O)NC(CCCCN)C(=O)NC(Cc1c[nH]c2ccccc12)"
           "C(=O)O")
    lipinski = profile.screening_profile(big).rule("Lipinski")
    assert not lipinski.passed
    assert [v.split()[0] for v in lipinski.violations] == ["MW", "cLogP", "H-bond", "H-bond"]
    assert lipinski.violations[0] == "MW 762.049 > 500"
    assert lipinski.violations[2] == "H-bond donors (OH + NH) 8 > 5"
    assert lipinski.violations[3] == "H-bond acceptors (N + O) 11 > 10"


def test_a_natural_product_outside_ro5_gets_the_beyond_rule_of_five_note() -> None:
    # erythromycin A: outside the rule of five, inside Doak's bRo5 space
    ery = ("CC[C@@H]1[C@@]([C@@H]([C@H](C(=O)[C@@H](C[C@@]([C@@H]([C@H]([C@@H]([C@H]"
           "(C(=O)O1)C)O[C@H]2C[C@@]([C@H]([C@@H](O2)C)O)(C)OC)C)O[C@H]3[C@@H]([C@H]"
           "(C[C@H](O3)C)N(C)C)O)(C)O)C)C)O)(C)O")
    p = profile.screening_profile(ery)
    assert not p.rule("Lipinski").passed
    bro5 = p.rule("beyond rule of five")
    assert bro5.passed and "natural products" in bro5.note
    assert (p.np_likeness.value or 0) > 1  # natural-product-like


def test_the_nearest_approved_drug_of_a_drug_is_itself() -> None:
    rows = list(csv.DictReader(
        (Path(profile.__file__).parent / "data" / "chembl_approved_drugs.tsv")
        .read_text("utf-8").splitlines(), delimiter="\t"))
    assert len(rows) == len(profile.approved_drugs()) == 2628
    for name in ("NICOTINE", "OFLOXACIN", "INDOMETHACIN"):
        row = next(r for r in rows if r["name"] == name)
        hit = profile.nearest_drugs(Chem.MolFromSmiles(row["smiles"]), k=3)
        assert (hit[0].key, hit[0].name, hit[0].similarity) == (row["chembl_id"], name, 1.0)
        assert hit[0].first_approval == int(row["first_approval"])
        assert hit[1].similarity <= 1.0 and len(hit) == 3


def test_nearest_library_compounds() -> None:
    library = profile.library_fingerprints([("LHCP1", "Oc1ccccc1C(=O)O"), ("LHCP2", "CCO"),
                                            ("LHCP3", ASPIRIN)])
    hits = profile.nearest_in(Chem.MolFromSmiles(ASPIRIN), library, k=2)
    assert [h.key for h in hits] == ["LHCP3", "LHCP1"] and hits[0].similarity == 1.0
    assert profile.screening_profile(ASPIRIN, library=library, k=1).nearest_library[0].key \
        == "LHCP3"
    with pytest.raises(ValidationFailed) as err:
        profile.library_fingerprints([("a", "CCO"), ("b", "C1CC("), ("c", "xx")])
    assert [p.record for p in err.value.problems] == ["b", "c"]


def test_profile_many_checks_every_smiles_first() -> None:
    profiles = profile.profile_many([ASPIRIN, RHODANINE, "CCO.Cl"], k=1)
    assert [p.smiles for p in profiles] == [Chem.CanonSmiles(s) for s in
                                            (ASPIRIN, RHODANINE, "CCO")]
    assert profiles[2].fragments_removed == 1
    with pytest.raises(ValidationFailed) as err:
        profile.profile_many([ASPIRIN, "C1CC(", "not a smiles"])
    assert [p.row for p in err.value.problems] == [2, 3]
    with pytest.raises(ValidationFailed):
        profile.screening_profile("C1CC(")


# --- glycans -------------------------------------------------------------------------------

def _nonzero(features: dict[str, float]) -> dict[str, float]:
    return {k: v for k, v in features.items() if v}


def test_agarose_repeat_units_counted_by_hand() -> None:
    # agarotetraose: (3,6-anhydro-a-L-Gal (1-3) b-D-Gal (1-4)) x 2, GlyTouCan G84315EW
    f = glycan_features(iupac="3,6-Anhydro-L-Gal(a1-3)Gal(b1-4)3,6-Anhydro-L-Gal(a1-3)Gal")
    assert list(f) == list(GLYCAN_FEATURE_NAMES)
    assert _nonzero(f) == {
        "glycan_dp": 4, "glycan_res_Gal": 2, "glycan_res_AnGal": 2, "glycan_anhydro": 2,
        "glycan_l_config": 2, "glycan_link_1_3": 2, "glycan_link_1_4": 1, "glycan_alpha": 2,
        "glycan_beta": 1}
    # the agarobiose repeat in WURCS: b-D-Gal (1-4) 3,6-anhydro-a-L-Gal, repeating 1-3
    w = glycan_features(wurcs="WURCS=2.0/2,2,2/[a2112h-1b_1-5][a1221h-1a_1-5_3-6]/1-2/"
                              "a4-b1_a1-b3~n")
    assert _nonzero(w) == {
        "glycan_dp": 2, "glycan_repeat": 1, "glycan_res_Gal": 1, "glycan_res_AnGal": 1,
        "glycan_anhydro": 1, "glycan_l_config": 1, "glycan_link_1_3": 1,
        "glycan_link_1_4": 1, "glycan_alpha": 1, "glycan_beta": 1}


def test_carrageenan_repeat_units_counted_by_hand() -> None:
    # kappa: 3,6-anhydro-a-D-Gal (1-3) b-D-Gal4S, G51124GP; iota adds a 2-sulfate
    kappa = glycan_features(iupac="3,6-Anhydro-Gal(a1-3)Gal4S")
    assert _nonzero(kappa) == {
        "glycan_dp": 2, "glycan_res_Gal": 1, "glycan_res_AnGal": 1, "glycan_sulfate": 1,
        "glycan_sulfation_degree": 0.5, "glycan_anhydro": 1, "glycan_link_1_3": 1,
        "glycan_alpha": 1}
    iota = glycan_features(iupac="3,6-Anhydro-Gal2S(a1-3)Gal4S")
    assert (iota["glycan_sulfate"], iota["glycan_sulfation_degree"]) == (2, 1.0)
    # kappa-carrageenan's repeat in WURCS (DGS-style 4-sulfate on the b-D-Gal)
    w = glycan_features(wurcs="WURCS=2.0/2,2,2/[a2112h-1b_1-5_4*OSO/3=O/3=O]"
                              "[a2112h-1a_1-5_3-6]/1-2/a4-b1_a1-b3~n")
    assert (w["glycan_res_Gal"], w["glycan_res_AnGal"], w["glycan_sulfate"],
            w["glycan_l_config"], w["glycan_repeat"]) == (1, 1, 1, 0, 1)


def test_alginate_fucoidan_and_sea_cucumber_glycans() -> None:
    alginate = glycan_features(iupac="ManA(b1-4)L-GulA(a1-4)ManA")
    assert (alginate["glycan_res_ManA"], alginate["glycan_res_GulA"],
            alginate["glycan_uronic"], alginate["glycan_uronic_fraction"]) == (2, 1, 3, 1.0)
    fucoidan = glycan_features(iupac="Fuc2S4S(a1-3)Fuc2S4S(a1-3)Fuc2S4S")
    assert (fucoidan["glycan_res_Fuc"], fucoidan["glycan_sulfate"],
            fucoidan["glycan_sulfation_degree"], fucoidan["glycan_link_1_3"]) == (3, 6, 2.0, 2)
    # fucosylated chondroitin sulfate: Fuc on the terminal GlcA (a chain, no branch point)
    fcs = glycan_features(iupac="[Fuc2S4S(a1-3)]GlcA(b1-3)GalNAc4S6S(b1-4)GlcA")
    assert (fcs["glycan_dp"], fcs["glycan_branches"], fcs["glycan_res_GlcA"],
            fcs["glycan_res_GalNAc"], fcs["glycan_n_acetyl"], fcs["glycan_sulfate"]) == \
        (4, 0, 2, 1, 1, 4)
    # ulvan with a GlcA side chain: the reducing Rha3S carries Xyl and GlcA
    ulvan = glycan_features(iupac="Rha3S(a1-4)Xyl(b1-4)[GlcA(b1-2)]Rha3S")
    assert (ulvan["glycan_branches"], ulvan["glycan_res_Rha"], ulvan["glycan_res_Xyl"],
            ulvan["glycan_link_1_2"], ulvan["glycan_link_1_4"]) == (1, 2, 1, 1, 2)


def test_every_sampled_marine_glycan_reads() -> None:
    rows = list(csv.DictReader((DATA / "glycowork_marine_glycans_sample.tsv")
                               .read_text("utf-8").splitlines(), delimiter="\t"))
    assert len(rows) == 21
    for row in rows:
        f = glycan_features(iupac=row["glycan_iupac_condensed"])
        assert f["glycan_dp"] >= 1 and len(f) == len(GLYCAN_FEATURE_NAMES)
        if "anhydro" in row["selection_reason"] and "Gal" in row["glycan_iupac_condensed"]:
            assert f["glycan_res_AnGal"] >= 1 or "Glc" in row["glycan_iupac_condensed"]


def test_wurcs_agrees_with_iupac_where_glypy_writes_the_wurcs() -> None:
    from glypy.io import iupac as glypy_iupac
    from glypy.io import wurcs as glypy_wurcs

    for text in ("Fuc2S(a1-3)Fuc2S(a1-3)Fuc2S", "GlcNAc(b1-4)GlcNAc(b1-4)GlcNAc",
                 "Rha3S(a1-4)Xyl(b1-4)Rha3S", "Xyl(b1-3)Gal(a1-3)Fuc4S"):
        written = glypy_wurcs.dumps(glypy_iupac.loads(text, dialect="simple"))
        assert glycan_features(wurcs=written) == glycan_features(iupac=text), text


def test_bad_glycan_texts_are_refused_with_the_reason() -> None:
    with pytest.raises(ValidationFailed) as err:
        glycan_features(iupac="Gal(b1-4)Foo", wurcs="WURCS=nonsense")
    fields = {p.field: p.reason for p in err.value.problems}
    assert fields["wurcs"] == "is not a WURCS 2.0 string"
    assert "Foo" in fields["glycan_iupac"]
    with pytest.raises(ValidationFailed):
        glycan_features(iupac="Gal(b1-4)[Glc(a1-3)Man")
    with pytest.raises(ValidationFailed):
        glycan_features(smiles="c1ccccc1")


def test_glycan_features_from_a_structure() -> None:
    maltose = glycans.read_glycan(smiles=MALTOSE)
    assert [(r.cls, r.config) for r in maltose.residues] == [("Glc", "D"), ("Glc", "D")]
    assert [(lk.anomer, lk.child_pos, lk.parent_pos) for lk in maltose.links] == [("a", 1, 4)]
    lactulose = glycan_features(smiles=LACTULOSE)
    assert (lactulose["glycan_res_Gal"], lactulose["glycan_res_other"],
            lactulose["glycan_beta"], lactulose["glycan_link_unknown"]) == (1, 1, 1, 1)
    # alpha-D-Gal 4-sulfate and 3,6-anhydro-alpha-D-Gal built from a CIP-checked galactose
    gal4s = A_D_GAL + "S(=O)(=O)O"  # the last atom is O4
    f = glycan_features(smiles=gal4s)
    assert (f["glycan_res_Gal"], f["glycan_sulfate"]) == (1, 1)
    anhydro = Chem.RWMol(Chem.MolFromSmiles(A_D_GAL))
    o6, c6, o3 = 0, 1, 9  # atom order of A_D_GAL: O6 C6 C5 O5 C1 O1 C2 O2 C3 O3 C4 O4
    anhydro.AddBond(o3, c6, Chem.BondType.SINGLE)
    anhydro.RemoveAtom(o6)
    mol = anhydro.GetMol()
    Chem.SanitizeMol(mol)
    f = glycan_features(mol=mol)
    assert (f["glycan_res_AnGal"], f["glycan_anhydro"], f["glycan_dp"]) == (1, 1, 1)
    assert glycan_features(smiles=A_D_GLC)["glycan_res_Glc"] == 1


def test_is_carbohydrate_and_the_profile_of_a_sugar() -> None:
    assert is_carbohydrate(Chem.MolFromSmiles(MALTOSE))
    assert is_carbohydrate(Chem.MolFromSmiles(
        "OC[C@@H](O)[C@@H](O[C@@H]1O[C@H](CO)[C@H](O)[C@H](O)[C@H]1O)[C@H](O)[C@@H](O)CO"))
    assert not is_carbohydrate(Chem.MolFromSmiles(ASPIRIN))
    p = profile.screening_profile(MALTOSE)
    assert p.carbohydrate and p.glycan is not None and p.glycan["glycan_res_Glc"] == 2
