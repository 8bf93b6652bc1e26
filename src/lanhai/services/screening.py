"""Compound screening: assays imported from tables, models trained and validated on them,
the bank's library ranked by a model, and a screening profile for every compound.

An assay's results are imported all or nothing (:func:`lanhai.screening.assays.
read_assay_table`), each row linked to the bank's compound record it names or whose
structure (InChIKey) it has. A model is trained on one endpoint of an assay, validated by
scaffold and by random split, and registered with the SHA-256 of the data it learnt from:
its bytes are written under ``models/`` before its row is inserted, so a training killed
half-way registers nothing. Every prediction names the model (key, version, digest) that
made it and whether the compound lies in the model's applicability domain.

A confidential assay (``restricted``), and every model trained on it, is seen only by those
who may see restricted records; predictions and rankings cover only the compounds the
caller may see.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from lanhai.errors import (
    ConcurrentChange,
    Conflict,
    NotFound,
    Problem,
    UsageError,
    ValidationFailed,
)
from lanhai.screening import assays as assay_tables
from lanhai.screening import glycans
from lanhai.screening import models as ml
from lanhai.screening import profile as profiles
from lanhai.services.access import Actor, may_see, require_writer
from lanhai.services.compounds import CompoundService
from lanhai.store import records as records_store
from lanhai.store import screening as store
from lanhai.store.database import Database

#: a task reports progress as (done, total, what)
Progress = Callable[[int, int, str], None]
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
#: algorithms a user may choose
ALGORITHMS = ("random_forest", "extra_trees", "gradient_boosting")
SPLITS = ("scaffold", "random")
#: trained models kept in memory (by digest)
_CACHED_MODELS = 4


def _no_progress(done: int, total: int, what: str) -> None:
    """Progress nobody watches."""


class ScreeningService:
    """Assays, models and screening over one bank's compound library."""

    def __init__(self, db: Database, compounds: CompoundService, folder: Path) -> None:
        self.db = db
        self.compounds = compounds
        self.folder = folder
        self._models: OrderedDict[str, ml.TrainedModel] = OrderedDict()
        #: whole rankings by (model digest, library stamp, restricted compounds seen)
        self._rankings: OrderedDict[tuple[str, str, bool], list[dict[str, Any]]] = \
            OrderedDict()
        self._lock = threading.Lock()

    # --- assays ---------------------------------------------------------------------------

    def _checked_assay(self, values: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        problems: list[Problem] = []
        for name, value in values.items():
            if name not in store.ASSAY_FIELDS:
                problems.append(Problem(reason="is not a field of an assay",
                                        fix="use one of: " + ", ".join(store.ASSAY_FIELDS),
                                        field=name))
            elif name == "restricted":
                out[name] = value in (True, "true", "yes", "1", 1)
            elif name == "endpoint" and str(value or "").strip():
                endpoint = assay_tables.parse_endpoint(str(value))
                if endpoint is None:
                    problems.append(Problem(
                        reason="is not an endpoint Lanhai reads", field="endpoint",
                        value=str(value), fix="use one of: "
                        + ", ".join(assay_tables.ENDPOINTS)))
                out[name] = endpoint or ""
            else:
                out[name] = str(value or "").strip()[:5000]
        if "name" in out and not out["name"]:
            problems.append(Problem(reason="an assay needs a name", fix="give name",
                                    field="name"))
        if problems:
            raise ValidationFailed("the assay is not valid", problems)
        return out

    def create_assay(self, actor: Actor, key: str, values: Mapping[str, Any]
                     ) -> dict[str, Any]:
        """A new, empty assay (curators and admins)."""
        require_writer(actor)
        key = key.strip().lower()
        if not _KEY.match(key):
            raise UsageError(f"{key!r} is not an assay key; write lower-case letters, "
                             "digits, - and _, e.g. mic-s-aureus")
        fields = self._checked_assay(values)
        if not fields.get("name"):
            raise ValidationFailed("the assay is not valid", [Problem(
                reason="an assay needs a name", fix="give name", field="name")])
        with self.db.write() as conn:
            if store.get_assay(conn, key) is not None:
                raise Conflict(f"an assay {key} exists; change it instead")
            store.insert_assay(conn, key, fields, actor.username, _now())
        return self.assay(actor, key)

    def update_assay(self, actor: Actor, key: str, changes: Mapping[str, Any],
                     version: int | None = None) -> dict[str, Any]:
        """Change an assay's name, target, endpoint, description or confidentiality."""
        require_writer(actor)
        fields = self._checked_assay(changes)
        with self.db.write() as conn:
            found = self._assay(conn, actor, key, for_update=True)
            if version is not None and version != found.version:
                raise ConcurrentChange(f"assay {key} changed since version {version} "
                                       f"(now {found.version}); read it again")
            store.update_assay(conn, found, fields, _now())
            if "restricted" in fields:
                store.restrict_models(conn, found.key, bool(fields["restricted"]))
        return self.assay(actor, key)

    def _assay(self, conn: Any, actor: Actor, key: str, *, for_update: bool = False
               ) -> store.Assay:
        found = store.get_assay(conn, key.strip().lower(), for_update=for_update)
        if found is None or not may_see(actor, found.restricted):
            raise NotFound(f"no assay {key!r}; `lanhai screen assays` lists them")
        return found

    def assays(self, actor: Actor) -> list[dict[str, Any]]:
        """The assays the caller may see, with their models' count."""
        with self.db.read() as conn:
            found = store.list_assays(conn, restricted=actor.can_see_restricted)
            models = store.list_models(conn, restricted=actor.can_see_restricted)
        counts: dict[str, int] = {}
        for model in models:
            counts[model.assay] = counts.get(model.assay, 0) + 1
        return [{**a.to_dict(), "models": counts.get(a.key, 0)} for a in found]

    def assay(self, actor: Actor, key: str) -> dict[str, Any]:
        """One assay: its fields, what its results hold (endpoints, targets, compounds,
        linked records, duplicates and conflicting replicates) and its models."""
        with self.db.read() as conn:
            found = self._assay(conn, actor, key)
            rows = store.results(conn, found.key)
            models = store.list_models(conn, assay=found.key,
                                       restricted=actor.can_see_restricted)
        table = _table(found.key, rows)
        duplicates, conflicts = assay_tables.replicates(table)
        endpoints: dict[str, int] = {}
        targets: dict[str, int] = {}
        for row in table.rows:
            endpoints[row.endpoint] = endpoints.get(row.endpoint, 0) + 1
            targets[row.assay] = targets.get(row.assay, 0) + 1
        return {**found.to_dict(), "endpoints": endpoints, "targets": targets,
                "compounds": len({r.key for r in table.rows}),
                "linked": len({r["compound"] for r in rows if r["compound"]}),
                "censored": sum(r.censored for r in table.rows),
                "duplicates": [d.__dict__ | {"rows": list(d.rows)} for d in duplicates],
                "conflicts": [c.to_dict() | {"rows": list(c.rows)} for c in conflicts],
                "models": [m.to_dict() for m in models]}

    def results(self, actor: Actor, key: str) -> list[dict[str, Any]]:
        """An assay's results as stored, each with the compound record it is linked to."""
        with self.db.read() as conn:
            found = self._assay(conn, actor, key)
            rows = store.results(conn, found.key)
        return [{**r["data"], "compound_record": r["compound"], "file_sha256":
                 r["file_sha256"]} for r in rows]

    def import_results(self, actor: Actor, key: str, path: Path, *,
                       mapping: Mapping[str, str] | None = None, replace: bool = False,
                       endpoint: str | None = None, target: str | None = None,
                       organism: str | None = None) -> dict[str, Any]:
        """Import an assay table into the assay: every row checked, all or nothing.

        Rows are added to the results the assay holds (``replace``: they replace them); a
        file already imported is reported unchanged. Each row is linked to the compound
        record it names or whose InChIKey it has. ``endpoint``, ``target`` and
        ``organism`` give one value for rows (or tables) that do not say."""
        require_writer(actor)
        try:
            data = path.read_bytes()
        except OSError as err:
            raise UsageError(f"cannot read {path.name}: {err.strerror or err}") from None
        sha = hashlib.sha256(data).hexdigest()
        with self.db.read() as conn:
            found = self._assay(conn, actor, key)
            done = store.imported_files(conn, found.key)
        if sha in done and not replace:
            return {"assay": found.key, "file": path.name, "sha256": sha,
                    "status": "unchanged", "rows": 0, "committed": False}
        library = self.compounds.library()
        by_accession = {e.accession: e for e in library.entries
                        if may_see(actor, e.restricted)}
        by_inchikey: dict[str, str] = {}
        for entry in by_accession.values():
            by_inchikey.setdefault(entry.inchikey, entry.accession)

        def resolve(name: str) -> assay_tables.CompoundInfo | None:
            entry = by_accession.get(name.strip().upper())
            return None if entry is None else assay_tables.CompoundInfo(
                smiles=entry.smiles, inchikey=entry.inchikey)

        table = assay_tables.read_assay_table(path, mapping, resolve, endpoint=endpoint,
                                              target=target, organism=organism,
                                              name=path.name)
        rows = []
        for row in table.rows:
            named = (row.compound or "").strip().upper()
            record = named if named in by_accession else \
                by_inchikey.get(row.inchikey or "")
            rows.append({"line": row.row, "file_sha256": sha, "compound_key": row.key,
                         "compound": record, "endpoint": row.endpoint,
                         "data": _json_row(row)})
        with self.db.write() as conn:
            current = self._assay(conn, actor, key, for_update=True)
            store.replace_results(conn, current.key, rows, keep=not replace)
            stored = store.results(conn, current.key)
            store.update_assay(conn, current, {
                "data_hash": store.results_hash(stored), "result_count": len(stored)},
                _now())
        return {"assay": found.key, "file": path.name, "sha256": sha,
                "status": "replaced" if replace else "imported", "rows": len(rows),
                "compounds": len({r["compound_key"] for r in rows}),
                "linked": sum(1 for r in rows if r["compound"]),
                "censored": sum(r.censored for r in table.rows),
                "duplicates": [d.__dict__ | {"rows": list(d.rows)} for d in table.duplicates],
                "conflicts": [c.to_dict() | {"rows": list(c.rows)} for c in table.conflicts],
                "committed": True}

    # --- models ---------------------------------------------------------------------------

    def training_set(self, actor: Actor, key: str, endpoint: str, *,
                     target: str | None = None, threshold: float | None = None
                     ) -> tuple[ml.TrainingSet, dict[str, Any]]:
        """The table a model of this endpoint learns from (one value per compound: the
        median pX, or the majority call at ``threshold``), and what was left out."""
        with self.db.read() as conn:
            found = self._assay(conn, actor, key)
            rows = store.results(conn, found.key)
        table = _table(found.key, rows)
        values = table.training_values(endpoint, target, threshold)
        structures = table.structures()
        kept = [(k, structures[k], v) for k, v in values if k in structures]
        name = assay_tables.parse_endpoint(endpoint) or endpoint
        task: ml.Task = "classification" if threshold is not None or \
            name == assay_tables.CALL else "regression"
        if not kept:
            raise UsageError(f"assay {found.key} has no {name} values with a structure"
                             + (f" for {target}" if target else "")
                             + "; import results (with SMILES, or compounds of the bank) "
                             "first")
        data = ml.TrainingSet(tuple(k for k, _, _ in kept), tuple(s for _, s, _ in kept),
                              tuple(v for _, _, v in kept), task)
        about = {"assay": found.key, "assay_version": found.version, "endpoint": name,
                 "target": target, "threshold": threshold, "task": task,
                 "compounds": len(kept), "without_structure": len(values) - len(kept),
                 "assay_hash": found.data_hash}
        return data, about

    def train(self, actor: Actor, key: str, *, endpoint: str, target: str | None = None,
              threshold: float | None = None, algorithm: str = "random_forest",
              folds: int = 5, repeats: int = 2, seed: int = 0,
              n_estimators: int | None = None, progress: Progress = _no_progress
              ) -> dict[str, Any]:
        """Train a model on an assay's endpoint, validate it by scaffold and by random
        split (``repeats`` rounds of ``folds`` folds each), and register it as the assay's
        next version. Nothing is registered unless every step finished."""
        require_writer(actor)
        if algorithm not in ALGORITHMS:
            raise UsageError(f"unknown algorithm {algorithm!r}; use one of: "
                             + ", ".join(ALGORITHMS))
        data, about = self.training_set(actor, key, endpoint, target=target,
                                        threshold=threshold)
        steps = 2 * folds * repeats + 1
        done = 0

        def step(what: str) -> Callable[[int, int], None]:
            def report(folds_done: int, total: int) -> None:
                progress(done + folds_done, steps, what)
            return report

        reports = {}
        for split in SPLITS:
            progress(done, steps, f"validating: {split} split")
            reports[split] = ml.validate(data, algorithm,  # type: ignore[arg-type]
                                         split=split,  # type: ignore[arg-type]
                                         folds=folds, repeats=repeats, seed=seed,
                                         n_estimators=n_estimators,
                                         progress=step(f"validating: {split} split"))
            done += folds * repeats
        progress(done, steps, "training on every compound")
        trained = ml.train(data, algorithm, seed=seed,  # type: ignore[arg-type]
                           n_estimators=n_estimators)
        validation = {split: _report(r) for split, r in reports.items()}
        with self.db.read() as conn:
            version = store.next_version(conn, about["assay"])
        model = trained.with_version(version).with_metrics(reports["scaffold"])
        blob = model.to_bytes()
        digest = store.write_model_file(self.folder, blob)
        row = store.ModelRow(
            key=f"{about['assay']}.v{version}", assay=about["assay"], version=version,
            algorithm=algorithm, task=data.task,
            target={k: about[k] for k in ("endpoint", "target", "threshold")},
            data_hash=data.data_hash(), digest=digest, size=len(blob),
            training_size=len(data), validation=validation,
            about={**about, "model_id": model.model_id, "seed": seed,
                   "n_estimators": model.n_estimators, "spec": model.spec.as_dict(),
                   "domain_threshold": model.domain_threshold,
                   "sklearn": model.sklearn_version, "rdkit": model.rdkit_version},
            restricted=False, created_by=actor.username, created_at=_now())
        with self.db.write() as conn:
            assay = self._assay(conn, actor, key, for_update=True)
            if assay.data_hash != about["assay_hash"]:
                raise ConcurrentChange(f"assay {assay.key}'s results changed while the model "
                                       "was trained; train again")
            if store.get_model(conn, row.key) is not None:
                raise ConcurrentChange(f"another model {row.key} was registered meanwhile; "
                                       "train again")
            store.insert_model(conn, replace(row, restricted=assay.restricted))
        progress(steps, steps, "registered")
        with self._lock:
            self._models[digest] = model
        return self.model(actor, row.key)

    def models(self, actor: Actor, assay: str | None = None) -> list[dict[str, Any]]:
        """The models the caller may see (of one assay), newest version first."""
        with self.db.read() as conn:
            if assay is not None:
                self._assay(conn, actor, assay)
            found = store.list_models(conn, assay=assay and assay.strip().lower(),
                                      restricted=actor.can_see_restricted)
        return [m.to_dict() for m in found]

    def _model_row(self, actor: Actor, key: str) -> store.ModelRow:
        with self.db.read() as conn:
            found = store.get_model(conn, key.strip().lower())
        if found is None or not may_see(actor, found.restricted):
            raise NotFound(f"no model {key!r}; `lanhai screen models` lists them")
        return found

    def model(self, actor: Actor, key: str) -> dict[str, Any]:
        """One model's registration: what it predicts, its data hash, digest and
        validation."""
        return self._model_row(actor, key).to_dict()

    def model_bytes(self, actor: Actor, key: str) -> tuple[store.ModelRow, bytes]:
        """A model's registration and its bytes, checked against their digest."""
        row = self._model_row(actor, key)
        blob = store.read_model_file(self.folder, row.digest)
        if blob is None:
            raise NotFound(f"the file of model {row.key} is missing or damaged (sha256 "
                           f"{row.digest[:12]}…); train the model again")
        return row, blob

    def _trained(self, actor: Actor, key: str) -> tuple[store.ModelRow, ml.TrainedModel]:
        row = self._model_row(actor, key)
        with self._lock:
            cached = self._models.get(row.digest)
            if cached is not None:
                self._models.move_to_end(row.digest)
                return row, cached
        _, blob = self.model_bytes(actor, key)
        model = ml.TrainedModel.from_bytes(blob)
        with self._lock:
            self._models[row.digest] = model
            while len(self._models) > _CACHED_MODELS:
                self._models.popitem(last=False)
        return row, model

    # --- predictions, rankings and profiles -----------------------------------------------

    def predict(self, actor: Actor, key: str, smiles: Sequence[str]) -> dict[str, Any]:
        """A model's predictions for SMILES: each with its uncertainty, domain similarity
        and flag; a SMILES RDKit rejects gets its error, the others are still predicted."""
        row, model = self._trained(actor, key)
        predictions = model.predict(list(smiles))
        return {"model": _cited(row), "predictions": [_prediction(p) for p in predictions]}

    def rank_library(self, actor: Actor, key: str, *, limit: int | None = None,
                     progress: Progress = _no_progress, jobs: int = 1) -> dict[str, Any]:
        """The bank's compounds (those the caller may see, with a structure) ranked by a
        model: most active first, those outside the model's domain after those inside.
        A ranking is kept until the library or the model changes; ``jobs`` worker
        processes share a large library."""
        row, model = self._trained(actor, key)
        library = self.compounds.library()
        cache_key = (row.digest, library.stamp, actor.can_see_restricted)
        with self._lock:
            ranked = self._rankings.get(cache_key)
        if ranked is None:
            ranked = self._rank(model, library, actor, progress, jobs)
            with self._lock:
                self._rankings[cache_key] = ranked
                while len(self._rankings) > _CACHED_MODELS:
                    self._rankings.popitem(last=False)
        else:
            progress(len(ranked), len(ranked), "ranked before")
        return {"model": _cited(row), "score": _score_name(row), "count": len(ranked),
                "outside_domain": sum(1 for r in ranked if not r["in_domain"]),
                "ranking": [dict(r) for r in (ranked if limit is None else ranked[:limit])]}

    @staticmethod
    def _rank(model: ml.TrainedModel, library: Any, actor: Actor, progress: Progress,
              jobs: int) -> list[dict[str, Any]]:
        chosen = library.positions(actor.can_see_restricted)
        entries = [library.entries[i] for i in chosen]
        mols = [library.mols[i] for i in chosen]
        progress(0, len(entries), "predicting")
        ranked: list[dict[str, Any]] = []
        if mols:
            columns = model.predict_columns(
                mols, n_jobs=max(1, jobs),
                progress=lambda done, total: progress(done, total, "predicting"))
            for i, entry in enumerate(entries):
                if not columns.valid[i]:
                    continue
                nearest = int(columns.nearest[i])
                ranked.append({
                    "accession": entry.accession, "name": entry.name,
                    "smiles": entry.smiles, "inchikey": entry.inchikey,
                    "score": round(float(columns.value[i]), 4),
                    "uncertainty": round(float(columns.uncertainty[i]), 4),
                    "domain_similarity": round(float(columns.domain_similarity[i]), 4),
                    "in_domain": bool(columns.in_domain[i]),
                    "nearest_training": model.training_ids[nearest] if nearest >= 0
                    else None})
        ranked.sort(key=lambda r: (not r["in_domain"], -float(r["score"]), r["accession"]))
        for number, item in enumerate(ranked, start=1):
            item["rank"] = number
        progress(len(entries), len(entries), "ranked")
        return ranked

    def ranking_file(self, actor: Actor, key: str, fmt: str) -> bytes:
        """The whole ranking as CSV or SDF (each molecule with its rank and prediction)."""
        if fmt not in ("csv", "sdf"):
            raise UsageError(f"unknown format {fmt!r}; use csv or sdf")
        ranked = self.rank_library(actor, key)
        columns = ("rank", "accession", "name", "score", "uncertainty", "domain_similarity",
                   "in_domain", "nearest_training", "inchikey", "smiles")
        if fmt == "csv":
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow((*columns, "model", "model_digest"))
            for item in ranked["ranking"]:
                writer.writerow((*(item[c] for c in columns), ranked["model"]["key"],
                                 ranked["model"]["digest"]))
            return out.getvalue().encode("utf-8")
        from rdkit import Chem

        buffer = io.StringIO()
        writer_sdf = Chem.SDWriter(buffer)
        for item in ranked["ranking"]:
            mol = Chem.MolFromSmiles(item["smiles"])
            if mol is None:
                continue
            mol.SetProp("_Name", item["accession"])
            for c in columns:
                mol.SetProp(c, str(item[c]))
            mol.SetProp("model", ranked["model"]["key"])
            writer_sdf.write(mol)
        writer_sdf.close()
        return buffer.getvalue().encode("utf-8")

    def profile(self, actor: Actor, *, accession: str | None = None,
                smiles: str | None = None) -> dict[str, Any]:
        """A compound's screening profile: properties, drug-likeness rules, NP-likeness and
        synthetic accessibility, structural alerts, nearest approved drugs and library
        compounds, glycan features, and the latest model of every assay the caller may
        see, each prediction with its domain flag."""
        if (accession is None) == (smiles is None):
            raise UsageError("give a compound accession or a SMILES")
        library = self.compounds.library()
        visible = library.positions(actor.can_see_restricted)
        if accession is not None:
            wanted = accession.strip().upper()
            found = next((library.entries[i] for i in visible
                          if library.entries[i].accession == wanted), None)
            if found is None:
                return self._glycan_profile(actor, wanted)
            smiles = found.smiles
        assert smiles is not None
        neighbours = [(library.entries[i].accession, library.fingerprints[i])
                      for i in visible if library.entries[i].accession != accession]
        made = profiles.screening_profile(smiles, library=neighbours).as_dict()
        predictions = []
        latest: dict[str, str] = {}
        for model in self.models(actor):
            latest.setdefault(model["assay"], model["key"])
        for key in latest.values():
            row, trained = self._trained(actor, key)
            (one,) = trained.predict([smiles])
            predictions.append({"model": _cited(row), "score": _score_name(row),
                                **_prediction(one)})
        return {"accession": accession, **made, "predictions": predictions}


    def _glycan_profile(self, actor: Actor, accession: str) -> dict[str, Any]:
        """A glycan held only as WURCS or IUPAC-condensed text: its glycan features (no
        structure to compute properties, alerts or predictions from)."""
        with self.db.read() as conn:
            record = records_store.get_record(conn, accession)
        if record is None or record.kind != "compound" or not may_see(actor,
                                                                       record.restricted):
            raise NotFound(f"no compound {accession!r}")
        wurcs = record.fields.get("wurcs") or None
        iupac = record.fields.get("glycan_iupac") or None
        if not wurcs and not iupac:
            raise NotFound(f"compound {accession} has no structure (SMILES, WURCS or "
                           "IUPAC-condensed) to profile")
        features = glycans.glycan_features(wurcs=wurcs, iupac=iupac)
        return {"accession": accession, "smiles": None, "inchikey": None,
                "formula": None, "wurcs": wurcs, "glycan_iupac": iupac,
                "properties": {}, "rules": [], "alerts": [], "nearest_drugs": [],
                "nearest_library": [], "carbohydrate": True, "glycan": features,
                "predictions": [], "admet": {"available": False, "note": profiles.ADMET_NOTE},
                "note": "held as a glycan notation without a structure: only its glycan "
                        "features are computed"}


# --- helpers -----------------------------------------------------------------------------------

def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _json_row(row: assay_tables.AssayRow) -> dict[str, Any]:
    """An assay row as stored: every field of :class:`~lanhai.screening.assays.AssayRow`."""
    return dict(row.__dict__)


def _table(name: str, rows: Sequence[Mapping[str, Any]]) -> assay_tables.AssayTable:
    """The stored rows as an assay table again."""
    fields = set(assay_tables.AssayRow.__dataclass_fields__)
    made = [assay_tables.AssayRow(**{k: v for k, v in r["data"].items() if k in fields})
            for r in rows]
    return assay_tables.AssayTable(name, made)


def _report(report: ml.ValidationReport) -> dict[str, Any]:
    """A validation report as JSON: each metric's mean, std and fold count."""
    return {"split": report.split, "folds": report.n_folds, "repeats": report.repeats,
            "seed": report.seed, "compounds": report.n_compounds,
            "skipped": len(report.skipped),
            "metrics": {name: {"mean": round(s.mean, 4), "std": round(s.std, 4),
                               "n": s.n} for name, s in report.summary.items()},
            "summary": report.describe()}


def _cited(row: store.ModelRow) -> dict[str, Any]:
    """How a prediction names the model that made it."""
    return {"key": row.key, "assay": row.assay, "version": row.version,
            "digest": row.digest, "data_hash": row.data_hash, "task": row.task}


def _score_name(row: store.ModelRow) -> str:
    """What a model's score is."""
    target = row.target
    if row.task == "classification":
        threshold = target.get("threshold")
        return f"probability active ({target.get('endpoint')}" + (
            f", pX >= {threshold})" if threshold is not None else ")")
    endpoint = str(target.get("endpoint") or "")
    return f"p{endpoint}" if endpoint in assay_tables.CONCENTRATION_ENDPOINTS else endpoint


def _prediction(p: ml.Prediction) -> dict[str, Any]:
    return {"smiles": p.smiles, "value": p.value if p.value is not None else p.probability,
            "uncertainty": p.uncertainty, "domain_similarity": p.domain_similarity,
            "in_domain": p.in_domain, "nearest_training": p.nearest_training_id,
            "error": p.error}


__all__ = ["ALGORITHMS", "ScreeningService"]
