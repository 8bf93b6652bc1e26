"""Matching offers and demands as a broker would use it: `lanhai market match` and the API,
across languages, explained, with the bank's evidence, and never showing what the caller
may not see."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from lanhai.bank import init_bank
from lanhai.cli.main import main
from lanhai.market.lexicon import Concept, Lexicon, lexicon
from lanhai.market.matching import Entry, MatchIndex, features
from lanhai.services.access import Actor
from lanhai.settings import Settings
from tests.support import make_client

CURATOR = Actor("ana", "curator")
OFFERS = "\n".join((
    "reference,title,summary,field,sector,trl,transfer_types,market_status,visibility",
    "ALY-1,PL7 alginate lyase for alginate oligosaccharides,"
    "An endolytic alginate lyase from a Zobellia strain that turns sodium alginate into "
    "oligosaccharides of DP 2-4,enzyme,food_health,6,licence,published,public",
    "AGA-1,GH16 beta-agarase for neoagaro-oligosaccharides,"
    "A beta-agarase that cuts agarose into neoagarotetraose,enzyme,food_health,7,"
    "licence,published,public",
    "PET-1,PET hydrolase for textile recycling,"
    "An engineered PETase that depolymerises PET fibres to terephthalic acid,enzyme,"
    "materials_energy,5,co-development,published,public",
    "SEC-1,Alginate lyase kept by invitation,alginate lyase for alginate oligosaccharides,"
    "enzyme,food_health,8,licence,published,invitation",
    "DRF-1,Alginate lyase not yet reviewed,alginate lyase for alginate oligosaccharides,"
    "enzyme,food_health,8,licence,draft,public", ""))
DEMANDS = "\n".join((
    "需求编号,需求名称,需求描述,技术领域,行业,最低成熟度,合作方式,状态",
    "D-1,褐藻胶寡糖制备用酶,我公司拟开发褐藻胶寡糖功能食品，寻求高活性褐藻胶裂解酶,"
    "酶制剂,大健康,7,许可,已发布", ""))


@pytest.fixture
def market_bank(bank_dir: Path, tmp_path: Path) -> Path:
    """The bank of ``bank_dir`` with the offers and the demand imported."""
    for name, text in (("offers.csv", OFFERS), ("需求.csv", DEMANDS)):
        (tmp_path / name).write_text(text, encoding="utf-8")
        kind = "offer" if name == "offers.csv" else "demand"
        assert main(["import", kind, str(tmp_path / name)]) == 0
    return bank_dir


def accessions(folder: Path) -> dict[str, str]:
    bank = init_bank(Settings(data_dir=folder))
    try:
        out = {}
        for kind in ("offer", "demand"):
            with bank.catalog.each(Actor("admin", "admin"), kind) as batches:
                for batch in batches:
                    out.update({r.fields["reference"]: r.accession for r in batch})
        return out
    finally:
        bank.close()


def test_a_chinese_demand_finds_the_english_offer_and_says_why(
        market_bank: Path, capsys: pytest.CaptureFixture[str]) -> None:
    acc = accessions(market_bank)
    capsys.readouterr()
    assert main(["market", "match", acc["D-1"], "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    ranked = [m["accession"] for m in result["matches"]]
    # the curator sees the invitation-only offer too; a draft is on nobody's market
    assert acc["DRF-1"] not in ranked
    assert ranked.index(acc["ALY-1"]) < ranked.index(acc["AGA-1"])
    best = next(m for m in result["matches"] if m["accession"] == acc["ALY-1"])
    said = {c["concept"]: c for c in best["shared_concepts"]}
    alginate = [c for c in said.values() if "alginate" in c["concept"]]
    assert alginate, best["shared_concepts"]
    assert any("褐藻胶" in "".join(c["query_says"]) for c in alginate)
    assert any("alginate" in " ".join(c["candidate_says"]) for c in alginate)
    trl = next(c for c in best["constraints"] if c["constraint"] == "trl")
    assert trl == {"constraint": "trl", "met": False, "wanted": ">= 7", "given": 6}
    assert {c["constraint"]: c["met"] for c in best["constraints"]}["sector"] is True
    assert best["score"] < best["similarity"]  # one condition missed
    assert acc["PET-1"] not in ranked[:2]

    assert main(["market", "match", acc["D-1"], "--top", "3"]) == 0
    text = capsys.readouterr().out
    assert acc["D-1"] in text and acc["ALY-1"] in text and "missed: trl" in text


def test_readers_never_see_hidden_offers_in_a_match(market_bank: Path) -> None:
    acc = accessions(market_bank)
    bank = init_bank(Settings(data_dir=market_bank))
    try:
        curator = bank.market.match(CURATOR, acc["D-1"], top=10)
        reader = bank.market.match(Actor("rui", "reader"), acc["D-1"], top=10)
    finally:
        bank.close()
    assert acc["SEC-1"] in [m["accession"] for m in curator["matches"]]
    seen = [m["accession"] for m in reader["matches"]]
    assert acc["SEC-1"] not in seen and acc["DRF-1"] not in seen
    assert reader["candidates"] == 3 and curator["candidates"] == 4


def test_offer_evidence_comes_from_the_bank(market_bank: Path) -> None:
    acc = accessions(market_bank)
    bank = init_bank(Settings(data_dir=market_bank))
    try:
        strain = bank.catalog.create(CURATOR, "strain", {
            "taxon_name": "Zobellia galactanivorans", "strain_designation": "DsijT",
            "collection_numbers": "DSM 12802", "organism_type": "Bacteria",
            "restrictions_on_use": "1", "nagoya_compliance": "1", "risk_group": "1",
            "risk_group_scheme": "WHO", "recommended_temperature": "25",
            "recommended_medium": "Marine agar 2216", "form_of_supply": "Lyo",
            "geographic_origin": "France: Roscoff", "marine": "yes"}).accession
        bank.catalog.link(CURATOR, strain, "evidence_for", acc["ALY-1"])
        result = bank.market.match(CURATOR, acc["D-1"], top=5)
        offer_side = bank.market.match(CURATOR, acc["ALY-1"], top=5)
    finally:
        bank.close()
    best = next(m for m in result["matches"] if m["accession"] == acc["ALY-1"])
    assert [e["accession"] for e in best["evidence"]] == [strain]
    assert best["evidence"][0]["title"] == "Strain"
    # the other way round: the demands for an offer, with the offer's own evidence
    assert offer_side["candidates_kind"] == "demand"
    assert offer_side["matches"][0]["accession"] == acc["D-1"]
    assert [e["accession"] for e in offer_side["matches"][0]["evidence"]] == [strain]


def test_match_answers_through_the_api(sqlite_engine: Engine) -> None:
    client = make_client(sqlite_engine)
    bank = client.app.state.bank  # type: ignore[attr-defined]
    base = {"field": "enzyme", "sector": "food_health", "market_status": "published"}
    offer = bank.catalog.create(CURATOR, "offer", {
        **base, "reference": "O", "title": "Alginate lyase", "trl": "6",
        "transfer_types": "licence"}).accession
    demand = bank.catalog.create(CURATOR, "demand", {
        **base, "reference": "D", "title_zh": "褐藻胶裂解酶"}).accession
    answer = client.get(f"/api/market/match/{demand}?top=3")
    assert answer.status_code == 200, answer.text
    assert [m["accession"] for m in answer.json()["matches"]] == [offer]
    wrong = client.get("/api/market/match/LHSM0000001")
    assert wrong.status_code == 400
    assert "only offers (LHOF…) and demands (LHDM…)" in wrong.json()["error"]["message"]
    assert client.get(f"/api/market/match/{demand}?top=0").status_code == 422


# --- the lexicon ------------------------------------------------------------------------------

@pytest.mark.parametrize("chinese, english", [
    ("褐藻胶寡糖", "alginate oligosaccharides"),
    ("褐藻胶裂解酶", "alginate lyases"),
    ("琼胶酶", "agarase"),
    ("卡拉胶", "carrageenan"),
    ("聚对苯二甲酸乙二醇酯", "PET"),
    ("虾青素", "astaxanthin"),
    ("几丁质酶", "chitinases"),
    # names written in both scripts are read whole, not as the plastic and an enzyme
    ("PET水解酶", "PETase"),
    ("高效 PET 降解酶", "PET hydrolase"),
    ("PHB解聚酶", "PHA depolymerase"),
])
def test_chinese_and_english_names_are_one_concept(chinese: str, english: str) -> None:
    lx = lexicon()
    zh, en = lx.read(chinese).named, lx.read(english).named
    assert zh and set(zh) == set(en), (zh, en)


def test_family_codes_and_spellings() -> None:
    lx = lexicon()
    assert "family:PL7" in lx.read("a PL 7 lyase").named
    assert "family:GH16_16" in lx.read("GH16_16 agarases").named
    assert set(lx.read("β-agarase").named) == set(lx.read("beta-agarase").named)
    reached = lx.expand(["family:PL7"])
    assert reached["substrate:alginate"] == (0.5, "family:PL7")


def test_ranking_weighs_rare_concepts_and_constraints() -> None:
    concepts = {c: Concept(c, (c.split(":")[1],), ()) for c in (
        "activity:lyase", "substrate:alginate", "substrate:agar", "field:enzyme")}
    lx = Lexicon(concepts, [("activity:lyase", "related", "substrate:alginate")])
    offers = [Entry(f"LHOF000000{i}", "offer", {"title": text, "trl": trl})
              for i, (text, trl) in enumerate([
                  ("alginate enzyme", 3), ("agar enzyme", 9), ("alginate enzyme", 8),
                  ("enzyme", 9)], 1)]
    index = MatchIndex(lx, offers, {o.accession: features(lx, o.text) for o in offers})
    demand = Entry("LHDM0000001", "demand", {"title": "lyase", "min_trl": 5})
    ranked = index.rank(demand, features(lx, demand.text), top=3,
                        today=dt.date(2026, 1, 1))
    # lyase reaches alginate (1/2): both alginate offers, the one ready enough first
    assert [m.accession for m in ranked] == ["LHOF0000003", "LHOF0000001"]
    assert ranked[1].score == pytest.approx(ranked[1].similarity * 0.8)
    shared = ranked[0].shared[0]
    assert (shared["concept"], shared["query_via"]) == ("substrate:alginate", "activity:lyase")
