"""The status ladder of a genome project's species, and the rules for moving along it.

A species on a project's target list climbs GoaT's sequencing-status ladder (the
``sequencing_status`` values of genomehubs/goat-data, least advanced first)::

    targeted → [sample_available] → sample_collected → sample_acquired → [in_progress]
      → data_generation → in_assembly → insdc_submitted → [open] → insdc_open → published

``targeted`` is Lanhai's name for being on the list with nothing started (GoaT's
``long_list`` membership without a status). Steps in brackets are **optional**: GoaT's
``sample_available`` (the project knows of samples), ``in_progress`` (GoaT's summary of
data generation, assembly and submission, used when a project reports no finer step) and
``open`` (data public in a project's own store before INSDC). Passing over an optional step
is not a skip; after ``in_progress`` the three steps it stands for are not skips either.

Every status change is a :class:`StatusEvent`. :func:`check_transition` refuses, with what
to do instead: a step back or a skipped step unless the event says so (``allow_back``,
``allow_skip``), a day before the species' previous event or after today, an unknown
status, a taxon id that is not a positive integer, and evidence that is neither a Lanhai
accession nor an INSDC one in its published form (see :data:`EVIDENCE_FORMS`).
:func:`replay` turns events into each species' current status. Nothing here reads or writes
the bank.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter

from lanhai.errors import Problem
from lanhai.kinds import ACCESSION_PATTERN


@dataclass(frozen=True)
class Step:
    """One rung of the ladder."""

    name: str
    label: str
    label_zh: str
    description: str
    #: passing over it is not a skip
    optional: bool = False
    #: the steps it stands for when a project reports only this coarse one
    covers: tuple[str, ...] = ()


#: the ladder, least advanced first (GoaT's names and order)
LADDER: tuple[Step, ...] = (
    Step("targeted", "Targeted", "已列入目标",
         "on the project's target list; nothing started"),
    Step("sample_available", "Sample available", "样品可获得",
         "the project knows of samples it can obtain", optional=True),
    Step("sample_collected", "Sample collected", "已采样", "samples collected"),
    Step("sample_acquired", "Sample acquired", "样品已获取",
         "samples received by the sequencing centre"),
    Step("in_progress", "In progress", "进行中",
         "sequencing started, assembly not yet public (data generation, assembly or "
         "submission, not told which)", optional=True,
         covers=("data_generation", "in_assembly", "insdc_submitted")),
    Step("data_generation", "Data generation", "测序中", "lab work and sequencing under way"),
    Step("in_assembly", "In assembly", "组装中", "the genome is being assembled"),
    Step("insdc_submitted", "INSDC submitted", "已提交",
         "assembly submitted to INSDC, not yet public"),
    Step("open", "Open", "数据已开放", "data public in a project's own store", optional=True),
    Step("insdc_open", "INSDC open", "已公开", "assembly public in INSDC"),
    Step("published", "Published", "已发表", "a publication describing the assembly"),
)
STATUSES: tuple[str, ...] = tuple(s.name for s in LADDER)
STEPS: dict[str, Step] = {s.name: s for s in LADDER}
#: a status's place on the ladder (0 = targeted)
POSITION: dict[str, int] = {name: i for i, name in enumerate(STATUSES)}

#: other names curators and files use (matched after :func:`_key`), besides each step's
#: own name, English label and Chinese label
ALIASES: dict[str, str] = {
    "target": "targeted", "long_list": "targeted", "not_started": "targeted",
    "planned": "targeted", "未开始": "targeted",
    "sample_collected_in_field": "sample_collected",
    "sample_received": "sample_acquired",
    "sequencing": "data_generation", "sequencing_in_progress": "data_generation",
    "data_generation_in_progress": "data_generation",
    "assembly_in_progress": "in_assembly", "assembling": "in_assembly",
    "assembly_submitted": "insdc_submitted", "submitted": "insdc_submitted",
    "submitted_to_insdc": "insdc_submitted",
    "published_in_insdc": "insdc_open", "public_in_insdc": "insdc_open",
    "open_in_insdc": "insdc_open", "insdc_public": "insdc_open",
    "publication_available": "published", "paper_published": "published",
}


def _key(text: str) -> str:
    return re.sub(r"[\s\-]+", "_", text.strip().lower())


_NAMES: dict[str, str] = {
    **{_key(k): v for k, v in ALIASES.items()},
    **{_key(s.label): s.name for s in LADDER},
    **{s.label_zh: s.name for s in LADDER},
    **{s.name: s.name for s in LADDER},
}


def status_name(text: str) -> str | None:
    """The ladder name for a status as written (``"assembly in progress"``, ``组装中``,
    ``insdc_open``), or None when it is not one."""
    return _NAMES.get(_key(text))


def position(status: str) -> int:
    """The place of ``status`` (a ladder name or alias) on the ladder; ValueError if unknown."""
    name = status_name(status)
    if name is None:
        raise ValueError(f"unknown status {status!r}; the statuses are {', '.join(STATUSES)}")
    return POSITION[name]


#: evidence forms: kind → pattern of the whole identifier
EVIDENCE_FORMS: dict[str, re.Pattern[str]] = {
    "Lanhai accession": re.compile(ACCESSION_PATTERN),
    "INSDC assembly": re.compile(r"GC[AF]_\d{9}(?:\.\d+)?"),
    "BioSample": re.compile(r"SAM(?:N|EA|D)\d+"),
    "BioProject": re.compile(r"PRJ(?:NA|EB|DB)\d+"),
    "INSDC run": re.compile(r"[EDS]RR\d{6,}"),
    "INSDC experiment": re.compile(r"[EDS]RX\d{6,}"),
    "INSDC sample": re.compile(r"[EDS]RS\d{6,}"),
    "INSDC study": re.compile(r"[EDS]RP\d{6,}"),
    "INSDC analysis": re.compile(r"ERZ\d{6,}"),
    "INSDC sequence": re.compile(r"[A-Z]\d{5}\.\d+|[A-Z]{2}\d{6,8}\.\d+"
                                 r"|[A-Z]{4,6}\d{8,10}(?:\.\d+)?"),
    "DOI": re.compile(r"10\.\d{4,9}/\S+"),
    "PubMed id": re.compile(r"PMID:\d+"),
}
_EVIDENCE_EXAMPLES = ("LHSM0000001, GCA_900747795.4, SAMEA7519948, PRJNA393850, "
                      "ERR6054498, OV754669.1, 10.1038/s41586-021-03451-0 or PMID:33911273")


def evidence_kind(text: str) -> str | None:
    """What kind of identifier ``text`` is (a key of :data:`EVIDENCE_FORMS`), or None."""
    for kind, pattern in EVIDENCE_FORMS.items():
        if pattern.fullmatch(text):
            return kind
    return None


@dataclass(frozen=True)
class StatusEvent:
    """A species reaching a status in a project on a day, with its evidence.

    ``status`` may be given by any alias; it is stored under its ladder name when known.
    ``allow_skip`` and ``allow_back`` state that passing over steps, or going back (a failed
    library, a withdrawn assembly), is meant.
    """

    project: str
    taxid: int
    status: str
    day: dt.date
    evidence: tuple[str, ...] = ()
    note: str = ""
    allow_skip: bool = False
    allow_back: bool = False
    #: read from a status list: it says where the species stands on ``day`` (the day the
    #: list was read), not since when, so the replay keeps no day for it
    from_list: bool = False

    def __post_init__(self) -> None:
        name = status_name(self.status) if isinstance(self.status, str) else None
        if name is not None:
            object.__setattr__(self, "status", name)
        if not isinstance(self.evidence, tuple):
            object.__setattr__(self, "evidence", tuple(self.evidence))

    @property
    def key(self) -> tuple[str, int]:
        return (self.project, self.taxid)


@dataclass(slots=True)
class SpeciesStatus:
    """Where one species stands in one project after its events."""

    project: str
    taxid: int
    status: str
    #: the day the current status was reached (None when only a snapshot is known)
    since: dt.date | None = None
    #: the day of the species' first event
    first: dt.date | None = None
    #: the day each step held now was reached (steps passed over are absent)
    reached: dict[str, dt.date] = field(default_factory=dict)
    #: every accession its events gave, in order
    evidence: list[str] = field(default_factory=list)

    def done_since(self, done_step: str = "insdc_open") -> dt.date | None:
        """The day the species reached ``done_step`` or beyond, or None if it has not (or
        the day is not known)."""
        threshold = POSITION[done_step]
        days = [d for s, d in self.reached.items() if POSITION[s] >= threshold]
        return min(days) if days else None


def _describe(status: str) -> str:
    return f"{status} ({STEPS[status].label_zh})" if status in STEPS else repr(status)


def skipped_steps(current: str, new: str) -> list[str]:
    """The required steps strictly between ``current`` and ``new`` that moving from one to
    the other passes over (optional steps, and those ``current`` stands for, excepted)."""
    low, high = POSITION[current], POSITION[new]
    covered = set(STEPS[current].covers)
    return [s.name for s in LADDER[low + 1:high] if not s.optional and s.name not in covered]


def _check_event(event: StatusEvent, today: dt.date) -> list[Problem]:
    problems: list[Problem] = []
    if not isinstance(event.project, str) or not event.project.strip():
        problems.append(Problem("the project is missing", "name the project the species is "
                                "a target of", field="project", value=str(event.project)))
    if isinstance(event.taxid, bool) or not isinstance(event.taxid, int) or event.taxid <= 0:
        problems.append(Problem("a taxon id is a positive whole number (NCBI Taxonomy)",
                                "give the species' NCBI taxon id, for example 8284",
                                field="taxid", value=str(event.taxid)))
    if event.status not in POSITION:
        problems.append(Problem(
            "is not a sequencing status", f"use one of {', '.join(STATUSES)} (or its "
            f"Chinese name, for example {STEPS['in_assembly'].label_zh} for in_assembly)",
            field="status",
            value=str(event.status)))
    if not isinstance(event.day, dt.date):
        problems.append(Problem("the day is missing or not a date", "give the day as "
                                "YYYY-MM-DD", field="day", value=str(event.day)))
    elif event.day > today:
        problems.append(Problem(
            f"is in the future (today is {today.isoformat()})",
            "record a status on the day it was reached, not before", field="day",
            value=event.day.isoformat()))
    for item in event.evidence:
        if not isinstance(item, str) or evidence_kind(item) is None:
            problems.append(Problem(
                "is not a Lanhai or INSDC accession, a DOI or a PubMed id",
                f"give identifiers in their published form, for example {_EVIDENCE_EXAMPLES}",
                field="evidence", value=str(item)))
    return problems


def current_of(history: Iterable[StatusEvent]) -> SpeciesStatus | None:
    """Where the species of ``history`` (one project and taxon) stands, or None if it has
    no events."""
    state = replay(history)
    return next(iter(state.values()), None)


def check_transition(history: Sequence[StatusEvent], new: StatusEvent,
                     today: dt.date | None = None) -> list[Problem]:
    """Why ``new`` may not follow ``history`` (the species' earlier events in the same
    project; others are ignored), or [] when it may. ``today`` defaults to the clock's."""
    today = today or dt.date.today()
    problems = _check_event(new, today)
    if any(p.field in ("status", "day") for p in problems):
        return problems
    own = [e for e in history if e.project == new.project and e.taxid == new.taxid
           and e.status in POSITION]
    last_day = max((e.day for e in own), default=None)
    if last_day is not None and new.day < last_day:
        problems.append(Problem(
            f"is before the species' previous event in {new.project} on "
            f"{last_day.isoformat()}", "give the day the status was reached; a correction "
            "of an older event is recorded as a new event dated today with a note",
            field="day", value=new.day.isoformat()))
    state = current_of(own)
    current = state.status if state else "targeted"
    since = f" since {state.since.isoformat()}" if state and state.since else ""
    step_from, step_to = POSITION[current], POSITION[new.status]
    if step_to < step_from and not new.allow_back:
        problems.append(Problem(
            f"goes back from {_describe(current)}{since} to {_describe(new.status)}",
            "if the species really went back (a failed library, a withdrawn assembly), "
            "record the event with allow_back and a note saying why", field="status",
            value=new.status))
    elif step_to > step_from:
        skipped = skipped_steps(current, new.status)
        if skipped and not new.allow_skip:
            names = ", ".join(_describe(s) for s in skipped)
            problems.append(Problem(
                f"skips {names}: the species is at {_describe(current)}{since}",
                f"record {' then '.join(skipped)} first, or record this event with "
                f"allow_skip to state that the species went from {current} straight to "
                f"{new.status}", field="status", value=new.status))
    elif step_to == step_from and state is not None:
        known = set(state.evidence)
        if not new.evidence or known.issuperset(new.evidence):
            problems.append(Problem(
                f"the species is already at {_describe(current)}{since}",
                "record a status change only when it changes; to add evidence, give the "
                "new accessions", field="status", value=new.status))
    return problems


def check_events(events: Sequence[StatusEvent], today: dt.date | None = None
                 ) -> list[Problem]:
    """Every problem of a series of events checked one after the other, in the order
    given (``row`` is the event's 1-based place); refused events are left out of the
    history the next ones are checked against."""
    today = today or dt.date.today()
    histories: dict[tuple[str, int], list[StatusEvent]] = {}
    problems: list[Problem] = []
    for index, event in enumerate(events, start=1):
        history = histories.setdefault(event.key, [])
        found = check_transition(history, event, today)
        if found:
            problems.extend(Problem(p.reason, p.fix, p.field, p.value, row=index)
                            for p in found)
        else:
            history.append(event)
    return problems


def replay(events: Iterable[StatusEvent]) -> dict[tuple[str, int], SpeciesStatus]:
    """Each (project, taxid)'s current status after its events, applied in day order (the
    given order within a day) as recorded: the rules are :func:`check_transition`'s job
    when an event is recorded. A status-list event sets the status without a day (so no
    rate is read from it). ValueError on a status that is not on the ladder."""
    out: dict[tuple[str, int], SpeciesStatus] = {}
    where = POSITION
    for event in sorted(events, key=attrgetter("day")):
        status, day = event.status, event.day
        key = (event.project, event.taxid)
        step = where.get(status)
        if step is None:
            raise ValueError(f"unknown status {status!r} for {event.project} taxon "
                             f"{event.taxid} on {day.isoformat()}")
        dated = None if event.from_list else day
        state = out.get(key)
        if state is None:
            state = out[key] = SpeciesStatus(event.project, event.taxid, status, dated,
                                             dated, {status: day} if dated else {})
        elif status != state.status:
            if step < where[state.status]:
                state.reached = {s: d for s, d in state.reached.items() if where[s] < step}
            if dated:
                state.reached[status] = dated
            state.status, state.since = status, dated
            state.first = state.first or dated
        if event.evidence:
            known = state.evidence
            for item in event.evidence:
                if item not in known:
                    known.append(item)
    return out


def status_of_events(events: Iterable[StatusEvent]) -> dict[tuple[str, int], str]:
    """Each (project, taxid)'s current status name after its events."""
    return {key: state.status for key, state in replay(events).items()}


def label(status: str, language: str = "en") -> str:
    """A status's label in ``language`` ("en" or "zh")."""
    step = STEPS[status_name(status) or status]
    return step.label_zh if language == "zh" else step.label


def status_counts(states: Mapping[tuple[str, int], SpeciesStatus]
                  ) -> dict[str, dict[str, int]]:
    """How many species are at each status, per project (every status listed, in ladder
    order)."""
    out: dict[str, dict[str, int]] = {}
    for (project, _), state in states.items():
        row = out.setdefault(project, dict.fromkeys(STATUSES, 0))
        row[state.status] += 1
    return out
