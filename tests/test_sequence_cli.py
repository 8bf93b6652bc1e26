"""A researcher's sequence commands: `lanhai ingest`, `lanhai annotate`, `lanhai annotations`.

Genomes come from the test data pyrodigal's wheel ships (Prodigal's own test genomes, see
tests/data/sequence/README.md); the proteome slice and the GenBank file are in
tests/data/sequence/.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from lanhai.cli.main import main
from tests.support import new_assembly, run_json
from tests.support.sequences import GENBANK, HERE, KK037166, PROTEOME, PYRODIGAL_DATA, SRR492066


def stored_files(bank: Path) -> list[str]:
    root = bank / "assemblies"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) \
        if root.exists() else []


def test_ingest_genome_computes_statistics(bank_dir: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    acc = new_assembly(capsys, "Kutzneria sp. 744 scaffold")
    result = run_json(capsys, ["ingest", acc, str(KK037166)])
    assert result["status"] == "stored" and result["format"] == "fasta"
    assert result["compressed"] is True
    # `zcat KK037166.fna.gz | grep -v '>' | tr -d '\n' | tr -cd GC | wc -c` -> 13206 G+C of
    # 19376 A/C/G/T (`tr -cd ACGT`), the other 624 of 20000 bases are N: GC 68.16 %.
    # The N come in two runs inside the scaffold (100 and 524: `grep -o 'N\+'`), which split
    # it into three contigs; split at N (`tr N '\n'`), the longest is 14,257 bp: the N50.
    assert result["summary"] == {"sequence_kind": "genome", "genome_size": 20000,
                                 "contig_count": 1, "n50": 20000, "gc_percent": 68.16,
                                 "largest_contig": 20000, "gene_count": None,
                                 "protein_count": None, "sequence_contig_n50": 14257,
                                 "gap_count": 2}
    shown = run_json(capsys, ["show", acc])
    assert shown["fields"]["n50"] == 20000 and shown["fields"]["genome_size"] == 20000
    assert (shown["fields"]["sequence_contig_n50"], shown["fields"]["gap_count"]) == (14257, 2)
    assert "gene_count" not in shown["fields"]
    contigs = pq.read_table(bank_dir / "assemblies" / acc / "contigs.parquet")
    assert contigs.column("id").to_pylist() == ["KK037166.1"]
    assert pq.ParquetFile(bank_dir / "assemblies" / acc / "contigs.parquet"
                          ).metadata.row_group(0).column(0).compression == "ZSTD"
    history = run_json(capsys, ["history", acc])
    assert history[-1]["note"] == "ingested KK037166.fna.gz"
    assert history[-1]["changed_by"] == "miner-li"


def test_gzip_is_sniffed_and_windows_line_endings_accepted(
        bank_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain = gzip.decompress(KK037166.read_bytes()).replace(b"\n", b"\r\n")
    odd_name = tmp_path / "genome.txt"  # neither extension nor line endings are trusted
    odd_name.write_bytes(gzip.compress(plain))
    acc = new_assembly(capsys, "KK037166 CRLF")
    result = run_json(capsys, ["ingest", acc, str(odd_name)])
    assert result["compressed"] is True
    assert result["summary"]["genome_size"] == 20000


def test_bad_file_reports_every_problem_and_stores_nothing(
        bank_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.fasta"
    bad.write_text(">contig_1 ok\nACGTNNACGT\n>contig_2\nACGT-ACGX\n>contig_1\nACGT\n"
                   ">\nACGT\n>empty\n\n>protein\nMKLV EE\n", "utf-8")
    acc = new_assembly(capsys, "broken")
    envelope = run_json(capsys, ["ingest", acc, str(bad)], code=1)
    problems = envelope["error"]["problems"]
    found = {(p.get("record"), p.get("row"), p.get("value"), p["reason"].split(":")[0])
             for p in problems}
    assert found == {
        ("contig_2", 4, "-", "stray character gap"),
        ("contig_2", 4, "X", "stray character 'X'"),
        ("contig_1", 5, None, "duplicate id (first used on line 1)"),
        (None, 7, None, "the header has no sequence id"),
        ("empty", 9, None, "the sequence is empty"),
        ("protein", 12, " ", "stray character space"),  # M, K and V are IUPAC codes
        ("protein", 12, "E", "stray character 'E'"),
        ("protein", 12, "L", "stray character 'L'"),
    }
    assert all(p["file"] == "bad.fasta" and p["fix"] for p in problems)
    assert "--kind proteome" in next(p["fix"] for p in problems if p.get("value") == "E")
    assert stored_files(bank_dir) == []
    assert "n50" not in run_json(capsys, ["show", acc])["fields"]


def test_truncated_gzip_is_a_clear_error(bank_dir: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    data = SRR492066.read_bytes()
    cut = tmp_path / "SRR492066.fna.gz"
    cut.write_bytes(data[: len(data) // 2])
    acc = new_assembly(capsys, "cut short", "metagenome")
    capsys.readouterr()
    assert main(["ingest", acc, str(cut)]) == 1
    err = capsys.readouterr().err
    assert "gzip file is truncated" in err and "gzip -t" in err
    assert stored_files(bank_dir) == []


def test_reingest_is_idempotent_and_a_new_file_needs_replace(
        bank_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    acc = new_assembly(capsys, "Kutzneria", "metagenome")
    run_json(capsys, ["ingest", acc, str(KK037166)])
    run_json(capsys, ["annotate", acc, "--steps", "genes"])
    before = stored_files(bank_dir)
    version = run_json(capsys, ["show", acc])["version"]
    again = run_json(capsys, ["ingest", acc, str(KK037166)])
    assert again["status"] == "unchanged"
    assert stored_files(bank_dir) == before
    assert run_json(capsys, ["show", acc])["version"] == version
    refused = run_json(capsys, ["ingest", acc, str(SRR492066)], code=1)
    assert refused["error"]["code"] == "conflict" and "--replace" in refused["error"]["message"]
    replaced = run_json(capsys, ["ingest", acc, str(SRR492066), "--replace"])
    assert replaced["status"] == "replaced" and replaced["summary"]["genome_size"] == 79939
    # the old genes belonged to the old sequences: gone from the store and the record
    assert "genes.done.json" not in stored_files(bank_dir)[0]
    assert not (bank_dir / "assemblies" / acc / "genes").exists()
    assert "gene_count" not in run_json(capsys, ["show", acc])["fields"]
    assert not list((bank_dir / "assemblies" / ".staging").iterdir())


def test_genbank_file(bank_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    acc = new_assembly(capsys, "BGC0001866 region")
    result = run_json(capsys, ["ingest", acc, str(GENBANK)])
    assert result["format"] == "genbank"
    # LOCUS line: 'LOCUS       BGC0001866.1           33290 bp    DNA'
    assert result["summary"]["genome_size"] == 33290
    table = pq.read_table(bank_dir / "assemblies" / acc / "contigs.parquet")
    assert table.column("id").to_pylist() == ["BGC0001866.1"]
    origin = next(line for line in GENBANK.read_text().splitlines()
                  if re.match(r"\s+1 [acgtn]", line))
    assert table.column("sequence")[0].as_py().startswith("".join(origin.split()[1:]).upper())


def test_proteome_with_internal_stops(bank_dir: Path, capsys: pytest.CaptureFixture[str]
                                      ) -> None:
    acc = new_assembly(capsys, "Maribacter sp. Hel_I_7 proteins 231-260")
    refused = run_json(capsys, ["ingest", acc, str(PROTEOME), "--kind", "proteome"], code=1)
    stops = {p["record"] for p in refused["error"]["problems"]}
    # zcat maribacter_hel_i_7_231-260.faa.gz | awk '/^>/{if (s ~ /\*./) print h; h=$1; s="";
    #   next} {s=s $0} END{if (s ~ /\*./) print h}'   (a '*' followed by a residue)
    assert stops == {f"P178_RS{n}_[Maribacter_Hel_I_7]" for n in (21225, 21230, 21235, 21245)}
    assert all("--allow-stops" in p["fix"] for p in refused["error"]["problems"])
    stored = run_json(capsys, ["ingest", acc, str(PROTEOME), "--kind", "proteome",
                               "--allow-stops"])
    assert stored["summary"]["protein_count"] == 30
    annotated = run_json(capsys, ["annotate", acc, "--steps", "genes"])
    assert annotated["assemblies"][0]["status"] == "skipped"
    proteins = run_json(capsys, ["annotations", acc, "--proteins"])
    assert proteins[0]["id"] == "P178_RS0101200_[Maribacter_Hel_I_7]"  # ids kept as given
    assert len(proteins) == 30
    capsys.readouterr()
    assert main(["annotations", acc, "--proteins", "--format", "fasta"]) == 0
    assert capsys.readouterr().out.count(">") == 30
    assert main(["annotations", acc, "--genes"]) == 1  # a proteome has no genes


def test_annotations_outputs(bank_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    acc = new_assembly(capsys, "SRR492066 contig", "metagenome")
    run_json(capsys, ["ingest", acc, str(SRR492066)])
    done = run_json(capsys, ["annotate", acc, "--steps", "genes"])
    assert done["assemblies"][0]["gene_count"] == 70
    stats = run_json(capsys, ["annotations", acc, "--stats"])
    assert stats["genes"]["mode"] == "meta" and stats["summary"]["contig_count"] == 1
    shown = run_json(capsys, ["show", acc])
    assert shown["fields"]["gene_count"] == 70 and shown["fields"]["protein_count"] == 70

    capsys.readouterr()
    assert main(["annotations", acc, "--genes", "--format", "gff3"]) == 0
    gff = capsys.readouterr().out.splitlines()
    check_gff3(gff)
    assert len([ln for ln in gff if not ln.startswith("#")]) == 70
    # Prodigal's own GFF (`prodigal -p meta -f gff -i SRR492066.fna -o SRR492066.meta.gff`,
    # shipped with pyrodigal): same seqid, coordinates, strand and phase, gene by gene
    reference = [ln.split("\t") for ln in (PYRODIGAL_DATA / "SRR492066.meta.gff")
                 .read_text().splitlines() if ln and not ln.startswith("#")]
    ours = [ln.split("\t") for ln in gff if not ln.startswith("#")]
    assert [(r[0], r[3], r[4], r[6], r[7]) for r in reference] == \
        [(o[0], o[3], o[4], o[6], o[7]) for o in ours]

    assert main(["annotations", acc, "--genes"]) == 0
    tsv = capsys.readouterr().out.splitlines()
    assert tsv[0].startswith("protein_id\tcontig\tstart\tend\tstrand") and len(tsv) == 71
    assert main(["annotations", acc, "--genes", "--format", "fasta"]) == 0
    assert capsys.readouterr().out.count(">") == 70
    assert main(["annotations", acc]) == 2
    assert main(["annotations", acc, "--proteins", "--format", "gff3"]) == 2


def check_gff3(lines: list[str]) -> None:
    """GFF3 (Sequence Ontology spec 1.26): pragma, 9 tab-separated columns, 1-based
    start <= end within the ##sequence-region, CDS phase in 0-2, unique ID attributes."""
    assert lines[0] == "##gff-version 3"
    regions = {ln.split()[1]: int(ln.split()[3]) for ln in lines
               if ln.startswith("##sequence-region")}
    ids = set()
    for line in lines:
        if line.startswith("#"):
            continue
        cols = line.split("\t")
        assert len(cols) == 9, line
        seqid, source, kind, start, end, score, strand, phase, attrs = cols
        assert source == "Lanhai/pyrodigal" and kind == "CDS"
        assert 1 <= int(start) <= int(end) <= regions[seqid]
        assert strand in "+-" and phase in ("0", "1", "2")
        float(score)
        pairs = dict(item.split("=", 1) for item in attrs.split(";"))
        assert pairs["ID"] not in ids
        ids.add(pairs["ID"])


def test_unknown_records_and_missing_files(bank_dir: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest", "LHAS0000099", str(KK037166)]) == 1
    assert main(["ingest", "nonsense", str(KK037166)]) == 2
    acc = new_assembly(capsys, "x")
    assert main(["ingest", acc, str(HERE / "missing.fa")]) == 2
    assert main(["annotate", acc, "--steps", "genes"]) == 1  # nothing ingested yet


def test_staging_leftovers_are_never_visible(bank_dir: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    acc = new_assembly(capsys, "x", "metagenome")
    run_json(capsys, ["ingest", acc, str(SRR492066)])
    # a run killed while writing leaves only a staging folder, which readers never see
    leftover = bank_dir / "assemblies" / ".staging" / f"{acc}-dead"
    leftover.mkdir(parents=True)
    shutil.copy(bank_dir / "assemblies" / acc / "contigs.parquet", leftover / "genes.parquet")
    assert main(["annotations", acc, "--genes"]) == 1


def test_a_damaged_assembly_fails_alone(bank_dir: Path, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    good = new_assembly(capsys, "good", "metagenome")
    bad = new_assembly(capsys, "damaged", "metagenome")
    for acc in (good, bad):
        run_json(capsys, ["ingest", acc, str(SRR492066)])
    contigs = bank_dir / "assemblies" / bad / "contigs.parquet"
    contigs.write_bytes(contigs.read_bytes()[:100])  # a disk error after ingest
    capsys.readouterr()
    assert main(["annotate", bad, good, "--steps", "genes", "--json"]) == 1
    out = capsys.readouterr()
    report = json.loads(out.out)  # one JSON document: the report, failures included
    assert {a["accession"]: a["status"] for a in report["assemblies"]} == \
        {good: "done", bad: "failed"}
    assert report["failed"][0]["record"] == bad and bad in out.err
    assert run_json(capsys, ["show", good])["fields"]["gene_count"] == 70


def test_rerunning_restores_the_record_summary(bank_dir: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    acc = new_assembly(capsys, "SRR492066", "metagenome")
    run_json(capsys, ["ingest", acc, str(SRR492066)])
    run_json(capsys, ["annotate", acc, "--steps", "genes"])
    updated = run_json(capsys, ["update", acc, "--set", "taxon_name=Mycoplasma"])
    # a curator's edit keeps the summary that came from the stored sequences
    assert (updated["fields"]["n50"], updated["fields"]["gene_count"]) == (79939, 70)
    report = run_json(capsys, ["annotate", acc, "--steps", "genes"])
    assert report["assemblies"][0]["status"] == "already done"
    fields = run_json(capsys, ["show", acc])["fields"]
    assert (fields["taxon_name"], fields["n50"], fields["gene_count"]) == \
        ("Mycoplasma", 79939, 70)
