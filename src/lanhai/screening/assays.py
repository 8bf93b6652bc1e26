"""Assay result tables as a chemist exports them (TSV or CSV), read into :class:`AssayRow`
records with concentrations in nM and as pX = -log10(M).

A table names each compound by a bank accession (or any identifier), a SMILES or an
InChIKey; gives the target or organism, the endpoint (IC50, EC50, Ki, Kd, MIC,
% inhibition, or an active/inactive call), the value with its unit (or a call), a qualifier
(``=``, ``<``, ``>``, ``<=``, ``>=``, ``~``; also written inside the value, ``>100``) and the
source. Headers are matched case- and punctuation-insensitively with the names ChEMBL's
activity exports use (``standard_value``, ``standard_units``, ``standard_relation`` ...).

Reading is all or nothing: :func:`read_assay_table` returns every row or raises one
:class:`~lanhai.errors.ValidationFailed` listing every bad row (row, column, value, reason,
fix). Rows are numbered as a spreadsheet shows them: the header is row 1.

A value given as ``<`` or ``>`` is *censored*: it is kept and flagged, left out of regression
training by default and used for classification only where it decides the class.
"""

from __future__ import annotations

import csv
import io
import math
import re
import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lanhai.errors import Problem, UsageError, ValidationFailed

#: the columns an assay table may have (what a mapping may name)
COLUMNS = ("compound", "smiles", "inchikey", "target", "organism", "endpoint", "value",
           "unit", "qualifier", "call", "source")

#: header aliases, compared after :func:`_header_key` (case, spaces and punctuation ignored);
#: where a table has several, the first alias listed wins ("standard value" over "value")
ALIASES: dict[str, tuple[str, ...]] = {
    "compound": ("compound", "accession", "molecule chembl id", "compound id", "molecule",
                 "compound name", "compound key", "name", "id", "化合物"),
    "smiles": ("smiles", "canonical smiles", "isomeric smiles", "structure"),
    "inchikey": ("inchikey", "standard inchi key"),
    "target": ("target", "target name", "target pref name", "protein", "enzyme", "靶点"),
    "organism": ("organism", "target organism", "assay organism", "strain", "species",
                 "test organism", "菌株"),
    "endpoint": ("endpoint", "standard type", "standard_type", "activity type", "type",
                 "measure", "assay endpoint"),
    "value": ("standard value", "value", "result", "activity value", "measurement"),
    "unit": ("standard units", "unit", "units", "value unit"),
    "qualifier": ("standard relation", "qualifier", "relation", "operator", "modifier"),
    "call": ("call", "activity call", "outcome", "activity comment", "active",
             "activity outcome"),
    "source": ("source", "reference", "ref", "doi", "pmid", "document chembl id",
               "citation", "document"),
}

#: endpoints measured as a concentration (lower = more potent)
CONCENTRATION_ENDPOINTS = ("IC50", "EC50", "Ki", "Kd", "MIC")
INHIBITION = "% inhibition"
CALL = "activity call"
ENDPOINTS = (*CONCENTRATION_ENDPOINTS, INHIBITION, CALL)
_ENDPOINT_NAMES = {
    "ic50": "IC50", "ec50": "EC50", "ki": "Ki", "kd": "Kd", "mic": "MIC",
    "inhibition": INHIBITION, "%inhibition": INHIBITION, "percentinhibition": INHIBITION,
    "inh": INHIBITION, "%inh": INHIBITION, "inhibition%": INHIBITION,
    "activity": CALL, "activitycall": CALL, "call": CALL, "outcome": CALL,
}

#: molar units: factor to nM (exact in floating point, so 1 µM is 1000.0 nM)
MOLAR_UNITS = {"pM": 1e-3, "nM": 1.0, "µM": 1e3, "mM": 1e6, "M": 1e9}
#: mass concentration units: factor to g/L
MASS_UNITS = {"ng/mL": 1e-6, "µg/mL": 1e-3, "mg/L": 1e-3, "g/L": 1.0, "mg/mL": 1.0}
_UNIT_NAMES: dict[str, str] = {
    "pm": "pM", "pmol/l": "pM", "nm": "nM", "nmol/l": "nM", "nmol": "nM",
    "um": "µM", "µm": "µM", "umol/l": "µM", "µmol/l": "µM", "μmol/l": "µM",
    "mm": "mM", "mmol/l": "mM", "m": "M", "mol/l": "M", "mol": "M",
    "ng/ml": "ng/mL", "ug/l": "ng/mL", "µg/l": "ng/mL", "μg/l": "ng/mL",
    "ug/ml": "µg/mL", "µg/ml": "µg/mL", "μg/ml": "µg/mL", "mcg/ml": "µg/mL",
    "mg/l": "mg/L", "g/l": "g/L", "mg/ml": "mg/mL",
    "%": "%", "percent": "%",
}
#: lengths (inhibition zone diameters): known, so they are refused by name, never converted
_LENGTHS = ("mm", "cm", "m")
_ACCEPTED_CONCENTRATION = "pM, nM, µM (uM), mM, M, ng/mL, µg/mL (ug/mL), mg/L, g/L or mg/mL"

#: qualifiers as written -> canonical
_QUALIFIERS = {"=": "=", "==": "=", "<": "<", ">": ">", "<=": "<=", "=<": "<=", "≤": "<=",
               ">=": ">=", "=>": ">=", "≥": ">=", "~": "~", "≈": "~", "ca.": "~"}
CENSORED = ("<", ">", "<=", ">=")
_VALUE = re.compile(r"^\s*(<=|>=|=<|=>|==|[<>=~≤≥≈])?\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)"
                    r"(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")
_CALLS: dict[str, bool | None] = {
    "active": True, "act": True, "yes": True, "true": True, "1": True, "hit": True,
    "positive": True, "+": True,
    "inactive": False, "not active": False, "notactive": False, "no": False, "false": False,
    "0": False, "negative": False, "-": False, "non-active": False, "nonactive": False,
    "inconclusive": None, "not determined": None, "nd": None, "n.d.": None, "": None,
    "unspecified": None, "not tested": None, "partially active": None,
}
_INCHIKEY = re.compile(r"^[A-Z]{14}-[A-Z]{8}[SN][A-Z]-[A-Z]$")
#: pX spread (log units) above which replicates of one compound conflict
CONFLICT_SPREAD = 1.0


@dataclass(frozen=True)
class CompoundInfo:
    """What a ``resolve`` callable knows of a compound named by accession."""

    smiles: str | None = None
    inchikey: str | None = None
    #: g/mol; computed from ``smiles`` when not given
    molar_mass: float | None = None


Resolver = Callable[[str], CompoundInfo | None]


@dataclass(frozen=True)
class AssayRow:
    """One measurement. ``key`` is the compound's identity: its InChIKey when the structure
    is known, else the identifier the table gives."""

    row: int
    key: str
    compound: str | None
    smiles: str | None
    inchikey: str | None
    target: str | None
    organism: str | None
    endpoint: str
    #: the value and unit as written (the unit normalised: "uM" -> "µM")
    value: float | None
    unit: str | None
    qualifier: str
    #: concentration in nM and as pX = -log10(M); None for a call or a % inhibition
    nm: float | None = None
    px: float | None = None
    #: mass concentration in µg/mL (MIC, or any value whose molar mass is known)
    ug_per_ml: float | None = None
    percent: float | None = None
    call: bool | None = None
    source: str | None = None
    molar_mass: float | None = None

    @property
    def censored(self) -> bool:
        """True for a ``<``/``>`` value: only a bound is known."""
        return self.qualifier in CENSORED and self.value is not None

    @property
    def assay(self) -> str:
        """What the row measures against: the target, else the organism ('' if neither)."""
        return self.target or self.organism or ""

    @property
    def px_qualifier(self) -> str:
        """The qualifier of ``px`` (a concentration above a bound is a pX below it)."""
        flip = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}
        return flip.get(self.qualifier, self.qualifier)

    def score(self) -> float | None:
        """The row's value for training: pX for a concentration, % for an inhibition."""
        return self.px if self.endpoint in CONCENTRATION_ENDPOINTS else self.percent

    def score_qualifier(self) -> str:
        return self.px_qualifier if self.endpoint in CONCENTRATION_ENDPOINTS \
            else self.qualifier

    def label(self, threshold: float | None) -> int | None:
        """1 (active), 0 (inactive) or None (undecided) against ``threshold`` (pX or %);
        a censored value decides only when its bound lies on one side of the threshold."""
        if self.endpoint == CALL or self.score() is None:
            return None if self.call is None else int(self.call)
        if threshold is None:
            return None if self.call is None else int(self.call)
        score = self.score()
        assert score is not None
        q = self.score_qualifier()
        if q in ("=", "~"):
            return int(score >= threshold)
        if q in (">", ">="):  # true score above the bound
            return 1 if score >= threshold else None
        return 0 if score < threshold or (q == "<" and score == threshold) else None

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if v is not None}
        out["censored"] = self.censored
        return out


@dataclass(frozen=True)
class Duplicate:
    """Rows that repeat one measurement exactly (same compound, assay, endpoint, value)."""

    key: str
    assay: str
    endpoint: str
    rows: tuple[int, ...]


@dataclass(frozen=True)
class ReplicateConflict:
    """Replicates of one compound, assay and endpoint that disagree."""

    key: str
    assay: str
    endpoint: str
    rows: tuple[int, ...]
    reason: str
    #: pX (or %) spread of the uncensored values
    spread: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class AssayTable:
    """Every row of one assay table, with its duplicates and conflicting replicates."""

    name: str
    rows: list[AssayRow]
    duplicates: list[Duplicate] = field(default_factory=list)
    conflicts: list[ReplicateConflict] = field(default_factory=list)

    def groups(self) -> dict[tuple[str, str, str], list[AssayRow]]:
        """Rows by (compound key, assay, endpoint), in file order."""
        out: dict[tuple[str, str, str], list[AssayRow]] = {}
        for r in self.rows:
            out.setdefault((r.key, _fold(r.assay), r.endpoint), []).append(r)
        return out

    def structures(self) -> dict[str, str]:
        """Compound key -> SMILES, for the compounds whose structure the table gives."""
        return {r.key: r.smiles for r in self.rows if r.smiles}

    def training_values(self, endpoint: str, target: str | None = None,
                        threshold: float | None = None, *,
                        include_censored: bool = False) -> list[tuple[str, float]]:
        """(compound key, value) for model training, one per compound, sorted by key.

        Without ``threshold``: the median pX (or %) of the uncensored replicates;
        ``include_censored`` also takes censored values at their bound. With ``threshold``
        (pX, or % for an inhibition): a 0/1 label, the majority of the replicates' labels
        (a censored value counts where it decides; a tie leaves the compound out). An
        activity-call endpoint always gives the majority call. ``target`` matches the
        target, else the organism (case-insensitive); None takes every row."""
        name = parse_endpoint(endpoint)
        if name is None:
            raise UsageError(f"unknown endpoint {endpoint!r}; use one of: "
                             + ", ".join(ENDPOINTS))
        by_key: dict[str, list[AssayRow]] = {}
        for r in self.rows:
            if r.endpoint == name and (target is None or _fold(r.assay) == _fold(target)):
                by_key.setdefault(r.key, []).append(r)
        out: list[tuple[str, float]] = []
        for key in sorted(by_key):
            rows = by_key[key]
            if threshold is None and name != CALL:
                scores = [s for r in rows if (s := r.score()) is not None
                          and (include_censored or not r.censored)]
                if scores:
                    out.append((key, float(statistics.median(scores))))
                continue
            labels = [lab for r in rows if (lab := r.label(threshold)) is not None]
            ones = sum(labels)
            if labels and 2 * ones != len(labels):
                out.append((key, 1.0 if 2 * ones > len(labels) else 0.0))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "rows": [r.to_dict() for r in self.rows],
                "duplicates": [d.__dict__ for d in self.duplicates],
                "conflicts": [c.to_dict() for c in self.conflicts]}


def parse_endpoint(text: str) -> str | None:
    """The endpoint a text names (IC50, ic-50, "% Inhibition", "activity") or None."""
    key = re.sub(r"[\s_\-()]+", "", text.strip().lower())
    if key.startswith("p") and key[1:] in ("ic50", "ec50", "ki", "kd"):
        return None
    return _ENDPOINT_NAMES.get(key)


def parse_unit(text: str) -> str | None:
    """The unit a text names, normalised ("uM" -> "µM"), or None if unknown. Lengths
    (``mm``, a zone diameter) are told from molar units by their case."""
    exact = re.sub(r"\s+", "", text.strip())
    if exact in _LENGTHS:
        return exact
    key = exact.replace("μ", "µ").lower()
    key = re.sub(r"[./·]?(m?l)(?:-1|⁻¹)$", r"/\1", key)  # ug.mL-1, µg mL⁻¹
    return _UNIT_NAMES.get(key)


def to_nm(value: float, unit: str, molar_mass: float | None = None) -> float | None:
    """``value`` in ``unit`` as nM; a mass unit needs ``molar_mass`` (g/mol), else None;
    a unit that is no concentration gives None. 10 µg/mL at 500 g/mol -> 20000 nM."""
    if unit in MOLAR_UNITS:
        return value * MOLAR_UNITS[unit]
    if unit in MASS_UNITS and molar_mass:
        return value * MASS_UNITS[unit] / molar_mass * 1e9
    return None


def px_of(nm: float) -> float:
    """pX = -log10(concentration in mol/L) from nM: 1000 nM (1 µM) -> 6.0."""
    return 9.0 - math.log10(nm)


def molar_mass_of(smiles: str) -> float | None:
    """Average molar mass (g/mol) from a SMILES, or None if RDKit cannot parse it."""
    mol = _mol(smiles)
    if mol is None:
        return None
    from rdkit.Chem import Descriptors

    return float(Descriptors.MolWt(mol))  # type: ignore[attr-defined]


def read_assay_table(source: str | Path, mapping: Mapping[str, str] | None = None,
                     resolve: Resolver | None = None, *, endpoint: str | None = None,
                     target: str | None = None, organism: str | None = None,
                     name: str | None = None) -> AssayTable:
    """Read an assay table from a path or from its text; all rows or one error.

    ``mapping`` renames columns (source header -> one of :data:`COLUMNS`, ``-`` to ignore);
    ``resolve`` looks up a compound named by accession (its SMILES, InChIKey or molar mass,
    None if unknown); ``endpoint``, ``target`` and ``organism`` give one value for every
    row of a table that lacks that column."""
    label, text = _text_of(source, name)
    lines = list(csv.reader(io.StringIO(text), delimiter=_delimiter(text, label)))
    header_at = next((i for i, cells in enumerate(lines) if any(c.strip() for c in cells)),
                     None)
    if header_at is None:
        raise ValidationFailed(f"{label} is empty", [Problem(
            reason="the file is empty", fix="give a table with a header row and data rows",
            file=label)])
    header = [h.strip() for h in lines[header_at]]
    columns = _plan(header, mapping or {}, label)
    constants = {"endpoint": endpoint, "target": target, "organism": organism}
    missing = _missing_columns(columns, constants)
    if missing:
        raise ValidationFailed(f"{label} lacks the columns {', '.join(missing)}", [
            Problem(reason=f"the table has no column {col}", file=label, column=col,
                    fix=f"add a column {col} (also accepted as: "
                        f"{', '.join(ALIASES[col][1:4])}), map one with mapping, "
                        f"or give one value for all rows")
            for col in missing])
    problems: list[Problem] = []
    rows: list[AssayRow] = []
    cache: dict[str, tuple[str | None, str | None, float | None]] = {}
    data = 0
    for index in range(header_at + 1, len(lines)):
        cells = lines[index]
        if not any(c.strip() for c in cells):
            continue
        data += 1
        number = index + 1
        if len(cells) > len(header):
            extra = len(cells) - len(header)
            problems.append(Problem(
                reason=f"has {extra} more {'cell' if extra == 1 else 'cells'} than the "
                       f"header has columns ({len(header)})",
                fix="add a header for the extra column, or quote cells that contain the "
                    "delimiter", row=number, file=label))
            continue
        found = _row(number, cells, header, columns, constants, resolve, cache, label)
        if isinstance(found, AssayRow):
            rows.append(found)
        else:
            problems.extend(found)
    if not data and not problems:
        problems.append(Problem(reason="has a header but no data rows",
                                fix="add rows under the header row", file=label))
    if problems:
        bad = len({p.row for p in problems if p.row is not None})
        raise ValidationFailed(
            f"{label} has {len(problems)} "
            f"{'problem' if len(problems) == 1 else 'problems'} in {bad} "
            f"{'row' if bad == 1 else 'rows'}; nothing was read", problems)
    table = AssayTable(label, rows)
    table.duplicates, table.conflicts = replicates(table)
    return table


# --- reading -------------------------------------------------------------------------------

def _text_of(source: str | Path, name: str | None) -> tuple[str, str]:
    if isinstance(source, Path):
        label = name or source.name
        try:
            raw = source.read_bytes()
        except OSError as err:
            raise ValidationFailed(f"{label} cannot be read", [Problem(
                reason=f"cannot be read ({err.strerror or err})", fix="check the file path",
                file=label)]) from None
        try:
            return label, raw.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise ValidationFailed(f"{label} is not UTF-8", [Problem(
                reason=f"is not valid utf-8 text ({err.reason})",
                fix="give the right --encoding, or save the file as UTF-8",
                file=label)]) from None
    return name or "the assay table", source.removeprefix("\ufeff")


def _delimiter(text: str, label: str) -> str:
    if label.lower().endswith((".tsv", ".tab")):
        return "\t"
    first = next((line for line in text.splitlines() if line.strip()), "")
    if label.lower().endswith(".csv"):  # ChEMBL's "CSV" downloads use semicolons
        return ";" if first.count(";") > first.count(",") else ","
    return max(("\t", ",", ";"), key=first.count) if first else "\t"


def _header_key(text: str) -> str:
    return re.sub(r"[\s_\-.:()/]+", "", text.strip().lower())


def _plan(header: list[str], mapping: Mapping[str, str], label: str) -> dict[str, int]:
    """Column name -> cell index."""
    by_key: dict[str, int] = {}
    for i, h in enumerate(header):
        by_key.setdefault(_header_key(h), i)
    columns: dict[str, int] = {}
    mapped: set[int] = set()
    for src, dst in mapping.items():
        if dst.strip() in ("", "-"):
            at = by_key.get(_header_key(src))
            if at is not None:
                mapped.add(at)
            continue
        if dst not in COLUMNS:
            raise UsageError(f"mapping {src!r} -> {dst!r}: {dst!r} is not an assay column; "
                             f"use one of: {', '.join(COLUMNS)}")
        at = by_key.get(_header_key(src))
        if at is None:
            raise UsageError(f"{label}: the file has no column {src!r}; its columns are: "
                             + ", ".join(repr(h) for h in header if h))
        if dst in columns:
            raise UsageError(f"columns {header[columns[dst]]!r} and {src!r} are both "
                             f"mapped to {dst!r}")
        columns[dst] = at
        mapped.add(at)
    for col, names in ALIASES.items():
        if col in columns:
            continue
        for alias in names:
            at = by_key.get(_header_key(alias))
            if at is not None and at not in mapped:
                columns[col] = at
                mapped.add(at)
                break
    return columns


def _missing_columns(columns: dict[str, int], constants: dict[str, str | None]) -> list[str]:
    missing = []
    if not {"compound", "smiles", "inchikey"} & columns.keys():
        missing.append("compound")
    if "endpoint" not in columns and not constants["endpoint"]:
        missing.append("endpoint")
    if not {"value", "call"} & columns.keys():
        missing.append("value")
    return missing


def _row(number: int, cells: list[str], header: list[str], columns: dict[str, int],
         constants: dict[str, str | None], resolve: Resolver | None,
         cache: dict[str, tuple[str | None, str | None, float | None]], label: str
         ) -> AssayRow | list[Problem]:
    problems: list[Problem] = []

    def cell(col: str) -> str:
        at = columns.get(col)
        text = cells[at].strip() if at is not None and at < len(cells) else ""
        return text or (constants.get(col) or "")

    def fail(col: str, value: str, reason: str, fix: str) -> None:
        at = columns.get(col)
        problems.append(Problem(reason=reason, fix=fix, row=number, value=value or None,
                                column=header[at] if at is not None else col, file=label))

    # the compound
    compound, smiles, inchikey = cell("compound") or None, cell("smiles") or None, None
    given_key = cell("inchikey") or None
    molar_mass: float | None = None
    if compound and _INCHIKEY.match(compound) and not given_key:
        given_key, compound = compound, None
    if given_key and not _INCHIKEY.match(given_key):
        fail("inchikey", given_key, "is not an InChIKey",
             "write 27 characters like BSYNRYMUTXBXSQ-UHFFFAOYSA-N")
        given_key = None
    if smiles:
        found = _structure(smiles, cache)
        if found is None:
            fail("smiles", smiles, "is not a SMILES string RDKit can parse",
                 "check ring closures, brackets and valences (e.g. 'CC(=O)O')")
        else:
            inchikey, molar_mass = found[1], found[2]
            smiles = found[0]
    elif compound and resolve is not None:
        info = resolve(compound)
        if info is None:
            fail("compound", compound, "is not a compound the bank knows",
                 "check the accession, or give the structure in a smiles column")
        else:
            if info.smiles:
                found = _structure(info.smiles, cache)
                if found is not None:
                    smiles, inchikey, molar_mass = found
            inchikey = info.inchikey or inchikey
            molar_mass = info.molar_mass or molar_mass
    if given_key:
        if inchikey and inchikey != given_key:
            fail("inchikey", given_key, f"differs from the InChIKey of the SMILES "
                 f"({inchikey})", "check that the row's SMILES and InChIKey are one compound")
        inchikey = inchikey or given_key
    if not (compound or smiles or given_key):
        fail("compound", "", "names no compound",
             "give a compound accession, a SMILES or an InChIKey")
    key = inchikey or compound or ""

    # what was measured
    endpoint_text = cell("endpoint")
    endpoint = parse_endpoint(endpoint_text) if endpoint_text else None
    if endpoint is None:
        fail("endpoint", endpoint_text, "is not an endpoint Lanhai reads"
             if endpoint_text else "is empty", "use one of: " + ", ".join(ENDPOINTS))
    target, organism = cell("target") or None, cell("organism") or None

    # the call
    call_text = cell("call")
    call: bool | None = None
    if call_text:
        folded = call_text.lower().strip().strip("'\"")
        if folded not in _CALLS:
            fail("call", call_text, "is not an activity call",
                 "write active or inactive (or leave it blank)")
        else:
            call = _CALLS[folded]

    # the value, its unit and qualifier
    value_text, unit_text, qual_text = cell("value"), cell("unit"), cell("qualifier")
    qualifier = "="
    if qual_text:
        q = _QUALIFIERS.get(qual_text.strip().strip("'\""))
        if q is None:
            fail("qualifier", qual_text, "is not a qualifier", "write =, <, >, <=, >= or ~")
        else:
            qualifier = q
    value: float | None = None
    unit: str | None = None
    if value_text:
        parsed = _VALUE.match(value_text)
        if re.search(r"\d,\d", value_text):
            fail("value", value_text, "has a comma in the number",
                 "write the decimal point as '.' and no thousands separator (e.g. 1234.5)")
        elif parsed is None:
            fail("value", value_text, "is not a number",
                 "write a number, with a qualifier if needed (e.g. 12.5 or >100)")
        else:
            inner, number_text, trailing = parsed.groups()
            value = float(number_text)
            if inner:
                inner_q = _QUALIFIERS[inner]
                if qual_text and qualifier != inner_q and qualifier != "=":
                    fail("value", value_text, f"has the qualifier {inner} but the "
                         f"qualifier column says {qual_text}",
                         "write the qualifier in one place")
                qualifier = inner_q
            if trailing:
                if unit_text and parse_unit(trailing) != parse_unit(unit_text):
                    fail("value", value_text, f"has the unit {trailing} but the unit "
                         f"column says {unit_text}", "write the unit in one place")
                unit_text = unit_text or trailing
    if value is None and not call_text and endpoint is not None and not problems:
        fail("value", value_text, "has neither a value nor an activity call",
             "give a value with its unit, or active/inactive")
    if unit_text:
        unit = parse_unit(unit_text)
        if unit is None:
            fail("unit", unit_text, f"has an unknown unit {unit_text}",
                 f"use one of {_ACCEPTED_CONCENTRATION}, or % for an inhibition")

    nm = px = ug = percent = None
    if value is not None and endpoint is not None and (unit or not unit_text):
        if endpoint == CALL:
            fail("value", value_text, "is a number but the endpoint is an activity call",
                 "give active or inactive in the call column, or name the endpoint "
                 "(IC50, MIC ...)")
        elif endpoint == INHIBITION:
            if unit not in (None, "%"):
                fail("unit", unit_text, f"cannot be converted to a % inhibition (the "
                     f"unit is {unit})", "give the inhibition in %")
            else:
                percent = value
        elif unit is None:
            fail("unit", unit_text, f"is missing: a {endpoint} needs a concentration unit",
                 f"use one of {_ACCEPTED_CONCENTRATION}")
        elif unit not in MOLAR_UNITS and unit not in MASS_UNITS:
            fail("unit", unit_text, f"cannot be converted to a concentration for "
                 f"{endpoint}", f"use one of {_ACCEPTED_CONCENTRATION}")
        elif value <= 0:
            fail("value", value_text, "must be greater than 0 for a concentration",
                 "give the measured concentration")
        elif unit in MASS_UNITS and not molar_mass:
            fail("unit", unit_text, "is a mass concentration but the compound's "
                 "structure is not known, so it cannot be converted to molar",
                 "give the compound's SMILES (or its molar mass through the bank), "
                 "or the value in a molar unit (nM, µM)")
        else:
            nm = to_nm(value, unit, molar_mass)
            assert nm is not None
            px = px_of(nm)
            if unit in MASS_UNITS:
                ug = value * MASS_UNITS[unit] / MASS_UNITS["µg/mL"]
            elif molar_mass:
                ug = nm * 1e-9 * molar_mass / MASS_UNITS["µg/mL"]
    if problems:
        return problems
    assert endpoint is not None
    return AssayRow(row=number, key=key, compound=compound, smiles=smiles, inchikey=inchikey,
                    target=target, organism=organism, endpoint=endpoint, value=value,
                    unit=unit, qualifier=qualifier, nm=nm, px=px, ug_per_ml=ug,
                    percent=percent, call=call, source=cell("source") or None,
                    molar_mass=molar_mass)


def _mol(smiles: str) -> Any:
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")  # type: ignore[attr-defined]
    mol = Chem.MolFromSmiles(smiles)
    return mol if mol is not None and mol.GetNumAtoms() else None


def _structure(smiles: str, cache: dict[str, tuple[str | None, str | None, float | None]]
               ) -> tuple[str, str, float] | None:
    """(canonical SMILES, InChIKey, molar mass) of a SMILES, or None if invalid."""
    if smiles not in cache:
        mol = _mol(smiles)
        if mol is None:
            cache[smiles] = (None, None, None)
        else:
            from rdkit import Chem
            from rdkit.Chem import Descriptors

            inchikey: str = Chem.MolToInchiKey(mol)  # type: ignore[no-untyped-call]
            weight = float(Descriptors.MolWt(mol))  # type: ignore[attr-defined]
            cache[smiles] = (Chem.MolToSmiles(mol), inchikey or None, weight)
    can, key, mass = cache[smiles]
    if can is None or mass is None:
        return None
    return can, key or can, mass


def _fold(text: str | None) -> str:
    return " ".join((text or "").lower().split())


# --- replicates ----------------------------------------------------------------------------

def replicates(table: AssayTable) -> tuple[list[Duplicate], list[ReplicateConflict]]:
    duplicates: list[Duplicate] = []
    conflicts: list[ReplicateConflict] = []
    for (key, _, endpoint), rows in table.groups().items():
        if len(rows) < 2:
            continue
        assay = rows[0].assay
        same: dict[tuple[Any, ...], list[int]] = {}
        for r in rows:
            measured = (r.qualifier, None if r.score() is None else round(r.score() or 0, 6),
                        r.call, r.value if r.score() is None else None)
            same.setdefault(measured, []).append(r.row)
        duplicates.extend(Duplicate(key, assay, endpoint, tuple(numbers))
                          for numbers in same.values() if len(numbers) > 1)
        scores = [s for r in rows if not r.censored and (s := r.score()) is not None]
        spread = max(scores) - min(scores) if len(scores) > 1 else None
        numbers = tuple(r.row for r in rows)
        calls = {r.call for r in rows if r.call is not None}
        if endpoint in CONCENTRATION_ENDPOINTS and spread is not None \
                and spread > CONFLICT_SPREAD:
            conflicts.append(ReplicateConflict(
                key, assay, endpoint, numbers, f"the pX values spread over {spread:.2f} "
                f"log units (more than {CONFLICT_SPREAD:g})", round(spread, 3)))
        elif calls == {True, False}:
            conflicts.append(ReplicateConflict(key, assay, endpoint, numbers,
                                               "both active and inactive calls"))
    return duplicates, conflicts

