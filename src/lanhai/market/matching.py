"""Explained matching of offers and demands, both ways, in either language.

Each entry is read into features: the lexicon's concepts it names (weight 1) and those they
reach (what a named concept is a kind of, or acts on, or is made from: 1/2, two steps 1/4),
and the words left over (1/2). Features are weighted by how rare they are among the entries
matched against (inverse document frequency), so "enzyme" counts for little and "PL7" for
much; the score is the cosine of the two weighted vectors, times 0.8 for each constraint the
candidate misses (readiness level, transfer type, sector, field, expiry). Every match says
why: the concepts both share and the words each used for them, the words in common, and
each constraint met or missed.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from lanhai.market.lexicon import Lexicon, Reading

#: words left over count half as much as a concept named
WORD_WEIGHT = 0.5
#: the score is multiplied by this for each constraint missed
MISSED = 0.8
#: text fields read, in both languages
TEXT_FIELDS = ("title", "title_zh", "summary", "summary_zh", "keywords")
#: a title says what the entry is: its words count twice
TITLE_FIELDS = ("title", "title_zh")


@dataclass(frozen=True)
class Entry:
    """An offer or demand as the matcher sees it."""

    accession: str
    kind: str  # "offer" or "demand"
    fields: Mapping[str, Any]

    @property
    def text(self) -> str:
        parts = []
        for name in TEXT_FIELDS:
            value = self.fields.get(name)
            if isinstance(value, list):
                value = "; ".join(str(v) for v in value)
            if value:
                parts.extend([str(value)] * (2 if name in TITLE_FIELDS else 1))
        return "\n".join(parts)


@dataclass
class Features:
    """One entry's weighted features, and what named them (for explanations)."""

    #: feature ("c:" + concept or "w:" + word) -> weight before IDF
    weights: dict[str, float]
    #: concept -> (the concept the text named that reaches it, words that named that one)
    origin: dict[str, tuple[str, list[str]]] = field(default_factory=dict)


def features(lexicon: Lexicon, text: str) -> Features:
    """The features of a text."""
    reading: Reading = lexicon.read(text)
    weights: dict[str, float] = {}
    origin: dict[str, tuple[str, list[str]]] = {}
    for concept, (weight, named) in lexicon.expand(reading.named).items():
        weights["c:" + concept] = weight
        origin[concept] = (named, reading.named[named])
    for word, count in reading.words.items():
        weights["w:" + word] = WORD_WEIGHT * min(2.0, 1.0 + math.log(count))
    return Features(weights, origin)


@dataclass
class Constraint:
    """One condition of the demand, and whether the offer meets it."""

    name: str
    met: bool
    wanted: Any
    given: Any

    def to_dict(self) -> dict[str, Any]:
        return {"constraint": self.name, "met": self.met, "wanted": self.wanted,
                "given": self.given}


def constraints(demand: Mapping[str, Any], offer: Mapping[str, Any],
                today: dt.date) -> list[Constraint]:
    """The demand's conditions an offer meets or misses (only those the demand states)."""
    found = []
    if demand.get("min_trl") and offer.get("trl"):
        found.append(Constraint("trl", int(offer["trl"]) >= int(demand["min_trl"]),
                                f">= {demand['min_trl']}", offer["trl"]))
    wanted = set(demand.get("transfer_types") or ())
    if wanted and offer.get("transfer_types"):
        given = offer["transfer_types"]
        found.append(Constraint("transfer_types", bool(wanted & set(given)),
                                sorted(wanted), given))
    for name in ("sector", "field"):
        if demand.get(name) and offer.get(name):
            found.append(Constraint(name, demand[name] == offer[name], demand[name],
                                    offer[name]))
    for side, fields in (("offer_expires", offer), ("demand_expires", demand)):
        if fields.get("expires"):
            found.append(Constraint(side, fields["expires"] >= today.isoformat(),
                                    f">= {today.isoformat()}", fields["expires"]))
    return found


@dataclass
class Match:
    """One ranked candidate with its score and explanation."""

    accession: str
    score: float
    similarity: float
    shared: list[dict[str, Any]]
    words: list[str]
    constraints: list[Constraint]

    def to_dict(self) -> dict[str, Any]:
        return {"accession": self.accession, "score": round(self.score, 4),
                "similarity": round(self.similarity, 4), "shared_concepts": self.shared,
                "shared_words": self.words,
                "constraints": [c.to_dict() for c in self.constraints]}


class MatchIndex:
    """The entries of one kind, as IDF-weighted unit vectors in one sparse matrix, ready to
    be ranked against any query entry."""

    def __init__(self, lexicon: Lexicon, entries: Sequence[Entry],
                 read: Mapping[str, Features]) -> None:
        self.lexicon = lexicon
        self.entries = list(entries)
        self.features = [read[e.accession] for e in self.entries]
        vocabulary: dict[str, int] = {}
        rows, cols, values = [], [], []
        for row, feats in enumerate(self.features):
            for name, weight in feats.weights.items():
                rows.append(row)
                cols.append(vocabulary.setdefault(name, len(vocabulary)))
                values.append(weight)
        self.vocabulary = vocabulary
        shape = (len(self.entries), max(1, len(vocabulary)))
        matrix = sparse.csr_matrix((values, (rows, cols)), shape=shape, dtype=np.float64)
        present = np.bincount(np.asarray(cols, dtype=np.int64), minlength=shape[1])
        self.idf: NDArray[np.float64] = np.log((1 + len(self.entries)) / (1 + present)) + 1.0
        weighted = (matrix @ sparse.diags(self.idf)).tocsr()
        norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        self.matrix = sparse.diags(1.0 / norms) @ weighted

    def _query_vector(self, feats: Features) -> sparse.csr_matrix:
        cols, values = [], []
        for name, weight in feats.weights.items():
            col = self.vocabulary.get(name)
            if col is not None:
                cols.append(col)
                values.append(weight * self.idf[col])
        norm = math.sqrt(sum(v * v for v in values)) or 1.0
        return sparse.csr_matrix((np.asarray(values) / norm,
                                  (np.zeros(len(cols), dtype=np.int64), cols)),
                                 shape=(1, self.matrix.shape[1]))

    def rank(self, query: Entry, feats: Features, top: int,
             today: dt.date | None = None, exclude: frozenset[str] = frozenset()
             ) -> list[Match]:
        """The ``top`` best candidates for ``query`` (a demand ranks offers and the other way
        round), each explained."""
        if not self.entries:
            return []
        today = today or dt.date.today()
        similarity = (self.matrix @ self._query_vector(feats).T).toarray().ravel()
        order = np.argsort(-similarity, kind="stable")
        found: list[Match] = []
        # constraints only lower a score: look deeper than ``top`` so a lowered one is
        # replaced by the next, and stop when no later similarity could beat the last kept
        for row in order:
            sim = float(similarity[row])
            if sim <= 0.0 or (len(found) >= top and sim <= found[-1].score):
                break
            candidate = self.entries[row]
            if candidate.accession in exclude:
                continue
            demand, offer = (query.fields, candidate.fields) if query.kind == "demand" \
                else (candidate.fields, query.fields)
            checks = constraints(demand, offer, today)
            score = sim * MISSED ** sum(not c.met for c in checks)
            found.append(self._explain(feats, row, sim, score, checks))
            found.sort(key=lambda m: -m.score)
            del found[top:]
        return found

    def _explain(self, feats: Features, row: int, sim: float, score: float,
                 checks: list[Constraint]) -> Match:
        theirs = self.features[row]
        shared = []
        for name in feats.weights.keys() & theirs.weights.keys():
            col = self.vocabulary[name]
            weight = feats.weights[name] * theirs.weights[name] * self.idf[col] ** 2
            shared.append((weight, name))
        shared.sort(reverse=True)
        concepts, words = [], []
        for weight, name in shared:
            if name.startswith("w:"):
                words.append(name[2:])
                continue
            cid = name[2:]
            concept = self.lexicon.concepts[cid]
            mine, their = feats.origin[cid], theirs.origin[cid]
            concepts.append({
                "concept": cid, "en": concept.label, "zh": concept.label_zh,
                "weight": round(float(weight), 4),
                "query_says": mine[1], "query_via": None if mine[0] == cid else mine[0],
                "candidate_says": their[1],
                "candidate_via": None if their[0] == cid else their[0]})
        return Match(self.entries[row].accession, score, sim, concepts[:8], words[:8],
                     checks)
