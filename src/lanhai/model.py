"""The value types every layer passes around: records, their versions and links, users and
tokens, list filters. Plain data, no I/O: the store builds them, services return them,
adapters render them (see docs/decisions/0009-service-layer.md)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lanhai.errors import UsageError
from lanhai.kinds.fields import Fields, KindSpec

#: the furthest a caller may page into a list or a search (far past any bank's size)
MAX_OFFSET = 1_000_000_000
#: the largest number of a row the bank numbers itself (a deal, a release, a notice: a
#: 32-bit key); any other number names nothing
MAX_KEY = 2**31 - 1
#: the roles a user can have, from least to most trusted: a reader reads; a member acts for
#: its organisation on the market; an investor also sees financing needs; a broker takes
#: matches into deals; a curator changes records; an admin manages users too
ROLES = ("reader", "member", "investor", "broker", "curator", "admin")


def identifier_key(value: str) -> str:
    """Case- and spacing-insensitive key of an external identifier ('dsm  12345' = 'DSM 12345')."""
    return re.sub(r"[\s_.:=\-/#]+", "", value).casefold()


@dataclass
class Record:
    """A catalog record as services see it (the database id never leaves the store and
    services; adapters and exports never read ``_id``)."""

    accession: str
    kind: str
    name: str
    fields: Fields
    restricted: bool
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    created_by: str
    updated_by: str
    identifiers: list[str] = field(default_factory=list)
    _id: int = field(default=0, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "accession": self.accession, "kind": self.kind, "name": self.name,
            "restricted": self.restricted, "version": self.version,
            "created_at": self.created_at.isoformat(), "updated_at": self.updated_at.isoformat(),
            "created_by": self.created_by, "updated_by": self.updated_by,
            "identifiers": self.identifiers, "fields": self.fields,
        }


@dataclass
class NewRecord:
    """A validated record ready to insert."""

    spec: KindSpec
    fields: Fields
    identifiers: list[str]
    restricted: bool


@dataclass(frozen=True)
class Version:
    """One entry of a record's audit trail."""

    version: int
    action: str
    changed_at: dt.datetime
    changed_by: str
    changes: dict[str, Any]
    note: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "action": self.action,
                "changed_at": self.changed_at.isoformat(), "changed_by": self.changed_by,
                "changes": self.changes, "note": self.note}


@dataclass(frozen=True)
class Link:
    """A typed link ``source --rel--> target`` between two records."""

    source: str
    rel: str
    target: str
    created_at: dt.datetime
    created_by: str

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "rel": self.rel, "target": self.target,
                "created_at": self.created_at.isoformat(), "created_by": self.created_by}


@dataclass(frozen=True)
class LineageEdge:
    """A link met walking the lineage graph, ``depth`` links away from where the walk began."""

    source: str
    rel: str
    target: str
    depth: int


@dataclass(frozen=True)
class Filter:
    """One condition of a list query: ``field op value``."""

    field: str
    op: str
    value: str


_FILTER = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(!=|>=|<=|=|>|<|~)\s*(.*?)\s*$")


def parse_filter(expression: str) -> Filter:
    """Parse 'depth_m>1000', 'taxon~Zobellia', 'collection_date>=2010'."""
    match = _FILTER.match(expression)
    if not match:
        raise UsageError(
            f"cannot read the filter {expression!r}: write FIELD OP VALUE with OP one of "
            "= != > >= < <= ~ (contains), e.g. depth_m>1000 or taxon~Zobellia"
        )
    return Filter(match[1], match[2], match[3])


@dataclass(frozen=True)
class User:
    """A user account (never its password hash)."""

    username: str
    role: str
    display_name: str
    active: bool
    created_at: dt.datetime
    #: the organisation record (LHOG…) the user acts for, if any
    organisation: str | None = None
    #: where the market's notices are e-mailed, if anywhere
    email: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"username": self.username, "role": self.role,
                "display_name": self.display_name, "active": self.active,
                "created_at": self.created_at.isoformat(), "organisation": self.organisation,
                "email": self.email}


@dataclass(frozen=True)
class TokenInfo:
    """An API token as it may be shown: never its secret."""

    name: str
    prefix: str
    username: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None

    def to_dict(self) -> dict[str, Any]:
        def iso(value: dt.datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {"name": self.name, "prefix": self.prefix, "username": self.username,
                "created_at": iso(self.created_at), "expires_at": iso(self.expires_at),
                "revoked_at": iso(self.revoked_at), "last_used_at": iso(self.last_used_at)}

    def status(self, now: dt.datetime | None = None) -> str:
        """'active', 'expired' or 'revoked'."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= (now or dt.datetime.now(dt.UTC)):
            return "expired"
        return "active"


@dataclass(frozen=True)
class AuthEvent:
    """One entry of the sign-in log: ``event`` is sign_in, sign_in_failed, throttled,
    sign_out, password_changed or sessions_ended."""

    at: dt.datetime
    event: str
    username: str
    address: str
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "event": self.event, "username": self.username,
                "address": self.address, "detail": self.detail}


@dataclass(frozen=True)
class Upload:
    """A file sent with a request, kept where a service can read it: its id, where its file
    is, and what was recorded with it (owner, purpose)."""

    id: str
    path: Path
    meta: dict[str, Any]

    @property
    def folder(self) -> Path:
        """The upload's own folder (for requests that send several files)."""
        return self.path.parent
