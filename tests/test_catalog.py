"""The catalog service on a real database: create, identifiers, links, lineage, history,
and who may see what."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from lanhai.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from lanhai.services.access import ANONYMOUS
from tests.support import CURATOR, READER, SAMPLE, ZOBELLIA, catalog_on


def test_create_get_and_same_strain_under_two_numbers(engine: Engine) -> None:
    service = catalog_on(engine)
    strain = service.create(CURATOR, "strain", ZOBELLIA)
    assert strain.accession == "LHST0000001"
    assert strain.name == "Zobellia galactanivorans DsijT"
    assert strain.identifiers == ["DSM 12802", "CIP 106680"]
    assert strain.fields["hazard_rank"] == 1
    # the same strain under one of its other numbers is the same record: creating is refused
    with pytest.raises(Conflict, match="DSM 12802"):
        service.create(CURATOR, "strain", {**ZOBELLIA, "collection_numbers": "dsm=12802"})
    found, total = service.list(READER, "strains", query="CIP 106680")
    assert total == 1 and found[0].accession == strain.accession


def test_china_risk_scheme_ranks_class_one_most_dangerous(engine: Engine) -> None:
    service = catalog_on(engine)
    cn = service.create(CURATOR, "strain", {**ZOBELLIA, "collection_numbers": "CGMCC 1.1",
                                            "risk_group": "I", "risk_group_scheme": "China"})
    assert cn.fields["risk_group"] == "1" and cn.fields["hazard_rank"] == 4


def test_invalid_record_lists_every_problem(engine: Engine) -> None:
    service = catalog_on(engine)
    bad = {**SAMPLE, "lat_lon": "95 10", "collection_date": "05-10-2010", "depth": "-3 m"}
    del bad["env_medium"]
    with pytest.raises(ValidationFailed) as err:
        service.create(CURATOR, "sample", bad)
    fields = sorted(p.field or "" for p in err.value.problems)
    assert fields == ["collection_date", "depth", "env_medium", "lat_lon"]
    assert service.counts(CURATOR) == {}


def test_writes_need_a_curator(engine: Engine) -> None:
    service = catalog_on(engine)
    with pytest.raises(Unauthorized):
        service.create(ANONYMOUS, "sample", SAMPLE)
    with pytest.raises(Forbidden):
        service.create(READER, "sample", SAMPLE)


def test_links_lineage_and_history(engine: Engine) -> None:
    service = catalog_on(engine)
    sample = service.create(CURATOR, "sample", SAMPLE)
    strain = service.create(CURATOR, "strain", ZOBELLIA)
    # written the natural way round ("strain isolated_from sample"), stored as lineage
    link = service.link(CURATOR, strain.accession, "isolated_from", sample.accession)
    assert (link.source, link.target) == (sample.accession, strain.accession)
    with pytest.raises(ValidationFailed, match="not an allowed link"):
        service.link(CURATOR, strain.accession, "produces", sample.accession)
    deposit = service.create(CURATOR, "deposit", {
        "deposit_accession": "CGMCC No. 99999", "depositary": "CGMCC",
        "deposit_date": "2020-02-29", "depositor": "Lanhai test lab",
        "rule_6_1_statement": "pure culture", "furnishings":
            '[{"date": "2049-06-01", "recipient": "court", "rule": "11.3"}]'})
    assert deposit.restricted
    assert deposit.fields["retention_end"] == "2054-06-01"
    service.link(CURATOR, strain.accession, "deposited_as", deposit.accession)

    lineage = service.lineage(CURATOR, strain.accession)
    assert [e["source"] for e in lineage["ancestors"]] == [sample.accession]
    assert {e["target"] for e in lineage["descendants"]} == {deposit.accession}
    # a reader never learns the deposit exists: not in lineage, 404 on get
    reader_view = service.lineage(READER, strain.accession)
    assert reader_view["descendants"] == []
    with pytest.raises(NotFound):
        service.get(READER, deposit.accession)
    assert service.counts(READER) == {"sample": 1, "strain": 1}

    service.update(CURATOR, strain.accession, {"recommended_temperature": "25"})
    versions = service.history(READER, strain.accession)
    # the reader's history hides the link to the confidential deposit; a curator sees it
    assert [v.action for v in versions] == ["create", "link", "update"]
    assert [v.action for v in service.history(CURATOR, strain.accession)] == [
        "create", "link", "link", "update"]
    assert versions[-1].changes == {"recommended_temperature": [[20.0, 25.0], [25.0, 25.0]]}
    assert versions[-1].changed_by == "ana"


def test_filters_and_text_search(engine: Engine) -> None:
    service = catalog_on(engine)
    service.create(CURATOR, "sample", SAMPLE)
    service.create(CURATOR, "sample", {**SAMPLE, "samp_name": "deep", "depth": "1500 m",
                                       "description": "深海沉积物 deep sediment"})
    deep, total = service.list(READER, "sample", ["depth_m>1000"])
    assert total == 1 and deep[0].name == "deep"
    assert service.list(READER, "sample", query="深海")[1] == 1
    assert service.list(READER, "sample", query="海")[1] == 1
    assert service.list(READER, "sample", ["samp_taxon_id=408172"])[1] == 2
    assert service.list(READER, "sample", ["collection_date>=2014-06"])[1] == 2


def test_contains_filters_match_values_not_the_json_that_stores_them(engine: Engine) -> None:
    service = catalog_on(engine)
    service.create(CURATOR, "strain", {**ZOBELLIA, "collection_numbers": "DSM 12802; CIP 106680"})
    service.create(CURATOR, "sample", {**SAMPLE, "samp_collect_device": 'Niskin "GO-FLO"'})
    for where, strains, samples in (
        ('collection_numbers~"', 0, 0),  # no value holds a quote there
        ("collection_numbers~,", 0, 0),  # the list's commas are not text
        ("collection_numbers~[", 0, 0),
        ("collection_numbers~cip 1066", 1, 0),  # any value of a list, any case
        ("collection_numbers~802", 1, 0),
        ('samp_collect_device~"go-flo"', 0, 1),  # a quote inside a value does match
        ("samp_collect_device~%", 0, 0),  # LIKE wildcards are plain characters
        ("samp_collect_device~_", 0, 0),
        ("geo_loc_name~western english", 0, 1),
    ):
        kind = "strain" if where.startswith("collection") else "sample"
        found = service.list(CURATOR, kind, [where])[1]
        assert found == (strains if kind == "strain" else samples), where
