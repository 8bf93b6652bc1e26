"""Patent deposit under the Budapest Treaty: lifecycle, retention clock, confidentiality."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from lanhai.errors import Problem
from lanhai.kinds import vocab
from lanhai.kinds.fields import COMMON_FIELDS, Field, Fields, KindSpec, unique
from lanhai.kinds.vocab import FieldError, ValueContext

BUDAPEST = "Budapest Treaty (Rules 6, 7, 9, 10, 11)"

#: keys each lifecycle event must have, and which are dates
EVENT_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "receipts": (("date", "form"), ("date",)),
    "viability_tests": (("date", "result"), ("date",)),
    "furnishings": (("date", "recipient"), ("date",)),
}
VIABILITY_RESULTS = ("viable", "not viable")


def events(kind: str) -> vocab.Normaliser:
    """A JSON list of lifecycle events (receipts, viability tests, furnished samples)."""
    required, dates = EVENT_KEYS[kind]

    def normalise(value: Any, ctx: ValueContext, name: str) -> list[dict[str, Any]]:
        items = value
        if isinstance(value, str):
            try:
                items = json.loads(value)
            except json.JSONDecodeError:
                raise FieldError("is not a JSON list of events",
                                 f'write [{{"date": "2024-01-05", "{required[1]}": "…"}}]'
                                 ) from None
        if isinstance(items, dict):
            items = [items]
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise FieldError("is not a list of events", f"each event needs {', '.join(required)}")
        out = []
        for event in items:
            missing = [k for k in required if vocab.is_blank(event.get(k))]
            if missing:
                raise FieldError(f"has an event without {', '.join(missing)}",
                                 f"each event needs {', '.join(required)}")
            clean = {k: vocab.text(v, ctx, name) for k, v in event.items() if v is not None}
            for key in dates:
                clean[key] = vocab.full_date(clean[key], ctx, name)
            if kind == "viability_tests":
                clean["result"] = vocab.choice(VIABILITY_RESULTS, {"yes": "viable",
                                                                   "no": "not viable"})(
                    clean["result"], ctx, name)
            out.append(clean)
        return sorted(out, key=lambda e: e["date"])

    return normalise


FIELDS = (
    Field("deposit_accession", required=True, missing_ok=False, group="Deposit",
          aliases=("accession number", "deposit number", "保藏号"),
          description="Accession number given by the depositary authority.",
          example="CGMCC No. 12345"),
    Field("depositary", required=True, missing_ok=False, group="Deposit",
          aliases=("ida", "international depositary authority", "保藏单位"),
          description="International Depositary Authority holding it.", example="CGMCC"),
    Field("deposit_date", vocab.full_date, required=True, missing_ok=False, group="Deposit",
          aliases=("date of deposit", "保藏日期"), description="Date of deposit (Rule 6).",
          example="2021-05-17"),
    Field("depositor", required=True, group="Deposit", aliases=("deposited by", "保藏人"),
          description="Depositor's name and address."),
    Field("rule_6_1_statement", required=True, group="Deposit",
          aliases=("rule 6.1 statement", "written statement"),
          description="The Rule 6.1 written statement (identification, properties, mixture)."),
    Field("taxon_name", group="Deposit", aliases=("scientific description", "organism"),
          description="Scientific description or proposed taxonomic designation."),
    Field("patent_reference", group="Patent", aliases=("patent application", "patent number"),
          description="Patent application or grant the deposit supports."),
    Field("receipts", events("receipts"), group="Lifecycle",
          description='Receipts issued (Rule 7): [{"date": "…", "form": "BP/4"}].'),
    Field("viability_tests", events("viability_tests"), group="Lifecycle",
          description='Viability statements (Rule 10): [{"date": "…", "result": "viable"}].'),
    Field("furnishings", events("furnishings"), group="Lifecycle",
          description='Samples furnished (Rule 11): [{"date": "…", "recipient": "…", '
                      '"rule": "11.3"}].'),
    *COMMON_FIELDS,
)


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def retention_end(deposit_date: str, furnishings: list[dict[str, Any]]) -> str:
    """Rule 9.1: 30 years from deposit, and at least 5 years after the last furnished sample."""
    end = _add_years(dt.date.fromisoformat(deposit_date), 30)
    if furnishings:
        last = max(dt.date.fromisoformat(f["date"]) for f in furnishings)
        end = max(end, _add_years(last, 5))
    return end.isoformat()


def derive(fields: Fields) -> list[Problem]:
    problems = []
    for key in ("receipts", "viability_tests", "furnishings"):
        for event in fields.get(key, []):
            if event["date"] < fields["deposit_date"]:
                problems.append(Problem(
                    reason=f"has an event dated {event['date']}, before the deposit date",
                    fix="check the dates", field=key, value=event["date"]))
    fields["retention_end"] = retention_end(fields["deposit_date"], fields.get("furnishings", []))
    tests = fields.get("viability_tests", [])
    fields["last_viability"] = tests[-1]["result"] if tests else None
    return problems


def identifiers(fields: Fields) -> list[str]:
    acc = vocab.collection_number(fields.get("deposit_accession", ""))
    return unique([acc, *fields.get("identifiers", [])])


SPEC = KindSpec(
    name="deposit", prefix="LHDP", title="Patent deposit", standard=BUDAPEST, fields=FIELDS,
    name_field="deposit_accession", identifiers=identifiers, derive=derive,
    restricted_by_default=True, computed=("retention_end", "last_viability"),
    taxon_field="taxon_name",
)
