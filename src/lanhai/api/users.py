"""API routes for the caller, users and API tokens.

Admins manage users and anyone's tokens; a signed-in user manages their own tokens.
A token's secret is returned once, when it is created, and never stored.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from lanhai.api import schemas
from lanhai.api.deps import ActorDep, AdminDep, BankDep, UserDep
from lanhai.api.routing import api_router
from lanhai.model import TokenInfo
from lanhai.services.users import Throttled

router = api_router(prefix="/api", tags=["users"])

Role = Literal["reader", "member", "investor", "broker", "curator", "admin"]
USERNAME = r"^[A-Za-z0-9._-]{1,100}$"


class NewUser(BaseModel):
    """A user to create."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"username": "ana", "role": "curator", "display_name": "Ana Li"}]})

    username: str = Field(pattern=USERNAME, examples=["ana"])
    role: Role = Field(examples=["curator"])
    display_name: str = Field(default="", max_length=200, examples=["Ana Li"])
    organisation: str | None = Field(default=None, max_length=16,
                                     description="The organisation record (LHOG…) the user "
                                                 "acts for: needed for a member")
    email: str | None = Field(default=None, max_length=320,
                              description="Where the market's notices are e-mailed")
    password: str | None = Field(default=None, max_length=1024,
                                 description="For web sign-in (at least 10 characters, not "
                                             "common or easy to guess); programs use tokens")


class UserChange(BaseModel):
    """Changes to a user; fields left out stay as they are."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"role": "curator"},
                                                              {"active": False}]})

    role: Role | None = None
    active: bool | None = Field(default=None, description="false disables the user and "
                                                          "all their tokens")
    organisation: str | None = Field(default=None, max_length=16,
                                     description="The organisation (LHOG…) the user acts for; "
                                                 "an empty string clears it")
    email: str | None = Field(default=None, max_length=320,
                              description="Where notices are e-mailed; an empty string clears "
                                          "it")


class NewToken(BaseModel):
    """A token to create; ``username`` defaults to the caller."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"name": "import pipeline", "expires_days": 90},
        {"name": "sequencing robot", "username": "robot"}]})

    username: str | None = Field(default=None, pattern=USERNAME,
                                 description="Whose token (admins only for someone else)")
    name: str = Field(default="api", min_length=1, max_length=100,
                      description="What the token is for", examples=["import pipeline"])
    expires_days: int | None = Field(default=None, ge=1, le=3650,
                                     description="Days until it expires (never if left out)")


@router.get("/me", summary="Who the caller is", response_model=schemas.Me)
def get_me(actor: ActorDep, bank: BankDep) -> JSONResponse:
    """The caller's username and role ('anonymous' without a token)."""
    data: dict[str, Any] = {"username": actor.username, "role": actor.role,
                            "can_write": actor.can_write,
                            "can_see_restricted": actor.can_see_restricted}
    if actor.organisation:
        data["organisation"] = actor.organisation
    name = bank.users.display_name(actor)
    if name is not None:
        data["display_name"] = name
    return JSONResponse(data)


@router.get("/users", summary="List users (admin)", response_model=schemas.Users)
def list_users(actor: AdminDep, bank: BankDep) -> JSONResponse:
    """Every user with role and whether they are active."""
    return JSONResponse({"users": [u.to_dict() for u in bank.users.list_users(actor)]})


@router.post("/users", status_code=201, summary="Create a user (admin)",
             response_model=schemas.User, responses={201: {
                 "description": "Created", "headers": {"Location": {
                     "description": "/api/users/{username}", "schema": {"type": "string"}}}}})
def create_user(body: NewUser, actor: AdminDep, bank: BankDep) -> JSONResponse:
    """A new active user; 409 if the username is taken. Give them a token with
    POST /api/tokens."""
    user = bank.users.create_user(actor, body.username, body.role, body.display_name,
                                  body.password, body.organisation, body.email)
    return JSONResponse(user.to_dict(), status_code=201,
                        headers={"Location": f"/api/users/{user.username}"})


@router.get("/users/{username}", summary="Get a user (admin, or the user themselves)",
            response_model=schemas.User)
def get_user(username: str, actor: UserDep, bank: BankDep) -> JSONResponse:
    """One user; others than admins see only themselves (404 for anyone else)."""
    return JSONResponse(bank.users.get_user(actor, username).to_dict())


@router.patch("/users/{username}", summary="Change a user's role or disable them (admin)",
              response_model=schemas.User)
def change_user(username: str, body: UserChange, actor: AdminDep, bank: BankDep
                ) -> JSONResponse:
    """Set role and/or active. An admin cannot demote or disable themselves (409), so a
    bank always keeps the admin who is acting."""
    user = bank.users.set_user(actor, username, role=body.role, active=body.active,
                               organisation=body.organisation, email=body.email)
    return JSONResponse(user.to_dict())


class PasswordChange(BaseModel):
    """Your current password and the new one."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"current": "my old sign-in password", "new": "kelp forests of Roscoff"}]})

    current: str = Field(min_length=1, max_length=1024)
    new: str = Field(min_length=1, max_length=1024,
                     description="At least 10 characters, not common or easy to guess, "
                                 "not your name")


@router.post("/me/password", status_code=204, summary="Change your own password",
             responses={204: {"description": "Changed; your web sessions ended"}})
async def change_password(body: PasswordChange, actor: UserDep, bank: BankDep,
                          request: Request) -> Response:
    """Set a new web sign-in password; your web sessions end. A wrong current password
    counts as a failed sign-in (and is throttled like one)."""
    try:
        await run_in_threadpool(bank.users.change_password, actor, body.current, body.new,
                                request.client.host if request.client else "")
    except Throttled as exc:
        await asyncio.sleep(exc.hold)  # held without work, as the sign-in page does
        raise
    return Response(status_code=204)


@router.get("/sign-in-log", summary="The sign-in log (admin)",
            response_model=schemas.SignInLog)
def sign_in_log(
    actor: AdminDep, bank: BankDep,
    username: Annotated[str | None, Query(max_length=100, description="Only this user's")
                        ] = None,
    since: Annotated[dt.datetime | None, Query(description="Only entries from then on")
                     ] = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
) -> JSONResponse:
    """Sign-ins, failures, refusals while throttled, sign-outs, password changes and ended
    sessions, newest first, with the address of each."""
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=dt.UTC)
    events = bank.users.auth_log(actor, username, since, limit)
    return JSONResponse({"events": [e.to_dict() for e in events]})


def _token_dict(info: TokenInfo) -> dict[str, Any]:
    return {**info.to_dict(), "status": info.status()}


@router.post("/tokens", status_code=201, summary="Create an API token",
             response_model=schemas.CreatedToken,
             responses={201: {"description": "The token, with its secret (shown once)"}})
def create_token(body: NewToken, actor: UserDep, bank: BankDep) -> JSONResponse:
    """A new token for the caller (or, for admins, for any user). The secret is in the
    response once; only its hash is stored."""
    secret, info = bank.users.create_token(actor, body.username, body.name, body.expires_days)
    return JSONResponse({"token": secret, **_token_dict(info)}, status_code=201)


@router.get("/tokens", summary="List API tokens (admins: all; others: their own)",
            response_model=schemas.Tokens)
def list_tokens(
    actor: UserDep, bank: BankDep,
    username: Annotated[str | None, Query(description="Only this user's (admins)")] = None,
) -> JSONResponse:
    """Name, prefix, owner, dates and status of each token; never the secret."""
    tokens = bank.users.list_tokens(actor, username)
    return JSONResponse({"tokens": [_token_dict(t) for t in tokens]})


@router.delete("/tokens/{prefix}", status_code=204, summary="Revoke an API token",
               responses={204: {"description": "Revoked"}})
def revoke_token(prefix: str, actor: UserDep, bank: BankDep) -> Response:
    """Revoke the active token whose secret starts with ``prefix`` (see GET /api/tokens).
    Others than admins can revoke only their own tokens."""
    bank.users.revoke_token(actor, prefix)
    return Response(status_code=204)
