"""Users, API tokens, sign-in and web sessions: who may act on the bank, and as what.

Tokens are random secrets (``lh_…``) stored only as SHA-256 hashes and shown once; web
passwords are Argon2 hashes and must pass the policy of :mod:`lanhai.services.passwords`.
Usernames are unique whatever their case and ``anonymous`` is reserved. Admins manage users
and anyone's tokens; a signed-in user manages their own tokens and password. Commands on the
bank's own machine act as a local admin.

Sign-in resists guessing: after :data:`FREE_FAILURES` failed sign-ins of one account (since
its last success) or :data:`FREE_ADDRESS_FAILURES` from one address within
:data:`FAILURE_WINDOW`, each further attempt must wait twice as long as the one before (1 s,
2 s, 4 s … at most :data:`MAX_WAIT`), and is refused before the password is checked
(:class:`Throttled`, 429 with ``Retry-After``); at most one password is checked at a time per
server process, so guessing cannot take the CPU from everyone else. Every sign-in, failure,
refusal, sign-out and session change goes to the sign-in log (:meth:`UserService.auth_log`).

Web sessions are kept on the server (a random secret in the cookie, its hash in the
database): signing out ends one, and a password change, a role change or disabling the user
ends all of theirs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import threading
from pathlib import Path

from lanhai.errors import (
    Busy,
    Conflict,
    Forbidden,
    LanhaiError,
    NotFound,
    Problem,
    Unauthorized,
    UsageError,
    ValidationFailed,
)
from lanhai.model import ROLES, AuthEvent, TokenInfo, User
from lanhai.services.access import ANONYMOUS, ANONYMOUS_NAME, Actor, require_admin, require_user
from lanhai.services.passwords import check_password
from lanhai.store import records as record_store
from lanhai.store import users as store
from lanhai.store.database import Conn, Database
from lanhai.store.keys import load_or_create

TOKEN_PREFIX = "lh_"
#: a token's or session's last use is written at most this often (a write per request else)
TOUCH_EVERY = dt.timedelta(minutes=5)
#: names no user may take (``anonymous`` owns the jobs of callers who are not signed in)
RESERVED_NAMES = frozenset({ANONYMOUS_NAME, "local"})
#: a web session ends this long after sign-in, or after this long without a visit
SESSION_LIFETIME = dt.timedelta(hours=12)
SESSION_IDLE = dt.timedelta(hours=2)
#: failed sign-ins allowed before each attempt must wait (per account, per address)
FREE_FAILURES = 5
FREE_ADDRESS_FAILURES = 20
FAILURE_WINDOW = dt.timedelta(hours=1)
MAX_WAIT = dt.timedelta(minutes=15)
#: how long a sign-in waits for the password checker before answering "busy"
CHECK_WAIT_SECONDS = 10.0
#: how long a refused attempt is held before its answer (at most its wait): a guesser that
#: waits for each answer then costs the server a few requests a second, not hundreds
TARPIT_SECONDS = 2.0


class Throttled(LanhaiError):
    """Too many failed sign-ins: the next attempt must wait ``retry_after`` seconds."""

    code = "too_many_attempts"
    http_status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed sign-ins; try again in {retry_after} s")
        self.retry_after = retry_after

    @property
    def hold(self) -> float:
        """Seconds an adapter should wait (without working) before answering."""
        return min(float(self.retry_after), TARPIT_SECONDS)

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "retry_after": self.retry_after}

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


def _wait(failures: int, free: int, last: dt.datetime | None, now: dt.datetime) -> int:
    """Seconds still to wait after ``failures`` failures, the last at ``last``."""
    if failures < free or last is None:
        return 0
    delay = min(MAX_WAIT, dt.timedelta(seconds=2 ** min(failures - free, 20)))
    return max(0, int((last + delay - now).total_seconds() + 0.999))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    from argon2 import PasswordHasher

    return str(PasswordHasher().hash(password))


#: an organisation record's accession (numbered or held)
ORGANISATION = re.compile(r"LHOG[0-9A-Z]{7}")


def _actor(user: User) -> Actor:
    return Actor(user.username, user.role, organisation=user.organisation)


def _check_organisation(conn: Conn, accession: str) -> str:
    """The accession of an existing organisation record, or a usage error saying so."""
    acc = accession.strip().upper()
    record = record_store.get_record(conn, acc) if ORGANISATION.fullmatch(acc) else None
    if record is None or record.kind != "organisation":
        raise UsageError(f"{accession!r} is not an organisation of this bank; create it first "
                         "(`lanhai create organisation …` or `lanhai import organisation "
                         "FILE`) and give its accession (LHOG…)")
    return acc


_EMAIL = re.compile(r"[^@\s]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+")


def check_email(email: str) -> str:
    """An e-mail address as a user gives it, or a usage error."""
    address = email.strip()
    if len(address) > 320 or not _EMAIL.fullmatch(address):
        raise UsageError(f"{email[:100]!r} is not an e-mail address (name@example.org)")
    return address


def _check_member(role: str, organisation: str | None) -> None:
    if role == "member" and not organisation:
        raise UsageError("a member acts for an organisation: give --organisation LHOG…")


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UsageError(f"unknown role {role!r}; roles are: {', '.join(ROLES)}")


def check_username(username: str) -> None:
    """Letters, digits, '.', '-' and '_', at most 100; not a reserved name."""
    if not username or len(username) > 100 or not username.replace("_", "").replace(
            "-", "").replace(".", "").isalnum() or not username.isascii():
        raise UsageError("a username uses letters, digits, '.', '-' and '_' only (at most "
                         "100)")
    if username.lower() in RESERVED_NAMES:
        raise UsageError(f"{username!r} is reserved; choose another username")


class UserService:
    """Users, tokens and sign-in over one catalog database."""

    def __init__(self, db: Database, key_file: Path | None = None, secret: str = "") -> None:
        self.db = db
        self._key_file = key_file
        self._secret = secret.encode("utf-8") if secret else None
        self._lock = threading.Lock()
        #: one password check at a time (Argon2 takes a core and 64 MiB for ~50 ms)
        self._checking = threading.BoundedSemaphore(1)
        self._decoy_hash: str | None = None

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
                    password: str | None = None, organisation: str | None = None,
                    email: str | None = None) -> User:
        """A new active user (a member with the organisation it acts for); Conflict when
        the name is taken."""
        require_admin(actor)
        _check_role(role)
        _check_member(role, organisation)
        check_username(username)
        if password is not None:
            check_password(password, [username, display_name])
        hashed = hash_password(password) if password else None
        with self.db.write() as conn:
            existing = store.get_user(conn, username)
            if existing is not None:
                raise Conflict(f"user {existing.username!r} already exists (usernames are "
                               "the same whatever their case)")
            org = _check_organisation(conn, organisation) if organisation else None
            return store.insert_user(conn, username, role, display_name, hashed, org,
                                     check_email(email) if email else None)

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
                 active: bool | None = None, password: str | None = None,
                 organisation: str | None = None, email: str | None = None) -> User:
        """Change a user's role, active flag, password or organisation ("" to clear it).
        An admin signed in through the API cannot demote or disable themselves (Conflict),
        so a bank always keeps the admin who is acting; the local admin on the bank's
        machine can."""
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
        if email is not None:
            values["email"] = check_email(email) if email.strip() else None
        with self.db.read() as conn:
            user = self._existing(conn, username)
            org = user.organisation
            if organisation is not None:
                org = _check_organisation(conn, organisation) if organisation.strip() else None
                values["organisation"] = org
        _check_member(role or user.role, org)
        if password is not None:
            check_password(password, [user.username, user.display_name])
            values["password_hash"] = hash_password(password)
        with self.db.write() as conn:
            before = self._existing(conn, username)
            store.update_user(conn, username, values)
            after = self._existing(conn, username)
            why = [w for w, changed in (("role changed", after.role != before.role),
                                        ("organisation changed",
                                         after.organisation != before.organisation),
                                        ("disabled", before.active and not after.active),
                                        ("password set", password is not None)) if changed]
            if why and store.delete_sessions_of(conn, username):
                store.add_auth_event(conn, "sessions_ended", after.username, "",
                                     f"{', '.join(why)} by {actor.username}")
            if password is not None:
                store.add_auth_event(conn, "password_changed", after.username, "",
                                     f"set by {actor.username}")
            return after

    def change_password(self, actor: Actor, current: str, new: str, address: str = "",
                        keep_session: str | None = None) -> None:
        """A signed-in user changes their own password (the current one must be right);
        their other sessions end (``keep_session``: the caller's own session cookie)."""
        require_user(actor)
        if actor.local:
            raise UsageError("set a password with `lanhai users set USER --password-stdin`")
        if self.sign_in(actor.username, current, address) is None:  # throttled and logged
            raise ValidationFailed("the password was not changed", [Problem(
                field="current", reason="is not your current password",
                fix="type the password you sign in with now")])
        check_password(new, [actor.username, self.display_name(actor) or ""], field="new")
        hashed = hash_password(new)
        keep = hash_token(keep_session) if keep_session else None
        with self.db.write() as conn:
            store.update_user(conn, actor.username, {"password_hash": hashed})
            store.delete_sessions_of(conn, actor.username, keep_hash=keep)
            store.add_auth_event(conn, "password_changed", actor.username, address,
                                 "by the user; other sessions ended")

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
        return _actor(found.user)

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

    # -- sign-in and web sessions ----------------------------------------------------------
    def sign_in(self, username: str, password: str, address: str = "") -> Actor | None:
        """The actor for a correct username and password of an active user, else None
        (logged). :class:`Throttled` while the account or the address must wait;
        :class:`~lanhai.errors.Busy` when passwords are being checked for too many others."""
        name = username.strip()[:100]
        now = dt.datetime.now(dt.UTC)
        with self.db.read() as conn:
            wait = self._throttle(conn, name, address, now)
            found = store.password_hash(conn, name) if wait == 0 else None
        if wait:
            self._log_refusal(name, address, wait, now)
            raise Throttled(wait)
        user, hashed = found if found is not None else (None, None)
        good = self._verify(hashed, password)  # checked even for unknown users: same time
        ok = good and user is not None and user.active
        with self.db.write() as conn:
            store.add_auth_event(conn, "sign_in" if ok else "sign_in_failed",
                                 user.username if user is not None else name, address,
                                 "" if ok else "wrong username or password")
        return _actor(user) if ok and user is not None else None

    def _throttle(self, conn: Conn, name: str, address: str, now: dt.datetime) -> int:
        since = now - FAILURE_WINDOW
        count, last = store.failed_sign_ins(conn, username=name, since=since)
        wait = _wait(count, FREE_FAILURES, last, now)
        if address:
            count, last = store.failed_sign_ins(conn, address=address, since=since)
            wait = max(wait, _wait(count, FREE_ADDRESS_FAILURES, last, now))
        return wait

    def _log_refusal(self, name: str, address: str, wait: int, now: dt.datetime) -> None:
        """Log a refused attempt, at most once a minute per name and address (a guessing
        run would otherwise write the log as fast as it guesses)."""
        with self.db.write() as conn:
            recent = [e for e in store.auth_log(conn, name, now - dt.timedelta(minutes=1), 50)
                      if e.event == "throttled" and e.address == address]
            if not recent:
                store.add_auth_event(conn, "throttled", name, address,
                                     f"refused for {wait} s after failed sign-ins")

    def _verify(self, hashed: str | None, password: str) -> bool:
        from argon2 import PasswordHasher
        from argon2.exceptions import VerificationError

        if not self._checking.acquire(timeout=CHECK_WAIT_SECONDS):
            raise Busy("many sign-ins are being checked; try again in a moment", 2)
        try:
            PasswordHasher().verify(hashed or self._decoy(), password[:1024])
            return hashed is not None
        except VerificationError:
            return False
        finally:
            self._checking.release()

    def _decoy(self) -> str:
        """A hash to check passwords of unknown users against (as long as a real check)."""
        with self._lock:
            if self._decoy_hash is None:
                self._decoy_hash = hash_password(secrets.token_hex(16))
            return self._decoy_hash

    def start_session(self, actor: Actor, address: str = "") -> str:
        """A new web session for a signed-in ``actor``: the cookie's secret (stored hashed)."""
        secret = secrets.token_urlsafe(32)
        expires = dt.datetime.now(dt.UTC) + SESSION_LIFETIME
        with self.db.write() as conn:
            if not store.insert_session(conn, actor.username, hash_token(secret), expires,
                                        address):
                raise NotFound(f"no user {actor.username!r}")
        return secret

    def actor_for_session(self, secret: str) -> Actor:
        """The actor of a session cookie: anonymous once the session ended or expired, or
        the user is gone or disabled."""
        if not secret or len(secret) > 200:
            return ANONYMOUS
        now = dt.datetime.now(dt.UTC)
        with self.db.read() as conn:
            found = store.session_owner(conn, hash_token(secret))
        if found is None or not found.user.active:
            return ANONYMOUS
        if found.expires_at <= now or now - found.last_seen_at > SESSION_IDLE:
            with self.db.write() as conn:
                store.delete_session(conn, hash_token(secret))
            return ANONYMOUS
        if now - found.last_seen_at > TOUCH_EVERY:
            with self.db.write() as conn:
                store.touch_session(conn, found.session_id, now)
        return _actor(found.user)

    def end_session(self, secret: str, address: str = "") -> None:
        """Sign out: the session ends on the server (its cookie is worth nothing after)."""
        if not secret:
            return
        with self.db.write() as conn:
            found = store.session_owner(conn, hash_token(secret))
            if store.delete_session(conn, hash_token(secret)) and found is not None:
                store.add_auth_event(conn, "sign_out", found.user.username, address)

    def auth_log(self, actor: Actor, username: str | None = None,
                 since: dt.datetime | None = None, limit: int = 1000) -> list[AuthEvent]:
        """The sign-in log, newest first (admins)."""
        require_admin(actor)
        with self.db.read() as conn:
            return store.auth_log(conn, username, since, max(1, min(limit, 100_000)))
