"""The API's offline reference at ``/docs`` (the home page ``/`` is the web dashboard,
:mod:`lanhai.web`, whose JSON twin ``/.json`` also lists where the API lives).

FastAPI's own ``/docs`` loads Swagger UI from a CDN; Lanhai works offline, so ``/docs`` is a
self-contained page rendered on the server from the OpenAPI document.
"""

from __future__ import annotations

import base64
import hashlib
import html
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

router = APIRouter(tags=["home"])


_STYLE = """
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#102a43}h1{font-size:1.5rem}h2{font-size:1.1rem;margin-top:2rem;border-bottom:1px solid
#bcccdc}code{background:#f0f4f8;padding:0 .25rem;border-radius:3px}.op{margin:.75rem 0}
.m{display:inline-block;min-width:4.5rem;font-weight:600;color:#0b5394}
.p{font-family:ui-monospace,monospace}.d{color:#486581;margin:.2rem 0 0 4.8rem}
table{border-collapse:collapse;margin:.3rem 0 0 4.8rem;font-size:13px}td,th{border:1px solid
#d9e2ec;padding:.1rem .4rem;text-align:left}
"""


#: the page's one inline style, allowed by its hash (no other inline style or any script)
_POLICY = ("default-src 'none'; style-src 'sha256-"
           + base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
           + "'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


@router.get("/docs", response_class=HTMLResponse, include_in_schema=False)
async def docs(request: Request) -> HTMLResponse:
    """Every route with its summary, parameters and errors, from the OpenAPI document."""
    spec = request.app.openapi()
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
             f"<meta name='viewport' content='width=device-width,initial-scale=1'>"
             f"<title>Lanhai API reference</title><style>{_STYLE}</style></head><body>"
             f"<h1>Lanhai (蓝海) API {html.escape(spec['info']['version'])}</h1>"
             f"<p>{html.escape(spec['info'].get('description', ''))}</p>"
             "<p>Machine-readable: <a href='/openapi.json'>/openapi.json</a>. Writes need "
             "<code>Authorization: Bearer &lt;token&gt;</code> "
             "(<code>lanhai tokens create USER</code>).</p>"]
    groups: dict[str, list[str]] = {}
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            tag = (op.get("tags") or ["other"])[0]
            groups.setdefault(tag, []).append(_operation(method, path, op))
    for tag, items in groups.items():
        parts.append(f"<h2>{html.escape(tag)}</h2>")
        parts.extend(items)
    parts.append("</body></html>")
    return HTMLResponse("".join(parts), headers={"Content-Security-Policy": _POLICY})


def _operation(method: str, path: str, op: dict[str, Any]) -> str:
    out = [f"<div class='op'><span class='m'>{method.upper()}</span>"
           f"<span class='p'>{html.escape(path)}</span>"
           f"<div class='d'>{html.escape(op.get('summary', ''))}</div>"]
    params = op.get("parameters", [])
    if params:
        out.append("<table><tr><th>parameter</th><th>in</th><th>required</th>"
                   "<th>description</th></tr>")
        for param in params:
            out.append(
                f"<tr><td><code>{html.escape(param['name'])}</code></td>"
                f"<td>{html.escape(param.get('in', ''))}</td>"
                f"<td>{'yes' if param.get('required') else ''}</td>"
                f"<td>{html.escape(param.get('description', '') or '')}</td></tr>")
        out.append("</table>")
    statuses = ", ".join(sorted(op.get("responses", {})))
    out.append(f"<div class='d'>responses: {html.escape(statuses)}</div></div>")
    return "".join(out)
