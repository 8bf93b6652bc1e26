"""CLI commands `lanhai market …`: the technology market from the shell."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from lanhai.cli.common import bank, emit, handles_errors, json_option, local_actor
from lanhai.kinds.market import FIELDS_OF_WORK
from lanhai.market.deals import (
    EVENT_KINDS,
    OUTCOME_TYPES,
    OUTCOMES,
    SERVICES,
    STAGES,
    ledger_totals,
    yuan,
)
from lanhai.services.deals import LEVELS
from lanhai.services.financing import STAGES as FINANCING_STAGES


def register(cli: click.Group) -> None:
    """Add `market` to ``cli``."""
    cli.add_command(market)


@click.group("market")
def market() -> None:
    """The technology market: offers (成果), demands (需求), their matches, brokers and
    deals."""


@market.command("match")
@click.argument("accession")
@click.option("--top", default=10, show_default=True, help="How many matches to show.")
@json_option
@handles_errors
def match(accession: str, top: int, as_json: bool) -> None:
    """Rank the offers for a demand (LHDM…), or the demands for an offer (LHOF…), in
    either language, each with its score and why: the concepts both name, the bank's
    records behind the offer, and the conditions met or missed."""
    with bank() as opened:
        result = opened.market.match(local_actor(), accession, top)

    def text() -> None:
        click.echo(f"{result['accession']}  {result['name']}: {len(result['matches'])} of "
                   f"{result['candidates']} {result['candidates_kind']}s")
        for rank, row in enumerate(result["matches"], 1):
            click.echo(f"{rank:>3}. {row['accession']}  {row['score']:.3f}  "
                       f"{row['name'] or row.get('title_zh') or ''}")
            shared = ", ".join(_concept(c) for c in row["shared_concepts"][:4])
            if shared:
                click.echo(f"       shared: {shared}")
            if row["shared_words"]:
                click.echo(f"       words: {', '.join(row['shared_words'][:6])}")
            missed = [c["constraint"] for c in row["constraints"] if not c["met"]]
            if missed:
                click.echo(f"       missed: {', '.join(missed)}")
            for item in row["evidence"]:
                click.echo(f"       evidence: {item['accession']} {item['kind']} "
                           f"{item['name']}")

    emit(result, as_json, text)


def _concept(concept: dict[str, Any]) -> str:
    label = concept["en"] if concept["en"] == concept["zh"] else \
        f"{concept['en']} ({concept['zh']})"
    said = "/".join(dict.fromkeys([*concept["query_says"], *concept["candidate_says"]]))
    return f"{label} [{said}]"


# --- brokers ---------------------------------------------------------------------------------

@market.group("broker")
def broker() -> None:
    """Accredited technology brokers (技术经纪人)."""


@broker.command("accredit")
@click.argument("username")
@click.option("--speciality", "specialities", multiple=True, required=True,
              type=click.Choice(FIELDS_OF_WORK), help="A field the broker knows (repeatable).")
@click.option("--level", required=True, type=click.Choice(LEVELS))
@click.option("--inactive", is_flag=True, help="Suspend the accreditation.")
@json_option
@handles_errors
def accredit(username: str, specialities: tuple[str, ...], level: str, inactive: bool,
             as_json: bool) -> None:
    """Accredit USERNAME (a user with the broker role), or change the accreditation."""
    with bank() as opened:
        found = opened.deals.accredit(local_actor(), username, list(specialities), level,
                                      not inactive)
    emit(found.to_dict(), as_json, f"{found.username}: {found.level} broker for "
                                   f"{', '.join(found.specialities)}"
                                   + ("" if found.active else " (suspended)"))


@broker.command("list")
@json_option
@handles_errors
def list_brokers(as_json: bool) -> None:
    """The accredited brokers."""
    with bank() as opened:
        found = opened.deals.brokers(local_actor())

    def text() -> None:
        for b in found:
            click.echo(f"{b.username}\t{b.level}\t{', '.join(b.specialities)}\t"
                       f"{'active' if b.active else 'suspended'}")

    emit([b.to_dict() for b in found], as_json, text)


@broker.command("performance")
@click.argument("username")
@json_option
@handles_errors
def broker_performance(username: str, as_json: bool) -> None:
    """A broker's figures, from the deals' event log."""
    with bank() as opened:
        figures = opened.deals.performance(local_actor(), username)

    def text() -> None:
        for key, value in figures.items():
            if isinstance(value, dict):
                value = ", ".join(f"{k} {v} d" for k, v in value.items()) or "-"
            click.echo(f"{key.replace('_', ' ')}: {value}")

    emit(figures, as_json, text)


@market.command("ledger")
@click.option("--broker", "broker_name", default=None, help="Only this broker's lines.")
@json_option
@handles_errors
def incentive_ledger(broker_name: str | None, as_json: bool) -> None:
    """The incentive ledger: what the rules (LANHAI_INCENTIVES_FILE) pay each broker,
    line by line, computed from the deals' events."""
    with bank() as opened:
        lines = opened.deals.ledger(local_actor(), broker_name)

    def text() -> None:
        for line in lines:
            click.echo(f"{line.on}\t{line.broker}\t{line.deal}\t{line.rule}\t"
                       f"{yuan(line.amount_fen)}")
        for name, total in ledger_totals(lines).items():
            click.echo(f"total {name}: {yuan(total)} yuan", err=True)

    emit([line.to_dict() for line in lines], as_json, text)


# --- deals -----------------------------------------------------------------------------------

@market.group("deal")
def deal() -> None:
    """Deals: a match taken by a broker from initiation to close."""


@deal.command("open")
@click.argument("offer")
@click.argument("demand")
@click.option("--broker", "broker_name", default=None, help="The broker (an admin opening it "
                                                            "for one).")
@click.option("--note", default="", help="A first note.")
@click.option("--on", "on", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="The day it began (default today).")
@json_option
@handles_errors
def open_deal(offer: str, demand: str, broker_name: str | None, note: str,
              on: dt.datetime | None, as_json: bool) -> None:
    """Take OFFER and DEMAND (both on the market) into a deal."""
    with bank() as opened:
        made = opened.deals.open(local_actor(), offer, demand, broker=broker_name, note=note,
                                 on=on.date() if on else None)
    emit(made.to_dict(), as_json, f"{made.reference} (id {made.id}): {made.offer} for "
                                  f"{made.demand}, broker {made.broker}, at {made.stage}")


@deal.command("list")
@json_option
@handles_errors
def list_deals(as_json: bool) -> None:
    """Every deal (on the bank's own machine)."""
    with bank() as opened:
        found = opened.deals.of(local_actor())

    def text() -> None:
        for d in found:
            click.echo(f"{d.id}\t{d.reference}\t{d.offer}\t{d.demand}\t{d.broker}\t{d.stage}"
                       f"\t{d.outcome or ''}\t{yuan(d.amount_fen) or ''}")

    emit([d.to_dict() for d in found], as_json, text)


@deal.command("show")
@click.argument("deal_id", type=int)
@json_option
@handles_errors
def show_deal(deal_id: int, as_json: bool) -> None:
    """A deal with every event."""
    with bank() as opened:
        found = opened.deals.get(local_actor(), deal_id)

    def text() -> None:
        click.echo(f"{found.reference}: {found.offer} for {found.demand}, broker "
                   f"{found.broker}, {found.stage}"
                   + (f" ({found.outcome}, {found.outcome_type or ''})" if found.outcome
                      else "")
                   + (f", contract {yuan(found.amount_fen)} yuan" if found.amount_fen else ""))
        for e in found.events:
            what = e.stage if e.kind == "stage" else e.kind
            amount = f" {yuan(e.amount_fen)} yuan" if e.amount_fen is not None else ""
            extra = "; ".join(f"{k}: {v}" for k, v in e.details.items())
            click.echo(f"  {e.at.date()}  {e.actor}  {what}{amount}  {extra}".rstrip())

    emit(found.to_dict(), as_json, text)


@deal.command("event")
@click.argument("deal_id", type=int)
@click.argument("kind", type=click.Choice(EVENT_KINDS))
@click.option("--stage", type=click.Choice(STAGES), default=None)
@click.option("--amount", default=None, help="Yuan: the contract amount on signing, the sum "
                                             "paid, a service's fee.")
@click.option("--note", default=None)
@click.option("--document", "documents", multiple=True, help="A document (repeatable).")
@click.option("--outcome", type=click.Choice(OUTCOMES), default=None)
@click.option("--outcome-type", type=click.Choice(OUTCOME_TYPES), default=None)
@click.option("--registration-number", default=None,
              help="The technology contract's registration number (registration).")
@click.option("--service", type=click.Choice(SERVICES), default=None)
@click.option("--on", "on", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="The day it happened (default today).")
@json_option
@handles_errors
def deal_event(deal_id: int, kind: str, stage: str | None, amount: str | None,
               note: str | None, documents: tuple[str, ...], outcome: str | None,
               outcome_type: str | None, registration_number: str | None,
               service: str | None, on: dt.datetime | None, as_json: bool) -> None:
    """Record an event of deal DEAL_ID: a stage entered, interest, a note, a paid service
    or a payment."""
    details: dict[str, Any] = {k: v for k, v in (("note", note), ("outcome", outcome),
                                 ("outcome_type", outcome_type),
                                 ("registration_number", registration_number),
                                 ("service", service)) if v}
    if documents:
        details["documents"] = list(documents)
    with bank() as opened:
        found = opened.deals.record(local_actor(), deal_id, kind, stage=stage, amount=amount,
                                    details=details, on=on.date() if on else None)
    emit(found.to_dict(), as_json, f"{found.reference}: {found.stage}"
                                   + (f" ({found.outcome})" if found.outcome else ""))


# --- releases --------------------------------------------------------------------------------

@market.group("release")
def release() -> None:
    """Releases of selected offers ("青岛好成果"): a page, an Atom feed, a brochure."""


@release.command("compose")
@click.argument("offers", nargs=-1, required=True)
@click.option("--title", required=True)
@click.option("--title-zh", default="")
@click.option("--issued", type=click.DateTime(["%Y-%m-%d"]), required=True,
              help="The day it is issued.")
@click.option("--introduction", default="")
@click.option("--introduction-zh", default="")
@json_option
@handles_errors
def compose_release(offers: tuple[str, ...], title: str, title_zh: str, issued: dt.datetime,
                    introduction: str, introduction_zh: str, as_json: bool) -> None:
    """A draft release of OFFERS (published offers, in the order given)."""
    with bank() as opened:
        made = opened.releases.compose(local_actor(), title=title, title_zh=title_zh,
                                       issued=issued.date(), offers=list(offers),
                                       introduction=introduction,
                                       introduction_zh=introduction_zh)
    emit(made, as_json, f"release {made['id']} (draft): {len(made['offers'])} offers; "
                        f"publish it with `lanhai market release publish {made['id']}`")


@release.command("publish")
@click.argument("release_id", type=int)
@json_option
@handles_errors
def publish_release(release_id: int, as_json: bool) -> None:
    """Publish a draft release: its page, the Atom feed and the brochure show it."""
    with bank() as opened:
        done = opened.releases.publish(local_actor(), release_id)
    emit(done, as_json, f"release {done['id']} published: /market/releases/{done['id']}")


@release.command("list")
@json_option
@handles_errors
def list_releases(as_json: bool) -> None:
    """Every release, newest first."""
    with bank() as opened:
        found = opened.releases.all(local_actor())

    def text() -> None:
        for r in found:
            click.echo(f"{r['id']}\t{r['issued']}\t{'published' if r['published'] else 'draft'}"
                       f"\t{len(r['offers'])}\t{r['title']}")

    emit(found, as_json, text)


@market.command("notify")
@json_option
@handles_errors
def notify(as_json: bool) -> None:
    """Notify the new matches of the offers and demands published since the last look, in
    the members' inboxes and by e-mail (LANHAI_SMTP_URL); for cron when no server runs."""
    with bank() as opened:
        done = opened.notifications.sweep(local_actor())
    emit(done, as_json, f"{done['entries']} entries looked at: {done['notified']} notices, "
                        f"{done['emailed']} e-mails")


# --- financing needs -------------------------------------------------------------------------

@market.group("financing")
def financing() -> None:
    """Financing needs (investors, admins and the organisation's members only)."""


@financing.command("post")
@click.argument("organisation")
@click.option("--title", required=True)
@click.option("--amount", required=True, help="Yuan.")
@click.option("--stage", required=True, type=click.Choice(FINANCING_STAGES))
@click.option("--use-of-funds", required=True)
@click.option("--offer", default=None, help="The organisation's offer it takes forward.")
@json_option
@handles_errors
def post_need(organisation: str, title: str, amount: str, stage: str, use_of_funds: str,
              offer: str | None, as_json: bool) -> None:
    """Post a financing need of ORGANISATION (LHOG…)."""
    with bank() as opened:
        made = opened.financing.post(local_actor(), title=title, amount=amount, stage=stage,
                                     use_of_funds=use_of_funds, organisation=organisation,
                                     offer=offer)
    emit(made, as_json, f"financing need {made['id']}: {made['title']} ({made['amount']} "
                        f"yuan, {made['stage']})")


@financing.command("list")
@json_option
@handles_errors
def list_needs(as_json: bool) -> None:
    """Every financing need, newest first."""
    with bank() as opened:
        found = opened.financing.all(local_actor())

    def text() -> None:
        for n in found:
            click.echo(f"{n['id']}\t{n['organisation']}\t{n['stage']}\t{n['amount']}\t"
                       f"{n['status']}\t{n['title']}")

    emit(found, as_json, text)


@financing.command("close")
@click.argument("need_id", type=int)
@json_option
@handles_errors
def close_need(need_id: int, as_json: bool) -> None:
    """Close a financing need."""
    with bank() as opened:
        done = opened.financing.close(local_actor(), need_id)
    emit(done, as_json, f"financing need {done['id']}: {done['status']}")
