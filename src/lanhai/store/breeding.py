"""Imported breeding datasets: named folders under ``LANHAI_DATA_DIR/breeding/``.

Each folder holds the checked genotypes (``genotypes.npz``), pedigree and phenotypes (TSV)
and a ``meta.json`` manifest: who imported it and when, where the files came from, what it
holds, whether it is published, and the germplasm lines it covers (accession → number of
animals). The manifest is how a germplasm record finds its breeding datasets; no catalog
table is needed, so a dataset never half-exists in one store and not the other. A dataset is
written to a hidden ``.<name>.<id>.part`` folder, locked while it is written, and renamed into
place (the dataset it replaces is moved to ``.<name>.<id>.old`` and removed); the next import
removes what imports that died left (:mod:`lanhai.store.leftovers`).
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from lanhai.breeding import io
from lanhai.breeding.data import Dataset, Genotypes
from lanhai.breeding.pipeline import dataset_counts
from lanhai.errors import Conflict, Problem, UsageError
from lanhai.store import leftovers

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class DatasetStore:
    """The breeding datasets of one bank."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def folder(self, name: str) -> Path:
        """The folder of dataset ``name`` (a usage error for a name that is not safe)."""
        if not NAME.fullmatch(name or ""):
            raise UsageError("bad dataset name", [Problem(
                reason="a dataset name is 1-64 letters, digits, _ . - (starting with a "
                       "letter or digit)", value=name, field="name",
                fix="e.g. fish2024 or Lc-G3")])
        return self.root / name

    def exists(self, name: str) -> bool:
        return self.folder(name).exists()

    def names(self) -> list[str]:
        """Every dataset, in name order (hidden .part / .old folders of a write in progress
        left out)."""
        if not self.root.is_dir():
            return []
        return [p.name for p in sorted(self.root.iterdir())
                if p.is_dir() and NAME.fullmatch(p.name)]

    def meta(self, name: str) -> dict[str, Any] | None:
        """A dataset's manifest, or None when there is none."""
        try:
            loaded = json.loads((self.folder(name) / "meta.json").read_text("utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        return loaded if isinstance(loaded, dict) else None

    def save(self, name: str, data: Dataset, meta: dict[str, Any], replace: bool = True
             ) -> dict[str, Any]:
        """Write a validated dataset atomically (a temporary folder, then one rename); its
        counts. With ``replace`` False an existing dataset of that name is a conflict
        (nothing written)."""
        folder = self.folder(name)
        if folder.exists() and not replace:
            raise _taken(name)
        leftovers.sweep_breeding(self.root)
        token = uuid.uuid4().hex
        tmp = folder.with_name(f".{name}.{token}.part")
        hold = leftovers.hold_folder(tmp)
        try:
            counts = _write_parts(data, tmp, meta)
            if folder.exists():
                if not replace:
                    raise _taken(name)
                old = folder.with_name(f".{name}.{token}.old")
                folder.rename(old)
                tmp.rename(folder)
                shutil.rmtree(old, ignore_errors=True)
            else:
                tmp.rename(folder)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
            hold.release()
        return counts

    def load(self, name: str) -> Dataset:
        """A dataset written by :meth:`save`."""
        folder = self.folder(name)
        meta = self.meta(name)
        if meta is None:
            raise UsageError(f"no imported dataset {name!r}", [Problem(
                reason="no dataset of that name", value=name,
                fix="import it first with `lanhai breed import --name NAME ...`")])
        data = Dataset()
        if (folder / "genotypes.npz").exists():
            z = np.load(folder / "genotypes.npz")
            data.genotypes = Genotypes([str(x) for x in z["ids"]], [str(x) for x in z["snps"]],
                                       z["dosages"], [str(x) for x in z["chrom"]],
                                       [int(x) for x in z["pos"]], source=str(folder))
        if (folder / "pedigree.tsv").exists():
            data.pedigree = io.read_pedigree(folder / "pedigree.tsv")
        if (folder / "phenotypes.tsv").exists():
            data.phenotypes = io.read_phenotypes(folder / "phenotypes.tsv",
                                                 meta.get("factors"), meta.get("covariates"))
        return data


def _taken(name: str) -> Conflict:
    return Conflict(f"a dataset named {name!r} exists", [Problem(
        reason="the name is taken", value=name, field="name",
        fix="choose another name, or replace it (--replace; replace=true in the API)")])


def _write_parts(data: Dataset, tmp: Path, meta: dict[str, Any]) -> dict[str, Any]:
    counts = dataset_counts(data)
    if data.genotypes is not None:
        g = data.genotypes
        np.savez_compressed(tmp / "genotypes.npz", dosages=g.dosages, ids=np.array(g.ids),
                            snps=np.array(g.snps), chrom=np.array(g.chrom),
                            pos=np.array(g.pos, dtype=np.int64))
    if data.pedigree is not None:
        p = data.pedigree
        birth = p.birth if p.birth is not None else np.full(len(p.ids), np.nan)
        io.write_table(tmp / "pedigree.tsv", ["id", "sire", "dam", "birth", "sex", "family",
                                              "accession"],
                       [[a, s or "0", d or "0", "" if np.isnan(b) else repr(float(b)),
                         p.sex[i] if p.sex else "", p.family[i] if p.family else "",
                         p.accession.get(a, "")]
                        for i, (a, s, d, b) in enumerate(zip(p.ids, p.sire, p.dam, birth,
                                                             strict=True))])
    if data.phenotypes is not None:
        ph = data.phenotypes
        cols = list(ph.traits) + list(ph.factors) + list(ph.covariates)
        rows: list[list[object]] = []
        for i, a in enumerate(ph.ids):
            row: list[object] = [a, ph.accession.get(a, "")]
            row += ["" if np.isnan(ph.traits[t][i]) else repr(float(ph.traits[t][i]))
                    for t in ph.traits]
            row += [ph.factors[f][i] for f in ph.factors]
            row += ["" if np.isnan(ph.covariates[c][i]) else repr(float(ph.covariates[c][i]))
                    for c in ph.covariates]
            rows.append(row)
        io.write_table(tmp / "phenotypes.tsv", ["id", "accession", *cols], rows)
        meta = {**meta, "factors": list(ph.factors), "covariates": list(ph.covariates)}
    (tmp / "meta.json").write_text(json.dumps({**meta, "counts": counts}, indent=2))
    return counts
