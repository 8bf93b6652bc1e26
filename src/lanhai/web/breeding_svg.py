"""Drawings of the breeding results, as SVG made on the server: the split of the variance
between genes and environment, the best candidates' breeding values with their uncertainty,
and the selected parents' contributions.

Every drawing has ``role="img"`` and a ``<title>``; all text is escaped; colours are
presentation attributes (the pages allow no inline style).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from html import escape
from typing import Any

#: Okabe-Ito colours (colour-blind safe): genetic / phenotyped / males, and the others
BLUE, ORANGE, GREY, INK = "#0072B2", "#D55E00", "#9fb3c8", "#102a43"


def _svg(width: float, height: float, title: str, body: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:g} {height:g}" '
            f'role="img" aria-label="{escape(title)}" class="chart">'
            f"<title>{escape(title)}</title>{body}</svg>")


def _finite(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def variance_split(vc: Mapping[str, Any], title: str, genetic: str, residual: str) -> str:
    """One bar: the genetic share of the variance (h²) against the residual, with h² ± SE."""
    sg, se = _finite(vc.get("sigma_g")), _finite(vc.get("sigma_e"))
    h2 = _finite(vc.get("h2"))
    if h2 is None and sg is not None and se is not None and sg + se > 0:
        h2 = sg / (sg + se)
    width, left, bar = 480, 8, 464
    if h2 is None:
        return _svg(width, 40, title, f'<text x="{left}" y="24" font-size="13" '
                                      f'fill="{INK}">—</text>')
    h2 = min(max(h2, 0.0), 1.0)
    cut = left + h2 * bar
    parts = [f'<rect x="{left}" y="26" width="{h2 * bar:.1f}" height="20" fill="{BLUE}"/>',
             f'<rect x="{cut:.1f}" y="26" width="{(1 - h2) * bar:.1f}" height="20" '
             f'fill="{GREY}"/>',
             f'<text x="{left}" y="18" font-size="13" fill="{INK}">{escape(genetic)} '
             f'{h2:.2f}</text>',
             f'<text x="{left + bar}" y="18" font-size="13" fill="{INK}" text-anchor="end">'
             f'{escape(residual)} {1 - h2:.2f}</text>']
    error = _finite(vc.get("h2_se"))
    if error:
        low, high = (left + min(max(v, 0.0), 1.0) * bar for v in (h2 - error, h2 + error))
        parts.append(f'<path d="M{low:.1f} 36H{high:.1f}M{low:.1f} 31V41M{high:.1f} 31V41" '
                     f'stroke="{INK}" stroke-width="1.5" fill="none"/>')
    return _svg(width, 52, title, "".join(parts))


def ranking_chart(ranking: Sequence[Mapping[str, Any]], title: str, labels: Mapping[str, str],
                  top: int = 40) -> str:
    """The best ``top`` candidates: GEBV by rank, a 95 % interval from the PEV where there is
    one, filled for animals with a record and open for candidates without."""
    rows = list(ranking[:top])
    width, height, left, right, pad, bottom = 640, 230, 56, 12, 26, 34
    if not rows:
        return _svg(width, 40, title, f'<text x="8" y="24" font-size="13" fill="{INK}">—'
                                      '</text>')
    values = []
    for r in rows:
        gebv = _finite(r.get("gebv")) or 0.0
        pev = _finite(r.get("pev"))
        half = 1.96 * math.sqrt(pev) if pev is not None and pev > 0 else 0.0
        values.append((gebv, gebv - half, gebv + half, bool(r.get("phenotyped"))))
    low = min(0.0, *(v[1] for v in values))
    high = max(0.0, *(v[2] for v in values))
    span = (high - low) or 1.0
    plot_w, plot_h = width - left - right, height - pad - bottom
    step = plot_w / max(len(rows), 1)

    def y(v: float) -> float:
        return pad + (high - v) / span * plot_h

    parts = [f'<line x1="{left}" y1="{y(0):.1f}" x2="{width - right}" y2="{y(0):.1f}" '
             'stroke="#52606d"/>']
    for v in (high, 0.0, low):
        parts.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" font-size="11" fill="{INK}" '
                     f'text-anchor="end">{v:.2f}</text>')
    for i, (gebv, lo, hi, recorded) in enumerate(values):
        x = left + (i + 0.5) * step
        if hi > lo:
            parts.append(f'<line x1="{x:.1f}" y1="{y(hi):.1f}" x2="{x:.1f}" y2="{y(lo):.1f}" '
                         f'stroke="{GREY}" stroke-width="2"/>')
        fill = BLUE if recorded else "#ffffff"
        parts.append(f'<circle cx="{x:.1f}" cy="{y(gebv):.1f}" r="3.5" fill="{fill}" '
                     f'stroke="{BLUE if recorded else ORANGE}" stroke-width="1.5"/>')
    parts.append(f'<text x="{left}" y="{height - 8}" font-size="11" fill="{INK}">1</text>'
                 f'<text x="{width - right}" y="{height - 8}" font-size="11" fill="{INK}" '
                 f'text-anchor="end">{len(rows)}</text>'
                 f'<text x="{left + plot_w / 2:.0f}" y="{height - 8}" font-size="11" '
                 f'fill="{INK}" text-anchor="middle">{escape(labels["rank"])}</text>'
                 f'<text x="{left}" y="14" font-size="11" fill="{INK}">'
                 f'{escape(labels["gebv"])}</text>'
                 f'<circle cx="{width - 250}" cy="10" r="3.5" fill="{BLUE}" stroke="{BLUE}"/>'
                 f'<text x="{width - 242}" y="14" font-size="11" fill="{INK}">'
                 f'{escape(labels["recorded"])}</text>'
                 f'<circle cx="{width - 120}" cy="10" r="3.5" fill="#ffffff" stroke="{ORANGE}" '
                 f'stroke-width="1.5"/><text x="{width - 112}" y="14" font-size="11" '
                 f'fill="{INK}">{escape(labels["unrecorded"])}</text>')
    return _svg(width, height, title, "".join(parts))


def contributions(parents: Sequence[Mapping[str, Any]], males: Collection[str], title: str,
                  top: int = 30, legend: tuple[str, str] | None = None) -> str:
    """The selected parents' contributions, largest first (males blue, females orange; with
    ``legend``, the words for both above the bars)."""
    rows = list(parents[:top])
    width, row, left = 480, 16, 120
    if not rows:
        return _svg(width, 40, title, f'<text x="8" y="24" font-size="13" fill="{INK}">—'
                                      '</text>')
    most = max(float(p.get("contribution") or 0.0) for p in rows) or 1.0
    parts = []
    head = 20 if legend else 0
    if legend:
        parts.append(f'<rect x="{left}" y="4" width="11" height="11" fill="{BLUE}"/>'
                     f'<text x="{left + 16}" y="14" font-size="11" fill="{INK}">'
                     f'{escape(legend[0])}</text>'
                     f'<rect x="{left + 120}" y="4" width="11" height="11" fill="{ORANGE}"/>'
                     f'<text x="{left + 136}" y="14" font-size="11" fill="{INK}">'
                     f'{escape(legend[1])}</text>')
    for i, p in enumerate(rows):
        share = float(p.get("contribution") or 0.0)
        colour = BLUE if str(p.get("id")) in males else ORANGE
        top_y = head + 4 + i * row
        parts.append(f'<text x="{left - 6}" y="{top_y + 11}" font-size="11" fill="{INK}" '
                     f'text-anchor="end">{escape(str(p.get("id")))[:18]}</text>'
                     f'<rect x="{left}" y="{top_y + 2}" width="{share / most * 300:.1f}" '
                     f'height="11" fill="{colour}"/>'
                     f'<text x="{left + share / most * 300 + 4:.1f}" y="{top_y + 11}" '
                     f'font-size="11" fill="{INK}">{share:.3f}</text>')
    return _svg(width, head + 8 + len(rows) * row, title, "".join(parts))


__all__ = ["contributions", "ranking_chart", "variance_split"]
