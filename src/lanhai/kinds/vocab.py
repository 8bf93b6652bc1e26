"""Value normalisers for the controlled vocabularies the standards define.

Each normaliser takes a raw value (text from a file, or JSON from the API) and a
:class:`ValueContext`, and returns the stored value or raises :class:`FieldError` saying
why the value is wrong and how to fix it. Nothing here touches a database.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


class FieldError(ValueError):
    """A single value is invalid."""

    def __init__(self, reason: str, fix: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.fix = fix


@dataclass(frozen=True)
class ValueContext:
    """Options that change how raw values are read (set per import)."""

    date_format: str | None = None
    #: default unit for bare numbers, per field (``{"depth": "ft"}``)
    units: dict[str, str] = field(default_factory=dict)


Normaliser = Callable[[Any, ValueContext, str], Any]

NULL_TOKENS = frozenset(
    {"", "na", "n/a", "nd", "n.d.", "nan", "null", "none", "-", "not applicable", "not collected",
     "not provided", "missing", "unknown"}
)


#: INSDC missing-value terms: MIxS accepts them in required fields when the value is unknown
MISSING_TERMS = {
    "not applicable": "not applicable", "not collected": "not collected",
    "not provided": "not provided", "restricted access": "restricted access",
    "missing": "missing", "missing: control sample": "missing: control sample",
    "missing: sample group": "missing: sample group",
    "missing: synthetic construct": "missing: synthetic construct",
    "missing: lab stock": "missing: lab stock",
    "missing: third party data": "missing: third party data",
    "missing: data agreement established pre-2023": "missing: data agreement established pre-2023",
    "missing: endangered species": "missing: endangered species",
    "missing: human-identifiable": "missing: human-identifiable",
}


def missing_term(value: Any) -> str | None:
    """The INSDC missing-value term ``value`` spells, or None."""
    if not isinstance(value, str):
        return None
    return MISSING_TERMS.get(" ".join(value.strip().lower().split()))


def is_blank(value: Any) -> bool:
    """True for empty cells and the usual 'no value' tokens (MIxS: 'missing', 'not collected')."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip().lower() in NULL_TOKENS
    return isinstance(value, float) and value != value  # NaN


def text(value: Any, ctx: ValueContext, name: str) -> str:
    """Free text, whitespace-trimmed."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    out = str(value).strip()
    if "\x00" in out:
        raise FieldError("contains a NUL byte", "remove control characters from the cell")
    return out


def number(value: Any, ctx: ValueContext, name: str) -> float:
    """A decimal number."""
    if isinstance(value, bool):
        raise FieldError("is a yes/no value, not a number", "give a decimal number like 12.5")
    if isinstance(value, (int, float)):
        return float(value)
    raw = str(value).strip().replace(",", ".") if str(value).count(",") == 1 and "." not in str(
        value
    ) else str(value).strip()
    try:
        return float(raw)
    except ValueError:
        raise FieldError("is not a number", "give a decimal number like 12.5") from None


def integer(value: Any, ctx: ValueContext, name: str) -> int:
    """A whole number."""
    num = number(value, ctx, name)
    if not num.is_integer():
        raise FieldError("is not a whole number", "give a whole number like 42")
    return int(num)


def percentage(value: Any, ctx: ValueContext, name: str) -> float:
    """A percentage 0-100 ('97.5', '97.5%')."""
    raw = str(value).strip().rstrip("%").strip() if isinstance(value, str) else value
    num = number(raw, ctx, name)
    if not 0 <= num <= 100:
        raise FieldError("is outside 0-100 %", "give a percentage between 0 and 100")
    return num


_TRUE = {"true", "yes", "y", "1", "t", "是"}
_FALSE = {"false", "no", "n", "0", "f", "否"}


def boolean(value: Any, ctx: ValueContext, name: str) -> bool:
    """yes/no, true/false, 1/0."""
    if isinstance(value, bool):
        return value
    raw = str(value).strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise FieldError("is not a yes/no value", "write yes or no (true/false, 1/0 also work)")


def text_list(value: Any, ctx: ValueContext, name: str) -> list[str]:
    """A list given as a JSON array or as text separated by ';' or '|'."""
    if isinstance(value, list):
        items = [str(v).strip() for v in value]
    else:
        raw = str(value).strip()
        if raw.startswith("["):
            try:
                parsed = json.loads(raw)
            except json.JSONDecodeError:
                raise FieldError("is not a valid JSON list", 'write ["a", "b"] or a;b') from None
            items = [str(v).strip() for v in parsed]
        else:
            items = [part.strip() for part in re.split(r"[;|]", raw)]
    return [item for item in items if item]


@dataclass(frozen=True)
class Offered:
    """A normaliser that takes only a closed list of terms: forms offer a select (or
    checkboxes, when several may be given) instead of free text."""

    normalise: Normaliser
    #: (value, label) pairs
    options: tuple[tuple[str, str], ...]
    multiple: bool = False

    def __call__(self, value: Any, ctx: ValueContext, name: str) -> Any:
        return self.normalise(value, ctx, name)


def offer(normalise: Normaliser, options: Sequence[str | tuple[str, str]],
          multiple: bool = False) -> Offered:
    """``normalise``, noted as taking only ``options`` (values, or (value, label) pairs)."""
    return Offered(normalise, tuple(o if isinstance(o, tuple) else (o, o) for o in options),
                   multiple)


def offered(normalise: Normaliser) -> tuple[tuple[tuple[str, str], ...], bool] | None:
    """The (value, label) options ``normalise`` takes and whether several may be given, or
    None for an open field."""
    if isinstance(normalise, Offered):
        return normalise.options, normalise.multiple
    return None


yes_no = offer(boolean, ("yes", "no"))


def choice(options: Sequence[str], aliases: dict[str, str] | None = None) -> Normaliser:
    """One of a fixed list of terms, matched case- and spacing-insensitively."""
    lookup = {_key(o): o for o in options}
    for alias, target in (aliases or {}).items():
        lookup[_key(alias)] = target

    def normalise(value: Any, ctx: ValueContext, name: str) -> str:
        raw = text(value, ctx, name)
        try:
            return lookup[_key(raw)]
        except KeyError:
            raise FieldError(
                "is not one of the allowed terms", "use one of: " + ", ".join(options)
            ) from None

    return offer(normalise, options)


def _key(raw: str) -> str:
    return re.sub(r"[\s_\-]+", " ", raw.strip().lower())


# --- dates ---------------------------------------------------------------------------------

_ISO_PARTIAL = re.compile(
    r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:[T ](?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.\d+)?)?"
    r"(?P<tz>Z|[+-]\d{2}:?\d{2})?)?)?)?$"
)
_MCPD_DATE = re.compile(r"^(?P<y>\d{4})(?P<m>\d{2}|--)(?P<d>\d{2}|--)$")


def _check_partial(y: str, m: str | None, d: str | None, time: str | None = None) -> str:
    year = int(y)
    if not 1000 <= year <= 2200:
        raise FieldError("has an implausible year", "give a year between 1000 and 2200")
    if m is None:
        return y
    if not 1 <= int(m) <= 12:
        raise FieldError("has a month outside 01-12", "write the date as YYYY-MM-DD")
    if d is None:
        return f"{y}-{m}"
    try:
        dt.date(year, int(m), int(d))
    except ValueError:
        raise FieldError("is not a real calendar date", "check day and month") from None
    return f"{y}-{m}-{d}" + (time or "")


def partial_date(value: Any, ctx: ValueContext, name: str) -> str:
    """ISO 8601 date, partial allowed as MIxS allows (YYYY, YYYY-MM, YYYY-MM-DD[Thh:mm[:ss][Z]]).

    A range 'start/end' is accepted. Other layouts (05-10-2010) are never guessed: they need
    an explicit ``date_format`` (strftime codes, e.g. ``%d-%m-%Y``).
    """
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    raw = text(value, ctx, name)
    if "/" in raw and _ISO_PARTIAL.match(raw.split("/", 1)[0].strip()):
        start, end = (part.strip() for part in raw.split("/", 1))
        first, last = partial_date(start, ctx, name), partial_date(end, ctx, name)
        if last[:10] < first[:10]:
            raise FieldError("is a range that ends before it starts", "write start/end in order")
        return f"{first}/{last}"
    if ctx.date_format:
        try:
            parsed = dt.datetime.strptime(raw, ctx.date_format)
        except ValueError:
            pass
        else:
            has_time = any(code in ctx.date_format for code in ("%H", "%M", "%S"))
            return parsed.isoformat(timespec="minutes") if has_time else parsed.date().isoformat()
    match = _ISO_PARTIAL.match(raw)
    if match:
        time = None
        if match["H"] is not None:
            hour, minute = int(match["H"]), int(match["M"])
            second = int(match["S"] or 0)
            if hour > 23 or minute > 59 or second > 59:
                raise FieldError("has an impossible time of day", "write hh:mm with hh < 24")
            time = f"T{match['H']}:{match['M']}" + (f":{match['S']}" if match["S"] else "")
            if match["tz"]:
                time += "Z" if match["tz"] == "Z" else match["tz"]
        return _check_partial(match["y"], match["m"], match["d"], time)
    mcpd = _MCPD_DATE.match(raw)
    if mcpd:
        month = None if mcpd["m"] == "--" else mcpd["m"]
        day = None if mcpd["d"] == "--" or month is None else mcpd["d"]
        return _check_partial(mcpd["y"], month, day)
    fix = (
        f"the value does not match --date-format {ctx.date_format!r}"
        if ctx.date_format
        else "write YYYY-MM-DD (YYYY-MM or YYYY if partial), or give the layout with "
        "--date-format, e.g. --date-format %d-%m-%Y"
    )
    raise FieldError("is not an ISO 8601 date and its day/month order is ambiguous", fix)


def full_date(value: Any, ctx: ValueContext, name: str) -> str:
    """A complete calendar date (YYYY-MM-DD); legal clocks need the day."""
    out = partial_date(value, ctx, name)
    if "/" in out or len(out) < 10:
        raise FieldError("is not a complete date", "write the full date as YYYY-MM-DD")
    return out[:10]


# --- places --------------------------------------------------------------------------------

_HEMI = re.compile(r"^\s*([-+]?\d+(?:\.\d+)?)\s*°?\s*([NSEW])?\s*$", re.IGNORECASE)


def _coordinate(raw: str, positive: str, negative: str, limit: float) -> float:
    match = _HEMI.match(raw)
    if not match:
        raise FieldError("is not a decimal-degree coordinate", "write decimal degrees, e.g. 48.72")
    num = float(match[1])
    hemi = (match[2] or "").upper()
    if hemi and hemi not in (positive, negative):
        raise FieldError(
            f"has hemisphere {hemi} where {positive}/{negative} is expected",
            "latitude takes N/S, longitude E/W",
        )
    if hemi == negative:
        num = -abs(num)
    if not -limit <= num <= limit:
        raise FieldError(
            f"is outside -{limit:g}..{limit:g} degrees",
            "check that latitude and longitude are not swapped",
        )
    return round(num, 7)


def latitude(value: Any, ctx: ValueContext, name: str) -> float:
    """Decimal degrees north, -90..90 ('48.72', '48.72 N', '12.5 S')."""
    return _coordinate(text(value, ctx, name), "N", "S", 90.0)


def longitude(value: Any, ctx: ValueContext, name: str) -> float:
    """Decimal degrees east, -180..180 ('-3.98', '3.98 W')."""
    return _coordinate(text(value, ctx, name), "E", "W", 180.0)


_LAT_LON = re.compile(
    r"^\s*([-+]?\d+(?:\.\d+)?\s*°?\s*[NS]?)[\s,;]+([-+]?\d+(?:\.\d+)?\s*°?\s*[EW]?)\s*$",
    re.IGNORECASE,
)


def lat_lon(value: Any, ctx: ValueContext, name: str) -> list[float]:
    """MIxS lat_lon: 'lat lon' in decimal degrees ('48.72 -3.98' or '48.72 N 3.98 W')."""
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return [latitude(value[0], ctx, name), longitude(value[1], ctx, name)]
    match = _LAT_LON.match(text(value, ctx, name))
    if not match:
        raise FieldError(
            "is not 'latitude longitude' in decimal degrees", "write e.g. '48.72 -3.98'"
        )
    return [latitude(match[1], ctx, name), longitude(match[2], ctx, name)]


_TO_METRES = {
    "m": 1.0, "meter": 1.0, "meters": 1.0, "metre": 1.0, "metres": 1.0, "mbsl": 1.0,
    "米": 1.0, "cm": 0.01, "mm": 0.001, "km": 1000.0, "ft": 0.3048, "feet": 0.3048,
    "foot": 0.3048, "fathom": 1.8288, "fathoms": 1.8288, "fm": 1.8288,
}
_QUANTITY = re.compile(
    r"^\s*(?P<a>\d+(?:\.\d+)?)\s*(?P<ua>[a-zA-Z米]+)?\s*(?:(?:-|–|to)\s*(?P<b>\d+(?:\.\d+)?)"
    r"\s*(?P<ub>[a-zA-Z米]+)?)?\s*$"
)


def depth(value: Any, ctx: ValueContext, name: str) -> list[float]:
    """Depth below the surface with units, normalised to metres: [min, max].

    '25', '25 m', '2.4m', '0-5 m', '100 ft', '30 fathoms'. A bare number takes the unit given
    for this field in the import options (``--unit depth=ft``), else metres.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raw = repr(float(value))
    elif isinstance(value, (list, tuple)) and len(value) == 2:
        low, high = (number(v, ctx, name) for v in value)
        return _depth_range(low, high)
    else:
        raw = text(value, ctx, name)
    match = _QUANTITY.match(raw)
    if not match:
        raise FieldError(
            "is not a depth with a unit", "write e.g. '25 m', '0-5 m' or '100 ft'"
        )
    unit = (match["ub"] or match["ua"] or ctx.units.get(name, "m")).lower()
    if unit not in _TO_METRES:
        raise FieldError(
            f"has an unknown unit {unit!r}", "use one of m, cm, km, ft, fathom"
        )
    factor = _TO_METRES[unit]
    low = float(match["a"]) * factor
    high = float(match["b"]) * factor if match["b"] else low
    return _depth_range(low, high)


def _depth_range(low: float, high: float) -> list[float]:
    if low < 0 or high < 0:
        raise FieldError("is negative", "give depth below the surface as a positive number")
    if high < low:
        raise FieldError("is a range that ends above where it starts", "write shallow-deep")
    if high > 11_100:
        raise FieldError("is deeper than the deepest ocean (11,000 m)", "check the unit")
    return [round(low, 3), round(high, 3)]


def temperature(value: Any, ctx: ValueContext, name: str) -> list[float]:
    """A temperature or range in °C ('28', '28 °C', '25-30 C'); stored as [min, max]."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [float(value), float(value)]
    raw = text(value, ctx, name).replace("°", "").replace("℃", "")
    match = re.match(r"^\s*(-?\d+(?:\.\d+)?)\s*C?\s*(?:(?:-|–|to)\s*(-?\d+(?:\.\d+)?)\s*C?)?\s*$",
                     raw, re.IGNORECASE)
    if not match:
        raise FieldError("is not a temperature in °C", "write e.g. '28' or '25-30'")
    low = float(match[1])
    high = float(match[2]) if match[2] else low
    if not -20 <= low <= high <= 130:
        raise FieldError("is not a plausible growth temperature", "give °C between -20 and 130")
    return [low, high]


# --- ontologies and identifiers ------------------------------------------------------------

_ENVO = re.compile(r"ENVO[:_](\d{7,8})", re.IGNORECASE)


def envo_term(value: Any, ctx: ValueContext, name: str) -> str:
    """An ENVO term as MIxS writes it: 'label [ENVO:00000447]'.

    Accepted: 'marine biome [ENVO:00000447]', 'marine biome (ENVO:00000447)',
    'marine biome [http://purl.obolibrary.org/obo/ENVO_00000447]', or a bare id.
    """
    raw = text(value, ctx, name)
    found = _ENVO.findall(raw)
    if not found:
        raise FieldError(
            "does not name an ENVO term id",
            "write 'label [ENVO:nnnnnnnn]', e.g. 'marine biome [ENVO:00000447]'",
        )
    if len(set(found)) > 1:
        raise FieldError("names more than one ENVO term", "give one term per field")
    term_id = found[0].zfill(8)
    label = re.sub(r"[\[(]?\s*(https?://\S*?)?ENVO[:_]\d+\s*[\])]?", "", raw, flags=re.I)
    label = re.sub(r"\s+", " ", label).strip(" :;,-")
    return f"{label} [ENVO:{term_id}]" if label else f"ENVO:{term_id}"


_TAXID = re.compile(r"^(?:ncbi\s*:?\s*)?(?:txid|taxon\s*:?|taxid\s*:?)?\s*(\d{1,8})$", re.I)


def ncbi_taxid(value: Any, ctx: ValueContext, name: str) -> int:
    """An NCBI Taxonomy id: '408172', 'NCBI:txid408172', 'taxon:408172'."""
    if isinstance(value, int) and not isinstance(value, bool):
        raw = str(value)
    else:
        raw = text(value, ctx, name)
        if raw.endswith(".0"):
            raw = raw[:-2]
    match = _TAXID.match(raw)
    if not match or int(match[1]) == 0:
        raise FieldError(
            "is not an NCBI Taxonomy id",
            "write the number (e.g. 408172 for marine metagenome) or NCBI:txid408172",
        )
    return int(match[1])


_INSDC_BIOSAMPLE = re.compile(r"^SAM(?:N|EA|D)\d+$")


def biosample(value: Any, ctx: ValueContext, name: str) -> str:
    """An INSDC BioSample accession (SAMN…, SAMEA…, SAMD…)."""
    raw = text(value, ctx, name).upper()
    if not _INSDC_BIOSAMPLE.match(raw):
        raise FieldError("is not a BioSample accession", "write e.g. SAMEA2620084 or SAMN07137064")
    return raw


def collection_number(raw: str) -> str:
    """Normalise a collection number: 'DSM=12345', 'dsm12345', 'DSM 12345' -> 'DSM 12345'.

    The type-strain mark is not part of the number ('DSM 44818T' -> 'DSM 44818'); a series
    prefix stays joined to its number ('NRRLB-59665', 'VKM=B-2133' -> 'VKM B-2133').
    """
    raw = re.sub(r"\s+", " ", raw.strip())
    raw = re.sub(r"(?<=\d)\s*[T\u1d40]$", "", raw)
    match = re.match(r"^([A-Za-z][A-Za-z\-]*?)\s*[=:#\s]?\s*(?:No\.?\s*)?(\d[\w.\-/]*)$", raw)
    if match:
        sep = "" if match[1].endswith("-") else " "
        return f"{match[1].upper()}{sep}{match[2]}"
    series = re.match(r"^([A-Za-z]+)\s*[=:#]\s*([A-Za-z]+-?\d[\w.\-/]*)$", raw)
    if series:
        return f"{series[1].upper()} {series[2]}"
    return raw


def collection_numbers(value: Any, ctx: ValueContext, name: str) -> list[str]:
    """Culture-collection numbers: 'CGMCC=1.6783|CECT=7303' or a list."""
    items = text_list(value, ctx, name)
    out: list[str] = []
    for item in items:
        for piece in re.split(r",\s*", item):
            if piece.strip():
                number_ = collection_number(piece)
                if number_ not in out:
                    out.append(number_)
    return out


def dna_sequence(value: Any, ctx: ValueContext, name: str) -> str:
    """A nucleotide sequence in IUPAC letters (GenBank-layout spaces and digits removed)."""
    raw = re.sub(r"[\s\d]+", "", text(value, ctx, name)).lower()
    bad = sorted(set(re.sub(r"[acgtursymkwbdhvn\-]", "", raw)))
    if bad:
        raise FieldError(
            f"has characters that are not IUPAC nucleotides: {''.join(bad)!r}",
            "use only A, C, G, T/U and IUPAC ambiguity codes",
        )
    if not raw:
        raise FieldError("is empty", "give the sequence")
    return raw
