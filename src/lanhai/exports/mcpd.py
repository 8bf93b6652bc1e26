"""FAO/Bioversity Multi-Crop Passport Descriptors (MCPD v2.1) CSV for germplasm.

Official column names in the official order; dates as YYYYMMDD with '-' for unknown parts
('1981----'); coordinates both as decimal degrees (DECLATITUDE) and as DDMMSSH (LATITUDE);
STORAGE codes joined with ';'; OTHERNUMB as 'INSTCODE:identifier;…' (':identifier' when
the institute is not known); REMARKS carry the Lanhai accession ('LANHAI:LHGP0000001').
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from lanhai.exports.common import (
    Batch,
    ExportOptions,
    TableWriter,
    TextSink,
    known_value,
    number_text,
)
from lanhai.kinds import KindSpec
from lanhai.model import Record

COLUMNS = (
    "PUID", "INSTCODE", "ACCENUMB", "COLLNUMB", "COLLCODE", "COLLNAME", "COLLINSTADDRESS",
    "COLLMISSID", "GENUS", "SPECIES", "SPAUTHOR", "SUBTAXA", "SUBTAUTHOR", "CROPNAME",
    "ACCENAME", "ACQDATE", "ORIGCTY", "COLLSITE", "DECLATITUDE", "LATITUDE", "DECLONGITUDE",
    "LONGITUDE", "COORDUNCERT", "COORDDATUM", "GEOREFMETH", "ELEVATION", "COLLDATE",
    "BREDCODE", "BREDNAME", "SAMPSTAT", "ANCEST", "COLLSRC", "DONORCODE", "DONORNAME",
    "DONORNUMB", "OTHERNUMB", "DUPLSITE", "DUPLINSTNAME", "STORAGE", "MLSSTAT", "REMARKS",
)
#: MCPD columns filled straight from a germplasm field of the same meaning
_SAME = {"INSTCODE": "instcode", "ACCENUMB": "accenumb", "GENUS": "genus",
         "SPAUTHOR": "spauthor", "SUBTAXA": "subtaxa", "CROPNAME": "cropname",
         "ACCENAME": "accename", "ORIGCTY": "origcty", "COLLSITE": "collsite",
         "SAMPSTAT": "sampstat", "ANCEST": "ancest", "COLLSRC": "collsrc",
         "DONORCODE": "donorcode"}
_INSTCODE_PAIR = re.compile(r"^[A-Z]{3}[A-Z0-9]{1,4}:\S")


def mcpd_date(value: Any) -> str:
    """ISO 8601 (partial) -> MCPD YYYYMMDD: '1981' -> '1981----', '2019-03' -> '201903--'.

    A range keeps its start; a missing-value term gives ''.
    """
    value = known_value(value)
    if not isinstance(value, str):
        return ""
    start = value.split("/", 1)[0]
    match = re.match(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", start)
    if not match:
        return ""
    return f"{match[1]}{match[2] or '--'}{match[3] or '--'}"


def dms(value: float, positive: str, negative: str, degree_digits: int) -> str:
    """Decimal degrees -> MCPD DDMMSSH / DDDMMSSH ('425609N', '0091556W')."""
    total = round(abs(value) * 3600)
    degrees, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    hemisphere = positive if value >= 0 else negative
    return f"{degrees:0{degree_digits}d}{minutes:02d}{seconds:02d}{hemisphere}"


def othernumb(identifiers: Iterable[str]) -> str:
    """'INSTCODE:identifier;…'; an identifier without a known institute gets a leading ':'."""
    out = []
    for value in identifiers:
        value = value.strip().replace(";", ",")
        if value:
            out.append(value if _INSTCODE_PAIR.match(value) else f":{value}")
    return ";".join(out)


def passport(record: Record) -> dict[str, str]:
    """The MCPD descriptors of one germplasm record."""
    f = record.fields
    row = {column: str(known_value(f.get(name)) or "") for column, name in _SAME.items()}
    species = known_value(f.get("species"))
    row["SPECIES"] = str(species) if species else "sp."
    row["ACQDATE"] = mcpd_date(f.get("acqdate"))
    row["COLLDATE"] = mcpd_date(f.get("colldate"))
    lat, lon = known_value(f.get("latitude")), known_value(f.get("longitude"))
    if isinstance(lat, (int, float)):
        row["DECLATITUDE"] = number_text(lat)
        row["LATITUDE"] = dms(float(lat), "N", "S", 2)
    if isinstance(lon, (int, float)):
        row["DECLONGITUDE"] = number_text(lon)
        row["LONGITUDE"] = dms(float(lon), "E", "W", 3)
    if "DECLATITUDE" in row and "DECLONGITUDE" in row:
        row["COORDDATUM"] = "WGS84"
    row["STORAGE"] = ";".join(str(code) for code in f.get("storage", []) or [])
    mls = f.get("mlsstat")
    row["MLSSTAT"] = "" if not isinstance(mls, bool) else ("1" if mls else "0")
    row["OTHERNUMB"] = othernumb(f.get("identifiers", []) or [])
    remarks = [f"LANHAI:{record.accession}"]
    description = known_value(f.get("description"))
    if description:
        remarks.append(re.sub(r"[;\r\n]+", ",", str(description)))
    row["REMARKS"] = ";".join(remarks)
    return row


def write_mcpd(spec: KindSpec, batches: Iterable[Batch], options: ExportOptions
               ) -> Iterator[bytes]:
    """MCPD v2.1 passport data as CSV (comma, CRLF, UTF-8)."""
    sink = TextSink()
    writer = TableWriter(sink)
    writer.writerow(COLUMNS)
    yield sink.drain()
    for batch in batches:
        for item in batch:
            row = passport(item.record)
            writer.writerow([row.get(column, "") for column in COLUMNS])
        yield sink.drain()
