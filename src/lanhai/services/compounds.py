"""Compound search with RDKit: exact (InChIKey), substructure (SMARTS/SMILES), similarity.

Structures come from the compound records (RDKit canonical SMILES and InChIKey, computed
when a record is stored). Morgan fingerprints (radius 2, 2048 bits) and RDKit's binary
molecules are cached on disk (:mod:`lanhai.store.compounds`) and in memory, stamped with the
compound records' count, highest id and latest change, so a query over the library never
re-parses every SMILES. Glycans stored only as WURCS have no SMILES and take no part in
structure search.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lanhai.errors import Problem, UsageError, ValidationFailed
from lanhai.search.compounds import (
    BITS,
    INCHIKEY,
    RADIUS,
    Entry,
    Library,
    fingerprint,
    inchikey_of_smiles,
    parse_smarts,
    parse_smiles,
)
from lanhai.services.access import Actor
from lanhai.store import compounds as store
from lanhai.store.database import Database

DEFAULT_THRESHOLD = 0.7
DEFAULT_LIMIT = 100


@dataclass(frozen=True)
class CompoundHit:
    accession: str
    name: str
    inchikey: str
    canonical_smiles: str
    similarity: float | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"accession": self.accession, "name": self.name,
                                "inchikey": self.inchikey,
                                "canonical_smiles": self.canonical_smiles}
        if self.similarity is not None:
            data["similarity"] = self.similarity
        return data


def _hit(entry: Entry, similarity: float | None = None) -> CompoundHit:
    return CompoundHit(entry.accession, entry.name, entry.inchikey, entry.smiles, similarity)


class CompoundService:
    """Structure searches over one bank's compound records."""

    def __init__(self, db: Database, cache: Path) -> None:
        self.db = db
        self.cache = cache
        self._library: Library | None = None
        self._lock = threading.Lock()

    def library(self) -> Library:
        """The bank's compound library, from memory, the cache file, or rebuilt."""
        with self.db.read() as conn:
            stamp = store.library_stamp(conn)
            meta = {"stamp": stamp, "radius": str(RADIUS), "bits": str(BITS)}
            with self._lock:
                if self._library is not None and self._library.stamp == stamp:
                    return self._library
                columns = store.read_cache(self.cache, meta)
                if columns is not None:
                    library = Library.from_columns(stamp, columns)
                else:
                    library = Library.build(stamp, store.compound_records(conn))
                    store.write_cache(self.cache, library.to_columns(), meta)
                self._library = library
                return library

    def forget(self) -> None:
        """Drop the library kept in memory (the next search reads the cache file)."""
        with self._lock:
            self._library = None

    def exact(self, actor: Actor, *, inchikey: str | None = None, smiles: str | None = None
              ) -> list[CompoundHit]:
        """Compounds with this InChIKey (or the InChIKey of this SMILES)."""
        if (inchikey is None) == (smiles is None):
            raise UsageError("give either an InChIKey or a SMILES for an exact search")
        key = (inchikey.strip().upper() if inchikey is not None
               else inchikey_of_smiles(str(smiles)))
        if not INCHIKEY.match(key):
            raise ValidationFailed(f"{inchikey!r} is not an InChIKey", [Problem(
                "is not 14-10-1 upper-case letters", "e.g. BSYNRYMUTXBXSQ-UHFFFAOYSA-N",
                field="inchikey", value=inchikey)])
        library = self.library()
        return [_hit(library.entries[i])
                for i in library.positions(actor.can_see_restricted)
                if library.entries[i].inchikey == key]

    def substructure(self, actor: Actor, pattern: str, *, smiles: bool = False,
                     limit: int | None = DEFAULT_LIMIT) -> tuple[list[CompoundHit], int]:
        """Compounds containing the SMARTS pattern (or the SMILES, if ``smiles``);
        (hits, total)."""
        query = parse_smiles(pattern, "substructure") if smiles else parse_smarts(pattern)
        library = self.library()
        found = [_hit(library.entries[i]) for i in library.positions(actor.can_see_restricted)
                 if library.mols[i].HasSubstructMatch(query)]
        return (found if limit is None else found[:limit]), len(found)

    def similar(self, actor: Actor, smiles: str, *, threshold: float = DEFAULT_THRESHOLD,
                limit: int | None = DEFAULT_LIMIT) -> tuple[list[CompoundHit], int]:
        """Compounds whose Morgan fingerprint has Tanimoto >= ``threshold`` with the
        query's, most similar first; (hits, total)."""
        from rdkit import DataStructs

        if not 0.0 <= threshold <= 1.0:
            raise UsageError(f"threshold must be between 0 and 1, got {threshold}")
        query = fingerprint(parse_smiles(smiles, "similar"))
        library = self.library()
        visible = library.positions(actor.can_see_restricted)
        scores = DataStructs.BulkTanimotoSimilarity(query, [library.fingerprints[i]
                                                            for i in visible])
        ranked = sorted(((s, library.entries[i]) for s, i in zip(scores, visible, strict=True)
                         if s >= threshold), key=lambda item: (-item[0], item[1].accession))
        found = [_hit(entry, round(score, 4)) for score, entry in ranked]
        return (found if limit is None else found[:limit]), len(found)


__all__ = ["DEFAULT_LIMIT", "DEFAULT_THRESHOLD", "CompoundHit", "CompoundService"]
