"""The market's own tables: accredited brokers, deals and their events (SQL only; the
rules of who may see and change them are :mod:`lanhai.services.deals`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, insert, or_, select, update

from lanhai.db.schema import (
    brokers,
    deal_events,
    deals,
    financing_needs,
    market_sweeps,
    notifications,
    records,
    releases,
    users,
)
from lanhai.market.deals import Deal, DealEvent, yuan
from lanhai.store.records import as_utc as _utc


@dataclass(frozen=True)
class Broker:
    """An accredited broker."""

    username: str
    specialities: list[str]
    level: str
    accredited_by: str
    accredited_at: dt.datetime
    active: bool

    def to_dict(self) -> dict[str, Any]:
        return {"username": self.username, "specialities": self.specialities,
                "level": self.level, "accredited_by": self.accredited_by,
                "accredited_at": self.accredited_at.isoformat(), "active": self.active}


def _broker(row: Any) -> Broker:
    return Broker(row.username, list(row.specialities), row.level, row.accredited_by,
                  _utc(row.accredited_at), bool(row.active))


def _broker_query() -> Any:
    return select(users.c.username, brokers.c.specialities, brokers.c.level,
                  brokers.c.accredited_by, brokers.c.accredited_at, brokers.c.active
                  ).join(users, users.c.id == brokers.c.user_id)


def get_broker(conn: Connection, username: str) -> Broker | None:
    row = conn.execute(_broker_query().where(
        func.lower(users.c.username) == username.lower())).first()
    return None if row is None else _broker(row)


def list_brokers(conn: Connection) -> list[Broker]:
    return [_broker(r) for r in conn.execute(_broker_query().order_by(users.c.username))]


def put_broker(conn: Connection, username: str, specialities: list[str], level: str,
               by: str, active: bool = True) -> None:
    """Accredit ``username`` (or change an accreditation)."""
    user_id = conn.execute(select(users.c.id).where(
        func.lower(users.c.username) == username.lower())).scalar_one()
    values = {"specialities": specialities, "level": level, "accredited_by": by,
              "accredited_at": dt.datetime.now(dt.UTC), "active": active}
    if conn.execute(select(brokers.c.user_id).where(brokers.c.user_id == user_id)).first():
        conn.execute(update(brokers).where(brokers.c.user_id == user_id).values(**values))
    else:
        conn.execute(insert(brokers).values(user_id=user_id, **values))


# --- deals -----------------------------------------------------------------------------------

def _deal(row: Any) -> Deal:
    return Deal(row.id, row.offer, row.demand, row.broker, row.stage, row.outcome,
                row.outcome_type, row.amount_fen, _utc(row.created_at), row.created_by,
                _utc(row.updated_at), row.version)


def _event(row: Any) -> DealEvent:
    return DealEvent(row.id, row.deal_id, _utc(row.at), row.actor, row.kind, row.stage,
                     row.amount_fen, dict(row.details or {}))


def insert_deal(conn: Connection, offer: str, demand: str | None, broker: str, actor: str,
                at: dt.datetime) -> int:
    key = conn.execute(insert(deals).values(
        offer=offer, demand=demand, broker=broker, stage="initiation", created_at=at,
        created_by=actor, updated_at=at, version=1)).inserted_primary_key
    assert key is not None
    return int(key[0])


def get_deal(conn: Connection, deal_id: int, for_update: bool = False) -> Deal | None:
    stmt = select(deals).where(deals.c.id == deal_id)
    if for_update and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).first()
    if row is None:
        return None
    deal = _deal(row)
    deal.events = events_of(conn, [deal_id]).get(deal_id, [])
    return deal


def events_of(conn: Connection, deal_ids: Sequence[int]) -> dict[int, list[DealEvent]]:
    out: dict[int, list[DealEvent]] = {}
    for start in range(0, len(deal_ids), 500):
        for row in conn.execute(select(deal_events).where(
                deal_events.c.deal_id.in_(list(deal_ids[start:start + 500])))
                .order_by(deal_events.c.id)):
            out.setdefault(row.deal_id, []).append(_event(row))
    return out


def find_deals(conn: Connection, *, everyone: bool = False, broker: str | None = None,
               entries: Iterable[str] = ()) -> list[Deal]:
    """Deals (with their events) of ``broker`` or about any of ``entries`` (offers or
    demands); every deal when ``everyone``."""
    stmt = select(deals).order_by(deals.c.id)
    if not everyone:
        wanted = list(entries)
        conditions: list[ColumnElement[bool]] = \
            [deals.c.offer.in_(wanted), deals.c.demand.in_(wanted)] if wanted else []
        if broker:
            conditions.append(func.lower(deals.c.broker) == broker.lower())
        if not conditions:
            return []
        stmt = stmt.where(or_(*conditions))
    found = [_deal(r) for r in conn.execute(stmt)]
    events = events_of(conn, [d.id for d in found])
    for deal in found:
        deal.events = events.get(deal.id, [])
    return found


def add_event(conn: Connection, deal: Deal, actor: str, kind: str, at: dt.datetime,
              stage: str | None, amount_fen: int | None, details: Mapping[str, Any],
              changes: Mapping[str, Any]) -> None:
    """Record one event and apply ``changes`` (stage, outcome, amount …) to its deal (read
    in the same write transaction, so no other change slips in between)."""
    conn.execute(insert(deal_events).values(
        deal_id=deal.id, at=at, actor=actor, kind=kind, stage=stage, amount_fen=amount_fen,
        details=dict(details)))
    conn.execute(update(deals).where(deals.c.id == deal.id).values(
        **changes, updated_at=at, version=deal.version + 1))


# --- releases --------------------------------------------------------------------------------

@dataclass
class Release:
    """A release of selected offers, as stored (the offers as accessions)."""

    id: int
    title: str
    title_zh: str
    issued: str
    introduction: str
    introduction_zh: str
    offers: list[str]
    published: bool
    created_by: str
    created_at: dt.datetime
    published_at: dt.datetime | None
    version: int

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "title_zh": self.title_zh,
                "issued": self.issued, "introduction": self.introduction,
                "introduction_zh": self.introduction_zh, "offers": list(self.offers),
                "published": self.published, "created_by": self.created_by,
                "created_at": self.created_at.isoformat(),
                "published_at": self.published_at.isoformat() if self.published_at else None,
                "version": self.version}


def _release(row: Any) -> Release:
    return Release(row.id, row.title, row.title_zh, row.issued, row.introduction,
                   row.introduction_zh, list(row.offers), bool(row.published), row.created_by,
                   _utc(row.created_at), _utc(row.published_at) if row.published_at else None,
                   row.version)


def insert_release(conn: Connection, values: Mapping[str, Any], actor: str) -> int:
    key = conn.execute(insert(releases).values(
        **values, published=False, created_by=actor, created_at=dt.datetime.now(dt.UTC),
        version=1)).inserted_primary_key
    assert key is not None
    return int(key[0])


def get_release(conn: Connection, release_id: int) -> Release | None:
    row = conn.execute(select(releases).where(releases.c.id == release_id)).first()
    return None if row is None else _release(row)


def list_releases(conn: Connection, drafts: bool) -> list[Release]:
    """Published releases, newest first (and drafts, when asked)."""
    stmt = select(releases).order_by(releases.c.issued.desc(), releases.c.id.desc())
    if not drafts:
        stmt = stmt.where(releases.c.published.is_(True))
    return [_release(r) for r in conn.execute(stmt)]


def update_release(conn: Connection, release: Release, values: Mapping[str, Any]) -> None:
    conn.execute(update(releases).where(releases.c.id == release.id).values(
        **values, version=release.version + 1))


# --- notifications ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Notification:
    """One notice to one user."""

    id: int
    username: str
    key: str
    created_at: dt.datetime
    subject: str
    body: dict[str, Any]
    read_at: dt.datetime | None
    emailed_at: dt.datetime | None
    email_attempts: int

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "created_at": self.created_at.isoformat(),
                "subject": self.subject, "body": self.body,
                "read": self.read_at is not None,
                "emailed": self.emailed_at is not None}


def _notification(row: Any) -> Notification:
    return Notification(row.id, row.username, row.key, _utc(row.created_at), row.subject,
                        dict(row.body), _utc(row.read_at) if row.read_at else None,
                        _utc(row.emailed_at) if row.emailed_at else None,
                        int(row.email_attempts or 0))


def sweep_started(conn: Connection) -> dt.datetime | None:
    """When the last look for new matches started (None before the first)."""
    row = conn.execute(select(market_sweeps.c.started_at).where(market_sweeps.c.id == 1)
                       ).first()
    return _utc(row[0]) if row else None


def set_sweep_started(conn: Connection, at: dt.datetime) -> None:
    if conn.execute(select(market_sweeps.c.id).where(market_sweeps.c.id == 1)).first():
        conn.execute(update(market_sweeps).where(market_sweeps.c.id == 1).values(started_at=at))
    else:
        conn.execute(insert(market_sweeps).values(id=1, started_at=at))


def entries_changed_since(conn: Connection, since: dt.datetime | None) -> list[str]:
    """Accessions of the offers and demands written since ``since`` (all when None)."""
    stmt = select(records.c.accession).where(records.c.kind.in_(("offer", "demand")))
    if since is not None:
        stmt = stmt.where(records.c.updated_at >= since)
    return list(conn.execute(stmt.order_by(records.c.accession)).scalars())


def members_of(conn: Connection, organisations: Iterable[str]) -> dict[str, list[Any]]:
    """organisation -> its active members' (username, email) rows."""
    wanted = list(organisations)
    out: dict[str, list[Any]] = {o: [] for o in wanted}
    if wanted:
        for row in conn.execute(select(users.c.username, users.c.email, users.c.organisation)
                                .where(users.c.organisation.in_(wanted),
                                       users.c.role == "member",
                                       users.c.active.is_(True))):
            out[row.organisation].append(row)
    return out


def add_notification(conn: Connection, username: str, key: str, subject: str,
                     body: Mapping[str, Any], at: dt.datetime) -> bool:
    """Store a notice unless the user already has one of that key; whether it is new."""
    if conn.execute(select(notifications.c.id).where(notifications.c.username == username,
                                                     notifications.c.key == key)).first():
        return False
    conn.execute(insert(notifications).values(
        username=username, key=key, created_at=at, subject=subject, body=dict(body),
        email_attempts=0))
    return True


def notifications_of(conn: Connection, username: str, limit: int = 200,
                     unread: bool = False) -> list[Notification]:
    stmt = select(notifications).where(notifications.c.username == username)
    if unread:
        stmt = stmt.where(notifications.c.read_at.is_(None))
    return [_notification(r) for r in conn.execute(
        stmt.order_by(notifications.c.id.desc()).limit(limit))]


def unsent(conn: Connection, attempts: int) -> list[tuple[Notification, str]]:
    """Notices not yet e-mailed to users who have an address, tried fewer than ``attempts``
    times: (notice, address)."""
    rows = conn.execute(
        select(notifications, users.c.email.label("address"))
        .join(users, users.c.username == notifications.c.username)
        .where(notifications.c.emailed_at.is_(None), users.c.email.is_not(None),
               notifications.c.email_attempts < attempts)
        .order_by(notifications.c.id))
    return [(_notification(r), str(r.address)) for r in rows]


def mark_emailed(conn: Connection, notice_id: int, at: dt.datetime | None) -> None:
    """Record a sending (``at``) or a failed attempt (None)."""
    values: dict[str, Any] = {"email_attempts": notifications.c.email_attempts + 1}
    if at is not None:
        values["emailed_at"] = at
    conn.execute(update(notifications).where(notifications.c.id == notice_id).values(**values))


def mark_read(conn: Connection, username: str, notice_id: int, at: dt.datetime) -> bool:
    result = conn.execute(update(notifications).where(
        notifications.c.id == notice_id, notifications.c.username == username,
        notifications.c.read_at.is_(None)).values(read_at=at))
    return bool(result.rowcount) or conn.execute(select(notifications.c.id).where(
        notifications.c.id == notice_id, notifications.c.username == username)).first() \
        is not None


# --- financing needs -------------------------------------------------------------------------

@dataclass(frozen=True)
class FinancingNeed:
    """An organisation's financing need."""

    id: int
    organisation: str
    title: str
    amount_fen: int
    stage: str
    use_of_funds: str
    offer: str | None
    status: str
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "organisation": self.organisation, "title": self.title,
                "amount": yuan(self.amount_fen), "stage": self.stage,
                "use_of_funds": self.use_of_funds, "offer": self.offer,
                "status": self.status, "created_by": self.created_by,
                "created_at": self.created_at.isoformat(),
                "updated_at": self.updated_at.isoformat()}


def _need(row: Any) -> FinancingNeed:
    return FinancingNeed(row.id, row.organisation, row.title, int(row.amount_fen), row.stage,
                         row.use_of_funds, row.offer, row.status, row.created_by,
                         _utc(row.created_at), _utc(row.updated_at))


def insert_need(conn: Connection, values: Mapping[str, Any], actor: str) -> int:
    at = dt.datetime.now(dt.UTC)
    key = conn.execute(insert(financing_needs).values(
        **values, status="open", created_by=actor, created_at=at, updated_at=at)
    ).inserted_primary_key
    assert key is not None
    return int(key[0])


def get_need(conn: Connection, need_id: int) -> FinancingNeed | None:
    row = conn.execute(select(financing_needs).where(financing_needs.c.id == need_id)).first()
    return None if row is None else _need(row)


def list_needs(conn: Connection, organisation: str | None) -> list[FinancingNeed]:
    """Every need, newest first (one organisation's when given)."""
    stmt = select(financing_needs).order_by(financing_needs.c.id.desc())
    if organisation is not None:
        stmt = stmt.where(financing_needs.c.organisation == organisation)
    return [_need(r) for r in conn.execute(stmt)]


def set_need_status(conn: Connection, need_id: int, status: str) -> None:
    conn.execute(update(financing_needs).where(financing_needs.c.id == need_id).values(
        status=status, updated_at=dt.datetime.now(dt.UTC)))
