"""The demo bank: built twice it duplicates and changes nothing, tells only true stories
(every link follows a documented rule), and `lanhai demo --no-serve --json` works."""

from __future__ import annotations

import json
import re
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import Engine, func, select

from lanhai.bank import Bank
from lanhai.cli.main import main
from lanhai.db.schema import links, records, versions
from lanhai.demo import DEMO_SOURCES, build_demo
from lanhai.demo.links import LINK_RULES, all_records
from lanhai.demo.sources import data_dir, source_path
from lanhai.services.access import Actor
from lanhai.settings import Settings
from tests.support import catalog_on, database

ADMIN = Actor("demo-test", "admin")


def _bank(engine: Engine, tmp_path: Path) -> Bank:
    url = engine.url.render_as_string(hide_password=True)
    return Bank.over(Settings(data_dir=tmp_path, database_url=url), database(engine))


def _versions(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(versions)).scalar_one())


def _bank_links(engine: Engine) -> set[tuple[str, str, str]]:
    src, dst = records.alias("src"), records.alias("dst")
    with engine.connect() as conn:
        rows = conn.execute(select(src.c.accession, links.c.rel, dst.c.accession)
                            .join(src, src.c.id == links.c.source_id)
                            .join(dst, dst.c.id == links.c.target_id)).all()
    return {(s, r, t) for s, r, t in rows}


def test_building_twice_gives_the_same_bank_and_no_new_versions(engine: Engine,
                                                                tmp_path: Path) -> None:
    bank = _bank(engine, tmp_path)
    first = build_demo(bank, ADMIN)
    assert first.created == sum(first.counts.values())
    assert first.curator_created and first.links_created == len(first.links) > 0
    stored = _versions(engine)
    second = build_demo(bank, ADMIN)
    assert second.counts == first.counts
    assert (second.created, second.updated, second.links_created) == (0, 0, 0)
    assert not second.curator_created
    assert _versions(engine) == stored
    assert all(s.unchanged == s.rows for s in second.sources)


def test_demo_contents(engine: Engine, tmp_path: Path) -> None:
    summary = build_demo(_bank(engine, tmp_path), ADMIN)
    assert summary.counts == {"sample": 413, "strain": 238, "assembly": 301,
                              "compound": 430, "part": 37, "germplasm": 38}
    vliz = next(s for s in summary.sources if s.name == "osd2014_vliz")
    assert vliz.created == 0 and vliz.updated == vliz.rows == 28  # merged, not duplicated


def test_zobellia_strain_tells_its_story(engine: Engine, tmp_path: Path) -> None:
    summary = build_demo(_bank(engine, tmp_path), ADMIN)
    catalog = catalog_on(engine)
    strain = catalog.get(ADMIN, summary.highlights["zobellia_strain"])
    assert strain.name == "Zobellia galactanivorans DsijT"
    assert strain.fields["isolation_habitat"] == "red alga Delesseria sanguinea"
    assert strain.fields["geographic_origin"] == "France: Roscoff"
    assert strain.fields["type_strain"] is True and strain.fields["marine"] is True
    assert "collection_numbers" not in strain.fields  # no shipped source gives one
    assert strain.fields["recommended_medium"] == "not provided"
    # its proteome (Wolter et al. 2021) is the one assembly linked to it, with its proteins
    (link,) = catalog.links(ADMIN, strain.accession)
    assert (link.source, link.rel) == (strain.accession, "sequenced_as")
    proteome = catalog.get(ADMIN, link.target)
    assert proteome.accession == summary.highlights["zobellia_proteome"]
    assert proteome.fields["sequence_kind"] == "proteome"
    assert proteome.fields["protein_count"] == 4738  # zcat …DsiJ.faa.gz | grep -c '>'
    assert summary.sequences == [{"accession": proteome.accession, "file": "sequences/"
                                  "Zobellia_galactanivorans_DsiJ.faa.gz", "status": "stored",
                                  "proteins": 4738}]


def _names(fields: dict[str, object]) -> set[str]:
    species = " ".join(str(fields["taxon_name"]).split()).lower()
    designation = re.sub(r"(?<=\d)T$", "", str(fields.get("strain_designation", "")).strip())
    numbers = fields.get("collection_numbers") or []
    assert isinstance(numbers, list)
    return {f"{species} {designation}".lower(), *(f"{species} {n}".lower() for n in numbers)}


def test_every_link_follows_a_documented_rule(engine: Engine, tmp_path: Path) -> None:
    summary = build_demo(_bank(engine, tmp_path), ADMIN)
    stored = _bank_links(engine)
    assert stored == {(lk.source, lk.rel, lk.target) for lk in summary.links}
    assert {lk.rule for lk in summary.links} == set(LINK_RULES)
    catalog = catalog_on(engine)
    workbook = openpyxl.load_workbook(
        source_path(next(s for s in DEMO_SOURCES if s.kind == "germplasm")), read_only=True)
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    header = list(rows[0])
    table = {f"{r[header.index('INSTCODE')]}:{r[header.index('ACCENUMB')]}": dict(zip(
        header, r, strict=False)) for r in rows[1:]}
    for link in summary.links:
        source, target = catalog.get(ADMIN, link.source), catalog.get(ADMIN, link.target)
        assert LINK_RULES[link.rule][0] == link.rel
        if link.rule == "mibig_producer":
            assert (source.kind, target.kind) == ("strain", "compound")
            organism = " ".join(target.fields["source_organism"].split()).lower()
            assert organism in _names(source.fields)
            assert any(i.startswith("BGC") for i in target.fields["source_ids"])
        elif link.rule == "proteome_of_strain":
            assert (source.kind, target.kind) == ("strain", "assembly")
            assert source.name == "Zobellia galactanivorans DsijT"
            assert target.fields["taxon_name"] == "Zobellia galactanivorans"
        else:
            assert (source.kind, target.kind) == ("germplasm", "germplasm")
            original = f"{source.fields['instcode']}:{source.fields['accenumb']}"
            duplicate = table[f"{target.fields['instcode']}:{target.fields['accenumb']}"]
            assert duplicate["IS_SAVE_DUPLICATE"] == "True"
            assert duplicate["OTHERNUMB"] == original
            back = table[original]  # the other row names the duplicate back
            assert back["OTHERNUMB"] == f"{target.fields['instcode']}:" \
                                        f"{target.fields['accenumb']}"
    producers = {lk.source for lk in summary.links if lk.rule == "mibig_producer"}
    assert [catalog.get(ADMIN, a).name for a in producers] == ["Salinispora tropica CNB-440T"]


def test_no_mag_or_strain_is_linked_to_a_sample(engine: Engine, tmp_path: Path) -> None:
    build_demo(_bank(engine, tmp_path), ADMIN)
    catalog = catalog_on(engine)
    kinds = {rec.accession: rec.kind for kind in ("sample", "assembly", "strain")
             for rec in all_records(catalog, ADMIN, kind)}
    names = {rec.accession: rec.name for rec in all_records(catalog, ADMIN, "assembly")}
    for source, _rel, target in _bank_links(engine):
        assert not (kinds.get(source) == "sample" or kinds.get(target) == "sample")
        # the only assembly with a link is the Zobellia proteome, linked to its strain
        if kinds.get(target) == "assembly":
            assert names[target].startswith("Zobellia galactanivorans DsijT proteome")
        assert kinds.get(source) != "assembly"


def test_shipped_demo_data_is_small_and_documented() -> None:
    files = [p for p in data_dir().rglob("*") if p.is_file()]
    # about 1 MB of records plus the 1 MB Zobellia proteome
    assert sum(p.stat().st_size for p in files) < 2_500_000
    provenance = (data_dir() / "PROVENANCE.md").read_text(encoding="utf-8")
    for source in DEMO_SOURCES:
        assert source_path(source).is_file()
        assert Path(source.file).name in provenance, source.file
    for rule in LINK_RULES:
        assert f"`{rule}`" in provenance


def test_cli_demo_no_serve_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LANHAI_DATA_DIR", str(tmp_path / "demo-data"))
    monkeypatch.delenv("LANHAI_DATABASE_URL", raising=False)
    assert main(["demo", "--no-serve", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["counts"]["sample"] == 413 and data["serving"] is False
    assert data["open"]["stats"] == "http://127.0.0.1:8000/api/stats"
    assert data["curator_created"] is True
    assert main(["demo", "--no-serve", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["created"], again["updated"], again["links_created"]) == (0, 0, 0)
    assert main(["demo", "--no-serve"]) == 0
    text = capsys.readouterr().out
    assert "lanhai tokens create demo-curator" in text and "/api/stats" in text
