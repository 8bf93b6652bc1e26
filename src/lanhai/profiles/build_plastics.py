"""Build the ``plastics`` pack (``lanhai profiles build plastics``).

Inputs (``DATA``): ``plastics/PDG_DB_dev.faa`` + ``PDG_DB_dev_labels.tsv`` (experimentally
validated plastic-degrading enzymes with their plastic types, from PDG_DB), the 24 PlastEDMA
PETase HMMs (``hmm/PlastEDMA_After_tcoffee_UPI_75-80.hmm.gz``) and, as background, the
flavobacterial proteomes in ``cazy/proteomes/`` except Maribacter 62-1 (held out of every build
to measure false positives, ``benchmarks/bench_plastics.py``).

Method (one HMM file, every HMM with its own calibrated bit-score threshold):

1. **Families and subfamilies.** Training enzymes are clustered by single linkage on phmmer
   hits at two levels, E <= 1e-5 (loose families) and E <= 1e-10 (subfamilies nested in
   them); every cluster of two or more enzymes (built once when both levels find it) is
   aligned with FAMSA and built into an HMM named after its main plastic type's activity
   (``PET_hydrolase_2``, ``PHA_depolymerase_1``); its substrates are the members' plastic
   types.
2. **Enzyme profiles.** Every training enzyme also gets a single-sequence HMM
   (``PDG_PET_AAD03558.1``; substrates: its own plastic types): a
   nearest-neighbour layer inside the pack format, which reaches close relatives of each
   validated enzyme that a family profile can miss.
3. **Close-relative profiles.** Every training enzyme also gets a candidate single-sequence
   HMM built with BLOSUM80 (``PDG_PET_AAD03558.1_close``), which rewards identity more than
   BLOSUM62 does. It is kept when it separates its own enzyme from the background better:
   its enzyme's score over its threshold is at least ``CLOSE_GAIN`` times that of the
   BLOSUM62 profile (decided from the enzyme's own sequence and the background only).
4. **PlastEDMA** PETase HMMs join as ``PlastEDMA_<n>`` (substrate PET).
5. **Calibration.** Every HMM is searched against the background proteomes (assumed to hold
   no plastic-degrading enzyme); its threshold is 10 % above the highest background sequence
   score, never below 30 bits nor, for an enzyme profile, below a tenth of its enzyme's own
   score. Written to ``thresholds`` and as GA lines, so
   ``hmmsearch --cut_ga`` gives the same calls.
6. **Cross-validation.** The shipped pack is built from every enzyme. Its manifest records
   the recall of a 5-fold cross-validation (:func:`cv_folds`: stratified by plastic type,
   near-identical enzymes kept in one fold), each fold rebuilt from the other four exactly as
   above; a call is right when the family's substrates include one of the enzyme's types.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyfamsa
import pyhmmer
from pyhmmer.easel import DigitalSequenceBlock, TextSequence
from pyhmmer.plan7 import HMM, Background, Builder

from lanhai.errors import Problem, UsageError
from lanhai.profiles import hmmtools
from lanhai.profiles.pack import Family, Pack
from lanhai.profiles.registry import write_pack

Progress = Callable[[int, int, str], None]

PACK_NAME = "plastics"
PACK_VERSION = "2.4"
#: the proteome kept out of every build: false positives are measured on it
HELD_OUT_PROTEOME = "Maribacter_62-1"
PLASTEDMA = "hmm/PlastEDMA_After_tcoffee_UPI_75-80.hmm.gz"
#: phmmer E-values linking two enzymes into a family: loose families, then subfamilies
LINK_EVALUES = (1e-5, 1e-10)
#: enzymes at least this identical (over the shorter one) share a cross-validation fold
TWIN_IDENTITY = 0.9
FOLDS = 5
SEED = 42
#: threshold = MARGIN x the highest background score, never below FLOOR bits
MARGIN = 1.1
FLOOR = 30.0
#: an enzyme profile's threshold is also at least this share of its own enzyme's score
RELATIVE_FLOOR = 0.1
#: the substitution matrix of the close-relative profiles (BLOSUM62 builds the others)
CLOSE_MATRIX = "BLOSUM80"
#: a close-relative profile is kept when its enzyme's score / background threshold is at least
#: this many times the BLOSUM62 profile's
CLOSE_GAIN = 1.2
CLOSE_SUFFIX = "_close"

#: what a plastic type's family is called (its usual activity); others: "<type>_enzyme"
ACTIVITY = {
    "PET": "PET_hydrolase", "PBAT": "PBAT_hydrolase", "PHAs": "PHA_depolymerase",
    "PLA": "PLA_depolymerase", "PBS": "PBS_depolymerase", "PBSA": "PBSA_depolymerase",
    "PCL": "PCL_depolymerase", "PES": "PES_depolymerase", "PU": "PU_hydrolase",
    "PA": "nylon_hydrolase", "PAE": "phthalate_ester_hydrolase", "DBP": "phthalate_ester_hydrolase",
    "DIBP": "phthalate_ester_hydrolase", "TP": "terephthalate_degrading_enzyme",
    "NR": "rubber_oxygenase", "PE": "PE_oxidising_enzyme", "PVA": "PVA_oxidising_enzyme",
}


def read_labels(path: Path) -> dict[str, tuple[str, ...]]:
    """``{enzyme id: plastic types}`` from PDG_DB_dev_labels.tsv (``id``, ``plastic``)."""
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["id"]: tuple(p.strip() for p in row["plastic"].split(",") if p.strip())
                for row in csv.DictReader(handle, delimiter="\t")}


def background_strains(data: Path) -> list[str]:
    """The background proteomes: every ``cazy/proteomes/*.faa.gz`` but the held-out one."""
    folder = data / "cazy" / "proteomes"
    return sorted(p.name.removesuffix(".faa.gz") for p in folder.glob("*.faa.gz")
                  if p.name.removesuffix(".faa.gz") != HELD_OUT_PROTEOME)


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def twin_links(enzymes: Mapping[str, str], *, identity: float = TWIN_IDENTITY,
               cpus: int = 1) -> list[tuple[str, str]]:
    """Pairs of enzymes whose best phmmer alignment is at least ``identity`` identical over the
    shorter sequence."""
    block = hmmtools.digitize(enzymes)
    links = []
    for hits in pyhmmer.hmmer.phmmer(block, block, cpus=cpus, E=1e-5):
        query = str(hits.query.name)
        for hit in hits:
            target = str(hit.name)
            if target == query:
                continue
            shorter = min(len(enzymes[query]), len(enzymes[target]))
            same = max(sum(c.isalpha() for c in d.alignment.identity_sequence)
                       for d in hit.domains)
            if same >= identity * shorter:
                links.append((query, target))
    return links


def cv_folds(labels: Mapping[str, tuple[str, ...]], twins: Sequence[tuple[str, str]], *,
             folds: int = FOLDS) -> list[list[str]]:
    """Cross-validation folds: near-identical enzymes (``twins``) stay together; groups are
    dealt per primary plastic type (largest first, then by SHA-256) to the fold holding the
    fewest of that type, then the fewest enzymes."""
    groups = hmmtools.linked_groups(sorted(labels), twins)
    by_type: dict[str, list[list[str]]] = defaultdict(list)
    for group in groups:
        primary = Counter(labels[i][0] if labels[i] else "" for i in group)
        by_type[min(primary, key=lambda p: (-primary[p], p))].append(group)
    out: list[list[str]] = [[] for _ in range(folds)]
    for plastic in sorted(by_type, key=lambda p: (-sum(map(len, by_type[p])), p)):
        per_fold = [0] * folds
        for group in sorted(by_type[plastic], key=lambda g: (-len(g), _hash(g[0]))):
            k = min(range(folds), key=lambda f: (per_fold[f], len(out[f]), f))
            per_fold[k] += len(group)
            out[k].extend(group)
    return [sorted(fold) for fold in out]


def enzyme_label(ident: str) -> str:
    """A short, readable HMM-name part for a PDG_DB enzyme id."""
    if "____" in ident:  # 00187____PETase____Organism____PET
        number, name = ident.split("____")[:2]
        short = f"{name}_{number}"
    elif ident.startswith(("sp__", "tr__")):  # sp__P07061__NYLB_PAEUR
        short = ident.split("__")[-1]
    else:
        short = ident
    return re.sub(r"[^A-Za-z0-9._-]+", "_", short).strip("_") or _hash(ident)[:8]


@dataclasses.dataclass
class _Model:
    hmm: HMM[Any]
    family: Family
    members: list[str]
    kind: str  #: "family", "enzyme", "enzyme_close", "PlastEDMA"


@dataclasses.dataclass
class BuildCache:
    """What does not depend on the training set: enzyme HMMs and background maxima."""

    enzyme_hmms: dict[str, HMM[Any]] = dataclasses.field(default_factory=dict)
    #: close-relative (BLOSUM80) single-sequence HMMs, by enzyme
    close_hmms: dict[str, HMM[Any]] = dataclasses.field(default_factory=dict)
    #: each enzyme profile's (either kind) score on its own enzyme, by HMM name
    self_scores: dict[str, float] = dataclasses.field(default_factory=dict)
    #: family HMMs by their members (a fold that keeps a family whole reuses it)
    family_hmms: dict[tuple[str, ...], HMM[Any]] = dataclasses.field(default_factory=dict)
    background_max: dict[str, float] = dataclasses.field(default_factory=dict)
    #: the SHA-256 of each input the cached results come from
    inputs: dict[str, str] = dataclasses.field(default_factory=dict)


def _families(training: Mapping[str, str], labels: Mapping[str, tuple[str, ...]],
              cache: BuildCache, cpus: int) -> list[_Model]:
    """Single-linkage clusters of 2+ training enzymes at each phmmer E-value of LINK_EVALUES
    (a cluster found at two levels is built once), as HMMs whose substrates are the union of
    the members' plastic types."""
    block = hmmtools.digitize(training)
    scored = [(str(hits.query.name), str(hit.name), float(hit.evalue))
              for hits in pyhmmer.hmmer.phmmer(block, block, cpus=cpus, E=max(LINK_EVALUES))
              for hit in hits]
    numbers: Counter[str] = Counter()
    seen: set[tuple[str, ...]] = set()
    models = []
    for level in LINK_EVALUES:
        links = [(a, b) for a, b, evalue in scored if evalue <= level]
        for group in hmmtools.linked_groups(list(training), links):
            if len(group) < 2 or tuple(group) in seen:
                continue
            seen.add(tuple(group))
            primary = Counter(labels[i][0] for i in group if labels[i])
            main = min(primary, key=lambda p: (-primary[p], p)) if primary else "plastic"
            plastics = [main, *sorted({p for i in group for p in labels[i]} - {main})]
            activity = ACTIVITY.get(main, f"{main}_enzyme")
            numbers[activity] += 1
            name = f"{activity}_{numbers[activity]}"
            description = (f"{activity.replace('_', ' ')} family (phmmer E <= {level:g}): "
                           f"{len(group)} validated PDG_DB enzymes acting on "
                           f"{', '.join(plastics)}")
            if tuple(group) not in cache.family_hmms:
                cache.family_hmms[tuple(group)] = hmmtools.build_hmm(
                    name, {i: training[i] for i in group}, seed=SEED, description=description)
            hmm = cache.family_hmms[tuple(group)].copy()
            hmm.name = name
            hmm.description = description
            models.append(_Model(hmm, Family(name, None, description, tuple(plastics),
                                             "enzyme"), list(group), "family"))
    return models


def enzyme_description(ident: str, plastics: Sequence[str]) -> str:
    """What an enzyme profile stands for, in words (``PETase of Thermobifida fusca ...``)."""
    if "____" in ident:  # 00203____PETase____Thermobifida_fusca____PET
        number, name, organism = [*ident.split("____"), "", ""][:3]
        who = f"{name.replace('_', ' ')} of {organism.replace('_', ' ')} (PDG_DB {number})"
    else:
        who = f"enzyme {ident} (PDG_DB)"
    return (f"{who}, validated on {', '.join(plastics) or 'plastic'}; single-sequence "
            "profile")


def _enzyme_hmm(ident: str, sequence: str, plastics: tuple[str, ...], name: str) -> HMM[Any]:
    return hmmtools.build_hmm(name, {ident: sequence}, seed=SEED,
                              description=enzyme_description(ident, plastics))


def close_hmm(ident: str, sequence: str, plastics: Sequence[str], name: str) -> HMM[Any]:
    """A single-sequence HMM scored with ``CLOSE_MATRIX`` (pyhmmer Builder, seed ``SEED``)."""
    builder = Builder(hmmtools.ALPHABET, seed=SEED, score_matrix=CLOSE_MATRIX)
    digital = TextSequence(name=ident, sequence=hmmtools.clean_protein(sequence)).digitize(
        hmmtools.ALPHABET)
    hmm, _, _ = builder.build(digital, Background(hmmtools.ALPHABET))
    hmm.name = name
    hmm.creation_time = None  # no DATE line: a rebuild gives identical bytes
    hmm.command_line = None
    hmm.description = enzyme_description(ident, plastics).replace(
        "single-sequence profile",
        f"close-relative single-sequence profile ({CLOSE_MATRIX})")
    return hmm


def enzyme_names(labels: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    """``{enzyme id: HMM name}`` (``PDG_<first plastic type>_<short id>``), unique."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for ident in sorted(labels):
        base = f"PDG_{labels[ident][0] if labels[ident] else 'plastic'}_{enzyme_label(ident)}"
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name)
        names[ident] = name
    return names


def _background_max(models: Sequence[_Model], background: DigitalSequenceBlock,
                    cache: BuildCache, cpus: int) -> dict[str, float]:
    """Highest background sequence score per HMM (0 when none reaches FLOOR / MARGIN)."""
    key = {m.family.name: _hash(f"{m.kind} {m.members if m.kind == 'family' else m.family.name}")
           for m in models}
    todo = [m.hmm for m in models if key[m.family.name] not in cache.background_max]
    # scores below FLOOR / MARGIN cannot move a threshold off the floor: not reported
    options = {"cpus": cpus, "T": FLOOR / MARGIN, "domT": FLOOR / MARGIN}
    for hits in (pyhmmer.hmmer.hmmsearch(todo, background, **options) if todo else []):
        name = str(hits.query.name)
        cache.background_max[key[name]] = max((float(h.score) for h in hits), default=0.0)
    return {name: cache.background_max[k] for name, k in key.items()}


def threshold(background_max: float, self_score: float | None = None, *,
              margin: float | None = None) -> float:
    """An HMM's threshold: ``margin`` (default ``MARGIN``) x the highest background score,
    never below ``FLOOR`` nor, for an enzyme profile (``self_score``: its enzyme's own score),
    below ``RELATIVE_FLOOR`` x that score; rounded up to the next 0.1 bit."""
    value = max(FLOOR, background_max * (MARGIN if margin is None else margin))
    if self_score is not None:
        value = max(value, RELATIVE_FLOOR * self_score)
    return round(value + 0.05, 1)


def _self_scores(models: Sequence[_Model], training: Mapping[str, str], cache: BuildCache,
                 cpus: int) -> dict[str, float]:
    """Each enzyme profile's (either kind) sequence score on its own enzyme."""
    todo = [m for m in models if m.kind in ("enzyme", "enzyme_close")
            and m.family.name not in cache.self_scores]
    if todo:
        block = hmmtools.digitize({m.members[0]: training[m.members[0]] for m in todo})
        own = {m.family.name: m.members[0] for m in todo}
        for hits in pyhmmer.hmmer.hmmsearch([m.hmm for m in todo], block, cpus=cpus):
            name = str(hits.query.name)
            cache.self_scores[name] = max((float(h.score) for h in hits
                                           if str(h.name) == own[name]), default=0.0)
    return {m.family.name: cache.self_scores[m.family.name] for m in models
            if m.kind in ("enzyme", "enzyme_close")}


def headroom(self_score: float, threshold: float) -> float:
    """How far an enzyme's own score stands above its profile's threshold (a ratio)."""
    return self_score / threshold


@dataclasses.dataclass
class _Calibration:
    """The models of one training set and how their thresholds were set."""

    models: list[_Model]
    #: highest background sequence score, per HMM
    highest: dict[str, float]
    thresholds: dict[str, float]
    #: per enzyme profile: its enzyme's own score
    self_scores: dict[str, float]
    #: per enzyme profile: own score / the background's threshold (before the relative floor)
    headroom: dict[str, float]


def _calibrated(training: Mapping[str, str], labels: Mapping[str, tuple[str, ...]],
                plastedma: Sequence[HMM[Any]], background: DigitalSequenceBlock,
                cache: BuildCache, cpus: int) -> _Calibration:
    """The models of one training set with their thresholds (also written as GA lines),
    close-relative profiles kept only where they gain ``CLOSE_GAIN`` in headroom over the
    BLOSUM62 profile: headroom over the background's threshold, so the choice rests on how
    each profile separates its enzyme from the background."""
    models = _models(training, labels, plastedma, cache, cpus)
    highest = _background_max(models, background, cache, cpus)
    own = _self_scores(models, training, cache, cpus)
    room = {name: headroom(score, threshold(highest[name])) for name, score in own.items()}
    names = enzyme_names(labels)
    kept = [m for m in models if m.kind != "enzyme_close"
            or room[m.family.name] >= CLOSE_GAIN * room[names[m.members[0]]]]
    keep = {m.family.name for m in kept}
    thresholds = {m.family.name: threshold(highest[m.family.name], own.get(m.family.name))
                  for m in kept}
    for m in kept:
        m.hmm.cutoffs.gathering = (thresholds[m.family.name], thresholds[m.family.name])
    return _Calibration(
        kept, {n: v for n, v in highest.items() if n in keep}, thresholds,
        {n: round(v, 1) for n, v in own.items() if n in keep},
        {n: round(v, 3) for n, v in room.items() if n in keep})


def _models(training: Mapping[str, str], labels: Mapping[str, tuple[str, ...]],
            plastedma: Sequence[HMM[Any]], cache: BuildCache, cpus: int) -> list[_Model]:
    families = _families(training, labels, cache, cpus)
    family_of: dict[str, list[str]] = defaultdict(list)
    for m in families:
        for i in m.members:
            family_of[i].append(m.family.name)
    names = enzyme_names(labels)
    models = list(families)
    for ident in training:
        if ident not in cache.enzyme_hmms:
            cache.enzyme_hmms[ident] = _enzyme_hmm(ident, training[ident], labels[ident],
                                                   names[ident])
        hmm = cache.enzyme_hmms[ident]
        within = family_of.get(ident)
        description = str(hmm.description) + (
            f"; member of {', '.join(within)}" if within else "")
        models.append(_Model(hmm, Family(str(hmm.name), None, description, labels[ident],
                                         "enzyme"),
                             [ident], "enzyme"))
    taken = set(names.values())
    for ident in training:
        name = names[ident] + CLOSE_SUFFIX
        if name in taken:
            raise ValueError(f"close-relative profile name {name} is an enzyme profile's")
        if ident not in cache.close_hmms:
            cache.close_hmms[ident] = close_hmm(ident, training[ident], labels[ident], name)
        hmm = cache.close_hmms[ident]
        models.append(_Model(hmm, Family(name, None, str(hmm.description), labels[ident],
                                         "enzyme"), [ident], "enzyme_close"))
    for hmm in plastedma:
        name = f"PlastEDMA_{str(hmm.name).removeprefix('PlastEDMA_')}"
        copy = hmm.copy()
        copy.name = name
        copy.description = "PETase-like HMM from PlastEDMA (UniProt 75-80 % clusters)"
        models.append(_Model(copy, Family(name, None, str(copy.description), ("PET",), "enzyme"),
                             [], "PlastEDMA"))
    return models


def _calls(models: Sequence[_Model], thresholds: Mapping[str, float],
           proteins: DigitalSequenceBlock, cpus: int) -> dict[str, set[str]]:
    """``{protein: families}`` whose sequence score reaches the family's threshold."""
    called: dict[str, set[str]] = defaultdict(set)
    for hits in pyhmmer.hmmer.hmmsearch([m.hmm for m in models], proteins, cpus=cpus,
                                        T=FLOOR, domT=FLOOR):
        family = str(hits.query.name)
        for hit in hits:
            if hit.score >= thresholds[family]:
                called[str(hit.name)].add(family)
    return called


def _recall(held: Sequence[str], called: Mapping[str, set[str]],
            substrates: Mapping[str, tuple[str, ...]],
            labels: Mapping[str, tuple[str, ...]]) -> dict[str, list[int]]:
    """``{primary plastic type: [enzymes, right]}`` and ``"all"``."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for ident in held:
        right = any(set(substrates[f]) & set(labels[ident]) for f in called.get(ident, ()))
        for key in (labels[ident][0] if labels[ident] else "", "all"):
            out[key][0] += 1
            out[key][1] += int(right)
    return dict(out)


def build_plastics(data: Path, out: Path, *, cpus: int = 1, replace: bool = True,
                   progress: Progress | None = None, held_out: Collection[str] = (),
                   cross_validate: bool | None = None, cache: BuildCache | None = None
                   ) -> tuple[Pack, dict[str, Any]]:
    """Build the pack from every labelled enzyme not in ``held_out``; when ``held_out`` is
    empty (the shipped pack) also run and record the cross-validation, unless
    ``cross_validate`` is False. Builds from the same inputs may share one ``cache`` (the
    benchmark's folds): each HMM is then searched against the background once."""
    report = progress or (lambda done, total, what: None)
    faa = data / "plastics" / "PDG_DB_dev.faa"
    labels_path = data / "plastics" / "PDG_DB_dev_labels.tsv"
    plastedma_path = data / PLASTEDMA
    strains = background_strains(data) if (data / "cazy" / "proteomes").is_dir() else []
    background_files = [data / "cazy" / "proteomes" / f"{s}.faa.gz" for s in strains]
    for path in (faa, labels_path, plastedma_path, *(background_files or [
            data / "cazy" / "proteomes"])):
        if not path.exists():
            raise UsageError(f"missing input {path}", [Problem(
                "the labelled plastics data is incomplete", file=str(path),
                fix="pass --data pointing at the folder that holds plastics/, hmm/ and cazy/")])
    enzymes = hmmtools.read_fasta(faa)
    labels = read_labels(labels_path)
    missing = sorted(set(labels) - set(enzymes))
    if missing:
        raise UsageError("labelled enzymes missing from the FASTA", [Problem(
            "no sequence", value=m, file=str(faa)) for m in missing[:20]])
    unknown = sorted(set(held_out) - set(labels))
    if unknown:
        raise UsageError("held-out ids that are not labelled enzymes", [Problem(
            "unknown enzyme id", value=u, file=str(labels_path)) for u in unknown[:20]])
    cv = not held_out if cross_validate is None else cross_validate
    steps = 4 + (FOLDS if cv else 0)
    report(0, steps, "reading enzymes and background proteomes")
    held = sorted(set(held_out))
    train = sorted(set(labels) - set(held))
    training = {i: enzymes[i] for i in train}
    background: dict[str, str] = {}
    for path in background_files:
        background.update(hmmtools.read_fasta(path))
    # identical sequences (strains of one species) score the same: searched once
    unique = {seq: name for name, seq in reversed(background.items())}
    background_block = hmmtools.digitize({name: seq for seq, name in unique.items()})
    plastedma = hmmtools.read_hmms(plastedma_path)
    inputs = {str(p.relative_to(data)): hashlib.sha256(p.read_bytes()).hexdigest()
              for p in (faa, labels_path, plastedma_path, *background_files)}
    if cache is None:
        cache = BuildCache()
    if cache.inputs and cache.inputs != inputs:
        raise ValueError("a build cache is shared only by builds from the same inputs")
    cache.inputs = dict(inputs)

    report(1, steps, "building families and enzyme profiles, calibrating on the background")
    calibration = _calibrated(training, labels, plastedma, background_block, cache, cpus)
    models, highest, thresholds = (calibration.models, calibration.highest,
                                   calibration.thresholds)
    report(2, steps, "calling the training enzymes")
    called = _calls(models, thresholds, hmmtools.digitize(training), cpus)
    substrates = {m.family.name: m.family.substrates for m in models}
    training_recall = _recall(train, called, substrates, labels)

    cross: dict[str, Any] | None = None
    if cv:
        twins = twin_links(enzymes, cpus=cpus)
        folds = cv_folds(labels, twins)
        totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for k, fold in enumerate(folds):
            report(3 + k, steps, f"cross-validation fold {k + 1}/{FOLDS}")
            fold_training = {i: enzymes[i] for i in labels if i not in set(fold)}
            fold_fit = _calibrated(fold_training, labels, plastedma, background_block, cache,
                                   cpus)
            fold_called = _calls(fold_fit.models, fold_fit.thresholds, hmmtools.digitize(
                {i: enzymes[i] for i in fold}), cpus)
            fold_subs = {m.family.name: m.family.substrates for m in fold_fit.models}
            for key, (n, right) in _recall(fold, fold_called, fold_subs, labels).items():
                totals[key][0] += n
                totals[key][1] += right
        cross = {
            "folds": FOLDS, "fold_sizes": [len(f) for f in folds],
            "grouping": f"enzymes >= {TWIN_IDENTITY:.0%} identical (phmmer, over the shorter) "
                        "share a fold; stratified by primary plastic type",
            "recall": round(totals["all"][1] / max(totals["all"][0], 1), 3),
            "per_type": {t: {"enzymes": n, "right": r, "recall": round(r / n, 3)}
                         for t, (n, r) in sorted(totals.items(), key=lambda x: (-x[1][0], x[0]))
                         if t != "all"},
            "right_means": "a called family's substrates include one of the enzyme's plastic "
                           "types",
            "false_positives": f"measured on {HELD_OUT_PROTEOME} (held out of every build) by "
                               "benchmarks/bench_plastics.py",
        }

    report(steps - 1, steps, "writing the pack")
    records: dict[str, Any] = {}
    for m in models:
        name = m.family.name
        member_hits = [i for i in m.members if name in called.get(i, set())]
        records[name] = {
            "kind": m.kind, "members": m.members or None,
            "substrates": list(m.family.substrates), "threshold": thresholds[name],
            "threshold_how": f"max({FLOOR:g}, {MARGIN:g} x highest background score "
                             f"{highest[name]:.1f}" + (
                                 f", {RELATIVE_FLOOR:g} x its enzyme's own score "
                                 f"{calibration.self_scores[name]:.1f})"
                                 if name in calibration.self_scores else ")"),
            "members_called": len(member_hits) if m.members else None,
            "training_enzymes_called": sum(1 for i in train if name in called.get(i, set())),
        }
        if name in calibration.headroom:
            records[name]["self_score"] = calibration.self_scores[name]
            records[name]["headroom"] = calibration.headroom[name]
    kinds = Counter(m.kind for m in models)
    levels = " and ".join(f"E <= {e:g} ({'families' if n == 0 else 'subfamilies'})"
                          for n, e in enumerate(LINK_EVALUES))
    provenance: dict[str, Any] = {
        "source": "built by `lanhai profiles build plastics` from PDG_DB validated enzymes "
                  "(github Z-bioinfo/PDG_DB @875f0969) and PlastEDMA HMMs (github "
                  "ozefreitas/PlastEDMA @1b94529a, MIT)",
        "inputs": inputs,
        "training_enzymes": len(train), "held_out_enzymes": held,
        "built_from": "every labelled enzyme" if not held else
                      f"the labelled enzymes less {len(held)} held out",
        "background_strains": strains, "held_out_proteome": HELD_OUT_PROTEOME,
        "method": {
            "families": "single-linkage clusters of phmmer hits among the training "
                        f"enzymes at {levels}, 2+ enzymes each, a cluster found at two levels "
                        f"built once: FAMSA + pyhmmer Builder (seed {SEED}); substrates = "
                        f"the members' plastic types; {kinds['family']} families",
            "enzyme_profiles": f"one single-sequence HMM per training enzyme "
                               f"({kinds['enzyme']}), substrates = its plastic types",
            "close_profiles": f"a {CLOSE_MATRIX} single-sequence HMM per training enzyme, "
                              f"kept when its headroom (the enzyme's own score / the "
                              f"background's threshold) is >= {CLOSE_GAIN:g} x the BLOSUM62 "
                              f"profile's ({kinds['enzyme_close']} kept)",
            "plastedma": f"{kinds['PlastEDMA']} PlastEDMA PETase HMMs, substrate PET",
            "threshold": f"{MARGIN:g} x the highest sequence score on {len(strains)} "
                         f"background proteomes ({len(background):,} proteins, "
                         f"{len(unique):,} distinct), never below {FLOOR:g} bits nor, for "
                         f"an enzyme profile, below {RELATIVE_FLOOR:g} x its enzyme's own "
                         f"score",
            "threshold_applies_to": "sequence score (hit.score)",
        },
        "training_recall": {t: {"enzymes": n, "right": r} for t, (n, r) in sorted(
            training_recall.items())},
        "cross_validation": cross,
        "versions": {"pyhmmer": pyhmmer.__version__, "pyfamsa": pyfamsa.__version__},
        "families": records,
    }
    pack = Pack(
        name=PACK_NAME, version=PACK_VERSION, category="plastics",
        path=Path("plastics.hmm.gz"), cutoff="calibrated", evalue=1e-5, thresholds=thresholds,
        families={m.family.name: m.family for m in models},
        description=("Plastic-degrading enzymes (PET, PHA, PLA, PBAT, PU, PA, PE, ...): "
                     "plastic-type families and single-enzyme profiles (BLOSUM62, and "
                     "BLOSUM80 for close relatives) from experimentally validated PDG_DB "
                     "enzymes, plus PlastEDMA PETase HMMs"),
        provenance=provenance, hmm_count=len(models))
    folder = write_pack(out, pack, [m.hmm for m in models], replace=replace)
    report(steps, steps, "done")
    return dataclasses.replace(pack, path=folder / pack.path.name), records
