"""A metagenome assembly with 100,000 contigs ingests in a stream: Parquet row groups are
written as contigs arrive and Python never holds all contig strings at once."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy import Engine

from tests.support import bank_on, catalog_on
from tests.support.sequences import ANNOTATOR as CURATOR
from tests.support.sequences import CONTIGS, KK037166, LENGTH, write_metagenome


def test_100k_contig_metagenome_streams(engine: Engine, tmp_path: Path) -> None:
    fasta = tmp_path / "final.contigs.fa.gz"
    total = write_metagenome(fasta)
    record = catalog_on(engine).create(CURATOR, "assembly", {
        "assembly_name": "megahit co-assembly", "assembly_type": "metagenome",
        "seq_meth": "Illumina NovaSeq", "assembly_software": "MEGAHIT;1.2.9"})
    service = bank_on(engine, tmp_path / "data").sequences
    warm_up = catalog_on(engine).create(CURATOR, "assembly", {
        "assembly_name": "warm-up", "assembly_type": "metagenome",
        "seq_meth": "Illumina NovaSeq", "assembly_software": "MEGAHIT;1.2.9"})
    service.ingest(CURATOR, warm_up.accession, KK037166)  # lazy imports are not measured
    tracemalloc.start()
    result = service.ingest(CURATOR, record.accession, fasta)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert result["summary"]["contig_count"] == CONTIGS
    assert result["summary"]["genome_size"] == total == 30_000_000
    assert result["summary"]["n50"] == LENGTH
    # as Python strings the contigs would take 100,000 x 349 bytes = 35 MB; the stream holds
    # one row group of them (plus the ids, kept to report duplicates)
    assert peak < 25_000_000, f"peak {peak:,} bytes"
    parquet = pq.ParquetFile(tmp_path / "data" / "assemblies" / record.accession
                             / "contigs.parquet")
    assert parquet.metadata.num_rows == CONTIGS and parquet.metadata.num_row_groups >= 5
