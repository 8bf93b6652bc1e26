"""The market's pages: its releases of selected offers (a page each, and a printable
brochure), a signed-in user's notices and deals, with their JSON twins; offers, demands and their
matches are record pages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from lanhai.errors import NotFound
from lanhai.model import MAX_KEY
from lanhai.services.access import Actor
from lanhai.web.render import bank_of, page, twin

router = APIRouter(include_in_schema=False, tags=["web"])


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
    return await page(request, "market_deal.html", is_json, lambda actor: bank_of(
        request).deals.get(actor, _number(request, "deal")).to_dict())


twin(router, "/market/inbox", inbox)
twin(router, "/market/deals", deals)
twin(router, "/market/deals/{deal_id}", deal)
twin(router, "/market/releases", releases)
twin(router, "/market/releases/{release_id}/brochure", brochure)
twin(router, "/market/releases/{release_id}", release)
