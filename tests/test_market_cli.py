"""The market from the platform operator's shell: accredit a broker, open a deal for them,
record its events, and read the ledger and the broker's figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from lanhai.cli.main import main
from tests.support import run_json

ORGS = "name_en,org_type\nOcean Institute,institute\nSeaweed Bio,enterprise\n"


def test_a_deal_from_the_shell(bank_dir: Path, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "orgs.csv").write_text(ORGS, encoding="utf-8")
    assert main(["import", "organisation", str(tmp_path / "orgs.csv")]) == 0
    offer = run_json(capsys, ["create", "offer", "--set", "reference=O1", "--set",
                              "title=PL7 alginate lyase", "--set", "field=enzyme", "--set",
                              "sector=food_health", "--set", "trl=6", "--set",
                              "transfer_types=licence", "--set", "market_status=published",
                              "--set", "organisation=LHOG0000001"])["accession"]
    demand = run_json(capsys, ["create", "demand", "--set", "reference=D1", "--set",
                               "title_zh=褐藻胶寡糖", "--set", "market_status=published",
                               "--set", "organisation=LHOG0000002"])["accession"]
    assert main(["users", "add", "wang", "--role", "broker"]) == 0
    assert main(["users", "add", "bai", "--role", "member"]) == 2  # no organisation
    assert main(["users", "add", "bai", "--role", "member", "--organisation", "LHOG0000009"]) \
        == 2
    assert main(["users", "add", "bai", "--role", "member", "--organisation",
                 "LHOG0000002"]) == 0
    accredited = run_json(capsys, ["market", "broker", "accredit", "wang", "--speciality",
                                   "enzyme", "--level", "senior"])
    assert accredited["specialities"] == ["enzyme"]

    deal = run_json(capsys, ["market", "deal", "open", offer, demand, "--broker", "wang",
                             "--on", "2026-03-02"])
    for stage, extra in (("evaluation", []), ("matching", []), ("negotiation", []),
                         ("signing", ["--amount", "500000"]),
                         ("registration", ["--registration-number", "2026370212000007"])):
        run_json(capsys, ["market", "deal", "event", str(deal["id"]), "stage", "--stage",
                          stage, "--on", "2026-03-10", *extra])
    capsys.readouterr()
    assert main(["market", "deal", "event", str(deal["id"]), "stage", "--stage",
                 "closed"]) == 2
    assert "closing a deal needs its outcome: won or lost" in capsys.readouterr().err
    run_json(capsys, ["market", "deal", "event", str(deal["id"]), "stage", "--stage",
                      "closed", "--outcome", "won", "--outcome-type", "licence"])

    lines = run_json(capsys, ["market", "ledger", "--broker", "wang"])
    # 200 (matching) + 1 % of 500,000 (signing) + 2,000 (registration)
    assert [line["amount"] for line in lines] == ["200.00", "5000.00", "2000.00"]
    capsys.readouterr()
    assert main(["market", "ledger"]) == 0
    assert "total wang: 7200.00 yuan" in capsys.readouterr().err
    figures = run_json(capsys, ["market", "broker", "performance", "wang"])
    assert (figures["won"], figures["earned"], figures["days_per_stage"]["initiation"]) == \
        (1, "7200.00", 8.0)
    assert main(["market", "deal", "show", str(deal["id"])]) == 0
    shown = capsys.readouterr().out
    assert "DEAL-000001" in shown and "contract 500000.00 yuan" in shown
    assert "registration_number: 2026370212000007" in shown

    made = run_json(capsys, ["market", "release", "compose", offer, "--title", "Marine enzymes",
                             "--title-zh", "海洋酶专场", "--issued", "2026-12-01"])
    assert made["published"] is False and made["offers"] == [offer]
    assert run_json(capsys, ["market", "release", "publish", str(made["id"])])["published"]
    capsys.readouterr()
    assert main(["market", "release", "compose", demand, "--title", "x", "--issued",
                 "2026-12-01"]) == 2
    assert f"not offers of this bank: {demand}" in capsys.readouterr().err
    assert main(["market", "release", "list"]) == 0
    assert "published\t1\tMarine enzymes" in capsys.readouterr().out
