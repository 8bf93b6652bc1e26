"""Releases of the market's best results ("青岛好成果 · 合成生物专场"): an admin composes one
from published offers, publishes it as a page, an Atom feed and a printable brochure; past
releases stay browsable. A release shows each caller only the offers they may see (an offer
withdrawn after its release leaves the release's page for readers)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from lanhai.errors import NotFound, StaleVersion, UsageError
from lanhai.kinds import KINDS
from lanhai.market.feeds import FeedEntry, atom
from lanhai.model import MAX_KEY, Record
from lanhai.services.access import Actor, require_admin
from lanhai.services.catalog import CatalogService, check_accession
from lanhai.services.market import on_market
from lanhai.store import market as store
from lanhai.store.database import Database

#: the most offers one release presents
MAX_OFFERS = 200


class ReleaseService:
    """Composing, publishing and showing releases."""

    def __init__(self, db: Database, catalog: CatalogService) -> None:
        self.db, self.catalog = db, catalog

    def compose(self, actor: Actor, *, title: str, issued: dt.date, offers: Sequence[str],
                title_zh: str = "", introduction: str = "", introduction_zh: str = ""
                ) -> dict[str, Any]:
        """A draft release of ``offers`` (admin)."""
        require_admin(actor)
        values = self._values(actor, title, title_zh, issued, introduction, introduction_zh,
                              offers)
        with self.db.write() as conn:
            release_id = store.insert_release(conn, values, actor.username)
        return self.get(actor, release_id)

    def change(self, actor: Actor, release_id: int, *, title: str, issued: dt.date,
               offers: Sequence[str], title_zh: str = "", introduction: str = "",
               introduction_zh: str = "", expected_version: int | None = None
               ) -> dict[str, Any]:
        """Replace a draft release's contents (admin); a published one stays as issued."""
        require_admin(actor)
        values = self._values(actor, title, title_zh, issued, introduction, introduction_zh,
                              offers)
        with self.db.write() as conn:
            release = self._draft(conn, release_id, expected_version)
            store.update_release(conn, release, values)
        return self.get(actor, release_id)

    def publish(self, actor: Actor, release_id: int, expected_version: int | None = None
                ) -> dict[str, Any]:
        """Publish a draft release: its offers must all still be on the market."""
        require_admin(actor)
        with self.db.read() as conn:
            release = self._draft(conn, release_id, expected_version)
        found = self.catalog.find(actor, release.offers)
        gone = [acc for acc in release.offers
                if acc not in found or not on_market(found[acc].fields)]
        if gone:
            raise UsageError(f"these offers are no longer on the market: "
                             f"{', '.join(gone)}; take them out of the release first")
        with self.db.write() as conn:  # as it was checked, or refused
            release = self._draft(conn, release_id, release.version)
            store.update_release(conn, release, {"published": True,
                                                 "published_at": dt.datetime.now(dt.UTC)})
        return self.get(actor, release_id)

    def get(self, actor: Actor, release_id: int) -> dict[str, Any]:
        """A release with the offers ``actor`` may see (drafts: admins only, else 404)."""
        with self.db.read() as conn:
            release = self._release(conn, release_id)
        if release is None or not (release.published or actor.is_admin):
            raise NotFound(f"no release {release_id}")
        entries = self._entries(actor, release.offers)
        return {**release.to_dict(), "offers": [e["accession"] for e in entries],
                "entries": entries}

    def all(self, actor: Actor) -> list[dict[str, Any]]:
        """Releases, newest first: published ones (and drafts for admins), each with the
        offers the caller may see."""
        return [release for release, _ in self._listed(actor)]

    def _listed(self, actor: Actor) -> list[tuple[dict[str, Any], list[Record]]]:
        """Each release the caller may see, with the offers of it they may see (one read
        of the catalogue for all of them)."""
        with self.db.read() as conn:
            found = store.list_releases(conn, drafts=actor.is_admin)
        seen = self.catalog.find(actor, {a for r in found for a in r.offers})
        out = []
        for release in found:
            offers = [seen[a] for a in release.offers if a in seen]
            out.append(({**release.to_dict(), "offers": [o.accession for o in offers]},
                        offers))
        return out

    def feed(self, actor: Actor, base_url: str) -> bytes:
        """The Atom feed of the published releases."""
        base = base_url.rstrip("/")
        entries = []
        for release, offers in self._listed(actor):
            if not release["published"]:
                continue
            titles = [o.name or str(o.fields.get("title_zh", "")) for o in offers]
            summary = " · ".join(filter(None, (release["title_zh"], release["introduction"])))
            entries.append(FeedEntry(
                id=f"{base}/market/releases/{release['id']}",
                title=release["title"], link=f"{base}/market/releases/{release['id']}",
                updated=dt.datetime.fromisoformat(release["published_at"]),
                summary=(summary + "\n" if summary else "") + "\n".join(
                    f"- {t}" for t in titles)))
        return atom(f"{base}/market/releases", "Lanhai market releases · 蓝海成果发布",
                    f"{base}/api/market/releases.atom", f"{base}/market/releases", entries)

    # -- helpers -------------------------------------------------------------------------------
    def _values(self, actor: Actor, title: str, title_zh: str, issued: dt.date,
                introduction: str, introduction_zh: str, offers: Sequence[str]
                ) -> dict[str, Any]:
        if not title.strip():
            raise UsageError("a release needs a title")
        if not offers or len(offers) > MAX_OFFERS:
            raise UsageError(f"a release presents 1 to {MAX_OFFERS} offers")
        chosen = list(dict.fromkeys(check_accession(a) for a in offers))
        found = self.catalog.find(actor, chosen)
        wrong = [a for a in chosen if a not in found or found[a].kind != "offer"]
        if wrong:
            raise UsageError(f"not offers of this bank: {', '.join(wrong)}")
        off = [a for a in chosen if not on_market(found[a].fields)]
        if off:
            raise UsageError(f"not on the market (only published offers are released): "
                             f"{', '.join(off)}")
        return {"title": title.strip(), "title_zh": title_zh.strip(),
                "issued": issued.isoformat(), "introduction": introduction.strip(),
                "introduction_zh": introduction_zh.strip(), "offers": chosen}

    @staticmethod
    def _release(conn: Any, release_id: int) -> store.Release | None:
        if not 1 <= release_id <= MAX_KEY:
            return None
        return store.get_release(conn, release_id)

    def _draft(self, conn: Any, release_id: int, expected_version: int | None
               ) -> store.Release:
        release = self._release(conn, release_id)
        if release is None:
            raise NotFound(f"no release {release_id}")
        if expected_version is not None and release.version != expected_version:
            raise StaleVersion(f"release {release_id} is at version {release.version}, not "
                               f"{expected_version}: someone changed it since you read it; "
                               "nothing was written", release.version)
        if release.published:
            raise UsageError(f"release {release_id} is published: it stays as issued; "
                             "compose a new one")
        return release

    def _entries(self, actor: Actor, offers: Sequence[str]) -> list[dict[str, Any]]:
        """The offers ``actor`` may see, in the release's order, with what stands behind
        each (its evidence in the bank) and who offers it."""
        found = self.catalog.find(actor, offers)
        shown = [found[a] for a in offers if a in found]
        links = self.catalog.links_of_many(actor, shown)
        behind = {rec.accession: [lk.source for lk in links.get(rec.accession, [])
                                  if lk.rel == "evidence_for" and lk.target == rec.accession]
                  for rec in shown}
        owners = {str(r.fields["organisation"]) for r in shown if r.fields.get("organisation")}
        named = self.catalog.find(actor, {a for v in behind.values() for a in v} | owners)
        return [_entry(rec, behind[rec.accession], named) for rec in shown]


def _entry(record: Record, evidence: list[str], named: dict[str, Record]) -> dict[str, Any]:
    f = record.fields
    owner = named.get(str(f.get("organisation", "")))
    return {"accession": record.accession, "title": f.get("title"),
            "title_zh": f.get("title_zh"), "summary": f.get("summary"),
            "summary_zh": f.get("summary_zh"), "field": f.get("field"),
            "sector": f.get("sector"), "trl": f.get("trl"),
            "transfer_types": f.get("transfer_types", []), "patents": f.get("patents", []),
            "organisation": {"accession": owner.accession, "name": owner.name}
            if owner else None,
            "evidence": [{"accession": a, "kind": named[a].kind, "name": named[a].name,
                          "title": KINDS[named[a].kind].title}
                         for a in evidence if a in named]}
