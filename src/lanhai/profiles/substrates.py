"""What CAZy families act on: the shipped table ``data/cazy_substrates.toml`` (its comments
give the literature) and its controlled substrate vocabulary.

* :func:`substrates_of` — a family's or subfamily's substrates (``GH13_9.hmm`` takes the
  ``GH13_9`` entry when there is one, else ``GH13``'s), :func:`entry_level` says which;
* :func:`normalise` / :func:`normalise_label` — a user's or dbCAN-PUL's word ("glycogen",
  "agarose", "Arabinoxylan") to the vocabulary's term ("starch", "agar", "xylan");
* :func:`related` — two terms where one is a kind of the other (laminarin, beta-glucan);
* :func:`votes_for_pul` — False for substrates that are no PUL's target (peptidoglycan, lignin).
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Literal

FILE = "cazy_substrates.toml"
_FAMILY = re.compile(r"^(GH|GT|PL|CE|AA|CBM|S)(\d+)")
_SUBFAMILY = re.compile(r"^((?:GH|GT|PL|CE|AA|CBM|S)\d+_\d+)(?:\.hmm)?$")
#: a key of the table: a family (GH16, S1) or a subfamily (GH16_3, S1_19)
KEY = re.compile(r"^(?:GH|GT|PL|CE|AA|CBM|S)\d{1,3}(?:_\d{1,3})?$")
Level = Literal["subfamily", "family"]


@dataclass(frozen=True)
class Term:
    """One substrate of the vocabulary."""

    name: str
    synonyms: tuple[str, ...]
    broader: str | None  #: the term it is a kind of (laminarin -> beta-glucan)
    pul: bool  #: False: never the substrate of a polysaccharide utilisation locus


@dataclass(frozen=True)
class SubstrateTable:
    """The parsed table: vocabulary, general entries (family and subfamily keys), marine."""

    vocabulary: Mapping[str, Term]
    families: Mapping[str, tuple[str, ...]]
    marine: Mapping[str, tuple[str, ...]]


def table_path() -> Path:
    return Path(str(files("lanhai.profiles") / "data" / FILE))


@functools.lru_cache(maxsize=1)
def table() -> SubstrateTable:
    """The shipped table, read once."""
    with table_path().open("rb") as handle:
        data = tomllib.load(handle)
    vocabulary = {
        name: Term(name, tuple(spec.get("synonyms", ())), spec.get("broader"),
                   bool(spec.get("pul", True)))
        for name, spec in data["vocabulary"].items()}
    return SubstrateTable(
        vocabulary=vocabulary,
        families={key: tuple(values) for key, values in data["families"].items()},
        marine={key: tuple(values) for key, values in data["marine"].items()})


def family_of(name: str) -> str | None:
    """The CAZy (or SulfAtlas S) family of an HMM name: ``GH16_3.hmm`` -> ``GH16``."""
    match = _FAMILY.match(name.removesuffix(".hmm"))
    return f"{match.group(1)}{match.group(2)}" if match else None


def subfamily_of(name: str) -> str | None:
    """The subfamily of an HMM name: ``GH13_9.hmm`` -> ``GH13_9``; None for ``GH13`` or
    ``GT2_Glycos_transf_2``."""
    match = _SUBFAMILY.match(name)
    return match.group(1) if match else None


def entry_level(name: str) -> Level | None:
    """Which entry of the table answers for ``name``: its subfamily's, its family's, none."""
    families = table().families
    subfamily = subfamily_of(name)
    if subfamily is not None and subfamily in families:
        return "subfamily"
    family = family_of(name)
    return "family" if family is not None and family in families else None


def substrates_of(name: str) -> tuple[str, ...]:
    """The substrates of a family or subfamily HMM name (subfamily entry first)."""
    level = entry_level(name)
    if level == "subfamily":
        return table().families[subfamily_of(name) or ""]
    if level == "family":
        return table().families[family_of(name) or ""]
    return ()


@functools.lru_cache(maxsize=1)
def _words() -> dict[str, str]:
    """Every term and synonym, case-folded -> its term."""
    words: dict[str, str] = {}
    for term in table().vocabulary.values():
        for word in (term.name, *term.synonyms):
            words[_fold(word)] = term.name
    return words


def _fold(word: str) -> str:
    for letter, name in (("β", "beta"), ("α", "alpha")):
        word = word.replace(letter + "-", name + "-").replace(letter, name + "-")
    return " ".join(word.split()).casefold()


def normalise(word: str) -> str | None:
    """The vocabulary term of one word or phrase (a term or a synonym, any case), or None."""
    return _words().get(_fold(word))


def normalise_label(text: str) -> tuple[str, ...]:
    """The vocabulary terms a free-text substrate label names, in order: the whole label, else
    its parts split on ``/ , ; and or``, else the longest terms and synonyms inside it
    ("FBTPS-3 ... (can group to rhamnogalacturonan/pectic polysaccharide)" -> pectin)."""
    whole = normalise(text)
    if whole is not None:
        return (whole,)
    parts = [p for p in re.split(r"\s*(?:/|,|;|\band\b|\bor\b)\s*", text) if p.strip()]
    found = [t for t in (normalise(p) for p in parts) if t is not None]
    if not found:
        folded = _fold(text)
        for word in sorted(_words(), key=len, reverse=True):
            if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", folded):
                found.append(_words()[word])
                folded = folded.replace(word, " ")
    return tuple(dict.fromkeys(found))


def lineage(term: str) -> tuple[str, ...]:
    """The term and the terms it is a kind of: ``laminarin`` -> (laminarin, beta-glucan)."""
    chain = [term]
    vocabulary = table().vocabulary
    while (found := vocabulary.get(chain[-1])) is not None and found.broader \
            and found.broader not in chain:
        chain.append(found.broader)
    return tuple(chain)


def related(a: str, b: str) -> bool:
    """True when the terms are the same or one is a kind of the other."""
    return a in lineage(b) or b in lineage(a)


def votes_for_pul(substrate: str) -> bool:
    """False for terms marked ``pul = false`` (peptidoglycan, lignin); words outside the
    vocabulary vote."""
    term = table().vocabulary.get(substrate)
    return term.pul if term is not None else True
