"""Sign-in for the web pages: server-side sessions, CSRF tokens, and the acting user.

Users sign in with their username and password (``lanhai users add USER --password-stdin``;
passwords are argon2 hashes, see :mod:`lanhai.services.users`). The session cookie holds a
random secret; the session itself (its user, expiry and last visit) is kept in the database,
so signing out, a password or role change and disabling the user end it at once. The user's
role is read on every request. A bearer token (``Authorization: Bearer``) works on every
page too, which makes the JSON twins a read API for scripts.

CSRF: every form carries a token that must equal the ``lanhai_csrf`` cookie (double-submit,
the cookie itself signed). Cookies are ``HttpOnly`` and ``SameSite=Lax``, and ``Secure``
when the page was served over HTTPS (behind a proxy: ``X-Forwarded-Proto`` from an address
in ``LANHAI_TRUSTED_PROXIES``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from lanhai.bank import Bank
from lanhai.errors import Forbidden
from lanhai.services.access import ANONYMOUS, Actor
from lanhai.services.users import SESSION_LIFETIME

SESSION_COOKIE = "lanhai_session"
CSRF_COOKIE = "lanhai_csrf"
SESSION_SECONDS = int(SESSION_LIFETIME.total_seconds())


def _bank(request: Request) -> Bank:
    bank: Bank = request.app.state.bank
    return bank


def _key(request: Request) -> bytes:
    return _bank(request).users.session_key()


def sign(key: bytes, payload: dict[str, Any]) -> str:
    body = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode())
    mac = hmac.new(key, body, hashlib.sha256).hexdigest()
    return f"{body.decode('ascii')}.{mac}"


def unsign(key: bytes, value: str) -> dict[str, Any] | None:
    body, _, mac = value.rpartition(".")
    if not body or not hmac.compare_digest(
            hmac.new(key, body.encode("ascii", "replace"), hashlib.sha256).hexdigest(), mac):
        return None
    try:
        data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body))
    except ValueError:
        return None
    if not isinstance(data, dict) or float(data.get("exp", 0)) < time.time():
        return None
    return data


def address_of(request: Request) -> str:
    """The caller's address (the proxy's client when the proxy is trusted)."""
    return request.client.host if request.client else ""


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


async def page_actor(request: Request) -> Actor:
    """Who is asking: a bearer token, else the session cookie, else anonymous."""
    header = request.headers.get("authorization")
    if header:
        return await run_in_threadpool(_bank(request).users.actor_for_authorization, header)
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return ANONYMOUS
    return await run_in_threadpool(_bank(request).users.actor_for_session, cookie)


def start_session(request: Request, response: Response, actor: Actor) -> None:
    """Sign ``actor`` in: a new server-side session and its cookie."""
    secret = _bank(request).users.start_session(actor, address_of(request))
    response.set_cookie(SESSION_COOKIE, secret, max_age=SESSION_SECONDS, httponly=True,
                        samesite="lax", secure=_secure(request), path="/")


def end_session(request: Request, response: Response) -> None:
    """Sign out: the session ends on the server, and its cookie is removed."""
    _bank(request).users.end_session(request.cookies.get(SESSION_COOKIE, ""),
                                     address_of(request))
    response.delete_cookie(SESSION_COOKIE, path="/", secure=_secure(request), httponly=True,
                           samesite="lax")


def session_secret(request: Request) -> str | None:
    """The caller's own session cookie (kept when they change their password)."""
    return request.cookies.get(SESSION_COOKIE)


def csrf_token(request: Request) -> str:
    """The request's CSRF token (from its cookie, or a new one the response must set)."""
    existing = request.cookies.get(CSRF_COOKIE)
    if existing and unsign(_key(request), existing) is not None:
        return existing
    token: str | None = getattr(request.state, "new_csrf", None)
    if token is None:
        token = sign(_key(request), {"n": secrets.token_hex(16), "exp": time.time() + 86400})
        request.state.new_csrf = token
    return token


def set_csrf_cookie(request: Request, response: Response) -> None:
    token = getattr(request.state, "new_csrf", None)
    if token:
        response.set_cookie(CSRF_COOKIE, token, max_age=86400, httponly=True, samesite="lax",
                            secure=_secure(request), path="/")


def check_csrf(request: Request, submitted: str | None) -> None:
    """A form post must carry the token of its CSRF cookie (bearer-token callers need not)."""
    if request.headers.get("authorization"):
        return
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not submitted or not hmac.compare_digest(cookie, submitted) or unsign(
            _key(request), cookie) is None:
        raise Forbidden("the form has expired or did not come from this site (CSRF check "
                        "failed); reload the page and submit it again")
