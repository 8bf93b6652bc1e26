"""Genome projects as a programme office runs them: a project, its target list from a GoaT
status file (all or nothing), each species' status moved along the ladder with its day and
evidence (backward and skipped steps refused unless stated), progress against a hand
count, the projected completion, the next best species the bank holds material for, GoaT
status out, and NCBI assembly tables imported as assembly records judged against the
EBP standard."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from lanhai.bank import Bank
from lanhai.errors import NotFound, ValidationFailed
from lanhai.kinds import KINDS
from lanhai.kinds.fields import validate_fields
from lanhai.services.access import ANONYMOUS, Actor
from tests.support import CURATOR, ZOBELLIA, bank_on, run_json

DATA = Path(__file__).parent / "data"
EUROFISH = DATA / "genome_status" / "EUROFISH_expanded.tsv"
ASSEMBLIES = DATA / "genomes" / "ncbi_assemblies_subset.tsv"
READER = Actor("rui", "reader")
#: the EUROFISH list by hand: 15 species public in INSDC; in progress 4 in assembly, 3
#: submitted, 2 in data generation
EUROFISH_COUNTS = {"total": 24, "done": 15, "in_progress": 9, "targeted": 0}


@pytest.fixture
def bank(engine: Engine, tmp_path: Path) -> Bank:
    made = bank_on(engine, tmp_path)
    made.genomes.create_project(CURATOR, "eurofish", {
        "name": "EUROFISH", "goal": "reference genomes of European freshwater fishes",
        "target_count": 24})
    return made


def _counts(bank: Bank, key: str = "eurofish", actor: Actor = ANONYMOUS) -> dict[str, Any]:
    counts = bank.genomes.progress(actor, key)["projects"][key]
    return {k: counts[k] for k in ("total", "done", "in_progress", "targeted")}


def test_a_goat_status_list_becomes_targets_and_counts_as_by_hand(bank: Bank) -> None:
    done = bank.genomes.import_targets(CURATOR, "eurofish", EUROFISH)
    assert (done["added"], done["statuses"]) == (24, 24)
    assert _counts(bank) == EUROFISH_COUNTS
    families = {r["name"]: r for r in bank.genomes.progress(ANONYMOUS, "eurofish")
                ["by_rank"]["family"]}
    # by hand from the list's family column: Leuciscidae 6 public of 9, Percidae 3 of 4
    assert (families["Leuciscidae"]["done"], families["Leuciscidae"]["total"]) == (6, 9)
    assert (families["Percidae"]["done"], families["Percidae"]["in_progress"]) == (3, 1)
    # the same list again changes nothing
    again = bank.genomes.import_targets(CURATOR, "eurofish", EUROFISH)
    assert (again["added"], again["updated"], again["statuses"]) == (0, 24, 0)
    # GoaT status out, read back: the same statuses
    text = bank.genomes.goat_status(ANONYMOUS, "eurofish")
    from lanhai.genomes.goat import parse_goat

    back = parse_goat(text, project="eurofish")
    assert back.problems == [] and len(back.rows) == 24
    assert {r.taxid: r.status for r in back.rows}[7962] == "insdc_submitted"
    # status lists say where a species stands, not since when: no rate to project
    projection = bank.genomes.progress(ANONYMOUS, "eurofish")["projections"]["eurofish"]
    assert projection["completion"] is None and "date" in projection["reason"]


def test_a_bad_target_list_writes_nothing(bank: Bank, tmp_path: Path) -> None:
    bad = tmp_path / "bad.tsv"
    lines = EUROFISH.read_text("utf-8").splitlines()
    lines[2] = lines[2].replace("322563", "-5", 1)
    lines[3] = lines[3].replace("insdc_open", "half done", 1)
    bad.write_text("\n".join(lines) + "\n", "utf-8")
    with pytest.raises(ValidationFailed) as err:
        bank.genomes.import_targets(CURATOR, "eurofish", bad)
    rows = sorted({p.row for p in err.value.problems if p.row})
    assert rows == [3, 4], [p.reason for p in err.value.problems]
    assert _counts(bank)["total"] == 0 if bank.genomes.progress(
        ANONYMOUS, "eurofish")["projects"] else True
    assert bank.genomes.progress(ANONYMOUS, "eurofish")["projects"] == {}


def test_statuses_move_forward_with_day_and_evidence(bank: Bank) -> None:
    bank.genomes.today = lambda: dt.date(2025, 12, 1)  # the list is read that day
    bank.genomes.import_targets(CURATOR, "eurofish", EUROFISH)
    bank.genomes.today = lambda: dt.date(2026, 6, 1)
    perch = 8168  # Perca fluviatilis, in data generation on the list
    with pytest.raises(ValidationFailed) as err:
        bank.genomes.set_status(CURATOR, "eurofish", perch, "insdc_open", "2026-01-10")
    reason = err.value.problems[0].reason
    assert "in_assembly" in reason and "insdc_submitted" in reason  # the steps skipped
    with pytest.raises(ValidationFailed) as err:
        bank.genomes.set_status(CURATOR, "eurofish", perch, "sample_acquired", "2026-01-10")
    assert "back" in err.value.problems[0].reason
    with pytest.raises(ValidationFailed):
        bank.genomes.set_status(CURATOR, "eurofish", perch, "in_assembly", "2026-01-10",
                                evidence=["not-an-accession"])
    assert len(bank.genomes.species(ANONYMOUS, "eurofish", perch)["events"]) == 1
    bank.genomes.set_status(CURATOR, "eurofish", perch, "组装中", "2026-01-10")
    moved = bank.genomes.set_status(CURATOR, "eurofish", perch, "published in INSDC",
                                    "2026-03-02", evidence=["GCA_949316345.1"],
                                    allow_skip=True)
    assert [e["status"] for e in moved["events"]] == ["data_generation", "in_assembly",
                                                     "insdc_open"]
    assert moved["events"][-1]["evidence"] == ["GCA_949316345.1"]
    with pytest.raises(ValidationFailed):  # a day before the species' last step
        bank.genomes.set_status(CURATOR, "eurofish", perch, "published", "2026-02-01")
    back = bank.genomes.set_status(CURATOR, "eurofish", perch, "in_assembly", "2026-03-05",
                                   note="assembly withdrawn for contamination",
                                   allow_back=True)
    assert back["events"][-1]["allow_back"] is True
    with pytest.raises(NotFound):
        bank.genomes.set_status(CURATOR, "eurofish", 9606, "sample_collected")
    with pytest.raises(Exception, match="curator"):
        bank.genomes.set_status(READER, "eurofish", perch, "insdc_open")


def test_projection_from_dated_steps_and_next_best_species(bank: Bank, tmp_path: Path
                                                          ) -> None:
    table = tmp_path / "targets.tsv"
    rows = ["taxid\tscientific_name\tfamily\torder\tclass"]
    for i in range(20):
        rows.append(f"{1000 + i}\tFishus species{i}\tFamily{i % 4}\tOrder{i % 2}\t"
                    "Actinopteri")
    rows.append("2000\tZobellia galactanivorans\tFlavobacteriaceae\tFlavobacteriales\t"
                "Flavobacteriia")
    table.write_text("\n".join(rows) + "\n", "utf-8")
    bank.genomes.create_project(CURATOR, "demo", {"name": "Dated project"})
    assert bank.genomes.import_targets(CURATOR, "demo", table)["added"] == 21
    start = dt.date(2026, 1, 1)
    bank.genomes.today = lambda: dt.date(2026, 11, 30)
    for i in range(5):  # five species made public over the year, one every 60 days
        day = start + dt.timedelta(days=60 * i)
        for step in ("sample_collected", "sample_acquired", "data_generation",
                     "in_assembly", "insdc_submitted", "insdc_open"):
            bank.genomes.set_status(CURATOR, "demo", 1000 + i, step, day.isoformat())
    projection = bank.genomes.progress(ANONYMOUS, "demo")["projections"]["demo"]
    assert projection["done"] == 5 and projection["remaining"] == 16
    # 5 done in the 334 days since the first step: 16 more take 16 * 334 / 5 = 1069 days
    assert projection["completion"] == (dt.date(2026, 11, 30) + dt.timedelta(days=1069)
                                        ).isoformat()
    # the bank holds the Zobellia strain: it is suggested first
    bank.catalog.create(CURATOR, "strain", ZOBELLIA)
    best = bank.genomes.progress(CURATOR, "demo")["next_best"]
    assert best[0]["scientific_name"] == "Zobellia galactanivorans"
    assert all(c["taxid"] >= 1005 or c["taxid"] == 2000 for c in best)


def test_ncbi_assembly_tables_become_assemblies_judged_against_the_ebp_standard(
        bank: Bank, tmp_path: Path) -> None:
    report = bank.genomes.import_assemblies(CURATOR, ASSEMBLIES)
    assert report["committed"] and report["created"] == 48, report["problems"][:3]
    by_accession = {r.fields["insdc_accession"]: r for r in bank.catalog.list(
        ANONYMOUS, "assembly", limit=100)[0]}
    # Abudefduf troschelii: contig N50 6,567 bp at scaffold level (values from the source)
    scaffold = by_accession["GCA_043656515.1"].fields
    assert (scaffold["contig_n50"], scaffold["assembly_level"]) == (6567, "Scaffold")
    assert scaffold["ebp_verdict"] == "not met" and scaffold["quality_standard"] == "none met"
    assert any(f.startswith("contig N50 6,567 bp") for f in scaffold["ebp_failures"])
    # Abramis brama: chromosome level, contig N50 10.2 Mb, but no QV in NCBI's table
    bream = by_accession["GCA_022829085.1"].fields
    assert bream["quality_standard"] == "6.C" and bream["ebp_verdict"] == "undetermined"
    assert "error_rate" in " ".join(bream["ebp_not_measured"]) or \
        "qv" in " ".join(bream["ebp_not_measured"]).lower()
    again = bank.genomes.import_assemblies(CURATOR, ASSEMBLIES)
    assert (again["created"], again["unchanged"]) == (0, 48)
    # an impossible row refuses the file: nothing written
    lines = ASSEMBLIES.read_text("utf-8").splitlines()
    header = lines[0].split("\t")
    cells = lines[5].split("\t")
    cells[header.index("contig_n50_bp")] = str(int(cells[header.index("total_length_bp")]) + 1)
    cells[header.index("accession")] = "GCA_999999999.1"
    broken = tmp_path / "broken.tsv"
    broken.write_text("\n".join([lines[0], cells and "\t".join(cells)]) + "\n", "utf-8")
    with pytest.raises(ValidationFailed) as err:
        bank.genomes.import_assemblies(CURATOR, broken)
    found = [(p.row, p.reason) for p in err.value.problems]
    assert any(row == 2 and "larger than the total length" in reason
               for row, reason in found), found
    assert "GCA_999999999.1" not in {r.fields.get("insdc_accession") for r in
                                     bank.catalog.list(ANONYMOUS, "assembly", limit=100)[0]}


def test_an_assemblys_quality_fields_are_checked_together() -> None:
    spec = KINDS["assembly"]
    base = {"assembly_name": "x", "assembly_type": "isolate genome", "seq_meth": "PacBio HiFi",
            "assembly_software": "hifiasm 0.19"}
    fields, problems = validate_fields(spec, {**base, "busco": "S:3290,D:36,F:2,M:26",
                                              "qv": "52.1", "assembly_level": "chromosome",
                                              "contig_n50": "12000000",
                                              "scaffold_n50": "40000000",
                                              "genome_size": "1000000000",
                                              "assigned_to_chromosomes": "97.5"})
    assert problems == []
    assert fields["busco"] == "C:99.2%[S:98.1%,D:1.1%],F:0.1%,M:0.8%,n:3354"
    assert fields["assembly_level"] == "Chromosome" and fields["ebp_verdict"] == "met"
    for raw, reason in (({"busco": "C:95.1%[S:93.0%,D:1.1%],F:1.2%,M:3.7%,n:3640"},
                         "S + D"),
                        ({"busco": "C:95%,F:1%"}, "is not a BUSCO result"),
                        ({"qv": "140"}, "outside 0-100"),
                        ({"assembly_level": "draft"}, "is not an assembly level"),
                        ({"genome_size": "1000", "contig_n50": "5000"},
                         "larger than the total length")):
        _, problems = validate_fields(spec, {**base, **raw})
        assert problems and reason in problems[0].reason, (raw, problems)


def test_the_cli_and_the_pages(bank_dir: Path, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    made = run_json(capsys, ["genomes", "create", "fish10k", "--name", "10,000 fish genomes",
                             "--name-zh", "万种鱼类基因组计划", "--target-count", "10000",
                             "--reported-done", "883"])
    assert made["reported_done"] == 883
    run_json(capsys, ["genomes", "create", "eurofish", "--name", "EUROFISH"])
    shutil.copy(EUROFISH, tmp_path / "eurofish.tsv")
    run_json(capsys, ["genomes", "targets", "eurofish", str(tmp_path / "eurofish.tsv")])
    listed = run_json(capsys, ["genomes", "projects"])
    assert {p["key"]: (p["counts"] or {}).get("done") for p in listed} == {
        "eurofish": 15, "fish10k": None}
    refused = run_json(capsys, ["genomes", "status", "eurofish", "8168", "insdc_open"], code=1)
    assert "in_assembly" in json.dumps(refused)
    out = tmp_path / "status.tsv"
    capsys.readouterr()
    from lanhai.cli.main import main

    assert main(["genomes", "export", "eurofish", "-o", str(out)]) == 0
    assert out.read_text("utf-8").count("\n") == 25
    report = run_json(capsys, ["genomes", "assemblies", str(ASSEMBLIES), "--dry-run"])
    assert report["created"] == 48 and report["committed"] is False


def test_the_api_by_role(engine: Engine, tmp_path: Path) -> None:
    from lanhai.settings import Settings
    from tests.support import add_user, make_client

    with make_client(engine, Settings(data_dir=tmp_path)) as client:
        curator = add_user(engine, "ana2", "curator")
        reader = add_user(engine, "rui2", "reader")
        body = {"key": "eurofish", "name": "EUROFISH"}
        assert client.post("/api/genomes/projects", json=body).status_code == 401
        assert client.post("/api/genomes/projects", json=body,
                           headers=reader).status_code == 403
        made = client.post("/api/genomes/projects", json=body, headers=curator)
        assert made.status_code == 201, made.text
        sent = client.post("/api/genomes/projects/eurofish/targets", headers=curator,
                           files={"file": ("eurofish.tsv", EUROFISH.read_bytes(),
                                           "text/tab-separated-values")})
        assert sent.status_code == 200 and sent.json()["added"] == 24, sent.text
        moved = client.post("/api/genomes/projects/eurofish/species/8168/status",
                            headers=curator, json={"status": "in_assembly"})
        assert moved.status_code == 201, moved.text
        skipped = client.post("/api/genomes/projects/eurofish/species/58317/status",
                              headers=curator, json={"status": "insdc_open"})
        assert skipped.status_code == 422 and "skip" in skipped.text
        stale = client.patch("/api/genomes/projects/eurofish", headers={
            **curator, "If-Match": '"7"'}, json={"reported_done": 15})
        assert stale.status_code == 409
        assert client.patch("/api/genomes/projects/eurofish", headers={
            **curator, "If-Match": '"1"'}, json={"reported_done": 15}).json()["version"] == 2
        progress = client.get("/api/genomes/progress").json()
        assert progress["projects"]["eurofish"]["in_progress"] == 9
        assert client.get("/api/genomes/projects/eurofish/goat.tsv").text.startswith(
            "ncbi_taxon_id")
        tables = client.post("/api/genomes/assemblies", headers=curator, files={
            "file": ("a.tsv", ASSEMBLIES.read_bytes(), "text/tab-separated-values")})
        assert tables.status_code == 200 and tables.json()["created"] == 48, tables.text[:300]
        for path in ("/genomes", "/genomes/eurofish", "/genomes/eurofish.json",
                     "/programme"):
            assert client.get(path).status_code == 200, path
        page = client.get("/genomes/eurofish?lang=zh").text
        assert "按科" in page and "<svg" in page
        assert client.get("/genomes/nothing").status_code == 404


#: a BUSCO 5 short summary, its numbers consistent (S + D = C, C + F + M = n)
BUSCO_SUMMARY = "# BUSCO version is: 5.4.7\n# The lineage dataset is: actinopterygii_odb10 " \
    "(Creation date: 2021-02-19, number of genomes: 26, number of BUSCOs: 3640)\n" + """\
# Summarized benchmarking in BUSCO notation for file fAbrBra2.pri.fasta
# BUSCO was run in mode: genome

	***** Results: *****

	C:97.1%[S:95.0%,D:2.1%],F:0.8%,M:2.1%,n:3640
	3535	Complete BUSCOs (C)
	3459	Complete and single-copy BUSCOs (S)
	76	Complete and duplicated BUSCOs (D)
	29	Fragmented BUSCOs (F)
	76	Missing BUSCOs (M)
	3640	Total BUSCO groups searched
"""
MERQURY_QV = ("fAbrBra2.pri\t45210\t2151298472\t59.9968\t1.00073e-06\n"
              "fAbrBra2.alt\t61544\t1876532104\t58.0638\t1.56177e-06\n"
              "Both\t106754\t4027830576\t58.989\t1.26212e-06\n")
MERQURY_COMPLETENESS = "fAbrBra2.pri\tall\t1019000000\t1025000000\t99.4146\n"


def test_tool_reports_complete_an_assemblys_quality(bank: Bank, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]
                                                    ) -> None:
    made = bank.catalog.create(CURATOR, "assembly", {
        "assembly_name": "fAbrBra2.pri", "assembly_type": "isolate genome",
        "seq_meth": "PacBio HiFi", "assembly_software": "hifiasm 0.19",
        "assembly_level": "Chromosome", "genome_size": "1090103032",
        "contig_n50": "12000000", "scaffold_n50": "42000000",
        "assigned_to_chromosomes": "98.2"})
    assert made.fields["ebp_verdict"] == "undetermined"  # no QV, no BUSCO yet
    with pytest.raises(Exception, match="say which row"):
        bank.genomes.attach_reports(CURATOR, made.accession, merqury_qv=MERQURY_QV)
    done = bank.genomes.attach_reports(
        CURATOR, made.accession, busco=BUSCO_SUMMARY, merqury_qv=MERQURY_QV,
        merqury_completeness=MERQURY_COMPLETENESS, assembly="fAbrBra2.pri")
    assert done["busco"] == "C:97.1%[S:95.0%,D:2.1%],F:0.8%,M:2.1%,n:3640"
    assert (done["busco_lineage"], done["qv"], done["kmer_completeness"]) == (
        "actinopterygii_odb10", 59.9968, 99.4146)
    assert done["ebp_verdict"] == "met" and done["ebp_failures"] == []
    history = bank.catalog.history(CURATOR, made.accession)
    assert "quality reports read" in (history[-1].note or "")
    with pytest.raises(ValidationFailed, match="BUSCO"):
        bank.genomes.attach_reports(CURATOR, made.accession, busco="C:97%\n")
    with pytest.raises(Exception, match="curator"):
        bank.genomes.attach_reports(READER, made.accession, busco=BUSCO_SUMMARY)


def test_stored_sequences_give_the_contig_n50_and_gaps(bank: Bank) -> None:
    """A scaffold's runs of N split it into contigs, as NCBI splits them: the contig N50
    the standard is judged on comes from the stored sequences when none was given."""
    from tests.support.sequences import KK037166

    made = bank.catalog.create(CURATOR, "assembly", {
        "assembly_name": "Kutzneria sp. 744 scaffold", "assembly_type": "isolate genome",
        "seq_meth": "Illumina", "assembly_software": "SPAdes 3.15",
        "assembly_level": "Scaffold", "qv": "45"})
    assert "contig N50" not in " ".join(made.fields["ebp_failures"])
    bank.sequences.ingest(CURATOR, made.accession, KK037166)
    fields = bank.catalog.get(ANONYMOUS, made.accession).fields
    # two runs of N (100 and 524 bp) inside the 20,000 bp scaffold: three contigs, the
    # longest 14,257 bp (`zcat KK037166.fna.gz | grep -v '>' | tr -d '\n' | tr N '\n'`)
    assert (fields["sequence_contig_n50"], fields["gap_count"]) == (14257, 2)
    assert any(f.startswith("contig N50 14,257 bp") for f in fields["ebp_failures"]), \
        fields["ebp_failures"]
