"""Chassis models: cobrapy's bundled models read offline, a user's SBML validated, the summary."""

from __future__ import annotations

import gzip
import hashlib
import json
import socket
from pathlib import Path
from typing import Any

import cobra
import pytest

from lanhai.design import chassis
from lanhai.errors import UsageError, ValidationFailed

DATA = Path(__file__).parent / "data" / "design"


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a network connection fails the test."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the design core tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_textbook_grows_as_published(offline: None) -> None:
    """e_coli_core, aerobic, glucose 10 mmol/gDW/h: 0.8739 /h (Orth, Fleming & Palsson 2010,
    EcoSal Plus; the value cobrapy's documentation shows for the textbook model)."""
    found = chassis.load_bundled("e_coli_core")
    assert found.name == "textbook"
    growth = found.model.slim_optimize()
    assert growth == pytest.approx(0.8739, rel=1e-3)
    raw = gzip.decompress((Path(cobra.__file__).parent / "data" / "textbook.xml.gz").read_bytes())
    assert found.digest == hashlib.sha256(raw).hexdigest()
    assert found.digest == chassis.load_bundled("textbook").digest


def test_ijo1366_grows_as_published(offline: None) -> None:
    """iJO1366, its default glucose minimal medium: 0.982 /h with the core biomass reaction
    (Orth et al. 2011, Mol Syst Biol 7:535)."""
    model = chassis.load_bundled("iJO1366").model
    assert model.slim_optimize() == pytest.approx(0.982, rel=1e-3)


def test_unknown_bundled_model_names_the_choices() -> None:
    with pytest.raises(UsageError) as err:
        chassis.load_bundled("yeast8")
    assert "textbook" in err.value.problems[0].fix
    assert [m["name"] for m in chassis.bundled_models()] == ["iJO1366", "salmonella", "textbook"]


def test_user_sbml_summary() -> None:
    """The toy model (tests/data/design/make_toy_chassis.py): NADHOX loses two hydrogens on
    purpose, LDH makes lactate that nothing uses, so LDH is blocked and lac__D_c a dead end."""
    data = (DATA / "toy_chassis.xml").read_bytes()
    found = chassis.read_sbml(data, "toy_chassis.xml")
    assert found.digest == hashlib.sha256(data).hexdigest()
    summary = chassis.summarize(found.model, found.digest)
    body = summary.as_dict()
    assert body["counts"]["reactions"] == 9 and body["counts"]["genes"] == 7
    assert body["growth"] == pytest.approx(20.0)
    assert body["mass_imbalanced"] == [
        {"reaction": "NADHOX", "name": "NADH recycling", "difference": {"H": -2.0}}]
    assert body["charge_imbalanced"] == []
    assert body["blocked"] == ["LDH"]
    assert body["dead_ends"] == ["lac__D_c"]
    assert body["medium"]["EX_glc__D_e"] == 10.0
    assert json.dumps(body, sort_keys=True) == json.dumps(
        chassis.summarize(found.model, found.digest).as_dict(), sort_keys=True)


def test_gzip_upload_has_the_digest_of_its_text() -> None:
    data = (DATA / "toy_chassis.xml").read_bytes()
    packed = chassis.read_sbml(gzip.compress(data), "toy.xml.gz")
    assert packed.digest == hashlib.sha256(data).hexdigest() == chassis.sbml_digest(data)


def test_textbook_summary_is_consistent() -> None:
    model = chassis.load_bundled("textbook").model
    body = chassis.summarize(model).as_dict()
    assert body["counts"] == {"boundary": 20, "compartments": 2, "exchanges": 20, "genes": 137,
                              "metabolites": 72, "reactions": 95}
    assert body["blocked"] == []
    assert body["mass_imbalanced"] == [] and body["charge_imbalanced"] == []
    assert body["provenance"]["solver"] == "glpk"


def test_invalid_sbml_is_refused_with_its_line() -> None:
    """invalid_species.xml: toy_chassis.xml with GLYC's NAD reference changed to an
    undeclared species on line 51."""
    with pytest.raises(ValidationFailed) as err:
        chassis.read_sbml((DATA / "invalid_species.xml").read_bytes(), "invalid_species.xml")
    first = err.value.problems[0]
    assert first.row == 51 and first.file == "invalid_species.xml"
    assert "M_nadx_c" in first.reason and first.reason.startswith("SBML error:")
    assert "not a valid SBML model" in err.value.message


def test_truncated_and_foreign_files_are_refused() -> None:
    with pytest.raises(ValidationFailed) as err:
        chassis.read_sbml((DATA / "truncated.xml").read_bytes(), "truncated.xml")
    assert any(p.row is not None for p in err.value.problems)
    with pytest.raises(ValidationFailed, match="not an SBML document"):
        chassis.read_sbml(b"<html><body>no</body></html>", "page.html")
    with pytest.raises(ValidationFailed, match="not UTF-8"):
        chassis.read_sbml(b"\xff\xfe<sbml>", "bad.xml")
    with pytest.raises(ValidationFailed, match="gzip"):
        chassis.read_sbml(b"\x1f\x8b\x08\x00broken", "bad.xml.gz")
