"""Progress of genome projects on real target lists (GoaT's EUROFISH and CFGP lists, the VGP
Phase 1 fish list) against counts written by reading their rows; the projected completion
on hand-made event series; and the next best species to start."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from lanhai.genomes.goat import read_goat, statuses_of, targets_of
from lanhai.genomes.progress import (
    UNPLACED,
    Counts,
    Target,
    bucket_of,
    count_by_rank,
    count_projects,
    next_best,
    projections,
    summarise,
    table,
    tree,
    treemap,
)
from lanhai.genomes.status import SpeciesStatus, StatusEvent, replay

DATA = Path(__file__).parent / "data" / "genome_status"
AS_OF = dt.date(2025, 6, 30)


def goat_lists() -> tuple[list[Target], dict[tuple[str, int], SpeciesStatus]]:
    read = read_goat(DATA / "goat_target_lists.tsv")
    assert read.problems == []
    return targets_of(read.rows), statuses_of(read.rows)


def vgp() -> tuple[list[Target], dict[tuple[str, int], SpeciesStatus]]:
    """The VGP subset: done (insdc_open) when the row has a main accession."""
    targets, statuses = [], {}
    with (DATA / "vgp_phase1_fish_subset.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            taxid, name = int(row["ncbi_taxon_id"]), row["species_name"]
            lineage = {"class": row["superorder"].split(" (")[0], "order": row["order"],
                       "family": row["family"], "genus": name.split()[0]}
            targets.append(Target("VGP", taxid, name, lineage))
            if row["main_accession"]:
                statuses[("VGP", taxid)] = SpeciesStatus("VGP", taxid, "insdc_open")
    return targets, statuses


def trio(counts: Counts) -> tuple[int, int, int, int]:
    return counts.total, counts.done, counts.in_progress, counts.targeted


# --- counts on the real lists, against hand counts -------------------------------------


def test_project_counts_of_the_eurofish_and_cfgp_lists() -> None:
    targets, statuses = goat_lists()
    counts = count_projects(targets, statuses)
    # EUROFISH: 15 insdc_open, 4 in_assembly, 3 insdc_submitted, 2 data_generation
    assert trio(counts["EUROFISH"]) == (24, 15, 9, 0)
    assert counts["EUROFISH"].by_status == {"insdc_open": 15, "in_assembly": 4,
                                            "insdc_submitted": 3, "data_generation": 2}
    # CFGP: 19 targets, no status
    assert trio(counts["CFGP"]) == (19, 0, 0, 19)
    assert counts["EUROFISH"].to_dict()["done_share"] == 0.625


def test_eurofish_counts_per_family() -> None:
    targets, statuses = goat_lists()
    families = {name: trio(c) for (project, name), c in
                count_by_rank(targets, statuses, "family").items() if project == "EUROFISH"}
    assert families == {
        # family: (total, done, in progress, targeted), read off the rows
        "Leuciscidae": (9, 6, 3, 0),  # Aspius in assembly, Blicca sequencing, Scardinius sub.
        "Percidae": (4, 3, 1, 0),  # Perca fluviatilis in data generation
        "Gobionidae": (3, 2, 1, 0),  # Pseudorasbora parva submitted
        "Cyprinidae": (3, 1, 2, 0),  # Cyprinus carpio submitted, Carassius gibelio assembly
        "Acheilognathidae": (2, 0, 2, 0),  # both Rhodeus in assembly
        "Gobiidae": (1, 1, 0, 0), "Salmonidae": (1, 1, 0, 0), "Cottidae": (1, 1, 0, 0),
    }
    cfgp = {name: c.total for (project, name), c in
            count_by_rank(targets, statuses, "family").items() if project == "CFGP"}
    assert len(cfgp) == 15 and cfgp["Carcharhinidae"] == 3 and cfgp["Triakidae"] == 2
    assert cfgp["Squatinidae"] == 2 and sum(cfgp.values()) == 19


def test_the_done_step_is_configurable() -> None:
    targets, statuses = goat_lists()
    assert trio(count_projects(targets, statuses, "insdc_submitted")["EUROFISH"]) == \
        (24, 18, 6, 0)
    assert trio(count_projects(targets, statuses, "published")["EUROFISH"]) == (24, 0, 24, 0)
    assert bucket_of("sample_collected") == "in_progress"
    assert bucket_of("sample_available") == "targeted"
    assert bucket_of("open") == "in_progress" and bucket_of("published") == "done"
    with pytest.raises(ValueError, match="unknown done step"):
        count_projects(targets, statuses, "finished")


def test_vgp_phase1_counts_per_class_and_order() -> None:
    targets, statuses = vgp()
    assert trio(count_projects(targets, statuses)["VGP"]) == (57, 38, 0, 19)
    classes = {n: trio(c) for (_, n), c in count_by_rank(targets, statuses, "class").items()}
    assert classes == {"Actinopterygii": (28, 17, 0, 11), "Chondrichthyes": (24, 16, 0, 8),
                       "Agnatha": (3, 3, 0, 0), "Sarcopterygii": (2, 2, 0, 0)}
    orders = {n: trio(c)[:2] for (_, n), c in count_by_rank(targets, statuses, "order").items()}
    assert orders["Cypriniformes"] == (14, 13)  # Cyprinella lutrensis has no accession
    assert orders["Lutjaniformes"] == (10, 3)  # seven Lutjanus without
    assert orders["Tetraodontiformes"] == (4, 1)  # Takifugu only
    assert orders["Carcharhiniformes"] == (3, 2) and orders["Squaliformes"] == (1, 0)
    assert len(orders) == 3 + 14 + 2 + 2
    families = {n: trio(c)[:2]
                for (_, n), c in count_by_rank(targets, statuses, "family").items()}
    assert families["Gobionidae"] == (5, 4) and families["Lutjanidae"] == (10, 3)
    assert families["Petromyzontidae"] == (2, 2) and families["Heterodontidae"] == (2, 1)


def test_the_tree_nests_class_order_family_for_a_treemap() -> None:
    targets, statuses = vgp()
    root = tree(targets, statuses)["VGP"]
    assert (root["rank"], root["name"], root["counts"]["total"]) == ("project", "VGP", 57)
    sharks = root["children"]["Chondrichthyes"]
    assert sharks["rank"] == "class" and sharks["counts"]["done"] == 16
    triakidae = sharks["children"]["Carcharhiniformes"]["children"]["Triakidae"]
    assert triakidae["rank"] == "family" and triakidae["children"] == {}
    assert (triakidae["counts"]["total"], triakidae["counts"]["done"]) == (2, 1)
    assert list(sharks["children"]) == sorted(sharks["children"])
    # every level adds up to its parent
    for node in (root, sharks):
        assert sum(c["counts"]["total"] for c in node["children"].values()) == \
            node["counts"]["total"]
    box = treemap(root)
    assert box["value"] == 57 and {c["name"] for c in box["children"]} == {
        "Actinopterygii", "Chondrichthyes", "Agnatha", "Sarcopterygii"}


def test_the_flat_table_lists_every_node_with_its_path() -> None:
    targets, statuses = vgp()
    rows = table(tree(targets, statuses))
    assert rows[0] == {"project": "VGP", "rank": "project", "name": "VGP", "path": "",
                       "total": 57, "done": 38, "in_progress": 0, "targeted": 19,
                       "done_share": round(38 / 57, 4)}
    lutjanidae = next(r for r in rows if r["name"] == "Lutjanidae")
    assert lutjanidae["path"] == "Actinopterygii > Lutjaniformes"
    assert (lutjanidae["total"], lutjanidae["done"], lutjanidae["targeted"]) == (10, 3, 7)
    assert sum(1 for r in rows if r["rank"] == "class") == 4


def test_targets_without_a_rank_are_grouped_as_unplaced() -> None:
    targets = [Target("LH", 1, "Aa bb", {"family": "Xidae"}), Target("LH", 2, "Cc dd")]
    families = count_by_rank(targets, {}, "family")
    assert set(families) == {("LH", "Xidae"), ("LH", UNPLACED)}
    assert count_by_rank(targets, {}, "order")[("LH", UNPLACED)].total == 2


# --- projected completion ---------------------------------------------------------------


def series(done_days: list[int], total: int = 100, start: int = 99
           ) -> tuple[list[Target], list[StatusEvent]]:
    """``total`` targets listed ``start`` days before AS_OF; the first ones done on the
    days (before AS_OF) given."""
    targets = [Target("LH10K", t, f"Species {t}") for t in range(1, total + 1)]
    first = AS_OF - dt.timedelta(days=start)
    events = [StatusEvent("LH10K", t.taxid, "targeted", first) for t in targets]
    for taxid, ago in enumerate(done_days, start=1):
        events.append(StatusEvent("LH10K", taxid, "insdc_open",
                                  AS_OF - dt.timedelta(days=ago), allow_skip=True))
    return targets, events


def test_ten_done_in_the_last_hundred_days_with_ninety_to_go_take_nine_hundred_days() -> None:
    targets, events = series([0, 5, 12, 30, 41, 50, 63, 77, 90, 99])
    [(project, p)] = projections(targets, replay(events), AS_OF).items()
    assert project == "LH10K"
    assert (p.done, p.remaining, p.window_days, p.done_in_window) == (10, 90, 100, 10)
    assert p.window_start == dt.date(2025, 3, 23)  # the project's first event
    assert p.rate_per_day == pytest.approx(0.1)
    assert p.completion == dt.date(2027, 12, 17) == AS_OF + dt.timedelta(days=900)
    assert "90 to go take 900 days" in p.reason


def test_the_rate_uses_the_whole_window_of_an_older_project() -> None:
    targets, events = series([0, 5, 12, 30, 41, 50, 63, 77, 90, 99], start=800)
    p = projections(targets, replay(events), AS_OF)["LH10K"]
    assert (p.window_start, p.window_days) == (dt.date(2024, 7, 1), 365)
    assert p.completion == AS_OF + dt.timedelta(days=3285)  # 90 × 365 / 10
    narrow = projections(targets, replay(events), AS_OF, window_days=45)["LH10K"]
    assert narrow.done_in_window == 5  # done 0, 5, 12, 30 and 41 days ago
    assert narrow.completion == AS_OF + dt.timedelta(days=810)  # 90 × 45 / 5


def test_no_species_done_in_the_window_gives_no_date_and_says_why() -> None:
    targets, events = series([400, 420], start=800)
    p = projections(targets, replay(events), AS_OF)["LH10K"]
    assert p.done == 2 and p.completion is None and p.rate_per_day == 0
    assert p.reason == ("no species reached insdc_open in the 365 days from 2024-07-01 to "
                        "2025-06-30, so there is no rate to project")


def test_a_project_with_every_target_done_ends_on_its_last_day() -> None:
    targets, events = series([3, 9], total=2)
    p = projections(targets, replay(events), AS_OF)["LH10K"]
    assert p.remaining == 0 and p.completion == AS_OF - dt.timedelta(days=3)
    assert p.reason == "every target is done"


def test_a_status_file_without_dates_has_no_projection() -> None:
    targets, statuses = goat_lists()
    p = projections(targets, statuses, AS_OF)["EUROFISH"]
    assert p.completion is None and p.reason == "no status of this project carries a date"
    assert p.to_dict()["completion"] is None


# --- next best species -----------------------------------------------------------------


def test_next_best_on_the_cfgp_and_vgp_lists_fills_family_gaps_first() -> None:
    cfgp, cfgp_statuses = goat_lists()
    vgp_targets, vgp_statuses = vgp()
    targets = [*cfgp, *vgp_targets]
    statuses = {**cfgp_statuses, **vgp_statuses}
    bank = {134990, 1213687, 195319, 55135, 55142, 89020, 432798, 263686, 1214693,
            303946, 232192}
    picks = next_best(targets, statuses, bank)
    assert [c.scientific_name for c in picks] == [
        "Platyrhina sinensis",  # family representative, no genome in Platyrhinidae
        "Chimaera phantasma",  # family representatives with one done relative each:
        "Halaelurus buergeri",  # Hydrolagus colliei, Scyliorhinus canicula and
        "Heterodontus zebra",  # Heterodontus francisci (VGP)
        "Carcharhinus melanopterus",  # long list, no done relative in the family
        "Squatina dumeril", "Squatina nebulosa",
        "Mustelus griseus",  # Mustelus asterias done
        "Okamejei kenojei",  # Amblyraja radiata and Raja brachyura done
        "Lutjanus sebae",  # three Lutjanidae done
    ]
    # Pristiophorus japonicus is on CFGP's list but VGP has its genome: not a candidate
    assert 55135 not in {c.taxid for c in picks}
    first = picks[0]
    assert (first.project, first.priority, first.family_done) == ("CFGP", 1, 0)
    assert first.reason.startswith("family representative; no genome done or under way in "
                                   "Platyrhinidae")
    assert picks[-1].order_done == 3 and picks[-1].family_done == 3
    assert [c.taxid for c in next_best(targets, statuses, bank, limit=2)] == [195319, 134990]
    assert next_best(targets, statuses, set()) == []


def test_relatives_in_progress_and_done_in_the_order_break_ties() -> None:
    lineage = {"a": {"order": "O1", "family": "F1"}, "b": {"order": "O1", "family": "F2"},
               "c": {"order": "O2", "family": "F3"}}
    targets = [
        Target("P", 1, "Alpha one", lineage["a"]), Target("P", 2, "Alpha two", lineage["a"]),
        Target("P", 3, "Beta one", lineage["b"]), Target("P", 4, "Gamma one", lineage["c"]),
        Target("P", 5, "Gamma two", lineage["c"]), Target("P", 6, "Beta two", lineage["b"]),
    ]
    statuses = {("P", 1): SpeciesStatus("P", 1, "data_generation"),  # F1 under way
                ("P", 3): SpeciesStatus("P", 3, "insdc_open")}  # F2 done, O1 done
    picks = next_best(targets, statuses, {2, 4, 5, 6})
    # Gamma (F3, O2): nothing anywhere; Alpha two: F1 has one under way; Beta two: F2 done
    assert [c.taxid for c in picks] == [4, 5, 2, 6]
    assert (picks[2].family_in_progress, picks[2].order_done) == (1, 1)
    assert picks[2].reason == ("long list; 0 done and 1 under way in F1; 1 done in O1; "
                               "material in the bank")


# --- everything at once -----------------------------------------------------------------


def test_summarise_matches_the_parts_and_leaves_out_later_events() -> None:
    targets, events = series([0, 5, 12, 30, 41, 50, 63, 77, 90, 99])
    later = StatusEvent("LH10K", 50, "insdc_open", AS_OF + dt.timedelta(days=1),
                        allow_skip=True)
    summary = summarise(targets, [*events, later], AS_OF, bank_taxids={11, 12},
                        ranks=("family",))
    statuses = replay(events)
    assert trio(summary.projects["LH10K"]) == (100, 10, 0, 90)
    assert summary.projections == projections(targets, statuses, AS_OF)
    assert summary.trees == tree(targets, statuses, ranks=("family",))
    assert summary.table == table(summary.trees)
    assert [c.taxid for c in summary.next_best] == [11, 12]
    assert trio(summary.by_rank["family"][("LH10K", UNPLACED)]) == (100, 10, 0, 90)
