"""Users and API tokens. Tokens are random and stored only as SHA-256 hashes; passwords
(for web sign-in) are hashed with Argon2."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from lanhai.db.schema import api_tokens, users
from lanhai.errors import Conflict, NotFound, UsageError

ROLES = ("reader", "curator", "admin")
TOKEN_PREFIX = "lh_"


@dataclass(frozen=True)
class User:
    username: str
    role: str
    display_name: str
    active: bool
    created_at: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        return {"username": self.username, "role": self.role,
                "display_name": self.display_name, "active": self.active,
                "created_at": self.created_at.isoformat()}


@dataclass(frozen=True)
class TokenInfo:
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


def token_status(info: TokenInfo, now: dt.datetime | None = None) -> str:
    """'active', 'expired' or 'revoked'."""
    if info.revoked_at is not None:
        return "revoked"
    if info.expires_at is not None and info.expires_at <= (now or dt.datetime.now(dt.UTC)):
        return "expired"
    return "active"


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _user(row: Any) -> User:
    created = _utc(row.created_at)
    assert created is not None
    return User(row.username, row.role, row.display_name, bool(row.active), created)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(conn: Connection, username: str, role: str, display_name: str = "",
                password: str | None = None) -> User:
    if role not in ROLES:
        raise UsageError(f"unknown role {role!r}; roles are: {', '.join(ROLES)}")
    if not username or not username.replace("_", "").replace("-", "").replace(".", "").isalnum():
        raise UsageError("a username uses letters, digits, '.', '-' and '_' only")
    if conn.execute(select(users.c.id).where(users.c.username == username)).first():
        raise Conflict(f"user {username!r} already exists")
    stamp = dt.datetime.now(dt.UTC)
    password_hash = _hash_password(password) if password else None
    conn.execute(insert(users).values(username=username, role=role, display_name=display_name,
                                      password_hash=password_hash, active=True,
                                      created_at=stamp))
    return User(username, role, display_name, True, stamp)


def _hash_password(password: str) -> str:
    from argon2 import PasswordHasher

    return str(PasswordHasher().hash(password))


def check_password(conn: Connection, username: str, password: str) -> User | None:
    row = conn.execute(select(users).where(users.c.username == username)).first()
    if row is None or not row.password_hash or not row.active:
        return None
    from argon2 import PasswordHasher
    from argon2.exceptions import VerificationError

    try:
        PasswordHasher().verify(row.password_hash, password)
    except VerificationError:
        return None
    return _user(row)


def get_user(conn: Connection, username: str) -> User:
    row = conn.execute(select(users).where(users.c.username == username)).first()
    if row is None:
        raise NotFound(f"no user {username!r}; list users with `lanhai users list`")
    return _user(row)


def list_users(conn: Connection) -> list[User]:
    return [_user(r) for r in conn.execute(select(users).order_by(users.c.username))]


def set_user(conn: Connection, username: str, *, role: str | None = None,
             active: bool | None = None, password: str | None = None) -> User:
    get_user(conn, username)
    values: dict[str, Any] = {}
    if role is not None:
        if role not in ROLES:
            raise UsageError(f"unknown role {role!r}; roles are: {', '.join(ROLES)}")
        values["role"] = role
    if active is not None:
        values["active"] = active
    if password is not None:
        values["password_hash"] = _hash_password(password)
    if values:
        conn.execute(update(users).where(users.c.username == username).values(**values))
    return get_user(conn, username)


def create_token(conn: Connection, username: str, name: str,
                 expires_at: dt.datetime | None = None) -> tuple[str, TokenInfo]:
    """A new token for ``username``: the secret is returned once and never stored."""
    row = conn.execute(select(users).where(users.c.username == username)).first()
    if row is None:
        raise NotFound(f"no user {username!r}; create it with `lanhai users add`")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    stamp = dt.datetime.now(dt.UTC)
    prefix = secret[:10]
    conn.execute(insert(api_tokens).values(user_id=row.id, name=name, prefix=prefix,
                                           token_hash=hash_token(secret), created_at=stamp,
                                           expires_at=expires_at))
    return secret, TokenInfo(name, prefix, username, stamp, expires_at, None, None)


def user_for_token(conn: Connection, token: str, touch: bool = True) -> User | None:
    """The active user a valid, unexpired, unrevoked token belongs to."""
    row = conn.execute(
        select(users, api_tokens.c.id.label("token_id"), api_tokens.c.expires_at,
               api_tokens.c.revoked_at, api_tokens.c.last_used_at)
        .join(api_tokens, api_tokens.c.user_id == users.c.id)
        .where(api_tokens.c.token_hash == hash_token(token))
    ).first()
    if row is None or row.revoked_at is not None or not row.active:
        return None
    stamp = dt.datetime.now(dt.UTC)
    expires = _utc(row.expires_at)
    if expires is not None and expires <= stamp:
        return None
    last = _utc(row.last_used_at)
    if touch and (last is None or stamp - last > dt.timedelta(minutes=5)):
        conn.execute(update(api_tokens).where(api_tokens.c.id == row.token_id)
                     .values(last_used_at=stamp))
    return _user(row)


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


def revoke_token(conn: Connection, prefix: str) -> None:
    result = conn.execute(update(api_tokens).where(api_tokens.c.prefix == prefix,
                                                   api_tokens.c.revoked_at.is_(None))
                          .values(revoked_at=dt.datetime.now(dt.UTC)))
    if not result.rowcount:
        raise NotFound(f"no active token starting {prefix!r}; see `lanhai tokens list`")
