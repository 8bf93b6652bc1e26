"""Field and kind specifications, and the validator that applies them to one record.

A :class:`KindSpec` says which fields a record kind has (with the standard's names as
aliases), which are required, how each value is normalised, which identifiers make two rows
the same record, and which values are computed. :func:`validate_fields` turns a raw mapping
into stored values plus a list of :class:`~lanhai.errors.Problem`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lanhai.errors import Problem
from lanhai.kinds.vocab import (
    FieldError,
    Normaliser,
    ValueContext,
    is_blank,
    missing_term,
    offer,
    text,
)


@dataclass(frozen=True)
class Field:
    """One field of a record kind."""

    name: str
    normalise: Normaliser = text
    required: bool = False
    aliases: tuple[str, ...] = ()
    description: str = ""
    #: heading the standard groups this field under (shown on record pages)
    group: str = "General"
    #: example of a valid value, shown in error messages
    example: str = ""
    #: a required field may hold an INSDC missing-value term ('not provided') as MIxS
    #: allows; identity fields and legal dates may not
    missing_ok: bool = True
    #: required for some records only (MIMAG completeness for a MAG): such a field, like a
    #: required one, may hold an INSDC missing-value term
    conditional: bool = False


Fields = dict[str, Any]
#: cross-field check: returns problems for a record with normalised fields
RecordCheck = Callable[[Fields], list[Problem]]


@dataclass(frozen=True)
class KindSpec:
    """Everything the catalog needs to know about one record kind."""

    name: str
    prefix: str
    title: str
    standard: str
    fields: tuple[Field, ...]
    #: field holding the record's display name
    name_field: str
    #: returns the external identifiers that make two rows the same record
    identifiers: Callable[[Fields], list[str]]
    #: fills computed fields (canonical SMILES, retention end…); may raise FieldError
    derive: Callable[[Fields], list[Problem]] = lambda fields: []
    checks: tuple[RecordCheck, ...] = ()
    #: restricted unless the curator says otherwise (patent deposits)
    restricted_by_default: bool = False
    #: fields the system computes; rejected when given
    computed: tuple[str, ...] = ()
    #: those computed fields a service writes from stored data (an assembly's N50 from its
    #: sequences) rather than ``derive`` from the other fields: updates keep them
    summary_fields: tuple[str, ...] = ()
    taxon_field: str | None = None
    _lookup: dict[str, Field] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for f in self.fields:
            self._lookup[header_key(f.name)] = f
            for alias in f.aliases:
                self._lookup.setdefault(header_key(alias), f)

    def field_for(self, header: str) -> Field | None:
        """The field a column header names (case-, spacing- and punctuation-insensitive)."""
        return self._lookup.get(header_key(header))

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def editable_fields(self, fields: Fields) -> Fields:
        """``fields`` without what ``derive`` recomputes: the base an update starts from."""
        dropped = set(self.computed) - set(self.summary_fields)
        return {k: v for k, v in fields.items() if k not in dropped}

    @property
    def required(self) -> list[str]:
        return [f.name for f in self.fields if f.required]


def header_key(header: str) -> str:
    """Canonical form of a header: 'Lat Lon', 'lat_lon', 'LAT-LON' all become 'latlon'."""
    return re.sub(r"[\s_\-./()\[\]:]+", "", header.strip().lower())


#: what a record may become besides current (see :func:`lifecycle_problems`)
RECORD_STATES = ("suppressed", "withdrawn")

#: fields every kind has
COMMON_FIELDS: tuple[Field, ...] = (
    Field("description", aliases=("remarks", "comment", "notes", "描述"),
          description="Free-text description shown on the record page."),
    Field("identifiers", aliases=("other identifiers", "external identifiers", "othernumb"),
          normalise=lambda v, c, n: _identifier_list(v, c, n),
          description="Other identifiers of the same record (';'-separated), searchable.",
          example="DSM 12345; CGMCC 1.6783"),
    Field("restricted", aliases=("confidential",),
          normalise=offer(lambda v, c, n: _bool(v, c, n), ("yes", "no")),
          description="Hide the record from readers (curators and admins still see it)."),
    Field("record_status", group="Status",
          normalise=offer(lambda v, c, n: _record_status(v, c, n), RECORD_STATES),
          description="suppressed: kept out of lists, search, counts and the map, but its page "
                      "still opens at its accession; withdrawn: readers see only that it was "
                      "withdrawn, when and why (410). Empty: a current record."),
    Field("status_reason", group="Status", aliases=("withdrawal reason",),
          description="Why the record was suppressed or withdrawn (shown with it).",
          example="duplicate of LHST0000012"),
)


def _record_status(value: Any, ctx: ValueContext, name: str) -> str:
    from lanhai.kinds.vocab import choice

    result: str = choice(RECORD_STATES)(value, ctx, name)
    return result


def lifecycle_problems(fields: Fields) -> list[Problem]:
    """A suppressed or withdrawn record says why."""
    if fields.get("record_status") and not str(fields.get("status_reason") or "").strip():
        return [Problem(reason=f"a {fields['record_status']} record needs a reason",
                        fix="say why in status_reason (e.g. 'duplicate of LHST0000012')",
                        field="status_reason")]
    return []


def _identifier_list(value: Any, ctx: ValueContext, name: str) -> list[str]:
    from lanhai.kinds.vocab import text_list

    return text_list(value, ctx, name)


def _bool(value: Any, ctx: ValueContext, name: str) -> bool:
    from lanhai.kinds.vocab import boolean

    return boolean(value, ctx, name)


def validate_fields(
    spec: KindSpec,
    raw: Mapping[str, Any],
    ctx: ValueContext | None = None,
    *,
    existing: Fields | None = None,
    row: int | None = None,
    columns: Mapping[str, str] | None = None,
) -> tuple[Fields, list[Problem]]:
    """Normalise ``raw`` (field name -> value) for ``spec``; return fields and problems.

    ``existing`` holds the stored fields when updating: given fields replace them and the
    required-field check runs on the merged record. ``columns`` maps a field name back to the
    source column header so problems point at the user's column.
    """
    ctx = ctx or ValueContext()
    columns = columns or {}
    problems: list[Problem] = []
    out: Fields = dict(existing or {})

    def problem(name: str, reason: str, fix: str, value: Any = None) -> None:
        problems.append(
            Problem(
                reason=reason, fix=fix, field=name, row=row,
                column=columns.get(name, name) if row is not None else None,
                value=None if value is None else str(value)[:200],
            )
        )

    known = {f.name: f for f in spec.fields}
    for name, value in raw.items():
        fld = known.get(name) or spec.field_for(name)
        if fld is None:
            problem(name, f"is not a field of {spec.name}",
                    "use one of: " + ", ".join(spec.field_names), value)
            continue
        if fld.name in spec.computed:
            problem(fld.name, "is computed by Lanhai and cannot be set",
                    "leave it out; it is filled from the other fields", value)
            continue
        term = missing_term(value)
        if term is not None and (fld.required or fld.conditional) and fld.missing_ok:
            out[fld.name] = term
            continue
        if is_blank(value):
            out.pop(fld.name, None)
            continue
        try:
            out[fld.name] = fld.normalise(value, ctx, fld.name)
        except FieldError as err:
            fix = err.fix or (f"e.g. {fld.example}" if fld.example else "")
            problem(fld.name, err.reason, fix, value)
            out.pop(fld.name, None)
    bad_fields = {p.field for p in problems}
    for name in spec.required:
        if name not in out and name not in bad_fields:
            fld = known[name]
            aliases = f" (also accepted as: {', '.join(fld.aliases[:4])})" if fld.aliases else ""
            example = f"; e.g. {fld.example}" if fld.example else ""
            unknown = " (or an INSDC missing-value term such as 'not provided')" \
                if fld.missing_ok else ""
            problem(name, f"is required by {spec.standard} but missing",
                    f"add a column {name!r}{aliases} or set a constant{example}{unknown}")
    if not problems:
        problems.extend(_at_row(found, row, columns) for found in lifecycle_problems(out))
    if not problems:
        for check in spec.checks:
            for found in check(out):
                problems.append(_at_row(found, row, columns))
    if not problems:
        for found in spec.derive(out):
            problems.append(_at_row(found, row, columns))
    return out, problems


def _at_row(found: Problem, row: int | None, columns: Mapping[str, str]) -> Problem:
    if row is None:
        return found
    column = columns.get(found.field or "", found.field)
    return Problem(reason=found.reason, fix=found.fix, field=found.field, value=found.value,
                   row=row, column=column)


def known(fields: Fields, name: str) -> bool:
    """True when ``name`` holds a real value, not absent or an INSDC missing-value term."""
    return name in fields and missing_term(fields[name]) is None


def require_one_of(*names: str) -> RecordCheck:
    """A check that at least one of ``names`` is present."""

    def check(fields: Fields) -> list[Problem]:
        if any(n in fields for n in names):
            return []
        return [Problem(reason=f"needs one of {', '.join(names)}",
                        fix=f"give {' or '.join(names)}", field=names[0])]

    return check


def unique(items: Iterable[str]) -> list[str]:
    """Items in order with duplicates dropped."""
    seen: dict[str, None] = {}
    for item in items:
        if item:
            seen.setdefault(item, None)
    return list(seen)
