"""Nothing a caller may not see shows in any answer, nor in any count.

Two banks are built the same way, except that one also holds what only curators may see: a
confidential patent deposit, a restricted sample, a restricted assembly with annotated
proteins, a restricted compound, a restricted germplasm line, a private breeding dataset and
a curator's job. Every route of the API and of the pages is then asked the same questions,
by an anonymous caller and by a reader, on both banks: the answers must be the same (bar
times and ids), so the hidden records show neither themselves nor through any count,
facet, lineage, history entry, export row, hit, e-value, index size or job. A curator on the
same bank does see them (so the comparison is not vacuous), and a route without questions
here fails :func:`test_every_route_is_asked`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lanhai.app import create_app
from lanhai.bank import Bank
from lanhai.breeding.pipeline import Inputs, load
from lanhai.db.engine import make_engine, migrate
from lanhai.services.access import ANONYMOUS, Actor
from tests.support import (
    CURATOR,
    DEPOSIT,
    SAMPLE,
    ZOBELLIA,
    add_token,
    app_routes,
    bank_on,
    create_user,
    web_routes,
)
from tests.support.data_files import CROAKER, PART
from tests.support.screening import assay_table, drugs
from tests.support.search import (
    ASSEMBLY,
    DATA,
    SALINOSPORAMIDE_B,
    TARA,
    TOMATO,
    add_compounds,
    proteins,
    write_hits,
)
from tests.support.sequences import fasta
from tests.support.web import csrf_of

BREEDING = Path(__file__).parent / "data" / "breeding"
MARKET = {"field": "enzyme", "sector": "food_health", "market_status": "published"}
ADMIN = Actor("root", "admin")
SUSD = (DATA / "SusD_RagB_PF07980.hmm").read_bytes()


@dataclass
class World:
    """One bank behind a client: its public accessions and, on one of the two banks, the
    hidden ones (by name)."""

    client: TestClient
    bank: Bank
    tokens: dict[str, str]
    public: dict[str, str]
    hidden: dict[str, str] = field(default_factory=dict)

    def headers(self, caller: str) -> dict[str, str]:
        token = self.tokens.get(caller)
        return {"Authorization": f"Bearer {token}"} if token else {}


def build(folder: Path, with_hidden: bool) -> Iterator[World]:
    """The bank: the public records first (so both banks give them the same accessions),
    then, on one of them, the hidden ones."""
    engine = make_engine(f"sqlite:///{folder}.sqlite")
    migrate(engine)
    bank = bank_on(engine, folder, secret_key="visibility")
    catalog = bank.catalog
    pub: dict[str, str] = {}
    pub["sample"] = catalog.create(CURATOR, "sample", SAMPLE).accession
    pub["tara"] = catalog.create(CURATOR, "sample", TARA).accession
    pub["strain"] = catalog.create(CURATOR, "strain", {**ZOBELLIA, "status": "available"}
                                   ).accession
    pub["assembly"] = catalog.create(CURATOR, "assembly", {
        **ASSEMBLY, "assembly_name": "Maribacter sp. 62-1 proteins, first half"}).accession
    pub["germplasm"] = catalog.create(CURATOR, "germplasm", TOMATO).accession
    pub["part"] = catalog.create(CURATOR, "part", PART).accession
    made = add_compounds(engine)
    pub["compound"] = made["salinosporamide A"]
    catalog.link(CURATOR, pub["sample"], "isolated_from", pub["strain"])
    catalog.link(CURATOR, pub["strain"], "sequenced_as", pub["assembly"])
    halves = proteins()
    _proteome(bank, folder, pub["assembly"], halves[:15])
    pub["dataset"] = "open-fish"
    _dataset(bank, "open-fish", pub["germplasm"], published=True)
    pub["organisation"] = catalog.create(CURATOR, "organisation", {
        "name_en": "Ocean Institute", "org_type": "institute"}).accession
    pub["offer"] = catalog.create(CURATOR, "offer", {
        **MARKET, "reference": "O-1", "title": "PL7 alginate lyase for oligosaccharides",
        "trl": "6", "transfer_types": "licence", "organisation": pub["organisation"]}
    ).accession
    pub["demand"] = catalog.create(CURATOR, "demand", {
        **MARKET, "reference": "D-1", "title_zh": "褐藻胶寡糖制备用酶"}).accession
    catalog.link(CURATOR, pub["part"], "evidence_for", pub["offer"])
    pub["design"] = catalog.create(CURATOR, "design", {
        "title": "Succinate, anaerobic", "chassis": "textbook", "product": "succ_e",
        "medium": "EX_o2_e=0"}).accession
    bank.design.run(CURATOR, pub["design"])
    tokens = {}
    for role, name in (("reader", "rui"), ("curator", "ana"), ("admin", "root"),
                       ("broker", "wang")):
        create_user(engine, name, role)
        tokens[role] = add_token(engine, name)
    bank.deals.accredit(ADMIN, "wang", ["enzyme"], "senior")
    hidden: dict[str, str] = {}
    if with_hidden:
        hidden["sample"] = catalog.create(CURATOR, "sample", {
            **SAMPLE, "samp_name": "hidden abyssal", "depth": "3000 m",
            "restricted": "yes"}).accession
        hidden["deposit"] = catalog.create(CURATOR, "deposit", DEPOSIT).accession
        hidden["assembly"] = catalog.create(CURATOR, "assembly", {
            **ASSEMBLY, "assembly_name": "secret second half", "restricted": "yes"}
        ).accession
        hidden["compound"] = catalog.create(CURATOR, "compound", {
            "compound_name": "secret salinosporamide B", "smiles": SALINOSPORAMIDE_B,
            "source_organism": "Salinispora tropica", "source_ids": "CMNPD99999",
            "restricted": "yes"}).accession
        hidden["germplasm"] = catalog.create(CURATOR, "germplasm", {
            **CROAKER, "restricted": "yes"}).accession
        catalog.link(CURATOR, hidden["sample"], "isolated_from", pub["assembly"])
        catalog.link(CURATOR, pub["strain"], "deposited_as", hidden["deposit"])
        catalog.link(CURATOR, pub["strain"], "sequenced_as", hidden["assembly"])
        _proteome(bank, folder, hidden["assembly"], halves[15:])
        hidden["dataset"] = "secret-fish"
        _dataset(bank, "secret-fish", hidden["germplasm"], published=False)
        job = bank.jobs.submit("annotate", "ana", {"accession": hidden["assembly"]},
                               lambda progress: {"accession": hidden["assembly"]})
        bank.jobs.wait(job.id, 30)
        hidden["job"] = job.id
        hidden["offer"] = catalog.create(CURATOR, "offer", {
            **MARKET, "reference": "O-secret", "title": "secret alginate lyase PL7",
            "trl": "8", "transfer_types": "licence", "market_status": "draft"}).accession
        catalog.create(CURATOR, "offer", {
            **MARKET, "reference": "O-invited", "title": "invited alginate oligosaccharides",
            "trl": "7", "transfer_types": "licence", "visibility": "invitation"})
        hidden["demand"] = catalog.create(CURATOR, "demand", {
            **MARKET, "reference": "D-secret", "title_zh": "保密的褐藻胶裂解酶需求",
            "market_status": "submitted"}).accession
        catalog.link(CURATOR, hidden["sample"], "evidence_for", pub["offer"])
        secret_part = catalog.create(CURATOR, "part", {
            **PART, "display_id": "secret_pdc", "ec_number": "4.1.1.1",
            "reaction": "pyr_c + h_c -> acald_c + co2_c", "restricted": "yes"}).accession
        hidden["design"] = catalog.create(CURATOR, "design", {
            "title": "secret acetaldehyde", "chassis": "textbook", "product": "acald_c",
            "parts": secret_part, "restricted": "yes"}).accession
        bank.design.run(CURATOR, hidden["design"])
        hidden["deal"] = str(bank.deals.open(Actor("wang", "broker"), pub["offer"],
                                             pub["demand"]).id)
    invited = [catalog.by_identifier(ADMIN, "offer", "offer:O-invited")]
    release = bank.releases.compose(ADMIN, title="Best results", issued=dt.date(2026, 11, 30),
                                    offers=[pub["offer"], *(r.accession for r in invited
                                                            if r is not None)])
    pub["release"] = str(bank.releases.publish(ADMIN, release["id"])["id"])
    if with_hidden:
        hidden["need"] = str(bank.financing.post(
            ADMIN, title="secret pilot line", amount="5000000", stage="A",
            use_of_funds="a line", organisation=pub["organisation"])["id"])
        hidden["release"] = str(bank.releases.compose(
            ADMIN, title="secret release", issued=dt.date(2026, 12, 1),
            offers=[pub["offer"]])["id"])
    if with_hidden:  # an update waiting for review is the office's and its unit's alone
        bank.programme.submit(CURATOR, "plant_medicine_centre", period="2026-Q1", value=1,
                              evidence=[{"url": "https://example.org/secret-notice"}])
    bank.programme.close(ADMIN, "2025-Q4")
    # a genome project whose target the hidden croaker line is material for
    bank.genomes.create_project(CURATOR, "croakers", {"name": "Croakers"})
    targets = folder.parent / f"{folder.name}-croakers.tsv"
    targets.write_text("taxid\tscientific_name\tfamily\n215358\tLarimichthys crocea\t"
                       "Sciaenidae\n8078\tFundulus heteroclitus\tFundulidae\n", "utf-8")
    bank.genomes.import_targets(CURATOR, "croakers", targets)
    # an assay and its model anyone may see; on one bank, a confidential assay and its model
    kinase = assay_table(folder.parent / f"{folder.name}-kinase.csv", drugs(30))
    bank.screening.create_assay(CURATOR, "kinase", {"name": "Kinase", "endpoint": "IC50"})
    bank.screening.import_results(CURATOR, "kinase", kinase)
    bank.screening.train(CURATOR, "kinase", endpoint="IC50", folds=2, repeats=1,
                         n_estimators=10)
    if with_hidden:
        partner = assay_table(folder.parent / f"{folder.name}-partner.csv",
                              drugs(30, skip=30), target="secret partner target")
        bank.screening.create_assay(CURATOR, "partner", {
            "name": "secret partner assay", "endpoint": "IC50", "restricted": True})
        bank.screening.import_results(CURATOR, "partner", partner)
        bank.screening.train(CURATOR, "partner", endpoint="IC50", folds=2, repeats=1,
                             n_estimators=10)
        hidden["assay"] = "secret partner assay"
    bank.sequence_search.update_index()
    with TestClient(create_app(bank=bank)) as client:
        yield World(client, bank, tokens, pub, hidden)
    bank.close()


def _proteome(bank: Bank, folder: Path, accession: str, part: list[tuple[str, str]]
              ) -> None:
    path = folder.parent / f"{folder.name}-{accession}.faa"
    path.write_text("".join(f">{h}\n{s}\n" for h, s in part), "utf-8")
    bank.sequences.ingest(CURATOR, accession, path, kind="proteome", allow_stops=True)
    write_hits(folder, accession, [h.split()[0] for h, _ in part])


def _dataset(bank: Bank, name: str, germplasm: str, published: bool) -> None:
    data = load(Inputs(pedigree=BREEDING / "mrode_pedigree.csv",
                       phenotypes=BREEDING / "mrode_phenotypes.csv"))
    bank.breeding.import_dataset(CURATOR, name, data, germplasm=germplasm, published=published)


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, World]]:
    root = tmp_path_factory.mktemp("visibility")
    with_hidden, without = build(root / "with", True), build(root / "without", False)
    yield next(with_hidden), next(without)
    for made in (with_hidden, without):
        next(made, None)


# --- the questions ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Ask:
    """A request, built for a world (the same on both banks)."""

    method: str
    path: str
    json: Any = None
    data: dict[str, str] | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None
    #: a form post: read the page first for its CSRF token
    form_from: str | None = None


Builder = Callable[[World], list[Ask]]


def _hidden_or(w: World, name: str, fallback: str) -> str:
    """The hidden record ``name`` on the bank that has it; on the other, what its accession
    would be (the next one of its kind): both banks are asked about the same accession."""
    return w.hidden.get(name, fallback)


def gets(*paths: str) -> Builder:
    """GET each path, ``{public:NAME}`` and ``{hidden:NAME}`` filled per world."""

    def build(w: World) -> list[Ask]:
        out = []
        for path in paths:
            filled = re.sub(r"\{public:(\w+)\}", lambda m: w.public[m[1]], path)
            filled = re.sub(r"\{hidden:(\w+)\}", lambda m: _hidden_or(
                w, m[1], HIDDEN_ACCESSIONS.get(m[1], "none")), filled)
            out.append(Ask("GET", filled))
        return out
    return build


#: what the bank without hidden records is asked instead of each hidden record: records
#: created restricted have random (held) accessions, and answers are compared with every
#: held accession written as one placeholder
HIDDEN_ACCESSIONS = {"sample": "LHSMQ0000ZZ", "deposit": "LHDPQ0000ZZ",
                     "assembly": "LHASQ0000ZZ", "compound": "LHCPQ0000ZZ",
                     "germplasm": "LHGPQ0000ZZ", "offer": "LHOFQ0000ZZ",
                     "demand": "LHDMQ0000ZZ", "design": "LHDSQ0000ZZ",
                     "dataset": "secret-fish",
                     "job": "0" * 32, "deal": "1", "release": "2", "need": "1"}
RECORDS = ("sample", "strain", "assembly", "germplasm", "part", "compound", "organisation",
           "offer", "demand", "design")
KINDS = ("samples", "strains", "deposits", "assemblies", "compounds", "parts", "germplasm",
         "organisations", "offers", "demands", "designs", "records")


def record_paths(template: str) -> Builder:
    """The route for each public record and each hidden one."""
    paths = [template.format(f"{{public:{n}}}") for n in RECORDS]
    paths += [template.format(f"{{hidden:{n}}}") for n in
              ("sample", "deposit", "assembly", "compound", "germplasm", "offer", "demand",
               "design")]
    return gets(*paths)


def per_kind(template: str, *queries: str) -> Builder:
    return gets(*(template.format(kind) + query for kind in KINDS
                  for query in queries or ("",)))


def assembly_paths(suffix: str) -> Builder:
    return gets(f"/api/assemblies/{{public:assembly}}/{suffix}",
                f"/api/assemblies/{{hidden:assembly}}/{suffix}")


def writes(method: str, path: str, body: Any = None) -> Builder:
    """A change an anonymous caller or a reader may not make, on public and hidden records."""

    def build(w: World) -> list[Ask]:
        out = []
        for name in ("sample", "deposit"):
            target = w.public.get(name) or _hidden_or(w, name, HIDDEN_ACCESSIONS[name])
            hidden = _hidden_or(w, name, HIDDEN_ACCESSIONS[name])
            for accession in dict.fromkeys((target, hidden)):
                out.append(Ask(method, path.format(accession), json=body))
        return out
    return build


def links_body(w: World) -> list[Ask]:
    hidden = _hidden_or(w, "deposit", HIDDEN_ACCESSIONS["deposit"])
    return [Ask("POST", "/api/links", json={"source": w.public["strain"],
                                            "rel": "deposited_as", "target": hidden})]


def unlink_body(w: World) -> list[Ask]:
    hidden = _hidden_or(w, "deposit", HIDDEN_ACCESSIONS["deposit"])
    return [Ask("DELETE", "/api/links", json={"source": w.public["strain"],
                                              "rel": "deposited_as", "target": hidden})]


def sequence_search(w: World) -> list[Ask]:
    query = fasta([(h.split()[0], s) for h, s in proteins()])  # both halves
    return [Ask("POST", "/api/search/sequence", json={"fasta": query, "max_hits": 50})]


def sequence_page(w: World) -> list[Ask]:
    query = fasta([(h.split()[0], s) for h, s in proteins()[10:20]])
    return [Ask("POST", path, data={"fasta": query, "max_hits": "20"}, form_from="/search/sequence")
            for path in ("/search/sequence", "/search/sequence.json")]


def hmm_search(w: World) -> list[Ask]:
    return [Ask("POST", "/api/search/families", files={"hmm": ("susd.hmm", SUSD, "text/plain")},
                data={"format": fmt}) for fmt in ("json", "fasta", "genbank", "tsv")]


def protein_pages(suffix: str) -> Builder:
    """A protein of the public assembly, and one of the hidden assembly (on the bank
    without it, the same id under the accession the hidden one would have)."""
    public, hidden = (proteins()[i][0].split()[0] for i in (0, 20))
    return gets(f"/records/{{public:assembly}}/proteins/{public}{suffix}",
                f"/records/{{hidden:assembly}}/proteins/{hidden}{suffix}",
                f"/records/{{public:assembly}}/proteins/{hidden}{suffix}")


def breed(route: str) -> Builder:
    def build(w: World) -> list[Ask]:
        return [Ask("POST", f"/api/breeding/{route}", data={"dataset": name})
                for name in (w.public["dataset"], _hidden_or(w, "dataset", "secret-fish"))]
    return build


def signin(w: World) -> list[Ask]:
    return [Ask("POST", "/signin", data={"username": "rui", "password": "wrong-password"},
                form_from="/signin")]


def import_page(w: World) -> list[Ask]:
    table = (BREEDING.parent / "imports" / "bats_samples.tsv").read_bytes()
    return [Ask("POST", path, data={"kind": "sample"}, files={"file": (
        "bats.tsv", table, "text/tab-separated-values")}, form_from="/import")
        for path in ("/import", "/import.json")]


def edit_page(w: World) -> list[Ask]:
    return [Ask("POST", f"/records/{accession}/edit", data={"f_description": "x"},
                form_from=f"/records/{w.public['sample']}")
            for accession in (w.public["sample"],
                              _hidden_or(w, "sample", HIDDEN_ACCESSIONS["sample"]))]


def link_forms(suffix: str) -> Builder:
    """Link (or unlink) a public record with a hidden one, from either side."""

    def build(w: World) -> list[Ask]:
        hidden = _hidden_or(w, "sample", HIDDEN_ACCESSIONS["sample"])
        strain = w.public["strain"]
        pairs = ((strain, hidden), (hidden, strain))
        if suffix:
            return [Ask("POST", f"/records/{page}/links/remove", form_from=f"/records/{strain}",
                        data={"source": hidden, "rel": "isolated_from", "target": strain})
                    for page, _ in pairs]
        return [Ask("POST", f"/records/{page}/links", form_from=f"/records/{strain}",
                    data={"rel": "isolated_from", "other": other}) for page, other in pairs]
    return build


def new_record(w: World) -> list[Ask]:
    return [Ask("POST", f"/new/{kind}", data={"f_samp_name": "x"}, form_from="/signin")
            for kind in ("sample", "deposit")]


QUESTIONS: dict[tuple[str, str], Builder] = {
    ("GET", "/new/{kind}"): gets("/new/sample", "/new/deposit"),
    ("GET", "/new/{kind}.json"): gets("/new/sample.json", "/new/deposit.json"),
    ("POST", "/new/{kind}"): new_record,
    ("POST", "/records/{accession}/links"): link_forms(""),
    ("POST", "/records/{accession}/links/remove"): link_forms("/remove"),
    # -- the API: reading
    ("GET", "/openapi.json"): gets("/openapi.json"),
    ("GET", "/docs"): gets("/docs"),
    ("GET", "/api/kinds"): gets("/api/kinds"),
    ("GET", "/api/stats"): gets("/api/stats"),
    ("GET", "/api/me"): gets("/api/me"),
    ("GET", "/api/{kind}"): per_kind("/api/{}", "", "?q=hidden", "?q=Zobellia",
                                     "?where=depth_m>100", "?sort=-depth_m&limit=3"),
    ("GET", "/api/{kind}/{accession}"): gets(
        *(f"/api/{kind}/{{public:{name}}}" for kind, name in (
            ("samples", "sample"), ("strains", "strain"), ("assemblies", "assembly"),
            ("germplasm", "germplasm"), ("parts", "part"), ("compounds", "compound"))),
        *(f"/api/{kind}/{{hidden:{name}}}" for kind, name in (
            ("samples", "sample"), ("deposits", "deposit"), ("assemblies", "assembly"),
            ("compounds", "compound"), ("germplasm", "germplasm")))),
    # -- strain design: a confidential design, its part and analysis change no answer
    ("GET", "/api/design/models"): gets("/api/design/models"),
    ("GET", "/api/design/chassis/{chassis}/check"): gets("/api/design/chassis/textbook/check"),
    ("GET", "/api/design/chassis/{chassis}/sbml"): gets("/api/design/chassis/textbook/sbml"),
    ("GET", "/api/design/{accession}/results"): gets(
        "/api/design/{public:design}/results", "/api/design/{hidden:design}/results"),
    ("GET", "/api/design/{accession}/fluxes.csv"): gets(
        "/api/design/{public:design}/fluxes.csv", "/api/design/{hidden:design}/fluxes.csv"),
    ("GET", "/api/design/{accession}/sbml"): gets(
        "/api/design/{public:design}/sbml", "/api/design/{hidden:design}/sbml"),
    ("GET", "/api/design/{accession}/sbol"): gets(
        "/api/design/{public:design}/sbol", "/api/design/{hidden:design}/sbol"),
    ("GET", "/api/design/enzymes"): gets("/api/design/enzymes?q=4.1.1.1",
                                         "/api/design/enzymes?q=4.1.1.-"),
    ("POST", "/api/design/chassis"): lambda w: [Ask("POST", "/api/design/chassis", data={
        "model_name": "x", "bundled": "textbook"})],
    ("POST", "/api/design/{accession}/run"): lambda w: [
        Ask("POST", f"/api/design/{_hidden_or(w, 'design', HIDDEN_ACCESSIONS['design'])}/run")],
    ("POST", "/api/design/{accession}/knockouts"): lambda w: [Ask(
        "POST", f"/api/design/{_hidden_or(w, 'design', HIDDEN_ACCESSIONS['design'])}"
                "/knockouts", json={"method": "search", "max_knockouts": 1})],
    ("GET", "/api/records/{accession}"): record_paths("/api/records/{}"),
    ("GET", "/api/records/{accession}/links"): record_paths("/api/records/{}/links"),
    ("GET", "/api/records/{accession}/lineage"): record_paths("/api/records/{}/lineage"),
    ("GET", "/api/records/{accession}/history"): record_paths("/api/records/{}/history"),
    ("GET", "/api/records/{accession}/history.csv"): record_paths(
        "/api/records/{}/history.csv"),
    ("GET", "/api/{kind}/export"): gets(*(
        f"/api/{kind}/export?format={fmt}" for kind, fmt in (
            ("samples", "csv"), ("samples", "json"), ("samples", "dwca"),
            ("strains", "json"), ("strains", "tsv"), ("deposits", "csv"),
            ("assemblies", "csv"), ("compounds", "json"), ("germplasm", "mcpd"),
            ("parts", "sbol3"), ("parts", "json")))),
    ("GET", "/api/search"): gets(
        "/api/search", "/api/search?q=hidden", "/api/search?q=secret",
        "/api/search?kind=sample&depth_min=500", "/api/search?has_genome=true",
        "/api/search?has_family=GH16&facet_family=PF07980",
        "/api/search?q=Maribacter&format=tsv", "/api/search?sort=depth&desc=true"),
    ("GET", "/api/search/compounds"): gets(
        f"/api/search/compounds?similar={SALINOSPORAMIDE_B}&threshold=0.05",
        "/api/search/compounds?smarts=[#6]OC(=O)[#6]",
        "/api/search/compounds?substructure=C1CSC=N1&format=tsv"),
    ("GET", "/api/search/families"): gets(
        "/api/search/families?family=GH16&family=PF07980&family=PL6",
        "/api/search/families?family=PF07980&format=fasta",
        "/api/search/families?family=PF07980&format=genbank",
        "/api/search/families?family=PF07980&format=tsv&depth_min=0"),
    ("POST", "/api/search/families"): hmm_search,
    ("POST", "/api/search/sequence"): sequence_search,
    ("GET", "/api/assemblies/{accession}/sequences"): assembly_paths("sequences"),
    ("GET", "/api/assemblies/{accession}/annotations/{what}"): gets(*(
        f"/api/assemblies/{{{who}:assembly}}/annotations/{what}"
        for who in ("public", "hidden")
        for what in ("families", "substrates", "plastics", "loci", "clusters", "hits"))),
    ("GET", "/api/assemblies/{accession}/genes.gff3"): assembly_paths("genes.gff3"),
    ("GET", "/api/assemblies/{accession}/genbank"): assembly_paths("genbank"),
    ("GET", "/api/assemblies/{accession}/proteins.fasta"): assembly_paths("proteins.fasta"),
    ("GET", "/api/breeding/datasets"): gets(
        "/api/breeding/datasets", "/api/breeding/datasets?germplasm={public:germplasm}",
        "/api/breeding/datasets?germplasm={hidden:germplasm}"),
    ("GET", "/api/breeding/datasets/{name}"): gets(
        "/api/breeding/datasets/{public:dataset}", "/api/breeding/datasets/{hidden:dataset}"),
    ("GET", "/api/breeding/jobs/{job_id}/result.csv"): gets(
        "/api/breeding/jobs/{hidden:job}/result.csv"),
    ("GET", "/api/jobs"): gets("/api/jobs"),
    ("GET", "/api/jobs/{job_id}"): gets("/api/jobs/{hidden:job}"),
    ("GET", "/api/users"): gets("/api/users"),
    ("GET", "/api/users/{username}"): gets("/api/users/ana", "/api/users/rui"),
    ("GET", "/api/tokens"): gets("/api/tokens"),
    ("GET", "/api/sign-in-log"): gets("/api/sign-in-log"),
    ("POST", "/api/me/password"): lambda w: [Ask("POST", "/api/me/password", json={
        "current": "wrong", "new": "kelp forest at dusk"})],
    ("GET", "/api/market/match/{accession}"): gets(
        "/api/market/match/{public:demand}", "/api/market/match/{public:offer}",
        "/api/market/match/{hidden:demand}", "/api/market/match/{hidden:offer}?top=50"),
    ("GET", "/api/market/brokers"): gets("/api/market/brokers"),
    ("GET", "/api/market/brokers/{username}/performance"): gets(
        "/api/market/brokers/wang/performance"),
    ("GET", "/api/market/ledger"): gets("/api/market/ledger",
                                        "/api/market/ledger?broker=wang"),
    ("GET", "/api/market/deals"): gets("/api/market/deals"),
    ("GET", "/api/market/deals/{deal_id}"): gets("/api/market/deals/{hidden:deal}"),
    ("PUT", "/api/market/brokers/{username}"): lambda w: [Ask(
        "PUT", "/api/market/brokers/wang", json={"specialities": ["enzyme"],
                                                 "level": "junior"})],
    ("POST", "/api/market/deals"): lambda w: [Ask("POST", "/api/market/deals", json={
        "offer": w.public["offer"], "demand": w.public["demand"]})],
    ("POST", "/api/market/deals/{deal_id}/events"): lambda w: [Ask(
        "POST", f"/api/market/deals/{_hidden_or(w, 'deal', '1')}/events",
        json={"kind": "interest"})],
    ("GET", "/api/market/financing"): gets("/api/market/financing"),
    ("GET", "/api/market/financing/{need_id}"): gets("/api/market/financing/{hidden:need}"),
    ("POST", "/api/market/financing"): lambda w: [Ask("POST", "/api/market/financing", json={
        "title": "x", "amount": "100", "stage": "seed", "use_of_funds": "y",
        "organisation": w.public["organisation"]})],
    ("POST", "/api/market/financing/{need_id}/close"): lambda w: [Ask(
        "POST", f"/api/market/financing/{_hidden_or(w, 'need', '1')}/close")],
    ("GET", "/api/market/inbox"): gets("/api/market/inbox"),
    ("GET", "/api/market/inbox.atom"): gets("/api/market/inbox.atom"),
    ("POST", "/api/market/inbox/{notice_id}/read"): lambda w: [Ask(
        "POST", "/api/market/inbox/1/read")],
    ("POST", "/api/market/notify"): lambda w: [Ask("POST", "/api/market/notify")],
    ("GET", "/api/market/releases"): gets("/api/market/releases"),
    ("GET", "/api/market/releases.atom"): gets("/api/market/releases.atom"),
    ("GET", "/api/market/releases/{release_id}"): gets(
        "/api/market/releases/{public:release}", "/api/market/releases/{hidden:release}"),
    ("POST", "/api/market/releases"): lambda w: [Ask("POST", "/api/market/releases", json={
        "title": "x", "issued": "2026-12-01", "offers": [w.public["offer"]]})],
    ("PUT", "/api/market/releases/{release_id}"): lambda w: [Ask(
        "PUT", f"/api/market/releases/{_hidden_or(w, 'release', '2')}", json={
            "title": "x", "issued": "2026-12-01", "offers": [w.public["offer"]]})],
    ("POST", "/api/market/releases/{release_id}/publish"): lambda w: [Ask(
        "POST", f"/api/market/releases/{_hidden_or(w, 'release', '2')}/publish")],
    # -- programme monitoring: the public sees the published quarter, counted without what
    #    only curators may see
    ("GET", "/api/programme"): gets("/api/programme"),
    ("GET", "/api/programme/indicators"): gets("/api/programme/indicators"),
    ("GET", "/api/programme/indicators/{key}"): gets(
        "/api/programme/indicators/gene_bank_samples",
        "/api/programme/indicators/patent_deposit_strains"),
    ("GET", "/api/programme/indicators/{key}/history"): gets(
        "/api/programme/indicators/strains/history"),
    ("GET", "/api/programme/indicators/{key}/records"): gets(
        "/api/programme/indicators/gene_bank_samples/records?period=2025-Q4",
        "/api/programme/indicators/patent_deposit_strains/records?period=2025-Q4",
        "/api/programme/indicators/plant_medicine_centre/records?period=2025-Q4",
        "/api/programme/indicators/gene_bank_samples/records"),
    ("GET", "/api/programme/periods"): gets("/api/programme/periods"),
    ("GET", "/api/programme/periods/{period}"): gets("/api/programme/periods/2025-Q4",
                                                     "/api/programme/periods/2026-Q1"),
    ("GET", "/api/programme/periods/{period}/report.xlsx"): gets(
        "/api/programme/periods/2025-Q4/report.xlsx"),
    ("GET", "/api/programme/updates"): gets("/api/programme/updates"),
    ("GET", "/api/programme/updates/{update_id}"): gets("/api/programme/updates/1"),
    ("GET", "/api/programme/documents/{sha256}"): gets("/api/programme/documents/" + "a" * 64),
    ("PUT", "/api/programme/indicators/{key}"): lambda w: [Ask(
        "PUT", "/api/programme/indicators/strains",
        json={"changes": {"target": 1}, "reason": "x"})],
    ("POST", "/api/programme/periods/{period}/close"): lambda w: [Ask(
        "POST", "/api/programme/periods/2026-Q1/close")],
    ("POST", "/api/programme/updates"): lambda w: [Ask("POST", "/api/programme/updates", json={
        "indicator": "plant_medicine_centre", "period": "2026-Q1", "value": 1,
        "evidence": [{"url": "https://example.org/n"}]})],
    ("PUT", "/api/programme/updates/{update_id}"): lambda w: [Ask(
        "PUT", "/api/programme/updates/1", json={"value": 2})],
    ("POST", "/api/programme/updates/{update_id}/review"): lambda w: [Ask(
        "POST", "/api/programme/updates/1/review", json={"decision": "approve"})],
    ("POST", "/api/programme/documents"): lambda w: [Ask(
        "POST", "/api/programme/documents", files={
            "file": ("n.pdf", b"%PDF-1.4 notice", "application/pdf")})],
    ("GET", "/programme"): gets("/programme"),
    ("GET", "/programme.json"): gets("/programme.json"),
    ("GET", "/programme/updates"): gets("/programme/updates"),
    ("GET", "/programme/updates.json"): gets("/programme/updates.json"),
    ("GET", "/programme/indicators/{key}"): gets("/programme/indicators/gene_bank_samples"),
    ("GET", "/programme/indicators/{key}.json"): gets(
        "/programme/indicators/patent_deposit_strains.json"),
    ("GET", "/programme/report/{period}"): gets("/programme/report/2025-Q4",
                                                "/programme/report/2026-Q1"),
    ("GET", "/programme/report/{period}.json"): gets("/programme/report/2025-Q4.json"),
    ("POST", "/programme/indicators/{key}/updates"): lambda w: [Ask(
        "POST", "/programme/indicators/plant_medicine_centre/updates", form_from="/programme",
        data={"period": "2026-Q1", "value": "1", "url": "https://example.org/n"})],
    ("POST", "/programme/updates/{update_id}/review"): lambda w: [Ask(
        "POST", "/programme/updates/1/review", form_from="/programme",
        data={"decision": "approve"})],
    ("POST", "/programme/periods/{period}/close"): lambda w: [Ask(
        "POST", "/programme/periods/2026-Q1/close", form_from="/programme")],
    # -- genome projects: the next best species follow the material the caller may see
    ("GET", "/api/genomes/projects"): gets("/api/genomes/projects"),
    ("GET", "/api/genomes/projects/{key}"): gets("/api/genomes/projects/croakers",
                                                 "/api/genomes/projects/nothing"),
    ("GET", "/api/genomes/projects/{key}/species/{taxid}"): gets(
        "/api/genomes/projects/croakers/species/215358"),
    ("GET", "/api/genomes/projects/{key}/goat.tsv"): gets(
        "/api/genomes/projects/croakers/goat.tsv"),
    ("GET", "/api/genomes/progress"): gets("/api/genomes/progress",
                                           "/api/genomes/progress?project=croakers"),
    ("POST", "/api/genomes/projects"): lambda w: [Ask("POST", "/api/genomes/projects", json={
        "key": "x1", "name": "x"})],
    ("PATCH", "/api/genomes/projects/{key}"): lambda w: [Ask(
        "PATCH", "/api/genomes/projects/croakers", json={"target_count": 1})],
    ("POST", "/api/genomes/projects/{key}/targets"): lambda w: [Ask(
        "POST", "/api/genomes/projects/croakers/targets", files={
            "file": ("t.tsv", b"taxid\tscientific_name\n1\tx y\n", "text/plain")})],
    ("POST", "/api/genomes/projects/{key}/species/{taxid}/status"): lambda w: [Ask(
        "POST", "/api/genomes/projects/croakers/species/215358/status",
        json={"status": "sample_collected"})],
    ("POST", "/api/genomes/assemblies"): lambda w: [Ask("POST", "/api/genomes/assemblies",
                                                        files={"file": ("a.tsv", b"x\n",
                                                                        "text/plain")})],
    # -- screening: a confidential assay and its model change no answer
    ("GET", "/api/screening/assays"): gets("/api/screening/assays"),
    ("GET", "/api/screening/assays/{key}"): gets("/api/screening/assays/kinase",
                                                 "/api/screening/assays/partner"),
    ("GET", "/api/screening/assays/{key}/results"): gets(
        "/api/screening/assays/kinase/results", "/api/screening/assays/partner/results"),
    ("GET", "/api/screening/models"): gets("/api/screening/models",
                                           "/api/screening/models?assay=kinase"),
    ("GET", "/api/screening/models/{key}"): gets("/api/screening/models/kinase.v1",
                                                 "/api/screening/models/partner.v1"),
    ("GET", "/api/screening/models/{key}/file"): gets(
        "/api/screening/models/kinase.v1/file", "/api/screening/models/partner.v1/file"),
    ("GET", "/api/screening/models/{key}/ranking"): gets(
        "/api/screening/models/kinase.v1/ranking", "/api/screening/models/partner.v1/ranking"),
    ("POST", "/api/screening/models/{key}/ranking"): lambda w: [Ask(
        "POST", "/api/screening/models/partner.v1/ranking")],
    ("GET", "/api/screening/models/{key}/ranking.{fmt}"): gets(
        "/api/screening/models/kinase.v1/ranking.csv",
        "/api/screening/models/kinase.v1/ranking.sdf"),
    ("GET", "/api/screening/profile"): gets(
        "/api/screening/profile?accession={public:compound}",
        "/api/screening/profile?smiles=CCO"),
    ("POST", "/api/screening/assays"): lambda w: [Ask("POST", "/api/screening/assays", json={
        "key": "x1", "name": "x"})],
    ("PATCH", "/api/screening/assays/{key}"): lambda w: [Ask(
        "PATCH", "/api/screening/assays/partner", json={"description": "x"})],
    ("POST", "/api/screening/assays/{key}/results"): lambda w: [Ask(
        "POST", "/api/screening/assays/partner/results", files={
            "file": ("t.csv", b"smiles,endpoint,value,unit\nCCO,IC50,1,uM\n", "text/csv")})],
    ("POST", "/api/screening/assays/{key}/models"): lambda w: [Ask(
        "POST", "/api/screening/assays/partner/models", json={"endpoint": "IC50"})],
    ("POST", "/api/screening/models/{key}/predict"): lambda w: [
        Ask("POST", "/api/screening/models/kinase.v1/predict", json={"smiles": ["CCO"]}),
        Ask("POST", "/api/screening/models/partner.v1/predict", json={"smiles": ["CCO"]})],
    ("GET", "/screening"): gets("/screening"),
    ("GET", "/screening.json"): gets("/screening.json"),
    ("GET", "/screening/assays/{key}"): gets("/screening/assays/kinase",
                                             "/screening/assays/partner"),
    ("GET", "/screening/assays/{key}.json"): gets("/screening/assays/kinase.json"),
    ("GET", "/screening/models/{key}"): gets("/screening/models/kinase.v1",
                                             "/screening/models/partner.v1"),
    ("GET", "/screening/models/{key}.json"): gets("/screening/models/kinase.v1.json"),
    ("GET", "/screening/profile"): gets("/screening/profile?accession={public:compound}"),
    ("GET", "/screening/profile.json"): gets(
        "/screening/profile.json?accession={public:compound}"),
    ("POST", "/screening/assays/{key}/train"): lambda w: [Ask(
        "POST", "/screening/assays/partner/train", form_from="/screening/assays/kinase",
        data={"endpoint": "IC50"})],
    ("POST", "/designs/{accession}/run"): lambda w: [Ask(
        "POST", f"/designs/{_hidden_or(w, 'design', HIDDEN_ACCESSIONS['design'])}/run",
        form_from="/records/{}".format(w.public["design"]))],
    ("POST", "/designs/{accession}/knockouts"): lambda w: [Ask(
        "POST", f"/designs/{_hidden_or(w, 'design', HIDDEN_ACCESSIONS['design'])}/knockouts",
        form_from="/records/{}".format(w.public["design"]), data={"method": "search"})],
    ("GET", "/genomes"): gets("/genomes"),
    ("GET", "/genomes.json"): gets("/genomes.json"),
    ("GET", "/genomes/{key}"): gets("/genomes/croakers", "/genomes/nothing"),
    ("GET", "/genomes/{key}.json"): gets("/genomes/croakers.json"),
    # -- the API: changes an anonymous caller or a reader may not make
    ("POST", "/api/{kind}"): lambda w: [Ask("POST", "/api/samples", json=SAMPLE)],
    ("PATCH", "/api/{kind}/{accession}"): writes("PATCH", "/api/records/{}",
                                                 {"description": "x"}),
    ("PUT", "/api/{kind}/{accession}"): writes("PUT", "/api/records/{}", SAMPLE),
    ("POST", "/api/links"): links_body,
    ("DELETE", "/api/links"): unlink_body,
    ("POST", "/api/{kind}/import"): lambda w: [Ask("POST", "/api/samples/import", files={
        "file": ("s.csv", b"samp_name\nx\n", "text/csv")})],
    ("POST", "/api/assemblies/{accession}/sequences"): lambda w: [
        Ask("POST", f"/api/assemblies/{a}/sequences", files={
            "file": ("x.faa", b">p\nMKV\n", "text/plain")}, data={"kind": "proteome"})
        for a in (w.public["assembly"],
                  _hidden_or(w, "assembly", HIDDEN_ACCESSIONS["assembly"]))],
    ("POST", "/api/assemblies/{accession}/annotate"): lambda w: [
        Ask("POST", f"/api/assemblies/{a}/annotate", json={})
        for a in (w.public["assembly"],
                  _hidden_or(w, "assembly", HIDDEN_ACCESSIONS["assembly"]))],
    ("POST", "/api/breeding/datasets"): lambda w: [Ask("POST", "/api/breeding/datasets",
                                                       data={"name": "secret-fish"})],
    ("POST", "/api/breeding/qc"): breed("qc"),
    ("POST", "/api/breeding/grm"): breed("grm"),
    ("POST", "/api/breeding/reml"): breed("reml"),
    ("POST", "/api/breeding/predict"): breed("predict"),
    ("POST", "/api/breeding/cv"): breed("cv"),
    ("POST", "/api/breeding/mate"): breed("mate"),
    ("POST", "/api/users"): lambda w: [Ask("POST", "/api/users", json={
        "username": "eve", "role": "admin"})],
    ("PATCH", "/api/users/{username}"): lambda w: [Ask("PATCH", "/api/users/ana",
                                                       json={"role": "reader"})],
    ("POST", "/api/tokens"): lambda w: [Ask("POST", "/api/tokens", json={"username": "ana"})],
    ("DELETE", "/api/tokens/{prefix}"): lambda w: [Ask("DELETE", "/api/tokens/lh_0000000")],
    # -- the pages
    ("GET", "/"): gets("/"),
    ("GET", "/.json"): gets("/.json"),
    ("GET", "/browse/{kind}"): per_kind("/browse/{}", "", "?q=hidden"),
    ("GET", "/browse/{kind}.json"): per_kind("/browse/{}.json", "", "?where=depth_m>100"),
    ("GET", "/records/{accession}"): record_paths("/records/{}"),
    ("GET", "/records/{accession}.json"): record_paths("/records/{}.json"),
    ("GET", "/records/{accession}/lineage"): record_paths("/records/{}/lineage"),
    ("GET", "/records/{accession}/proteins/{protein_id}"): protein_pages(""),
    ("GET", "/records/{accession}/proteins/{protein_id}.json"): protein_pages(".json"),
    ("GET", "/records/{accession}/lineage.json"): record_paths("/records/{}/lineage.json"),
    ("GET", "/records/{accession}/history"): record_paths("/records/{}/history"),
    ("GET", "/records/{accession}/history.json"): record_paths("/records/{}/history.json"),
    ("GET", "/records/{accession}/edit"): record_paths("/records/{}/edit"),
    ("GET", "/records/{accession}/edit.json"): record_paths("/records/{}/edit.json"),
    ("POST", "/records/{accession}/edit"): edit_page,
    ("GET", "/targets.csv"): gets("/targets.csv"),
    ("GET", "/targets.xlsx"): gets("/targets.xlsx"),
    ("GET", "/map"): gets("/map", "/map?at=50.25,-4.22&zoom=8"),
    ("GET", "/map.json"): gets("/map.json", "/map.json?depth_min=2000",
                               "/map.json?at=50.25,-4.22&zoom=8&kind=sample"),
    ("GET", "/market/deals"): gets("/market/deals"),
    ("GET", "/market/deals.json"): gets("/market/deals.json"),
    ("GET", "/market/deals/{deal_id}"): gets("/market/deals/{hidden:deal}"),
    ("POST", "/market/releases"): lambda w: [Ask(
        "POST", "/market/releases", form_from="/market/releases",
        data={"title": "x", "issued": "2026-12-31", "offers": w.public["offer"]})],
    ("POST", "/market/releases/{release_id}/publish"): lambda w: [Ask(
        "POST", f"/market/releases/{_hidden_or(w, 'release', HIDDEN_ACCESSIONS['release'])}"
                "/publish", form_from="/market/releases")],
    ("GET", "/market/financing"): gets("/market/financing"),
    ("GET", "/market/financing.json"): gets("/market/financing.json"),
    ("POST", "/market/financing"): lambda w: [Ask(
        "POST", "/market/financing", form_from="/market/financing",
        data={"title": "x", "amount": "1", "stage": "A", "use_of_funds": "y",
              "organisation": w.public["organisation"]})],
    ("POST", "/market/financing/{need_id}/close"): lambda w: [Ask(
        "POST", f"/market/financing/{_hidden_or(w, 'need', HIDDEN_ACCESSIONS['need'])}/close",
        form_from="/market/financing")],
    ("POST", "/market/deals"): lambda w: [Ask(
        "POST", "/market/deals", form_from="/market/deals",
        data={"offer": w.public["offer"], "demand": _hidden_or(
            w, "demand", HIDDEN_ACCESSIONS["demand"])})],
    ("POST", "/market/deals/{deal_id}/events"): lambda w: [Ask(
        "POST", f"/market/deals/{_hidden_or(w, 'deal', HIDDEN_ACCESSIONS['deal'])}/events",
        form_from="/market/deals", data={"kind": "note", "note": "x", "version": "1"})],
    ("GET", "/market/deals/{deal_id}.json"): gets("/market/deals/{hidden:deal}.json",
                                                  "/market/deals/x1.json"),
    ("GET", "/market/inbox"): gets("/market/inbox"),
    ("GET", "/market/inbox.json"): gets("/market/inbox.json"),
    ("GET", "/market/releases"): gets("/market/releases", "/market/releases?lang=zh"),
    ("GET", "/market/releases.json"): gets("/market/releases.json"),
    ("GET", "/market/releases/{release_id}"): gets(
        "/market/releases/{public:release}", "/market/releases/{hidden:release}"),
    ("GET", "/market/releases/{release_id}.json"): gets(
        "/market/releases/{public:release}.json", "/market/releases/{hidden:release}.json"),
    ("GET", "/market/releases/{release_id}/brochure"): gets(
        "/market/releases/{public:release}/brochure"),
    ("GET", "/market/releases/{release_id}/brochure.json"): gets(
        "/market/releases/{public:release}/brochure.json",
        "/market/releases/{hidden:release}/brochure.json"),
    ("GET", "/jobs"): gets("/jobs"),
    ("GET", "/jobs.json"): gets("/jobs.json"),
    ("GET", "/search"): gets("/search", "/search?q=hidden", "/search?depth_min=500"),
    ("GET", "/search.json"): gets("/search.json", "/search.json?q=secret",
                                  "/search.json?has_genome=yes"),
    ("GET", "/search/sequence"): gets("/search/sequence"),
    ("GET", "/search/sequence.json"): gets("/search/sequence.json"),
    ("POST", "/search/sequence"): sequence_page,
    ("POST", "/search/sequence.json"): lambda w: [],  # asked with the page
    ("GET", "/search/compounds"): gets(
        f"/search/compounds?structure={SALINOSPORAMIDE_B}&mode=similarity&threshold=0.05"),
    ("GET", "/search/compounds.json"): gets(
        "/search/compounds.json?structure=[%236]OC(%3DO)[%236]&mode=substructure"),
    ("GET", "/search/families"): gets("/search/families?family=PF07980+GH16"),
    ("GET", "/search/families.json"): gets("/search/families.json?family=PF07980"),
    ("GET", "/signin"): gets("/signin"),
    ("POST", "/signin"): signin,
    ("POST", "/signout"): lambda w: [Ask("POST", "/signout", data={}, form_from="/")],
    ("GET", "/account"): gets("/account"),
    ("GET", "/account.json"): gets("/account.json"),
    ("POST", "/account/password"): lambda w: [Ask("POST", "/account/password", data={
        "current": "wrong", "new": "x", "repeat": "x"}, form_from="/account")],
    ("GET", "/import"): gets("/import"),
    ("POST", "/import"): import_page,
    ("POST", "/import.json"): lambda w: [],  # asked with the page
    ("POST", "/import/commit"): lambda w: [Ask("POST", "/import/commit",
                                               data={"upload": "0" * 32}, form_from="/import")],
    # -- the breeding pages: the private dataset and the curator's job never show
    ("GET", "/breeding"): gets("/breeding", "/breeding?lang=zh"),
    ("GET", "/breeding.json"): gets("/breeding.json"),
    ("GET", "/breeding/import"): gets("/breeding/import"),
    ("GET", "/breeding/import.json"): gets("/breeding/import.json"),
    ("POST", "/breeding/import"): lambda w: [Ask(
        "POST", path, data={"name": "secret-fish", "map": "Father_ID=sire"},
        files={"pedigree": ("ped.csv", (BREEDING / "mrode_pedigree.csv").read_bytes(),
                            "text/csv")}, form_from="/breeding/import")
        for path in ("/breeding/import", "/breeding/import.json")],
    ("POST", "/breeding/import.json"): lambda w: [],  # asked with the page
    ("GET", "/breeding/datasets/{name}"): gets("/breeding/datasets/{public:dataset}",
                                               "/breeding/datasets/{hidden:dataset}"),
    ("GET", "/breeding/datasets/{name}.json"): gets(
        "/breeding/datasets/{public:dataset}.json", "/breeding/datasets/{hidden:dataset}.json"),
    ("POST", "/breeding/datasets/{name}/run"): lambda w: [Ask(
        "POST", f"/breeding/datasets/{name}/run{suffix}",
        data={"analysis": "predict", "trait": "wwg", "model": "pblup"},
        form_from="/breeding")
        for name in (w.public["dataset"], _hidden_or(w, "dataset", "secret-fish"))
        for suffix in ("", ".json")],
    ("POST", "/breeding/datasets/{name}/run.json"): lambda w: [],  # asked with the page
    ("GET", "/breeding/results/{job_id}"): gets("/breeding/results/{hidden:job}"),
    ("GET", "/breeding/results/{job_id}.json"): gets("/breeding/results/{hidden:job}.json"),
    ("GET", "/breeding/results/{job_id}.csv"): gets("/breeding/results/{hidden:job}.csv"),
}


# --- comparing answers ----------------------------------------------------------------------

_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(\+00:00|Z| UTC)?")
_VOLATILE = [
    (re.compile(r"\bLH[A-Z]{2}[A-HJKMNP-TV-Z][0-9A-HJKMNP-TV-Z]{6}\b"), "<held>"),
    (re.compile(r"lh_[A-Za-z0-9_-]{7,}"), "lh_<token>"),
    (re.compile(r'name="csrf" value="[^"]+"'), 'name="csrf" value="<csrf>"'),
    (re.compile(r"\b[0-9a-f]{32}\b"), "<id>"),
    (re.compile(r"\b[0-9a-f]{64}\b"), "<digest>"),  # of a snapshot holding its closing time
    (re.compile(r"lanhai-test-[\w]+|visibility\d*/(with|without)"), "<folder>"),
    (re.compile(r"\b(with|without)(\.sqlite|-LHAS\d+\.faa)"), r"<bank>\2"),
]


def normalise(text: str) -> str:
    text = _TIME.sub("<time>", text)
    for pattern, replacement in _VOLATILE:
        text = pattern.sub(replacement, text)
    return text


def ask(world: World, caller: str, question: Ask) -> tuple[int, str, str]:
    """The status, the normalised answer and the answer as sent."""
    headers = world.headers(caller)
    data = dict(question.data) if question.data is not None else None
    client = world.client
    client.cookies.clear()
    if question.form_from is not None:
        page = client.get(question.form_from, headers=headers)
        data = {**(data or {}), "csrf": csrf_of(page.text)} if 'name="csrf"' in page.text \
            else data
    answer = client.request(question.method, question.path, json=question.json, data=data,
                            files=question.files, headers=headers, follow_redirects=False)
    body = answer.content.decode("utf-8", errors="replace")
    if answer.headers.get("content-type", "").startswith((
            "application/zip", "application/vnd.openxmlformats")):
        body = _zip_text(answer.content)
    return answer.status_code, normalise(body), body


def _zip_text(data: bytes) -> str:
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return "\n".join(f"{name}:\n{archive.read(name).decode('utf-8')}"
                         for name in sorted(archive.namelist()))


def test_every_route_is_asked(worlds: tuple[World, World]) -> None:
    app = worlds[0].client.app
    served = app_routes(app) | web_routes(app)  # type: ignore[arg-type]
    assert sorted(served - set(QUESTIONS)) == [], "add questions for these routes"
    assert sorted(set(QUESTIONS) - served) == [], "these routes no longer exist"


@pytest.mark.parametrize("caller", ["anonymous", "reader"])
@pytest.mark.parametrize("route", sorted(QUESTIONS), ids=lambda r: f"{r[0]} {r[1]}")
def test_hidden_records_change_no_answer(worlds: tuple[World, World], route: tuple[str, str],
                                         caller: str) -> None:
    with_hidden, without = worlds
    for question, same in zip(QUESTIONS[route](with_hidden), QUESTIONS[route](without),
                              strict=True):
        assert normalise(repr(question)) == normalise(repr(same)), "asked the same"
        seen = ask(with_hidden, caller, question)
        expected = ask(without, caller, same)
        assert seen[0] == expected[0], (question, seen[1][:300])
        if seen[1] != expected[1]:
            raise AssertionError(_difference(question, seen[1], expected[1]))
        asked = repr(question)
        for name, marker in _markers(with_hidden).items():  # what normalising might mask
            if marker not in asked:  # a 404 may repeat the accession it was asked about
                assert marker not in seen[2] or marker in expected[2], \
                    f"{question.path} shows the hidden {name}"


def _markers(world: World) -> dict[str, str]:
    """Strings only the hidden records hold."""
    # numeric ids (a deal's, a release's, a need's) are no marker: "2" occurs in any token
    found = {name: value for name, value in world.hidden.items()
             if name != "job" and not value.isdigit()}
    found.update({"release title": "secret release", "need title": "secret pilot line",
                  "sample name": "hidden abyssal", "deposit number": "CGMCC No. 99999",
                  "assembly name": "secret second half",
                  "compound name": "secret salinosporamide B",
                  "germplasm number": CROAKER["accenumb"], "compound id": "CMNPD99999",
                  "hidden protein": proteins()[20][0].split()[0],
                  "draft offer": "secret alginate lyase", "invited offer": "O-invited",
                  "draft demand": "保密的褐藻胶"})
    return found


def _difference(question: Ask, seen: str, expected: str) -> str:
    try:
        a, b = json.loads(seen), json.loads(expected)
    except ValueError:
        a, b = seen.splitlines(), expected.splitlines()
    return (f"{question.method} {question.path}: the answer differs with hidden records "
            f"present\n  with:    {_first_difference(a, b)}\n  without: "
            f"{_first_difference(b, a)}")


def _first_difference(a: Any, b: Any, path: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                return _first_difference(a.get(key), b.get(key), f"{path}.{key}")
    if isinstance(a, list) and isinstance(b, list):
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            if x != y:
                return _first_difference(x, y, f"{path}[{i}]")
        if len(a) != len(b):
            return f"{path}: {len(a)} items"
    return f"{path}: {str(a)[:400]}"


def test_a_curator_sees_the_hidden_records(worlds: tuple[World, World]) -> None:
    """The comparison above is not vacuous: on the same bank a curator sees each of them."""
    world = worlds[0]
    h = world.hidden
    checks = [
        ("/api/records?limit=100", [h["sample"], h["deposit"], h["assembly"], h["compound"],
                                    h["germplasm"]]),
        (f"/api/records/{world.public['strain']}/lineage", [h["deposit"], h["assembly"]]),
        (f"/api/records/{world.public['assembly']}/lineage", [h["sample"]]),
        ("/api/breeding/datasets", ["secret-fish"]),
        ("/api/jobs", [h["job"]]),
        ("/api/search/families?family=PL6", [h["assembly"]]),
        (f"/api/search/compounds?similar={SALINOSPORAMIDE_B}&threshold=0.05",
         [h["compound"]]),
        ("/map.json?depth_min=2000", [h["sample"]]),
    ]
    for path, wanted in checks:
        body = world.client.get(path, headers=world.headers("curator")).text
        for accession in wanted:
            assert accession in body, (path, accession)
    stats = world.client.get("/api/stats", headers=world.headers("curator")).json()
    assert stats["total"] > world.client.get("/api/stats").json()["total"]
    hits = world.client.post("/api/search/sequence", headers=world.headers("curator"), json={
        "fasta": fasta([(h.split()[0], s) for h, s in proteins()[15:17]])}).json()
    assert h["assembly"] in {hit["assembly"] for hit in hits["hits"]}
    assert world.bank.catalog.get(ANONYMOUS, world.public["sample"])  # public stays public
