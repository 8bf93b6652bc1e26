"""CLI commands `lanhai design …`: chassis models registered and checked, designs analysed
(FBA, pFBA, FVA, envelope, yield) and searched for growth-coupling knockouts, their fluxes,
SBML and SBOL3 written out, and the bank's enzymes for a missing step.

A design itself is a record: `lanhai create design --set title=… --set chassis=textbook
--set product=succ_e` and `lanhai update design …` change its inputs; `lanhai design run`
analyses them."""

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
from lanhai.kinds.design import KNOCKOUT_METHODS


def register(cli: click.Group) -> None:
    """Add `design` to ``cli``."""
    cli.add_command(design)


@click.group("design")
def design() -> None:
    """Strain and pathway design: chassis models, designs from the bank's parts, their
    analyses and growth-coupled knockouts."""


@design.command("models")
@json_option
@handles_errors
def models(as_json: bool) -> None:
    """The genome-scale models that ship with cobrapy, ready as chassis."""
    with bank() as opened:
        found = opened.design.bundled()

    def text() -> None:
        for m in found:
            click.echo(f"{m['name']:<12} {m['model_id']:<12} {m['organism']}")

    emit(found, as_json, text)


@design.command("chassis")
@click.option("--sbml", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="the model's SBML file (.xml or .xml.gz), validated before it is kept")
@click.option("--bundled", default=None, help="a model that ships with cobrapy "
              "(textbook, iJO1366, salmonella), instead of --sbml")
@click.option("--name", "model_name", default=None, help="the chassis's name")
@click.option("--organism", default=None)
@click.option("--strain", default=None, help="the strain record the model describes")
@click.option("--to", "accession", default=None,
              help="give this chassis record (LHCH…) its model instead of creating one")
@click.option("--skip-blocked", is_flag=True,
              help="do not count blocked reactions (minutes on a genome-scale model)")
@json_option
@handles_errors
def chassis(sbml: Path | None, bundled: str | None, model_name: str | None,
            organism: str | None, strain: str | None, accession: str | None,
            skip_blocked: bool, as_json: bool) -> None:
    """Register a chassis model: its SBML checked (mass and charge balance, blocked
    reactions, growth on its medium) and kept, linked to its strain."""
    values: dict[str, Any] = {k: v for k, v in (("model_name", model_name),
                                                 ("organism", organism),
                                                 ("bundled", bundled)) if v}
    if accession is None and "model_name" not in values:
        values["model_name"] = bundled or (sbml.stem if sbml else "")
    with bank() as opened, progress_bar(is_tty() and not as_json, "chassis") as progress:
        record = opened.design.register_chassis(
            local_actor(), values, sbml=sbml.read_bytes() if sbml else None,
            file_name=sbml.name if sbml else "model.xml", strain=strain,
            check_blocked=not skip_blocked, accession=accession, progress=progress)
    f = record.fields
    emit(record.to_dict(), as_json,
         f"{record.accession} {record.name}: {f['reaction_count']:,} reactions, "
         f"{f['metabolite_count']:,} metabolites, {f['gene_count']:,} genes; growth "
         f"{f.get('growth_rate', 0):.4f} /h; {f['mass_imbalanced']} reactions not mass "
         f"balanced, {f['charge_imbalanced']} not charge balanced"
         + (f", {f['blocked_reactions']} blocked" if "blocked_reactions" in f else ""))


@design.command("check")
@click.argument("chassis_ref", metavar="CHASSIS")
@json_option
@handles_errors
def check(chassis_ref: str, as_json: bool) -> None:
    """A chassis's model checks (an accession or a bundled model's name): counts, the
    reactions not balanced, dead ends, orphans and growth on its medium."""
    with bank() as opened:
        found = opened.design.chassis_report(local_actor(), chassis_ref)

    def text() -> None:
        counts = found["counts"]
        click.echo(f"{found['chassis']} ({found['model_id']}): {counts['reactions']:,} "
                   f"reactions, {counts['metabolites']:,} metabolites, {counts['genes']:,} "
                   f"genes; growth {found['growth'] or 0:.4f} /h ({found['growth_status']})")
        for key in ("mass_imbalanced", "charge_imbalanced"):
            for item in found[key][:20]:
                click.echo(f"  {key.replace('_', ' ')}: {item['reaction']} {item['difference']}")
        click.echo(f"  dead ends: {len(found['dead_ends'])}, orphans: {len(found['orphans'])}")

    emit(found, as_json, text)


@design.command("run")
@click.argument("accession")
@json_option
@handles_errors
def run(accession: str, as_json: bool) -> None:
    """Analyse a design from its stored inputs (FBA, pFBA, FVA, envelope, maximum yield)
    and keep the analysis; a rerun says whether the numbers changed."""
    with bank() as opened, progress_bar(is_tty() and not as_json, "design") as progress:
        found = opened.design.run(local_actor(), accession, progress=progress)

    def text() -> None:
        coupling, best = found["coupling"], found["yield"]
        click.echo(f"{accession}: growth {found['growth']:.4f} /h; product at that growth "
                   f"{coupling['product_min']:.4f}–{coupling['product_max']:.4f} mmol/gDW/h "
                   f"({'growth-coupled' if coupling['growth_coupled'] else 'not coupled'})")
        if best:
            click.echo(f"  maximum yield on {best['carbon_source']}: {best['molar_yield']:.4f} "
                       f"mol/mol, {best['mass_yield'] or 0:.4f} g/g, "
                       f"{best['carbon_yield'] or 0:.4f} C-mol/C-mol")
        for note in found["notes"]:
            click.echo(f"  {note}")
        click.echo(f"  analysis {found['digest'][:12]} "
                   f"({'new' if found['changed'] else 'the same as stored'})")

    emit(found, as_json, text)


@design.command("knockouts")
@click.argument("accession")
@click.option("--method", type=click.Choice(KNOCKOUT_METHODS), default="optknock",
              show_default=True)
@click.option("--max", "max_knockouts", type=int, default=3, show_default=True,
              help="at most this many knockouts")
@click.option("--time-limit", type=float, default=60.0, show_default=True,
              help="seconds the solver may take; designs found by then are kept, marked "
                   "partial")
@click.option("--solver", type=click.Choice(("glpk", "scip")), default=None)
@click.option("--candidates", default=None, metavar="IDS",
              help="the reactions the search may knock out, separated by ';' (reaction ids, "
                   "or subsystem:NAME); every knockable reaction when not given")
@json_option
@handles_errors
def knockouts(accession: str, method: str, max_knockouts: int, time_limit: float,
              solver: str | None, candidates: str | None, as_json: bool) -> None:
    """Knockouts that couple the design's product to growth, ranked, with the genes to
    delete."""
    chosen = [c.strip() for c in candidates.split(";") if c.strip()] if candidates else None
    with bank() as opened, progress_bar(is_tty() and not as_json, "knockouts") as progress:
        found = opened.design.knockouts(local_actor(), accession, method=method,
                                        max_knockouts=max_knockouts, time_limit=time_limit,
                                        solver=solver, candidates=chosen, progress=progress)

    def text() -> None:
        result = found["result"]
        click.echo(f"{result['method']} with {result['solver']}: {len(result['designs'])} "
                   f"designs in {result['elapsed']} s"
                   + (f" (partial: {result['reason']})" if result["partial"] else ""))
        for d in result["designs"]:
            e = d["evaluation"]
            genes = ", ".join(f"{g} ({n})" if n else g for g, n in d["gene_names"].items())
            click.echo(f"  {' + '.join(d['reactions']) or '-':<32} growth {e['growth']:.4f} "
                       f"product {e['product_min']:.3f}–{e['product_max']:.3f}"
                       f"{'  coupled' if e['growth_coupled'] else ''}; genes: {genes or '-'}")

    emit(found, as_json, text)


@design.command("show")
@click.argument("accession")
@json_option
@handles_errors
def show(accession: str, as_json: bool) -> None:
    """A design's stored analysis and knockout search."""
    with bank() as opened:
        found = opened.design.results(local_actor(), accession)

    def text() -> None:
        analysis = found["analysis"]
        if analysis is None:
            click.echo(f"{accession} has not been analysed: lanhai design run {accession}")
        else:
            click.echo(f"{accession}: growth {analysis['growth']:.4f} /h, analysis "
                       f"{analysis['digest'][:12]}")
            if analysis["yield"]:
                click.echo(f"  maximum yield {analysis['yield']['molar_yield']:.4f} mol/mol")
        if found["knockouts"]:
            designs = found["knockouts"]["result"]["designs"]
            click.echo(f"  knockout search: {len(designs)} designs")

    emit(found, as_json, text)


@design.command("fluxes")
@click.argument("accession")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="write the table here instead of printing it")
@json_option
@handles_errors
def fluxes(accession: str, csv_path: Path | None, as_json: bool) -> None:
    """The analysed design's fluxes as CSV: pFBA flux and FVA range of each reaction."""
    with bank() as opened:
        table = opened.design.flux_table(local_actor(), accession)
    if csv_path is not None:
        write_file(csv_path, table.encode("utf-8"))
        emit({"file": str(csv_path), "rows": table.count("\n") - 1}, as_json,
             f"wrote {csv_path}")
    else:
        emit({"csv": table}, as_json, lambda: click.echo(table, nl=False))


@design.command("export")
@click.argument("accession")
@click.option("--sbml", "sbml_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="write the design's model as SBML here")
@click.option("--sbol", "sbol_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="write the design's parts as SBOL3 (Turtle) here")
@json_option
@handles_errors
def export(accession: str, sbml_path: Path | None, sbol_path: Path | None,
           as_json: bool) -> None:
    """Write a design out: its model as SBML (FBC) and its parts as SBOL3."""
    if sbml_path is None and sbol_path is None:
        raise click.UsageError("give --sbml FILE, --sbol FILE or both")
    written = []
    with bank() as opened:
        actor = local_actor()
        if sbml_path is not None:
            write_file(sbml_path, opened.design.sbml(actor, accession))
            written.append(str(sbml_path))
        if sbol_path is not None:
            write_file(sbol_path, opened.design.sbol(actor, accession,
                                                     opened.settings.sbol_namespace))
            written.append(str(sbol_path))
    emit({"files": written}, as_json, "wrote " + ", ".join(written))


@design.command("enzymes")
@click.argument("query", metavar="EC_OR_FAMILY")
@click.option("--organism", default=None, help="prefer enzymes from this organism")
@click.option("--limit", type=int, default=20, show_default=True)
@json_option
@handles_errors
def enzymes(query: str, organism: str | None, limit: int, as_json: bool) -> None:
    """The bank's parts that could fill a step, by EC number (2.4.1.69, 2.4.1.-) or
    family (GT11, PF07167), best first."""
    with bank() as opened:
        found = opened.design.enzymes(local_actor(), query, organism=organism, limit=limit)

    def text() -> None:
        if not found:
            click.echo(f"no part of the bank matches {query}")
        for m in found:
            click.echo(f"{m['accession']}  {m['score']:.2f}  {m['name']}: {m['reason']}")

    emit(found, as_json, text)
