"""Compound search with RDKit: exact (InChIKey), substructure (SMARTS/SMILES), similarity.

Structures come from the compound records (RDKit canonical SMILES and InChIKey, computed
when a record is stored). Morgan fingerprints (radius 2, 2048 bits) and RDKit's binary
molecules are cached in ``LANHAI_DATA_DIR/search/compounds.parquet``, stamped with the
compound records' count, highest id and latest change; a search rebuilds the cache when the
stamp no longer matches, so a query over the library never re-parses every SMILES. Glycans
stored only as WURCS have no SMILES and take no part in structure search.
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select

from lanhai.db.schema import records
from lanhai.errors import Problem, UsageError, ValidationFailed
from lanhai.services.catalog import Actor

RADIUS = 2
BITS = 2048
CACHE_FILE = Path("search") / "compounds.parquet"
INCHIKEY = re.compile(r"^[A-Z]{14}-[A-Z]{10}-[A-Z]$")
DEFAULT_THRESHOLD = 0.7
DEFAULT_LIMIT = 100


@dataclass(frozen=True)
class Entry:
    accession: str
    name: str
    restricted: bool
    inchikey: str
    smiles: str


@dataclass
class Library:
    """The compound structures of a bank, with fingerprints and molecules, in accession order."""

    stamp: str
    entries: list[Entry]
    fingerprints: list[Any]
    mols: list[Any]

    def visible(self, actor: Actor) -> list[int]:
        return [i for i, e in enumerate(self.entries)
                if not e.restricted or actor.can_see_restricted]


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


def _quiet() -> None:
    from rdkit import RDLogger

    RDLogger.DisableLog("rdApp.*")  # type: ignore[attr-defined]


def fingerprint(mol: Any) -> Any:
    """Morgan fingerprint, radius 2, 2048 bits (RDKit's generator; ECFP4-like)."""
    from rdkit.Chem import rdFingerprintGenerator

    generator = rdFingerprintGenerator.GetMorganGenerator(radius=RADIUS, fpSize=BITS)
    return generator.GetFingerprint(mol)


def parse_smiles(smiles: str, what: str = "smiles") -> Any:
    from rdkit import Chem

    _quiet()
    mol = Chem.MolFromSmiles(smiles.strip()) if smiles.strip() else None
    if mol is None or mol.GetNumAtoms() == 0:
        raise ValidationFailed(f"cannot read the {what} {smiles!r}", [Problem(
            "is not a SMILES string RDKit can parse",
            "check ring closures, brackets and valences (e.g. 'CC(=O)Oc1ccccc1C(=O)O')",
            field=what, value=smiles)])
    return mol


def inchikey_of_smiles(smiles: str) -> str:
    """The InChIKey RDKit computes for a SMILES (as the compound records store it)."""
    from rdkit import Chem

    key: str = Chem.MolToInchiKey(parse_smiles(smiles))  # type: ignore[no-untyped-call]
    if not key:
        raise ValidationFailed(f"no InChIKey for {smiles!r}", [Problem(
            "RDKit could not build an InChI", "check the structure", field="smiles",
            value=smiles)])
    return key


# --- the cache -----------------------------------------------------------------------------

_MEMO: dict[str, Library] = {}
_LOCK = threading.Lock()


def library_stamp(conn: Connection) -> str:
    """Changes whenever a compound record is added or changed."""
    count, top, latest = conn.execute(
        select(func.count(), func.max(records.c.id), func.max(records.c.updated_at))
        .where(records.c.kind == "compound")).one()
    return f"{count}:{top}:{latest}"


def load_library(conn: Connection, data_dir: Path) -> Library:
    """The bank's compound library, from memory, the cache file, or rebuilt."""
    stamp = library_stamp(conn)
    path = Path(data_dir) / CACHE_FILE
    key = str(path.resolve())
    with _LOCK:
        cached = _MEMO.get(key)
        if cached is not None and cached.stamp == stamp:
            return cached
        library = _read_cache(path, stamp)
        if library is None:
            library = _build(conn, stamp)
            _write_cache(path, library)
        _MEMO[key] = library
        return library


def _build(conn: Connection, stamp: str) -> Library:
    from rdkit import Chem

    _quiet()
    entries, fps, mols = [], [], []
    rows = conn.execute(
        select(records.c.accession, records.c.name, records.c.restricted, records.c.fields)
        .where(records.c.kind == "compound").order_by(records.c.accession))
    for accession, name, restricted, fields in rows:
        smiles, key = fields.get("canonical_smiles"), fields.get("inchikey")
        if not smiles or not key:
            continue
        mol = Chem.MolFromSmiles(smiles)
        if mol is None:
            continue
        entries.append(Entry(accession, name, bool(restricted), key, smiles))
        fps.append(fingerprint(mol))
        mols.append(mol)
    return Library(stamp, entries, fps, mols)


def _write_cache(path: Path, library: Library) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({
        "accession": [e.accession for e in library.entries],
        "name": [e.name for e in library.entries],
        "restricted": [e.restricted for e in library.entries],
        "inchikey": [e.inchikey for e in library.entries],
        "smiles": [e.smiles for e in library.entries],
        "fingerprint": pa.array([fp.ToBinary() for fp in library.fingerprints], pa.binary()),
        "mol": pa.array([m.ToBinary() for m in library.mols], pa.binary()),
    }).replace_schema_metadata({"stamp": library.stamp, "radius": str(RADIUS),
                                "bits": str(BITS)})
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    try:
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _read_cache(path: Path, stamp: str) -> Library | None:
    import pyarrow.parquet as pq
    from rdkit import Chem, DataStructs

    try:
        meta = pq.read_schema(path).metadata or {}
    except (FileNotFoundError, OSError):
        return None
    if (meta.get(b"stamp", b"").decode() != stamp or meta.get(b"bits") != str(BITS).encode()
            or meta.get(b"radius") != str(RADIUS).encode()):
        return None
    data = pq.read_table(path).to_pydict()
    entries = [Entry(*values) for values in zip(
        data["accession"], data["name"], data["restricted"], data["inchikey"], data["smiles"],
        strict=True)]
    fps = [DataStructs.ExplicitBitVect(raw) for raw in data["fingerprint"]]
    mols = [Chem.Mol(raw) for raw in data["mol"]]
    return Library(stamp, entries, fps, mols)


# --- searches ------------------------------------------------------------------------------

def _hit(entry: Entry, similarity: float | None = None) -> CompoundHit:
    return CompoundHit(entry.accession, entry.name, entry.inchikey, entry.smiles, similarity)


def search_exact(conn: Connection, actor: Actor, data_dir: Path, *,
                 inchikey: str | None = None, smiles: str | None = None) -> list[CompoundHit]:
    """Compounds with this InChIKey (or the InChIKey of this SMILES)."""
    if (inchikey is None) == (smiles is None):
        raise UsageError("give either an InChIKey or a SMILES for an exact search")
    key = inchikey.strip().upper() if inchikey is not None else inchikey_of_smiles(str(smiles))
    if not INCHIKEY.match(key):
        raise ValidationFailed(f"{inchikey!r} is not an InChIKey", [Problem(
            "is not 14-10-1 upper-case letters", "e.g. BSYNRYMUTXBXSQ-UHFFFAOYSA-N",
            field="inchikey", value=inchikey)])
    library = load_library(conn, data_dir)
    return [_hit(library.entries[i]) for i in library.visible(actor)
            if library.entries[i].inchikey == key]


def search_substructure(conn: Connection, actor: Actor, data_dir: Path, pattern: str, *,
                        smiles: bool = False, limit: int | None = DEFAULT_LIMIT
                        ) -> tuple[list[CompoundHit], int]:
    """Compounds containing the SMARTS pattern (or the SMILES, if ``smiles``); (hits, total)."""
    from rdkit import Chem

    _quiet()
    if smiles:
        query = parse_smiles(pattern, "substructure")
    else:
        query = Chem.MolFromSmarts(pattern.strip()) if pattern.strip() else None
        if query is None:
            raise ValidationFailed(f"cannot read the SMARTS {pattern!r}", [Problem(
                "is not a SMARTS pattern RDKit can parse",
                "check brackets and atom primitives (e.g. 'c1ccccc1C(=O)[OX2H1]'); "
                "give a SMILES with --substructure instead", field="smarts", value=pattern)])
    library = load_library(conn, data_dir)
    found = [_hit(library.entries[i]) for i in library.visible(actor)
             if library.mols[i].HasSubstructMatch(query)]
    return (found if limit is None else found[:limit]), len(found)


def search_similar(conn: Connection, actor: Actor, data_dir: Path, smiles: str, *,
                   threshold: float = DEFAULT_THRESHOLD, limit: int | None = DEFAULT_LIMIT
                   ) -> tuple[list[CompoundHit], int]:
    """Compounds whose Morgan fingerprint has Tanimoto >= ``threshold`` with the query's,
    most similar first; (hits, total)."""
    from rdkit import DataStructs

    if not 0.0 <= threshold <= 1.0:
        raise UsageError(f"threshold must be between 0 and 1, got {threshold}")
    query = fingerprint(parse_smiles(smiles, "similar"))
    library = load_library(conn, data_dir)
    visible = library.visible(actor)
    scores = DataStructs.BulkTanimotoSimilarity(query, [library.fingerprints[i]
                                                        for i in visible])
    ranked = sorted(((s, library.entries[i]) for s, i in zip(scores, visible, strict=True)
                     if s >= threshold), key=lambda item: (-item[0], item[1].accession))
    found = [_hit(entry, round(score, 4)) for score, entry in ranked]
    return (found if limit is None else found[:limit]), len(found)


def hits_to_dicts(hits: Sequence[CompoundHit]) -> list[dict[str, Any]]:
    return [h.to_dict() for h in hits]


__all__ = ["BITS", "RADIUS", "CompoundHit", "fingerprint", "inchikey_of_smiles",
           "library_stamp", "load_library", "search_exact", "search_similar",
           "search_substructure"]
