"""Programme monitoring as a programme office uses it: every target of the plan shipped as
an indicator, each computed indicator counted on a test bank and compared with a hand count,
reported updates submitted by a reporting unit with evidence and approved or returned by
the office, quarters closed and their report byte-identical after later edits, the status
from the projected trend, and bad input refused with nothing written."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine

from lanhai.bank import Bank
from lanhai.errors import Conflict, Forbidden, NotFound, UsageError, ValidationFailed
from lanhai.programme.indicators import Target, load_programme
from lanhai.programme.periods import Quarter, parse_quarter, quarter_of
from lanhai.programme.progress import assess
from lanhai.services.access import ANONYMOUS, Actor
from lanhai.store.dashboard import programme_counts
from tests.support import ADMIN, CURATOR, SAMPLE, ZOBELLIA, bank_on
from tests.support.data_files import PART
from tests.support.search import ASSEMBLY

READER = Actor("rui", "reader")


# --- the shipped targets ---------------------------------------------------------------------

#: every target the plan names, with what the shipped file must say
PLAN = {
    "key_technologies": 30, "international_results": 5, "innovation_platforms": 5,
    "flagship_projects": 10, "leading_enterprises": 30, "top_scientist_teams": 2,
    "synbio_alliance": True, "industry_fund": True,
    "metagenomic_entries": 100000, "gene_bank_samples": 100000, "leading_synbio_teams": 2,
    "base_international_results": 5,
    "strains": 40000, "marine_strains": 20000, "patent_deposit_strains": 100,
    "screening_devices": 2, "foundry_platforms": (1, 2), "purification_platforms": (1, 2),
    "pilot_platforms": (2, 3),
    "medicinal_bioresource_centre": True, "plant_medicine_centre": True,
    "ai_screening_platform": True, "clinical_trial_approvals": 5,
    "pharma_key_technologies": (3, 5), "pharma_industrialisation": 3,
    "rd_institutions": (2, 3), "pharma_enterprises": 8,
    "carbohydrate_compounds": 800, "cosmetics_approvals": 5, "food_key_technologies": 3,
    "food_industrialisation": 3, "food_enterprises": 10,
    "materials_key_technologies": (3, 5), "materials_flagship_products": 5,
    "materials_enterprises": 5,
    "degrader_strains": 3000, "recycling_parts": 100, "fishery_germplasm_bank": True,
    "agriculture_key_technologies": 5, "pesticide_registrations": 5, "new_varieties": 5,
    "agriculture_platforms": (1, 2), "agriculture_flagship_products": 5,
    "agriculture_enterprises": 8,
    "brokers_trained": None, "results_releases": None, "deals_signed": None,
}


def test_every_target_of_the_plan_is_shipped_with_how_it_is_counted() -> None:
    programme = load_programme()
    assert programme.year == 2027 and programme.start == "2025-Q1"
    found = {i.key: i for i in programme.indicators}
    assert set(found) == set(PLAN)
    for key, target in PLAN.items():
        item = found[key]
        if target is True:
            assert item.target.milestone, key
        elif target is None:
            assert item.target.tracked_only, key
        elif isinstance(target, tuple):
            assert (item.target.low, item.target.high) == target, key
        else:
            assert (item.target.low, item.target.high) == (target, None), key
        assert item.how() and item.how(zh=True) and item.responsible and item.zh, key
    assert found["recycling_parts"].target.above  # "more than 100"
    assert found["plant_medicine_centre"].method == "reported"
    assert {t.key for t in programme.tasks} == {
        "overall", "base", "platform", "pharma", "food_health", "materials_energy",
        "agriculture_environment", "market"}
    assert {i.task for i in programme.indicators} == {t.key for t in programme.tasks}


def test_a_bad_indicators_file_names_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "indicators.toml"
    path.write_text('year = 2027\n[[task]]\nkey = "overall"\n'
                    '[[indicator]]\nkey = "pilots"\ntask = "overall"\nen = "Pilots"\n'
                    'target = [3, 2]\n'
                    '[[indicator]]\nkey = "Bad Key"\ntask = "nowhere"\nen = "x"\n'
                    '[indicator.count]\nsource = "strain"\nwhere = ["colour=blue"]\n',
                    encoding="utf-8")
    with pytest.raises(ValidationFailed) as err:
        load_programme(path)
    reasons = [p.reason for p in err.value.problems]
    assert any("range 3–2 has its minimum above its maximum" in r for r in reasons)
    assert any("'Bad Key' is not an indicator key" in r for r in reasons)
    assert any("'nowhere' is not a task" in r for r in reasons)
    assert any("names 'colour', which strain records do not have" in r for r in reasons)
    fixes = [p.fix for p in err.value.problems]
    assert "write the smaller number first: [2, 3]" in fixes


# --- status -----------------------------------------------------------------------------------

def _quarters(values: list[float | None], first: str = "2025-Q1"
              ) -> list[tuple[dt.date, float | None]]:
    quarter = parse_quarter(first)
    out = []
    for value in values:
        out.append((quarter.end, value))
        quarter = quarter.next()
    return out


END = dt.date(2027, 12, 31)
BASE = (dt.date(2024, 12, 31), 0.0)


def test_status_from_the_trend_projected_to_the_target_year() -> None:
    thirty = Target(low=30)
    as_of = dt.date(2026, 1, 15)
    # 3 a quarter for 4 quarters: the line reaches 36 by the end of 2027
    on = assess(thirty, END, BASE, _quarters([3, 6, 9, 12]), as_of)
    assert on.status == "on_track" and on.projected is not None and 34 < on.projected < 38
    slow = assess(thirty, END, BASE, _quarters([2, 4, 6, 8]), as_of)
    assert slow.status == "needs_attention", slow  # about 24 of 30
    stalled = assess(thirty, END, BASE, _quarters([1, 1, 1, 1]), as_of)
    assert stalled.status == "off_track"
    assert assess(thirty, END, BASE, _quarters([10, 20, 31]), as_of).status == "achieved"
    late = assess(thirty, END, BASE, _quarters([29] * 12), dt.date(2028, 2, 1))
    assert late.status == "off_track"
    rng = Target(low=2, high=3)
    assert assess(rng, END, None, _quarters([0, 2]), as_of).status == "achieved"
    more = Target(low=100, above=True)
    assert assess(more, END, None, _quarters([100]), as_of).status != "achieved"
    assert assess(more, END, None, _quarters([101]), as_of).status == "achieved"
    yes = Target(milestone=True)
    assert assess(yes, END, None, _quarters([0, 0]), as_of).status == "needs_attention"
    assert assess(yes, END, None, _quarters([0, 1]), as_of).status == "achieved"
    assert assess(Target(), END, None, _quarters([4]), as_of).status == "tracked"
    assert assess(thirty, END, BASE, _quarters([None, None]), as_of).status == "no_data"


def test_quarters() -> None:
    q = parse_quarter("2026q3")
    assert (q.key, q.start, q.end) == ("2026-Q3", dt.date(2026, 7, 1), dt.date(2026, 9, 30))
    assert quarter_of(dt.date(2026, 12, 31)) == Quarter(2026, 4)
    assert Quarter(2026, 4).next() == Quarter(2027, 1)
    with pytest.raises(UsageError, match="write YEAR-Qn"):
        parse_quarter("2026-Q5")


# --- a test bank with a hand count --------------------------------------------------------------

def _org(bank: Bank, **fields: Any) -> str:
    return bank.catalog.create(ADMIN, "organisation", fields).accession


def _made(bank: Bank, kind: str, **fields: Any) -> str:
    return bank.catalog.create(ADMIN, kind, fields).accession


@pytest.fixture
def filled(engine: Engine, tmp_path: Path) -> dict[str, Any]:
    """A bank holding a little of everything the plan counts (see the hand count below)."""
    bank = bank_on(engine, tmp_path)
    acc: dict[str, Any] = {"bank": bank}
    acc["pharma_co"] = _org(bank, name_zh="青岛某生物医药公司", org_type="enterprise",
                            sector="pharma", qualifications="gazelle 2024", district="370212")
    acc["food_co"] = _org(bank, name_zh="青岛某食品公司", org_type="enterprise",
                          sector="food_health",
                          qualifications="little_giant 2023; high_tech 2022",
                          district="370211")
    _org(bank, name_zh="青岛某材料公司", org_type="enterprise", sector="materials_energy",
         qualifications="high_tech 2022")
    _org(bank, name_zh="青岛某农业公司", org_type="enterprise",
         sector="agriculture_environment")
    acc["university"] = _org(bank, name_zh="中国海洋大学", org_type="university")
    _org(bank, name_zh="青岛合成生物产业联盟", org_type="alliance")
    _org(bank, name_zh="已停用企业", org_type="enterprise", sector="pharma",
         qualifications="tech_leading 2025", record_status="suppressed",
         status_reason="duplicate of another record")
    for title, kind, appraisal, day, task, extra in (
            ("A1", "key_technology", "internationally_leading", "2025-03-10", "pharma", {}),
            ("A2", "key_technology", "domestically_leading", "2025-08-01", "food_health", {}),
            ("A3", "key_technology", "internationally_advanced", "2024-06-01", "base", {}),
            ("A4", "result", "internationally_advanced", "2025-11-20", "base", {}),
            ("A5", "key_technology", None, "2026-02-01", "materials_energy", {}),
            ("A6", "key_technology", None, "2025-05-01", "agriculture_environment",
             {"restricted": "yes"})):
        fields = {"title": title, "achievement_type": kind, "task": task, **extra,
                  "organisation": acc["pharma_co"]}
        if appraisal:
            fields.update(appraisal=appraisal, appraised=day, appraised_by="山东省科学技术厅")
        else:
            fields["appraised"] = day
        acc[title] = _made(bank, "achievement", **fields)
    for name, kind, day, extra in (
            ("P1", "key_laboratory", "2025-06-01", {"task": "agriculture_environment"}),
            ("P2", "foundry", "2025-09-01", {}),
            ("P3", "pilot_scale", "2023-01-01", {}),
            ("P4", "pilot_scale", "2025-10-10", {}),
            ("P5", "screening_device", "2026-01-05", {}),
            ("P6", "bioresource_centre", "2025-01-20",
             {"level": "national", "sector": "agriculture_environment"}),
            ("P7", "bioresource_centre", "2025-12-01", {"sector": "pharma"}),
            ("P8", "ai_screening", "2026-03-01", {}),
            ("P9", "rd_institution", "2025-04-01", {"task": "pharma"}),
            ("P10", "innovation_centre", "2024-05-01", {})):
        _made(bank, "platform", name=name, platform_type=kind, recognised=day,
              host=acc["university"], **extra)
    for name, kind, task, day in (("J1", "flagship_industrialisation", "pharma", "2025-02-01"),
                                  ("J2", "industrialisation", "food_health", "2025-07-01"),
                                  ("J3", "pilot", "pharma", "2025-07-01")):
        _made(bank, "project", name=name, project_type=kind, task=task, started=day)
    for name, kind in (("T1", "top_scientist_team"), ("T2", "leading_synbio_team"),
                       ("T3", "leading_synbio_team")):
        _made(bank, "team", name=name, team_type=kind)
    _made(bank, "fund", name="F1", fund_type="industry_fund", established="2025-06-30")
    _made(bank, "fund", name="F2", fund_type="venture_fund")
    _made(bank, "product", name="R1", product_type="flagship_product", task="materials_energy")
    _made(bank, "product", name="R2", product_type="flagship_product",
          task="agriculture_environment")
    _made(bank, "product", name="R3", product_type="drug", task="pharma")
    for kind, number, day in (("drug_clinical_trial", "CXSL2500123", "2025-04-02"),
                              ("drug_clinical_trial", "CXHL2300045", "2024-03-01"),
                              ("cosmetics_filing", "鲁G妆网备字2025001234", "2025-05-06"),
                              ("cosmetics_registration", "国妆特字G20250123", "2025-09-09"),
                              ("pesticide_registration", "PD20250012", "2025-10-01"),
                              ("aquatic_variety", "GS-01-003-2025", "2025-12-12"),
                              ("crop_variety", "国审稻20250001", "2026-01-10")):
        _made(bank, "approval", approval_type=kind, number=number, granted=day,
              product_name=f"{kind} product", holder=acc["pharma_co"])
    s1 = _made(bank, "sample", **SAMPLE)
    _made(bank, "sample", **{**SAMPLE, "samp_name": "hidden", "restricted": "yes"})
    _made(bank, "strain", **{**ZOBELLIA, "marine": "yes"})
    s2 = _made(bank, "strain", **{**ZOBELLIA, "strain_designation": "B",
                                  "collection_numbers": "DSM 1"})
    bank.catalog.link(ADMIN, s1, "isolated_from", s2)
    _made(bank, "strain", **{**ZOBELLIA, "strain_designation": "C",
                             "collection_numbers": "DSM 2", "degrades": "PET"})
    _made(bank, "strain", **{**ZOBELLIA, "strain_designation": "D",
                             "collection_numbers": "DSM 3"})
    deposit = {"depositary": "CGMCC", "depositor": "Lanhai test lab",
               "rule_6_1_statement": "pure culture"}
    _made(bank, "deposit", deposit_accession="CGMCC No. 1", deposit_date="2025-03-01",
          **deposit)
    _made(bank, "deposit", deposit_accession="CGMCC No. 2", deposit_date="2020-02-29",
          **deposit)
    _made(bank, "assembly", **{**ASSEMBLY, "assembly_name": "m1",
                               "assembly_type": "metagenome"})
    _made(bank, "assembly", **{**ASSEMBLY, "assembly_name": "m2", "assembly_type": "MAG",
                               "compl_score": "95", "contam_score": "1",
                               "assembly_qual": "not provided",
                               "binning_software": "MetaBAT 2"})
    genome = _made(bank, "assembly", **{**ASSEMBLY, "assembly_name": "g1"})
    _made(bank, "compound", compound_name="neoagarobiose", compound_class="oligosaccharide",
          smiles="OCC1OC(O)C(O)C(O)C1O", source_organism="Zobellia galactanivorans",
          source_ids="LHTEST-GLYCAN-1")
    _made(bank, "compound", compound_name="ectoine", smiles="CC1=NCCC(N1)C(=O)O",
          source_organism="Halomonas elongata", source_ids="LHTEST-ECTOINE")
    mined = _made(bank, "part", **PART)
    bank.catalog.link(ADMIN, genome, "mined_from", mined)
    _made(bank, "part", **{**PART, "display_id": "BBa_J23100"})
    return acc


#: the hand count of every computed indicator on the bank above, as the programme office
#: sees it (restricted records included; suppressed ones never)
HAND_COUNT = {
    "key_technologies": 4,            # A1 A2 A5 A6 (A3 before the baseline; A4 a result)
    "international_results": 2,       # A1 A4
    "innovation_platforms": 1,        # P1 (P10 before the baseline)
    "flagship_projects": 1,           # J1
    "leading_enterprises": 2,         # gazelle, little giant (high-tech alone is not one)
    "top_scientist_teams": 1, "synbio_alliance": 1, "industry_fund": 1,
    "metagenomic_entries": 2, "gene_bank_samples": 2, "leading_synbio_teams": 2,
    "base_international_results": 1,  # A4
    "strains": 4, "marine_strains": 2,  # flagged marine, or isolated from a sample
    "patent_deposit_strains": 1,      # deposited after the baseline
    "screening_devices": 1, "foundry_platforms": 1, "purification_platforms": 0,
    "pilot_platforms": 2,
    "medicinal_bioresource_centre": 1, "ai_screening_platform": 1,
    "clinical_trial_approvals": 1,    # the 2024 approval is before the baseline
    "pharma_key_technologies": 1, "pharma_industrialisation": 1, "rd_institutions": 1,
    "pharma_enterprises": 1,          # the suppressed one does not count
    "carbohydrate_compounds": 1, "cosmetics_approvals": 2, "food_key_technologies": 1,
    "food_industrialisation": 1, "food_enterprises": 1,
    "materials_key_technologies": 1, "materials_flagship_products": 1,
    "materials_enterprises": 1,       # high-tech qualified
    "degrader_strains": 1, "recycling_parts": 1, "fishery_germplasm_bank": 1,
    "agriculture_key_technologies": 1,  # A6, restricted
    "pesticide_registrations": 1, "new_varieties": 2, "agriculture_platforms": 1,
    "agriculture_flagship_products": 1, "agriculture_enterprises": 0,
    "brokers_trained": 0, "results_releases": 0, "deals_signed": 0,
}
#: what a reporting unit's member sees instead (restricted records left out)
MEMBER_DIFFERS = {"key_technologies": 3, "agriculture_key_technologies": 0,
                  "gene_bank_samples": 1, "patent_deposit_strains": 0}


def _values(figures: dict[str, Any]) -> dict[str, float | None]:
    return {row["key"]: row["value"] for row in figures["indicators"]}


def test_every_computed_indicator_matches_the_hand_count(filled: dict[str, Any]) -> None:
    bank: Bank = filled["bank"]
    values = _values(bank.programme.live(ADMIN))
    computed = {k: v for k, v in values.items() if k != "plant_medicine_centre"}
    assert computed == {k: float(v) for k, v in HAND_COUNT.items()}
    assert values["plant_medicine_centre"] is None  # reported, nothing approved yet
    member = Actor("mei", "member", organisation=filled["pharma_co"])
    seen = _values(bank.programme.live(member))
    assert {k: seen[k] for k in MEMBER_DIFFERS} == {k: float(v)
                                                    for k, v in MEMBER_DIFFERS.items()}
    # the dashboard's own counts agree where both count the same thing
    with bank.db.read() as conn:
        counts = programme_counts(conn, True)
    assert (counts["marine_strains"], counts["metagenomic_entries"],
            counts["carbohydrate_compounds"], counts["plastic_degrading_strains"],
            counts["mined_parts"]) == (2, 2, 1, 1, 1)


def test_values_are_dated_by_the_fact_and_traced_to_their_records(
        filled: dict[str, Any]) -> None:
    bank: Bank = filled["bank"]
    row = next(r for r in bank.programme.live(ADMIN)["indicators"]
               if r["key"] == "key_technologies")
    by_quarter = {p["period"]: p["value"] for p in row["series"]}
    assert (by_quarter["2025-Q1"], by_quarter["2025-Q2"], by_quarter["2025-Q3"],
            by_quarter["2025-Q4"], by_quarter["2026-Q1"]) == (1, 2, 3, 3, 4)
    behind = bank.programme.behind(ADMIN, "key_technologies")
    assert behind["records"] == sorted(filled[a] for a in ("A1", "A2", "A5", "A6"))
    member = Actor("mei", "member", organisation=filled["pharma_co"])
    assert bank.programme.behind(member, "key_technologies")["total"] == 3
    with pytest.raises(NotFound):
        bank.programme.behind(ANONYMOUS, "key_technologies")
    found = bank.programme.indicator(ADMIN, "leading_enterprises")
    assert found["live"]["breakdown"]["district"] == {"370211": 1, "370212": 1}
    assert found["live"]["breakdown"]["sector"] == {"food_health": 1, "pharma": 1}


# --- reported updates, closing and the report ------------------------------------------------

def test_a_reporting_unit_reports_and_the_office_approves_or_returns(
        filled: dict[str, Any]) -> None:
    bank: Bank = filled["bank"]
    service = bank.programme
    unit = Actor("mei", "member", organisation=filled["pharma_co"])
    other = Actor("bo", "member", organisation=filled["food_co"])
    link = [{"url": "https://www.qingdao.gov.cn/notice/1", "title": "founding notice"}]
    made = service.submit(unit, "plant_medicine_centre", period="2025-Q4", value=1,
                          evidence=link, note="set up in December")
    assert (made["status"], made["unit"], made["as_of"]) == ("submitted", filled["pharma_co"],
                                                             "2025-12-31")
    assert _values(service.live(ADMIN))["plant_medicine_centre"] is None  # not yet approved
    with pytest.raises(NotFound):
        service.get_update(other, made["id"])  # another unit never sees it
    with pytest.raises(Forbidden):
        service.review(unit, made["id"], "approve")  # units do not approve
    with pytest.raises(UsageError, match="say what to fix"):
        service.review(CURATOR, made["id"], "return")
    returned = service.review(CURATOR, made["id"], "return", "attach the founding notice")
    assert (returned["status"], returned["review_note"]) == ("returned",
                                                             "attach the founding notice")
    with pytest.raises(NotFound):
        service.change_update(other, made["id"], value=1)
    fixed = service.change_update(unit, made["id"], evidence=[*link, {
        "record": filled["university"], "title": "the host"}], version=returned["version"])
    assert fixed["status"] == "submitted" and len(fixed["evidence"]) == 2
    approved = service.review(CURATOR, made["id"], "approve")
    assert approved["status"] == "approved" and approved["reviewed_by"] == CURATOR.username
    row = next(r for r in service.live(ADMIN)["indicators"]
               if r["key"] == "plant_medicine_centre")
    assert (row["value"], row["status"], row["evidence"]) == (1, "achieved", 2)
    with pytest.raises(Conflict, match="approved"):
        service.change_update(unit, made["id"], value=0)
    assert [u["id"] for u in service.updates(unit)] == [made["id"]]
    assert service.updates(other) == [] and service.updates(READER) == []


def test_bad_updates_are_refused_with_what_to_fix(filled: dict[str, Any]) -> None:
    service = filled["bank"].programme
    unit = Actor("mei", "member", organisation=filled["pharma_co"])
    link = [{"url": "https://example.org/n"}]
    with pytest.raises(UsageError, match="computed from the bank's records"):
        service.submit(unit, "strains", period="2025-Q4", value=5, evidence=link)
    with pytest.raises(ValidationFailed) as err:
        service.submit(unit, "plant_medicine_centre", period="2025-Q4", value=-1,
                       evidence=[{"url": "ftp:/x"}, {"record": "LHST0099999"}],
                       as_of="2026-01-02")
    reasons = " | ".join(p.reason for p in err.value.problems)
    assert "value -1 is not a number at or above zero" in reasons
    assert "as_of 2026-01-02 is outside 2025-Q4 (2025-10-01 to 2025-12-31)" in reasons
    assert "'ftp:/x' is not a web address" in reasons
    assert "LHST0099999 is not a record of this bank" in reasons
    with pytest.raises(ValidationFailed, match="not valid"):
        service.submit(unit, "plant_medicine_centre", period="2031-Q1", value=1,
                       evidence=link)
    with pytest.raises(ValidationFailed):
        service.submit(unit, "plant_medicine_centre", period="2025-Q4", value=1, evidence=[])
    with pytest.raises(Forbidden):
        service.submit(READER, "plant_medicine_centre", period="2025-Q4", value=1,
                       evidence=link)
    assert service.updates(ADMIN) == []  # nothing was written


def test_a_closed_quarter_is_frozen_and_its_report_byte_identical(
        filled: dict[str, Any]) -> None:
    bank: Bank = filled["bank"]
    service = bank.programme
    unit = Actor("mei", "member", organisation=filled["pharma_co"])
    pending = service.submit(unit, "plant_medicine_centre", period="2025-Q4", value=1,
                             evidence=[{"url": "https://example.org/notice"}])
    with pytest.raises(Conflict, match="waiting for review"):
        service.close(CURATOR, "2025-Q4")
    service.review(CURATOR, pending["id"], "approve")
    with pytest.raises(UsageError, match="once it has ended"):
        service.close(CURATOR, quarter_of(dt.date.today()).key)
    with pytest.raises(Forbidden):
        service.close(unit, "2025-Q4")
    closed = service.close(CURATOR, "2025-Q4")
    with pytest.raises(Conflict, match="closed already"):
        service.close(ADMIN, "2025-Q4")
    first = service.report_xlsx(ANONYMOUS, "2025-Q4")
    frozen = service.snapshot(ANONYMOUS, "2025-Q4")
    office = service.snapshot(CURATOR, "2025-Q4")
    assert (frozen["sha256"], office["sha256"]) == (closed["public_sha256"], closed["sha256"])
    # the published figures leave out the restricted A6, the office's count it
    assert (_values(office)["key_technologies"], _values(frozen)["key_technologies"]) == (3, 2)
    assert _values(frozen)["plant_medicine_centre"] == 1
    office_book = service.report_xlsx(CURATOR, "2025-Q4")
    # later: new records, an admin's edit of the target, a new update for a later quarter
    _made(bank, "achievement", title="A7", achievement_type="key_technology",
          appraised="2025-10-15")
    service.edit(ADMIN, "key_technologies", {"target": 35}, "raised at the mid-term review")
    with pytest.raises(Conflict, match="2025-Q4 is closed"):
        service.submit(unit, "plant_medicine_centre", period="2025-Q4", value=0,
                       evidence=[{"url": "https://example.org/x"}])
    _made(bank, "approval", approval_type="drug_clinical_trial", granted="2025-11-02",
          product_name="late entry", holder=filled["pharma_co"])
    assert service.report_xlsx(ANONYMOUS, "2025-Q4") == first
    assert service.report_xlsx(CURATOR, "2025-Q4") == office_book != first
    assert service.snapshot(ANONYMOUS, "2025-Q4") == frozen
    assert _values(service.live(ADMIN))["key_technologies"] == 5  # the live figure moved
    behind = service.behind(ANONYMOUS, "key_technologies", "2025-Q4")
    assert (behind["total"], len(behind["records"])) == (2, 2)  # A6 is neither shown nor counted
    assert service.behind(CURATOR, "key_technologies", "2025-Q4")["total"] == 3
    # what the workbook holds
    book = load_workbook(io.BytesIO(first))
    assert book.sheetnames[0].startswith("Summary") and len(book.sheetnames) == 10
    overall = book[book.sheetnames[1]]
    rows = {r[0].value: [c.value for c in r] for r in overall.iter_rows(min_row=3)}
    key_row = rows["Key technologies broken through 突破关键核心技术"]
    assert key_row[3] == "≥ 30" and key_row[5] == 2 and key_row[8] == 2
    # the public sees published quarters only
    assert [p["period"] for p in service.periods(ANONYMOUS)] == ["2025-Q4"]
    with pytest.raises(NotFound):
        service.snapshot(ANONYMOUS, "2026-Q1")


def test_admins_edit_indicators_with_history(filled: dict[str, Any]) -> None:
    service = filled["bank"].programme
    with pytest.raises(ValidationFailed) as err:
        service.edit(ADMIN, "pilot_platforms", {"target": [3, 2]}, "typo")
    assert "minimum above its maximum" in err.value.problems[0].reason
    with pytest.raises(Forbidden):
        service.edit(CURATOR, "pilot_platforms", {"target": 4}, "more")
    with pytest.raises(UsageError, match="say why"):
        service.edit(ADMIN, "pilot_platforms", {"target": 4}, " ")
    changed = service.edit(ADMIN, "pilot_platforms", {"target": [2, 4]}, "widened")
    assert changed["target"]["text"] == "2–4" and changed["version"] == 1
    added = service.edit(ADMIN, "marine_parts", {
        "task": "agriculture_environment", "en": "Parts mined from marine strains",
        "zh": "海洋菌株挖掘元件", "target": 20,
        "count": {"source": "part", "where": ["linked:mined_from"]}}, "new indicator")
    assert added["method"] == "computed"
    assert _values(service.live(ADMIN))["marine_parts"] == 1
    history = service.history(ADMIN, "pilot_platforms")
    assert [(h["version"], h["definition"]["target"]) for h in history] == [
        (0, [2.0, 3.0]), (1, [2.0, 4.0])]
    assert history[1]["reason"] == "widened"


# --- through the API and the CLI ---------------------------------------------------------------

def test_the_api_serves_each_role_what_it_may_see(engine: Engine, tmp_path: Path) -> None:
    from lanhai.settings import Settings
    from tests.support import add_user, make_client

    with make_client(engine, Settings(data_dir=tmp_path)) as client:
        bank: Bank = client.app.state.bank  # type: ignore[attr-defined]
        org = bank.catalog.create(ADMIN, "organisation", {
            "name_zh": "中国海洋大学", "org_type": "university"}).accession
        office = add_user(engine, "office", "curator")
        unit = add_user(engine, "mei", "member", organisation=org)
        admin = add_user(engine, "root2", "admin")
        assert client.get("/api/programme").json()["indicators"] == []  # nothing published
        assert client.get("/api/programme/periods/2025-Q4").status_code == 404
        assert client.get("/api/programme/indicators").json()["year"] == 2027
        document = client.post("/api/programme/documents", headers=unit, files={
            "file": ("notice.pdf", b"%PDF-1.4 founding notice", "application/pdf")})
        assert document.status_code == 201, document.text
        kept = document.json()
        made = client.post("/api/programme/updates", headers=unit, json={
            "indicator": "plant_medicine_centre", "period": "2025-Q4", "value": 1,
            "evidence": [{"document": kept["document"], "sha256": kept["sha256"]}]})
        assert made.status_code == 201, made.text
        update = made.json()
        assert client.get(f"/api/programme/documents/{kept['sha256']}",
                          headers=office).content == b"%PDF-1.4 founding notice"
        assert client.post(f"/api/programme/updates/{update['id']}/review", headers=unit,
                           json={"decision": "approve"}).status_code == 403
        assert client.post(f"/api/programme/updates/{update['id']}/review", headers=office,
                           json={"decision": "approve"}).json()["status"] == "approved"
        assert client.put("/api/programme/indicators/strains", headers=office,
                          json={"changes": {"target": 1}, "reason": "x"}).status_code == 403
        bad = client.put("/api/programme/indicators/strains", headers=admin,
                         json={"changes": {"target": [5, 1]}, "reason": "x"})
        assert bad.status_code == 422 and "minimum above" in bad.text
        live = client.get("/api/programme", headers=unit).json()
        assert live["closed"] is False and len(live["indicators"]) == len(PLAN)
        closed = client.post("/api/programme/periods/2025-Q4/close", headers=office)
        assert closed.status_code == 200, closed.text
        public = client.get("/api/programme").json()
        assert public["closed"] is True and public["period"] == "2025-Q4"
        assert public["sha256"] == closed.json()["sha256"]
        xlsx = client.get("/api/programme/periods/2025-Q4/report.xlsx")
        assert xlsx.status_code == 200 and xlsx.content == client.get(
            "/api/programme/periods/2025-Q4/report.xlsx").content
        late = client.post("/api/programme/updates", headers=unit, json={
            "indicator": "plant_medicine_centre", "period": "2025-Q4", "value": 0,
            "evidence": [{"url": "https://example.org/x"}]})
        assert late.status_code == 409 and "is closed" in late.text
        for page in ("/programme", "/programme/report/2025-Q4",
                     "/programme/indicators/plant_medicine_centre", "/programme/updates"):
            answer = client.get(page)
            assert answer.status_code == 200, page
        assert "突破关键核心技术" in client.get("/programme/report/2025-Q4").text
        assert client.get("/programme/report/2026-Q1").status_code == 404


def test_the_cli_reports_approves_closes_and_writes_the_workbook(
        bank_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.support import run_json

    listed = run_json(capsys, ["indicators", "list"])
    assert len(listed["indicators"]) == len(PLAN)
    notice = tmp_path / "notice.pdf"
    notice.write_bytes(b"%PDF-1.4 notice")
    made = run_json(capsys, ["indicators", "submit", "plant_medicine_centre", "--period",
                             "2025-Q4", "--value", "1", "--evidence", str(notice),
                             "--evidence", "https://example.org/notice"])
    assert [sorted(e) for e in made["evidence"]] == [["document", "sha256", "title"],
                                                     ["title", "url"]]
    run_json(capsys, ["indicators", "approve", str(made["id"])])
    done = run_json(capsys, ["indicators", "close", "2025-Q4"])
    out = tmp_path / "report.xlsx"
    report = run_json(capsys, ["report", "2025-Q4", "--xlsx", str(out)])
    assert report["sha256"] == done["sha256"] and out.stat().st_size > 5000
    edited = run_json(capsys, ["indicators", "edit", "strains", "--set", "target=45000",
                               "--reason", "mid-term review"])
    assert edited["target"]["min"] == 45000
    bad = run_json(capsys, ["indicators", "edit", "strains", "--set", "target=[9,1]",
                            "--reason", "x"], code=1)
    assert "minimum above its maximum" in json.dumps(bad, ensure_ascii=False)


# --- the pages' forms -----------------------------------------------------------------------------

def _sign_in(client: Any, username: str, password: str) -> None:
    from tests.support.web import csrf_of

    client.cookies.clear()
    token = csrf_of(client.get("/signin").text)
    answer = client.post("/signin", data={"username": username, "password": password,
                                          "csrf": token, "next": "/programme"},
                         follow_redirects=False)
    assert answer.status_code == 303, answer.text[:300]


def test_the_pages_take_a_units_update_and_the_offices_review_and_close(
        engine: Engine) -> None:
    from lanhai.services.access import LOCAL_ADMIN
    from tests.support import create_user
    from tests.support.web import csrf_of, make_site

    sites = make_site(engine)
    site = next(sites)
    client = site.client
    org = site.bank.catalog.create(LOCAL_ADMIN, "organisation", {
        "name_zh": "中国科学院青岛生物能源与过程研究所", "org_type": "institute"}).accession
    create_user(engine, "mei", "member", password="a member password 1", organisation=org)
    create_user(engine, "office", "curator", password="an office password 1")
    _sign_in(client, "mei", "a member password 1")
    page = client.get("/programme/indicators/plant_medicine_centre")
    assert page.status_code == 200 and 'name="document" type="file"' in page.text
    csrf = csrf_of(page.text)
    form = {"csrf": csrf, "period": "2025-Q4", "value": "1",
            "url": "https://example.org/founding-notice"}
    missing = client.post("/programme/indicators/plant_medicine_centre/updates",
                          data={**form, "value": ""}, follow_redirects=False)
    assert missing.status_code == 400 and "give the value" in missing.text
    outside = client.post("/programme/indicators/plant_medicine_centre/updates",
                          data={**form, "as_of": "2026-02-01"}, follow_redirects=False)
    assert outside.status_code == 422 and "is outside 2025-Q4" in outside.text
    sent = client.post("/programme/indicators/plant_medicine_centre/updates", data=form,
                       files={"document": ("notice.pdf", b"%PDF-1.4 notice", "application/pdf")},
                       follow_redirects=False)
    assert sent.status_code == 303, sent.text[:300]
    shown = client.get("/programme/indicators/plant_medicine_centre").text
    assert "waiting for review" in shown
    [update] = site.bank.programme.updates(LOCAL_ADMIN)
    assert len(update["evidence"]) == 2 and update["unit"] == org
    # the office approves it and closes the quarter from the pages
    _sign_in(client, "office", "an office password 1")
    queue = client.get("/programme/updates?status=submitted")
    assert f'/programme/updates/{update["id"]}/review' in queue.text
    approved = client.post(f"/programme/updates/{update['id']}/review",
                           data={"csrf": csrf_of(queue.text), "decision": "approve"},
                           follow_redirects=False)
    assert approved.status_code == 303
    overview = client.get("/programme")
    assert "/programme/periods/2025-Q4/close" in overview.text
    closed = client.post("/programme/periods/2025-Q4/close",
                         data={"csrf": csrf_of(overview.text)}, follow_redirects=False)
    assert closed.status_code == 303 and closed.headers["location"] == \
        "/programme/report/2025-Q4"
    report = client.get("/programme/report/2025-Q4").text
    assert "已关账 Closed" in report and "植物分子医药创新中心" in report
    client.cookies.clear()
    public = client.get("/programme?lang=zh").text
    assert "已发布季度" in public and "2025-Q4" in public
    next(sites, None)
