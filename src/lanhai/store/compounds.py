"""The compound library's store: the structures of compound records, and their fingerprint
cache in ``search/compounds.parquet`` stamped with the records' count, highest id and latest
change (a search rebuilds the cache when the stamp no longer matches)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select

from lanhai.db.schema import records
from lanhai.store.leftovers import partial_file, sweep_beside


def library_stamp(conn: Connection) -> str:
    """Changes whenever a compound record is added or changed."""
    count, top, latest = conn.execute(
        select(func.count(), func.max(records.c.id), func.max(records.c.updated_at))
        .where(records.c.kind == "compound")).one()
    return f"{count}:{top}:{latest}"


def compound_records(conn: Connection) -> Iterator[tuple[str, str, bool, dict[str, Any]]]:
    """(accession, name, restricted, fields) of every compound record, in accession order."""
    rows = conn.execute(
        select(records.c.accession, records.c.name, records.c.restricted, records.c.fields)
        .where(records.c.kind == "compound").order_by(records.c.accession))
    for accession, name, restricted, fields in rows:
        yield accession, name, bool(restricted), fields


def read_cache(path: Path, meta: Mapping[str, str]) -> dict[str, list[Any]] | None:
    """The cached columns if the file's metadata equals ``meta``, else None."""
    import pyarrow.parquet as pq

    try:
        found = pq.read_schema(path).metadata or {}
    except (FileNotFoundError, OSError):
        return None
    if any(found.get(k.encode(), b"").decode() != v for k, v in meta.items()):
        return None
    data: dict[str, list[Any]] = pq.read_table(path).to_pydict()
    return data


def write_cache(path: Path, columns: Mapping[str, list[Any]], meta: Mapping[str, str]) -> None:
    """Write the columns (fingerprint and mol as bytes) atomically, with ``meta``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    binary = {"fingerprint", "mol"}
    table = pa.table({name: pa.array(values, pa.binary()) if name in binary else values
                      for name, values in columns.items()}).replace_schema_metadata(dict(meta))
    path.parent.mkdir(parents=True, exist_ok=True)
    sweep_beside(path)  # what writers that died left
    with partial_file(path) as handle:  # locked while written (lanhai.store.leftovers)
        pq.write_table(table, handle, compression="zstd")
