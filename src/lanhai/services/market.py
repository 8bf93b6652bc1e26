"""The technology market's use cases: ranking offers for a demand and demands for an offer,
explained, over what the caller may see.

Only entries on the market are candidates: published, not suppressed or withdrawn (an
expired one is ranked with its expiry as a missed constraint). Each entry is read once
per version and kept (the reading of 10,000 offers takes seconds; a match on them, warm,
milliseconds); the ranking index is rebuilt only when an entry changed.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from typing import Any

from lanhai.errors import UsageError
from lanhai.kinds import KINDS, kind_of_accession
from lanhai.market.lexicon import Lexicon, lexicon
from lanhai.market.matching import Entry, Features, MatchIndex, features
from lanhai.model import Record
from lanhai.services.access import ANONYMOUS, Actor
from lanhai.services.catalog import CatalogService, check_accession
from lanhai.store import queries
from lanhai.store import records as record_store
from lanhai.store.database import Database

#: each side's counterpart
COUNTERPART = {"demand": "offer", "offer": "demand"}
#: most candidates one match may return
MAX_TOP = 100


def on_market(fields: dict[str, Any]) -> bool:
    """Published and current (an expired entry still is: its expiry is shown as missed)."""
    return fields.get("market_status") == "published" and not fields.get("record_status")


@dataclass
class _Read:
    version: int
    entry: Entry
    features: Features


class MarketService:
    """Matching offers and demands, with the readings and indexes kept between calls."""

    def __init__(self, db: Database, catalog: CatalogService,
                 lexicon_source: Lexicon | None = None) -> None:
        self.db, self.catalog = db, catalog
        self._lexicon = lexicon_source
        self._read: dict[str, _Read] = {}
        #: (kind, sees restricted) -> (the versions it was built from, the index)
        self._indexes: dict[tuple[str, bool], tuple[dict[str, int], MatchIndex]] = {}
        self._lock = threading.Lock()

    @property
    def lexicon(self) -> Lexicon:
        if self._lexicon is None:
            self._lexicon = lexicon()
        return self._lexicon

    def match(self, actor: Actor, accession: str, top: int = 10,
              today: dt.date | None = None) -> dict[str, Any]:
        """The ``top`` offers for a demand (or demands for an offer) ``actor`` may see,
        best first, each with its score and why."""
        if not 1 <= top <= MAX_TOP:
            raise UsageError(f"top must be between 1 and {MAX_TOP}")
        acc = check_accession(accession)
        spec = kind_of_accession(acc)
        if spec is None or spec.name not in COUNTERPART:
            raise UsageError(f"{acc} is not an offer or a demand; only offers (LHOF…) and "
                             "demands (LHDM…) are matched")
        record = self.catalog.get(actor, acc)
        query = Entry(record.accession, record.kind, record.fields)
        other = COUNTERPART[record.kind]
        with self._lock:
            feats = self._reading(record).features
            index = self._index(actor, other)
        matches = index.rank(query, feats, top, today, exclude=frozenset({acc}))
        found = self.catalog.find(actor, [m.accession for m in matches])
        evidence = self._evidence(actor, [found[m.accession] for m in matches
                                          if m.accession in found and other == "offer"]
                                  + ([record] if record.kind == "offer" else []))
        rows = []
        for m in matches:
            candidate = found.get(m.accession)
            if candidate is None:  # hidden since the index was read
                continue
            offer_acc = m.accession if other == "offer" else record.accession
            rows.append({**m.to_dict(), "kind": other, "name": candidate.name,
                         "title_zh": candidate.fields.get("title_zh"),
                         "evidence": evidence.get(offer_acc, [])})
        return {"accession": record.accession, "kind": record.kind, "name": record.name,
                "candidates_kind": other, "candidates": len(index.entries),
                "matches": rows}

    def warm(self) -> None:
        """Read every public offer and demand now (about 0.7 ms each), so that the first
        match a server answers is as fast as the rest."""
        with self._lock:
            for kind in COUNTERPART:
                self._index(ANONYMOUS, kind)

    # -- readings and indexes ---------------------------------------------------------------
    def _reading(self, record: Record) -> _Read:
        kept = self._read.get(record.accession)
        if kept is None or kept.version != record.version:
            entry = Entry(record.accession, record.kind, record.fields)
            kept = _Read(record.version, entry, features(self.lexicon, entry.text))
            self._read[record.accession] = kept
        return kept

    def _index(self, actor: Actor, kind: str) -> MatchIndex:
        seen = actor.can_see_restricted
        with self.db.read() as conn:
            versions = queries.versions_of_kind(conn, kind, seen)
            stale = [acc for acc, version in versions.items()
                     if acc not in self._read or self._read[acc].version != version]
            for start in range(0, len(stale), 500):
                fresh = record_store.get_records(conn, stale[start:start + 500])
                for record in fresh.values():
                    self._reading(record)
        built = self._indexes.get((kind, seen))
        if built is not None and built[0] == versions:
            return built[1]
        entries = [self._read[acc].entry for acc in sorted(versions)
                   if acc in self._read and on_market(dict(self._read[acc].entry.fields))]
        index = MatchIndex(self.lexicon, entries,
                           {e.accession: self._read[e.accession].features for e in entries})
        self._indexes[(kind, seen)] = (versions, index)
        return index

    def _evidence(self, actor: Actor, offers: list[Record]) -> dict[str, list[dict[str, Any]]]:
        """offer -> the bank's records that stand behind it (linked evidence_for), with
        their own lineage one step up (the strain of a deposit, the sample of a strain)."""
        if not offers:
            return {}
        links = self.catalog.links_of_many(actor, offers)
        behind = {o.accession: [link.source for link in links.get(o.accession, [])
                                if link.rel == "evidence_for" and link.target == o.accession]
                  for o in offers}
        records = self.catalog.find(actor, {a for accs in behind.values() for a in accs})
        upstream = self.catalog.links_of_many(actor, list(records.values()))
        out: dict[str, list[dict[str, Any]]] = {}
        for offer, accessions in behind.items():
            rows = []
            for acc in accessions:
                rec = records.get(acc)
                if rec is None:
                    continue
                rows.append({"accession": acc, "kind": rec.kind, "name": rec.name,
                             "title": KINDS[rec.kind].title,
                             "from": [{"accession": link.source, "rel": link.rel}
                                      for link in upstream.get(acc, [])
                                      if link.target == acc and link.rel != "evidence_for"]})
            out[offer] = rows
        return out
