"""Users and API tokens in the catalog database (tokens stored only as SHA-256 hashes,
passwords only as Argon2 hashes; :mod:`lanhai.services.users` makes both)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from lanhai.db.schema import api_tokens, users
from lanhai.model import TokenInfo, User


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _user(row: Any) -> User:
    created = _utc(row.created_at)
    assert created is not None
    return User(row.username, row.role, row.display_name, bool(row.active), created)


def insert_user(conn: Connection, username: str, role: str, display_name: str,
                password_hash: str | None) -> User:
    stamp = dt.datetime.now(dt.UTC)
    conn.execute(insert(users).values(username=username, role=role, display_name=display_name,
                                      password_hash=password_hash, active=True,
                                      created_at=stamp))
    return User(username, role, display_name, True, stamp)


def get_user(conn: Connection, username: str) -> User | None:
    row = conn.execute(select(users).where(users.c.username == username)).first()
    return None if row is None else _user(row)


def password_hash(conn: Connection, username: str) -> tuple[User, str | None] | None:
    """The user and their password hash (None without a password), or None."""
    row = conn.execute(select(users).where(users.c.username == username)).first()
    return None if row is None else (_user(row), row.password_hash)


def list_users(conn: Connection) -> list[User]:
    return [_user(r) for r in conn.execute(select(users).order_by(users.c.username))]


def update_user(conn: Connection, username: str, values: dict[str, Any]) -> None:
    """Set columns (role, active, password_hash, display_name) of a user."""
    if values:
        conn.execute(update(users).where(users.c.username == username).values(**values))


def insert_token(conn: Connection, username: str, name: str, prefix: str, token_hash: str,
                 expires_at: dt.datetime | None) -> TokenInfo | None:
    """Store a token of ``username`` (None when there is no such user)."""
    row = conn.execute(select(users.c.id).where(users.c.username == username)).first()
    if row is None:
        return None
    stamp = dt.datetime.now(dt.UTC)
    conn.execute(insert(api_tokens).values(user_id=row.id, name=name, prefix=prefix,
                                           token_hash=token_hash, created_at=stamp,
                                           expires_at=expires_at))
    return TokenInfo(name, prefix, username, stamp, expires_at, None, None)


@dataclass(frozen=True)
class TokenOwner:
    """Who a token belongs to, and the token's own state."""

    user: User
    token_id: int
    expires_at: dt.datetime | None
    revoked: bool
    last_used_at: dt.datetime | None


def token_owner(conn: Connection, token_hash: str) -> TokenOwner | None:
    row = conn.execute(
        select(users, api_tokens.c.id.label("token_id"), api_tokens.c.expires_at,
               api_tokens.c.revoked_at, api_tokens.c.last_used_at)
        .join(api_tokens, api_tokens.c.user_id == users.c.id)
        .where(api_tokens.c.token_hash == token_hash)
    ).first()
    if row is None:
        return None
    return TokenOwner(_user(row), row.token_id, _utc(row.expires_at),
                      row.revoked_at is not None, _utc(row.last_used_at))


def touch_token(conn: Connection, token_id: int, stamp: dt.datetime) -> None:
    conn.execute(update(api_tokens).where(api_tokens.c.id == token_id)
                 .values(last_used_at=stamp))


def list_tokens(conn: Connection, username: str | None = None) -> list[TokenInfo]:
    stmt = (select(api_tokens, users.c.username)
            .join(users, users.c.id == api_tokens.c.user_id).order_by(api_tokens.c.id))
    if username:
        stmt = stmt.where(users.c.username == username)
    out = []
    for r in conn.execute(stmt):
        created = _utc(r.created_at)
        assert created is not None
        out.append(TokenInfo(r.name, r.prefix, r.username, created, _utc(r.expires_at),
                             _utc(r.revoked_at), _utc(r.last_used_at)))
    return out


def revoke_token(conn: Connection, prefix: str) -> bool:
    """Revoke the active token starting ``prefix``; False when there is none."""
    result = conn.execute(update(api_tokens).where(api_tokens.c.prefix == prefix,
                                                   api_tokens.c.revoked_at.is_(None))
                          .values(revoked_at=dt.datetime.now(dt.UTC)))
    return bool(result.rowcount)
