"""Programme monitoring tables and counts (SQL only; who may see and change what is
:mod:`lanhai.services.programme`).

A computed indicator's value at the end of a quarter is the number of records of its kind
that meet its conditions today and are dated (by its date field, else by the day the record
was created) on or before that day, after the baseline date when it counts only what is new.
Suppressed and withdrawn records never count. One GROUP BY per indicator gives the number
dated in each month, so every quarter's value is a running sum.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    String,
    and_,
    cast,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)

from lanhai.db.schema import (
    brokers,
    deal_events,
    indicator_updates,
    indicator_versions,
    links,
    period_evidence,
    programme_periods,
    records,
    releases,
)
from lanhai.kinds import KINDS
from lanhai.kinds.vocab import MISSING_TERMS
from lanhai.model import parse_filter
from lanhai.programme.indicators import Count
from lanhai.store.queries import filter_condition
from lanhai.store.records import as_utc as _utc

# --- counting ----------------------------------------------------------------------------------

def _present(name: str) -> ColumnElement[bool]:
    """The field holds a real value: not absent, empty or an INSDC missing-value term."""
    said = func.lower(func.trim(records.c.fields[name].as_string()))
    return and_(said.is_not(None), said != "", said != "[]",
                said.not_in(list(MISSING_TERMS)))


def _one(conn: Connection, kind: str, condition: str) -> ColumnElement[bool]:
    if condition.startswith("linked:"):
        rel = condition.split(":", 1)[1]
        return records.c.id.in_(select(links.c.target_id).where(links.c.rel == rel))
    if condition.endswith("?"):
        return _present(condition[:-1])
    return filter_condition(conn, kind, parse_filter(condition))


def _day(count: Count) -> Any:
    """The day a record is dated by (YYYY-MM-DD, or shorter for a partial date)."""
    created = func.substr(cast(records.c.created_at, String), 1, 10)
    if count.date is None:
        return created
    return func.coalesce(func.substr(records.c.fields[count.date].as_string(), 1, 10),
                         created)


def _conditions(conn: Connection, count: Count, include_restricted: bool,
                since: str | None) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = [records.c.kind == count.source,
                                        records.c.fields["record_status"].as_string().is_(None)]
    if not include_restricted:
        found.append(records.c.restricted == literal(False))
    found += [_one(conn, count.source, c) for c in count.where]
    if count.any:
        found.append(or_(*(_one(conn, count.source, c) for c in count.any)))
    if since is not None:
        found.append(_day(count) > since)
    return found


def monthly(conn: Connection, count: Count, include_restricted: bool,
            since: str | None) -> list[tuple[str, int]]:
    """(YYYY-MM, how many) of what ``count`` counts, by the month each is dated in."""
    if count.source in KINDS:
        month = func.substr(_day(count), 1, 7)
        stmt = (select(month, func.count()).where(
            *_conditions(conn, count, include_restricted, since))
            .group_by(month).order_by(month))
        return [(str(m or ""), int(n)) for m, n in conn.execute(stmt)]
    return _market_monthly(conn, count.source, since)


def _market_monthly(conn: Connection, source: str, since: str | None) -> list[tuple[str, int]]:
    days: list[dt.datetime]
    if source == "brokers":
        days = [r[0] for r in conn.execute(select(brokers.c.accredited_at))]
    elif source == "releases":
        days = [r[0] for r in conn.execute(select(releases.c.published_at).where(
            releases.c.published == literal(True), releases.c.published_at.is_not(None)))]
    else:
        signed = (select(func.min(deal_events.c.at)).where(
            deal_events.c.kind == "stage", deal_events.c.stage == "signing")
            .group_by(deal_events.c.deal_id))
        days = [r[0] for r in conn.execute(signed)]
    months: dict[str, int] = {}
    for day in days:
        text = _utc(day).date().isoformat()
        if since is None or text > since:
            months[text[:7]] = months.get(text[:7], 0) + 1
    return sorted(months.items())


def behind(conn: Connection, count: Count, include_restricted: bool, since: str | None,
           upto: dt.date, limit: int | None = None) -> list[str]:
    """The accessions of the records counted at ``upto``, in accession order."""
    if count.source not in KINDS:
        return []
    stmt = (select(records.c.accession).where(
        *_conditions(conn, count, include_restricted, since), _day(count) <= upto.isoformat())
        .order_by(records.c.accession))
    if limit is not None:
        stmt = stmt.limit(limit)
    return [str(r[0]) for r in conn.execute(stmt)]


def breakdown(conn: Connection, count: Count, include_restricted: bool, since: str | None,
              upto: dt.date, by: str) -> dict[str, int]:
    """How many of the records counted at ``upto`` have each value of the field ``by``
    (records without one under "")."""
    value = func.coalesce(records.c.fields[by].as_string(), "")
    stmt = (select(value, func.count()).where(
        *_conditions(conn, count, include_restricted, since), _day(count) <= upto.isoformat())
        .group_by(value))
    return {str(v): int(n) for v, n in conn.execute(stmt)}


# --- indicator versions ------------------------------------------------------------------------

@dataclass(frozen=True)
class IndicatorVersion:
    """One admin edit of an indicator."""

    key: str
    version: int
    definition: dict[str, Any]
    changed_by: str
    changed_at: dt.datetime
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "version": self.version, "definition": self.definition,
                "changed_by": self.changed_by, "changed_at": self.changed_at.isoformat(),
                "reason": self.reason}


def _version(row: Any) -> IndicatorVersion:
    return IndicatorVersion(row.key, int(row.version), dict(row.definition), row.changed_by,
                            _utc(row.changed_at), row.reason or "")


def latest_versions(conn: Connection) -> dict[str, IndicatorVersion]:
    """The newest edit of every edited indicator."""
    newest = (select(indicator_versions.c.key, func.max(indicator_versions.c.version)
                     .label("version")).group_by(indicator_versions.c.key).subquery())
    stmt = select(indicator_versions).join(newest, and_(
        indicator_versions.c.key == newest.c.key,
        indicator_versions.c.version == newest.c.version))
    return {row.key: _version(row) for row in conn.execute(stmt)}


def history(conn: Connection, key: str) -> list[IndicatorVersion]:
    """Every edit of one indicator, oldest first."""
    stmt = (select(indicator_versions).where(indicator_versions.c.key == key)
            .order_by(indicator_versions.c.version))
    return [_version(row) for row in conn.execute(stmt)]


def add_version(conn: Connection, key: str, definition: dict[str, Any], changed_by: str,
                reason: str) -> int:
    """Store a new version of an indicator; its number."""
    current = conn.execute(select(func.max(indicator_versions.c.version)).where(
        indicator_versions.c.key == key)).scalar()
    version = int(current or 0) + 1
    conn.execute(insert(indicator_versions).values(
        key=key, version=version, definition=definition, changed_by=changed_by,
        changed_at=dt.datetime.now(dt.UTC), reason=reason))
    return version


# --- reported updates --------------------------------------------------------------------------

@dataclass(frozen=True)
class Update:
    """A value a reporting unit submitted, with its evidence and review."""

    id: int
    indicator: str
    period: str
    value: float
    as_of: str
    evidence: list[dict[str, Any]]
    note: str
    unit: str | None
    status: str
    submitted_by: str
    submitted_at: dt.datetime
    reviewed_by: str | None
    reviewed_at: dt.datetime | None
    review_note: str | None
    version: int

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "indicator": self.indicator, "period": self.period,
                "value": self.value, "as_of": self.as_of, "evidence": self.evidence,
                "note": self.note, "unit": self.unit, "status": self.status,
                "submitted_by": self.submitted_by,
                "submitted_at": self.submitted_at.isoformat(),
                "reviewed_by": self.reviewed_by,
                "reviewed_at": self.reviewed_at.isoformat() if self.reviewed_at else None,
                "review_note": self.review_note, "version": self.version}


def _update(row: Any) -> Update:
    return Update(int(row.id), row.indicator, row.period, float(row.value), row.as_of,
                  list(row.evidence), row.note or "", row.unit, row.status, row.submitted_by,
                  _utc(row.submitted_at), row.reviewed_by,
                  _utc(row.reviewed_at) if row.reviewed_at else None, row.review_note,
                  int(row.version))


def insert_update(conn: Connection, values: dict[str, Any]) -> int:
    now = dt.datetime.now(dt.UTC)
    result = conn.execute(insert(indicator_updates).values(
        **values, status="submitted", submitted_at=now, version=1))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def get_update(conn: Connection, update_id: int) -> Update | None:
    row = conn.execute(select(indicator_updates).where(
        indicator_updates.c.id == update_id)).one_or_none()
    return _update(row) if row else None


def list_updates(conn: Connection, *, indicator: str | None = None, unit: str | None = None,
                 status: str | None = None, period: str | None = None,
                 only_unit: bool = False) -> list[Update]:
    """Updates, newest first, narrowed by indicator, reporting unit, status and period."""
    stmt = select(indicator_updates)
    if indicator:
        stmt = stmt.where(indicator_updates.c.indicator == indicator)
    if only_unit:
        stmt = stmt.where(indicator_updates.c.unit == unit)
    if status:
        stmt = stmt.where(indicator_updates.c.status == status)
    if period:
        stmt = stmt.where(indicator_updates.c.period == period)
    return [_update(r) for r in conn.execute(stmt.order_by(indicator_updates.c.id.desc()))]


def approved_updates(conn: Connection) -> list[Update]:
    """Every approved update, in period then review order (the last of a period counts)."""
    stmt = (select(indicator_updates).where(indicator_updates.c.status == "approved")
            .order_by(indicator_updates.c.period, indicator_updates.c.reviewed_at,
                      indicator_updates.c.id))
    return [_update(r) for r in conn.execute(stmt)]


def change_update(conn: Connection, update_id: int, version: int, values: dict[str, Any]
                  ) -> bool:
    """Change an update if it is still at ``version``; False when someone changed it first."""
    result = conn.execute(update(indicator_updates).where(
        indicator_updates.c.id == update_id, indicator_updates.c.version == version)
        .values(**values, version=version + 1))
    return bool(result.rowcount)


# --- periods -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClosedPeriod:
    """A closed quarter and its two frozen snapshots (every record; public records)."""

    period: str
    closed_at: dt.datetime
    closed_by: str
    snapshot: str
    sha256: str
    public_snapshot: str
    public_sha256: str

    def view(self, office: bool) -> tuple[str, str]:
        """The snapshot and its digest for the programme office, or for everyone else."""
        return (self.snapshot, self.sha256) if office else (self.public_snapshot,
                                                             self.public_sha256)


def _closed(row: Any) -> ClosedPeriod:
    return ClosedPeriod(row.period, _utc(row.closed_at), row.closed_by, row.snapshot,
                        row.sha256, row.public_snapshot, row.public_sha256)


def closed_periods(conn: Connection) -> dict[str, ClosedPeriod]:
    rows = conn.execute(select(programme_periods).order_by(programme_periods.c.period))
    return {r.period: _closed(r) for r in rows}


def closed_period(conn: Connection, period: str) -> ClosedPeriod | None:
    row = conn.execute(select(programme_periods).where(
        programme_periods.c.period == period)).one_or_none()
    return _closed(row) if row else None


def close_period(conn: Connection, frozen: ClosedPeriod, evidence: dict[str, list[str]]
                 ) -> None:
    """Store a closed quarter and the records behind each of its computed values."""
    conn.execute(insert(programme_periods).values(
        period=frozen.period, closed_at=frozen.closed_at, closed_by=frozen.closed_by,
        snapshot=frozen.snapshot, sha256=frozen.sha256,
        public_snapshot=frozen.public_snapshot, public_sha256=frozen.public_sha256))
    if evidence:
        conn.execute(insert(period_evidence), [
            {"period": frozen.period, "indicator": key, "accessions": accessions}
            for key, accessions in evidence.items()])


def frozen_behind(conn: Connection, period: str, key: str) -> list[str] | None:
    """The records behind a closed period's value of ``key`` (None when none were kept)."""
    row = conn.execute(select(period_evidence.c.accessions).where(
        period_evidence.c.period == period, period_evidence.c.indicator == key)).one_or_none()
    return list(row[0]) if row else None


def visible_accessions(conn: Connection, accessions: Sequence[str]) -> set[str]:
    """Which of ``accessions`` are records anyone may see (not restricted)."""
    found: set[str] = set()
    for start in range(0, len(accessions), 900):
        chunk = list(accessions[start:start + 900])
        found.update(str(r[0]) for r in conn.execute(select(records.c.accession).where(
            records.c.accession.in_(chunk), records.c.restricted == literal(False))))
    return found
