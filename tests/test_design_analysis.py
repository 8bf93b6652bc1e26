"""FBA, pFBA, FVA, envelopes, yields and deletions on e_coli_core."""

from __future__ import annotations

import json

import cobra
import pytest

from lanhai.design import analysis, chassis
from lanhai.design.common import Medium
from lanhai.errors import UsageError, ValidationFailed


@pytest.fixture(scope="module")
def core() -> cobra.Model:
    return chassis.load_bundled("textbook").model


def test_fba_and_pfba(core: cobra.Model) -> None:
    result = analysis.fba(core)
    assert result.objective_value == pytest.approx(0.8739215, rel=1e-6)
    assert result.objective == "1 Biomass_Ecoli_core"
    body = result.as_dict(nonzero=True)
    assert list(body["fluxes"]) == sorted(body["fluxes"])
    assert body["fluxes"]["EX_glc__D_e"] == pytest.approx(-10.0)
    assert body["provenance"]["cobra"] == cobra.__version__
    slim = analysis.parsimonious(core)
    assert slim.objective_value == pytest.approx(result.objective_value, rel=1e-6)
    assert slim.total_flux is not None
    assert slim.total_flux == pytest.approx(518.42, rel=1e-3)  # cobrapy docs: 518.4221


def test_fva_fraction_of_optimum(core: cobra.Model) -> None:
    full = analysis.fva(core, reactions=["PFK", "EX_ac_e"], fraction_of_optimum=1.0)
    loose = analysis.fva(core, reactions=["PFK", "EX_ac_e"], fraction_of_optimum=0.9)
    assert full.ranges["EX_ac_e"] == pytest.approx((0.0, 0.0), abs=1e-6)
    low, high = loose.ranges["EX_ac_e"]
    assert low == pytest.approx(0.0, abs=1e-6) and high == pytest.approx(3.8136, rel=1e-3)
    with pytest.raises(UsageError):
        analysis.fva(core, fraction_of_optimum=1.5)


def test_envelope_points(core: cobra.Model) -> None:
    result = analysis.envelope(core, "EX_ac_e", carbon_source="EX_glc__D_e", points=5)
    growth = [p.growth for p in result.points]
    assert growth == sorted(growth) and len(growth) == 5
    assert result.points[0].product_max == pytest.approx(20.0)
    assert result.points[-1].growth == pytest.approx(0.8739, rel=1e-3)
    assert result.points[0].carbon_yield_max == pytest.approx(2 / 3)


def test_acetate_yield(core: cobra.Model) -> None:
    """Glucose -> 2 acetate + 2 CO2: 2 mol/mol, 4/6 C-mol/C-mol, 2 x 59.04 / 180.16 g/g."""
    result = analysis.max_yield(core, "EX_ac_e", "EX_glc__D_e")
    assert result.molar_yield == pytest.approx(2.0)
    assert result.carbon_yield == pytest.approx(2 / 3)
    assert result.mass_yield == pytest.approx(2 * 59.04402 / 180.15588, rel=1e-4)
    assert json.dumps(result.as_dict()) == json.dumps(
        analysis.max_yield(core, "ac_e", "EX_glc__D_e").as_dict())
    with pytest.raises(ValidationFailed, match="not taken up"):
        analysis.max_yield(core, "EX_ac_e", "EX_fru_e")


def test_infeasible_medium_is_named(core: cobra.Model) -> None:
    before = dict(core.medium)
    with pytest.raises(ValidationFailed) as err:
        analysis.fba(core, medium=Medium({"EX_o2_e": 10, "EX_nh4_e": 10}, "M9 without carbon"))
    assert "infeasible on M9 without carbon" in err.value.message
    assert "ATPM >= 8.39" in err.value.problems[0].fix
    assert core.medium == before


def test_unknown_medium_exchange(core: cobra.Model) -> None:
    with pytest.raises(ValidationFailed) as err:
        analysis.fba(core, medium={"EX_glc_e": 10})
    assert "EX_glc__D_e" in err.value.problems[0].fix
    with pytest.raises(ValidationFailed, match="cannot be set"):
        analysis.fba(core, medium={"EX_glc__D_e": -1})


def test_anaerobic_medium_growth(core: cobra.Model) -> None:
    medium = dict(core.medium)
    medium["EX_o2_e"] = 0.0
    assert analysis.fba(core, medium=medium).objective_value == pytest.approx(0.2117, rel=1e-3)


def test_single_and_double_deletions(core: cobra.Model) -> None:
    genes = analysis.single_deletions(core, "gene")
    assert len(genes.deletions) == len(core.genes)
    lethal = genes.lethal()
    assert ("b1779",) in lethal  # gapA: GAPD has no other gene
    assert ("b0351",) not in lethal  # mhpF: ACALD also has adhE
    pairs = analysis.double_deletions(core, ["b0351", "b1241"], "gene")
    assert [d.ids for d in pairs.deletions] == [("b0351", "b1241")]
    rxns = analysis.single_deletions(core, "reaction", ids=["PGK", "ACALD"])
    assert {d.ids[0]: round(d.ratio or 0, 3) for d in rxns.deletions} == {
        "ACALD": 1.0, "PGK": 0.0}
    with pytest.raises(ValidationFailed, match="not in the model"):
        analysis.single_deletions(core, "gene", ids=["b9999"])
