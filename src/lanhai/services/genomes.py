"""Genome projects: projects and their target species, each species' status (an ordered
ladder with dates and evidence), progress per project and taxon with a projected completion
and the next best species, assemblies imported from NCBI tables with their quality judged
against the EBP/VGP standards, and GoaT-compatible status files in and out.

Anyone reads projects and progress; curators and admins create projects, import target
lists, record statuses and import assemblies.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from lanhai.errors import (
    ConcurrentChange,
    Conflict,
    NotFound,
    Problem,
    UsageError,
    ValidationFailed,
)
from lanhai.genomes import goat, progress, quality, status
from lanhai.genomes.ncbi import read_assembly_file
from lanhai.genomes.quality import AssemblyMetrics
from lanhai.imports import ImportOptions
from lanhai.services.access import Actor, require_writer
from lanhai.store import genomes as store
from lanhai.store.database import Database

if TYPE_CHECKING:
    from lanhai.services.imports import ImportService

_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{1,62}$")
#: the ranks progress is counted at, highest first
RANKS = ("class", "order", "family")


def _events(stored: Sequence[store.StoredEvent]) -> list[status.StatusEvent]:
    return [status.StatusEvent(e.project, e.taxid, e.status, dt.date.fromisoformat(e.day),
                               tuple(e.evidence), e.note, e.allow_skip, e.allow_back,
                               e.from_list) for e in stored]


def _day(value: Any, name: str) -> str | None:
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise UsageError(f"{name} {value!r} is not a date; write YYYY-MM-DD") from None


class GenomeService:
    """Genome projects over one catalog (and its import service for assembly tables)."""

    def __init__(self, db: Database, imports: ImportService, scratch: Path | None = None
                 ) -> None:
        self.db = db
        self.imports = imports
        self.catalog = imports.catalog
        self.scratch = scratch
        #: what day it is (tests set another)
        self.today: Callable[[], dt.date] = dt.date.today

    # --- projects -------------------------------------------------------------------------

    def _checked_project(self, values: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        problems: list[Problem] = []
        for name in store.PROJECT_FIELDS:
            if name not in values:
                continue
            value = values[name]
            if name in ("target_count", "reported_done"):
                if value in (None, ""):
                    out[name] = None
                    continue
                try:
                    number = int(value)
                except (TypeError, ValueError):
                    number = -1
                if number < 0:
                    problems.append(Problem(reason=f"{name} {value!r} is not a count",
                                            fix="give a whole number at or above zero",
                                            field=name, value=str(value)))
                out[name] = number
            elif name in ("started", "ends", "reported_on"):
                try:
                    out[name] = _day(value, name)
                except UsageError as err:
                    problems.append(Problem(reason=err.message, fix="write YYYY-MM-DD",
                                            field=name, value=str(value)))
            elif name == "done_status":
                step = status.status_name(str(value))
                if step is None:
                    problems.append(Problem(reason=f"{value!r} is not a status",
                                            fix="use one of: " + ", ".join(status.STATUSES),
                                            field=name, value=str(value)))
                out[name] = step
            else:
                out[name] = str(value or "").strip()[:5000]
        if out.get("started") and out.get("ends") and out["ends"] < out["started"]:
            problems.append(Problem(reason=f"ends {out['ends']} is before started "
                                    f"{out['started']}", fix="check the two dates",
                                    field="ends"))
        if "name" in out and not out["name"]:
            problems.append(Problem(reason="a project needs a name", fix="give name",
                                    field="name"))
        if problems:
            raise ValidationFailed("the genome project is not valid", problems)
        return out

    def create_project(self, actor: Actor, key: str, values: Mapping[str, Any]
                       ) -> dict[str, Any]:
        """A new project (curators and admins)."""
        require_writer(actor)
        key = key.strip().lower()
        if not _KEY.match(key):
            raise UsageError(f"{key!r} is not a project key; write lower-case letters, "
                             "digits, - and _, e.g. fish10k")
        fields = self._checked_project({"done_status": progress.DONE_STEP, **values})
        if not fields.get("name"):
            raise ValidationFailed("the genome project is not valid", [Problem(
                reason="a project needs a name", fix="give name", field="name")])
        with self.db.write() as conn:
            if store.get_project(conn, key) is not None:
                raise Conflict(f"a project {key} exists; change it instead")
            store.insert_project(conn, key, fields, actor.username)
        return self.project(actor, key)

    def update_project(self, actor: Actor, key: str, changes: Mapping[str, Any],
                       version: int | None = None) -> dict[str, Any]:
        """Change a project's fields (curators and admins)."""
        require_writer(actor)
        fields = self._checked_project(changes)
        with self.db.write() as conn:
            found = self._project(conn, key)
            if version is not None and version != found.version:
                raise ConcurrentChange(f"project {key} changed since version {version} "
                                       f"(now {found.version}); read it again")
            merged = {**found.to_dict(), **fields}
            if merged.get("started") and merged.get("ends") and \
                    merged["ends"] < merged["started"]:
                raise ValidationFailed("the genome project is not valid", [Problem(
                    reason=f"ends {merged['ends']} is before started {merged['started']}",
                    fix="check the two dates", field="ends")])
            if not store.update_project(conn, key, found.version, fields):
                raise ConcurrentChange(f"project {key} changed meanwhile; read it again")
        return self.project(actor, key)

    def _project(self, conn: Any, key: str) -> store.Project:
        found = store.get_project(conn, key.strip().lower())
        if found is None:
            raise NotFound(f"no genome project {key!r}; `lanhai genomes projects` lists them")
        return found

    def projects(self, actor: Actor) -> list[dict[str, Any]]:
        """Every project with its counts (done, in progress, targeted), each done by its
        own done status."""
        with self.db.read() as conn:
            found = store.list_projects(conn)
            rows = store.targets(conn)
            statuses = status.replay(_events(store.events(conn)))
        out = []
        for project in found:
            mine = [progress.Target(t.project, t.taxid, t.scientific_name, t.lineage,
                                    t.priority or 3) for t in rows if t.project == project.key]
            counts = progress.count_projects(mine, statuses, project.done_status)
            out.append({**project.to_dict(), "counts": counts[project.key].to_dict()
                        if project.key in counts else None})
        return out

    def project(self, actor: Actor, key: str) -> dict[str, Any]:
        """One project with its progress."""
        with self.db.read() as conn:
            found = self._project(conn, key)
        return {**found.to_dict(), "progress": self.progress(actor, found.key)}

    # --- targets and statuses -------------------------------------------------------------

    def import_targets(self, actor: Actor, key: str, path: Path) -> dict[str, Any]:
        """A target list (a GoaT status list, or any table with a taxon id and a scientific
        name; class and order columns add ranks): every row checked, all or nothing. A
        species' status on the list is recorded as of today, when it moved on."""
        require_writer(actor)
        with self.db.read() as conn:
            project = self._project(conn, key)
            known = {t.taxid: t.scientific_name for t in store.targets(conn)}
            history = _events(store.events(conn, project.key))
        try:
            text = path.read_text("utf-8-sig")
        except (OSError, UnicodeDecodeError) as err:
            raise UsageError(f"cannot read {path.name}: {err}; give a UTF-8 tab-separated "
                             "file") from None
        parsed = goat.parse_goat(text, project=project.key, names=known, file=path.name)
        problems = list(parsed.problems)
        rows = [r for r in parsed.rows if r.project.lower() == project.key]
        others = sorted({r.project for r in parsed.rows} - {r.project for r in rows})
        if others:
            problems.append(Problem(reason=f"names other projects ({', '.join(others)})",
                                    fix=f"import each project's list into that project, or "
                                        f"give only {project.key}'s rows", file=path.name))
        ranks = _extra_ranks(text)
        today = self.today()
        current = status.replay(history)
        new_events: list[status.StatusEvent] = []
        for row in rows:
            have = current.get((project.key, row.taxid))
            if row.status == "targeted" or (have and status.position(have.status) >=
                                            status.position(row.status)):
                continue
            event = status.StatusEvent(project.key, row.taxid, row.status, today, (),
                                       f"from the status list {path.name}", allow_skip=True,
                                       from_list=True)
            found = status.check_transition(
                [e for e in history if e.key == event.key], event, today)
            problems += [Problem(reason=p.reason, fix=p.fix, field=p.field, value=p.value,
                                 row=row.row, file=path.name) for p in found]
            new_events.append(event)
        if problems:
            raise ValidationFailed(f"{path.name}: {len(problems)} problem(s); nothing was "
                                   "imported", problems)
        targets = [store.Target(project.key, r.taxid, r.scientific_name,
                                {**ranks.get(r.row, {}),
                                 **({"family": r.family} if r.family else {}),
                                 **({"genus": r.genus} if r.genus else {})}, r.priority)
                   for r in rows]
        with self.db.write() as conn:
            added, updated = store.put_targets(conn, project.key, targets, actor.username)
            store.add_events(conn, [_stored(e) for e in new_events], actor.username)
        return {"project": project.key, "rows": len(rows), "added": added,
                "updated": updated, "statuses": len(new_events)}

    def set_status(self, actor: Actor, key: str, taxid: int, step: str, day: str | None = None,
                   evidence: Sequence[str] = (), note: str = "", allow_skip: bool = False,
                   allow_back: bool = False) -> dict[str, Any]:
        """Record that a target species reached a status, with its day and evidence;
        backward steps and skipped steps are refused unless stated."""
        require_writer(actor)
        when = dt.date.fromisoformat(_day(day, "day") or self.today().isoformat())
        with self.db.write() as conn:
            project = self._project(conn, key)
            if not any(t.taxid == taxid for t in store.targets(conn, project.key)):
                raise NotFound(f"taxon {taxid} is not a target of {project.key}; import it "
                               "with the target list first")
            history = _events(store.events(conn, project.key, taxid))
            event = status.StatusEvent(project.key, taxid, step, when,
                                       tuple(e.strip() for e in evidence if e.strip()),
                                       note.strip()[:2000], allow_skip, allow_back)
            problems = status.check_transition(history, event, self.today())
            if problems:
                raise ValidationFailed(f"the status of {taxid} in {project.key} is not "
                                       "valid; nothing was recorded", problems)
            store.add_events(conn, [_stored(event)], actor.username)
            stored = store.events(conn, project.key, taxid)
        return {"project": project.key, "taxid": taxid,
                "events": [e.to_dict() for e in stored]}

    def species(self, actor: Actor, key: str, taxid: int) -> dict[str, Any]:
        """A target species of a project: its names, ranks and every status event."""
        with self.db.read() as conn:
            project = self._project(conn, key)
            target = next((t for t in store.targets(conn, project.key) if t.taxid == taxid),
                          None)
            if target is None:
                raise NotFound(f"taxon {taxid} is not a target of {project.key}")
            stored = store.events(conn, project.key, taxid)
        now = status.current_of(_events(stored))
        return {**target.to_dict(), "status": now.status if now else "targeted",
                "since": now.since.isoformat() if now and now.since else None,
                "events": [e.to_dict() for e in stored]}

    # --- progress -------------------------------------------------------------------------

    def progress(self, actor: Actor, key: str | None = None, as_of: dt.date | None = None,
                 limit: int = 50) -> dict[str, Any]:
        """Counts per project and per class, order and family, the tree, the projected
        completion and the next best species (targets the bank holds material for)."""
        with self.db.read() as conn:
            if key is not None:
                key = self._project(conn, key).key
            projects = {p.key: p for p in store.list_projects(conn)}
            rows = store.targets(conn, key)
            stored = store.events(conn, key)
            material = store.bank_material(conn, actor.can_see_restricted)
        targets = [progress.Target(t.project, t.taxid, t.scientific_name, t.lineage,
                                   t.priority or 3) for t in rows]
        bank = {t.taxid for t in rows if t.taxid in material.taxids or
                t.scientific_name.lower() in material.names}
        day = as_of or self.today()
        done_steps = {p.done_status for p in projects.values()}
        done = done_steps.pop() if len(done_steps) == 1 else progress.DONE_STEP
        summary = progress.summarise(targets, _events(stored), day, bank, RANKS, done,
                                     limit=limit)
        counts = {k: v.to_dict() for k, v in summary.projects.items()}
        return {"as_of": day.isoformat(), "done_step": done,
                "projects": counts,
                "by_rank": {rank: [{"name": name, "project": project, **c.to_dict()}
                                   for (project, name), c in sorted(groups.items())]
                            for rank, groups in summary.by_rank.items()},
                "tree": summary.trees, "table": summary.table,
                "projections": {k: v.to_dict() for k, v in summary.projections.items()},
                "next_best": [c.to_dict() for c in summary.next_best],
                "reported": {k: {"done": p.reported_done, "on": p.reported_on,
                                 "source": p.reported_source}
                             for k, p in projects.items() if p.reported_done is not None}}

    def goat_status(self, actor: Actor, key: str) -> str:
        """The project's targets and statuses as a GoaT import file (tab-separated)."""
        with self.db.read() as conn:
            project = self._project(conn, key)
            rows = store.targets(conn, project.key)
            current = status.replay(_events(store.events(conn, project.key)))
        out = [goat.GoatRow(project.key, t.taxid, t.scientific_name,
                            current[(project.key, t.taxid)].status
                            if (project.key, t.taxid) in current else "targeted",
                            t.priority or 3, t.lineage.get("family", ""),
                            t.lineage.get("genus", "")) for t in rows]
        return "".join(goat.goat_lines(out))

    # --- assemblies -----------------------------------------------------------------------

    def attach_reports(self, actor: Actor, accession: str, *, busco: str | None = None,
                       compleasm: str | None = None, lineage: str | None = None,
                       merqury_qv: str | None = None,
                       merqury_completeness: str | None = None,
                       assembly: str | None = None) -> dict[str, Any]:
        """Read the reports of the tools that measure what sequences alone cannot (a BUSCO
        short summary, compleasm's summary, Merqury's .qv and .completeness.stats) into an
        assembly record's quality fields; the record is judged again against the
        standards. ``assembly`` names the row of a Merqury file that lists several."""
        require_writer(actor)
        changes: dict[str, Any] = {}
        for text, read in ((busco, quality.parse_busco_summary),
                           (compleasm, lambda t: quality.parse_compleasm_summary(t, lineage))):
            if text is not None:
                found = read(text)
                changes["busco"] = found.notation()
                if found.lineage:
                    changes["busco_lineage"] = found.lineage
        if merqury_qv is not None:
            qv = _row(quality.parse_merqury_qv(merqury_qv), assembly, "Merqury .qv")
            if qv.qv == float("inf"):
                raise UsageError(f"Merqury found no k-mer in error for {qv.assembly} (QV "
                                 "infinite); give the QV the read depth supports instead "
                                 "(lanhai update ACCESSION --set qv=…)")
            changes["qv"] = round(qv.qv, 4)
        if merqury_completeness is not None:
            rows = [r for r in quality.parse_merqury_completeness(merqury_completeness)
                    if r.kmer_set == "all"]
            done = _row(rows, assembly, "Merqury .completeness.stats")
            changes["kmer_completeness"] = round(done.completeness_pct, 4)
        if not changes:
            raise UsageError("give a report: a BUSCO short summary, compleasm's summary, or "
                             "Merqury's .qv or .completeness.stats")
        record = self.catalog.get(actor, accession)
        if record.kind != "assembly":
            raise UsageError(f"{record.accession} is a {record.kind}, not an assembly")
        updated = self.catalog.update(actor, record.accession, changes,
                                      note="quality reports read: " + ", ".join(changes))
        return {"accession": updated.accession, "changed": sorted(changes),
                **{k: updated.fields.get(k) for k in (
                    "busco", "busco_lineage", "qv", "kmer_completeness", "quality_standard",
                    "ebp_verdict", "ebp_failures", "ebp_not_measured")}}

    def import_assemblies(self, actor: Actor, path: Path, only: str | None = None,
                          dry_run: bool = False) -> dict[str, Any]:
        """An NCBI assembly summary table (or the team's assembly table) as assembly
        records with their quality fields, matched on the INSDC accession; all or nothing.
        ``only`` keeps the rows whose ``selected_as`` is that value (fish)."""
        require_writer(actor)
        keep = (lambda row: row.get("selected_as", only) == only) if only else None
        table = read_assembly_file(path, keep=keep, today=self.today())
        if table.problems:
            raise ValidationFailed(f"{path.name}: {len(table.problems)} problem(s); nothing "
                                   "was imported", table.problems)
        if not table.rows:
            raise UsageError(f"{path.name} holds no assembly")
        scratch = self.scratch or Path(tempfile.gettempdir())
        scratch.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", suffix=".csv", dir=scratch, delete=False,
                                         encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=ASSEMBLY_COLUMNS)
            writer.writeheader()
            for metrics in table.rows:
                writer.writerow(assembly_row(metrics))
            staged = Path(handle.name)
        try:
            report = self.imports.run(actor, staged, ImportOptions(
                kind="assembly", dry_run=dry_run, note=f"imported from {path.name}"))
        finally:
            staged.unlink(missing_ok=True)
        out: dict[str, Any] = report.to_dict()
        for problem in out["problems"]:  # rows of the staged table -> lines of the file
            row = problem.get("row")
            if isinstance(row, int) and 2 <= row < len(table.lines) + 2:
                problem["row"] = table.lines[row - 2]
            problem["file"] = path.name
        out["file"], out["layout"] = path.name, table.layout
        return out


#: the assembly fields an assembly table fills
ASSEMBLY_COLUMNS = ("insdc_accession", "assembly_name", "assembly_type", "seq_meth",
                    "assembly_software", "taxon_name", "taxid", "assembly_level", "genome_size",
                    "contig_n50", "scaffold_n50", "contig_count", "scaffold_count",
                    "chromosome_count", "assigned_to_chromosomes", "qv", "kmer_completeness",
                    "false_duplications", "busco", "busco_lineage", "release_date")


def assembly_row(m: AssemblyMetrics) -> dict[str, Any]:
    """An assembly record's fields from a table's metrics (an isolate genome; what the
    table does not say is 'not provided' where MIxS requires it)."""
    name = m.assembly_name or m.accession or ""
    return {
        "insdc_accession": m.accession or "",
        "assembly_name": f"{name} ({m.accession})" if m.accession and name != m.accession
        else name,
        "assembly_type": "isolate genome", "seq_meth": "not provided",
        "assembly_software": "not provided", "taxon_name": m.organism or "",
        "taxid": m.taxid or "",
        "assembly_level": m.assembly_level.value if m.assembly_level else "",
        "genome_size": m.total_length_bp or "", "contig_n50": m.contig_n50_bp or "",
        "scaffold_n50": m.scaffold_n50_bp or "", "contig_count": m.contig_count or "",
        "scaffold_count": m.scaffold_count or "",
        "chromosome_count": m.chromosome_count or "",
        "assigned_to_chromosomes": "" if m.assigned_to_chromosomes_pct is None
        else m.assigned_to_chromosomes_pct,
        "qv": "" if m.qv is None else m.qv,
        "kmer_completeness": "" if m.kmer_completeness_pct is None
        else m.kmer_completeness_pct,
        "false_duplications": "" if m.false_duplications_pct is None
        else m.false_duplications_pct,
        "busco": _busco(m),
        "busco_lineage": (m.busco.lineage or "") if m.busco else "",
        "release_date": m.release_date.isoformat() if m.release_date else "",
    }


_R = TypeVar("_R", quality.MerquryQV, quality.MerquryCompleteness)


def _row(rows: Sequence[_R], assembly: str | None, what: str) -> _R:
    """The row of a Merqury file for ``assembly``, or its only row of one assembly."""
    if assembly is not None:
        found = [r for r in rows if r.assembly == assembly]
        if not found:
            raise UsageError(f"the {what} file has no row for {assembly!r}; it lists "
                             + ", ".join(r.assembly for r in rows))
        return found[0]
    single = [r for r in rows if r.assembly.lower() != "both"]
    if len(single) == 1:
        return single[0]
    if not rows:
        raise UsageError(f"the {what} file has no row")
    raise UsageError(f"the {what} file lists {', '.join(r.assembly for r in rows)}: say "
                     "which row is this assembly's (--assembly NAME, or Both for a pair of "
                     "haplotypes)")


def _busco(m: AssemblyMetrics) -> str:
    """BUSCO's notation of the metrics' gene completeness; for compleasm, whose tables may
    leave out its I class (genes found in pieces), the share left to 100 % is that class."""
    if m.busco is None:
        return ""
    shares = m.busco
    rest = 100 - shares.complete - shares.fragmented - shares.missing
    if shares.tool == "compleasm" and shares.interspaced is None and rest > 0.05:
        shares = dataclasses.replace(shares, interspaced=rest)
    return shares.notation()


def _stored(event: status.StatusEvent) -> dict[str, Any]:
    return {"project": event.project, "taxid": event.taxid, "status": event.status,
            "day": event.day.isoformat(), "evidence": list(event.evidence),
            "note": event.note, "allow_skip": event.allow_skip,
            "allow_back": event.allow_back, "from_list": event.from_list}


def _extra_ranks(text: str) -> dict[int, dict[str, str]]:
    """Class and order by file row, where a target list has such columns."""
    reader = csv.DictReader(io.StringIO(text), delimiter="\t")
    out: dict[int, dict[str, str]] = {}
    for number, row in enumerate(reader, start=2):
        ranks = {rank: (row.get(rank) or "").strip() for rank in ("class", "order")}
        ranks = {k: v for k, v in ranks.items() if v}
        if ranks:
            out[number] = ranks
    return out
