"""Benchmark: programme monitoring on a bank of 100,000+ records, every indicator of the
shipped plan (47, of which 46 computed from the bank) over 12 quarters (2025-Q1 to
2027-Q4).

The bank is the web benchmark's big bank (100,000 samples and 20,000 strains, half marine,
a tenth plastic-degrading; cached under benchmarks/output/programme-bank) plus an industry
resource database: 600 organisations (a third qualified enterprises), 1,200 key technologies
and results, 240 platforms, 300 projects, 360 approvals, teams, funds and products, dated
over the three years. The day is pinned to 2027-12-15, so the 12 quarters run to 2027-Q4;
the first 11 are closed (their snapshots frozen) before timing.

What is timed (warm: the median of ``--repeat`` calls after one untimed call; the first,
cold call is printed too):

* the live figures of every indicator (``ProgrammeService.live``, what the programme
  office's dashboard computes) and the page ``/programme`` through the ASGI app;
* the published quarter (``/api/programme`` as the public sees it: the latest snapshot);
* the funder's workbook (XLSX) of a closed quarter and of the open one;
* closing a quarter (both snapshots and the records behind each value).

References in the same run, with ratios:

* a reporting script's way: one ``COUNT(*)`` per computed indicator and quarter with the
  same conditions (46 x 12 = 552 queries);
* ``GET /api/stats`` (one GROUP BY over the records: the least a dashboard can do);
* a bare openpyxl workbook of the same rows, without styles (for the XLSX).

Targets: dashboard and report < 1 s warm, XLSX < 5 s.

    .venv/bin/python -m benchmarks.bench_programme [--repeat 5] [--rebuild]

Not a test: figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.backends import load_average  # noqa: E402

OUTPUT = ROOT / "benchmarks" / "output"
TODAY = dt.date(2027, 12, 15)


def _day(rng: random.Random, end: dt.date = TODAY) -> str:
    start = dt.date(2024, 6, 1)
    return (start + dt.timedelta(days=rng.randrange((end - start).days))).isoformat()


def add_industry(folder: Path, url: str) -> None:
    """The industry records (once: kept with the cached bank)."""
    from lanhai.bank import init_bank
    from lanhai.kinds import kind_spec
    from lanhai.kinds.fields import validate_fields
    from lanhai.model import NewRecord
    from lanhai.settings import Settings
    from lanhai.store.queries import count_by_kind
    from lanhai.store.records import insert_records

    bank = init_bank(Settings(data_dir=folder, database_url=url))
    try:
        with bank.db.engine.connect() as conn:
            if count_by_kind(conn, True).get("product", 0):  # the last kind added
                return
        rng = random.Random(7)
        sectors = ("pharma", "food_health", "materials_energy", "agriculture_environment")
        tasks = ("base", "platform", *sectors)
        quals = ("gazelle", "little_giant", "specialised", "tech_leading", "high_tech")
        started = time.perf_counter()

        def made(kind: str, rows: list[dict[str, Any]]) -> list[str]:
            spec = kind_spec(kind)
            items = []
            for raw in rows:
                fields, problems = validate_fields(spec, raw)
                assert not problems, (kind, raw, problems)
                items.append(NewRecord(spec, fields, spec.identifiers(fields), False))
            with bank.db.engine.begin() as conn:
                return insert_records(conn, items, "bench")

        orgs = made("organisation", [
            {"name_zh": f"青岛测试企业{i}", "org_type": "enterprise" if i % 5 else "university",
             "sector": sectors[i % 4], "district": "370212",
             **({"qualifications": f"{quals[i % 5]} {2020 + i % 6}"} if i % 3 == 0 else {})}
            for i in range(600)])
        host = orgs[1]
        made("achievement", [
            {"title": f"Result {i}", "achievement_type": "key_technology" if i % 2 else "result",
             "task": tasks[i % 6], "sector": sectors[i % 4], "organisation": orgs[i % 600],
             "appraisal": ("internationally_leading", "internationally_advanced",
                           "domestically_leading")[i % 3],
             "appraised": _day(rng), "appraised_by": "山东省科学技术厅"} for i in range(1200)])
        kinds = ("key_laboratory", "engineering_centre", "foundry", "pilot_scale",
                 "screening_device", "separation_purification", "bioresource_centre",
                 "rd_institution", "ai_screening", "innovation_centre")
        made("platform", [
            {"name": f"Platform {i}", "platform_type": kinds[i % 10],
             "level": ("national", "provincial", "municipal")[i % 3], "host": host,
             "task": tasks[i % 6], "sector": sectors[i % 4], "recognised": _day(rng)}
            for i in range(240)])
        made("project", [
            {"name": f"Project {i}", "project_type": ("flagship_industrialisation",
                                                      "industrialisation", "pilot")[i % 3],
             "task": tasks[i % 6], "sector": sectors[i % 4], "started": _day(rng),
             "organisation": orgs[i % 600]} for i in range(300)])
        types = ("drug_clinical_trial", "cosmetics_registration", "pesticide_registration",
                 "aquatic_variety")
        approvals = []
        for i in range(360):
            day = _day(rng, min(TODAY, dt.date.today()))  # a number's year is never ahead
            year, kind = day[:4], types[i % 4]
            number = {"drug_clinical_trial": f"CXSL{year[2:]}{i:05d}",
                      "cosmetics_registration": f"国妆特字G{year}{i:04d}",
                      "pesticide_registration": f"PD{year}{i:04d}",
                      "aquatic_variety": f"GS-01-{i:03d}-{year}"}[kind]
            approvals.append({"approval_type": kind, "product_name": f"Product {i}",
                              "number": number, "granted": day, "holder": orgs[i % 600]})
        made("approval", approvals)
        made("team", [{"name": f"Team {i}", "team_type": ("top_scientist_team",
                                                          "leading_synbio_team")[i % 2],
                       "recognised": _day(rng)} for i in range(12)])
        made("fund", [{"name": "Synthetic biology industry fund",
                       "fund_type": "industry_fund", "established": "2025-06-30"}])
        made("product", [{"name": f"Product line {i}", "product_type": "flagship_product",
                          "task": sectors[i % 4], "launched": _day(rng)} for i in range(40)])
        print(f"added the industry records in {time.perf_counter() - started:.1f} s",
              file=sys.stderr)
    finally:
        bank.close()


def timed(call: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """(first call in ms, median of ``repeat`` later calls in ms, the last result)."""
    started = time.perf_counter()
    result = call()
    first = (time.perf_counter() - started) * 1000
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - started) * 1000)
    return first, statistics.median(times), result


def naive_counts(bank: Any) -> int:
    """What a reporting script does: one COUNT per computed indicator and quarter."""
    from sqlalchemy import func, select

    from lanhai.db.schema import records
    from lanhai.kinds import KINDS
    from lanhai.programme.periods import parse_quarter, quarters_between
    from lanhai.store import programme as store

    programme = bank.programme.programme()
    quarters = quarters_between(parse_quarter("2025-Q1"), parse_quarter("2027-Q4"))
    queries = 0
    with bank.db.read() as conn:
        for item in programme.indicators:
            if item.count is None or item.count.source not in KINDS:
                continue
            since = item.baseline_date if item.count.since_baseline else None
            for quarter in quarters:
                conds = store._conditions(conn, item.count, True, since)
                conn.execute(select(func.count()).select_from(records).where(
                    *conds, store._day(item.count) <= quarter.end.isoformat())).scalar()
                queries += 1
    return queries


def bare_workbook(snapshot: dict[str, Any]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in snapshot["indicators"]:
        sheet.append([row["key"], row["en"], row["zh"], row["value"], row["target"]["text"],
                      row["status"], row["evidence"], row["responsible"]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args(argv)

    from fastapi.testclient import TestClient

    from benchmarks.bench_web_pages import build_big
    from lanhai.app import create_app
    from lanhai.bank import init_bank
    from lanhai.programme.report import workbook
    from lanhai.services.access import ANONYMOUS, LOCAL_ADMIN
    from lanhai.settings import Settings
    from lanhai.store.queries import count_by_kind

    folder = OUTPUT / "programme-bank"
    url = build_big(folder, 100_000, 20_000, args.rebuild)
    add_industry(folder, url)
    bank = init_bank(Settings(data_dir=folder, database_url=url))
    service = bank.programme
    service.today = lambda: TODAY
    with bank.db.engine.connect() as conn:
        total = sum(count_by_kind(conn, True).values())
    programme = service.programme()
    computed = sum(1 for i in programme.indicators if i.count is not None)
    print(f"bank: {total:,} records; {len(programme.indicators)} indicators "
          f"({computed} computed); 12 quarters 2025-Q1..2027-Q4; load {load_average()}")
    closed = {p["period"] for p in service.periods(LOCAL_ADMIN) if p["closed"]}
    close_ms: list[float] = []
    for quarter in [p["period"] for p in service.periods(LOCAL_ADMIN)][:-1]:
        if quarter not in closed:
            started = time.perf_counter()
            service.close(LOCAL_ADMIN, quarter)
            close_ms.append((time.perf_counter() - started) * 1000)
    rows: list[tuple[str, float, float]] = []
    from lanhai.services.programme import ProgrammeService

    fresh = ProgrammeService(bank.db, bank.settings.indicators_file, today=lambda: TODAY)
    started = time.perf_counter()
    fresh.live(LOCAL_ADMIN)  # nothing cached: every indicator counted from the records
    print(f"live figures with nothing cached: {(time.perf_counter() - started) * 1000:.0f} ms")
    first, warm, live = timed(lambda: service.live(LOCAL_ADMIN), args.repeat)
    rows.append(("live figures, every indicator (office)", first, warm))
    assert len(live["indicators"][0]["series"]) == 12
    first, warm, _ = timed(lambda: service.overview(ANONYMOUS), args.repeat)
    rows.append(("published quarter (public)", first, warm))
    first, warm, _ = timed(lambda: service.report_xlsx(ANONYMOUS, "2027-Q3"), args.repeat)
    rows.append(("XLSX of a closed quarter", first, warm))
    first, warm, _ = timed(lambda: service.report_xlsx(LOCAL_ADMIN, "2027-Q4"), args.repeat)
    rows.append(("XLSX of the open quarter (live)", first, warm))
    with TestClient(create_app(bank=bank)) as client:
        first, warm, _ = timed(lambda: client.get("/programme").status_code, args.repeat)
        rows.append(("page /programme (public)", first, warm))
        first, warm, _ = timed(lambda: client.get("/programme/report/2027-Q3").status_code,
                               args.repeat)
        rows.append(("page /programme/report/2027-Q3", first, warm))
        _, stats, _ = timed(lambda: client.get("/api/stats").status_code, args.repeat)
    _, naive, queries = timed(lambda: naive_counts(bank), max(1, args.repeat // 2))
    snapshot = service.snapshot(ANONYMOUS, "2027-Q3")
    _, bare, _ = timed(lambda: bare_workbook(snapshot), args.repeat)
    _, ours_xlsx, _ = timed(lambda: workbook(snapshot), args.repeat)
    bank.close()
    print(f"\n{'measure':<42}{'cold ms':>10}{'warm ms':>10}")
    for name, cold, hot in rows:
        print(f"{name:<42}{cold:>10.1f}{hot:>10.1f}")
    if close_ms:
        print(f"closing a quarter: median {statistics.median(close_ms):.0f} ms over "
              f"{len(close_ms)} quarters")
    live_warm = rows[0][2]
    print(f"\nreference: a reporting script's {queries} COUNT queries: {naive:.0f} ms; "
          f"live figures warm / script = {live_warm / naive:.3f}")
    print(f"reference: GET /api/stats (one GROUP BY): {stats:.1f} ms; "
          f"live figures warm / stats = {live_warm / stats:.2f}")
    print(f"reference: a bare openpyxl workbook of the same rows: {bare:.1f} ms; "
          f"ours {ours_xlsx:.1f} ms = {ours_xlsx / bare:.2f}x")
    print("targets: dashboard and report < 1000 ms warm; XLSX < 5000 ms")


if __name__ == "__main__":
    main()
