"""The market's pages: its releases of selected offers (a page each, a printable brochure;
admins compose and publish them here), a signed-in user's notices, deals (brokers open them
from a match and record their stages here, parties their interest and notes) and financing
needs, with their JSON twins; offers, demands and their matches are record pages."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from lanhai.api.routing import api_router
from lanhai.errors import LanhaiError, NotFound, UsageError
from lanhai.market.deals import (
    BROKER_EVENTS,
    OUTCOME_TYPES,
    OUTCOMES,
    SERVICES,
    STAGES,
)
from lanhai.model import MAX_KEY
from lanhai.services.access import Actor
from lanhai.services.financing import STAGES as FUNDING_STAGES
from lanhai.web.auth import check_csrf, page_actor
from lanhai.web.render import bank_of, error, page, twin

router = api_router(include_in_schema=False, tags=["web"])


def _number(request: Request, what: str) -> int:
    """The number of the release or deal a page's path names (404 for anything else)."""
    raw = str(request.path_params[f"{what}_id"])
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_KEY:
        raise NotFound(f"no {what} {raw[:20]!r}")
    return int(raw)


async def releases(request: Request, is_json: bool) -> Response:
    def call(actor: Actor) -> dict[str, Any]:
        return {"releases": bank_of(request).releases.all(actor), "can_compose": actor.is_admin}

    return await page(request, "market_releases.html", is_json, call)


async def release(request: Request, is_json: bool) -> Response:
    return await page(request, "market_release.html", is_json, lambda actor: bank_of(
        request).releases.get(actor, _number(request, "release")))


async def brochure(request: Request, is_json: bool) -> Response:
    return await page(request, "market_brochure.html", is_json, lambda actor: bank_of(
        request).releases.get(actor, _number(request, "release")))


async def inbox(request: Request, is_json: bool) -> Response:
    def call(actor: Actor) -> dict[str, Any]:
        if not actor.signed_in:
            return {"signed_in": False, "notices": []}
        notices = [n.to_dict() for n in bank_of(request).notifications.inbox(actor)]
        return {"signed_in": True, "notices": notices,
                "unread": sum(not n["read"] for n in notices)}

    return await page(request, "market_inbox.html", is_json, call)


async def deals(request: Request, is_json: bool) -> Response:
    def call(actor: Actor) -> dict[str, Any]:
        if not actor.signed_in:
            return {"signed_in": False, "deals": []}
        return {"signed_in": True,
                "deals": [d.to_dict() for d in bank_of(request).deals.of(actor)]}

    return await page(request, "market_deals.html", is_json, call)


async def deal(request: Request, is_json: bool) -> Response:
    def call(actor: Actor) -> dict[str, Any]:
        found = bank_of(request).deals.get(actor, _number(request, "deal"))
        data = found.to_dict()
        if is_json:
            return data
        brokering = actor.is_admin or actor.username.lower() == found.broker.lower()
        open_deal = found.stage != "closed"
        here = STAGES.index(found.stage)
        data["actions"] = {
            "kinds": [k for k in ("stage", "service", "payment", "interest", "note")
                      if open_deal and (brokering or k not in BROKER_EVENTS)],
            "stages": [s for s in STAGES[here + 1:here + 2] if s != "closed"] + ["closed"],
            "services": SERVICES, "outcomes": OUTCOMES, "outcome_types": OUTCOME_TYPES}
        return data

    return await page(request, "market_deal.html", is_json, call)


async def _form_action(request: Request, act: Callable[[Actor, Any], str]) -> Response:
    """A page form's action: the signed-in caller and the CSRF check, then ``act`` (in a
    thread) with the form, and a redirect to the address it gives; a refusal is the error
    page, and nothing is written."""
    actor = None
    try:
        form = await request.form()
        actor = await page_actor(request)
        check_csrf(request, str(form.get("csrf") or ""))
        target = await run_in_threadpool(act, actor, form)
    except LanhaiError as exc:
        return error(request, exc, False, actor)
    return RedirectResponse(target, status_code=303)


def _field(form: Any, name: str) -> str:
    return str(form.get(name) or "").strip()


@router.post("/market/deals")
async def open_deal(request: Request) -> Response:
    """An accredited broker takes a match shown on an offer's or demand's page into a deal;
    the new deal's page follows."""

    def act(actor: Actor, form: Any) -> str:
        offer, demand = _field(form, "offer"), _field(form, "demand")
        if not offer or not demand:
            raise UsageError("a deal joins an offer and a demand: open it from a match")
        return f"/market/deals/{bank_of(request).deals.open(actor, offer, demand).id}"

    return await _form_action(request, act)


#: the form's fields an event's details may hold
_DETAILS = ("note", "service", "outcome", "outcome_type", "registration_number")


@router.post("/market/deals/{deal_id}/events")
async def record_event(request: Request) -> Response:
    """A party records an event of the deal from its page: the broker a stage, a paid
    service or a payment; a member of either organisation an expression of interest; anyone
    party to it a note. Refused (and nothing written) if the deal changed since the page was
    read."""

    def act(actor: Actor, form: Any) -> str:
        deal_id = _number(request, "deal")
        version = _field(form, "version")
        if not version.isdigit():
            raise UsageError("the form names no version of the deal; open its page again")
        details = {k: _field(form, k) for k in _DETAILS if _field(form, k)}
        bank_of(request).deals.record(
            actor, deal_id, _field(form, "kind"), stage=_field(form, "stage") or None,
            amount=_field(form, "amount") or None, details=details,
            expected_version=int(version))
        return f"/market/deals/{deal_id}"

    return await _form_action(request, act)


async def financing(request: Request, is_json: bool) -> Response:
    def call(actor: Actor) -> dict[str, Any]:
        if not actor.signed_in:
            return {"signed_in": False, "needs": []}
        needs = bank_of(request).financing.all(actor)
        for need in needs:
            need["may_close"] = need["status"] == "open" and (
                actor.is_admin or actor.member_of == need["organisation"])
        return {"signed_in": True, "needs": needs,
                "may_post": actor.member_of is not None or actor.is_admin,
                "organisation": actor.member_of, "stages": FUNDING_STAGES}

    return await page(request, "market_financing.html", is_json, call)


@router.post("/market/financing")
async def post_need(request: Request) -> Response:
    """A member posts its organisation's financing need (an admin names the organisation);
    only investors, admins and the organisation's members will see it."""

    def act(actor: Actor, form: Any) -> str:
        bank_of(request).financing.post(
            actor, title=_field(form, "title"), amount=_field(form, "amount"),
            stage=_field(form, "stage"), use_of_funds=_field(form, "use_of_funds"),
            organisation=_field(form, "organisation") or None,
            offer=_field(form, "offer") or None)
        return "/market/financing"

    return await _form_action(request, act)


@router.post("/market/financing/{need_id}/close")
async def close_need(request: Request) -> Response:
    """Its organisation's member (or an admin) closes a need."""

    def act(actor: Actor, form: Any) -> str:
        bank_of(request).financing.close(actor, _number(request, "need"))
        return "/market/financing"

    return await _form_action(request, act)


@router.post("/market/releases")
async def compose_release(request: Request) -> Response:
    """An admin composes a draft release from the releases page; its page follows."""

    def act(actor: Actor, form: Any) -> str:
        try:
            issued = dt.date.fromisoformat(_field(form, "issued"))
        except ValueError:
            raise UsageError(f"issued {_field(form, 'issued')!r} is not a date; write it as "
                             "2026-12-31") from None
        offers = [o for o in re.split(r"[;,\s]+", _field(form, "offers")) if o]
        made = bank_of(request).releases.compose(
            actor, title=_field(form, "title"), issued=issued, offers=offers,
            title_zh=_field(form, "title_zh"), introduction=_field(form, "introduction"))
        return f"/market/releases/{made['id']}"

    return await _form_action(request, act)


@router.post("/market/releases/{release_id}/publish")
async def publish_release(request: Request) -> Response:
    """An admin publishes a draft release from its page (refused if it changed since)."""

    def act(actor: Actor, form: Any) -> str:
        release_id, version = _number(request, "release"), _field(form, "version")
        bank_of(request).releases.publish(actor, release_id,
                                          int(version) if version.isdigit() else None)
        return f"/market/releases/{release_id}"

    return await _form_action(request, act)


twin(router, "/market/financing", financing)
twin(router, "/market/inbox", inbox)
twin(router, "/market/deals", deals)
twin(router, "/market/deals/{deal_id}", deal)
twin(router, "/market/releases", releases)
twin(router, "/market/releases/{release_id}/brochure", brochure)
twin(router, "/market/releases/{release_id}", release)
