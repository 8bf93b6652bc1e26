"""Heterologous pathways from parts: checks, export, yields; enzyme suggestions."""

from __future__ import annotations

from typing import Any

import cobra
import pytest

from lanhai.design import analysis, chassis, pathways
from lanhai.design.pathways import MetaboliteSpec, ReactionSpec
from lanhai.errors import UsageError, ValidationFailed

#: phaA, phaB, phaC of Cupriavidus necator (PHB from acetyl-CoA); formulas of the charged
#: forms as BiGG gives them (aacoa_c, 3hbcoa_c); PHB as its monomer unit C4H6O2
PHB_STEPS = [
    ReactionSpec("LHPT0000101", "PHAA", "acetyl-CoA acetyltransferase (phaA)",
                 "2 accoa_c -> aacoa_c + coa_c", ec="2.3.1.9", gene="phaA"),
    ReactionSpec("LHPT0000102", "PHAB", "acetoacetyl-CoA reductase (phaB)",
                 "aacoa_c + nadph_c + h_c --> 3hbcoa_c + nadp_c", ec="1.1.1.36", gene="phaB"),
    ReactionSpec("LHPT0000103", "PHAC", "PHB synthase (phaC)", "3hbcoa_c -> phb_c + coa_c",
                 ec="EC 2.3.1.304", gene="phaC"),
]
PHB_METABOLITES = [
    MetaboliteSpec("aacoa_c", "Acetoacetyl-CoA", "C25H36N7O18P3S", -4),
    MetaboliteSpec("3hbcoa_c", "(R)-3-Hydroxybutanoyl-CoA", "C25H38N7O18P3S", -4),
    MetaboliteSpec("phb_c", "Poly-3-hydroxybutyrate (monomer unit)", "C4H6O2", 0),
]


@pytest.fixture
def core() -> cobra.Model:
    return chassis.load_bundled("textbook").model


def test_parse_equation() -> None:
    eq = pathways.parse_equation("gdpfuc_c + lcts_c -> 2fl_c + gdp_c + h_c")
    assert eq.coefficients == {"gdpfuc_c": -1, "lcts_c": -1, "2fl_c": 1, "gdp_c": 1, "h_c": 1}
    assert not eq.reversible
    eq = pathways.parse_equation("2 accoa_c <=> aacoa_c + coa_c")
    assert eq.reversible and eq.coefficients["accoa_c"] == -2
    assert pathways.parse_equation("0.5 o2_c --> h2o_c").coefficients["o2_c"] == -0.5
    for bad in ("a_c = b_c", "a_c -> ", "x a_c -> b_c", "a_c -> b_c -> c_c"):
        with pytest.raises(ValidationFailed):
            pathways.parse_equation(bad)


def test_phb_yield_matches_the_published_maximum(core: cobra.Model) -> None:
    """PHB from glucose in e_coli_core (aerobic, no growth required).

    Published: 0.48 g PHB per g glucose is the theoretical maximum (Yamane T. 1993,
    Biotechnol Bioeng 41:165-170, "Yield of poly-D(-)-3-hydroxybutyrate from various carbon
    sources: a theoretical study"; also Yamane 1992, FEMS Microbiol Rev 103:257-264).
    By hand: glucose -> 2 pyruvate -> 2 acetyl-CoA + 2 CO2; 2 acetyl-CoA + NADPH -> one
    3-hydroxybutyrate unit (C4H6O2, 86.09 g/mol); so 1 mol/mol, 4/6 = 0.667 C-mol/C-mol and
    86.09 / 180.16 = 0.478 g/g (the NADPH comes from the surplus NADH via THD2, O2 takes
    the rest).
    """
    report = pathways.add_pathway(core, PHB_STEPS, "phb_c", PHB_METABOLITES)
    assert report.export == "DM_phb_c" and report.export_added
    assert report.max_product_flux == pytest.approx(10.0)
    assert [r.balanced for r in report.reactions] == [True, True, True]
    assert {r.id: r.ec for r in report.reactions}["PHAC"] == "2.3.1.304"
    assert core.reactions.PHAA.annotation["lanhai.part"] == "LHPT0000101"
    assert core.reactions.PHAB.gene_reaction_rule == "phaB"
    result = analysis.max_yield(core, "phb_c", "EX_glc__D_e")
    assert result.molar_yield == pytest.approx(1.0, rel=1e-6)
    assert result.carbon_yield == pytest.approx(4 / 6, rel=1e-6)
    assert result.mass_yield == pytest.approx(0.48, abs=0.005)
    # growing at half the wild type's rate costs product
    half = analysis.max_yield(core, "phb_c", "EX_glc__D_e", min_growth=0.437)
    assert 0 < half.molar_yield < 1.0


def test_two_fucosyllactose_in_ijo1366() -> None:
    """2'-fucosyllactose in iJO1366 with only futC added (Helicobacter pylori
    alpha-1,2-fucosyltransferase, EC 2.4.1.69).

    iJO1366 already has every step from fructose-6-P to GDP-L-fucose: manA (MAN6PI), manB
    (PMANM), manC (MAN1PT2), gmd (GMAND), wcaG (GDMANE, GOFUCR), and lacY (LCTStpp) imports
    lactose; only futC is missing. Lactose is taken up whole and becomes the
    2'-FL backbone, so at most 1 mol 2'-FL per mol lactose (the stoichiometric maximum on
    lactose, GDP-fucose made from glucose as in Baumgärtner et al. 2013, Microb Cell Fact
    12:40); by hand: C18H32O15 (488.44 g/mol) / C12H22O11 (342.30 g/mol) = 1.427 g/g and
    18/12 = 1.5 C-mol/C-mol, the fucose carbon coming from glucose.
    """
    model = chassis.load_bundled("iJO1366").model
    for rid in ("MAN6PI", "PMANM", "MAN1PT2", "GMAND", "GDMANE", "GOFUCR", "LCTStpp"):
        assert rid in model.reactions
    medium = dict(model.medium)
    medium["EX_lcts_e"] = 2.0
    futc = ReactionSpec("LHPT0000201", "FUT2FL", "alpha-1,2-fucosyltransferase (futC)",
                        "gdpfuc_c + lcts_c -> 2fl_c + gdp_c + h_c", ec="2.4.1.69", gene="futC")
    report = pathways.add_pathway(
        model, [futc], "2fl_c",
        [MetaboliteSpec("2fl_c", "2'-Fucosyllactose", "C18H32O15", 0)], medium=medium)
    assert report.export == "DM_2fl_c"
    result = analysis.max_yield(model, "2fl_c", "EX_lcts_e", medium=medium)
    assert result.molar_yield == pytest.approx(1.0, rel=1e-6)
    assert result.mass_yield == pytest.approx(488.44 / 342.30, rel=1e-3)
    assert result.carbon_yield == pytest.approx(1.5, rel=1e-6)


def test_mass_imbalanced_reaction_is_refused(core: cobra.Model) -> None:
    before = len(core.reactions)
    wrong = ReactionSpec("LHPT0000103", "PHAC", "PHB synthase", "3hbcoa_c -> phb_c")
    with pytest.raises(ValidationFailed) as err:
        pathways.add_pathway(core, [*PHB_STEPS[:2], wrong], "phb_c", PHB_METABOLITES)
    texts = [p.reason for p in err.value.problems]
    assert ("is not mass balanced: products minus substrates C -21, H -32, N -7, O -16, "
            "P -3, S -1") in texts
    assert "is not charge balanced: products minus substrates charge +4" in texts
    assert err.value.problems[0].record == "reaction PHAC (part LHPT0000103)"
    assert len(core.reactions) == before and "aacoa_c" not in core.metabolites


def test_unknown_metabolite_is_refused_with_suggestions(core: cobra.Model) -> None:
    step = ReactionSpec("LHPT0000101", "PHAA", "thiolase", "2 acoa_c -> aacoa_c + coa_c")
    with pytest.raises(ValidationFailed) as err:
        pathways.add_pathway(core, [step], "aacoa_c", PHB_METABOLITES[:1])
    problem = err.value.problems[0]
    assert problem.value == "acoa_c"
    assert problem.reason == "is not a metabolite of the model e_coli_core"
    assert "accoa_c" in problem.fix


def test_declarations_are_checked(core: cobra.Model) -> None:
    bad = [MetaboliteSpec("aacoa_x", "Acetoacetyl-CoA", "C25H36N7O18P3S", -4),
           MetaboliteSpec("coa_c", "CoA", "not a formula", -4)]
    step = ReactionSpec("", "PFK", "x", "2 accoa_c -> aacoa_x + coa_c", ec="2.3.1",
                        lower_bound=-5)
    with pytest.raises(ValidationFailed) as err:
        pathways.add_pathway(core, [step], "aacoa_x", bad)
    reasons = {p.reason for p in err.value.problems}
    assert "does not end in _<compartment> of the model" in reasons
    assert "is already in the model e_coli_core" in reasons
    assert "is not a chemical formula" in reasons
    assert "is not a part accession" in reasons
    assert "is already a reaction of the model e_coli_core" in reasons
    assert "is not an EC number" in reasons
    assert "let an irreversible reaction run backwards" in reasons


def test_blocked_pathway_names_what_cannot_be_made(core: cobra.Model) -> None:
    """A step that needs L-fucose, which e_coli_core cannot make, is blocked."""
    before = len(core.reactions), len(core.metabolites)
    step = ReactionSpec("LHPT0000301", "FUCX", "fucose oxidase", "fuc__L_c + nad_c -> "
                        "fucl_c + nadh_c + h_c")
    mets = [MetaboliteSpec("fuc__L_c", "L-Fucose", "C6H12O5", 0),
            MetaboliteSpec("fucl_c", "L-Fucono-1,5-lactone", "C6H10O5", 0)]
    with pytest.raises(ValidationFailed) as err:
        pathways.add_pathway(core, [step], "fucl_c", mets)
    assert err.value.message == "the pathway cannot make fucl_c in e_coli_core"
    problem = err.value.problems[0]
    assert problem.record == "reaction FUCX"
    assert problem.reason == "is blocked: the model cannot make fuc__L_c"
    assert (len(core.reactions), len(core.metabolites)) == before
    assert "DM_fucl_c" not in core.reactions


def test_suggest_enzymes_ranks_candidates() -> None:
    bank: list[dict[str, Any]] = [
        {"accession": "LHPT0000009", "ec": "2.4.1.69", "family": "GT11",
         "organism": "Helicobacter pylori"},
        {"accession": "LHPT0000003", "ec_numbers": ["2.4.1.344"], "family": "GT11",
         "organism": "Escherichia coli"},
        {"accession": "LHPT0000001", "ec": ["2.4.1.69"], "families": ["GT11"],
         "organism": "Escherichia coli"},
        {"accession": "LHPT0000002", "ec": "3.2.1.23", "family": "GH2"},
        {"ec": "2.4.1.69"},
    ]
    ranked = pathways.suggest_enzymes("EC 2.4.1.69", bank, organism="Escherichia coli")
    assert [m.accession for m in ranked] == ["LHPT0000001", "LHPT0000009", "LHPT0000003"]
    assert ranked[0].score == pytest.approx(1.05)
    assert ranked[2].reason == ("EC 2.4.1.344 shares the sub-subclass 2.4.1.-; "
                                "from Escherichia coli")
    assert [m.accession for m in pathways.suggest_enzymes("2.4.1.-", bank)] == [
        "LHPT0000001", "LHPT0000003", "LHPT0000009"]
    assert [m.accession for m in pathways.suggest_enzymes("gh2", bank)] == ["LHPT0000002"]
    with pytest.raises(UsageError):
        pathways.suggest_enzymes(" ", bank)
