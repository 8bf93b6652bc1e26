"""Darwin Core Archive (occurrence core) for samples and strains, as GBIF ingests it.

The zip holds ``occurrence.txt`` (tab-separated, UTF-8, one header line, no quoting),
``meta.xml`` (the Darwin Core text guide descriptor) and ``eml.xml`` (an EML 2.1.1 dataset,
GBIF metadata profile). The service never feeds restricted records to this writer: a
GBIF-bound archive is public by nature.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from xml.etree import ElementTree as ET

from lanhai.exports.common import (
    Batch,
    ByteSink,
    DatasetInfo,
    ExportOptions,
    known_value,
    number_text,
    spreadsheet_safe,
)
from lanhai.kinds import KindSpec
from lanhai.model import Record

DWC = "http://rs.tdwg.org/dwc/terms/"
DWC_TEXT = "http://rs.tdwg.org/dwc/text/"
EML = "eml://ecoinformatics.org/eml-2.1.1"
OCCURRENCE = DWC + "Occurrence"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
EML_SCHEMA = "http://rs.gbif.org/schema/eml-gbif-profile/1.2/eml.xsd"

#: NCBI Taxonomy names of the metagenome taxa marine samples carry
#: (https://www.ncbi.nlm.nih.gov/Taxonomy/Browser/wwwtax.cgi?id=408172 …)
METAGENOME_NAMES = {
    256318: "metagenome",
    408172: "marine metagenome",
    412755: "marine sediment metagenome",
}

#: licences GBIF accepts, with the text and URL eml.xml cites
LICENSES = {
    "CC0-1.0": ("Public Domain (CC0 1.0)",
                "http://creativecommons.org/publicdomain/zero/1.0/legalcode"),
    "CC-BY-4.0": ("Creative Commons Attribution (CC-BY) 4.0 License",
                  "http://creativecommons.org/licenses/by/4.0/legalcode"),
    "CC-BY-NC-4.0": ("Creative Commons Attribution Non Commercial (CC-BY-NC) 4.0 License",
                     "http://creativecommons.org/licenses/by-nc/4.0/legalcode"),
}

SAMPLE_TERMS = (
    "occurrenceID", "basisOfRecord", "occurrenceStatus", "materialSampleID", "datasetName",
    "eventDate", "samplingProtocol", "decimalLatitude", "decimalLongitude", "geodeticDatum",
    "minimumDepthInMeters", "maximumDepthInMeters", "waterBody", "country", "locality",
    "habitat", "taxonID", "scientificName", "associatedSequences", "occurrenceRemarks",
)
STRAIN_TERMS = (
    "occurrenceID", "basisOfRecord", "occurrenceStatus", "institutionCode", "collectionCode",
    "catalogNumber", "otherCatalogNumbers", "scientificName", "taxonID", "typeStatus",
    "eventDate", "recordedBy", "decimalLatitude", "decimalLongitude", "geodeticDatum",
    "waterBody", "country", "locality", "habitat", "preparations", "associatedSequences",
    "occurrenceRemarks",
)


def _text(value: Any) -> str:
    """A cell: missing terms blank, numbers plain, tabs and line breaks flattened."""
    value = known_value(value)
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return number_text(value)
    return re.sub(r"[\t\r\n]+", " ", str(value)).strip()


def place(geo_loc_name: Any) -> dict[str, str]:
    """INSDC 'Country: region' -> country (or waterBody for an ocean or sea) and locality."""
    text = _text(geo_loc_name)
    if not text:
        return {}
    head, _, rest = text.partition(":")
    head, rest = head.strip(), rest.strip()
    out = {"locality": rest} if rest else {}
    if re.search(r"\b(Ocean|Sea)$", head):
        out["waterBody"] = head
    else:
        out["country"] = head
    return out


def _coordinates(fields: dict[str, Any]) -> dict[str, str]:
    lat, lon = known_value(fields.get("latitude")), known_value(fields.get("longitude"))
    if lat is None or lon is None:
        return {}
    return {"decimalLatitude": number_text(lat), "decimalLongitude": number_text(lon),
            "geodeticDatum": "WGS84"}


def _envo_habitat(fields: dict[str, Any]) -> str:
    terms = [_text(fields.get(name)) for name in ("env_broad_scale", "env_local_scale",
                                                  "env_medium")]
    return " | ".join(t for t in dict.fromkeys(terms) if t)


def sample_row(record: Record) -> dict[str, str]:
    """Darwin Core terms of a MIxS sample."""
    f = record.fields
    row = {"occurrenceID": record.accession, "basisOfRecord": "MaterialSample",
           "occurrenceStatus": "present",
           "materialSampleID": _text(f.get("biosample")) or
           f"{_text(f.get('project_name'))}:{_text(f.get('samp_name'))}".strip(":"),
           "datasetName": _text(f.get("project_name")),
           "eventDate": _text(f.get("collection_date")),
           "samplingProtocol": _text(f.get("samp_collect_device")),
           "habitat": _envo_habitat(f),
           "associatedSequences": " | ".join(
               v for v in (_text(f.get("biosample")), _text(f.get("insdc_sample"))) if v),
           "occurrenceRemarks": _text(f.get("description")),
           **_coordinates(f), **place(f.get("geo_loc_name"))}
    depth = known_value(f.get("depth"))
    if isinstance(depth, list):
        row["minimumDepthInMeters"] = number_text(depth[0])
        row["maximumDepthInMeters"] = number_text(depth[1])
    taxid = known_value(f.get("samp_taxon_id"))
    if isinstance(taxid, int):
        row["taxonID"] = f"NCBI:txid{taxid}"
        row["scientificName"] = METAGENOME_NAMES.get(taxid, "")
    return row


def collection_code(number: str) -> str:
    """'DSM 12802' -> 'DSM' (the acronym before the number), else ''."""
    match = re.match(r"^([A-Za-z][A-Za-z\-]*)\s", number)
    return match[1].upper() if match else ""


def strain_row(record: Record) -> dict[str, str]:
    """Darwin Core terms of a MIRRI strain (a living specimen in a culture collection)."""
    f = record.fields
    numbers = [_text(n) for n in f.get("collection_numbers", []) if _text(n)]
    code = collection_code(numbers[0]) if numbers else ""
    row = {"occurrenceID": record.accession, "basisOfRecord": "LivingSpecimen",
           "occurrenceStatus": "present", "institutionCode": code, "collectionCode": code,
           "catalogNumber": numbers[0] if numbers else _text(f.get("strain_designation")),
           "otherCatalogNumbers": " | ".join(numbers[1:]),
           "scientificName": _text(f.get("taxon_name")),
           "typeStatus": "type strain" if f.get("type_strain") is True else "",
           "eventDate": _text(f.get("isolation_date")),
           "recordedBy": _text(f.get("isolator")),
           "habitat": _text(f.get("isolation_habitat")),
           "preparations": " | ".join(_text(v) for v in f.get("form_of_supply", [])),
           "associatedSequences": " | ".join(_text(v) for v in f.get("sequence_accessions", [])),
           "occurrenceRemarks": _text(f.get("description")),
           **_coordinates(f), **place(f.get("geographic_origin"))}
    taxid = known_value(f.get("taxid"))
    if isinstance(taxid, int):
        row["taxonID"] = f"NCBI:txid{taxid}"
    return row


MAPPINGS: dict[str, tuple[tuple[str, ...], Callable[[Record], dict[str, str]]]] = {
    "sample": (SAMPLE_TERMS, sample_row),
    "strain": (STRAIN_TERMS, strain_row),
}


def meta_xml(terms: Iterable[str]) -> bytes:
    """The archive descriptor: occurrence core, id in column 0, one field per term."""
    ET.register_namespace("", DWC_TEXT)
    archive = ET.Element(f"{{{DWC_TEXT}}}archive", {"metadata": "eml.xml"})
    core = ET.SubElement(archive, f"{{{DWC_TEXT}}}core", {
        "encoding": "UTF-8", "fieldsTerminatedBy": "\\t", "linesTerminatedBy": "\\n",
        "fieldsEnclosedBy": "", "ignoreHeaderLines": "1", "rowType": OCCURRENCE})
    files = ET.SubElement(core, f"{{{DWC_TEXT}}}files")
    ET.SubElement(files, f"{{{DWC_TEXT}}}location").text = "occurrence.txt"
    ET.SubElement(core, f"{{{DWC_TEXT}}}id", {"index": "0"})
    for index, term in enumerate(terms):
        ET.SubElement(core, f"{{{DWC_TEXT}}}field", {"index": str(index), "term": DWC + term})
    ET.indent(archive)
    return bytes(ET.tostring(archive, encoding="UTF-8", xml_declaration=True)) + b"\n"


def eml_xml(spec: KindSpec, info: DatasetInfo, records: int, today: dt.date) -> bytes:
    """An EML 2.1.1 dataset: title, creator, pubDate, abstract, rights, contact."""
    ET.register_namespace("eml", EML)
    ET.register_namespace("xsi", XSI)
    xml_lang = "{http://www.w3.org/XML/1998/namespace}lang"
    root = ET.Element(f"{{{EML}}}eml", {
        "packageId": f"lanhai-{spec.name}-{today.isoformat()}", "system": "http://gbif.org",
        "scope": "system", xml_lang: "eng",
        f"{{{XSI}}}schemaLocation": f"{EML} {EML_SCHEMA}"})
    dataset = ET.SubElement(root, "dataset")
    title = info.title or f"Lanhai marine bioresource bank: {spec.title.lower()}s"
    ET.SubElement(dataset, "title", {xml_lang: "eng"}).text = title
    party = _party(info)
    dataset.append(_named("creator", party))
    ET.SubElement(dataset, "pubDate").text = today.isoformat()
    ET.SubElement(dataset, "language").text = "eng"
    abstract = ET.SubElement(dataset, "abstract")
    ET.SubElement(abstract, "para").text = info.abstract or (
        f"{records} {spec.title.lower()} record(s) exported from a Lanhai bank "
        f"({spec.standard}), mapped to Darwin Core occurrences. Restricted records are "
        "never included.")
    label, url = LICENSES.get(info.license, LICENSES["CC-BY-4.0"])
    rights = ET.SubElement(ET.SubElement(dataset, "intellectualRights"), "para")
    rights.text = "This work is licensed under a "
    link = ET.SubElement(rights, "ulink", {"url": url})
    ET.SubElement(link, "citetitle").text = label
    link.tail = "."
    dataset.append(_named("contact", party))
    ET.indent(root)
    link.text, link[0].tail = None, None  # keep the mixed-content paragraph on one line
    return bytes(ET.tostring(root, encoding="UTF-8", xml_declaration=True)) + b"\n"


def _party(info: DatasetInfo) -> list[ET.Element]:
    org = ET.Element("organizationName")
    org.text = info.creator or "Lanhai marine bioresource bank"
    parts = [org]
    if info.contact_email:
        mail = ET.Element("electronicMailAddress")
        mail.text = info.contact_email
        parts.append(mail)
    return parts


def _named(tag: str, children: list[ET.Element]) -> ET.Element:
    element = ET.Element(tag)
    for child in children:
        copy = ET.SubElement(element, child.tag)
        copy.text = child.text
    return element


def write_dwca(spec: KindSpec, batches: Iterable[Batch], options: ExportOptions,
               today: dt.date | None = None) -> Iterator[bytes]:
    """The archive as zip bytes, streamed: occurrence rows are compressed batch by batch."""
    terms, mapping = MAPPINGS[spec.name]
    sink = ByteSink()
    count = 0
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("meta.xml", meta_xml(terms))
        with archive.open("occurrence.txt", "w", force_zip64=True) as occurrences:
            occurrences.write(("\t".join(terms) + "\n").encode("utf-8"))
            for batch in batches:
                lines = []
                for item in batch:
                    if item.record.restricted:  # defence in depth: never public
                        continue
                    values = mapping(item.record)
                    lines.append("\t".join(spreadsheet_safe(values.get(t, "")) for t in terms)
                                 + "\n")
                    count += 1
                occurrences.write("".join(lines).encode("utf-8"))
                yield sink.drain()
        archive.writestr("eml.xml", eml_xml(spec, options.dataset, count,
                                            today or dt.date.today()))
    yield sink.drain()
