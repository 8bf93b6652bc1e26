"""The bilingual domain lexicon the market matches on, and reading texts into its concepts.

Concepts come from two places: the bank's own vocabularies (the CAZy substrate vocabulary
and each family's substrates, ``profiles/data/cazy_substrates.toml``; the plastic codes of the
plastics pack) and ``data/lexicon.toml`` (English and Chinese names of substrates, enzyme
activities, products, plastics, organisms, methods, applications, fields, sectors and
transfer types, with their relations). A text is read into concepts (褐藻胶寡糖 and
"alginate oligosaccharides" are both ``product:alginate oligosaccharide``) and the words
left over (Chinese segmented by jieba, whose dictionary ships inside the package).
"""

from __future__ import annotations

import functools
import json
import logging
import re
import tomllib
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from lanhai.profiles import substrates

#: relation weights: a concept named in a text counts 1; what it is a kind of, or is
#: associated with, half as much; two steps away a quarter
DIRECT, ONE_STEP, TWO_STEPS = 1.0, 0.5, 0.25
_CAZY_CODE = re.compile(r"^(gh|gt|pl|ce|aa|cbm)(\d{1,3})(?:_(\d{1,3}))?$")
_GREEK = {"α": "alpha ", "β": "beta ", "γ": "gamma ", "κ": "kappa ", "ι": "iota ",
          "λ": "lambda ", "ω": "omega ", "μ": "u"}
#: a run of Han characters (Chinese words are not separated by spaces)
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_LATIN_TOKEN = re.compile(r"[a-z0-9]+")
#: English words that say nothing about what is offered or needed
STOPWORDS = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "for", "from", "has", "have", "in",
    "into", "is", "it", "its", "of", "on", "or", "our", "per", "such", "that", "the", "their",
    "this", "to", "up", "we", "with", "will", "which", "who", "was", "were", "been", "being",
    "more", "most", "other", "than", "then", "these", "those", "any", "all", "also", "based",
    "both", "each", "few", "many", "much", "new", "high", "low", "non", "use", "used", "using",
    "via", "over", "under", "between", "within", "without", "through", "about", "after", "before",
    "during", "while", "may", "must", "need", "needs", "needed", "looking", "seek", "seeking",
    "require", "required", "requires", "want", "wants", "provide", "provides", "offer", "offers",
    "offered", "technology", "technologies", "product", "products", "company", "enterprise",
    "ready", "available", "scale", "industrial", "application", "applications", "method",
    "methods", "process", "processes", "system", "systems", "solution", "solutions", "develop",
    "developed", "development", "our", "us", "you", "your",
))
#: Chinese words as common in every offer or demand as "the" is in English
STOPWORDS_ZH = frozenset((
    "我们", "我司", "公司", "企业", "本公司", "我公司", "拟", "寻求", "需要", "希望",
    "用于", "可以", "能够", "进行", "实现", "提供", "技术", "产品", "开发", "研发",
    "具有", "以及", "及其", "一种", "相关", "方面", "要求", "已经", "目前", "可",
    "的", "和", "与", "及", "等", "或", "在", "对", "为", "是", "将", "以",
    "中", "上", "下",
))


def fold(text: str) -> str:
    """Text as the lexicon compares it: NFKC (full-width to half-width), lower case, Greek
    letters spelled out (β-agarase is beta-agarase)."""
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(_GREEK.get(char, char) for char in text)


def stem(token: str) -> str:
    """An English token without its plural ending (lyases -> lyase, PHAs -> pha)."""
    if len(token) > 3 and token.endswith("ies") and len(token) > 5:
        return token[:-3] + "y"
    if len(token) > 3 and token.endswith("s") and not token.endswith(("ss", "us", "is")):
        return token[:-1]
    return token


def latin_tokens(text: str) -> list[str]:
    """The folded, stemmed word tokens of a text's non-Han parts."""
    return [stem(t) for t in _LATIN_TOKEN.findall(_HAN.sub(" ", fold(text)))]


@dataclass(frozen=True)
class Concept:
    """One concept of the lexicon: its id (``group:key``) and names in both languages."""

    id: str
    en: tuple[str, ...]
    zh: tuple[str, ...]

    @property
    def group(self) -> str:
        return self.id.split(":", 1)[0]

    @property
    def label(self) -> str:
        return self.en[0] if self.en else self.id.split(":", 1)[1]

    @property
    def label_zh(self) -> str:
        return self.zh[0] if self.zh else self.label


@dataclass
class Reading:
    """What a text says: concepts named (with the words that named them) and other words."""

    #: concept id -> the words of the text that named it
    named: dict[str, list[str]] = field(default_factory=dict)
    #: words not part of any concept's name (English stems, Chinese words)
    words: Counter[str] = field(default_factory=Counter)

    def name(self, concept: str, surface: str) -> None:
        said = self.named.setdefault(concept, [])
        if surface not in said:
            said.append(surface)


class Lexicon:
    """Concepts, their names in English and Chinese, and the relations between them."""

    def __init__(self, concepts: Mapping[str, Concept],
                 relations: Iterable[tuple[str, str, str]], ambiguous: Iterable[str] = ()
                 ) -> None:
        self.concepts = dict(concepts)
        #: concept -> {neighbour: how it relates}: "broader" | "narrower" | "related" |
        #: "acts_on" (a CAZy family on its substrates) | "acted_on_by"
        self.neighbours: dict[str, dict[str, str]] = {c: {} for c in self.concepts}
        for source, kind, target in relations:
            if source in self.concepts and target in self.concepts and source != target:
                self.neighbours[source].setdefault(target, kind)
                self.neighbours[target].setdefault(source, _BACK[kind])
        self.ambiguous = {fold(a) for a in ambiguous}
        #: token tuple -> concept (English names, and a multi-word name's tokens joined)
        self.latin: dict[tuple[str, ...], str] = {}
        #: Chinese name -> concept
        self.han: dict[str, str] = {}
        for concept in self.concepts.values():
            for name in concept.en:
                self._add_latin(name, concept.id)
            for name in concept.zh:
                self._add_han(name, concept.id)
        self.longest_latin = max((len(k) for k in self.latin), default=1)
        self.longest_han = max((len(k) for k in self.han), default=1)
        #: names written in both scripts (PET水解酶), longest first: read before the text is
        #: split into its Latin and Han runs
        self.mixed = sorted((k for k in self.han if _LATIN_TOKEN.search(k)),
                            key=lambda k: (-len(k), k))
        self._tokenizer: Any = None

    def _add_latin(self, name: str, concept: str) -> None:
        if fold(name) in self.ambiguous:
            return
        if _HAN.search(name):
            self._add_han(name, concept)
            return
        tokens = tuple(latin_tokens(name))
        if not tokens:
            return
        self.latin.setdefault(tokens, concept)
        if len(tokens) > 1:
            self.latin.setdefault(("".join(tokens),), concept)

    def _add_han(self, name: str, concept: str) -> None:
        key = re.sub(r"\s+", "", fold(name))
        if key and key not in self.ambiguous:
            self.han.setdefault(key, concept)

    # -- reading ------------------------------------------------------------------------------
    def read(self, text: str) -> Reading:
        """The concepts a text names and the words left over."""
        reading = Reading()
        folded = fold(text)
        if self.mixed and _HAN.search(folded) and _LATIN_TOKEN.search(folded):
            squeezed = re.sub(r"\s+", "", folded)
            for key in self.mixed:
                if key in squeezed:
                    reading.name(self.han[key], key)
                    folded = _without(folded, key)
                    squeezed = squeezed.replace(key, " . ")
        self._read_latin(_HAN.sub(" . ", folded), reading)
        for run in _HAN.findall(folded):
            self._read_han(run, reading)
        return reading

    def _read_latin(self, text: str, reading: Reading) -> None:
        tokens = [stem(t) for t in _LATIN_TOKEN.findall(text.replace(".", " . "))]
        i = 0
        while i < len(tokens):
            for size in range(min(self.longest_latin, len(tokens) - i), 0, -1):
                key = tuple(tokens[i:i + size])
                concept = self.latin.get(key) or self._cazy(key)
                if concept:
                    reading.name(concept, " ".join(key))
                    i += size
                    break
            else:
                token = tokens[i]
                if len(token) > 2 and token not in STOPWORDS and not token.isdigit():
                    reading.words[token] += 1
                i += 1

    def _cazy(self, key: tuple[str, ...]) -> str | None:
        """A CAZy family or subfamily named in a text (PL7, GH16_16, "GH 16")."""
        text = "".join(key) if len(key) <= 2 else ""
        match = _CAZY_CODE.match(text)
        if not match:
            return None
        code = f"{match[1].upper()}{int(match[2])}"
        sub = f"{code}_{int(match[3])}" if match[3] else None
        if sub and f"family:{sub}" in self.concepts:
            return f"family:{sub}"
        return f"family:{code}" if f"family:{code}" in self.concepts else None

    def _read_han(self, run: str, reading: Reading) -> None:
        tokens = list(self.tokenizer.cut(run, HMM=False))
        i = 0
        while i < len(tokens):
            for size in range(min(4, len(tokens) - i), 0, -1):
                joined = "".join(tokens[i:i + size])
                concept = self.han.get(joined)
                if concept:
                    reading.name(concept, joined)
                    i += size
                    break
            else:
                word = tokens[i]
                if len(word) > 1 and word not in STOPWORDS_ZH:
                    reading.words[word] += 1
                i += 1

    @property
    def tokenizer(self) -> Any:
        """A jieba tokenizer that keeps every Chinese name of the lexicon whole."""
        if self._tokenizer is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            for name in self.han:
                tokenizer.add_word(name, freq=10_000)
            self._tokenizer = tokenizer
        return self._tokenizer

    # -- relations ----------------------------------------------------------------------------
    def expand(self, named: Iterable[str]) -> dict[str, tuple[float, str]]:
        """Every concept a text's named concepts reach: concept -> (weight, the named concept
        it came from). Named ones weigh 1, their neighbours 1/2, two steps 1/4."""
        reached: dict[str, tuple[float, str]] = {}
        for origin in named:
            for concept, weight in self._around(origin):
                if weight > reached.get(concept, (0.0, ""))[0]:
                    reached[concept] = (weight, origin)
        return reached

    def _around(self, origin: str) -> Iterator[tuple[str, float]]:
        """The concept, its neighbours and theirs: never from a substrate out to every
        family acting on it, nor down more than one step into what a broad term covers."""
        yield origin, DIRECT
        first = {near: kind for near, kind in self.neighbours.get(origin, {}).items()
                 if kind != "acted_on_by"}
        for near in first:
            yield near, ONE_STEP
        for near, kind in first.items():
            if kind == "narrower":
                continue
            for far, far_kind in self.neighbours.get(near, {}).items():
                # from what the concept is a kind of, only further up (a GH16_16 agarase
                # is a GH16, which is not thereby a carrageenase)
                if far != origin and far_kind not in ("narrower", "acted_on_by") and (
                        kind != "broader" or far_kind == "broader"):
                    yield far, TWO_STEPS


def _without(text: str, key: str) -> str:
    """``text`` with each occurrence of ``key`` (spaces inside the text ignored) made a
    break, so the words of a name already read are not read again."""
    pattern = r"\s*".join(re.escape(c) for c in key)
    return re.sub(pattern, " . ", text)


#: each relation read from the other end
_BACK = {"broader": "narrower", "related": "related", "acts_on": "acted_on_by"}


def _data_path() -> Path:
    return Path(str(files("lanhai.market") / "data" / "lexicon.toml"))


def _plastic_codes() -> set[str]:
    pack = Path(str(files("lanhai.profiles") / "data" / "plastics" / "pack.json"))
    data = json.loads(pack.read_text("utf-8"))
    return {code for family in data["families"].values()
            for code in family.get("substrates", [])}


@functools.lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """The shipped lexicon with the bank's vocabularies, read once."""
    with _data_path().open("rb") as handle:
        data = tomllib.load(handle)
    names: dict[str, tuple[list[str], list[str]]] = {}
    relations: list[tuple[str, str, str]] = []

    def concept(cid: str, en: Iterable[str] = (), zh: Iterable[str] = ()) -> None:
        known = names.setdefault(cid, ([], []))
        known[0].extend(n for n in en if n not in known[0])
        known[1].extend(n for n in zh if n not in known[1])

    for cid, spec in data.get("concepts", {}).items():
        concept(cid, spec.get("en", ()), spec.get("zh", ()))
        relations.extend((cid, "broader", b) for b in spec.get("broader", ()))
        relations.extend((cid, "related", r) for r in spec.get("related", ()))
    table = substrates.table()
    for term in table.vocabulary.values():
        cid = f"substrate:{term.name}"
        concept(cid, [term.name, *term.synonyms])
        if term.broader:
            concept(f"substrate:{term.broader}")
            relations.append((cid, "broader", f"substrate:{term.broader}"))
    for key, acted_on in {**table.families, **table.marine}.items():
        cid = f"family:{key}"
        concept(cid, [key])
        if "_" in key:
            concept(f"family:{key.split('_')[0]}", [key.split("_")[0]])
            relations.append((cid, "broader", f"family:{key.split('_')[0]}"))
        relations.extend((cid, "acts_on", f"substrate:{s}") for s in acted_on)
    for code in _plastic_codes():
        concept(f"plastic:{code.lower()}", [code])
    concepts = {cid: Concept(cid, tuple(en), tuple(zh)) for cid, (en, zh) in names.items()}
    return Lexicon(concepts, relations, data.get("ambiguous", ()))
