"""Sign-in for the web pages: a signed session cookie, CSRF tokens, and the acting user.

Users sign in with their username and password (``lanhai users add USER --password-stdin``;
passwords are argon2 hashes, see :mod:`lanhai.services.users`). The session cookie holds
only the username and an expiry, signed with HMAC-SHA256 under the bank's secret
(``LANHAI_SECRET_KEY``); the user's role and whether they are still active are read from the
database on every request, so a disabled user is signed out at once. A bearer token
(``Authorization: Bearer``) works on every page too, which makes the JSON twins a read API
for scripts.

CSRF: every form carries a token that must equal the ``lanhai_csrf`` cookie (double-submit,
the cookie itself signed), and cookies are ``SameSite=Lax`` and ``HttpOnly``.
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

SESSION_COOKIE = "lanhai_session"
CSRF_COOKIE = "lanhai_csrf"
SESSION_SECONDS = 12 * 3600


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


async def page_actor(request: Request) -> Actor:
    """Who is asking: a bearer token, else the session cookie, else anonymous."""
    header = request.headers.get("authorization")
    if header:
        return await run_in_threadpool(_bank(request).users.actor_for_authorization, header)
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return ANONYMOUS
    data = unsign(_key(request), cookie)
    if data is None:
        return ANONYMOUS
    return await run_in_threadpool(_bank(request).users.actor_for_user, str(data.get("u", "")))


def sign_in(bank: Bank, username: str, password: str) -> Actor | None:
    """The actor for a correct username and password of an active user, else None."""
    return bank.users.sign_in(username, password)


def start_session(request: Request, response: Response, actor: Actor) -> None:
    payload = {"u": actor.username, "exp": time.time() + SESSION_SECONDS}
    response.set_cookie(SESSION_COOKIE, sign(_key(request), payload), max_age=SESSION_SECONDS,
                        httponly=True, samesite="lax", path="/")


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


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
                            path="/")


def check_csrf(request: Request, submitted: str | None) -> None:
    """A form post must carry the token of its CSRF cookie (bearer-token callers need not)."""
    if request.headers.get("authorization"):
        return
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not submitted or not hmac.compare_digest(cookie, submitted) or unsign(
            _key(request), cookie) is None:
        raise Forbidden("the form has expired or did not come from this site (CSRF check "
                        "failed); reload the page and submit it again")
