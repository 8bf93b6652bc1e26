"""Users and API tokens in the catalog database (tokens stored only as SHA-256 hashes,
passwords only as Argon2 hashes; :mod:`lanhai.services.users` makes both)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from lanhai.db.schema import api_tokens, auth_events, sessions, users
from lanhai.model import AuthEvent, TokenInfo, User


def _named(username: str) -> Any:
    """The user of this name, whatever its case (names are unique ignoring case)."""
    return func.lower(users.c.username) == username.lower()


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _user(row: Any) -> User:
    created = _utc(row.created_at)
    assert created is not None
    return User(row.username, row.role, row.display_name, bool(row.active), created,
                row.organisation, row.email)


def insert_user(conn: Connection, username: str, role: str, display_name: str,
                password_hash: str | None, organisation: str | None = None,
                email: str | None = None) -> User:
    stamp = dt.datetime.now(dt.UTC)
    conn.execute(insert(users).values(username=username, role=role, display_name=display_name,
                                      password_hash=password_hash, active=True,
                                      created_at=stamp, organisation=organisation,
                                      email=email))
    return User(username, role, display_name, True, stamp, organisation, email)


def get_user(conn: Connection, username: str) -> User | None:
    row = conn.execute(select(users).where(_named(username))).first()
    return None if row is None else _user(row)


def password_hash(conn: Connection, username: str) -> tuple[User, str | None] | None:
    """The user and their password hash (None without a password), or None."""
    row = conn.execute(select(users).where(_named(username))).first()
    return None if row is None else (_user(row), row.password_hash)


def list_users(conn: Connection) -> list[User]:
    return [_user(r) for r in conn.execute(select(users).order_by(users.c.username))]


def update_user(conn: Connection, username: str, values: dict[str, Any]) -> None:
    """Set columns (role, active, password_hash, display_name, organisation) of a user."""
    if values:
        conn.execute(update(users).where(_named(username)).values(**values))


def insert_token(conn: Connection, username: str, name: str, prefix: str, token_hash: str,
                 expires_at: dt.datetime | None) -> TokenInfo | None:
    """Store a token of ``username`` (None when there is no such user)."""
    row = conn.execute(select(users.c.id, users.c.username).where(_named(username))).first()
    if row is None:
        return None
    username = row.username
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
        stmt = stmt.where(_named(username))
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


# --- web sessions --------------------------------------------------------------------------

@dataclass(frozen=True)
class SessionOwner:
    """Whose a session is, and the session's own state."""

    user: User
    session_id: int
    expires_at: dt.datetime
    last_seen_at: dt.datetime


def insert_session(conn: Connection, username: str, token_hash: str, expires_at: dt.datetime,
                   address: str) -> bool:
    """Store a session of ``username`` (False when there is no such user)."""
    row = conn.execute(select(users.c.id).where(_named(username))).first()
    if row is None:
        return False
    stamp = dt.datetime.now(dt.UTC)
    conn.execute(insert(sessions).values(user_id=row.id, token_hash=token_hash,
                                         created_at=stamp, last_seen_at=stamp,
                                         expires_at=expires_at, address=address[:64]))
    return True


def session_owner(conn: Connection, token_hash: str) -> SessionOwner | None:
    row = conn.execute(
        select(users, sessions.c.id.label("session_id"), sessions.c.expires_at,
               sessions.c.last_seen_at)
        .join(sessions, sessions.c.user_id == users.c.id)
        .where(sessions.c.token_hash == token_hash)).first()
    if row is None:
        return None
    expires, seen = _utc(row.expires_at), _utc(row.last_seen_at)
    assert expires is not None and seen is not None
    return SessionOwner(_user(row), row.session_id, expires, seen)


def touch_session(conn: Connection, session_id: int, stamp: dt.datetime) -> None:
    conn.execute(update(sessions).where(sessions.c.id == session_id)
                 .values(last_seen_at=stamp))


def delete_session(conn: Connection, token_hash: str) -> bool:
    return bool(conn.execute(delete(sessions).where(sessions.c.token_hash == token_hash))
                .rowcount)


def delete_sessions_of(conn: Connection, username: str, keep_hash: str | None = None) -> int:
    """End every session of ``username`` (but the one hashed ``keep_hash``); how many."""
    ids = select(users.c.id).where(_named(username)).scalar_subquery()
    stmt = delete(sessions).where(sessions.c.user_id == ids)
    if keep_hash is not None:
        stmt = stmt.where(sessions.c.token_hash != keep_hash)
    return int(conn.execute(stmt).rowcount or 0)


def delete_expired_sessions(conn: Connection, now: dt.datetime) -> int:
    return int(conn.execute(delete(sessions).where(sessions.c.expires_at <= now)).rowcount or 0)


# --- the sign-in audit log -----------------------------------------------------------------

def add_auth_event(conn: Connection, event: str, username: str, address: str,
                   detail: str = "") -> None:
    conn.execute(insert(auth_events).values(
        at=dt.datetime.now(dt.UTC), event=event, username=username.lower()[:100],
        address=address[:64], detail=detail[:200]))


def failed_sign_ins(conn: Connection, *, username: str | None = None,
                    address: str | None = None, since: dt.datetime
                    ) -> tuple[int, dt.datetime | None]:
    """How many sign-ins failed since ``since`` for ``username`` (after its last successful
    one) or from ``address``, and when the last of them was."""
    failed = auth_events.c.event == "sign_in_failed"
    where = [failed, auth_events.c.at >= since]
    if username is not None:
        key = username.lower()
        last_ok = select(func.max(auth_events.c.at)).where(
            auth_events.c.username == key, auth_events.c.event == "sign_in").scalar_subquery()
        where += [auth_events.c.username == key,
                  auth_events.c.at > func.coalesce(last_ok, since)]
    if address is not None:
        where.append(auth_events.c.address == address)
    count, last = conn.execute(select(func.count(), func.max(auth_events.c.at))
                               .where(*where)).one()
    return int(count), _utc(last)


def auth_log(conn: Connection, username: str | None = None, since: dt.datetime | None = None,
             limit: int = 1000) -> list[AuthEvent]:
    """The newest entries of the sign-in log, newest first."""
    stmt = select(auth_events).order_by(auth_events.c.id.desc()).limit(limit)
    if username is not None:
        stmt = stmt.where(auth_events.c.username == username.lower())
    if since is not None:
        stmt = stmt.where(auth_events.c.at >= since)
    out = []
    for r in conn.execute(stmt):
        at = _utc(r.at)
        assert at is not None
        out.append(AuthEvent(at, r.event, r.username, r.address, r.detail))
    return out
