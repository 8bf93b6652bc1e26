"""Request dependencies: the bank and the acting user (from the bearer token)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from lanhai.bank import Bank
from lanhai.errors import Unauthorized
from lanhai.services.catalog import ANONYMOUS, Actor
from lanhai.store.users import user_for_token


def get_bank(request: Request) -> Bank:
    bank: Bank = request.app.state.bank
    return bank


def get_actor(request: Request, bank: Annotated[Bank, Depends(get_bank)]) -> Actor:
    """Anonymous without a token; 401 for a token that is unknown, expired or revoked."""
    header = request.headers.get("authorization", "")
    if not header:
        return ANONYMOUS
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send the token as 'Authorization: Bearer <token>'")
    with bank.engine.begin() as conn:
        user = user_for_token(conn, token.strip())
    if user is None:
        raise Unauthorized("the token is unknown, expired or revoked; create a new one with "
                           "`lanhai tokens create USER`")
    return Actor(user.username, user.role)


BankDep = Annotated[Bank, Depends(get_bank)]
ActorDep = Annotated[Actor, Depends(get_actor)]
