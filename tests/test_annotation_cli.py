"""A researcher annotates a genome from the command line and reads every result: families,
substrates, loci, biosynthetic gene clusters (GECCO), hits as TSV/Parquet, GFF3 with hits and
GenBank with features (read back with Biopython)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from Bio import SeqIO

from lanhai.cli.main import main
from lanhai.store.sequences import HITS
from tests.support import new_assembly, run_json
from tests.support.sequences import GENBANK


def out(capsys: pytest.CaptureFixture[str], args: list[str], code: int = 0) -> str:
    capsys.readouterr()
    assert main(args) == code, capsys.readouterr().err
    return capsys.readouterr().out


def test_genome_annotation_results(bank_dir: Path, capsys: pytest.CaptureFixture[str],
                                   tmp_path: Path) -> None:
    acc = new_assembly(capsys, "BGC0001866 region")
    run_json(capsys, ["ingest", acc, str(GENBANK)])
    report = run_json(capsys, ["annotate", acc, "--packs", "pfam-gecco", "--threads", "2"])
    [item] = report["assemblies"]
    assert item["steps"] == {"genes": "done", "families": "done", "clusters": "done"}
    assert item["gene_count"] == 42 and item["cluster_count"] == 1
    assert report["packs"][0]["name"] == "pfam-gecco"

    # --- biosynthetic gene cluster: `gecco run -g BGC0001866.gbk` (gecco 0.11, its own
    # metagenomic-mode genes) finds BGC0001866.1_cluster_1, 347-32979, type Polyketide; on our
    # single-mode genes the cluster ends at the same base and has the same type
    [cluster] = run_json(capsys, ["annotations", acc, "--clusters"])
    assert cluster["cluster_id"] == "BGC0001866.1_cluster_1"
    assert cluster["type"] == "Polyketide" and cluster["end"] == 32979
    assert cluster["start"] < 10000 and cluster["average_probability"] > 0.9
    assert "PF00109" in cluster["domains"]  # ketoacyl synthase (beta-ketoacyl synthase N)
    assert "Polyketide" in out(capsys, ["annotations", acc, "--clusters"])

    # --- families: one row per family, counts of proteins and domains
    families = run_json(capsys, ["annotations", acc, "--families"])
    assert sum(f["domains"] for f in families) == item["hit_count"]
    ks = next(f for f in families if f["family"] == "ketoacyl-synt")
    assert ks["family_accession"].startswith("PF00109") and ks["proteins"] >= 1
    assert {f["pack_version"] for f in families} == {report["packs"][0]["version"]}
    assert out(capsys, ["annotations", acc, "--families"]).startswith(
        "pack\tpack_version\tcategory\tfamily")
    assert run_json(capsys, ["annotations", acc, "--substrates"])["substrates"] == {}
    assert "no CAZyme" in out(capsys, ["annotations", acc, "--substrates"])
    assert run_json(capsys, ["annotations", acc, "--loci"]) == []
    assert run_json(capsys, ["annotations", acc, "--plastics"]) == []

    # --- hit tables: Parquet (the stored schema) and TSV, written atomically
    parquet = tmp_path / "hits.parquet"
    out(capsys, ["annotations", acc, "--hits", "--format", "parquet", "-o", str(parquet)])
    table = pq.read_table(parquet)
    assert table.schema.equals(HITS) and table.num_rows == item["hit_count"]
    tsv = out(capsys, ["annotations", acc, "--hits"]).splitlines()
    assert tsv[0].split("\t")[:4] == ["protein_id", "pack", "category", "family"]
    assert len(tsv) == item["hit_count"] + 1
    assert out(capsys, ["annotations", acc, "--hits", "--format", "parquet"], 2) == ""

    # --- GFF3 with hits as attributes
    gff = out(capsys, ["annotations", acc, "--genes", "--format", "gff3"]).splitlines()
    ks_gene = [ln for ln in gff if "domains=ketoacyl-synt:pfam-gecco:" in ln]
    assert ks_gene and all("bgc=BGC0001866.1_cluster_1" in ln for ln in ks_gene)

    # --- GenBank: read back with Biopython
    gbk = tmp_path / "annotated.gbk"
    out(capsys, ["annotations", acc, "--genes", "--format", "genbank", "-o", str(gbk)])
    [record] = list(SeqIO.parse(gbk, "genbank"))
    original = next(SeqIO.parse(GENBANK, "genbank"))
    assert str(record.seq) == str(original.seq) and len(record.seq) == 33290
    cds = [f for f in record.features if f.type == "CDS"]
    proteins = {p["id"]: p["sequence"]
                for p in run_json(capsys, ["annotations", acc, "--proteins"])}
    assert len(cds) == 42
    assert {f.qualifiers["locus_tag"][0]: f.qualifiers["translation"][0] for f in cds} == \
        proteins
    for feature in cds:  # the CDS location translates to the stored protein
        if feature.qualifiers["codon_start"] == ["1"]:
            protein = proteins[feature.qualifiers["locus_tag"][0]]
            dna = feature.extract(record.seq)
            assert str(dna[3:].translate(table=11, to_stop=True)) == protein[1:]
    bgc = [f for f in record.features if f.type == "misc_feature"
           and f.qualifiers.get("label") == ["BGC"]]
    assert len(bgc) == 1 and int(bgc[0].location.end) == 32979
    domains = [f for f in record.features if f.type == "misc_feature"
               and "locus_tag" in f.qualifiers]
    assert len(domains) == item["hit_count"]

    # --- a second run redoes nothing
    again = run_json(capsys, ["annotate", acc, "--packs", "pfam-gecco"])
    assert again["assemblies"][0]["status"] == "already done"


def test_proteome_results_and_refusals(bank_dir: Path, capsys: pytest.CaptureFixture[str]
                                       ) -> None:
    from tests.support.sequences import PROTEOME

    acc = new_assembly(capsys, "Maribacter slice")
    run_json(capsys, ["ingest", acc, str(PROTEOME), "--kind", "proteome", "--allow-stops"])
    report = run_json(capsys, ["annotate", acc, "--packs", "pfam-gecco"])
    assert report["assemblies"][0]["steps"]["clusters"].startswith("skipped: proteome")
    hits = run_json(capsys, ["annotations", acc, "--hits"])
    assert hits and all(h["protein_id"].endswith("_[Maribacter_Hel_I_7]") for h in hits)
    capsys.readouterr()
    assert main(["annotations", acc, "--clusters"]) == 1
    assert "proteome" in capsys.readouterr().err
    assert main(["annotations", acc, "--genes", "--format", "genbank"]) == 2
    assert main(["annotations", acc, "--families", "--format", "fasta"]) == 2
    assert main(["annotate", acc, "--steps", "nothing"]) == 2
    assert main(["annotate", acc, "--packs", "no-such-pack"]) == 2
    json.loads(out(capsys, ["annotations", acc, "--substrates", "--json"]))
    assert io.StringIO(out(capsys, ["annotations", acc, "--loci"])).readline().startswith(
        "locus_id")
