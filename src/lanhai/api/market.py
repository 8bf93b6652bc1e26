"""API routes of the technology market: ``GET /api/market/match/{accession}`` ranks the
offers for a demand (or the demands for an offer) the caller may see, explained; brokers,
deals and their events, the incentive ledger and broker performance under
``/api/market/brokers``, ``/deals`` and ``/ledger``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Header, Path, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from lanhai.api import schemas
from lanhai.api.deps import ActorDep, AdminDep, BankDep, UserDep, if_match_version
from lanhai.api.routing import api_router
from lanhai.market.deals import ledger_totals, yuan
from lanhai.market.feeds import ATOM_TYPE
from lanhai.model import MAX_KEY
from lanhai.services.market import MAX_TOP
from lanhai.services.releases import MAX_OFFERS

router = api_router(prefix="/api/market", tags=["market"])

DealId = Annotated[int, Path(ge=1, le=MAX_KEY, description="The deal's number")]


@router.get("/match/{accession}", summary="Offers for a demand, or demands for an offer",
            response_model=schemas.MarketMatches, response_model_by_alias=True)
def match(actor: ActorDep, bank: BankDep, accession: str,
          top: Annotated[int, Query(ge=1, le=MAX_TOP, description="How many matches")] = 10
          ) -> dict[str, Any]:
    """The best ``top`` counterparts on the market, in either language, each with its score
    and why: the concepts both name (褐藻胶寡糖 and "alginate oligosaccharide" are one),
    the words in common, the conditions of the demand met or missed (readiness level,
    transfer type, sector, field, expiry) and the bank's records behind the offer. Only
    published entries the caller may see are ranked."""
    return bank.market.match(actor, accession, top)


# --- brokers and deals --------------------------------------------------------------------------

class Accreditation(BaseModel):
    """A broker's accreditation."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"specialities": ["enzyme", "strain"], "level": "senior"}]})

    specialities: list[str] = Field(min_length=1, max_length=9,
                                    description="Fields of the market the broker knows")
    level: str = Field(description="junior, intermediate or senior")
    active: bool = True


class NewDeal(BaseModel):
    """A match taken into a deal."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"offer": "LHOF0000001", "demand": "LHDM0000001", "note": "both parties agree to talk"}]})

    offer: str = Field(max_length=16)
    demand: str = Field(max_length=16)
    broker: str | None = Field(default=None, max_length=100,
                               description="The broker (an admin opening it for one)")
    note: str = Field(default="", max_length=2000)
    on: dt.date | None = Field(default=None, description="The day it began (default today)")


class NewEvent(BaseModel):
    """One event of a deal."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"kind": "stage", "stage": "evaluation"},
        {"kind": "stage", "stage": "signing", "amount": "1200000",
         "documents": ["licence contract.pdf"]},
        {"kind": "stage", "stage": "registration", "registration_number": "2024370212000123"},
        {"kind": "payment", "amount": "600000"},
        {"kind": "service", "service": "due diligence", "amount": "20000"},
        {"kind": "stage", "stage": "closed", "outcome": "won", "outcome_type": "licence"},
        {"kind": "interest", "note": "we would like a sample of the enzyme"}]})

    kind: str = Field(description="stage, interest, note, service or payment")
    stage: str | None = Field(default=None, description="The stage entered (stage events)")
    amount: str | None = Field(default=None, max_length=20,
                               description="Yuan: the contract amount on signing, the sum "
                                           "paid, the fee of a service")
    note: str | None = Field(default=None, max_length=2000)
    documents: list[str] = Field(default_factory=list, max_length=50)
    outcome: str | None = Field(default=None, description="won or lost (closing)")
    outcome_type: str | None = Field(default=None, description="licence, assignment, "
                                                               "co-development, service, "
                                                               "equity (won)")
    registration_number: str | None = Field(default=None, max_length=100)
    service: str | None = Field(default=None, description="evaluation, due diligence, "
                                                          "valuation, legal, incubation, other")
    on: dt.date | None = Field(default=None, description="The day it happened (default today)")


@router.get("/brokers", summary="Accredited brokers (signed in)", response_model=schemas.Brokers)
def brokers(actor: UserDep, bank: BankDep) -> dict[str, Any]:
    """The accredited technology brokers, with their specialities and level."""
    return {"brokers": [b.to_dict() for b in bank.deals.brokers(actor)]}


@router.put("/brokers/{username}", summary="Accredit a broker (admin)",
            response_model=schemas.Broker)
def accredit(username: str, body: Accreditation, actor: AdminDep, bank: BankDep
             ) -> dict[str, Any]:
    """Accredit a user who has the broker role, or change their specialities, level or
    whether they are active."""
    return bank.deals.accredit(actor, username, body.specialities, body.level,
                               body.active).to_dict()


@router.get("/brokers/{username}/performance", summary="A broker's figures",
            response_model=schemas.BrokerPerformance)
def broker_performance(username: str, actor: UserDep, bank: BankDep) -> dict[str, Any]:
    """Deals, expressions of interest, deals signed, registered, won and lost, the contract
    amount, paid services, mean days per stage and what the incentive rules pay, all from
    the event log (the broker themself, or an admin)."""
    return bank.deals.performance(actor, username)


@router.get("/ledger", summary="The incentive ledger", response_model=schemas.Ledger)
def incentive_ledger(actor: UserDep, bank: BankDep,
                     broker: Annotated[str | None, Query(max_length=100)] = None
                     ) -> dict[str, Any]:
    """What the incentive rules pay, line by line, computed from the deals' events: all
    brokers' (admin; ``broker`` for one), or the caller's own (a broker)."""
    lines = bank.deals.ledger(actor, broker)
    return {"rules": [r.to_dict() for r in bank.deals.rules()],
            "lines": [line.to_dict() for line in lines],
            "totals": {b: yuan(v) for b, v in ledger_totals(lines).items()}}


@router.post("/deals", status_code=201, summary="Take a match into a deal (broker)",
             response_model=schemas.Deal)
def open_deal(body: NewDeal, actor: UserDep, bank: BankDep) -> JSONResponse:
    """An accredited broker opens a deal between an offer and a demand on the market (an
    admin names the broker). Only the two organisations' members, the broker and admins
    ever see it."""
    deal = bank.deals.open(actor, body.offer, body.demand, broker=body.broker,
                           note=body.note, on=body.on)
    return JSONResponse(deal.to_dict(), status_code=201,
                        headers={"Location": f"/api/market/deals/{deal.id}",
                                 "ETag": f'"{deal.version}"'})


@router.get("/deals", summary="The caller's deals", response_model=schemas.Deals)
def list_deals(actor: UserDep, bank: BankDep) -> dict[str, Any]:
    """The deals the caller is party to: a member's organisation's, a broker's own; all of
    them for an admin."""
    return {"deals": [d.to_dict() for d in bank.deals.of(actor)]}


@router.get("/deals/{deal_id}", summary="One deal (its parties, broker and admins)",
            response_model=schemas.Deal)
def get_deal(deal_id: DealId, actor: UserDep, bank: BankDep) -> JSONResponse:
    """A deal with every event; 404 for anyone not party to it."""
    deal = bank.deals.get(actor, deal_id)
    return JSONResponse(deal.to_dict(), headers={"ETag": f'"{deal.version}"'})


@router.post("/deals/{deal_id}/events", status_code=201, summary="Record an event of a deal",
             response_model=schemas.Deal)
def deal_event(deal_id: DealId, body: NewEvent, actor: UserDep, bank: BankDep,
               if_match: Annotated[str | None, Header(
                   description="The version the change is based on (ETag): 409 if the "
                               "deal changed since")] = None) -> JSONResponse:
    """A stage entered, a paid service or a payment (the broker or an admin); an
    expression of interest (a member of either organisation); a note (anyone party to
    the deal). Stages go one at a time; a deal is closed as lost at any stage, as won once
    signed."""
    details = body.model_dump(include={"note", "documents", "outcome", "outcome_type",
                                       "registration_number", "service"}, exclude_none=True)
    deal = bank.deals.record(actor, deal_id, body.kind, stage=body.stage, amount=body.amount,
                             details=details, on=body.on,
                             expected_version=if_match_version(if_match))
    return JSONResponse(deal.to_dict(), status_code=201,
                        headers={"ETag": f'"{deal.version}"'})


# --- releases --------------------------------------------------------------------------------

ReleaseId = Annotated[int, Path(ge=1, le=MAX_KEY, description="The release's number")]


class ReleaseBody(BaseModel):
    """A release's contents."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"title": "Qingdao's best results: synthetic biology",
         "title_zh": "青岛好成果 · 合成生物专场", "issued": "2026-12-18",
         "introduction": "Enzymes and strains from the city's marine banks.",
         "offers": ["LHOF0000001", "LHOF0000002"]}]})

    title: str = Field(min_length=1, max_length=300)
    title_zh: str = Field(default="", max_length=300)
    issued: dt.date
    introduction: str = Field(default="", max_length=5000)
    introduction_zh: str = Field(default="", max_length=5000)
    offers: list[str] = Field(min_length=1, max_length=MAX_OFFERS)


@router.get("/releases", summary="Releases of selected offers", response_model=schemas.Releases)
def releases(actor: ActorDep, bank: BankDep) -> dict[str, Any]:
    """Published releases, newest first (drafts too for admins)."""
    return {"releases": bank.releases.all(actor)}


@router.get("/releases.atom", summary="The releases as an Atom feed", response_class=Response,
            responses={200: {"description": "An Atom feed (RFC 4287)", "content": {
                "application/atom+xml": {"schema": {"type": "string"}}}}})
def releases_feed(request: Request, actor: ActorDep, bank: BankDep) -> Response:
    """Every published release as an entry: its title, introduction and offers."""
    return Response(bank.releases.feed(actor, str(request.base_url)), media_type=ATOM_TYPE)


@router.post("/releases", status_code=201, summary="Compose a release (admin)",
             response_model=schemas.Release)
def compose_release(body: ReleaseBody, actor: AdminDep, bank: BankDep) -> JSONResponse:
    """A draft release of published offers; publish it with
    POST /api/market/releases/{release_id}/publish."""
    made = bank.releases.compose(actor, **body.model_dump())
    return JSONResponse(jsonable_encoder(made), status_code=201, headers={
        "Location": f"/api/market/releases/{made['id']}", "ETag": f'"{made["version"]}"'})


@router.get("/releases/{release_id}", summary="One release",
            response_model=schemas.Release)
def get_release(release_id: ReleaseId, actor: ActorDep, bank: BankDep) -> JSONResponse:
    """A release with the offers the caller may see (a draft: admins only)."""
    found = bank.releases.get(actor, release_id)
    return JSONResponse(jsonable_encoder(found), headers={"ETag": f'"{found["version"]}"'})


@router.put("/releases/{release_id}", summary="Change a draft release (admin)",
            response_model=schemas.Release)
def change_release(release_id: ReleaseId, body: ReleaseBody, actor: AdminDep, bank: BankDep,
                   if_match: Annotated[str | None, Header(
                       description="The release's ETag as you read it: 409 if it changed "
                                   "since")] = None) -> JSONResponse:
    """Replace a draft's contents; a published release stays as issued (400)."""
    found = bank.releases.change(actor, release_id, **body.model_dump(),
                                 expected_version=if_match_version(if_match))
    return JSONResponse(jsonable_encoder(found), headers={"ETag": f'"{found["version"]}"'})


@router.post("/releases/{release_id}/publish", summary="Publish a release (admin)",
             response_model=schemas.Release)
def publish_release(release_id: ReleaseId, actor: AdminDep, bank: BankDep,
                    if_match: Annotated[str | None, Header(
                        description="The release's ETag as you read it: 409 if it changed "
                                    "since")] = None) -> JSONResponse:
    """Publish a draft: its page, the Atom feed and the brochure show it from now on."""
    found = bank.releases.publish(actor, release_id, if_match_version(if_match))
    return JSONResponse(jsonable_encoder(found), headers={"ETag": f'"{found["version"]}"'})


# --- notices ---------------------------------------------------------------------------------

NoticeId = Annotated[int, Path(ge=1, le=MAX_KEY, description="The notice's number")]


@router.get("/inbox", summary="The caller's notices", response_model=schemas.Inbox)
def inbox(actor: UserDep, bank: BankDep,
          unread: Annotated[bool, Query(description="Only those not yet read")] = False
          ) -> dict[str, Any]:
    """New matches of the caller's organisation's offers and demands, newest first."""
    notices = bank.notifications.inbox(actor, unread)
    return {"notices": [n.to_dict() for n in notices],
            "unread": sum(n.read_at is None for n in notices)}


@router.get("/inbox.atom", summary="The caller's notices as an Atom feed",
            response_class=Response,
            responses={200: {"description": "An Atom feed (RFC 4287)", "content": {
                "application/atom+xml": {"schema": {"type": "string"}}}}})
def inbox_feed(request: Request, actor: UserDep, bank: BankDep) -> Response:
    """The same notices, for a feed reader that sends the caller's token."""
    return Response(bank.notifications.feed(actor, str(request.base_url)),
                    media_type=ATOM_TYPE)


@router.post("/inbox/{notice_id}/read", status_code=204, summary="Mark a notice read",
             responses={204: {"description": "Marked read"}})
def read_notice(notice_id: NoticeId, actor: UserDep, bank: BankDep) -> Response:
    """Mark one of the caller's notices read (404 for anyone else's)."""
    bank.notifications.read(actor, notice_id)
    return Response(status_code=204)


@router.post("/notify", summary="Notify new matches now (admin)", response_model=schemas.Sweep)
def notify(actor: AdminDep, bank: BankDep) -> dict[str, int]:
    """Look at once for new matches of the entries published since the last look, notify
    both sides' members and e-mail them (the server also does it every
    LANHAI_NOTIFY_EVERY seconds)."""
    return bank.notifications.sweep(actor)


# --- financing needs -------------------------------------------------------------------------

NeedId = Annotated[int, Path(ge=1, le=MAX_KEY, description="The need's number")]


class NewNeed(BaseModel):
    """A financing need."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"title": "AlyZ7 pilot line", "amount": "5000000", "stage": "A",
         "use_of_funds": "a 5 t/year pilot line and its food-grade dossier",
         "offer": "LHOF0000001"}]})

    title: str = Field(min_length=1, max_length=300)
    amount: str = Field(max_length=20, description="Yuan")
    stage: str = Field(description="seed, angel, pre-A, A, B, C+, strategic, loan or grant")
    use_of_funds: str = Field(min_length=1, max_length=5000)
    organisation: str | None = Field(default=None, max_length=16,
                                     description="The organisation (an admin posting for one)")
    offer: str | None = Field(default=None, max_length=16,
                              description="The organisation's offer it would take forward")


@router.post("/financing", status_code=201, summary="Post a financing need",
             response_model=schemas.FinancingNeed)
def post_need(body: NewNeed, actor: UserDep, bank: BankDep) -> JSONResponse:
    """A member posts its organisation's need (an admin names the organisation); only
    investors, admins and the organisation's members ever see it."""
    made = bank.financing.post(actor, **body.model_dump())
    return JSONResponse(made, status_code=201,
                        headers={"Location": f"/api/market/financing/{made['id']}"})


@router.get("/financing", summary="Financing needs the caller may see",
            response_model=schemas.FinancingNeeds)
def list_needs(actor: UserDep, bank: BankDep) -> dict[str, Any]:
    """Every need for investors and admins; a member's organisation's own; nothing for
    anyone else."""
    return {"needs": bank.financing.all(actor)}


@router.get("/financing/{need_id}", summary="One financing need",
            response_model=schemas.FinancingNeed)
def get_need(need_id: NeedId, actor: UserDep, bank: BankDep) -> dict[str, Any]:
    """One need (404 for anyone who may not see it)."""
    return bank.financing.get(actor, need_id)


@router.post("/financing/{need_id}/close", summary="Close a financing need",
             response_model=schemas.FinancingNeed)
def close_need(need_id: NeedId, actor: UserDep, bank: BankDep) -> dict[str, Any]:
    """Close a need (its organisation's members, or an admin)."""
    return bank.financing.close(actor, need_id)
