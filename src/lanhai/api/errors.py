"""One error envelope for every API error: ``{"error": {"code", "message", "problems"?}}``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from lanhai.api.guard import allowed_methods
from lanhai.errors import LanhaiError, Problem
from lanhai.problem_text import localize_error, preferred_language


def envelope(code: str, message: str, problems: list[dict[str, Any]] | None = None
             ) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if problems:
        body["problems"] = problems
    return {"error": body}


def in_language(request: Request, answer: dict[str, Any]) -> dict[str, Any]:
    """An envelope with its message and problems' reasons and fixes in the language the
    request prefers (``?lang=zh``, else Accept-Language), as lanhai/problems.toml has them."""
    lang = preferred_language(request.headers.get("accept-language", ""),
                              request.query_params.get("lang", ""))
    return answer if lang == "en" else {"error": localize_error(answer["error"], lang)}


def install(app: FastAPI) -> None:
    """Route every error through the envelope."""

    @app.exception_handler(LanhaiError)
    async def lanhai_error(request: Request, exc: LanhaiError) -> JSONResponse:
        return JSONResponse(in_language(request, {"error": exc.to_dict()}),
                            status_code=exc.http_status, headers=exc.headers() or None)

    @app.exception_handler(RequestValidationError)
    async def request_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        for err in exc.errors():
            if err.get("type") == "json_invalid":  # malformed JSON is a bad request, not data
                reason = (err.get("ctx") or {}).get("error", "cannot be parsed")
                where = err.get("loc", ("body", 0))[-1]
                return JSONResponse(envelope(
                    "bad_json", f"the request body is not valid JSON: {reason} (at character "
                    f"{where}); send a JSON object with Content-Type: application/json"),
                    status_code=400)
        problems = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ())]
            problems.append(Problem(reason=str(err.get("msg", "invalid")),
                                    fix="see the OpenAPI document at /openapi.json",
                                    field=".".join(loc[1:]) or None,
                                    value=None if err.get("input") is None
                                    else str(err.get("input"))[:200]).to_dict())
        return JSONResponse(in_language(request, envelope(
            "invalid_request", "the request is not valid", problems)), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized",
                413: "too_large"}.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else "error"
        if exc.status_code == 404 and message == "Not Found":
            message = f"no route {request.url.path}; see /docs for the routes"
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            # every method some route answers on this path, not just the first route's
            allowed = ", ".join(allowed_methods(request.app, request.url.path))
            headers["Allow"] = allowed
            message = f"{request.method} is not allowed on {request.url.path}" + (
                f"; allowed: {allowed}" if allowed else "")
        return JSONResponse(envelope(code, message), status_code=exc.status_code,
                            headers=headers or None)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        logging.getLogger("lanhai.api").exception("unexpected error on %s %s",
                                                  request.method, request.url.path)
        return JSONResponse(envelope("internal", "an unexpected error happened; it has been "
                                                 "logged on the server"), status_code=500)
