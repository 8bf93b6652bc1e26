"""Which cell of a row feeds which field: the column plan built from a header and options.

Explicit choices win over header matching: a field given by ``[columns]``/``--map``, a
template or a constant is not also read from a column whose header happens to name it.
Headers are matched to fields case-, spacing- and punctuation-insensitively, with the
standards' names as aliases (:meth:`~lanhai.kinds.fields.KindSpec.field_for`).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lanhai.errors import Problem, UsageError
from lanhai.imports import ImportOptions
from lanhai.imports.mapping import ACCESSION
from lanhai.kinds import KindSpec
from lanhai.kinds.fields import header_key
from lanhai.kinds.vocab import is_blank, missing_term

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")


@dataclass(frozen=True)
class Template:
    """Several cells combined into one value: ``"{Latitude} {Longitude}"``."""

    text: str
    #: literal text, or the index of a cell
    parts: tuple[str | int, ...]

    def render(self, cells: Sequence[Any]) -> Any:
        """The combined value; blank when every cell it uses is blank."""
        values = [cells[p] if p < len(cells) else None for p in self.parts
                  if isinstance(p, int)]
        if all(is_blank(v) for v in values):
            terms = [t for t in map(missing_term, values) if t]
            return terms[0] if terms else None
        out = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
            else:
                value = cells[part] if part < len(cells) else None
                out.append("" if is_blank(value) else cell_text(value))
        return "".join(out)


def cell_text(value: Any) -> str:
    """A cell as text, the way a spreadsheet shows it (10.0 -> '10', dates ISO 8601)."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


@dataclass
class ColumnPlan:
    """How to turn a row's cells into ``field -> raw value``."""

    direct: list[tuple[int, str]] = field(default_factory=list)
    templates: list[tuple[str, Template]] = field(default_factory=list)
    constants: dict[str, str] = field(default_factory=dict)
    #: field -> what the user calls it (column header, template, '--set field')
    labels: dict[str, str] = field(default_factory=dict)
    #: index of the column holding Lanhai accessions, if any
    accession: int | None = None
    ignored: list[str] = field(default_factory=list)
    #: columns with no header: a value under one is reported
    unnamed: list[int] = field(default_factory=list)
    #: faults of the header itself (duplicates, two columns meaning one field)
    problems: list[Problem] = field(default_factory=list)

    @property
    def fields(self) -> set[str]:
        """Every field some column, template or constant gives."""
        return ({f for _, f in self.direct} | {f for f, _ in self.templates}
                | set(self.constants))

    def raw(self, cells: Sequence[Any], keep_blank: bool) -> dict[str, Any]:
        """``field -> value`` for one row; blank cells left out unless ``keep_blank``."""
        out: dict[str, Any] = {}
        size = len(cells)
        for index, name in self.direct:
            value = cells[index] if index < size else None
            if keep_blank or not is_blank(value):
                out[name] = value
        for name, template in self.templates:
            value = template.render(cells)
            if keep_blank or not is_blank(value):
                out[name] = value
        out.update(self.constants)
        return out

    def accession_of(self, cells: Sequence[Any]) -> str | None:
        """The row's Lanhai accession, upper-cased, or None."""
        if self.accession is None or self.accession >= len(cells):
            return None
        value = cells[self.accession]
        return None if is_blank(value) else cell_text(value).upper()

    def row_problems(self, cells: Sequence[Any], row: int) -> list[Problem]:
        """Values sitting under a column with no header."""
        return [Problem(reason="is in a column with no header, so it would be lost",
                        fix="give the column a header, or delete the value", row=row,
                        column=f"(column {i + 1})", value=cell_text(cells[i])[:200])
                for i in self.unnamed if i < len(cells) and not is_blank(cells[i])]


def build_plan(spec: KindSpec, header: list[str], header_row: int,
               options: ImportOptions) -> ColumnPlan:
    """Match ``header`` to ``spec``'s fields under ``options`` (resolved field names).

    Raises UsageError when a mapping or template names a column the file does not have.
    """
    plan = ColumnPlan()
    first: dict[str, int] = {}
    for index, name in enumerate(header):
        if not name:
            plan.unnamed.append(index)
        elif name in first:
            copies = [i + 1 for i, n in enumerate(header) if n == name]
            if copies[1] == index + 1:
                plan.problems.append(Problem(
                    reason=f"is the header of {len(copies)} columns ("
                           + ", ".join(map(str, copies)) + ")",
                    fix="rename the copies so each column has its own header; only the "
                        "first is read", row=header_row, column=name))
        else:
            first[name] = index

    def find(source: str, where: str) -> int:
        if source in first:
            return first[source]
        near = [i for n, i in first.items() if header_key(n) == header_key(source)]
        if len(near) == 1:
            return near[0]
        existing = ", ".join(repr(n) for n in first)
        if near:
            raise UsageError(f"{where}: {source!r} matches several columns; spell it exactly "
                             f"as one of: {existing}")
        raise UsageError(f"{where}: the file has no column {source!r}; its columns are: "
                         f"{existing}")

    used: set[int] = set()
    explicit: set[int] = set()
    for source, target in options.columns.items():
        index = find(source, f"--map {source}={target or '-'}")
        explicit.add(index)
        if not target:
            continue
        used.add(index)
        if target == ACCESSION:
            plan.accession = index
        else:
            plan.direct.append((index, target))
            plan.labels[target] = header[index]
    for target, text in options.templates.items():
        template = _compile(text, functools.partial(_find_in, find,
                                                     f"template {target} = {text!r}"))
        used.update(p for p in template.parts if isinstance(p, int))
        plan.templates.append((target, template))
        plan.labels[target] = text
    for target, value in options.constants.items():
        plan.constants[target] = value
        plan.labels[target] = f"--set {target}"
    _match_headers(spec, header, first, explicit, used, plan, header_row)
    _pair_coordinates(spec, first, explicit, used, plan)
    plan.ignored = [n for n, i in first.items() if i not in used]
    return plan


#: headers of a latitude / longitude column in decimal degrees (after :func:`header_key`):
#: 'Latitude', 'lat', 'decimalLatitude', 'Latitude [degrees_north]', 'Lat (N)', 'lat_dd'
_LATITUDE = re.compile(r"(decimal|start|sample|site)?lat(itude)?(deg(rees?)?(north)?|n|dd)?")
_LONGITUDE = re.compile(r"(decimal|start|sample|site)?(lon|long|lng)(gitude|itude)?"
                        r"(deg(rees?)?(east)?|e|dd)?")


def _pair_coordinates(spec: KindSpec, first: dict[str, int], explicit: set[int],
                      used: set[int], plan: ColumnPlan) -> None:
    """Separate latitude and longitude columns feed a kind's single ``lat_lon`` field as
    ``"{lat} {lon}"`` (when nothing else gives it and exactly one column of each is left)."""
    if "lat_lon" not in spec.field_names or "lat_lon" in plan.fields:
        return
    free = [(name, i) for name, i in first.items() if i not in used and i not in explicit]
    lats = [(n, i) for n, i in free if _LATITUDE.fullmatch(header_key(n))]
    lons = [(n, i) for n, i in free if _LONGITUDE.fullmatch(header_key(n))]
    if len(lats) != 1 or len(lons) != 1:
        return
    (lat_name, lat), (lon_name, lon) = lats[0], lons[0]
    used.update((lat, lon))
    plan.templates.append(("lat_lon", Template(f"{{{lat_name}}} {{{lon_name}}}",
                                               (lat, " ", lon))))
    plan.labels["lat_lon"] = f"{lat_name} + {lon_name}"


def _find_in(find: Callable[[str, str], int], where: str, source: str) -> int:
    return find(source, where)


def _match_headers(spec: KindSpec, header: list[str], first: dict[str, int],
                   explicit: set[int], used: set[int], plan: ColumnPlan,
                   header_row: int) -> None:
    """Map the remaining columns by header name; report two columns meaning one field."""
    given = plan.fields
    candidates: dict[str, list[int]] = {}
    for name, index in first.items():
        if index in explicit:
            continue
        fld = spec.field_for(name)
        if fld is None:
            if header_key(name) == ACCESSION and plan.accession is None:
                plan.accession = index
                used.add(index)
            continue
        if fld.name not in given:
            candidates.setdefault(fld.name, []).append(index)
    for name, indexes in candidates.items():
        exact = [i for i in indexes if header_key(header[i]) == header_key(name)]
        chosen = exact[0] if len(exact) == 1 else indexes[0]
        if len(indexes) > 1 and len(exact) != 1:
            columns = " and ".join(repr(header[i]) for i in indexes)
            plan.problems.append(Problem(
                reason=f"columns {columns} both mean the field {name!r}",
                fix=f"choose one with --map '{header[indexes[0]]}={name}', or ignore the other "
                    f"with --map '{header[indexes[1]]}=-'", row=header_row,
                column=header[indexes[1]], field=name))
        used.add(chosen)
        plan.direct.append((chosen, name))
        plan.labels[name] = header[chosen]


def _compile(text: str, find: Callable[[str], int]) -> Template:
    if re.search(r"[{}]", _PLACEHOLDER.sub("", text)):
        raise UsageError(f"template {text!r} has an unmatched brace; write {{{{ or }}}} for a "
                         "literal brace")
    parts: list[str | int] = []
    literal = ""
    position = 0
    for match in _PLACEHOLDER.finditer(text):
        literal += text[position:match.start()]
        position = match.end()
        if match[0] in ("{{", "}}"):
            literal += match[0][0]
            continue
        if literal:
            parts.append(literal)
            literal = ""
        source = match[1].strip()
        if not source:
            raise UsageError(f"template {text!r} has an empty {{}}; put a column name inside")
        parts.append(find(source))
    literal += text[position:]
    if literal:
        parts.append(literal)
    if not any(isinstance(p, int) for p in parts):
        raise UsageError(f"template {text!r} names no column; write columns as {{Column}}, or "
                         "use --set for a constant")
    return Template(text, tuple(parts))
