"""``lanhai breed …``: genomic selection from files to a mating plan.

import, qc, grm, reml, predict, cv, mate. Each analysis command takes files directly
(--genotypes, --phenotypes, --pedigree) or a dataset imported with ``breed import``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
import numpy as np

from lanhai.breeding.analyses import choose_trait, read_candidates
from lanhai.breeding.data import Dataset
from lanhai.breeding.germplasm import linked_lines
from lanhai.breeding.io import parse_map
from lanhai.breeding.pipeline import Inputs, ModelOptions
from lanhai.breeding.qc import QcOptions
from lanhai.breeding.validate import MODELS
from lanhai.cli.common import (
    bank,
    emit,
    handles_errors,
    is_tty,
    json_option,
    local_actor,
    settings,
)
from lanhai.errors import Problem, UsageError
from lanhai.services.breeding import BreedingService

F = TypeVar("F", bound=Callable[..., Any])
PathType = click.Path(path_type=Path, dir_okay=False)


def register(cli: click.Group) -> None:
    """Add the ``breed`` group to ``cli``."""
    cli.add_command(breed)


@click.group()
def breed() -> None:
    """Genomic selection: QC, relationships, REML, GEBVs, cross-validation, matings."""


def input_options(func: F) -> F:
    """--genotypes/--phenotypes/--pedigree/--dataset and how to read them."""
    opts = [
        click.option("--genotypes", type=click.Path(path_type=Path),
                     help="PLINK .bed (with .bim/.fam), VCF(.gz) or a CSV/TSV table."),
        click.option("--phenotypes", type=PathType, help="CSV/TSV: id, traits, effects."),
        click.option("--pedigree", type=PathType, help="CSV/TSV: id, sire, dam[, birth, sex]."),
        click.option("--dataset", help="Name of a dataset imported with `breed import`."),
        click.option("--vcf-field", default="GT", show_default=True,
                     type=click.Choice(["GT", "DS"], case_sensitive=False)),
        click.option("--factor", "factors", multiple=True,
                     help="Phenotype column that is a class effect (repeatable)."),
        click.option("--covariate", "covariates", multiple=True,
                     help="Numeric phenotype column used as a covariate (repeatable)."),
        click.option("--map", "columns", multiple=True, metavar="COLUMN=FIELD",
                     help="Read a pedigree or phenotype column as a field, as `lanhai import "
                          "--map`: --map Father_ID=sire, --map Mother_ID=dam, --map "
                          "体重=weight (a trait renamed), --map Notes=- (left out); "
                          "repeatable."),
    ]
    for opt in reversed(opts):
        func = opt(func)
    return func


def model_options(func: F) -> F:
    opts = [
        click.option("--trait", help="Trait column to analyse."),
        click.option("--model", default="gblup", show_default=True,
                     type=click.Choice(MODELS)),
        click.option("--fixed", help="Comma-separated fixed effects (default: all "
                                     "factor/covariate columns; '' for none)."),
        click.option("--relationship", type=PathType,
                     help="pblup: a pedigree relationship matrix file instead of a pedigree."),
        click.option("--grm-method", type=click.Choice(["1", "2"]), default="1",
                     show_default=True, help="VanRaden method for G."),
        click.option("--blend", type=float, default=0.05, show_default=True,
                     help="ssgblup: weight of A22 in G."),
        click.option("--tuning", default="christensen", show_default=True,
                     type=click.Choice(["christensen", "mean", "none"])),
        click.option("--no-qc", is_flag=True, help="Use genotypes as given (no filters)."),
    ]
    for opt in reversed(opts):
        func = opt(func)
    return func


@contextmanager
def _breeding(catalog: bool = False) -> Iterator[BreedingService]:
    """Breeding over the bank's catalog when germplasm accessions must be checked; files
    and imported datasets alone need no catalog (nor `lanhai init`)."""
    if catalog:
        with bank() as opened:
            yield opened.breeding
    else:
        yield BreedingService.for_settings(settings())


def _inputs(kw: dict[str, Any]) -> Inputs:
    return Inputs(kw.get("genotypes"), kw.get("phenotypes"), kw.get("pedigree"),
                  kw.get("relationship"), None, kw.get("vcf_field", "GT").upper(),
                  list(kw.get("factors", ())), list(kw.get("covariates", ())),
                  columns=parse_map(kw.get("columns", ())))


def _load(kw: dict[str, Any], service: BreedingService) -> Dataset:
    """The files given, over the imported dataset named by --dataset."""
    return service.load(local_actor(), _inputs(kw), kw.get("dataset"))


def _model(kw: dict[str, Any]) -> ModelOptions:
    return ModelOptions(kw["model"], int(kw["grm_method"]), 0.01, kw["blend"], kw["tuning"],
                        None if kw["no_qc"] else QcOptions())


def _fixed(kw: dict[str, Any]) -> list[str] | None:
    text = kw.get("fixed")
    return None if text is None else [f.strip() for f in text.split(",") if f.strip()]


def _trait(kw: dict[str, Any], data: Dataset) -> str:
    return choose_trait(data, kw.get("trait"))


def _progress() -> Callable[[str, int, int], None]:
    if not is_tty():
        return lambda step, done, total: None

    def show(step: str, done: int, total: int) -> None:
        end = "\n" if total and done >= total else ""
        click.echo(f"\r{step}: {done}/{total or '?'}" + end, err=True, nl=False)

    return show


def _f(x: float, nd: int = 3) -> str:
    return "NA" if x is None or not np.isfinite(x) else f"{x:.{nd}f}"


def command(func: F) -> F:
    """Common decorators of every breed command (JSON and error handling)."""
    return json_option(handles_errors(func))


@breed.command("import")
@click.option("--name", required=True, help="Dataset name (letters, digits, _ . -).")
@click.option("--germplasm", help="Germplasm accession (LHGP…) every animal belongs to (a "
              "line); an `accession` column links animals one by one.")
@click.option("--publish", is_flag=True, help="Let readers and anonymous callers of the API "
              "see the dataset's summary and its germplasm links.")
@click.option("--replace", is_flag=True, help="Replace a dataset of the same name.")
@click.option("--dry-run", is_flag=True, help="Check and count; store nothing.")
@input_options
@command
def import_(name: str, germplasm: str | None, publish: bool, replace: bool, dry_run: bool,
            as_json: bool, **kw: Any) -> None:
    """Check the files (germplasm accessions against the catalog) and store them as dataset
    NAME in the bank's data folder."""
    inp = _inputs({**kw, "dataset": None})
    inp.germplasm = germplasm
    if not (inp.genotypes or inp.pedigree or inp.phenotypes):
        raise UsageError("nothing to import", [Problem(
            reason="give --genotypes, --pedigree and/or --phenotypes")])
    data = BreedingService.for_settings(settings()).load(local_actor(), inp)
    sources = {k: str(v) for k, v in (("genotypes", inp.genotypes), ("pedigree", inp.pedigree),
                                      ("phenotypes", inp.phenotypes)) if v}
    with _breeding(catalog=bool(linked_lines(data, germplasm))) as service:
        res = service.import_dataset(local_actor(), name, data, germplasm=germplasm,
                                     dosage=inp.vcf_field == "DS", sources=sources,
                                     published=publish, replace=replace, dry_run=dry_run,
                                     columns=inp.columns)
    counts = res["counts"]
    verb = "checked (dry run)" if dry_run else "imported"
    emit(res, as_json, f"{verb} {name}: " + ", ".join(f"{k} {v}" for k, v in counts.items())
         + "".join(f"\n  germplasm {acc}: {n} animals" for acc, n in res["germplasm"].items()))


@breed.command("datasets")
@click.option("--germplasm", help="Only datasets with animals of this germplasm line.")
@json_option
@handles_errors
def datasets_(germplasm: str | None, as_json: bool) -> None:
    """Imported datasets, with the germplasm lines they cover."""
    with _breeding() as service:
        items = service.list_datasets(local_actor(), germplasm)

    def text() -> None:
        if not items:
            click.echo("no datasets" + (f" of germplasm {germplasm}" if germplasm else ""))
        for d in items:
            c = d["counts"]
            lines = ", ".join(f"{a} ({n})" for a, n in d["germplasm"].items()) or "-"
            click.echo(f"{d['dataset']:<20} genotyped {c.get('genotyped_animals', 0):>6}  "
                       f"SNPs {c.get('snps', 0):>7}  pedigree {c.get('pedigree_animals', 0):>6}"
                       f"  phenotyped {c.get('phenotyped_animals', 0):>6}  "
                       f"{'published' if d['published'] else 'private':9}  germplasm {lines}")

    emit({"datasets": items}, as_json, text)


@breed.command()
@input_options
@click.option("--min-snp-call", type=float, default=0.90, show_default=True)
@click.option("--min-animal-call", type=float, default=0.90, show_default=True)
@click.option("--min-maf", type=float, default=0.01, show_default=True)
@click.option("--hwe-p", type=float, default=1e-6, show_default=True,
              help="Exact-test threshold (0 skips; use 0 for inbred lines).")
@click.option("--max-mendel", type=float, default=0.02, show_default=True)
@click.option("--drop-duplicates", is_flag=True)
@click.option("--out", type=click.Path(path_type=Path), help="Write the filtered genotypes "
              "(hard calls, missing kept missing) as a PLINK fileset with this prefix.")
@command
def qc(as_json: bool, min_snp_call: float, min_animal_call: float, min_maf: float,
       hwe_p: float, max_mendel: float, drop_duplicates: bool, out: Path | None,
       **kw: Any) -> None:
    """Filter SNPs and animals, check parentage, find duplicates, impute; count each step."""
    service = BreedingService.for_settings(settings())
    data = _load(kw, service)
    body, res = service.quality_control(local_actor(), data, QcOptions(
        min_snp_call, min_animal_call, min_maf, hwe_p, max_mendel, 0.99, drop_duplicates),
        _progress())
    if out is not None:
        from bed_reader import to_bed  # type: ignore[import-untyped,unused-ignore]
        g = res.filtered or res.genotypes  # hard calls: PLINK has no imputed dosages
        to_bed(out.with_suffix(".bed"), g.dosages, properties={
            "iid": g.ids, "sid": g.snps, "chromosome": g.chrom or None,
            "bp_position": g.pos or None})

    def text() -> None:
        click.echo(f"{'step':18} {'animals in':>10} {'-':>5} {'SNPs in':>8} {'-':>6}  rule")
        for s in res.steps:
            click.echo(f"{s.step:18} {s.animals_in:>10} {s.animals_removed:>5} "
                       f"{s.snps_in:>8} {s.snps_removed:>6}  {s.rule}")
        click.echo(f"kept {res.genotypes.n_animals} animals, {res.genotypes.n_snps} SNPs; "
                   f"imputed {res.imputed_from_parents} from parents, {res.imputed_mean} "
                   f"by the mean")
        for m in res.mendel:
            click.echo(f"Mendelian conflict: {m['animal']} vs {m['role']} {m['parent']}: "
                       f"{m['conflicts']}/{m['snps_compared']} SNPs")
        for d in res.duplicates:
            click.echo(f"duplicate: {d['animal1']} = {d['animal2']} ({d['identity']:.3f})")

    emit(body, as_json, text)


@breed.command()
@input_options
@click.option("--matrix", default="G", show_default=True,
              type=click.Choice(["G", "A", "A-inverse", "H-inverse"], case_sensitive=False))
@click.option("--grm-method", type=click.Choice(["1", "2"]), default="1", show_default=True)
@click.option("--blend", type=float, default=0.05, show_default=True)
@click.option("--tuning", default="christensen", show_default=True,
              type=click.Choice(["christensen", "mean", "none"]))
@click.option("--no-qc", is_flag=True)
@click.option("--out", type=click.Path(path_type=Path), help="Write the matrix: .npy, or TSV "
              "(a table for G and A, triplets id1 id2 value for the inverses).")
@command
def grm(as_json: bool, matrix: str, grm_method: str, blend: float, tuning: str, no_qc: bool,
        out: Path | None, **kw: Any) -> None:
    """Relationship matrices: G (VanRaden 1 or 2), A, A⁻¹ or single-step H⁻¹."""
    service = BreedingService.for_settings(settings())
    data = _load(kw, service)
    opts = ModelOptions("gblup", int(grm_method), 0.0, blend, tuning,
                        None if no_qc else QcOptions())
    info = service.relationship_matrix(local_actor(), data, matrix, opts, out, _progress())
    emit(info, as_json, "\n".join(f"{k}: {v}" for k, v in info.items()))


@breed.command()
@input_options
@model_options
@click.option("--second-trait", help="A second trait: fit the bivariate model.")
@click.option("--method", default="spectral", show_default=True,
              type=click.Choice(["spectral", "ai"]),
              help="spectral: exact, one eigendecomposition; ai: average-information REML.")
@command
def reml(as_json: bool, second_trait: str | None, method: str, **kw: Any) -> None:
    """Variance components and heritability (± SE) by REML; bivariate with --second-trait."""
    service = BreedingService.for_settings(settings())
    data = _load(kw, service)
    traits = [_trait(kw, data)] + ([second_trait] if second_trait else [])
    res = service.variance_components(local_actor(), data, traits, _fixed(kw), _model(kw), method,
                                      kw.get("relationship"), _progress())

    def text() -> None:
        if len(traits) == 2:
            click.echo(f"{traits[0]} × {traits[1]} ({res['model']}, bivariate AI-REML)")
            click.echo(f"  h²: {_f(res['h2'][0])}, {_f(res['h2'][1])}   genetic correlation "
                       f"{_f(res['rg'])} ± {_f(res['rg_se'])}")
        else:
            click.echo(f"{traits[0]} ({res['model']}, {res['method']} REML, "
                       f"{res['records']} records)")
            click.echo(f"  h² = {_f(res['h2'])} ± {_f(res['h2_se'])}   σg² = "
                       f"{_f(res['sigma_g'], 4)} ± {_f(res['sigma_g_se'], 4)}   σe² = "
                       f"{_f(res['sigma_e'], 4)} ± {_f(res['sigma_e_se'], 4)}")
        for note in res.get("notes", []):
            click.echo(f"  note: {note}")

    emit(res, as_json, text)


@breed.command()
@input_options
@model_options
@click.option("--top", type=int, default=20, show_default=True,
              help="Rows to print (all go to --out and --json).")
@click.option("--out", type=click.Path(path_type=Path), help="Write the ranking as TSV.")
@click.option("--iterations", type=int, default=3000, show_default=True,
              help="bayes: Gibbs iterations (a third is burn-in).")
@click.option("--seed", type=int, default=1, show_default=True)
@command
def predict(as_json: bool, top: int, out: Path | None, iterations: int, seed: int,
            **kw: Any) -> None:
    """Rank animals by GEBV (pblup, gblup, ssgblup or bayes) with reliabilities."""
    service = BreedingService.for_settings(settings())
    data = _load(kw, service)
    trait = _trait(kw, data)
    body, _, _ = service.predictions(local_actor(), data, trait, _fixed(kw), _model(kw),
                                     kw.get("relationship"), iterations, seed, _progress())
    if out is not None:
        cols = ["rank", "id", "gebv", "reliability", "accuracy", "pev", "phenotyped"]
        cols = [c for c in cols if c in body["ranking"][0]] if body["ranking"] else cols
        from lanhai.breeding.io import write_table
        write_table(out, cols, [[r[c] for c in cols] for r in body["ranking"]])

    def text() -> None:
        vc = body.get("variance_components") or body.get("bayes", {})
        click.echo(f"{trait} by {body['model']}: {body['records']} records, "
                   f"h² {_f(vc.get('h2', float('nan')))}")
        for r in body["ranking"][:top]:
            rel = (f"  reliability {_f(r['reliability'])}  accuracy {_f(r['accuracy'])}"
                   if "reliability" in r else "")
            click.echo(f"{r['rank']:>5}  {r['id']:<16} {r['gebv']:>10.4f}{rel}"
                       f"{'' if r['phenotyped'] else '  (no record)'}")
        for note in body["notes"]:
            click.echo(f"note: {note}", err=True)

    emit(body, as_json, text)


@breed.command()
@input_options
@model_options
@click.option("--folds", default="5", show_default=True,
              help="Number of folds, or a file of id and fold number (0 = never tested).")
@click.option("--repeats", type=int, default=1, show_default=True)
@click.option("--by-family", is_flag=True, help="Keep full-sib families within one fold.")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--iterations", type=int, default=1500, show_default=True,
              help="bayes: Gibbs iterations per fold.")
@command
def cv(as_json: bool, folds: str, repeats: int, by_family: bool, seed: int, iterations: int,
       **kw: Any) -> None:
    """Cross-validate: per-fold and overall accuracy r/√h², bias (slope) and h²."""
    service = BreedingService.for_settings(settings())
    data = _load(kw, service)
    trait = _trait(kw, data)
    res = service.cross_validation(local_actor(), data, trait, _fixed(kw), _model(kw), folds,
                                   seed, repeats, by_family, kw.get("relationship"), iterations,
                                   _progress())

    def text() -> None:
        click.echo(f"{trait} by {res['model']}, {res['folds_from']}, seed {seed}, "
                   f"{res['records']} records")
        click.echo(f"{'rep':>3} {'fold':>4} {'train':>6} {'test':>5} {'h2':>6} {'r':>6} "
                   f"{'acc':>6} {'bias':>6}")
        for f in res["folds"]:
            click.echo(f"{f['repeat']:>3} {f['fold']:>4} {f['n_train']:>6} {f['n_test']:>5} "
                       f"{_f(f['h2']):>6} {_f(f['r']):>6} {_f(f['accuracy']):>6} "
                       f"{_f(f['bias']):>6}")
        s = res["summary"]
        click.echo(f"overall: r {_f(s['r_mean_within_folds'])} (mean of folds), "
                   f"{_f(s['r_pooled'])} (pooled); accuracy "
                   f"{_f(s['accuracy_mean_within_folds'])}; bias "
                   f"{_f(s['bias_mean_within_folds'])}; h² {_f(s['h2_mean'])}")

    emit(res, as_json, text)


@breed.command()
@input_options
@model_options
@click.option("--matings", type=int, required=True, help="Number of matings to plan.")
@click.option("--max-kinship", type=float, help="Maximum mean kinship of the parents.")
@click.option("--delta-f", type=float, help="Maximum rate of inbreeding per generation.")
@click.option("--max-contribution", type=float, default=0.5, show_default=True,
              help="Largest share of one parent within its sex (0.5 = no limit).")
@click.option("--candidates", type=PathType, help="File of candidate ids (first column); "
              "default: every animal with a known sex.")
@click.option("--out", type=click.Path(path_type=Path), help="Write the plan as TSV.")
@command
def mate(as_json: bool, matings: int, max_kinship: float | None, delta_f: float | None,
         max_contribution: float, candidates: Path | None, out: Path | None,
         **kw: Any) -> None:
    """Optimal contribution selection under a kinship limit, then least-inbred matings."""
    service = BreedingService.for_settings(settings())
    data = _load(kw, service)
    trait = _trait(kw, data)
    cands = read_candidates(candidates) if candidates is not None else None
    plan = service.mating_plan(local_actor(), data, trait, _fixed(kw), _model(kw), cands, matings,
                               max_kinship, delta_f, max_contribution, _progress())
    cols = ["mating", "sire", "dam", "progeny_inbreeding", "expected_progeny_value"]
    if out is not None:
        from lanhai.breeding.io import write_table
        write_table(out, cols, [[m[c] for c in cols] for m in plan["matings"]])

    def text() -> None:
        sel = plan["selection"]
        click.echo(f"{len(sel['parents'])} parents selected; mean kinship "
                   f"{sel['mean_kinship']:.4f} (limit {sel['kinship_limit']:.4f}); expected "
                   f"gain {sel['expected_gain']:.4f}")
        click.echo("\t".join(cols))
        for m in plan["matings"]:
            click.echo(f"{m['mating']}\t{m['sire']}\t{m['dam']}\t"
                       f"{m['progeny_inbreeding']:.4f}\t{m['expected_progeny_value']:.4f}")
        click.echo(f"mean progeny inbreeding {plan['mean_progeny_inbreeding']:.4f} "
                   f"(random pairing of the same parents: "
                   f"{plan['random_mating_inbreeding']:.4f})")

    emit(plan, as_json, text)
