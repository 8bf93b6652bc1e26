"""Financing needs: what an organisation's project needs from investors (amount, stage, use
of funds). Seen only by investors, admins and the organisation's own members; posted by a
member for its organisation (or an admin for any)."""

from __future__ import annotations

from typing import Any

from lanhai.errors import Forbidden, NotFound, UsageError
from lanhai.market.deals import fen
from lanhai.model import MAX_KEY
from lanhai.services.access import Actor, may_see_needs, require_user
from lanhai.services.catalog import check_accession
from lanhai.store import market as store
from lanhai.store import records as record_store
from lanhai.store.database import Database

#: financing rounds
STAGES = ("seed", "angel", "pre-A", "A", "B", "C+", "strategic", "loan", "grant")


class FinancingService:
    """Posting, listing and closing financing needs."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def post(self, actor: Actor, *, title: str, amount: Any, stage: str, use_of_funds: str,
             organisation: str | None = None, offer: str | None = None) -> dict[str, Any]:
        """A need of the member's organisation (an admin names the organisation)."""
        require_user(actor)
        owner = organisation if actor.is_admin and organisation else actor.member_of
        if owner is None:
            raise Forbidden("financing needs are posted by an organisation's members (or an "
                            "admin naming the organisation)")
        if organisation and check_accession(organisation) != owner:
            raise Forbidden(f"member {actor.username!r} acts for {owner}, not {organisation}")
        if stage not in STAGES:
            raise UsageError(f"unknown stage {stage!r}; stages are: {', '.join(STAGES)}")
        if not title.strip() or not use_of_funds.strip():
            raise UsageError("a financing need says what it is (title) and what the money is "
                             "for (use_of_funds)")
        amount_fen = fen(amount)
        if amount_fen <= 0:
            raise UsageError("a financing need asks for an amount above zero (yuan)")
        with self.db.write() as conn:
            found = record_store.get_record(conn, check_accession(owner))
            if found is None or found.kind != "organisation":
                raise UsageError(f"{owner} is not an organisation of this bank")
            if offer:
                named = record_store.get_record(conn, check_accession(offer))
                if named is None or named.kind != "offer" or \
                        named.fields.get("organisation") != found.accession:
                    raise UsageError(f"{offer} is not an offer of {found.accession}")
            need_id = store.insert_need(conn, {
                "organisation": found.accession, "title": title.strip()[:300],
                "amount_fen": amount_fen, "stage": stage,
                "use_of_funds": use_of_funds.strip()[:5000],
                "offer": offer.strip().upper() if offer else None}, actor.username)
        return self.get(actor, need_id)

    def get(self, actor: Actor, need_id: int) -> dict[str, Any]:
        """One need, to investors, admins and its organisation's members (404 otherwise)."""
        require_user(actor)
        need = None
        if 1 <= need_id <= MAX_KEY:
            with self.db.read() as conn:
                need = store.get_need(conn, need_id)
        if need is None or not may_see_needs(actor, need.organisation):
            raise NotFound(f"no financing need {need_id}")
        return need.to_dict()

    def all(self, actor: Actor) -> list[dict[str, Any]]:
        """The needs the caller may see, newest first."""
        require_user(actor)
        everyone = actor.is_admin or actor.role == "investor"
        if not everyone and actor.member_of is None:
            return []
        with self.db.read() as conn:
            found = store.list_needs(conn, None if everyone else actor.member_of)
        return [n.to_dict() for n in found]

    def close(self, actor: Actor, need_id: int) -> dict[str, Any]:
        """Close a need (its organisation's members, or an admin)."""
        need = self.get(actor, need_id)
        if not (actor.is_admin or actor.member_of == need["organisation"]):
            raise Forbidden("a financing need is closed by its organisation or an admin")
        with self.db.write() as conn:
            store.set_need_status(conn, need_id, "closed")
        return self.get(actor, need_id)
