"""What several test modules share: the people who act, real records to create, and banks
and clients built the way the application builds them (every service over a real database
and a temporary data folder). Test modules import from here, never from each other."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from lanhai.app import create_app
from lanhai.bank import Bank
from lanhai.cli.main import main
from lanhai.exports import ExportOptions
from lanhai.imports import ImportOptions, ImportReport
from lanhai.services.access import Actor
from lanhai.services.catalog import CatalogService
from lanhai.services.exports import ExportService
from lanhai.services.imports import ImportService
from lanhai.services.users import TOKEN_PREFIX, hash_password, hash_token
from lanhai.settings import Settings
from lanhai.store import users as user_store
from lanhai.store.database import Database
from lanhai.store.uploads import UploadStore

#: the team's public data beside the repository (../shared/data); tests that read it skip
#: without it, so that a bare clone passes
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"

CURATOR = Actor("ana", "curator")
READER = Actor("rui", "reader")
ADMIN = Actor("root", "admin")

#: the type strain of Zobellia galactanivorans (DSM 12802 = CIP 106680)
ZOBELLIA = {
    "taxon_name": "Zobellia galactanivorans", "strain_designation": "DsijT",
    "collection_numbers": "DSM 12802|CIP 106680", "organism_type": "Bacteria",
    "restrictions_on_use": "1", "nagoya_compliance": "1", "risk_group": "1",
    "risk_group_scheme": "WHO", "recommended_temperature": "20-25",
    "recommended_medium": "Marine agar 2216", "form_of_supply": "Lyo",
    "geographic_origin": "France: Roscoff",
    "isolation_habitat": "red alga Delesseria sanguinea",
}
#: an Ocean Sampling Day 2014 sample
SAMPLE = {
    "samp_name": "OSD1_2014-06-21_0m", "project_name": "Ocean Sampling Day 2014",
    "samp_taxon_id": "408172", "collection_date": "2014-06-21",
    "geo_loc_name": "United Kingdom: Western English Channel", "lat_lon": "50.25 -4.22",
    "env_broad_scale": "marine biome [ENVO:00000447]",
    "env_local_scale": "coastal water body [ENVO:02000049]",
    "env_medium": "sea water [ENVO:00002149]", "depth": "0-1 m",
}
#: a patent deposit (confidential by default)
DEPOSIT = {
    "deposit_accession": "CGMCC No. 99999", "depositary": "CGMCC",
    "deposit_date": "2020-02-29", "depositor": "Lanhai test lab",
    "rule_6_1_statement": "pure culture",
}


def database(engine: Engine) -> Database:
    """The store's database object over a test engine."""
    return Database(engine.url.render_as_string(hide_password=False), engine)


def bank_on(engine: Engine, data_dir: Path | None = None, **settings: Any) -> Bank:
    """Every service over ``engine`` and a data folder (a new temporary one by default)."""
    folder = data_dir or Path(tempfile.mkdtemp(prefix="lanhai-test-"))
    conf = Settings(data_dir=folder, **settings)
    return Bank.over(conf, database(engine))


def catalog_on(engine: Engine) -> CatalogService:
    """The catalog service alone over ``engine``."""
    return CatalogService(database(engine))


def exports_on(engine: Engine, options: ExportOptions | None = None) -> ExportService:
    """Exports over ``engine``'s catalog."""
    return ExportService(catalog_on(engine), options or ExportOptions())


def run_import(engine: Engine, actor: Actor, path: Path, options: ImportOptions,
               progress: Callable[[int], None] | None = None) -> ImportReport:
    """Import a table into ``engine``'s catalog as ``actor`` (`lanhai import` does this)."""
    uploads = UploadStore(Path(tempfile.gettempdir()) / "lanhai-test-uploads")
    return ImportService(catalog_on(engine), uploads).run(actor, path, options, progress)


def make_client(engine: Engine, settings: Settings | None = None) -> TestClient:
    """A test client for a bank on ``engine`` (files in a fresh temporary folder unless
    ``settings`` name one)."""
    settings = settings or Settings()
    if settings.data_dir == Settings().data_dir:
        settings = replace(settings, data_dir=Path(tempfile.mkdtemp(prefix="lanhai-test-")))
    return TestClient(create_app(bank=Bank.over(settings, database(engine))))


def add_token(engine: Engine, username: str, name: str = "test",
              expires_at: dt.datetime | None = None) -> str:
    """A token for ``username`` (any expiry, a past one too); its secret."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with database(engine).write() as conn:
        assert user_store.insert_token(conn, username, name, secret[:10], hash_token(secret),
                                       expires_at) is not None
    return secret


def create_user(engine: Engine, username: str, role: str, password: str | None = None,
                organisation: str | None = None) -> None:
    with database(engine).write() as conn:
        user_store.insert_user(conn, username, role, "",
                               hash_password(password) if password else None, organisation)


def add_user(engine: Engine, username: str, role: str, password: str | None = None,
             organisation: str | None = None) -> dict[str, str]:
    """Create a user with a token; the Authorization header to send."""
    create_user(engine, username, role, password, organisation)
    return {"Authorization": f"Bearer {add_token(engine, username)}"}


def run_json(capsys: pytest.CaptureFixture[str], args: list[str], code: int = 0) -> Any:
    """Run ``lanhai ARGS --json``; its JSON output (the exit code must be ``code``)."""
    capsys.readouterr()
    assert main([*args, "--json"]) == code, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def new_assembly(capsys: pytest.CaptureFixture[str], name: str,
                 assembly_type: str = "isolate genome") -> str:
    """Create an assembly record from the command line; its accession."""
    made = run_json(capsys, ["create", "assembly", "--set", f"assembly_name={name}",
                             "--set", f"assembly_type={assembly_type}",
                             "--set", "seq_meth=Illumina HiSeq 2000",
                             "--set", "assembly_software=SPAdes;3.15.5"])
    return str(made["accession"])


def breed(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, object, str]:
    """Run ``lanhai breed ARGS``: exit code, output (JSON when it is), standard error."""
    code = main(["breed", *args])
    cap = capsys.readouterr()
    try:
        out = json.loads(cap.out)
    except json.JSONDecodeError:
        out = cap.out
    return code, out, cap.err


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route the application serves (HEAD aside), except the web
    pages (lanhai.web)."""
    return _routes(app) - web_routes(app)


def web_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of the web pages' routes (lanhai.web)."""
    return _routes(app, lambda route: getattr(getattr(route, "endpoint", None), "__module__",
                                              "").startswith("lanhai.web"))


def _routes(app: FastAPI, keep: Callable[[Any], bool] = lambda route: True
            ) -> set[tuple[str, str]]:
    try:
        from fastapi.routing import iter_route_contexts  # type: ignore[attr-defined]
    except ImportError:  # FastAPI where routes are flat
        contexts: Iterator[Any] = iter(app.routes)
    else:
        contexts = iter_route_contexts(app.routes)
    found = set()
    for route in contexts:
        if not keep(route):
            continue
        for method in getattr(route, "methods", None) or ():
            if method != "HEAD":
                found.add((method, route.path))
    return found


def finished_job(client: Any, location: str, headers: dict[str, str], seconds: float = 120
                 ) -> dict[str, Any]:
    """The state of the job at ``location`` once it is done or failed (read every half
    second: each signed-in read records the token's use)."""
    import time

    deadline = time.monotonic() + seconds
    while True:
        state: dict[str, Any] = client.get(location, headers=headers).json()
        if state["status"] in ("done", "failed") or time.monotonic() > deadline:
            return state
        time.sleep(0.5)


def copy_of_demo(built: tuple[Path, dict[str, Any]], into: Path) -> Path:
    """A copy of the built demo's folder (the ``built_demo`` fixture) under ``into``, for
    one test module to change."""
    import shutil

    target = into / "demo-data"
    shutil.copytree(built[0], target)
    return target
