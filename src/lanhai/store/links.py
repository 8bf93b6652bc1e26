"""Typed links between catalog records, and the lineage walk over them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, or_, select, update

from lanhai.db.schema import links, records, versions
from lanhai.store.records import Record, as_utc, now


@dataclass(frozen=True)
class Link:
    source: str
    rel: str
    target: str
    created_at: dt.datetime
    created_by: str

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "rel": self.rel, "target": self.target,
                "created_at": self.created_at.isoformat(), "created_by": self.created_by}


def add_link(conn: Connection, source: Record, rel: str, target: Record, actor: str) -> bool:
    """Create ``source --rel--> target``; False if it already existed."""
    exists = conn.execute(select(links.c.id).where(
        links.c.source_id == source._id, links.c.rel == rel, links.c.target_id == target._id
    )).first()
    if exists:
        return False
    stamp = now()
    conn.execute(insert(links).values(source_id=source._id, rel=rel, target_id=target._id,
                                      created_at=stamp, created_by=actor))
    for rec, other, direction in ((source, target, "to"), (target, source, "from")):
        _bump(conn, rec, "link", {"link": [None, f"{direction} {other.accession} ({rel})"]},
              actor, stamp)
    return True


def remove_link(conn: Connection, source: Record, rel: str, target: Record, actor: str) -> bool:
    result = conn.execute(links.delete().where(
        links.c.source_id == source._id, links.c.rel == rel, links.c.target_id == target._id))
    if not result.rowcount:
        return False
    stamp = now()
    for rec, other, direction in ((source, target, "to"), (target, source, "from")):
        _bump(conn, rec, "unlink", {"link": [f"{direction} {other.accession} ({rel})", None]},
              actor, stamp)
    return True


def _bump(conn: Connection, rec: Record, action: str, changes: dict[str, Any], actor: str,
          stamp: dt.datetime) -> None:
    version = conn.execute(select(records.c.version).where(records.c.id == rec._id)
                           ).scalar_one() + 1
    conn.execute(update(records).where(records.c.id == rec._id).values(
        version=version, updated_at=stamp, updated_by=actor))
    conn.execute(insert(versions).values(record_id=rec._id, version=version, action=action,
                                         changed_at=stamp, changed_by=actor, changes=changes))
    rec.version = version


def links_of(conn: Connection, record: Record, include_restricted: bool) -> list[Link]:
    """Links into and out of ``record`` whose other end the caller may see."""
    src = records.alias("src")
    dst = records.alias("dst")
    stmt = (
        select(src.c.accession, links.c.rel, dst.c.accession, links.c.created_at,
               links.c.created_by, src.c.restricted, dst.c.restricted)
        .join(src, src.c.id == links.c.source_id).join(dst, dst.c.id == links.c.target_id)
        .where(or_(links.c.source_id == record._id, links.c.target_id == record._id))
        .order_by(links.c.id)
    )
    out = []
    for s, rel, t, at, by, s_restricted, t_restricted in conn.execute(stmt):
        if not include_restricted and (s_restricted or t_restricted):
            continue
        out.append(Link(s, rel, t, as_utc(at), by))
    return out


def links_of_many(conn: Connection, batch: Sequence[Record], include_restricted: bool
                  ) -> dict[str, list[Link]]:
    """accession -> links into and out of it (as :func:`links_of`), for a batch of records."""
    by_id = {rec._id: rec.accession for rec in batch}
    out: dict[str, list[Link]] = {rec.accession: [] for rec in batch}
    src = records.alias("src")
    dst = records.alias("dst")
    stmt = (
        select(src.c.accession, links.c.rel, dst.c.accession, links.c.created_at,
               links.c.created_by, src.c.restricted, dst.c.restricted, links.c.source_id,
               links.c.target_id)
        .join(src, src.c.id == links.c.source_id).join(dst, dst.c.id == links.c.target_id)
        .where(or_(links.c.source_id.in_(list(by_id)), links.c.target_id.in_(list(by_id))))
        .order_by(links.c.id)
    )
    for s, rel, t, at, by, s_res, t_res, s_id, t_id in conn.execute(stmt):
        if not include_restricted and (s_res or t_res):
            continue
        link = Link(s, rel, t, as_utc(at), by)
        for rec_id in dict.fromkeys((s_id, t_id)):
            if rec_id in by_id:
                out[by_id[rec_id]].append(link)
    return out


@dataclass(frozen=True)
class LineageEdge:
    source: str
    rel: str
    target: str
    depth: int


def lineage(conn: Connection, record: Record, direction: str, max_depth: int,
            include_restricted: bool) -> list[LineageEdge]:
    """Edges reachable upstream (ancestors) or downstream (descendants), breadth first.

    A restricted record the caller may not see stops the walk: neither it nor what lies
    beyond it through it is returned.
    """
    frontier = {record._id}
    seen = {record._id}
    edges: list[LineageEdge] = []
    for depth in range(1, max_depth + 1):
        if not frontier:
            break
        near, far = ((links.c.target_id, links.c.source_id) if direction == "up"
                     else (links.c.source_id, links.c.target_id))
        src = records.alias("src")
        dst = records.alias("dst")
        rows = conn.execute(
            select(links.c.rel, src.c.accession, dst.c.accession, src.c.restricted,
                   dst.c.restricted, far)
            .join(src, src.c.id == links.c.source_id).join(dst, dst.c.id == links.c.target_id)
            .where(near.in_(list(frontier))).order_by(links.c.id)
        ).all()
        next_frontier: set[int] = set()
        for rel, s_acc, t_acc, s_res, t_res, far_id in rows:
            if not include_restricted and (s_res or t_res):
                continue
            edges.append(LineageEdge(s_acc, rel, t_acc, depth))
            if far_id not in seen:
                seen.add(far_id)
                next_frontier.add(far_id)
        frontier = next_frontier
    return edges
