"""Build the demo bank: import every shipped source, add the true links, add a curator,
store and annotate the shipped sequences, index them for sequence search, mine parts from
documented genes, import a breeding data set, and leave finished jobs to look at.

:func:`build_demo` is safe to run again: sources are imported in upsert mode (rows match
records on their external identifiers), links, parts, the curator, the breeding data set
and the jobs are added only when absent, a finished annotation is never redone and the
sequence index is brought up to date only when something changed, so a second run creates
and changes nothing. It never prints; ``progress`` receives one line per step and the
caller decides what to show.
"""

from __future__ import annotations

import csv
import gzip
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lanhai.bank import Bank
from lanhai.breeding.pipeline import Inputs
from lanhai.demo.design import strain_design
from lanhai.demo.genomes import genome_projects
from lanhai.demo.links import (
    LINK_RULES,
    DemoLink,
    apply_links,
    genbank_links,
    isolation_links,
    producer_links,
    proteome_links,
    safety_duplicate_links,
)
from lanhai.demo.market import market_examples
from lanhai.demo.screening import screening_assay
from lanhai.demo.sources import (
    CHARACTERISED_PUL_GENES,
    DBCAN_PUL_CAZYMES,
    DEMO_DEPOSIT,
    DEMO_PROTEOMES,
    DEMO_SEQUENCES,
    DEMO_SOURCES,
    MIBIG_CLUSTER_FILE,
    UNCIALAMYCIN_REGION,
    WHEAT,
    ZOBELLIA_PROTEOME,
    DemoSource,
    data_dir,
    mapping_path,
    source_path,
)
from lanhai.errors import NotFound, UsageError, ValidationFailed
from lanhai.imports import ImportOptions, ImportReport
from lanhai.imports.mapping import load_mapping
from lanhai.services.access import Actor
from lanhai.settings import safe_url

#: the demo's curator account: no password and no token (`lanhai demo` says how to make
#: them), so a demo bank served on a network gives nobody a known way in
DEMO_CURATOR = "demo-curator"
DEMO_CURATOR_NAME = "Lanhai demo curator"
#: the finished jobs the demo leaves (their params carry ``demo`` = one of these)
JOB_ANNOTATE = "annotate the demo sequences"
JOB_SEARCH = "search the documented CAZymes"
#: how long the demo waits for one of its jobs (seconds)
JOB_TIMEOUT = 1800.0
#: genes of the shipped GenBank record mined as parts: gene -> the family the annotation
#: must find on the called gene with the same coordinates
CLUSTER_GENES = {"ucmE": "ketoacyl-synt"}
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
    deposit_created: bool = False
    #: accessions worth opening: the Zobellia strain, a producer strain, a merged sample …
    highlights: dict[str, str] = field(default_factory=dict)
    #: what ingesting each shipped sequence file did (accession, file, status, counts)
    sequences: list[dict[str, Any]] = field(default_factory=list)
    #: the annotation's per-assembly results (None when annotation was skipped)
    annotation: dict[str, Any] | None = None
    #: parts mined from documented genes (accession, display_id, protein, family, status)
    parts: list[dict[str, Any]] = field(default_factory=list)
    #: the sequence index after this run (per database: sequences, residues, segments)
    index: dict[str, Any] = field(default_factory=dict)
    #: the demo's jobs (id, kind, status, what) and how many this run started
    jobs: list[dict[str, Any]] = field(default_factory=list)
    jobs_created: int = 0
    #: the breeding data set: name, counts, whether this run imported it
    breeding: dict[str, Any] = field(default_factory=dict)
    #: lineage chains the demo's links make, one per sequenced strain: sample (if the
    #: sources name one) -> strain -> assembly -> documented genes (protein, family, part)
    #: and the strain's compounds (see :func:`documented_chains`)
    chains: list[dict[str, Any]] = field(default_factory=list)
    #: the example listings of the technology market (offers, the demand, how many made)
    market: dict[str, Any] = field(default_factory=dict)
    #: the genome projects and what importing their GoaT lists did
    genomes: dict[str, Any] = field(default_factory=dict)
    #: the screening assay, its import and its model
    screening: dict[str, Any] = field(default_factory=dict)
    #: the chassis, the succinate design problem and its growth-coupled design
    design: dict[str, Any] = field(default_factory=dict)

    @property
    def created(self) -> int:
        return sum(s.created for s in self.sources)

    @property
    def updated(self) -> int:
        return sum(s.updated for s in self.sources)

    @property
    def parts_created(self) -> int:
        return sum(p["status"] == "created" for p in self.parts)

    def to_dict(self) -> dict[str, Any]:
        return {"database_url": self.database_url, "created": self.created,
                "updated": self.updated, "counts": self.counts,
                "sources": [s.to_dict() for s in self.sources],
                "links": [lk.to_dict() for lk in self.links],
                "links_created": self.links_created, "curator": self.curator,
                "curator_created": self.curator_created,
                "deposit_created": self.deposit_created,
                "highlights": self.highlights, "sequences": self.sequences,
                "annotation": self.annotation, "parts": self.parts,
                "parts_created": self.parts_created, "index": self.index,
                "jobs": self.jobs, "jobs_created": self.jobs_created,
                "breeding": self.breeding, "chains": self.chains, "market": self.market,
                "genomes": self.genomes, "screening": self.screening, "design": self.design}


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
    """Create the demo curator unless it exists; True if created. An existing account is
    left as it is (its owner may have given it a password since)."""
    try:
        bank.users.get_user(actor, DEMO_CURATOR)
    except NotFound:
        bank.users.create_user(actor, DEMO_CURATOR, "curator", DEMO_CURATOR_NAME)
        return True
    return False


def ensure_deposit(bank: Bank, actor: Actor) -> tuple[str, bool]:
    """The example deposit's accession, created unless a deposit with its depositary
    accession exists (True if created now). Deposits are confidential, so the record is
    held: a random accession, seen by curators only."""
    with (data_dir() / DEMO_DEPOSIT).open(encoding="utf-8", newline="") as stream:
        (row,) = csv.DictReader(stream)
    found = bank.catalog.by_identifier(actor, "deposit", row["deposit_accession"])
    if found is not None:
        return found.accession, False
    made = bank.catalog.create(actor, "deposit", row, note=f"Lanhai demo: {DEMO_DEPOSIT}")
    return made.accession, True


def build_demo(bank: Bank, actor: Actor, progress: Progress | None = None, *,
               annotate: bool = True) -> DemoSummary:
    """Build (or check) the demo bank in ``bank`` and return what happened.

    ``annotate=False`` skips what needs the annotation (about a minute the first time):
    the annotation job, part mining and the search job."""
    say = progress or (lambda message: None)
    summary = DemoSummary(database_url=safe_url(bank.settings.database_url))
    for number, source in enumerate(DEMO_SOURCES, start=1):
        say(f"[{number}/{len(DEMO_SOURCES)}] {source.kind}: {source.file}")
        report = import_source(bank, actor, source)
        summary.sources.append(SourceResult(
            source.name, source.kind, source.file, source.mapping, source.title, report.rows,
            report.created, report.updated, report.unchanged))
    say(f"example patent deposit: {DEMO_DEPOSIT}")
    deposit, summary.deposit_created = ensure_deposit(bank, actor)
    say("linking records the sources say belong together")
    germplasm = next(s for s in DEMO_SOURCES if s.kind == "germplasm")
    catalog = bank.catalog
    links = [*producer_links(catalog, actor),
             *safety_duplicate_links(catalog, actor, source_path(germplasm)),
             *proteome_links(catalog, actor),
             *isolation_links(catalog, actor),
             *genbank_links(catalog, actor, data_dir() / MIBIG_CLUSTER_FILE)]
    summary.links_created = apply_links(catalog, actor, links)
    say("storing the shipped sequences")
    summary.sequences = ingest_sequences(bank, actor)
    summary.curator_created = ensure_curator(bank, actor)
    curator = Actor(DEMO_CURATOR, "curator")
    jobs = DemoJobs(bank, curator)
    market_links: list[DemoLink] = []
    if annotate:
        say("annotating the sequences and indexing them for sequence search: "
            + ("done already" if jobs.find(JOB_ANNOTATE) else
               "a job of about a minute, done once"))
        job = jobs.run(JOB_ANNOTATE, "annotate", {"accessions": _sequenced(summary)},
                       lambda report: annotate_and_index(bank, curator, _sequenced(summary),
                                                         report))
        summary.annotation = job.result
        say("mining parts from documented genes")
        summary.parts = mine_documented_parts(bank, actor, summary)
        summary.links_created += sum(p["linked_now"] for p in summary.parts)
        say("example listings of the technology market, from the mined parts")
        summary.market, market_links = market_examples(bank, actor, summary.parts)
        summary.links_created += apply_links(catalog, actor, market_links)
    say("bringing the sequence index up to date")
    summary.index = index_status(bank)
    if annotate:
        queries = documented_proteins(bank, actor, summary)
        say(f"searching {len(queries)} documented CAZymes against every protein: "
            + ("done already" if jobs.find(JOB_SEARCH) else "a job, done once"))
        jobs.run(JOB_SEARCH, "search-sequence",
                 {"db": "proteins", "evalue": 1e-3, "max_hits": 10, "queries": len(queries)},
                 lambda report: bank.sequence_search.search(
                     curator, queries, db="proteins", evalue=1e-3, max_hits=10,
                     name="documented CAZymes", progress=report))
    say(f"breeding data set {WHEAT.name}")
    summary.breeding = import_breeding(bank, actor)
    say("genome projects: EUROFISH and the cartilaginous fishes from GoaT, the 10,000 fish "
        "genomes")
    summary.genomes = genome_projects(bank, actor)
    say("screening: MIBiG's recorded antibacterial activities as an assay, and a model "
        "trained on it (about half a minute, done once)")
    summary.screening = screening_assay(bank, actor)
    say("strain design: the E. coli core model as a chassis, anaerobic succinate and the "
        "knockouts that couple it to growth (OptKnock)")
    summary.design, design_links, made = strain_design(bank, actor)
    summary.links_created += made
    summary.links = [*links, *(DemoLink(p["assembly"], "mined_from", p["accession"],
                                        "documented_gene_part", p["assembly_name"],
                                        p["part_name"]) for p in summary.parts),
                     *market_links, *design_links]
    summary.chains = documented_chains(summary)
    summary.jobs, summary.jobs_created = jobs.listed(), jobs.created
    summary.counts = catalog.counts(actor)
    summary.highlights = {**_highlights(bank, actor, summary),
                          "deposit_curators_only": deposit}
    return summary


# -- sequences ------------------------------------------------------------------------------

def ingest_sequences(bank: Bank, actor: Actor) -> list[dict[str, Any]]:
    """Store each shipped sequence file on its assembly record (unchanged on a second run)."""
    done = []
    for item in DEMO_SEQUENCES:
        accession = _first(bank, actor, "assembly", [f"assembly_name={item.assembly}"])
        if accession is None:
            raise NotFound(f"the demo assembly {item.assembly!r} was not imported")
        result = bank.sequences.ingest(actor, accession, data_dir() / item.file,
                                       kind=item.kind)
        stored = result["summary"]
        done.append({"accession": accession, "file": item.file, "kind": item.kind,
                     "status": result["status"],
                     **({"proteins": stored["protein_count"]} if item.kind == "proteome"
                        else {"contigs": stored["contig_count"],
                              "bases": stored["genome_size"]})})
    return done


def _sequenced(summary: DemoSummary) -> list[str]:
    return [item["accession"] for item in summary.sequences]


def annotate_and_index(bank: Bank, actor: Actor, accessions: list[str],
                       report: Callable[[int, int, str], None]) -> dict[str, Any]:
    """The annotation job: every shipped pack on every demo assembly (finished steps are
    not redone), then the sequence index, so the proteins are searchable at once."""
    result = bank.sequences.annotate(actor, accessions, jobs=1, progress=report)
    if result["failed"]:
        reasons = "; ".join(str(p.get("reason", p)) for p in result["failed"])
        raise UsageError(f"the demo sequences did not annotate cleanly: {reasons}")
    result["search_index"] = bank.sequence_search.update_index(accessions)
    return result


def index_status(bank: Bank) -> dict[str, Any]:
    """Bring the sequence index up to date (nothing to do when it is) and say what it
    holds."""
    search = bank.sequence_search
    search.update_index()
    out = {}
    for db in ("proteins", "contigs"):
        status = search.index_status(db)
        out[db] = {"assemblies": status["assemblies"], "sequences": status["sequences"],
                   "residues": status["residues"], "segments": len(status["segments"]),
                   "up_to_date": status["up_to_date"]}
    return out


# -- parts from documented genes ------------------------------------------------------------

@dataclass(frozen=True)
class DocumentedGene:
    """A gene a public source documents, and the family its annotation should show."""

    assembly: str
    #: how the gene is found: a protein id prefix (proteome) or the called gene's place
    locus: str
    family: str
    description: str
    place: tuple[str, int, int, int] | None = None
    #: the gene's name in the source ('agaA', 'ucmE'), else its locus tag
    name: str = ""


def _table(path: Path) -> Iterator[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle, delimiter="\t")


def zobellia_cazymes() -> list[DocumentedGene]:
    """The CAZymes of the Zobellia proteome that dbCAN-PUL labels with a CAZy family,
    with their gene names and EC numbers from the characterised PULs."""
    named = {row["locus_tag"]: row for row in _table(data_dir() / CHARACTERISED_PUL_GENES)}
    genes = []
    for row in _table(data_dir() / DBCAN_PUL_CAZYMES):
        locus = row["dbcan_pul_gene_id"] or row["id"].split("|", 1)[0]
        gene = named.get(locus, {})
        name = gene.get("gene_name", "-")
        ec = gene.get("ec_number", "-")
        label = row["subfamily"] or row["family"]
        puls = row["source"].removeprefix("dbCAN-PUL:").replace(",", ", ")
        what = (f"{name} ({locus})" if name not in ("", "-") else locus) + \
            (f", EC {ec}" if ec not in ("", "-") else "")
        description = (
            f"{what} of Zobellia galactanivorans DsijT: CAZy family {label} (CAZyDB "
            f"{row['cazydb_hit']}, identical sequence), in the experimentally studied "
            f"polysaccharide utilisation locus {puls} ({row['pul_substrate']}) of "
            f"dbCAN-PUL (PMID {row['pmid'].replace('+', ', ')}). The demo's annotation "
            f"finds family {row['family']} on it too.")
        genes.append(DocumentedGene(ZOBELLIA_PROTEOME, f"{locus}_", row["family"],
                                    description,
                                    name=name if name not in ("", "-") else locus))
    return genes


def cluster_genes() -> list[DocumentedGene]:
    """The genes of the shipped GenBank record named in :data:`CLUSTER_GENES`, with the
    coordinates its CDS features give."""
    text = gzip.decompress((data_dir() / MIBIG_CLUSTER_FILE).read_bytes()).decode("utf-8")
    contig = re.search(r"^VERSION\s+(\S+)", text, re.MULTILINE)
    genes = []
    for match in re.finditer(r"^ {5}CDS {13}(complement\()?<?(\d+)\.\.>?(\d+)\)?\n"
                             r"((?: {21}.*\n)+)", text, re.MULTILINE):
        qualifiers = match.group(4)
        name = re.search(r'/gene="([^"]+)"', qualifiers)
        product = re.search(r'/product="([^"]+)"', qualifiers.replace("\n" + " " * 21, " "))
        if not (name and contig and name.group(1) in CLUSTER_GENES):
            continue
        start, end = int(match.group(2)), int(match.group(3))
        strand = -1 if match.group(1) else 1
        where = f"{'complement(' if strand < 0 else ''}{start}..{end}" + \
            (")" if strand < 0 else "")
        description = (
            f"{name.group(1)}, the {product.group(1) if product else 'gene'} of the "
            f"uncialamycin biosynthetic gene cluster of Streptomyces uncialis DCA2648 "
            f"(GenBank CDS {where} of MIBiG BGC0001377; Yan et al. 2016, mBio "
            f"7:e02104-16). Gene calling finds the same gene, and the annotation a "
            f"{CLUSTER_GENES[name.group(1)]} domain on it.")
        genes.append(DocumentedGene(UNCIALAMYCIN_REGION, name.group(1),
                                    CLUSTER_GENES[name.group(1)], description,
                                    (contig.group(1), start, end, strand), name.group(1)))
    return genes


def _best_families(bank: Bank, actor: Actor, accession: str) -> dict[str, str]:
    """protein id -> family of its best (lowest E-value) hit."""
    best: dict[str, tuple[float, str]] = {}
    for hit in bank.sequences.rows(actor, accession, "hits"):
        protein, evalue = str(hit["protein_id"]), float(hit["evalue"])
        if protein not in best or evalue < best[protein][0]:
            best[protein] = (evalue, str(hit["family"]))
    return {protein: family for protein, (_, family) in best.items()}


def _same_family(found: str | None, documented: str) -> bool:
    """Whether a hit's family is the documented CAZy family or one of its subfamilies
    (GH16_16 for GH16)."""
    return found is not None and (found == documented or found.startswith(documented + "_"))


def _called(bank: Bank, actor: Actor, accession: str) -> dict[tuple[str, int, int, int], str]:
    """(contig, start, end, strand) -> protein id of each called gene."""
    return {(str(g["contig"]), int(g["start"]), int(g["end"]), int(g["strand"])):
            str(g["protein_id"]) for g in bank.sequences.rows(actor, accession, "genes")}


def mine_documented_parts(bank: Bank, actor: Actor, summary: DemoSummary
                          ) -> list[dict[str, Any]]:
    """Rule ``documented_gene_part``: a part for each documented gene whose best annotation
    hit is the documented family (parts already mined are found, not made again)."""
    by_name = {}
    for item in summary.sequences:
        record = bank.catalog.get(actor, item["accession"])
        by_name[record.name] = record
    out = []
    for assembly_name, genes in ((ZOBELLIA_PROTEOME, zobellia_cazymes()),
                                 (UNCIALAMYCIN_REGION, cluster_genes())):
        assembly = by_name.get(assembly_name)
        if assembly is None:
            continue
        best = _best_families(bank, actor, assembly.accession)
        called = _called(bank, actor, assembly.accession) if any(
            g.place for g in genes) else {}
        chosen: dict[str, DocumentedGene] = {}
        for gene in genes:
            if gene.place is not None:
                protein = called.get(gene.place)
            else:
                protein = next((p for p in best if p.startswith(gene.locus + "[")), None)
            if protein is not None and _same_family(best.get(protein), gene.family):
                chosen.setdefault(protein, gene)
        if not chosen:
            continue
        linked = {lk.target for lk in bank.catalog.links(actor, assembly.accession)
                  if lk.source == assembly.accession and lk.rel == "mined_from"}
        mined = bank.parts.mine(actor, assembly.accession, proteins=sorted(chosen))
        for part in mined["parts"]:
            gene = chosen[part["protein_id"]]
            record = bank.catalog.get(actor, part["accession"])
            if record.fields.get("description") != gene.description:
                record = bank.catalog.update(actor, record.accession,
                                             {"description": gene.description},
                                             note="Lanhai demo: what the sources document")
            out.append({**part, "assembly": assembly.accession,
                        "assembly_name": assembly.name, "part_name": record.name,
                        "locus": gene.locus.rstrip("_"), "gene": gene.name,
                        "linked_now": part["accession"] not in linked})
    return out


def documented_proteins(bank: Bank, actor: Actor, summary: DemoSummary
                        ) -> list[tuple[str, str]]:
    """(id, sequence) of the mined Zobellia CAZymes: the search job's queries."""
    wanted = {p["protein_id"] for p in summary.parts if p["part_type"] == "protein"}
    proteome = next((s["accession"] for s in summary.sequences if s["kind"] == "proteome"),
                    None)
    if proteome is None or not wanted:
        return []
    return [(str(row["id"]), str(row["sequence"]))
            for row in bank.sequences.rows(actor, proteome, "proteins")
            if row["id"] in wanted]


def documented_chains(summary: DemoSummary) -> list[dict[str, Any]]:
    """The lineage chains the demo's links make, read from the links alone: for each
    assembly with mined parts, the strain sequenced as it (rules ``proteome_of_strain``,
    ``genbank_source_strain``), the sample that strain was isolated from (rule
    ``type_strain_isolation``; None when no source names one), the documented genes
    (protein, family, part) and the compounds the strain produces."""
    def end(link: DemoLink, side: str) -> dict[str, str]:
        if side == "source":
            return {"accession": link.source, "name": link.source_name}
        return {"accession": link.target, "name": link.target_name}

    strain_of = {lk.target: lk for lk in summary.links if lk.rel == "sequenced_as"}
    sample_of = {lk.target: lk for lk in summary.links if lk.rel == "isolated_from"}
    chains: list[dict[str, Any]] = []
    for assembly in dict.fromkeys(p["assembly"] for p in summary.parts):
        strain = strain_of.get(assembly)
        if strain is None:
            continue
        sample = sample_of.get(strain.source)
        genes = [{"protein": p["protein_id"], "gene": p["gene"], "family": p["family"],
                  "part": p["accession"]} for p in summary.parts if p["assembly"] == assembly]
        compounds = [end(lk, "target") for lk in summary.links
                     if lk.rel == "produces" and lk.source == strain.source]
        chains.append({"sample": end(sample, "source") if sample else None,
                       "strain": end(strain, "source"), "assembly": end(strain, "target"),
                       "genes": genes, "compounds": compounds})
    return chains


# -- jobs -----------------------------------------------------------------------------------

class DemoJobs:
    """The demo's background jobs: each is run once (a finished one is never run again)."""

    def __init__(self, bank: Bank, owner: Actor) -> None:
        self.bank = bank
        self.owner = owner
        self.created = 0

    def find(self, what: str) -> Any:
        for job in self.bank.jobs.list(self.owner.username):
            if job.params.get("demo") == what and job.status == "done":
                return job
        return None

    def run(self, what: str, kind: str, params: Mapping[str, Any],
            task: Callable[[Callable[[int, int, str], None]], Mapping[str, Any]]) -> Any:
        """The finished job doing ``what``: found, or started now and waited for."""
        found = self.find(what)
        if found is not None:
            return found
        job = self.bank.jobs.submit(kind, self.owner.username, {"demo": what, **params},
                                    task)
        self.created += 1
        job = self.bank.jobs.wait(job.id, JOB_TIMEOUT)
        if job.status != "done":
            raise UsageError(f"the demo job {what!r} ({job.id}) {job.status}: {job.error}")
        return job

    def listed(self) -> list[dict[str, Any]]:
        return [{"id": job.id, "kind": job.kind, "status": job.status,
                 "what": job.params.get("demo"), "finished_at": job.finished_at}
                for job in self.bank.jobs.list(self.owner.username)
                if job.params.get("demo")]


# -- breeding -------------------------------------------------------------------------------

def import_breeding(bank: Bank, actor: Actor) -> dict[str, Any]:
    """Import the shipped wheat data set once, published (readers see its summary).

    BGLR's marker matrix numbers the lines 0..598 while its phenotypes name them; both
    list the lines in the same order, so the markers take the phenotypes' line names."""
    service = bank.breeding
    existing = [d for d in service.list_datasets(actor) if d["dataset"] == WHEAT.name]
    if existing:
        return {"dataset": WHEAT.name, "status": "unchanged", "title": WHEAT.title,
                "counts": existing[0]["counts"]}
    data = service.load(actor, Inputs(genotypes=data_dir() / WHEAT.genotypes))
    phenotypes = service.load(actor, Inputs(phenotypes=data_dir() / WHEAT.phenotypes))
    genotypes = data.genotypes
    if genotypes is None or phenotypes.phenotypes is None or \
            genotypes.n_animals != len(phenotypes.phenotypes.ids):
        raise UsageError(f"the demo's breeding files {WHEAT.genotypes} and "
                         f"{WHEAT.phenotypes} do not list the same lines")
    genotypes.ids = list(phenotypes.phenotypes.ids)
    data.phenotypes = phenotypes.phenotypes
    result = service.import_dataset(
        actor, WHEAT.name, data, published=True,
        sources={"genotypes": Path(WHEAT.genotypes).name,
                 "phenotypes": Path(WHEAT.phenotypes).name})
    return {"dataset": WHEAT.name, "status": "imported", "title": WHEAT.title,
            "counts": result["counts"]}


# -- highlights -----------------------------------------------------------------------------

def _first(bank: Bank, actor: Actor, kind: str, where: list[str]) -> str | None:
    found, _ = bank.catalog.list(actor, kind, where, limit=1)
    return found[0].accession if found else None


def _highlights(bank: Bank, actor: Actor, summary: DemoSummary) -> dict[str, str]:
    by_rule: dict[str, list[DemoLink]] = {}
    for link in summary.links:
        by_rule.setdefault(link.rule, []).append(link)

    def end(rule: str, side: str) -> str | None:
        found = by_rule.get(rule)
        return getattr(found[0], side) if found else None

    agarase = next((p["accession"] for p in summary.parts if p["locus"] == "ZOBELLIA_4203"),
                   None)
    picks = {
        "isolation_sample": end("type_strain_isolation", "source"),
        "zobellia_strain": _first(bank, actor, "strain",
                                  ["taxon_name=Zobellia galactanivorans",
                                   "strain_designation=DsijT"]),
        "zobellia_proteome": _first(bank, actor, "assembly", [
            f"assembly_name={DEMO_PROTEOMES[0][0]}"]),
        "agarase_part": agarase,
        "uncialamycin_strain": end("genbank_source_strain", "source"),
        "uncialamycin_region": end("genbank_source_strain", "target"),
        "uncialamycin": end("mibig_cluster_compound", "target"),
        "producer_strain": end("mibig_producer", "source"),
        "osd_merged_sample": _first(bank, actor, "sample",
                                    ["project_name=Ocean Sampling Day 2014",
                                     "identifiers~OSD"]),
        "market_demand": summary.market.get("demand"),
    }
    return {k: v for k, v in picks.items() if v}


__all__ = ["DEMO_CURATOR", "LINK_RULES", "DemoSummary", "SourceResult",
           "build_demo", "import_source", "options_for"]
