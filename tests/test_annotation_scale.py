"""A 100,000-contig metagenome assembly is gene-called and annotated in a stream: memory holds
a row group of genes and a batch of proteins, never the whole assembly."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy import Engine

from tests.support import bank_on, catalog_on
from tests.support.sequences import ANNOTATOR as CURATOR
from tests.support.sequences import CONTIGS, stored, sus_pack, write_metagenome


def test_100k_contig_metagenome_annotates_in_bounded_memory(sqlite_engine: Engine,
                                                            tmp_path: Path) -> None:
    fasta = tmp_path / "final.contigs.fa.gz"
    write_metagenome(fasta)
    record = catalog_on(sqlite_engine).create(CURATOR, "assembly", {
        "assembly_name": "megahit co-assembly", "assembly_type": "metagenome",
        "seq_meth": "Illumina NovaSeq", "assembly_software": "MEGAHIT;1.2.9"})
    service = bank_on(sqlite_engine, tmp_path / "data").sequences
    service.ingest(CURATOR, record.accession, fasta)
    # warm up the lazy imports and the HMM reader on a tiny assembly (not measured)
    from tests.support.sequences import KK037166

    warm = catalog_on(sqlite_engine).create(CURATOR, "assembly", {
        "assembly_name": "warm-up", "assembly_type": "metagenome",
        "seq_meth": "Illumina NovaSeq", "assembly_software": "MEGAHIT;1.2.9"})
    service.ingest(CURATOR, warm.accession, KK037166)
    service.annotate(CURATOR, [warm.accession], packs=[sus_pack()],
                     steps=["genes", "families"])
    tracemalloc.start()
    report = service.annotate(CURATOR, [record.accession], packs=[sus_pack()],
                              steps=["genes", "families"], threads=2)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    [item] = report["assemblies"]
    assert item["steps"] == {"genes": "done", "families": "done"}
    genes = item["gene_count"]
    assert genes > CONTIGS  # about one gene per 300 bp window
    # held at once, the genes' nucleotide sequences alone would be 100,000+ strings of
    # ~300 characters (> 35 MB as Python strings) and the proteins > 15 MB more; the stream
    # holds one row group of genes and one batch of proteins
    assert peak < 20_000_000, f"peak {peak:,} bytes"
    store = stored(tmp_path / "data")
    path = store.table_path(record.accession, "hits")
    assert path is not None and pq.ParquetFile(path).metadata.num_rows == item["hit_count"]
    done = store.step_done(record.accession, "annotation")
    assert done is not None and done["protein_count"] == genes
