"""Organisations, offers and demands as a curator imports them: Chinese and English column
names without a mapping, codes checked (credit codes, patents, districts, readiness), the
same table twice changes nothing, and unpublished entries stay out of readers' sight."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lanhai.bank import init_bank
from lanhai.cli.main import main
from lanhai.kinds import KINDS
from lanhai.kinds.fields import validate_fields
from lanhai.kinds.market import (
    cn_application_check_digit,
    district_name,
    patent_number,
    uscc_check_character,
)
from lanhai.kinds.vocab import FieldError
from lanhai.services.access import Actor
from lanhai.settings import Settings

OFFERS_ZH = "\n".join((
    "成果编号,成果名称,成果简介,技术领域,行业,技术成熟度,合作方式,专利号,状态,有效期至",
    "OUC-01,褐藻胶裂解酶及褐藻胶寡糖制备技术,PL7家族褐藻胶裂解酶的高效表达与寡糖定向制备,"
    "酶制剂,大健康,TRL 6,许可;合作开发,ZL201510123456.1,已发布,2027-12-31",
    "OUC-02,琼胶酶,GH16 beta-琼胶酶制备新琼寡糖,酶,食品与健康,5,转让,,草稿,", ""))

ORGS = """机构名称,english name,机构类型,统一社会信用代码
青岛某海洋生物公司,Qingdao Marine Bio,企业,91370200163562681G
中国海洋大学,Ocean University of China,高校,
"""


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_offers_import_from_chinese_headers_and_again_unchanged(
        bank_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = tmp_path / "成果.csv"
    table.write_text(OFFERS_ZH, encoding="utf-8")
    code, out, err = run(capsys, "import", "offer", str(table), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert (report["created"], report["problem_count"]) == (2, 0)
    code, out, err = run(capsys, "import", "offers", str(table), "--json")
    assert code == 0 and json.loads(out)["unchanged"] == 2, err

    bank = init_bank(Settings(data_dir=bank_dir))
    try:
        admin, reader = Actor("admin", "admin"), Actor("rui", "reader")
        rows = {r.fields["reference"]: r for r in bank.catalog.list(admin, "offer")[0]}
        published, draft = rows["OUC-01"], rows["OUC-02"]
        assert published.fields["trl"] == 6
        assert published.fields["transfer_types"] == ["licence", "co-development"]
        assert published.fields["patents"] == ["CN201510123456.1"]
        assert published.fields["field"] == "enzyme"
        assert published.fields["sector"] == "food_health"
        assert (published.restricted, draft.restricted) == (False, True)
        # a draft is nobody's business but the curators': readers neither list nor count it
        seen = [r.accession for r in bank.catalog.list(reader, "offer")[0]]
        assert seen == [published.accession]
        assert bank.catalog.counts(reader) == {"offer": 1}
    finally:
        bank.close()


def test_bad_offer_rows_are_refused_whole_with_where_and_how(
        bank_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = tmp_path / "offers.csv"
    table.write_text(
        "reference,title,field,sector,trl,transfer_types,patents\n"
        "A1,Alginate lyase,enzyme,food_health,6,licence,ZL201510123456.1\n"
        "A2,Agarase,enzyme,food_health,12,licence,\n"
        "A3,Carrageenase,enzyme,food_health,4,licence,ZL201510123456.7\n"
        "A4,Ulvan lyase,enzyme,pharma,4,sale,\n"
        "A5,,enzyme,pharma,4,licence,\n", encoding="utf-8")
    code, out, _ = run(capsys, "import", "offer", str(table), "--json")
    assert code == 1
    report = json.loads(out)
    assert report["committed"] is False
    found = {(p["row"], p["field"]): p for p in report["problems"]}
    assert "readiness levels run from 1 to 9" in found[(3, "trl")]["reason"]
    assert "has the check digit 7, but its digits give 1" in found[(4, "patents")]["reason"]
    assert found[(5, "transfer_types")]["reason"] == "is not one of the allowed terms"
    assert found[(6, "title")]["reason"] == "needs one of title, title_zh"
    bank = init_bank(Settings(data_dir=bank_dir))
    try:
        assert bank.catalog.counts(Actor("admin", "admin")) == {}
    finally:
        bank.close()


def test_organisations_by_credit_code(bank_dir: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    table = tmp_path / "机构.csv"
    table.write_text(ORGS, encoding="utf-8")
    code, out, err = run(capsys, "import", "organisation", str(table), "--json")
    assert code == 0, err
    bad = tmp_path / "bad.csv"
    bad.write_text(ORGS.replace("91370200163562681G", "91370200163562681H"), encoding="utf-8")
    code, out, _ = run(capsys, "import", "organisation", str(bad), "--json")
    problem = json.loads(out)["problems"][0]
    assert code == 1 and problem["row"] == 2 and problem["column"] == "统一社会信用代码"
    assert problem["reason"] == ("has the check character H, but its first 17 characters "
                                 "give G")
    bank = init_bank(Settings(data_dir=bank_dir))
    try:
        orgs = {r.fields["name"]: r.fields
                for r in bank.catalog.list(Actor("admin", "admin"), "organisation")[0]}
        assert orgs["青岛某海洋生物公司"]["district"] == "370200"
        assert orgs["青岛某海洋生物公司"]["org_type"] == "enterprise"
        assert orgs["中国海洋大学"]["org_type"] == "university"
    finally:
        bank.close()


@pytest.mark.parametrize("code", ["91440300715267266X", "914403007152672G6X"])
def test_credit_codes_with_a_wrong_character_are_refused(code: str) -> None:
    spec = KINDS["organisation"]
    _, problems = validate_fields(spec, {"name_zh": "某公司", "org_type": "企业",
                                         "credit_code": code})
    assert [p.field for p in problems] == ["credit_code"]


def test_check_characters_of_real_codes() -> None:
    # published codes of well-known enterprises (business licences)
    for code in ("9144030071526726XG", "914403001922038216", "91370200163562681G",
                 "91110000802100433B"):
        assert uscc_check_character(code[:17]) == code[17]
    # application numbers: 12 digits (2003 on), 8 digits (before), X for ten
    assert cn_application_check_digit("201510123456") == "1"
    assert patent_number("ZL 2015 1012 3456.1") == "CN201510123456.1"
    assert patent_number("CN112345678B") == "CN112345678B"
    assert patent_number("US 10,123,456 B2") == "US10123456B2"
    x = next(d for d in (f"2020101{n:05d}" for n in range(100))
             if cn_application_check_digit(d) == "X")
    assert patent_number(f"CN{x}X") == f"CN{x}.X"
    with pytest.raises(FieldError, match="type digit 5"):
        patent_number("CN201550123456.1")
    with pytest.raises(FieldError, match="not a patent"):
        patent_number("patent pending")


def test_districts() -> None:
    spec = KINDS["organisation"]
    fields, problems = validate_fields(spec, {"name_en": "Lab", "org_type": "institute",
                                              "district": "崂山区"})
    assert problems == [] and fields["district"] == "370212"
    assert district_name("370212") == "山东省青岛市崂山区"
    _, problems = validate_fields(spec, {"name_en": "Lab", "org_type": "institute",
                                         "district": "990101"})
    assert problems[0].reason == "starts with 99, which is no province's code"


def test_invitation_offers_are_restricted_even_when_published() -> None:
    spec = KINDS["offer"]
    base = {"reference": "R", "title": "x", "field": "strain", "sector": "pharma",
            "trl": "3", "transfer_types": "licence", "market_status": "published"}
    fields, problems = validate_fields(spec, {**base, "visibility": "定向"})
    assert problems == [] and fields["restricted"] is True
    fields, _ = validate_fields(spec, base)
    assert fields["restricted"] is False and fields["visibility"] == "public"


def test_an_offer_moves_into_an_incubation_project(sqlite_engine: Any) -> None:
    from tests.support import add_user, make_client

    client = make_client(sqlite_engine)
    curator = add_user(sqlite_engine, "ana", "curator")

    def post(kind: str, body: dict[str, Any], status: int = 201) -> Any:
        answer = client.post(f"/api/{kind}", json=body, headers=curator)
        assert answer.status_code == status, answer.text
        return answer.json()

    park = post("organisations", {"name_zh": "青岛蓝色生物医药产业园", "org_type": "园区",
                                  "district": "崂山区"})["accession"]
    offer = post("offers", {"reference": "X", "title": "Alginate lyase", "field": "enzyme",
                            "sector": "food_health", "trl": "5",
                            "transfer_types": "co-development",
                            "market_status": "published"})["accession"]
    base = {"project_name": "AlyZ7 pilot", "offer": offer, "stage": "中试", "host": park,
            "started": "2026-09-01"}
    made = post("incubations", {**base, "milestones": json.dumps([
        {"name": "100 L batch", "due": "2026-12-31", "done": "2026-11-20"},
        {"name": "food-grade dossier", "due": "2027-06-30"}])})
    assert made["fields"]["stage"] == "pilot" and made["fields"]["project_status"] == "active"
    assert [m["name"] for m in made["fields"]["milestones"]] == ["100 L batch",
                                                                  "food-grade dossier"]
    link = client.post("/api/links", headers=curator, json={
        "source": offer, "rel": "incubated_in", "target": made["accession"]})
    assert link.status_code == 201, link.text
    wrong = post("incubations", {**base, "project_name": "b", "offer": "LHOF0099999"}, 422)
    assert wrong["error"]["problems"][0]["reason"] == \
        "LHOF0099999 is not an offer of this bank"
    early = post("incubations", {**base, "project_name": "c", "milestones": json.dumps([
        {"name": "m", "due": "2026-10-01", "done": "2026-08-01"}])}, 422)
    assert "before the project started (2026-09-01)" in \
        early["error"]["problems"][0]["reason"]
    host = post("incubations", {**base, "project_name": "d", "host": "LHOG0099999"}, 422)
    assert host["error"]["problems"][0]["field"] == "host"
