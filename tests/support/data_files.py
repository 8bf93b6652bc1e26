"""Files the import, export and breeding tests write or read."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import openpyxl
from sqlalchemy import Engine

from lanhai.exports import ExportOptions
from lanhai.imports import ImportReport
from lanhai.services.access import Actor
from tests.support import CURATOR, catalog_on, exports_on

TESTS = Path(__file__).resolve().parents[1]
IMPORTS = TESTS / "data" / "imports"
BATS = IMPORTS / "bats_samples.tsv"
BREEDING = TESTS / "data" / "breeding"
PEDIGREE = BREEDING / "simfish_pedigree.csv"

#: a patent deposit with its Budapest lifecycle events
DEPOSIT_WITH_EVENTS = {
    "deposit_accession": "CGMCC No. 99999", "depositary": "CGMCC",
    "deposit_date": "2020-02-29", "depositor": "Lanhai test lab",
    "rule_6_1_statement": "pure culture", "taxon_name": "Zobellia galactanivorans",
    "receipts": '[{"date": "2020-03-02", "form": "BP/4"}]',
    "viability_tests": '[{"date": "2020-03-10", "result": "viable"}]',
}
#: a row of the Vavilov Institute's MCPD example (shared/data/catalog/germplasm/)
GERMPLASM = {
    "instcode": "ESP004", "accenumb": "BGE005836", "genus": "Zea", "species": "mays",
    "spauthor": "L.", "subtaxa": "subsp. mays", "cropname": "Maiz", "accename": "Millo do pais",
    "sampstat": "300", "origcty": "ESP", "acqdate": "1981", "storage": "13;20",
    "latitude": "42.93583333333333", "longitude": "-9.265555555555556", "colldate": "19811031",
    "ancest": "cruze_de cosas", "identifiers": "ESP058:CIAM81001", "mlsstat": "yes",
}
PART = {
    "display_id": "BBa_J23119", "part_name": "J23119 constitutive promoter", "part_type": "DNA",
    "role": "promoter", "sequence": "TTGACAGCTAGCTCAGTCCTAGGTATAATGCTAGC",
    "source": "iGEM Registry (Anderson promoter collection)",
}

#: a fish line as a germplasm record (FAO MCPD v2.1 fields)
CROAKER = {"instcode": "CHN121", "accenumb": "LC-2024-01", "genus": "Larimichthys",
           "species": "crocea", "accename": "Large yellow croaker line G3", "sampstat": "410",
           "origcty": "CHN", "acqdate": "2024", "storage": "99"}
ONE_STRAIN = {"taxon_name": "Zobellia galactanivorans", "strain_designation": "DsijT",
              "collection_numbers": "DSM 12802", "organism_type": "Bacteria",
              "restrictions_on_use": "1", "nagoya_compliance": "1", "risk_group": "1",
              "risk_group_scheme": "WHO", "recommended_temperature": "25",
              "recommended_medium": "Marine agar 2216", "form_of_supply": "Lyo",
              "geographic_origin": "France: Roscoff", "isolation_habitat": "red alga"}


def cells(report: ImportReport) -> list[tuple[int | None, str | None]]:
    """(row, column) of every problem, in report order."""
    return [(p.row, p.column) for p in report.problems]


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def bats_workbook(path: Path, sheet: str = "samples") -> None:
    """The BATS slice as a workbook: numbers as numbers, dates as dates."""
    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    first.title = "notes"
    first["A1"] = "BATS samples, planet-microbe BATS_Chisholm/NCBI_samples.tsv"
    sheet_ = book.create_sheet(sheet)
    lines = BATS.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    sheet_.append(header)
    for line in lines[1:]:
        values: list[Any] = [v.strip('"') for v in line.split("\t")]
        values[header.index("collection_date")] = dt.datetime.strptime(
            values[header.index("collection_date")], "%d-%m-%Y")
        for name in ("depth", "lat", "Lon", "bottle_id"):
            values[header.index(name)] = float(values[header.index(name)])
        sheet_.append(values)
    book.save(path)


def export_text(engine: Engine, actor: Actor, kind: str, fmt: str, *where: str,
                query: str | None = None, **options: Any) -> str:
    """An export as the caller gets it, decoded."""
    out = io.BytesIO()
    exports_on(engine).write(actor, kind, fmt, out, where, query,
                             options=ExportOptions(**options))
    return out.getvalue().decode("utf-8")


def csv_rows(text: str, delimiter: str = ",") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))


def germplasm_lines(engine: Engine) -> dict[str, str]:
    """Two fish lines (one restricted) and a strain, for the breeding germplasm checks."""
    service = catalog_on(engine)
    return {
        "line": service.create(CURATOR, "germplasm", CROAKER).accession,
        "secret": service.create(CURATOR, "germplasm", {**CROAKER, "accenumb": "LC-2024-02",
                                                        "restricted": "yes"}).accession,
        "strain": service.create(CURATOR, "strain", ONE_STRAIN).accession,
    }


def pedigree_with(tmp_path: Path, accessions: dict[int, str]) -> Path:
    """The simfish pedigree with an accession column (file row → value)."""
    lines = PEDIGREE.read_text().splitlines()
    out = [lines[0] + ",accession"]
    for row, line in enumerate(lines[1:], 2):
        out.append(f"{line},{accessions.get(row, '')}")
    path = tmp_path / "pedigree.csv"
    path.write_text("\n".join(out) + "\n")
    return path
