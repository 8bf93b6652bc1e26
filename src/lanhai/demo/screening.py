"""The demo's screening assay: the activities MIBiG's curators recorded for 1,356 compounds
of characterised gene clusters, as an activity call (antibacterial or not), and a model
trained on it, which ranks the demo's marine compound library."""

from __future__ import annotations

from typing import Any

from lanhai.bank import Bank
from lanhai.demo.sources import data_dir
from lanhai.services.access import Actor

ASSAY_FILE = "screening/mibig_antibacterial_calls.tsv"
ASSAY = "mibig-antibacterial"
FIELDS = {"name": "Antibacterial activity recorded in MIBiG",
          "target": "bacteria", "endpoint": "activity call",
          "description": "Compounds of MIBiG's characterised gene clusters with at least one "
                         "recorded activity: active when the activities include "
                         "antibacterial, inactive otherwise."}


def screening_assay(bank: Bank, actor: Actor) -> dict[str, Any]:
    """Create (once) the assay, import its table (unchanged on a second run) and train its
    first model (once)."""
    service = bank.screening
    if ASSAY not in {a["key"] for a in service.assays(actor)}:
        service.create_assay(actor, ASSAY, FIELDS)
    imported = service.import_results(actor, ASSAY, data_dir() / ASSAY_FILE)
    models = service.models(actor, ASSAY)
    trained = None
    if not models:
        trained = service.train(actor, ASSAY, endpoint="activity call", folds=5, repeats=1)
        models = service.models(actor, ASSAY)
    return {"assay": ASSAY, "import": imported["status"], "rows": imported["rows"],
            "model": models[0]["key"], "trained": trained is not None,
            "validation": {split: v["summary"] for split, v in
                           models[0]["validation"].items()}}
