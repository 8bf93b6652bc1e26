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

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine

from lanhai.errors import UsageError, ValidationFailed
from lanhai.services.compounds import CompoundService
from tests.support import CURATOR, READER, catalog_on, database
from tests.support.search import SALINOSPORAMIDE_B, add_compounds


@contextmanager
def compound_search(engine: Engine, data_dir: Path) -> Iterator[CompoundService]:
    """Structure search over ``engine``'s compounds, its cache in ``data_dir``."""
    yield CompoundService(database(engine), data_dir / "search" / "compounds.parquet")


def test_exact_by_inchikey_and_by_differently_written_smiles(engine: Engine,
                                                              tmp_path: Path) -> None:
    made = add_compounds(engine)
    with compound_search(engine, tmp_path) as compounds:
        # Chem.MolToInchiKey(curacin A of BGC0000043) = LUEYTMPPCOCKBX-RLAAQAFRSA-N
        hits = compounds.exact(READER, inchikey="lueytmppcockbx-rlaaqafrsa-n")
        assert [h.accession for h in hits] == [made["curacin A"]]
        # the same molecule written from another atom (Chem.MolToSmiles(mol, doRandom=True,
        # canonical=False)); its InChIKey is the same, so it is found
        other = "C/C(CC[C@@H](OC)CC=C)=C\\C=C\\CC/C=C\\[C@H]1CSC(=N1)[C@H]1[C@@H](C)C1"
        hits = compounds.exact(READER, smiles=other)
        assert [h.name for h in hits] == ["curacin A"]
        # BGC0001165's curacin A differs in stereo (LUEYTMPPCOCKBX-ODRFWBCESA-N): no hit
        wrong = "C[C@H]1CC1C2=N[C@@H](CS2)/C=C\\CC/C=C/C=C(\\C)/CC[C@H](CC=C)OC"
        assert compounds.exact(READER, smiles=wrong) == []
        # the two abyssomicins differ only in stereo: different keys, one hit each
        key = "FNEADFUPWHAVTA-PPDYZMKSSA-N"
        assert [h.name for h in compounds.exact(READER, inchikey=key)] == ["abyssomicin C"]
        with pytest.raises(ValidationFailed, match="not an InChIKey"):
            compounds.exact(READER, inchikey="curacin")
        with pytest.raises(ValidationFailed, match="cannot read the smiles"):
            compounds.exact(READER, smiles="C1CC(")


def test_substructure_smarts_and_smiles(engine: Engine, tmp_path: Path) -> None:
    add_compounds(engine)
    with compound_search(engine, tmp_path) as compounds:
        # mol.HasSubstructMatch(Chem.MolFromSmarts('[Cl]')): only salinosporamide A
        hits, total = compounds.substructure(READER, "[Cl]")
        assert [h.name for h in hits] == ["salinosporamide A"] and total == 1
        # the thiazoline ring of curacin A, as SMARTS and as SMILES
        hits, _ = compounds.substructure(READER, "C1CSC=N1")
        assert [h.name for h in hits] == ["curacin A"]
        hits, _ = compounds.substructure(READER, "C1CSC=N1",
                                                smiles=True)
        assert [h.name for h in hits] == ["curacin A"]
        # a lactone carbonyl: every compound but curacin A has an ester O-C(=O)
        hits, total = compounds.substructure(READER, "[#6]OC(=O)[#6]")
        assert sorted(h.name for h in hits) == ["abyssomicin C", "atrop-abyssomicin C",
                                                "rifamycin", "salinosporamide A"]
        with pytest.raises(ValidationFailed, match="SMARTS"):
            compounds.substructure(READER, "[Cl")


def test_similarity_matches_rdkit_computed_directly(engine: Engine, tmp_path: Path) -> None:
    from rdkit import Chem, DataStructs
    from rdkit.Chem import rdFingerprintGenerator

    add_compounds(engine)
    with compound_search(engine, tmp_path) as compounds:
        hits, total = compounds.similar(READER, SALINOSPORAMIDE_B,
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
    with compound_search(engine, tmp_path) as compounds:
        hits, total = compounds.similar(READER, SALINOSPORAMIDE_B)
        assert [h.name for h in hits] == ["salinosporamide A"]  # default threshold 0.7
        with pytest.raises(UsageError, match="between 0 and 1"):
            compounds.similar(READER, "CCO", threshold=1.5)


def test_cache_is_rebuilt_when_compounds_change_and_hides_restricted(
        engine: Engine, tmp_path: Path) -> None:
    made = add_compounds(engine)
    with compound_search(engine, tmp_path) as compounds:
        first = compounds.library()
    cache = tmp_path / "search" / "compounds.parquet"
    assert cache.exists() and len(first.entries) == 5
    # a new service (a restarted server) reads the library back from the file
    with compound_search(engine, tmp_path) as compounds:
        again = compounds.library()
    assert again.stamp == first.stamp
    assert [e.inchikey for e in again.entries] == [e.inchikey for e in first.entries]
    assert [fp.ToBitString() for fp in again.fingerprints] == [
        fp.ToBitString() for fp in first.fingerprints]
    catalog_on(engine).update(CURATOR, made["salinosporamide A"], {"restricted": "yes"})
    with compound_search(engine, tmp_path) as compounds:
        hits, _ = compounds.substructure(READER, "[Cl]")
        assert hits == []  # a reader never learns of a restricted compound
        hits, _ = compounds.substructure(CURATOR, "[Cl]")
        assert [h.accession for h in hits] == [made["salinosporamide A"]]
        assert compounds.library().stamp != first.stamp
