"""Deals between an offer and a demand: their stages, their events, and what brokers earn.

A broker takes a match into a deal; every change is an event (who, when, amount,
documents). The stages follow a technology transfer from initiation to close::

    initiation → evaluation → matching → negotiation → signing → registration → payment
    → closed (won, with the outcome's type, or lost)

A deal moves one stage on at a time; it may be closed as lost from any stage, and as won
once its contract is signed. Signing states the contract amount; registration (技术合同认定
登记) its registration number; payments are recorded as they come. Broker performance and
the incentive ledger are computed from the events by rules held as data
(``data/incentives.toml``), never typed in.
"""

from __future__ import annotations

import datetime as dt
import itertools
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from importlib.resources import files
from pathlib import Path
from typing import Any

from lanhai.errors import UsageError

STAGES = ("initiation", "evaluation", "matching", "negotiation", "signing", "registration",
          "payment", "closed")
#: how a won deal changed hands
#: the registration stage's name in Chinese law (技术合同认定登记: technology contract
#: recognition and registration)
_REGISTRATION_ZH = "技术合同认定登记"
OUTCOME_TYPES = ("licence", "assignment", "co-development", "service", "equity")
OUTCOMES = ("won", "lost")
#: what an event records: a stage entered, a party's expression of interest, a note, a paid
#: service (evaluation, due diligence …) with its fee, a payment received
EVENT_KINDS = ("stage", "interest", "note", "service", "payment")
#: paid services a broker (or platform) renders on a deal
SERVICES = ("evaluation", "due diligence", "valuation", "legal", "incubation", "other")
#: the events only the deal's broker (or an admin) records
BROKER_EVENTS = ("stage", "service", "payment")
#: the stages a won deal must have reached
SIGNED = STAGES.index("signing")


def yuan(fen: int | None) -> str | None:
    """An amount in fen as yuan with two decimals ('1234.50')."""
    return None if fen is None else f"{Decimal(fen) / 100:.2f}"


def fen(amount: Any) -> int:
    """Yuan (a number or text such as '1,200,000.50') as whole fen; UsageError when it is
    not an amount."""
    try:
        value = Decimal(str(amount).replace(",", "").strip())
    except ArithmeticError:
        raise UsageError(f"{amount!r} is not an amount of money; give yuan, e.g. "
                         "1200000 or 1200000.50") from None
    if not value.is_finite() or value < 0:
        raise UsageError(f"{amount!r} is not an amount of money; give yuan, e.g. 1200000")
    return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class DealEvent:
    """One change of a deal."""

    id: int
    deal_id: int
    at: dt.datetime
    actor: str
    kind: str
    stage: str | None
    amount_fen: int | None
    details: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "at": self.at.isoformat(), "actor": self.actor,
                "kind": self.kind, "stage": self.stage, "amount": yuan(self.amount_fen),
                "details": dict(self.details)}


@dataclass
class Deal:
    """A deal, as its parties, its broker and admins see it."""

    id: int
    offer: str
    demand: str | None
    broker: str
    stage: str
    outcome: str | None
    outcome_type: str | None
    amount_fen: int | None
    created_at: dt.datetime
    created_by: str
    updated_at: dt.datetime
    version: int
    events: list[DealEvent] = field(default_factory=list)

    @property
    def reference(self) -> str:
        return f"DEAL-{self.id:06d}"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "reference": self.reference, "offer": self.offer,
                "demand": self.demand, "broker": self.broker, "stage": self.stage,
                "outcome": self.outcome, "outcome_type": self.outcome_type,
                "amount": yuan(self.amount_fen), "created_at": self.created_at.isoformat(),
                "created_by": self.created_by, "updated_at": self.updated_at.isoformat(),
                "version": self.version, "events": [e.to_dict() for e in self.events]}


@dataclass(frozen=True)
class StageChange:
    """What a stage event changes on its deal."""

    stage: str
    outcome: str | None = None
    outcome_type: str | None = None
    amount_fen: int | None = None


def check_stage(deal: Deal, stage: str, details: Mapping[str, Any],
                amount_fen: int | None) -> StageChange:
    """The change moving ``deal`` to ``stage`` makes, or UsageError saying what is allowed."""
    if stage not in STAGES:
        raise UsageError(f"unknown stage {stage!r}; stages are: {', '.join(STAGES)}")
    if deal.stage == "closed":
        raise UsageError(f"{deal.reference} is closed ({deal.outcome}); open a new deal "
                         "instead")
    here = STAGES.index(deal.stage)
    if stage == "closed":
        outcome = str(details.get("outcome") or "")
        if outcome not in OUTCOMES:
            raise UsageError("closing a deal needs its outcome: won or lost")
        if outcome == "lost":
            return StageChange("closed", "lost")
        if here < SIGNED:
            raise UsageError(f"{deal.reference} is at {deal.stage}: a deal is won only once "
                             "its contract is signed")
        kind = str(details.get("outcome_type") or "")
        if kind not in OUTCOME_TYPES:
            raise UsageError("a won deal needs its outcome_type: "
                             + ", ".join(OUTCOME_TYPES))
        return StageChange("closed", "won", kind)
    wanted = STAGES.index(stage)
    if wanted != here + 1:
        raise UsageError(f"{deal.reference} is at {deal.stage}: its next stage is "
                         f"{STAGES[here + 1]} (or closed)")
    if stage == "signing":
        if amount_fen is None:
            raise UsageError("signing states the contract amount: give amount (yuan)")
        return StageChange(stage, amount_fen=amount_fen)
    if stage == "registration" and not str(details.get("registration_number") or "").strip():
        raise UsageError(f"registration ({_REGISTRATION_ZH}) needs the contract's "
                         "registration number: give registration_number")
    return StageChange(stage)


# --- incentives ----------------------------------------------------------------------------

#: what a rule can be triggered by: entering a stage, winning, a payment, a paid service,
#: an expression of interest
TRIGGERS = (*(f"stage:{s}" for s in STAGES if s != "closed"), "won", "lost", "payment",
            "service", "interest")


@dataclass(frozen=True)
class Rule:
    """One incentive rule: on a trigger, a fixed bonus and/or a share of the amount the
    event names (the contract amount at signing and on winning, the sum paid, the
    service's fee), capped per event."""

    name: str
    on: str
    bonus_fen: int = 0
    share: Decimal = Decimal(0)
    cap_fen: int | None = None

    def pays(self, basis_fen: int | None) -> int:
        amount = self.bonus_fen
        if self.share and basis_fen:
            amount += int((self.share * basis_fen).quantize(Decimal(1),
                                                            rounding=ROUND_HALF_UP))
        return min(amount, self.cap_fen) if self.cap_fen is not None else amount

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "on": self.on, "bonus": yuan(self.bonus_fen),
                "share": str(self.share), "cap": yuan(self.cap_fen)}


def default_rules_path() -> Path:
    return Path(str(files("lanhai.market") / "data" / "incentives.toml"))


def load_rules(path: str | Path | None = None) -> list[Rule]:
    """The incentive rules of ``path`` (the shipped ones when None), checked."""
    where = Path(path) if path else default_rules_path()
    try:
        data = tomllib.loads(where.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise UsageError(f"cannot read the incentive rules {where}: {err}") from None
    rules = []
    for number, raw in enumerate(data.get("rule", []), 1):
        name = str(raw.get("name") or f"rule {number}")
        on = str(raw.get("on", ""))
        if on not in TRIGGERS:
            raise UsageError(f"{where}: rule {name!r} has on = {on!r}; use one of: "
                             + ", ".join(TRIGGERS))
        share = Decimal(str(raw.get("share", 0)))
        if not Decimal(0) <= share <= Decimal(1):
            raise UsageError(f"{where}: rule {name!r} has share = {share}; give a fraction "
                             "from 0 to 1 (0.02 is 2 %)")
        cap = raw.get("cap")
        rules.append(Rule(name, on, fen(raw.get("bonus", 0)), share,
                          None if cap is None else fen(cap)))
    return rules


@dataclass(frozen=True)
class LedgerLine:
    """What one rule pays a broker for one event of one deal."""

    broker: str
    deal: str
    event_id: int
    on: dt.date
    rule: str
    basis_fen: int | None
    amount_fen: int

    def to_dict(self) -> dict[str, Any]:
        return {"broker": self.broker, "deal": self.deal, "event": self.event_id,
                "date": self.on.isoformat(), "rule": self.rule,
                "basis": yuan(self.basis_fen), "amount": yuan(self.amount_fen)}


def triggers_of(deal: Deal, event: DealEvent) -> list[tuple[str, int | None]]:
    """(trigger, the amount it is reckoned on) for one event of ``deal``."""
    if event.kind == "stage" and event.stage == "closed":
        outcome = str(event.details.get("outcome", ""))
        return [(outcome, deal.amount_fen if outcome == "won" else None)]
    if event.kind == "stage" and event.stage:
        basis = event.amount_fen if event.stage == "signing" else None
        return [(f"stage:{event.stage}", basis)]
    if event.kind in ("payment", "service"):
        return [(event.kind, event.amount_fen)]
    if event.kind == "interest":
        return [("interest", None)]
    return []


def ledger(deals: Iterable[Deal], rules: Sequence[Rule]) -> list[LedgerLine]:
    """Every line the rules pay, event by event, in the order things happened."""
    by_trigger: dict[str, list[Rule]] = {}
    for rule in rules:
        by_trigger.setdefault(rule.on, []).append(rule)
    lines = []
    for deal in deals:
        for event in deal.events:
            for trigger, basis in triggers_of(deal, event):
                for rule in by_trigger.get(trigger, []):
                    paid = rule.pays(basis)
                    if paid:
                        lines.append(LedgerLine(deal.broker, deal.reference, event.id,
                                                event.at.date(), rule.name, basis, paid))
    return sorted(lines, key=lambda line: (line.on, line.event_id, line.rule))


def ledger_totals(lines: Iterable[LedgerLine]) -> dict[str, int]:
    """broker -> what the lines pay them (fen), by broker name."""
    totals: dict[str, int] = {}
    for line in lines:
        totals[line.broker] = totals.get(line.broker, 0) + line.amount_fen
    return dict(sorted(totals.items()))


def performance(broker: str, deals: Sequence[Deal], rules: Sequence[Rule]
                ) -> dict[str, Any]:
    """A broker's figures, all from the event log: deals started from matches, expressions
    of interest, deals signed, registered, won and lost, the contract amount signed, paid
    services, the mean days spent in each stage, and what the rules pay."""
    own = [d for d in deals if d.broker == broker]
    stays: dict[str, list[float]] = {}
    for deal in own:
        entered = [(e.stage, e.at) for e in deal.events if e.kind == "stage" and e.stage]
        entered.insert(0, ("initiation", deal.created_at))
        for (stage, since), (_, until) in itertools.pairwise(entered):
            stays.setdefault(stage, []).append((until - since).total_seconds() / 86400)
    reached = [max((STAGES.index(e.stage) for e in d.events if e.kind == "stage" and
                    e.stage and e.stage != "closed"), default=0) for d in own]
    return {
        "broker": broker, "deals": len(own),
        "expressions_of_interest": sum(e.kind == "interest" for d in own for e in d.events),
        "signed": sum(r >= SIGNED for r in reached),
        "registered": sum(r >= STAGES.index("registration") for r in reached),
        "won": sum(d.outcome == "won" for d in own),
        "lost": sum(d.outcome == "lost" for d in own),
        "open": sum(d.stage != "closed" for d in own),
        "contract_amount": yuan(sum(d.amount_fen or 0 for d in own)),
        "services": sum(e.kind == "service" for d in own for e in d.events),
        "days_per_stage": {stage: round(sum(v) / len(v), 2) for stage, v in stays.items()},
        "earned": yuan(ledger_totals(ledger(own, rules)).get(broker, 0)),
    }
