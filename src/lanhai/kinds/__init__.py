"""Record kinds, their standards' fields, and the typed links allowed between them."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from lanhai.errors import UsageError
from lanhai.kinds import (
    assemblies,
    compounds,
    deposits,
    design,
    germplasm,
    industry,
    market,
    parts,
    samples,
    strains,
)
from lanhai.kinds.fields import Fields, KindSpec

KINDS: dict[str, KindSpec] = {
    spec.name: spec
    for spec in (samples.SPEC, strains.SPEC, deposits.SPEC, assemblies.SPEC, compounds.SPEC,
                 parts.SPEC, germplasm.SPEC, design.CHASSIS_SPEC, design.DESIGN_SPEC,
                 market.ORGANISATION_SPEC, market.OFFER_SPEC,
                 market.DEMAND_SPEC, market.INCUBATION_SPEC, *industry.SPECS)
}
#: the plural used in URLs and the CLI (`/api/samples`, `lanhai list samples`)
PLURALS: dict[str, str] = {
    "sample": "samples", "strain": "strains", "deposit": "deposits",
    "assembly": "assemblies", "compound": "compounds", "part": "parts",
    "germplasm": "germplasm", "chassis": "chassis", "design": "designs",
    "organisation": "organisations", "offer": "offers",
    "demand": "demands", "incubation": "incubations", "platform": "platforms",
    "project": "projects", "achievement": "achievements", "team": "teams", "fund": "funds",
    "product": "products", "approval": "approvals",
}
_BY_NAME = {**{k: k for k in KINDS}, **{v: k for k, v in PLURALS.items()}}
_BY_PREFIX = {spec.prefix: spec for spec in KINDS.values()}
ACCESSION_DIGITS = 7
#: the letters of a held accession's 7 characters: Crockford base 32 (no I, L, O or U, so
#: nothing reads as 1 or 0), in the order of their codes so that text and number sort alike
HELD_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_HELD = f"[{HELD_ALPHABET[10:]}][{HELD_ALPHABET}]{{{ACCESSION_DIGITS - 1}}}"
#: a Lanhai accession: numbered (LHSM0000042) or held (LHSMK7Q2M9X), see ``held_accession``
ACCESSION_PATTERN = rf"LH[A-Z]{{2}}(?:\d{{{ACCESSION_DIGITS}}}|{_HELD})"
_ACCESSION = re.compile(rf"^(LH[A-Z]{{2}})(\d{{{ACCESSION_DIGITS}}}|{_HELD})$")


def kind_spec(name: str) -> KindSpec:
    """The spec for a kind named singular or plural ('sample', 'samples')."""
    try:
        return KINDS[_BY_NAME[name.strip().lower()]]
    except KeyError:
        raise UsageError(
            f"unknown record kind {name!r}; kinds are: {', '.join(KINDS)}"
        ) from None


def format_accession(spec: KindSpec, number: int) -> str:
    """'LHSM' + zero-padded number: LHSM0000042."""
    return f"{spec.prefix}{number:0{ACCESSION_DIGITS}d}"


def held_accession(spec: KindSpec) -> str:
    """A random accession for a record created restricted: 'LHSM' + a letter + six base-32
    characters (LHSMK7Q2M9X). Such records take no number from the kind's sequence, so the
    numbered accessions a reader sees have no gaps where hidden records are."""
    first = secrets.choice(HELD_ALPHABET[10:])
    return spec.prefix + first + "".join(secrets.choice(HELD_ALPHABET)
                                         for _ in range(ACCESSION_DIGITS - 1))


def accession_number(accession: str) -> int:
    """The order of an accession within its kind: its number; held accessions after every
    numbered one, in the order of their text."""
    tail = accession[4:]
    if tail.isdigit():
        return int(tail)
    value = 0
    for char in tail:
        value = value * 32 + HELD_ALPHABET.index(char)
    return int(10 ** ACCESSION_DIGITS) + value


def kind_of_accession(accession: str) -> KindSpec | None:
    """The kind an accession belongs to, or None when it is not a Lanhai accession."""
    match = _ACCESSION.match(accession.strip().upper())
    return _BY_PREFIX.get(match[1]) if match else None


@dataclass(frozen=True)
class LinkRule:
    """A relation and the kinds allowed on each side (from = ancestor in the lineage)."""

    name: str
    sources: tuple[str, ...]
    targets: tuple[str, ...]
    description: str


LINK_RULES: dict[str, LinkRule] = {
    rule.name: rule
    for rule in (
        LinkRule("isolated_from", ("sample",), ("strain", "assembly"),
                 "sample --isolated_from--> strain: the strain (or a metagenome) came from "
                 "the sample"),
        LinkRule("sequenced_as", ("strain", "germplasm"), ("assembly",),
                 "strain --sequenced_as--> assembly"),
        LinkRule("deposited_as", ("strain",), ("deposit",),
                 "strain --deposited_as--> patent deposit"),
        LinkRule("produces", ("strain", "sample", "assembly"), ("compound",),
                 "strain --produces--> compound"),
        LinkRule("mined_from", ("assembly", "strain"), ("part",),
                 "assembly --mined_from--> part: the part's sequence was mined from it"),
        LinkRule("binned_from", ("assembly",), ("assembly",),
                 "metagenome assembly --binned_from--> MAG"),
        LinkRule("genotyped_as", ("germplasm",), ("assembly", "germplasm"),
                 "germplasm --genotyped_as--> genotyped individual or genome"),
        LinkRule("modelled_as", ("strain",), ("chassis",),
                 "strain --modelled_as--> chassis: the chassis model describes the strain"),
        LinkRule("chassis_of", ("chassis",), ("design",),
                 "chassis --chassis_of--> design: the design starts from the chassis"),
        LinkRule("used_in", ("part",), ("design",),
                 "part --used_in--> design: the design adds the part's reaction"),
        LinkRule("built_as", ("design",), ("strain",),
                 "design --built_as--> strain: the engineered strain built to the design"),
        LinkRule("offers", ("organisation",), ("offer",),
                 "organisation --offers--> technology offer"),
        LinkRule("seeks", ("organisation",), ("demand",),
                 "organisation --seeks--> technology demand"),
        LinkRule("incubated_in", ("offer",), ("incubation",),
                 "offer --incubated_in--> incubation project (proof of concept, pilot, "
                 "scale-up)"),
        LinkRule("evidence_for", ("sample", "strain", "deposit", "assembly", "compound",
                                  "part", "germplasm", "chassis", "design"), ("offer",),
                 "bank record --evidence_for--> offer: the record stands behind the offer "
                 "(its strain, genome, enzyme part, patent deposit, compound)"),
        LinkRule("holds", ("organisation",), industry.INDUSTRY_KINDS,
                 "organisation --holds--> platform, project, achievement, team, fund, "
                 "product or approval: the organisation hosts, runs or holds it"),
        LinkRule("underpins", ("sample", "strain", "deposit", "assembly", "compound", "part",
                               "germplasm", "chassis", "design", "offer"),
                 ("project", "achievement", "product", "approval"),
                 "bank record --underpins--> project, achievement, product or approval: the "
                 "record the fact rests on"),
        LinkRule("derived_from", tuple(KINDS), tuple(KINDS),
                 "A --derived_from--> B of the same kind: B was derived from A (subculture, "
                 "mutant, sub-sample, improved line)"),
    )
}


def check_link(rel: str, source_kind: str, target_kind: str) -> bool:
    """True when ``source --rel--> target`` is allowed."""
    rule = LINK_RULES[rel]
    if rel == "derived_from" and source_kind != target_kind:
        return False
    return source_kind in rule.sources and target_kind in rule.targets


def display_name(spec: KindSpec, fields: Fields) -> str:
    """The record's human name."""
    if spec.name == "strain":
        parts = [fields.get("taxon_name", ""), fields.get("strain_designation", "")]
        return " ".join(p for p in parts if p) or ", ".join(fields.get("collection_numbers", []))
    if spec.name == "germplasm":
        name = fields.get("accename") or fields.get("accenumb", "")
        return f"{name} ({fields.get('genus', '')} {fields.get('species', '')})".strip()
    if spec.name in ("offer", "demand"):
        return str(fields.get("title") or fields.get("title_zh") or "")
    if spec.name in industry.INDUSTRY_KINDS:
        return industry.record_name(spec.name, fields)
    return str(fields.get(spec.name_field, ""))


#: fields never indexed for full text: sequences and structures (not words), and the
#: market's details, which an entry shown under NDA keeps from most callers
UNSEARCHED = ("sequence", "smiles", "wurcs", "details", "details_zh")


def search_text(spec: KindSpec, fields: Fields, identifiers: list[str]) -> str:
    """Text indexed for full-text search: names, descriptions, places, identifiers."""
    values: list[str] = [display_name(spec, fields), *identifiers]
    for f in spec.fields:
        value: Any = fields.get(f.name)
        if isinstance(value, str) and f.name not in UNSEARCHED:
            values.append(value)
        elif isinstance(value, list) and value and isinstance(value[0], str):
            values.extend(value)
    for extra in ("inchikey", "taxon_name"):
        if isinstance(fields.get(extra), str):
            values.append(fields[extra])
    text = " | ".join(dict.fromkeys(v for v in values if v))
    spelled = spelled_out(text)
    return f"{text} ||{spelled}" if spelled else text


#: runs of characters from scripts written without spaces between words (Han, kana, Hangul)
_UNSPACED_RUN = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
                           "\uf900-\ufaff]+")


def spelled_out(text: str) -> str:
    """The text's runs of Han (kana, Hangul) characters again, one character at a time:
    "大黄鱼 (Larimichthys crocea)" gives " 大 黄 鱼 |".

    The trigram index cannot look up words shorter than three characters; spelled out, a
    two-character word 海参 is the trigram "海 参" and a single character 鱼 is " 鱼 ", so
    the commonest Chinese words are found through the index instead of a scan. "|" ends each
    run, so characters of different runs never look adjacent.
    """
    return "".join(f" {' '.join(run)} |" for run in dict.fromkeys(_UNSPACED_RUN.findall(text)))


def fts_phrase(word: str) -> str | None:
    """What to look up in the trigram full-text index (SQLite FTS5) for one search word:
    the word itself (three characters or more), a one- or two-character Han word spelled out
    as :func:`search_text` stores it, or None (a short Latin word: match it with LIKE)."""
    if len(word) >= 3:
        return word
    if _UNSPACED_RUN.fullmatch(word):
        return f" {word} " if len(word) == 1 else f"{word[0]} {word[1]}"
    return None


__all__ = ["KINDS", "LINK_RULES", "PLURALS", "KindSpec", "LinkRule", "check_link",
           "display_name", "format_accession", "fts_phrase", "kind_of_accession", "kind_spec",
           "search_text", "spelled_out"]
