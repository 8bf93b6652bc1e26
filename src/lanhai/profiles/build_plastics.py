"""Build the ``plastics`` pack (``lanhai profiles build plastics``).

Inputs (``DATA``): ``plastics/PDG_DB_dev.faa`` + ``PDG_DB_dev_labels.tsv`` (experimentally
validated plastic-degrading enzymes with their plastic types, from PDG_DB) and the 24 PlastEDMA
PETase HMMs (``hmm/PlastEDMA_After_tcoffee_UPI_75-80.hmm.gz``).

Method:

1. **Hold-out.** Within each primary plastic label, enzymes are ordered by the SHA-256 of their
   id and every fourth is held out for evaluation (``benchmarks/bench_plastics.py``); they are
   listed in the manifest and never used to build.
2. **Families.** Training enzymes are clustered by single linkage on phmmer hits
   (E <= 1e-30, one direction enough); each cluster is aligned with FAMSA and built into
   an HMM (a singleton gives a single-sequence HMM). Its substrates are the union of its
   members' plastic types. The PlastEDMA HMMs join as ``PlastEDMA_<n>`` with substrate PET.
3. **Calibration.** Each family's sequence bit-score threshold separates its positives (its
   member enzymes; for a PlastEDMA HMM, the training enzymes with a shared plastic type it
   finds) from negatives: training enzymes with no shared plastic type and two training
   flavobacterial proteomes (background, assumed plastic-inactive). Clusters are tight, so the
   threshold sits 20 % of the way from the highest negative to the lowest member (to reach
   divergent relatives); see :func:`lanhai.profiles.hmmtools.choose_threshold`. Written to
   ``thresholds`` and as GA lines.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyfamsa
import pyhmmer

from lanhai.errors import Problem, UsageError
from lanhai.profiles import hmmtools
from lanhai.profiles.pack import Family, Pack
from lanhai.profiles.registry import write_pack

Progress = Callable[[int, int, str], None]

PACK_NAME = "plastics"
PACK_VERSION = "1.0"
BACKGROUND = ("Maribacter_dokdonensis_DSW-8", "Zobellia_galactanivorans_DsiJ")
CLUSTER_EVALUE = 1e-30
SEED = 42
#: where the threshold sits between the highest negative (0) and the lowest member (1)
POSITION = 0.2


def read_labels(path: Path) -> dict[str, tuple[str, ...]]:
    """``{enzyme id: plastic types}`` from PDG_DB_dev_labels.tsv (``id``, ``plastic``)."""
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["id"]: tuple(p.strip() for p in row["plastic"].split(",") if p.strip())
                for row in csv.DictReader(handle, delimiter="\t")}


def split_holdout(labels: dict[str, tuple[str, ...]]) -> tuple[list[str], list[str]]:
    """Training and held-out ids: every fourth enzyme (by SHA-256 of its id) of each primary
    plastic label is held out."""
    by_label: dict[str, list[str]] = defaultdict(list)
    for ident, plastics in labels.items():
        by_label[plastics[0] if plastics else ""].append(ident)
    train: list[str] = []
    held: list[str] = []
    for label in sorted(by_label):
        ordered = sorted(by_label[label], key=lambda i: hashlib.sha256(i.encode()).hexdigest())
        for k, ident in enumerate(ordered):
            (held if k % 4 == 3 else train).append(ident)
    return sorted(train), sorted(held)


def _clusters(proteins: dict[str, str], cpus: int) -> list[list[str]]:
    block = hmmtools.digitize(proteins)
    links = ((str(hits.query.name), str(hit.name))
             for hits in pyhmmer.hmmer.phmmer(block, block, cpus=cpus, E=CLUSTER_EVALUE)
             for hit in hits if hit.evalue <= CLUSTER_EVALUE)
    return hmmtools.linked_groups(proteins, links)


def build_plastics(data: Path, out: Path, *, cpus: int = 1, replace: bool = True,
                   progress: Progress | None = None) -> tuple[Pack, dict[str, Any]]:
    report = progress or (lambda done, total, what: None)
    faa = data / "plastics" / "PDG_DB_dev.faa"
    labels_path = data / "plastics" / "PDG_DB_dev_labels.tsv"
    plastedma = data / "hmm" / "PlastEDMA_After_tcoffee_UPI_75-80.hmm.gz"
    background_files = [data / "cazy" / "proteomes" / f"{s}.faa.gz" for s in BACKGROUND]
    for path in (faa, labels_path, plastedma, *background_files):
        if not path.is_file():
            raise UsageError(f"missing input {path}", [Problem(
                "the labelled plastics data is incomplete", file=str(path),
                fix="pass --data pointing at the folder that holds plastics/, hmm/ and cazy/")])
    report(0, 4, "reading enzymes")
    enzymes = hmmtools.read_fasta(faa)
    labels = read_labels(labels_path)
    missing = sorted(set(labels) - set(enzymes))
    if missing:
        raise UsageError("labelled enzymes missing from the FASTA", [Problem(
            "no sequence", value=m, file=str(faa)) for m in missing[:20]])
    train, held = split_holdout(labels)
    training = {i: enzymes[i] for i in train}

    report(1, 4, "clustering and building")
    hmms: dict[str, Any] = {}
    families: dict[str, Family] = {}
    members: dict[str, list[str]] = {}
    for n, group in enumerate(_clusters(training, cpus), start=1):
        plastics = sorted({p for i in group for p in labels[i]})
        primary = max(sorted(plastics), key=lambda p: sum(p in labels[i] for i in group))
        name = f"PDG_{primary.replace(' ', '_')}_{n:03d}"
        hmm = hmmtools.build_hmm(name, {i: training[i] for i in group}, seed=SEED,
                                 description=f"plastic-degrading enzymes ({', '.join(plastics)}); "
                                             f"{len(group)} validated PDG_DB enzyme(s)")
        hmms[name] = hmm
        members[name] = group
        families[name] = Family(name, None, str(hmm.description), tuple(plastics), "enzyme")
    for hmm in hmmtools.read_hmms(plastedma):
        name = f"PlastEDMA_{hmm.name}"
        hmm.name = name
        hmm.description = "PETase-like HMM from PlastEDMA (UniProt 75-80 % clusters)"
        hmms[name] = hmm
        members[name] = []
        families[name] = Family(name, None, str(hmm.description), ("PET",), "enzyme")

    report(2, 4, "calibrating thresholds")
    background: dict[str, str] = {}
    for path in background_files:
        background.update(hmmtools.read_fasta(path))
    block = hmmtools.digitize({**training, **background})
    scores = hmmtools.search_best(list(hmms.values()), block, cpus=cpus)
    thresholds: dict[str, float] = {}
    records: dict[str, Any] = {}
    for name, hmm in hmms.items():
        subs = set(families[name].substrates)
        hits = scores.get(name, {})
        # a built family's positives are its members; a PlastEDMA HMM's are the training
        # enzymes with a shared plastic type that it finds at E <= 1e-5
        positives = [h.score for i, h in hits.items() if i in training and (
            i in members[name] if members[name] else
            bool(subs & set(labels[i])) and h.evalue <= 1e-5)]
        negatives = [h.score for i, h in hits.items() if i in background
                     or (i in training and not subs & set(labels[i]))]
        if positives:
            value, how = hmmtools.choose_threshold(positives, negatives, position=POSITION)
        else:
            value = round(max([20.0] + [s + 1.0 for s in negatives]), 1)
            how = "no training enzyme hit; 1 bit above the highest background/other-plastic score"
        thresholds[name] = value
        hmm.cutoffs.gathering = (value, value)
        records[name] = {"members": members[name] if members[name] else None,
                         "substrates": list(families[name].substrates), "threshold": value,
                         "threshold_how": how, "positives": len(positives),
                         "negatives_scored": len(negatives),
                         "training_recall": round(sum(s >= value for s in positives)
                                                  / len(positives), 3) if positives else None,
                         "background_false_positives": sum(
                             1 for i, h in hits.items() if i in background and h.score >= value)}
    report(3, 4, "writing the pack")
    provenance: dict[str, Any] = {
        "source": "built by `lanhai profiles build plastics` from PDG_DB validated enzymes "
                  "(github Z-bioinfo/PDG_DB @875f0969) and PlastEDMA HMMs (github "
                  "ozefreitas/PlastEDMA @1b94529a, MIT)",
        "inputs": {str(p.relative_to(data)): hashlib.sha256(p.read_bytes()).hexdigest()
                   for p in (faa, labels_path, plastedma, *background_files)},
        "training_enzymes": len(train), "held_out_enzymes": held,
        "background_strains": list(BACKGROUND),
        "method": {
            "families": f"single-linkage clusters of phmmer hits (E <= {CLUSTER_EVALUE}) "
                        "among training enzymes; FAMSA + pyhmmer Builder "
                        f"(seed {SEED}); plus the 24 PlastEDMA PETase HMMs",
            "threshold": "sequence bit score between training enzymes sharing a plastic type "
                         "(positives) and background proteomes + other-plastic enzymes "
                         "(negatives): 20 % of the way from the highest negative to the lowest "
                         "positive when separable, else best F1; floor 20 bits",
            "threshold_applies_to": "sequence score (hit.score)",
        },
        "versions": {"pyhmmer": pyhmmer.__version__, "pyfamsa": pyfamsa.__version__},
        "families": records,
    }
    pack = Pack(
        name=PACK_NAME, version=PACK_VERSION, category="plastics",
        path=Path("plastics.hmm.gz"), cutoff="calibrated", evalue=1e-5, thresholds=thresholds,
        families=families,
        description=("Plastic-degrading enzymes (PET, PHA, PLA, PBAT, PU, PA, PE, ...) built "
                     "from experimentally validated PDG_DB enzymes, plus PlastEDMA PETase HMMs"),
        provenance=provenance, hmm_count=len(hmms))
    folder = write_pack(out, pack, list(hmms.values()), replace=replace)
    report(4, 4, "done")
    return dataclasses.replace(pack, path=folder / pack.path.name), records
