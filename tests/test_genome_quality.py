"""Assembly quality (lanhai.genomes.quality, .standards, .ncbi), from the user's side.

The hand-picked assemblies' expected classifications were written from their rows in
tests/data/genomes/ (subsets of the team's ncbi_assemblies.tsv and GenomeArk tables; see its
README.md), not from the code: contig N50, level, share assigned to chromosomes, BUSCO S
and, where GenomeArk has it, the kreeq QV of the same ToLID's curated primary assembly.
"""

from __future__ import annotations

import collections
import csv
import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from lanhai.errors import LanhaiError, NotFound, ValidationFailed
from lanhai.genomes.ncbi import AssemblyTable, read_assembly_file, read_assembly_table
from lanhai.genomes.quality import (
    AssemblyLevel,
    AssemblyMetrics,
    Busco,
    check_metrics,
    metrics_from_sequences,
    n50,
    ng50,
    parse_busco_summary,
    parse_compleasm_summary,
    parse_merqury_completeness,
    parse_merqury_qv,
    read_fasta,
)
from lanhai.genomes.standards import (
    ORDER,
    SHIPPED,
    Classification,
    best_standard,
    classify,
    classify_all,
    load_standards,
    standard,
)

DATA = Path(__file__).parent / "data" / "genomes"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "genomes"
EBP = standard("6.C.Q40")
TODAY = dt.date(2025, 1, 1)


@pytest.fixture(scope="module")
def subset() -> dict[str, AssemblyMetrics]:
    table = read_assembly_file(DATA / "ncbi_assemblies_subset.tsv", today=TODAY)
    assert table.problems == []
    return {m.accession or "": m for m in table.rows}


def _genomeark_qv() -> dict[str, float]:
    """Accession -> kreeq QV of the same ToLID's curated primary on GenomeArk."""
    with (DATA / "genomeark_species_subset.tsv").open(encoding="utf-8") as handle:
        primary = {}
        for row in csv.DictReader(handle, delimiter="\t"):
            for pair in row["insdc_primary"].split():
                tolid, accession = pair.split(":")
                primary[tolid] = accession
    with (DATA / "genomeark_assemblies_subset.tsv").open(encoding="utf-8") as handle:
        return {primary[r["tolid"]]: float(r["qv"])
                for r in csv.DictReader(handle, delimiter="\t")
                if r["role"] == "primary" and r["version_folder"] == "assembly_curated"}


def _with_qv(m: AssemblyMetrics) -> AssemblyMetrics:
    return dataclasses.replace(m, qv=_genomeark_qv()[m.accession or ""])


def _failed(c: Classification) -> list[str]:
    return sorted(f.metric for f in c.failures)


# --- hand-picked assemblies ----------------------------------------------------------------

def test_anableps_meets_ebp_with_its_genomeark_qv(subset: dict[str, AssemblyMetrics]) -> None:
    """GCA_014839685.1: Chromosome, contig N50 17,460,000, 99.97 % assigned, BUSCO S
    98.54 %, QV 40.9204 (fAnaAna1 pri1 curated): EBP 6.C.Q40 met; false duplications,
    k-mer completeness and transcripts are not measured (additional criteria)."""
    m = _with_qv(subset["GCA_014839685.1"])
    c = classify(m, EBP)
    assert c.met and c.verdict == "met" and c.failures == []
    assert sorted(n.metric for n in c.not_measured) == [
        "false_duplications_pct", "kmer_completeness_pct", "transcript_mappability_pct"]
    assert all(n.criterion.additional for n in c.not_measured)
    assert sorted(p.metric for p in c.passed) == [
        "assigned_to_chromosomes_pct", "base_error_rate", "busco_single_copy_complete_pct",
        "contig_n50", "scaffolding"]
    # VGP-2020 asks QV > 50; VGP-2016's NG50s are not measured from an N50
    assert _failed(classify(m, standard("VGP-2020"))) == ["qv"]
    assert classify(m, standard("VGP-2016")).verdict == "undetermined"
    assert best_standard(m) == EBP
    # without the QV the same row cannot meet it, and does not fail it either
    bare = classify(subset["GCA_014839685.1"], EBP)
    assert bare.verdict == "undetermined"
    assert [n.metric for n in bare.not_measured if not n.criterion.additional] == [
        "base_error_rate"]


def test_pholis_meets_ebp(subset: dict[str, AssemblyMetrics]) -> None:
    """GCA_910591455.2: contig N50 3,519,450, 99.96 % assigned, BUSCO S 98.54 %, QV 51.36."""
    m = _with_qv(subset["GCA_910591455.2"])
    assert classify(m, EBP).met
    assert classify(m, standard("VGP-2020")).verdict == "undetermined"  # NG50s unknown
    assert best_standard(m) == EBP


def test_salmo_trutta_fails_only_on_single_copy_genes(subset: dict[str, AssemblyMetrics]
                                                     ) -> None:
    """GCA_901001165.2: contig N50 1,703,178, 91.46 % assigned, QV 40.0445, but BUSCO S is
    49.82 % (C 98.42 %: a salmonid's duplicated genome)."""
    m = _with_qv(subset["GCA_901001165.2"])
    c = classify(m, EBP)
    assert not c.met and c.verdict == "not met"
    assert _failed(c) == ["busco_single_copy_complete_pct"]
    failure = c.failures[0]
    assert failure.required == "> 90 %"
    assert failure.actual.startswith("49.82 % (busco, vertebrata_odb10)")
    assert "complete single-copy genes 49.82 %" in failure.reason
    assert "is below 90 %" in failure.reason and "6.C.Q40 requires > 90 %" in failure.reason
    assert best_standard(m) == standard("6.C")  # GoaT's label: contig >= 1 Mb, >= 90 %


def test_aplochiton_fails_on_contig_n50(subset: dict[str, AssemblyMetrics]) -> None:
    """GCA_017639675.1: contig N50 956,540 < 1 Mb; BUSCO S 86.52 %; QV 42.10 passes."""
    c = classify(_with_qv(subset["GCA_017639675.1"]), EBP)
    assert _failed(c) == ["busco_single_copy_complete_pct", "contig_n50"]
    contig = next(f for f in c.failures if f.metric == "contig_n50")
    assert contig.actual == "956,540 bp (957 kb)"
    assert contig.reason.startswith("contig N50 956,540 bp (957 kb) is below 1 Mb: EBP")
    assert "\"megabase N50 contig continuity\"" in contig.reason
    assert best_standard(_with_qv(subset["GCA_017639675.1"])) is None


def test_petromyzon_fails_on_its_error_rate(subset: dict[str, AssemblyMetrics]) -> None:
    """GCA_010993605.1: QV 39.7684 is 1.05e-4 errors per base, not below 1/10,000; BUSCO S
    72.33 %. Contig N50 2,540,784 and 92.3 % assigned pass."""
    c = classify(_with_qv(subset["GCA_010993605.1"]), EBP)
    assert _failed(c) == ["base_error_rate", "busco_single_copy_complete_pct"]
    rate = next(f for f in c.failures if f.metric == "base_error_rate")
    assert rate.actual == "0.000105 errors per base (QV 39.7684)"
    assert "is above 0.0001 errors per base" in rate.reason
    assert "less than 1/10,000 error rate" in rate.reason


def test_abudefduf_fails_on_contig_n50_and_scaffolding(subset: dict[str, AssemblyMetrics]
                                                      ) -> None:
    """GCA_043656515.1: Scaffold level, contig N50 6,567 bp."""
    m = subset["GCA_043656515.1"]
    c = classify(m, EBP)
    assert _failed(c) == ["assigned_to_chromosomes_pct", "contig_n50", "scaffolding"]
    by = {f.metric: f for f in c.failures}
    assert by["contig_n50"].reason.startswith("contig N50 6,567 bp (6.57 kb) is below 1 Mb")
    assert by["scaffolding"].actual == "assembly level Scaffold"
    assert by["scaffolding"].reason.startswith(
        "scaffolding is not chromosome-scale: assembly level Scaffold;")
    assert "nothing is assigned to chromosomes" in by["assigned_to_chromosomes_pct"].actual
    assert best_standard(m) is None


def test_a_scaffold_level_assembly_with_long_contigs_fails_only_on_chromosomes(
        subset: dict[str, AssemblyMetrics]) -> None:
    """GCA_037954235.1 (Aulostomus chinensis): Scaffold, contig N50 15,598,637, scaffold N50
    29,908,936, compleasm S 99.61 %: EBP fails on scaffolding and the share assigned; GoaT
    labels it 6.7."""
    m = subset["GCA_037954235.1"]
    assert _failed(classify(m, EBP)) == ["assigned_to_chromosomes_pct", "scaffolding"]
    assert classify(m, standard("6.7")).met
    assert best_standard(m) == standard("6.7")


def test_a_zero_share_assigned_fails_scaffolding(subset: dict[str, AssemblyMetrics]) -> None:
    """GCA_036784965.1 (Salvelinus alpinus oquassa): Scaffold, 0 % assigned, BUSCO S 55.93 %."""
    c = classify(subset["GCA_036784965.1"], EBP)
    assert _failed(c) == ["assigned_to_chromosomes_pct", "busco_single_copy_complete_pct",
                          "scaffolding"]
    assert next(f for f in c.failures if f.metric == "scaffolding").actual == \
        "0 % assigned to chromosomes"


def test_chromosome_level_without_qv_is_undetermined_for_ebp_and_goat_labels_it(
        subset: dict[str, AssemblyMetrics]) -> None:
    """GCA_022829085.1 (Abramis brama): Chromosome, contig N50 10,167,936, 99.53 %
    assigned, compleasm S 98.09 %, no QV. GCF_021347895.1 (Acanthochromis polyacanthus):
    Chromosome, contig 5,524,274, scaffold 41,709,588, share assigned unknown."""
    abramis = subset["GCA_022829085.1"]
    c = classify(abramis, EBP)
    assert c.verdict == "undetermined" and c.failures == []
    assert best_standard(abramis) == standard("6.C")
    assert abramis.busco is not None and abramis.busco.tool == "compleasm"
    acanthochromis = subset["GCF_021347895.1"]
    assert classify(acanthochromis, standard("6.C")).verdict == "undetermined"
    assert "scaffolding" in [p.metric for p in classify(acanthochromis, EBP).passed]
    assert best_standard(acanthochromis) == standard("6.7")


def test_complete_genome_and_a_row_without_ncbi_statistics(
        subset: dict[str, AssemblyMetrics]) -> None:
    """GCA_041753875.1: Complete Genome, contig = scaffold N50 31,795,397, 100 % assigned.
    GCA_037832705.1 (Centriscus cristatus): none of NCBI's columns (not in the NCBI export),
    compleasm S 70.04 %, C 70.39 %."""
    complete = subset["GCA_041753875.1"]
    assert complete.assembly_level is AssemblyLevel.COMPLETE_GENOME
    assert best_standard(complete) == standard("6.C")
    bare = subset["GCA_037832705.1"]
    assert bare.contig_n50_bp is None and bare.assembly_level is None
    c = classify(bare, EBP)
    assert _failed(c) == ["busco_single_copy_complete_pct"]
    assert {"contig_n50", "scaffolding", "base_error_rate"} <= {n.metric for n in
                                                               c.not_measured}
    assert [classify(bare, standard(n)).verdict for n in ("6.C", "6.7", "5.C", "5.6")] == [
        "undetermined"] * 4
    assert _failed(classify(bare, standard("4.5.Q30"))) == ["genes_complete_pct"]
    assert best_standard(bare) is None


# --- every assembly of the real data ---------------------------------------------------------

def test_every_assembly_of_the_subset_is_classified(subset: dict[str, AssemblyMetrics]) -> None:
    assert len(subset) == 48
    for m in subset.values():
        results = classify_all(m)
        assert [c.standard.notation for c in results] == list(ORDER)
        for c in results:
            assert c.verdict in ("met", "not met", "undetermined")
            assert len(c.failures) + len(c.not_measured) + len(c.passed) == \
                len(c.standard.criteria)
            assert c.describe().startswith(c.standard.title)


@pytest.mark.skipif(not (SHARED / "ncbi_assemblies.tsv").exists(),
                    reason="the team's shared data is not beside the repository")
def test_all_fish_assemblies_of_the_shared_table_are_classified() -> None:
    """1,751 fish rows. The README counts 304 fish rows with contig N50 >= 1 Mb and >= 90 %
    assigned (GoaT's 6.C); NCBI has no QV, so no row can meet EBP 6.C.Q40 from it alone."""
    table = read_assembly_file(SHARED / "ncbi_assemblies.tsv",
                               keep=lambda row: row["selected_as"] == "fish")
    assert table.problems == []
    assert len(table.rows) == 1751
    verdicts: dict[str, collections.Counter[str]] = collections.defaultdict(
        collections.Counter)
    for m in table.rows:
        for c in classify_all(m):
            verdicts[c.standard.notation][c.verdict] += 1
    assert all(sum(v.values()) == 1751 for v in verdicts.values())
    assert verdicts["6.C"]["met"] == 304
    assert verdicts["6.C.Q40"]["met"] == 0
    assert verdicts["6.C.Q40"]["not met"] > 0


# --- metrics from sequences ------------------------------------------------------------------

FASTA = """\
>s1 two gaps: 5 N and 1 n
ACGTACGTACNNNNNGGGGG
nTTT
>s2 N at both ends are not gaps
NNAAAAAAAAAAAAAAAAAAAAN
>s3
acgtacgt
>s4 a 10 bp gap
AAAANNNNNNNNNNCCCCCC
"""


def test_metrics_from_sequences_match_a_hand_count() -> None:
    """By hand: scaffolds 24, 23, 8, 20 bp (total 75; N50 23); contigs 10, 5, 3 | 20 | 8 |
    4, 6 (sum 56, sorted 20, 10 …: 20 + 10 >= 28, N50 10); gaps 2 + 0 + 0 + 1 = 3."""
    m = metrics_from_sequences(read_fasta(FASTA.splitlines()), accession="GCA_000000001.1")
    assert (m.total_length_bp, m.scaffold_count, m.scaffold_n50_bp) == (75, 4, 23)
    assert (m.contig_count, m.contig_n50_bp, m.gap_count) == (7, 10, 3)
    assert m.accession == "GCA_000000001.1" and check_metrics(m) == []
    # with gaps of at least 2 N the single n stays inside s1's second contig (5 + 1 + 3)
    wide = metrics_from_sequences(read_fasta(FASTA.splitlines()), min_gap=2)
    assert (wide.contig_count, wide.contig_n50_bp, wide.gap_count) == (6, 10, 2)
    assert wide.total_length_bp == 75


def test_metrics_from_sequences_streams_a_generator() -> None:
    def scaffolds() -> Iterator[tuple[str, str]]:
        for i in range(1, 201):
            yield f"chr{i}", "ACGT" * i + "N" * 3 + "GG"
    m = metrics_from_sequences(scaffolds())
    assert m.scaffold_count == 200 and m.contig_count == 400 and m.gap_count == 200


@pytest.mark.parametrize("records, reason", [
    ([("a", "ACGT"), ("a", "GG")], "the id is used by an earlier sequence"),
    ([("a", "")], "has no bases"),
    ([("a", "ACGX")], "is not a nucleotide code"),
    ([("a", "NNNN")], "the assembly has no contig (every base is N)"),
    ([], "the assembly has no sequences"),
])
def test_metrics_from_sequences_refuses_bad_records(records: list[tuple[str, str]],
                                                    reason: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        metrics_from_sequences(records)
    assert err.value.problems[0].reason == reason and err.value.problems[0].fix


def test_n50_and_ng50_by_hand() -> None:
    lengths = [2, 3, 4, 5, 6, 7, 8, 9, 10]  # 54 bp: 10 + 9 + 8 = 27 is half
    assert n50(lengths) == 8
    assert n50([100]) == 100
    assert ng50(lengths, 100) == 3  # 10 + 9 + … + 3 = 52 >= 50
    assert ng50(lengths, 200) is None
    with pytest.raises(LanhaiError):
        n50([])


# --- impossible values -----------------------------------------------------------------------

GOOD = AssemblyMetrics(
    accession="GCA_014839685.1", taxid=195821, assembly_level=AssemblyLevel.CHROMOSOME,
    total_length_bp=867_616_482, contig_n50_bp=17_460_000, scaffold_n50_bp=39_321_252,
    contig_count=139, scaffold_count=32, gap_count=107, chromosome_count=24,
    assigned_to_chromosomes_pct=99.97, qv=40.92, kmer_completeness_pct=95.0,
    busco=Busco(complete=98.9, single=98.5, duplicated=0.4, fragmented=0.3, missing=0.8,
                n=3354, lineage="vertebrata_odb10"),
    release_date=dt.date(2020, 10, 2))


def test_good_metrics_have_no_problem() -> None:
    assert check_metrics(GOOD, today=TODAY) == []


@pytest.mark.parametrize("change, field, reason", [
    ({"contig_n50_bp": 900_000_000, "scaffold_n50_bp": 900_000_001}, "contig_n50_bp",
     "the contig N50 900,000,000 bp is larger than the total length 867,616,482 bp"),
    ({"contig_n50_bp": 40_000_000}, "contig_n50_bp",
     "the contig N50 40,000,000 bp is larger than the scaffold N50 39,321,252 bp"),
    ({"contig_count": 0}, "contig_count", "the contig count must be at least 1"),
    ({"scaffold_count": 200}, "contig_count", "there are fewer contigs (139) than scaffolds "
                                              "(200)"),
    ({"gap_count": -1}, "gap_count", "the gap count cannot be negative"),
    ({"assigned_to_chromosomes_pct": 100.5}, "assigned_to_chromosomes_pct",
     "the share assigned to chromosomes 100.5 % is outside 0-100 %"),
    ({"kmer_completeness_pct": -2.0}, "kmer_completeness_pct",
     "the k-mer completeness -2.0 % is outside 0-100 %"),
    ({"busco": Busco(complete=95.1, single=90.0, duplicated=2.1, fragmented=1.2,
                     missing=3.7, n=3640)}, "busco.complete",
     "complete 95.1 % is not single 90 % + duplicated 2.1 %"),
    ({"busco": Busco(complete=95.1, single=93.0, duplicated=2.1, fragmented=1.2,
                     missing=2.0, n=3640)}, "busco.missing",
     "complete + fragmented + missing is 98.3 %, not 100 %"),
    ({"qv": 101.0}, "qv", "QV 101.0 is outside 0-100"),
    ({"qv": -3.0}, "qv", "QV -3.0 is outside 0-100"),
    ({"total_length_bp": -5}, "total_length_bp", "the total length cannot be negative"),
    ({"accession": "GCA_1234.1"}, "accession", "is not an INSDC assembly accession"),
    ({"accession": "GCA_014839685"}, "accession", "is not an INSDC assembly accession"),
    ({"taxid": 0}, "taxid", "is not a taxon id (a positive whole number)"),
    ({"release_date": dt.date(2025, 6, 1)}, "release_date",
     "the release date is in the future (after 2025-01-01)"),
])
def test_each_impossible_value_is_refused(change: dict[str, object], field: str,
                                          reason: str) -> None:
    problems = check_metrics(dataclasses.replace(GOOD, **change), today=TODAY)  # type: ignore[arg-type]
    hit = [p for p in problems if p.field == field]
    assert [p.reason for p in hit] == [reason], problems
    assert hit[0].fix and hit[0].record == change.get("accession", GOOD.accession)
    assert hit[0].describe().startswith("field")


def test_compleasm_without_its_i_class_may_sum_below_100() -> None:
    low = Busco(complete=97.0, single=96.0, duplicated=1.0, fragmented=0.5, missing=1.0,
                n=3354, tool="compleasm")
    assert check_metrics(dataclasses.replace(GOOD, busco=low)) == []
    with_i = dataclasses.replace(low, interspaced=0.5)
    assert [p.field for p in check_metrics(dataclasses.replace(GOOD, busco=with_i))] == [
        "busco.missing"]


def test_assembly_levels_and_aliases() -> None:
    assert AssemblyLevel.parse("chromosome") is AssemblyLevel.CHROMOSOME
    assert AssemblyLevel.parse("Complete") is AssemblyLevel.COMPLETE_GENOME
    assert AssemblyLevel.parse("complete_genome") is AssemblyLevel.COMPLETE_GENOME
    assert AssemblyLevel.parse("scaffold-level") is AssemblyLevel.SCAFFOLD
    with pytest.raises(LanhaiError) as err:
        AssemblyLevel.parse("Chromosomal")
    assert "Complete Genome" in err.value.problems[0].fix


# --- the scaffolding rule and edges -----------------------------------------------------------

def test_scaffolding_reads_the_share_assigned_before_the_level() -> None:
    half = dataclasses.replace(GOOD, assigned_to_chromosomes_pct=40.0)
    c = classify(half, EBP)
    assert {"scaffolding", "assigned_to_chromosomes_pct"} <= set(_failed(c))
    unknown = dataclasses.replace(GOOD, assembly_level=None, assigned_to_chromosomes_pct=None)
    c = classify(unknown, EBP)
    assert c.verdict == "undetermined"
    assert "scaffolding" in [n.metric for n in c.not_measured]


def test_qv_exactly_40_is_not_below_the_error_rate() -> None:
    c = classify(dataclasses.replace(GOOD, qv=40.0), EBP)
    assert _failed(c) == ["base_error_rate"]
    assert "is 0.0001 errors per base, not below it" in c.failures[0].reason


def test_false_duplications_measured_and_failing_stop_the_standard() -> None:
    c = classify(dataclasses.replace(GOOD, false_duplications_pct=6.0), EBP)
    assert c.verdict == "not met" and _failed(c) == ["false_duplications_pct"]


# --- standards data ---------------------------------------------------------------------------

def test_shipped_standards_in_order() -> None:
    assert [s.notation for s in SHIPPED] == list(ORDER)
    assert len(EBP.criteria) == 8
    assert sum(len(s.criteria) for s in SHIPPED) == 48
    assert standard("VGP-2016").notation == "6.7.P5.Q40.C90"
    with pytest.raises(NotFound):
        standard("9.9.Q99")


def test_a_malformed_standards_table_is_refused_with_its_row() -> None:
    text = (DATA.parents[2] / "src" / "lanhai" / "genomes" / "data" /
            "standards.tsv").read_text("utf-8")
    bad = text.replace("\tcontig_n50\t>=\t1000000\t", "\tcontig_n50\t>>\t1000000\t", 1)
    with pytest.raises(ValidationFailed) as err:
        load_standards(bad)
    assert [(p.row, p.column) for p in err.value.problems] == [(2, "operator")]
    with pytest.raises(ValidationFailed):
        load_standards("standard\tnotation\n")


# --- parsers ---------------------------------------------------------------------------------

BUSCO_5 = """\
# BUSCO version is: 5.4.3 
# The lineage dataset is: actinopterygii_odb10 (Creation date: 2024-01-08, number of genomes: 26, number of BUSCOs: 3640)
# Summarized benchmarking in BUSCO notation for file /data/assembly.fasta
# BUSCO was run in mode: genome
# Gene predictor used: metaeuk

\t***** Results: *****

\tC:95.1%[S:93.0%,D:2.1%],F:1.2%,M:3.7%,n:3640\t   
\t3462\tComplete BUSCOs (C)\t\t\t   
\t3385\tComplete and single-copy BUSCOs (S)\t   
\t77\tComplete and duplicated BUSCOs (D)\t   
\t44\tFragmented BUSCOs (F)\t\t\t   
\t134\tMissing BUSCOs (M)\t\t\t   
\t3640\tTotal BUSCO groups searched\t\t   
"""  # noqa: E501, W291


def test_busco_short_summary() -> None:
    b = parse_busco_summary(BUSCO_5)
    assert (b.lineage, b.n, b.tool) == ("actinopterygii_odb10", 3640, "busco")
    assert b.single == pytest.approx(100 * 3385 / 3640)
    assert b.complete == pytest.approx(100 * 3462 / 3640)
    assert b.missing == pytest.approx(100 * 134 / 3640)
    assert b.notation() == "C:95.1%[S:93.0%,D:2.1%],F:1.2%,M:3.7%,n:3640"


def test_busco_5_8_with_internal_stop_codons_and_a_bare_line() -> None:
    newer = BUSCO_5.replace("n:3640\t", "n:3640,E:1.5%\t").replace(
        "Complete BUSCOs (C)\t", "Complete BUSCOs (C)\t(of which 52 contain internal stop "
        "codons)\t")
    assert parse_busco_summary(newer).single == pytest.approx(100 * 3385 / 3640)
    bare = parse_busco_summary("C:95.1%[S:93.0%,D:2.1%],F:1.2%,M:3.7%,n:3640")
    assert bare.single == 93.0 and bare.lineage is None


@pytest.mark.parametrize("text, line, reason", [
    (BUSCO_5.replace(",n:3640\t", "\t"), 9, "the result line is not in BUSCO notation"),
    ("# BUSCO version is: 5.4.3\n", None, "no result line like"),
    (BUSCO_5.replace("\t3385\t", "\t3300\t"), 9, "the count lines disagree"),
    ("C:95.1%[S:90.0%,D:2.1%],F:1.2%,M:3.7%,n:3640", 1, "complete 95.1 % is not single"),
    (BUSCO_5 + "C:95.1%[S:93.0%,D:2.1%],F:1.2%,M:3.7%,n:3640\n", 16, "a second result line"),
])
def test_malformed_busco_summaries_are_refused(text: str, line: int | None, reason: str
                                               ) -> None:
    with pytest.raises(ValidationFailed) as err:
        parse_busco_summary(text)
    problem = err.value.problems[0]
    assert problem.row == line and problem.reason.startswith(reason) and problem.fix


COMPLEASM = """\
## lineage: eukaryota_odb10
S:98.04%, 250
D:1.18%, 3
F:0.00%, 0
I:0.00%, 0
M:0.78%, 2
N:255
## lineage: actinopterygii_odb10
S:97.50%, 3549
D:1.21%, 44
F:0.44%, 16
I:0.05%, 2
M:0.80%, 29
N:3640
"""


def test_compleasm_summary() -> None:
    one = COMPLEASM.split("## lineage: actinopterygii_odb10")[1]
    b = parse_compleasm_summary("## lineage: actinopterygii_odb10" + one)
    assert (b.lineage, b.n, b.tool) == ("actinopterygii_odb10", 3640, "compleasm")
    assert b.single == pytest.approx(100 * 3549 / 3640)
    assert b.complete == pytest.approx(100 * 3593 / 3640)
    assert b.interspaced == pytest.approx(100 * 2 / 3640)
    assert check_metrics(AssemblyMetrics(busco=b)) == []
    euk = parse_compleasm_summary(COMPLEASM, lineage="eukaryota_odb10")
    assert euk.n == 255 and euk.duplicated == pytest.approx(100 * 3 / 255)
    with pytest.raises(ValidationFailed) as err:
        parse_compleasm_summary(COMPLEASM)
    assert "pass the lineage" in err.value.problems[0].fix


@pytest.mark.parametrize("text, line, reason", [
    (COMPLEASM.replace("S:97.50%, 3549", "S:97.50% 3549"), 9,
     "is not a compleasm summary line"),
    (COMPLEASM.replace("I:0.05%, 2\n", ""), 8, "the block lacks I"),
    (COMPLEASM.replace("D:1.21%, 44", "D:1.50%, 44"), 10, "1.5 % is not 44 of 3640 genes"),
    (COMPLEASM.replace("M:0.80%, 29", "M:0.80%, 30"), 8, "the counts of S, D, F, I and M"),
    ("S:97.50%, 3549\n", 1, "a line before the first '## lineage:' line"),
])
def test_malformed_compleasm_summaries_are_refused(text: str, line: int, reason: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        parse_compleasm_summary(text, lineage="actinopterygii_odb10")
    problem = err.value.problems[0]
    assert problem.row == line and problem.reason.startswith(reason) and problem.fix


# Merqury's qv.sh/spectra-cn.sh: asm, error k-mers, total k-mers, QV, error rate, where
# error = 1 - (1 - errors/total)^(1/k) (k = 21 here) and QV = -10 log10(error), printed by awk
MERQURY_QV = ("hap1\t45210\t2151298472\t59.9968\t1.00073e-06\n"
              "hap2\t61544\t1876532104\t58.0638\t1.56177e-06\n"
              "Both\t106754\t4027830576\t58.989\t1.26212e-06\n")


def test_merqury_qv_and_completeness() -> None:
    qv = parse_merqury_qv(MERQURY_QV)
    assert [(q.assembly, q.qv) for q in qv] == [("hap1", 59.9968), ("hap2", 58.0638),
                                                ("Both", 58.989)]
    assert qv[0].error_kmers == 45210 and qv[0].error_rate == 1.00073e-06
    assert parse_merqury_qv("hap1\t0\t2151298472\tinf\t0\n")[0].qv == float("inf")
    done = parse_merqury_completeness("hap1\tall\t1019000000\t1025000000\t99.4146\n")
    assert done[0].completeness_pct == 99.4146 and done[0].kmer_set == "all"
    m = dataclasses.replace(GOOD, qv=qv[0].qv, kmer_completeness_pct=done[0].completeness_pct)
    assert check_metrics(m) == []


@pytest.mark.parametrize("parse, text, reason", [
    (parse_merqury_qv, "hap1\t45210\t2151298472\t59.9968\n", "has 4 columns, not 5"),
    (parse_merqury_qv, "hap1\t45210\t2151298472\t45.0\t1.00073e-06\n", "QV 45.0 does not "
                                                                        "match"),
    (parse_merqury_qv, "hap1\tmany\t2151298472\t59.9968\t1.00073e-06\n", "the error k-mer "
                                                                          "count 'many'"),
    (parse_merqury_qv, "", "the file has no lines"),
    (parse_merqury_completeness, "hap1\tall\t1019000000\t1025000000\t94.1\n",
     "94.1 % is not 1,019,000,000 of 1,025,000,000"),
    (parse_merqury_completeness, "hap1\tall\t1025000001\t1025000000\t100.0\n",
     "1,025,000,001 k-mers found of 1,025,000,000"),
])
def test_malformed_merqury_files_are_refused(parse: object, text: str, reason: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        parse(text)  # type: ignore[operator]
    problem = err.value.problems[0]
    assert problem.reason.startswith(reason) and problem.fix
    assert problem.row == (1 if text else None)


# --- NCBI tables -----------------------------------------------------------------------------

def test_ncbi_assembly_summary_layout() -> None:
    table = read_assembly_file(DATA / "assembly_summary_sample.txt", today=TODAY)
    assert table.layout == "assembly_summary" and table.problems == []
    assert table.lines == [3, 4, 5, 6, 7]
    anableps = table.rows[0]
    assert (anableps.accession, anableps.taxid, anableps.organism) == (
        "GCA_014839685.1", 195821, "Anableps anableps")
    assert anableps.assembly_level is AssemblyLevel.CHROMOSOME
    assert anableps.release_date == dt.date(2020, 10, 2)
    assert (anableps.total_length_bp, anableps.contig_count, anableps.scaffold_count) == (
        867616482, 139, 32)
    assert anableps.contig_n50_bp is None and anableps.busco is None  # not in NCBI's summary
    assert anableps.assembly_name == "fAnaAna1.pri"


def test_the_older_ncbi_header_is_read() -> None:
    older = ("#   See ftp://ftp.ncbi.nlm.nih.gov/genomes/README_assembly_summary.txt\n"
             "# assembly_accession\tbioproject\tbiosample\twgs_master\trefseq_category\t"
             "taxid\tspecies_taxid\torganism_name\tinfraspecific_name\tisolate\t"
             "version_status\tassembly_level\trelease_type\tgenome_rep\tseq_rel_date\t"
             "asm_name\tsubmitter\tgbrs_paired_asm\tpaired_asm_comp\tftp_path\t"
             "excluded_from_refseq\trelation_to_type_material\n"
             "GCA_022829085.1\tna\tna\tna\tna\t38527\tna\tAbramis brama\tna\tna\tna\t"
             "Chromosome\tna\tna\t2022/04/08\tASM2282908v1\tna\tna\tna\tna\tna\tna\n")
    table = read_assembly_table(older, today=TODAY)
    assert table.problems == [] and table.rows[0].taxid == 38527


def test_bad_rows_are_reported_with_their_line_and_good_rows_kept() -> None:
    head = (DATA / "assembly_summary_sample.txt").read_text("utf-8").splitlines()
    good = head[2].split("\t")

    def row(**cells: str) -> str:
        columns = head[1].lstrip("#").split("\t")
        values = dict(zip(columns, good, strict=True))
        values.update(cells)
        return "\t".join(values[c] for c in columns)

    lines = [*head[:3],
             row(assembly_accession="GCA_000000002.1", taxid="-3"),
             row(assembly_accession="GCA_000000003.1", taxid="fish"),
             row(assembly_accession="GCA_000000004.1", assembly_level="Chromosomal"),
             row(assembly_accession="GCA_000000005.1", seq_rel_date="2020/13/01"),
             row(assembly_accession="GCA_1234.1"),
             row(assembly_accession="GCA_000000006.1", seq_rel_date="2026/01/01"),
             row(assembly_accession="GCA_000000007.1", contig_count="5", scaffold_count="9"),
             head[2],
             "GCA_000000008.1\ttoo few cells"]
    table = read_assembly_table(lines, file="summary.txt", today=TODAY)
    assert isinstance(table, AssemblyTable) and len(table.rows) == 1 and table.lines == [3]
    found = [(p.row, p.column, p.reason) for p in table.problems]
    assert found == [
        (4, "taxid", "is not a taxon id (a positive whole number)"),
        (5, "taxid", "is not a taxon id"),
        (6, "assembly_level", "is not an assembly level"),
        (7, "seq_rel_date", "is not a date"),
        (8, "assembly_accession", "is not an INSDC assembly accession"),
        (9, "seq_rel_date", "the release date is in the future (after 2025-01-01)"),
        (10, "contig_count", "there are fewer contigs (5) than scaffolds (9)"),
        (11, "assembly_accession", "the accession is already on line 3"),
        (12, None, "has 2 cells, not 38"),
    ]
    assert all(p.file == "summary.txt" and p.fix for p in table.problems)


def test_the_team_table_layout_prefers_busco_over_compleasm(
        subset: dict[str, AssemblyMetrics]) -> None:
    salmo = subset["GCA_901001165.2"]
    assert salmo.busco is not None and salmo.busco.tool == "busco"
    assert salmo.busco.lineage == "vertebrata_odb10" and salmo.busco.n == 3354
    assert salmo.busco.single == pytest.approx(49.82, abs=0.005)  # the row's busco_single_pct
    fish = read_assembly_file(DATA / "ncbi_assemblies_subset.tsv", today=TODAY,
                              keep=lambda row: row["selected_as"] == "fish")
    assert len(fish.rows) == 46


def test_text_that_is_no_assembly_table_is_refused() -> None:
    with pytest.raises(ValidationFailed) as err:
        read_assembly_table("species\tcount\nAbramis brama\t1\n")
    assert err.value.problems[0].row == 1
    with pytest.raises(ValidationFailed) as err:
        read_assembly_table("accession\tassembly_name\nGCA_022829085.1\tx\n")
    assert {p.column for p in err.value.problems} == {"ncbi_taxon_id", "assembly_level",
                                                       "release_date"}
