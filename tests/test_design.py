"""Strain design as a metabolic engineer uses it: a chassis registered (bundled or from
SBML, checked, linked to its strain), parts carrying their reactions, a design that adds
them, its analysis kept and reproducible, knockout searches, SBML and SBOL3 out, and every
bad input refused with nothing written."""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import cobra
import pytest
from sqlalchemy import Engine

from lanhai.bank import Bank
from lanhai.design import chassis as chassis_core
from lanhai.errors import Forbidden, NotFound, Unauthorized, UsageError, ValidationFailed
from lanhai.kinds.design import BUNDLED_NAMES
from lanhai.services.access import ANONYMOUS
from tests.support import CURATOR, READER, ZOBELLIA, bank_on, run_json

#: phaA, phaB, phaC of Cupriavidus necator (PHB from acetyl-CoA), with the BiGG formulas
#: of the charged CoA esters and PHB as its monomer unit
PHB_PARTS = [
    {"display_id": "phaA_Cnec", "part_name": "acetyl-CoA acetyltransferase (phaA)",
     "ec_number": "2.3.1.9", "reaction": "2 accoa_c -> aacoa_c + coa_c", "reaction_id": "PHAA",
     "new_metabolites": "aacoa_c C25H36N7O18P3S -4 Acetoacetyl-CoA", "gene_name": "phaA",
     "protein_family": "PF00108"},
    {"display_id": "phaB_Cnec", "part_name": "acetoacetyl-CoA reductase (phaB)",
     "ec_number": "1.1.1.36", "reaction": "aacoa_c + nadph_c + h_c --> 3hbcoa_c + nadp_c",
     "reaction_id": "PHAB", "gene_name": "phaB", "protein_family": "PF13561",
     "new_metabolites": "3hbcoa_c C25H38N7O18P3S -4 (R)-3-Hydroxybutanoyl-CoA"},
    {"display_id": "phaC_Cnec", "part_name": "PHB synthase (phaC)", "ec_number": "2.3.1.304",
     "reaction": "3hbcoa_c -> phb_c + coa_c", "reaction_id": "PHAC", "gene_name": "phaC",
     "new_metabolites": "phb_c C4H6O2 0 Poly-3-hydroxybutyrate (monomer unit)",
     "protein_family": "PF07167"},
]
#: a protein sequence stands in for each part (the reaction is what design reads)
_SEQUENCE = "MTDVVIVSAARTAVGKFGGSLAKIPAPELGAVVIKAALERAGVKPEQVSEVIMGQVLTAGSGQ"


def _part(bank: Bank, values: dict[str, str]) -> str:
    record = bank.catalog.create(CURATOR, "part", {
        **values, "part_type": "protein", "role": "cds", "sequence": _SEQUENCE,
        "organism": "Cupriavidus necator H16"})
    return record.accession


@pytest.fixture
def file_engine(tmp_path: Path) -> Iterator[Engine]:
    """A catalog in an SQLite file: background jobs then write on connections of their own,
    as in a served bank (the in-memory catalog is one connection the job and the polling
    requests would share)."""
    from lanhai.db.engine import make_engine, migrate

    engine = make_engine(f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def bank(sqlite_engine: Engine, tmp_path: Path) -> Bank:
    return bank_on(sqlite_engine, tmp_path)


@pytest.fixture
def phb(bank: Bank) -> str:
    """A PHB design on the bundled E. coli core model, aerobic glucose."""
    parts = [_part(bank, p) for p in PHB_PARTS]
    record = bank.catalog.create(CURATOR, "design", {
        "title": "PHB from glucose in E. coli core", "chassis": "e_coli_core",
        "product": "phb_c", "parts": "; ".join(parts)})
    return record.accession


def test_bundled_names_match_the_models_that_ship() -> None:
    names = {b.name for b in chassis_core.BUNDLED.values()}
    aliases = {a.lower(): b.name for b in chassis_core.BUNDLED.values() for a in b.aliases}
    assert set(BUNDLED_NAMES.values()) == names
    assert {**{n.lower(): n for n in names}, **aliases} == BUNDLED_NAMES


def test_a_bundled_chassis_is_registered_checked_and_linked_to_its_strain(bank: Bank
                                                                           ) -> None:
    strain = bank.catalog.create(CURATOR, "strain", {
        **ZOBELLIA, "taxon_name": "Escherichia coli", "strain_designation": "K-12 MG1655",
        "collection_numbers": "DSM 18039", "isolation_habitat": "human gut",
        "geographic_origin": "USA: Stanford", "recommended_temperature": "37",
        "recommended_medium": "LB"}).accession
    record = bank.design.register_chassis(
        CURATOR, {"model_name": "E. coli core", "bundled": "textbook"}, strain=strain)
    f = record.fields
    assert record.accession.startswith("LHCH")
    assert (f["reaction_count"], f["metabolite_count"], f["gene_count"]) == (95, 72, 137)
    assert f["growth_rate"] == pytest.approx(0.873922, abs=1e-6)
    assert f["blocked_reactions"] == 0 and f["mass_imbalanced"] == 0
    links = bank.catalog.links(CURATOR, record.accession)
    assert [(lk.source, lk.rel) for lk in links] == [(strain, "modelled_as")]
    with pytest.raises(ValidationFailed, match="registered already"):
        bank.design.register_chassis(CURATOR, {"model_name": "again", "bundled": "e_coli_core"})
    report = bank.design.chassis_report(CURATOR, record.accession)
    assert report["growth"] == pytest.approx(0.873922, abs=1e-6)


def test_an_sbml_chassis_is_validated_before_anything_is_written(bank: Bank) -> None:
    text = gzip.decompress(resources.files("cobra").joinpath(
        "data", "textbook.xml.gz").read_bytes())
    broken = text.replace(b"<listOfReactions>", b"<listOfReactions><oops/>", 1)
    with pytest.raises(ValidationFailed) as err:
        bank.design.register_chassis(CURATOR, {"model_name": "broken"}, sbml=broken,
                                     file_name="broken.xml")
    assert err.value.problems and "SBML" in err.value.problems[0].reason
    assert bank.catalog.list(CURATOR, "chassis")[0] == []
    assert not (bank.layout.chassis.exists() and any(bank.layout.chassis.iterdir()))
    record = bank.design.register_chassis(CURATOR, {"model_name": "core from SBML"},
                                          sbml=gzip.compress(text), file_name="core.xml.gz")
    assert record.fields["reaction_count"] == 95
    assert bank.design.chassis_sbml(CURATOR, record.accession) == text


def test_a_pathway_of_parts_reaches_the_published_phb_yield(bank: Bank, phb: str) -> None:
    """PHB from glucose: 0.48 g/g is the published theoretical maximum (Yamane 1993,
    Biotechnol Bioeng 41:165); e_coli_core gives 0.478 g/g, 1 mol of the monomer per mol
    of glucose."""
    result = bank.design.run(CURATOR, phb)
    assert result["changed"] is True
    record = bank.catalog.get(CURATOR, phb)
    f = record.fields
    assert f["max_mass_yield"] == pytest.approx(0.478, abs=0.002)
    assert f["max_yield"] == pytest.approx(result["yield"]["molar_yield"], rel=1e-6)
    assert f["growth_rate"] == pytest.approx(0.873922, abs=1e-6)
    assert f["growth_coupled"] is False and f["product_flux"] == 0
    assert f["result_digest"] == result["digest"]
    assert sorted(result["added"]) == ["DM_phb_c", "PHAA", "PHAB", "PHAC"]
    assert {r for r in result["fva"]} >= {"PHAA", "PHAB", "PHAC", "DM_phb_c", "EX_glc__D_e"}
    env = result["envelope"]
    assert len(env["points"]) == 20 and env["points"][0]["product_max"] > 0
    # the lineage: part --used_in--> design
    links = bank.catalog.links(CURATOR, phb)
    assert sorted(lk.rel for lk in links) == ["used_in"] * 3
    # rerunning the stored inputs gives the same analysis, and writes no new version
    again = bank.design.run(CURATOR, phb)
    assert again["digest"] == result["digest"] and again["changed"] is False
    assert bank.catalog.get(CURATOR, phb).version == record.version
    stored = bank.design.results(CURATOR, phb)["analysis"]
    assert stored["digest"] == result["digest"] and stored["yield"] == result["yield"]
    table = bank.design.flux_table(CURATOR, phb).splitlines()
    assert table[0].startswith("reaction,name,subsystem,pfba_flux,fva_minimum")
    assert any(line.startswith("PHAC,") and ",yes," in line for line in table)


def test_the_design_exports_as_sbml_and_sbol3(bank: Bank, phb: str) -> None:
    sbml = bank.design.sbml(CURATOR, phb)
    model = cobra.io.read_sbml_model(io.StringIO(sbml.decode()))
    assert {"PHAA", "PHAB", "PHAC", "DM_phb_c"} <= set(model.reactions.list_attr("id"))
    model.objective = "DM_phb_c"
    # 10 mmol glucose/gDW/h at 0.478 g/g: 10 x 0.478 x 180.16 / 86.09 = 10.0 mmol PHB
    assert model.slim_optimize() == pytest.approx(10 * 0.478 * 180.156 / 86.09, rel=0.01)
    sbol = bank.design.sbol(CURATOR, phb, "https://w3id.org/lanhai").decode()
    import sbol3

    doc = sbol3.Document()
    doc.read_string(sbol, sbol3.TURTLE)
    report = doc.validate()
    assert not report.errors and not report.warnings
    design = doc.find(f"https://w3id.org/lanhai/{phb}")
    assert design is not None and len(design.features) == 3


def test_knockouts_couple_succinate_to_growth_in_e_coli_core(bank: Bank) -> None:
    """Anaerobic succinate in e_coli_core: OptKnock (GLPK) finds designs coupled to growth,
    among them adhE and ldhA (ACALD, LDH_D) of the published ACALD + LDH_D + PTAr design
    (Burgard et al. 2003); the lactate exporter D_LACt2 is the same cut as LDH_D."""
    record = bank.catalog.create(CURATOR, "design", {
        "title": "Succinate, anaerobic", "chassis": "textbook", "product": "succ_e",
        "medium": "EX_o2_e=0"}).accession
    result = bank.design.knockouts(CURATOR, record, method="optknock", max_knockouts=3,
                                   time_limit=60)
    designs = result["result"]["designs"]
    assert designs and all(d["evaluation"]["growth_coupled"] for d in designs[:3])
    sets = [set(d["reactions"]) for d in designs]
    assert {"ACALD", "LDH_D", "THD2"} in sets
    assert all("ACALD" in found and found & {"LDH_D", "D_LACt2"} for found in sets[:2])
    best = designs[0]
    assert best["gene_names"] and all(best["gene_names"].values())
    f = bank.catalog.get(CURATOR, record).fields
    assert f["knockout_digest"] == result["digest"]
    assert f["best_knockouts"][0] == "+".join(best["reactions"])
    # apply the best knockouts: the design now couples succinate to growth
    bank.catalog.update(CURATOR, record, {"reaction_deletions": "; ".join(best["reactions"])})
    analysed = bank.design.run(CURATOR, record)
    assert analysed["coupling"]["growth_coupled"] is True
    assert bank.catalog.get(CURATOR, record).fields["growth_coupled"] is True


def test_a_part_with_only_a_reaction_id_is_copied_from_a_bundled_model(bank: Bank) -> None:
    """e_coli_core lacks glycerol-3-phosphate dehydrogenase (G3PD2, gpsA); a part naming
    the reaction is added as iJO1366 has it, glycerol 3-phosphate declared from there."""
    part = _part(bank, {"display_id": "gpsA_Ecol", "reaction_id": "G3PD2",
                        "ec_number": "1.1.1.94"})
    design = bank.catalog.create(CURATOR, "design", {
        "title": "glycerol-3-phosphate", "chassis": "textbook", "product": "glyc3p_c",
        "parts": part}).accession
    built = bank.design.build(CURATOR, design)
    assert "G3PD2" in built.added
    assert built.model.metabolites.get_by_id("glyc3p_c").formula == "C3H7O6P"
    assert built.pathway is not None and built.pathway.max_product_flux > 0


def test_bad_designs_are_refused_with_what_and_how(bank: Bank) -> None:
    with pytest.raises(ValidationFailed) as err:
        bank.catalog.create(CURATOR, "part", {
            "display_id": "bad", "part_type": "protein", "role": "cds", "sequence": _SEQUENCE,
            "reaction": "accoa_c = aacoa_c", "ec_number": "2.3.1"})
    fields = {p.field for p in err.value.problems}
    assert fields == {"reaction", "ec_number"}
    unbalanced = _part(bank, {"display_id": "phaC_wrong", "reaction": "3hbcoa_c -> phb_c",
                              "new_metabolites": "phb_c C4H6O2 0 PHB"})
    design = bank.catalog.create(CURATOR, "design", {
        "title": "unbalanced", "chassis": "textbook", "product": "phb_c",
        "parts": unbalanced, "reaction_deletions": "NOT_A_REACTION",
        "medium": "EX_glc__D_e=10"}).accession
    before = bank.catalog.get(CURATOR, design)
    with pytest.raises(ValidationFailed) as err:
        bank.design.run(CURATOR, design)
    named = {(p.field, p.value) for p in err.value.problems}
    assert ("reaction_deletions", "NOT_A_REACTION") in named
    assert any(value and "3hbcoa_c" in value for _, value in named)  # unknown metabolite
    assert bank.catalog.get(CURATOR, design).version == before.version
    assert not bank.layout.designs.exists() or not any(bank.layout.designs.iterdir())
    no_oxygen = bank.catalog.create(CURATOR, "design", {
        "title": "no carbon", "chassis": "textbook", "product": "succ_e",
        "medium": "EX_glc__D_e=0"}).accession
    with pytest.raises(ValidationFailed, match="infeasible"):
        bank.design.run(CURATOR, no_oxygen)
    with pytest.raises(UsageError, match="knockout method"):
        bank.design.knockouts(CURATOR, no_oxygen, method="magic")
    with pytest.raises(ValidationFailed):
        bank.catalog.create(CURATOR, "design", {"title": "x", "chassis": "yeast9",
                                                "product": "succ_e"})
    with pytest.raises(NotFound):
        bank.design.chassis_report(CURATOR, "LHCH0000099")
    with pytest.raises(ValidationFailed) as err:
        bank.catalog.create(CURATOR, "design", {"title": "x", "chassis": "LHCH0000099",
                                                "product": "succ_e", "parts": "LHPT0000999"})
    assert {(p.field, p.value) for p in err.value.problems} == {
        ("chassis", "LHCH0000099"), ("parts", "LHPT0000999")}


def test_readers_see_designs_but_do_not_run_them(bank: Bank, phb: str) -> None:
    assert bank.catalog.get(READER, phb).kind == "design"
    with pytest.raises(Forbidden):
        bank.design.run(READER, phb)
    with pytest.raises(Unauthorized):
        bank.design.knockouts(ANONYMOUS, phb)
    assert bank.design.results(READER, phb)["analysis"] is None


def test_the_enzymes_for_a_step_come_from_the_bank(bank: Bank, phb: str) -> None:
    found = bank.design.enzymes(CURATOR, "2.3.1.-")  # both within the wildcard: 0.9 each
    assert [(m["name"], m["score"]) for m in found] == [("phaA_Cnec", 0.9), ("phaC_Cnec", 0.9)]
    assert bank.design.enzymes(CURATOR, "PF07167")[0]["name"] == "phaC_Cnec"


def test_the_cli_runs_a_design_from_the_curators_side(bank_dir: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    out = run_json(capsys, ["design", "chassis", "--bundled", "textbook",
                            "--name", "E. coli core"])
    assert out["fields"]["reaction_count"] == 95
    out = run_json(capsys, ["create", "design", "--set", "title=Succinate",
                            "--set", f"chassis={out['accession']}", "--set", "product=succ_e",
                            "--set", "medium=EX_o2_e=0",
                            "--set", "reaction_deletions=ACALD; LDH_D; PTAr"])
    accession = out["accession"]
    out = run_json(capsys, ["design", "run", accession])
    assert out["coupling"]["growth_coupled"] is True
    digest = out["digest"]
    sbml, sbol = tmp_path / "design.xml", tmp_path / "design.ttl"
    run_json(capsys, ["design", "export", accession, "--sbml", str(sbml), "--sbol", str(sbol)])
    assert sbml.read_bytes().startswith(b"<?xml") and sbol.stat().st_size > 0
    out = run_json(capsys, ["design", "show", accession])
    assert out["analysis"]["digest"] == digest and out["knockouts"] is None


def test_the_api_from_the_engineers_side(file_engine: Engine, tmp_path: Path) -> None:
    from lanhai.settings import Settings
    from tests.support import add_user, finished_job, make_client

    with make_client(file_engine, Settings(data_dir=tmp_path / "bank")) as client:
        curator = add_user(file_engine, "ana2", "curator")
        reader = add_user(file_engine, "rui2", "reader")
        assert "textbook" in [m["name"] for m in client.get("/api/design/models").json()[
            "models"]]
        form = {"model_name": "E. coli core", "bundled": "textbook"}
        assert client.post("/api/design/chassis", data=form,
                           headers=reader).status_code == 403
        bad = client.post("/api/design/chassis", data={"model_name": "broken"},
                          headers=curator, files={"file": ("broken.xml", b"<not sbml/>",
                                                           "application/xml")})
        assert bad.status_code == 422 and "SBML" in bad.text
        job = client.post("/api/design/chassis", data=form, headers=curator)
        assert job.status_code == 202, job.text
        state = finished_job(client, job.headers["Location"], curator)
        assert state["status"] == "done", state.get("error")
        chassis = state["result"]["accession"]
        check = client.get(f"/api/design/chassis/{chassis}/check").json()
        assert check["counts"]["reactions"] == 95
        assert client.get("/api/design/chassis/textbook/sbml").text.startswith("<?xml")
        made = client.post("/api/designs", headers=curator, json={
            "title": "Succinate, anaerobic", "chassis": chassis, "product": "succ_e",
            "medium": "EX_o2_e=0"})
        assert made.status_code == 201, made.text
        design = made.json()["accession"]
        assert client.post(f"/api/design/{design}/run", headers=reader).status_code == 403
        run = client.post(f"/api/design/{design}/run", headers=curator)
        assert run.status_code == 202, run.text
        state = finished_job(client, run.headers["Location"], curator)
        assert state["status"] == "done", state.get("error")
        search = client.post(f"/api/design/{design}/knockouts", headers=curator,
                             json={"method": "search", "max_knockouts": 2, "time_limit": 30})
        state = finished_job(client, search.headers["Location"], curator)
        assert state["status"] == "done", state.get("error")
        stored = client.get(f"/api/design/{design}/results").json()
        assert stored["analysis"]["growth"] == pytest.approx(0.2117, abs=1e-3)
        assert stored["knockouts"]["result"]["designs"]
        assert client.get(f"/api/design/{design}/fluxes.csv").text.startswith("reaction,")
        assert b"<sbml" in client.get(f"/api/design/{design}/sbml").content[:400]
        assert client.get(f"/api/design/{design}/sbol").status_code == 200
        assert client.get("/api/design/enzymes", params={"q": "2.3.1.9"}).json() == {
            "enzymes": []}
        wrong = client.post("/api/designs", headers=curator, json={
            "title": "x", "chassis": chassis, "product": "succ_e", "medium": "EX_o2_e=-1"})
        assert wrong.status_code == 422 and "medium" in wrong.text


def test_the_design_page_draws_the_analysis(bank: Bank, phb: str) -> None:
    from lanhai.web.design_pages import design_panel

    empty = design_panel(bank, READER, phb)
    assert empty["analysed"] is False and empty["can_run"] is False
    bank.design.run(CURATOR, phb)
    panel = design_panel(bank, CURATOR, phb)
    assert panel["can_run"] and [r["id"] for r in panel["pathway"]] == [
        "DM_phb_c", "PHAA", "PHAB", "PHAC"]
    from lanhai.web import svg

    drawn = svg.envelope_chart(panel["envelope"], "envelope", "growth", "PHB")
    assert drawn.count("<polygon") == 1 and 'role="img"' in drawn
    bars = svg.flux_bars(panel["fluxes"], panel["added"], "fluxes")
    assert bars.count("<rect") == 30 and "#E69F00" not in bars  # PHB is not made at growth


def test_a_curator_analyses_a_design_from_its_page(file_engine: Engine) -> None:
    from tests.support.web import csrf_of, make_site, sign_in

    for site in make_site(file_engine):
        client, bank = site.client, site.bank
        parts = [_part(bank, p) for p in PHB_PARTS]
        design = bank.catalog.create(CURATOR, "design", {
            "title": "PHB", "chassis": "textbook", "product": "phb_c",
            "parts": "; ".join(parts)}).accession
        page = client.get(f"/records/{design}")
        assert page.status_code == 200 and "has not been analysed" in page.text
        assert f'action="/designs/{design}/run"' not in page.text  # readers get no form
        sign_in(site, "ana")
        page = client.get(f"/records/{design}")
        assert f'action="/designs/{design}/run"' in page.text
        started = client.post(f"/designs/{design}/run", data={"csrf": csrf_of(page.text)},
                              follow_redirects=False)
        assert started.status_code == 303 and started.headers["location"] == "/jobs"
        [job] = bank.jobs.list(owner="ana")
        assert bank.jobs.wait(job.id, 120).status == "done"
        page = client.get(f"/records/{design}?lang=zh")
        assert "生产包络线" in page.text and page.text.count("<svg") >= 2
        refused = client.post(f"/designs/{design}/knockouts", data={
            "csrf": csrf_of(page.text), "method": "search", "max_knockouts": "99"})
        assert refused.status_code == 400 and "between 1 and 10" in refused.text


def test_two_fucosyllactose_from_a_bank_part_in_ijo1366(bank: Bank) -> None:
    """2'-fucosyllactose: iJO1366 makes GDP-L-fucose and takes up lactose; the bank's futC
    part (alpha-1,2-fucosyltransferase, EC 2.4.1.69) adds the last step. The maximum is
    1 mol 2'-FL per mol lactose (the stoichiometric maximum of the route on lactose,
    Baumgärtner et al. 2013): 488.44 / 342.30 = 1.427 g/g."""
    futc = _part(bank, {"display_id": "futC_Hpyl", "part_name": "alpha-1,2-fucosyltransferase",
                        "ec_number": "2.4.1.69", "reaction_id": "FUT2FL",
                        "reaction": "gdpfuc_c + lcts_c -> 2fl_c + gdp_c + h_c",
                        "new_metabolites": "2fl_c C18H32O15 0 2'-Fucosyllactose",
                        "gene_name": "futC", "protein_family": "GT11"})
    design = bank.catalog.create(CURATOR, "design", {
        "title": "2'-FL on glucose and lactose", "chassis": "iJO1366", "product": "2fl_c",
        "parts": futc, "medium": "EX_lcts_e=2", "carbon_source": "EX_lcts_e"}).accession
    result = bank.design.run(CURATOR, design)
    assert result["yield"]["molar_yield"] == pytest.approx(1.0, rel=1e-6)
    assert result["yield"]["mass_yield"] == pytest.approx(488.44 / 342.30, rel=1e-3)
    assert result["growth"] > 0.982372  # lactose feeds growth besides glucose
    assert bank.design.enzymes(CURATOR, "GT11")[0]["accession"] == futc


def test_a_knockout_search_over_chosen_candidates(bank: Bank) -> None:
    """On genome-scale models the search is narrowed to candidates (ids or a subsystem's
    reactions); candidates it cannot use are refused, each with why."""
    record = bank.catalog.create(CURATOR, "design", {
        "title": "Succinate, anaerobic", "chassis": "textbook", "product": "succ_e",
        "medium": "EX_o2_e=0"}).accession
    found = bank.design.knockouts(CURATOR, record, method="search", max_knockouts=3,
                                  time_limit=60, candidates=["ACALD", "LDH_D", "THD2", "PGI"])
    assert found["search"]["candidate_count"] == 4
    sets = [set(d["reactions"]) for d in found["result"]["designs"]]
    assert {"ACALD", "LDH_D", "THD2"} in sets and all(s <= {"ACALD", "LDH_D", "THD2", "PGI"}
                                                      for s in sets)
    # iJO1366 names its subsystems: the citric acid cycle's knockable reactions
    genome = bank.catalog.create(CURATOR, "design", {
        "title": "Succinate in iJO1366", "chassis": "iJO1366", "product": "succ_e",
        "medium": "EX_o2_e=0"}).accession
    cycle = bank.design.knockouts(CURATOR, genome, method="search", max_knockouts=1,
                                  time_limit=30, candidates=["subsystem:citric acid cycle"])
    assert 5 <= cycle["search"]["candidate_count"] <= 20
    with pytest.raises(ValidationFailed) as err:
        bank.design.knockouts(CURATOR, record, method="search",
                              candidates=["ACALDX", "EX_glc__D_e", "subsystem:Nothing"])
    assert [p.value for p in err.value.problems] == ["ACALDX", "EX_glc__D_e",
                                                     "subsystem:Nothing"]


def test_bad_candidates_are_refused_before_a_search_starts(sqlite_engine: Engine,
                                                          tmp_path: Path) -> None:
    from lanhai.settings import Settings
    from tests.support import add_user, make_client

    with make_client(sqlite_engine, Settings(data_dir=tmp_path / "bank")) as client:
        curator = add_user(sqlite_engine, "ana3", "curator")
        design = client.post("/api/designs", headers=curator, json={
            "title": "Succinate", "chassis": "textbook", "product": "succ_e"}).json()
        refused = client.post(f"/api/design/{design['accession']}/knockouts", headers=curator,
                              json={"method": "search", "candidates": ["NOPE"]})
        assert refused.status_code == 422 and "NOPE" in refused.text
        assert client.get("/api/jobs", headers=curator).json()["jobs"] == []
