"""The demo's genome projects, from GoaT's own public status lists (goat-data, MIT):
EUROFISH (24 freshwater fishes of Europe, with their sequencing status) and the
cartilaginous fishes genome project (19 sharks, rays and a chimaera, targets only), and the
city's 10,000 fish genomes project with the count it reports (883 species sequenced)."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path
from typing import Any

from lanhai.bank import Bank
from lanhai.demo.sources import data_dir
from lanhai.services.access import Actor

GOAT_LISTS = "genomes/goat_target_lists.tsv"
#: project key -> (the GoaT list's file in the source_list column, the project's fields)
PROJECTS: dict[str, tuple[str | None, dict[str, Any]]] = {
    "fish10k": (None, {
        "name": "10,000 fish genomes", "name_zh": "万种鱼类基因组计划",
        "goal": "genomes of 10,000 fish species", "taxon_scope": "fishes",
        "target_count": 10000, "reported_done": 883,
        "reported_source": "the count of fish species sequenced the project reports"}),
    "eurofish": ("EUROFISH_expanded.tsv", {
        "name": "EUROFISH", "name_zh": "欧洲淡水鱼类基因组",
        "goal": "reference genomes of European freshwater fishes",
        "taxon_scope": "Actinopterygii", "target_count": 24,
        "reported_source": "GoaT status list EUROFISH_expanded.tsv (genomehubs/goat-data)"}),
    "cfgp": ("Cartilaginous_target_list.tsv", {
        "name": "Cartilaginous fishes genome project", "name_zh": "软骨鱼类基因组计划",
        "goal": "reference genomes of sharks, rays and chimaeras",
        "taxon_scope": "Chondrichthyes", "target_count": 19,
        "reported_source": "GoaT target list Cartilaginous_target_list.tsv "
                           "(genomehubs/goat-data)"}),
}


def genome_projects(bank: Bank, actor: Actor) -> dict[str, Any]:
    """Create (once) the demo's projects and import their GoaT lists; what each holds."""
    service = bank.genomes
    known = {p["key"] for p in service.projects(actor)}
    text = (data_dir() / GOAT_LISTS).read_text("utf-8")
    rows = list(csv.DictReader(io.StringIO(text), delimiter="\t"))
    header = text.splitlines()[0].split("\t")
    out: dict[str, Any] = {}
    for key, (listed, fields) in PROJECTS.items():
        created = key not in known
        if created:
            service.create_project(actor, key, fields)
        imported = None
        if listed:
            chosen = [r for r in rows if r["source_list"] == listed]
            with tempfile.TemporaryDirectory(prefix="lanhai-demo-") as folder:
                path = Path(folder) / listed
                with path.open("w", encoding="utf-8", newline="") as handle:
                    writer = csv.DictWriter(handle, fieldnames=header, delimiter="\t",
                                            lineterminator="\n")
                    writer.writeheader()
                    writer.writerows(chosen)
                imported = service.import_targets(actor, key, path)
        out[key] = {"created": created, "targets": imported}
    return out
