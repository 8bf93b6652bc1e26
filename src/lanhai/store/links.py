"""Typed links between catalog records, and the one walk over the lineage graph."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, literal, or_, select

from lanhai.db.schema import links, records, versions
from lanhai.model import LineageEdge, Link, Record
from lanhai.store.records import as_utc, now

#: the lineage direction from a record to its ancestors, and to its descendants
UP, DOWN = "up", "down"


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
        _log(conn, rec, "link", {"link": [None, f"{direction} {other.accession} ({rel})"]},
             actor, stamp)
    return True


def remove_link(conn: Connection, source: Record, rel: str, target: Record, actor: str) -> bool:
    result = conn.execute(links.delete().where(
        links.c.source_id == source._id, links.c.rel == rel, links.c.target_id == target._id))
    if not result.rowcount:
        return False
    stamp = now()
    for rec, other, direction in ((source, target, "to"), (target, source, "from")):
        _log(conn, rec, "unlink", {"link": [f"{direction} {other.accession} ({rel})", None]},
             actor, stamp)
    return True


def _log(conn: Connection, rec: Record, action: str, changes: dict[str, Any], actor: str,
         stamp: dt.datetime) -> None:
    """Write a link or unlink into the record's history, at its current version.

    A link changes neither the record's fields nor its version, updated_at or updated_by:
    those describe the record itself, and a link to a record a reader may not see must not
    move them (the reader would learn that something happened that their history hides).
    """
    version = conn.execute(select(records.c.version).where(records.c.id == rec._id)
                           ).scalar_one()
    conn.execute(insert(versions).values(record_id=rec._id, version=version, action=action,
                                         changed_at=stamp, changed_by=actor, changes=changes))


def links_of(conn: Connection, record: Record, include_restricted: bool) -> list[Link]:
    """Links into and out of ``record`` whose other end the caller may see."""
    return links_of_many(conn, [record], include_restricted)[record.accession]


def links_of_many(conn: Connection, batch: Sequence[Record], include_restricted: bool
                  ) -> dict[str, list[Link]]:
    """accession -> links into and out of it whose ends the caller may see, for a batch."""
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
class Step:
    """A link met by :func:`walk`: ``near`` was reached before, ``far`` is reached through it."""

    depth: int
    near: int
    far: int
    edge: LineageEdge


def walk(conn: Connection, start: Collection[int], direction: str, max_depth: int,
         include_restricted: bool) -> list[Step]:
    """The links met walking the lineage graph from the records ``start`` (database ids),
    breadth first, upstream (``UP``, towards ancestors) or downstream (``DOWN``).

    Every link out of every record reached within ``max_depth - 1`` links is returned once,
    in walk order, so a caller can also follow each start record on its own. A restricted
    record the caller may not see stops the walk: neither it nor what lies beyond it through
    it is returned.
    """
    frontier = set(start)
    seen = set(start)
    steps: list[Step] = []
    near, far = ((links.c.target_id, links.c.source_id) if direction == UP
                 else (links.c.source_id, links.c.target_id))
    src = records.alias("src")
    dst = records.alias("dst")
    for depth in range(1, max_depth + 1):
        if not frontier:
            break
        listed = sorted(frontier)
        found: list[tuple[int, Step]] = []
        for begin in range(0, len(listed), 500):
            rows = conn.execute(
                select(links.c.id, links.c.rel, src.c.accession, dst.c.accession,
                       src.c.restricted, dst.c.restricted, near, far)
                .join(src, src.c.id == links.c.source_id)
                .join(dst, dst.c.id == links.c.target_id)
                .where(near.in_(listed[begin:begin + 500]))
            ).all()
            for link_id, rel, s_acc, t_acc, s_res, t_res, near_id, far_id in rows:
                if not include_restricted and (s_res or t_res):
                    continue
                found.append((int(link_id), Step(depth, int(near_id), int(far_id),
                                                 LineageEdge(s_acc, rel, t_acc, depth))))
        found.sort(key=lambda pair: pair[0])
        next_frontier: set[int] = set()
        for _, step in found:
            steps.append(step)
            if step.far not in seen:
                seen.add(step.far)
                next_frontier.add(step.far)
        frontier = next_frontier
    return steps


def lineage(conn: Connection, record: Record, direction: str, max_depth: int,
            include_restricted: bool) -> list[LineageEdge]:
    """Edges reachable upstream (ancestors) or downstream (descendants) of one record."""
    return [step.edge for step in walk(conn, [record._id], direction, max_depth,
                                       include_restricted)]


def upstream_ids(conn: Connection, start: Collection[int], include_restricted: bool,
                 max_depth: int) -> set[int]:
    """The records ``start`` and every record upstream of them (database ids)."""
    return set(start) | {step.far for step in walk(conn, start, UP, max_depth,
                                                   include_restricted)}


@dataclass(frozen=True)
class Node:
    """A record met on a lineage walk, with the indexed columns a hit's context needs."""

    accession: str
    kind: str
    name: str
    taxon: str | None
    depth_m: float | None
    latitude: float | None
    longitude: float | None
    event_date: str | None
    status: str | None


def upstream_chains(conn: Connection, accessions: Sequence[str], kind: str,
                    include_restricted: bool, max_depth: int) -> dict[str, list[Node]]:
    """For each visible record of ``kind`` among ``accessions``: itself, then the records
    upstream of it, nearest first (by depth, then by id)."""
    wanted = sorted(set(accessions))
    start: dict[str, int] = {}
    for begin in range(0, len(wanted), 500):
        stmt = select(records.c.accession, records.c.id).where(
            records.c.accession.in_(wanted[begin:begin + 500]), records.c.kind == kind)
        if not include_restricted:
            stmt = stmt.where(records.c.restricted == literal(False))
        start.update((acc, int(rid)) for acc, rid in conn.execute(stmt))
    steps = walk(conn, list(start.values()), UP, max_depth, include_restricted)
    parents: dict[int, list[int]] = {}
    for step in steps:
        parents.setdefault(step.near, []).append(step.far)
    chains: dict[str, list[int]] = {}
    for accession, origin in start.items():
        # breadth first from this record alone, over the links the walk found
        reached = {origin: 0}
        frontier = [origin]
        for depth in range(1, max_depth + 1):
            following = []
            for node in frontier:
                for parent in parents.get(node, ()):
                    if parent not in reached:
                        reached[parent] = depth
                        following.append(parent)
            frontier = following
        chains[accession] = [i for i, _ in sorted(reached.items(),
                                                  key=lambda item: (item[1], item[0]))]
    ids = sorted({i for chain in chains.values() for i in chain})
    nodes: dict[int, Node] = {}
    for begin in range(0, len(ids), 500):
        for row in conn.execute(select(records).where(records.c.id.in_(ids[begin:begin + 500]))):
            nodes[row.id] = Node(row.accession, row.kind, row.name, row.taxon, row.depth_m,
                                 row.latitude, row.longitude, row.event_date,
                                 row.fields.get("status") if row.kind == "strain" else None)
    return {acc: [nodes[i] for i in chain] for acc, chain in chains.items()}
