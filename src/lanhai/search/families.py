"""Family search: every protein that hits a family, or a user's HMM, across the bank.

Annotation hits live in zstd Parquet per assembly (``assemblies/<ACC>/annotation/hits.parquet``,
valid only beside ``annotation.done.json``). DuckDB reads the files of the assemblies that
pass the catalogue filters, filters by family, score, e-value, pack and substrate, and each
hit is joined with its assembly's lineage context (strain, sample, depth, place, date, who
may receive the strain) taken from the catalogue. A user-supplied HMM is searched on the fly
with pyhmmer over the stored proteins of the same assemblies.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, literal, select

from lanhai.db.schema import links, records
from lanhai.errors import Problem, UsageError, ValidationFailed
from lanhai.search.catalog import LINEAGE_DEPTH, CatalogFilters, annotated_hits
from lanhai.services.catalog import Actor
from lanhai.store.sequences import SequenceStore

Progress = Callable[[int, int], None]

#: the columns a family hit carries, in output order
COLUMNS = ("assembly", "protein_id", "family", "family_accession", "pack", "category",
           "description", "evalue", "score", "ali_from", "ali_to", "hmm_from", "hmm_to",
           "coverage", "substrates", "assembly_name", "strain", "strain_name", "availability",
           "sample", "taxon", "depth_m", "latitude", "longitude", "event_date")
DEFAULT_LIMIT = 1000


@dataclass(frozen=True)
class FamilyQuery:
    """Which hits: families (names or accessions; GH16 also matches subfamily GH16_3)."""

    families: tuple[str, ...] = ()
    packs: tuple[str, ...] = ()
    substrates: tuple[str, ...] = ()
    min_score: float | None = None
    max_evalue: float | None = None
    filters: CatalogFilters = field(default_factory=CatalogFilters)
    limit: int | None = DEFAULT_LIMIT

    def __post_init__(self) -> None:
        if self.max_evalue is not None and not self.max_evalue > 0:
            raise UsageError(f"max-evalue must be above 0, got {self.max_evalue}")
        if self.limit is not None and self.limit < 1:
            raise UsageError("limit must be at least 1")


@dataclass
class FamilyResult:
    """Hits (dicts with :data:`COLUMNS`), how many there are in all, what was searched."""

    hits: list[dict[str, Any]]
    total: int
    assemblies_searched: int
    proteins_searched: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, "returned": len(self.hits),
                "assemblies_searched": self.assemblies_searched,
                "proteins_searched": self.proteins_searched, "items": self.hits}


def family_condition(families: Sequence[str], alias: str = "h"
                     ) -> tuple[str, list[Any]]:
    """A DuckDB condition matching any family by name, subfamily or Pfam-style accession."""
    parts: list[str] = []
    params: list[Any] = []
    for raw in families:
        name = raw.strip().lower()
        if not name:
            continue
        like = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        parts.append(f"(lower({alias}.family) = ? OR lower({alias}.family) LIKE ? ESCAPE '\\' "
                     f"OR lower({alias}.family_accession) = ? "
                     f"OR lower({alias}.family_accession) LIKE ? ESCAPE '\\')")
        params.extend([name, like + "\\_%", name, like + ".%"])
    if not parts:
        raise UsageError("name at least one family, e.g. GH16 or PF07980")
    return "(" + " OR ".join(parts) + ")", params


# --- lineage context ----------------------------------------------------------------------

def lineage_context(conn: Connection, accessions: Sequence[str], include_restricted: bool
                    ) -> dict[str, dict[str, Any]]:
    """For each visible assembly: its name and the nearest strain and sample upstream,
    with taxon, depth, place, date and the strain's availability."""
    wanted = sorted(set(accessions))
    rows: dict[int, Any] = {}
    start_of: dict[str, int] = {}
    for start in range(0, len(wanted), 500):
        stmt = select(records).where(records.c.accession.in_(wanted[start:start + 500]),
                                     records.c.kind == "assembly")
        if not include_restricted:
            stmt = stmt.where(records.c.restricted == literal(False))
        for row in conn.execute(stmt):
            rows[row.id] = row
            start_of[row.accession] = row.id
    # walk upwards breadth first, remembering which assembly each node was reached from
    reached: dict[int, dict[int, int]] = {i: {i: 0} for i in start_of.values()}
    frontier = {(i, i) for i in start_of.values()}
    for depth in range(1, LINEAGE_DEPTH + 1):
        if not frontier:
            break
        nodes = sorted({node for _, node in frontier})
        parents: dict[int, list[int]] = {}
        for start in range(0, len(nodes), 500):
            stmt = (select(links.c.target_id, records)
                    .join(records, records.c.id == links.c.source_id)
                    .where(links.c.target_id.in_(nodes[start:start + 500])))
            if not include_restricted:
                stmt = stmt.where(records.c.restricted == literal(False))
            for row in conn.execute(stmt):
                parents.setdefault(row.target_id, []).append(row.id)
                rows.setdefault(row.id, row)
        next_frontier = set()
        for origin, node in frontier:
            for parent in parents.get(node, ()):
                if parent not in reached[origin]:
                    reached[origin][parent] = depth
                    next_frontier.add((origin, parent))
        frontier = next_frontier
    context: dict[str, dict[str, Any]] = {}
    for accession, origin in start_of.items():
        by_depth = sorted(reached[origin].items(), key=lambda item: (item[1], item[0]))
        chain = [rows[i] for i, _ in by_depth]
        strain = next((r for r in chain if r.kind == "strain"), None)
        sample = next((r for r in chain if r.kind == "sample"), None)
        own = rows[origin]

        def first(name: str, order: Sequence[Any]) -> Any:
            return next((getattr(r, name) for r in order
                         if r is not None and getattr(r, name) is not None), None)

        places = (own, sample, strain)
        context[accession] = {
            "assembly_name": own.name,
            "strain": strain.accession if strain is not None else None,
            "strain_name": strain.name if strain is not None else None,
            "availability": (strain.fields.get("status") if strain is not None else None),
            "sample": sample.accession if sample is not None else None,
            "taxon": first("taxon", (own, strain, sample)),
            "depth_m": first("depth_m", places), "latitude": first("latitude", places),
            "longitude": first("longitude", places), "event_date": first("event_date", places),
        }
    return context


def context_matches(ctx: dict[str, Any], filters: CatalogFilters) -> bool:
    """Whether an assembly's lineage context passes the catalogue filters."""
    depth, date, taxon = ctx["depth_m"], ctx["event_date"], ctx["taxon"]
    if filters.depth_min is not None and (depth is None or depth < filters.depth_min):
        return False
    if filters.depth_max is not None and (depth is None or depth > filters.depth_max):
        return False
    if filters.date_from and (date is None or date < filters.date_from):
        return False
    if filters.date_to and (date is None or date > filters.date_to + "~"):
        return False
    if filters.taxon and (taxon is None
                          or not taxon.casefold().startswith(filters.taxon.strip().casefold())):
        return False
    if filters.available and ctx["availability"] != "available":
        return False
    box = filters.bbox
    if box is not None:
        lat, lon = ctx["latitude"], ctx["longitude"]
        if lat is None or lon is None or not box.south <= lat <= box.north:
            return False
        inside = (box.west <= lon <= box.east if box.west <= box.east
                  else lon >= box.west or lon <= box.east)
        if not inside:
            return False
    return True


def _candidates(conn: Connection, actor: Actor, accessions: Sequence[str],
                filters: CatalogFilters) -> dict[str, dict[str, Any]]:
    context = lineage_context(conn, accessions, actor.can_see_restricted)
    return {acc: ctx for acc, ctx in context.items() if context_matches(ctx, filters)}


# --- annotation hits -----------------------------------------------------------------------

def search_families(conn: Connection, actor: Actor, data_dir: Path, query: FamilyQuery
                    ) -> FamilyResult:
    """Every stored annotation hit matching ``query``, best score first."""
    import duckdb

    condition, params = family_condition(query.families)
    files = annotated_hits(data_dir)
    context = _candidates(conn, actor, list(files), query.filters)
    paths = [str(files[acc]) for acc in sorted(context)]
    if not paths:
        return FamilyResult([], 0, 0)
    where = [condition]
    if query.min_score is not None:
        where.append("h.score >= ?")
        params.append(query.min_score)
    if query.max_evalue is not None:
        where.append("h.evalue <= ?")
        params.append(query.max_evalue)
    if query.packs:
        where.append("lower(h.pack) IN (SELECT unnest(?::VARCHAR[]))")
        params.append([p.strip().lower() for p in query.packs])
    if query.substrates:
        where.append("list_has_any(list_transform(h.substrates, lambda s: lower(s)), "
                     "?::VARCHAR[])")
        params.append([s.strip().lower() for s in query.substrates])
    source = "read_parquet(?, filename = true) h"
    clause = " AND ".join(where)
    con = duckdb.connect()
    try:
        total = con.execute(f"SELECT count(*) FROM {source} WHERE {clause}",
                            [paths, *params]).fetchone()
        limit = "" if query.limit is None else f" LIMIT {int(query.limit)}"
        cursor = con.execute(
            "SELECT filename, protein_id, family, family_accession, pack, category, "
            "description, evalue, score, ali_from, ali_to, hmm_from, hmm_to, coverage, "
            f"substrates FROM {source} WHERE {clause} "
            f"ORDER BY score DESC NULLS LAST, evalue, filename, protein_id, ali_from{limit}",
            [paths, *params])
        names = [d[0] for d in cursor.description]
        found = cursor.fetchall()
    finally:
        con.close()
    by_path = {str(files[acc]): acc for acc in context}
    hits = []
    for values in found:
        row = dict(zip(names, values, strict=True))
        accession = by_path[row.pop("filename")]
        hits.append(_hit(accession, row, context[accession]))
    return FamilyResult(hits, int(total[0]) if total else 0, len(paths))


def _hit(accession: str, row: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
    merged = {"assembly": accession, **row, **ctx}
    for key in ("evalue", "score", "coverage"):
        value = merged.get(key)
        if isinstance(value, float) and math.isnan(value):
            merged[key] = None
    return {name: merged.get(name) for name in COLUMNS}


# --- a user's HMM over the stored proteins ------------------------------------------------

def read_hmms(data: bytes, source: str = "the HMM file") -> list[Any]:
    """Profile HMMs from HMMER3 text or binary data, or a usage error saying what is wrong."""
    from pyhmmer import plan7

    if not data.strip():
        raise ValidationFailed(f"{source} is empty", [Problem(
            "has no profile", "give an HMMER3 profile file (hmmbuild output)", field=source)])
    try:
        with plan7.HMMFile(io.BytesIO(data)) as hmm_file:
            hmms = list(hmm_file)
    except (ValueError, EOFError, OSError) as err:
        raise ValidationFailed(f"{source} is not an HMMER3 profile", [Problem(
            f"cannot be read: {err}"[:300],
            "give an HMMER3 profile file as written by hmmbuild (starts with 'HMMER3/f')",
            field=source)]) from None
    if not hmms:
        raise ValidationFailed(f"{source} holds no profile", [Problem(
            "has no profile", "give an HMMER3 profile file (hmmbuild output)", field=source)])
    if any(h.alphabet.type != "amino" for h in hmms):
        raise ValidationFailed(f"{source} is not a protein profile", [Problem(
            "is a nucleotide profile", "give a protein HMM; the bank searches proteins",
            field=source)])
    return hmms


def search_hmm(conn: Connection, actor: Actor, data_dir: Path, hmm_data: bytes,
               query: FamilyQuery = FamilyQuery(), *, threads: int = 1,
               progress: Progress | None = None, source: str = "the HMM file"
               ) -> FamilyResult:
    """Search profile HMMs with pyhmmer over the stored proteins of every visible assembly
    that passes the catalogue filters. E-values use Z = the number of proteins searched,
    as ``hmmsearch -Z N`` does. ``query.families`` is ignored: the HMMs are the families.
    ``threads`` is pyhmmer's ``cpus`` (0: all cores).
    """
    import pyarrow.parquet as pq
    import pyhmmer
    from pyhmmer import easel

    hmms = read_hmms(hmm_data, source)
    store = SequenceStore(data_dir)
    accessions = sorted(_assemblies_with_proteins(store))
    context = _candidates(conn, actor, accessions, query.filters)
    tables = {acc: path for acc in sorted(context)
              if (path := store.table_path(acc, "proteins")) is not None}
    total = sum(pq.ParquetFile(p).metadata.num_rows for p in tables.values())
    if total == 0:
        return FamilyResult([], 0, len(tables), 0)
    alphabet = easel.Alphabet.amino()
    hits: list[dict[str, Any]] = []
    for number, (accession, _) in enumerate(tables.items(), 1):
        block = easel.TextSequenceBlock(
            easel.TextSequence(name=pid, sequence=_clean(seq))
            for pid, seq in _protein_rows(store, accession)).digitize(alphabet)
        options: dict[str, Any] = {"Z": total, "E": query.max_evalue or 10.0}
        if query.min_score is not None:
            options["T"] = query.min_score
        for hmm, tops in zip(hmms, pyhmmer.hmmsearch(hmms, block, cpus=threads, **options),
                             strict=True):
            for top in tops:
                if not top.reported:
                    continue
                domain = top.best_domain.alignment
                row = {"protein_id": top.name, "family": hmm.name,
                       "family_accession": hmm.accession, "pack": "user",
                       "category": "user HMM", "description": hmm.description,
                       "evalue": float(top.evalue), "score": round(float(top.score), 1),
                       "ali_from": domain.target_from, "ali_to": domain.target_to,
                       "hmm_from": domain.hmm_from, "hmm_to": domain.hmm_to,
                       "coverage": round((domain.hmm_to - domain.hmm_from + 1) / hmm.M, 3),
                       "substrates": []}
                hits.append(_hit(accession, row, context[accession]))
        if progress is not None:
            progress(number, len(tables))
    hits.sort(key=lambda h: (-h["score"], h["evalue"], h["assembly"], h["protein_id"]))
    limited = hits if query.limit is None else hits[:query.limit]
    return FamilyResult(limited, len(hits), len(tables), total)


def _clean(sequence: str) -> str:
    # stop codons ('*') inside translated proteins are not amino acids HMMER knows
    return sequence.replace("*", "")


def _assemblies_with_proteins(store: SequenceStore) -> list[str]:
    try:
        return [p.name for p in store.root.iterdir()
                if p.is_dir() and not p.name.startswith(".")]
    except FileNotFoundError:
        return []


def _protein_rows(store: SequenceStore, accession: str) -> Iterator[tuple[str, str]]:
    for row in store.iter_rows(accession, "proteins", columns=["id", "sequence"]):
        yield row["id"], row["sequence"]


# --- sequences of hits ---------------------------------------------------------------------

def hit_sequences(data_dir: Path, hits: Sequence[dict[str, Any]]
                  ) -> Iterator[tuple[str, str]]:
    """(FASTA header, sequence) of each distinct hit protein, in hit order."""
    import duckdb

    store = SequenceStore(data_dir)
    wanted: dict[str, list[str]] = {}
    for hit in hits:
        ids = wanted.setdefault(hit["assembly"], [])
        if hit["protein_id"] not in ids:
            ids.append(hit["protein_id"])
    found: dict[tuple[str, str], str] = {}
    con = duckdb.connect()
    try:
        for accession, ids in wanted.items():
            path = store.table_path(accession, "proteins")
            if path is None:
                continue
            for pid, seq in con.execute(
                    "SELECT id, sequence FROM read_parquet(?) "
                    "WHERE id IN (SELECT unnest(?::VARCHAR[]))", [str(path), ids]).fetchall():
                found[(accession, pid)] = seq
    finally:
        con.close()
    done: set[tuple[str, str]] = set()
    for hit in hits:
        key = (hit["assembly"], hit["protein_id"])
        if key in done or key not in found:
            continue
        done.add(key)
        families = sorted({h["family"] for h in hits
                           if (h["assembly"], h["protein_id"]) == key and h["family"]})
        header = f"{hit['protein_id']} assembly={hit['assembly']} families={','.join(families)}"
        if hit.get("strain"):
            header += f" strain={hit['strain']}"
        yield header, found[key]


def hit_genbank(data_dir: Path, hits: Sequence[dict[str, Any]]) -> Iterator[str]:
    """GenBank (GenPept-style) text of each distinct hit protein: its domain hits as Region
    features and, on the source feature, the assembly, strain, sample, place, depth, date."""
    from lanhai.sequence.genbank import protein_record

    by_protein: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for hit in hits:
        by_protein.setdefault((hit["assembly"], hit["protein_id"]), []).append(hit)
    for header, sequence in hit_sequences(data_dir, hits):
        protein_id, assembly = header.split(" ")[0], header.split("assembly=")[1].split()[0]
        found = by_protein[(assembly, protein_id)]
        first = found[0]
        lat, lon = first.get("latitude"), first.get("longitude")
        where = [f"assembly {assembly}"] + [
            f"{label} {first[key]}" for key, label in (
                ("strain", "strain"), ("sample", "sample"), ("depth_m", "depth (m)"))
            if first.get(key) is not None]
        source = {
            "description": f"{protein_id} from {first.get('assembly_name') or assembly}",
            "organism": str(first.get("taxon") or "unknown"),
            "strain": str(first.get("strain_name") or ""),
            "lat_lon": _lat_lon(lat, lon),
            "collection_date": str(first.get("event_date") or ""),
            "note": "; ".join(where)}
        yield protein_record(protein_id, sequence, found, source)


def _lat_lon(lat: Any, lon: Any) -> str:
    """INSDC /lat_lon ('12.5 N 45.25 W'), or '' when unknown."""
    if lat is None or lon is None:
        return ""
    return (f"{abs(float(lat)):g} {'N' if float(lat) >= 0 else 'S'} "
            f"{abs(float(lon)):g} {'E' if float(lon) >= 0 else 'W'}")


__all__ = ["COLUMNS", "FamilyQuery", "FamilyResult", "context_matches", "family_condition",
           "hit_genbank", "hit_sequences", "lineage_context", "read_hmms", "search_families",
           "search_hmm"]
