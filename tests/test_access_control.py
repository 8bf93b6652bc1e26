"""Every route, tried by every kind of caller, with the exact status each must get.

The matrix is checked against the application's routes: a new route without an entry here
fails :func:`test_every_route_has_a_matrix_entry`. Confidential records (patent deposits by
default, anything marked restricted) must be invisible to anonymous callers and readers:
404 on get, and absent from lists, counts, links and lineage.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from lanhai.kinds import ACCESSION_PATTERN
from lanhai.services.access import Actor
from lanhai.store import users as user_store
from tests.support import (
    DEPOSIT,
    SAMPLE,
    ZOBELLIA,
    add_token,
    app_routes,
    catalog_on,
    create_user,
    database,
    make_client,
)

CALLERS = ("anonymous", "reader", "member", "broker", "investor", "curator", "admin",
           "unknown", "expired", "revoked")
BAD_TOKENS = ("unknown", "expired", "revoked")
ACCESSION = re.compile(ACCESSION_PATTERN)
USERNAMES = {"reader": "rui", "curator": "ana", "admin": "root", "broker": "wang",
             "investor": "ivy"}
#: the member caller acts for the world's organisation (Matrix Institute)
MEMBER = "sun"


@dataclass
class World:
    """A bank with its users (a reader, a member of an organisation, a broker, an investor,
    a curator, an admin), good and bad tokens, public and confidential records."""

    client: TestClient
    engine: Engine
    tokens: dict[str, str]
    sample: str
    sample2: str
    strain: str
    #: confidential: created restricted, so held (random) accessions
    deposit: str
    hidden_sample: str
    organisation: str = ""
    serial: list[int] = field(default_factory=lambda: [0])

    def headers(self, caller: str) -> dict[str, str]:
        token = self.tokens.get(caller)
        return {"Authorization": f"Bearer {token}"} if token else {}

    def unique(self, stem: str) -> str:
        self.serial[0] += 1
        return f"{stem}-{self.serial[0]}"

    def token_prefix(self, username: str) -> str:
        return add_token(self.engine, username, "to revoke")[:10]

    def scratch_file(self, name: str, text: str) -> Path:
        """A file of ``text`` in a folder of its own."""
        import tempfile

        path = Path(tempfile.mkdtemp(prefix="lanhai-matrix-")) / name
        path.write_text(text, "utf-8")
        return path

    def relink(self) -> None:
        """Make sure the link that DELETE /api/links removes exists."""
        catalog_on(self.engine).link(Actor("ana", "curator"), self.sample2,
                                         "isolated_from", self.strain)


def build_world(engine: Engine) -> World:
    tokens: dict[str, str] = {}
    for role, username in USERNAMES.items():
        create_user(engine, username, role)
        tokens[role] = add_token(engine, username)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    tokens["expired"] = add_token(engine, "ana", "old", expires_at=past)
    tokens["revoked"] = add_token(engine, "ana", "revoked")
    with database(engine).write() as conn:
        user_store.revoke_token(conn, tokens["revoked"][:10])
    tokens["unknown"] = "lh_" + "x" * 43
    service = catalog_on(engine)
    curator = Actor("ana", "curator")
    organisation = service.create(curator, "organisation", {
        "name_en": "Matrix Institute", "org_type": "institute"}).accession
    create_user(engine, MEMBER, "member", organisation=organisation)
    tokens["member"] = add_token(engine, MEMBER)
    sample = service.create(curator, "sample", SAMPLE).accession
    sample2 = service.create(curator, "sample", {**SAMPLE, "samp_name": "second"}).accession
    hidden = service.create(curator, "sample", {**SAMPLE, "samp_name": "hidden",
                                                "restricted": "yes"}).accession
    strain = service.create(curator, "strain", ZOBELLIA).accession
    deposit = service.create(curator, "deposit", DEPOSIT).accession  # confidential by default
    assert (sample, sample2, strain) == ("LHSM0000001", "LHSM0000002", "LHST0000001")
    service.link(curator, sample, "isolated_from", strain)
    service.link(curator, strain, "deposited_as", deposit)
    service.link(curator, hidden, "isolated_from", strain)
    return World(make_client(engine), engine, tokens, sample, sample2, strain, deposit, hidden,
                 organisation)


@pytest.fixture
def world(engine: Engine) -> World:
    return build_world(engine)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    json: Any = None
    files: dict[str, tuple[str, bytes, str]] | None = None
    data: dict[str, str] | None = None


@dataclass(frozen=True)
class Case:
    """One request (built per caller) and the status each caller must get."""

    build: Callable[[World, str], Request]
    anonymous: int
    reader: int
    curator: int
    admin: int
    bad_token: int = 401
    #: a member of the world's organisation, a broker (wang, accredited with the market's
    #: world) and an investor: as a reader unless given
    member: int | None = None
    broker: int | None = None
    investor: int | None = None

    def expected(self, caller: str) -> int:
        if caller in BAD_TOKENS:
            return self.bad_token
        status: int | None = getattr(self, caller)
        return self.reader if status is None else status


def fixed(method: str, path: str, body: Any = None) -> Callable[[World, str], Request]:
    return lambda w, caller: Request(method, path.format(w=w), body)


def new_sample(w: World, caller: str) -> Request:
    return Request("POST", "/api/samples", {**SAMPLE, "samp_name": w.unique(caller)})


def revoke_own(w: World, caller: str) -> Request:
    name = MEMBER if caller == "member" else USERNAMES.get(caller, "rui")
    return Request("DELETE", f"/api/tokens/{w.token_prefix(name)}")


def revoke_readers(w: World, caller: str) -> Request:
    return Request("DELETE", f"/api/tokens/{w.token_prefix('rui')}")


def import_csv(w: World, caller: str) -> Request:
    row = {**SAMPLE, "samp_name": w.unique(caller)}
    table = ",".join(row) + "\n" + ",".join(f'"{v}"' for v in row.values()) + "\n"
    return Request("POST", "/api/samples/import",
                   files={"file": ("samples.csv", table.encode(), "text/csv")},
                   data={"dry_run": "true"})


def unlink(w: World, caller: str) -> Request:
    w.relink()
    return Request("DELETE", "/api/links",
                   {"source": w.sample2, "rel": "isolated_from", "target": w.strain})


def curators_job(w: World, caller: str) -> Request:
    """A finished job owned by the curator 'ana'."""
    runner = w.client.app.state.bank.jobs  # type: ignore[attr-defined]
    job = runner.submit("test", "ana", {}, lambda progress: {"ok": True})
    runner.wait(job.id, 10)
    return Request("GET", f"/api/jobs/{job.id}")


BREEDING = Path(__file__).parent / "data" / "breeding"


def breed(route: str, form: dict[str, str], **files: str) -> Callable[[World, str], Request]:
    """POST /api/breeding/ROUTE with small breeding files (nothing is stored)."""
    return lambda w, caller: Request("POST", f"/api/breeding/{route}", files={
        field: (name, (BREEDING / name).read_bytes(), "text/csv")
        for field, name in files.items()}, data=form)


MRODE = dict(pedigree="mrode_pedigree.csv", phenotypes="mrode_phenotypes.csv")


def assembly(method: str, suffix: str, hidden: bool = False, body: Any = None,
             upload: bool = False) -> Callable[[World, str], Request]:
    """A request on an annotated public (or restricted) assembly (tests/test_annotation_api)."""
    from tests.support.sequences import GENBANK, annotated_assemblies

    def build(w: World, caller: str) -> Request:
        public, secret = annotated_assemblies(w.client)
        path = f"/api/assemblies/{secret if hidden else public}/{suffix}"
        if upload:  # the file already stored: 200 unchanged
            return Request(method, path, files={"file": (
                "BGC0001866.gbk", GENBANK.read_bytes(), "text/plain")}, data={"kind": "genome"})
        return Request(method, path, body)
    return build


def market_world(w: World) -> dict[str, str]:
    """An offer, a published and a draft demand, an accredited broker (wang) and a deal he
    opened on the offer and the published demand; made once per application."""
    state = w.client.app.state  # type: ignore[attr-defined]
    made: dict[str, str] | None = getattr(state, "test_market", None)
    if made is None:
        bank, curator = state.bank, Actor("ana", "curator")
        base = {"field": "enzyme", "sector": "food_health", "market_status": "published"}
        made = {"offer": bank.catalog.create(curator, "offer", {
            **base, "reference": "O-1", "title": "PL7 alginate lyase", "trl": "6",
            "transfer_types": "licence"}).accession}
        for which in ("public", "draft", "own draft"):
            made[which] = bank.catalog.create(curator, "demand", {
                **base, "reference": f"D-{which}", "title_zh": "褐藻胶寡糖",
                "market_status": "published" if which == "public" else "draft",
                **({"organisation": w.organisation} if which == "own draft" else {})}
            ).accession
        admin = Actor("root", "admin")
        bank.deals.accredit(admin, "wang", ["enzyme"], "senior")
        made["deal"] = str(bank.deals.open(Actor("wang", "broker"), made["offer"],
                                           made["public"]).id)
        issued, offers = dt.date(2026, 11, 30), [made["offer"]]
        made["release"] = str(bank.releases.publish(admin, bank.releases.compose(
            admin, title="Best results", issued=issued, offers=offers)["id"])["id"])
        for which in ("draft release", "to publish"):
            made[which] = str(bank.releases.compose(admin, title=which, issued=issued,
                                                    offers=offers)["id"])
        made["organisation"] = bank.catalog.create(curator, "organisation", {
            "name_en": "Ocean Institute", "org_type": "institute"}).accession
        made["need"] = str(bank.financing.post(
            admin, title="pilot line", amount="5000000", stage="A", use_of_funds="a line",
            organisation=made["organisation"])["id"])
        state.test_market = made
    return made


def market(which: str) -> Callable[[World, str], Request]:
    """A match for a published demand, or for a draft one (readers never see drafts)."""
    return lambda w, caller: Request("GET", f"/api/market/match/{market_world(w)[which]}")


def deal(method: str, suffix: str = "", body: Any = None) -> Callable[[World, str], Request]:
    """A request on the world's deal (seen by its broker and admins only here)."""
    return lambda w, caller: Request(
        method, f"/api/market/deals/{market_world(w)['deal']}{suffix}", body)


def new_deal(w: World, caller: str) -> Request:
    made = market_world(w)
    return Request("POST", "/api/market/deals",
                   {"offer": made["offer"], "demand": made["public"], "broker": "wang"})


def release(method: str, which: str, suffix: str = "", with_body: bool = False
            ) -> Callable[[World, str], Request]:
    """A request on one of the world's releases (published, a draft, one to publish)."""

    def build(w: World, caller: str) -> Request:
        made = market_world(w)
        body = {"title": "x", "issued": "2026-12-01", "offers": [made["offer"]]} \
            if with_body else None
        return Request(method, f"/api/market/releases/{made[which]}{suffix}", body)
    return build


def on_market(method: str, path: str, body: Any = None) -> Callable[[World, str], Request]:
    """A market request that needs the market's world made first."""

    def build(w: World, caller: str) -> Request:
        market_world(w)
        return Request(method, path, body)
    return build


DOCS = Case(fixed("GET", "/openapi.json"), 200, 200, 200, 200, bad_token=200)
def programme_document(w: World) -> str:
    """The SHA-256 of an evidence document the programme office uploaded (once)."""
    state = w.client.app.state  # type: ignore[attr-defined]
    digest: str | None = getattr(state, "test_document", None)
    if digest is None:
        digest = str(state.bank.programme.save_document(
            Actor("ana", "curator"), "notice.pdf", b"%PDF-1.4 notice")["sha256"])
        state.test_document = digest
    return digest


def programme_update(method: str, suffix: str = "", body: Any = None
                     ) -> Callable[[World, str], Request]:
    """A request on a fresh update the programme office submitted (one per caller)."""

    def build(w: World, caller: str) -> Request:
        bank = w.client.app.state.bank  # type: ignore[attr-defined]
        made = bank.programme.submit(Actor("ana", "curator"), "plant_medicine_centre",
                                     period="2025-Q4", value=1,
                                     evidence=[{"url": "https://example.org/notice"}])
        return Request(method, f"/api/programme/updates/{made['id']}{suffix}", body)
    return build


#: each caller closes its own quarter, so the office's second close is not refused
_CLOSES = {"curator": "2025-Q2", "admin": "2025-Q3"}


def close_quarter(w: World, caller: str) -> Request:
    return Request("POST", f"/api/programme/periods/{_CLOSES.get(caller, '2025-Q1')}/close")


def genome_world(w: World) -> str:
    """A genome project with three target species (made once per application)."""
    state = w.client.app.state  # type: ignore[attr-defined]
    if not getattr(state, "test_genomes", False):
        bank, curator = state.bank, Actor("ana", "curator")
        bank.genomes.create_project(curator, "matrix", {"name": "Matrix fishes"})
        listed = w.scratch_file("targets.tsv", "taxid\tscientific_name\n101\tGobio gobio\n"
                                "102\tPerca fluviatilis\n103\tEsox lucius\n")
        bank.genomes.import_targets(curator, "matrix", listed)
        state.test_genomes = True
    return "matrix"


def on_genomes(method: str, path: str, body: Any = None) -> Callable[[World, str], Request]:
    """A genome-project request that needs the project made first."""

    def build(w: World, caller: str) -> Request:
        genome_world(w)
        return Request(method, path, body)
    return build


#: each writer moves its own species, so the second is not refused as a repeat
_SPECIES = {"curator": 101, "admin": 102}


def species_status(w: World, caller: str) -> Request:
    genome_world(w)
    return Request("POST", f"/api/genomes/projects/matrix/species/"
                           f"{_SPECIES.get(caller, 103)}/status",
                   {"status": "sample_collected"})


_TARGETS = b"taxid\tscientific_name\n104\tSander lucioperca\n"
_ASSEMBLIES = (Path(__file__).parent / "data" / "genomes" / "ncbi_assemblies_subset.tsv")


def screening_world(w: World) -> str:
    """An assay with 30 results and a model trained on them (made once per application)."""
    state = w.client.app.state  # type: ignore[attr-defined]
    if not getattr(state, "test_screening", False):
        from tests.support.screening import assay_table, drugs

        bank, curator = state.bank, Actor("ana", "curator")
        bank.screening.create_assay(curator, "matrix", {"name": "Matrix kinase",
                                                        "endpoint": "IC50"})
        table = assay_table(w.scratch_file("matrix.csv", "").with_name("matrix.csv"),
                            drugs(30))
        bank.screening.import_results(curator, "matrix", table)
        bank.screening.train(curator, "matrix", endpoint="IC50", folds=2, repeats=1,
                             n_estimators=10)
        state.test_screening = True
    return "matrix"


def on_screening(method: str, path: str, body: Any = None, **extra: Any
                 ) -> Callable[[World, str], Request]:
    """A screening request that needs the assay and its model made first."""

    def build(w: World, caller: str) -> Request:
        screening_world(w)
        return Request(method, path, body, **extra)
    return build


def _assay_file() -> bytes:
    import tempfile

    from tests.support.screening import assay_table, drugs

    folder = Path(tempfile.mkdtemp(prefix="lanhai-matrix-"))
    return assay_table(folder / "more.csv", drugs(5, skip=30)).read_bytes()


def design_world(w: World) -> dict[str, str]:
    """A public design on the bundled core model, analysed, and a confidential one (made
    once per application)."""
    state = w.client.app.state  # type: ignore[attr-defined]
    if not getattr(state, "test_design", None):
        bank, curator = state.bank, Actor("ana", "curator")
        public = bank.catalog.create(curator, "design", {
            "title": "Succinate", "chassis": "textbook", "product": "succ_e",
            "medium": "EX_o2_e=0"}).accession
        bank.design.run(curator, public)
        hidden = bank.catalog.create(curator, "design", {
            "title": "Confidential", "chassis": "textbook", "product": "succ_e",
            "restricted": "yes"}).accession
        state.test_design = {"public": public, "hidden": hidden}
    found: dict[str, str] = state.test_design
    return found


def on_design(method: str, path: str, body: Any = None, **extra: Any
              ) -> Callable[[World, str], Request]:
    """A design request on the public ({public}) or confidential ({hidden}) design."""

    def build(w: World, caller: str) -> Request:
        return Request(method, path.format(**design_world(w)), body, **extra)
    return build


PUBLIC = dict(anonymous=200, reader=200, curator=200, admin=200)
HIDDEN = dict(anonymous=404, reader=404, curator=200, admin=200)
WRITE = dict(anonymous=401, reader=403, curator=200, admin=200)
CREATE = dict(anonymous=401, reader=403, curator=201, admin=201)
ADMIN = dict(anonymous=401, reader=403, curator=403, admin=200)

MATRIX: dict[tuple[str, str], list[Case]] = {
    ("GET", "/openapi.json"): [DOCS],
    ("GET", "/docs"): [Case(fixed("GET", "/docs"), 200, 200, 200, 200, bad_token=200)],
    # -- the caller, users, tokens
    ("GET", "/api/me"): [Case(fixed("GET", "/api/me"), **PUBLIC)],
    ("GET", "/api/users"): [Case(fixed("GET", "/api/users"), **ADMIN)],
    ("GET", "/api/sign-in-log"): [Case(fixed("GET", "/api/sign-in-log"), **ADMIN)],
    ("POST", "/api/me/password"): [  # these users have no password: the current one is wrong
        Case(fixed("POST", "/api/me/password", {"current": "x", "new": "kelp forest at dusk"}),
             anonymous=401, reader=422, curator=422, admin=422)],
    ("POST", "/api/users"): [Case(lambda w, c: Request("POST", "/api/users", {
        "username": w.unique("new"), "role": "reader"}), 401, 403, 403, 201)],
    ("GET", "/api/users/{username}"): [
        # a reader may see themselves; anyone else but an admin gets 404
        Case(fixed("GET", "/api/users/rui"), 401, 200, 404, 200, member=404, broker=404,
             investor=404),
        Case(fixed("GET", "/api/users/root"), 401, 404, 404, 200)],
    ("PATCH", "/api/users/{username}"): [
        Case(fixed("PATCH", "/api/users/rui", {"role": "reader"}), **ADMIN),
        Case(fixed("PATCH", "/api/users/root", {"active": False}), 401, 403, 403, 409)],
    ("POST", "/api/tokens"): [
        Case(fixed("POST", "/api/tokens", {"name": "mine"}), 401, 201, 201, 201),
        Case(fixed("POST", "/api/tokens", {"username": "rui"}), 401, 201, 403, 201,
             member=403, broker=403, investor=403)],
    ("GET", "/api/tokens"): [Case(fixed("GET", "/api/tokens"), 401, 200, 200, 200)],
    ("DELETE", "/api/tokens/{prefix}"): [
        Case(revoke_own, 401, 204, 204, 204),
        Case(revoke_readers, 401, 204, 404, 204, member=404, broker=404, investor=404)],
    # -- background jobs: a signed-in user's job is theirs (and admins')
    ("GET", "/api/jobs"): [Case(fixed("GET", "/api/jobs"), 401, 200, 200, 200)],
    ("GET", "/api/jobs/{job_id}"): [
        Case(curators_job, 404, 404, 200, 200),
        Case(fixed("GET", "/api/jobs/0123456789abcdef0123456789abcdef"), 404, 404, 404, 404)],
    # -- catalogue-wide reads
    ("GET", "/api/kinds"): [Case(fixed("GET", "/api/kinds"), **PUBLIC)],
    ("GET", "/api/stats"): [Case(fixed("GET", "/api/stats"), **PUBLIC)],
    ("GET", "/api/market/match/{accession}"): [
        Case(market("public"), **PUBLIC), Case(market("draft"), **HIDDEN),
        # the member's own organisation's draft: its members see it, nobody else
        Case(market("own draft"), **HIDDEN, member=200)],
    ("GET", "/api/market/brokers"): [
        Case(on_market("GET", "/api/market/brokers"), 401, 200, 200, 200)],
    ("PUT", "/api/market/brokers/{username}"): [
        Case(on_market("PUT", "/api/market/brokers/wang",
                       {"specialities": ["enzyme"], "level": "senior"}), 401, 403, 403, 200)],
    ("GET", "/api/market/brokers/{username}/performance"): [
        Case(on_market("GET", "/api/market/brokers/wang/performance"), 401, 403, 403, 200,
             broker=200)],
    ("GET", "/api/market/ledger"): [
        Case(on_market("GET", "/api/market/ledger"), 401, 403, 403, 200, broker=200)],
    ("POST", "/api/market/deals"): [Case(new_deal, 401, 403, 403, 201, broker=201)],
    ("GET", "/api/market/releases"): [
        Case(on_market("GET", "/api/market/releases"), **PUBLIC)],
    ("GET", "/api/market/releases.atom"): [
        Case(on_market("GET", "/api/market/releases.atom"), **PUBLIC)],
    ("POST", "/api/market/releases"): [
        Case(lambda w, c: Request("POST", "/api/market/releases", {
            "title": "x", "issued": "2026-12-01", "offers": [market_world(w)["offer"]]}),
             401, 403, 403, 201)],
    ("GET", "/api/market/releases/{release_id}"): [
        Case(release("GET", "release"), **PUBLIC),
        Case(release("GET", "draft release"), 404, 404, 404, 200)],
    ("PUT", "/api/market/releases/{release_id}"): [
        Case(release("PUT", "draft release", with_body=True), 401, 403, 403, 200)],
    ("POST", "/api/market/releases/{release_id}/publish"): [
        Case(release("POST", "to publish", "/publish"), 401, 403, 403, 200)],
    ("GET", "/api/market/financing"): [
        Case(fixed("GET", "/api/market/financing"), 401, 200, 200, 200)],
    ("POST", "/api/market/financing"): [
        Case(lambda w, c: Request("POST", "/api/market/financing", {
            "title": "x", "amount": "100", "stage": "seed", "use_of_funds": "y",
            "organisation": market_world(w)["organisation"]}), 401, 403, 403, 201)],
    ("GET", "/api/market/financing/{need_id}"): [
        Case(lambda w, c: Request("GET", f"/api/market/financing/{market_world(w)['need']}"),
             401, 404, 404, 200, investor=200)],
    ("POST", "/api/market/financing/{need_id}/close"): [
        Case(lambda w, c: Request(
            "POST", f"/api/market/financing/{market_world(w)['need']}/close"),
             401, 404, 404, 200, investor=403)],
    ("GET", "/api/market/inbox"): [Case(fixed("GET", "/api/market/inbox"), 401, 200, 200, 200)],
    ("GET", "/api/market/inbox.atom"): [
        Case(fixed("GET", "/api/market/inbox.atom"), 401, 200, 200, 200)],
    ("POST", "/api/market/inbox/{notice_id}/read"): [
        Case(fixed("POST", "/api/market/inbox/1/read"), 401, 404, 404, 404)],
    ("POST", "/api/market/notify"): [Case(on_market("POST", "/api/market/notify"),
                                          401, 403, 403, 200)],
    ("GET", "/api/market/deals"): [
        Case(on_market("GET", "/api/market/deals"), 401, 200, 200, 200)],
    ("GET", "/api/market/deals/{deal_id}"): [Case(deal("GET"), 401, 404, 404, 200, broker=200)],
    ("POST", "/api/market/deals/{deal_id}/events"): [
        Case(deal("POST", "/events", {"kind": "note", "note": "called both"}),
             401, 404, 404, 201, broker=201)],
    # -- programme monitoring: published quarters to everyone, live figures to the office
    ("GET", "/api/programme"): [Case(fixed("GET", "/api/programme"), **PUBLIC)],
    ("GET", "/api/programme/indicators"): [
        Case(fixed("GET", "/api/programme/indicators"), **PUBLIC)],
    ("GET", "/api/programme/indicators/{key}"): [
        Case(fixed("GET", "/api/programme/indicators/strains"), **PUBLIC),
        Case(fixed("GET", "/api/programme/indicators/unknown"), 404, 404, 404, 404)],
    ("PUT", "/api/programme/indicators/{key}"): [
        Case(fixed("PUT", "/api/programme/indicators/strains",
                   {"changes": {"target": 41000}, "reason": "review"}), **ADMIN)],
    ("GET", "/api/programme/indicators/{key}/history"): [
        Case(fixed("GET", "/api/programme/indicators/strains/history"), **PUBLIC)],
    ("GET", "/api/programme/indicators/{key}/records"): [
        # reporting units (members) see the live figures too
        Case(fixed("GET", "/api/programme/indicators/strains/records"), **HIDDEN, member=200)],
    ("GET", "/api/programme/periods"): [Case(fixed("GET", "/api/programme/periods"), **PUBLIC)],
    ("GET", "/api/programme/periods/{period}"): [
        Case(fixed("GET", "/api/programme/periods/2026-Q1"), **HIDDEN, member=200)],
    ("POST", "/api/programme/periods/{period}/close"): [Case(close_quarter, **WRITE)],
    ("GET", "/api/programme/periods/{period}/report.xlsx"): [
        Case(fixed("GET", "/api/programme/periods/2026-Q1/report.xlsx"), **HIDDEN,
             member=200)],
    ("GET", "/api/programme/updates"): [
        Case(fixed("GET", "/api/programme/updates"), 401, 200, 200, 200)],
    ("POST", "/api/programme/updates"): [
        Case(fixed("POST", "/api/programme/updates", {
            "indicator": "plant_medicine_centre", "period": "2025-Q4", "value": 1,
            "evidence": [{"url": "https://example.org/notice"}]}), **CREATE, member=201)],
    ("GET", "/api/programme/updates/{update_id}"): [
        Case(programme_update("GET"), 401, 404, 200, 200)],
    ("PUT", "/api/programme/updates/{update_id}"): [
        Case(programme_update("PUT", body={"value": 2}), 401, 404, 200, 200)],
    ("POST", "/api/programme/updates/{update_id}/review"): [
        Case(programme_update("POST", "/review", {"decision": "approve"}), **WRITE)],
    ("POST", "/api/programme/documents"): [
        Case(lambda w, c: Request("POST", "/api/programme/documents", files={
            "file": ("n.pdf", b"%PDF-1.4 notice", "application/pdf")}), **CREATE,
             member=201)],
    ("GET", "/api/programme/documents/{sha256}"): [
        Case(lambda w, c: Request("GET", f"/api/programme/documents/{programme_document(w)}"),
             401, 404, 200, 200, member=200)],
    # -- genome projects: anyone reads, curators write
    ("GET", "/api/genomes/projects"): [Case(on_genomes("GET", "/api/genomes/projects"),
                                            **PUBLIC)],
    ("POST", "/api/genomes/projects"): [Case(lambda w, c: Request(
        "POST", "/api/genomes/projects", {"key": w.unique("p").lower(), "name": "x"}),
        **CREATE)],
    ("GET", "/api/genomes/projects/{key}"): [
        Case(on_genomes("GET", "/api/genomes/projects/matrix"), **PUBLIC),
        Case(fixed("GET", "/api/genomes/projects/nothing"), 404, 404, 404, 404)],
    ("PATCH", "/api/genomes/projects/{key}"): [
        Case(on_genomes("PATCH", "/api/genomes/projects/matrix", {"target_count": 3}),
             **WRITE)],
    ("POST", "/api/genomes/projects/{key}/targets"): [Case(lambda w, c: Request(
        "POST", f"/api/genomes/projects/{genome_world(w)}/targets",
        files={"file": ("t.tsv", _TARGETS, "text/tab-separated-values")}), **WRITE)],
    ("GET", "/api/genomes/projects/{key}/species/{taxid}"): [
        Case(on_genomes("GET", "/api/genomes/projects/matrix/species/101"), **PUBLIC)],
    ("POST", "/api/genomes/projects/{key}/species/{taxid}/status"): [
        Case(species_status, **CREATE)],
    ("GET", "/api/genomes/projects/{key}/goat.tsv"): [
        Case(on_genomes("GET", "/api/genomes/projects/matrix/goat.tsv"), **PUBLIC)],
    ("GET", "/api/genomes/progress"): [Case(on_genomes("GET", "/api/genomes/progress"),
                                            **PUBLIC)],
    ("POST", "/api/genomes/assemblies"): [Case(lambda w, c: Request(
        "POST", "/api/genomes/assemblies", files={"file": (
            "a.tsv", _ASSEMBLIES.read_bytes(), "text/tab-separated-values")}), **WRITE)],
    # -- screening: anyone reads and predicts, curators import and train
    ("GET", "/api/screening/assays"): [Case(on_screening("GET", "/api/screening/assays"),
                                            **PUBLIC)],
    ("POST", "/api/screening/assays"): [Case(lambda w, c: Request(
        "POST", "/api/screening/assays", {"key": w.unique("a").lower(), "name": "x"}),
        **CREATE)],
    ("GET", "/api/screening/assays/{key}"): [
        Case(on_screening("GET", "/api/screening/assays/matrix"), **PUBLIC),
        Case(fixed("GET", "/api/screening/assays/nothing"), 404, 404, 404, 404)],
    ("PATCH", "/api/screening/assays/{key}"): [
        Case(on_screening("PATCH", "/api/screening/assays/matrix", {"description": "x"}),
             **WRITE)],
    ("GET", "/api/screening/assays/{key}/results"): [
        Case(on_screening("GET", "/api/screening/assays/matrix/results"), **PUBLIC)],
    ("POST", "/api/screening/assays/{key}/results"): [Case(on_screening(
        "POST", "/api/screening/assays/matrix/results", files={"file": (
            "more.csv", _assay_file(), "text/csv")}), **WRITE)],
    ("POST", "/api/screening/assays/{key}/models"): [Case(on_screening(
        "POST", "/api/screening/assays/matrix/models", {"endpoint": "IC50", "folds": 2,
                                                        "repeats": 1}),
        anonymous=401, reader=403, curator=202, admin=202)],
    ("GET", "/api/screening/models"): [Case(on_screening("GET", "/api/screening/models"),
                                            **PUBLIC)],
    ("GET", "/api/screening/models/{key}"): [
        Case(on_screening("GET", "/api/screening/models/matrix.v1"), **PUBLIC),
        Case(fixed("GET", "/api/screening/models/matrix.v99"), 404, 404, 404, 404)],
    ("GET", "/api/screening/models/{key}/file"): [
        Case(on_screening("GET", "/api/screening/models/matrix.v1/file"), **PUBLIC)],
    ("POST", "/api/screening/models/{key}/predict"): [
        Case(on_screening("POST", "/api/screening/models/matrix.v1/predict",
                          {"smiles": ["CCO"]}), **PUBLIC)],
    ("GET", "/api/screening/models/{key}/ranking"): [
        Case(on_screening("GET", "/api/screening/models/matrix.v1/ranking"), **PUBLIC)],
    ("POST", "/api/screening/models/{key}/ranking"): [
        Case(on_screening("POST", "/api/screening/models/matrix.v1/ranking"),
             anonymous=202, reader=202, curator=202, admin=202)],
    ("GET", "/api/screening/models/{key}/ranking.{fmt}"): [
        Case(on_screening("GET", "/api/screening/models/matrix.v1/ranking.csv"), **PUBLIC)],
    ("GET", "/api/screening/profile"): [
        Case(on_screening("GET", "/api/screening/profile?smiles=CCO"), **PUBLIC)],
    # -- strain design: anyone reads designs they may see, curators run them
    ("GET", "/api/design/models"): [Case(fixed("GET", "/api/design/models"), **PUBLIC)],
    ("POST", "/api/design/chassis"): [Case(lambda w, c: Request(
        "POST", "/api/design/chassis", data={"model_name": w.unique(c),
                                             "bundled": "textbook"}),
        anonymous=401, reader=403, curator=202, admin=202)],
    ("GET", "/api/design/chassis/{chassis}/check"): [
        Case(fixed("GET", "/api/design/chassis/textbook/check"), **PUBLIC),
        Case(fixed("GET", "/api/design/chassis/LHCH0000999/check"), 404, 404, 404, 404)],
    ("GET", "/api/design/chassis/{chassis}/sbml"): [
        Case(fixed("GET", "/api/design/chassis/textbook/sbml"), **PUBLIC)],
    ("POST", "/api/design/{accession}/run"): [
        Case(on_design("POST", "/api/design/{public}/run"),
             anonymous=401, reader=403, curator=202, admin=202),
        Case(on_design("POST", "/api/design/{hidden}/run"),
             anonymous=401, reader=403, curator=202, admin=202)],
    ("POST", "/api/design/{accession}/knockouts"): [
        Case(on_design("POST", "/api/design/{public}/knockouts",
                       {"method": "search", "max_knockouts": 1, "time_limit": 5}),
             anonymous=401, reader=403, curator=202, admin=202)],
    ("GET", "/api/design/{accession}/results"): [
        Case(on_design("GET", "/api/design/{public}/results"), **PUBLIC),
        Case(on_design("GET", "/api/design/{hidden}/results"), **HIDDEN)],
    ("GET", "/api/design/{accession}/fluxes.csv"): [
        Case(on_design("GET", "/api/design/{public}/fluxes.csv"), **PUBLIC)],
    ("GET", "/api/design/{accession}/sbml"): [
        Case(on_design("GET", "/api/design/{public}/sbml"), **PUBLIC),
        Case(on_design("GET", "/api/design/{hidden}/sbml"), **HIDDEN)],
    ("GET", "/api/design/{accession}/sbol"): [
        Case(on_design("GET", "/api/design/{public}/sbol"), **PUBLIC),
        Case(on_design("GET", "/api/design/{hidden}/sbol"), **HIDDEN)],
    ("GET", "/api/design/enzymes"): [Case(fixed("GET", "/api/design/enzymes?q=2.4.1.69"),
                                          **PUBLIC)],
    ("GET", "/api/records/{accession}"): [
        Case(fixed("GET", "/api/records/{w.sample}"), **PUBLIC),
        Case(lambda w, caller: Request("GET", f"/api/records/{w.deposit.lower()}"), **HIDDEN),
        Case(fixed("GET", "/api/records/{w.hidden_sample}"), **HIDDEN)],
    ("GET", "/api/records/{accession}/links"): [
        Case(fixed("GET", "/api/records/{w.strain}/links"), **PUBLIC),
        Case(fixed("GET", "/api/records/{w.deposit}/links"), **HIDDEN)],
    ("GET", "/api/records/{accession}/lineage"): [
        Case(fixed("GET", "/api/records/{w.strain}/lineage"), **PUBLIC),
        Case(fixed("GET", "/api/records/{w.deposit}/lineage"), **HIDDEN)],
    ("GET", "/api/records/{accession}/history"): [
        Case(fixed("GET", "/api/records/{w.strain}/history"), **PUBLIC),
        Case(fixed("GET", "/api/records/{w.deposit}/history"), **HIDDEN)],
    ("GET", "/api/records/{accession}/history.csv"): [
        Case(fixed("GET", "/api/records/{w.strain}/history.csv"), **PUBLIC),
        Case(fixed("GET", "/api/records/{w.deposit}/history.csv"), **HIDDEN)],
    # -- links
    ("POST", "/api/links"): [
        Case(fixed("POST", "/api/links", {"source": "LHSM0000002", "rel": "isolated_from",
                                          "target": "LHST0000001"}), **CREATE)],
    ("DELETE", "/api/links"): [Case(unlink, 401, 403, 204, 204)],
    # -- one kind
    ("GET", "/api/{kind}"): [
        Case(fixed("GET", "/api/samples?where=depth_m<10"), **PUBLIC),
        Case(fixed("GET", "/api/deposit"), **PUBLIC),
        Case(fixed("GET", "/api/widgets"), 404, 404, 404, 404)],
    ("POST", "/api/{kind}"): [
        Case(new_sample, **CREATE),
        Case(fixed("POST", "/api/samples", {"samp_name": "incomplete"}), 401, 403, 422, 422)],
    ("POST", "/api/{kind}/import"): [Case(import_csv, 401, 403, 200, 200)],
    ("GET", "/api/{kind}/export"): [
        Case(fixed("GET", "/api/samples/export?format=csv"), **PUBLIC),
        Case(fixed("GET", "/api/deposits/export?format=json"), **PUBLIC),
        Case(fixed("GET", "/api/widgets/export"), 404, 404, 404, 404)],
    ("GET", "/api/{kind}/{accession}"): [
        Case(fixed("GET", "/api/samples/{w.sample}"), **PUBLIC),
        Case(fixed("GET", "/api/deposits/{w.deposit}"), **HIDDEN),
        Case(fixed("GET", "/api/strains/{w.sample}"), 404, 404, 404, 404)],
    ("PATCH", "/api/{kind}/{accession}"): [
        Case(fixed("PATCH", "/api/samples/{w.sample}", {"description": "checked"}), **WRITE),
        # a member may change its offers and demands only; a deposit it cannot see is 404
        Case(fixed("PATCH", "/api/deposits/{w.deposit}", {"depositor": "Lab B"}), **WRITE,
             member=404)],
    ("PUT", "/api/{kind}/{accession}"): [
        Case(fixed("PUT", "/api/samples/{w.sample}", SAMPLE), **WRITE)],
    # -- catalogue, compound and family search (restricted records filtered per caller)
    ("GET", "/api/search"): [
        Case(fixed("GET", "/api/search?q=Zobellia&kind=strain&depth_max=10"), **PUBLIC),
        Case(fixed("GET", "/api/search?bbox=1,2"), 400, 400, 400, 400)],
    ("GET", "/api/search/compounds"): [
        Case(fixed("GET", "/api/search/compounds?smarts=Cl"), **PUBLIC),
        Case(fixed("GET", "/api/search/compounds"), 400, 400, 400, 400)],
    ("GET", "/api/search/families"): [
        Case(fixed("GET", "/api/search/families?family=GH16&depth_min=1000"), **PUBLIC)],
    ("POST", "/api/search/families"): [Case(lambda w, c: Request(
        "POST", "/api/search/families", files={"hmm": ("susd.hmm", (
            Path(__file__).parent / "data" / "search_catalog" / "SusD_RagB_PF07980.hmm"
        ).read_bytes(), "text/plain")}), **PUBLIC)],
    # -- sequence search: anyone; hits in records the caller may not see are left out
    ("POST", "/api/search/sequence"): [
        Case(fixed("POST", "/api/search/sequence", {"fasta": ">q\nMKVLAAGIVGLLLAAC\n"}),
             **PUBLIC),
        Case(fixed("POST", "/api/search/sequence", {"fasta": ">q\nMK1V\n"}), 422, 422, 422,
             422)],
    # -- breeding: curators import and run; published dataset summaries are public
    ("GET", "/api/breeding/datasets"): [Case(fixed("GET", "/api/breeding/datasets"), **PUBLIC)],
    ("GET", "/api/breeding/datasets/{name}"): [
        Case(fixed("GET", "/api/breeding/datasets/none"), 404, 404, 404, 404)],
    ("POST", "/api/breeding/datasets"): [  # a dry run: checked, nothing stored
        Case(breed("datasets", {"name": "m", "dry_run": "true"}, pedigree="mrode_pedigree.csv"),
             **WRITE)],
    ("POST", "/api/breeding/qc"): [
        Case(breed("qc", {}, genotypes="simfish40.vcf.gz"), **WRITE)],
    ("POST", "/api/breeding/grm"): [
        Case(breed("grm", {"matrix": "A"}, pedigree="mrode_pedigree.csv"), **WRITE)],
    ("POST", "/api/breeding/reml"): [Case(breed("reml", {"model": "pblup"}, **MRODE), **WRITE)],
    ("POST", "/api/breeding/predict"): [
        Case(breed("predict", {"model": "pblup"}, **MRODE), **WRITE)],
    ("POST", "/api/breeding/cv"): [  # refused before a job starts
        Case(breed("cv", {"model": "pblup", "folds": "1"}, **MRODE), 401, 403, 400, 400)],
    ("POST", "/api/breeding/mate"): [
        Case(breed("mate", {"model": "pblup", "matings": "2", "delta_f": "0.05"}, **MRODE),
             **WRITE)],
    ("GET", "/api/breeding/jobs/{job_id}/result.csv"): [
        Case(fixed("GET", "/api/breeding/jobs/" + "0" * 32 + "/result.csv"), 404, 404, 404,
             404)],
    # -- an assembly's sequences and annotation (restricted assemblies: 404 below curator)
    ("POST", "/api/assemblies/{accession}/sequences"): [
        Case(assembly("POST", "sequences", upload=True), **WRITE)],
    ("POST", "/api/assemblies/{accession}/annotate"): [
        Case(assembly("POST", "annotate", body={"steps": ["genes"]}), 401, 403, 202, 202),
        Case(assembly("POST", "annotate", hidden=True, body={"steps": ["genes"]}), 401, 403,
             202, 202)],
    ("GET", "/api/assemblies/{accession}/sequences"): [
        Case(assembly("GET", "sequences"), **PUBLIC),
        Case(assembly("GET", "sequences", hidden=True), **HIDDEN)],
    ("GET", "/api/assemblies/{accession}/annotations/{what}"): [
        Case(assembly("GET", "annotations/hits"), **PUBLIC),
        Case(assembly("GET", "annotations/families", hidden=True), **HIDDEN),
        Case(assembly("GET", "annotations/widgets"), 404, 404, 404, 404)],
    ("GET", "/api/assemblies/{accession}/genes.gff3"): [
        Case(assembly("GET", "genes.gff3"), **PUBLIC),
        Case(assembly("GET", "genes.gff3", hidden=True), **HIDDEN)],
    ("GET", "/api/assemblies/{accession}/genbank"): [
        Case(assembly("GET", "genbank"), **PUBLIC),
        Case(assembly("GET", "genbank", hidden=True), **HIDDEN)],
    ("GET", "/api/assemblies/{accession}/proteins.fasta"): [
        Case(assembly("GET", "proteins.fasta"), **PUBLIC),
        Case(assembly("GET", "proteins.fasta", hidden=True), **HIDDEN)],
}


def test_every_route_has_a_matrix_entry(sqlite_engine: Engine) -> None:
    served = app_routes(make_client(sqlite_engine).app)  # type: ignore[arg-type]
    assert sorted(served - set(MATRIX)) == [], "add these routes to MATRIX"
    assert sorted(set(MATRIX) - served) == [], "these MATRIX routes no longer exist"


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[0]} {r[1]}")
def test_route_gives_each_caller_the_exact_status(world: World, route: tuple[str, str]
                                                  ) -> None:
    wrong = []
    for number, case in enumerate(MATRIX[route]):
        for caller in CALLERS:
            request = case.build(world, caller)
            answer = world.client.request(request.method, request.path, json=request.json,
                                          files=request.files, data=request.data,
                                          headers=world.headers(caller))
            if answer.status_code == 202:  # a started job: finished before the next request,
                # as the in-memory catalog is one connection that it and they would share
                world.client.app.state.bank.jobs.wait(answer.json()["id"], 300)  # type: ignore[attr-defined]
            want = case.expected(caller)
            if answer.status_code != want:
                wrong.append(f"case {number} {caller}: {request.method} {request.path} -> "
                             f"{answer.status_code} (want {want}) {answer.text[:200]}")
            elif want == 401:
                assert answer.headers.get("www-authenticate") == "Bearer"
                assert answer.json()["error"]["code"] == "unauthorized"
            elif want >= 400:
                assert set(answer.json()) == {"error"}
    assert wrong == []


# --- confidentiality ---------------------------------------------------------------------

def visible(world: World, caller: str) -> set[str]:
    """Every accession the caller can learn of by listing, searching, exporting, links,
    lineage or history."""
    client, headers = world.client, world.headers(caller)
    seen: set[str] = set()
    for path in ("/api/records?limit=100", "/api/deposits", "/api/samples",
                 "/api/records?q=CGMCC", "/api/records?q=hidden",
                 "/api/search?q=CGMCC", "/api/search?q=hidden", "/api/search?limit=1000",
                 f"/api/records?where=accession={world.deposit}"):
        seen |= {r["accession"] for r in client.get(path, headers=headers).json()["items"]}
    for kind in ("deposits", "samples", "strains"):
        exported = client.get(f"/api/{kind}/export?format=json", headers=headers).json()
        seen |= {r["accession"] for r in exported}
    for acc in (world.sample, world.strain):
        for path in (f"/api/records/{acc}/history", f"/api/records/{acc}/history.csv"):
            seen |= set(ACCESSION.findall(client.get(path, headers=headers).text))
        for lk in client.get(f"/api/records/{acc}/links", headers=headers).json()["links"]:
            seen |= {lk["source"], lk["target"]}
        tree = client.get(f"/api/records/{acc}/lineage", headers=headers).json()
        seen |= {n["accession"] for n in tree["nodes"]}
        for edge in tree["ancestors"] + tree["descendants"]:
            seen |= {edge["source"], edge["target"]}
    return seen


@pytest.mark.parametrize("caller", ["anonymous", "reader", "member", "broker", "investor"])
def test_confidential_records_are_invisible(world: World, caller: str) -> None:
    client, headers = world.client, world.headers(caller)
    assert visible(world, caller) == {world.sample, world.sample2, world.strain,
                                      world.organisation}
    stats = client.get("/api/stats", headers=headers).json()
    assert stats["counts"]["deposit"] == 0 and stats["counts"]["sample"] == 2
    assert stats["total"] == 4
    # the 404 for a confidential deposit is the same as for one that never existed
    hidden = client.get(f"/api/records/{world.deposit}", headers=headers)
    absent = client.get("/api/records/LHDP0000099", headers=headers)
    assert hidden.status_code == absent.status_code == 404
    assert hidden.json()["error"]["message"].replace(world.deposit, "X") == \
        absent.json()["error"]["message"].replace("LHDP0000099", "X")
    for path in ("/api/records/{a}", "/api/deposits/{a}", "/api/records/{a}/links",
                 "/api/records/{a}/lineage", "/api/records/{a}/history"):
        assert client.get(path.format(a=world.deposit.lower()),
                          headers=headers).status_code == 404


@pytest.mark.parametrize("caller", ["curator", "admin"])
def test_curators_see_confidential_records(world: World, caller: str) -> None:
    client, headers = world.client, world.headers(caller)
    assert visible(world, caller) == {world.sample, world.sample2, world.hidden_sample,
                                      world.strain, world.deposit, world.organisation}
    assert client.get("/api/stats", headers=headers).json()["counts"]["deposit"] == 1
    deposit = client.get(f"/api/deposits/{world.deposit}", headers=headers).json()
    assert deposit["restricted"] is True


def test_a_disabled_users_tokens_stop_working(world: World) -> None:
    client = world.client
    assert client.get("/api/me", headers=world.headers("reader")).json()["username"] == "rui"
    assert client.patch("/api/users/rui", json={"active": False},
                        headers=world.headers("admin")).status_code == 200
    refused = client.get("/api/me", headers=world.headers("reader"))
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("header", ["Basic cnVpOnB3", "Bearer", "Bearer   ", "token abc"])
def test_malformed_authorization_is_401(world: World, header: str) -> None:
    answer = world.client.get("/api/kinds", headers={"Authorization": header})
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"
