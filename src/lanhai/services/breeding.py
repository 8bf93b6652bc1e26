"""Genomic selection for breeders: datasets (import, list, read) and the analyses on them
(QC, relationship matrices, REML, prediction, cross-validation, mating plans).

Who may do what: importing and running analyses need a curator (the command line acts as the
bank's local admin); a dataset is private unless published, and a published dataset's
summary shows readers neither its source file names nor germplasm records they may not see.
The analyses themselves are :mod:`lanhai.breeding.analyses`; this service adds the datasets,
the catalogue check of germplasm accessions, and the access rule.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from lanhai.breeding import analyses
from lanhai.breeding.data import Dataset, Progress, no_progress
from lanhai.breeding.germplasm import Lookup, check_germplasm, linked_lines
from lanhai.breeding.pipeline import Inputs, ModelOptions, Prepared, dataset_counts, load
from lanhai.breeding.predict import Prediction
from lanhai.breeding.qc import QcOptions, QcResult
from lanhai.breeding.validate import check_genotypes
from lanhai.errors import NotFound, Problem, UsageError
from lanhai.limits import Limits
from lanhai.services.access import Actor, may_see_dataset, require_writer
from lanhai.services.catalog import CatalogService
from lanhai.settings import Settings
from lanhai.store.breeding import DatasetStore
from lanhai.store.layout import Layout


class BreedingService:
    """Breeding datasets and analyses of one bank (``catalog`` is None on the command line
    before the bank exists: files can then be analysed, not linked to germplasm)."""

    def __init__(self, datasets: DatasetStore, catalog: CatalogService | None,
                 limits: Limits | None = None) -> None:
        self.datasets = datasets
        self.catalog = catalog
        #: what a breeder's file may hold (decompressed size, line length)
        self.limits = limits or Limits()

    @classmethod
    def for_settings(cls, settings: Settings) -> BreedingService:
        """Breeding for a bank whose catalog is not open (not created yet)."""
        return cls(DatasetStore(Layout(settings.data_dir).breeding), None, settings.limits)

    # -- datasets --------------------------------------------------------------------------
    def check_name(self, name: str) -> str:
        """``name`` if it can name a dataset; a usage error saying what can otherwise."""
        self.datasets.folder(name)
        return name

    def lookup(self, actor: Actor) -> Lookup | None:
        """Accessions -> kind of each record ``actor`` may see, over the catalog."""
        catalog = self.catalog
        if catalog is None:
            return None

        def lookup(accessions: list[str]) -> dict[str, str]:
            return {acc: rec.kind for acc, rec in catalog.find(actor, accessions).items()}

        return lookup

    def _shown(self, actor: Actor, name: str, meta: dict[str, Any]) -> dict[str, Any]:
        """A dataset's summary as ``actor`` may see it: no germplasm record they may not
        see; no source file names below curator."""
        lines: dict[str, int] = meta.get("germplasm", {})
        if lines and self.catalog is not None and not actor.can_see_restricted:
            seen = {acc for acc, rec in self.catalog.find(actor, list(lines)).items()
                    if rec.kind == "germplasm"}
            lines = {a: n for a, n in lines.items() if a in seen}
        item = {"dataset": name, "published": bool(meta.get("published", False)),
                "counts": meta.get("counts", {}), "germplasm": lines,
                "factors": meta.get("factors", []), "covariates": meta.get("covariates", []),
                "sources": meta.get("sources", {}), "created_by": meta.get("created_by", ""),
                "created_at": meta.get("created_at", "")}
        if meta.get("map"):
            item["map"] = meta["map"]
        if not actor.can_see_restricted:
            del item["sources"]
            item.pop("map", None)
        return item

    def list_datasets(self, actor: Actor, germplasm: str | None = None
                      ) -> list[dict[str, Any]]:
        """Datasets ``actor`` may see (name order); those covering ``germplasm`` if given."""
        acc = germplasm.strip().upper() if germplasm else None
        out = []
        for name in self.datasets.names():
            meta = self.datasets.meta(name)
            if meta is None or not may_see_dataset(actor, bool(meta.get("published"))):
                continue
            item = self._shown(actor, name, meta)
            if acc is None or acc in item["germplasm"]:
                out.append(item)
        return out

    def summary(self, actor: Actor, name: str) -> dict[str, Any]:
        """One dataset's summary (NotFound for one ``actor`` may not see)."""
        meta = self.datasets.meta(name)
        if meta is None or not may_see_dataset(actor, bool(meta.get("published"))):
            raise NotFound(f"no breeding dataset {name!r}", [Problem(
                reason="no dataset of that name", value=name,
                fix="list them with `lanhai breed datasets` or GET /api/breeding/datasets")])
        return self._shown(actor, name, meta)

    def load(self, actor: Actor, inputs: Inputs, dataset: str | None = None) -> Dataset:
        """Read and check the files, over the imported ``dataset`` when named."""
        if dataset:
            meta = self.datasets.meta(dataset)
            if meta is None or not may_see_dataset(actor, bool(meta.get("published"))):
                raise UsageError(f"no imported dataset {dataset!r}", [Problem(
                    reason="no dataset of that name", value=dataset, field="dataset",
                    fix="import it first with `lanhai breed import --name NAME ...`, or "
                        "list them with `lanhai breed datasets`")])
            inputs.dataset = self.datasets.load(dataset)
        inputs.limits = self.limits
        return load(inputs)

    def import_dataset(self, actor: Actor, name: str, data: Dataset, *,
                       germplasm: str | None = None, dosage: bool = False,
                       sources: dict[str, str] | None = None, published: bool = False,
                       replace: bool = False, dry_run: bool = False,
                       columns: dict[str, str] | None = None) -> dict[str, Any]:
        """Check a loaded dataset (genotypes; germplasm accessions against the catalog as
        ``actor`` sees it) and store it as ``name``; with ``dry_run`` check and count only.
        ``columns`` is the column mapping the files were read with (kept in the manifest;
        the dataset itself is stored with Lanhai's column names)."""
        require_writer(actor)
        self.check_name(name)  # a usage error for a bad name, before any work
        if not (data.genotypes or data.pedigree or data.phenotypes):
            raise UsageError("nothing to import", [Problem(
                reason="give genotypes, a pedigree and/or phenotypes")])
        if data.genotypes is not None:
            check_genotypes(data.genotypes, dosage=dosage)
        lookup = self.lookup(actor)
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
            if self.datasets.exists(name) and not replace:
                body["note"] = f"a dataset named {name!r} exists: importing needs replace"
            return {**body, "dry_run": True}
        meta = {"name": name, "sources": sources or {}, "published": published,
                "germplasm": lines, "created_by": actor.username,
                "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        if columns:
            meta["map"] = dict(columns)
        self.datasets.save(name, data, meta, replace=replace)
        return {**body, "created_by": actor.username, "created_at": meta["created_at"]}

    # -- analyses (curators; the command line as the local admin) ------------------------
    def quality_control(self, actor: Actor, data: Dataset, opts: QcOptions,
                        progress: Progress = no_progress) -> tuple[dict[str, Any], QcResult]:
        require_writer(actor)
        return analyses.quality_control(data, opts, progress)

    def relationship_matrix(self, actor: Actor, data: Dataset, matrix: str,
                            opts: ModelOptions, out: Path | None,
                            progress: Progress = no_progress) -> dict[str, Any]:
        require_writer(actor)
        return analyses.relationship_matrix(data, matrix, opts, out, progress)

    def variance_components(self, actor: Actor, data: Dataset, traits: list[str],
                            fixed: list[str] | None, opts: ModelOptions,
                            method: str = "spectral", relationship: Path | None = None,
                            progress: Progress = no_progress) -> dict[str, Any]:
        require_writer(actor)
        return analyses.variance_components(data, traits, fixed, opts, method, relationship,
                                            progress)

    def predictions(self, actor: Actor, data: Dataset, trait: str, fixed: list[str] | None,
                    opts: ModelOptions, relationship: Path | None = None,
                    iterations: int = 3000, seed: int = 1, progress: Progress = no_progress
                    ) -> tuple[dict[str, Any], Prediction | None, Prepared]:
        require_writer(actor)
        return analyses.predictions(data, trait, fixed, opts, relationship, iterations, seed,
                                    progress)

    def cross_validation(self, actor: Actor, data: Dataset, trait: str,
                         fixed: list[str] | None, opts: ModelOptions, folds: str, seed: int,
                         repeats: int = 1, by_family: bool = False,
                         relationship: Path | None = None, iterations: int = 1500,
                         progress: Progress = no_progress) -> dict[str, Any]:
        require_writer(actor)
        return analyses.cross_validation(data, trait, fixed, opts, folds, seed, repeats,
                                         by_family, relationship, iterations, progress)

    def mating_plan(self, actor: Actor, data: Dataset, trait: str, fixed: list[str] | None,
                    opts: ModelOptions, candidates: list[str] | None, matings: int,
                    max_kinship: float | None, delta_f: float | None,
                    max_contribution: float = 0.5, progress: Progress = no_progress
                    ) -> dict[str, Any]:
        require_writer(actor)
        return analyses.mating_plan(data, trait, fixed, opts, candidates, matings,
                                    max_kinship, delta_f, max_contribution, progress)


__all__ = ["BreedingService"]
