"""The demo's strain design: the E. coli core model (shipped with cobrapy) as a chassis, the
classic anaerobic succinate problem on it with its OptKnock knockout search, and the
growth-coupled design the search's best knockouts make, derived from it."""

from __future__ import annotations

from typing import Any

from lanhai.bank import Bank
from lanhai.demo.links import DemoLink, apply_links
from lanhai.services.access import Actor

CHASSIS = {"model_name": "E. coli K-12 MG1655 core metabolism (e_coli_core)",
           "bundled": "textbook", "organism": "Escherichia coli K-12 MG1655",
           "reference": "Orth, Fleming & Palsson (2010) EcoSal Plus 4(1), "
                        "doi:10.1128/ecosalplus.10.2.1"}
PROBLEM = "Succinate from glucose without oxygen"
PROBLEM_FIELDS = {
    "title": PROBLEM, "product": "succ_e", "medium": "EX_o2_e=0",
    "carbon_source": "EX_glc__D_e",
    "description": "The wild-type core model makes no succinate at its fastest anaerobic "
                   "growth; the OptKnock search looks for knockouts that force it out "
                   "(Burgard, Pharkya & Maranas 2003, doi:10.1002/bit.10803)."}


def _find(bank: Bank, actor: Actor, kind: str, where: str) -> str | None:
    found, _ = bank.catalog.list(actor, kind, [where], limit=1)
    return found[0].accession if found else None


def strain_design(bank: Bank, actor: Actor
                  ) -> tuple[dict[str, Any], list[DemoLink], int]:
    """Register the chassis, the succinate problem and its knockout search, and the design
    made of the best growth-coupled knockouts, each once, and analyse both designs; what
    was made, the links (rules ``design_chassis``, ``best_knockouts``) and how many of them
    are new."""
    service, catalog = bank.design, bank.catalog
    created = 0
    chassis = _find(bank, actor, "chassis", "bundled=textbook")
    if chassis is None:
        chassis = service.register_chassis(actor, CHASSIS).accession
        created += 1
    problem = _find(bank, actor, "design", f"title={PROBLEM}")
    if problem is None:
        problem = catalog.create(actor, "design", {**PROBLEM_FIELDS, "chassis": chassis}
                                 ).accession
        created += 1
    links = [DemoLink(chassis, "chassis_of", problem, "design_chassis", CHASSIS["model_name"],
                      PROBLEM)]
    made = apply_links(catalog, actor, links)
    if not catalog.get(actor, problem).fields.get("knockout_digest"):
        service.knockouts(actor, problem, method="optknock", max_knockouts=3, time_limit=60)
    best = catalog.get(actor, problem).fields.get("best_knockouts") or []
    coupled = None
    if best:
        knockouts = best[0].split("+")
        title = f"Succinate without oxygen: {' + '.join(knockouts)} knocked out"
        coupled = _find(bank, actor, "design", f"title={title}")
        if coupled is None:
            coupled = catalog.create(actor, "design", {
                **PROBLEM_FIELDS, "title": title, "chassis": chassis,
                "reaction_deletions": "; ".join(knockouts),
                "description": "The best growth-coupled design the OptKnock search on "
                               f"{problem} found."}).accession
            created += 1
        more = [DemoLink(chassis, "chassis_of", coupled, "design_chassis",
                         CHASSIS["model_name"], title),
                DemoLink(problem, "derived_from", coupled, "best_knockouts", PROBLEM, title)]
        made += apply_links(catalog, actor, more)
        links += more
    for accession in (problem, coupled):
        if accession and not catalog.get(actor, accession).fields.get("result_digest"):
            service.run(actor, accession)
    result = catalog.get(actor, coupled).fields if coupled else {}
    return ({"created": created, "chassis": chassis, "problem": problem, "coupled": coupled,
             "knockouts": best[0] if best else None, "growth": result.get("growth_rate"),
             "succinate": result.get("product_flux")}, links, made)
