"""The bank the catalogue, family and compound search tests share.

- OSD1 (Ocean Sampling Day 2014, 0-1 m, 2014-06-21) --isolated_from--> Zobellia
  galactanivorans DsijT (available) --sequenced_as--> assembly "shallow"
- TARA_B100000378 (Tara Oceans, 1000 m, 2010-06-26, Mozambique Channel) --isolated_from-->
  assembly "deep"
- a restricted sample at 3000 m that readers must never see (nor count)
- a germplasm record (Vavilov tomato accession BGE050162) with a Chinese crop name
- five MIBiG compounds (the demo's MIBiG table)

Both assemblies hold halves of a real proteome (30 Maribacter sp. 62-1 proteins,
tests/data/search_catalog/); their annotation hits are the dbCAN rows published for those
proteins plus a pyhmmer search of Pfam's SusD_RagB HMM (see :func:`write_hits`).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from lanhai.bank import Bank
from lanhai.store.layout import Layout
from lanhai.store.sequences import HITS, SequenceStore
from tests.support import CURATOR, SAMPLE, ZOBELLIA, bank_on, catalog_on

TESTS = Path(__file__).resolve().parents[1]
DATA = TESTS / "data" / "search_catalog"
TARA = {
    "samp_name": "TARA_B100000378", "biosample": "SAMEA2620666", "insdc_sample": "ERS489727",
    "project_name": "Tara Oceans expedition (2009-2013)", "collection_date": "2010-06-26T07:12",
    "samp_collect_device": "ROSETTE sampler with CTD (sbe9C) and 10 Niskin bottles",
    "lat_lon": "-15.3379 43.2948", "depth": "1000 m", "size_frac": "0.22-3 µm",
    "env_broad_scale": "marine biome [ENVO:00000447]",
    "env_local_scale": "mesopelagic zone [ENVO:00000213]",
    "env_medium": "saline water, including plankton [ENVO:00002010]",
    "samp_taxon_id": "408172", "geo_loc_name": "not provided",
}
TOMATO = {
    "instcode": "ESP004", "accenumb": "BGE050162", "genus": "Solanum",
    "species": "lycopersicum", "cropname": "Tomate", "accename": "Tomate gordo",
    "acqdate": "2018-12-03", "origcty": "ESP", "sampstat": "300", "storage": "13",
    "description": "番茄种质资源 (tomato germplasm)",
}
ASSEMBLY = {"assembly_type": "isolate genome", "seq_meth": "Illumina HiSeq",
            "assembly_software": "SPAdes v3.10"}

MIBIG = TESTS.parent / "src" / "lanhai" / "demo" / "data" / "compounds" / \
    "mibig_marine_compounds.tsv"
NAMES = ("abyssomicin C", "atrop-abyssomicin C", "curacin A", "rifamycin", "salinosporamide A")
#: salinosporamide B: salinosporamide A with an ethyl for its chloroethyl
SALINOSPORAMIDE_B = "[H][C@](O)([C@@]1([H])CCCC=C1)[C@@]12NC(=O)[C@H](CC)[C@]1(C)OC2=O"


@dataclass
class SearchBank:
    bank: Bank
    engine: Engine
    data_dir: Path
    acc: dict[str, str]


def mibig_rows() -> dict[str, dict[str, str]]:
    rows: dict[str, dict[str, str]] = {}
    with MIBIG.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row["compound"] in NAMES and row["compound"] not in rows:
                rows[row["compound"]] = row
    return rows


def add_compounds(engine: Engine) -> dict[str, str]:
    """The five compounds as records; name -> accession."""
    service = catalog_on(engine)
    made = {}
    for name, row in mibig_rows().items():
        record = service.create(CURATOR, "compound", {
            "compound_name": name, "smiles": row["chem_struct_smiles"],
            "source_organism": row["organism_name"], "source_ids": row["database_ids"],
            "compound_class": row["biosyn_class"]})
        made[name] = record.accession
    return made


def proteins() -> list[tuple[str, str]]:
    """(header, sequence) of the 30 test proteins, in file order."""
    found: list[tuple[str, list[str]]] = []
    for line in (DATA / "maribacter62-1_subset.faa").read_text("utf-8").splitlines():
        if line.startswith(">"):
            found.append((line[1:], []))
        elif line:
            found[-1][1].append(line)
    return [(h, "".join(s)) for h, s in found]


def build_bank(engine: Engine, data_dir: Path, bank: Bank | None = None) -> SearchBank:
    """The bank above, in ``data_dir`` (through ``bank``'s services when given)."""
    bank = bank or bank_on(engine, data_dir)
    service = bank.catalog
    acc: dict[str, str] = {}
    acc["shallow_sample"] = service.create(CURATOR, "sample", SAMPLE).accession
    acc["deep_sample"] = service.create(CURATOR, "sample", TARA).accession
    acc["hidden_sample"] = service.create(CURATOR, "sample", {
        **SAMPLE, "samp_name": "hidden abyssal", "depth": "3000 m",
        "restricted": "yes"}).accession
    acc["strain"] = service.create(CURATOR, "strain", {**ZOBELLIA,
                                                      "status": "available"}).accession
    acc["shallow"] = service.create(CURATOR, "assembly", {
        **ASSEMBLY, "assembly_name": "Maribacter sp. 62-1 proteins, first half"}).accession
    acc["deep"] = service.create(CURATOR, "assembly", {
        **ASSEMBLY, "assembly_name": "Maribacter sp. 62-1 proteins, second half"}).accession
    acc["tomato"] = service.create(CURATOR, "germplasm", TOMATO).accession
    acc.update(add_compounds(engine))
    service.link(CURATOR, acc["shallow_sample"], "isolated_from", acc["strain"])
    service.link(CURATOR, acc["strain"], "sequenced_as", acc["shallow"])
    service.link(CURATOR, acc["deep_sample"], "isolated_from", acc["deep"])
    service.link(CURATOR, acc["hidden_sample"], "isolated_from", acc["deep"])
    all_proteins = proteins()
    for name, part in (("shallow", all_proteins[:15]), ("deep", all_proteins[15:])):
        path = data_dir.parent / f"{name}.faa"
        path.write_text("".join(f">{h}\n{s}\n" for h, s in part), "utf-8")
        bank.sequences.ingest(CURATOR, acc[name], path, kind="proteome", allow_stops=True)
        write_hits(data_dir, acc[name], [h.split()[0] for h, _ in part])
    return SearchBank(bank, engine, data_dir, acc)


def dbcan_rows(ids: list[str]) -> list[dict[str, Any]]:
    """The published dbCAN hits of these proteins as HITS rows (dbCAN gives no bit score)."""
    rows = []
    alginate = {"PL6", "PL7", "PL7_5"}  # CAZy: PL6 and PL7 are alginate lyase families
    with (DATA / "maribacter62-1_dbcan_hits.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row["protein_id"] not in ids:
                continue
            family = row["HMMProfile"].removesuffix(".hmm")
            rows.append({
                "protein_id": row["protein_id"], "pack": "dbcan", "category": "CAZyme",
                "family": family, "family_accession": "", "description": "",
                "evalue": float(row["evalue"]), "score": None, "bias": None,
                "ali_from": int(row["GeneStart"]), "ali_to": int(row["GeneEnd"]),
                "hmm_from": int(row["ProfileStart"]), "hmm_to": int(row["ProfileEnd"]),
                "hmm_length": int(row["ProfileLength"]), "coverage": float(row["Coverage"]),
                "substrates": ["alginate"] if family in alginate else []})
    return rows


def pfam_rows(data_dir: Path, accession: str) -> list[dict[str, Any]]:
    """SusD_RagB (PF07980) hits of pyhmmer over the assembly's proteins, as HITS rows."""
    import pyhmmer
    from pyhmmer import easel, plan7

    store = SequenceStore(Layout(data_dir).assemblies)
    with plan7.HMMFile(DATA / "SusD_RagB_PF07980.hmm") as handle:
        hmm = handle.read()
    assert hmm is not None
    seqs = easel.TextSequenceBlock(
        easel.TextSequence(name=r["id"], sequence=r["sequence"].replace("*", ""))
        for r in store.iter_rows(accession, "proteins", ["id", "sequence"])
    ).digitize(hmm.alphabet)
    rows = []
    for top in next(iter(pyhmmer.hmmsearch([hmm], seqs, Z=30))):
        for dom in top.domains.reported:
            ali = dom.alignment
            rows.append({
                "protein_id": top.name, "pack": "pfam", "category": "PUL",
                "family": hmm.name, "family_accession": hmm.accession,
                "description": hmm.description, "evalue": float(dom.i_evalue),
                "score": float(dom.score), "bias": float(dom.bias), "ali_from": ali.target_from,
                "ali_to": ali.target_to, "hmm_from": ali.hmm_from, "hmm_to": ali.hmm_to,
                "hmm_length": hmm.M, "coverage": (ali.hmm_to - ali.hmm_from + 1) / hmm.M,
                "substrates": []})
    return rows


def write_hits(data_dir: Path, accession: str, ids: list[str]) -> None:
    """hits.parquet + the completion marker, as the annotation pipeline leaves them."""
    store = SequenceStore(Layout(data_dir).assemblies)
    rows = sorted(dbcan_rows(ids) + pfam_rows(data_dir, accession),
                  key=lambda r: (ids.index(r["protein_id"]), r["ali_from"]))
    manifest = store.manifest(accession)
    assert manifest is not None
    with store.stage_step(accession, "annotation") as staged:
        table = staged.table("hits", HITS)
        for row in rows:
            table.add(row)
        staged.commit_into(store.annotation_folder(accession))
    store.mark_step_done(accession, "annotation", {"input_sha256": manifest["sha256"]})
