"""New matches reach both sides: the members of the two organisations find a notice in their
inbox and Atom feed, and an e-mail sent through a real SMTP server started by the test;
each match is told once, and nothing hidden is ever told."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from lanhai.services.access import LOCAL_ADMIN, Actor
from lanhai.settings import Settings
from tests.support import add_token, create_user, make_client

CURATOR = Actor("ana", "curator")
ADMIN = Actor("root", "admin")
MARKET = {"field": "enzyme", "sector": "food_health", "market_status": "published"}


class Mailbox:
    """An SMTP handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Any]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    with socket.socket() as probe:  # a free port (the controller checks it by connecting)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


def market(engine: Engine, tmp_path: Path, smtp_url: str) -> tuple[TestClient, dict[str, Any]]:
    client = make_client(engine, Settings(data_dir=tmp_path / "bank", smtp_url=smtp_url,
                                          smtp_from="market@lanhai.example",
                                          notify_every=0))
    bank = client.app.state.bank  # type: ignore[attr-defined]
    orgs = [bank.catalog.create(CURATOR, "organisation", {
        "name_en": name, "org_type": "enterprise"}).accession for name in "ABC"]
    people = {"a1": (orgs[0], "a1@example.org"), "a2": (orgs[0], None),
              "b1": (orgs[1], "b1@example.org"), "c1": (orgs[2], "c1@example.org")}
    tokens = {}
    for name, (org, email) in people.items():
        bank.users.create_user(LOCAL_ADMIN, name, "member", organisation=org, email=email)
        tokens[name] = {"Authorization": f"Bearer {add_token(engine, name)}"}
    create_user(engine, "root", "admin")
    tokens["admin"] = {"Authorization": f"Bearer {add_token(engine, 'root')}"}
    entries = {
        "offer": bank.catalog.create(CURATOR, "offer", {
            **MARKET, "reference": "A-1", "organisation": orgs[0],
            "title": "PL7 alginate lyase for alginate oligosaccharides",
            "summary": "An endolytic alginate lyase turning sodium alginate into "
                       "oligosaccharides", "trl": "6", "transfer_types": "licence"}).accession,
        "demand": bank.catalog.create(CURATOR, "demand", {
            **MARKET, "reference": "B-1", "organisation": orgs[1],
            "title_zh": "褐藻胶寡糖制备用褐藻胶裂解酶",
            "summary_zh": "我公司拟开发褐藻胶寡糖功能食品，寻求高活性褐藻胶裂解酶"}).accession,
        "unrelated": bank.catalog.create(CURATOR, "demand", {
            **MARKET, "reference": "C-1", "organisation": orgs[2],
            "title": "Robotic fish feeders for offshore cages"}).accession}
    return client, {"tokens": tokens, "entries": entries, "orgs": orgs}


def test_a_new_match_is_told_to_both_sides_once(engine: Engine, tmp_path: Path,
                                               smtp: tuple[Mailbox, int]) -> None:
    box, port = smtp
    client, w = market(engine, tmp_path, f"smtp://127.0.0.1:{port}")
    who, entries = w["tokens"], w["entries"]
    assert client.post("/api/market/notify", headers=who["a1"]).status_code == 403
    done = client.post("/api/market/notify", headers=who["admin"]).json()
    assert done == {"entries": 3, "notified": 3, "emailed": 2}
    assert sorted(to for to, _ in box.messages) == [["a1@example.org"], ["b1@example.org"]]
    mail = box.messages[0][1]
    assert mail["From"] == "market@lanhai.example"
    assert "New match" in mail["Subject"] and entries["offer"] in mail.get_payload()
    # told once: nothing new, nothing sent again
    assert client.post("/api/market/notify", headers=who["admin"]).json() == \
        {"entries": 3, "notified": 0, "emailed": 0}
    assert len(box.messages) == 2

    a1 = client.get("/api/market/inbox", headers=who["a1"]).json()
    assert a1["unread"] == 1 and len(a1["notices"]) == 1
    notice = a1["notices"][0]
    assert (notice["body"]["offer"], notice["body"]["demand"]) == \
        (entries["offer"], entries["demand"])
    assert notice["emailed"] is True
    assert client.get("/api/market/inbox", headers=who["a2"]).json()["notices"][0][
        "emailed"] is False  # no address: the inbox only
    assert client.get("/api/market/inbox", headers=who["c1"]).json() == \
        {"notices": [], "unread": 0}
    assert client.post(f"/api/market/inbox/{notice['id']}/read",
                       headers=who["b1"]).status_code == 404
    assert client.post(f"/api/market/inbox/{notice['id']}/read",
                       headers=who["a1"]).status_code == 204
    assert client.get("/api/market/inbox?unread=true", headers=who["a1"]).json()[
        "notices"] == []
    assert client.get("/api/market/inbox").status_code == 401
    feed = ET.fromstring(client.get("/api/market/inbox.atom", headers=who["b1"]).content)
    titles = [e.findtext("{http://www.w3.org/2005/Atom}title")
              for e in feed.findall("{http://www.w3.org/2005/Atom}entry")]
    assert len(titles) == 1 and "New match" in (titles[0] or "")
    page = client.get("/market/inbox.json", headers=who["b1"]).json()
    assert page["signed_in"] is True and page["unread"] == 1


def test_hidden_entries_are_never_told(engine: Engine, tmp_path: Path,
                                       smtp: tuple[Mailbox, int]) -> None:
    box, port = smtp
    client, w = market(engine, tmp_path, f"smtp://127.0.0.1:{port}")
    bank = client.app.state.bank  # type: ignore[attr-defined]
    for entry in ("offer", "demand", "unrelated"):
        bank.catalog.update(CURATOR, w["entries"][entry], {"market_status": "withdrawn"})
    secret = bank.catalog.create(CURATOR, "offer", {
        **MARKET, "reference": "A-2", "organisation": w["orgs"][0],
        "visibility": "invitation", "title": "alginate lyase for alginate oligosaccharides",
        "trl": "7", "transfer_types": "licence"}).accession
    bank.catalog.create(CURATOR, "demand", {
        **MARKET, "reference": "B-2", "organisation": w["orgs"][1],
        "title": "an alginate lyase for alginate oligosaccharides"})
    assert bank.notifications.sweep(ADMIN)["notified"] == 0
    assert box.messages == []
    assert secret


def test_an_absent_smtp_server_leaves_the_notices_in_the_inbox(engine: Engine,
                                                               tmp_path: Path) -> None:
    client, w = market(engine, tmp_path, "smtp://127.0.0.1:9")  # nothing listens there
    done = client.post("/api/market/notify", headers=w["tokens"]["admin"]).json()
    assert (done["notified"], done["emailed"]) == (3, 0)
    notices = client.get("/api/market/inbox", headers=w["tokens"]["b1"]).json()["notices"]
    assert [n["emailed"] for n in notices] == [False]


def test_entries_past_their_day_expire_and_leave_the_market(engine: Engine,
                                                            tmp_path: Path) -> None:
    client, w = market(engine, tmp_path, "")
    bank = client.app.state.bank  # type: ignore[attr-defined]
    offer = w["entries"]["offer"]
    bank.catalog.update(CURATOR, offer, {"expires": "2026-01-31"})
    bank.catalog.update(CURATOR, w["entries"]["demand"], {"expires": "2100-12-31"})
    assert bank.notifications.expire(ADMIN, dt.date(2026, 2, 1)) == \
        [offer]
    record = bank.catalog.get(ADMIN, offer)
    assert record.fields["market_status"] == "expired" and record.restricted
    assert bank.catalog.history(ADMIN, offer)[-1].note == "expired: listed until 2026-01-31"
    # off the market: nobody matches it any more
    found = bank.market.match(ADMIN, w["entries"]["demand"], top=5)
    assert offer not in [m["accession"] for m in found["matches"]]
    assert bank.notifications.sweep(ADMIN)["entries"] == 2  # the two demands
