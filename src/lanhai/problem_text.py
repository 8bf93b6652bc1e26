"""Validation texts (a problem's reason and fix, an error's message) in the reader's language.

The validators write English. ``problems.toml`` pairs each of their texts with its Chinese,
as templates: ``{en = "has an unknown unit {unit}", zh = "单位 {unit} 无法识别"}``. A text is
looked up whole first; else the templates, compiled to anchored regular expressions, are
tried from the most specific, and the values a template's placeholders capture are put into
the Chinese. A text the catalogue does not know comes back unchanged.

Template syntax (English side; the Chinese side uses the same placeholders):

* ``{name}``: a placeholder, any non-empty text; the same name twice means the same text.
  ``{name:word}`` holds one word (no spaces: a field, code or accession),
  ``{name:names}`` a list of them (``a, b``, ``a or b``) and ``{name:kind}`` a record kind
  (``sample``), so that a short template does not swallow texts it was not written for.
  ``{name!t}`` also translates the captured text (a reason quoted inside a message).
* ``{a|b}``: one of these literal words (``{cell|cells}``); English only.
* ``{?...}``: an optional part, which may hold placeholders; the Chinese side's optional parts
  are shown, in order, when the English ones matched.
* ``{{`` and ``}}``: literal braces.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

#: the languages texts can be shown in; English is what the code writes
LANGUAGES = ("en", "zh")
#: the catalogue's table of pieces translated only inside other texts (``{name!t}``)
FRAGMENTS = "fragments"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: what a placeholder of each class matches ("kind": see :func:`_pattern`)
_CLASSES = {"": r".+?", "word": r"[^\s]+?",
            "names": r"[^\s,]+?(?:(?:, | or | and )[^\s,]+?)*?", "kind": ""}


def _pattern(kind: str) -> str:
    """The regular expression of a placeholder class."""
    if kind == "kind":
        from lanhai.kinds import KINDS

        return "(?:" + "|".join(sorted(map(re.escape, KINDS), key=len, reverse=True)) + ")"
    return _CLASSES[kind]


@dataclass(frozen=True)
class Entry:
    """One catalogue entry: an English template and its Chinese."""

    en: str
    zh: str
    group: str


@dataclass(frozen=True)
class Slot:
    """A placeholder; ``kind``: what it may hold (:data:`_CLASSES`); ``translate``: its
    captured text is translated too."""

    name: str
    translate: bool = False
    kind: str = ""


@dataclass(frozen=True)
class Choice:
    """One of a few literal words."""

    words: tuple[str, ...]


@dataclass(frozen=True)
class OptionalPart:
    """An optional part (the ``index``-th of its template)."""

    index: int
    parts: tuple[Token, ...]


Token = str | Slot | Choice | OptionalPart


def parse(template: str) -> tuple[Token, ...]:
    """The tokens of a template; ValueError for a malformed one."""
    tokens, end = _parse(template, 0, [0])
    if end != len(template):
        raise ValueError(f"unmatched '}}' at {end} in {template!r}")
    return tokens


def _parse(text: str, at: int, optionals: list[int], nested: bool = False
           ) -> tuple[tuple[Token, ...], int]:
    tokens: list[Token] = []
    literal: list[str] = []

    def flush() -> None:
        if literal:
            tokens.append("".join(literal))
            literal.clear()

    while at < len(text):
        char = text[at]
        if text.startswith("{{", at) or text.startswith("}}", at):
            literal.append(char)
            at += 2
        elif char == "}":
            if nested:
                break
            raise ValueError(f"unmatched '}}' at {at} in {text!r}")
        elif char == "{" and text.startswith("{?", at):
            flush()
            index = optionals[0]
            optionals[0] += 1
            inner, at = _parse(text, at + 2, optionals, nested=True)
            if at >= len(text):
                raise ValueError(f"unclosed '{{?' in {text!r}")
            tokens.append(OptionalPart(index, inner))
            at += 1
        elif char == "{":
            flush()
            close = text.find("}", at)
            if close < 0:
                raise ValueError(f"unclosed '{{' at {at} in {text!r}")
            body = text[at + 1:close]
            if "|" in body:
                tokens.append(Choice(tuple(body.split("|"))))
            else:
                head, _, conversion = body.partition("!")
                name, _, kind = head.partition(":")
                if not _NAME.fullmatch(name) or conversion not in ("", "t") \
                        or kind not in _CLASSES:
                    raise ValueError(f"bad placeholder {{{body}}} in {text!r}")
                tokens.append(Slot(name, conversion == "t", kind))
            at = close + 1
        else:
            literal.append(char)
            at += 1
    flush()
    return tuple(tokens), at


def placeholders(template: str) -> set[str]:
    """The placeholder names a template uses."""
    return {t.name for t in _walk(parse(template)) if isinstance(t, Slot)}


def optional_count(template: str) -> int:
    """How many optional parts a template has."""
    return sum(isinstance(t, OptionalPart) for t in _walk(parse(template)))


def _walk(tokens: tuple[Token, ...]) -> list[Token]:
    out: list[Token] = []
    for token in tokens:
        out.append(token)
        if isinstance(token, OptionalPart):
            out.extend(_walk(token.parts))
    return out


@cache
def catalogue() -> tuple[Entry, ...]:
    """Every entry of ``problems.toml``, in file order."""
    text = resources.files("lanhai").joinpath("problems.toml").read_text("utf-8")
    data: dict[str, Any] = tomllib.loads(text)
    return tuple(Entry(str(item["en"]), str(item["zh"]), group)
                 for group, items in data.items() for item in items)


@dataclass(frozen=True)
class _Compiled:
    entry: Entry
    pattern: re.Pattern[str]
    zh: tuple[Token, ...]
    #: placeholders whose captured text is translated too
    translated: frozenset[str]
    #: how much fixed text the template has: the most specific is tried first
    weight: int


def _regex(tokens: tuple[Token, ...], seen: set[str]) -> str:
    out = []
    for token in tokens:
        if isinstance(token, str):
            out.append(re.escape(token))
        elif isinstance(token, Slot):
            out.append(f"(?P={token.name})" if token.name in seen
                       else f"(?P<{token.name}>{_pattern(token.kind)})")
            seen.add(token.name)
        elif isinstance(token, Choice):
            words = sorted(token.words, key=len, reverse=True)
            out.append("(?:" + "|".join(map(re.escape, words)) + ")")
        else:
            out.append(f"(?P<_o{token.index}>{_regex(token.parts, seen)})?")
    return "".join(out)


def _compile(entry: Entry) -> _Compiled:
    tokens = parse(entry.en)
    zh = parse(entry.zh)
    if any(isinstance(t, Choice) for t in _walk(zh)):
        raise ValueError(f"the Chinese of {entry.en!r} has a {{a|b}} choice")
    slots = [t for t in _walk(tokens) if isinstance(t, Slot)]
    weight = sum(len(t) for t in tokens if isinstance(t, str))
    return _Compiled(entry, re.compile(_regex(tokens, set()), re.DOTALL), zh,
                     frozenset(s.name for s in slots if s.translate), weight)


@dataclass(frozen=True)
class _Table:
    """Whole texts, and templates by the first word of their fixed start."""

    exact: dict[str, Entry]
    #: first word -> the templates starting with it and those in ``anywhere``
    by_word: dict[str, tuple[_Compiled, ...]]
    #: templates starting with a placeholder, a choice or an optional part
    anywhere: tuple[_Compiled, ...]

    def candidates(self, text: str) -> tuple[_Compiled, ...]:
        """The templates that may match ``text``, the most specific first."""
        if " " not in text:
            return self.anywhere
        return self.by_word.get(text.split(" ", 1)[0], self.anywhere)


def _table(entries: list[Entry]) -> _Table:
    exact: dict[str, Entry] = {}
    by_word: dict[str, list[_Compiled]] = {}
    anywhere: list[_Compiled] = []
    for entry in entries:
        tokens = parse(entry.en)
        if all(isinstance(t, str) for t in tokens):
            exact.setdefault("".join(map(str, tokens)), entry)
            continue
        compiled = _compile(entry)
        head = tokens[0]
        if isinstance(head, str) and " " in head:
            by_word.setdefault(head.split(" ", 1)[0], []).append(compiled)
        else:
            anywhere.append(compiled)
    def specific_first(found: list[_Compiled]) -> tuple[_Compiled, ...]:
        return tuple(sorted(found, key=lambda c: -c.weight))

    return _Table(exact, {w: specific_first([*c, *anywhere]) for w, c in by_word.items()},
                  specific_first(anywhere))


@cache
def _tables() -> tuple[_Table, _Table]:
    """The table of whole texts, and the one for texts inside texts (fragments first)."""
    entries = list(catalogue())
    whole = [e for e in entries if e.group != FRAGMENTS]
    inner = [e for e in entries if e.group == FRAGMENTS] + whole
    return _table(whole), _table(inner)


def match(text: str, inner: bool = False) -> tuple[Entry, dict[str, str]] | None:
    """The catalogue entry ``text`` is an instance of, and what its placeholders hold."""
    table = _tables()[1 if inner else 0]
    if text in table.exact:
        return table.exact[text], {}
    found = _match(table, text)
    if found is None:
        return None
    compiled, result = found
    return compiled.entry, {k: v for k, v in result.groupdict().items()
                            if not k.startswith("_o") and v is not None}


def _match(table: _Table, text: str) -> tuple[_Compiled, re.Match[str]] | None:
    for compiled in table.candidates(text):
        result = compiled.pattern.fullmatch(text)
        if result is not None:
            return compiled, result
    return None


def _render(tokens: tuple[Token, ...], result: re.Match[str], translated: frozenset[str]
            ) -> str:
    out = []
    for token in tokens:
        if isinstance(token, str):
            out.append(token)
        elif isinstance(token, Slot):
            value = result.group(token.name) or ""
            out.append(_chinese(value, inner=True) if token.name in translated else value)
        elif isinstance(token, OptionalPart) and result.group(f"_o{token.index}") is not None:
            out.append(_render(token.parts, result, translated))
    return "".join(out)


@lru_cache(maxsize=8192)
def _chinese(text: str, inner: bool = False) -> str:
    table = _tables()[1 if inner else 0]
    known = table.exact.get(text)
    if known is not None:
        return "".join(map(str, parse(known.zh)))
    found = _match(table, text)
    if found is None:
        return text
    compiled, result = found
    return _render(compiled.zh, result, compiled.translated)


def is_chinese(lang: str | None) -> bool:
    """True for 'zh' and its regional forms ('zh-CN', 'zh_Hans')."""
    return bool(lang) and str(lang).lower().replace("_", "-").split("-")[0] == "zh"


def localize(text: str, lang: str) -> str:
    """``text`` (a reason, fix or message) in ``lang``; unchanged when the catalogue does not
    know it or ``lang`` is English."""
    if not text or not is_chinese(lang):
        return text
    return _chinese(text)


def localize_problem(problem: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """A problem (as :meth:`lanhai.errors.Problem.to_dict` gives it) with its reason and fix
    in ``lang``; the other keys as they were."""
    out = dict(problem)
    for key in ("reason", "fix"):
        if isinstance(out.get(key), str):
            out[key] = localize(out[key], lang)
    return out


def localize_error(error: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """An error body (``{"code", "message", "problems"?, ...}``) with its message and its
    problems' reasons and fixes in ``lang``; the same keys."""
    out = dict(error)
    if isinstance(out.get("message"), str):
        out["message"] = localize(out["message"], lang)
    if isinstance(out.get("problems"), list):
        out["problems"] = [localize_problem(p, lang) if isinstance(p, Mapping) else p
                           for p in out["problems"]]
    return out


def preferred_language(accept_language: str = "", asked: str = "") -> str:
    """The language to answer in: ``asked`` (a ``?lang=``) if it is one of
    :data:`LANGUAGES`, else the one the Accept-Language header prefers (by its q-values),
    else English."""
    asked = asked.strip().lower()
    if asked in LANGUAGES:
        return asked
    ranked: list[tuple[float, int, str]] = []
    for order, part in enumerate(accept_language.split(",")):
        code, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        base = code.lower().replace("_", "-").split("-")[0]
        if base in LANGUAGES and quality > 0:
            ranked.append((-quality, order, base))
    return min(ranked)[2] if ranked else "en"
