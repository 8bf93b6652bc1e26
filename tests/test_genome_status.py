"""The status ladder of genome-project species as a curator meets it: statuses recorded one
after the other, refused with what to do instead, replayed into where each species stands;
and GoaT's status files read (with their row-numbered problems) and written back."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest

from lanhai.genomes.goat import (
    IMPORT_COLUMNS,
    STATUS_COLUMNS,
    GoatRow,
    parse_goat,
    read_goat,
    rows_of,
    statuses_of,
    targets_of,
    write_goat,
)
from lanhai.genomes.status import (
    LADDER,
    STATUSES,
    StatusEvent,
    check_events,
    check_transition,
    evidence_kind,
    label,
    position,
    replay,
    skipped_steps,
    status_counts,
    status_name,
    status_of_events,
)

DATA = Path(__file__).parent / "data" / "genome_status"
TODAY = dt.date(2025, 6, 30)
CARP = 8284  # Squalius cephalus, a EUROFISH target with an open assembly


def day(n: int) -> dt.date:
    return dt.date(2025, 1, 1) + dt.timedelta(days=n)


def ev(status: str, n: int, **kw: object) -> StatusEvent:
    return StatusEvent("LH10K", CARP, status, day(n), **kw)  # type: ignore[arg-type]


# --- the ladder ------------------------------------------------------------------------


def test_the_ladder_is_goats_order_least_advanced_first() -> None:
    assert STATUSES == ("targeted", "sample_available", "sample_collected", "sample_acquired",
                        "in_progress", "data_generation", "in_assembly", "insdc_submitted",
                        "open", "insdc_open", "published")
    assert [s.name for s in LADDER if s.optional] == ["sample_available", "in_progress",
                                                       "open"]
    assert position("published") > position("insdc_open") > position("insdc_submitted")


@pytest.mark.parametrize(("written", "name"), [
    ("sample collected", "sample_collected"), ("Sample Collected", "sample_collected"),
    ("data generation in progress", "data_generation"), ("assembly in progress", "in_assembly"),
    ("assembly submitted", "insdc_submitted"), ("published in INSDC", "insdc_open"),
    ("publication_available", "published"), ("insdc-open", "insdc_open"),
    ("已采样", "sample_collected"), ("样品已获取", "sample_acquired"),
    ("测序中", "data_generation"), ("组装中", "in_assembly"), ("已提交", "insdc_submitted"),
    ("已公开", "insdc_open"), ("已发表", "published"), ("  targeted ", "targeted"),
])
def test_statuses_are_understood_by_their_aliases(written: str, name: str) -> None:
    assert status_name(written) == name
    assert ev(written, 0).status == name


def test_unknown_statuses_are_not_guessed() -> None:
    assert status_name("sequenced") is None
    assert status_name("") is None
    with pytest.raises(ValueError, match="unknown status 'done'"):
        position("done")
    assert label("组装中") == "In assembly" and label("in_assembly", "zh") == "组装中"


# --- a curator records statuses --------------------------------------------------------


def test_forward_steps_one_at_a_time_are_accepted() -> None:
    history: list[StatusEvent] = []
    for n, status in enumerate(("targeted", "sample_collected", "sample_acquired",
                                "data_generation", "in_assembly", "insdc_submitted",
                                "insdc_open", "published")):
        event = ev(status, n * 10)
        assert check_transition(history, event, TODAY) == [], status
        history.append(event)
    assert status_of_events(history) == {("LH10K", CARP): "published"}


def test_a_skip_is_refused_naming_the_step_and_how_to_state_it() -> None:
    history = [ev("sample_collected", 0), ev("sample_acquired", 5)]
    [problem] = check_transition(history, ev("组装中", 9), TODAY)
    assert problem.field == "status" and problem.value == "in_assembly"
    assert "skips data_generation (测序中)" in problem.reason
    assert "the species is at sample_acquired (样品已获取) since 2025-01-06" in problem.reason
    assert "record data_generation first" in problem.fix
    assert "allow_skip" in problem.fix and "straight to in_assembly" in problem.fix


def test_several_skipped_steps_are_all_named() -> None:
    [problem] = check_transition([ev("targeted", 0)], ev("insdc_open", 9), TODAY)
    assert "skips sample_collected (已采样), sample_acquired (样品已获取), data_generation " \
           "(测序中), in_assembly (组装中), insdc_submitted (已提交)" in problem.reason
    assert "record sample_collected then sample_acquired then data_generation" in problem.fix


def test_the_same_skip_with_allow_skip_is_accepted() -> None:
    history = [ev("sample_collected", 0), ev("sample_acquired", 5)]
    assert check_transition(history, ev("in_assembly", 9, allow_skip=True), TODAY) == []


def test_a_species_with_no_history_starts_from_targeted() -> None:
    assert check_transition([], ev("sample_collected", 0), TODAY) == []
    [problem] = check_transition([], ev("data_generation", 0), TODAY)
    assert "skips sample_collected (已采样), sample_acquired (样品已获取)" in problem.reason


def test_optional_steps_are_never_skipped_and_in_progress_stands_for_its_steps() -> None:
    assert skipped_steps("sample_acquired", "data_generation") == []  # in_progress optional
    assert skipped_steps("insdc_submitted", "insdc_open") == []  # open optional
    assert skipped_steps("targeted", "sample_collected") == []  # sample_available optional
    # a project that only reported "in progress" may next report any later step
    assert skipped_steps("in_progress", "insdc_open") == []
    history = [ev("sample_collected", 0), ev("sample_acquired", 1), ev("in_progress", 2)]
    assert check_transition(history, ev("insdc_open", 3), TODAY) == []


def test_going_back_is_refused_unless_the_event_says_so() -> None:
    history = [ev("sample_collected", 0), ev("sample_acquired", 1), ev("data_generation", 2),
               ev("in_assembly", 3)]
    [problem] = check_transition(history, ev("data_generation", 4), TODAY)
    assert "goes back from in_assembly (组装中) since 2025-01-04 to data_generation" \
        in problem.reason
    assert "allow_back" in problem.fix
    back = ev("data_generation", 4, allow_back=True, note="contaminated library, resequencing")
    assert check_transition(history, back, TODAY) == []
    state = replay([*history, back])[("LH10K", CARP)]
    assert state.status == "data_generation" and state.since == day(4)
    assert "in_assembly" not in state.reached


def test_a_day_before_the_previous_event_is_refused() -> None:
    history = [ev("sample_collected", 10)]
    [problem] = check_transition(history, ev("sample_acquired", 9), TODAY)
    assert problem.field == "day" and problem.value == "2025-01-10"
    assert "before the species' previous event in LH10K on 2025-01-11" in problem.reason
    assert check_transition(history, ev("sample_acquired", 10), TODAY) == []  # same day


def test_a_day_in_the_future_is_refused() -> None:
    event = StatusEvent("LH10K", CARP, "sample_collected", TODAY + dt.timedelta(days=1))
    [problem] = check_transition([], event, TODAY)
    assert problem.field == "day" and "in the future (today is 2025-06-30)" in problem.reason


def test_recording_the_same_status_again_needs_new_evidence() -> None:
    history = [ev("sample_collected", 0, evidence=("LHSM0000001",))]
    [problem] = check_transition(history, ev("sample_collected", 3), TODAY)
    assert "already at sample_collected (已采样) since 2025-01-01" in problem.reason
    more = ev("sample_collected", 3, evidence=("LHSM0000002",))
    assert check_transition(history, more, TODAY) == []


def test_other_species_and_projects_in_the_history_do_not_count() -> None:
    other = StatusEvent("LH10K", 7955, "insdc_open", day(50))
    elsewhere = StatusEvent("VGP", CARP, "published", day(50))
    assert check_transition([other, elsewhere], ev("sample_collected", 1), TODAY) == []


@pytest.mark.parametrize("accession", [
    "LHSM0000001", "LHST0000042", "GCA_900747795.4", "GCF_902713425.1", "GCA_900747795",
    "SAMN12345678", "SAMEA7519948", "SAMD00012345", "PRJNA393850", "PRJEB40665",
    "PRJDB1234", "ERR6054498", "SRR1234567", "DRR012345", "ERX5643445", "ERS1234567",
    "OV754669.1", "AY442348.1", "CAJHNF010000001.1", "10.1038/s41586-021-03451-0",
    "PMID:33911273"])
def test_evidence_in_its_published_form_is_accepted(accession: str) -> None:
    assert evidence_kind(accession) is not None
    assert check_transition([], ev("sample_collected", 0, evidence=(accession,)), TODAY) == []


@pytest.mark.parametrize("accession", [
    "GCA_1", "GCA900747795.4", "gca_900747795.4", "SAMN", "PRJNA", "ERR12", "LHSM001",
    "LH0000001", "sample 12", "GCA_900747795.4 ", "https://www.ncbi.nlm.nih.gov/"])
def test_evidence_in_a_wrong_form_is_refused(accession: str) -> None:
    assert evidence_kind(accession) is None
    [problem] = check_transition([], ev("sample_collected", 0, evidence=(accession,)), TODAY)
    assert problem.field == "evidence" and problem.value == accession
    assert "GCA_900747795.4" in problem.fix


def test_the_event_itself_is_checked() -> None:
    bad = StatusEvent("", -3, "sequenced", day(0))
    fields = sorted(p.field or "" for p in check_transition([], bad, TODAY))
    assert fields == ["project", "status", "taxid"]


def test_check_events_numbers_the_refused_events_and_leaves_them_out() -> None:
    events = [ev("sample_collected", 0), ev("data_generation", 1), ev("sample_acquired", 2),
              ev("data_generation", 3)]
    problems = check_events(events, TODAY)
    assert [(p.row, p.field) for p in problems] == [(2, "status")]


def test_replay_gives_where_each_species_stands() -> None:
    events = [
        StatusEvent("LH10K", 7955, "sample_collected", day(3)),
        ev("sample_collected", 0), ev("sample_acquired", 4, evidence=("SAMEA7519948",)),
        StatusEvent("LH10K", 7955, "sample_acquired", day(1)),  # out of order: sorted by day
        ev("data_generation", 6), ev("in_assembly", 9), ev("insdc_open", 20, allow_skip=True,
                                                          evidence=("GCA_949319135.1",)),
    ]
    states = replay(events)
    carp = states[("LH10K", CARP)]
    assert (carp.status, carp.since, carp.first) == ("insdc_open", day(20), day(0))
    assert carp.done_since() == day(20) and carp.done_since("in_assembly") == day(9)
    assert carp.evidence == ["SAMEA7519948", "GCA_949319135.1"]
    zebrafish = states[("LH10K", 7955)]
    assert zebrafish.status == "sample_collected"  # replay applies as recorded, by day
    assert status_counts(states)["LH10K"]["insdc_open"] == 1
    with pytest.raises(ValueError, match="unknown status 'done'"):
        replay([StatusEvent("LH10K", 1, "done", day(0))])


# --- GoaT files ------------------------------------------------------------------------


def vgp_names() -> dict[int, str]:
    with (DATA / "vgp_phase1_fish_subset.tsv").open(encoding="utf-8") as handle:
        return {int(r["ncbi_taxon_id"]): r["species_name"]
                for r in csv.DictReader(handle, delimiter="\t")}


def test_goats_own_eurofish_file_is_read_with_its_statuses() -> None:
    read = read_goat(DATA / "EUROFISH_expanded.tsv")
    assert read.problems == [] and read.layout == "import"
    assert len(read.rows) == 24
    by_name = {r.scientific_name: r for r in read.rows}
    # hand-read from the file: statuses, family, the synonym column, other priority
    assert by_name["Gobio gobio"].status == "insdc_open"
    assert by_name["Aspius aspius"].status == "in_assembly"
    assert by_name["Aspius aspius"].synonyms == ("Leuciscus aspius",)
    assert by_name["Rhodeus amarus"].synonyms == ("Cyprinus amarus", "Rhodeus sericeus amarus")
    assert by_name["Cyprinus carpio"].status == "insdc_submitted"
    assert by_name["Perca fluviatilis"].status == "data_generation"
    assert by_name["Perca fluviatilis"].family == "Percidae"
    assert {r.priority for r in read.rows} == {2}  # eurofish_other_priority
    assert {r.project for r in read.rows} == {"EUROFISH"}
    assert by_name["Gobio gobio"].row == 2 and by_name["Rhodeus meridionalis"].row == 25


def test_the_stacked_target_lists_give_both_projects() -> None:
    read = read_goat(DATA / "goat_target_lists.tsv")
    assert read.problems == []
    assert len(read.rows) == 43
    cfgp = [r for r in read.rows if r.project == "CFGP"]
    assert len(cfgp) == 19 and {r.status for r in cfgp} == {"targeted"}
    # the rows whose family_representative column says CFGP, read by hand
    assert sorted(r.scientific_name for r in cfgp if r.priority == 1) == [
        "Chimaera phantasma", "Halaelurus buergeri", "Heterodontus zebra",
        "Platyrhina sinensis", "Pristiophorus japonicus"]


def test_a_name_that_is_not_the_taxon_ids_name_is_a_row_numbered_problem() -> None:
    # EUROFISH spells the rudd "erythropthalmus"; NCBI (via the VGP list) "erythrophthalmus"
    read = read_goat(DATA / "EUROFISH_expanded.tsv", names=vgp_names())
    [problem] = read.problems
    assert (problem.row, problem.column, problem.value) == (21, "species",
                                                            "Scardinius erythropthalmus")
    assert "'Scardinius erythrophthalmus'" in problem.reason
    assert problem.file == "EUROFISH_expanded.tsv"
    assert len(read.rows) == 23 and 58319 not in {r.taxid for r in read.rows}
    # a synonym the row lists counts as the name
    names = {98928: "Leuciscus aspius"}
    assert read_goat(DATA / "EUROFISH_expanded.tsv", names=names).problems == []


EXPORT = (
    "taxon_id\tscientific_name\ttaxon_rank\tsequencing_status\tlong_list\tother_priority\t"
    "family_representative\tsample_collected\tsample_acquired\tin_progress\tinsdc_open\t"
    "published\n"
    "8284\tSqualius cephalus\tspecies\tinsdc_open\tEUROFISH,VGP\t\tVGP\tEUROFISH,VGP\t"
    "EUROFISH,VGP\tEUROFISH,VGP\tEUROFISH\t\n"
    "55135\tPristiophorus japonicus\tspecies\tin_progress\tCFGP\tCFGP\tCFGP\tCFGP\tCFGP\tCFGP"
    "\t\t\n"
    "abc\tGobio gobio\tspecies\tinsdc_open\tEUROFISH\t\t\t\t\t\t\t\n"
    "-5\tGobio gobio\tspecies\t\tEUROFISH\t\t\t\t\t\t\t\n"
    "27704\tGobio gobio\tspecies\tsequenced\tEUROFISH\t\t\t\t\t\t\t\n"
    "7955\tDanio rerio\tspecies\t\t\t\t\t\t\t\t\t\n"
    "40830\tBarbus barbus\tspecies\tsample_collected\tEUROFISH\t\t\tEUROFISH\tEUROFISH\t"
    "EUROFISH\tEUROFISH\t\n"
)


def test_goats_export_layout_is_read_per_project_with_row_numbered_problems() -> None:
    read = parse_goat(EXPORT, file="goat_export.tsv")
    assert read.layout == "export"
    rows = {(r.project, r.taxid): r for r in read.rows}
    assert set(rows) == {("EUROFISH", 8284), ("VGP", 8284), ("CFGP", 55135)}
    assert rows[("EUROFISH", 8284)].status == "insdc_open"
    assert rows[("VGP", 8284)].status == "in_progress"  # VGP is not in insdc_open here
    assert rows[("VGP", 8284)].priority == 1 and rows[("EUROFISH", 8284)].priority == 3
    assert rows[("CFGP", 55135)].status == "in_progress"
    found = [(p.row, p.column, p.value) for p in read.problems]
    assert found == [(4, "taxon_id", "abc"), (5, "taxon_id", "-5"),
                     (6, "sequencing_status", "sequenced"), (7, "project", None),
                     (8, "sequencing_status", "sample_collected")]
    assert "says sample_collected but the status columns reach insdc_open" \
        in read.problems[-1].reason


def test_a_species_given_twice_for_a_project_is_refused_on_its_second_row() -> None:
    text = ("ncbi_taxon_id\tgenus\tspecies\tproject\n7955\tDanio\trerio\tVGP\n"
            "7955\tDanio\trerio\tLH10K\n7955\tDanio\trerio\tvgp\n")
    read = parse_goat(text)
    assert [(r.project, r.row) for r in read.rows] == [("VGP", 2), ("LH10K", 3)]
    [problem] = read.problems
    assert (problem.row, problem.column) == (4, "ncbi_taxon_id")
    assert problem.reason == "taxon 7955 is already on row 2 for VGP"


def test_a_default_project_names_rows_that_name_none() -> None:
    text = "ncbi_taxon_id\tgenus\tspecies\n7955\tDanio\trerio\n"
    [row] = parse_goat(text, project="lh10k").rows
    assert (row.project, row.scientific_name, row.status) == ("LH10K", "Danio rerio",
                                                              "targeted")


def test_a_file_without_a_taxon_id_column_is_refused_at_its_header() -> None:
    read = parse_goat("name\tstatus\nDanio rerio\tinsdc_open\n")
    assert read.rows == [] and [p.row for p in read.problems] == [1]
    assert "ncbi_taxon_id" in read.problems[0].fix
    assert parse_goat("").problems[0].reason == "the file is empty"


def test_goat_file_round_trip() -> None:
    source = read_goat(DATA / "EUROFISH_expanded.tsv")
    buffer = io.StringIO()
    write_goat(source.rows, buffer)
    text = buffer.getvalue()
    assert text.splitlines()[0].split("\t") == list(IMPORT_COLUMNS)
    again = parse_goat(text)
    assert again.problems == []

    def same(r: GoatRow) -> tuple[object, ...]:
        return (r.project, r.taxid, r.scientific_name, r.status, r.priority, r.family,
                r.genus, r.synonyms)

    assert [same(r) for r in again.rows] == [same(r) for r in source.rows]
    # the status columns are GoaT's own for every row GoaT expanded (all but the three
    # insdc_submitted rows, which GoaT left unexpanded and Lanhai marks in progress)
    with (DATA / "EUROFISH_expanded.tsv").open(encoding="utf-8") as handle:
        original = list(csv.DictReader(handle, delimiter="\t"))
    written = list(csv.DictReader(io.StringIO(text), delimiter="\t"))
    for before, after in zip(original, written, strict=True):
        marked = {c for c in STATUS_COLUMNS if after[c]}
        if before["sequencing_status"] == "insdc_submitted":
            assert marked == {"insdc_submitted", "in_progress", "sample_acquired",
                              "sample_collected"}
        else:
            assert marked == {c for c in STATUS_COLUMNS if before[c]}, before["ncbi_taxon_id"]
        assert after["other_priority"] == "EUROFISH"


def test_progress_targets_and_statuses_write_out_as_goat_rows(tmp_path: Path) -> None:
    read = read_goat(DATA / "goat_target_lists.tsv")
    targets, statuses = targets_of(read.rows), statuses_of(read.rows)
    path = tmp_path / "lanhai_status.tsv"
    write_goat(rows_of(targets, statuses), path)
    back = read_goat(path)
    assert back.problems == []
    assert [(r.project, r.taxid, r.status, r.priority) for r in back.rows] == \
        [(r.project, r.taxid, r.status, r.priority) for r in read.rows]
    lines = path.read_text("utf-8").splitlines()
    chimaera = dict(zip(IMPORT_COLUMNS, lines[25].split("\t"), strict=True))
    assert chimaera["ncbi_taxon_id"] == "134990" and chimaera["sequencing_status"] == ""
    assert chimaera["family_representative"] == "CFGP"
    assert chimaera["target_list_status"] == "cfgp_family_representative"
