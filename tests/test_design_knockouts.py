"""Growth-coupled knockout designs on e_coli_core, anaerobic glucose."""

from __future__ import annotations

import json

import cobra
import pytest
import straindesign

from lanhai.design import chassis, knockouts, pathways
from lanhai.errors import UsageError, ValidationFailed


@pytest.fixture(scope="module")
def core() -> cobra.Model:
    return chassis.load_bundled("textbook").model


@pytest.fixture(scope="module")
def anaerobic(core: cobra.Model) -> dict[str, float]:
    medium = dict(core.medium)
    medium["EX_o2_e"] = 0.0
    return medium


def test_published_succinate_knockouts_are_growth_coupled(
        core: cobra.Model, anaerobic: dict[str, float]) -> None:
    """adhE ldhA ackA-pta: the metabolic knockouts of the succinate strain SBS550MG
    (Sánchez, Bennett & San 2005, Metab Eng 7:229-239; it also lacks the regulator iclR),
    the fermentation routes OptKnock removes for succinate (Burgard, Pharkya & Maranas 2003,
    Biotechnol Bioeng 84:647-657). In
    e_coli_core adhE's acetaldehyde step is ACALD, ldhA is LDH_D, pta is PTAr. The wild type
    makes no succinate at its maximum growth; the mutant must make 9.83 mmol/gDW/h while
    growing at 0.0209 /h."""
    wild = knockouts.evaluate(core, [], "EX_succ_e", medium=anaerobic)
    assert wild.growth == pytest.approx(0.2117, rel=1e-3)
    assert not wild.growth_coupled
    mutant = knockouts.evaluate(core, ["ACALD", "LDH_D", "PTAr"], "EX_succ_e",
                                medium=anaerobic)
    assert mutant.growth_coupled
    assert mutant.growth == pytest.approx(0.0209, rel=1e-2)
    assert mutant.product_min == pytest.approx(9.83, rel=1e-3)
    assert core.medium["EX_o2_e"] == 1000.0  # the model is left as it was


def test_optknock_finds_the_published_core_knockouts(
        core: cobra.Model, anaerobic: dict[str, float]) -> None:
    """OptKnock (StrainDesign, GLPK), succinate, at most 3 knockouts: the best designs
    remove adhE (ACALD) and ldhA (LDH_D, or the lactate exporter D_LACt2) with THD2, as the
    succinate designs in Burgard et al. 2003 remove the ethanol and lactate routes; every
    design is re-evaluated with FBA and the best are growth-coupled."""
    result = knockouts.strain_designs(core, "EX_succ_e", max_knockouts=3, time_limit=120,
                                      solver="glpk", medium=anaerobic, max_designs=5)
    assert result.solver == "glpk" and result.method == "optknock"
    assert not result.partial
    assert result.designs, result.reason
    best = result.designs[0]
    assert best.evaluation.growth_coupled and best.gene_evaluation.growth_coupled
    assert best.evaluation.product_min > 9.0
    sets = [set(d.reactions) for d in result.designs]
    assert {"ACALD", "LDH_D", "THD2"} in sets
    design = next(d for d in result.designs if set(d.reactions) == {"ACALD", "LDH_D", "THD2"})
    assert {"b0351", "b1241", "b2133"} <= set(design.genes)  # mhpF, adhE, ldhA
    keys = [d.rank_key() for d in result.designs]
    assert keys == sorted(keys)
    assert json.loads(json.dumps(result.as_dict()))["designs"][0]["reactions"] == list(
        best.reactions)


def test_scip_gives_the_same_best_design(core: cobra.Model, anaerobic: dict[str, float]
                                         ) -> None:
    result = knockouts.strain_designs(core, "EX_succ_e", max_knockouts=2, time_limit=120,
                                      solver="scip", medium=anaerobic, max_designs=2)
    glpk = knockouts.strain_designs(core, "EX_succ_e", max_knockouts=2, time_limit=120,
                                    solver="glpk", medium=anaerobic, max_designs=2)
    assert result.solver == "scip"
    assert result.designs[0].evaluation.product_min == pytest.approx(
        glpk.designs[0].evaluation.product_min, rel=1e-6)


def test_budget_exhausted_is_partial(core: cobra.Model, anaerobic: dict[str, float]) -> None:
    result = knockouts.strain_designs(core, "EX_succ_e", max_knockouts=3, time_limit=0.05,
                                      solver="glpk", medium=anaerobic, max_designs=50)
    assert result.partial
    assert result.reason.startswith("the time budget of 0.05 s ran out")


def test_a_failing_milp_falls_back_to_the_fba_search(
        core: cobra.Model, anaerobic: dict[str, float], monkeypatch: pytest.MonkeyPatch
) -> None:
    def stall(*args: object, **kwargs: object) -> None:
        raise RuntimeError("numerical troubles")

    monkeypatch.setattr(straindesign, "compute_strain_designs", stall)
    failed = knockouts.strain_designs(core, "EX_succ_e", max_knockouts=2, solver="glpk",
                                      medium=anaerobic)
    assert failed.partial and failed.designs == []
    assert failed.reason == "the glpk solver failed: numerical troubles"
    rescued = knockouts.design(core, "EX_succ_e", max_knockouts=2, time_limit=10,
                               solver="glpk", medium=anaerobic, search_time=60)
    assert rescued.method == "optknock+search" and rescued.designs
    assert rescued.reason.startswith("the glpk solver failed: numerical troubles; FBA search")
    assert rescued.designs[0].evaluation.growth_coupled
    assert rescued.designs[0].reactions == ("ACALD", "PYK")  # 9.10 mmol/gDW/h at 0.110 /h


def test_fba_search_finds_lactate_designs(core: cobra.Model, anaerobic: dict[str, float]
                                          ) -> None:
    """D-lactate, at most 2 knockouts, FBA only: adhE + pta (ACALD, PTAr) is the double
    knockout at the core of the OptKnock lactate designs built and evolved by Fong et al.
    2005 (Biotechnol Bioeng 91:643-648);
    it must be among the growth-coupled designs found, with 17.89 mmol/gDW/h at 0.137 /h."""
    result = knockouts.search_knockouts(core, "EX_lac__D_e", max_knockouts=2, time_limit=120,
                                        medium=anaerobic, max_designs=20)
    assert not result.partial and result.method == "search"
    assert all(d.evaluation.growth_coupled for d in result.designs)
    found = {d.reactions: d for d in result.designs}
    assert ("ACALD", "PTAr") in found
    assert found[("ACALD", "PTAr")].evaluation.product_min == pytest.approx(17.89, rel=1e-3)


def test_mcs_and_optcouple(core: cobra.Model, anaerobic: dict[str, float]) -> None:
    cut = knockouts.strain_designs(core, "EX_succ_e", method="mcs", carbon_source="EX_glc__D_e",
                                   min_yield=0.5, max_knockouts=4, time_limit=120,
                                   solver="glpk", medium=anaerobic, max_designs=3)
    assert cut.designs and all(d.evaluation.product_min >= 0.5 * 10 - 1e-6
                               for d in cut.designs)
    couple = knockouts.strain_designs(core, "EX_succ_e", method="optcouple", max_knockouts=2,
                                      time_limit=120, solver="glpk", medium=anaerobic,
                                      max_designs=2)
    assert couple.designs and couple.designs[0].evaluation.growth_coupled
    with pytest.raises(UsageError, match="carbon source"):
        knockouts.strain_designs(core, "EX_succ_e", method="mcs", medium=anaerobic)


def test_genes_to_delete(core: cobra.Model) -> None:
    genes, side, no_gene = knockouts.genes_to_delete(core, ["ACALD", "PFL"])
    # ACALD: b0351 or b1241; PFL: four alternatives, all but one holding b0902
    assert genes == ("b0351", "b0902", "b1241", "b3951")
    assert "ALCD2x" not in side  # b1241 alone leaves ALCD2x its other genes
    assert no_gene == ()
    genes, side, _ = knockouts.genes_to_delete(core, ["ACALD", "ALCD2x"])
    assert set(genes) == {"b0351", "b0356", "b1241", "b1478"}
    assert knockouts.genes_to_delete(core, ["ATPM"])[2] == ("ATPM",)  # no GPR
    assert "H2Ot" not in knockouts.candidates_for(core)  # no gene can remove it
    assert "Biomass_Ecoli_core" not in knockouts.candidates_for(core)


def test_bad_requests(core: cobra.Model, anaerobic: dict[str, float]) -> None:
    with pytest.raises(UsageError):
        knockouts.strain_designs(core, "EX_succ_e", max_knockouts=0)
    with pytest.raises(UsageError, match="not available"):
        knockouts.strain_designs(core, "EX_succ_e", solver="cplex")
    with pytest.raises(ValidationFailed) as err:
        knockouts.search_knockouts(core, "EX_sucx_e", medium=anaerobic)
    assert "EX_succ_e" in err.value.problems[0].fix
    with pytest.raises(ValidationFailed, match="not reactions"):
        knockouts.search_knockouts(core, "EX_succ_e", candidates=["NOPE"])


def test_knock_ins_of_an_added_pathway() -> None:
    """OptKnock with the PHB pathway's three steps as knock-in candidates: each design keeps
    them, and the FBA check exposes what OptKnock promises but does not guarantee (PHB at
    most 8.73, at least 0 at the mutant's maximum growth, aerobic)."""
    from tests.test_design_pathways import PHB_METABOLITES, PHB_STEPS

    model = chassis.load_bundled("textbook").model
    pathways.add_pathway(model, PHB_STEPS, "phb_c", PHB_METABOLITES)
    result = knockouts.strain_designs(model, "DM_phb_c", knock_ins=["PHAA", "PHAB", "PHAC"],
                                      max_knockouts=6, time_limit=120, solver="glpk",
                                      max_designs=1)
    assert result.designs
    best = result.designs[0]
    assert best.knock_ins == ("PHAA", "PHAB", "PHAC") and best.interventions == 6
    assert not {"PHAA", "PHAB", "PHAC"} & set(best.reactions)
    assert best.evaluation.product_max > 1.0
    assert best.evaluation.product_min == pytest.approx(0.0, abs=1e-6)
    assert not best.evaluation.growth_coupled


def test_a_tighter_big_m_keeps_the_core_optimum(core: cobra.Model, anaerobic: dict[str, float]
                                                ) -> None:
    tight = knockouts.strain_designs(core, "EX_succ_e", max_knockouts=3, time_limit=120,
                                     solver="glpk", medium=anaerobic, max_designs=1, big_m=100)
    assert tight.designs[0].evaluation.product_min == pytest.approx(9.9107, rel=1e-4)
    assert tight.designs[0].evaluation.growth_coupled
