"""Build the demo bank: import every shipped source, add the true links, add a curator.

:func:`build_demo` is safe to run again: sources are imported in upsert mode (rows match
records on their external identifiers), links and the curator are added only when absent,
so a second run creates and changes nothing. It never prints; ``progress`` receives one
line per step and the caller decides what to show.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from lanhai.bank import Bank
from lanhai.demo.links import (
    DemoLink,
    apply_links,
    producer_links,
    proteome_links,
    safety_duplicate_links,
)
from lanhai.demo.sources import (
    DEMO_PROTEOMES,
    DEMO_SOURCES,
    DemoSource,
    data_dir,
    mapping_path,
    source_path,
)
from lanhai.errors import NotFound, ValidationFailed
from lanhai.imports import ImportOptions, ImportReport
from lanhai.imports.mapping import load_mapping
from lanhai.services.access import Actor
from lanhai.settings import safe_url

#: the curator account the demo creates (no password, no token: the CLI says how to make one)
DEMO_CURATOR = "demo-curator"
Progress = Callable[[str], None]


@dataclass
class SourceResult:
    """What importing one demo source did."""

    name: str
    kind: str
    file: str
    mapping: str | None
    title: str
    rows: int
    created: int
    updated: int
    unchanged: int

    @property
    def matched(self) -> int:
        """Rows that met a record already in the bank (upsert merged them)."""
        return self.updated + self.unchanged

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "file": self.file,
                "mapping": self.mapping, "title": self.title, "rows": self.rows,
                "created": self.created, "updated": self.updated,
                "unchanged": self.unchanged}


@dataclass
class DemoSummary:
    """Everything a caller needs to report on the demo bank."""

    database_url: str
    sources: list[SourceResult] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    links: list[DemoLink] = field(default_factory=list)
    links_created: int = 0
    curator: str = DEMO_CURATOR
    curator_created: bool = False
    #: accessions worth opening: the Zobellia strain, a producer strain, a merged sample
    highlights: dict[str, str] = field(default_factory=dict)
    #: what ingesting each shipped proteome did (accession, file, status, protein count)
    sequences: list[dict[str, Any]] = field(default_factory=list)

    @property
    def created(self) -> int:
        return sum(s.created for s in self.sources)

    @property
    def updated(self) -> int:
        return sum(s.updated for s in self.sources)

    def to_dict(self) -> dict[str, Any]:
        return {"database_url": self.database_url, "created": self.created,
                "updated": self.updated, "counts": self.counts,
                "sources": [s.to_dict() for s in self.sources],
                "links": [lk.to_dict() for lk in self.links],
                "links_created": self.links_created, "curator": self.curator,
                "curator_created": self.curator_created, "highlights": self.highlights,
                "sequences": self.sequences}


def options_for(source: DemoSource) -> ImportOptions:
    """The shipped mapping (or plain options) plus the source's constants, in upsert mode."""
    path = mapping_path(source)
    options = load_mapping(path) if path else ImportOptions(kind=source.kind)
    return replace(options, constants={**options.constants, **source.constants},
                   mode="upsert", note=f"Lanhai demo: {source.file}")


def import_source(bank: Bank, actor: Actor, source: DemoSource) -> ImportReport:
    """Import one shipped file with its mapping; a problem is a bug in the demo data."""
    report = bank.imports.run(actor, source_path(source), options_for(source))
    if not report.ok:
        problems = [replace(p, file=p.file or source.file) for p in report.problems]
        raise ValidationFailed(f"the demo file {source.file} did not import cleanly "
                               f"({len(problems) + report.problems_omitted} problems)", problems)
    return report


def ensure_curator(bank: Bank, actor: Actor) -> bool:
    """Create the demo curator unless it exists; True if it was created."""
    try:
        bank.users.get_user(actor, DEMO_CURATOR)
    except NotFound:
        bank.users.create_user(actor, DEMO_CURATOR, "curator", "Lanhai demo curator")
        return True
    return False


def build_demo(bank: Bank, actor: Actor, progress: Progress | None = None) -> DemoSummary:
    """Import the demo sources into ``bank``, link them, and return what happened."""
    say = progress or (lambda message: None)
    summary = DemoSummary(database_url=safe_url(bank.settings.database_url))
    for number, source in enumerate(DEMO_SOURCES, start=1):
        say(f"[{number}/{len(DEMO_SOURCES)}] {source.kind}: {source.file}")
        report = import_source(bank, actor, source)
        summary.sources.append(SourceResult(
            source.name, source.kind, source.file, source.mapping, source.title, report.rows,
            report.created, report.updated, report.unchanged))
    say("linking records the sources say belong together")
    germplasm = next(s for s in DEMO_SOURCES if s.kind == "germplasm")
    summary.links = [*producer_links(bank.catalog, actor),
                     *safety_duplicate_links(bank.catalog, actor, source_path(germplasm)),
                     *proteome_links(bank.catalog, actor)]
    summary.links_created = apply_links(bank.catalog, actor, summary.links)
    say("ingesting the shipped proteomes")
    summary.sequences = ingest_proteomes(bank, actor)
    summary.curator_created = ensure_curator(bank, actor)
    summary.counts = bank.catalog.counts(actor)
    summary.highlights = _highlights(bank, actor, summary.links)
    return summary


def ingest_proteomes(bank: Bank, actor: Actor) -> list[dict[str, Any]]:
    """Store each shipped proteome on its assembly record (unchanged on a second run)."""
    service = bank.sequences
    done = []
    for name, file in DEMO_PROTEOMES:
        accession = _first(bank, actor, "assembly", [f"assembly_name={name}"])
        if accession is None:
            raise NotFound(f"the demo assembly {name!r} was not imported")
        result = service.ingest(actor, accession, data_dir() / file, kind="proteome")
        done.append({"accession": accession, "file": file, "status": result["status"],
                     "proteins": result["summary"]["protein_count"]})
    return done


def _first(bank: Bank, actor: Actor, kind: str, where: list[str]) -> str | None:
    found, _ = bank.catalog.list(actor, kind, where, limit=1)
    return found[0].accession if found else None


def _highlights(bank: Bank, actor: Actor, links: list[DemoLink]) -> dict[str, str]:
    picks = {
        "zobellia_strain": _first(bank, actor, "strain",
                                  ["taxon_name=Zobellia galactanivorans",
                                   "strain_designation=DsijT"]),
        "producer_strain": links[0].source if links else None,
        "zobellia_proteome": _first(bank, actor, "assembly", [
            f"assembly_name={DEMO_PROTEOMES[0][0]}"]),
        "osd_merged_sample": _first(bank, actor, "sample",
                                    ["project_name=Ocean Sampling Day 2014",
                                     "identifiers~OSD"]),
    }
    return {k: v for k, v in picks.items() if v}
