"""The demo's technology market: example listings drawn from the bank's own records.

Each part mined from a documented Zobellia galactanivorans CAZyme becomes an example offer
whose evidence is the part (and through it the genome and the strain); one example demand,
written in Chinese as enterprises write them, shows a match across languages. Every entry
says it is an example: no organisation offers or seeks any of them, and no deal is made.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lanhai.bank import Bank
from lanhai.demo.links import DemoLink
from lanhai.demo.sources import ZOBELLIA_PROTEOME
from lanhai.services.access import Actor

EXAMPLE_NOTE = ("An example listing the Lanhai demo makes from the bank's own records: the "
                "part, its genome and its strain are real; no organisation offers it.")
EXAMPLE_NOTE_ZH = ("演示库根据资源库自有记录生成的示例条目：元件、基因组和菌株均真实存在，"
                   "但没有机构提供该成果。")
DEMAND = {
    "reference": "demo-demand-neoagaro",
    "title_zh": "示例需求：用于制备新琼寡糖的琼胶酶",
    "summary_zh": "寻求可将琼胶降解为新琼四糖、新琼六糖的 β-琼胶酶基因或酶制剂，"
                  "用于功能性寡糖的研究开发。",
    "field": "enzyme", "sector": "food_health", "transfer_types": "licence; co-development",
    "market_status": "published",
    "description": "示例条目（非真实企业需求）：演示库用来展示跨语言匹配，没有企业提出该需求。",
}


def example_offer(part: dict[str, Any], description: str) -> dict[str, Any]:
    """The example offer of one mined part (its documented description as the summary)."""
    family = part.get("family") or ""
    gene = part.get("gene") or part.get("locus") or part["display_id"]
    return {
        "reference": f"demo-{part['display_id']}",
        "title": f"Example listing: {gene} ({family}) of Zobellia galactanivorans DsijT",
        "title_zh": f"示例条目：Zobellia galactanivorans DsijT 的 {family} 家族酶基因 {gene}",
        "summary": description,
        "field": "part", "sector": "food_health", "trl": "2", "transfer_types": "licence",
        # the note in the description, which matching does not read: it would make every
        # example look alike
        "market_status": "published", "description": f"{EXAMPLE_NOTE} {EXAMPLE_NOTE_ZH}",
    }


def market_examples(bank: Bank, actor: Actor, parts: Sequence[dict[str, Any]]
                    ) -> tuple[dict[str, Any], list[DemoLink]]:
    """Create (once) the example offers and demand; what was made and the evidence links
    to apply."""
    catalog = bank.catalog
    links, offers, created = [], [], 0
    for part in parts:
        if part.get("assembly_name") != ZOBELLIA_PROTEOME:
            continue
        record = catalog.get(actor, part["accession"])
        fields = example_offer(part, str(record.fields.get("description") or record.name))
        offer = catalog.by_identifier(actor, "offer", f"offer:{fields['reference']}")
        if offer is None:
            offer = catalog.create(actor, "offer", fields,
                                   note="Lanhai demo: an example listing")
            created += 1
        offers.append(offer.accession)
        links.append(DemoLink(part["accession"], "evidence_for", offer.accession,
                              "example_offer_evidence", part["display_id"], offer.name))
    demand = catalog.by_identifier(actor, "demand", f"demand:{DEMAND['reference']}")
    if demand is None:
        demand = catalog.create(actor, "demand", DEMAND, note="Lanhai demo: an example")
        created += 1
    return {"offers": offers, "demand": demand.accession, "created": created}, links
