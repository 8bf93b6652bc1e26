"""Compound screening's tables and files: assays, their results, trained models (SQL and
the model files; the rules are :mod:`lanhai.services.screening`).

A model's bytes are written under ``models/<SHA-256>.model`` (atomically, named by their
hash) before its row is inserted, so a model whose row exists always has its file; a file
whose row was never written (a training killed between the two) is an unused leftover that
no listing shows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from lanhai.db.schema import assay_results, assays, screening_models
from lanhai.store.content import content_path, read_content, write_content
from lanhai.store.records import as_utc

#: an assay's columns its owner sets
ASSAY_FIELDS = ("name", "target", "endpoint", "description", "restricted")
#: a result's stored columns, in the order of :func:`results`
RESULT_COLUMNS = ("line", "file_sha256", "compound_key", "compound", "endpoint", "data")


@dataclass(frozen=True)
class Assay:
    """An assay as stored."""

    key: str
    name: str
    target: str
    endpoint: str
    description: str
    restricted: bool
    data_hash: str
    result_count: int
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "name": self.name, "target": self.target,
                "endpoint": self.endpoint, "description": self.description,
                "restricted": self.restricted, "data_hash": self.data_hash,
                "result_count": self.result_count, "created_by": self.created_by,
                "created_at": self.created_at.isoformat(),
                "updated_at": self.updated_at.isoformat(), "version": self.version}


@dataclass(frozen=True)
class ModelRow:
    """A trained model's registration."""

    key: str
    assay: str
    version: int
    algorithm: str
    task: str
    target: dict[str, Any]
    data_hash: str
    digest: str
    size: int
    training_size: int
    validation: dict[str, Any]
    about: dict[str, Any]
    restricted: bool
    created_by: str
    created_at: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "assay": self.assay, "version": self.version,
                "algorithm": self.algorithm, "task": self.task, "target": self.target,
                "data_hash": self.data_hash, "digest": self.digest, "size": self.size,
                "training_size": self.training_size, "validation": self.validation,
                "about": self.about, "restricted": self.restricted,
                "created_by": self.created_by, "created_at": self.created_at.isoformat()}


def _assay(row: Any) -> Assay:
    return Assay(row.key, row.name, row.target or "", row.endpoint or "",
                 row.description or "", bool(row.restricted), row.data_hash or "",
                 int(row.result_count or 0), row.created_by, as_utc(row.created_at),
                 as_utc(row.updated_at), int(row.version))


def _model(row: Any) -> ModelRow:
    return ModelRow(row.key, row.assay, int(row.version), row.algorithm, row.task,
                    dict(row.target), row.data_hash, row.digest, int(row.size),
                    int(row.training_size), dict(row.validation), dict(row.about),
                    bool(row.restricted), row.created_by, as_utc(row.created_at))


# -- assays ------------------------------------------------------------------------------------
def get_assay(conn: Connection, key: str, *, for_update: bool = False) -> Assay | None:
    query = select(assays).where(assays.c.key == key)
    row = conn.execute(query.with_for_update() if for_update else query).first()
    return _assay(row) if row is not None else None


def list_assays(conn: Connection, *, restricted: bool) -> list[Assay]:
    """Every assay (``restricted``: confidential ones too), by key."""
    query = select(assays).order_by(assays.c.key)
    if not restricted:
        query = query.where(assays.c.restricted.is_(False))
    return [_assay(row) for row in conn.execute(query)]


def insert_assay(conn: Connection, key: str, values: Mapping[str, Any], actor: str,
                 at: dt.datetime) -> None:
    conn.execute(insert(assays).values(
        key=key, **{k: values[k] for k in ASSAY_FIELDS if k in values}, data_hash="",
        result_count=0, created_by=actor, created_at=at, updated_at=at, version=1))


def update_assay(conn: Connection, assay: Assay, values: Mapping[str, Any],
                 at: dt.datetime) -> int:
    """Set ``values`` (assay fields, data_hash, result_count); the new version."""
    conn.execute(update(assays).where(assays.c.key == assay.key).values(
        **values, updated_at=at, version=assay.version + 1))
    return assay.version + 1


def replace_results(conn: Connection, key: str, rows: Iterable[Mapping[str, Any]],
                    *, keep: bool) -> None:
    """Store ``rows`` as the assay's results (after the ones it has, with ``keep``)."""
    if not keep:
        conn.execute(delete(assay_results).where(assay_results.c.assay == key))
    batch = [{"assay": key, **{c: row.get(c) for c in RESULT_COLUMNS}} for row in rows]
    if batch:
        conn.execute(insert(assay_results), batch)


def results(conn: Connection, key: str) -> list[dict[str, Any]]:
    """The assay's results in the order they were imported."""
    rows = conn.execute(select(*(assay_results.c[c] for c in RESULT_COLUMNS))
                        .where(assay_results.c.assay == key).order_by(assay_results.c.id))
    return [dict(zip(RESULT_COLUMNS, row, strict=True)) for row in rows]


def results_hash(rows: Sequence[Mapping[str, Any]]) -> str:
    """SHA-256 over the results' values, whatever order or file they came in."""
    lines = sorted(json.dumps({k: v for k, v in row["data"].items() if k != "row"},
                              sort_keys=True, ensure_ascii=False) for row in rows)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def imported_files(conn: Connection, key: str) -> set[str]:
    """The SHA-256 of every file whose rows the assay holds."""
    return set(conn.execute(select(assay_results.c.file_sha256).distinct()
                            .where(assay_results.c.assay == key)).scalars())


# -- models ------------------------------------------------------------------------------------
def next_version(conn: Connection, assay: str) -> int:
    top = conn.execute(select(func.max(screening_models.c.version))
                       .where(screening_models.c.assay == assay)).scalar()
    return int(top or 0) + 1


def insert_model(conn: Connection, model: ModelRow) -> None:
    conn.execute(insert(screening_models).values(
        key=model.key, assay=model.assay, version=model.version, algorithm=model.algorithm,
        task=model.task, target=model.target, data_hash=model.data_hash, digest=model.digest,
        size=model.size, training_size=model.training_size, validation=model.validation,
        about=model.about, restricted=model.restricted, created_by=model.created_by,
        created_at=model.created_at))


def get_model(conn: Connection, key: str) -> ModelRow | None:
    row = conn.execute(select(screening_models).where(screening_models.c.key == key)).first()
    return _model(row) if row is not None else None


def list_models(conn: Connection, *, assay: str | None = None,
                restricted: bool) -> list[ModelRow]:
    """Models (of one assay), newest version first within an assay."""
    query = select(screening_models).order_by(screening_models.c.assay,
                                              screening_models.c.version.desc())
    if assay is not None:
        query = query.where(screening_models.c.assay == assay)
    if not restricted:
        query = query.where(screening_models.c.restricted.is_(False))
    return [_model(row) for row in conn.execute(query)]


def model_file(folder: Path, digest: str) -> Path:
    return content_path(folder, digest, ".model")


def write_model_file(folder: Path, data: bytes) -> str:
    """Write a model's bytes under their SHA-256 (atomically); the digest."""
    return write_content(folder, data, ".model")


def read_model_file(folder: Path, digest: str) -> bytes | None:
    """A model's bytes, or None when its file is missing or does not match its digest."""
    return read_content(folder, digest, ".model")


def restrict_models(conn: Connection, assay: str, restricted: bool) -> None:
    """A model is as confidential as the assay it was trained on."""
    conn.execute(update(screening_models).where(screening_models.c.assay == assay)
                 .values(restricted=restricted))
