"""The industry resource database as a programme office fills it: platforms, projects,
achievements, teams, funds, products and approvals imported from spreadsheets with Chinese
headers, approval numbers checked by type, organisations' qualifications, references to
organisations that must exist, and the holds/underpins links."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from lanhai.bank import init_bank
from lanhai.cli.main import main
from lanhai.errors import ValidationFailed
from lanhai.kinds import KINDS, LINK_RULES, PLURALS, check_link, display_name
from lanhai.kinds.fields import validate_fields
from lanhai.kinds.industry import TASKS, amount_cny, approval_number
from lanhai.kinds.vocab import FieldError, ValueContext
from lanhai.problem_text import localize
from lanhai.services.access import Actor
from lanhai.settings import Settings
from tests.support import CURATOR, catalog_on

ADMIN = Actor("admin", "admin")

ORGS = "\n".join((
    "机构名称,english name,机构类型,统一社会信用代码,企业资质,行业",
    "青岛某海洋生物公司,Qingdao Marine Bio,企业,91370200163562681G,"
    "瞪羚企业 2024；专精特新“小巨人” 2023,医药",
    "中国海洋大学,Ocean University of China,高校,,,",
    "青岛合成生物产业联盟,,产业联盟,,,", ""))
#: the rows each kind's import creates (LHOG0000001 is the company, LHOG0000002 the
#: university), and what some of their fields must become
TABLES: dict[str, tuple[str, dict[str, dict[str, Any]]]] = {
    "platform": (
        "编号,平台名称,平台类型,级别,依托单位,认定时间,认定部门,所在区,行业,重点任务,来源\n"
        "PL-01,山东省海洋生物资源重点实验室,重点实验室,省级,LHOG0000002,2021年12月3日,"
        "山东省科学技术厅,崂山区,医药,1,http://kjj.qingdao.gov.cn/a.html\n"
        "PL-02,合成生物千升级中试平台,千升级中试,市级,LHOG0000001,2023/6/30,青岛市科学技术局,"
        "黄岛区,材料与能源,平台工具,青岛日报 2023-07-01\n",
        {"山东省海洋生物资源重点实验室": {
            "platform_type": "key_laboratory", "level": "provincial", "host": "LHOG0000002",
            "recognised": "2021-12-03", "district": "370212", "sector": "pharma",
            "task": "base", "reference": "PL-01"},
         "合成生物千升级中试平台": {
            "platform_type": "pilot_scale", "level": "municipal", "recognised": "2023-06-30",
            "district": "370211", "sector": "materials_energy", "task": "platform"}}),
    "project": (
        "项目名称,项目类型,承担单位,开工时间,竣工时间,总投资,项目状态,行业,重点任务,来源\n"
        "年产千吨褐藻胶寡糖产业化项目,标志性产业化项目,LHOG0000001,2024-03-01,2026-06-30,"
        "1.2亿元,在建,食品与健康,4,青岛日报 2024-03-02\n"
        "海洋糖药中试项目,中试,LHOG0000002,2024-05-01,,3500万,计划,医药,医药,\n",
        {"年产千吨褐藻胶寡糖产业化项目": {
            "project_type": "flagship_industrialisation", "organisation": "LHOG0000001",
            "investment_cny": 120_000_000, "project_status": "underway",
            "sector": "food_health", "task": "food_health", "completed": "2026-06-30"},
         "海洋糖药中试项目": {"project_type": "pilot", "investment_cny": 35_000_000,
                              "project_status": "planned", "task": "pharma"}}),
    "achievement": (
        "成果名称,成果类型,评价结论,评价时间,评价机构,完成单位,行业,重点任务,来源\n"
        "褐藻胶裂解酶定向进化关键技术,关键技术突破,国际领先,2024-11-08,中国生物工程学会,"
        "LHOG0000002,食品与健康,基础技术,http://example.org/news/1\n"
        "琼胶寡糖制备工艺,成果,,,,LHOG0000001,食品与健康,4,\n",
        {"褐藻胶裂解酶定向进化关键技术": {
            "achievement_type": "key_technology", "appraisal": "internationally_leading",
            "appraised": "2024-11-08", "appraised_by": "中国生物工程学会", "task": "base"},
         "琼胶寡糖制备工艺": {"achievement_type": "result", "task": "food_health"}}),
    "team": (
        "团队名称,团队类型,负责人,依托单位,认定时间,认定部门,行业,重点任务,来源\n"
        "海洋糖生物学团队,合成生物领军团队,张三,LHOG0000002,2023-12-20,青岛市委人才办,医药,"
        "医药,青岛市人才工作简报\n",
        {"海洋糖生物学团队": {"team_type": "leading_synbio_team", "leader": "张三",
                              "organisation": "LHOG0000002", "recognised_by": "青岛市委人才办",
                              "task": "pharma"}}),
    "fund": (
        "基金名称,基金类型,基金规模,基金管理人,成立时间,行业,来源\n"
        "青岛合成生物产业基金,产业基金,50亿元,LHOG0000001,2023-06-30,医药,青岛日报\n"
        "蓝色种子引导基金,政府引导基金,\"2,500万元\",,2022-01-15,农业与环境,\n",
        {"青岛合成生物产业基金": {"fund_type": "industry_fund", "size_cny": 5_000_000_000,
                                  "manager": "LHOG0000001", "established": "2023-06-30"},
         "蓝色种子引导基金": {"fund_type": "guidance_fund", "size_cny": 25_000_000,
                              "sector": "agriculture_environment"}}),
    "product": (
        "产品名称,产品类型,所属企业,上市时间,行业,重点任务,来源\n"
        "褐藻胶寡糖植物疫苗,生物农药,LHOG0000001,2025-05-20,农业与环境,6,企业公告\n"
        "海藻酸盐医用敷料,医疗器械,LHOG0000001,2022-01-10,医药,3,\n",
        {"褐藻胶寡糖植物疫苗": {"product_type": "pesticide", "launched": "2025-05-20",
                                "sector": "agriculture_environment",
                                "task": "agriculture_environment"},
         "海藻酸盐医用敷料": {"product_type": "medical_device", "task": "pharma"}}),
    "approval": (
        "审批类型,批准文号,产品名称,持有人,批准日期,批准机关,管理类别,行业,重点任务,来源\n"
        "药品注册,国药准字H20203001,注射用海藻酸钠,LHOG0000001,2020-08-15,NMPA,,医药,医药,"
        "NMPA 药品查询\n"
        "医疗器械注册证,国械注准 ２０２１３４００１２３号,海藻酸盐医用敷料,LHOG0000001,"
        "2021-05-10,NMPA,第三类,医药,医药,\n"
        "药物临床试验批准,,BG136注射液,LHOG0000001,2023-02-01,NMPA,,医药,医药,新闻\n"
        "水产新品种,GS－01－003－2019,海大金贝,LHOG0000002,2019-12-30,农业农村部,,"
        "农业与环境,6,\n",
        {"注射用海藻酸钠 (国药准字H20203001)": {
            "approval_type": "drug_registration", "holder": "LHOG0000001",
            "granted": "2020-08-15"},
         "海藻酸盐医用敷料 (国械注准20213400123)": {
            "approval_type": "medical_device_registration", "number": "国械注准20213400123",
            "device_class": "III"},
         "BG136注射液": {"approval_type": "drug_clinical_trial", "granted": "2023-02-01"},
         "海大金贝 (GS-01-003-2019)": {"approval_type": "aquatic_variety",
                                      "number": "GS-01-003-2019",
                                      "task": "agriculture_environment"}}),
}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = main(list(args))
    out = capsys.readouterr()
    return code, json.loads(out.out) if out.out.strip() else {"err": out.err}


def _import(capsys: pytest.CaptureFixture[str], path: Path, kind: str, text: str,
            *extra: str) -> tuple[int, dict[str, Any]]:
    path.write_text(text, encoding="utf-8")
    return run(capsys, "import", kind, str(path), "--json", *extra)


@pytest.fixture
def orgs(bank_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A bank holding the company (LHOG0000001), the university (LHOG0000002) and an
    alliance (LHOG0000003)."""
    code, report = _import(capsys, tmp_path / "机构.csv", "organisations", ORGS)
    assert code == 0 and report["created"] == 3, report
    return bank_dir


# --- imports ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", list(TABLES))
def test_each_kind_imports_from_chinese_headers_and_again_unchanged(
        kind: str, orgs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text, expected = TABLES[kind]
    code, report = _import(capsys, tmp_path / f"{kind}.csv", PLURALS[kind], text)
    assert code == 0, report
    assert (report["created"], report["problem_count"]) == (len(expected), 0)
    assert not report.get("ignored_columns"), report
    code, report = _import(capsys, tmp_path / f"{kind}.csv", kind, text)
    assert code == 0 and report["unchanged"] == len(expected), report

    bank = init_bank(Settings(data_dir=orgs))
    try:
        records = {r.name: r for r in bank.catalog.list(ADMIN, kind)[0]}
        assert set(records) == set(expected)
        for name, fields in expected.items():
            stored = records[name].fields
            assert {k: stored.get(k) for k in fields} == fields, name
            assert records[name].accession.startswith(KINDS[kind].prefix)
        # the reader sees them: none of these kinds is restricted by default
        assert len(bank.catalog.list(Actor("rui", "reader"), kind)[0]) == len(expected)
    finally:
        bank.close()


def test_organisations_keep_qualifications_sector_and_alliances(
        orgs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bank = init_bank(Settings(data_dir=orgs))
    try:
        rows = {r.fields["name"]: r.fields for r in bank.catalog.list(ADMIN, "organisation")[0]}
        company = rows["青岛某海洋生物公司"]
        assert company["qualifications"] == ["gazelle 2024", "little_giant 2023"]
        assert company["sector"] == "pharma"
        assert rows["青岛合成生物产业联盟"]["org_type"] == "alliance"
        found = bank.catalog.list(ADMIN, "organisation", ["qualifications~little_giant"])[0]
        assert [r.fields["name"] for r in found] == ["青岛某海洋生物公司"]
        assert bank.catalog.list(ADMIN, "organisation", ["qualifications~unicorn"])[0] == []
    finally:
        bank.close()


def test_a_bad_row_rejects_the_whole_file(orgs: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    text = (
        "审批类型,批准文号,产品名称,持有人,批准日期,管理类别\n"
        "药品注册,国药准字H20203001,注射用海藻酸钠,LHOG0000001,2020-08-15,\n"
        "医疗器械注册证,国械注准20213400123,敷料,LHOG0000001,2020-05-10,\n"
        "医疗器械注册证,鲁械注准20202140012,敷料B,LHOG0000001,2020-05-10,III\n"
        "药品注册,国械注准20213400123,注射液,LHOG0000001,2022-01-01,\n"
        "农药登记,PD2018123,杀菌剂,LHOG0000001,2019-01-01,\n"
        "专利,ZL201510123456.1,褐藻胶寡糖制备方法,LHOG0000001,2017-03-01,II\n"
        "医疗器械备案,,棉签,LHOG0000001,2021-01-01,\n")
    code, report = _import(capsys, tmp_path / "审批.csv", "approvals", text)
    assert code == 1 and report["committed"] is False
    found = {p["row"]: p for p in report["problems"]}
    assert sorted(found) == [3, 4, 5, 6, 7, 8]
    assert found[3]["column"] == "批准文号"
    assert found[3]["reason"] == ("国械注准20213400123 carries the year 2021, after the year "
                                  "it was granted (2020-05-10)")
    assert found[4]["column"] == "管理类别"
    assert found[4]["reason"] == ("is class III, but 鲁械注准20202140012 is a class II "
                                  "device's number")
    assert found[5]["reason"].startswith("国械注准20213400123 is not a drug registration "
                                         "number")
    assert "国药准字H20203001" in found[5]["fix"]
    assert found[6]["reason"] == ("PD2018123 is not a pesticide registration number: it has "
                                  "7 digits, not 8")
    assert found[7]["reason"] == "is given for a patent; only medical devices have a class"
    assert found[8]["reason"] == ("is missing: a medical device filing is known by its "
                                  "number")
    bank = init_bank(Settings(data_dir=orgs))
    try:
        assert bank.catalog.list(ADMIN, "approval")[0] == []
    finally:
        bank.close()


def test_amounts_in_a_column_of_wan_take_the_unit(orgs: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    text = "项目名称,项目类型,总投资（万元）\n海藻肥中试,中试,1250.5\n"
    code, report = _import(capsys, tmp_path / "p.csv", "project", text,
                           "--map", "总投资（万元）=investment_cny",
                           "--unit", "investment_cny=万元")
    assert code == 0, report
    bank = init_bank(Settings(data_dir=orgs))
    try:
        [project] = bank.catalog.list(ADMIN, "project")[0]
        assert project.fields["investment_cny"] == 12_505_000
    finally:
        bank.close()


# --- approval numbers ------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "raw", "number", "year"), [
    ("drug_clinical_trial", "CXSL2101234", "CXSL2101234", 2021),
    ("drug_clinical_trial", "cxhl2000123", "CXHL2000123", 2020),
    ("drug_clinical_trial", "JXHL1900012", "JXHL1900012", 2019),
    ("drug_registration", "国药准字H20203001", "国药准字H20203001", 2020),
    ("drug_registration", "国药准字 Ｓ２０１９００１２", "国药准字S20190012", 2019),
    ("drug_registration", "国药准字Z37020123", "国药准字Z37020123", 2002),
    ("medical_device_registration", "国械注准20213400123号", "国械注准20213400123", 2021),
    ("medical_device_registration", "国械注进20172213456", "国械注进20172213456", 2017),
    ("medical_device_registration", "鲁械注准20202140012", "鲁械注准20202140012", 2020),
    ("medical_device_filing", "鲁青械备20200012号", "鲁青械备20200012", 2020),
    ("medical_device_filing", "国械备20150001", "国械备20150001", 2015),
    ("cosmetics_registration", "国妆特字G20190123", "国妆特字G20190123", 2019),
    ("cosmetics_registration", "国妆特进字J20190123", "国妆特进字J20190123", 2019),
    ("cosmetics_filing", "鲁G妆网备字2021001234", "鲁G妆网备字2021001234", 2021),
    ("cosmetics_filing", "国妆网备进字（京）2018000123", "国妆网备进字(京)2018000123", 2018),
    ("pesticide_registration", "PD20181234", "PD20181234", 2018),
    ("pesticide_registration", "WP20150012", "WP20150012", 2015),
    ("pesticide_registration", "PD84104-2", "PD84104-2", 1984),
    ("aquatic_variety", "GS-01-003-2019", "GS-01-003-2019", 2019),
    ("aquatic_variety", "GS－02－011－2021", "GS-02-011-2021", 2021),
    ("crop_variety", "国审稻20210001", "国审稻20210001", 2021),
    ("crop_variety", "鲁审麦20190012", "鲁审麦20190012", 2019),
    ("crop_variety", "GPD玉米（2018）370001", "GPD玉米(2018)370001", 2018),
    ("patent", "ZL 2015 1012 3456.1", "CN201510123456.1", 2015),
    ("patent", "CN112345678B", "CN112345678B", None),
])
def test_numbers_of_each_type(kind: str, raw: str, number: str, year: int | None) -> None:
    parsed = approval_number(kind, raw)
    assert (parsed.number, parsed.year) == (number, year)


@pytest.mark.parametrize(("kind", "raw", "why"), [
    ("drug_clinical_trial", "AXSL2101234", "no NMPA acceptance number starts with AXSL"),
    ("drug_clinical_trial", "CXSL210123", "it has 6 digits after CXSL, not 7"),
    ("drug_clinical_trial", "国药准字H20203001", ""),
    ("drug_registration", "国药准字X20203001", "the letter is X"),
    ("drug_registration", "国药准字H202030011", "it has 9 digits, not 8"),
    ("drug_registration", "国药证字H20203001", ""),
    ("drug_registration", "国药准字H55203001", "it starts with 55"),
    ("medical_device_registration", "鲁械注准20213400123", "class III devices are "
     "registered by the NMPA"),
    ("medical_device_registration", "国械注准20211400123", "class I devices are filed"),
    ("medical_device_registration", "国械注准2021340012", "is not 11 digits"),
    ("medical_device_registration", "国械注准20214400123", "its class digit is 4"),
    ("medical_device_registration", "鲁青械备20200012", "it is a class I filing"),
    ("medical_device_registration", "美械注准20212400123", ""),
    ("medical_device_registration", "国械注准20103400123", "the year 2010 is before 2014"),
    ("medical_device_filing", "鲁青械备2020012", "it has 7 digits, not 8"),
    ("medical_device_filing", "国械注准20213400123", ""),
    ("cosmetics_registration", "国妆特字J20190123", "国妆特字 is followed by G, not J"),
    ("cosmetics_registration", "国妆特进字G20190123", "国妆特进字 is followed by J, not G"),
    ("cosmetics_registration", "国妆特字G2019012", "it has 7 digits, not 8"),
    ("cosmetics_filing", "鲁G妆网备字202100123", "it has 9 digits, not 10"),
    ("cosmetics_filing", "XG妆网备字2021001234", ""),
    ("pesticide_registration", "PD2018123", "it has 7 digits, not 8"),
    ("pesticide_registration", "XX20181234", "it starts with XX"),
    ("pesticide_registration", "PD30181234", "give the year 3018"),
    ("aquatic_variety", "GS-05-003-2019", "its category is 05"),
    ("aquatic_variety", "GS-01-03-2019", ""),
    ("aquatic_variety", "GS-01-003-1990", "before 1996"),
    ("crop_variety", "国审稻2021001234", "it has 10 digits, not 8"),
    ("crop_variety", "GPD玉米(2018)37001", "it has 5 digits after the year, not 6"),
    ("crop_variety", "审稻20210001", ""),
    ("patent", "ZL201510123456.7", "has the check digit 7, but its digits give 1"),
])
def test_wrong_numbers_say_what_form_is_expected(kind: str, raw: str, why: str) -> None:
    with pytest.raises(FieldError) as err:
        approval_number(kind, raw)
    assert why in err.value.reason
    assert localize(err.value.reason, "zh") != err.value.reason  # said in Chinese too
    if kind != "patent":
        assert err.value.reason.startswith(f"{raw.replace(' ', '')} is not a")
        assert "e.g." in err.value.fix  # the expected form with an example


def _approval(**fields: str) -> tuple[dict[str, Any], list[Any]]:
    base = {"approval_type": "drug_registration", "number": "国药准字H20203001",
            "product_name_zh": "注射用海藻酸钠", "granted": "2020-08-15"}
    return validate_fields(KINDS["approval"], {**base, **fields})


def test_approval_records_check_the_number_against_type_and_day() -> None:
    fields, problems = _approval()
    assert problems == []
    assert display_name(KINDS["approval"], fields) == "注射用海藻酸钠 (国药准字H20203001)"
    assert KINDS["approval"].identifiers(fields) == [
        "approval:drug_registration:国药准字H20203001"]
    _, problems = _approval(granted="2019-12-31")
    assert [(p.field, p.reason) for p in problems] == [(
        "number", "国药准字H20203001 carries the year 2020, after the year it was granted "
                  "(2019-12-31)")]
    assert localize(problems[0].reason, "zh") == ("国药准字H20203001 中的年份为 2020，晚于批准"
                                                "年份（2019-12-31）")
    _, problems = _approval(approval_type="patent")
    assert problems[0].field == "number" and "not a patent" in problems[0].reason
    _, problems = _approval(number="")
    assert problems[0].reason == "is missing: a drug registration is known by its number"
    # a clinical trial a news item reports: no number, keyed by holder, product and day
    fields, problems = _approval(approval_type="临床试验默示许可", number="",
                                 holder="LHOG0000001", granted="2023年2月1日")
    assert problems == [] and "number" not in fields
    assert KINDS["approval"].identifiers(fields) == [
        "approval:drug_clinical_trial:LHOG0000001:注射用海藻酸钠:2023-02-01"]
    _, problems = _approval(approval_type="医疗器械注册证", number="国械注准20213400123",
                            device_class="2", granted="2021-06-01")
    assert problems[0].reason == ("is class II, but 国械注准20213400123 is a class III "
                                  "device's number")
    fields, problems = _approval(approval_type="医疗器械注册证", number="国械注准20213400123",
                                 device_class="Ⅲ", granted="2021-06-01")
    assert problems == [] and fields["device_class"] == "III"
    _, problems = _approval(product_name_zh="")
    assert problems[0].reason == "needs one of product_name, product_name_zh"


def test_records_check_dates_appraisals_and_amounts() -> None:
    _, problems = validate_fields(KINDS["project"], {
        "name_zh": "x", "project_type": "rd", "started": "2024-05-01",
        "completed": "2024-04-30"})
    assert [p.reason for p in problems] == [
        "is completed on 2024-04-30, before it started (2024-05-01)"]
    _, problems = validate_fields(KINDS["achievement"], {
        "title": "AlyZ7 evolution", "achievement_type": "result", "appraisal": "国内先进"})
    assert {p.field for p in problems} == {"appraised", "appraised_by"}
    assert "appraised as domestically_advanced" in problems[0].reason
    _, problems = validate_fields(KINDS["platform"], {"platform_type": "foundry"})
    assert problems[0].reason == "needs one of name, name_zh"
    ctx = ValueContext()
    assert amount_cny("1200万元", ctx, "size_cny") == 12_000_000
    assert amount_cny("1.2亿", ctx, "size_cny") == 120_000_000
    assert amount_cny("¥3,500,000", ctx, "size_cny") == 3_500_000
    assert amount_cny("0.35亿元", ctx, "size_cny") == 35_000_000  # exact, no float error
    assert amount_cny(2500, ValueContext(units={"size_cny": "万元"}), "size_cny") == 25_000_000
    for bad in ("1.23456万", "12 dollars", "about 5M", "-3万"):
        with pytest.raises(FieldError):
            amount_cny(bad, ctx, "size_cny")


def test_tasks_accept_numbers_and_chinese_names() -> None:
    spec = KINDS["product"]
    for given, task in (("1", "base"), ("平台工具", "platform"), ("3", "pharma"),
                        ("食品与健康", "food_health"), ("材料与能源", "materials_energy"),
                        ("任务六", "agriculture_environment")):
        fields, problems = validate_fields(spec, {"name": "p", "product_type": "other",
                                                  "task": given})
        assert problems == [] and fields["task"] == task
    assert TASKS.index("agriculture_environment") == 5
    _, problems = validate_fields(spec, {"name": "p", "product_type": "other", "task": "7"})
    assert problems[0].field == "task"


def test_qualifications_need_a_plausible_year() -> None:
    spec = KINDS["organisation"]
    base = {"name_zh": "某公司", "org_type": "企业"}
    fields, problems = validate_fields(spec, {
        **base, "qualifications": "gazelle 2024; 专精特新\"小巨人\" 2023; 高新技术企业 2022;"
                                  " 2019年科技领军企业"})
    assert problems == []
    assert fields["qualifications"] == ["gazelle 2024", "little_giant 2023", "high_tech 2022",
                                        "tech_leading 2019"]
    next_year = dt.date.today().year + 1
    for bad, reason in (("gazelle", "without the one year it was granted"),
                        ("gazelle 1989", "the year 1989, before 1990"),
                        (f"unicorn {next_year}", "in the future"),
                        ("潜在独角兽 2022", "no qualification Lanhai knows")):
        _, problems = validate_fields(spec, {**base, "qualifications": bad})
        assert [p.field for p in problems] == ["qualifications"]
        assert reason in problems[0].reason, bad


# --- references and links --------------------------------------------------------------------

MINIMAL = {
    "platform": {"name": "Biofoundry", "platform_type": "foundry"},
    "project": {"name": "Pilot", "project_type": "pilot"},
    "achievement": {"title": "Key enzyme", "achievement_type": "key_technology"},
    "team": {"name": "Glyco team", "team_type": "innovation_team"},
    "fund": {"name": "Blue fund", "fund_type": "venture_fund"},
    "product": {"name": "Oligosaccharide", "product_type": "food"},
    "approval": {"approval_type": "patent", "number": "ZL201510123456.1",
                 "product_name": "Alginate lyase", "granted": "2018-06-01"},
}
OWNER = {"platform": "host", "project": "organisation", "achievement": "organisation",
         "team": "organisation", "fund": "manager", "product": "organisation",
         "approval": "holder"}


def test_organisations_named_must_exist(sqlite_engine: Engine) -> None:
    catalog = catalog_on(sqlite_engine)
    org = catalog.create(CURATOR, "organisation", {"name_zh": "中国海洋大学",
                                                   "org_type": "高校"}).accession
    for kind, body in MINIMAL.items():
        with pytest.raises(ValidationFailed) as err:
            catalog.create(CURATOR, kind, {**body, OWNER[kind]: "LHOG0099999"})
        [problem] = err.value.problems
        assert (problem.field, problem.reason) == (
            OWNER[kind], "LHOG0099999 is not an organisation of this bank"), kind
        made = catalog.create(CURATOR, kind, {**body, OWNER[kind]: org})
        assert made.fields[OWNER[kind]] == org
        with pytest.raises(ValidationFailed):
            catalog.update(CURATOR, made.accession, {OWNER[kind]: "LHOG0099998"})
    counts = catalog.counts(CURATOR)
    assert all(counts[kind] == 1 for kind in MINIMAL)


def test_holds_and_underpins(sqlite_engine: Engine) -> None:
    catalog = catalog_on(sqlite_engine)
    org = catalog.create(CURATOR, "organisation", {"name_en": "Marine Bio",
                                                   "org_type": "enterprise"}).accession
    offer = catalog.create(CURATOR, "offer", {
        "reference": "X", "title": "Alginate lyase", "field": "enzyme",
        "sector": "food_health", "trl": "6", "transfer_types": "licence",
        "market_status": "published"}).accession
    made = {kind: catalog.create(CURATOR, kind, {**body, OWNER[kind]: org}).accession
            for kind, body in MINIMAL.items()}
    for kind, accession in made.items():
        link = catalog.link(CURATOR, org, "holds", accession)
        assert (link.source, link.rel, link.target) == (org, "holds", accession), kind
    # given the wrong way round, a one-way relation is read the right way
    assert catalog.link(CURATOR, made["approval"], "underpins", offer).source == offer
    for kind in ("project", "achievement", "product"):
        assert catalog.link(CURATOR, offer, "underpins", made[kind]).target == made[kind]
    for kind in ("platform", "team", "fund"):
        with pytest.raises(ValidationFailed, match="is not an allowed link"):
            catalog.link(CURATOR, offer, "underpins", made[kind])
    rels = {(lk.rel, lk.source) for lk in catalog.links(CURATOR, made["approval"])}
    assert rels == {("holds", org), ("underpins", offer)}
    assert set(LINK_RULES["underpins"].sources) == {
        "sample", "strain", "deposit", "assembly", "compound", "part", "germplasm", "chassis",
        "design", "offer"}
    assert check_link("underpins", "strain", "product")
    assert not check_link("holds", "strain", "platform")
    assert not check_link("underpins", "organisation", "project")


def test_dashboard_counts_the_new_kinds(sqlite_engine: Engine) -> None:
    from lanhai.store.dashboard import programme_counts

    catalog = catalog_on(sqlite_engine)
    for kind, body in MINIMAL.items():
        catalog.create(CURATOR, kind, body)
    with sqlite_engine.connect() as conn:
        counts = programme_counts(conn, False)
    assert {PLURALS[k]: counts[PLURALS[k]] for k in MINIMAL} == {
        PLURALS[k]: 1 for k in MINIMAL}


def test_an_import_naming_a_missing_organisation_writes_nothing(
        orgs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = tmp_path / "platforms.csv"
    table.write_text("平台名称,平台类型,依托单位\n"
                     "海洋生物制造中试平台,千升级中试,LHOG0000002\n"
                     "合成生物设计平台,设计与构建平台,LHOG0000099\n", encoding="utf-8")
    code, report = run(capsys, "import", "platform", str(table), "--json")
    assert code == 1 and report["committed"] is False, report
    [problem] = report["problems"]
    assert (problem["row"], problem["field"], problem["reason"]) == (
        3, "host", "LHOG0000099 is not an organisation of this bank")
    code, listed = run(capsys, "list", "platforms", "--json")
    assert code == 0 and listed["total"] == 0, listed
