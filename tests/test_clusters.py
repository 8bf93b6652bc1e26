"""Biosynthetic gene clusters with the GECCO library on our genes, against `gecco run` on
real MIBiG clusters."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from sqlalchemy import Engine

from lanhai.sequence.clusters import batches
from tests.support import bank_on, catalog_on
from tests.support.sequences import ANNOTATOR as CURATOR
from tests.support.sequences import stored

#: MIBiG BGC0001090 (Bacillus amyloliquefaciens FZB42), shipped in pyhmmer's wheel
BGC0001090 = Path(str(files("pyhmmer.tests") / "data" / "seqs" / "BGC0001090.gbk"))


def test_contigs_are_batched_with_their_genes() -> None:
    contigs = [("a", "A" * 10), ("b", "C" * 10), ("c", "G" * 10), ("d", "T" * 10)]
    genes = [{"contig": c, "n": n} for c, n in (("a", 1), ("a", 2), ("c", 1), ("d", 1))]
    got = [[(name, [g["n"] for g in rows]) for name, _, rows in batch]
           for batch in batches(contigs, genes, size=2)]
    assert got == [[("a", [1, 2])], [("c", [1]), ("d", [1])]]  # b has no gene


def test_mibig_nrps_pks_cluster_matches_gecco_run(sqlite_engine: Engine,
                                                  tmp_path: Path) -> None:
    record = catalog_on(sqlite_engine).create(CURATOR, "assembly", {
        "assembly_name": "BGC0001090", "assembly_type": "isolate genome",
        "seq_meth": "Illumina", "assembly_software": "SPAdes"})
    service = bank_on(sqlite_engine, tmp_path).sequences
    service.ingest(CURATOR, record.accession, BGC0001090)
    report = service.annotate(CURATOR, [record.accession], steps=["genes", "clusters"],
                              threads=2)
    [item] = report["assemblies"]
    assert item["steps"] == {"genes": "done", "clusters": "done"}
    # `gecco run -g BGC0001090.gbk -o out -j 2` (gecco 0.11, its own ORFs):
    #   BGC0001090.1_cluster_1  1339  41797  average_p 0.977  type NRP;Polyketide
    [cluster] = list(service.rows(CURATOR, record.accession, "clusters"))
    assert cluster["cluster_id"] == "BGC0001090.1_cluster_1"
    assert cluster["type"] == "NRP/Polyketide"
    assert abs(cluster["start"] - 1339) < 3000 and abs(cluster["end"] - 41797) < 3000
    assert cluster["average_probability"] > 0.9
    marker = stored(tmp_path).step_done(record.accession, "clusters")
    assert marker is not None and marker["types"] == {"NRP/Polyketide": 1}
    again = service.annotate(CURATOR, [record.accession], steps=["clusters"])
    assert again["assemblies"][0]["status"] == "already done"


def test_reused_pfam_domains_give_gecco_the_same_clusters_and_the_same_ga_hits(
        sqlite_engine: Engine, tmp_path: Path) -> None:
    """GECCO's Pfam file is searched once: the pfam-gecco pack's hits (GA cut-offs, taken from
    a permissive search) equal pyhmmer's own `bit_cutoffs="gathering"` search, and GECCO's
    domains taken from the same search give the same clusters as GECCO's own search."""
    import pyhmmer

    from lanhai.profiles.registry import load_pack
    from tests.support.sequences import GENBANK

    record = catalog_on(sqlite_engine).create(CURATOR, "assembly", {
        "assembly_name": "BGC0001866", "assembly_type": "isolate genome",
        "seq_meth": "Illumina", "assembly_software": "SPAdes"})
    service = bank_on(sqlite_engine, tmp_path).sequences
    service.ingest(CURATOR, record.accession, GENBANK)
    acc = record.accession
    service.annotate(CURATOR, [acc], steps=["genes", "clusters"], threads=2)
    store = stored(tmp_path)
    own_search = list(service.rows(CURATOR, acc, "clusters"))
    assert store.step_done(acc, "clusters")["domains"] == "GECCO's own search of its Pfam HMMs"
    pfam = load_pack(tmp_path / "profiles", "pfam-gecco")
    service.annotate(CURATOR, [acc], packs=[pfam], steps=["families"], threads=2)
    (store.folder(acc) / "clusters.done.json").unlink()
    service.annotate(CURATOR, [acc], steps=["clusters"], threads=2)
    assert store.step_done(acc, "clusters")["domains"].startswith("GECCO's Pfam domains from")
    assert list(service.rows(CURATOR, acc, "clusters")) == own_search

    proteins = list(service.rows(CURATOR, acc, "proteins"))
    alphabet = pyhmmer.easel.Alphabet.amino()
    block = pyhmmer.easel.DigitalSequenceBlock(alphabet, [
        pyhmmer.easel.TextSequence(name=p["id"].encode(), sequence=p["sequence"])
        .digitize(alphabet) for p in proteins])
    with pyhmmer.plan7.HMMFile(str(pfam.path)) as handle:
        hmms = list(handle)
    expected = {(hit.name.decode() if isinstance(hit.name, bytes) else hit.name, hmm.name,
                 d.alignment.target_from, d.alignment.target_to, round(d.score, 2),
                 f"{d.i_evalue:.6g}")
                for hmm, top in zip(hmms, pyhmmer.hmmsearch(hmms, block, cpus=2,
                                                            bit_cutoffs="gathering"),
                                    strict=True)
                for hit in top.reported for d in hit.domains.reported
                if d.i_evalue <= pfam.evalue}
    ours = {(h["protein_id"], h["family"], h["ali_from"], h["ali_to"], round(h["score"], 2),
             f"{h['evalue']:.6g}") for h in service.rows(CURATOR, acc, "hits")}
    assert ours == expected and len(ours) > 20
