"""The pure sequence core: reading, validation and statistics on small in-memory inputs."""

from __future__ import annotations

import gzip
import io

from lanhai.sequence import formats
from lanhai.sequence.reader import MAX_PROBLEMS, PROTEOME, SequenceReader
from lanhai.sequence.stats import AssemblyStats
from tests.support.sequences import GENBANK


def read(data: bytes, **options: object) -> tuple[list[tuple[str, str]], list[str]]:
    reader = SequenceReader(io.BytesIO(data), **options)  # type: ignore[arg-type]
    records = [(r.id, r.sequence) for r in reader]
    return records, [p.describe() for p in reader.problems]


def test_fasta_soft_masking_and_line_endings() -> None:
    records, problems = read(b">c1 desc\r\nacgtN\r\nAC\r\n\r\n>c2\rGG\r")
    assert records == [("c1", "ACGTNAC"), ("c2", "GG")] and problems == []


def test_gzip_sniffed_from_bytes_not_name() -> None:
    reader = SequenceReader(io.BytesIO(gzip.compress(b">a\nACGT\n")), name="a.fasta")
    assert [r.sequence for r in reader] == ["ACGT"] and reader.compressed


def test_corrupt_and_unknown_inputs() -> None:
    corrupt = bytearray(gzip.compress(b">a\nACGT\n" * 100))
    corrupt[12:20] = b"\xff" * 8
    assert "corrupt" in read(bytes(corrupt))[1][0]
    assert "neither FASTA" in read(b"id,sequence\na,ACGT\n")[1][0]
    assert "empty" in read(b"")[1][0]
    assert "no sequence records" in read(b"\n\n>\n")[1][-1] or read(b"\n\n>\n")[1]


def test_problems_are_capped_but_counted() -> None:
    data = b"".join(b">s%d\nACGTZ\n" % n for n in range(MAX_PROBLEMS + 50))
    reader = SequenceReader(io.BytesIO(data))
    assert list(reader) == []
    assert len(reader.problems) == MAX_PROBLEMS and reader.problem_count == MAX_PROBLEMS + 50


def test_proteins_drop_the_final_stop() -> None:
    records, problems = read(b">p1\nMKV*\n>p2\nMK*V\n", kind=PROTEOME, allow_stops=True)
    assert records == [("p1", "MKV"), ("p2", "MK*V")] and problems == []


def test_genbank_records_use_the_version_id() -> None:
    reader = SequenceReader(io.BytesIO(GENBANK.read_bytes()))
    [record] = list(reader)
    assert reader.format == "genbank" and record.id == "BGC0001866.1"
    assert len(record.sequence) == 33290 and set(record.sequence) <= set("ACGTN")
    cut = GENBANK.read_bytes().rsplit(b"//", 1)[0]
    problems = read(cut)[1]
    assert len(problems) == 1 and "no '//' terminator" in problems[0]


def test_assembly_statistics() -> None:
    stats = AssemblyStats()
    for seq in ("A" * 10, "G" * 20, "CN" * 15, "T" * 40):  # lengths 10, 20, 30, 40: total 100
        stats.add(seq)
    # N50: 40 + 30 = 70 >= 50 -> 30; GC over A/C/G/T only: (20 + 15) / (10 + 20 + 15 + 40)
    # "CN" * 15 ends in N: its 14 inner runs of one N are gaps, 15 one-base contigs remain
    assert stats.genome_summary() == {"genome_size": 100, "contig_count": 4, "n50": 30,
                                      "gc_percent": 41.18, "largest_contig": 40,
                                      "sequence_contig_n50": 20, "gap_count": 14}
    assert AssemblyStats().genome_summary()["gc_percent"] is None


def test_gff3_phase_of_a_cut_gene() -> None:
    row = {"contig": "c 1", "protein_id": "c 1_1", "start": 1, "end": 100, "strand": 1,
           "partial_begin": True, "partial_end": False, "start_type": "Edge",
           "rbs_motif": None, "gc": 0.5, "score": 1.0, "translation_table": 11}
    lines = list(formats.gff3([row], [("c 1", 100)]))
    cols = lines[-1].rstrip("\n").split("\t")
    # a seqid escapes the space; column 9 may hold spaces
    assert cols[0] == "c%201" and cols[7] == "1" and "ID=c 1_1;partial=10" in cols[8]
