"""Indicators: each target of the plan with its definition, unit, baseline, target (a number,
a range or a yes/no milestone), target year, responsible unit (责任单位) and how its value is
obtained: **computed** by a declared count over the bank's records, or **reported** by a
reporting unit as an update with evidence that the programme office approves.

The plan's targets ship as data (``lanhai/programme/data/indicators.toml``); admins edit
them, every edit kept as a new version (:mod:`lanhai.store.programme`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lanhai.errors import Problem, UsageError, ValidationFailed
from lanhai.model import parse_filter
from lanhai.settings import read_toml

#: where a count may come from besides record kinds: the market's own tables
MARKET_SOURCES = {
    "brokers": "brokers accredited (by the day of accreditation)",
    "releases": "releases of selected results published (by the day published)",
    "deals": "deals that reached signing (by the day of signing)",
}
MARKET_SOURCES_ZH = {"brokers": "经认定的技术经纪人（按认定日期）",
                     "releases": "已发布的成果发布会（按发布日期）",
                     "deals": "进入签约阶段的交易（按签约日期）"}
#: the fields a computed indicator is broken down by, where its records have them
DISAGGREGATIONS = ("district", "sector", "task")
_KEY = re.compile(r"^[a-z][a-z0-9_]{1,62}$")
_LINKED = re.compile(r"^linked:([a-z_]+)$")
_PRESENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\?$")


@dataclass(frozen=True)
class Target:
    """What counts as reaching the indicator: at least ``low`` (more than ``low`` when
    ``above``), within ``low``..``high`` for a range, or a yes/no ``milestone`` (value 1)."""

    low: float | None = None
    high: float | None = None
    milestone: bool = False
    above: bool = False

    @property
    def tracked_only(self) -> bool:
        """No target: the value is tracked without one."""
        return self.low is None and not self.milestone

    def reached(self, value: float) -> bool:
        if self.milestone:
            return value >= 1
        if self.low is None:
            return False
        return value > self.low if self.above else value >= self.low

    @property
    def goal(self) -> float | None:
        """The value to reach (the low end of a range; 1 for a milestone)."""
        if self.milestone:
            return 1.0
        if self.low is None:
            return None
        return self.low + 1 if self.above else self.low

    def text(self) -> str:
        if self.milestone:
            return "yes"
        if self.low is None:
            return ""
        if self.high is not None:
            return f"{_num(self.low)}–{_num(self.high)}"
        return f"> {_num(self.low)}" if self.above else f"≥ {_num(self.low)}"

    def to_dict(self) -> dict[str, Any]:
        return {"min": self.low, "max": self.high, "milestone": self.milestone,
                "above": self.above, "text": self.text()}


@dataclass(frozen=True)
class Count:
    """A computed indicator's declared query: records of ``source`` (a kind, or brokers,
    releases or deals) meeting every condition of ``where`` and one of ``any``, dated by
    ``date`` (a field of the record; default when the record was created)."""

    source: str
    where: tuple[str, ...] = ()
    any: tuple[str, ...] = ()
    date: str | None = None
    #: only what is dated after the baseline date ("new" platforms, deposits…)
    since_baseline: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "where": list(self.where), "any": list(self.any),
                "date": self.date, "since_baseline": self.since_baseline}


@dataclass(frozen=True)
class Indicator:
    """One target of the plan as an indicator."""

    key: str
    task: str
    en: str
    zh: str
    target: Target
    target_year: int
    unit: str = ""
    unit_zh: str = ""
    definition: str = ""
    definition_zh: str = ""
    baseline: float = 0.0
    baseline_date: str | None = None
    responsible: str = ""
    responsible_zh: str = ""
    #: organisations (LHOG…) whose members report it; empty: any member may
    units: tuple[str, ...] = ()
    count: Count | None = None
    #: the value counts within each calendar year (brokers trained per year)
    per_year: bool = False
    retired: bool = False
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def method(self) -> str:
        return "computed" if self.count is not None else "reported"

    @property
    def target_date(self) -> dt.date:
        return dt.date(self.target_year, 12, 31)

    def how(self, zh: bool = False) -> str:
        """How the value is obtained, in words."""
        return how_counted(self, zh)

    def to_dict(self) -> dict[str, Any]:
        """The definition as data (what an edit stores and a snapshot freezes)."""
        out: dict[str, Any] = {
            "key": self.key, "task": self.task, "en": self.en, "zh": self.zh,
            "unit": self.unit, "unit_zh": self.unit_zh, "definition": self.definition,
            "definition_zh": self.definition_zh, "target": self.target.to_dict(),
            "target_year": self.target_year, "baseline": self.baseline,
            "baseline_date": self.baseline_date, "responsible": self.responsible,
            "responsible_zh": self.responsible_zh, "units": list(self.units),
            "method": self.method, "count": self.count.to_dict() if self.count else None,
            "per_year": self.per_year, "retired": self.retired,
            "how": self.how(), "how_zh": self.how(zh=True)}
        return out


def _num(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


@dataclass(frozen=True)
class Task:
    """A heading of the plan (overall targets, the six tasks, the market)."""

    key: str
    en: str
    zh: str


@dataclass(frozen=True)
class Programme:
    """The plan: its name, target year, tasks and indicators."""

    title: str
    title_zh: str
    year: int
    #: the first quarter reported on (YYYY-Qn)
    start: str
    tasks: tuple[Task, ...]
    indicators: tuple[Indicator, ...]

    def indicator(self, key: str) -> Indicator:
        for item in self.indicators:
            if item.key == key:
                return item
        raise KeyError(key)

    def task(self, key: str) -> Task:
        for item in self.tasks:
            if item.key == key:
                return item
        return Task(key, key, key)


# --- reading definitions ---------------------------------------------------------------------

def parse_indicator(raw: Mapping[str, Any], year: int, tasks: set[str],
                    where: str = "") -> Indicator:
    """An indicator from its definition (a [[indicator]] table of the file, or an admin's
    edit); ValidationFailed naming every problem otherwise."""
    problems: list[Problem] = []
    at = f"{where}: " if where else ""

    def bad(name: str, reason: str, fix: str, value: Any = None) -> None:
        problems.append(Problem(reason=f"{at}{name} {reason}", fix=fix, field=name,
                                value=None if value is None else str(value)[:200]))

    known = {"key", "task", "en", "zh", "unit", "unit_zh", "definition", "definition_zh",
             "target", "above", "target_year", "baseline", "baseline_date", "responsible",
             "responsible_zh", "units", "count", "per_year", "retired", "method", "how",
             "how_zh"}
    for name in raw:
        if name not in known:
            bad(name, "is not part of an indicator", "use: " + ", ".join(sorted(known)))
    key = str(raw.get("key", "")).strip()
    if not _KEY.match(key):
        bad("key", f"{key!r} is not an indicator key",
            "write lower-case letters, digits and _, e.g. key_technologies", key)
    task = str(raw.get("task", "")).strip()
    if task not in tasks:
        bad("task", f"{task!r} is not a task of the programme",
            "use one of: " + ", ".join(sorted(tasks)), task)
    en, zh = str(raw.get("en", "")).strip(), str(raw.get("zh", "")).strip()
    if not en and not zh:
        bad("en", "and zh are both missing", "name the indicator in English and Chinese")
    target = _target(raw.get("target"), bool(raw.get("above", False)), bad)
    target_year = raw.get("target_year", year)
    if not isinstance(target_year, int) or not 2000 <= target_year <= 2100:
        bad("target_year", f"{target_year!r} is not a year", "write e.g. 2027", target_year)
        target_year = year
    baseline = raw.get("baseline", 0)
    if isinstance(baseline, bool) or not isinstance(baseline, int | float) or baseline < 0:
        bad("baseline", f"{baseline!r} is not a value at or above zero",
            "give the value at the baseline date, e.g. 0", baseline)
        baseline = 0
    baseline_date = raw.get("baseline_date")
    if isinstance(baseline_date, dt.date):
        baseline_date = baseline_date.isoformat()
    if baseline_date is not None:
        try:
            day = dt.date.fromisoformat(str(baseline_date))
        except ValueError:
            bad("baseline_date", f"{baseline_date!r} is not a date", "write YYYY-MM-DD",
                baseline_date)
        else:
            if day.year > target_year:
                bad("baseline_date", f"{day} is after the target year {target_year}",
                    "the baseline comes before the target", baseline_date)
    units = raw.get("units", [])
    if isinstance(units, str):
        units = [u for u in re.split(r"[;,\s]+", units) if u]
    units = [str(u).strip().upper() for u in units]
    for unit in units:
        if not re.fullmatch(r"LHOG[0-9A-Z]{7}", unit):
            bad("units", f"{unit!r} is not an organisation's accession",
                "name reporting units by their organisation records, e.g. LHOG0000001", unit)
    count = _count(raw.get("count"), bad)
    method = raw.get("method")
    if method is not None and method not in ("computed", "reported"):
        bad("method", f"{method!r} is neither computed nor reported",
            "give a [count] for a computed indicator, none for a reported one", method)
    if method == "computed" and count is None:
        bad("count", "is missing for a computed indicator", "say what to count: source, where")
    if count is not None and count.since_baseline and baseline_date is None:
        bad("baseline_date", "is needed to count only what is new since the baseline",
            "give baseline_date, e.g. 2024-12-31")
    if problems:
        raise ValidationFailed(f"the indicator {key or '(no key)'} is not valid", problems)
    extra = {k: raw[k] for k in ("how", "how_zh") if raw.get(k)}
    return Indicator(
        key=key, task=task, en=en or zh, zh=zh or en, target=target,
        target_year=int(target_year), unit=str(raw.get("unit", "")),
        unit_zh=str(raw.get("unit_zh", "")), definition=str(raw.get("definition", "")),
        definition_zh=str(raw.get("definition_zh", "")), baseline=float(baseline),
        baseline_date=str(baseline_date) if baseline_date else None,
        responsible=str(raw.get("responsible", "")),
        responsible_zh=str(raw.get("responsible_zh", "")), units=tuple(units), count=count,
        per_year=bool(raw.get("per_year", False)), retired=bool(raw.get("retired", False)),
        extra=extra)


def _target(raw: Any, above: bool, bad: Any) -> Target:
    if raw is None or raw == "" or (isinstance(raw, Mapping) and raw.get("min") is None
                                    and not raw.get("milestone")):
        return Target()
    if isinstance(raw, Mapping):  # as to_dict writes it
        if raw.get("milestone"):
            return Target(milestone=True)
        low, high = raw.get("min"), raw.get("max")
        return _target([low, high] if high is not None else low, bool(raw.get("above")), bad)
    if isinstance(raw, bool):
        return Target(milestone=True) if raw else Target()
    if isinstance(raw, int | float):
        if raw < 0:
            bad("target", f"{raw} is below zero", "give a count at or above zero", raw)
            return Target()
        return Target(low=float(raw), above=above)
    if isinstance(raw, str):
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(?:[-–~至]\s*(\d+(?:\.\d+)?))?\s*", raw)
        if match:
            values: list[Any] = [float(match[1])] + ([float(match[2])] if match[2] else [])
            return _target(values if len(values) == 2 else values[0], above, bad)
        if raw.strip().lower() in ("yes", "true", "是"):
            return Target(milestone=True)
    if isinstance(raw, list) and len(raw) == 2 and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in raw):
        low, high = float(raw[0]), float(raw[1])
        if low > high:
            bad("target", f"range {_num(low)}–{_num(high)} has its minimum above its maximum",
                f"write the smaller number first: [{_num(high)}, {_num(low)}]", raw)
            return Target()
        if low < 0:
            bad("target", f"range {raw} starts below zero", "give counts at or above zero",
                raw)
            return Target()
        return Target(low=low, high=high)
    bad("target", f"{raw!r} is not a target",
        "write a number (30), a range ([1, 2] or \"1-2\") or true for a yes/no milestone", raw)
    return Target()


def _count(raw: Any, bad: Any) -> Count | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        bad("count", "is not a table", "write [indicator.count] with source and where")
        return None
    from lanhai.kinds import KINDS, LINK_RULES

    source = str(raw.get("source", raw.get("kind", ""))).strip()
    if source not in KINDS and source not in MARKET_SOURCES:
        bad("count.source", f"{source!r} is neither a record kind nor a market source",
            "use one of: " + ", ".join([*KINDS, *MARKET_SOURCES]), source)
        return None
    lists: dict[str, tuple[str, ...]] = {}
    for name in ("where", "any"):
        value = raw.get(name, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            bad(f"count.{name}", "is not a list of conditions",
                'write e.g. ["achievement_type=key_technology"]')
            value = []
        lists[name] = tuple(str(v).strip() for v in value)
        if lists[name] and source in MARKET_SOURCES:
            bad(f"count.{name}", f"cannot narrow {source}", "leave the conditions out")
        for condition in lists[name]:
            linked = _LINKED.match(condition)
            if linked:
                if linked[1] not in LINK_RULES:
                    bad(f"count.{name}", f"names the link {linked[1]!r}, which is no relation",
                        "use one of: " + ", ".join(LINK_RULES), condition)
                continue
            present = _PRESENT.match(condition)
            name_of = present[1] if present else None
            if name_of is None:
                try:
                    name_of = parse_filter(condition).field
                except UsageError as err:
                    bad(f"count.{name}", str(err), "write FIELD OP VALUE, FIELD? or "
                        "linked:RELATION", condition)
                    continue
            if source in KINDS and name_of not in _filterable(source):
                bad(f"count.{name}", f"names {name_of!r}, which {source} records do not have",
                    "use one of: " + ", ".join(sorted(_filterable(source))), condition)
    date = raw.get("date")
    if date is not None and source in KINDS and date not in _filterable(source):
        bad("count.date", f"{date!r} is not a date field of {source} records",
            "name the field holding the day it happened, or leave it out (the day the "
            "record was created)", date)
    return Count(source, lists["where"], lists["any"], str(date) if date else None,
                 bool(raw.get("since_baseline", False)))


def _filterable(kind: str) -> set[str]:
    from lanhai.kinds import KINDS

    spec = KINDS[kind]
    return {*spec.field_names, *spec.computed, "taxon_name", "created_at"}


def how_counted(item: Indicator, zh: bool = False) -> str:
    """The declared query, or the reporting rule, in words."""
    key = "how_zh" if zh else "how"
    if item.extra.get(key):
        return str(item.extra[key])
    count = item.count
    if count is None:
        return ("由责任单位报送并附证据，经专项办审核通过后计入" if zh else
                "reported by the responsible unit with evidence; only updates the programme "
                "office approved count")
    if count.source in MARKET_SOURCES:
        text = (MARKET_SOURCES_ZH if zh else MARKET_SOURCES)[count.source]
    else:
        parts = [f"{count.source} 记录" if zh else f"{count.source} records"]
        if count.where:
            parts.append(("满足 " if zh else "with ") + " and ".join(count.where))
        if count.any:
            parts.append(("且满足其一：" if zh else "and one of ") + " or ".join(count.any))
        text = " ".join(parts) if not zh else "".join(parts)
        if count.date:
            text += f"（按 {count.date} 计日期）" if zh else f", dated by {count.date}"
    if count.since_baseline:
        text += (f"；仅计 {item.baseline_date} 之后的" if zh else
                 f", only those after {item.baseline_date}")
    if item.per_year:
        text += "；按自然年计" if zh else ", counted within each calendar year"
    return text


def load_programme(path: str | Path | None = None) -> Programme:
    """The shipped plan (or the TOML file at ``path``): tasks and indicators, checked."""
    data = read_toml(path, "lanhai.programme", "data/indicators.toml",
                     "LANHAI_INDICATORS_FILE", "indicators file")
    year = data.get("year")
    if not isinstance(year, int):
        raise UsageError("the indicators file needs the target year: year = 2027")
    tasks = tuple(Task(str(t["key"]), str(t.get("en", t["key"])), str(t.get("zh", t["key"])))
                  for t in data.get("task", []))
    task_keys = {t.key for t in tasks}
    indicators: list[Indicator] = []
    problems: list[Problem] = []
    for n, raw in enumerate(data.get("indicator", []), 1):
        try:
            indicators.append(parse_indicator(raw, year, task_keys, f"indicator {n}"))
        except ValidationFailed as err:
            problems.extend(err.problems)
    keys = [i.key for i in indicators]
    for key in {k for k in keys if keys.count(k) > 1}:
        problems.append(Problem(reason=f"the key {key} is used by two indicators",
                                fix="give each indicator its own key", field="key"))
    if problems:
        raise ValidationFailed("the indicators file is not valid", problems)
    from lanhai.programme.periods import parse_quarter

    start = parse_quarter(str(data.get("start", f"{year - 2}-Q1"))).key
    return Programme(str(data.get("title", "")), str(data.get("title_zh", "")), year, start,
                     tasks, tuple(indicators))
