"""Part mining: chosen hits become part records (CDS DNA from the genes, or the protein for a
proteome), linked assembly --mined_from--> part, idempotent, exported as valid SBOL3."""

from __future__ import annotations

from pathlib import Path

import pytest
import sbol3
from sqlalchemy import Engine

from lanhai.cli.main import main
from lanhai.errors import NotFound, UsageError
from lanhai.services.access import Actor
from lanhai.services.parts_mining import display_id
from tests.support import bank_on, catalog_on, new_assembly, run_json
from tests.support.sequences import ANNOTATOR as CURATOR
from tests.support.sequences import GENBANK, proteome_bank, sus_pack

READER = Actor("reader-zhao", "reader")


def test_display_ids_are_sbol_safe() -> None:
    assert display_id("LHAS0000001", "ZOBELLIA_3570_[Zobellia_galactanivorans_DsiJ]") == \
        "LHAS0000001_ZOBELLIA_3570_Zobellia_galactanivorans_DsiJ"
    assert display_id("LHAS0000002", "k141_7.1_3") == "LHAS0000002_k141_7_1_3"


def test_proteome_parts_are_proteins_and_idempotent(engine: Engine, tmp_path: Path) -> None:
    service, acc = proteome_bank(engine, tmp_path)
    service.annotate(CURATOR, [acc], packs=[sus_pack()], steps=["families"])
    miner = bank_on(engine, tmp_path).parts
    susd = "ZOBELLIA_3571_[Zobellia_galactanivorans_DsiJ]"
    first = miner.mine(CURATOR, acc, proteins=[susd])
    [part] = first["parts"]
    assert part["status"] == "created" and part["part_type"] == "protein"
    assert part["family"] == "SusD-like_3" or part["family"].startswith("SusD")
    catalog = catalog_on(engine)
    record = catalog.get(CURATOR, part["accession"])
    proteins = {r["id"]: r["sequence"] for r in service.rows(CURATOR, acc, "proteins")}
    assert record.fields["sequence"] == proteins[susd]
    assert record.fields["part_type"] == "https://identifiers.org/SBO:0000252"
    assert record.fields["role"] == "https://identifiers.org/SO:0000316"
    assert "sus" in record.fields["evidence"] and "E-value" in record.fields["evidence"]
    links = catalog.links(CURATOR, part["accession"])
    assert [(lk.source, lk.rel, lk.target) for lk in links] == \
        [(acc, "mined_from", part["accession"])]
    again = miner.mine(CURATOR, acc, proteins=[susd])
    assert again["parts"][0] == {**part, "status": "unchanged"} and again["created"] == 0
    assert catalog.counts(CURATOR)["part"] == 1
    with pytest.raises(NotFound) as missing:
        miner.mine(CURATOR, acc, families=["GH16"], proteins=["nope"])
    assert {p.value for p in missing.value.problems} == {"GH16", "nope"}
    with pytest.raises(UsageError):
        miner.mine(CURATOR, acc)


def test_parts_of_a_restricted_assembly_are_restricted(engine: Engine, tmp_path: Path) -> None:
    service, acc = proteome_bank(engine, tmp_path)
    catalog_on(engine).update(CURATOR, acc, {"restricted": True})
    service.annotate(CURATOR, [acc], packs=[sus_pack()], steps=["families"])
    result = bank_on(engine, tmp_path).parts.mine(CURATOR, acc, families=["SusD_RagB"])
    assert result["created"] > 1
    catalog = catalog_on(engine)
    assert all(catalog.get(CURATOR, p["accession"]).restricted for p in result["parts"])
    with pytest.raises(NotFound):
        catalog.get(READER, result["parts"][0]["accession"])


def test_mine_genome_cds_from_the_cli_and_export_sbol3(
        bank_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    acc = new_assembly(capsys, "BGC0001866 region")
    run_json(capsys, ["ingest", acc, str(GENBANK)])
    run_json(capsys, ["annotate", acc, "--packs", "pfam-gecco", "--steps", "genes,families"])
    mined = run_json(capsys, ["mine-parts", acc, "--family", "ketoacyl-synt"])
    assert mined["created"] == len(mined["parts"]) >= 1
    genes = {g["protein_id"]: g for g in run_json(capsys, ["annotations", acc, "--genes"])}
    capsys.readouterr()
    assert main(["annotations", acc, "--genes", "--format", "fasta"]) == 0
    fasta = capsys.readouterr().out
    for part in mined["parts"]:
        assert part["part_type"] == "DNA" and part["protein_id"] in genes
        shown = run_json(capsys, ["show", part["accession"]])
        dna = shown["fields"]["sequence"]
        assert len(dna) == genes[part["protein_id"]]["end"] - \
            genes[part["protein_id"]]["start"] + 1
        assert dna.upper()[:60] in fasta.replace("\n", "")
    again = run_json(capsys, ["mine-parts", acc, "--family", "ketoacyl-synt"])
    assert again["created"] == 0
    capsys.readouterr()
    assert main(["export", "part", "--format", "sbol3"]) == 0
    doc = sbol3.Document()
    doc.read_string(capsys.readouterr().out, sbol3.TURTLE)
    assert len(doc.validate()) == 0
    ids = {obj.display_id for obj in doc.objects if isinstance(obj, sbol3.Component)}
    assert ids == {p["display_id"] for p in mined["parts"]}
