"""What the breeding pages show and how their forms are read: the data of each page (one
service call or a few), the analysis forms' defaults, their values checked field by field,
and the background job each analysis runs as.

The routes are in :mod:`lanhai.web.breeding`; the use cases in
:mod:`lanhai.services.breeding` (datasets, analyses, the access rule) and
:mod:`lanhai.services.jobs` (background jobs).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lanhai.api.breeding_inputs import TABLES, clean, large
from lanhai.bank import Bank
from lanhai.breeding.analyses import choose_trait, sexes
from lanhai.breeding.pipeline import Inputs, ModelOptions
from lanhai.breeding.qc import QcOptions
from lanhai.breeding.validate import check_dataset
from lanhai.errors import LanhaiError, NotFound, Problem, UsageError, ValidationFailed
from lanhai.services.access import Actor, require_writer
from lanhai.services.jobs import Job

#: the analyses a dataset page runs
ANALYSES = ("qc", "predict", "mate")
#: what each model needs of a dataset
MODEL_NEEDS: dict[str, tuple[str, ...]] = {
    "gblup": ("genotyped_animals",), "ssgblup": ("genotyped_animals", "pedigree_animals"),
    "pblup": ("pedigree_animals",), "bayes": ("genotyped_animals",)}
#: the QC thresholds: form field -> (default, lowest, highest)
QC_FIELDS: dict[str, tuple[float, float, float]] = {
    "min_snp_call": (0.90, 0.0, 1.0), "min_animal_call": (0.90, 0.0, 1.0),
    "min_maf": (0.01, 0.0, 0.5), "hwe_p": (1e-6, 0.0, 1.0), "max_mendel": (0.02, 0.0, 1.0)}
#: Gibbs iterations of a BayesR fit started from a page
BAYES_ITERATIONS = 3000
#: rows of a ranking or plan shown on the results page (the CSV and the twin have all)
SHOWN_ROWS = 200


# -- the overview and a dataset -----------------------------------------------------------

def job_item(job: Job) -> dict[str, Any]:
    """One breeding job as the pages list it."""
    return {"id": job.id, "analysis": job.kind.removeprefix("breed-"), "status": job.status,
            "dataset": job.params.get("dataset"), "trait": job.params.get("trait"),
            "model": job.params.get("model"), "created_at": job.created_at,
            "finished_at": job.finished_at, "href": f"/breeding/results/{job.id}"}


def overview(bank: Bank, actor: Actor) -> dict[str, Any]:
    """The datasets ``actor`` may see and, signed in, their own breeding analyses."""
    jobs = [job_item(j) for j in bank.jobs.of(actor) if j.kind.startswith("breed-")][:20] \
        if actor.signed_in else []
    return {"datasets": bank.breeding.list_datasets(actor), "jobs": jobs,
            "can_run": actor.can_write}


def may_have_sexes(summary: Mapping[str, Any]) -> bool:
    """Whether the dataset can record the animals' sexes (a pedigree, or a phenotype factor
    ``sex``), which a mating plan needs; the plan itself checks the animals."""
    return bool(summary.get("counts", {}).get("pedigree_animals")) or \
        "sex" in summary.get("factors", [])


def mating_models(summary: Mapping[str, Any]) -> list[str]:
    """The models a mating plan of the dataset may use (none without sexes)."""
    if not may_have_sexes(summary):
        return []
    return [m for m in models_for(summary) if m != "bayes"]


def models_for(summary: Mapping[str, Any]) -> list[str]:
    """The models a dataset's parts allow, the usual first."""
    counts = summary.get("counts", {})
    if not counts.get("traits"):
        return []
    return [m for m, needs in MODEL_NEEDS.items() if all(counts.get(n) for n in needs)]


def defaults(summary: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Each analysis form as it first appears for a dataset."""
    traits = summary.get("counts", {}).get("traits") or []
    models = models_for(summary)
    effects = [*summary.get("factors", []), *summary.get("covariates", [])]
    mating = mating_models(summary)
    return {
        "qc": {**{k: f"{v[0]:g}" for k, v in QC_FIELDS.items()}, "drop_duplicates": False},
        "predict": {"trait": traits[0] if traits else "", "model": models[0] if models else "",
                    "fixed": effects},
        "mate": {"trait": traits[0] if traits else "", "model": mating[0] if mating else "",
                 "fixed": effects, "matings": "20", "delta_f": "0.01", "max_kinship": "",
                 "max_contribution": "0.5"},
    }


def dataset_page(bank: Bank, actor: Actor, name: str) -> dict[str, Any]:
    """A dataset's summary and its analysis forms (404 for a dataset ``actor`` may not
    see)."""
    summary = bank.breeding.summary(actor, name)
    models = models_for(summary)
    return {"dataset": summary, "can_run": actor.can_write, "models": models,
            "mating_models": mating_models(summary),
            "effects": [*summary.get("factors", []), *summary.get("covariates", [])],
            "form": defaults(summary)}


# -- reading an analysis form -------------------------------------------------------------

@dataclass
class Submitted:
    """An analysis form as sent: its text values, and the fixed effects ticked (None: the
    form did not say, so every effect)."""

    analysis: str
    values: dict[str, str]
    fixed: list[str] | None = None
    flags: set[str] = field(default_factory=set)

    def shown(self) -> dict[str, Any]:
        """The values to show in the form again."""
        out: dict[str, Any] = dict(self.values)
        if self.fixed is not None:
            out["fixed"] = self.fixed
        for flag in ("drop_duplicates",):
            out[flag] = flag in self.flags
        return out


@dataclass
class Analysis:
    """A checked analysis: the job's kind and its parameters."""

    kind: str
    params: dict[str, Any]


def _number(values: Mapping[str, str], name: str, low: float, high: float,
            problems: list[Problem], *, whole: bool = False, low_open: bool = False,
            optional: bool = False, default: str = "") -> float | None:
    """The field ``name`` as a number within bounds (``default`` when the form has no such
    field: a script's post); a problem naming the field otherwise."""
    text = values.get(name, default).strip()
    if not text and optional:
        return None
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    bad = (not math.isfinite(number) or number > high or number < low
           or (low_open and number == low) or (whole and not number.is_integer()))
    if bad:
        kind = "a whole number" if whole else "a number"
        lowest = f"more than {low:g}" if low_open else f"at least {low:g}"
        problems.append(Problem(reason=f"is not {kind} {lowest} and at most {high:g}",
                                field=name, value=text[:100],
                                fix=f"write {kind} between {low:g} and {high:g}"))
        return None
    return number


def check_form(summary: Mapping[str, Any], sent: Submitted) -> Analysis:
    """The analysis ``sent`` asks for, every value checked against the dataset; a
    ValidationFailed naming each field that is wrong."""
    values = sent.values
    problems: list[Problem] = []
    name = summary["dataset"]
    if sent.analysis not in ANALYSES:
        raise UsageError("unknown analysis", [Problem(
            reason=f"no analysis {sent.analysis!r}", field="analysis", value=sent.analysis,
            fix=f"use one of {', '.join(ANALYSES)}")])
    if sent.analysis == "qc":
        if not summary.get("counts", {}).get("genotyped_animals"):
            raise ValidationFailed("quality control needs genotypes", [Problem(
                reason=f"dataset {name} has no genotypes",
                fix="import the genotypes with the dataset (replace it)")])
        numbers = {k: _number(values, k, low, high, problems, default=f"{first:g}")
                   for k, (first, low, high) in QC_FIELDS.items()}
        if problems:
            raise ValidationFailed("the QC thresholds are not valid", problems)
        opts = QcOptions(**{k: float(v or 0.0) for k, v in numbers.items()},
                         drop_duplicates="drop_duplicates" in sent.flags)
        return Analysis("qc", {"dataset": name, **opts.__dict__})
    traits = summary.get("counts", {}).get("traits") or []
    models = models_for(summary)
    if sent.analysis == "mate":
        models = mating_models(summary)
        if traits and not may_have_sexes(summary):
            raise ValidationFailed("a mating plan needs the animals' sexes", [Problem(
                reason=f"dataset {name} records no sex: no pedigree, no phenotype column "
                       "'sex'", fix="import a pedigree with a sex column (M/F) with the "
                                    "dataset (replace it)")])
    if not traits:
        raise ValidationFailed("this analysis needs phenotypes", [Problem(
            reason=f"dataset {name} has no phenotypes", field="trait",
            fix="import the phenotypes with the dataset (replace it)")])
    first = defaults(summary)[sent.analysis]  # what a script's post leaves out
    trait = values.get("trait", first["trait"])
    if trait not in traits:
        problems.append(Problem(reason="is not a trait of the dataset", field="trait",
                                value=trait[:100], fix=f"choose one of {', '.join(traits)}"))
    model = values.get("model", first["model"])
    if model not in models:
        problems.append(Problem(reason="cannot be fitted to this dataset", field="model",
                                value=model[:100],
                                fix=f"choose one of {', '.join(models) or 'none'}"))
    effects = [*summary.get("factors", []), *summary.get("covariates", [])]
    unknown = [f for f in sent.fixed or [] if f not in effects]
    if unknown:
        problems.append(Problem(reason=f"{', '.join(unknown)} is not an effect of the dataset",
                                field="fixed", fix=f"choose among {', '.join(effects)}"))
    params: dict[str, Any] = {"dataset": name, "trait": trait, "model": model,
                              "fixed": sent.fixed}
    if sent.analysis == "mate":
        neither = "delta_f" not in values and "max_kinship" not in values
        matings = _number(values, "matings", 1, 100_000, problems, whole=True,
                          default=first["matings"])
        delta_f = _number(values, "delta_f", 0.0, 1.0, problems, low_open=True,
                          optional=True, default=first["delta_f"] if neither else "")
        kinship = _number(values, "max_kinship", 0.0, 1.0, problems, low_open=True,
                          optional=True)
        share = _number(values, "max_contribution", 0.0, 0.5, problems, low_open=True,
                        default=first["max_contribution"])
        if not any(p.field in ("delta_f", "max_kinship") for p in problems) and \
                (delta_f is None) == (kinship is None):
            problems.append(Problem(
                reason="give a rate of inbreeding ΔF or a largest mean kinship, not both"
                if delta_f is not None else "give a rate of inbreeding ΔF or a largest mean "
                "kinship", field="delta_f", value=values.get("delta_f", ""),
                fix="e.g. ΔF 0.01 (1 % a generation), and leave the kinship empty"))
        params.update({"matings": int(matings or 0), "delta_f": delta_f,
                       "max_kinship": kinship, "max_contribution": share})
    if problems:
        raise ValidationFailed(f"the {sent.analysis} form is not valid", problems)
    kind = "bayes" if sent.analysis == "predict" and model == "bayes" else sent.analysis
    if kind == "bayes":
        params.update({"iterations": BAYES_ITERATIONS, "seed": 1})
    return Analysis(kind, params)


# -- running: a background job, waited for when the data are small -----------------------

def start(bank: Bank, actor: Actor, name: str, sent: Submitted) -> tuple[Job, bool]:
    """Check the form, load the dataset and start the analysis as a job of ``actor``; the
    job, and whether the data are small enough to wait for."""
    require_writer(actor)
    summary = bank.breeding.summary(actor, name)
    analysis = check_form(summary, sent)
    data = bank.breeding.load(actor, Inputs(), name)
    params = analysis.params
    service = bank.breeding
    if analysis.kind == "qc":
        qc = QcOptions(**{k: params[k] for k in QcOptions.__dataclass_fields__})

        def work(progress: Callable[[str, int, int], None]) -> dict[str, Any]:
            return service.quality_control(actor, data, qc, progress)[0]
    else:
        trait = choose_trait(data, params["trait"])
        check_dataset(data, trait, params["model"])  # a problem is a 422 before any job
        opts = ModelOptions(params["model"])
        fixed = params["fixed"]
        if analysis.kind == "mate":
            recorded = set(sexes(data).values())
            if not {"M", "F"} <= recorded:
                raise ValidationFailed("a mating plan needs males and females", [Problem(
                    reason=f"dataset {name} records "
                           + ("no sex" if not recorded else "no male" if "M" not in recorded
                              else "no female"),
                    fix="give every candidate M or F in the pedigree's sex column (replace "
                        "the dataset)")])

            def work(progress: Callable[[str, int, int], None]) -> dict[str, Any]:
                return service.mating_plan(
                    actor, data, trait, fixed, opts, None, params["matings"],
                    params["max_kinship"], params["delta_f"], params["max_contribution"],
                    progress)
        else:
            iterations, seed = params.get("iterations", BAYES_ITERATIONS), params.get("seed", 1)

            def work(progress: Callable[[str, int, int], None]) -> dict[str, Any]:
                return service.predictions(actor, data, trait, fixed, opts, None, iterations,
                                           seed, progress)[0]

    def task(progress: Callable[[int, int, str], None]) -> dict[str, Any]:
        result: dict[str, Any] = clean(work(lambda step, done, total:
                                            progress(done, total, step)))
        return result

    job = bank.jobs.submit(kind=f"breed-{analysis.kind}", owner=actor.username,
                           params={"analysis": sent.analysis, **params}, task=task)
    return job, not large(data)


def results(bank: Bank, actor: Actor, job_id: str) -> dict[str, Any]:
    """A breeding job and, once done, its result (404 for a job ``actor`` may not read)."""
    job = breeding_job(bank, actor, job_id)
    analysis = job.kind.removeprefix("breed-")
    result = job.result if job.status == "done" else None
    item = {k: v for k, v in job.to_dict().items() if k != "result"}
    dataset = job.params.get("dataset")
    data: dict[str, Any] = {
        "job": item, "analysis": analysis, "dataset": dataset, "result": result,
        "running": job.status in ("queued", "running"),
        "csv": f"/breeding/results/{job.id}.csv" if result is not None and analysis in TABLES
        else None}
    mate = None
    if (analysis == "predict" and result is not None and dataset and actor.can_write
            and job.params.get("model") != "bayes" and _may_mate(bank, actor, dataset)):
        mate = {"trait": job.params.get("trait", ""), "model": job.params.get("model", ""),
                "fixed": job.params.get("fixed"), "matings": "20", "delta_f": "0.01",
                "max_kinship": "", "max_contribution": "0.5"}
    data["mate"] = mate
    return data


def _may_mate(bank: Bank, actor: Actor, dataset: str) -> bool:
    """Whether a mating plan of ``dataset`` may be offered (it still exists, with sexes)."""
    try:
        return may_have_sexes(bank.breeding.summary(actor, dataset))
    except NotFound:
        return False


def breeding_job(bank: Bank, actor: Actor, job_id: str) -> Job:
    """A breeding job ``actor`` may read; the same 404 as for no such job otherwise."""
    try:
        job = bank.jobs.read(actor, job_id)
    except NotFound:
        job = None
    if job is None or not job.kind.startswith("breed-"):
        raise NotFound(f"no breeding analysis {job_id!r}", [Problem(
            reason="no analysis with that id that you may read", value=job_id[:64],
            fix="open your analyses from the breeding page")])
    return job


# -- problems beside their fields ---------------------------------------------------------

def _role(p: Problem, names: Mapping[str, list[str]] | None = None) -> str:
    """The upload a problem is in: from its saved file's path (…/genotypes.bed,
    …/pedigree.csv), or the name the breeder sent it with (``names``: upload -> names)."""
    if not p.file:
        return ""
    if Path(p.file).is_absolute():
        return Path(p.file).name.split(".", 1)[0]
    return next((role for role, sent in (names or {}).items() if p.file in sent), "")


def _uploaded(p: Problem, names: Mapping[str, list[str]]) -> Problem:
    """``p`` with the saved file's path replaced by the name of the file the breeder
    uploaded (a problem never shows the server's folders)."""
    if not p.file or not Path(p.file).is_absolute():
        return p
    saved, role = Path(p.file).name, _role(p)
    sent = names.get(role, [])
    suffix = saved[len(role):].lower()
    match = [n for n in sent if n.lower().endswith(suffix)] or sent
    return replace(p, file=match[0] if match else saved)


def renamed(exc: LanhaiError, names: Mapping[str, list[str]]) -> LanhaiError:
    """``exc`` with its problems' files named as uploaded."""
    if not exc.problems:
        return exc
    return type(exc)(exc.message, [_uploaded(p, names) for p in exc.problems])


def beside(problems: list[Problem], fields: tuple[str, ...],
           names: Mapping[str, list[str]] | None = None) -> dict[str, list[dict[str, Any]]]:
    """Problems grouped by the form field they belong beside: the field they name, else the
    file they are in (genotypes, pedigree, phenotypes), else the form as a whole ('')."""
    out: dict[str, list[dict[str, Any]]] = {}
    for p in problems:
        key = p.field if p.field in fields else ""
        if not key and _role(p, names) in fields:
            key = _role(p, names)
        out.setdefault(key, []).append(_uploaded(p, names or {}).to_dict())
    return out


__all__ = ["ANALYSES", "SHOWN_ROWS", "Submitted", "beside", "breeding_job", "check_form",
           "dataset_page", "defaults", "overview", "renamed", "results", "start"]
