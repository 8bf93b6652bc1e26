"""CLI commands `lanhai screen …`: assays imported from tables, models trained and validated
on them, predictions, the library ranked by a model, and a compound's screening profile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from lanhai.cli.common import (
    bank,
    emit,
    handles_errors,
    is_tty,
    json_option,
    local_actor,
    progress_bar,
    write_file,
)
from lanhai.imports.mapping import parse_pairs
from lanhai.services.screening import ALGORITHMS


def register(cli: click.Group) -> None:
    """Add `screen` to ``cli``."""
    cli.add_command(screen)


@click.group("screen")
def screen() -> None:
    """Compound screening: assays, models trained on them, predictions with their
    applicability domain, the library ranked, and screening profiles."""


@screen.command("assays")
@json_option
@handles_errors
def assays(as_json: bool) -> None:
    """The assays, with their result and model counts."""
    with bank() as opened:
        found = opened.screening.assays(local_actor())

    def text() -> None:
        for a in found:
            click.echo(f"{a['key']:<24} {a['name']} ({a['endpoint'] or 'any endpoint'}, "
                       f"{a['result_count']:,} results, {a['models']} models)")

    emit(found, as_json, text)


_ASSAY_OPTIONS = (("--name", "name"), ("--target", "target"), ("--endpoint", "endpoint"),
                  ("--description", "description"))


def _assay_options(func: Any) -> Any:
    func = click.option("--confidential/--public", "restricted", default=None,
                        help="only those who may see restricted records see it")(func)
    for option, name in reversed(_ASSAY_OPTIONS):
        func = click.option(option, name, default=None)(func)
    return func


@screen.command("create")
@click.argument("key")
@_assay_options
@json_option
@handles_errors
def create(key: str, as_json: bool, **values: Any) -> None:
    """A new assay: KEY (mic-s-aureus) and --name; --target and --endpoint (IC50, EC50, Ki,
    Kd, MIC, % inhibition, activity call) as known."""
    given = {k: v for k, v in values.items() if v is not None}
    with bank() as opened:
        made = opened.screening.create_assay(local_actor(), key, given)
    emit(made, as_json, f"created assay {made['key']}: {made['name']}")


@screen.command("update")
@click.argument("key")
@_assay_options
@click.option("--version", type=int, default=None,
              help="refuse the change if the assay is no longer at this version")
@json_option
@handles_errors
def update(key: str, version: int | None, as_json: bool, **values: Any) -> None:
    """Change an assay's name, target, endpoint, description or confidentiality."""
    given = {k: v for k, v in values.items() if v is not None}
    with bank() as opened:
        made = opened.screening.update_assay(local_actor(), key, given, version)
    emit(made, as_json, f"assay {made['key']} is at version {made['version']}")


@screen.command("show")
@click.argument("key")
@json_option
@handles_errors
def show(key: str, as_json: bool) -> None:
    """One assay: what its results hold, duplicates and conflicting replicates, models."""
    with bank() as opened:
        found = opened.screening.assay(local_actor(), key)

    def text() -> None:
        click.echo(f"{found['key']}: {found['name']} — {found['result_count']:,} results "
                   f"of {found['compounds']:,} compounds ({found['linked']} in the bank)")
        for endpoint, count in found["endpoints"].items():
            click.echo(f"  {endpoint}: {count:,}")
        for c in found["conflicts"]:
            click.echo(f"  conflict, rows {', '.join(map(str, c['rows']))}: {c['reason']}")
        for m in found["models"]:
            click.echo(f"  model {m['key']} ({m['algorithm']}, {m['training_size']} "
                       f"compounds): {m['validation']['scaffold']['summary']}")

    emit(found, as_json, text)


@screen.command("import")
@click.argument("key")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--map", "maps", multiple=True, metavar="SOURCE=COLUMN",
              help="read the file's column SOURCE as COLUMN (compound, smiles, inchikey, "
                   "target, organism, endpoint, value, unit, qualifier, call, source)")
@click.option("--endpoint", default=None, help="the endpoint of rows that do not say")
@click.option("--target", default=None, help="the target of rows that do not say")
@click.option("--organism", default=None, help="the organism of rows that do not say")
@click.option("--replace", is_flag=True, help="replace the results the assay holds")
@json_option
@handles_errors
def import_(key: str, file: Path, maps: tuple[str, ...], endpoint: str | None,
            target: str | None, organism: str | None, replace: bool, as_json: bool) -> None:
    """Import an assay table (TSV or CSV, ChEMBL's activity export too) into assay KEY:
    every row checked, all or nothing; units normalised to nM and pX."""
    mapping = dict(parse_pairs(maps, "--map", split_last=True))
    with bank() as opened:
        report = opened.screening.import_results(
            local_actor(), key, file, mapping=mapping or None, replace=replace,
            endpoint=endpoint, target=target, organism=organism)

    def text() -> None:
        if report["status"] == "unchanged":
            click.echo(f"{file.name} was imported into {key} before: nothing changed")
            return
        click.echo(f"{report['rows']:,} results of {report['compounds']:,} compounds "
                   f"imported into {key} ({report['linked']} linked to compound records, "
                   f"{report['censored']} censored)")
        for c in report["conflicts"]:
            click.echo(f"  conflict, rows {', '.join(map(str, c['rows']))}: {c['reason']}")
        if report["duplicates"]:
            click.echo(f"  {len(report['duplicates'])} exact duplicates")

    emit(report, as_json, text)


@screen.command("train")
@click.argument("key")
@click.option("--endpoint", required=True, help="the endpoint to learn (IC50, MIC, …)")
@click.option("--target", default=None, help="only rows of this target (or organism)")
@click.option("--threshold", type=float, default=None,
              help="a pX threshold: learn active (pX >= threshold) or not")
@click.option("--algorithm", type=click.Choice(ALGORITHMS), default="random_forest",
              show_default=True)
@click.option("--folds", type=int, default=5, show_default=True)
@click.option("--repeats", type=int, default=2, show_default=True,
              help="rounds of cross-validation per split")
@click.option("--seed", type=int, default=0, show_default=True)
@json_option
@handles_errors
def train(key: str, endpoint: str, target: str | None, threshold: float | None,
          algorithm: str, folds: int, repeats: int, seed: int, as_json: bool) -> None:
    """Train a model on assay KEY's endpoint, validated by scaffold and by random split,
    and register it as the assay's next version."""
    with bank() as opened, progress_bar(is_tty() and not as_json, "training") as progress:
        made = opened.screening.train(local_actor(), key, endpoint=endpoint, target=target,
                                      threshold=threshold, algorithm=algorithm, folds=folds,
                                      repeats=repeats, seed=seed, progress=progress)

    def text() -> None:
        click.echo(f"registered model {made['key']} ({made['algorithm']}, "
                   f"{made['training_size']} compounds, sha256 {made['digest'][:12]}…)")
        for split, report in made["validation"].items():
            click.echo(f"  {split}: {report['summary']}")

    emit(made, as_json, text)


@screen.command("models")
@click.option("--assay", default=None, help="only this assay's models")
@json_option
@handles_errors
def models(assay: str | None, as_json: bool) -> None:
    """The models, newest version first."""
    with bank() as opened:
        found = opened.screening.models(local_actor(), assay)

    def text() -> None:
        for m in found:
            click.echo(f"{m['key']:<28} {m['task']:<15} {m['algorithm']:<18} "
                       f"{m['training_size']:>6,} compounds  {m['created_at'][:10]}")

    emit(found, as_json, text)


@screen.command("predict")
@click.argument("model")
@click.argument("smiles", nargs=-1, required=True)
@json_option
@handles_errors
def predict(model: str, smiles: tuple[str, ...], as_json: bool) -> None:
    """Predict SMILES with MODEL (assay.vN): value, uncertainty and domain."""
    with bank() as opened:
        found = opened.screening.predict(local_actor(), model, list(smiles))

    def text() -> None:
        for p in found["predictions"]:
            if p["error"]:
                click.echo(f"{p['smiles']}: {p['error']}")
                continue
            domain = "in domain" if p["in_domain"] else "OUTSIDE the model's domain"
            click.echo(f"{p['value']:.3f} ± {p['uncertainty']:.3f}  {domain} (similarity "
                       f"{p['domain_similarity']:.2f})  {p['smiles']}")

    emit(found, as_json, text)


@screen.command("rank")
@click.argument("model")
@click.option("--limit", type=int, default=20, show_default=True,
              help="compounds to show (the files hold all)")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="write the whole ranking as CSV")
@click.option("--sdf", "sdf_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="write the whole ranking as SDF")
@click.option("--jobs", type=click.IntRange(1, 64), default=1, show_default=True,
              help="worker processes for a large library")
@json_option
@handles_errors
def rank(model: str, limit: int, csv_path: Path | None, sdf_path: Path | None, jobs: int,
         as_json: bool) -> None:
    """Rank the bank's compounds by MODEL: most active first, those outside its domain
    last."""
    with bank() as opened, progress_bar(is_tty() and not as_json, "screening") as progress:
        actor = local_actor()
        found = opened.screening.rank_library(actor, model, limit=limit, progress=progress,
                                              jobs=jobs)
        for path, fmt in ((csv_path, "csv"), (sdf_path, "sdf")):
            if path is not None:
                write_file(path, opened.screening.ranking_file(actor, model, fmt))

    def text() -> None:
        click.echo(f"{found['count']:,} compounds ranked by {found['model']['key']} "
                   f"({found['score']}); {found['outside_domain']} outside its domain")
        for r in found["ranking"]:
            flag = "" if r["in_domain"] else "  (outside domain)"
            click.echo(f"{r['rank']:>5}. {r['accession']}  {r['score']:.3f} ± "
                       f"{r['uncertainty']:.3f}  {r['name']}{flag}")

    emit(found, as_json, text)


@screen.command("profile")
@click.argument("compound")
@json_option
@handles_errors
def profile(compound: str, as_json: bool) -> None:
    """A compound's screening profile (an accession, or a SMILES): properties,
    drug-likeness, alerts, nearest drugs and library compounds, every model's
    prediction."""
    is_accession = compound.upper().startswith("LH") and compound[4:].isdigit()
    with bank() as opened:
        found = opened.screening.profile(
            local_actor(), accession=compound if is_accession else None,
            smiles=None if is_accession else compound)

    def text() -> None:
        props = found["properties"]
        click.echo(f"{found.get('accession') or found['smiles']}  {found['formula']}  "
                   f"MW {props['mw']:.1f}  cLogP {props['clogp']:.2f}  TPSA "
                   f"{props['tpsa']:.1f}")
        for rule in found["rules"]:
            verdict = "passes" if rule["passed"] else "fails: " + "; ".join(
                rule["violations"])
            click.echo(f"  {rule['name']}: {verdict}")
        for alert in found["alerts"]:
            click.echo(f"  alert ({alert['catalogue']}): {alert['description']}")
        for p in found["predictions"]:
            domain = "" if p["in_domain"] else " (outside the model's domain)"
            click.echo(f"  {p['model']['key']}: {p['score']} {p['value']:.3f}{domain}")

    emit(found, as_json, text)
