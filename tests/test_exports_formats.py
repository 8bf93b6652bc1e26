"""The standard formats read back with their own tools: a Darwin Core Archive (zip, meta.xml,
occurrence.txt, EML), MCPD v2.1 CSV, SBOL3 validated by pySBOL3, and history CSV/JSON."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from xml.etree import ElementTree as ET

import pytest
import sbol3
from sqlalchemy import Engine

from lanhai.errors import UsageError
from lanhai.exports import DatasetInfo, ExportOptions
from lanhai.exports.dwca import place
from lanhai.exports.history import COLUMNS, write_history
from lanhai.exports.mcpd import COLUMNS as MCPD_COLUMNS
from lanhai.exports.mcpd import dms, mcpd_date
from lanhai.services.access import Actor
from tests.support import ADMIN, CURATOR, READER, SAMPLE, ZOBELLIA, catalog_on, exports_on
from tests.support.data_files import GERMPLASM, PART, csv_rows, export_text

DWC = "http://rs.tdwg.org/dwc/terms/"
TEXT = "{http://rs.tdwg.org/dwc/text/}"
EML = "eml://ecoinformatics.org/eml-2.1.1"


def export_bytes(engine: Engine, actor: Actor, kind: str, fmt: str,
                 options: ExportOptions | None = None) -> bytes:
    out = io.BytesIO()
    exports_on(engine).write(actor, kind, fmt, out, options=options)
    return out.getvalue()


def read_dwca(data: bytes) -> tuple[ET.Element, list[dict[str, str]], ET.Element]:
    """meta.xml core, occurrence rows keyed by term URI (as a DwC-A reader does), eml root."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert sorted(archive.namelist()) == ["eml.xml", "meta.xml", "occurrence.txt"]
    meta = ET.fromstring(archive.read("meta.xml"))
    assert meta.tag == f"{TEXT}archive" and meta.get("metadata") == "eml.xml"
    core = meta.find(f"{TEXT}core")
    assert core is not None
    terms = {int(f.get("index", -1)): f.get("term", "") for f in core.findall(f"{TEXT}field")}
    lines = archive.read("occurrence.txt").decode("utf-8").split("\n")
    assert lines[-1] == ""
    rows = [dict(zip([terms[i] for i in range(len(terms))], line.split("\t"), strict=True))
            for line in lines[int(core.get("ignoreHeaderLines", "0")):-1]]
    return core, rows, ET.fromstring(archive.read("eml.xml"))


def test_dwca_of_samples(engine: Engine) -> None:
    catalog = catalog_on(engine)
    sample = catalog.create(CURATOR, "sample", {
        **SAMPLE, "biosample": "SAMEA2620084", "collection_date": "2014-06",
        "depth": "0-5 m", "description": "surface\tnet tow"})
    sargasso = catalog.create(CURATOR, "sample", {
        **SAMPLE, "samp_name": "BATS", "geo_loc_name": "Atlantic Ocean: Sargasso Sea",
        "samp_taxon_id": "1234567", "depth": "200 m"})
    catalog.create(CURATOR, "sample", {**SAMPLE, "samp_name": "hidden", "restricted": "yes"})
    info = DatasetInfo(title="OSD 2014 samples", creator="Qingdao marine gene bank",
                       contact_email="curator@example.org")
    core, rows, eml = read_dwca(export_bytes(engine, ADMIN, "sample", "dwca",
                                             ExportOptions(dataset=info)))
    assert core.get("rowType") == DWC + "Occurrence"
    assert core.get("encoding") == "UTF-8" and core.get("fieldsTerminatedBy") == "\\t"
    assert core.get("linesTerminatedBy") == "\\n" and core.get("ignoreHeaderLines") == "1"
    assert core.find(f"{TEXT}id").get("index") == "0"  # type: ignore[union-attr]
    assert core.find(f"{TEXT}files/{TEXT}location").text == "occurrence.txt"  # type: ignore[union-attr]
    assert [r[DWC + "occurrenceID"] for r in rows] == [sample.accession, sargasso.accession]
    first, second = rows
    assert first[DWC + "basisOfRecord"] == "MaterialSample"
    assert first[DWC + "materialSampleID"] == "SAMEA2620084"
    assert first[DWC + "eventDate"] == "2014-06"
    assert (first[DWC + "decimalLatitude"], first[DWC + "decimalLongitude"]) == ("50.25", "-4.22")
    assert first[DWC + "geodeticDatum"] == "WGS84"
    assert (first[DWC + "minimumDepthInMeters"], first[DWC + "maximumDepthInMeters"]) == (
        "0", "5")
    assert first[DWC + "country"] == "United Kingdom"
    assert first[DWC + "locality"] == "Western English Channel"
    assert first[DWC + "taxonID"] == "NCBI:txid408172"
    assert first[DWC + "scientificName"] == "marine metagenome"
    assert first[DWC + "associatedSequences"] == "SAMEA2620084"
    assert "sea water [ENVO:00002149]" in first[DWC + "habitat"]
    assert first[DWC + "occurrenceRemarks"] == "surface net tow"
    assert second[DWC + "waterBody"] == "Atlantic Ocean" and second[DWC + "country"] == ""
    assert second[DWC + "locality"] == "Sargasso Sea"
    # a taxid we cannot name without NCBI: taxonID only, no invented name
    assert second[DWC + "taxonID"] == "NCBI:txid1234567" and second[DWC + "scientificName"] == ""
    assert eml.tag == f"{{{EML}}}eml"
    dataset = eml.find("dataset")
    assert dataset is not None
    assert dataset.findtext("title") == "OSD 2014 samples"
    assert dataset.findtext("creator/organizationName") == "Qingdao marine gene bank"
    assert dataset.findtext("contact/electronicMailAddress") == "curator@example.org"
    assert dataset.findtext("pubDate") and dataset.findtext("abstract/para")
    assert "CC-BY" in "".join(dataset.find("intellectualRights").itertext())  # type: ignore[union-attr]
    order = [child.tag for child in dataset]
    assert order.index("title") < order.index("creator") < order.index("pubDate") \
        < order.index("abstract") < order.index("intellectualRights") < order.index("contact")


def test_dwca_of_strains_never_includes_restricted_records(engine: Engine) -> None:
    catalog = catalog_on(engine)
    strain = catalog.create(CURATOR, "strain", {
        **ZOBELLIA, "type_strain": "yes", "taxid": "63186", "latitude": "48.72",
        "longitude": "-3.98", "isolator": "Potin P.", "sequence_accessions": "AF136841"})
    catalog.create(CURATOR, "strain", {**ZOBELLIA, "collection_numbers": "MCCC 1A00001",
                                       "strain_designation": "X1", "restricted": "yes"})
    for actor in (ADMIN, CURATOR, READER):
        _, rows, _ = read_dwca(export_bytes(engine, actor, "strain", "dwca"))
        assert [r[DWC + "occurrenceID"] for r in rows] == [strain.accession]
    [row] = rows
    assert row[DWC + "basisOfRecord"] == "LivingSpecimen"
    assert row[DWC + "catalogNumber"] == "DSM 12802"
    assert row[DWC + "otherCatalogNumbers"] == "CIP 106680"
    assert row[DWC + "institutionCode"] == "DSM" and row[DWC + "collectionCode"] == "DSM"
    assert row[DWC + "scientificName"] == "Zobellia galactanivorans"
    assert row[DWC + "taxonID"] == "NCBI:txid63186"
    assert row[DWC + "typeStatus"] == "type strain"
    assert (row[DWC + "country"], row[DWC + "locality"]) == ("France", "Roscoff")
    assert row[DWC + "decimalLatitude"] == "48.72" and row[DWC + "geodeticDatum"] == "WGS84"
    assert row[DWC + "habitat"] == "red alga Delesseria sanguinea"
    assert row[DWC + "recordedBy"] == "Potin P." and row[DWC + "preparations"] == "Lyo"


def test_place_splits_insdc_country_and_region() -> None:
    assert place("China: Qingdao, Jiaozhou Bay") == {"country": "China",
                                                     "locality": "Qingdao, Jiaozhou Bay"}
    assert place("Pacific Ocean") == {"waterBody": "Pacific Ocean"}
    assert place("not provided") == {}


def test_mcpd_columns_dates_and_codes(engine: Engine) -> None:
    catalog = catalog_on(engine)
    record = catalog.create(CURATOR, "germplasm", {**GERMPLASM,
                                                   "description": "from Galicia; maize"})
    catalog.create(CURATOR, "germplasm", {**GERMPLASM, "accenumb": "BGE005837",
                                          "species": "not provided", "acqdate": "2019-03",
                                          "identifiers": "DSM 5"})
    text = export_text(engine, READER, "germplasm", "mcpd")
    assert text.splitlines()[0] == ",".join(MCPD_COLUMNS)
    first, second = csv_rows(text)
    assert list(first) == list(MCPD_COLUMNS)
    assert (first["INSTCODE"], first["ACCENUMB"], first["GENUS"], first["SPECIES"]) == (
        "ESP004", "BGE005836", "Zea", "mays")
    assert first["SUBTAXA"] == "subsp. mays" and first["SAMPSTAT"] == "300"
    assert first["ACQDATE"] == "1981----" and first["COLLDATE"] == "19811031"
    assert first["DECLATITUDE"] == "42.9358333" and first["DECLONGITUDE"] == "-9.2655556"
    assert first["LATITUDE"] == "425609N" and first["LONGITUDE"] == "0091556W"
    assert first["COORDDATUM"] == "WGS84" and first["ORIGCTY"] == "ESP"
    assert first["STORAGE"] == "13;20" and first["MLSSTAT"] == "1"
    assert first["OTHERNUMB"] == "ESP058:CIAM81001"
    assert first["REMARKS"] == f"LANHAI:{record.accession};from Galicia, maize"
    assert second["ACQDATE"] == "201903--" and second["SPECIES"] == "sp."
    assert second["OTHERNUMB"] == ":DSM 5"


def test_mcpd_helpers() -> None:
    assert mcpd_date("1981") == "1981----" and mcpd_date("2019-03-15T10:00") == "20190315"
    assert mcpd_date("2010-05/2010-06") == "201005--" and mcpd_date("not collected") == ""
    assert dms(-12.5, "N", "S", 2) == "123000S" and dms(0.99999, "E", "W", 3) == "0010000E"


def _validated(text: str, file_format: str) -> sbol3.Document:
    doc = sbol3.Document()
    doc.read_string(text, file_format)
    report = doc.validate()
    assert [str(e) for e in report.errors] == [] and [str(w) for w in report.warnings] == []
    return doc


def test_sbol3_validates_and_reads_back_the_same_sequences(engine: Engine) -> None:
    catalog = catalog_on(engine)
    dna = catalog.create(CURATOR, "part", {**PART, "description": "Anderson promoter"})
    protein = catalog.create(CURATOR, "part", {
        "display_id": "ZgAgaA", "part_name": "beta-agarase AgaA (fragment)",
        "part_type": "protein", "role": "SO:0000316", "sequence": "MKLTKLSLLAGLAVASNTFAQ"})
    text = export_bytes(engine, READER, "part", "sbol3").decode("utf-8")
    doc = _validated(text, sbol3.TURTLE)
    component = doc.find("https://w3id.org/lanhai/BBa_J23119")
    assert isinstance(component, sbol3.Component)
    assert component.display_id == "BBa_J23119" and component.name == PART["part_name"]
    assert component.description == "Anderson promoter"
    assert list(component.types) == [sbol3.SBO_DNA]
    assert list(component.roles) == ["https://identifiers.org/SO:0000167"]
    [seq_uri] = component.sequences
    sequence = doc.find(str(seq_uri))
    assert isinstance(sequence, sbol3.Sequence)
    assert sequence.elements == dna.fields["sequence"]
    assert sequence.encoding == "https://identifiers.org/edam:format_1207"
    prot = doc.find("https://w3id.org/lanhai/ZgAgaA")
    assert isinstance(prot, sbol3.Component) and list(prot.types) == [sbol3.SBO_PROTEIN]
    prot_seq = doc.find(str(prot.sequences[0]))
    assert isinstance(prot_seq, sbol3.Sequence)
    assert prot_seq.elements == protein.fields["sequence"]
    assert prot_seq.encoding == "https://identifiers.org/edam:format_1208"
    assert f'"{dna.accession}"' in text  # dcterms:identifier, the Lanhai accession


def test_sbol3_provenance_namespace_and_serialisations(engine: Engine) -> None:
    catalog = catalog_on(engine)
    assembly = catalog.create(CURATOR, "assembly", {
        "assembly_name": "Zobellia galactanivorans DsijT", "assembly_type": "isolate genome",
        "seq_meth": "Sanger", "assembly_software": "Phred/Phrap"})
    part = catalog.create(CURATOR, "part", PART)
    catalog.create(CURATOR, "part", {**PART, "display_id": "BBa_J23100"})
    catalog.link(CURATOR, assembly.accession, "mined_from", part.accession)
    namespace = "https://bank.example.org/parts"
    text = export_bytes(engine, READER, "part", "sbol3",
                        ExportOptions(sbol_namespace=namespace + "/")).decode()
    doc = _validated(text, sbol3.TURTLE)
    mined = doc.find(f"{namespace}/BBa_J23119")
    assert isinstance(mined, sbol3.Component)
    assert mined.namespace == namespace
    assert list(mined.derived_from) == [f"{namespace}/{assembly.accession}"]
    other = doc.find(f"{namespace}/BBa_J23100")
    assert isinstance(other, sbol3.Component) and list(other.derived_from) == []
    for name, file_format in (("rdf-xml", sbol3.RDF_XML), ("json-ld", sbol3.JSONLD),
                              ("n-triples", sbol3.NTRIPLES)):
        data = export_bytes(engine, READER, "part", "sbol3", ExportOptions(rdf_format=name))
        assert len(_validated(data.decode(), file_format).objects) == 4
    with pytest.raises(UsageError, match="not an http"):
        export_bytes(engine, READER, "part", "sbol3", ExportOptions(sbol_namespace="lanhai"))
    with pytest.raises(UsageError, match="unknown SBOL3 serialisation"):
        export_bytes(engine, READER, "part", "sbol3", ExportOptions(rdf_format="n3"))


def test_history_csv_has_one_line_per_changed_field(engine: Engine) -> None:
    catalog = catalog_on(engine)
    strain = catalog.create(CURATOR, "strain", ZOBELLIA, note="from DSMZ catalogue")
    catalog.update(CURATOR, strain.accession, {"recommended_temperature": "25",
                                               "status": "available"})
    versions = catalog.history(READER, strain.accession)
    out = io.StringIO(newline="")
    count = write_history(versions, "csv", out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert tuple(rows[0]) == COLUMNS and count == len(rows)
    created = [r for r in rows if r["version"] == "1"]
    assert len(created) == len(versions[0].changes)
    assert all(r["action"] == "create" and r["changed_by"] == "ana" and
               r["note"] == "from DSMZ catalogue" for r in created)
    assert {"field": "collection_numbers", "old": "",
            "new": '["DSM 12802", "CIP 106680"]'}.items() <= next(
        r for r in created if r["field"] == "collection_numbers").items()
    changed = [(r["field"], r["old"], r["new"]) for r in rows if r["version"] == "2"]
    assert changed == [("recommended_temperature", "[20.0, 25.0]", "[25.0, 25.0]"),
                       ("status", "", "available")]
    assert rows[-1]["changed_at"] == versions[-1].changed_at.isoformat()
    binary = io.BytesIO()
    write_history(versions, "json", binary)
    assert json.loads(binary.getvalue()) == [v.to_dict() for v in versions]
    with pytest.raises(UsageError, match="csv, json"):
        write_history(versions, "xml", binary)


def test_a_readers_history_export_leaves_out_links_to_records_they_may_not_see(
        engine: Engine) -> None:
    catalog = catalog_on(engine)
    strain = catalog.create(CURATOR, "strain", ZOBELLIA)
    deposit = catalog.create(CURATOR, "deposit", {
        "deposit_accession": "CGMCC No. 99999", "depositary": "CGMCC",
        "deposit_date": "2020-02-29", "depositor": "lab", "rule_6_1_statement": "pure"})
    catalog.link(CURATOR, strain.accession, "deposited_as", deposit.accession)
    for actor, shown in ((CURATOR, ["create", "link"]), (READER, ["create"])):
        versions = catalog.history(actor, strain.accession)
        assert [v.action for v in versions] == shown
        out = io.StringIO()
        write_history(versions, "csv", out)
        assert (deposit.accession in out.getvalue()) is (actor is CURATOR)
