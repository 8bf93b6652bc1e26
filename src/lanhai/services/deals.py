"""Brokers and deals: accreditation, a deal's life from a match to its close, the
incentive ledger and broker performance.

Who sees a deal: the members of the two organisations whose offer and demand it joins,
its broker and admins; to anyone else it does not exist (404), and it appears in no list.
Who changes it: its broker (or an admin) moves it through its stages and records paid
services and payments; the parties' members express interest and add notes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lanhai.errors import Forbidden, NotFound, StaleVersion, UsageError
from lanhai.kinds.market import FIELDS_OF_WORK
from lanhai.market.deals import (
    BROKER_EVENTS,
    EVENT_KINDS,
    SERVICES,
    STAGES,
    Deal,
    LedgerLine,
    Rule,
    check_stage,
    fen,
    ledger,
    load_rules,
    performance,
)
from lanhai.model import MAX_KEY, parse_filter
from lanhai.services.access import Actor, require_admin, require_user, visible
from lanhai.services.catalog import check_accession
from lanhai.services.market import on_market
from lanhai.services.users import check_username
from lanhai.store import market as store
from lanhai.store import queries
from lanhai.store import records as record_store
from lanhai.store import users as user_store
from lanhai.store.database import Conn, Database

#: broker levels an admin accredits
LEVELS = ("junior", "intermediate", "senior")
#: the longest note and document name kept
MAX_TEXT = 2000


class DealService:
    """Brokers, deals and their events over one catalog database."""

    def __init__(self, db: Database, rules_file: str | Path | None = None) -> None:
        self.db = db
        self.rules_file = rules_file

    def rules(self) -> list[Rule]:
        """The incentive rules in force (LANHAI_INCENTIVES_FILE, else the shipped ones)."""
        return load_rules(self.rules_file)

    # -- brokers ------------------------------------------------------------------------------
    def accredit(self, actor: Actor, username: str, specialities: Sequence[str], level: str,
                 active: bool = True) -> store.Broker:
        """Accredit a user with the broker role (admin), or change the accreditation."""
        require_admin(actor)
        check_username(username)
        wrong = [s for s in specialities if s not in FIELDS_OF_WORK]
        if wrong or not specialities:
            raise UsageError("give the broker's specialities among the market's fields: "
                             + ", ".join(FIELDS_OF_WORK))
        if level not in LEVELS:
            raise UsageError(f"unknown level {level!r}; levels are: {', '.join(LEVELS)}")
        with self.db.write() as conn:
            user = user_store.get_user(conn, username)
            if user is None:
                raise NotFound(f"no user {username!r}; add one with `lanhai users add "
                               f"{username} --role broker`")
            if user.role != "broker":
                raise UsageError(f"{user.username} is a {user.role}; give them the broker "
                                 f"role first (`lanhai users set {user.username} --role "
                                 "broker`)")
            store.put_broker(conn, user.username, sorted(set(specialities)), level,
                             actor.username, active)
            found = store.get_broker(conn, user.username)
        assert found is not None
        return found

    def brokers(self, actor: Actor) -> list[store.Broker]:
        """The accredited brokers (signed-in callers): whom a party can turn to."""
        require_user(actor)
        with self.db.read() as conn:
            return store.list_brokers(conn)

    # -- deals --------------------------------------------------------------------------------
    def open(self, actor: Actor, offer: str, demand: str, *, broker: str | None = None,
             note: str = "", on: dt.date | None = None) -> Deal:
        """A broker takes a match (an offer and a demand, both on the market) into a deal at
        initiation; an admin opens one for a named broker."""
        require_user(actor)
        with self.db.write() as conn:
            name = self._broker_of(conn, actor, broker)
            entries = {}
            for acc, kind in ((offer, "offer"), (demand, "demand")):
                record = visible(actor, record_store.get_record(conn, check_accession(acc)),
                                 acc)
                if record.kind != kind:
                    wanted = "an offer" if kind == "offer" else "a demand"
                    raise UsageError(f"{record.accession} is a {record.kind}, not {wanted}")
                if not on_market(record.fields):
                    raise UsageError(f"{record.accession} is not on the market (it is "
                                     f"{record.fields.get('market_status', 'a draft')}): "
                                     "only published entries are taken into deals")
                entries[kind] = record.accession
            at = _when(on, None)
            deal_id = store.insert_deal(conn, entries["offer"], entries["demand"], name,
                                        actor.username, at)
            if note:
                deal = store.get_deal(conn, deal_id)
                assert deal is not None
                store.add_event(conn, deal, actor.username, "note", at, None, None,
                                {"note": _text(note, "note")}, {})
            found = store.get_deal(conn, deal_id)
        assert found is not None
        return found

    def _broker_of(self, conn: Conn, actor: Actor, named: str | None) -> str:
        if actor.is_admin and named:
            check_username(named)
            broker = store.get_broker(conn, named)
            if broker is None or not broker.active:
                raise UsageError(f"{named} is not an accredited broker; accredit them first "
                                 "(`lanhai market broker accredit`)")
            return broker.username
        if actor.role != "broker":
            raise Forbidden(f"user {actor.username!r} is a {actor.role}; deals are opened by "
                            "accredited brokers (or by an admin naming one)")
        broker = store.get_broker(conn, actor.username)
        if broker is None or not broker.active:
            raise Forbidden(f"{actor.username} is not an accredited broker; ask an admin to "
                            "accredit you")
        return broker.username

    def get(self, actor: Actor, deal_id: int) -> Deal:
        """One deal, to its parties, its broker and admins (404 to anyone else)."""
        require_user(actor)
        with self.db.read() as conn:
            return self._seen(conn, actor, self._deal(conn, deal_id), deal_id)

    def of(self, actor: Actor) -> list[Deal]:
        """The deals the caller is party to (all of them for an admin)."""
        require_user(actor)
        with self.db.read() as conn:
            if actor.is_admin:
                return store.find_deals(conn, everyone=True)
            broker = actor.username if actor.role == "broker" else None
            return store.find_deals(conn, broker=broker,
                                    entries=self._entries_of(conn, actor.member_of))

    def record(self, actor: Actor, deal_id: int, kind: str, *, stage: str | None = None,
               amount: Any = None, details: Mapping[str, Any] | None = None,
               on: dt.date | None = None, expected_version: int | None = None) -> Deal:
        """Record one event of a deal: a stage entered (broker), a paid service or a payment
        (broker), an expression of interest (a party's member) or a note (anyone party to
        it). ``expected_version``: only if the deal is still at that version."""
        require_user(actor)
        if kind not in EVENT_KINDS:
            raise UsageError(f"unknown event {kind!r}; events are: {', '.join(EVENT_KINDS)}")
        given = dict(details or {})
        amount_fen = None if amount in (None, "") else fen(amount)
        with self.db.write() as conn:
            deal = self._seen(conn, actor, self._deal(conn, deal_id, for_update=True),
                              deal_id)
            if expected_version is not None and deal.version != expected_version:
                raise StaleVersion(f"{deal.reference} is at version {deal.version}, not "
                                   f"{expected_version}: someone changed it since you read "
                                   "it; nothing was written", deal.version)
            self._may_record(conn, actor, deal, kind)
            last = deal.events[-1].at if deal.events else deal.created_at
            at = _when(on, last)
            clean, changes, event_stage = self._event(deal, kind, stage, amount_fen, given)
            store.add_event(conn, deal, actor.username, kind, at, event_stage, amount_fen,
                            clean, changes)
            found = store.get_deal(conn, deal_id)
        assert found is not None
        return found

    def _event(self, deal: Deal, kind: str, stage: str | None, amount_fen: int | None,
               given: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], str | None]:
        """The event's kept details, the changes to its deal, and the stage it enters."""
        clean: dict[str, Any] = {}
        if given.get("note"):
            clean["note"] = _text(given["note"], "note")
        documents = given.get("documents") or []
        if not isinstance(documents, list) or not all(isinstance(d, str) and d.strip()
                                                       for d in documents):
            raise UsageError("documents is a list of document names or references")
        if documents:
            clean["documents"] = [_text(d, "document") for d in documents]
        if kind == "stage":
            if not stage:
                raise UsageError("a stage event names the stage: " + ", ".join(STAGES))
            change = check_stage(deal, stage, given, amount_fen)
            for key in ("outcome", "outcome_type", "registration_number"):
                if given.get(key):
                    clean[key] = _text(given[key], key)
            changes: dict[str, Any] = {"stage": change.stage}
            if change.outcome:
                changes["outcome"] = change.outcome
                changes["outcome_type"] = change.outcome_type
            if change.amount_fen is not None:
                changes["amount_fen"] = change.amount_fen
            return clean, changes, change.stage
        if stage:
            raise UsageError(f"only a stage event names a stage, not a {kind} event")
        if deal.stage == "closed":
            raise UsageError(f"{deal.reference} is closed; nothing more is recorded on it")
        if kind == "service":
            service = str(given.get("service") or "")
            if service not in SERVICES:
                raise UsageError("a paid service names what it was: " + ", ".join(SERVICES))
            if amount_fen is None:
                raise UsageError("a paid service states its fee: give amount (yuan)")
            clean["service"] = service
        if kind == "payment":
            if STAGES.index(deal.stage) < STAGES.index("signing"):
                raise UsageError(f"{deal.reference} is at {deal.stage}: payments are "
                                 "recorded once the contract is signed")
            if not amount_fen:
                raise UsageError("a payment states the sum received: give amount (yuan)")
        if kind in ("interest", "note") and amount_fen is not None:
            raise UsageError(f"a {kind} event has no amount")
        if kind == "note" and not clean:
            raise UsageError("a note needs its text (note) or documents")
        return clean, {}, None

    def _may_record(self, conn: Conn, actor: Actor, deal: Deal, kind: str) -> None:
        broker = actor.username.lower() == deal.broker.lower()
        if kind in BROKER_EVENTS and not (broker or actor.is_admin):
            raise Forbidden(f"only the deal's broker ({deal.broker}) or an admin records "
                            f"{kind} events")
        if kind == "interest" and actor.member_of not in self._parties(conn, deal):
            raise Forbidden("an expression of interest comes from a member of one of the "
                            "two organisations")

    @staticmethod
    def _deal(conn: Conn, deal_id: int, for_update: bool = False) -> Deal | None:
        if not 1 <= deal_id <= MAX_KEY:
            return None
        return store.get_deal(conn, deal_id, for_update=for_update)

    # -- visibility ---------------------------------------------------------------------------
    def _parties(self, conn: Conn, deal: Deal) -> set[str]:
        """The organisations whose offer and demand the deal joins."""
        found = record_store.get_records(conn, [a for a in (deal.offer, deal.demand) if a])
        return {str(r.fields["organisation"]) for r in found.values()
                if r.fields.get("organisation")}

    def _seen(self, conn: Conn, actor: Actor, deal: Deal | None, deal_id: int) -> Deal:
        """The deal, if ``actor`` is party to it; else the same 404 as for no deal."""
        if deal is not None and (actor.is_admin or actor.username.lower() == deal.broker.lower()
                                 or (actor.member_of is not None and
                                     actor.member_of in self._parties(conn, deal))):
            return deal
        raise NotFound(f"no deal {deal_id}")

    def _entries_of(self, conn: Conn, organisation: str | None) -> list[str]:
        if organisation is None:
            return []
        found: list[str] = []
        for kind in ("offer", "demand"):
            for batch in queries.iter_records(conn, kind,
                                              [parse_filter(f"organisation={organisation}")],
                                              include_restricted=True):
                found.extend(r.accession for r in batch)
        return found

    # -- what brokers earn --------------------------------------------------------------------
    def ledger(self, actor: Actor, broker: str | None = None) -> list[LedgerLine]:
        """The incentive ledger: every broker's (admin), or the caller's own (a broker)."""
        name = self._whose(actor, broker)
        with self.db.read() as conn:
            deals = store.find_deals(conn, everyone=name is None, broker=name)
        return ledger(deals, self.rules())

    def performance(self, actor: Actor, broker: str) -> dict[str, Any]:
        """A broker's figures from the event log (the broker themself, or an admin)."""
        name = self._whose(actor, broker)
        assert name is not None
        with self.db.read() as conn:
            if store.get_broker(conn, name) is None:
                raise NotFound(f"no broker {name!r}")
            deals = store.find_deals(conn, broker=name)
        return performance(name, deals, self.rules())

    def _whose(self, actor: Actor, broker: str | None) -> str | None:
        require_user(actor)
        if broker is not None:
            check_username(broker)
        if actor.is_admin:
            return broker
        if actor.role == "broker" and (broker is None or broker.lower() ==
                                       actor.username.lower()):
            return actor.username
        raise Forbidden("a broker sees their own figures; all of them are for admins")



def _when(on: dt.date | None, after: dt.datetime | None) -> dt.datetime:
    """The moment of an event: now, or noon (UTC) of the day it happened, which is not in
    the future and not before the deal's last event."""
    now = dt.datetime.now(dt.UTC)
    if on is None:
        return now if after is None or now >= after else after
    at = dt.datetime(on.year, on.month, on.day, 12, tzinfo=dt.UTC)
    if on > now.date():
        raise UsageError(f"{on.isoformat()} is in the future; record what has happened")
    if after is not None and at < after.replace(hour=0, minute=0, second=0, microsecond=0):
        raise UsageError(f"{on.isoformat()} is before the deal's last event "
                         f"({after.date().isoformat()}); events are recorded in order")
    return max(at, after) if after is not None else at


def _text(value: Any, name: str) -> str:
    text = str(value).strip()
    if len(text) > MAX_TEXT:
        raise UsageError(f"{name} is longer than {MAX_TEXT} characters")
    return text
