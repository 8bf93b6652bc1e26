"""Catalog use cases: create, update, get, list, link, lineage, history, with access control.

The CLI, the HTTP API and the web pages all call these; none of them talks SQL.
"""

from __future__ import annotations

import builtins
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine

from lanhai.errors import (
    Conflict,
    Forbidden,
    NotFound,
    Problem,
    Unauthorized,
    UsageError,
    ValidationFailed,
)
from lanhai.kinds import LINK_RULES, check_link, kind_of_accession, kind_spec
from lanhai.kinds.fields import Fields, KindSpec, validate_fields
from lanhai.kinds.vocab import ValueContext
from lanhai.store import links as link_store
from lanhai.store import queries
from lanhai.store import records as store
from lanhai.store.links import LineageEdge, Link
from lanhai.store.queries import Filter
from lanhai.store.records import NewRecord, Record, Version

_ACCESSION_IN_TEXT = re.compile(r"\bLH[A-Z]{2}\d{7}\b")


@dataclass(frozen=True)
class Actor:
    """Who is asking: a username and a role (anonymous, reader, curator, admin)."""

    username: str
    role: str

    @property
    def can_see_restricted(self) -> bool:
        return self.role in ("curator", "admin")

    @property
    def can_write(self) -> bool:
        return self.role in ("curator", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


ANONYMOUS = Actor("anonymous", "anonymous")
#: the actor for commands run on the bank's own machine (`lanhai` CLI without --token)
LOCAL_ADMIN = Actor("local", "admin")


def require_writer(actor: Actor) -> None:
    if actor.role == "anonymous":
        raise Unauthorized("this action needs a curator token: send 'Authorization: Bearer "
                           "<token>' (create one with `lanhai tokens create USER`)")
    if not actor.can_write:
        raise Forbidden(f"user {actor.username!r} is a {actor.role}; changing records needs "
                        "the curator or admin role")


def require_admin(actor: Actor) -> None:
    require_writer(actor)
    if not actor.is_admin:
        raise Forbidden(f"user {actor.username!r} is a {actor.role}; this needs the admin role")


def _visible(actor: Actor, record: Record | None, accession: str) -> Record:
    if record is None or (record.restricted and not actor.can_see_restricted):
        # A reader must not learn that a confidential record exists: 404, never 403.
        raise NotFound(f"no record {accession!r}")
    return record


def _restricted(spec: KindSpec, fields: Fields, given: bool | None) -> bool:
    if "restricted" in fields:
        return bool(fields["restricted"])
    return spec.restricted_by_default if given is None else given


class CatalogService:
    """Use cases over one catalog engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- reading --------------------------------------------------------------------------
    def get(self, actor: Actor, accession: str) -> Record:
        with self.engine.connect() as conn:
            return _visible(actor, store.get_record(conn, accession), accession)

    def list(self, actor: Actor, kind: str | None, where: Sequence[str] = (), *,
             query: str | None = None, limit: int = 50, offset: int = 0,
             sort: str = "accession") -> tuple[builtins.list[Record], int | None]:
        if limit < 1 or offset < 0:
            raise UsageError("limit must be at least 1 and offset at least 0")
        filters = [queries.parse_filter(w) for w in where]
        with self.engine.connect() as conn:
            return queries.list_records(conn, kind, filters, query=query,
                                      include_restricted=actor.can_see_restricted,
                                      limit=limit, offset=offset, sort=sort)

    def links(self, actor: Actor, accession: str) -> builtins.list[Link]:
        with self.engine.connect() as conn:
            record = _visible(actor, store.get_record(conn, accession), accession)
            return link_store.links_of(conn, record, actor.can_see_restricted)

    def lineage(self, actor: Actor, accession: str, max_depth: int = 10
                ) -> dict[str, Any]:
        """Ancestors and descendants of any record, as edges and the records they touch."""
        with self.engine.connect() as conn:
            record = _visible(actor, store.get_record(conn, accession), accession)
            up = link_store.lineage(conn, record, "up", max_depth, actor.can_see_restricted)
            down = link_store.lineage(conn, record, "down", max_depth, actor.can_see_restricted)
            accessions = {e.source for e in up + down} | {e.target for e in up + down}
            nodes = {}
            for acc in sorted(accessions):
                rec = store.get_record(conn, acc)
                if rec is not None:
                    nodes[acc] = {"accession": acc, "kind": rec.kind, "name": rec.name}
        return {"accession": record.accession, "kind": record.kind, "name": record.name,
                "ancestors": [_edge(e) for e in up], "descendants": [_edge(e) for e in down],
                "nodes": list(nodes.values())}

    def history(self, actor: Actor, accession: str) -> builtins.list[Version]:
        """Every change of a record; for readers, without link entries that would reveal a
        restricted record (a reader must not learn a confidential deposit exists)."""
        with self.engine.connect() as conn:
            record = _visible(actor, store.get_record(conn, accession), accession)
            versions = store.history(conn, record)
            if actor.can_see_restricted:
                return versions
            named = {acc for v in versions if v.action in ("link", "unlink")
                     for acc in _ACCESSION_IN_TEXT.findall(json.dumps(v.changes))}
            hidden = store.restricted_accessions(conn, named)
        return [v for v in versions if v.action not in ("link", "unlink")
                or not set(_ACCESSION_IN_TEXT.findall(json.dumps(v.changes))) & hidden]

    def counts(self, actor: Actor) -> dict[str, int]:
        with self.engine.connect() as conn:
            return queries.count_by_kind(conn, actor.can_see_restricted)

    # -- writing --------------------------------------------------------------------------
    def create(self, actor: Actor, kind: str, raw: Mapping[str, Any],
               ctx: ValueContext | None = None, note: str | None = None) -> Record:
        """Validate and store one new record; identifiers must not belong to another."""
        require_writer(actor)
        spec = kind_spec(kind)
        fields, problems = validate_fields(spec, raw, ctx)
        if problems:
            raise ValidationFailed(f"the {spec.name} is not valid", problems)
        ids = spec.identifiers(fields)
        with self.engine.begin() as conn:
            owners = store.identifier_owners(conn, spec.name, ids)
            if owners:
                clashes = ", ".join(f"{v} ({owners[store.identifier_key(v)]})" for v in ids
                                    if store.identifier_key(v) in owners)
                raise Conflict(f"a {spec.name} with these identifiers exists: {clashes}; "
                               "update that record instead")
            [accession] = store.insert_records(
                conn, [NewRecord(spec, fields, ids, _restricted(spec, fields, None))],
                actor.username, note)
            created = store.get_record(conn, accession)
        assert created is not None
        return created

    def update(self, actor: Actor, accession: str, raw: Mapping[str, Any],
               ctx: ValueContext | None = None, note: str | None = None,
               replace: bool = False) -> Record:
        """Change the given fields of a record (all fields if ``replace``)."""
        require_writer(actor)
        with self.engine.begin() as conn:
            record = _visible(actor, store.get_record(conn, accession), accession)
            return self._update_in(conn, actor, record, raw, ctx, note, replace)

    def _update_in(self, conn: Connection, actor: Actor, record: Record,
                   raw: Mapping[str, Any], ctx: ValueContext | None, note: str | None,
                   replace: bool) -> Record:
        spec = kind_spec(record.kind)
        # summary fields (an assembly's N50 …) come from stored data, not from the fields
        # a curator edits, so even a full replace keeps them
        base = ({k: v for k, v in record.fields.items() if k in spec.summary_fields}
                if replace else spec.editable_fields(record.fields))
        fields, problems = validate_fields(spec, raw, ctx, existing=base)
        if problems:
            raise ValidationFailed(f"the change to {record.accession} is not valid",
                                   [_with_record(p, record.accession) for p in problems])
        ids = spec.identifiers(fields)
        owners = store.identifier_owners(conn, spec.name, ids)
        clash = [v for v in ids if owners.get(store.identifier_key(v), record.accession)
                 != record.accession]
        if clash:
            raise Conflict(f"identifiers {', '.join(clash)} already belong to another "
                           f"{spec.name}: {', '.join(sorted(set(owners.values())))}")
        store.update_record(conn, record, spec, fields, ids,
                            _restricted(spec, fields, record.restricted), actor.username, note)
        return record

    def add_deposit_event(self, actor: Actor, accession: str, event_kind: str,
                          event: Mapping[str, Any], note: str | None = None) -> Record:
        """Append a Budapest lifecycle event to a deposit and recompute its clocks.

        ``event_kind`` is receipts (Rule 7), viability_tests (Rule 10) or furnishings
        (Rule 11); a furnished sample extends retention to 5 years after it.
        """
        from lanhai.kinds.deposits import EVENT_KEYS

        require_writer(actor)
        if event_kind not in EVENT_KEYS:
            raise UsageError(f"unknown deposit event {event_kind!r}; use one of: "
                             + ", ".join(EVENT_KEYS))
        with self.engine.begin() as conn:
            record = _visible(actor, store.get_record(conn, accession), accession)
            if record.kind != "deposit":
                raise UsageError(f"{record.accession} is a {record.kind}, not a deposit")
            events = [*record.fields.get(event_kind, []), dict(event)]
            return self._update_in(conn, actor, record, {event_kind: events}, None,
                                   note or f"{event_kind} event", False)

    def link(self, actor: Actor, source: str, rel: str, target: str) -> Link:
        """Link two records; 'A REL B' is read in either direction if only one is allowed."""
        require_writer(actor)
        if rel not in LINK_RULES:
            raise UsageError(f"unknown relation {rel!r}; relations are: "
                             + ", ".join(LINK_RULES))
        with self.engine.begin() as conn:
            src = _visible(actor, store.get_record(conn, source), source)
            dst = _visible(actor, store.get_record(conn, target), target)
            if src._id == dst._id:
                raise ValidationFailed("a record cannot be linked to itself",
                                       [Problem("source and target are the same record",
                                                "give two different accessions",
                                                record=src.accession)])
            if not check_link(rel, src.kind, dst.kind):
                if rel != "derived_from" and check_link(rel, dst.kind, src.kind):
                    src, dst = dst, src
                else:
                    rule = LINK_RULES[rel]
                    raise ValidationFailed(
                        f"{src.kind} --{rel}--> {dst.kind} is not an allowed link",
                        [Problem(f"{rel} links {'/'.join(rule.sources)} to "
                                 f"{'/'.join(rule.targets)}" +
                                 (" of the same kind" if rel == "derived_from" else ""),
                                 f"check the accessions; {rule.description}",
                                 record=f"{source} {rel} {target}")])
            if rel == "derived_from" and _reaches(conn, dst, src):
                raise ValidationFailed("this link would make a cycle",
                                       [Problem(f"{src.accession} already descends from "
                                                f"{dst.accession}", "link the other way round",
                                                record=src.accession)])
            link_store.add_link(conn, src, rel, dst, actor.username)
            found = [lk for lk in link_store.links_of(conn, src, True)
                     if lk.rel == rel and lk.target == dst.accession]
        return found[0]

    def unlink(self, actor: Actor, source: str, rel: str, target: str) -> None:
        require_writer(actor)
        with self.engine.begin() as conn:
            src = _visible(actor, store.get_record(conn, source), source)
            dst = _visible(actor, store.get_record(conn, target), target)
            if not (link_store.remove_link(conn, src, rel, dst, actor.username)
                    or link_store.remove_link(conn, dst, rel, src, actor.username)):
                raise NotFound(f"no link {source} --{rel}--> {target}")


def _reaches(conn: Connection, start: Record, goal: Record) -> bool:
    edges = link_store.lineage(conn, start, "down", 50, True)
    return any(e.target == goal.accession for e in edges)


def _edge(edge: LineageEdge) -> dict[str, Any]:
    return {"source": edge.source, "rel": edge.rel, "target": edge.target, "depth": edge.depth}


def _with_record(problem: Problem, accession: str) -> Problem:
    return Problem(reason=problem.reason, fix=problem.fix, field=problem.field,
                   value=problem.value, record=accession)


def check_accession(accession: str) -> str:
    """Upper-cased accession, or a usage error naming the valid form."""
    acc = accession.strip().upper()
    if kind_of_accession(acc) is None:
        raise UsageError(f"{accession!r} is not a Lanhai accession (e.g. LHST0000001)")
    return acc


__all__ = ["ANONYMOUS", "LOCAL_ADMIN", "Actor", "CatalogService", "Filter", "check_accession",
           "require_admin", "require_writer"]
