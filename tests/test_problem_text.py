"""Validation texts in Chinese (lanhai/problems.toml, lanhai.problem_text): every entry has
both languages with the same placeholders; every reason, fix and message the validators can
write has an entry (found by walking their source, so a new English text without its Chinese
fails here); and a curator who reads Chinese sees them in Chinese on the pages and in the
API's error answers, while English answers stay as they were."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import Request
from fastapi.responses import Response
from markupsafe import escape
from sqlalchemy import Engine

from lanhai import problem_text
from lanhai.errors import Problem, ValidationFailed
from lanhai.kinds import KINDS
from lanhai.kinds.fields import validate_fields
from lanhai.problem_text import (
    FRAGMENTS,
    catalogue,
    localize,
    localize_error,
    localize_problem,
    match,
    optional_count,
    parse,
    placeholders,
    preferred_language,
)
from lanhai.web.render import error
from tests.support.problem_sources import Text, module_paths, texts
from tests.support.web import HEADER, ROW, Site, csrf_of, make_site, sign_in

#: Han characters and CJK (full-width) punctuation
_HAN = re.compile("[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
TEMPLATES = Path(problem_text.__file__).parent / "web" / "templates"


@pytest.fixture
def site(engine: Engine) -> Iterator[Site]:
    yield from make_site(engine)


def _chinese(text: str) -> bool:
    return bool(_HAN.search(text))


# --- the catalogue -------------------------------------------------------------------------

def test_every_entry_has_english_and_chinese_with_the_same_placeholders() -> None:
    entries = catalogue()
    assert len(entries) > 200
    seen: set[tuple[bool, str]] = set()
    for entry in entries:
        assert entry.en.strip() and entry.zh.strip(), entry
        parse(entry.en), parse(entry.zh)  # well formed
        assert placeholders(entry.en) == placeholders(entry.zh), entry
        assert optional_count(entry.en) == optional_count(entry.zh), entry
        assert _chinese(entry.zh) and not _chinese(entry.en.replace("…", "")), entry
        key = (entry.group == FRAGMENTS, entry.en)
        assert key not in seen, f"{entry.en!r} is in the catalogue twice"
        seen.add(key)


def test_a_chinese_text_may_not_choose_between_english_words() -> None:
    with pytest.raises(ValueError, match="choice"):
        problem_text._compile(problem_text.Entry("has {n} {row|rows}", "有 {n} {行|列}", "x"))
    for bad in ("is {not closed", "is {bad name}", "is } unopened", "{?never closed"):
        with pytest.raises(ValueError):
            parse(bad)


# --- every text the validators write is in it ------------------------------------------------

def _uncovered(found: list[Text]) -> list[str]:
    """Texts no entry translates, or translates with placeholders that do not take
    exactly the values the code formats in."""
    missing = []
    for text in found:
        sample, tokens = text.sample(tuple(KINDS))  # words, and kinds for {name:kind}
        hit = match(sample)
        if hit is None:
            missing.append(f"{text.where}: {text.role} {text.shown!r} has no entry")
            continue
        entry, captured = hit
        if set(captured.values()) != tokens or len(captured) != len(tokens):
            missing.append(f"{text.where}: {text.role} {text.shown!r} matches {entry.en!r} "
                           f"with {captured} instead of one placeholder per value")
        elif not _chinese(localize(sample, "zh")):
            missing.append(f"{text.where}: {text.shown!r} is not translated")
    return missing


def test_every_validation_text_in_the_source_has_a_translation() -> None:
    """Walk kinds/*.py, imports/*.py, services/imports.py and services/catalog.py (and
    services/links.py once it exists): each reason and fix given to FieldError(...) or
    Problem(...), and each message of an error raised there, must have an entry. Add the
    missing ones to src/lanhai/problems.toml."""
    found = texts()
    assert {p.name for p in module_paths()} >= {"vocab.py", "fields.py", "reader.py",
                                                "columns.py", "mapping.py", "imports.py",
                                                "catalog.py"}
    assert len(found) > 200
    shown = {t.shown for t in found}
    # the walk follows helpers, local variables and plural forms
    assert {"is not a number", "the file is empty",  # FieldError(...), Table.fail(...)
            "e.g. …",  # fix = err.fix or f"e.g. {fld.example}"
            "has bytes … that are not valid …", "has byte … that is not valid …",
            "the … is not valid",  # ValidationFailed(...)
            "add a column … or set a constant; e.g. …"} <= shown
    assert _uncovered(found) == []


def test_a_new_english_text_without_its_chinese_fails_the_check(tmp_path: Path) -> None:
    source = tmp_path / "unicorns.py"
    source.write_text(
        "from lanhai.errors import Problem, UsageError\n"
        "from lanhai.kinds.vocab import FieldError\n\n"
        "def check(value, n):\n"
        "    if value == 'x':\n"
        "        raise FieldError(f'is not a unicorn of {value!r}', 'ride another one')\n"
        "    fix = 'is a number' if n else f'has {n} horn{\"s\" if n > 1 else \"\"}'\n"
        "    problems = [Problem(reason=fix, fix='ride ' + value)]\n"
        "    raise UsageError('too many unicorns: ' + ', '.join(problems))\n")
    found = texts([source])
    assert sorted(t.shown for t in found) == [
        "has … horn", "has … horns", "is a number", "is not a unicorn of …",
        "ride another one", "ride …", "too many unicorns: …"]
    assert len(_uncovered(found)) == 7
    # and one the catalogue has passes
    known = tmp_path / "known.py"
    known.write_text("from lanhai.kinds.vocab import FieldError\n"
                     "raise FieldError(f'has an unknown unit {unit!r}', 'check the unit')\n")
    assert _uncovered(texts([known])) == []


# --- localize ------------------------------------------------------------------------------

def test_localize_translates_whole_texts_and_templates() -> None:
    assert localize("is not a number", "zh") == "不是数字"
    assert localize("is not a number", "zh-CN") == "不是数字"
    assert localize("is not a number", "en") == "is not a number"
    assert localize("has an unknown unit 'parsec'", "zh") == "单位 'parsec' 无法识别"
    # the same placeholder twice must hold the same text
    assert localize("is outside -90..90 degrees", "zh") == "超出 -90..90 度的范围"
    assert localize("is outside -90..180 degrees", "zh") == "is outside -90..180 degrees"
    # plural forms, optional parts, literal braces
    assert localize("has 1 more cell than the header has columns (3)", "zh") == \
        "比表头的列数（3）多出 1 个单元格"
    assert localize("has 2 more cells than the header has columns (3)", "zh") == \
        "比表头的列数（3）多出 2 个单元格"
    assert localize("derived_from links sample to sample of the same kind", "zh") == \
        "derived_from 只能把 sample 关联到同一类型的 sample"
    assert localize("produces links strain/sample to compound", "zh") == \
        "produces 只能把 strain/sample 关联到 compound"
    assert localize("template 'x' has an empty {}; put a column name inside", "zh") == \
        "模板 'x' 中有空的 {}；请在其中写上列名"
    # a reason quoted inside a message is translated too ({reason!t}), and pieces of texts
    assert localize("--unit depth=parsec: has an unknown unit 'parsec'; use one of m, cm, km, "
                    "ft, fathom", "zh") == \
        "--unit depth=parsec：单位 'parsec' 无法识别；使用 m、cm、km、ft、fathom 之一"
    assert localize("cannot be read as semicolon-separated text (bad)", "zh") == \
        "无法按分号分隔的文本读取（bad）"
    # short templates take only what they were written for
    assert localize("give smiles or wurcs", "zh") == "填写 smiles or wurcs"
    assert localize("the sample is not valid", "zh") == "此 sample 记录无效"
    for other in ("give an HMMER3 profile file (hmmbuild output)", "the note is not valid",
                  "the pedigree links 3 animals to 5 parents"):
        assert localize(other, "zh") == other
    # … and pieces are never translated on their own
    assert localize("someone", "zh") == "someone"
    # unknown text comes back unchanged, whatever it holds
    for unknown in ("the moon is made of cheese", "", "is not a number!", "{x}", "是"):
        assert localize(unknown, "zh") == unknown


def test_real_problems_come_out_in_chinese() -> None:
    """Bad values for every field of every kind: each reason and fix is translated."""
    bad = ("not a value at all ☃", "-5", "2021-13-45", "[oops", "999", "x" * 3, "1.5")
    problems: list[Problem] = []
    for spec in KINDS.values():
        for value in bad:
            raw = {f.name: value for f in spec.fields if f.name not in spec.computed}
            problems.extend(validate_fields(spec, {**raw, "colour": "blue"}, row=2)[1])
            problems.extend(validate_fields(spec, {}, row=2)[1])
    assert len(problems) > 300
    for problem in problems:
        local = localize_problem(problem.to_dict(), "zh")
        assert _chinese(local["reason"]), problem
        assert not problem.fix or _chinese(local["fix"]), problem
        assert {k: v for k, v in local.items() if k not in ("reason", "fix")} == {
            k: v for k, v in problem.to_dict().items() if k not in ("reason", "fix")}
    english = [localize_problem(p.to_dict(), "en") for p in problems]
    assert english == [p.to_dict() for p in problems]


def test_localize_error_keeps_the_shape() -> None:
    body = ValidationFailed("the change to LHSM0000001 is not valid", [
        Problem("is not a number", "give a decimal number like 12.5", field="temp",
                value="warm"), Problem("an unknown reason", field="x")]).to_dict()
    local = localize_error(body, "zh")
    assert local == {"code": "invalid", "message": "对 LHSM0000001 的修改无效", "problems": [
        {"reason": "不是数字", "fix": "填写数字，例如 12.5", "field": "temp", "value": "warm"},
        {"reason": "an unknown reason", "field": "x"}]}
    assert localize_error(body, "en") == body


def test_a_thousand_problems_are_quick() -> None:
    texts_ = [text for i in range(1000) for text in (
        f"is already in the bank as LHSM{i:07d}", f"has an unknown unit 'u{i}'",
        f"describes the same record (LHSM{i:07d}) as row {i + 2}",
        f"'x{i}' is not a Lanhai accession (e.g. LHST0000001)", f"no such text {i}")]
    start = time.perf_counter()
    out = [localize(text, "zh") for text in texts_]
    assert time.perf_counter() - start < 1.0
    assert out[:5] == ["已在资源库中，编号为 LHSM0000000", "单位 'u0' 无法识别",
                       "与第 2 行描述的是同一条记录（LHSM0000000）",
                       "'x0' 不是蓝海编号（例如 LHST0000001）", "no such text 0"]


@pytest.mark.parametrize(("header", "asked", "expected"), [
    ("", "", "en"), ("zh-CN,zh;q=0.9,en;q=0.8", "", "zh"), ("en-GB,en;q=0.9,zh;q=0.8", "", "en"),
    ("en;q=0.5, zh-Hans;q=0.9", "", "zh"), ("fr, de;q=0.9", "", "en"), ("zh;q=0", "", "en"),
    ("en", "zh", "zh"), ("zh-TW", "en", "en"), ("zh", "klingon", "zh"), ("*", "", "en"),
])
def test_preferred_language(header: str, asked: str, expected: str) -> None:
    assert preferred_language(header, asked) == expected


# --- from the user's side: pages --------------------------------------------------------------

def test_the_error_page_and_its_twin_speak_chinese(site: Site) -> None:
    english = site.client.get("/records/NOT-AN-ACCESSION")
    message = "'NOT-AN-ACCESSION' is not a Lanhai accession (e.g. LHST0000001)"
    assert english.status_code == 400 and str(escape(message)) in english.text
    page = site.client.get("/records/NOT-AN-ACCESSION?lang=zh")
    assert page.status_code == 400
    assert str(escape("'NOT-AN-ACCESSION' 不是蓝海编号（例如 LHST0000001）")) in page.text
    assert "is not a Lanhai accession" not in page.text
    twin = site.client.get("/records/NOT-AN-ACCESSION.json")  # the cookie says Chinese now
    assert twin.json()["error"] == {
        "code": "usage", "message": "'NOT-AN-ACCESSION' 不是蓝海编号（例如 LHST0000001）"}
    site.client.cookies.set("lanhai_lang", "en")
    assert site.client.get("/records/NOT-AN-ACCESSION.json").json()["error"]["message"] == \
        message


def test_the_error_page_shows_problems_in_chinese(site: Site) -> None:
    failed = ValidationFailed("the change to LHSM0000001 is not valid", [
        Problem("is not a number", "give a decimal number like 12.5", field="temp",
                value="warm")])

    async def refuse(request: Request) -> Response:
        return error(request, failed, request.url.path.endswith(".json"))

    site.client.app.add_api_route("/problem-text-test", refuse)  # type: ignore[attr-defined]
    zh = site.client.get("/problem-text-test", headers={"Accept-Language": "zh-CN,zh"}).text
    assert "对 LHSM0000001 的修改无效" in zh and "<td>不是数字</td>" in zh
    assert "<td>填写数字，例如 12.5</td>" in zh and "is not a number" not in zh
    en = site.client.get("/problem-text-test", headers={"Accept-Language": "en"}).text
    assert "the change to LHSM0000001 is not valid" in en and "<td>is not a number</td>" in en


def _import(site: Site, lang: str) -> str:
    sign_in(site, "ana")
    csrf = csrf_of(site.client.get("/import").text)
    broken = HEADER + ROW.format(name="W1", date="2021-13-01", latlon="59.9 10.7") + \
        ROW.format(name="W2", date="2021-06-01", latlon="95 10.7")
    answer = site.client.post(f"/import?lang={lang}", data={"kind": "sample", "csrf": csrf},
                              files={"file": ("stations.csv", broken.encode(), "text/csv")})
    assert answer.status_code == 422
    page: str = answer.text
    return page[page.index("<tbody>"):page.index("</tbody>")]


def test_an_import_report_in_english_is_unchanged(site: Site) -> None:
    table = _import(site, "en")
    assert "has a month outside 01-12" in table and "write the date as YYYY-MM-DD" in table
    assert "is outside -90..90 degrees" in table
    assert not _chinese(table)


def test_an_import_report_in_chinese(site: Site) -> None:
    table = _import(site, "zh")
    assert "月份不在 01-12 之间" in table and "日期写成 YYYY-MM-DD" in table
    assert "超出 -90..90 度的范围" in table and "检查纬度和经度是否写反了" in table
    assert "has a month outside" not in table and "is outside" not in table
    # the cookie keeps the language for the next upload
    assert "月份不在 01-12 之间" in _import(site, "")


# --- from the user's side: the API ------------------------------------------------------------

def _patch(site: Site, **headers: str) -> Any:
    return site.client.patch(f"/api/samples/{site.sample}{headers.pop('query', '')}",
                             json={"depth": "deep", "temp": "warm"},
                             headers={**site.bearer("ana"), **headers})


def test_the_api_answers_in_chinese_when_asked(site: Site) -> None:
    english = _patch(site)
    assert english.status_code == 422
    body = english.json()["error"]
    assert body["message"] == f"the change to {site.sample} is not valid"
    assert {p["field"]: p["reason"] for p in body["problems"]} == {
        "depth": "is not a depth with a unit", "temp": "is not a number"}
    assert _patch(site, **{"Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"}).json() == \
        english.json()
    for asked in ({"Accept-Language": "zh-CN"}, {"Accept-Language": "en;q=0.3, zh;q=0.8"},
                  {"query": "?lang=zh", "Accept-Language": "en"}):
        chinese = _patch(site, **asked)
        assert chinese.status_code == 422
        local = chinese.json()["error"]
        assert local["code"] == "invalid"
        assert local["message"] == f"对 {site.sample} 的修改无效"
        assert [(p["field"], p["value"], p["reason"], p["fix"]) for p in local["problems"]] == [
            ("depth", "deep", "不是带单位的深度", "例如写成 '25 m'、'0-5 m' 或 '100 ft'"),
            ("temp", "warm", "不是数字", "填写数字，例如 12.5")]
        assert set(local) == set(body)


def test_the_api_translates_a_malformed_request_too(site: Site) -> None:
    wrong = site.client.patch(f"/api/samples/{site.sample}", json=["depth"],
                              headers={**site.bearer("ana"), "Accept-Language": "zh"})
    assert wrong.status_code == 422
    body = wrong.json()["error"]
    assert body["message"] == "请求无效"
    assert body["problems"][0]["fix"] == "参见 /openapi.json 中的 OpenAPI 文档"
    unknown = site.client.get("/api/samples/LHSM0000999", headers={"Accept-Language": "zh"})
    assert unknown.status_code == 404  # a message the catalogue lacks stays as it is
    assert unknown.json()["error"]["message"] == "no record 'LHSM0000999'"
