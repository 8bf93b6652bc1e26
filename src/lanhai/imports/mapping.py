"""Import options from a TOML mapping file and from command-line or form overrides.

:func:`load_mapping` reads the file format described in :mod:`lanhai.imports`;
:func:`apply_overrides` puts ``--map``/``--set``/``--unit`` … on top (they win over the file
for the same field); :func:`resolve_options` checks everything against the kind's fields
before a single row is read, so a typo is a usage error, not a thousand row problems.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from lanhai.errors import Problem, UsageError
from lanhai.imports import MODES, ImportOptions
from lanhai.imports.reader import check_encoding, delimiter_of
from lanhai.kinds import KindSpec, kind_spec
from lanhai.kinds.fields import Field
from lanhai.kinds.vocab import FieldError, ValueContext, is_blank, missing_term

#: pseudo-field of a column holding Lanhai accessions (rows then update those records)
ACCESSION = "accession"
#: field name that tells a mapping to ignore a source column
IGNORE = ("", "-")
_TABLES = ("columns", "templates", "set", "units")
_SCALARS = ("kind", "date_format", "encoding", "delimiter", "sheet", "mode", "note")


def load_mapping(path: Path, kind: str | None = None) -> ImportOptions:
    """Read a TOML mapping file; ``kind`` (from the command line) must agree with its own."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise UsageError(f"cannot read the mapping file {path}: {err.strerror or err}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise UsageError(f"the mapping file {path.name} is not valid TOML: {err}") from None
    return mapping_from_dict(data, kind, source=path.name)


def mapping_from_dict(data: dict[str, Any], kind: str | None = None,
                      source: str = "the mapping") -> ImportOptions:
    """Options from parsed TOML (see :func:`load_mapping`)."""
    unknown = sorted(set(data) - set(_TABLES) - set(_SCALARS))
    if unknown:
        raise UsageError(f"{source} has unknown keys {', '.join(map(repr, unknown))}; it may "
                         f"have: {', '.join(_SCALARS)} and the tables "
                         + ", ".join(f"[{t}]" for t in _TABLES))
    scalars: dict[str, str | None] = {}
    for key in _SCALARS:
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            raise UsageError(f"{source}: {key} must be a string, not {value!r}")
        scalars[key] = value
    tables: dict[str, dict[str, str]] = {}
    for key in _TABLES:
        table = data.get(key, {})
        if not isinstance(table, dict):
            raise UsageError(f"{source}: [{key}] must be a table of \"name\" = \"value\" lines")
        tables[key] = {str(k): _scalar_text(v, f"{source}: [{key}] {k}") for k, v in
                       table.items()}
    file_kind = scalars["kind"]
    if kind and file_kind and kind_spec(kind).name != kind_spec(file_kind).name:
        raise UsageError(f"{source} is for kind {file_kind!r}, not {kind!r}")
    chosen = kind or file_kind
    if not chosen:
        raise UsageError(f"{source} does not say its kind; add kind = \"sample\" (or give KIND)")
    return ImportOptions(
        kind=kind_spec(chosen).name, columns=tables["columns"], templates=tables["templates"],
        constants=tables["set"], units=tables["units"], date_format=scalars["date_format"],
        encoding=scalars["encoding"], delimiter=scalars["delimiter"], sheet=scalars["sheet"],
        mode=scalars["mode"] or "upsert", note=scalars["note"],
    )


def _scalar_text(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    raise UsageError(f"{where} must be a string or number, not {value!r}")


def parse_pairs(values: Iterable[str], option: str, *, split_last: bool = False
                ) -> list[tuple[str, str]]:
    """['A=B', …] -> [('A', 'B'), …]; a usage error names the option for a missing '='."""
    pairs = []
    for value in values:
        if "=" not in value:
            raise UsageError(f"{option} {value!r} needs the form LEFT=RIGHT, e.g. "
                             + {"--map": "--map 'Sample label=samp_name'",
                                "--set": "--set project_name='Tara Oceans'",
                                "--unit": "--unit depth=ft"}.get(option, f"{option} A=B"))
        left, right = value.rsplit("=", 1) if split_last else value.split("=", 1)
        if not left.strip():
            raise UsageError(f"{option} {value!r} has nothing before '='")
        pairs.append((left.strip(), right.strip()))
    return pairs


def apply_overrides(
    options: ImportOptions,
    *,
    columns: Iterable[tuple[str, str]] = (),
    constants: Iterable[tuple[str, str]] = (),
    units: Iterable[tuple[str, str]] = (),
    **scalars: Any,
) -> ImportOptions:
    """``options`` with command-line values on top.

    A field given on the command line (by ``--map`` or ``--set``) replaces whatever the
    mapping file said for that field; ``scalars`` (date_format, encoding, delimiter, sheet,
    mode, dry_run, note) replace the file's value when not None.
    """
    spec = kind_spec(options.kind)
    columns, constants = list(columns), list(constants)
    cli_fields = {_field_name(spec, f, "--map") for _, f in columns if f not in IGNORE}
    cli_fields |= {_field_name(spec, f, "--set") for f, _ in constants}

    def kept(field: str) -> bool:
        return field in IGNORE or _field_name(spec, field, "the mapping") not in cli_fields

    merged_columns = {s: f for s, f in options.columns.items() if kept(f)}
    merged_columns.update(dict(columns))
    changes: dict[str, Any] = {
        "columns": merged_columns,
        "templates": {f: t for f, t in options.templates.items() if kept(f)},
        "constants": {**{f: v for f, v in options.constants.items() if kept(f)},
                      **dict(constants)},
        "units": {**options.units, **dict(units)},
    }
    for key, value in scalars.items():
        if key not in ("date_format", "encoding", "delimiter", "sheet", "mode", "dry_run",
                       "note"):
            raise TypeError(f"unknown option {key}")
        if value is not None:
            changes[key] = value
    return replace(options, **changes)


def _field_name(spec: KindSpec, name: str, where: str) -> str:
    return _field(spec, name, where).name if name != ACCESSION else ACCESSION


def _field(spec: KindSpec, name: str, where: str) -> Field:
    """The field ``name`` (or an alias) means; a usage error listing the fields otherwise."""
    fld = {f.name: f for f in spec.fields}.get(name) or spec.field_for(name)
    if fld is None:
        if name in spec.computed:
            raise UsageError(f"{where}: {name!r} is computed by Lanhai from the other fields "
                             "and cannot be imported")
        raise UsageError(f"{where}: {spec.name} has no field {name!r}; its fields are: "
                         + ", ".join(spec.field_names))
    return fld


def resolve_options(options: ImportOptions) -> ImportOptions:
    """Check ``options`` against the kind and return them with canonical field names.

    Raises UsageError for an unknown kind, mode, field, unit, encoding or delimiter, a
    ``--date-format`` without strftime codes, a field given twice, and constants whose value
    is not valid for their field.
    """
    spec = kind_spec(options.kind)
    if options.mode not in MODES:
        raise UsageError(f"unknown mode {options.mode!r}; modes are: {', '.join(MODES)} "
                         "(upsert: create or update by identifier; create: new records only; "
                         "update: change the given columns of existing records)")
    check_encoding(options.encoding)
    delimiter_of(options.delimiter)
    if options.date_format is not None and "%" not in options.date_format:
        raise UsageError(f"--date-format {options.date_format!r} has no strftime codes; write "
                         "e.g. %d-%m-%Y for 05-10-2010 meaning 5 October 2010")
    given: dict[str, str] = {}

    def claim(field: str, how: str) -> None:
        if field in given:
            raise UsageError(f"field {field!r} is given twice: by {given[field]} and by {how}; "
                             "keep one")
        given[field] = how

    columns: dict[str, str] = {}
    for source, target in options.columns.items():
        if target in IGNORE:
            columns[source] = ""
            continue
        name = _field_name(spec, target, f"--map {source}={target}")
        claim(name, f"column {source!r}")
        columns[source] = name
    templates = {}
    for target, template in options.templates.items():
        name = _field_name(spec, target, f"template {target}")
        if name == ACCESSION:
            raise UsageError("the accession column cannot be a template; map one column")
        claim(name, f"template {template!r}")
        templates[name] = template
    constants = {}
    for target, value in options.constants.items():
        name = _field_name(spec, target, f"--set {target}={value}")
        if name == ACCESSION:
            raise UsageError("the accession cannot be a constant; map a column to it")
        claim(name, f"--set {name}")
        constants[name] = value
    units = {}
    for target, unit in options.units.items():
        name = _field_name(spec, target, f"--unit {target}={unit}")
        _check_unit(spec, name, unit)
        units[name] = unit
    ctx = ValueContext(date_format=options.date_format, units=units)
    _check_constants(spec, constants, ctx)
    return replace(options, kind=spec.name, columns=columns, templates=templates,
                   constants=constants, units=units)


def unit_fields(spec: KindSpec) -> list[str]:
    """Fields whose bare numbers take a unit (``--unit``): depth and the like."""
    return [f.name for f in spec.fields if _takes_unit(f)]


def _takes_unit(fld: Field) -> bool:
    """True when a bare number is read with the field's unit (probed with a bogus unit)."""
    try:
        fld.normalise("1", ValueContext(), fld.name)
    except Exception:  # any failure: bare numbers are not this field's values
        return False
    try:
        fld.normalise("1", ValueContext(units={fld.name: "no-such-unit"}), fld.name)
    except FieldError:
        return True
    except Exception:
        return False
    return False


def _check_unit(spec: KindSpec, name: str, unit: str) -> None:
    fld = _field(spec, name, f"--unit {name}")
    if not _takes_unit(fld):
        takes = unit_fields(spec)
        raise UsageError(f"--unit {name}={unit}: {name} takes no unit"
                         + (f"; units apply to: {', '.join(takes)}" if takes else ""))
    try:
        fld.normalise("1", ValueContext(units={name: unit}), name)
    except FieldError as err:
        raise UsageError(f"--unit {name}={unit}: {err.reason}; {err.fix}") from None


def _check_constants(spec: KindSpec, constants: dict[str, str], ctx: ValueContext) -> None:
    fields = {f.name: f for f in spec.fields}
    problems = []
    for name, value in constants.items():
        fld = fields[name]
        if is_blank(value) or missing_term(value) is not None:
            continue
        try:
            fld.normalise(value, ctx, name)
        except FieldError as err:
            problems.append(Problem(reason=err.reason, fix=err.fix or fld.example, field=name,
                                    value=value, column=f"--set {name}"))
    if problems:
        raise UsageError("a constant (--set / [set]) is not valid for its field: "
                         + "; ".join(f"{p.field}={p.value!r} {p.reason}" for p in problems),
                         problems)
