"""Build the ``marine-cazy`` pack from labelled public data (``lanhai profiles build``).

Input (``DATA/cazy``, see /work/shared/data/README.md): 18 flavobacterial proteomes, dbCAN2
hits with domain coordinates, and the characterised Zobellia galactanivorans PUL genes.

Method, per marine family (the ``[marine]`` section of ``cazy_substrates.toml``):

1. **Labels to sequences.** dbCAN hits of the *training* strains that pass the paper's filter
   (coverage >= 0.65, E < 1e-15) name RefSeq WP_ proteins, while the proteomes use locus tags.
   A hit is tied to the one protein of its strain with the hit's protein length when that
   length is unique; otherwise, after a first model is built from those unique matches, to the
   same-length protein that scores best against it (>= 20 bits). Unique matches that score
   < 20 bits against their own family's first model are dropped as mismatches. Sulfatases (S1)
   come from the characterised Zobellia genes with EC 3.1.6.* (full-length).
2. **Seed model.** The labelled domain sequences (hit coordinates) are aligned with FAMSA and
   built into an HMM[Any] with pyhmmer's Builder (seeded, so the result is reproducible).
3. **Widening** (jackhmmer-like rounds): the model searches every training proteome; proteins
   whose best domain has i-E <= 1e-20, covers >= 65 % of the model and is not better explained
   by another family join the family; the model is rebuilt; until nothing changes or
   ``rounds`` is reached.
4. **Calibration.** Each family's sequence bit-score threshold separates its members from
   every other training protein (see :func:`lanhai.profiles.hmmtools.choose_threshold`); it is
   written both to ``pack.json`` (``thresholds``) and as the HMM's GA line.

Held-out strains are never read while building; ``benchmarks/bench_cazy_agreement.py`` uses them.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyfamsa
import pyhmmer
from pyhmmer.plan7 import HMM

from lanhai.errors import Problem, UsageError
from lanhai.profiles import hmmtools
from lanhai.profiles.pack import Family, Pack
from lanhai.profiles.registry import (
    cazy_family,
    marine_substrates,
    write_pack,
)

Progress = Callable[[int, int, str], None]

PACK_NAME = "marine-cazy"
PACK_VERSION = "1.0"
#: strains never used to build the pack (evaluation set of bench_cazy_agreement)
HELD_OUT = ("Maribacter_62-1", "Maribacter_forsetii_DSM18668",
            "Zobellia_amurskyensis_KMM3526", "Muricauda_alvinocaridis_SCR12")
MIN_COVERAGE = 0.65  # the paper's dbCAN filter (Wolter et al. 2021)
MAX_EVALUE = 1e-15
WIDEN_IEVALUE = 1e-20
WIDEN_COVERAGE = 0.65
RESOLVE_BITS = 20.0
#: a row left out by the purity rule is tied to the candidate the family's model scores best
#: when that protein scores at least this many bits and every other candidate under half of it
RESCUE_BITS = 10.0
SEED = 42
_UNIT = re.compile(r"^((?:GH|GT|PL|CE|AA|CBM)\d+(?:_\d+)?)(?![0-9])(?:_[A-Za-z]|$)")


def strain_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def cazy_unit(name: str) -> str | None:
    """The CAZy family or subfamily a dbCAN model or label names: ``GH13_9.hmm`` -> ``GH13_9``,
    ``GT2_Glycos_transf_2.hmm`` -> ``GT2``."""
    match = _UNIT.match(name.removesuffix(".hmm"))
    return match.group(1) if match else None


def locus_tag(header: str) -> str:
    """``YQ22_00005_[Maribacter_2014MBL_MicDiv]`` -> ``YQ22_00005``."""
    return header.split("_[", 1)[0]


@dataclass
class Domain:
    family: str
    strain: str
    protein: str  #: proteome header
    start: int  #: 1-based inclusive on the protein
    end: int
    source: str  #: "dbcan-unique-length", "dbcan-best-scoring", "zobellia-ec", "widening"
    unit: str = ""  #: the dbCAN model's family or subfamily (``GH13_9``) when it names one


@dataclass
class FamilyBuild:
    family: str
    substrates: tuple[str, ...]
    labelled_rows: int = 0
    seeds: int = 0
    members: int = 0
    rounds: int = 0
    threshold: float | None = None
    threshold_how: str = ""
    lowest_member: float | None = None
    highest_non_member: float | None = None
    training_recall: float | None = None
    training_false_positives: int | None = None
    built: bool = False
    reason: str = ""
    seed_sources: dict[str, int] = field(default_factory=dict)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_proteomes(cazy_dir: Path, strains: Sequence[str] | None = None
                   ) -> dict[str, dict[str, str]]:
    """``{strain (file stem): {header: protein}}`` for the proteomes in ``cazy/proteomes``."""
    folder = cazy_dir / "proteomes"
    files = sorted(folder.glob("*.faa.gz"))
    if not files:
        raise UsageError(f"no proteomes in {folder}", [Problem(
            "expected the 18 *.faa.gz flavobacterial proteomes", file=str(folder),
            fix="pass --data pointing at the folder that holds cazy/ and plastics/")])
    out = {}
    for path in files:
        strain = path.name.removesuffix(".faa.gz")
        if strains is None or strain in strains:
            out[strain] = hmmtools.read_fasta(path)
    return out


def read_dbcan_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def _candidates(rows: list[dict[str, str]], proteomes: Mapping[str, Mapping[str, str]],
                marine: Mapping[str, object] | None, *, min_coverage: float = MIN_COVERAGE
                ) -> tuple[dict[str, list[tuple[str, dict[str, str], list[str]]]], dict[str, int]]:
    """Per family, each filtered dbCAN row of a training strain with its candidate proteins:
    the protein with the row's id, else every protein of the strain with the row's length.
    Only the families in ``marine`` are kept (every family when it is None)."""
    keys = {strain_key(s): s for s in proteomes}
    by_tag = {s: {locus_tag(h): h for h in prots} for s, prots in proteomes.items()}
    by_len: dict[str, dict[int, list[str]]] = {}
    for strain, prots in proteomes.items():
        lengths: dict[int, list[str]] = defaultdict(list)
        for header, seq in prots.items():
            lengths[len(seq)].append(header)
        by_len[strain] = lengths
    per_family: dict[str, list[tuple[str, dict[str, str], list[str]]]] = defaultdict(list)
    labelled: dict[str, int] = defaultdict(int)
    for row in rows:
        found = keys.get(strain_key(row["Strain"]))
        family = cazy_family(row["HMMProfile"])
        if found is None or family is None or (marine is not None and family not in marine):
            continue
        if float(row["Coverage"]) < min_coverage or float(row["evalue"]) >= MAX_EVALUE:
            continue
        labelled[family] += 1
        exact = by_tag[found].get(row["protein_id"])
        candidates = [exact] if exact else sorted(by_len[found].get(int(row["GeneLength"]), []))
        if candidates:
            per_family[family].append((found, row, candidates))
    return per_family, dict(labelled)


def _resolve_family(family: str, entries: list[tuple[str, dict[str, str], list[str]]],
                    proteomes: Mapping[str, Mapping[str, str]], cpus: int, *,
                    rescue: bool = False, distinct: bool = False) -> list[Domain]:
    """Tie each labelled row to one candidate: the only one, or the one most similar
    (phmmer, summed best bit score) to the candidates of the family's other labelled proteins.
    A row is kept only when its choice scores >= RESOLVE_BITS against another row's
    candidates (or it is the family's only row with a single candidate), and only when its
    choice belongs to the largest group of choices linked to each other by >= RESOLVE_BITS.

    With ``rescue``, every other row is then offered to a model of that largest group
    (:func:`_rescue_rows`): a divergent paralogue the largest group cannot link by pairwise
    scores, or a row whose candidates' conserved neighbours of the same length outvoted the
    family's own protein, is tied to the candidate the model recognises.

    With ``distinct``, rows naming different RefSeq proteins of one strain are tied to different
    proteins: rows choose in order of their best support, each the best candidate no other
    protein's row has taken (two same-length paralogues are otherwise both tied to the one with
    more support, and the other counts as a non-member)."""
    names: dict[str, str] = {}
    owner: dict[str, int] = {}
    for i, (strain, row, candidates) in enumerate(entries):
        start, end = int(row["GeneStart"]), int(row["GeneEnd"])
        for header in candidates:
            seq = proteomes[strain][header][start - 1:end]
            if len(seq) >= 20:
                name = f"{i}|{header}"
                names[name] = seq
                owner[name] = i
    group = {i: (strain, row["protein_id"]) for i, (strain, row, _) in enumerate(entries)}
    best: dict[tuple[str, int], float] = {}
    pair: dict[tuple[str, str], float] = {}
    if len(names) > 1:
        block = hmmtools.digitize(names)
        for hits in pyhmmer.hmmer.phmmer(block, block, cpus=cpus, E=1e-5):
            query = str(hits.query.name)
            for hit in hits:
                target = str(hit.name)
                other = owner[target]
                if group[other] == group[owner[query]]:
                    continue
                key = (query, other)
                best[key] = max(best.get(key, 0.0), float(hit.score))
                pair[(query, target)] = max(pair.get((query, target), 0.0), float(hit.score))
    support: dict[int, dict[str, float]] = {}
    for name in names:
        support.setdefault(owner[name], {})[name] = 0.0
    for (query, _other), value in best.items():
        support[owner[query]][query] += value
    order = sorted(support, key=lambda i: (-max(support[i].values()), i)) if distinct \
        else sorted(support)
    tops: dict[int, str] = {}
    #: (strain, proteome header) -> the RefSeq id of the row tied to it
    claimed: dict[tuple[str, str], str] = {}
    for i in order:
        strain, row, candidates = entries[i]
        ranked = sorted(support[i], key=lambda n: (support[i][n], n), reverse=True)
        if distinct:
            ranked = [n for n in ranked if _free(claimed, strain, n, row["protein_id"])]
            if not ranked:
                continue
        top = ranked[0]
        strongest = max((v for (q, _), v in best.items() if q == top), default=0.0)
        if strongest >= RESOLVE_BITS or (len(candidates) == 1 and len(entries) == 1):
            tops[i] = top
            claimed[(strain, top.split("|", 1)[1])] = row["protein_id"]
    # purity: same-length orthologues of a wrong protein can support each other, so keep only
    # the largest group of choices linked by >= RESOLVE_BITS (same protein counts as linked)
    rows = sorted(tops)
    links = ((x, y) for x in rows for y in rows
             if x < y and (tops[x].split("|", 1)[1] == tops[y].split("|", 1)[1]
                           or max(pair.get((tops[x], tops[y]), 0.0),
                                  pair.get((tops[y], tops[x]), 0.0)) >= RESOLVE_BITS))
    groups = hmmtools.linked_groups(rows, links)
    kept = set(groups[0]) if groups else set()
    rescued: dict[int, str] = {}
    if rescue and kept:
        taken = {(entries[i][0], tops[i].split("|", 1)[1]): entries[i][1]["protein_id"]
                 for i in kept} if distinct else None
        rescued = _rescue_rows(family, entries, proteomes,
                               {tops[i]: names[tops[i]] for i in sorted(kept)},
                               [n for n in names if owner[n] not in kept], owner, cpus, taken)
        tops.update(rescued)
        kept |= set(rescued)
    domains = []
    for i in sorted(kept):
        strain, row, candidates = entries[i]
        top = tops[i]
        single = len(candidates) == 1
        source = ("dbcan-exact-id" if row["protein_id"] == locus_tag(top.split("|", 1)[1])
                  else "dbcan-model-choice" if i in rescued
                  else "dbcan-unique-length" if single else "dbcan-length-consensus")
        domains.append(Domain(family, strain, top.split("|", 1)[1], int(row["GeneStart"]),
                              int(row["GeneEnd"]), source, cazy_unit(row["HMMProfile"]) or ""))
    return domains


def _free(claims: Mapping[tuple[str, str], str], strain: str, name: str, protein_id: str
          ) -> bool:
    """Whether candidate ``name`` (``"<row>|<header>"``) of ``strain`` is not tied to a row of
    another RefSeq protein than ``protein_id``."""
    return claims.get((strain, name.split("|", 1)[1]), protein_id) == protein_id


def _rescue_rows(family: str, entries: Sequence[tuple[str, dict[str, str], list[str]]],
                 proteomes: Mapping[str, Mapping[str, str]], seeds: Mapping[str, str],
                 others: Sequence[str], owner: Mapping[str, int], cpus: int,
                 taken: Mapping[tuple[str, str], str] | None = None) -> dict[int, str]:
    """Rows tied to a candidate by a model of the kept rows' domains (``seeds``): each row's
    candidate proteins (``others``, ``"<row>|<header>"``) are scored whole by that model; the
    best is taken when it scores >= RESCUE_BITS and every other candidate of the row under half
    of it. With ``taken`` ((strain, header) -> RefSeq id already tied to it), candidates taken
    by another RefSeq id are left out, rows choose in order of their best score and a protein
    goes to one RefSeq id only."""
    if taken is not None:
        others = [n for n in others
                  if _free(taken, entries[owner[n]][0], n, entries[owner[n]][1]["protein_id"])]
    if not others:
        return {}
    model = hmmtools.build_hmm(family, seeds, seed=SEED)
    whole = {n: proteomes[entries[owner[n]][0]][n.split("|", 1)[1]] for n in others}
    score: dict[str, float] = {}
    for hits in pyhmmer.hmmer.hmmsearch([model], hmmtools.digitize(whole), cpus=cpus, T=0.0):
        for hit in hits:
            score[str(hit.name)] = float(hit.score)
    by_row: dict[int, list[tuple[float, str]]] = defaultdict(list)
    for name in others:
        by_row[owner[name]].append((score.get(name, 0.0), name))
    claims = dict(taken or {})
    rescued = {}
    for options in by_row.values():
        options.sort(reverse=True)
    for i, options in sorted(by_row.items(), key=lambda item: (-item[1][0][0], item[0])):
        (best, name), (strain, row, _) = options[0], entries[i]
        if taken is not None and not _free(claims, strain, name, row["protein_id"]):
            continue
        if best >= RESCUE_BITS and all(other < best / 2 for other, _ in options[1:]):
            rescued[i] = name
            claims[(strain, name.split("|", 1)[1])] = row["protein_id"]
    return rescued


def _domain_seq(proteomes: Mapping[str, Mapping[str, str]], d: Domain) -> str:
    seq = proteomes[d.strain][d.protein]
    return seq[max(d.start - 1, 0):d.end]


def _build(family: str, domains: Sequence[Domain],
           proteomes: Mapping[str, Mapping[str, str]]) -> HMM[Any]:
    seqs: dict[str, str] = {}
    seen: set[str] = set()
    for d in sorted(domains, key=lambda d: (d.strain, d.protein, d.start)):
        seq = _domain_seq(proteomes, d)
        if len(seq) >= 20 and seq not in seen:
            seen.add(seq)
            seqs[f"{d.protein}/{d.start}-{d.end}"] = seq
    return hmmtools.build_hmm(family, seqs, seed=SEED)


def build_marine_cazy(data: Path, out: Path, *, held_out: Sequence[str] = HELD_OUT,
                      rounds: int = 3, min_seeds: int = 2, cpus: int = 1,
                      replace: bool = True, progress: Progress | None = None
                      ) -> tuple[Pack, list[FamilyBuild]]:
    """Build the marine-cazy pack into ``out/marine-cazy`` (atomic); returns it and a report."""
    report = progress or (lambda done, total, what: None)
    cazy_dir = data / "cazy"
    hits_path = cazy_dir / "dbcan_hits_dev.tsv"
    zob_path = cazy_dir / "zobellia_characterized_pul_genes.tsv"
    for path in (hits_path, zob_path):
        if not path.is_file():
            raise UsageError(f"missing input {path}", [Problem(
                "the labelled CAZy data is incomplete", file=str(path),
                fix="pass --data pointing at the folder that holds cazy/")])
    every = sorted(p.name.removesuffix(".faa.gz")
                   for p in (cazy_dir / "proteomes").glob("*.faa.gz"))
    unknown = [s for s in held_out if s not in every]
    if unknown:
        raise UsageError("unknown held-out strain", [Problem(
            f"valid strains: {', '.join(every)}", value=s, field="held_out") for s in unknown])
    training = [s for s in every if s not in held_out]
    report(0, 5, "reading proteomes")
    proteomes = load_proteomes(cazy_dir, training)
    marine = marine_substrates()
    per_family, labelled = _candidates(read_dbcan_rows(hits_path), proteomes, marine)
    report(1, 5, "resolving labels")
    resolved: dict[str, list[Domain]] = defaultdict(list)
    for family, entries in sorted(per_family.items()):
        resolved[family] = _resolve_family(family, entries, proteomes, cpus)

    # sulfatases: characterised Zobellia genes with EC 3.1.6.*, full length
    zob = "Zobellia_galactanivorans_DsiJ"
    if zob in proteomes:
        tags = {locus_tag(h): h for h in proteomes[zob]}
        with zob_path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                if row["ec_number"].startswith("3.1.6.") and row["locus_tag"] in tags:
                    header = tags[row["locus_tag"]]
                    labelled["S1"] = labelled.get("S1", 0) + 1
                    resolved["S1"].append(Domain("S1", zob, header, 1,
                                                 len(proteomes[zob][header]), "zobellia-ec"))

    everything = {f"{h}": seq for prots in proteomes.values() for h, seq in prots.items()}
    strain_of = {h: s for s, prots in proteomes.items() for h in prots}
    block = hmmtools.digitize(everything)

    builds: dict[str, FamilyBuild] = {}
    for family in sorted(set(marine) | set(labelled)):
        fb = FamilyBuild(family, marine.get(family, ()), labelled_rows=labelled.get(family, 0))
        domains = resolved.get(family, [])
        proteins = {d.protein for d in domains}
        fb.seeds = len(proteins)
        fb.seed_sources = dict(sorted(Counter(d.source for d in domains).items()))
        if not labelled.get(family):
            fb.reason = "no labelled member in the training strains"
        elif fb.seeds < min_seeds:
            fb.reason = (f"{fb.seeds} labelled protein(s) could be tied to a sequence; "
                         f"at least {min_seeds} needed")
        else:
            fb.built = True
        builds[family] = fb

    members: dict[str, list[Domain]] = {f: list(resolved[f]) for f, b in builds.items() if b.built}
    models = {f: _build(f, members[f], proteomes) for f in sorted(members)}
    # widening
    for round_no in range(1, rounds + 1):
        report(2, 5, f"widening, round {round_no}")
        scores = hmmtools.search_best(list(models.values()), block, cpus=cpus)
        changed = []
        for family in sorted(models):
            have = {d.protein for d in members[family]}
            added = []
            for header, hit in sorted(scores[family].items()):
                if header in have or hit.domain_ievalue > WIDEN_IEVALUE \
                        or hit.hmm_coverage < WIDEN_COVERAGE:
                    continue
                rivals = [scores[o][header] for o in scores if o != family
                          and header in scores[o] and _overlap(scores[o][header], hit) > 0.5]
                if any(r.domain_score > hit.domain_score for r in rivals):
                    continue
                added.append(Domain(family, strain_of[header], header, hit.env_from,
                                    hit.env_to, "widening"))
            if added:
                members[family].extend(added)
                changed.append(family)
            builds[family].rounds = round_no
        for family in changed:
            models[family] = _build(family, members[family], proteomes)
        if not changed:
            break

    # calibration
    report(3, 5, "calibrating thresholds")
    scores = hmmtools.search_best(list(models.values()), block, cpus=cpus)
    thresholds: dict[str, float] = {}
    for family, model in models.items():
        fb = builds[family]
        in_family = {d.protein for d in members[family]}
        fb.members = len(in_family)
        positives = [scores[family][h].score for h in in_family if h in scores[family]]
        negatives = [hit.score for h, hit in scores[family].items() if h not in in_family]
        if not positives:
            fb.built, fb.reason = False, "its model does not find its own members"
            continue
        value, how = hmmtools.choose_threshold(positives, negatives)
        fb.threshold, fb.threshold_how = value, how
        fb.lowest_member = round(min(positives), 1)
        fb.highest_non_member = round(max(negatives), 1) if negatives else None
        fb.training_recall = round(sum(s >= value for s in positives) / len(in_family), 3)
        fb.training_false_positives = sum(s >= value for s in negatives)
        thresholds[family] = value
        model.cutoffs.gathering = (value, value)
        model.description = (f"marine CAZy family {family} built by lanhai from "
                             f"{fb.seeds} labelled proteins; {fb.members} after widening")
    models = {f: m for f, m in models.items() if builds[f].built}

    report(4, 5, "writing the pack")
    families = {f: Family(f, None, str(models[f].description), builds[f].substrates,
                          "sulfatase" if f == "S1" else "cazyme") for f in sorted(models)}
    provenance: dict[str, Any] = {
        "source": "built by `lanhai profiles build marine-cazy` from public labelled data",
        "inputs": {str(p.relative_to(data)): _sha256(p) for p in
                   [hits_path, zob_path] + [cazy_dir / "proteomes" / f"{s}.faa.gz"
                                            for s in training]},
        "training_strains": training, "held_out_strains": list(held_out),
        "method": {
            "labels": f"dbCAN2 hits with coverage >= {MIN_COVERAGE} and E < {MAX_EVALUE}, tied "
                      "to proteome sequences by unique protein length, else by best score "
                      f">= {RESOLVE_BITS} bits against a first model; S1 sulfatases from the "
                      "characterised Zobellia galactanivorans genes with EC 3.1.6.*",
            "seed": "FAMSA (pyfamsa, UPGMA guide tree) alignment of labelled domains, "
                    f"pyhmmer Builder (seed {SEED})",
            "widening": f"up to {rounds} rounds: add training proteins with best-domain "
                        f"i-E <= {WIDEN_IEVALUE}, model coverage >= {WIDEN_COVERAGE}, not "
                        "better explained by another family; rebuild",
            "threshold": "sequence bit score; midpoint between lowest member and highest "
                         "non-member in the training strains when separable, else best F1; "
                         "floor 20 bits; also written as the HMM's GA line",
            "threshold_applies_to": "sequence score (hit.score)",
        },
        "versions": {"pyhmmer": pyhmmer.__version__, "pyfamsa": pyfamsa.__version__},
        "families": {f: _family_record(b) for f, b in sorted(builds.items())},
    }
    pack = Pack(
        name=PACK_NAME, version=PACK_VERSION, category="cazy", path=Path("marine-cazy.hmm.gz"),
        cutoff="calibrated", evalue=1e-5, thresholds=thresholds, families=families,
        description=("Marine polysaccharide CAZyme families (agar, porphyran, carrageenan, "
                     "alginate, ulvan, fucoidan, laminarin, chitin) and S1 sulfatases, built "
                     "from dbCAN-labelled flavobacterial proteomes with calibrated thresholds"),
        provenance=provenance, hmm_count=len(models))
    folder = write_pack(out, pack, [models[f] for f in sorted(models)], replace=replace)
    report(5, 5, "done")
    return Pack(pack.name, pack.version, pack.category, folder / "marine-cazy.hmm.gz",
                pack.cutoff, pack.evalue, pack.thresholds, pack.families, pack.description,
                pack.provenance, pack.hmm_count), list(builds.values())


def _overlap(a: hmmtools.BestHit, b: hmmtools.BestHit) -> float:
    shared = min(a.env_to, b.env_to) - max(a.env_from, b.env_from) + 1
    return max(shared, 0) / max(min(a.env_to - a.env_from, b.env_to - b.env_from) + 1, 1)


def _family_record(fb: FamilyBuild) -> dict[str, Any]:
    return {k: v for k, v in {
        "built": fb.built, "reason": fb.reason or None, "substrates": list(fb.substrates),
        "labelled_rows": fb.labelled_rows, "seed_proteins": fb.seeds,
        "seed_sources": fb.seed_sources or None, "members_after_widening": fb.members or None,
        "rounds": fb.rounds or None, "threshold": fb.threshold,
        "threshold_how": fb.threshold_how or None, "lowest_member": fb.lowest_member,
        "highest_non_member": fb.highest_non_member, "training_recall": fb.training_recall,
        "training_false_positives": fb.training_false_positives,
    }.items() if v is not None}

