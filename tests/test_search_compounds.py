"""Compound search (exact, substructure, similarity) over real MIBiG compounds.

The compounds are rows of the demo's MIBiG table (src/lanhai/demo/data/compounds/). Expected
values were computed with RDKit directly, outside Lanhai::

    from rdkit import Chem, DataStructs
    from rdkit.Chem import rdFingerprintGenerator
    g = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    DataStructs.TanimotoSimilarity(g.GetFingerprint(Chem.MolFromSmiles(QUERY)),
                                   g.GetFingerprint(Chem.MolFromSmiles(SMILES)))
    Chem.MolToInchiKey(Chem.MolFromSmiles(SMILES))
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import Engine

from lanhai.errors import UsageError, ValidationFailed
from lanhai.search import compounds
from lanhai.services.catalog import Actor, CatalogService

CURATOR = Actor("ana", "curator")
READER = Actor("rui", "reader")
MIBIG = (Path(__file__).resolve().parents[1] / "src" / "lanhai" / "demo" / "data" / "compounds"
         / "mibig_marine_compounds.tsv")
NAMES = ("abyssomicin C", "atrop-abyssomicin C", "curacin A", "rifamycin", "salinosporamide A")
#: salinosporamide B: salinosporamide A with an ethyl for its chloroethyl
SALINOSPORAMIDE_B = "[H][C@](O)([C@@]1([H])CCCC=C1)[C@@]12NC(=O)[C@H](CC)[C@]1(C)OC2=O"


def mibig_rows() -> dict[str, dict[str, str]]:
    rows: dict[str, dict[str, str]] = {}
    with MIBIG.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row["compound"] in NAMES and row["compound"] not in rows:
                rows[row["compound"]] = row
    return rows


def add_compounds(engine: Engine) -> dict[str, str]:
    """The five compounds as records; name -> accession."""
    service = CatalogService(engine)
    made = {}
    for name, row in mibig_rows().items():
        record = service.create(CURATOR, "compound", {
            "compound_name": name, "smiles": row["chem_struct_smiles"],
            "source_organism": row["organism_name"], "source_ids": row["database_ids"],
            "compound_class": row["biosyn_class"]})
        made[name] = record.accession
    return made


def test_exact_by_inchikey_and_by_differently_written_smiles(engine: Engine,
                                                              tmp_path: Path) -> None:
    made = add_compounds(engine)
    with engine.connect() as conn:
        # Chem.MolToInchiKey(curacin A of BGC0000043) = LUEYTMPPCOCKBX-RLAAQAFRSA-N
        hits = compounds.search_exact(conn, READER, tmp_path,
                                      inchikey="lueytmppcockbx-rlaaqafrsa-n")
        assert [h.accession for h in hits] == [made["curacin A"]]
        # the same molecule written from another atom (Chem.MolToSmiles(mol, doRandom=True,
        # canonical=False)); its InChIKey is the same, so it is found
        other = "C/C(CC[C@@H](OC)CC=C)=C\\C=C\\CC/C=C\\[C@H]1CSC(=N1)[C@H]1[C@@H](C)C1"
        hits = compounds.search_exact(conn, READER, tmp_path, smiles=other)
        assert [h.name for h in hits] == ["curacin A"]
        # BGC0001165's curacin A differs in stereo (LUEYTMPPCOCKBX-ODRFWBCESA-N): no hit
        wrong = "C[C@H]1CC1C2=N[C@@H](CS2)/C=C\\CC/C=C/C=C(\\C)/CC[C@H](CC=C)OC"
        assert compounds.search_exact(conn, READER, tmp_path, smiles=wrong) == []
        # the two abyssomicins differ only in stereo: different keys, one hit each
        key = "FNEADFUPWHAVTA-PPDYZMKSSA-N"
        assert [h.name for h in compounds.search_exact(conn, READER, tmp_path,
                                                       inchikey=key)] == ["abyssomicin C"]
        with pytest.raises(ValidationFailed, match="not an InChIKey"):
            compounds.search_exact(conn, READER, tmp_path, inchikey="curacin")
        with pytest.raises(ValidationFailed, match="cannot read the smiles"):
            compounds.search_exact(conn, READER, tmp_path, smiles="C1CC(")


def test_substructure_smarts_and_smiles(engine: Engine, tmp_path: Path) -> None:
    add_compounds(engine)
    with engine.connect() as conn:
        # mol.HasSubstructMatch(Chem.MolFromSmarts('[Cl]')): only salinosporamide A
        hits, total = compounds.search_substructure(conn, READER, tmp_path, "[Cl]")
        assert [h.name for h in hits] == ["salinosporamide A"] and total == 1
        # the thiazoline ring of curacin A, as SMARTS and as SMILES
        hits, _ = compounds.search_substructure(conn, READER, tmp_path, "C1CSC=N1")
        assert [h.name for h in hits] == ["curacin A"]
        hits, _ = compounds.search_substructure(conn, READER, tmp_path, "C1CSC=N1",
                                                smiles=True)
        assert [h.name for h in hits] == ["curacin A"]
        # a lactone carbonyl: every compound but curacin A has an ester O-C(=O)
        hits, total = compounds.search_substructure(conn, READER, tmp_path, "[#6]OC(=O)[#6]")
        assert sorted(h.name for h in hits) == ["abyssomicin C", "atrop-abyssomicin C",
                                                "rifamycin", "salinosporamide A"]
        with pytest.raises(ValidationFailed, match="SMARTS"):
            compounds.search_substructure(conn, READER, tmp_path, "[Cl")


def test_similarity_matches_rdkit_computed_directly(engine: Engine, tmp_path: Path) -> None:
    from rdkit import Chem, DataStructs
    from rdkit.Chem import rdFingerprintGenerator

    add_compounds(engine)
    with engine.connect() as conn:
        hits, total = compounds.search_similar(conn, READER, tmp_path, SALINOSPORAMIDE_B,
                                               threshold=0.1)
    # RDKit directly (module docstring): salinosporamide A 0.7925, abyssomicin C 0.15,
    # atrop-abyssomicin C 0.15, rifamycin 0.1284, curacin A 0.0737 (below 0.1)
    assert [(h.name, h.similarity) for h in hits] == [
        ("salinosporamide A", 0.7925), ("abyssomicin C", 0.15), ("atrop-abyssomicin C", 0.15),
        ("rifamycin", 0.1284)]
    assert total == 4
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    query = generator.GetFingerprint(Chem.MolFromSmiles(SALINOSPORAMIDE_B))
    for hit in hits:
        direct = DataStructs.TanimotoSimilarity(
            query, generator.GetFingerprint(Chem.MolFromSmiles(hit.canonical_smiles)))
        assert hit.similarity == round(direct, 4)
    with engine.connect() as conn:
        hits, total = compounds.search_similar(conn, READER, tmp_path, SALINOSPORAMIDE_B)
        assert [h.name for h in hits] == ["salinosporamide A"]  # default threshold 0.7
        with pytest.raises(UsageError, match="between 0 and 1"):
            compounds.search_similar(conn, READER, tmp_path, "CCO", threshold=1.5)


def test_cache_is_rebuilt_when_compounds_change_and_hides_restricted(
        engine: Engine, tmp_path: Path) -> None:
    made = add_compounds(engine)
    with engine.connect() as conn:
        first = compounds.load_library(conn, tmp_path)
    cache = tmp_path / "search" / "compounds.parquet"
    assert cache.exists() and len(first.entries) == 5
    compounds._MEMO.clear()  # read back from the file, not memory
    with engine.connect() as conn:
        again = compounds.load_library(conn, tmp_path)
    assert again.stamp == first.stamp
    assert [e.inchikey for e in again.entries] == [e.inchikey for e in first.entries]
    assert [fp.ToBitString() for fp in again.fingerprints] == [
        fp.ToBitString() for fp in first.fingerprints]
    CatalogService(engine).update(CURATOR, made["salinosporamide A"], {"restricted": "yes"})
    with engine.connect() as conn:
        hits, _ = compounds.search_substructure(conn, READER, tmp_path, "[Cl]")
        assert hits == []  # a reader never learns of a restricted compound
        hits, _ = compounds.search_substructure(conn, CURATOR, tmp_path, "[Cl]")
        assert [h.accession for h in hits] == [made["salinosporamide A"]]
        assert compounds.load_library(conn, tmp_path).stamp != first.stamp
