"""The API's offline reference at ``/docs`` (the home page ``/`` is the web dashboard,
:mod:`lanhai.web`, whose JSON twin ``/.json`` also lists where the API lives).

FastAPI's own ``/docs`` loads Swagger UI from a CDN; Lanhai works offline, so ``/docs`` is a
self-contained page rendered on the server from the OpenAPI document: for every operation
whom it needs, its parameters, its request body, every status it answers with the schema,
media types and headers of each, and an example; then every schema with its fields and an
example. No script runs on it (examples fold with ``<details>``).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from lanhai.api.routing import api_router

router = api_router(tags=["home"])


_STYLE = """
body{font:15px/1.5 system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;
color:#102a43}h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2.5rem;border-bottom:1px
solid #bcccdc}h3{font-size:1rem;margin:1.5rem 0 .2rem}code,pre{background:#f0f4f8;
border-radius:3px}code{padding:0 .25rem}pre{padding:.5rem;overflow-x:auto;font-size:12px}
.op{margin:1rem 0 1.5rem;padding-left:.75rem;border-left:3px solid #d9e2ec}
.m{display:inline-block;min-width:4.5rem;font-weight:600;color:#0b5394}
.p{font-family:ui-monospace,monospace}.w{color:#7c5e10;font-size:13px}.d{color:#486581}
table{border-collapse:collapse;margin:.3rem 0;font-size:13px}td,th{border:1px solid
#d9e2ec;padding:.1rem .4rem;text-align:left;vertical-align:top}summary{cursor:pointer;
color:#0b5394;font-size:13px}nav a{margin-right:.75rem}
"""


#: the page's one inline style, allowed by its hash (no other inline style or any script)
_POLICY = ("default-src 'none'; style-src 'sha256-"
           + base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
           + "'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
_REF = "#/components/schemas/"


@router.get("/docs", response_class=HTMLResponse, include_in_schema=False)
async def docs(request: Request) -> HTMLResponse:
    """Every operation and schema of the OpenAPI document, as one page."""
    spec = request.app.openapi()
    info = spec["info"]
    groups: dict[str, list[str]] = {}
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            tag = (op.get("tags") or ["other"])[0]
            groups.setdefault(tag, []).append(_operation(method, path, op, spec))
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>Lanhai API reference</title><style>{_STYLE}</style></head><body><main>"
        f"<h1>{html.escape(info['title'])} {html.escape(info['version'])}</h1>",
        _markdown(info.get("description", "")),
        "<p>Machine-readable: <a href='/openapi.json'>/openapi.json</a> (OpenAPI "
        f"{html.escape(spec.get('openapi', ''))}; its schemas are JSON Schema 2020-12).</p>",
        "<nav>" + "".join(f"<a href='#tag-{html.escape(tag)}'>{html.escape(tag)}</a>"
                          for tag in groups) + "<a href='#schemas'>schemas</a></nav>"]
    for tag, items in groups.items():
        parts.append(f"<h2 id='tag-{html.escape(tag)}'>{html.escape(tag)}</h2>")
        parts.extend(items)
    parts.append("<h2 id='schemas'>Schemas</h2>")
    for name, schema in spec.get("components", {}).get("schemas", {}).items():
        parts.append(_schema_section(name, schema))
    parts.append("</main></body></html>")
    return HTMLResponse("".join(parts), headers={"Content-Security-Policy": _POLICY})


def _operation(method: str, path: str, op: dict[str, Any], spec: dict[str, Any]) -> str:
    out = [f"<div class='op' id='{_anchor(method, path)}'><h3><span class='m'>"
           f"{method.upper()}</span><span class='p'>{html.escape(path)}</span></h3>"
           f"<div>{html.escape(op.get('summary', ''))}</div>"
           f"<div class='w'>who: {html.escape(op.get('x-lanhai-access', 'anyone'))}</div>"]
    if op.get("description"):
        out.append(f"<div class='d'>{_markdown(op['description'])}</div>")
    params = op.get("parameters", [])
    if params:
        out.append("<table><tr><th>parameter</th><th>in</th><th>type</th><th>required</th>"
                   "<th>description</th></tr>")
        for param in params:
            out.append(
                f"<tr><td><code>{html.escape(param['name'])}</code></td>"
                f"<td>{html.escape(param.get('in', ''))}</td>"
                f"<td>{_type(param.get('schema', {}))}</td>"
                f"<td>{'yes' if param.get('required') else ''}</td>"
                f"<td>{html.escape(param.get('description', '') or '')}</td></tr>")
        out.append("</table>")
    body = op.get("requestBody")
    if body:
        out.append("<div><strong>request body</strong>"
                   + (" (required)" if body.get("required") else "") + "</div><table>"
                   "<tr><th>media type</th><th>schema</th></tr>")
        for media, content in body.get("content", {}).items():
            out.append(f"<tr><td><code>{html.escape(media)}</code></td>"
                       f"<td>{_type(content.get('schema', {}))}</td></tr>")
        out.append("</table>")
        out.extend(_request_example(content, spec)
                   for content in body.get("content", {}).values())
    out.append("<table><tr><th>status</th><th>meaning</th><th>body</th><th>headers</th>"
               "</tr>")
    for status, answer in sorted(op.get("responses", {}).items()):
        bodies = "<br>".join(f"<code>{html.escape(media)}</code>: "
                             f"{_type(content.get('schema', {}))}"
                             for media, content in answer.get("content", {}).items())
        headers = ", ".join(f"<code>{html.escape(name)}</code>"
                            for name in answer.get("headers", {}))
        out.append(f"<tr><td>{html.escape(status)}</td>"
                   f"<td>{html.escape(answer.get('description', ''))}</td>"
                   f"<td>{bodies or 'none'}</td><td>{headers}</td></tr>")
    out.append("</table>")
    out.append(_success_example(op, spec))
    out.append("</div>")
    return "".join(out)


def _success_example(op: dict[str, Any], spec: dict[str, Any]) -> str:
    """An example of the first success with a JSON body, as documented."""
    schemas = spec.get("components", {}).get("schemas", {})
    for status, answer in op.get("responses", {}).items():
        content = answer.get("content", {})
        media = next((m for m in content if m.endswith("json")), None)
        if not status.startswith("2") or media is None:
            continue
        if "example" in content[media]:
            return _example(content[media], status)
        target = schemas.get(content[media].get("schema", {}).get("$ref", "")
                             .removeprefix(_REF), {})
        if target.get("examples"):
            return _example({"example": target["examples"][0]}, status)
    return ""


def _request_example(content: dict[str, Any], spec: dict[str, Any]) -> str:
    """An example request body: the media type's, else its schema's."""
    if "example" in content:
        return _example(content, "request")
    schema = content.get("schema", {})
    schemas = spec.get("components", {}).get("schemas", {})
    for candidate in (schema, *schema.get("anyOf", [])):
        target = schemas.get(str(candidate.get("$ref", "")).removeprefix(_REF), candidate)
        if target.get("examples"):
            return _example({"example": target["examples"][0]}, "request")
    return ""


def _example(content: dict[str, Any], status: str = "") -> str:
    value = content["example"]
    shown = value if isinstance(value, str) else json.dumps(value, indent=2,
                                                            ensure_ascii=False)
    label = f"example {status}".strip()  # a status, or "request"
    return (f"<details><summary>{html.escape(label)}</summary>"
            f"<pre>{html.escape(shown)}</pre></details>")


def _schema_section(name: str, schema: dict[str, Any]) -> str:
    out = [f"<h3 id='schema-{html.escape(name)}'>{html.escape(name)}</h3>"]
    if schema.get("description"):
        out.append(f"<div class='d'>{_markdown(schema['description'])}</div>")
    properties = schema.get("properties", {})
    if properties:
        required = set(schema.get("required", []))
        out.append("<table><tr><th>field</th><th>type</th><th>always</th>"
                   "<th>description</th></tr>")
        for field, sub in properties.items():
            out.append(f"<tr><td><code>{html.escape(field)}</code></td>"
                       f"<td>{_type(sub)}</td><td>{'yes' if field in required else ''}</td>"
                       f"<td>{html.escape(sub.get('description', '') or '')}</td></tr>")
        out.append("</table>")
        if schema.get("additionalProperties") is False:
            out.append("<div class='d'>No other fields.</div>")
    elif schema.get("type") != "object":
        out.append(f"<div>{_type(schema)}</div>")
    for example in schema.get("examples", [])[:2]:
        out.append(_example({"example": example}))
    return "".join(out)


def _type(schema: dict[str, Any]) -> str:
    """A schema in a few words, components linked."""
    if "$ref" in schema:
        name = str(schema["$ref"]).removeprefix(_REF)
        return f"<a href='#schema-{html.escape(name)}'>{html.escape(name)}</a>"
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " or ".join(_type(s) for s in schema[key])
    if "enum" in schema:
        return " | ".join(f"<code>{html.escape(json.dumps(v))}</code>" for v in schema["enum"])
    if "const" in schema:
        return f"<code>{html.escape(json.dumps(schema['const']))}</code>"
    kind = schema.get("type")
    if isinstance(kind, list):
        return " or ".join(html.escape(str(k)) for k in kind)
    if kind == "array":
        return f"list of {_type(schema.get('items', {}))}"
    if kind == "object":
        extra = schema.get("additionalProperties")
        return f"object of {_type(extra)}" if isinstance(extra, dict) and extra else "object"
    if kind == "string" and schema.get("format"):
        return f"string ({html.escape(schema['format'])})"
    return html.escape(str(kind)) if kind else "any"


def _markdown(text: str) -> str:
    """Paragraphs with **bold**, *emphasis* and `code` (the document's own markdown)."""
    out = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        shown = html.escape(" ".join(paragraph.split()))
        shown = re.sub(r"``(.+?)``|`([^`]+)`",
                       lambda m: f"<code>{m.group(1) or m.group(2)}</code>", shown)
        shown = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", shown)
        shown = re.sub(r"(?<![\w*])\*([^*\s][^*]*)\*(?![\w*])", r"<em>\1</em>", shown)
        out.append(f"<p>{shown}</p>")
    return "".join(out)


def _anchor(method: str, path: str) -> str:
    return html.escape(f"op-{method}-" + re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-"))
