"""Storing a file without its bad records: ``lanhai ingest --set-aside-bad``, the upload's
``set_aside_bad=true`` and ``SequenceService.ingest(set_aside_bad=True)``.

A curator's proteome went through a spreadsheet on its way: six sequences became
``#NAME?``. By default the file is refused whole (nothing stored, every problem listed, and
the message says how to keep the rest). Set aside, the other proteins are stored, and the
six are listed (id, header line, reason) in the answer, the stored manifest (``lanhai
annotations --stats``, ``GET /api/assemblies/{accession}/sequences``) and the history note.
A problem of the whole file (a cut gzip, a file that is not FASTA, a GenBank record
without its end), or a file with no valid record, still stores nothing.
"""

from __future__ import annotations

import gzip
import io
import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine

from lanhai.cli.main import main
from lanhai.errors import ValidationFailed
from lanhai.sequence.reader import SequenceReader
from tests.support import (
    CURATOR,
    add_user,
    bank_on,
    catalog_on,
    make_client,
    new_assembly,
    run_json,
)
from tests.support.sequences import GENBANK, PROTEOME, REGION, records

#: where the spreadsheet put '#NAME?' (0-based positions among the 30 proteins)
BROKEN = (2, 7, 11, 18, 23, 29)
PROTEINS = records(PROTEOME)  # 30 Maribacter sp. Hel_I_7 proteins, 4 with internal stops


def spreadsheet_proteome(folder: Path, compress: bool = True) -> tuple[Path, dict[str, int]]:
    """The proteome with six sequences turned into '#NAME?'; the broken ids and the line
    of each one's header."""
    lines: list[str] = []
    broken: dict[str, int] = {}
    for number, (ident, sequence) in enumerate(PROTEINS):
        if number in BROKEN:
            broken[ident] = len(lines) + 1
            lines += [f">{ident}", "#NAME?"]
        else:
            lines += [f">{ident}"] + [sequence[i:i + 60] for i in range(0, len(sequence), 60)]
    text = ("\n".join(lines) + "\n").encode()
    path = folder / ("proteome_from_excel.faa" + (".gz" if compress else ""))
    path.write_bytes(gzip.compress(text) if compress else text)
    return path, broken


def stored_ids(bank: Path, acc: str) -> list[str]:
    return list(pq.read_table(bank / "assemblies" / acc / "proteins.parquet")
                .column("id").to_pylist())


# --- the command line ---------------------------------------------------------------------

def test_by_default_the_file_is_refused_whole(bank_dir: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    path, broken = spreadsheet_proteome(tmp_path)
    acc = new_assembly(capsys, "Maribacter sp. Hel_I_7 proteins 231-260")
    refused = run_json(capsys, ["ingest", acc, str(path), "--kind", "proteome",
                                "--allow-stops"], code=1)["error"]
    assert refused["code"] == "invalid" and "nothing was stored" in refused["message"]
    assert "--set-aside-bad" in refused["message"] and "24 valid records" in refused["message"]
    # each problem names the line of the stray character, below the header
    assert {(p["record"], p["row"]) for p in refused["problems"]} == {
        (ident, line + 1) for ident, line in broken.items()}
    assert {p["value"] for p in refused["problems"]} == {"#", "?"}
    assert not (bank_dir / "assemblies" / acc).exists()
    assert "protein_count" not in run_json(capsys, ["show", acc])["fields"]


def test_set_aside_stores_the_rest_and_lists_the_bad_records(
        bank_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, broken = spreadsheet_proteome(tmp_path)
    acc = new_assembly(capsys, "Maribacter sp. Hel_I_7 proteins 231-260")
    result = run_json(capsys, ["ingest", acc, str(path), "--kind", "proteome",
                               "--allow-stops", "--set-aside-bad"])
    assert result["status"] == "stored" and result["summary"]["protein_count"] == 24
    assert result["set_aside_count"] == 6
    assert [(r["id"], r["line"]) for r in result["set_aside"]] == list(broken.items())
    assert all(r["reason"] == "stray character '#': not an amino-acid (IUPAC) code; "
                              "stray character '?': not an amino-acid (IUPAC) code"
               for r in result["set_aside"])
    good = [ident for n, (ident, _) in enumerate(PROTEINS) if n not in BROKEN]
    assert stored_ids(bank_dir, acc) == good
    # the manifest keeps the list: `lanhai annotations --stats`
    stats = run_json(capsys, ["annotations", acc, "--stats"])
    assert stats["set_aside"] == result["set_aside"] and stats["set_aside_count"] == 6
    manifest = json.loads((bank_dir / "assemblies" / acc / "manifest.json").read_text())
    assert manifest["set_aside"] == result["set_aside"]
    # and the history says what was left out, with ids and lines
    [entry] = [v for v in run_json(capsys, ["history", acc]) if v["note"]
               and v["note"].startswith("ingested")]
    note = entry["note"]
    assert note.startswith("ingested proteome_from_excel.faa.gz; 6 bad records set aside: ")
    first, line = next(iter(broken.items()))
    assert f"{first} (line {line}: stray character '#'" in note
    assert len(note) <= 500
    assert run_json(capsys, ["show", acc])["fields"]["protein_count"] == 24


def test_set_aside_in_words(bank_dir: Path, tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    path, broken = spreadsheet_proteome(tmp_path)
    acc = new_assembly(capsys, "Maribacter")
    capsys.readouterr()
    assert main(["ingest", acc, str(path), "--kind", "proteome", "--allow-stops",
                 "--set-aside-bad"]) == 0
    out = capsys.readouterr().out
    assert "protein_count: 24" in out
    assert "set aside: 6 records with problems (not stored)" in out
    for ident, line in broken.items():
        assert re.search(rf"^    {re.escape(ident)}\tline {line}\tstray character '#'", out,
                         re.MULTILINE), out
    assert main(["annotations", acc, "--stats"]) == 0
    assert "set aside: 6 records" in capsys.readouterr().out


def test_each_kind_of_record_problem_is_set_aside(
        bank_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A gap, a missing id, an empty sequence and a repeated id (the first one is kept)."""
    contigs = tmp_path / "contigs.fasta"
    contigs.write_text(">c1 ok\nACGTNNACGT\n>c2\nACGT-ACGT\n>\nACGT\n>c3\n\n>c1\nGGGG\n"
                       ">c4 ok\nTTTT\n", "utf-8")
    acc = new_assembly(capsys, "four contigs")
    result = run_json(capsys, ["ingest", acc, str(contigs), "--set-aside-bad"])
    assert [(r["id"], r["line"], r["reason"].split(":")[0]) for r in result["set_aside"]] == [
        ("c2", 3, "stray character gap"),
        ("(no id, line 5)", 5, "the header has no sequence id"),
        ("c3", 7, "the sequence is empty"),
        ("c1", 9, "duplicate id (first used on line 1)")]
    assert result["summary"]["contig_count"] == 2 and result["summary"]["genome_size"] == 14
    contig_ids = pq.read_table(bank_dir / "assemblies" / acc / "contigs.parquet").column("id")
    assert contig_ids.to_pylist() == ["c1", "c4"]


def test_a_problem_of_the_whole_file_still_stores_nothing(
        bank_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = spreadsheet_proteome(tmp_path)
    cut = tmp_path / "cut.faa.gz"
    cut.write_bytes(path.read_bytes()[: len(path.read_bytes()) * 2 // 3])
    genbank = GENBANK.read_text().replace("\n//", "\n", 1)
    unterminated = tmp_path / "no_end.gbk"
    unterminated.write_text(genbank.replace("ORIGIN", "ORIGIN\n        1 acgt#name?", 1))
    all_bad = tmp_path / "all_bad.faa"
    all_bad.write_text(">a\n#NAME?\n>b\n#NAME?\n")
    table = tmp_path / "proteins.csv"
    table.write_text("id,sequence\nP1,MKV\n")
    acc = new_assembly(capsys, "Maribacter")
    for bad, kind, why in ((cut, "proteome", "concern the whole file"),
                           (unterminated, "genome", "concern the whole file"),
                           (table, "proteome", "concern the whole file"),
                           (all_bad, "proteome", "nothing valid to store")):
        error = run_json(capsys, ["ingest", acc, str(bad), "--kind", kind, "--allow-stops",
                                  "--set-aside-bad"], code=1)["error"]
        assert "nothing was stored" in error["message"] and why in error["message"], bad
        assert not (bank_dir / "assemblies" / acc).exists()


def test_the_same_file_again_is_unchanged_and_a_clean_one_replaces_the_list(
        bank_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = spreadsheet_proteome(tmp_path)
    acc = new_assembly(capsys, "Maribacter")
    run_json(capsys, ["ingest", acc, str(path), "--kind", "proteome", "--allow-stops",
                      "--set-aside-bad"])
    again = run_json(capsys, ["ingest", acc, str(path), "--kind", "proteome",
                              "--allow-stops", "--set-aside-bad"])
    assert again["status"] == "unchanged" and again["set_aside_count"] == 6
    fixed = run_json(capsys, ["ingest", acc, str(PROTEOME), "--kind", "proteome",
                              "--allow-stops", "--replace"])
    assert fixed["status"] == "replaced" and "set_aside" not in fixed
    assert "set_aside" not in run_json(capsys, ["annotations", acc, "--stats"])
    assert len(stored_ids(bank_dir, acc)) == 30


# --- the service and the reader ------------------------------------------------------------

def test_the_service_sets_aside_only_when_asked(engine: Engine, tmp_path: Path) -> None:
    path, broken = spreadsheet_proteome(tmp_path, compress=False)
    bank = bank_on(engine, tmp_path / "bank")
    acc = bank.catalog.create(CURATOR, "assembly", REGION).accession
    with pytest.raises(ValidationFailed) as refused:
        bank.sequences.ingest(CURATOR, acc, path, kind="proteome", allow_stops=True)
    assert len(refused.value.problems) == 12  # '#' and '?' in each of the six
    result = bank.sequences.ingest(CURATOR, acc, path, kind="proteome", allow_stops=True,
                                   set_aside_bad=True)
    assert [r["id"] for r in result["set_aside"]] == list(broken)
    assert bank.sequences.stats(CURATOR, acc)["set_aside_count"] == 6
    [*_, last] = bank.catalog.history(CURATOR, acc)
    assert "6 bad records set aside" in (last.note or "")


def test_the_reader_keeps_each_record_apart() -> None:
    reader = SequenceReader(io.BytesIO(b">a\nMKV\n>b\n#NAME?\n>c\nMKL\n"), kind="proteome")
    assert [r.id for r in reader] == ["a", "c"]
    assert [(r.id, r.line) for r in reader.set_aside] == [("b", 3)]
    assert reader.set_aside_count == 1 and reader.file_problems == 0
    whole = SequenceReader(io.BytesIO(b"id,sequence\n"), kind="proteome")
    assert list(whole) == [] and whole.file_problems == 1 and whole.set_aside == []


def test_a_long_list_is_cut_in_the_history_note_not_in_the_manifest(
        engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "many.faa"
    path.write_text("".join(f">bad_protein_with_a_long_name_{n}\n#NAME?\n" for n in range(40))
                    + ">good\nMKV\n")
    bank = bank_on(engine, tmp_path / "bank")
    acc = bank.catalog.create(CURATOR, "assembly", REGION).accession
    result = bank.sequences.ingest(CURATOR, acc, path, kind="proteome", set_aside_bad=True)
    assert result["set_aside_count"] == 40 and len(result["set_aside"]) == 40
    note = bank.catalog.history(CURATOR, acc)[-1].note or ""
    assert len(note) <= 500 and note.endswith(" more")
    assert re.search(r"; and \d+ more$", note)


# --- the API -----------------------------------------------------------------------------

def test_the_upload_sets_aside_when_asked(engine: Engine, tmp_path: Path) -> None:
    client = make_client(engine)
    curator = add_user(engine, "ana", "curator")
    acc = catalog_on(engine).create(CURATOR, "assembly", REGION).accession
    path, broken = spreadsheet_proteome(tmp_path)
    sent = {"files": {"file": (path.name, path.read_bytes(), "application/gzip")},
            "headers": curator}
    form = {"kind": "proteome", "allow_stops": "true"}
    refused = client.post(f"/api/assemblies/{acc}/sequences", data=form, **sent)
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert {(p["record"], p["row"]) for p in error["problems"]} == {
        (ident, line + 1) for ident, line in broken.items()}
    assert "set_aside_bad=true" in error["message"]
    assert client.get(f"/api/assemblies/{acc}/sequences").status_code == 404

    stored = client.post(f"/api/assemblies/{acc}/sequences",
                         data={**form, "set_aside_bad": "true"}, **sent)
    assert stored.status_code == 201, stored.text
    body = stored.json()
    assert body["summary"]["protein_count"] == 24 and body["set_aside_count"] == 6
    assert [(r["id"], r["line"]) for r in body["set_aside"]] == list(broken.items())
    shown = client.get(f"/api/assemblies/{acc}/sequences").json()
    assert shown["set_aside"] == body["set_aside"]
    history = client.get(f"/api/records/{acc}/history").json()["versions"]
    assert "6 bad records set aside" in history[-1]["note"]
    proteins = client.get(f"/api/assemblies/{acc}/proteins.fasta").text
    assert proteins.count(">") == 24 and "#NAME?" not in proteins
