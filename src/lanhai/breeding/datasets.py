"""Imported breeding datasets: named folders under ``LANHAI_DATA_DIR/breeding/``.

Each folder holds the checked genotypes, pedigree and phenotypes and a ``meta.json`` manifest:
who imported it and when, where the files came from, what it holds, whether it is published,
and the germplasm lines it covers (accession → number of animals). The manifest is how a
germplasm record finds its breeding datasets (:func:`list_datasets` with ``germplasm=``); no
catalog table is needed, so a dataset never half-exists in one store and not the other.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from lanhai.breeding.data import Dataset
from lanhai.breeding.germplasm import Lookup, check_germplasm, linked_lines
from lanhai.breeding.pipeline import dataset_counts, save_dataset
from lanhai.breeding.validate import check_genotypes
from lanhai.errors import NotFound, Problem, UsageError

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def root(data_dir: Path) -> Path:
    """Where a bank keeps its breeding datasets."""
    return Path(data_dir) / "breeding"


def folder(data_dir: Path, name: str) -> Path:
    """The folder of dataset ``name`` (a usage error for a name that is not safe)."""
    if not NAME.fullmatch(name or ""):
        raise UsageError("bad dataset name", [Problem(
            reason="a dataset name is 1-64 letters, digits, _ . - (starting with a letter "
                   "or digit)", value=name, field="name", fix="e.g. fish2024 or Lc-G3")])
    return root(data_dir) / name


def import_dataset(data_dir: Path, name: str, data: Dataset, *, lookup: Lookup | None,
                   germplasm: str | None = None, dosage: bool = False,
                   sources: dict[str, str] | None = None, published: bool = False,
                   replace: bool = False, dry_run: bool = False,
                   created_by: str = "") -> dict[str, Any]:
    """Check a loaded dataset (genotypes, germplasm accessions against the catalog) and
    store it as ``name``; with ``dry_run`` check and count only.

    ``lookup`` is needed when the data name any germplasm accession (see
    :func:`lanhai.breeding.germplasm.catalog_lookup`).
    """
    target = folder(data_dir, name)
    if not (data.genotypes or data.pedigree or data.phenotypes):
        raise UsageError("nothing to import", [Problem(
            reason="give genotypes, a pedigree and/or phenotypes")])
    if data.genotypes is not None:
        check_genotypes(data.genotypes, dosage=dosage)
    if lookup is None:
        lines = linked_lines(data, germplasm)
        if lines:
            raise UsageError("germplasm accessions need the catalog", [Problem(
                reason="the data name germplasm accessions but no catalog is open",
                fix="run `lanhai init` to create the bank, then import again")])
    else:
        lines = check_germplasm(data, lookup, germplasm)
    counts = dataset_counts(data)
    body: dict[str, Any] = {"dataset": name, "counts": counts, "germplasm": lines,
                            "published": published}
    if dry_run:
        if target.exists() and not replace:
            body["note"] = f"a dataset named {name!r} exists: importing needs replace"
        return {**body, "dry_run": True}
    meta = {"name": name, "sources": sources or {}, "published": published,
            "germplasm": lines, "created_by": created_by,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    save_dataset(data, target, meta, replace=replace)
    return {**body, "path": str(target), "created_by": created_by,
            "created_at": meta["created_at"]}


def summary(data_dir: Path, name: str) -> dict[str, Any]:
    """A dataset's manifest (NotFound when there is none)."""
    path = folder(data_dir, name) / "meta.json"
    try:
        meta: dict[str, Any] = json.loads(path.read_text("utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        raise NotFound(f"no breeding dataset {name!r}", [Problem(
            reason="no dataset of that name", value=name,
            fix="list them with `lanhai breed datasets` or GET /api/breeding/datasets")]
                       ) from None
    return _public(name, meta)


def _public(name: str, meta: dict[str, Any]) -> dict[str, Any]:
    return {"dataset": name, "published": bool(meta.get("published", False)),
            "counts": meta.get("counts", {}), "germplasm": meta.get("germplasm", {}),
            "factors": meta.get("factors", []), "covariates": meta.get("covariates", []),
            "sources": meta.get("sources", {}), "created_by": meta.get("created_by", ""),
            "created_at": meta.get("created_at", "")}


def list_datasets(data_dir: Path, germplasm: str | None = None,
                  published_only: bool = False) -> list[dict[str, Any]]:
    """Every dataset (name order); only those covering ``germplasm`` when given."""
    base = root(data_dir)
    if not base.is_dir():
        return []
    acc = germplasm.strip().upper() if germplasm else None
    out = []
    for path in sorted(base.iterdir()):
        if not path.is_dir() or not NAME.fullmatch(path.name):
            continue  # hidden .part / .old folders of an import in progress
        try:
            item = summary(data_dir, path.name)
        except NotFound:
            continue
        if published_only and not item["published"]:
            continue
        if acc is not None and acc not in item["germplasm"]:
            continue
        out.append(item)
    return out
