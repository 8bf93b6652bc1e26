"""Atom feeds (RFC 4287) of what the market publishes: its releases of selected offers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from xml.etree import ElementTree as ET

ATOM = "http://www.w3.org/2005/Atom"
#: the media type of an Atom feed
ATOM_TYPE = "application/atom+xml; charset=utf-8"


@dataclass(frozen=True)
class FeedEntry:
    """One entry of a feed."""

    id: str
    title: str
    updated: dt.datetime
    link: str
    summary: str


def _stamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def atom(feed_id: str, title: str, self_url: str, page_url: str,
         entries: Sequence[FeedEntry], author: str = "Lanhai") -> bytes:
    """The feed as UTF-8 XML; ``updated`` is its newest entry's (or the epoch when empty,
    so that an unchanged feed is byte-for-byte the same)."""
    ET.register_namespace("", ATOM)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str
            ) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            element.text = text
        return element

    feed = ET.Element(f"{{{ATOM}}}feed")
    sub(feed, "id", feed_id)
    sub(feed, "title", title)
    newest = max((e.updated for e in entries), default=dt.datetime(1970, 1, 1, tzinfo=dt.UTC))
    sub(feed, "updated", _stamp(newest))
    sub(sub(feed, "author"), "name", author)
    sub(feed, "link", rel="self", href=self_url, type="application/atom+xml")
    sub(feed, "link", rel="alternate", href=page_url, type="text/html")
    for entry in entries:
        item = sub(feed, "entry")
        sub(item, "id", entry.id)
        sub(item, "title", entry.title)
        sub(item, "updated", _stamp(entry.updated))
        sub(item, "link", rel="alternate", href=entry.link, type="text/html")
        sub(item, "summary", entry.summary, type="text")
    body: bytes = ET.tostring(feed, encoding="utf-8")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body
