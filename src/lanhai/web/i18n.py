"""English and Chinese labels (messages.toml) and the request's language.

The language comes from ``?lang=en|zh`` (which also sets a cookie), else the ``lanhai_lang``
cookie, else the browser's Accept-Language, else English.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from functools import cache
from importlib import resources

from fastapi import Request

LANGUAGES = ("en", "zh")
LANG_COOKIE = "lanhai_lang"


@cache
def catalogue() -> dict[str, dict[str, str]]:
    text = resources.files("lanhai.web").joinpath("messages.toml").read_text("utf-8")
    data: dict[str, dict[str, str]] = tomllib.loads(text)
    return data


def language(request: Request) -> str:
    asked = request.query_params.get("lang", "").lower()
    if asked in LANGUAGES:
        return asked
    cookie = request.cookies.get(LANG_COOKIE, "")
    if cookie in LANGUAGES:
        return cookie
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()
        if code.startswith("zh"):
            return "zh"
        if code.startswith("en"):
            return "en"
    return "en"


def translator(lang: str) -> Callable[[str], str]:
    """``_(key)``: the label in ``lang``, falling back to English, then to the key."""
    strings = catalogue()
    local, english = strings.get(lang, {}), strings["en"]
    terms = strings.get("zh_terms", {}) if lang == "zh" else {}

    def translate(key: str) -> str:
        return local.get(key) or english.get(key) or terms.get(key) or key

    return translate


def term(lang: str, word: str) -> str:
    """A kind title or field group in ``lang`` (Chinese terms from [zh_terms])."""
    if lang == "zh":
        return catalogue().get("zh_terms", {}).get(word, word)
    return word
