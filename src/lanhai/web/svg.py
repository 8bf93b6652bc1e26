"""Charts and drawings rendered on the server as SVG (no JavaScript, nothing downloaded).

Every function returns markup that is safe to insert into a page: all text is escaped,
every drawing has ``role="img"`` and a ``<title>`` so screen readers can name it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from functools import cache
from html import escape
from importlib import resources
from typing import Any

#: one colour per kind (colour-blind safe palette, Okabe-Ito)
KIND_COLOURS = {"sample": "#0072B2", "strain": "#D55E00", "deposit": "#CC79A7",
                "assembly": "#009E73", "compound": "#E69F00", "part": "#56B4E9",
                "germplasm": "#000000", "organisation": "#F0E442", "offer": "#882255",
                "demand": "#44AA99", "incubation": "#DDCC77",
                # the industry resource database (Paul Tol's muted scheme)
                "platform": "#117733", "project": "#332288", "achievement": "#AA4499",
                "team": "#999933", "fund": "#661100", "product": "#6699CC",
                "approval": "#888888",
                # metabolic engineering
                "chassis": "#4477AA", "design": "#EE6677"}


def _svg(width: float, height: float, title: str, body: str, extra: str = "",
         links: bool = False, css: str = "chart", origin: tuple[float, float] = (0, 0)
         ) -> str:
    """A drawing: ``role="img"``, or ``role="group"`` when it holds links (an image may not
    contain interactive elements); ``origin`` is the top left corner of what it shows."""
    role = "group" if links else "img"
    return (f'<svg xmlns="http://www.w3.org/2000/svg" '
            f'viewBox="{origin[0]:g} {origin[1]:g} {width:g} {height:g}" '
            f'role="{role}" aria-label="{escape(title)}" class="{css}"{extra}>'
            f"<title>{escape(title)}</title>{body}</svg>")


def growth_chart(rows: Sequence[Mapping[str, Any]], title: str, width: int = 640,
                 height: int = 220, labels: Mapping[str, str] | None = None) -> str:
    """Cumulative records per kind by month or year (one line per kind) from growth rows
    (``month`` is YYYY-MM or YYYY); ``labels`` name the kinds in the page's language."""
    months = sorted({str(r["month"]) for r in rows})
    if not months:
        return _svg(width, 40, title, '<text x="8" y="24" font-size="14">—</text>')
    months.insert(0, _month_before(months[0]))  # start every line from zero
    kinds = sorted({str(r["kind"]) for r in rows})
    per: dict[str, dict[str, int]] = {k: {} for k in kinds}
    for r in rows:
        per[str(r["kind"])][str(r["month"])] = int(r["created"])
    series: dict[str, list[int]] = {}
    for kind in kinds:
        total, points = 0, []
        for m in months:
            total += per[kind].get(m, 0)
            points.append(total)
        series[kind] = points
    top = max(max(s) for s in series.values()) or 1
    left, right, top_pad, bottom = 56, 110, 10, 30
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    step = plot_w / max(1, len(months) - 1)

    def y(v: float) -> float:
        return top_pad + plot_h - v / top * plot_h

    parts = [f'<line x1="{left}" y1="{y(0):.1f}" x2="{left + plot_w}" y2="{y(0):.1f}" '
             'stroke="#52606d"/>',
             f'<text x="{left - 4}" y="{y(top) + 4:.1f}" font-size="11" text-anchor="end">'
             f"{top:,}</text>",
             f'<text x="{left - 4}" y="{y(0) + 4:.1f}" font-size="11" text-anchor="end">0</text>',
             f'<text x="{left}" y="{height - 8}" font-size="11">{escape(months[0])}</text>',
             f'<text x="{left + plot_w}" y="{height - 8}" font-size="11" text-anchor="end">'
             f"{escape(months[-1])}</text>"]
    for i, kind in enumerate(kinds):
        colour = KIND_COLOURS.get(kind, "#333")
        pts = " ".join(f"{left + j * step:.1f},{y(v):.1f}" for j, v in enumerate(series[kind]))
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" '
                     'stroke-width="2"/>')
        ly = top_pad + 12 + i * 16
        parts.append(f'<rect x="{width - right + 10}" y="{ly - 9}" width="10" height="10" '
                     f'fill="{colour}"/><text x="{width - right + 24}" y="{ly}" '
                     f'font-size="11">{escape((labels or {}).get(kind, kind))} '
                     f"{series[kind][-1]:,}</text>")
    return _svg(width, height, title, "".join(parts))


def _month_before(month: str) -> str:
    """The month (YYYY-MM) or year (YYYY) before."""
    if len(month) == 4 and month.isdigit():
        return str(int(month) - 1)
    try:
        year, number = int(month[:4]), int(month[5:7])
    except ValueError:
        return ""
    return f"{year - 1}-12" if number == 1 else f"{year}-{number - 1:02d}"


def progress_bar(count: int, target: int, label: str) -> str:
    """A horizontal bar: ``count`` of ``target`` (capped at 100 %)."""
    share = 0.0 if target <= 0 else min(1.0, count / target)
    width = 300
    body = (f'<rect x="0" y="0" width="{width}" height="14" rx="3" fill="#d9e2ec"/>'
            f'<rect x="0" y="0" width="{share * width:.1f}" height="14" rx="3" '
            'fill="#0b5394"/>')
    return _svg(width, 14, f"{label}: {count:,} / {target:,}", body,
                ' preserveAspectRatio="none"', css="bar")


def lineage_graph(lineage: Mapping[str, Any], title: str) -> str:
    """Ancestors left, the record in the middle, descendants right; edges labelled."""
    focus = str(lineage["accession"])
    level: dict[str, int] = {focus: 0}
    for edge in lineage.get("ancestors", []):
        level.setdefault(str(edge["source"]), -int(edge["depth"]))
        level.setdefault(str(edge["target"]), -int(edge["depth"]) + 1)
    for edge in lineage.get("descendants", []):
        level.setdefault(str(edge["target"]), int(edge["depth"]))
        level.setdefault(str(edge["source"]), int(edge["depth"]) - 1)
    nodes = {str(n["accession"]): n for n in lineage.get("nodes", [])}
    nodes.setdefault(focus, {"accession": focus, "kind": lineage.get("kind", ""),
                             "name": lineage.get("name", "")})
    columns: dict[int, list[str]] = {}
    for acc in sorted(level, key=lambda a: (level[a], a)):
        columns.setdefault(level[acc], []).append(acc)
    lo = min(columns)
    box_w, box_h, gap_x, gap_y = 170, 44, 100, 16
    width = len(columns) * (box_w + gap_x) - gap_x + 20
    height = max(len(c) for c in columns.values()) * (box_h + gap_y) + 20
    pos: dict[str, tuple[float, float]] = {}
    for lvl, accs in columns.items():
        for i, acc in enumerate(accs):
            pos[acc] = (10 + (lvl - lo) * (box_w + gap_x), 10 + i * (box_h + gap_y))
    parts = ['<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" '
             'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
             '<path d="M0,0L10,5L0,10z" fill="#52606d"/></marker></defs>']
    seen: set[tuple[str, str, str]] = set()
    for edge in [*lineage.get("ancestors", []), *lineage.get("descendants", [])]:
        key = (str(edge["source"]), str(edge["rel"]), str(edge["target"]))
        if key in seen or key[0] not in pos or key[2] not in pos:
            continue
        seen.add(key)
        (x1, y1), (x2, y2) = pos[key[0]], pos[key[2]]
        ax, ay, bx, by = x1 + box_w, y1 + box_h / 2, x2, y2 + box_h / 2
        parts.append(f'<line x1="{ax:g}" y1="{ay:g}" x2="{bx:g}" y2="{by:g}" '
                     'stroke="#52606d" marker-end="url(#arrow)"/>'
                     f'<text x="{(ax + bx) / 2:g}" y="{(ay + by) / 2 - 4:g}" font-size="10" '
                     f'text-anchor="middle" fill="#334e68">{escape(key[1])}</text>')
    for acc, (x, y) in pos.items():
        node = nodes.get(acc, {"kind": "", "name": ""})
        colour = KIND_COLOURS.get(str(node.get("kind")), "#333")
        stroke = ' stroke-width="3"' if acc == focus else ""
        name = str(node.get("name") or "")
        short = name if len(name) <= 24 else name[:23] + "…"
        parts.append(f'<a href="/records/{escape(acc)}"><rect x="{x:g}" y="{y:g}" '
                     f'width="{box_w}" height="{box_h}" rx="5" fill="#fff" '
                     f'stroke="{colour}"{stroke}/>'
                     f'<text x="{x + 8:g}" y="{y + 17:g}" font-size="12" font-weight="600" '
                     f'fill="#102a43">{escape(acc)}</text>'
                     f'<text x="{x + 8:g}" y="{y + 34:g}" font-size="11" fill="#334e68">'
                     f"{escape(short)}</text></a>")
    return _svg(width, height, title, "".join(parts), links=True)


@cache
def _land() -> dict[str, str]:
    data: dict[str, str] = json.loads(
        resources.files("lanhai.web").joinpath("data/land-110m.json").read_text("utf-8"))
    return data


DEPTH_BANDS = ((0.0, 10.0, "#9ecae1"), (10.0, 200.0, "#4292c6"), (200.0, 1000.0, "#2171b5"),
               (1000.0, 4000.0, "#08519c"), (4000.0, 1e9, "#08306b"))


def depth_colour(depth: float | None) -> str:
    if depth is None:
        return "#f58518"
    for low, high, colour in DEPTH_BANDS:
        if low <= depth < high:
            return colour
    return DEPTH_BANDS[-1][2]


def world_map(cells: Sequence[Mapping[str, Any]], box: Sequence[float], title: str) -> str:
    """Equirectangular world (Natural Earth 110 m land) cut to ``box`` (west, south, east,
    north) with the map's cells: a record as a dot coloured by depth, linking to its page;
    several as a circle sized by their number, labelled with it, linking to its ``href``
    (a closer view)."""
    west, south, east, north = box
    width, height = east - west, north - south
    scale = width / 360
    parts = [f'<rect x="{west + 180:g}" y="{90 - north:g}" width="{width:g}" '
             f'height="{height:g}" fill="#eaf4fb"/>',
             f'<path d="{_land()["path"]}" fill="#cfd8c4" stroke="#8a9a7b" '
             f'stroke-width="{0.2 * scale:.4f}"/>']
    for c in cells:
        x, y = float(c["longitude"]) + 180, 90 - float(c["latitude"])
        deep = c.get("depth_max")
        if c["count"] == 1:
            label = f'{c["accession"]} {c.get("name") or ""}' + (
                "" if deep is None else f" — {deep:g} m")
            parts.append(f'<a href="/records/{escape(str(c["accession"]))}" '
                         f'aria-label="{escape(label)}"><title>{escape(label)}</title>'
                         f'<circle cx="{x:.4f}" cy="{y:.4f}" r="{1.6 * scale:.4f}" '
                         f'fill="{depth_colour(deep)}" stroke="#fff" '
                         f'stroke-width="{0.3 * scale:.4f}"/></a>')
            continue
        radius = (2.2 + 1.1 * math.log2(c["count"])) * scale
        label = f'{c["count"]:,} records' + ("" if deep is None else
                                             f' — {c["depth_min"]:g}–{deep:g} m')
        parts.append(f'<a href="{escape(str(c["href"]))}" aria-label="{escape(label)}">'
                     f'<title>{escape(label)}</title>'
                     f'<circle cx="{x:.4f}" cy="{y:.4f}" r="{radius:.4f}" '
                     f'fill="{depth_colour(deep)}" fill-opacity="0.85" stroke="#fff" '
                     f'stroke-width="{0.3 * scale:.4f}"/>'
                     f'<text x="{x:.4f}" y="{y + 0.9 * scale:.4f}" text-anchor="middle" '
                     f'font-size="{2.6 * scale:.4f}" fill="#fff" font-weight="bold">'
                     f'{c["count"]}</text></a>')
    return _svg(width, height, title, "".join(parts), css="map", links=bool(cells),
                origin=(west + 180, 90 - north))


def _arrow(x1: float, x2: float, y: float, h: float, forward: bool) -> str:
    """The path of a gene drawn as an arrow from x1 to x2 (pointing right when forward)."""
    head = min(6.0, (x2 - x1) / 2)
    if forward:
        return (f"M{x1:.1f},{y}L{x2 - head:.1f},{y}L{x2:.1f},{y + h / 2}"
                f"L{x2 - head:.1f},{y + h}L{x1:.1f},{y + h}Z")
    return (f"M{x2:.1f},{y}L{x1 + head:.1f},{y}L{x1:.1f},{y + h / 2}"
            f"L{x1 + head:.1f},{y + h}L{x2:.1f},{y + h}Z")


def gene_map(contig: str, length: int, genes: Sequence[Mapping[str, Any]], title: str,
             width: int = 900) -> str:
    """A contig as a line with its genes as arrows (strand), labelled when there is room."""
    if length <= 0:
        return _svg(width, 30, title, "")
    scale = (width - 20) / length
    body = [f'<line x1="10" y1="40" x2="{10 + length * scale:.1f}" y2="40" stroke="#52606d"/>'
            f'<text x="10" y="14" font-size="12">{escape(contig)} · {length:,} bp</text>']
    for g in genes:
        start, end = int(g["start"]), int(g["end"])
        strand = int(g.get("strand", 1))
        x1, x2 = 10 + (start - 1) * scale, 10 + end * scale
        y = 26 if strand >= 0 else 44
        d = _arrow(x1, x2, y, 12, strand >= 0)
        family = str(g.get("family") or "")
        colour = "#D55E00" if family else "#009E73"
        label = f'{g.get("id", "")} {start}..{end} ({"+" if strand >= 0 else "-"})' + (
            f" {family}" if family else "")
        body.append(f'<path d="{d}" fill="{colour}" fill-opacity="0.85">'
                    f"<title>{escape(label)}</title></path>")
    return _svg(width, 64, title, "".join(body), css="genemap")


#: colours of a family's category (Okabe-Ito): CAZymes, plastics, PUL components, the rest
CATEGORY_COLOURS = {"cazy": "#D55E00", "cazyme": "#D55E00", "plastics": "#CC79A7",
                    "pul": "#0072B2", "orthology": "#E69F00"}
OTHER_COLOUR = "#56B4E9"


def category_colour(category: str | None) -> str:
    return CATEGORY_COLOURS.get((category or "").lower(), OTHER_COLOUR)


def domain_map(length: int, domains: Sequence[Mapping[str, Any]], title: str,
               width: int = 900) -> str:
    """A protein as a bar with its domain hits above it (one row per hit, family named),
    coloured by category."""
    if length <= 0:
        return _svg(width, 30, title, "")
    scale = (width - 20) / length
    rows = max(1, len(domains))
    height = 40 + rows * 22
    body = [f'<rect x="10" y="{height - 24}" width="{length * scale:.1f}" height="8" '
            f'fill="#bcccdc"/><text x="10" y="{height - 4}" font-size="11">1</text>'
            f'<text x="{10 + length * scale:.1f}" y="{height - 4}" font-size="11" '
            f'text-anchor="end">{length:,} aa</text>']
    for i, d in enumerate(domains):
        start, end = int(d.get("ali_from") or 1), int(d.get("ali_to") or length)
        x1, x2 = 10 + (start - 1) * scale, 10 + end * scale
        y = 8 + i * 22
        label = f"{d.get('family', '')} {start}-{end}"
        body.append(f'<rect x="{x1:.1f}" y="{y}" width="{max(x2 - x1, 2):.1f}" height="16" '
                    f'rx="3" fill="{category_colour(d.get("category"))}" fill-opacity="0.85">'
                    f"<title>{escape(label)} (e-value {d.get('evalue', 0):.2g})</title></rect>"
                    f'<text x="{x1 + 3:.1f}" y="{y + 12}" font-size="11" fill="#fff">'
                    f"{escape(str(d.get('family', '')))}</text>")
    return _svg(width, height, title, "".join(body), css="genemap")


def neighbourhood(genes: Sequence[Mapping[str, Any]], title: str, href: str,
                  width: int = 900) -> str:
    """Genes around one (``self``) as arrows with their best family over them; each links
    to its protein page (``href`` with ``{id}``)."""
    placed = [g for g in genes if g.get("start") is not None]
    if not placed:
        return ""
    low = min(int(g["start"]) for g in placed)
    high = max(int(g["end"]) for g in placed)
    scale = (width - 20) / max(high - low + 1, 1)
    body = [f'<line x1="10" y1="50" x2="{width - 10}" y2="50" stroke="#52606d"/>']
    for g in placed:
        x1 = 10 + (int(g["start"]) - low) * scale
        x2 = 10 + (int(g["end"]) - low + 1) * scale
        forward = int(g.get("strand", 1)) >= 0
        y, h = 42, 16
        d = _arrow(x1, x2, y, h, forward)
        family = str(g.get("family") or "")
        colour = category_colour(g.get("category")) if family else "#9aa5b1"
        stroke = ' stroke="#102a43" stroke-width="2"' if g.get("self") else ""
        pid = str(g["protein_id"])
        link = escape(href.replace("{id}", pid), quote=True)
        body.append(f'<a href="{link}"><path d="{d}" fill="{colour}"{stroke}>'
                    f"<title>{escape(pid)}{' ' + escape(family) if family else ''}</title>"
                    "</path></a>")
        if family:
            body.append(f'<text x="{(x1 + x2) / 2:.1f}" y="{34 if forward else 74}" '
                        f'font-size="10" text-anchor="middle">{escape(family)}</text>')
    return _svg(width, 84, title, "".join(body), links=True, css="genemap")


#: the colour of each progress status (achieved, on track, needs attention, off track)
STATUS_COLOURS = {"achieved": "#1a7f37", "on_track": "#0b5394", "needs_attention": "#b35c00",
                  "off_track": "#b3261e", "tracked": "#52606d", "no_data": "#52606d"}


def trend_chart(series: Sequence[Mapping[str, Any]], goal: float | None,
                projected: float | None, target_year: int, status: str, title: str,
                width: int = 640, height: int = 200, small: bool = False) -> str:
    """An indicator's value at each quarter's end, the target as a dashed line and the
    trend's projection to the target year's end as a dotted one."""
    periods = [str(p["period"]) for p in series]
    if not periods:
        return _svg(width, 40, title, '<text x="8" y="24" font-size="14">—</text>')
    last = f"{target_year}-Q4"
    axis = periods + ([last] if periods[-1] < last else [])
    values = [p["value"] for p in series]
    top = max([v for v in values if v is not None] + [goal or 0, projected or 0, 1])
    left, right, top_pad, bottom = (4, 4, 4, 4) if small else (56, 16, 12, 30)
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    step = plot_w / max(1, len(axis) - 1)

    def y(v: float) -> float:
        return float(top_pad + plot_h - v / top * plot_h)

    def x(period: str) -> float:
        if period in axis:
            return left + axis.index(period) * step
        return left + plot_w

    colour = STATUS_COLOURS.get(status, "#333")
    parts = [f'<line x1="{left}" y1="{y(0):.1f}" x2="{left + plot_w}" y2="{y(0):.1f}" '
             'stroke="#9aa5b1"/>']
    if goal:
        parts.append(f'<line x1="{left}" y1="{y(goal):.1f}" x2="{left + plot_w}" '
                     f'y2="{y(goal):.1f}" stroke="#52606d" stroke-dasharray="6 4"/>')
    known = [(p, v) for p, v in zip(periods, values, strict=True) if v is not None]
    if known:
        pts = " ".join(f"{x(p):.1f},{y(v):.1f}" for p, v in known)
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" '
                     'stroke-width="2"/>')
        if projected is not None and known[-1][0] < last:
            parts.append(f'<line x1="{x(known[-1][0]):.1f}" y1="{y(known[-1][1]):.1f}" '
                         f'x2="{x(last):.1f}" y2="{y(projected):.1f}" stroke="{colour}" '
                         'stroke-dasharray="2 3"/>')
    if not small:
        labels = [(f"{top:,.0f}", y(top) + 4), ("0", y(0) + 4)]
        if goal:
            labels.append((f"{goal:,.0f}", y(goal) + 4))
        parts += [f'<text x="{left - 4}" y="{ty:.1f}" font-size="11" text-anchor="end">'
                  f"{escape(text)}</text>" for text, ty in labels]
        parts.append(f'<text x="{left}" y="{height - 8}" font-size="11">'
                     f"{escape(axis[0])}</text>")
        parts.append(f'<text x="{left + plot_w}" y="{height - 8}" font-size="11" '
                     f'text-anchor="end">{escape(axis[-1])}</text>')
    return _svg(width, height, title, "".join(parts), css="spark" if small else "chart")


def treemap(children: Sequence[Mapping[str, Any]], title: str, width: int = 720,
            height: int = 360) -> str:
    """Progress as a treemap (slice and dice): one column per group (``name``, ``total``,
    ``done``, ``in_progress`` and its own ``children`` one rank down), as wide as its share
    of the targets, cut into its children's rows; each cell shaded by its share done (dark
    green: every target done; pale: none) with a hatch for what is in progress."""
    groups = [c for c in children if int(c.get("total", 0)) > 0]
    total = sum(int(c["total"]) for c in groups)
    if not total:
        return _svg(width, 40, title, '<text x="8" y="24" font-size="14">—</text>')
    parts: list[str] = []
    x = 0.0
    for group in sorted(groups, key=lambda c: -int(c["total"])):
        w = width * int(group["total"]) / total
        cells = [c for c in group.get("children", []) if int(c.get("total", 0)) > 0] or \
            [group]
        inner = sum(int(c["total"]) for c in cells)
        y = 0.0
        for cell in sorted(cells, key=lambda c: -int(c["total"])):
            h = height * int(cell["total"]) / inner
            share = int(cell.get("done", 0)) / int(cell["total"])
            fill = _mix("#e8f3ec", "#1a7f37", share)
            label = (f"{cell['name']}: {cell.get('done', 0)} of {cell['total']} done, "
                     f"{cell.get('in_progress', 0)} in progress")
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
                         f'fill="{fill}" stroke="#fff"><title>{escape(label)}</title></rect>')
            if w > 60 and h > 14:
                colour = "#fff" if share > 0.55 else "#1f2933"
                parts.append(f'<text x="{x + 3:.1f}" y="{y + 12:.1f}" font-size="10" '
                             f'fill="{colour}">{escape(str(cell["name"])[:int(w / 6)])}'
                             "</text>")
            y += h
        x += w
    return _svg(width, height, title, "".join(parts))


def _mix(low: str, high: str, share: float) -> str:
    """The colour ``share`` of the way from ``low`` to ``high``."""
    a = [int(low[i:i + 2], 16) for i in (1, 3, 5)]
    b = [int(high[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * max(0.0, min(1.0, share))):02x}"
                         for x, y in zip(a, b, strict=True))


def envelope_chart(points: Sequence[Mapping[str, Any]], title: str, growth_label: str,
                   product_label: str, width: int = 640, height: int = 300) -> str:
    """A production envelope: the least and most product flux (y) at each growth rate (x),
    the feasible region filled between them."""
    pts = [(float(p["growth"] or 0), float(p["product_min"] or 0), float(p["product_max"] or 0))
           for p in points if p.get("growth") is not None]
    if not pts:
        return _svg(width, 40, title, '<text x="8" y="24" font-size="14">—</text>')
    left, right, top_pad, bottom = 64, 16, 12, 44
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    x_top = max(p[0] for p in pts) or 1.0
    y_top = max(max(p[2] for p in pts), 1e-9)

    def x(v: float) -> float:
        return left + v / x_top * plot_w

    def y(v: float) -> float:
        return top_pad + plot_h - v / y_top * plot_h

    upper = [f"{x(g):.1f},{y(hi):.1f}" for g, _, hi in pts]
    lower = [f"{x(g):.1f},{y(lo):.1f}" for g, lo, _ in reversed(pts)]
    parts = [f'<polygon points="{" ".join(upper + lower)}" fill="#56B4E9" '
             'fill-opacity="0.35" stroke="#0072B2" stroke-width="2"/>',
             f'<line x1="{left}" y1="{y(0):.1f}" x2="{left + plot_w}" y2="{y(0):.1f}" '
             'stroke="#52606d"/>',
             f'<line x1="{left}" y1="{top_pad}" x2="{left}" y2="{y(0):.1f}" stroke="#52606d"/>']
    for value, ty in ((y_top, y(y_top) + 4), (y_top / 2, y(y_top / 2) + 4), (0.0, y(0) + 4)):
        parts.append(f'<text x="{left - 6}" y="{ty:.1f}" font-size="11" text-anchor="end">'
                     f"{value:.3g}</text>")
    for value in (0.0, x_top / 2, x_top):
        parts.append(f'<text x="{x(value):.1f}" y="{y(0) + 16:.1f}" font-size="11" '
                     f'text-anchor="middle">{value:.3g}</text>')
    parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" font-size="12" '
                 f'text-anchor="middle">{escape(growth_label)}</text>')
    parts.append(f'<text x="14" y="{top_pad + plot_h / 2:.1f}" font-size="12" '
                 f'text-anchor="middle" transform="rotate(-90 14 {top_pad + plot_h / 2:.1f})">'
                 f"{escape(product_label)}</text>")
    return _svg(width, height, title, "".join(parts))


def flux_bars(fluxes: Mapping[str, float], highlighted: Sequence[str], title: str,
              limit: int = 30, width: int = 640) -> str:
    """The largest fluxes as bars around zero (reverse flux to the left), the reactions in
    ``highlighted`` (a design's added pathway) in orange, the others in blue."""
    shown = sorted(fluxes.items(), key=lambda kv: (-abs(kv[1]), kv[0]))[:limit]
    if not shown:
        return _svg(width, 40, title, '<text x="8" y="24" font-size="14">—</text>')
    row, label_w = 18, 150
    height = row * len(shown) + 24
    plot_w = width - label_w - 70
    middle = label_w + plot_w / 2
    top = max(abs(v) for _, v in shown) or 1.0
    parts = [f'<line x1="{middle:.1f}" y1="0" x2="{middle:.1f}" y2="{height - 20}" '
             'stroke="#52606d"/>']
    marked = set(highlighted)
    for i, (rid, value) in enumerate(shown):
        y = i * row + 4
        size = abs(value) / top * plot_w / 2
        x0 = middle if value >= 0 else middle - size
        colour = "#E69F00" if rid in marked else "#0072B2"
        parts.append(f'<text x="{label_w - 6}" y="{y + 12}" font-size="11" text-anchor="end" '
                     f'font-family="monospace">{escape(rid)}</text>')
        parts.append(f'<rect x="{x0:.1f}" y="{y + 2}" width="{max(size, 0.5):.1f}" '
                     f'height="{row - 6}" fill="{colour}"><title>{escape(rid)}: '
                     f"{value:.4g}</title></rect>")
        parts.append(f'<text x="{width - 4}" y="{y + 12}" font-size="11" text-anchor="end">'
                     f"{value:.3g}</text>")
    parts.append(f'<text x="{middle:.1f}" y="{height - 6}" font-size="11" '
                 f'text-anchor="middle">0</text>')
    return _svg(width, height, title, "".join(parts))
