"""The shapes of the API's answers, for the OpenAPI document and ``/docs``.

The routes build their answers from the services' own dictionaries (``Record.to_dict()`` and
the like) and send them as they are; these models only describe them, with examples taken
from real marine records (the Ocean Sampling Day 2014 sample, *Zobellia galactanivorans*
DsijT and its proteome). ``tests/test_api_fuzz.py`` (random requests) and
``tests/test_api_document.py`` (a normal session) check that every answer the server gives
validates against the schema its operation documents, and that every example here fits its
own schema.

Models with ``extra="forbid"`` (:class:`Closed`) list every key the answer has, so a key
added to an answer without its schema fails those tests; the others (:class:`Open`) name
the keys a caller can rely on and allow more (breeding reports, the fields of a strain or
sample upstream of a sequence hit).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

WHEN = "2025-03-14T09:26:53.117502+00:00"
LATER = "2025-03-18T15:02:11.604918+00:00"


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def sometimes(description: str = "", **extra: Any) -> Any:
    """A key that some answers leave out (sent as null only when its type says so)."""
    return Field(default=None, description=description or None,
                 json_schema_extra=_no_default, **extra)


def _example(*examples: Any) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": list(examples)})


def _open_example(*examples: Any) -> ConfigDict:
    return ConfigDict(extra="allow", json_schema_extra={"examples": list(examples)})


class Closed(BaseModel):
    """An answer whose keys are all listed."""

    model_config = ConfigDict(extra="forbid")


class Open(BaseModel):
    """An answer whose listed keys are always there; it may hold more."""

    model_config = ConfigDict(extra="allow")


# --- records ---------------------------------------------------------------------------------

SAMPLE_FIELDS = {
    "samp_name": "OSD1_2014-06-21_0m", "project_name": "Ocean Sampling Day 2014",
    "samp_taxon_id": 408172, "collection_date": "2014-06-21",
    "geo_loc_name": "United Kingdom: Western English Channel", "lat_lon": [50.25, -4.22],
    "env_broad_scale": "marine biome [ENVO:00000447]",
    "env_local_scale": "coastal water body [ENVO:02000049]",
    "env_medium": "sea water [ENVO:00002149]", "depth": [0.0, 1.0], "latitude": 50.25,
    "longitude": -4.22, "depth_m": 0.0}
STRAIN_FIELDS = {
    "taxon_name": "Zobellia galactanivorans", "strain_designation": "DsijT",
    "collection_numbers": ["DSM 12802", "CIP 106680"], "organism_type": "Bacteria",
    "restrictions_on_use": "no restriction",
    "nagoya_compliance": "no known Nagoya restrictions", "risk_group": "1",
    "risk_group_scheme": "WHO", "recommended_temperature": [20.0, 25.0],
    "recommended_medium": "Marine agar 2216", "form_of_supply": ["Lyo"],
    "geographic_origin": "France: Roscoff",
    "isolation_habitat": "red alga Delesseria sanguinea", "hazard_rank": 1}
SAMPLE_HEAD = {"accession": "LHSM0000001", "kind": "sample", "name": "OSD1_2014-06-21_0m",
               "restricted": False, "version": 1, "created_at": WHEN, "updated_at": WHEN,
               "created_by": "ana", "updated_by": "ana"}
STRAIN_HEAD = {"accession": "LHST0000001", "kind": "strain",
               "name": "Zobellia galactanivorans DsijT", "restricted": False, "version": 2,
               "created_at": WHEN, "updated_at": LATER, "created_by": "ana",
               "updated_by": "ana"}
SAMPLE_RECORD = {**SAMPLE_HEAD,
                 "identifiers": ["Ocean Sampling Day 2014:OSD1_2014-06-21_0m"],
                 "fields": SAMPLE_FIELDS}
STRAIN_RECORD = {**STRAIN_HEAD, "identifiers": ["DSM 12802", "CIP 106680"],
                 "fields": STRAIN_FIELDS}


class ListedRecord(Closed):
    """A record as lists show it (its identifiers are in the record itself)."""

    model_config = _example({**SAMPLE_HEAD, "fields": SAMPLE_FIELDS})

    accession: str = Field(description="Case-insensitive in paths; LHSM sample, LHST strain, "
                                        "LHDP deposit, LHAS assembly, LHCP compound, LHPT "
                                        "part, LHGP germplasm")
    kind: str = Field(description="sample, strain, deposit, assembly, compound, part or "
                                  "germplasm (GET /api/kinds)")
    name: str = Field(description="A readable name made from the record's fields")
    restricted: bool = Field(description="Visible only to curators and admins")
    version: int = Field(description="Goes up with every change; also the ETag")
    created_at: dt.datetime
    updated_at: dt.datetime
    created_by: str
    updated_by: str
    fields: dict[str, Any] = Field(description="The standard's fields, normalised (numbers, "
                                               "ranges as [low, high], lists), and the "
                                               "computed ones")


class Record(ListedRecord):
    """One record: its fields as the standard names them, normalised, and computed ones."""

    model_config = _example(STRAIN_RECORD, SAMPLE_RECORD)

    identifiers: list[str] = Field(description="External identifiers that make two rows the "
                                               "same record (culture-collection numbers, "
                                               "INSDC accessions …)")


class RecordPage(Closed):
    """One page of records."""

    model_config = _example({
        "items": [{**SAMPLE_HEAD, "fields": SAMPLE_FIELDS}], "total": 212, "limit": 1,
        "offset": 0,
        "next": "http://127.0.0.1:8000/api/samples?where=depth_m%3C10&offset=1&limit=1"})

    items: list[ListedRecord]
    total: int = Field(description="Records matching, over every page")
    limit: int
    offset: int
    next: str | None = Field(description="URL of the next page; null on the last one")


class Link(Closed):
    """A typed link ``source --rel--> target`` (the lineage direction)."""

    model_config = _example({"source": "LHSM0000001", "rel": "isolated_from",
                             "target": "LHST0000001", "created_at": LATER,
                             "created_by": "ana"})

    source: str
    rel: str = Field(description="isolated_from, sequenced_as, deposited_as, produces, "
                                 "mined_from, binned_from, genotyped_as or derived_from")
    target: str
    created_at: dt.datetime
    created_by: str


class SeenLink(Link):
    """A link seen from one of its records."""

    model_config = _example({"source": "LHSM0000001", "rel": "isolated_from",
                             "target": "LHST0000001", "created_at": LATER,
                             "created_by": "ana", "direction": "in"})

    direction: Literal["in", "out"] = Field(description="out: this record is the source")


class Links(Closed):
    """The links into and out of one record."""

    model_config = _example({"accession": "LHST0000001", "links": [
        {"source": "LHSM0000001", "rel": "isolated_from", "target": "LHST0000001",
         "created_at": LATER, "created_by": "ana", "direction": "in"}]})

    accession: str
    links: list[SeenLink]


class Edge(Closed):
    """A link met walking the lineage, ``depth`` links from the record."""

    source: str
    rel: str
    target: str
    depth: int


class Node(Closed):
    """A record the lineage touches."""

    accession: str
    kind: str
    name: str


class Lineage(Closed):
    """Ancestors (upstream: where it came from) and descendants (what came from it)."""

    model_config = _example({
        "accession": "LHST0000001", "kind": "strain", "name": "Zobellia galactanivorans DsijT",
        "ancestors": [{"source": "LHSM0000001", "rel": "isolated_from",
                       "target": "LHST0000001", "depth": 1}],
        "descendants": [{"source": "LHST0000001", "rel": "sequenced_as",
                         "target": "LHAS0000001", "depth": 1}],
        "nodes": [{"accession": "LHAS0000001", "kind": "assembly",
                   "name": "Zobellia galactanivorans DsijT"},
                  {"accession": "LHSM0000001", "kind": "sample", "name": "OSD1_2014-06-21_0m"},
                  {"accession": "LHST0000001", "kind": "strain",
                   "name": "Zobellia galactanivorans DsijT"}]})

    accession: str
    kind: str
    name: str
    ancestors: list[Edge]
    descendants: list[Edge]
    nodes: list[Node]


class Version(Closed):
    """One entry of a record's audit trail."""

    version: int
    action: str = Field(description="create, update, restrict, release, link, unlink, "
                                    "summary …")
    changed_at: dt.datetime
    changed_by: str
    changes: dict[str, Any] = Field(description="field -> [old, new]")
    note: str | None


class History(Closed):
    """Every change of a record, oldest first."""

    model_config = _example({"accession": "LHST0000001", "versions": [
        {"version": 1, "action": "create", "changed_at": WHEN, "changed_by": "ana",
         "changes": {"taxon_name": [None, "Zobellia galactanivorans"],
                     "strain_designation": [None, "DsijT"]}, "note": None},
        {"version": 2, "action": "update", "changed_at": LATER, "changed_by": "ana",
         "changes": {"recommended_temperature": [[25.0, 25.0], [20.0, 25.0]]},
         "note": "range from the description"},
        {"version": 2, "action": "link", "changed_at": LATER, "changed_by": "ana",
         "changes": {"link": [None, "from LHSM0000001 (isolated_from)"]}, "note": None}]})

    accession: str
    versions: list[Version]


class Stats(Closed):
    """Records per kind that the caller may see."""

    model_config = _example({"counts": {"sample": 212, "strain": 38, "deposit": 0,
                                        "assembly": 14, "compound": 9, "part": 6,
                                        "germplasm": 3}, "total": 282})

    counts: dict[str, int]
    total: int


class KindField(Closed):
    """A field of a record kind."""

    name: str
    required: bool
    aliases: list[str] = Field(description="Other column names it is read from (imports)")
    description: str
    group: str
    example: str


class Kind(Closed):
    """A record kind and its standard."""

    name: str
    plural: str
    title: str
    standard: str
    accession_prefix: str
    accession_example: str
    restricted_by_default: bool
    computed: list[str] = Field(description="Fields Lanhai computes (not to be sent)")
    fields: list[KindField]


class LinkRule(Closed):
    """Which kinds a relation may link (sources are upstream)."""

    rel: str
    sources: list[str]
    targets: list[str]
    description: str


class Kinds(Closed):
    """Every record kind with its fields, and the link rules."""

    model_config = _example({
        "kinds": [{"name": "sample", "plural": "samples", "title": "Sample",
                   "standard": "MIxS 7 (core + water/sediment)", "accession_prefix": "LHSM",
                   "accession_example": "LHSM0000001", "restricted_by_default": False,
                   "computed": ["latitude", "longitude", "depth_m"],
                   "fields": [{"name": "samp_name", "required": True,
                               "aliases": ["sample name", "sample_name", "样品名称"],
                               "description": "Sample name, unique within its project "
                                              "(MIxS samp_name).",
                               "group": "MIxS core",
                               "example": "OSD186_2014-06-21_2.4m_NPL022"}]}],
        "link_rules": [{"rel": "isolated_from", "sources": ["sample"],
                        "targets": ["strain", "assembly"],
                        "description": "a strain or assembly obtained from a sample"}]})

    kinds: list[Kind]
    link_rules: list[LinkRule]


# --- search ----------------------------------------------------------------------------------

class SearchHit(Closed):
    """A record in a catalogue search page."""

    accession: str
    kind: str
    name: str
    taxon: str | None
    depth_m: float | None
    event_date: str | None
    latitude: float | None
    longitude: float | None
    availability: str | None = Field(description="Strains: whether they can be ordered")
    has_genome: bool = Field(description="The record or something downstream has a stored "
                                         "genome")
    score: float | None = Field(description="Relevance (null without words)")


class TaxonCount(Closed):
    value: str
    count: int


class DepthCount(Closed):
    from_m: float
    to_m: float | None
    count: int


class PlaceCount(Closed):
    count: int = Field(description="Matches with coordinates")
    bbox: list[float] | None = Field(description="west, south, east, north")


class Facets(Closed):
    """Counts over every match (not only the page)."""

    kind: dict[str, int]
    taxon: list[TaxonCount]
    depth: list[DepthCount]
    year: dict[str, int]
    availability: dict[str, int]
    has_genome: int
    place: PlaceCount
    family: dict[str, int] = sometimes("Matches whose genome hits each facet_family")


class SearchAnswer(Closed):
    """A page of catalogue search hits, the total and the facets."""

    model_config = _example({
        "query": "Zobellia", "total": 2, "limit": 20, "offset": 0, "next_offset": None,
        "sort": "relevance",
        "items": [{"accession": "LHST0000001", "kind": "strain",
                   "name": "Zobellia galactanivorans DsijT",
                   "taxon": "Zobellia galactanivorans", "depth_m": None, "event_date": None,
                   "latitude": None, "longitude": None, "availability": "available",
                   "has_genome": True, "score": 2.0}],
        "facets": {"kind": {"assembly": 1, "strain": 1},
                   "taxon": [{"value": "Zobellia galactanivorans", "count": 1}],
                   "depth": [{"from_m": 0.0, "to_m": 200.0, "count": 0},
                             {"from_m": 4000.0, "to_m": None, "count": 0}],
                   "year": {}, "availability": {"available": 1}, "has_genome": 2,
                   "place": {"count": 0, "bbox": None}}})

    query: str
    total: int
    limit: int
    offset: int
    next_offset: int | None = Field(description="offset of the next page; null on the last")
    sort: str
    items: list[SearchHit]
    facets: Facets


class MarketConcept(Closed):
    """A concept both entries name (or reach), and the words each used."""

    concept: str = Field(description="group:key of the lexicon (family:PL7, "
                                     "substrate:alginate …)")
    en: str
    zh: str
    weight: float = Field(description="its share of the similarity (before normalising)")
    query_says: list[str] = Field(description="the words of the matched entry that named it")
    query_via: str | None = Field(description="the concept those words named, when this "
                                              "one was reached from it; null when named")
    candidate_says: list[str]
    candidate_via: str | None


class MarketConstraint(Closed):
    constraint: str = Field(description="trl, transfer_types, sector, field, offer_expires "
                                        "or demand_expires")
    met: bool
    wanted: Any
    given: Any


class MarketEvidence(Closed):
    """A bank record standing behind the offer (linked evidence_for)."""

    accession: str
    kind: str
    name: str
    title: str = Field(description="the kind's title (Strain, Patent deposit …)")
    #: records it comes from (its sample, its strain)
    from_: list[dict[str, str]] = Field(alias="from")


class MarketMatch(Closed):
    accession: str
    kind: str
    name: str
    title_zh: str | None
    score: float = Field(description="similarity × 0.8 per constraint missed")
    similarity: float = Field(description="cosine of the weighted concept and word vectors")
    shared_concepts: list[MarketConcept]
    shared_words: list[str]
    constraints: list[MarketConstraint]
    evidence: list[MarketEvidence]


class MarketMatches(Closed):
    """Offers ranked for a demand, or demands for an offer, best first, explained."""

    model_config = _example({
        "accession": "LHDM0000001", "kind": "demand", "name": "",
        "candidates_kind": "offer", "candidates": 2,
        "matches": [{
            "accession": "LHOF0000001", "kind": "offer",
            "name": "PL7 alginate lyase for alginate oligosaccharides", "title_zh": None,
            "score": 0.412, "similarity": 0.412,
            "shared_concepts": [{
                "concept": "product:alginate oligosaccharide",
                "en": "alginate oligosaccharide", "zh": "褐藻胶寡糖", "weight": 3.1,
                "query_says": ["褐藻胶寡糖"], "query_via": None,
                "candidate_says": ["alginate oligosaccharide"], "candidate_via": None}],
            "shared_words": [],
            "constraints": [{"constraint": "trl", "met": True, "wanted": ">= 5", "given": 6}],
            "evidence": [{"accession": "LHST0000001", "kind": "strain",
                          "name": "Zobellia galactanivorans DsijT", "title": "Strain",
                          "from": [{"accession": "LHSM0000001", "rel": "isolated_from"}]}]}]})

    accession: str
    kind: str
    name: str
    candidates_kind: str
    candidates: int = Field(description="entries on the market that were ranked")
    matches: list[MarketMatch]


class Broker(Closed):
    """An accredited technology broker."""

    model_config = _example({"username": "wang", "specialities": ["enzyme", "strain"],
                             "level": "senior", "accredited_by": "root",
                             "accredited_at": WHEN, "active": True})

    username: str
    specialities: list[str]
    level: str
    accredited_by: str
    accredited_at: dt.datetime
    active: bool


class Brokers(Closed):
    model_config = _example({"brokers": [{
        "username": "wang", "specialities": ["enzyme", "strain"], "level": "senior",
        "accredited_by": "root", "accredited_at": WHEN, "active": True}]})

    brokers: list[Broker]


class DealEvent(Closed):
    """One change of a deal: who, when, what, the amount (yuan) and documents."""

    id: int
    at: dt.datetime
    actor: str
    kind: str = Field(description="stage, interest, note, service or payment")
    stage: str | None = Field(description="the stage entered (stage events)")
    amount: str | None = Field(description="yuan, two decimals: the contract amount on "
                                           "signing, the sum paid, the service's fee")
    details: dict[str, Any] = Field(description="note, documents, outcome, outcome_type, "
                                                "registration_number, service")


DEAL = {"id": 1, "reference": "DEAL-000001", "offer": "LHOF0000001", "demand": "LHDM0000001",
        "broker": "wang", "stage": "signing", "outcome": None, "outcome_type": None,
        "amount": "1200000.00", "created_at": WHEN, "created_by": "wang", "updated_at": LATER,
        "version": 3, "events": [
            {"id": 1, "at": WHEN, "actor": "wang", "kind": "stage", "stage": "evaluation",
             "amount": None, "details": {}},
            {"id": 2, "at": LATER, "actor": "wang", "kind": "stage", "stage": "signing",
             "amount": "1200000.00", "details": {"documents": ["licence contract.pdf"]}}]}


class Deal(Closed):
    """A deal between an offer and a demand, as its parties, broker and admins see it."""

    model_config = _example(DEAL)

    id: int
    reference: str
    offer: str
    demand: str | None
    broker: str
    stage: str = Field(description="initiation, evaluation, matching, negotiation, signing, "
                                   "registration, payment or closed")
    outcome: str | None = Field(description="won or lost, once closed")
    outcome_type: str | None = Field(description="how a won deal changed hands")
    amount: str | None = Field(description="the signed contract's amount, yuan")
    created_at: dt.datetime
    created_by: str
    updated_at: dt.datetime
    version: int
    events: list[DealEvent]


class Deals(Closed):
    model_config = _example({"deals": [DEAL]})

    deals: list[Deal]


class LedgerLine(Closed):
    broker: str
    deal: str
    event: int
    date: str
    rule: str
    basis: str | None = Field(description="the amount the rule's share is reckoned on, yuan")
    amount: str = Field(description="what the rule pays, yuan")


class Ledger(Closed):
    """The incentive ledger, computed from the deals' events by the rules in force."""

    model_config = _example({
        "rules": [{"name": "contract signed", "on": "stage:signing", "bonus": "0.00",
                   "share": "0.01", "cap": "100000.00"}],
        "lines": [{"broker": "wang", "deal": "DEAL-000001", "event": 2,
                   "date": "2025-03-18", "rule": "contract signed", "basis": "1200000.00",
                   "amount": "12000.00"}],
        "totals": {"wang": "12000.00"}})

    rules: list[dict[str, Any]]
    lines: list[LedgerLine]
    totals: dict[str, str] = Field(description="broker -> total, yuan")


class BrokerPerformance(Closed):
    """A broker's figures, all from the event log."""

    model_config = _example({
        "broker": "wang", "deals": 3, "expressions_of_interest": 4, "signed": 1,
        "registered": 1, "won": 1, "lost": 1, "open": 1, "contract_amount": "1200000.00",
        "services": 1, "days_per_stage": {"initiation": 5.0, "evaluation": 4.5},
        "earned": "44200.00"})

    broker: str
    deals: int
    expressions_of_interest: int
    signed: int
    registered: int
    won: int
    lost: int
    open: int
    contract_amount: str | None
    services: int
    days_per_stage: dict[str, float]
    earned: str | None


RELEASE = {"id": 1, "title": "Qingdao's best results: synthetic biology",
           "title_zh": "青岛好成果 · 合成生物专场", "issued": "2025-03-18",
           "introduction": "Enzymes and strains from the city's marine banks.",
           "introduction_zh": "", "offers": ["LHOF0000001"], "published": True,
           "created_by": "root", "created_at": WHEN, "published_at": LATER, "version": 2}


class ReleaseEntry(Closed):
    """An offer as a release presents it, with who offers it and the bank's records
    behind it."""

    accession: str
    title: str | None
    title_zh: str | None
    summary: str | None
    summary_zh: str | None
    field: str | None
    sector: str | None
    trl: int | None
    transfer_types: list[str]
    patents: list[str]
    organisation: dict[str, str] | None
    evidence: list[dict[str, str]]


class ReleaseSummary(Closed):
    """A release, without its offers' details."""

    id: int
    title: str
    title_zh: str
    issued: str
    introduction: str
    introduction_zh: str
    offers: list[str] = Field(description="the offers the caller may see")
    published: bool
    created_by: str
    created_at: dt.datetime
    published_at: dt.datetime | None
    version: int


class Release(ReleaseSummary):
    """A release of selected offers, with the offers the caller may see."""

    model_config = _example({**RELEASE, "entries": [{
        "accession": "LHOF0000001", "title": "PL7 alginate lyase for oligosaccharides",
        "title_zh": "褐藻胶裂解酶", "summary": None, "summary_zh": None, "field": "enzyme",
        "sector": "food_health", "trl": 6, "transfer_types": ["licence"], "patents": [],
        "organisation": {"accession": "LHOG0000001", "name": "Ocean Institute"},
        "evidence": [{"accession": "LHST0000001", "kind": "strain",
                      "name": "Zobellia galactanivorans DsijT", "title": "Strain"}]}]})

    entries: list[ReleaseEntry] = Field(description="the offers the caller may see, in order")


class Releases(Closed):
    """Releases, newest first."""

    model_config = _example({"releases": [RELEASE]})

    releases: list[ReleaseSummary]


NOTICE = {"id": 7, "created_at": WHEN,
          "subject": "New match · 新的匹配: PL7 alginate lyase ↔ 褐藻胶寡糖制备用酶 (0.52)",
          "body": {"kind": "match", "offer": "LHOF0000001", "demand": "LHDM0000001",
                   "offer_name": "PL7 alginate lyase", "demand_name": "褐藻胶寡糖制备用酶",
                   "score": 0.52, "shared": ["alginate lyase", "alginate"]},
          "read": False, "emailed": True}


class Notice(Closed):
    """A notice to the caller: a new match of their organisation's entry."""

    id: int
    created_at: dt.datetime
    subject: str
    body: dict[str, Any]
    read: bool
    emailed: bool


class Inbox(Closed):
    """The caller's notices, newest first."""

    model_config = _example({"notices": [NOTICE], "unread": 1})

    notices: list[Notice]
    unread: int


class Sweep(Closed):
    """What one look for new matches did."""

    model_config = _example({"entries": 3, "notified": 4, "emailed": 4})

    entries: int = Field(description="published entries written since the last look")
    notified: int = Field(description="notices made")
    emailed: int = Field(description="e-mails sent")


NEED = {"id": 1, "organisation": "LHOG0000001", "title": "AlyZ7 pilot line",
        "amount": "5000000.00", "stage": "A", "use_of_funds": "a 5 t/year pilot line",
        "offer": "LHOF0000001", "status": "open", "created_by": "sun", "created_at": WHEN,
        "updated_at": WHEN}


class FinancingNeed(Closed):
    """A financing need (investors, admins and the organisation's members only)."""

    model_config = _example(NEED)

    id: int
    organisation: str
    title: str
    amount: str = Field(description="yuan")
    stage: str
    use_of_funds: str
    offer: str | None
    status: str = Field(description="open or closed")
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime


class FinancingNeeds(Closed):
    model_config = _example({"needs": [NEED]})

    needs: list[FinancingNeed]


class CompoundHit(Closed):
    accession: str
    name: str
    inchikey: str
    canonical_smiles: str
    similarity: float = sometimes("Tanimoto similarity (similarity searches only)")


class CompoundAnswer(Closed):
    """Compounds matching a structure."""

    model_config = _example({"mode": "similar", "total": 1, "items": [
        {"accession": "LHCP0000003", "name": "kainic acid",
         "inchikey": "VLSMHEGGTFMBBZ-OOZYFLPDSA-N",
         "canonical_smiles": "C=C(C)[C@H]1C[NH2+][C@H](C(=O)[O-])[C@H]1CC(=O)O",
         "similarity": 0.81}]})

    mode: Literal["inchikey", "smiles", "smarts", "substructure", "similar"]
    total: int
    items: list[CompoundHit]


FAMILY_HIT = {
    "assembly": "LHAS0000001", "protein_id": "ZOBELLIA_3628_[Zobellia_galactanivorans_DsiJ]",
    "family": "GH16", "family_accession": None, "pack": "marine-cazy", "category": "cazy",
    "description": "marine CAZy family GH16", "evalue": 2.13e-76, "score": 255.19,
    "ali_from": 53, "ali_to": 303, "hmm_from": 1, "hmm_to": 236, "coverage": 1.0,
    "substrates": ["agar", "porphyran", "carrageenan", "laminarin"],
    "assembly_name": "Zobellia galactanivorans DsijT", "strain": "LHST0000001",
    "strain_name": "Zobellia galactanivorans DsijT", "availability": None,
    "sample": "LHSM0000001", "taxon": "Zobellia galactanivorans", "depth_m": 0.0,
    "latitude": 50.25, "longitude": -4.22, "event_date": "2014-06-21"}


class FamilyHit(Closed):
    """A protein hitting a family (one row per domain), with where it comes from: the
    nearest strain and sample upstream of its assembly, and taxon, depth, place and date
    from the nearest record that has them."""

    model_config = _example(FAMILY_HIT)

    assembly: str
    protein_id: str
    family: str
    family_accession: str | None
    pack: str | None = Field(description="null for an uploaded HMM")
    category: str | None
    description: str | None
    evalue: float | None
    score: float | None
    ali_from: int | None
    ali_to: int | None
    hmm_from: int | None
    hmm_to: int | None
    coverage: float | None
    substrates: list[str] | None
    assembly_name: str | None
    strain: str | None
    strain_name: str | None
    availability: str | None
    sample: str | None
    taxon: str | None
    depth_m: float | None
    latitude: float | None
    longitude: float | None
    event_date: str | None


class FamilyAnswer(Closed):
    """Proteins hitting protein families."""

    model_config = _example({"total": 14, "returned": 1, "assemblies_searched": 1,
                             "proteins_searched": None, "items": [FAMILY_HIT]})

    total: int
    returned: int
    assemblies_searched: int
    proteins_searched: int | None = Field(description="Uploaded HMMs: proteins searched (the "
                                                      "E-values' Z)")
    items: list[FamilyHit]


class QueryCount(Closed):
    id: str
    length: int
    hits: int


class IndexInfo(Closed):
    """What was searched (the segments the caller may see)."""

    db: Literal["proteins", "contigs"]
    segments: int
    residues: int
    sequences: int
    pending: int = Field(description="Assemblies not indexed yet (lanhai search index)")


class HitAssembly(Closed):
    accession: str
    name: str
    taxon_name: str | None
    assembly_type: str | None


class HitGene(Closed):
    """Where a called gene's protein lies (proteins of genomes only)."""

    contig: str
    start: int
    end: int
    strand: int


class Upstream(Open):
    """A strain or sample upstream of a hit: accession, name and those of its fields that
    are set (a strain's taxon, collection numbers and access terms; a sample's place, depth,
    date and medium, with lat, lon and depth_m)."""

    accession: str
    name: str


class HitLineage(Closed):
    """The hit's assembly, and the strains and samples upstream the caller may see."""

    assembly: HitAssembly
    strains: list[Upstream]
    samples: list[Upstream]


class SequenceHit(Closed):
    """One hit of a query sequence (MMseqs2's columns), with the lineage of its assembly."""

    query: str
    assembly: str
    target: str = Field(description="The protein or contig id")
    evalue: float = Field(description="Over everything the caller may see")
    bits: float
    identity: float = Field(description="0..1")
    alignment_length: int
    mismatches: int
    gap_opens: int
    query_start: int
    query_end: int
    target_start: int
    target_end: int
    query_length: int
    target_length: int
    gene: HitGene = sometimes("Proteins of genomes: where the gene lies")
    lineage: HitLineage


class SequenceSearchAnswer(Closed):
    """Hits of each query sequence, best first."""

    model_config = _example({
        "db": "proteins", "mode": "default",
        "queries": [{"id": "agaA", "length": 539, "hits": 1}], "evalue": 0.001,
        "min_identity": 0.0, "max_hits": 10,
        "index": {"db": "proteins", "segments": 1, "residues": 1642187, "sequences": 4738,
                  "pending": 0},
        "hits": [{"query": "agaA", "assembly": "LHAS0000001",
                  "target": "ZOBELLIA_1017_[Zobellia_galactanivorans_DsiJ]", "evalue": 0.0,
                  "bits": 1104.0, "identity": 1.0, "alignment_length": 539,
                  "mismatches": 0, "gap_opens": 0, "query_start": 1, "query_end": 539,
                  "target_start": 1, "target_end": 539, "query_length": 539,
                  "target_length": 539,
                  "lineage": {"assembly": {"accession": "LHAS0000001",
                                           "name": "Zobellia galactanivorans DsijT",
                                           "taxon_name": None,
                                           "assembly_type": "isolate genome"},
                              "strains": [{"accession": "LHST0000001",
                                           "name": "Zobellia galactanivorans DsijT",
                                           "collection_numbers": ["DSM 12802",
                                                                  "CIP 106680"]}],
                              "samples": []}}]})

    db: Literal["proteins", "contigs"]
    mode: Literal["default", "sensitive"]
    queries: list[QueryCount]
    evalue: float
    min_identity: float
    max_hits: int
    index: IndexInfo
    hits: list[SequenceHit]


# --- jobs ------------------------------------------------------------------------------------

class Progress(Closed):
    done: int
    total: int
    what: str


JOB = {"id": "9580ccb9ab9e483793b0a04231756c82", "kind": "annotate", "owner": "ana",
       "params": {"accession": "LHAS0000001", "packs": ["marine-cazy", "sus"],
                  "steps": ["genes", "families", "clusters"], "max_gap": 2, "index": True},
       "status": "running", "progress": {"done": 0, "total": 1, "what": "LHAS0000001"},
       "result": None, "error": None, "created_at": "2025-03-18T15:02:11+00:00",
       "started_at": "2025-03-18T15:02:11+00:00", "finished_at": None}


class Job(Closed):
    """A background job; follow it with GET /api/jobs/{id} until it is done or failed."""

    model_config = _example(JOB)

    id: str
    kind: str = Field(description="annotate, search-sequence, breed-cv, breed-predict …")
    owner: str
    params: dict[str, Any]
    status: Literal["queued", "running", "done", "failed", "interrupted"]
    progress: Progress
    result: dict[str, Any] | None = Field(description="When done: what the route answers at "
                                                      "once for small requests")
    error: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


class Jobs(Closed):
    """The caller's jobs, newest first."""

    model_config = _example({"jobs": [JOB]})

    jobs: list[Job]


# --- users and tokens ------------------------------------------------------------------------

Role = Literal["reader", "member", "investor", "broker", "curator", "admin"]


class Me(Closed):
    """Who the caller is."""

    model_config = _example({"username": "ana", "role": "curator", "can_write": True,
                             "can_see_restricted": True, "display_name": "Ana Li"})

    username: str
    role: Literal["anonymous", "reader", "member", "investor", "broker", "curator", "admin"]
    can_write: bool
    can_see_restricted: bool
    display_name: str = sometimes("Signed-in callers only")
    organisation: str = sometimes("The organisation (LHOG…) a user acts for, if any")


class User(Closed):
    """A user account."""

    model_config = _example({"username": "ana", "role": "curator", "display_name": "Ana Li",
                             "active": True, "created_at": WHEN, "organisation": None,
                             "email": None})

    username: str
    role: Role
    display_name: str
    active: bool
    created_at: dt.datetime
    organisation: str | None = Field(description="The organisation (LHOG…) the user acts "
                                                 "for, if any")
    email: str | None = Field(description="Where the market's notices are e-mailed")


class Users(Closed):
    model_config = _example({"users": [{"username": "ana", "role": "curator",
                                        "display_name": "Ana Li", "active": True,
                                        "created_at": WHEN, "organisation": None,
                                        "email": None},
                                       {"username": "sun", "role": "member",
                                        "display_name": "Sun Hai", "active": True,
                                        "created_at": WHEN, "organisation": "LHOG0000001",
                                        "email": "sun@example.org"}]})

    users: list[User]


class AuthEvent(Closed):
    at: dt.datetime
    event: str = Field(description="sign_in, sign_in_failed, throttled, sign_out, "
                                   "password_changed or sessions_ended")
    username: str
    address: str
    detail: str


class SignInLog(Closed):
    """Sign-in events, newest first."""

    model_config = _example({"events": [{"at": LATER, "event": "sign_in", "username": "ana",
                                         "address": "192.0.2.15", "detail": ""}]})

    events: list[AuthEvent]


TOKEN = {"name": "import pipeline", "prefix": "lh_GQIoDGX", "username": "ana",
         "created_at": WHEN, "expires_at": None, "revoked_at": None,
         "last_used_at": LATER, "status": "active"}


class Token(Closed):
    """An API token as it may be shown: never its secret."""

    model_config = _example(TOKEN)

    name: str
    prefix: str = Field(description="The secret's first characters (to revoke it)")
    username: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None
    status: Literal["active", "expired", "revoked"]


class CreatedToken(Token):
    """A new token: its secret is in this answer once, and never again."""

    model_config = _example({**TOKEN, "last_used_at": None,
                             "token": "lh_GQIoDGXgJsilIxffYfUrIl1zQn2u70cFvXMDl_3I22g"})

    token: str = Field(description="Send it as Authorization: Bearer <token>")


class Tokens(Closed):
    model_config = _example({"tokens": [TOKEN]})

    tokens: list[Token]


# --- imports ---------------------------------------------------------------------------------

class Problem(Closed):
    """What is wrong, where, and how to fix it."""

    reason: str
    fix: str = sometimes("How to fix it")
    field: str = sometimes("The field (or form field) concerned")
    value: str = sometimes("The value as given")
    column: str = sometimes("The table column")
    record: str = sometimes("The record (accession or sequence id)")
    file: str = sometimes("The file")
    row: int = sometimes("Row of a table, or line of a file")


class ImportReport(Closed):
    """What a bulk import did (or, with dry_run, would do)."""

    model_config = _example({
        "kind": "sample", "file": "osd2014_samples.csv", "rows": 150, "created": 148,
        "updated": 0, "unchanged": 2, "dry_run": False, "committed": True,
        "ignored_columns": ["Notes"],
        "header": ["Sample name", "Project", "Date", "Latitude", "Longitude", "Depth",
                   "Notes"],
        "sources": {"samp_name": "Sample name", "project_name": "Project",
                    "collection_date": "Date", "lat_lon": "Latitude + Longitude",
                    "depth": "Depth", "samp_taxon_id": "--set samp_taxon_id"},
        "problem_count": 0, "problems": [],
        "accessions": ["LHSM0000001", "LHSM0000002"]})

    kind: str
    file: str
    rows: int
    created: int
    updated: int
    unchanged: int
    dry_run: bool
    committed: bool
    ignored_columns: list[str] = Field(description="Columns no field reads")
    header: list[str] = Field(description="The file's column headers, in order")
    sources: dict[str, str] = Field(description="field -> what gives it: a column header, "
                                                "'A + B' for combined columns, '--set field'")
    problem_count: int
    problems: list[Problem]
    accessions: list[str] = Field(description="Created or updated, in row order (left out "
                                              "past 10,000 rows)")


#: the error codes the server sends, by status
ERROR_CODES = {
    400: "usage (a bad parameter, filter or option), bad_json (a body that is not JSON)",
    401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    409: "conflict, stale_version", 410: "gone", 413: "too_large",
    422: "invalid (bad data: every problem listed), invalid_request (a request that does "
         "not fit this document)",
    429: "too_many_attempts", 500: "internal", 502: "download_failed", 503: "busy",
    507: "no_space"}


class ErrorBody(Closed):
    """What went wrong: a code to branch on, a message to show, and for bad data every
    problem found."""

    code: str = Field(description="; ".join(f"{status}: {codes}"
                                            for status, codes in ERROR_CODES.items()),
                      examples=["invalid", "not_found", "stale_version"])
    message: str = Field(description="One sentence for a person; it says what to do")
    problems: list[Problem] = sometimes("Every problem found (what, where, why, how to fix)")
    current_version: int = sometimes("stale_version: the version stored now (also the "
                                     "answer's ETag); read the record again and retry")
    retry_after: int = sometimes("busy, too_many_attempts: seconds to wait (also the "
                                 "Retry-After header)")


class Error(Closed):
    """Every error the API answers has this shape (bulk imports add the report)."""

    model_config = _example(
        {"error": {"code": "invalid", "message": "the sample is not valid",
                   "problems": [{"reason": "is outside -90..90 degrees",
                                 "fix": "check that latitude and longitude are not swapped",
                                 "field": "lat_lon", "value": "95 10"}]}},
        {"error": {"code": "not_found", "message": "no record 'LHSM0009999'"}},
        {"error": {"code": "stale_version",
                   "message": "LHSM0000001 is at version 3, not 2: someone changed it since "
                              "you read it; nothing was written: read it again and repeat "
                              "the change",
                   "current_version": 3}})

    error: ErrorBody


class ImportRefused(Closed):
    """The error envelope, with the import's report; nothing was written."""

    model_config = _example({
        "error": {"code": "invalid", "message": "osd2014_samples.csv has 1 problem; "
                                                "nothing was written",
                  "problems": [{"reason": "is outside -90..90 degrees",
                                "fix": "check that latitude and longitude are not swapped",
                                "field": "lat_lon", "value": "95 10", "row": 12,
                                "file": "osd2014_samples.csv"}]},
        "report": {"kind": "sample", "file": "osd2014_samples.csv", "rows": 150,
                   "created": 0, "updated": 0, "unchanged": 0, "dry_run": False,
                   "committed": False, "ignored_columns": [],
                   "header": ["samp_name", "lat_lon"],
                   "sources": {"samp_name": "samp_name", "lat_lon": "lat_lon"},
                   "problem_count": 1,
                   "problems": [{"reason": "is outside -90..90 degrees",
                                 "fix": "check that latitude and longitude are not swapped",
                                 "field": "lat_lon", "value": "95 10", "row": 12,
                                 "file": "osd2014_samples.csv"}], "accessions": []}})

    error: ErrorBody
    report: ImportReport


class ExportedRecord(Record):
    """A record in a JSON export, with its links."""

    model_config = _example({**STRAIN_RECORD, "links": [
        {"source": "LHSM0000001", "rel": "isolated_from", "target": "LHST0000001",
         "created_at": LATER, "created_by": "ana"}]})

    links: list[Link]


# --- sequences -------------------------------------------------------------------------------

class SequenceSummary(Closed):
    """The statistics that go onto the assembly record (null: not known for this kind, or
    before gene calling)."""

    sequence_kind: Literal["genome", "proteome"]
    genome_size: int = sometimes("Genomes: bases in all")
    contig_count: int = sometimes("Genomes: contigs (or scaffolds)")
    n50: int | None
    gc_percent: float | None
    largest_contig: int | None
    gene_count: int | None = Field(description="Genes called (genomes, after annotation)")
    protein_count: int | None = Field(description="Proteins (given, or called)")
    sequence_contig_n50: int | None = Field(
        None, description="Genomes: N50 of the contigs, the sequences split at runs of N")
    gap_count: int | None = Field(None, description="Genomes: runs of N inside the sequences")


class SetAside(Closed):
    """A record left out of an ingest run with set_aside_bad."""

    id: str = Field(description="The sequence id (or where its header is, when it has none)")
    line: int | None = Field(description="Line of its header in the file")
    reason: str


PROTEOME = {"kind": "proteome", "file": "Zobellia_galactanivorans_DsiJ.faa.gz",
            "sha256": "3a5913a32a54a17253d1b90860f86e53b63cc18a70565b975bd7162c631294a7",
            "format": "fasta", "compressed": True,
            "summary": {"sequence_kind": "proteome", "protein_count": 4738,
                        "gene_count": None, "n50": None, "gc_percent": None,
                        "largest_contig": None, "sequence_contig_n50": None,
                        "gap_count": None},
            "ingested_at": "2025-03-18T15:01:52+00:00"}


class Ingested(Closed):
    """What an ingest stored."""

    model_config = _example(
        {**PROTEOME, "accession": "LHAS0000001", "status": "stored"},
        {**PROTEOME, "accession": "LHAS0000001", "status": "stored",
         "summary": {**PROTEOME["summary"], "protein_count": 4732},  # type: ignore[dict-item]
         "set_aside": [{"id": "ZOBELLIA_812", "line": 5021,
                        "reason": "stray character '#': not an amino-acid (IUPAC) code; "
                                  "stray character '?': not an amino-acid (IUPAC) code"}],
         "set_aside_count": 1})

    kind: Literal["genome", "proteome"]
    file: str
    sha256: str
    format: Literal["fasta", "genbank"]
    compressed: bool
    summary: SequenceSummary
    ingested_at: dt.datetime = sometimes("When the file was stored")
    accession: str
    status: Literal["stored", "replaced", "unchanged"] = Field(
        description="unchanged: the same file was already stored")
    set_aside: list[SetAside] = sometimes(
        "Records left out (ingest with set_aside_bad); the others were stored")
    set_aside_count: int = sometimes("How many were set aside in all (the list holds the "
                                     "first 1,000)")


class SequenceStats(Closed):
    """What is stored for an assembly."""

    model_config = _example({"accession": "LHAS0000001",
                             "name": "Zobellia galactanivorans DsijT",
                             "assembly_type": "isolate genome", **PROTEOME, "genes": None})

    accession: str
    name: str
    assembly_type: str | None
    kind: Literal["genome", "proteome"]
    file: str
    sha256: str
    format: Literal["fasta", "genbank"]
    compressed: bool
    summary: SequenceSummary
    ingested_at: dt.datetime = sometimes("When the file was stored")
    set_aside: list[SetAside] = sometimes("Records left out when the file was stored")
    set_aside_count: int = sometimes("How many were set aside in all")
    genes: dict[str, Any] | None = Field(description="The gene-calling marker (mode, counts, "
                                                     "tool); null before annotation")


class FamilyCount(Closed):
    """A family found in an assembly's proteins: how many proteins and domains hit it."""

    pack: str
    category: str = Field(description="The pack's category: cazy, pul, plastics, pfam …")
    family: str
    family_accession: str | None = Field(description="Pfam accession, when the family has one")
    description: str | None
    proteins: int
    domains: int
    best_evalue: float | None
    substrates: list[str] | None = Field(description="Polysaccharides the family acts on "
                                                     "(CAZymes), or plastics")
    pack_version: str | None = Field(None, description="Version of the pack that called it")


class PackUsed(Closed):
    """A profile pack an annotation used."""

    name: str
    version: str
    digest: str = Field(description="Hash of the pack's profiles and cut-offs")


class Substrates(Closed):
    """Marine polysaccharides and the CAZyme families acting on them."""

    model_config = _example({
        "accession": "LHAS0000001",
        "substrates": {"agar": {"GH117": 5, "GH16": 14}, "fucoidan": {"GH29": 15, "GH95": 7}},
        "lines": ["agar: 5 GH117, 14 GH16", "fucoidan: 15 GH29, 7 GH95"],
        "packs": [{"digest": "3eaf916b5e157890", "name": "marine-cazy", "version": "1.0"}]})

    accession: str
    substrates: dict[str, dict[str, int]] = Field(description="substrate -> family -> proteins")
    lines: list[str] = Field(description="The same, one readable line per substrate")
    packs: list[PackUsed]


class Locus(Closed):
    """A polysaccharide utilisation locus (PUL), in gene order."""

    locus_id: str
    type: str | None = Field(description="e.g. susCD (a SusC/SusD pair with CAZymes)")
    contig: str | None
    start: int | None
    end: int | None
    first_protein: str | None
    last_protein: str | None
    gene_count: int | None
    proteins: list[str] | None
    roles: list[str] | None
    families: list[str] | None
    cazyme_count: int | None
    sulfatase_count: int | None
    susc_susd_pairs: int | None
    substrate: str | None = Field(description="The substrate its CAZymes point to")
    substrate_evidence: str | None
    substrate_confidence: float | None = Field(
        None, description="Confidence of the substrate call, 0 to 1: the winner's share of "
                          "the CAZymes' weighted vote, lowered when few genes support it "
                          "(null for loci found before it was recorded)")


class Cluster(Closed):
    """A biosynthetic gene cluster (GECCO)."""

    cluster_id: str
    contig: str | None
    start: int | None
    end: int | None
    type: str | None = Field(description="GECCO's type: Polyketide, NRP, Terpene, RiPP …")
    type_probabilities: str | None
    average_probability: float | None
    max_probability: float | None
    proteins: list[str] | None
    domains: list[str] | None


class DomainHit(Closed):
    """A protein's hit to a family profile, one row per domain (pyhmmer's columns)."""

    protein_id: str = Field(description="The id in the input file (proteome) or the called "
                                        "gene's <contig>_<n>")
    pack: str
    category: str | None
    family: str
    family_accession: str | None
    description: str | None
    evalue: float | None
    score: float | None
    bias: float | None
    ali_from: int | None
    ali_to: int | None
    hmm_from: int | None
    hmm_to: int | None
    hmm_length: int | None
    coverage: float | None = Field(description="Share of the profile the domain covers")
    substrates: list[str] | None


class PlasticHit(Closed):
    """A hit of a plastic-degrading enzyme family (the plastics packs)."""

    protein_id: str
    pack: str
    family: str
    substrates: list[str] | None = Field(description="Plastics the family degrades")
    evalue: float | None
    score: float | None
    ali_from: int | None
    ali_to: int | None
    coverage: float | None
    pack_version: str | None = Field(None, description="Version of the pack that called it")


def _rows(name: str, what: str) -> dict[str, Any]:
    return {"type": "array", "items": {"$ref": f"#/components/schemas/{name}"},
            "description": what}


#: annotations/{what}: families, substrates, loci, clusters, hits or plastics
ANNOTATIONS = {
    "description": "families: a list of FamilyCount; substrates: Substrates; loci: a list "
                   "of Locus; clusters: a list of Cluster; hits: a list of DomainHit; "
                   "plastics: a list of PlasticHit",
    "anyOf": [
        _rows("FamilyCount", "families"), {"$ref": "#/components/schemas/Substrates"},
        _rows("Locus", "loci"), _rows("Cluster", "clusters"), _rows("DomainHit", "hits"),
        _rows("PlasticHit", "plastics")],
    "examples": [[{"pack": "marine-cazy", "category": "cazy", "family": "GH16",
                   "family_accession": None, "description": "marine CAZy family GH16",
                   "proteins": 14, "domains": 14, "best_evalue": 2.13e-76,
                   "substrates": ["agar", "porphyran", "carrageenan", "laminarin"],
                   "pack_version": "1.0"}]]}


# --- breeding --------------------------------------------------------------------------------
# Breeding answers are analysis reports: the keys below are documented (and checked when
# present); a report may hold more (bivariate models add covariance matrices, say). A number
# that is not finite is sent as null.

Number = float | None


class DatasetCounts(Open):
    """What a dataset holds."""

    genotyped_animals: int = sometimes("Animals with genotypes")
    snps: int = sometimes("SNPs (markers)")
    pedigree_animals: int = sometimes("Animals in the pedigree")
    phenotyped_animals: int = sometimes("Animals with a phenotype")
    traits: list[str] = sometimes("Traits with phenotypes")
    germplasm_linked: int = sometimes("Animals linked to a germplasm record")


DATASET = {"dataset": "croaker", "published": True,
           "counts": {"genotyped_animals": 100, "snps": 300, "pedigree_animals": 100,
                      "phenotyped_animals": 80, "traits": ["weight", "fillet_yield"],
                      "germplasm_linked": 100},
           "germplasm": {"LHGP0000001": 100}, "factors": ["tank", "sex"],
           "covariates": ["age_days"], "created_by": "ana",
           "created_at": "2025-03-18T15:06:40+00:00"}


class Dataset(Open):
    """An imported breeding dataset's summary (never its genotypes or phenotypes)."""

    model_config = _open_example(DATASET)

    dataset: str
    published: bool = Field(description="Readable by anyone (else curators only)")
    counts: DatasetCounts
    germplasm: dict[str, int] = Field(description="Germplasm accession -> animals")
    factors: list[str] = sometimes("Columns of the phenotypes read as classes")
    covariates: list[str] = sometimes("Columns of the phenotypes read as numbers")
    created_by: str = sometimes("Who imported it")
    created_at: dt.datetime = sometimes("When")


class Datasets(Closed):
    """The datasets the caller may see."""

    model_config = _example({"datasets": [DATASET]})

    datasets: list[Dataset]


class DatasetStored(Open):
    """An imported dataset (or, with dry_run, what it would hold)."""

    model_config = _open_example({k: v for k, v in DATASET.items()
                                  if k not in ("factors", "covariates")})

    dataset: str
    counts: DatasetCounts
    published: bool
    germplasm: dict[str, int] = sometimes("Germplasm accession -> animals")


class QcStep(Open):
    """One filter of quality control and what it removed."""

    step: str
    rule: str = sometimes("The rule applied, in words")
    animals_in: int = sometimes()
    snps_in: int = sometimes()
    animals_removed: int = sometimes()
    snps_removed: int = sometimes()
    removed: list[str] = sometimes("The ids removed")
    animals_out: int = sometimes()
    snps_out: int = sometimes()


class QcReport(Open):
    """Quality control: each filter step with what it removed."""

    model_config = _open_example({
        "steps": [{"step": "maf", "rule": "minor allele frequency >= 0.05",
                   "animals_in": 100, "snps_in": 300, "animals_removed": 0,
                   "snps_removed": 113, "removed": ["snp1203", "snp1742361"],
                   "animals_out": 100, "snps_out": 187}],
        "mendelian_conflicts": [],
        "duplicates": [{"animal1": "G2F06-02", "animal2": "G2F06-04", "identity": 1.0,
                        "snps_compared": 183}],
        "animals": 100, "snps": 187})

    steps: list[QcStep]
    mendelian_conflicts: list[dict[str, Any]] = sometimes("Parent-offspring pairs whose "
                                                          "genotypes conflict")
    duplicates: list[dict[str, Any]] = sometimes("Pairs of animals with (nearly) identical "
                                                 "genotypes")
    animals: int = Field(description="Animals left")
    snps: int = Field(description="SNPs left")


class MatrixSummary(Open):
    """A relationship matrix's size and summary."""

    model_config = _open_example({"matrix": "G", "snps": 258, "animals": 100,
                                  "mean_diagonal": 0.955, "mean_off_diagonal": -0.0096})

    matrix: str = Field(description="G, A, A-inverse or H-inverse")
    animals: int
    snps: int = sometimes("SNPs used (G, H)")
    mean_diagonal: Number = sometimes()
    mean_off_diagonal: Number = sometimes()


class VarianceComponents(Open):
    """REML variance components and heritability (bivariate: covariance matrices, genetic
    correlation)."""

    model_config = _open_example({
        "model": "gblup", "traits": ["weight"], "notes": [], "records": 80,
        "sigma_g": 46.59, "sigma_e": 39.26, "h2": 0.543, "h2_se": 0.145, "loglik": -273.26,
        "method": "spectral", "iterations": 1, "converged": True,
        "fixed": {"intercept": 47.94, "tank=T2": 1.21, "sex=M": 0.42, "age_days": -0.15}})

    model: str = Field(description="pblup, gblup or ssgblup")
    traits: list[str]
    records: int = Field(description="Phenotype records used")
    notes: list[str] = Field(description="What the fit had to do (animals dropped …)")
    sigma_g: Number = sometimes("Genetic variance")
    sigma_e: Number = sometimes("Residual variance")
    h2: Number = sometimes("Heritability")
    h2_se: Number = sometimes("Its standard error")
    loglik: Number = sometimes("REML log-likelihood")
    method: str = sometimes("spectral or ai")
    iterations: int = sometimes()
    converged: bool = sometimes()
    fixed: dict[str, Number] = sometimes("Fixed effects (intercept, classes, covariates)")


class Ranked(Open):
    """An animal's breeding value."""

    rank: int
    id: str
    gebv: Number = Field(description="Genomic (or pedigree) estimated breeding value")
    reliability: Number = sometimes()
    accuracy: Number = sometimes()
    pev: Number = sometimes("Prediction error variance")
    phenotyped: bool = sometimes()


class Predictions(Open):
    """Breeding values, ranked."""

    model_config = _open_example({
        "model": "pblup", "trait": "weight", "notes": [], "records": 80,
        "variance_components": {"sigma_g": 55.46, "sigma_e": 41.41, "h2": 0.573},
        "fixed": {"intercept": -0.49, "tank=T2": 0.53},
        "ranking": [{"rank": 1, "id": "G2F10-04", "gebv": 13.41, "reliability": 0.584,
                     "pev": 25.96, "phenotyped": True}]})

    model: str = Field(description="pblup, gblup, ssgblup, bayesb or bayesr")
    trait: str
    ranking: list[Ranked]
    notes: list[str] = sometimes()
    records: int = sometimes()
    variance_components: dict[str, Any] = sometimes("As REML answers them")
    fixed: dict[str, Number] = sometimes()


class Mating(Open):
    """A planned mating."""

    mating: int
    sire: str
    dam: str
    progeny_inbreeding: Number = sometimes()
    expected_progeny_value: Number = sometimes()


class Selection(Open):
    """Optimal contributions of the parents under the kinship limit."""

    parents: list[dict[str, Any]] = sometimes("Each parent's id and contribution")
    kinship_limit: Number = sometimes()
    expected_gain: Number = sometimes()
    status: str = sometimes("optimal, or why not")


class MatingPlan(Open):
    """Optimal contributions under the kinship limit, and the matings."""

    model_config = _open_example({
        "model": "pblup", "trait": "weight", "candidates": 100,
        "matings": [{"mating": 1, "sire": "G2F01-03", "dam": "G1F05-04",
                     "progeny_inbreeding": 0.0, "expected_progeny_value": 7.91}],
        "mean_progeny_inbreeding": 0.0, "random_mating_inbreeding": 0.0266,
        "selection": {"parents": [{"id": "G2F10-04", "contribution": 0.147}],
                      "kinship_limit": 0.0637, "expected_gain": 6.39, "status": "optimal"},
        "notes": []})

    model: str
    trait: str
    matings: list[Mating]
    candidates: int = sometimes("Selection candidates")
    mean_progeny_inbreeding: Number = sometimes()
    random_mating_inbreeding: Number = sometimes()
    selection: Selection = sometimes()
    notes: list[str] = sometimes()


#: every model above, for the OpenAPI document's components
MODELS: tuple[type[BaseModel], ...] = (
    Error, Record, RecordPage, Links, Lineage, History, Stats, Kinds, SearchAnswer,
    CompoundAnswer, FamilyAnswer, SequenceSearchAnswer, Job, Jobs, Me, User, Users, SignInLog,
    Token, CreatedToken, Tokens, ImportReport, ImportRefused, ExportedRecord, Ingested,
    SequenceStats, FamilyCount, Substrates, Locus, Cluster, DomainHit, PlasticHit, Dataset,
    Datasets, DatasetStored, QcReport, MatrixSummary, VarianceComponents, Predictions,
    MatingPlan)
