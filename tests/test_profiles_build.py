"""Building a marine-cazy pack from labelled data, on a small real subset
(tests/data/profiles/mini_cazy: PL6/PL17 dbCAN rows of three training strains and Maribacter
62-1, their same-length candidate proteins, and the characterised Zobellia sulfatases)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from lanhai.errors import UsageError
from lanhai.profiles.build_cazy import (
    Domain,
    _candidates,
    _resolve_family,
    build_marine_cazy,
    load_proteomes,
    read_dbcan_rows,
)
from lanhai.profiles.hmmtools import read_hmms
from lanhai.profiles.registry import read_manifest

MINI = Path(__file__).parent / "data" / "profiles" / "mini_cazy"
HELD = ("Maribacter_62-1",)


def test_mini_build_is_deterministic_and_records_its_method(tmp_path: Path) -> None:
    one, builds = build_marine_cazy(MINI, tmp_path / "a", held_out=HELD, rounds=2)
    two, _ = build_marine_cazy(MINI, tmp_path / "b", held_out=HELD, rounds=2)
    assert one.path.read_bytes() == two.path.read_bytes()
    assert (one.path.parent / "pack.json").read_text() == \
        (two.path.parent / "pack.json").read_text()
    pack = read_manifest(one.path.parent)
    assert sorted(pack.families) == ["PL6", "S1"]
    assert pack.families["PL6"].substrates == ("alginate",)
    record = {b.family: b for b in builds}
    # 5 PL6 rows pass the filter; 3 proteins are tied to sequences (length + consensus)
    assert record["PL6"].labelled_rows == 5 and record["PL6"].seeds == 3
    assert record["S1"].seeds == 7  # the 7 Zobellia genes with EC 3.1.6.*
    assert not record["PL17"].built and "at least 2" in record["PL17"].reason
    hmms = {str(h.name): h for h in read_hmms(pack.path)}
    assert hmms["PL6"].cutoffs.gathering[0] == pytest.approx(pack.thresholds["PL6"], abs=0.01)
    prov = pack.provenance
    assert prov["held_out_strains"] == list(HELD)
    assert not any("62-1" in name for name in prov["inputs"])  # never read
    assert prov["families"]["PL6"]["threshold"] == pack.thresholds["PL6"]


def test_unknown_held_out_strain_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown held-out strain") as err:
        build_marine_cazy(MINI, tmp_path, held_out=("Maribacter_99",))
    assert "Maribacter_62-1" in err.value.problems[0].reason


def test_missing_data_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="missing input"):
        build_marine_cazy(tmp_path, tmp_path / "out")


def test_linked_groups_are_connected_components_largest_first() -> None:
    from lanhai.profiles.hmmtools import linked_groups

    links = [("b", "c"), ("d", "e"), ("c", "a"), ("e", "e")]
    assert linked_groups("abcdefg", links) == [["a", "b", "c"], ["d", "e"], ["f"], ["g"]]
    assert linked_groups([3, 1, 2], [(3, 2)]) == [[2, 3], [1]]
    assert linked_groups([], []) == []


ROWS = Path(__file__).parent / "data" / "profiles"


Entries = list[tuple[str, dict[str, str], list[str]]]


def _resolver(folder: str, family: str) -> tuple[Entries, Callable[..., list[Domain]]]:
    """One family's dbCAN rows with their candidates, and ``_resolve_family`` bound to them
    (the rows and proteomes of ``tests/data/profiles/<folder>``)."""
    cazy = ROWS / folder / "cazy"
    proteomes = load_proteomes(cazy)
    per_family, _ = _candidates(read_dbcan_rows(cazy / "dbcan_hits_dev.tsv"), proteomes, None,
                                min_coverage=0.35)
    entries = per_family[family]

    def resolve(**options: bool) -> list[Domain]:
        return _resolve_family(family, entries, proteomes, 1, **options)

    return entries, resolve


def test_a_row_outvoted_by_a_conserved_protein_of_the_same_length_is_tied_by_the_model() -> None:
    """dbCAN names RefSeq proteins, so a row is tied to a proteome protein by length. In two
    strains the 876-aa CBM9 row could be the CBM9 protein or a valyl-tRNA synthetase of the
    same length; the synthetases, conserved in every strain, outvote the CBM9 proteins and the
    purity rule then drops both rows. The family's model ties them to the CBM9 proteins."""
    entries, resolve = _resolver("cbm9_rows", "CBM9")
    # orthologues of Maribacter 62-1's MAR621_03557 (CBM9) and MAR621_02847 (valyl-tRNA
    # synthetase), both 876 aa
    cbm9 = {"P178_RS0103920", "SAMN05192540_1723"}
    synthetase = {"P178_RS0120015", "SAMN05192540_0246"}
    assert all(any(c.split("_[")[0] in synthetase for c in candidates)
               for strain, row, candidates in entries
               if row["GeneLength"] == "876" and strain != "Maribacter_litoralis_SDRB-Phe2")

    def tied(domains: list[Domain]) -> dict[str, str]:
        return {d.protein.split("_[")[0]: d.source for d in domains}

    plain = tied(resolve())
    assert not (set(plain) & (cbm9 | synthetase))
    rescued = tied(resolve(rescue=True))
    assert {p: s for p, s in rescued.items() if p not in plain} == {
        p: "dbcan-model-choice" for p in cbm9}
    assert all(rescued[p] == s for p, s in plain.items())


def test_rows_naming_different_proteins_are_tied_to_different_proteins() -> None:
    """Three strains hold four pairs of same-length AA3 paralogues, each paralogue with its own
    dbCAN row. Without ``distinct`` both rows of a pair go to the paralogue with more support,
    and the other, an AA3 protein scoring over 850 bits against the family's model, would count
    as a non-member; with it every RefSeq id has its own protein."""
    entries, resolve = _resolver("aa3_rows", "AA3")
    rows = len(entries)

    def tied(**options: bool) -> list[str]:
        return sorted(d.protein.split("_[")[0] for d in resolve(**options))

    shared = tied(rescue=True)
    assert len(shared) == rows and len(set(shared)) == rows - 4
    assert tied() == shared  # the rescue finds no row to add here
    one_each = tied(rescue=True, distinct=True)
    assert len(set(one_each)) == rows
    assert set(one_each) - set(shared) == {"P178_RS0110430", "ZOBELLIA_2208", "ZOBELLIA_3177",
                                           "FG20_RS17950"}
