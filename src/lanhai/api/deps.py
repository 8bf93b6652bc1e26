"""Request dependencies: the bank and the acting user (from the bearer token)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from lanhai.bank import Bank
from lanhai.errors import UsageError
from lanhai.services.access import (
    ANONYMOUS,
    Actor,
    require_admin,
    require_some_writer,
    require_user,
    require_writer,
)


def bank_of(request: Request) -> Bank:
    """The bank the application serves."""
    bank: Bank = request.app.state.bank
    return bank


async def get_bank(request: Request) -> Bank:
    """The bank the application serves (async: no thread hop on the hot path)."""
    return bank_of(request)


async def get_actor(request: Request) -> Actor:
    """Anonymous without a token; 401 for a token that is unknown, expired or revoked.

    Async and without sub-dependencies so that anonymous reads cost no thread hop (the
    API's hot path); the token lookup (database I/O) runs in the thread pool.
    """
    header = request.headers.get("authorization", "")
    if not header:
        return ANONYMOUS
    return await run_in_threadpool(bank_of(request).users.actor_for_authorization, header)


BankDep = Annotated[Bank, Depends(get_bank)]
ActorDep = Annotated[Actor, Depends(get_actor)]


async def get_curator(actor: ActorDep) -> Actor:
    """The actor, if they may change records (401 anonymous, 403 reader)."""
    require_writer(actor)
    return actor


async def get_entry_writer(actor: ActorDep) -> Actor:
    """The actor, if they may change some records: a curator or an admin, or a member (its
    organisation's offers and demands); 401 anonymous, 403 otherwise."""
    require_some_writer(actor)
    return actor


async def get_admin(actor: ActorDep) -> Actor:
    """The actor, if they are an admin (401 anonymous, 403 otherwise)."""
    require_admin(actor)
    return actor


async def get_user(actor: ActorDep) -> Actor:
    """The actor, if they sent a valid token (401 anonymous)."""
    require_user(actor)
    return actor


CuratorDep = Annotated[Actor, Depends(get_curator)]
EntryWriterDep = Annotated[Actor, Depends(get_entry_writer)]
AdminDep = Annotated[Actor, Depends(get_admin)]
UserDep = Annotated[Actor, Depends(get_user)]


def if_match_version(value: str | None) -> int | None:
    """The version an If-Match header names (``"3"``, ``W/"3"`` or ``3``; ``*``: any)."""
    if value is None or value.strip() == "*":
        return None
    text = value.strip().removeprefix("W/").strip('"')
    if not text.isdigit() or len(text) > 9:
        raise UsageError(f"If-Match {value!r} is not a version: send the ETag as you read "
                         'it, e.g. If-Match: "3"')
    return int(text)
