"""Build the general ``cazy`` pack: every CAZy family the labelled data supports
(``lanhai profiles build cazy``).

Inputs (``DATA/cazy``, see /work/shared/data/README.md):

* the training flavobacterial proteomes (every strain but the held-out ones) with their dbCAN2
  hits, kept as dbCAN keeps them by default (E < 1e-15, model coverage >= 0.35) and tied to
  the proteomes' sequences as for the marine pack (:mod:`lanhai.profiles.build_cazy`), with
  one protein per RefSeq id (``distinct``) and the rows the purity rule leaves out offered to
  the family's model (``rescue``);
* ``labelled/families.tsv`` + ``families.faa.gz``: 2,591 CAZy-labelled proteins from the
  characterised PULs of dbCAN-PUL (CAZyDB-identical or dbCAN consensus), cut to their dbCAN
  domain coordinates. Records identical to a held-out strain's protein are left out.

Method:

1. **Units.** A family (GH13) is built when at least ``min_members`` distinct proteins carry it;
   a subfamily (GH13_9) when at least ``min_subfamily`` distinct proteins carry it. Families with
   fewer members are listed as unsupported with their counts, not built.
2. **Models.** Each unit's member domains (distinct sequences) are aligned with FAMSA and built
   into an HMM with pyhmmer's Builder (seeded).
3. **Calibration.** Every unit's HMM searches every protein (training proteomes and labelled
   proteins). Its threshold on the best domain's bit score separates members from proteins that
   carry other families (:func:`lanhai.profiles.hmmtools.choose_threshold`), placed near the
   highest non-member (``THRESHOLD_POSITION``): unseen members score lower than the training
   ones far more often than non-members score higher, as cross-validation shows. Where they
   overlap (a protein dbCAN's table misses can score like a member), the split with the best
   F1 is taken and the threshold placed as far up its gap; proteins whose
   labels are ambiguous for the unit (a dbCAN row that could not be tied to one of them; for a
   subfamily, members of its family without a subfamily label) are neither. The threshold is
   written to ``thresholds`` (applied to the domain score) and as GA lines.
4. **Quality.** ``folds``-fold cross-validation grouped by organism (a strain or a labelled
   organism is wholly in one fold): each fold's members and proteins are left out, the models are
   rebuilt and recalibrated on the rest and called on the fold; recall and precision per unit
   are summed over folds and written to the manifest with the training figures.

Held-out strains are never read while building; ``benchmarks/bench_cazy_agreement.py`` uses them.
"""

from __future__ import annotations

import csv
import hashlib
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyfamsa
import pyhmmer
from pyhmmer.plan7 import HMM

from lanhai.errors import Problem, UsageError
from lanhai.profiles import hmmtools
from lanhai.profiles.build_cazy import (
    HELD_OUT,
    MAX_EVALUE,
    _candidates,
    _resolve_family,
    _sha256,
    cazy_unit,
    load_proteomes,
    read_dbcan_rows,
    strain_key,
)
from lanhai.profiles.pack import Family, Pack
from lanhai.profiles.registry import cazy_family, write_pack

Progress = Callable[[int, int, str], None]

PACK_NAME = "cazy"
PACK_VERSION = "1.2"
DBCAN_COVERAGE = 0.35  # dbCAN's default coverage filter
MIN_MEMBERS = 3
MIN_SUBFAMILY = 3
FOLDS = 3
SEED = 42
#: where a separable unit's threshold sits, from the highest non-member (0) to the lowest
#: member (1); with no non-member scored, this share of the lowest member; where members and
#: non-members overlap, as far up the best split's gap. Chosen by the cross-validation's
#: per-strain family count agreement with dbCAN (benchmarks/bench_cazy_threshold_position.py):
#: 0.896 at 0.5, 0.909 at 0.3, 0.914 at 0.1 (precision of the calls 0.982 -> 0.976)
THRESHOLD_POSITION = 0.1
#: the most member domains aligned for one model (a deterministic, spread-out subset beyond)
MAX_SEEDS = 200


@dataclass(frozen=True)
class Member:
    """One labelled domain: the protein (a key in the protein universe) and its group."""

    protein: str  #: "<strain>|<header>" or "dbcan-pul|<id>"
    group: str  #: strain or organism: the cross-validation unit
    family: str
    subfamily: str | None
    domain: str  #: the domain's sequence
    source: str  #: "dbcan-hits" or "dbcan-pul:<evidence>"


@dataclass
class UnitBuild:
    """What happened to one family or subfamily."""

    unit: str
    family: str
    members: int = 0
    organisms: int = 0
    seeds: int = 0
    sources: dict[str, int] = field(default_factory=dict)
    built: bool = False
    reason: str = ""
    threshold: float | None = None
    threshold_how: str = ""
    lowest_member: float | None = None
    highest_non_member: float | None = None
    training_recall: float | None = None
    training_false_positives: int | None = None
    cv_members: int = 0
    cv_recall: float | None = None
    cv_precision: float | None = None
    cv_false_positives: int | None = None
    #: training proteins set aside as the likely proteins of untied dbCAN rows
    untied_excluded: int = 0


@dataclass
class Universe:
    """Every protein the pack is calibrated on, with what each is known to carry."""

    sequences: dict[str, str] = field(default_factory=dict)
    group: dict[str, str] = field(default_factory=dict)
    labels: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    #: unit -> proteins whose membership is unknown (neither member nor non-member)
    ambiguous: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))


def _domains(spec: str) -> list[tuple[int, int]]:
    out = []
    for part in spec.split(";"):
        if "-" in part:
            start, end = part.split("-", 1)
            if start.strip().isdigit() and end.strip().isdigit():
                out.append((int(start), int(end)))
    return out


def read_labelled(folder: Path, exclude: set[str], *, known: Mapping[str, str] | None = None,
                  held_strains: Sequence[str] = ()
                  ) -> tuple[list[Member], dict[str, str], dict[str, int]]:
    """Members from ``labelled/families.tsv`` (+ ``.faa.gz``), minus proteins whose sequence
    is in ``exclude`` or whose organism carries a held-out strain's designation (``62-1`` of
    ``Maribacter_62-1``). A sequence in ``known`` ({sequence: protein key}, the training
    proteomes) keeps that key, so one protein is never both a member and a non-member.
    Returns (members, {new protein key: full sequence}, skipped counts)."""
    sequences = hmmtools.read_fasta(folder / "families.faa.gz")
    members: list[Member] = []
    proteins: dict[str, str] = {}
    by_sequence: dict[str, str] = dict(known or {})
    designations = {s.rsplit("_", 1)[-1].lower() for s in held_strains}
    skipped: dict[str, int] = defaultdict(int)
    with (folder / "families.tsv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            seq = sequences.get(row["id"])
            if not seq:
                skipped["no sequence"] += 1
                continue
            if seq in exclude:
                skipped["identical to a held-out strain's protein"] += 1
                continue
            if designations & set(row["organism"].lower().split()):
                skipped["from a held-out strain"] += 1
                continue
            coordinates = _domains(row["hmmer_domains"])
            if not coordinates:
                skipped["no domain coordinates"] += 1
                continue
            # one protein key per distinct sequence: a protein labelled with two families
            # (GH16 and CBM6) is one protein carrying both
            key = by_sequence.setdefault(seq, f"dbcan-pul|{row['id'].split('|', 1)[0]}")
            if key.startswith("dbcan-pul|"):
                proteins[key] = seq
            subfamily = row["subfamily"] or None
            for start, end in coordinates:
                domain = seq[max(start - 1, 0):end]
                if len(domain) >= 20:
                    group = (f"strain:{key.split('|', 1)[0]}" if not key.startswith(
                        "dbcan-pul|") else f"org:{row['organism']}")
                    members.append(Member(key, group, row["family"],
                                          subfamily, domain,
                                          f"dbcan-pul:{row['evidence']}"))
    return members, proteins, dict(skipped)


def _training_members(cazy_dir: Path, proteomes: Mapping[str, Mapping[str, str]], cpus: int
                      ) -> tuple[list[Member], dict[str, set[str]], dict[str, int],
                                 dict[tuple[str, str], int]]:
    """Members from the training strains' dbCAN hits; also the proteins each family's
    untied rows could have been (ambiguous for it), the labelled row counts, and per
    (strain, family) how many rows were not tied to a protein (RefSeq's WP_ proteins can
    differ in length from the proteome's, or stand for several identical genes)."""
    rows = read_dbcan_rows(cazy_dir / "dbcan_hits_dev.tsv")
    per_family, labelled = _candidates(rows, proteomes, None, min_coverage=DBCAN_COVERAGE)
    keys = {strain_key(s): s for s in proteomes}
    expected: dict[tuple[str, str], int] = defaultdict(int)
    for row in rows:
        strain, family = keys.get(strain_key(row["Strain"])), cazy_family(row["HMMProfile"])
        if strain and family and float(row["Coverage"]) >= DBCAN_COVERAGE \
                and float(row["evalue"]) < MAX_EVALUE:
            expected[(strain, family)] += 1
    members: list[Member] = []
    ambiguous: dict[str, set[str]] = defaultdict(set)
    untied: dict[tuple[str, str], int] = {}
    for family, entries in sorted(per_family.items()):
        domains = _resolve_family(family, entries, proteomes, cpus, rescue=True,
                                  distinct=True)
        tied = {(d.strain, d.protein) for d in domains}
        for strain in proteomes:
            missing = expected.get((strain, family), 0) - sum(1 for t in tied if t[0] == strain)
            if missing > 0:
                untied[(strain, family)] = missing
        for domain in domains:
            seq = proteomes[domain.strain][domain.protein]
            unit = domain.unit if domain.unit and domain.unit != family else None
            members.append(Member(f"{domain.strain}|{domain.protein}", f"strain:{domain.strain}",
                                  family, unit, seq[max(domain.start - 1, 0):domain.end],
                                  "dbcan-hits"))
        for strain, _row, candidates in entries:
            if not any((strain, c) in tied for c in candidates):
                ambiguous[family].update(f"{strain}|{c}" for c in candidates)
    for (strain, family), n in expected.items():  # families with no candidate at all
        if family not in per_family:
            untied[(strain, family)] = n
    return members, ambiguous, labelled, untied


def _units(members: Sequence[Member], min_members: int, min_subfamily: int
           ) -> tuple[dict[str, list[Member]], dict[str, UnitBuild]]:
    """Members per unit (family, and subfamily where labelled) and a report per unit."""
    by_unit: dict[str, list[Member]] = defaultdict(list)
    for m in members:
        by_unit[m.family].append(m)
        if m.subfamily:
            by_unit[m.subfamily].append(m)
    builds: dict[str, UnitBuild] = {}
    for unit, items in sorted(by_unit.items()):
        family = cazy_family(unit) or unit
        proteins = {m.protein for m in items}
        fb = UnitBuild(unit, family, members=len(proteins),
                       organisms=len({m.group for m in items}))
        fb.sources = dict(sorted(Counter(m.source for m in items).items()))
        need = min_subfamily if unit != family else min_members
        if len(proteins) < need:
            fb.reason = (f"{len(proteins)} labelled protein(s) from {fb.organisms} "
                         f"organism(s); at least {need} needed")
        else:
            fb.built = True
        builds[unit] = fb
    for unit, fb in builds.items():
        if fb.built and unit != fb.family and not builds[fb.family].built:
            fb.built, fb.reason = False, f"its family {fb.family} is not built"
    return by_unit, builds


def _repair_untied(untied: Mapping[tuple[str, str], int],
                   scores: Mapping[str, Mapping[str, float]],
                   member_sets: Mapping[str, set[str]], universe: Universe) -> dict[str, int]:
    """For each (strain, family) with ``n`` dbCAN rows not tied to a protein, the strain's
    ``n`` best-scoring proteins that are not yet members (>= 20 bits) are most likely those
    rows' proteins: they become ambiguous for the family (neither member nor non-member).
    Returns how many proteins each family set aside."""
    found: dict[str, int] = defaultdict(int)
    for (strain, family), n in sorted(untied.items()):
        per = scores.get(family)
        if not per or family not in member_sets:
            continue
        prefix = f"{strain}|"
        options = sorted(((score, p) for p, score in per.items()
                          if p.startswith(prefix) and score >= 20.0
                          and p not in member_sets[family]
                          and p not in universe.ambiguous.get(family, ())), reverse=True)
        for _score, protein in options[:n]:
            universe.ambiguous[family].add(protein)
            found[family] += 1
    return dict(found)


def _model(unit: str, items: Sequence[Member]) -> HMM[Any]:
    seqs: dict[str, str] = {}
    for m in sorted(items, key=lambda m: (m.protein, m.domain)):
        if m.domain not in seqs.values():
            seqs[f"{m.protein}/{len(seqs)}"] = m.domain
    if len(seqs) > MAX_SEEDS:  # a spread-out subset, the same on every build
        names = sorted(seqs, key=lambda n: hashlib.sha256(n.encode()).hexdigest())[:MAX_SEEDS]
        seqs = {n: seqs[n] for n in sorted(names)}
    return hmmtools.build_hmm(unit, seqs, seed=SEED)


def _excluded(unit: str, family: str, universe: Universe,
              by_unit: Mapping[str, Sequence[Member]]) -> set[str]:
    """Proteins that are neither members nor non-members of ``unit``."""
    out = set(universe.ambiguous.get(family, ()))
    if unit != family:  # family members without a subfamily label may belong to it
        labelled_sub = {m.protein for m in by_unit[family] if m.subfamily}
        out |= {m.protein for m in by_unit[family] if m.protein not in labelled_sub}
    return out


def _best_domain_scores(models: Sequence[HMM[Any]], block: Any, cpus: int
                        ) -> dict[str, dict[str, float]]:
    found = hmmtools.search_best(list(models), block, cpus=cpus, evalue=1.0)
    return {unit: {p: hit.domain_score for p, hit in per.items()} for unit, per in found.items()}


def _calibrate(scores: Mapping[str, float], members: set[str], excluded: set[str],
               proteins: Iterable[str], position: float = THRESHOLD_POSITION,
               overlap_in_gap: bool = True
               ) -> tuple[float, str, list[float], list[float]] | None:
    keep = set(proteins)
    positives = [scores.get(p, 0.0) for p in members if p in keep]
    negatives = [s for p, s in scores.items()
                 if p in keep and p not in members and p not in excluded]
    found = [s for s in positives if s > 0]
    if not found:
        return None
    value, how = hmmtools.choose_threshold(found, negatives, position=position,
                                           overlap_in_gap=overlap_in_gap)
    return value, how, positives, negatives


@dataclass
class Labels:
    """Everything the build learns from the labelled data before building any model."""

    universe: Universe
    members: list[Member]
    skipped: dict[str, int]
    dbcan_rows: dict[str, int]
    #: (strain, family) -> dbCAN rows not tied to a protein of the strain
    untied: dict[tuple[str, str], int] = field(default_factory=dict)


def collect_labels(cazy_dir: Path, proteomes: Mapping[str, Mapping[str, str]],
                   held_out: Sequence[str], cpus: int = 1) -> Labels:
    """The members of every family (training strains' dbCAN hits and dbCAN-PUL labels) and
    the protein universe they are calibrated on; held-out strains' proteins never enter."""
    held = load_proteomes(cazy_dir, list(held_out)) if held_out else {}
    held_sequences = {seq for prots in held.values() for seq in prots.values()}
    del held
    train_members, ambiguous, dbcan_rows, untied = _training_members(cazy_dir, proteomes, cpus)
    known = {seq: f"{strain}|{header}" for strain, prots in proteomes.items()
             for header, seq in prots.items()}
    lab_members, lab_proteins, skipped = read_labelled(
        cazy_dir / "labelled", held_sequences, known=known, held_strains=held_out)
    members = train_members + lab_members

    universe = Universe()
    for strain, prots in proteomes.items():
        for header, seq in prots.items():
            key = f"{strain}|{header}"
            universe.sequences[key] = seq
            universe.group[key] = f"strain:{strain}"
    for key, seq in lab_proteins.items():
        universe.sequences[key] = seq
    for m in lab_members:
        universe.group.setdefault(m.protein, m.group)
    for m in members:
        universe.labels[m.protein].add(m.family)
        if m.subfamily:
            universe.labels[m.protein].add(m.subfamily)
    # a protein identical to a member is never a non-member (RefSeq names identical genes
    # with one WP_ protein, so dbCAN's table lists only one of them)
    families_of: dict[str, set[str]] = defaultdict(set)
    for m in members:
        families_of[universe.sequences[m.protein]].add(m.family)
    member_keys = {(m.protein, m.family) for m in members}
    for key, seq in universe.sequences.items():
        for family in families_of.get(seq, ()):
            if (key, family) not in member_keys:
                ambiguous[family].add(key)
    universe.ambiguous = ambiguous
    return Labels(universe, members, skipped, dict(dbcan_rows), untied)


@dataclass
class Training:
    """What the build, its cross-validation and its benchmarks start from: the labels, the
    units, every built unit's model and its best domain score on every protein."""

    labels: Labels
    by_unit: dict[str, list[Member]]
    builds: dict[str, UnitBuild]
    built: list[str]
    block: Any
    member_sets: dict[str, set[str]]
    models: dict[str, HMM[Any]]
    scores: dict[str, dict[str, float]]
    #: proteins set aside per unit as the likely proteins of untied dbCAN rows
    repaired: dict[str, int]
    #: per unit, the proteins that are neither members nor non-members
    excluded: dict[str, set[str]]


def prepare_training(cazy_dir: Path, proteomes: Mapping[str, Mapping[str, str]],
                     held_out: Sequence[str], *, min_members: int = MIN_MEMBERS,
                     min_subfamily: int = MIN_SUBFAMILY, cpus: int = 1,
                     report: Callable[[str], None] = lambda what: None) -> Training:
    """Labels, units and models of the training proteomes, and the models' scores."""
    labels = collect_labels(cazy_dir, proteomes, held_out, cpus)
    universe = labels.universe
    by_unit, builds = _units(labels.members, min_members, min_subfamily)
    built = [u for u, b in builds.items() if b.built]
    block = hmmtools.digitize(universe.sequences)
    member_sets = {u: {m.protein for m in by_unit[u]} for u in built}
    report("building the models")
    models = {u: _model(u, by_unit[u]) for u in built}
    for unit in built:
        builds[unit].seeds = len({m.domain for m in by_unit[unit]})
    scores = _best_domain_scores(list(models.values()), block, cpus)
    repaired = _repair_untied(labels.untied, scores, member_sets, universe)
    excluded = {u: _excluded(u, builds[u].family, universe, by_unit) for u in built}
    return Training(labels, by_unit, builds, built, block, member_sets, models, scores,
                    repaired, excluded)


def fold_of_groups(labels: Labels, folds: int) -> dict[str, int]:
    """The cross-validation fold of every strain or organism (a stable hash of its name)."""
    groups = {m.group for m in labels.members} | set(labels.universe.group.values())
    return {g: int(hashlib.sha256(g.encode()).hexdigest(), 16) % folds for g in sorted(groups)}


def fold_models(training: Training, inside: set[str], *, members_inside_only: bool
                ) -> list[HMM[Any]]:
    """Every built unit's model rebuilt without the proteins ``inside`` a cross-validation fold;
    units left with fewer than two members are skipped and, with ``members_inside_only``, so
    are units with no member inside."""
    models = []
    for unit in training.built:
        rest = [m for m in training.by_unit[unit] if m.protein not in inside]
        if len({m.protein for m in rest}) >= 2 and (not members_inside_only or any(
                m.protein in inside for m in training.by_unit[unit])):
            models.append(_model(unit, rest))
    return models


def build_general_cazy(data: Path, out: Path, *, held_out: Sequence[str] = HELD_OUT,
                       min_members: int = MIN_MEMBERS, min_subfamily: int = MIN_SUBFAMILY,
                       folds: int = FOLDS, cpus: int = 1, replace: bool = True,
                       progress: Progress | None = None) -> tuple[Pack, list[UnitBuild]]:
    """Build the ``cazy`` pack into ``out/cazy`` (atomic); returns it and a report per unit."""
    report = progress or (lambda done, total, what: None)
    started = time.monotonic()
    cazy_dir = data / "cazy"
    inputs = [cazy_dir / "dbcan_hits_dev.tsv", cazy_dir / "labelled" / "families.tsv",
              cazy_dir / "labelled" / "families.faa.gz"]
    for path in inputs:
        if not path.is_file():
            raise UsageError(f"missing input {path}", [Problem(
                "the labelled CAZy data is incomplete", file=str(path),
                fix="pass --data pointing at the folder that holds cazy/ (with cazy/labelled/)")])
    every = sorted(p.name.removesuffix(".faa.gz")
                   for p in (cazy_dir / "proteomes").glob("*.faa.gz"))
    unknown = [s for s in held_out if s not in every]
    if unknown:
        raise UsageError("unknown held-out strain", [Problem(
            f"valid strains: {', '.join(every)}", value=s, field="held_out") for s in unknown])
    training = [s for s in every if s not in held_out]
    total_steps = folds + 4
    report(0, total_steps, "reading proteomes and labels")
    proteomes = load_proteomes(cazy_dir, training)
    prepared = prepare_training(cazy_dir, proteomes, held_out, min_members=min_members,
                                min_subfamily=min_subfamily, cpus=cpus,
                                report=lambda what: report(1, total_steps, what))
    labels, universe = prepared.labels, prepared.labels.universe
    builds, built = prepared.builds, prepared.built
    block, member_sets, models = prepared.block, prepared.member_sets, prepared.models
    scores, repaired, excluded = prepared.scores, prepared.repaired, prepared.excluded

    # cross-validation, grouped by organism
    fold_of = fold_of_groups(labels, folds)
    tallies: dict[str, list[int]] = {u: [0, 0, 0] for u in built}  # tp, fn, fp
    for fold in range(folds):
        report(2 + fold, total_steps, f"cross-validation, fold {fold + 1} of {folds}")
        inside = {p for p, g in universe.group.items() if fold_of[g] == fold}
        outside = set(universe.sequences) - inside
        rebuilt = fold_models(prepared, inside, members_inside_only=True)
        fold_scores = _best_domain_scores(rebuilt, block, cpus)
        for model in rebuilt:
            unit = str(model.name)
            per = fold_scores.get(unit, {})
            calibrated = _calibrate(per, member_sets[unit] - inside, excluded[unit],
                                    outside)
            held_members = member_sets[unit] & inside
            if calibrated is None:
                tallies[unit][1] += len(held_members)
                continue
            cut = calibrated[0]
            tp = sum(1 for p in held_members if per.get(p, 0.0) >= cut)
            fp = sum(1 for p in inside if per.get(p, 0.0) >= cut and p not in member_sets[unit]
                     and p not in excluded[unit])
            tallies[unit][0] += tp
            tallies[unit][1] += len(held_members) - tp
            tallies[unit][2] += fp

    report(folds + 2, total_steps, "calibrating thresholds")
    thresholds: dict[str, float] = {}
    for unit in built:
        fb = builds[unit]
        calibrated = _calibrate(scores.get(unit, {}), member_sets[unit], excluded[unit],
                                universe.sequences)
        if calibrated is None:
            fb.built, fb.reason = False, "its model does not find its own members"
            continue
        value, how, positives, negatives = calibrated
        fb.threshold, fb.threshold_how = value, how
        fb.lowest_member = round(min(s for s in positives if s > 0), 1)
        fb.highest_non_member = round(max(negatives), 1) if negatives else None
        fb.training_recall = round(sum(s >= value for s in positives) / len(positives), 3)
        fb.training_false_positives = sum(s >= value for s in negatives)
        fb.untied_excluded = repaired.get(unit, 0)
        tp, fn, fp = tallies[unit]
        fb.cv_members = tp + fn
        fb.cv_recall = round(tp / (tp + fn), 3) if tp + fn else None
        fb.cv_precision = round(tp / (tp + fp), 3) if tp + fp else None
        fb.cv_false_positives = fp if tp + fn else None
        thresholds[unit] = value
        model = models[unit]
        model.cutoffs.gathering = (value, value)
        model.description = (f"CAZy {'subfamily' if unit != fb.family else 'family'} {unit} "
                             f"built by lanhai from {fb.members} labelled proteins "
                             f"({fb.organisms} organisms)")
    models = {u: m for u, m in models.items() if builds[u].built}

    report(folds + 3, total_steps, "writing the pack")
    order = sorted(models, key=_unit_key)
    families = {u: Family(u, None, str(models[u].description), (), "cazyme") for u in order}
    provenance: dict[str, Any] = {
        "source": "built by `lanhai profiles build cazy` from public labelled data",
        "inputs": {str(p.relative_to(data)): _sha256(p) for p in
                   inputs + [cazy_dir / "proteomes" / f"{s}.faa.gz" for s in training]},
        "training_strains": training, "held_out_strains": list(held_out),
        "labelled_skipped": labels.skipped,
        "dbcan_rows_per_family": dict(sorted(labels.dbcan_rows.items(),
                                             key=lambda kv: _unit_key(kv[0]))),
        "method": {
            "labels": f"dbCAN2 hits of the training strains with E < {MAX_EVALUE} and coverage "
                      f">= {DBCAN_COVERAGE} (dbCAN's default), tied to proteome sequences as "
                      "for the marine-cazy pack; dbCAN-PUL labelled proteins (CAZyDB-identical "
                      "or dbCAN consensus) cut to their dbCAN domain coordinates; proteins "
                      "identical to a held-out strain's protein left out",
            "units": f"a family with >= {min_members} distinct labelled proteins, a subfamily "
                     f"with >= {min_subfamily}",
            "seed": f"FAMSA (pyfamsa, UPGMA guide tree) alignment of at most {MAX_SEEDS} distinct "
                    f"member domains, pyhmmer Builder (seed {SEED})",
            "threshold": f"best domain bit score; {THRESHOLD_POSITION:g} of the way from the "
                         "highest protein carrying other families to the lowest member when "
                         "separable, else best F1; "
                         "floor 20 bits; also written as the HMM's GA lines",
            "untied_rows": "where a strain has n dbCAN rows of a family that could not be "
                           "tied to a protein, its n best-scoring non-member proteins are "
                           "neither members nor non-members of the family",
            "threshold_applies_to": "best domain score",
            "quality": f"{folds}-fold cross-validation grouped by strain / organism: models "
                       "rebuilt and recalibrated without the fold, called on the fold",
        },
        "versions": {"pyhmmer": pyhmmer.__version__, "pyfamsa": pyfamsa.__version__},
        "build_seconds": round(time.monotonic() - started),
        "families": {u: _unit_record(builds[u]) for u in sorted(builds, key=_unit_key)},
        "unsupported": sorted((u for u, b in builds.items() if not b.built), key=_unit_key),
    }
    pack = Pack(
        name=PACK_NAME, version=PACK_VERSION, category="cazy", path=Path("cazy.hmm.gz"),
        cutoff="calibrated", evalue=1e-5, thresholds=thresholds, families=families,
        description=(f"CAZy families and subfamilies (GH, GT, PL, CE, AA, CBM): {len(models)} "
                     "models built from dbCAN-labelled flavobacterial proteomes and the "
                     "characterised PULs of dbCAN-PUL, with calibrated thresholds and "
                     "cross-validated quality per family"),
        provenance=provenance, hmm_count=len(models),
        threshold_on={u: "domain" for u in order})
    folder = write_pack(out, pack, [models[u] for u in order], replace=replace)
    report(total_steps, total_steps, "done")
    return (Pack(pack.name, pack.version, pack.category, folder / "cazy.hmm.gz", pack.cutoff,
                 pack.evalue, pack.thresholds, pack.families, pack.description,
                 pack.provenance, pack.hmm_count, pack.threshold_on),
            [builds[u] for u in sorted(builds, key=_unit_key)])


def _unit_key(unit: str) -> tuple[str, int, int]:
    """GH2 < GH13 < GH13_9 < GH13_38 < GT2."""
    family = cazy_family(unit) or unit
    prefix = family.rstrip("0123456789")
    number = int(family[len(prefix):] or 0)
    sub = unit[len(family) + 1:] if unit != family else ""
    return prefix, number, int(sub) if sub.isdigit() else -1


def _unit_record(fb: UnitBuild) -> dict[str, Any]:
    return {k: v for k, v in {
        "built": fb.built, "reason": fb.reason or None, "family": fb.family,
        "members": fb.members, "organisms": fb.organisms, "sources": fb.sources or None,
        "seed_domains": fb.seeds or None, "threshold": fb.threshold,
        "threshold_how": fb.threshold_how or None, "lowest_member": fb.lowest_member,
        "highest_non_member": fb.highest_non_member, "training_recall": fb.training_recall,
        "training_false_positives": fb.training_false_positives,
        "untied_rows_set_aside": fb.untied_excluded or None,
        "cv_members": fb.cv_members or None, "cv_recall": fb.cv_recall,
        "cv_precision": fb.cv_precision, "cv_false_positives": fb.cv_false_positives,
    }.items() if v is not None}


__all__ = ["UnitBuild", "build_general_cazy", "cazy_unit"]
