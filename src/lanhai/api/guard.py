"""What every request passes before a route sees it, and every answer on its way out.

- **Bodies are bounded before they are read.** Each route has a body limit (settings
  ``LANHAI_MAX_BODY`` for JSON and forms, ``LANHAI_MAX_QUERY`` for searches anyone may send,
  ``LANHAI_MAX_UPLOAD`` for files writers upload): a ``Content-Length`` over it is refused at
  once (413), and a body sent without one is counted as it arrives and refused when it
  passes the limit.
- **Who is asking is checked before the body is read.** A route that needs a signed-in
  caller (a token, or a session cookie for the pages) answers 401/403 before a byte of the
  body is read or stored, so an anonymous caller cannot make the server parse or spool
  anything.
- **Security headers on every answer**: ``X-Content-Type-Options: nosniff``,
  ``X-Frame-Options: DENY`` and ``Content-Security-Policy`` (same-origin scripts, styles
  and images only; no framing), ``Referrer-Policy: same-origin``, and
  ``Strict-Transport-Security`` over HTTPS.

:func:`rules_of` reads which routes need whom and what they take from the application's
routes; the pages' forms declare theirs in :data:`lanhai.web.FORMS`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lanhai.bank import Bank
from lanhai.errors import LanhaiError, UsageError
from lanhai.limits import Limits, TooLarge
from lanhai.services.access import (
    ANONYMOUS,
    Actor,
    require_admin,
    require_some_writer,
    require_user,
    require_writer,
)

#: the page policy: everything from this server, nothing framed, no inline script or style
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self'; "
                           "script-src 'self'; object-src 'none'; base-uri 'none'; "
                           "form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}
HSTS = "max-age=31536000"
#: who a route needs, and the check for it
WHO: dict[str, Callable[[Actor], None]] = {
    "user": require_user, "entry writer": require_some_writer, "writer": require_writer,
    "admin": require_admin}
_DEPENDENCY_WHO = {"get_user": "user", "get_entry_writer": "entry writer",
                   "get_curator": "writer", "get_admin": "admin"}
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SESSION_COOKIE = "lanhai_session"


@dataclass(frozen=True)
class Rule:
    """What one route takes: the limit of its body (a field of :class:`Limits`) and whom
    it needs (a key of :data:`WHO`, or None for anyone)."""

    method: str
    path: str
    limit: str = "body"
    who: str | None = None

    @property
    def pattern(self) -> re.Pattern[str]:
        return compile_path(self.path)[0]


def rules_of(app: FastAPI, forms: Mapping[tuple[str, str], tuple[str, str | None]]
             ) -> list[Rule]:
    """A rule for every route that takes a body, in the order routes are matched: API
    routes from their dependencies (who) and parameters (files are uploads), the pages'
    forms from ``forms``; ``query`` limits for the searches anyone may send."""
    from fastapi.routing import iter_route_contexts

    rules = []
    for route in iter_route_contexts(app.routes):
        for method in sorted((getattr(route, "methods", None) or set()) & _BODY_METHODS):
            path = str(route.path)
            if (method, path) in forms:
                limit, who = forms[(method, path)]
                rules.append(Rule(method, path, limit, who))
                continue
            dependant = getattr(route, "dependant", None)
            if dependant is None:
                rules.append(Rule(method, path))
                continue
            who = _who(dependant)
            files = any("File" in type(p.field_info).__name__ for p in dependant.body_params)
            limit = "query" if who is None and path.startswith("/api/search") else (
                "upload" if files else "body")
            rules.append(Rule(method, path, limit, who))
    return rules


def needs(app: FastAPI) -> dict[tuple[str, str], str | None]:
    """(method, path) -> whom each API route needs (a key of :data:`WHO`, or None)."""
    from fastapi.routing import iter_route_contexts

    found: dict[tuple[str, str], str | None] = {}
    for route in iter_route_contexts(app.routes):
        dependant = getattr(route, "dependant", None)
        for method in getattr(route, "methods", None) or ():
            found[(method, str(route.path))] = _who(dependant) if dependant else None
    return found


def _who(dependant: Any) -> str | None:
    order = [None, "user", "entry writer", "writer", "admin"]
    found: str | None = None
    for sub in dependant.dependencies:
        name = _DEPENDENCY_WHO.get(getattr(sub.call, "__name__", ""))
        deeper = _who(sub)
        for candidate in (name, deeper):
            if order.index(candidate) > order.index(found):
                found = candidate
    return found


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method some route answers on ``path`` (for a 405's ``Allow``)."""
    from fastapi.routing import iter_route_contexts

    methods: set[str] = set()
    for route in iter_route_contexts(app.routes):
        template = getattr(route, "path", None)
        if template and compile_path(str(template))[0].match(path):
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


Refusal = Callable[[Request, LanhaiError], Awaitable[Response]]


class Guard:
    """The ASGI middleware described in the module docstring."""

    def __init__(self, app: ASGIApp, *, limits: Callable[[], Limits],
                 rules: Callable[[], Iterable[Rule]], actor: Callable[[Request], Actor],
                 refuse: Refusal) -> None:
        self.app = app
        self._limits = limits
        self._rules = rules
        self._actor = actor
        self._refuse = refuse
        self._table: list[tuple[Rule, re.Pattern[str]]] | None = None

    def rule(self, method: str, path: str) -> Rule:
        if self._table is None:
            self._table = [(r, r.pattern) for r in self._rules()]
        for rule, pattern in self._table:
            if rule.method == method and pattern.match(path):
                return rule
        return Rule(method, path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _with_security_headers(scope, send)
        if scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        rule = self.rule(scope["method"], scope["path"])
        limits = self._limits()
        limit = int(getattr(limits, rule.limit))
        try:
            declared = _content_length(scope)
            if declared is not None and declared > limit:
                raise _too_large(limits, rule, declared)
            if rule.who is not None:
                actor = await run_in_threadpool(self._actor, Request(scope))
                WHO[rule.who](actor)
        except LanhaiError as exc:
            await _drain_none(self._refuse, scope, exc, send)
            return
        await self.app(scope, _counted(receive, limit, limits, rule), send)


async def _drain_none(refuse: Refusal, scope: Scope, exc: LanhaiError, send: Send) -> None:
    """Answer without reading the body (the server discards what the client still sends)."""
    response = await refuse(Request(scope), exc)
    response.headers["Connection"] = "close"
    await response(scope, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            if not text.isdigit() or len(text) > 18:
                raise UsageError("the Content-Length header is not a number of bytes")
            return int(text)
    return None


def _too_large(limits: Limits, rule: Rule, size: int | None = None) -> TooLarge:
    what = {"body": "the request body", "query": "the search request",
            "upload": "the upload"}[rule.limit]
    fix = {"upload": "split the file, or ask the bank's admin to raise the limit",
           "query": "send fewer or shorter query sequences per request",
           "body": "send less at once"}[rule.limit]
    return limits.refuse(what + (f" ({size:,} bytes)" if size is not None else ""),
                         rule.limit, int(getattr(limits, rule.limit)), fix)


def _counted(receive: Receive, limit: int, limits: Limits, rule: Rule) -> Receive:
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                # an HTTPException passes through the body parsers as it is (another error
                # would become "cannot parse the body"); answered as the envelope, 413
                raise HTTPException(413, _too_large(limits, rule).message)
        return message

    return counted


def _with_security_headers(scope: Scope, send: Send) -> Send:
    https = scope.get("scheme") == "https"

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            present = {name.lower() for name, _ in headers}
            extra = dict(SECURITY_HEADERS)
            extra["content-security-policy"] = CONTENT_SECURITY_POLICY
            if https:
                extra["strict-transport-security"] = HSTS
            for name, value in extra.items():
                if name.encode() not in present:
                    headers.append((name.encode(), value.encode()))
            message = {**message, "headers": headers}
        await send(message)

    return sending


def actor_of(request: Request) -> Actor:
    """Who sent ``request``: a bearer token, else a page's session cookie, else nobody."""
    bank: Bank = request.app.state.bank
    header = request.headers.get("authorization", "")
    if header:
        return bank.users.actor_for_authorization(header)
    cookie = request.cookies.get(SESSION_COOKIE)
    return bank.users.actor_for_session(cookie) if cookie else ANONYMOUS
