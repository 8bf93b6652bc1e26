"""A metagenome assembly with 100,000 contigs ingests in a stream: Parquet row groups are
written as contigs arrive and Python never holds all contig strings at once."""

from __future__ import annotations

import gzip
import tracemalloc
from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy import Engine

from lanhai.services.catalog import CatalogService
from lanhai.services.sequences import SequenceService
from tests.test_sequence_cli import KK037166
from tests.test_sequence_resume import CURATOR

CONTIGS = 100_000
LENGTH = 300


def write_metagenome(path: Path) -> int:
    """100,000 contigs cut from the real KK037166 scaffold (windows at shifting offsets)."""
    with gzip.open(KK037166, "rt") as handle:
        source = "".join(line.strip() for line in handle if not line.startswith(">"))
    total = 0
    with gzip.open(path, "wt", compresslevel=1) as out:
        for n in range(CONTIGS):
            start = (n * 37) % (len(source) - LENGTH)
            out.write(f">k141_{n} flag=1 multi=2.0 len={LENGTH}\n{source[start:start + LENGTH]}\n")
            total += LENGTH
    return total


def test_100k_contig_metagenome_streams(engine: Engine, tmp_path: Path) -> None:
    fasta = tmp_path / "final.contigs.fa.gz"
    total = write_metagenome(fasta)
    record = CatalogService(engine).create(CURATOR, "assembly", {
        "assembly_name": "megahit co-assembly", "assembly_type": "metagenome",
        "seq_meth": "Illumina NovaSeq", "assembly_software": "MEGAHIT;1.2.9"})
    service = SequenceService(engine, tmp_path / "data")
    warm_up = CatalogService(engine).create(CURATOR, "assembly", {
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
