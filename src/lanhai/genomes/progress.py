"""Progress of genome projects: counts, a taxonomic tree, a completion date, what to start next.

The inputs are a project's targets (:class:`Target`: taxon id, name, lineage, priority)
and each species' current status (:class:`~lanhai.genomes.status.SpeciesStatus`, from
:func:`~lanhai.genomes.status.replay`); a target without a status is ``targeted``.

**Done, in progress, targeted.** A species is *done* when its status is at or beyond the
done step, by default ``insdc_open`` (the assembly is public in INSDC, which is what GoaT and
the EBP count); pass ``done_step="published"`` to count only published genomes, or
``"insdc_submitted"`` to count submissions. It is *in progress* from ``sample_collected``
up to the done step, and *targeted* before that (``targeted`` or ``sample_available``:
nothing collected yet). Every target is in exactly one of the three.

**Projected completion.** Over the window (the last ``window_days`` days to ``as_of``, but
starting no earlier than the project's first status event, so a young project is not
judged on days before it began) the rate is *r* = species that reached done within the
window and are still done ÷ days in the window (both ends counted). With *R* targets not
done, the completion date is ``as_of`` + ⌈*R* ÷ *r*⌉ days. There is none when no species
reached done in the window (the reason says so), when no status carries a date (steps read
from a status list carry none), or when the project's dated steps span fewer days than
:data:`MIN_PROJECTION_DAYS` (or the window asked, if narrower); when every target is
done it is the day the last one got there.

**Next best species.** Targets that nothing has started yet, in this project or another,
and whose taxon the bank holds samples or strains of (the caller gives those taxon ids),
ranked by priority (1 = family representative, 2 = other priority, 3 = long list), then
**gap first**: fewest done relatives in the same family, then fewest relatives in
progress in that family, then fewest done in the same order. This is GoaT's and the EBP's
rule of filling the tree (one genome per family before a second): a species from a family
without any genome adds the most new branch length. Relatives are counted over every
project's targets, a taxon once, at its most advanced status.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lanhai.genomes.status import POSITION, STATUSES, SpeciesStatus, StatusEvent, replay

#: the default done step
DONE_STEP = "insdc_open"
#: the default ranks of the tree and the table, highest first
RANKS: tuple[str, ...] = ("class", "order", "family")
#: the name a target without a value at a rank is grouped under
UNPLACED = "(unplaced)"
#: the default window of the completion rate, in days
WINDOW_DAYS = 365
#: the fewest days of dated steps a completion date is projected from (a rate read from a
#: few days means little)
MIN_PROJECTION_DAYS = 90
#: priorities, most urgent first (GoaT's target-list levels)
PRIORITIES = {1: "family_representative", 2: "other_priority", 3: "long_list"}
BUCKETS = ("done", "in_progress", "targeted")
_STARTED = POSITION["sample_collected"]


@dataclass(frozen=True)
class Target:
    """A species on a project's target list."""

    project: str
    taxid: int
    scientific_name: str
    #: rank → name: class, order, family, genus (any may be missing)
    lineage: Mapping[str, str] = field(default_factory=dict)
    #: 1 = family representative, 2 = other priority, 3 = long list (lower goes first)
    priority: int = 3


@dataclass
class Counts:
    """How many targets are done, in progress and only targeted, and at each status."""

    total: int = 0
    done: int = 0
    in_progress: int = 0
    targeted: int = 0
    by_status: dict[str, int] = field(default_factory=dict)

    def add(self, status: str, bucket: str) -> None:
        self.total += 1
        if bucket == "done":
            self.done += 1
        elif bucket == "in_progress":
            self.in_progress += 1
        else:
            self.targeted += 1
        self.by_status[status] = self.by_status.get(status, 0) + 1

    @property
    def done_share(self) -> float:
        """Done ÷ total (0 for no targets)."""
        return self.done / self.total if self.total else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, "done": self.done, "in_progress": self.in_progress,
                "targeted": self.targeted, "done_share": round(self.done_share, 4),
                "by_status": {s: self.by_status[s] for s in STATUSES if s in self.by_status}}


def bucket_of(status: str, done_step: str = DONE_STEP) -> str:
    """"done", "in_progress" or "targeted" for a status (see the module's definitions)."""
    step = POSITION[status]
    if step >= POSITION[done_step]:
        return "done"
    return "in_progress" if step >= _STARTED else "targeted"


@dataclass(slots=True)
class _Row:
    target: Target
    status: str
    bucket: str
    state: SpeciesStatus | None


def _classify(targets: Iterable[Target], statuses: Mapping[tuple[str, int], SpeciesStatus],
              done_step: str) -> list[_Row]:
    if done_step not in POSITION:
        raise ValueError(f"unknown done step {done_step!r}; the statuses are "
                         f"{', '.join(STATUSES)}")
    threshold = POSITION[done_step]
    rows: list[_Row] = []
    seen: set[tuple[str, int]] = set()
    for target in targets:
        key = (target.project, target.taxid)
        if key in seen:
            continue
        seen.add(key)
        state = statuses.get(key)
        status = state.status if state is not None else "targeted"
        step = POSITION[status]
        bucket = ("done" if step >= threshold else
                  "in_progress" if step >= _STARTED else "targeted")
        rows.append(_Row(target, status, bucket, state))
    return rows


def _project_counts(rows: Iterable[_Row]) -> dict[str, Counts]:
    out: dict[str, Counts] = {}
    for row in rows:
        counts = out.get(row.target.project)
        if counts is None:
            counts = out[row.target.project] = Counts()
        counts.add(row.status, row.bucket)
    return out


def count_projects(targets: Iterable[Target],
                   statuses: Mapping[tuple[str, int], SpeciesStatus],
                   done_step: str = DONE_STEP) -> dict[str, Counts]:
    """Counts per project."""
    return _project_counts(_classify(targets, statuses, done_step))


def _rank_counts(rows: Iterable[_Row], rank: str) -> dict[tuple[str, str], Counts]:
    out: dict[tuple[str, str], Counts] = {}
    for row in rows:
        key = (row.target.project, row.target.lineage.get(rank) or UNPLACED)
        counts = out.get(key)
        if counts is None:
            counts = out[key] = Counts()
        counts.add(row.status, row.bucket)
    return out


def count_by_rank(targets: Iterable[Target],
                  statuses: Mapping[tuple[str, int], SpeciesStatus], rank: str,
                  done_step: str = DONE_STEP) -> dict[tuple[str, str], Counts]:
    """Counts per (project, taxon name at ``rank``); targets without a name there are
    counted under :data:`UNPLACED`."""
    return _rank_counts(_classify(targets, statuses, done_step), rank)


def _node(rank: str, name: str) -> dict[str, Any]:
    return {"rank": rank, "name": name, "counts": Counts(), "children": {}}


def _build_tree(rows: Iterable[_Row], ranks: Sequence[str]) -> dict[str, dict[str, Any]]:
    roots: dict[str, dict[str, Any]] = {}
    for row in rows:
        project = row.target.project
        node = roots.get(project)
        if node is None:
            node = roots[project] = _node("project", project)
        node["counts"].add(row.status, row.bucket)
        lineage = row.target.lineage
        for rank in ranks:
            name = lineage.get(rank) or UNPLACED
            children = node["children"]
            child = children.get(name)
            if child is None:
                child = children[name] = _node(rank, name)
            child["counts"].add(row.status, row.bucket)
            node = child
    for root in roots.values():
        _freeze(root)
    return roots


def _freeze(node: dict[str, Any]) -> None:
    node["counts"] = node["counts"].to_dict()
    node["children"] = {name: node["children"][name] for name in sorted(node["children"])}
    for child in node["children"].values():
        _freeze(child)


def tree(targets: Iterable[Target], statuses: Mapping[tuple[str, int], SpeciesStatus],
         ranks: Sequence[str] = RANKS, done_step: str = DONE_STEP
         ) -> dict[str, dict[str, Any]]:
    """Per project, a tree of nested dicts for a treemap: each node is ``{"rank", "name",
    "counts": Counts.to_dict(), "children": {name: node}}``, the project at the root, then
    one level per rank of ``ranks``; children sorted by name."""
    return _build_tree(_classify(targets, statuses, done_step), ranks)


def table(trees: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The nodes of :func:`tree` as flat rows (project first, then depth first): project,
    rank, name, path (the names above it, joined by " > "), and the counts."""
    rows: list[dict[str, Any]] = []

    def walk(node: Mapping[str, Any], project: str, path: tuple[str, ...]) -> None:
        counts = node["counts"]
        rows.append({"project": project, "rank": node["rank"], "name": node["name"],
                     "path": " > ".join(path), "total": counts["total"],
                     "done": counts["done"], "in_progress": counts["in_progress"],
                     "targeted": counts["targeted"], "done_share": counts["done_share"]})
        below = (*path, node["name"]) if node["rank"] != "project" else ()
        for child in node["children"].values():
            walk(child, project, below)

    for project in sorted(trees):
        walk(trees[project], project, ())
    return rows


def treemap(node: Mapping[str, Any], value: str = "total") -> dict[str, Any]:
    """A :func:`tree` node as a treemap's ``{"name", "value", "done", "children"}`` (the
    shape chart libraries take), ``value`` being the count that sizes the boxes."""
    out: dict[str, Any] = {"name": node["name"], "value": node["counts"][value],
                           "done": node["counts"]["done"]}
    if node["children"]:
        out["children"] = [treemap(c, value) for c in node["children"].values()]
    return out


@dataclass(frozen=True)
class Projection:
    """A project's projected completion and the figures behind it."""

    project: str
    total: int
    done: int
    remaining: int
    as_of: dt.date
    window_start: dt.date | None
    window_days: int
    done_in_window: int
    #: species reaching done per day over the window
    rate_per_day: float
    completion: dt.date | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"project": self.project, "total": self.total, "done": self.done,
                "remaining": self.remaining, "as_of": self.as_of.isoformat(),
                "window_start": self.window_start.isoformat() if self.window_start else None,
                "window_days": self.window_days, "done_in_window": self.done_in_window,
                "rate_per_day": round(self.rate_per_day, 6),
                "completion": self.completion.isoformat() if self.completion else None,
                "reason": self.reason}


def _project_projection(project: str, rows: Sequence[_Row], as_of: dt.date,
                        window_days: int, done_step: str) -> Projection:
    total = len(rows)
    done_days = [r.state.done_since(done_step) if r.state is not None else None
                 for r in rows if r.bucket == "done"]
    done = len(done_days)
    remaining = total - done
    firsts = [r.state.first for r in rows if r.state is not None and r.state.first]
    if not firsts:
        return Projection(project, total, done, remaining, as_of, None, 0, 0, 0.0, None,
                          "no status of this project carries a date")
    start = max(as_of - dt.timedelta(days=window_days - 1), min(firsts))
    days = (as_of - start).days + 1
    if days <= 0:
        return Projection(project, total, done, remaining, as_of, None, 0, 0, 0.0, None,
                          f"the project's first event is after {as_of.isoformat()}")
    in_window = sum(1 for d in done_days if d is not None and start <= d <= as_of)
    rate = in_window / days
    if remaining == 0:
        last = max((d for d in done_days if d is not None), default=None)
        return Projection(project, total, done, 0, as_of, start, days, in_window, rate, last,
                          "every target is done")
    if in_window == 0:
        return Projection(project, total, done, remaining, as_of, start, days, 0, 0.0, None,
                          f"no species reached {done_step} in the {days} days from "
                          f"{start.isoformat()} to {as_of.isoformat()}, so there is no "
                          "rate to project")
    least = min(MIN_PROJECTION_DAYS, window_days)  # a window asked narrower is the caller's
    if days < least:
        return Projection(project, total, done, remaining, as_of, start, days, in_window,
                          rate, None, f"the dated steps span {days} day(s); a completion "
                          f"date is projected from at least {least} days of them")
    needed = -(-remaining * days // in_window)
    return Projection(project, total, done, remaining, as_of, start, days, in_window, rate,
                      as_of + dt.timedelta(days=needed),
                      f"{in_window} species reached {done_step} in {days} days "
                      f"({rate:.3f} a day); {remaining} to go take {needed} days")


def _by_project(rows: Iterable[_Row]) -> dict[str, list[_Row]]:
    out: dict[str, list[_Row]] = {}
    for row in rows:
        out.setdefault(row.target.project, []).append(row)
    return out


def projections(targets: Iterable[Target], statuses: Mapping[tuple[str, int], SpeciesStatus],
                as_of: dt.date, window_days: int = WINDOW_DAYS,
                done_step: str = DONE_STEP) -> dict[str, Projection]:
    """Each project's projected completion (see the module's formula)."""
    if window_days < 1:
        raise ValueError("the window is at least one day")
    rows = _classify(targets, statuses, done_step)
    return {project: _project_projection(project, group, as_of, window_days, done_step)
            for project, group in sorted(_by_project(rows).items())}


@dataclass(frozen=True)
class Candidate:
    """A species worth starting next, and why."""

    project: str
    taxid: int
    scientific_name: str
    priority: int
    family: str
    order: str
    family_done: int
    family_in_progress: int
    order_done: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"project": self.project, "taxid": self.taxid,
                "scientific_name": self.scientific_name, "priority": self.priority,
                "family": self.family, "order": self.order, "family_done": self.family_done,
                "family_in_progress": self.family_in_progress, "order_done": self.order_done,
                "reason": self.reason}


def _next_best(rows: Sequence[_Row], bank_taxids: Collection[int],
               limit: int | None) -> list[Candidate]:
    best: dict[int, int] = {}
    rank_of = {"targeted": 0, "in_progress": 1, "done": 2}
    lineage_of: dict[int, Mapping[str, str]] = {}
    for row in rows:
        taxid = row.target.taxid
        level = rank_of[row.bucket]
        if level >= best.get(taxid, -1):
            best[taxid] = level
        lineage_of.setdefault(taxid, row.target.lineage)
    family_done: dict[str, int] = {}
    family_started: dict[str, int] = {}
    order_done: dict[str, int] = {}
    for taxid, level in best.items():
        if level == 0:
            continue
        lineage = lineage_of[taxid]
        family, order = lineage.get("family"), lineage.get("order")
        if level == 2:
            if family:
                family_done[family] = family_done.get(family, 0) + 1
            if order:
                order_done[order] = order_done.get(order, 0) + 1
        elif family:
            family_started[family] = family_started.get(family, 0) + 1
    picks: list[tuple[tuple[int, int, int, int, str, int], Candidate]] = []
    for row in rows:
        target = row.target
        if row.bucket != "targeted" or best[target.taxid] != 0 \
                or target.taxid not in bank_taxids:
            continue
        family = target.lineage.get("family") or ""
        order = target.lineage.get("order") or ""
        f_done = family_done.get(family, 0) if family else 0
        f_started = family_started.get(family, 0) if family else 0
        o_done = order_done.get(order, 0) if order else 0
        label = PRIORITIES.get(target.priority, f"priority {target.priority}").replace("_", " ")
        if not family:
            gap = "family unknown"
        elif f_done == 0 and f_started == 0:
            gap = f"no genome done or under way in {family}"
        else:
            gap = f"{f_done} done and {f_started} under way in {family}"
        reason = (f"{label}; {gap}; {o_done} done in {order or 'its order (unknown)'}; "
                  "material in the bank")
        candidate = Candidate(target.project, target.taxid, target.scientific_name,
                              target.priority, family, order, f_done, f_started, o_done,
                              reason)
        picks.append(((target.priority, f_done, f_started, o_done, target.scientific_name,
                       target.taxid), candidate))
    picks.sort(key=lambda pick: (pick[0], pick[1].project))
    chosen = [candidate for _, candidate in picks]
    return chosen if limit is None else chosen[:limit]


def next_best(targets: Iterable[Target], statuses: Mapping[tuple[str, int], SpeciesStatus],
              bank_taxids: Collection[int], limit: int | None = None,
              done_step: str = DONE_STEP) -> list[Candidate]:
    """The species to start next, best first (see the module's ranking)."""
    return _next_best(_classify(targets, statuses, done_step), bank_taxids, limit)


@dataclass(frozen=True)
class Summary:
    """Everything a progress page shows, computed in one pass."""

    projects: dict[str, Counts]
    by_rank: dict[str, dict[tuple[str, str], Counts]]
    trees: dict[str, dict[str, Any]]
    table: list[dict[str, Any]]
    projections: dict[str, Projection]
    next_best: list[Candidate]


def summarise(targets: Sequence[Target], events: Iterable[StatusEvent], as_of: dt.date,
              bank_taxids: Collection[int] = frozenset(), ranks: Sequence[str] = RANKS,
              done_step: str = DONE_STEP, window_days: int = WINDOW_DAYS,
              limit: int | None = 50) -> Summary:
    """Counts per project and per rank, the trees and their table, the projections and the
    next best species, from the events up to ``as_of`` (later ones are left out)."""
    statuses = replay(e for e in events if e.day <= as_of)
    rows = _classify(targets, statuses, done_step)
    trees = _build_tree(rows, ranks)
    if window_days < 1:
        raise ValueError("the window is at least one day")
    return Summary(
        projects=_project_counts(rows),
        by_rank={rank: _rank_counts(rows, rank) for rank in ranks},
        trees=trees, table=table(trees),
        projections={p: _project_projection(p, group, as_of, window_days, done_step)
                     for p, group in sorted(_by_project(rows).items())},
        next_best=_next_best(rows, bank_taxids, limit))
