"""The market's parties through the API: members write their organisation's entries up to
submitting them, curators publish, a broker takes the match into a deal and through every
stage, and the incentive ledger and the broker's figures come out of the event log, checked
against a hand computation. Deals are seen by their parties only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from lanhai.services.access import Actor
from tests.support import add_user, make_client

CURATOR = Actor("ana", "curator")
ENTRY = {"field": "enzyme", "sector": "food_health"}


@dataclass
class Market:
    client: TestClient
    who: dict[str, dict[str, str]]
    orgs: dict[str, str]

    def call(self, caller: str, method: str, path: str, status: int, **kwargs: Any) -> Any:
        answer = self.client.request(method, path, headers=self.who.get(caller, {}), **kwargs)
        assert answer.status_code == status, (caller, method, path, answer.text[:300])
        return answer.json() if answer.content else None


@pytest.fixture
def market(engine: Engine) -> Market:
    client = make_client(engine)
    catalog = client.app.state.bank.catalog  # type: ignore[attr-defined]
    orgs = {name: catalog.create(CURATOR, "organisation", {
        "name_en": name, "org_type": kind}).accession
        for name, kind in (("Seaweed Bio", "enterprise"), ("Ocean Institute", "institute"),
                           ("Other Co", "enterprise"))}
    who = {"admin": add_user(engine, "root", "admin"),
           "curator": add_user(engine, "ana", "curator"),
           "reader": add_user(engine, "rui", "reader"),
           "investor": add_user(engine, "ivy", "investor"),
           "seller": add_user(engine, "sun", "member", organisation=orgs["Ocean Institute"]),
           "buyer": add_user(engine, "bai", "member", organisation=orgs["Seaweed Bio"]),
           "outsider": add_user(engine, "oli", "member", organisation=orgs["Other Co"]),
           "broker": add_user(engine, "wang", "broker"),
           "other broker": add_user(engine, "xu", "broker")}
    return Market(client, who, orgs)


def entries(m: Market) -> tuple[str, str]:
    """An offer of the institute and a demand of the enterprise, written by their members
    and published by a curator."""
    offer = m.call("seller", "POST", "/api/offers", 201, json={
        **ENTRY, "reference": "OI-ALY", "title": "PL7 alginate lyase", "trl": "6",
        "transfer_types": "licence", "market_status": "submitted"})
    assert offer["fields"]["organisation"] == m.orgs["Ocean Institute"]
    assert offer["restricted"] is True  # submitted, not yet published
    demand = m.call("buyer", "POST", "/api/demands", 201, json={
        **ENTRY, "reference": "SB-01", "title_zh": "褐藻胶寡糖制备用酶",
        "market_status": "draft"})
    for acc, kind in ((offer["accession"], "offers"), (demand["accession"], "demands")):
        m.call("curator", "PATCH", f"/api/{kind}/{acc}", 200,
               json={"market_status": "published"})
    return offer["accession"], demand["accession"]


def test_members_write_their_own_entries_and_curators_publish(market: Market) -> None:
    m = market
    draft = m.call("seller", "POST", "/api/offers", 201, json={
        **ENTRY, "reference": "OI-1", "title": "Agarase", "trl": "4",
        "transfer_types": "licence"})
    acc = draft["accession"]
    assert draft["fields"]["market_status"] == "draft"
    # its members see the draft; nobody else but curators does
    m.call("seller", "GET", f"/api/offers/{acc}", 200)
    for caller in ("outsider", "reader", "buyer", "broker"):
        m.call(caller, "GET", f"/api/offers/{acc}", 404)
    m.call("curator", "GET", f"/api/offers/{acc}", 200)
    # a member may submit, not publish; never for another organisation; a reader not at all
    m.call("seller", "PATCH", f"/api/offers/{acc}", 403, json={"market_status": "published"})
    m.call("seller", "PATCH", f"/api/offers/{acc}", 200, json={"market_status": "submitted"})
    m.call("outsider", "PATCH", f"/api/offers/{acc}", 404, json={"trl": "5"})
    m.call("seller", "POST", "/api/offers", 403, json={
        **ENTRY, "reference": "OI-2", "title": "x", "trl": "4", "transfer_types": "licence",
        "organisation": m.orgs["Other Co"]})
    m.call("reader", "POST", "/api/offers", 403, json={
        **ENTRY, "reference": "OI-3", "title": "x", "trl": "4", "transfer_types": "licence"})
    m.call("seller", "POST", "/api/samples", 403, json={"samp_name": "x"})
    m.call("curator", "PATCH", f"/api/offers/{acc}", 200, json={"market_status": "published"})
    # a published entry is changed by submitting it again for review
    m.call("seller", "PATCH", f"/api/offers/{acc}", 403, json={"trl": "5"})
    m.call("seller", "PATCH", f"/api/offers/{acc}", 200,
           json={"trl": "5", "market_status": "submitted"})
    bad = m.call("curator", "POST", "/api/offers", 422, json={
        **ENTRY, "reference": "OI-4", "title": "x", "trl": "4", "transfer_types": "licence",
        "organisation": "LHOG0099999"})
    assert bad["error"]["problems"][0]["field"] == "organisation"


def test_a_deals_whole_life_and_the_ledger_by_hand(market: Market) -> None:
    m = market
    offer, demand = entries(m)
    m.call("broker", "POST", "/api/market/deals", 403,
           json={"offer": offer, "demand": demand})  # not accredited yet
    m.call("curator", "PUT", "/api/market/brokers/wang", 403,
           json={"specialities": ["enzyme"], "level": "senior"})
    m.call("admin", "PUT", "/api/market/brokers/wang", 200,
           json={"specialities": ["enzyme", "strain"], "level": "senior"})
    m.call("admin", "PUT", "/api/market/brokers/xu", 200,
           json={"specialities": ["chassis"], "level": "junior"})
    m.call("admin", "PUT", "/api/market/brokers/ana", 400,
           json={"specialities": ["enzyme"], "level": "senior"})  # a curator, not a broker
    assert [b["username"] for b in m.call("buyer", "GET", "/api/market/brokers", 200)[
        "brokers"]] == ["wang", "xu"]

    deal = m.call("broker", "POST", "/api/market/deals", 201, json={
        "offer": offer, "demand": demand, "on": "2026-01-05", "note": "first call"})
    path, events = f"/api/market/deals/{deal['id']}", f"/api/market/deals/{deal['id']}/events"
    assert (deal["stage"], deal["reference"]) == ("initiation", "DEAL-000001")

    def event(caller: str, status: int = 201, **body: Any) -> Any:
        return m.call(caller, "POST", events, status, json=body)

    event("buyer", kind="interest", note="we want samples", on="2026-01-06")
    event("outsider", 404, kind="interest")
    event("seller", 403, kind="stage", stage="evaluation")
    event("broker", 400, kind="stage", stage="matching", on="2026-01-10")  # skips evaluation
    event("broker", kind="stage", stage="evaluation", on="2026-01-10")
    event("broker", kind="service", service="due diligence", amount="20000", on="2026-01-12")
    event("broker", 400, kind="payment", amount="1000", on="2026-01-12")  # nothing signed
    event("broker", 400, kind="stage", stage="closed", outcome="won", outcome_type="licence")
    event("broker", kind="stage", stage="matching", on="2026-01-15")
    event("broker", kind="stage", stage="negotiation", on="2026-01-20")
    event("broker", 400, kind="stage", stage="signing", on="2026-02-01")  # no amount
    event("broker", 400, kind="stage", stage="signing", amount="1200000", on="2026-01-01")
    signed = event("broker", kind="stage", stage="signing", amount="1,200,000",
                   documents=["licence contract.pdf"], on="2026-02-01")
    assert signed["amount"] == "1200000.00"
    event("broker", 400, kind="stage", stage="registration", on="2026-02-10")
    event("broker", kind="stage", stage="registration", registration_number="2026370212000123",
          on="2026-02-10")
    event("broker", kind="stage", stage="payment", on="2026-02-15")
    event("broker", kind="payment", amount="600000", on="2026-02-20")
    stale = m.call("broker", "GET", path, 200)
    event("broker", kind="payment", amount="600000", on="2026-03-20")
    answer = m.client.post(events, headers={**m.who["broker"],
                                            "If-Match": f'"{stale["version"]}"'},
                           json={"kind": "note", "note": "late"})
    assert answer.status_code == 409, answer.text
    done = event("broker", kind="stage", stage="closed", outcome="won",
                 outcome_type="licence", on="2026-03-25")
    assert (done["stage"], done["outcome"], done["outcome_type"]) == \
        ("closed", "won", "licence")
    event("broker", 400, kind="note", note="after the close")

    # who sees it: the two organisations' members, the broker, admins; nobody else
    for caller in ("seller", "buyer", "broker", "admin"):
        m.call(caller, "GET", path, 200)
        assert len(m.call(caller, "GET", "/api/market/deals", 200)["deals"]) == 1
    for caller in ("outsider", "other broker", "curator", "reader", "investor"):
        m.call(caller, "GET", path, 404)
        assert m.call(caller, "GET", "/api/market/deals", 200)["deals"] == []
    m.call("anonymous", "GET", path, 401)
    page = m.client.get(f"/market/deals/{deal['id']}", headers=m.who["buyer"])
    assert page.status_code == 200 and "2026370212000123" in page.text
    assert m.client.get(f"/market/deals/{deal['id']}.json",
                        headers=m.who["outsider"]).status_code == 404
    listed = m.client.get("/market/deals.json", headers=m.who["seller"]).json()
    assert [d["reference"] for d in listed["deals"]] == ["DEAL-000001"]

    # by hand, with the shipped rules: 200 (matching) + 1 % of 1,200,000 (signing) + 2,000
    # (registration) + 2 % of 600,000 twice (payments) + 30 % of 20,000 (the service)
    ledger = m.call("broker", "GET", "/api/market/ledger", 200)
    assert [(line["rule"], line["amount"]) for line in ledger["lines"]] == [
        ("paid service rendered", "6000.00"), ("match taken into a deal", "200.00"),
        ("contract signed", "12000.00"), ("contract registered (技术合同认定登记)", "2000.00"),
        ("payment received", "12000.00"), ("payment received", "12000.00")]
    assert ledger["totals"] == {"wang": "44200.00"}
    assert m.call("admin", "GET", "/api/market/ledger?broker=wang", 200)["totals"] == \
        {"wang": "44200.00"}
    assert m.call("other broker", "GET", "/api/market/ledger", 200)["totals"] == {}
    m.call("seller", "GET", "/api/market/ledger", 403)
    m.call("other broker", "GET", "/api/market/ledger?broker=wang", 403)

    figures = m.call("broker", "GET", "/api/market/brokers/wang/performance", 200)
    assert {k: figures[k] for k in ("deals", "expressions_of_interest", "signed",
                                    "registered", "won", "lost", "open", "services")} == {
        "deals": 1, "expressions_of_interest": 1, "signed": 1, "registered": 1, "won": 1,
        "lost": 0, "open": 0, "services": 1}
    assert figures["contract_amount"] == "1200000.00" and figures["earned"] == "44200.00"
    assert figures["days_per_stage"] == {
        "initiation": 5.0, "evaluation": 5.0, "matching": 5.0, "negotiation": 12.0,
        "signing": 9.0, "registration": 5.0, "payment": 38.0}
    m.call("other broker", "GET", "/api/market/brokers/wang/performance", 403)


def test_a_deal_is_lost_at_any_stage_and_only_entries_on_the_market_make_one(
        market: Market) -> None:
    m = market
    offer, demand = entries(m)
    m.call("admin", "PUT", "/api/market/brokers/wang", 200,
           json={"specialities": ["enzyme"], "level": "intermediate"})
    m.call("curator", "PATCH", f"/api/demands/{demand}", 200,
           json={"market_status": "withdrawn"})
    # withdrawn: off the market, and out of a broker's sight
    m.call("broker", "POST", "/api/market/deals", 404, json={"offer": offer, "demand": demand})
    m.call("admin", "POST", "/api/market/deals", 400,
           json={"offer": offer, "demand": demand, "broker": "wang"})
    m.call("curator", "PATCH", f"/api/demands/{demand}", 200,
           json={"market_status": "published"})
    m.call("broker", "POST", "/api/market/deals", 400, json={"offer": demand, "demand": offer})
    deal = m.call("admin", "POST", "/api/market/deals", 201,
                  json={"offer": offer, "demand": demand, "broker": "wang"})
    assert deal["broker"] == "wang"
    lost = m.call("broker", "POST", f"/api/market/deals/{deal['id']}/events", 201,
                  json={"kind": "stage", "stage": "closed", "outcome": "lost"})
    assert (lost["stage"], lost["outcome"]) == ("closed", "lost")


def test_details_under_nda_stay_with_the_organisation_and_curators(market: Market) -> None:
    m = market
    made = m.call("seller", "POST", "/api/offers", 201, json={
        **ENTRY, "reference": "OI-NDA", "title": "Alginate lyase AlyZ7",
        "summary": "High-activity PL7 lyase", "details": "His-tag at the N-terminus, "
        "fed-batch at 30 C to 1.2 g/L", "trl": "6", "transfer_types": "licence",
        "visibility": "nda", "market_status": "submitted"})
    acc = made["accession"]
    m.call("curator", "PATCH", f"/api/offers/{acc}", 200,
           json={"market_status": "published"})
    for caller in ("anonymous", "reader", "buyer", "broker"):
        seen = m.call(caller, "GET", f"/api/offers/{acc}", 200)
        assert seen["fields"]["summary"] == "High-activity PL7 lyase"
        assert "details" not in seen["fields"], caller
        history = m.call(caller, "GET", f"/api/records/{acc}/history", 200)
        assert "fed-batch" not in str(history)
        listed = m.call(caller, "GET", "/api/offers?q=AlyZ7", 200)
        assert "fed-batch" not in str(listed)
        assert "fed-batch" not in m.client.get(
            "/api/offers/export?format=json", headers=m.who.get(caller, {})).text
        assert m.call(caller, "GET", "/api/search?q=fed-batch", 200)["total"] == 0
    for caller in ("seller", "curator", "admin"):
        assert "fed-batch" in m.call(caller, "GET", f"/api/offers/{acc}", 200)["fields"][
            "details"]


def test_financing_needs_are_for_investors_admins_and_the_organisation(
        market: Market) -> None:
    m = market
    offer, _ = entries(m)
    need = {"title": "AlyZ7 pilot line", "amount": "5,000,000", "stage": "A",
            "use_of_funds": "a 5 t/year pilot line", "offer": offer}
    m.call("reader", "POST", "/api/market/financing", 403, json=need)
    m.call("investor", "POST", "/api/market/financing", 403, json=need)
    m.call("buyer", "POST", "/api/market/financing", 400, json=need)  # another's offer
    made = m.call("seller", "POST", "/api/market/financing", 201, json=need)
    assert (made["amount"], made["organisation"], made["status"]) == \
        ("5000000.00", m.orgs["Ocean Institute"], "open")
    one = f"/api/market/financing/{made['id']}"
    for caller in ("investor", "admin", "seller"):
        m.call(caller, "GET", one, 200)
        assert len(m.call(caller, "GET", "/api/market/financing", 200)["needs"]) == 1
    for caller in ("buyer", "reader", "curator", "broker"):
        m.call(caller, "GET", one, 404)
        assert m.call(caller, "GET", "/api/market/financing", 200)["needs"] == []
    m.call("anonymous", "GET", "/api/market/financing", 401)
    m.call("seller", "POST", "/api/market/financing", 400, json={**need, "stage": "IPO"})
    m.call("investor", "POST", f"{one}/close", 403)
    assert m.call("seller", "POST", f"{one}/close", 200)["status"] == "closed"


def test_the_broker_and_the_parties_record_events_on_the_deal_page(market: Market) -> None:
    m = market
    offer, demand = entries(m)
    m.call("admin", "PUT", "/api/market/brokers/wang", 200,
           json={"specialities": ["enzyme"], "level": "senior"})
    # the broker takes the match shown on the offer's page into a deal
    offer_page = m.client.get(f"/records/{offer}", headers=m.who["broker"]).text
    assert 'action="/market/deals"' in offer_page and f'value="{demand}"' in offer_page
    assert 'action="/market/deals"' not in m.client.get(
        f"/records/{offer}", headers=m.who["seller"]).text  # members open no deals
    opened = m.client.post("/market/deals", headers=m.who["broker"], follow_redirects=False,
                           data={"offer": offer, "demand": demand})
    assert opened.status_code == 303 and opened.headers["location"] == "/market/deals/1"
    refused = m.client.post("/market/deals", headers=m.who["seller"],
                            data={"offer": offer, "demand": demand})
    assert refused.status_code == 403
    deal = m.call("broker", "GET", "/api/market/deals/1", 200)
    url = f"/market/deals/{deal['id']}"
    page = m.client.get(url, headers=m.who["broker"])
    assert 'action="/market/deals/1/events"' in page.text and "evaluation" in page.text
    moved = m.client.post(f"{url}/events", headers=m.who["broker"], follow_redirects=False,
                          data={"kind": "stage", "stage": "evaluation", "version": "1"})
    assert moved.status_code == 303 and moved.headers["location"] == url
    assert m.call("broker", "GET", f"/api/market/deals/{deal['id']}", 200)["stage"] == \
        "evaluation"
    # the same form again: the deal has moved on since that page was read
    stale = m.client.post(f"{url}/events", headers=m.who["broker"],
                          data={"kind": "stage", "stage": "matching", "version": "1"})
    assert stale.status_code == 409 and "version" in stale.text
    # a party's member sees no broker events to choose and may express interest
    seen = m.client.get(url, headers=m.who["buyer"]).text
    assert 'value="interest"' in seen and 'value="payment"' not in seen
    interest = m.client.post(f"{url}/events", headers=m.who["buyer"], follow_redirects=False,
                             data={"kind": "interest", "note": "samples wanted",
                                   "version": "2"})
    assert interest.status_code == 303
    refused = m.client.post(f"{url}/events", headers=m.who["buyer"],
                            data={"kind": "stage", "stage": "matching", "version": "3"})
    assert refused.status_code == 403
    wrong = m.client.post(f"{url}/events", headers=m.who["broker"],
                          data={"kind": "stage", "stage": "signing", "version": "3"})
    assert wrong.status_code == 400 and "next stage is matching" in wrong.text
    assert m.client.post(f"{url}/events", headers=m.who["outsider"],
                         data={"kind": "note", "note": "x", "version": "3"}).status_code == 404
    closed = m.client.post(f"{url}/events", headers=m.who["broker"], follow_redirects=False,
                           data={"kind": "stage", "stage": "closed", "outcome": "lost",
                                 "note": "the buyer chose another supplier", "version": "3"})
    assert closed.status_code == 303
    assert 'action="/market/deals/1/events"' not in m.client.get(
        url, headers=m.who["broker"]).text  # nothing more is recorded on a closed deal


def test_members_write_their_entries_on_the_pages(market: Market) -> None:
    """A member opens the new-offer form, which has no organisation to choose and only the
    review states a member may give; the offer is its organisation's; it edits its own
    entries and no one else's."""
    m = market
    form = m.client.get("/new/offer", headers=m.who["seller"])
    assert form.status_code == 200
    assert 'name="f_organisation"' not in form.text
    assert 'value="submitted"' in form.text and 'value="published"' not in form.text
    made = m.client.post("/new/offer", headers=m.who["seller"], follow_redirects=False, data={
        "f_title": "Agarase for neoagaro-oligosaccharides", "f_reference": "OI-AGA",
        "f_field": "enzyme", "f_sector": "food_health", "f_trl": "5",
        "f_transfer_types": "licence", "f_market_status": "submitted"})
    assert made.status_code == 303, made.text[:500]
    accession = made.headers["location"].rsplit("/", 1)[1]
    record = m.call("seller", "GET", f"/api/records/{accession}", 200)
    assert record["fields"]["organisation"] == m.orgs["Ocean Institute"]
    page = m.client.get(f"/records/{accession}", headers=m.who["seller"])
    assert f'href="/records/{accession}/edit"' in page.text
    assert m.client.get(f"/records/{accession}/edit",
                        headers=m.who["seller"]).status_code == 200
    other = m.client.get(f"/records/{accession}/edit", headers=m.who["outsider"])
    assert other.status_code in (403, 404)
    published = m.client.post("/new/offer", headers=m.who["seller"], data={
        "f_title": "x", "f_reference": "OI-X", "f_field": "enzyme", "f_sector": "food_health",
        "f_trl": "5", "f_transfer_types": "licence", "f_market_status": "published"})
    assert published.status_code == 403  # publishing is the reviewing curators'
    assert m.client.get("/new/sample", headers=m.who["seller"]).status_code == 403
    assert m.client.get("/new/offer", headers=m.who["reader"]).status_code == 403
    browse = m.client.get("/browse/offers", headers=m.who["seller"]).text
    assert 'href="/new/offer"' in browse


def test_members_find_their_own_unpublished_entries_in_lists(market: Market) -> None:
    """A draft or submitted entry is restricted: its organisation's members list and search
    it with the published ones; other members and readers do not see it at all."""
    m = market
    draft = m.call("seller", "POST", "/api/offers", 201, json={
        **ENTRY, "reference": "OI-DRAFT", "title": "Carrageenase, draft", "trl": "3",
        "transfer_types": "licence", "market_status": "draft"})["accession"]
    public = m.call("seller", "POST", "/api/offers", 201, json={
        **ENTRY, "reference": "OI-PUB", "title": "Carrageenase for kappa-carrageenan",
        "trl": "6", "transfer_types": "licence", "market_status": "submitted"})["accession"]
    m.call("curator", "PATCH", f"/api/offers/{public}", 200, json={"market_status": "published"})

    def listed(caller: str, query: str = "") -> set[str]:
        found = m.call(caller, "GET", f"/api/offers{query}", 200)
        return {r["accession"] for r in found["items"]}

    assert listed("seller") == {draft, public}
    assert listed("seller", "?q=carrageenase") == {draft, public}
    assert listed("seller", "?where=market_status=draft") == {draft}
    for caller in ("outsider", "reader", "anonymous", "broker"):
        assert listed(caller) == {public}, caller
    assert listed("curator") == {draft, public}
    def searched(caller: str) -> set[str]:
        found = m.call(caller, "GET", "/api/search?q=carrageenase", 200)
        return {r["accession"] for r in found["items"]}

    assert searched("seller") == {draft, public}
    assert searched("outsider") == searched("reader") == {public}
    page = m.client.get("/browse/offers", headers=m.who["seller"]).text
    assert draft in page
    assert draft not in m.client.get("/browse/offers", headers=m.who["outsider"]).text


def test_financing_needs_on_the_pages(market: Market) -> None:
    """A member posts its organisation's need on the page; investors and its members see it,
    other members and readers do not; the member closes it."""
    m = market
    form = m.client.get("/market/financing", headers=m.who["seller"])
    assert form.status_code == 200 and 'action="/market/financing"' in form.text
    posted = m.client.post("/market/financing", headers=m.who["seller"], follow_redirects=False,
                           data={"title": "Pilot line for alginate oligosaccharides",
                                 "amount": "5,000,000", "stage": "A",
                                 "use_of_funds": "a 5 m3 fermentation line"})
    assert posted.status_code == 303 and posted.headers["location"] == "/market/financing"
    bad = m.client.post("/market/financing", headers=m.who["seller"],
                        data={"title": "x", "amount": "-1", "stage": "A",
                              "use_of_funds": "y"})
    assert bad.status_code == 400 and "is not an amount of money" in bad.text
    for caller in ("seller", "investor", "admin"):
        page = m.client.get("/market/financing.json", headers=m.who[caller]).json()
        assert [n["title"] for n in page["needs"]] == [
            "Pilot line for alginate oligosaccharides"], caller
    for caller in ("buyer", "reader", "broker"):
        assert m.client.get("/market/financing.json",
                            headers=m.who[caller]).json()["needs"] == [], caller
    assert m.client.post("/market/financing", headers=m.who["reader"], data={
        "title": "x", "amount": "1", "stage": "A", "use_of_funds": "y"}).status_code == 403
    need = m.client.get("/market/financing.json", headers=m.who["seller"]).json()["needs"][0]
    assert need["may_close"] is True
    assert m.client.post(f"/market/financing/{need['id']}/close",
                         headers=m.who["investor"]).status_code == 403
    closed = m.client.post(f"/market/financing/{need['id']}/close", headers=m.who["seller"],
                           follow_redirects=False)
    assert closed.status_code == 303
    assert m.call("seller", "GET", f"/api/market/financing/{need['id']}", 200)["status"] == \
        "closed"


def test_an_admin_composes_and_publishes_a_release_on_the_pages(market: Market) -> None:
    m = market
    offer, _ = entries(m)
    page = m.client.get("/market/releases", headers=m.who["admin"]).text
    assert 'action="/market/releases"' in page
    assert 'action="/market/releases"' not in m.client.get(
        "/market/releases", headers=m.who["curator"]).text
    bad = m.client.post("/market/releases", headers=m.who["admin"], data={
        "title": "x", "issued": "31/12/2026", "offers": offer})
    assert bad.status_code == 400 and "2026-12-31" in bad.text
    made = m.client.post("/market/releases", headers=m.who["admin"], follow_redirects=False,
                         data={"title": "Best results: synthetic biology",
                               "title_zh": "青岛好成果 · 合成生物专场", "issued": "2026-12-31",
                               "offers": offer})
    assert made.status_code == 303
    url = made.headers["location"]
    assert m.client.get(url, headers=m.who["reader"]).status_code == 404  # a draft
    draft = m.client.get(url, headers=m.who["admin"]).text
    assert f'action="{url}/publish"' in draft
    assert m.client.post(f"{url}/publish", headers=m.who["curator"]).status_code == 403
    published = m.client.post(f"{url}/publish", headers=m.who["admin"],
                              follow_redirects=False, data={"version": "1"})
    assert published.status_code == 303
    shown = m.client.get(url, headers=m.who["reader"])
    assert shown.status_code == 200 and "PL7 alginate lyase" in shown.text
