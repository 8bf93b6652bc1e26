"""Genome projects' tables: projects, target species and status events (SQL only; the rules
are :mod:`lanhai.services.genomes`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from lanhai.db.schema import genome_projects, genome_status_events, genome_targets, records
from lanhai.store.records import as_utc as _utc


@dataclass(frozen=True)
class Project:
    """A genome project as stored."""

    key: str
    name: str
    name_zh: str
    goal: str
    taxon_scope: str
    target_count: int | None
    started: str | None
    ends: str | None
    done_status: str
    reported_done: int | None
    reported_on: str | None
    reported_source: str | None
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "name": self.name, "name_zh": self.name_zh,
                "goal": self.goal, "taxon_scope": self.taxon_scope,
                "target_count": self.target_count, "started": self.started,
                "ends": self.ends, "done_status": self.done_status,
                "reported_done": self.reported_done, "reported_on": self.reported_on,
                "reported_source": self.reported_source, "created_by": self.created_by,
                "created_at": self.created_at.isoformat(),
                "updated_at": self.updated_at.isoformat(), "version": self.version}


#: the columns a project's owner sets
PROJECT_FIELDS = ("name", "name_zh", "goal", "taxon_scope", "target_count", "started", "ends",
                  "done_status", "reported_done", "reported_on", "reported_source")


#: the text columns a project always has (empty when not given)
_TEXTS = ("name_zh", "goal", "taxon_scope")


def _project(row: Any) -> Project:
    return Project(row.key, row.name, row.name_zh or "", row.goal or "", row.taxon_scope or "",
                   row.target_count, row.started, row.ends, row.done_status,
                   row.reported_done, row.reported_on, row.reported_source, row.created_by,
                   _utc(row.created_at), _utc(row.updated_at), int(row.version))


def insert_project(conn: Connection, key: str, values: Mapping[str, Any], actor: str) -> None:
    now = dt.datetime.now(dt.UTC)
    conn.execute(insert(genome_projects).values(
        key=key, **{k: values.get(k, "" if k in _TEXTS else None) for k in PROJECT_FIELDS},
        created_by=actor,
        created_at=now, updated_at=now, version=1))


def update_project(conn: Connection, key: str, version: int, values: Mapping[str, Any]
                   ) -> bool:
    """Change a project still at ``version``; False when someone changed it first."""
    result = conn.execute(update(genome_projects).where(
        genome_projects.c.key == key, genome_projects.c.version == version).values(
        **values, updated_at=dt.datetime.now(dt.UTC), version=version + 1))
    return bool(result.rowcount)


def get_project(conn: Connection, key: str) -> Project | None:
    row = conn.execute(select(genome_projects).where(genome_projects.c.key == key)
                       ).one_or_none()
    return _project(row) if row else None


def list_projects(conn: Connection) -> list[Project]:
    return [_project(r) for r in conn.execute(select(genome_projects)
                                              .order_by(genome_projects.c.key))]


@dataclass(frozen=True)
class Target:
    """A species on a project's target list."""

    project: str
    taxid: int
    scientific_name: str
    lineage: dict[str, str]
    priority: int | None

    def to_dict(self) -> dict[str, Any]:
        return {"project": self.project, "taxid": self.taxid,
                "scientific_name": self.scientific_name, "lineage": self.lineage,
                "priority": self.priority}


def targets(conn: Connection, project: str | None = None) -> list[Target]:
    """The targets of ``project`` (of every project when None), by taxid."""
    stmt = select(genome_targets)
    if project is not None:
        stmt = stmt.where(genome_targets.c.project == project)
    return [Target(r.project, int(r.taxid), r.scientific_name, dict(r.lineage), r.priority)
            for r in conn.execute(stmt.order_by(genome_targets.c.project,
                                                genome_targets.c.taxid))]


def put_targets(conn: Connection, project: str, rows: Sequence[Target], actor: str
                ) -> tuple[int, int]:
    """Add new targets and update those already listed; (added, updated)."""
    have = {int(t) for (t,) in conn.execute(select(genome_targets.c.taxid).where(
        genome_targets.c.project == project))}
    now = dt.datetime.now(dt.UTC)
    new = [r for r in rows if r.taxid not in have]
    old = [r for r in rows if r.taxid in have]
    if new:
        conn.execute(insert(genome_targets), [
            {"project": project, "taxid": r.taxid, "scientific_name": r.scientific_name,
             "lineage": r.lineage, "priority": r.priority, "added_by": actor,
             "added_at": now} for r in new])
    for r in old:
        conn.execute(update(genome_targets).where(
            genome_targets.c.project == project, genome_targets.c.taxid == r.taxid).values(
            scientific_name=r.scientific_name, lineage=r.lineage, priority=r.priority))
    return len(new), len(old)


def remove_target(conn: Connection, project: str, taxid: int) -> bool:
    result = conn.execute(delete(genome_targets).where(
        genome_targets.c.project == project, genome_targets.c.taxid == taxid))
    return bool(result.rowcount)


@dataclass(frozen=True)
class StoredEvent:
    """A status event as stored, with who recorded it and when."""

    id: int
    project: str
    taxid: int
    status: str
    day: str
    evidence: list[str]
    note: str
    allow_skip: bool
    allow_back: bool
    from_list: bool
    actor: str
    at: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "project": self.project, "taxid": self.taxid,
                "status": self.status, "day": self.day, "evidence": self.evidence,
                "note": self.note, "allow_skip": self.allow_skip,
                "allow_back": self.allow_back, "from_list": self.from_list,
                "actor": self.actor,
                "at": self.at.isoformat()}


def events(conn: Connection, project: str | None = None, taxid: int | None = None
           ) -> list[StoredEvent]:
    """Status events in the order they were recorded."""
    stmt = select(genome_status_events)
    if project is not None:
        stmt = stmt.where(genome_status_events.c.project == project)
    if taxid is not None:
        stmt = stmt.where(genome_status_events.c.taxid == taxid)
    return [StoredEvent(int(r.id), r.project, int(r.taxid), r.status, r.day,
                        list(r.evidence), r.note or "", bool(r.allow_skip),
                        bool(r.allow_back), bool(r.from_list), r.actor, _utc(r.at))
            for r in conn.execute(stmt.order_by(genome_status_events.c.id))]


def add_events(conn: Connection, rows: Iterable[Mapping[str, Any]], actor: str) -> int:
    now = dt.datetime.now(dt.UTC)
    values = [{**row, "actor": actor, "at": now} for row in rows]
    if values:
        conn.execute(insert(genome_status_events), values)
    return len(values)


def event_count(conn: Connection, project: str) -> int:
    return int(conn.execute(select(func.count()).select_from(genome_status_events).where(
        genome_status_events.c.project == project)).scalar() or 0)


@dataclass(frozen=True)
class Material:
    """The taxa the bank holds material of: NCBI taxon ids and lower-case names."""

    taxids: frozenset[int]
    names: frozenset[str]


def bank_material(conn: Connection, include_restricted: bool) -> Material:
    """The taxa of the bank's samples, strains, assemblies and germplasm (what a genome
    project could start from)."""
    fields = records.c.fields
    stmt = select(records.c.kind, fields["taxid"].as_string(),
                  fields["samp_taxon_id"].as_string(), fields["taxon_name"].as_string(),
                  fields["genus"].as_string(), fields["species"].as_string()).where(
        records.c.kind.in_(("sample", "strain", "assembly", "germplasm")),
        fields["record_status"].as_string().is_(None))
    if not include_restricted:
        stmt = stmt.where(records.c.restricted == False)  # noqa: E712
    taxids: set[int] = set()
    names: set[str] = set()
    for _, taxid, samp_taxid, taxon, genus, species in conn.execute(stmt):
        for value in (taxid, samp_taxid):
            if value is not None and str(value).isdigit():
                taxids.add(int(value))
        if taxon:
            names.add(" ".join(str(taxon).split()[:2]).lower())
        if genus and species:
            names.add(f"{genus} {species}".lower())
    return Material(frozenset(taxids), frozenset(names))
