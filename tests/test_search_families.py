"""Family search: stored hits (DuckDB over hits.parquet) joined with the lineage, and a
user's HMM searched with pyhmmer over the stored proteins, compared with hmmsearch.

The bank is the one of tests/support/search.py (two assemblies holding halves of 30
real Maribacter sp. 62-1 proteins; the shallow one from a Zobellia strain of OSD1 at 0-1 m,
the deep one from Tara sample TARA_B100000378 at 1000 m).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import Engine

from lanhai.errors import UsageError, ValidationFailed
from lanhai.search.filters import BBox, CatalogFilters, FamilyQuery
from tests.support import CURATOR, READER
from tests.support.search import DATA, SearchBank, build_bank, proteins

SUSD = (DATA / "SusD_RagB_PF07980.hmm").read_bytes()


@pytest.fixture
def bank(engine: Engine, tmp_path: Path) -> SearchBank:
    data_dir = tmp_path / "bank"
    data_dir.mkdir()
    return build_bank(engine, data_dir)


def families(bank: SearchBank, *names: str, actor: object = READER, **options: object
             ) -> list[dict[str, object]]:
    query = FamilyQuery(families=names, **options)  # type: ignore[arg-type]
    return bank.bank.families.search(actor, query).hits  # type: ignore[arg-type]


def test_family_hits_carry_their_lineage(bank: SearchBank) -> None:
    # dbCAN: GH16_3 on MAR621_03589 (e-value 1.20E-59, protein 458-693, coverage 0.96)
    [hit] = families(bank, "GH16")
    assert hit["protein_id"] == "MAR621_03589" and hit["family"] == "GH16_3"
    assert hit["evalue"] == 1.2e-59 and (hit["ali_from"], hit["ali_to"]) == (458, 693)
    assert hit["assembly"] == bank.acc["deep"] and hit["sample"] == bank.acc["deep_sample"]
    assert hit["depth_m"] == 1000.0 and hit["strain"] is None
    assert (hit["latitude"], hit["longitude"], hit["event_date"]) == (
        -15.3379, 43.2948, "2010-06-26T07:12")
    # SusD_RagB by Pfam accession, best score first; from the available Zobellia strain
    susd = families(bank, "PF07980")
    assert [h["protein_id"] for h in susd] == ["MAR621_02893", "MAR621_02265",
                                                "MAR621_02601"]
    assert {h["strain"] for h in susd} == {bank.acc["strain"]}
    assert {h["availability"] for h in susd} == {"available"}
    assert {h["sample"] for h in susd} == {bank.acc["shallow_sample"]}
    assert families(bank, "GH999") == []
    with pytest.raises(UsageError, match="name at least one family"):
        families(bank)


def test_filters_on_hits_and_catalogue_fields(bank: SearchBank) -> None:
    # "every SusD from samples deeper than 800 m": none; from the surface: three
    assert families(bank, "SusD_RagB", filters=CatalogFilters(depth_min=800)) == []
    assert len(families(bank, "SusD_RagB", filters=CatalogFilters(depth_max=10))) == 3
    # pyhmmer domain scores 83.4, 72.0, 28.0 (hmmsearch --domtblout agrees, see below)
    assert len(families(bank, "PF07980", min_score=50)) == 2
    assert len(families(bank, "PF07980", max_evalue=1e-20)) == 2
    alginate = families(bank, "PL6", "PL7", substrates=("Alginate",))
    assert alginate and {h["family"] for h in alginate} <= {"PL6", "PL7", "PL7_5"}
    assert families(bank, "PL6", "PL7", packs=("pfam",)) == []
    both = families(bank, "GH16", "PF07980")
    assert len(both) == 4
    available = families(bank, "GH16", "PF07980", filters=CatalogFilters(available=True))
    assert {h["assembly"] for h in available} == {bank.acc["shallow"]}
    mozambique = families(bank, "GH16", "PF07980",
                          filters=CatalogFilters(bbox=BBox.parse("30,-30,60,0")))
    assert [h["protein_id"] for h in mozambique] == ["MAR621_03589"]
    assert families(bank, "GH16", filters=CatalogFilters(date_from="2011")) == []


def test_only_finished_visible_annotations_are_read(bank: SearchBank) -> None:
    # a restricted assembly's hits are invisible to readers, visible to curators
    bank.bank.catalog.update(CURATOR, bank.acc["deep"], {"restricted": "yes"})
    assert families(bank, "GH16") == []
    assert len(families(bank, "GH16", actor=CURATOR)) == 1
    # without its completion marker (an annotation being rewritten) nothing is read
    marker = bank.data_dir / "assemblies" / bank.acc["shallow"] / "annotation.done.json"
    marker.unlink()
    assert families(bank, "PF07980") == []
    # a marker of other sequences (the input changed since) does not count either
    marker.write_text(json.dumps({"input_sha256": "0" * 64}), "utf-8")
    assert families(bank, "PF07980") == []
    # and staging folders are never read
    staging = bank.data_dir / "assemblies" / ".staging" / "LHAS0000009"
    shutil.copytree(bank.data_dir / "assemblies" / bank.acc["shallow"], staging)
    assert families(bank, "PF07980", actor=CURATOR) == []


def test_user_hmm_matches_hmmsearch(bank: SearchBank) -> None:
    # hmmsearch -Z 30 --tblout t tests/data/search_catalog/SusD_RagB_PF07980.hmm \
    #     tests/data/search_catalog/maribacter62-1_subset.faa     (HMMER 3.3.2)
    # MAR621_02893 1.9e-26 84.3 / MAR621_02265 7.6e-25 79.1 / MAR621_02601 1.2e-09 29.2
    # best domains (--domtblout): 339-480, 434-585, 319-423
    result = bank.bank.families.search_hmm(READER, SUSD)
    assert result.proteins_searched == 30 and result.assemblies_searched == 2
    got = [(h["protein_id"], h["score"], float(f"{h['evalue']:.1e}"), h["ali_from"],
            h["ali_to"]) for h in result.hits]
    assert got == [("MAR621_02893", 84.3, 1.9e-26, 339, 480),
                   ("MAR621_02265", 79.1, 7.6e-25, 434, 585),
                   ("MAR621_02601", 29.2, 1.2e-09, 319, 423)]
    assert {h["family_accession"] for h in result.hits} == {"PF07980.14"}
    search = bank.bank.families
    strict = search.search_hmm(READER, SUSD, FamilyQuery(min_score=50))
    deep = search.search_hmm(READER, SUSD, FamilyQuery(filters=CatalogFilters(depth_min=800)))
    assert [h["protein_id"] for h in strict.hits] == ["MAR621_02893", "MAR621_02265"]
    assert deep.hits == [] and deep.proteins_searched == 15


def test_bad_hmm_is_rejected_with_a_fix(bank: SearchBank) -> None:
    for data in (b"", b"not an hmm\n", SUSD[:2000]):
        with pytest.raises(ValidationFailed) as caught:
            bank.bank.families.search_hmm(READER, data, source="query.hmm")
        assert caught.value.problems[0].fix


def test_fasta_of_hit_sequences(bank: SearchBank) -> None:
    hits = families(bank, "PF07980", "GH16")
    written = list(bank.bank.families.hit_sequences(hits))
    expected = {h.split()[0]: s for h, s in proteins()}
    assert [h.split()[0] for h, _ in written] == [h["protein_id"] for h in hits]
    for header, sequence in written:
        assert sequence == expected[header.split()[0]]
    assert "families=SusD_RagB" in written[0][0]


def test_genbank_of_hit_proteins(bank: SearchBank) -> None:
    import io

    from Bio import SeqIO

    hits = families(bank, "GH16")
    text = "".join(bank.bank.families.hit_genbank(hits))
    [record] = SeqIO.parse(io.StringIO(text), "genbank")
    expected = {h.split()[0]: s for h, s in proteins()}
    assert record.name == "MAR621_03589"
    assert str(record.seq) == expected["MAR621_03589"]
    assert record.annotations["molecule_type"] == "protein"
    source, region = record.features
    # the deep Tara sample: 1000 m, -15.3379 43.2948, 2010-06-26
    assert source.qualifiers["lat_lon"] == ["15.3379 S 43.2948 E"]
    assert source.qualifiers["collection_date"] == ["2010-06-26T07:12"]
    assert "depth (m) 1000.0" in source.qualifiers["note"][0]
    # dbCAN: GH16_3, protein 458-693 (1-based) = Python 457..693
    assert region.type == "Region" and region.qualifiers["region_name"] == ["GH16_3"]
    assert (int(region.location.start), int(region.location.end)) == (457, 693)
