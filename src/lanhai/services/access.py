"""Who is asking, and the one access rule: who may see and change what.

Every service answers through these functions, so the rule is written once:

- **Restricted records** (confidential patent deposits, embargoed samples, private
  assemblies …) are seen only by curators and admins. Anyone else gets what a bank without
  them would answer: 404 for the record (never 403: a reader must not learn it exists), and
  no trace in lists, counts, facets, lineage, history, exports, hits or jobs.
- **Unpublished breeding datasets** follow the same rule as restricted records.
- **Changing** records, imports and analyses need a curator or an admin; managing users and
  other people's tokens needs an admin.
- **The market's offers and demands** are also written by members for their own
  organisation, up to submitting them; its members see them whatever their status.
- **Deals** are seen by their two organisations' members, their broker and admins;
  **financing needs** by investors, admins and their organisation's members.
- **Jobs** are read by their owner or an admin; a job started anonymously by whoever holds
  its id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar

from lanhai.errors import Forbidden, Gone, NotFound, Unauthorized

ANONYMOUS_NAME = "anonymous"


@dataclass(frozen=True)
class Actor:
    """Who is asking: a username and a role (anonymous, reader, member, investor, broker,
    curator, admin), and the organisation a member acts for."""

    username: str
    role: str
    #: a command run on the bank's own machine (not a user signed in over the network)
    local: bool = False
    #: the organisation record (LHOG…) the user acts for
    organisation: str | None = None

    @property
    def member_of(self) -> str | None:
        """The organisation a member acts for (None for every other role)."""
        return self.organisation if self.role == "member" else None

    @property
    def signed_in(self) -> bool:
        return self.role != "anonymous"

    @property
    def can_see_restricted(self) -> bool:
        """Whether restricted records (and unpublished datasets) exist for this caller."""
        return self.role in ("curator", "admin")

    @property
    def can_write(self) -> bool:
        return self.role in ("curator", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


ANONYMOUS = Actor(ANONYMOUS_NAME, "anonymous")
#: the actor for commands run on the bank's own machine (`lanhai` CLI without --token)
LOCAL_ADMIN = Actor("local", "admin", local=True)


class Hideable(Protocol):
    """Anything that may be restricted: a record, a row of a record, an index entry."""

    @property
    def restricted(self) -> bool: ...


T = TypeVar("T", bound=Hideable)


def may_see(actor: Actor, restricted: bool) -> bool:
    """The visibility rule for one record (or anything that inherits its restriction)."""
    return not restricted or actor.can_see_restricted


def visible(actor: Actor, item: T | None, name: str) -> T:
    """``item`` if it exists and ``actor`` may see it; else the same 404 either way.

    A record that was public (a numbered accession) and is now suppressed still opens at
    its accession; one withdrawn answers 410 with when and why; a record created hidden
    (a held accession) stays a 404 whatever its status."""
    if item is None:
        raise NotFound(f"no record {name!r}")
    if may_see(actor, item.restricted) or own_entry(actor, item):
        return item
    found = getattr(item, "fields", None)
    fields: dict[str, object] = found if isinstance(found, dict) else {}
    status = fields.get("record_status")
    accession = str(getattr(item, "accession", ""))
    if status and accession[4:].isdigit():  # numbered: it was public once
        if status == "suppressed":
            return item
        when = str(getattr(item, "updated_at", ""))[:10]
        raise Gone(f"{accession} was withdrawn on {when}: {fields.get('status_reason', '')}")
    raise NotFound(f"no record {name!r}")


#: the market's record kinds a member writes for its organisation
ENTRY_KINDS = ("offer", "demand")
#: the review states a member may give its own entry (publishing and returning it are the
#: reviewing curators')
MEMBER_STATES = ("draft", "submitted", "withdrawn")


def own_entry(actor: Actor, item: object) -> bool:
    """Whether ``item`` is an offer or demand of the organisation ``actor`` is a member of
    (its members see it whatever its status: drafts, entries by invitation)."""
    org = actor.member_of
    fields = getattr(item, "fields", None)
    return bool(org) and getattr(item, "kind", "") in ENTRY_KINDS and \
        isinstance(fields, dict) and fields.get("organisation") == org


#: an offer's or demand's parts that an entry shown under NDA keeps from those who may not
#: see it whole (its summary stays public)
NDA_FIELDS = ("details", "details_zh")
R = TypeVar("R")


def redacted(actor: Actor, record: R) -> R:
    """``record`` as ``actor`` may read it: an offer or demand shown under NDA without its
    details, except to curators, admins and the members of its organisation."""
    fields = getattr(record, "fields", None)
    if not isinstance(fields, dict) or getattr(record, "kind", "") not in ENTRY_KINDS \
            or fields.get("visibility") != "nda" or actor.can_see_restricted \
            or own_entry(actor, record) or not any(k in fields for k in NDA_FIELDS):
        return record
    kept = {k: v for k, v in fields.items() if k not in NDA_FIELDS}
    return replace(record, fields=kept)  # type: ignore[type-var]


def require_some_writer(actor: Actor) -> None:
    """A caller who may change some records: a curator or an admin, or a member (its
    organisation's offers and demands); 401 anonymous, 403 anyone else."""
    if actor.member_of is None:
        require_writer(actor)


def require_record_writer(actor: Actor, kind: str, fields: Mapping[str, Any],
                          before: Mapping[str, Any] | None = None) -> None:
    """Curators and admins change any record; a member creates and changes its own
    organisation's offers and demands, up to submitting them for review."""
    if actor.can_write:
        return
    org = actor.member_of
    if org is None or kind not in ENTRY_KINDS:
        require_writer(actor)
        return
    owner = fields.get("organisation")
    if owner != org or (before is not None and before.get("organisation") != org):
        raise Forbidden(f"member {actor.username!r} acts for {org}; this {kind} is "
                        f"{'of ' + str(owner) if owner else 'of no organisation'}")
    status = fields.get("market_status", "draft")
    if status not in MEMBER_STATES:
        raise Forbidden(f"a member may keep its {kind} as a draft, submit it or withdraw it "
                        f"({', '.join(MEMBER_STATES)}), not make it {status}: curators review "
                        "and publish entries (to change a published one, submit it again)")


def may_see_needs(actor: Actor, organisation: str) -> bool:
    """Financing needs: investors and admins see every one; a member its own
    organisation's; nobody else any."""
    return actor.is_admin or actor.role == "investor" or actor.member_of == organisation


def may_see_dataset(actor: Actor, published: bool) -> bool:
    """Breeding datasets: published ones for everyone, the rest for curators and admins."""
    return may_see(actor, not published)


def may_read_job(actor: Actor, owner: str) -> bool:
    """A job is read by its owner, an admin, or (started anonymously) anyone with its id."""
    return actor.is_admin or owner in (actor.username, ANONYMOUS_NAME)


def require_user(actor: Actor) -> None:
    """A signed-in caller (any role)."""
    if not actor.signed_in:
        raise Unauthorized("this needs a token: send 'Authorization: Bearer <token>'")


def require_writer(actor: Actor) -> None:
    """A curator or an admin (401 anonymous, 403 reader)."""
    if not actor.signed_in:
        raise Unauthorized("this action needs a curator token: send 'Authorization: Bearer "
                           "<token>' (create one with `lanhai tokens create USER`)")
    if not actor.can_write:
        raise Forbidden(f"user {actor.username!r} is a {actor.role}; changing records needs "
                        "the curator or admin role")


def require_admin(actor: Actor) -> None:
    """An admin (401 anonymous, 403 otherwise)."""
    require_writer(actor)
    if not actor.is_admin:
        raise Forbidden(f"user {actor.username!r} is a {actor.role}; this needs the admin role")


__all__ = ["ANONYMOUS", "LOCAL_ADMIN", "Actor", "may_read_job", "may_see", "may_see_dataset",
           "require_admin", "require_user", "require_writer", "visible"]
