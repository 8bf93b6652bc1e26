"""`lanhai search text|compound|family`: catalogue, compound-structure and family search."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from lanhai.cli.common import bank, emit, handles_errors, json_option, local_actor
from lanhai.errors import UsageError
from lanhai.exports.common import TableWriter
from lanhai.model import MAX_OFFSET
from lanhai.search.filters import SORTS, BBox, CatalogFilters, FamilyQuery
from lanhai.services.families import COLUMNS
from lanhai.services.search import SearchResult

F = TypeVar("F", bound=Callable[..., Any])


def add_commands(group: click.Group) -> None:
    """Add this module's commands to the `lanhai search` group."""
    group.add_command(text_command)
    group.add_command(compound_command)
    group.add_command(family_command)


def filter_options(func: F) -> F:
    """The catalogue filters shared by `search text` and `search family`."""
    options = [
        click.option("--taxon", help="Taxon name prefix, e.g. Zobellia (case-insensitive)."),
        click.option("--depth-min", type=float, help="Depth at least this many metres."),
        click.option("--depth-max", type=float, help="Depth at most this many metres."),
        click.option("--date-from", help="Collection/event date on or after (YYYY[-MM[-DD]])."),
        click.option("--date-to", help="Collection/event date on or before (YYYY[-MM[-DD]])."),
        click.option("--bbox", metavar="W,S,E,N",
                     help="Geographic box in degrees: west,south,east,north."),
        click.option("--available", is_flag=True,
                     help="Only what comes from strains that can be ordered."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def make_filters(kinds: Sequence[str] = (), has_genome: bool = False,
                 has_family: Sequence[str] = (), **given: Any) -> CatalogFilters:
    bbox = given.pop("bbox", None)
    return CatalogFilters(kinds=tuple(kinds), has_genome=has_genome,
                          has_family=tuple(has_family),
                          bbox=BBox.parse(bbox) if bbox else None, **given)


# --- text --------------------------------------------------------------------------------

@click.command("text")
@click.argument("query", required=False, default="")
@click.option("--kind", "kinds", multiple=True, help="Only this kind (repeatable).")
@filter_options
@click.option("--has-genome", is_flag=True,
              help="Only assemblies with stored sequences and the strains/samples they came "
                   "from.")
@click.option("--has-family", multiple=True, metavar="FAMILY",
              help="Only records whose genome has a hit to FAMILY (repeatable: any of them).")
@click.option("--facet-family", "facet_families", multiple=True, metavar="FAMILY",
              help="Also count the matches whose genome hits FAMILY (repeatable).")
@click.option("--sort", type=click.Choice(SORTS), default="relevance", show_default=True)
@click.option("--desc", is_flag=True, help="Reverse the sort order.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 100000))
@click.option("--offset", default=0, show_default=True,
              type=click.IntRange(0, MAX_OFFSET))
@click.option("--format", "fmt", type=click.Choice(["table", "tsv", "json", "sbol3"]),
              default="table", show_default=True,
              help="Output of the page: table, tsv, json (records), sbol3 (parts only).")
@json_option
@handles_errors
def text_command(query: str, kinds: tuple[str, ...], has_genome: bool,
                 has_family: tuple[str, ...], facet_families: tuple[str, ...], sort: str,
                 desc: bool, limit: int, offset: int, fmt: str, as_json: bool,
                 **given: Any) -> None:
    """Full-text search across every kind (中文 too), with facets, filters and sorting."""
    filters = make_filters(kinds, has_genome, has_family, **given)
    with bank() as opened:
        result = opened.search.search(local_actor(), query, filters, sort=sort, limit=limit,
                                      offset=offset, descending=desc,
                                      facet_families=facet_families)
        if fmt == "sbol3":
            _write_sbol3(result, opened.settings.sbol_namespace)
            return
    if as_json:
        emit(result.to_dict(), True)
    elif fmt == "tsv":
        sys.stdout.write(text_tsv(result))
    elif fmt == "json":
        click.echo(json.dumps([h.record.to_dict() for h in result.hits], ensure_ascii=False,
                              indent=2))
    else:
        _print_text(result)


def text_tsv(result: SearchResult) -> str:
    out = io.StringIO()
    columns = ["accession", "kind", "name", "taxon", "depth_m", "event_date", "latitude",
               "longitude", "availability", "has_genome", "score"]
    writer = TableWriter(out, tsv=True, lineterminator="\n")
    writer.writerow(columns)
    for hit in result.hits:
        data = hit.to_dict()
        writer.writerow(["" if data[c] is None else data[c] for c in columns])
    return out.getvalue()


def _write_sbol3(result: SearchResult, namespace: str) -> None:
    from lanhai.exports.common import ExportOptions, Item
    from lanhai.exports.sbol import write_sbol3
    from lanhai.kinds import kind_spec

    parts = [h.record for h in result.hits if h.kind == "part"]
    if len(parts) != len(result.hits):
        raise UsageError("SBOL3 holds parts only: add --kind part to the search")
    chunks = write_sbol3(kind_spec("part"), [[Item(r) for r in parts]],
                         ExportOptions(sbol_namespace=namespace))
    for chunk in chunks:
        sys.stdout.buffer.write(chunk)
    sys.stdout.buffer.flush()


def _print_text(result: SearchResult) -> None:
    for hit in result.hits:
        extra = [x for x in (hit.taxon, f"{hit.depth_m:g} m" if hit.depth_m is not None
                             else None, hit.event_date) if x]
        click.echo(f"{hit.accession}\t{hit.kind}\t{hit.name}"
                   + (f"\t{'; '.join(extra)}" if extra else ""))
    facets = result.facets
    click.echo(f"{len(result.hits)} of {result.total} shown", err=True)
    if result.total:
        kinds = ", ".join(f"{k} {n}" for k, n in facets["kind"].items())
        click.echo(f"kinds: {kinds}", err=True)
        taxa = ", ".join(f"{t['value']} {t['count']}" for t in facets["taxon"][:5])
        if taxa:
            click.echo(f"top taxa: {taxa}", err=True)
        for family, count in facets.get("family", {}).items():
            click.echo(f"with {family}: {count}", err=True)


# --- compound ----------------------------------------------------------------------------

@click.command("compound")
@click.option("--inchikey", help="Exact search by InChIKey.")
@click.option("--smiles", help="Exact search by a SMILES (canonicalised to its InChIKey).")
@click.option("--smarts", help="Substructure search with a SMARTS pattern.")
@click.option("--substructure", metavar="SMILES", help="Substructure search with a SMILES.")
@click.option("--similar", metavar="SMILES",
              help="Similarity search: Morgan fingerprints (radius 2, 2048 bits), Tanimoto.")
@click.option("--threshold", default=0.7, show_default=True, type=click.FloatRange(0, 1),
              help="Lowest Tanimoto similarity for --similar.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100000))
@click.option("--format", "fmt", type=click.Choice(["table", "tsv"]), default="table",
              show_default=True)
@json_option
@handles_errors
def compound_command(inchikey: str | None, smiles: str | None, smarts: str | None,
                     substructure: str | None, similar: str | None, threshold: float,
                     limit: int, fmt: str, as_json: bool) -> None:
    """Search the compound library by structure (RDKit)."""
    chosen = [name for name, value in (("--inchikey", inchikey), ("--smiles", smiles),
                                       ("--smarts", smarts), ("--substructure", substructure),
                                       ("--similar", similar)) if value is not None]
    if len(chosen) != 1:
        raise UsageError("give exactly one of --inchikey, --smiles, --smarts, --substructure "
                         f"or --similar (got {', '.join(chosen) or 'none'})")
    mode = chosen[0].lstrip("-")
    with bank() as opened:
        actor, search = local_actor(), opened.compounds
        if inchikey is not None or smiles is not None:
            hits = search.exact(actor, inchikey=inchikey, smiles=smiles)[:limit]
            total = len(hits)
        elif similar is not None:
            hits, total = search.similar(actor, similar, threshold=threshold, limit=limit)
        else:
            pattern = smarts if smarts is not None else str(substructure)
            hits, total = search.substructure(actor, pattern,
                                              smiles=substructure is not None, limit=limit)
    items = [h.to_dict() for h in hits]
    data = {"mode": mode, "total": total, "items": items}
    if as_json:
        emit(data, True)
        return
    columns = ["accession", "name", "inchikey", "canonical_smiles"]
    if mode == "similar":
        columns.append("similarity")
    _print_rows(items, columns, header=fmt == "tsv")
    click.echo(f"{len(items)} of {total} shown", err=True)


def _print_rows(items: Iterable[dict[str, Any]], columns: list[str], header: bool) -> None:
    writer = TableWriter(sys.stdout, tsv=True, lineterminator="\n")
    if header:
        writer.writerow(columns)
    for item in items:
        writer.writerow([_cell(item.get(c)) for c in columns])


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value)


# --- family ------------------------------------------------------------------------------

@click.command("family")
@click.argument("families", nargs=-1)
@click.option("--hmm", "hmm_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Search this HMMER3 profile over the stored proteins instead (pyhmmer).")
@click.option("--pack", "packs", multiple=True, help="Only hits from this profile pack.")
@click.option("--substrate", "substrates", multiple=True,
              help="Only hits with this substrate (agar, carrageenan …); repeat for any.")
@click.option("--min-score", type=float, help="Lowest bit score.")
@click.option("--max-evalue", type=float, help="Highest e-value.")
@filter_options
@click.option("--limit", default=1000, show_default=True, type=click.IntRange(0),
              help="Most hits to return (0: all).")
@click.option("--jobs", default=1, show_default=True, type=click.IntRange(0),
              help="Threads for --hmm (0: all cores).")
@click.option("--format", "fmt", type=click.Choice(["table", "tsv", "fasta", "genbank"]),
              default="table", show_default=True,
              help="table, tsv (every column), fasta (the hit proteins' sequences) or genbank "
                   "(each protein with its domains and where it came from).")
@json_option
@handles_errors
def family_command(families: tuple[str, ...], hmm_file: Path | None, packs: tuple[str, ...],
                   substrates: tuple[str, ...], min_score: float | None,
                   max_evalue: float | None, limit: int, jobs: int, fmt: str, as_json: bool,
                   **given: Any) -> None:
    """Every protein hitting FAMILY… (GH16, PF07980 …) or a user HMM, across the bank,
    with the strain, sample, depth and place it came from."""
    if not families and hmm_file is None:
        raise UsageError("name a family (e.g. GH16) or give --hmm FILE")
    if families and hmm_file is not None:
        raise UsageError("give families or --hmm, not both")
    query = FamilyQuery(families=families, packs=packs, substrates=substrates,
                        min_score=min_score, max_evalue=max_evalue,
                        filters=make_filters(**given), limit=limit or None)
    with bank() as opened:
        search = opened.families
        if hmm_file is not None:
            try:
                data = hmm_file.read_bytes()
            except OSError as err:
                raise UsageError(f"cannot read {hmm_file}: {err.strerror}") from None
            result = search.search_hmm(local_actor(), data, query, threads=jobs,
                                       source=str(hmm_file))
        else:
            result = search.search(local_actor(), query)
        if as_json:
            emit(result.to_dict(), True)
            return
        if fmt == "fasta":
            for header, sequence in search.hit_sequences(result.hits):
                click.echo(f">{header}")
                for start in range(0, len(sequence), 60):
                    click.echo(sequence[start:start + 60])
        elif fmt == "genbank":
            for text in search.hit_genbank(result.hits):
                click.echo(text, nl=False)
        elif fmt == "tsv":
            _print_rows(result.hits, list(COLUMNS), header=True)
        else:
            _print_rows(result.hits, ["assembly", "protein_id", "family", "score", "evalue",
                                      "strain", "sample", "depth_m"], header=False)
    if not as_json:
        click.echo(f"{len(result.hits)} of {result.total} hits shown "
                   f"({result.assemblies_searched} assemblies searched)", err=True)
