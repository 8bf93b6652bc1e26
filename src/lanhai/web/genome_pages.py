"""Genome project pages: every project with its progress (/genomes) and one project with
its treemap of progress by order and family, the counts per rank, the projected completion
and the next best species (/genomes/{key}); each with its JSON twin."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from lanhai.api.routing import api_router
from lanhai.services.access import Actor
from lanhai.web.render import bank_of, page, twin

router = api_router(include_in_schema=False, tags=["web"])


def _cells(node: Mapping[str, Any], rank: str) -> list[dict[str, Any]]:
    """The nodes of ``rank`` under ``node`` (at any depth), each with its counts and its
    children one rank down, for the treemap."""
    found: list[dict[str, Any]] = []
    for child in node.get("children", {}).values():
        if child["rank"] == rank:
            found.append({"name": child["name"], **child["counts"],
                          "children": [{"name": c["name"], **c["counts"]}
                                       for c in child["children"].values()]})
        else:
            found.extend(_cells(child, rank))
    return found


async def projects(request: Request, is_json: bool) -> Response:
    def call(actor: Actor) -> dict[str, Any]:
        return {"projects": bank_of(request).genomes.projects(actor),
                "may_edit": actor.can_write}

    return await page(request, "genomes.html", is_json, call)


async def project(request: Request, is_json: bool) -> Response:
    key = str(request.path_params["key"])

    def call(actor: Actor) -> dict[str, Any]:
        found = bank_of(request).genomes.project(actor, key)
        tree = found["progress"]["tree"].get(found["key"])
        found["treemap"] = _cells(tree, "order") if tree else []
        return found

    return await page(request, "genome_project.html", is_json, call)


twin(router, "/genomes", projects)
twin(router, "/genomes/{key}", project)
