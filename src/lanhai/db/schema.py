"""Catalog tables (SQLAlchemy Core). Records of every kind share one table; their standard
fields live in a JSON column, and the columns that searches filter on are copied out and
indexed. See docs/decisions/0001-catalog-schema.md."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

records = Table(
    "records", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("accession", String(16), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("name", String(300), nullable=False, default=""),
    Column("fields", JSON, nullable=False),
    Column("restricted", Boolean, nullable=False, default=False),
    Column("taxon", String(300), nullable=True),
    Column("latitude", Float, nullable=True),
    Column("longitude", Float, nullable=True),
    Column("depth_m", Float, nullable=True),
    Column("event_date", String(32), nullable=True),
    Column("search_text", Text, nullable=False, default=""),
    Column("version", Integer, nullable=False, default=1),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("updated_by", String(100), nullable=False),
    Index("ix_records_kind_restricted", "kind", "restricted"),
    Index("ix_records_kind_name", "kind", "name"),
    Index("ix_records_taxon", "taxon"),
    Index("ix_records_depth_m", "depth_m"),
    Index("ix_records_event_date", "event_date"),
    # every column the map's grid query reads (lanhai.store.dashboard.map_cells)
    Index("ix_records_map", "latitude", "longitude", "restricted", "depth_m", "kind",
          "accession", "name", "event_date"),
    Index("ix_records_created_at", "created_at"),
)

#: external identifiers (collection numbers, INSDC accessions …); one record per identifier
identifiers = Table(
    "identifiers", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("record_id", Integer, ForeignKey("records.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("key", String(300), nullable=False),
    Column("value", String(300), nullable=False),
    UniqueConstraint("kind", "key"),
    Index("ix_identifiers_record_id", "record_id"),
)

links = Table(
    "links", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source_id", Integer, ForeignKey("records.id", ondelete="CASCADE"), nullable=False),
    Column("rel", String(32), nullable=False),
    Column("target_id", Integer, ForeignKey("records.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(100), nullable=False),
    UniqueConstraint("source_id", "rel", "target_id"),
    Index("ix_links_target_id", "target_id"),
)

#: audit trail: one row per change of a record (create, update, link, unlink)
versions = Table(
    "versions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("record_id", Integer, ForeignKey("records.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("action", String(16), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("changed_by", String(100), nullable=False),
    Column("changes", JSON, nullable=False),
    Column("note", String(500), nullable=True),
    Index("ix_versions_record_id_version", "record_id", "version"),
    Index("ix_versions_changed_at", "changed_at"),
)

#: last accession number handed out per kind
accession_counters = Table(
    "accession_counters", metadata,
    Column("kind", String(16), primary_key=True),
    Column("last_number", Integer, nullable=False),
)

users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(100), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False, default=""),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(200), nullable=True),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    #: the organisation record (LHOG…) a member acts for (an investor or broker may name one)
    Column("organisation", String(16), nullable=True),
    #: where the market's notices are e-mailed (when an SMTP server is configured)
    Column("email", String(320), nullable=True),
)

api_tokens = Table(
    "api_tokens", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("last_used_at", DateTime(timezone=True), nullable=True),
)

#: web sign-in sessions, kept on the server so that signing out, a password or role change
#: and disabling the user end them; the cookie holds a random secret stored only as a hash
sessions = Table(
    "sessions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("address", String(64), nullable=False, default=""),
    Index("ix_sessions_user_id", "user_id"),
)

#: the sign-in audit log: every sign-in (succeeded, failed, refused while throttled), sign-out
#: and password or session change, with the address it came from; throttling counts from it
auth_events = Table(
    "auth_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("event", String(32), nullable=False),
    Column("username", String(100), nullable=False),
    Column("address", String(64), nullable=False),
    Column("detail", String(200), nullable=False, default=""),
    Index("ix_auth_events_username_at", "username", "at"),
    Index("ix_auth_events_address_at", "address", "at"),
)

# --- the technology market ------------------------------------------------------------------

#: technology brokers accredited by an admin: their specialities (fields of the market) and
#: level
brokers = Table(
    "brokers", metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("specialities", JSON, nullable=False),
    Column("level", String(16), nullable=False),
    Column("accredited_by", String(100), nullable=False),
    Column("accredited_at", DateTime(timezone=True), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
)

#: a broker's deal between an offer and a demand; its terms are seen only by the parties,
#: the broker and admins
deals = Table(
    "deals", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("offer", String(16), nullable=False),
    Column("demand", String(16), nullable=True),
    Column("broker", String(100), nullable=False),
    Column("stage", String(16), nullable=False),
    Column("outcome", String(8), nullable=True),
    Column("outcome_type", String(16), nullable=True),
    #: the signed contract's amount, in CNY fen (1/100 yuan)
    Column("amount_fen", BigInteger, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
    Index("ix_deals_broker", "broker"),
    Index("ix_deals_offer", "offer"),
    Index("ix_deals_demand", "demand"),
)

#: every change of a deal: stage entered, expression of interest, note, paid service,
#: payment; who, when, amount (fen), documents and the rest in ``details``
deal_events = Table(
    "deal_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("deal_id", Integer, ForeignKey("deals.id", ondelete="CASCADE"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("stage", String(16), nullable=True),
    Column("amount_fen", BigInteger, nullable=True),
    Column("details", JSON, nullable=False),
    Index("ix_deal_events_deal_id", "deal_id", "id"),
)

#: releases of selected offers ("青岛好成果 · 合成生物专场"): composed and published by admins
releases = Table(
    "releases", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("title", String(300), nullable=False),
    Column("title_zh", String(300), nullable=False, default=""),
    #: the day it is issued (ISO date)
    Column("issued", String(10), nullable=False),
    Column("introduction", Text, nullable=False, default=""),
    Column("introduction_zh", Text, nullable=False, default=""),
    #: the accessions of the offers it presents, in order
    Column("offers", JSON, nullable=False),
    Column("published", Boolean, nullable=False, default=False),
    Column("created_by", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=True),
    Column("version", Integer, nullable=False),
)

#: what the market tells a user: a new match of their organisation's entry; at most once per
#: user and subject (``key``: "match:<offer>:<demand>")
notifications = Table(
    "notifications", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(100), nullable=False),
    Column("key", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("body", JSON, nullable=False),
    Column("read_at", DateTime(timezone=True), nullable=True),
    Column("emailed_at", DateTime(timezone=True), nullable=True),
    Column("email_attempts", Integer, nullable=False, default=0),
    UniqueConstraint("username", "key"),
    Index("ix_notifications_username_id", "username", "id"),
)

#: when the market last looked for new matches to notify (one row)
market_sweeps = Table(
    "market_sweeps", metadata,
    Column("id", Integer, primary_key=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
)

#: financing needs organisations post (amount, stage, use of funds): seen only by investors,
#: admins and the organisation's members
financing_needs = Table(
    "financing_needs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("organisation", String(16), nullable=False),
    Column("title", String(300), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("stage", String(16), nullable=False),
    Column("use_of_funds", Text, nullable=False),
    #: the offer the money would take forward, if any
    Column("offer", String(16), nullable=True),
    Column("status", String(8), nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_financing_needs_organisation", "organisation"),
)

# --- programme monitoring -------------------------------------------------------------------

#: admins' edits of the programme's indicators: each edit is a new version holding the whole
#: definition (the shipped file is version 0 of every indicator it lists)
indicator_versions = Table(
    "indicator_versions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("definition", JSON, nullable=False),
    Column("changed_by", String(100), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    UniqueConstraint("key", "version"),
)

#: values reporting units submit for reported indicators, with evidence; only approved ones
#: count. ``value`` is the indicator's value at the end of ``period`` (a quarter, 2026-Q3)
indicator_updates = Table(
    "indicator_updates", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("indicator", String(64), nullable=False),
    Column("period", String(7), nullable=False),
    Column("value", Float, nullable=False),
    #: the day the value was observed, within the period
    Column("as_of", String(10), nullable=False),
    #: links, record accessions and documents (name, sha256) behind the value
    Column("evidence", JSON, nullable=False),
    Column("note", Text, nullable=False, default=""),
    #: the reporting unit: an organisation (LHOG…) or, for the programme office, empty
    Column("unit", String(16), nullable=True),
    Column("status", String(10), nullable=False),
    Column("submitted_by", String(100), nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("reviewed_by", String(100), nullable=True),
    Column("reviewed_at", DateTime(timezone=True), nullable=True),
    Column("review_note", Text, nullable=True),
    Column("version", Integer, nullable=False),
    Index("ix_indicator_updates_indicator_period", "indicator", "period"),
    Index("ix_indicator_updates_unit", "unit"),
)

#: closed quarters: the frozen snapshot of every indicator (canonical JSON) and its digest,
#: once over every record (the programme office's) and once over the records anyone may see
#: (the public's), so a published figure never counts what a reader may not see
programme_periods = Table(
    "programme_periods", metadata,
    Column("period", String(7), primary_key=True),
    Column("closed_at", DateTime(timezone=True), nullable=False),
    Column("closed_by", String(100), nullable=False),
    Column("snapshot", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("public_snapshot", Text, nullable=False),
    Column("public_sha256", String(64), nullable=False),
)

#: the records behind each computed value of a closed period (accessions, in order)
period_evidence = Table(
    "period_evidence", metadata,
    Column("period", String(7), ForeignKey("programme_periods.period", ondelete="CASCADE"),
           primary_key=True),
    Column("indicator", String(64), primary_key=True),
    Column("accessions", JSON, nullable=False),
)

# --- genome projects ----------------------------------------------------------------------------

#: genome projects (the 10,000 fish genomes, the marine microbial genomes …): their goal,
#: taxon scope, target count and dates, and a count reported from outside the bank
genome_projects = Table(
    "genome_projects", metadata,
    Column("key", String(64), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("name_zh", String(300), nullable=False, default=""),
    Column("goal", Text, nullable=False, default=""),
    Column("taxon_scope", String(300), nullable=False, default=""),
    Column("target_count", Integer, nullable=True),
    Column("started", String(10), nullable=True),
    Column("ends", String(10), nullable=True),
    #: the first status that counts a species as done (default insdc_open)
    Column("done_status", String(32), nullable=False),
    #: a count the project reports itself (species sequenced so far), with its day and source
    Column("reported_done", Integer, nullable=True),
    Column("reported_on", String(10), nullable=True),
    Column("reported_source", Text, nullable=True),
    Column("created_by", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
)

#: the species a project means to sequence (one row per project and taxon)
genome_targets = Table(
    "genome_targets", metadata,
    Column("project", String(64), ForeignKey("genome_projects.key", ondelete="CASCADE"),
           primary_key=True),
    Column("taxid", Integer, primary_key=True),
    Column("scientific_name", String(300), nullable=False),
    #: rank -> name (class, order, family, genus …)
    Column("lineage", JSON, nullable=False),
    Column("priority", Integer, nullable=True),
    Column("added_by", String(100), nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
)

#: every status a species reached in a project, with its day and evidence, in order
genome_status_events = Table(
    "genome_status_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project", String(64), ForeignKey("genome_projects.key", ondelete="CASCADE"),
           nullable=False),
    Column("taxid", Integer, nullable=False),
    Column("status", String(32), nullable=False),
    Column("day", String(10), nullable=False),
    #: bank accessions (LH…) and INSDC accessions behind the step
    Column("evidence", JSON, nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("allow_skip", Boolean, nullable=False, default=False),
    Column("allow_back", Boolean, nullable=False, default=False),
    #: read from a status list (GoaT), which says where a species stands but not since when
    Column("from_list", Boolean, nullable=False, default=False),
    Column("actor", String(100), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_genome_status_events_project_taxid", "project", "taxid", "id"),
)

# --- compound screening -------------------------------------------------------------------------

#: an assay: one target (or organism) and endpoint whose results are imported from tables
assays = Table(
    "assays", metadata,
    Column("key", String(64), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("target", String(300), nullable=False, default=""),
    Column("endpoint", String(64), nullable=False, default=""),
    Column("description", Text, nullable=False, default=""),
    #: confidential results: only those who may see restricted records see the assay
    Column("restricted", Boolean, nullable=False, default=False),
    #: SHA-256 over the results in canonical order (the models trained on them cite it)
    Column("data_hash", String(64), nullable=False, default=""),
    Column("result_count", Integer, nullable=False, default=0),
    Column("created_by", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
)

#: an assay's results as imported: one row per measurement, its value normalised (nM, pX)
#: where it converts (the whole row in ``data``, see lanhai.screening.assays.AssayRow)
assay_results = Table(
    "assay_results", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("assay", String(64), ForeignKey("assays.key", ondelete="CASCADE"), nullable=False),
    #: the row of the imported file, and the file's SHA-256
    Column("line", Integer, nullable=False),
    Column("file_sha256", String(64), nullable=False),
    #: the compound's identity (its InChIKey when the structure is known)
    Column("compound_key", String(300), nullable=False),
    #: the bank's compound record, when the row names one or its structure matches one
    Column("compound", String(16), nullable=True),
    Column("endpoint", String(64), nullable=False),
    Column("data", JSON, nullable=False),
    Index("ix_assay_results_assay_compound_key", "assay", "compound_key"),
)

#: a trained model: a versioned artefact (its bytes under models/ named by their SHA-256)
#: with the hash of the data it learnt from and its validation
screening_models = Table(
    "screening_models", metadata,
    Column("key", String(100), primary_key=True),
    Column("assay", String(64), ForeignKey("assays.key", ondelete="RESTRICT"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("algorithm", String(32), nullable=False),
    Column("task", String(16), nullable=False),
    #: what the model predicts (pIC50 … or the share of actives at a pX threshold)
    Column("target", JSON, nullable=False),
    Column("data_hash", String(64), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("training_size", Integer, nullable=False),
    Column("validation", JSON, nullable=False),
    Column("about", JSON, nullable=False),
    Column("restricted", Boolean, nullable=False, default=False),
    Column("created_by", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("assay", "version"),
)


#: background jobs of a bank whose catalogue is on a server database (PostgreSQL), so that
#: every server behind one address sees them (lanhai.store.jobs.DatabaseJobStore); an
#: embedded bank keeps its jobs as files (decision 0007)
jobs = Table(
    "jobs", metadata,
    Column("id", String(32), primary_key=True),
    Column("owner", String(100), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", String(32), nullable=False),
    #: the whole job as the API shows it, with the runner's host and pid
    Column("document", JSON, nullable=False),
    #: when the runner last said it is alive (seconds since the epoch)
    Column("beat", Float, nullable=False),
    Index("ix_jobs_created", "created_at"),
)
