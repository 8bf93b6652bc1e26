"""Users, API tokens and sign-in: who may act on the bank, and as what.

Tokens are random secrets (``lh_…``) stored only as SHA-256 hashes and shown once; web
passwords are Argon2 hashes. Admins manage users and anyone's tokens; a signed-in user
manages their own tokens. Commands on the bank's own machine act as a local admin.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
from pathlib import Path

from lanhai.errors import Conflict, Forbidden, NotFound, Unauthorized, UsageError
from lanhai.model import ROLES, TokenInfo, User
from lanhai.services.access import ANONYMOUS, Actor, require_admin, require_user
from lanhai.store import users as store
from lanhai.store.database import Conn, Database
from lanhai.store.keys import load_or_create

TOKEN_PREFIX = "lh_"
#: a token's last use is written at most this often (it costs a write per request otherwise)
TOUCH_EVERY = dt.timedelta(minutes=5)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    from argon2 import PasswordHasher

    return str(PasswordHasher().hash(password))


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UsageError(f"unknown role {role!r}; roles are: {', '.join(ROLES)}")


class UserService:
    """Users, tokens and sign-in over one catalog database."""

    def __init__(self, db: Database, key_file: Path | None = None, secret: str = "") -> None:
        self.db = db
        self._key_file = key_file
        self._secret = secret.encode("utf-8") if secret else None
        self._lock = threading.Lock()

    def session_key(self) -> bytes:
        """The key that signs web sessions: ``LANHAI_SECRET_KEY``, else a random key kept
        in the data folder (created once)."""
        with self._lock:
            if self._secret is None:
                if self._key_file is None:
                    self._secret = secrets.token_hex(32).encode("ascii")
                else:
                    self._secret = load_or_create(self._key_file)
            return self._secret

    # -- users -----------------------------------------------------------------------------
    def create_user(self, actor: Actor, username: str, role: str, display_name: str = "",
                    password: str | None = None) -> User:
        """A new active user; Conflict when the name is taken."""
        require_admin(actor)
        _check_role(role)
        if not username or not username.replace("_", "").replace("-", "").replace(
                ".", "").isalnum():
            raise UsageError("a username uses letters, digits, '.', '-' and '_' only")
        hashed = hash_password(password) if password else None
        with self.db.write() as conn:
            if store.get_user(conn, username) is not None:
                raise Conflict(f"user {username!r} already exists")
            return store.insert_user(conn, username, role, display_name, hashed)

    def list_users(self, actor: Actor) -> list[User]:
        require_admin(actor)
        with self.db.read() as conn:
            return store.list_users(conn)

    def get_user(self, actor: Actor, username: str) -> User:
        """One user: admins see anyone, others only themselves (404 for anyone else)."""
        require_user(actor)
        if not actor.is_admin and username != actor.username:
            raise NotFound(f"no user {username!r}")
        with self.db.read() as conn:
            return self._existing(conn, username)

    @staticmethod
    def _existing(conn: Conn, username: str) -> User:
        user = store.get_user(conn, username)
        if user is None:
            raise NotFound(f"no user {username!r}; list users with `lanhai users list`")
        return user

    def set_user(self, actor: Actor, username: str, *, role: str | None = None,
                 active: bool | None = None, password: str | None = None) -> User:
        """Change a user's role, active flag or password. An admin signed in through the API
        cannot demote or disable themselves (Conflict), so a bank always keeps the admin
        who is acting; the local admin on the bank's machine can."""
        require_admin(actor)
        if not actor.local and username == actor.username and (
                active is False or role not in (None, "admin")):
            raise Conflict("you cannot demote or disable yourself; ask another admin, or use "
                           "`lanhai users set` on the bank's machine")
        values: dict[str, object] = {}
        if role is not None:
            _check_role(role)
            values["role"] = role
        if active is not None:
            values["active"] = active
        if password is not None:
            values["password_hash"] = hash_password(password)
        with self.db.write() as conn:
            self._existing(conn, username)
            store.update_user(conn, username, values)
            return self._existing(conn, username)

    def display_name(self, actor: Actor) -> str | None:
        """The signed-in caller's display name (None for anonymous callers)."""
        if not actor.signed_in or actor.local:
            return None
        with self.db.read() as conn:
            user = store.get_user(conn, actor.username)
        return None if user is None else user.display_name

    # -- tokens ----------------------------------------------------------------------------
    def create_token(self, actor: Actor, username: str | None, name: str,
                     expires_days: int | None = None) -> tuple[str, TokenInfo]:
        """A new token for the caller (admins: for anyone). The secret is returned once and
        never stored."""
        require_user(actor)
        owner = username or actor.username
        if owner != actor.username and not actor.is_admin:
            raise Forbidden("only an admin can create a token for another user")
        expires = (dt.datetime.now(dt.UTC) + dt.timedelta(days=expires_days)
                   if expires_days else None)
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.db.write() as conn:
            info = store.insert_token(conn, owner, name, secret[:10], hash_token(secret),
                                      expires)
        if info is None:
            raise NotFound(f"no user {owner!r}; create it with `lanhai users add`")
        return secret, info

    def list_tokens(self, actor: Actor, username: str | None = None) -> list[TokenInfo]:
        """Admins: everyone's (or ``username``'s); others: their own."""
        require_user(actor)
        if not actor.is_admin:
            username = actor.username
        with self.db.read() as conn:
            if username and actor.is_admin:
                self._existing(conn, username)  # a clear error for an unknown user
            return store.list_tokens(conn, username)

    def revoke_token(self, actor: Actor, prefix: str) -> None:
        """Revoke the active token starting ``prefix``; others than admins only their own."""
        require_user(actor)
        with self.db.write() as conn:
            if not actor.is_admin:
                own = {t.prefix for t in store.list_tokens(conn, actor.username)
                       if t.revoked_at is None}
                if prefix not in own:
                    raise NotFound(f"no active token of yours starting {prefix!r}; "
                                   "see GET /api/tokens")
            if not store.revoke_token(conn, prefix):
                raise NotFound(f"no active token starting {prefix!r}; see `lanhai tokens "
                               "list`")

    # -- who is asking ---------------------------------------------------------------------
    def actor_for_token(self, token: str) -> Actor | None:
        """The actor a valid, unexpired, unrevoked token of an active user stands for."""
        stamp = dt.datetime.now(dt.UTC)
        with self.db.read() as conn:
            found = store.token_owner(conn, hash_token(token))
        if found is None or found.revoked or not found.user.active:
            return None
        if found.expires_at is not None and found.expires_at <= stamp:
            return None
        if found.last_used_at is None or stamp - found.last_used_at > TOUCH_EVERY:
            with self.db.write() as conn:
                store.touch_token(conn, found.token_id, stamp)
        return Actor(found.user.username, found.user.role)

    def actor_for_authorization(self, header: str) -> Actor:
        """The actor of an ``Authorization`` header (anonymous when empty); 401 for a header
        that is not a bearer token, or a token that is unknown, expired or revoked."""
        if not header:
            return ANONYMOUS
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("send the token as 'Authorization: Bearer <token>'")
        actor = self.actor_for_token(token.strip())
        if actor is None:
            raise Unauthorized("the token is unknown, expired or revoked; create a new one "
                               "with `lanhai tokens create USER`")
        return actor

    def actor_for_user(self, username: str) -> Actor:
        """The actor of a signed-in session: anonymous once the user is gone or disabled."""
        with self.db.read() as conn:
            user = store.get_user(conn, username)
        if user is None or not user.active:
            return ANONYMOUS
        return Actor(user.username, user.role)

    def sign_in(self, username: str, password: str) -> Actor | None:
        """The actor for a correct username and password of an active user, else None."""
        with self.db.read() as conn:
            found = store.password_hash(conn, username.strip())
        if found is None:
            return None
        user, hashed = found
        if not hashed or not user.active:
            return None
        from argon2 import PasswordHasher
        from argon2.exceptions import VerificationError

        try:
            PasswordHasher().verify(hashed, password)
        except VerificationError:
            return None
        return Actor(user.username, user.role)
