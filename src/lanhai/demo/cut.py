"""Cut the demo's small files from the full public tables (a maintainer's tool).

``python -m lanhai.demo.cut SOURCE_DIR [OUT_DIR]`` reads the catalogue folder described in
``data/PROVENANCE.md`` (files as listed in its SOURCES.tsv) and writes the cuts the demo
ships, with the documented Zobellia genes from the ``cazy`` folder beside it when present
(the sequence and breeding files are whole copies; PROVENANCE.md names them). Rows are
copied byte for byte (header line first, original line endings); only the choice of rows is
ours, and every rule is written here and in PROVENANCE.md.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import shutil
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from lanhai.demo.sources import data_dir
from lanhai.kinds.vocab import FieldError, ValueContext, collection_numbers, partial_date

Row = dict[str, str]

#: ENVO materials of the OSD rows kept: sea waters only, so 408172 'marine metagenome' holds
OSD_MARINE_MATERIALS = frozenset({"sea water", "coastal sea water", "oligotrophic water",
                                  "mesotrophic water", "saline water"})
#: producer genera of the MIBiG cut (the marine producers named in SOURCES.tsv)
MIBIG_MARINE_GENERA = frozenset({"Salinispora", "Pseudoalteromonas", "Vibrio", "Moorena",
                                 "Moorea", "Lyngbya", "Verrucosispora"})
#: genera kept from IJSEM whatever the year: those with a proteome in ../cazy/proteomes
IJSEM_PROTEOME_GENERA = frozenset({"Zobellia", "Maribacter", "Muricauda"})
IJSEM_FROM_YEAR = 2011
#: MIBiG gene clusters the demo ships as sequences (GenBank): their compounds are cut too
MIBIG_SHIPPED_CLUSTERS = frozenset({"BGC0001377"})
#: dbCAN-PUL's organism name of the strain whose proteome the demo ships
DBCAN_PUL_ORGANISM = "Zobellia galactanivorans"
CMNPD_ROWS = 200
MAG_ROWS = 300


def _lines(raw: bytes) -> list[bytes]:
    """Physical lines with their endings kept (LF, CRLF or CR-only)."""
    return [m.group(0) for m in re.finditer(rb"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", raw)]


def _read(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def _parse(line: bytes, encoding: str, delimiter: str) -> list[str]:
    return next(csv.reader(io.StringIO(line.decode(encoding).rstrip("\r\n")),
                           delimiter=delimiter))


def cut_table(source: Path, target: Path, keep: Callable[[Row], bool], *,
              delimiter: str, encoding: str = "utf-8",
              finish: Callable[[list[Row]], list[int]] | None = None) -> int:
    """Copy the header and the rows ``keep`` accepts (then ``finish`` may drop more)."""
    lines = _lines(_read(source))
    header = _parse(lines[0], encoding, delimiter)
    rows = [dict(zip(header, _parse(line, encoding, delimiter), strict=False))
            for line in lines[1:]]
    chosen = [i for i, row in enumerate(rows) if keep(row)]
    if finish is not None:
        chosen = [chosen[i] for i in finish([rows[i] for i in chosen])]
    ending = re.search(rb"(\r\n|\r|\n)$", lines[0])
    eol = ending.group(1) if ending else b"\n"
    out = [lines[0]] + [lines[i + 1] for i in chosen]
    out = [line if line.endswith((b"\n", b"\r")) else line + eol for line in out]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"".join(out))
    return len(chosen)


# --- samples -------------------------------------------------------------------------------

OSD_REQUIRED = ("Country, closest", "Locality, region", "Biome", "purl_biome", "Env feature",
                "purl_feature", "Material", "purl_material")


def _osd_marine(row: Row) -> bool:
    return (row["Material"] in OSD_MARINE_MATERIALS
            and not row["Biome"].lower().startswith(("freshwater", "large lake"))
            and all(row[c].strip() for c in OSD_REQUIRED))


def _tara_measured(row: Row) -> bool:
    """Sensor cells are numbers ('nd', not determined, is reported, not read as blank)."""
    return all(_number(row[c]) for c in ("Temperature", "Salinity Sensor"))


def _envo(label: str, purl: str) -> tuple[str, str]:
    return label.strip(), purl.rsplit("_", 1)[-1]


def _envo_inline(value: str) -> tuple[str, str]:
    match = re.search(r"ENVO:(\d+)", value)
    return re.sub(r"\s*ENVO:\d+", "", value).strip(), match[1] if match else ""


def osd_agrees(osd: Row, vliz: Row) -> bool:
    """True when both OSD tables give the same MIxS core values for one BioSample."""
    return (osd["Sample ID"] == vliz["sampleID_ENA"]
            and osd["Sample label (ENA)"] == vliz["SampleAssessionNumber"]
            and osd["Date/Time"] == vliz["DateTime"]
            and osd["Latitude"] == vliz["Latitude"] and osd["Longitude"] == vliz["Longitude"]
            and osd["Depth"] == vliz["Depth"] and vliz["Depth_unit"] == "m"
            and osd["Country, closest"] == vliz["Country"]
            and osd["Locality, region"] == vliz["MarineRegion"]
            and _envo(osd["Biome"], osd["purl_biome"]) == _envo_inline(vliz["ENVIRO_Biome"])
            and _envo(osd["Env feature"], osd["purl_feature"])
            == _envo_inline(vliz["ENVIRO_Feature"])
            and _envo(osd["Material"], osd["purl_material"])
            == _envo_inline(vliz["ENVIRO_Material"])
            and _same_number(osd["Temp"], vliz["Temperature"])
            and _same_number(osd["Sal"], vliz["Salinity"]))


def _same_number(a: str, b: str) -> bool:
    try:
        return float(a) == float(b)
    except ValueError:
        return a.strip() == b.strip()


def _valid_time(value: str) -> bool:
    try:
        partial_date(value, ValueContext(), "collection_date")
    except FieldError:
        return False
    return True


def _first_per_biosample(rows: list[Row]) -> list[int]:
    seen: set[str] = set()
    out = []
    for i, row in enumerate(rows):
        if row["biosample"] not in seen:
            seen.add(row["biosample"])
            out.append(i)
    return out


def cut_samples(src: Path, out: Path) -> dict[str, int]:
    osd_rows = _rows(src / "samples/planetmicrobe_OSD2014_osd_sample.tsv", "\t")
    kept_osd = {r["Sample label (BioSample)"]: r for r in osd_rows if _osd_marine(r)}
    return {
        "osd": cut_table(src / "samples/planetmicrobe_OSD2014_osd_sample.tsv",
                         out / "samples/osd2014_osd_sample.tsv", _osd_marine, delimiter="\t"),
        "vliz": cut_table(
            src / "samples/OSD14Data_version1.csv", out / "samples/osd2014_vliz_OSD14Data.csv",
            lambda r: r["BiosampleAccessionNumber"] in kept_osd
            and osd_agrees(kept_osd[r["BiosampleAccessionNumber"]], r), delimiter=","),
        "tara": cut_table(src / "samples/planetmicrobe_TaraOceans_APY_sample_NCBI.tsv",
                          out / "samples/tara_oceans_APY_sample_NCBI.tsv", _tara_measured,
                          delimiter="\t"),
        "gos": cut_table(src / "samples/planetmicrobe_GOS_2009-10_samples_NCBI.tsv",
                         out / "samples/gos_2009-10_samples_NCBI.tsv",
                         lambda r: r["env_material"] == "seawater", delimiter="\t"),
        "bats": cut_table(src / "samples/planetmicrobe_BATS_Chisholm_NCBI_samples.tsv",
                          out / "samples/bats_chisholm_NCBI_samples.tsv", lambda r: True,
                          delimiter="\t"),
        "malaspina": cut_table(src / "samples/merenlab_Malaspina_MAL_patch2.csv",
                               out / "samples/malaspina_MAL_patch2.csv",
                               lambda r: _valid_time(r["event_date.time_start"]),
                               delimiter=",", finish=_first_per_biosample),
    }


def _rows(path: Path, delimiter: str, encoding: str = "utf-8") -> list[Row]:
    text = _read(path).decode(encoding)
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))


# --- strains -------------------------------------------------------------------------------

def _number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


_NUMBER = re.compile(r"^[A-Za-z]{3,}[A-Za-z\-= ]*\d[\w.\-/ ]*$")


def clean_numbers(value: str) -> bool:
    """True when every CultureCollection item is ACRONYM + number ('DSM44818T', 'VKM=B-2133').

    Rows with encoding debris ('_Ñ_KCTC23939'), strain designations in this column
    ('0714S6-1T') or typos ('5KCCM90075T') are left out of the cut rather than cleaned.
    """
    items = [i.strip() for i in re.split(r"[|;,]", value) if i.strip()]
    return bool(items) and all(_NUMBER.match(i) for i in items)


def _ijsem_marine(row: Row) -> bool:
    return (row["Habitat"] in ("seawater", "marine sediment")
            and clean_numbers(row["CultureCollection"]) and _number(row["Temp_optimum"])
            and (row["GC"] == "NA" or _number(row["GC"]))
            and (int(row["Year"]) >= IJSEM_FROM_YEAR
                 or row["Genus"].strip() in IJSEM_PROTEOME_GENERA))


def strain_name(genus: str, species: str, strain: str) -> str:
    """'Salinispora tropica CNB-440' from IJSEM columns (type-strain 'T' dropped)."""
    designation = re.sub(r"(?<=\d)T$", "", strain.strip())
    return " ".join(f"{genus} {species} {designation}".split()).lower()


def _unique_numbers(rows: list[Row]) -> list[int]:
    """Drop rows sharing a culture-collection number with an earlier row (one strain)."""
    seen: set[str] = set()
    out = []
    for i, row in enumerate(rows):
        numbers = {re.sub(r"[\s=:\-.]", "", n).upper()
                   for n in collection_numbers(row["CultureCollection"], ValueContext(), "")}
        if numbers & seen:
            continue
        seen |= numbers
        out.append(i)
    return out


def cut_strains(src: Path, out: Path, producers: Iterable[str]) -> dict[str, int]:
    ijsem = src / "strains/IJSEM_pheno_db_v1.0.csv.gz"
    wanted = {" ".join(p.split()).lower() for p in producers}

    def producer(row: Row) -> bool:
        return (not _ijsem_marine(row) and clean_numbers(row["CultureCollection"])
                and strain_name(row["Genus"], row["Species"], row["Strain"]) in wanted)

    return {
        "marine": cut_table(ijsem, out / "strains/ijsem_marine_type_strains.csv",
                            _ijsem_marine, delimiter=",", encoding="latin-1",
                            finish=_unique_numbers),
        "producers": cut_table(ijsem, out / "strains/ijsem_mibig_producers.csv", producer,
                               delimiter=",", encoding="latin-1", finish=_unique_numbers),
    }


# --- compounds, assemblies, germplasm ------------------------------------------------------

def _mibig_marine(row: Row) -> bool:
    return (row["status"] == "active" and bool(row["chem_struct_smiles"])
            and row["organism_name"].split()[0] in MIBIG_MARINE_GENERA)


def _glycan_keep(path: Path) -> Callable[[Row], bool]:
    """Rows with a species and a GlyTouCan id no other row of the file shares."""
    counts: dict[str, int] = {}
    for row in _rows(path, "\t"):
        counts[row["glytoucan_id"]] = counts.get(row["glytoucan_id"], 0) + 1
    return lambda r: bool(r["glytoucan_id"] and r["species"]) and counts[r["glytoucan_id"]] == 1


def _first(n: int) -> Callable[[list[Row]], list[int]]:
    return lambda rows: list(range(min(n, len(rows))))


def cut_compounds(src: Path, out: Path) -> dict[str, int]:
    return {
        "mibig": cut_table(src / "compounds/mibig_compounds.tsv",
                           out / "compounds/mibig_marine_compounds.tsv", _mibig_marine,
                           delimiter="\t"),
        "mibig_clusters": cut_table(
            src / "compounds/mibig_compounds.tsv",
            out / "compounds/mibig_BGC0001377_uncialamycin.tsv",
            lambda r: (r["mibig_accession"] in MIBIG_SHIPPED_CLUSTERS
                       and r["status"] == "active" and bool(r["chem_struct_smiles"])),
            delimiter="\t"),
        "cmnpd": cut_table(src / "compounds/CMNPD-bacteria-after2000.tsv.gz",
                           out / "compounds/cmnpd_bacteria_after2000.tsv",
                           lambda r: bool(r["SMILES"]), delimiter="\t",
                           finish=_first(CMNPD_ROWS)),
        "glycans": cut_table(src / "compounds/glycowork_marine_glycans.tsv",
                             out / "compounds/glycowork_marine_glycans.tsv",
                             _glycan_keep(src / "compounds/glycowork_marine_glycans.tsv"),
                             delimiter="\t"),
    }


def cut_genes(cazy: Path, out: Path) -> dict[str, int]:
    """The documented CAZymes of the shipped proteome: dbCAN-PUL's labelled records of its
    organism (from ``../cazy/labelled``), and the characterised PUL genes, whole."""
    genes = out / "genes/zobellia_characterized_pul_genes.tsv"
    genes.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cazy / "zobellia_characterized_pul_genes.tsv", genes)
    return {
        "cazymes": cut_table(cazy / "labelled/families.tsv",
                             out / "genes/zobellia_dbcan_pul_cazymes.tsv",
                             lambda r: r["organism"] == DBCAN_PUL_ORGANISM, delimiter="\t"),
        "pul_genes": len(_rows(genes, "\t")),
    }


def mibig_producers(out: Path) -> list[str]:
    """Producer organisms named by the MIBiG cut."""
    return sorted({r["organism_name"] for r in
                   _rows(out / "compounds/mibig_marine_compounds.tsv", "\t")})


def cut_all(src: Path, out: Path) -> dict[str, int]:
    """Write every cut; returns rows kept per file."""
    counts = {**cut_samples(src, out), **cut_compounds(src, out)}
    counts.update(cut_strains(src, out, mibig_producers(out)))
    counts["mags"] = cut_table(src / "mags/tara_delmont2018_SuppTable3_MAG_taxonomy.csv",
                               out / "assemblies/tara_delmont2018_MAG_taxonomy.csv",
                               lambda r: True, delimiter=",", finish=_first(MAG_ROWS))
    germplasm = out / "germplasm/vavilov3_accessions_2019_09_04.xlsx"
    germplasm.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src / "germplasm/vavilov3_accessions_2019_09_04.xlsx", germplasm)
    counts["germplasm"] = 38
    cazy = src.parent / "cazy"
    if cazy.is_dir():  # beside the catalogue folder in ../shared/data
        counts.update(cut_genes(cazy, out))
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    """Cut every demo file from SOURCE_DIR (the catalogue folder) into OUT_DIR."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not 1 <= len(args) <= 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(args[1]) if len(args) == 2 else data_dir()
    for name, count in cut_all(Path(args[0]), out).items():
        print(f"{name}\t{count}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
