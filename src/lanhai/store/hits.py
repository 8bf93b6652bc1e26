"""DuckDB reads over the annotation hit tables (``assemblies/<ACC>/annotation/hits.parquet``)
and the protein tables beside them: family hits across many assemblies, per-assembly family
summaries, the sequences of chosen proteins. DuckDB reads the Parquet files in place and
needs no extension."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lanhai.search.filters import FamilyQuery, family_names
from lanhai.store.sequences import SequenceStore

#: the hit columns a family search returns, in order
HIT_FIELDS = ("protein_id", "family", "family_accession", "pack", "category", "description",
              "evalue", "score", "ali_from", "ali_to", "hmm_from", "hmm_to", "coverage",
              "substrates")


def family_condition(families: Sequence[str], alias: str = "h") -> tuple[str, list[Any]]:
    """A DuckDB condition matching any family by name, subfamily or Pfam-style accession."""
    parts: list[str] = []
    params: list[Any] = []
    for name in family_names(list(families)):
        like = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        parts.append(f"(lower({alias}.family) = ? OR lower({alias}.family) LIKE ? ESCAPE '\\' "
                     f"OR lower({alias}.family_accession) = ? "
                     f"OR lower({alias}.family_accession) LIKE ? ESCAPE '\\')")
        params.extend([name, like + "\\_%", name, like + ".%"])
    return "(" + " OR ".join(parts) + ")", params


def assemblies_with_family(files: Mapping[str, Path], families: Sequence[str]) -> set[str]:
    """Those of the assemblies (accession -> hits table) with a hit to any of ``families``."""
    if not files or not families:
        return set()
    import duckdb

    condition, params = family_condition(families)
    con = duckdb.connect()
    try:
        rows = con.execute(
            "SELECT DISTINCT filename FROM read_parquet(?, filename = true) h "
            f"WHERE {condition}", [[str(p) for p in files.values()], *params]).fetchall()
    finally:
        con.close()
    by_path = {str(p): acc for acc, p in files.items()}
    return {by_path[r[0]] for r in rows if r[0] in by_path}


def family_hits(files: Mapping[str, Path], query: FamilyQuery
                ) -> tuple[list[tuple[str, dict[str, Any]]], int]:
    """(assembly, hit) of every hit in ``files`` matching the query, best score first (at
    most ``query.limit``), and how many match in all."""
    import duckdb

    paths = [str(p) for p in files.values()]
    if not paths:
        return [], 0
    where: list[str] = []
    params: list[Any] = []
    if any(f.strip() for f in query.families):
        condition, params = family_condition(query.families)
        where.append(condition)
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
            f"SELECT filename, {', '.join(HIT_FIELDS)} FROM {source} WHERE {clause} "
            f"ORDER BY score DESC NULLS LAST, evalue, filename, protein_id, ali_from{limit}",
            [paths, *params])
        names = [d[0] for d in cursor.description]
        found = cursor.fetchall()
    finally:
        con.close()
    by_path = {str(p): acc for acc, p in files.items()}
    hits = []
    for values in found:
        row = dict(zip(names, values, strict=True))
        hits.append((by_path[row.pop("filename")], row))
    return hits, int(total[0]) if total else 0


def family_summary(path: Path) -> list[dict[str, Any]]:
    """One row per (pack, family) of one hits table: proteins, domains, best E-value."""
    import duckdb

    with duckdb.connect() as conn:
        result = conn.execute(
            "select pack, category, family, any_value(family_accession), "
            "any_value(description), count(distinct protein_id), count(*), min(evalue), "
            "any_value(substrates) from read_parquet(?) group by pack, category, family "
            "order by pack, count(distinct protein_id) desc, family", [str(path)])
        names = ("pack", "category", "family", "family_accession", "description",
                 "proteins", "domains", "best_evalue", "substrates")
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def protein_sequences(store: SequenceStore, wanted: Mapping[str, Sequence[str]]
                      ) -> dict[tuple[str, str], str]:
    """(assembly, protein id) -> sequence, for the proteins asked of each assembly."""
    import duckdb

    found: dict[tuple[str, str], str] = {}
    con = duckdb.connect()
    try:
        for accession, ids in wanted.items():
            path = store.table_path(accession, "proteins")
            if path is None:
                continue
            for pid, seq in con.execute(
                    "SELECT id, sequence FROM read_parquet(?) "
                    "WHERE id IN (SELECT unnest(?::VARCHAR[]))",
                    [str(path), list(ids)]).fetchall():
                found[(accession, pid)] = seq
    finally:
        con.close()
    return found


def rows_where(store: SequenceStore, accession: str, table: str, column: str,
               values: Sequence[Any], columns: Sequence[str] | None = None
               ) -> list[dict[str, Any]]:
    """Rows of one stored table whose ``column`` is one of ``values`` (read with the
    filter pushed into the Parquet reader, so a lookup in a large table reads only the row
    groups that may hold them); [] when the table does not exist."""
    import pyarrow.parquet as pq

    path = store.table_path(accession, table)
    if path is None or not values:
        return []
    found = pq.read_table(path, columns=list(columns) if columns else None,
                          filters=[(column, "in", list(values))])
    return list(found.to_pylist())


def column_values(store: SequenceStore, accession: str, table: str, column: str) -> list[Any]:
    """One column of a stored table, in file order ([] when it does not exist)."""
    import pyarrow.parquet as pq

    path = store.table_path(accession, table)
    if path is None:
        return []
    return list(pq.read_table(path, columns=[column]).column(column).to_pylist())
